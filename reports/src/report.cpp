#include "ternbench/reports/report.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

namespace ternbench::reports {
namespace {

// Keys every table shows in its own columns, or that never tell cells apart.
const std::set<std::string> kFixedKeys = {"dataset", "model", "method", "seed"};

std::string value_of(const Cell& c, const std::string& key) {
  const auto it = c.config.find(key);
  return it == c.config.end() ? std::string() : it->second.str();
}

std::vector<std::string> varying_keys(const std::vector<const Cell*>& cells) {
  std::map<std::string, std::set<std::string>> seen;
  for (const Cell* c : cells)
    for (const auto& [k, v] : c->config)
      if (!kFixedKeys.count(k)) seen[k].insert(v.str());
  std::vector<std::string> keys;
  for (const auto& [k, values] : seen)
    if (values.size() >= 2) keys.push_back(k);
  return keys;
}

// A cell that can be drawn: every run final and at least one done.
bool drawable(const Cell& c) { return c.complete() && c.n_done() > 0; }

std::string left_out_note(int n) {
  return std::to_string(n) + (n == 1 ? " cell" : " cells") +
         " with unfinished runs not drawn (see the table).";
}

// One series per group name; points in insertion order.
Series& series_named(Chart& ch, const std::string& name) {
  for (auto& s : ch.series)
    if (s.name == name) return s;
  ch.series.push_back(Series{name, {}, false, false});
  return ch.series.back();
}

void sort_points(Chart& ch) {
  for (auto& s : ch.series)
    std::sort(s.points.begin(), s.points.end(), [](const ChartPoint& a, const ChartPoint& b) { return a.x < b.x; });
}

}  // namespace

std::string Report::label(const DatasetSection& s, const Cell& c, bool with_method) const {
  std::string out;
  auto add = [&](const std::string& part) {
    if (part.empty()) return;
    if (!out.empty()) out += ", ";
    out += part;
  };
  if (s.many_models) add(c.model);
  if (with_method) add(c.method);
  for (const auto& k : s.label_keys)
    if (c.config.count(k)) add(k + "=" + value_of(c, k));
  return out;
}

Report build_report(std::vector<RunRow> runs, const std::vector<EpochPoint>& epochs, const ReportOptions& options) {
  add_derived_metrics(runs);
  Report r;
  r.options = options;
  r.n_runs = static_cast<int>(runs.size());
  for (const auto& run : runs) ++r.status_counts[run.status];
  r.cells = make_cells(runs);

  for (std::size_t i = 0; i < r.cells.size(); ++i) {
    if (r.sections.empty() || r.sections.back().dataset != r.cells[i].dataset)
      r.sections.push_back(DatasetSection{r.cells[i].dataset, {}, {}, false, {}});
    r.sections.back().cells.push_back(i);
  }

  std::map<std::string, std::vector<std::pair<int, double>>> curve_of;  // run_key -> (step, acc)
  for (const auto& e : epochs) curve_of[e.run_key].emplace_back(e.step, e.test_acc);

  for (auto& sec : r.sections) {
    std::vector<const Cell*> cells;
    std::set<std::string> models;
    for (std::size_t i : sec.cells) {
      cells.push_back(&r.cells[i]);
      models.insert(r.cells[i].model);
    }
    sec.label_keys = varying_keys(cells);
    sec.many_models = models.size() > 1;
    const int min_seeds = options.min_seeds;
    auto point = [&](const Cell& c, double x, const std::string& y_metric, double y_scale) {
      const SeedStats* y = c.stat(y_metric);
      return ChartPoint{x, y->mean * y_scale, y->std * y_scale, c.n_done() < min_seeds};
    };

    // SCA: sparsity and accuracy against alpha, one series per remaining setting.
    Chart sparsity{"sparsity-alpha-" + sec.dataset, sec.dataset + ": sparsity vs alpha (SCA)", "sca_alpha",
                   "sparsity", false, {}, {}, {}};
    Chart accuracy{"accuracy-alpha-" + sec.dataset, sec.dataset + ": test accuracy vs alpha (SCA)", "sca_alpha",
                   "test accuracy (%)", false, {}, {}, {}};
    Chart acc_sp{"accuracy-sparsity-" + sec.dataset, sec.dataset + ": accuracy vs sparsity", "sparsity",
                 "test accuracy (%)", false, {}, {}, {}};
    Chart acc_bits{"accuracy-bits-" + sec.dataset, sec.dataset + ": accuracy vs bits per weight",
                   "bits per weight (natural encoding)", "test accuracy (%)", true, {}, {}, {}};
    Chart curves{"curves-" + sec.dataset, sec.dataset + ": test accuracy per epoch (mean over seeds)", "epoch",
                 "test accuracy (%)", false, {}, {}, {}};
    int sca_left_out = 0, left_out = 0, curves_left_out = 0;
    for (const Cell* c : cells) {
      if (!drawable(*c)) {
        ++left_out;
        if (c->method == "sca") ++sca_left_out;
        continue;
      }
      const std::string group = r.label(sec, *c, false);
      const std::string method_group = sec.many_models ? c->model + ", " + c->method : c->method;
      const auto alpha = c->config.find("sca_alpha");
      if (c->method == "sca" && alpha != c->config.end() && alpha->second.kind == Value::Kind::kNumber) {
        std::string base;  // the cell's label without sca_alpha
        for (const auto& k : sec.label_keys)
          if (k != "sca_alpha" && c->config.count(k)) { base += (base.empty() ? "" : ", "); base += k + "=" + value_of(*c, k); }
        if (sec.many_models) base = c->model + (base.empty() ? "" : ", " + base);
        const std::string name = base.empty() ? "sca" : base;
        const double a = alpha->second.number;
        if (c->stat("sparsity")) {
          Series& s = series_named(sparsity, name);
          s.line = true;
          s.points.push_back(point(*c, a, "sparsity", 1));
        }
        if (c->stat("test_acc")) {
          Series& s = series_named(accuracy, name + " (rounded)");
          s.line = true;
          s.points.push_back(point(*c, a, "test_acc", 100));
        }
        if (c->stat("test_acc_continuous")) {
          Series& s = series_named(accuracy, name + " (continuous)");
          s.line = s.dashed = true;
          s.points.push_back(point(*c, a, "test_acc_continuous", 100));
        }
      }
      if (c->stat("test_acc") && c->stat("sparsity"))
        series_named(acc_sp, method_group).points.push_back(point(*c, c->stat("sparsity")->mean, "test_acc", 100));
      if (c->stat("test_acc") && c->stat("natural_bpw")) {
        const ChartPoint p = point(*c, c->stat("natural_bpw")->mean, "test_acc", 100);
        series_named(acc_bits, method_group).points.push_back(p);
        acc_bits.front.push_back(p);
      }
      // Training curve: mean over the done runs at each step.
      std::map<int, std::vector<double>> at_step;
      for (const auto& key : c->done_keys) {
        const auto it = curve_of.find(key);
        if (it == curve_of.end()) continue;
        for (const auto& [step, acc] : it->second) at_step[step].push_back(acc);
      }
      if (at_step.empty()) continue;
      if (static_cast<int>(curves.series.size()) >= options.max_curves) {
        ++curves_left_out;
        continue;
      }
      Series s{group.empty() ? c->method : r.label(sec, *c), {}, true, false};
      for (const auto& [step, accs] : at_step) {
        const SeedStats st = seed_stats(accs);
        if (st.n > 0) s.points.push_back(ChartPoint{static_cast<double>(step), st.mean * 100, 0, false});
      }
      curves.series.push_back(std::move(s));
    }
    acc_bits.front = pareto_front(acc_bits.front);
    for (Chart* ch : {&sparsity, &accuracy, &acc_sp, &acc_bits}) sort_points(*ch);
    const int sca_n = sca_left_out, all_n = left_out;
    if (sca_n > 0) {
      sparsity.notes.push_back(left_out_note(sca_n));
      accuracy.notes.push_back(left_out_note(sca_n));
    }
    for (Chart* ch : {&acc_sp, &acc_bits, &curves})
      if (all_n > 0) ch->notes.push_back(left_out_note(all_n));
    if (curves_left_out > 0)
      curves.notes.push_back(std::to_string(curves_left_out) + " more cells not drawn (at most " +
                             std::to_string(options.max_curves) + " curves per chart).");
    for (Chart* ch : {&sparsity, &accuracy, &acc_sp, &acc_bits}) {
      bool hollow = false;
      for (const auto& s : ch->series)
        for (const auto& p : s.points) hollow = hollow || p.hollow;
      if (hollow) ch->notes.push_back("Hollow markers: fewer than " + std::to_string(min_seeds) + " seeds.");
    }
    for (Chart* ch : {&sparsity, &accuracy, &acc_sp, &acc_bits})
      if (!ch->empty()) ch->notes.insert(ch->notes.begin(), "Error bars: one sample standard deviation over seeds.");
    if (acc_bits.front.size() >= 2)
      acc_bits.notes.insert(acc_bits.notes.begin(),
                            "Dotted line: Pareto front (no other cell is more accurate with as few bits).");
    sec.charts = {sparsity, accuracy, acc_sp, acc_bits, curves};
  }
  return r;
}

}  // namespace ternbench::reports
