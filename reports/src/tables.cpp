#include "tables.hpp"

#include <algorithm>

#include "ternbench/reports/escape.hpp"

namespace ternbench::reports::detail {

const Style& markdown_style() {
  static const Style s{md_escape, " ± ", "×", "†", "–", "‡"};
  return s;
}
const Style& latex_style() {
  static const Style s{latex_escape, " $\\pm$ ", "$\\times$", "$^\\dagger$", "--", "$^\\ddagger$"};
  return s;
}
const Style& html_style() {
  static const Style s{xml_escape, " ± ", "×", "<sup>†</sup>", "–", "<sup>‡</sup>"};
  return s;
}

std::string accuracy_text(const Cell& c, int min_seeds, const Style& st) {
  const SeedStats* a = c.stat("test_acc");
  std::string out;
  if (!a) {
    out = st.missing;
  } else {
    out = fixed(100 * a->mean, 2);
    if (a->n >= 2) {
      out.append(st.pm).append(fixed(100 * a->std, 2));
      out.append(" [").append(fixed(100 * a->ci_low, 2)).append(", ").append(fixed(100 * a->ci_high, 2)).append("]");
    }
  }
  if (c.n_done() < min_seeds) out += st.dagger;
  if (!c.chance_keys.empty()) out += st.chance;
  if (!c.complete()) out += " (incomplete)";
  return out;
}

TextTable method_table(const Report& r, const DatasetSection& s, const Style& st) {
  TextTable t;
  auto col = [&](const std::string& name, bool numeric) {
    t.header.push_back(st.escape(name));
    t.numeric.push_back(numeric);
  };
  col("model", false);
  col("method", false);
  for (const auto& k : s.label_keys) col(k, true);
  col("test accuracy (%)", true);
  col("n", true);
  col("sparsity", true);
  col("bits/weight", true);
  col("size", true);
  col("vs fp32", true);
  // Measured by `ternbench infer --engine ternary --db` (docs/inference.md): shown when a cell
  // of the section has a measurement.
  bool measured = false;
  for (std::size_t i : s.cells) measured = measured || r.cells[i].stat("infer_speedup_b1") != nullptr;
  if (measured) {
    col("engine speed-up, batch 1", true);
    col("engine speed-up, batch 64", true);
    col("engine memory vs fp32", true);
  }
  col("cell", false);
  for (std::size_t i : s.cells) {
    const Cell& c = r.cells[i];
    std::vector<std::string> row{st.escape(c.model), st.escape(c.method)};
    for (const auto& k : s.label_keys) {
      const auto it = c.config.find(k);
      row.push_back(it == c.config.end() ? st.missing : st.escape(it->second.str()));
    }
    row.push_back(accuracy_text(c, r.options.min_seeds, st));
    row.push_back(std::to_string(c.n_done()));
    auto mean_of = [&](const char* m, int decimals) {
      const SeedStats* x = c.stat(m);
      return x ? fixed(x->mean, decimals) : st.missing;
    };
    row.push_back(mean_of("sparsity", 3));
    row.push_back(mean_of("natural_bpw", 2));
    const SeedStats* bits = c.stat("natural_bits");
    row.push_back(bits ? st.escape(human_bits(bits->mean) + " (" + natural_encoding(c.method) + ")") : st.missing);
    const SeedStats* ratio = c.stat("natural_ratio");
    row.push_back(ratio ? fixed(ratio->mean, 1) + st.times : st.missing);
    if (measured) {
      for (const char* m : {"infer_speedup_b1", "infer_speedup_b64", "infer_memory_ratio"}) {
        const SeedStats* x = c.stat(m);
        row.push_back(x ? fixed(x->mean, 2) + st.times : st.missing);
      }
    }
    row.push_back(c.id);
    t.rows.push_back(std::move(row));
    t.cells.push_back(&c);
    t.any_few_seeds = t.any_few_seeds || c.n_done() < r.options.min_seeds;
    t.any_incomplete = t.any_incomplete || !c.complete();
    t.any_chance = t.any_chance || !c.chance_keys.empty();
  }
  return t;
}

std::string runs_note(const Cell& c) {
  std::string out = c.status_summary() + ".";
  if (!c.done_keys.empty()) {
    out += " Averaged:";
    for (const auto& k : c.done_keys) out.append(" ").append(k);
    out += ".";
  }
  if (c.done_keys.size() != c.run_keys.size()) {
    out += " Not averaged:";
    for (const auto& k : c.run_keys)
      if (std::find(c.done_keys.begin(), c.done_keys.end(), k) == c.done_keys.end()) out.append(" ").append(k);
    out += ".";
  }
  return out;
}

std::string few_seeds_note(int min_seeds) {
  return "fewer than " + std::to_string(min_seeds) + " finished seeds: the interval is wide or undefined.";
}

std::string incomplete_note() {
  return "(incomplete): some runs of the cell are not finished (pending, running, interrupted, failed or "
         "not started); the numbers average only the finished ones and will change.";
}

std::string chance_note(const std::vector<const Cell*>& cells) {
  std::string keys;
  for (const Cell* c : cells)
    for (const auto& k : c->chance_keys) keys.append(" ").append(k);
  return "at chance level (test accuracy at most " + std::to_string(static_cast<int>(kChanceAccuracy * 100 + 0.5)) +
         "% with 10 classes: the run learned nothing, and its cell's mean is not a result of the method):" + keys + ".";
}

std::vector<std::string> definitions() {
  return {
      "A cell is the set of runs whose configs differ only by the seed; its id is the first 8 hex digits of "
      "the SHA-256 of that config, and cells.csv lists the run keys behind each cell.",
      "Test accuracy: mean ± sample standard deviation over the finished seeds of the final test accuracy of "
      "the deployed (quantized) network, then the 95% confidence interval of the mean (Student t with n - 1 "
      "degrees of freedom).",
      "Sparsity: fraction of zero weights over all weight matrices (mean over seeds).",
      "Size: the weights under the method's natural encoding: fp32 for fp, 1 bit per weight plus scales for "
      "binaryconnect and bwn, 2 bits per weight plus scales for twn and ttq, and the smallest of 2-bit, bitmap "
      "and relative-index encodings for sca and faraone. Bits/weight is that size over the number of weights; "
      "vs fp32 is the fp32 size over it.",
  };
}

std::string run_count_text(const Report& r) {
  std::string out = std::to_string(r.n_runs) + (r.n_runs == 1 ? " run" : " runs");
  std::string parts;
  for (const auto& [status, n] : r.status_counts)
    parts.append(parts.empty() ? "" : ", ").append(std::to_string(n)).append(" ").append(status);
  if (!parts.empty()) out += ": " + parts;
  return out;
}

}  // namespace ternbench::reports::detail
