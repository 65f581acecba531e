#pragma once
// The words after `run`, `plan`, `status` and `report` that make a sweep: a sweep file,
// key=value overrides, --set-file, --only, --model and --dataset (docs/sweep-format.md).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "ternbench/experiments/sweep.hpp"

namespace ternbench::orchestrator {

// The words after run/plan/status/report: a sweep file, then key=value overrides. Without a
// file (the first word holds '='), --model, --dataset and the overrides are the sweep.
struct SweepWords {
  std::vector<std::string> words, only, set_files;
  std::string model, dataset;
  experiments::SweepArgs args() const {
    experiments::SweepArgs a;
    auto it = words.begin();
    if (it != words.end() && it->find('=') == std::string::npos) a.file = *it++;
    if (!model.empty()) a.overrides.push_back("model=" + model);
    if (!dataset.empty()) a.overrides.push_back("dataset=" + dataset);
    a.overrides.insert(a.overrides.end(), it, words.end());
    a.only = only;
    a.set_files = set_files;
    return a;
  }
  bool given() const { return !words.empty() || !model.empty() || !dataset.empty() || !set_files.empty(); }
  void add_to(CLI::App* cmd) {
    cmd->add_option("sweep", words,
                    "sweep TOML file, then KEY=VALUE overrides by the file's rules (train.epochs=5, "
                    "'seed=[1,2,3]' for a grid axis); without a file, the overrides are the sweep (DB "
                    "results/cli.sqlite)");
    cmd->add_option("--set-file", set_files,
                    "TOML file of [train]/[sweep] keys applied to the sweep file as overrides (repeatable; "
                    "KEY=VALUE words are applied after it)")
        ->allow_extra_args(false);  // one value per flag: the sweep words may follow
    cmd->add_option("--only", only, "keep the runs with KEY among the values, e.g. --only method=sca,twn (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--model", model, "same as the override model=NAME (a sweep without a file needs it)");
    cmd->add_option("--dataset", dataset, "same as the override dataset=NAME");
  }
};

}  // namespace ternbench::orchestrator
