// key=value overrides and --only filters: they follow the sweep file's rules, and their
// errors name the override as typed.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/error_of.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/experiments/sweep.hpp"

namespace tb = ternbench;
namespace ex = ternbench::experiments;
using tb::testing::error_of;

namespace {

// Lines 1-8.
const std::string kFile =
    "[sweep]\n"
    "name = \"t\"\n"
    "[train]\n"
    "dataset = \"mnist\"\n"
    "method = [\"fp\", \"twn\"]\n"
    "seed = [1, 2]\n"
    "epochs = 10\n"
    "lr = 0.05\n";

ex::Sweep with(const std::vector<std::string>& overrides, const std::string& text = kFile) {
  return ex::parse_sweep(text, "s.toml", overrides);
}

std::string error_with(const std::vector<std::string>& overrides, const std::string& text = kFile) {
  return error_of<tb::ConfigError>([&] { (void)with(overrides, text); });
}

std::vector<std::string> keys_of(const ex::Sweep& s) {
  std::vector<std::string> keys;
  for (const auto& r : s.runs) keys.push_back(r.run_key);
  return keys;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

std::string error_selecting(const std::vector<std::string>& only, const std::string& text = kFile) {
  return error_of<tb::ConfigError>([&] {
    ex::Sweep s = with({}, text);
    ex::select_runs(s, only);
  });
}

}  // namespace

TEST(SweepOverride, GivesTheRunKeysOfTheEditedFile) {
  const ex::Sweep edited = with({}, replaced(kFile, "epochs = 10", "epochs = 5"));
  EXPECT_EQ(keys_of(with({"train.epochs=5"})), keys_of(edited));
  EXPECT_EQ(keys_of(with({"epochs=5"})), keys_of(edited));
  EXPECT_EQ(with({"epochs=5"}).runs[0].stored_toml, edited.runs[0].stored_toml);
  // The file's own value written again changes nothing.
  EXPECT_EQ(keys_of(with({"epochs=10", "lr=0.05"})), keys_of(with({})));
  EXPECT_NE(keys_of(with({"epochs=5"})), keys_of(with({})));
}

TEST(SweepOverride, ValuesAreReadLikeTheFile) {
  EXPECT_EQ(with({"train.seed=[1,2,3]"}).runs.size(), 6u);
  const std::string twn = replaced(kFile, "method = [\"fp\", \"twn\"]", "method = \"twn\"");
  EXPECT_EQ(keys_of(with({"method=twn"})), keys_of(with({}, twn)));
  EXPECT_EQ(keys_of(with({"method=\"twn\""})), keys_of(with({}, twn)));
  EXPECT_EQ(keys_of(with({"method=[fp, twn]", "seed=[1,2]"})), keys_of(with({})));
  EXPECT_EQ(keys_of(with({"lr=1"})), keys_of(with({}, replaced(kFile, "lr = 0.05", "lr = 1.0"))));
  // A layer's options hold commas too.
  const auto custom = with({"model=custom", "layers=[conv(4, kernel=5),relu,flatten,dense(10)]", "method=fp"});
  EXPECT_EQ(keys_of(custom),
            keys_of(with({"model=custom", "layers=[\"conv(4, kernel=5)\", \"relu\", \"flatten\", \"dense(10)\"]",
                          "method=fp"})));
  EXPECT_EQ(custom.runs[0].train.layers.size(), 4u);
  // A later override of the same key wins.
  EXPECT_EQ(keys_of(with({"epochs=3", "epochs=5"})), keys_of(with({"epochs=5"})));
  EXPECT_EQ(with({"sweep.name=other"}).db_path, "results/other.sqlite");
  EXPECT_EQ(with({"name=other"}).name, "other");
}

TEST(SweepOverride, ErrorsNameTheOverride) {
  EXPECT_EQ(error_with({"train.epochs=abc"}), "command line: train.epochs=abc: expected an integer, got string");
  EXPECT_EQ(error_with({"epochs=0"}), "command line: epochs=0: must be >= 1, got 0");
  EXPECT_EQ(error_with({"lr=-0.1"}), "command line: lr=-0.1: must be > 0.0, got -0.1");
  EXPECT_EQ(error_with({"seed=[1,x]"}), "command line: seed=[1,x]: train.seed[1]: expected an integer, got string");
  EXPECT_EQ(error_with({"seed=[]"}).rfind("command line: seed=[]: empty list;", 0), 0u) << error_with({"seed=[]"});
  const std::string unknown = error_with({"train.epoch=3"});
  EXPECT_EQ(unknown.rfind("command line: train.epoch=3: unknown key; did you mean \"epochs\"? valid keys: ", 0), 0u)
      << unknown;
  EXPECT_EQ(error_with({"method=fp", "delta_factor=0.5"}),
            "command line: delta_factor=0.5: applies only to method twn, but method is fp; remove the key or add one "
            "of its methods");
  EXPECT_EQ(error_with({"method=[fp,sgd]"}),
            "command line: method=[fp,sgd]: train.method[1]: unknown method \"sgd\"; did you mean \"sca\"? valid "
            "methods: fp, binaryconnect, bwn, twn, ttq, sca, faraone");
}

TEST(SweepOverride, FileErrorsStillNameTheFile) {
  const std::string text = replaced(kFile, "lr = 0.05", "lr = 0.05\ndelta_factor = 0.5");
  EXPECT_EQ(error_with({"method=fp"}, text),
            "s.toml:9: train.delta_factor: applies only to method twn, but method is fp; remove the key or add one "
            "of its methods");
}

TEST(SweepOverride, MalformedOverrides) {
  const std::string kv = ": expected key=value, e.g. train.epochs=5 or 'train.seed=[1,2,3]'";
  EXPECT_EQ(error_with({"epochs"}), "command line: epochs" + kv);
  EXPECT_EQ(error_with({"=5"}), "command line: =5" + kv);
  EXPECT_EQ(error_with({"epochs="}), "command line: epochs=: no value after '='; write key=value, e.g. train.epochs=5");
  EXPECT_EQ(error_with({"seed=[1,2"}),
            "command line: seed=[1,2: bad list: its brackets or quotes do not pair; write a list as [1,2,3] or "
            "[fp,twn] and quote the override for the shell: 'train.seed=[1,2,3]'");
  EXPECT_EQ(error_with({"seed=[1,,2]"}),
            "command line: seed=[1,,2]: bad list: value 1 is empty; separate the values by single commas");
  EXPECT_EQ(error_with({"method=\"fp"}).rfind("command line: method=\"fp: not a TOML value", 0), 0u);
  EXPECT_EQ(error_with({"optim.lr=1"}),
            "command line: optim.lr=1: \"optim\" is not a table of a sweep file; an override sets a key of [train] "
            "or [sweep]: train.KEY=VALUE (or KEY=VALUE) or sweep.KEY=VALUE");
  EXPECT_EQ(error_with({"train.zip.lr=1"}),
            "command line: train.zip.lr=1: an override sets one key of [train] or [sweep]; the keys of zips, blocks "
            "and init_from tables are changed in the file");
  EXPECT_EQ(error_with({"epochs=1\nseed = 3"}), "command line: epochs=1\nseed = 3: a value is one line");
}

TEST(SweepOverride, AppliesToEveryBlockAndRefusesAZippedKey) {
  const std::string blocks =
      "[sweep]\nname = \"b\"\n[train]\ndataset = \"mnist\"\nepochs = 10\n"
      "[[train.block]]\nmethod = \"fp\"\nepochs = 20\n"
      "[[train.block]]\nmethod = \"twn\"\nseed = [1, 2]\n";
  const std::string edited =
      "[sweep]\nname = \"b\"\n[train]\ndataset = \"mnist\"\nepochs = 3\n"
      "[[train.block]]\nmethod = \"fp\"\n"
      "[[train.block]]\nmethod = \"twn\"\nseed = [1, 2]\n";
  const ex::Sweep s = with({"epochs=3"}, blocks);
  EXPECT_EQ(keys_of(s), keys_of(with({}, edited)));
  for (const auto& r : s.runs) EXPECT_EQ(r.train.epochs, 3);
  EXPECT_EQ(error_with({"epochs=0"}, blocks), "command line: epochs=0: must be >= 1, got 0");

  const std::string zipped = kFile + "[train.zip]\nweight_decay = [0.0, 1e-4]\nmomentum = [0.9, 0.8]\n";
  EXPECT_EQ(error_with({"momentum=0.5"}, zipped),
            "command line: momentum=0.5: momentum is in train.zip (s.toml line 11), whose lists move together; an "
            "override cannot replace one list of a zip: edit the zip in the file");
}

TEST(SweepOverride, CommandLineSweep) {
  const ex::Sweep s = ex::load_sweep(ex::SweepArgs{"", {"model=lenet5", "dataset=mnist", "method=[fp,twn]"}, {}, {}});
  EXPECT_EQ(s.name, "cli");
  EXPECT_EQ(s.db_path, "results/cli.sqlite");
  ASSERT_EQ(s.runs.size(), 2u);
  EXPECT_EQ(s.runs[1].train.model, "lenet5");
  EXPECT_EQ(error_of<tb::ConfigError>([] { (void)ex::load_sweep(ex::SweepArgs{"", {"dataset=mnist"}, {}, {}}); })
                .rfind("command line: train.method: missing required key; add method = ", 0),
            0u);
}

TEST(SweepSelect, KeepsTheMatchingRuns) {
  ex::Sweep s = with({"seed=[1,2,3]"});
  const std::size_t all = s.runs.size();
  ex::select_runs(s, {"method=twn", "seed=1,3"});
  ASSERT_EQ(s.runs.size(), 2u);
  for (const auto& r : s.runs) EXPECT_EQ(r.train.method, "twn");
  EXPECT_EQ(s.runs[0].train.seed, 1);
  EXPECT_EQ(s.runs[1].train.seed, 3);
  EXPECT_EQ(s.unselected.size(), all - 2);
  // A key only twn uses selects twn runs alone.
  ex::Sweep t = with({});
  ex::select_runs(t, {"delta_factor=0.7"});
  EXPECT_EQ(t.runs.size(), 2u);
  ex::Sweep u = with({});
  ex::select_runs(u, {"train.lr=0.05"});
  EXPECT_EQ(u.runs.size(), 4u);
  EXPECT_TRUE(u.unselected.empty());
}

TEST(SweepSelect, KeepsTheWarmStartSources) {
  const std::string warm =
      "[sweep]\nname = \"w\"\n[train]\ndataset = \"mnist\"\nmodel = \"lenet5\"\nseed = [1, 2]\n"
      "method = \"twn\"\ninit_from = { method = \"fp\" }\n";
  ex::Sweep s = with({}, warm);
  ASSERT_EQ(s.runs.size(), 4u);
  ex::select_runs(s, {"method=twn", "seed=2"});
  ASSERT_EQ(s.runs.size(), 2u);
  EXPECT_EQ(s.runs[0].train.method, "fp");
  EXPECT_EQ(s.runs[1].train.init_from, s.runs[0].run_key);
  EXPECT_EQ(s.implied_sources, 1u);
}

TEST(SweepSelect, Errors) {
  const std::string unknown = error_selecting({"metod=fp"});
  EXPECT_EQ(unknown.rfind("command line: --only metod=fp: unknown key \"metod\"; did you mean \"method\"? valid keys: ", 0),
            0u)
      << unknown;
  EXPECT_EQ(error_selecting({"method=sca"}),
            "command line: --only method=sca: no run of the sweep has method = \"sca\"; its runs have \"fp\", \"twn\"");
  EXPECT_EQ(error_selecting({"seed=1,7"}), "command line: --only seed=1,7: no run of the sweep has seed = 7; its runs have 1, 2");
  EXPECT_EQ(error_selecting({"seed=abc"}), "command line: --only seed=abc: expected an integer, got string");
  EXPECT_EQ(error_selecting({"epochs=0"}), "command line: --only epochs=0: must be >= 1, got 0");
  EXPECT_EQ(error_selecting({"seed"}), "command line: --only seed: expected KEY=VALUE[,VALUE...], e.g. --only method=sca,twn");
  EXPECT_EQ(error_selecting({"seed=1,,2"}),
            "command line: --only seed=1,,2: empty value; write the values as a,b,c separated by single commas");
  EXPECT_EQ(error_selecting({"layers=dense(10)"}),
            "command line: --only layers=dense(10): layers takes a list per run, which --only cannot select by; select "
            "by another key");
  // Each filter matches some run, but no run matches both.
  const std::string one_method = replaced(kFile, "seed = [1, 2]", "seed = 1");
  EXPECT_EQ(error_selecting({"method=fp", "delta_factor=0.7"}, one_method),
            "command line: --only method=fp --only delta_factor=0.7: no run of the sweep matches every filter; drop "
            "or widen one");
}

TEST(SweepSelect, VaryingKeysAndValues) {
  const ex::Sweep s = with({});
  EXPECT_EQ(ex::varying_keys(s.runs), (std::vector<std::string>{"method", "seed"}));
  EXPECT_EQ(ex::run_value(s.runs[0], "method"), "\"fp\"");
  EXPECT_EQ(ex::shown_value(s.runs[0], "method"), "fp");
  EXPECT_EQ(ex::run_value(s.runs[0], "delta_factor"), "");
  EXPECT_EQ(ex::run_value(s.runs.back(), "delta_factor"), "0.7");
}

TEST(SweepSetFile, AppliesItsKeysBeforeTheOverridesAndErrorsNameIt) {
  tb::testing::TmpDir dir;
  const std::string base = dir.file("base.toml"), variant = dir.file("variant.toml");
  std::ofstream(base) << kFile;
  std::ofstream(variant) << "[train]\n# one epoch, three seeds\nepochs = 1\nseed = [1, 2, 3]\n";
  const ex::Sweep s = ex::load_sweep(ex::SweepArgs{base, {}, {}, {variant}});
  const std::string edited = replaced(replaced(kFile, "epochs = 10", "epochs = 1"), "seed = [1, 2]", "seed = [1, 2, 3]");
  EXPECT_EQ(keys_of(s), keys_of(with({}, edited)));
  // Words on the command line come after the set file.
  EXPECT_EQ(keys_of(ex::load_sweep(ex::SweepArgs{base, {"epochs=10"}, {}, {variant}})),
            keys_of(with({"seed=[1,2,3]"})));

  const auto error_for = [&](const std::string& text) {
    std::ofstream(variant) << text;
    return error_of<tb::ConfigError>([&] { (void)ex::load_sweep(ex::SweepArgs{base, {}, {}, {variant}}); });
  };
  EXPECT_EQ(error_for("[train]\n\nepochs = 0\n"), variant + ":3: train.epochs: must be >= 1, got 0");
  EXPECT_EQ(error_for("[train]\nseed = [1, \"x\"]\n"), variant + ":2: train.seed[1]: expected an integer, got string");
  EXPECT_EQ(error_for("[train]\nepoch = 2\n").rfind(variant + ":2: train.epoch: unknown key; did you mean \"epochs\"?", 0),
            0u);
  EXPECT_EQ(error_for("epochs = 2\n"), variant + ":1: epochs: unknown key; valid keys: sweep, train");
  EXPECT_EQ(error_for("[train.zip]\nlr = [0.1, 0.2]\nmomentum = [0.9, 0.8]\n"),
            variant + ":1: train.zip: a set file changes single keys of [train] and [sweep]; zips and blocks are "
                      "written in the sweep file");
}
