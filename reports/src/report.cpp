#include "ternbench/reports/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iterator>
#include <limits>
#include <set>

#include "ternbench/reports/methods.hpp"

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

// "alpha" for SCA's sca_alpha: the control key without its method's prefix.
std::string control_name(const MethodInfo& m) {
  const std::string prefix = m.name + "_";
  return m.control_key.rfind(prefix, 0) == 0 ? m.control_key.substr(prefix.size()) : m.control_key;
}

std::string left_out_note(int n) {
  return std::to_string(n) + (n == 1 ? " cell" : " cells") +
         " with unfinished runs not drawn (see the table).";
}

constexpr const char* kMethodColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                         "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

// One colour per method in every chart of every report: its place in the method registry
// (a method the registry does not know takes one from its name's hash). The k-th setting
// of the same method in one chart gets a lighter shade of it.
std::string method_color(const std::string& method, int shade) {
  const auto& known = known_methods();
  std::size_t i = static_cast<std::size_t>(method_order(method));
  if (i >= known.size()) i = known.size() + std::hash<std::string>{}(method) % 3;
  const std::string base = kMethodColors[i % std::size(kMethodColors)];
  const double mix = std::min(0.65, 0.22 * shade);  // towards white
  char out[8];
  unsigned rgb[3];
  for (int c = 0; c < 3; ++c) {
    const double v = std::stoi(base.substr(1 + 2 * static_cast<std::size_t>(c), 2), nullptr, 16);
    rgb[c] = static_cast<unsigned>(std::lround(v + (255 - v) * mix));
  }
  std::snprintf(out, sizeof out, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return out;
}

// The series of one chart by name, created on first use with its method's colour; `shade_key`
// tells settings of the same method apart (the rounded and continuous lines of one setting
// share a key, hence a colour).
struct SeriesBook {
  std::map<std::string, std::map<std::string, std::vector<std::string>>> keys;  // chart -> method -> keys
  Series& get(Chart& ch, const std::string& name, const std::string& method, const std::string& shade_key) {
    for (auto& s : ch.series)
      if (s.name == name) return s;
    auto& seen = keys[ch.id][method];
    auto it = std::find(seen.begin(), seen.end(), shade_key);
    if (it == seen.end()) it = seen.insert(seen.end(), shade_key);
    ch.series.push_back(Series{name, {}, false, false, method_color(method, static_cast<int>(it - seen.begin())), false});
    return ch.series.back();
  }
};

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
      return ChartPoint{x, y->mean * y_scale, y->std * y_scale, c.n_done() < min_seeds, ""};
    };

    // A method with a control key (SCA's sca_alpha): sparsity and accuracy against it, one
    // series per remaining setting.
    struct ControlCharts {
      const MethodInfo* method;
      Chart sparsity, accuracy;
      int left_out = 0;
    };
    std::vector<ControlCharts> controls;
    auto chart = [&](const std::string& id, const std::string& title, const std::string& x_label,
                     const std::string& y_label, bool log2_x, double y_min, double y_max) {
      return Chart{id + "-" + sec.dataset, sec.dataset + ": " + title, x_label, y_label, log2_x, {}, {}, {}, y_min, y_max};
    };
    for (const MethodInfo& m : known_methods()) {
      if (m.control_key.empty()) continue;
      const std::string x = control_name(m);
      controls.push_back({&m, chart("sparsity-" + x, "sparsity vs " + x + " (" + m.title + ")", m.control_key, "sparsity", false, 0, 1),
                          chart("accuracy-" + x, "test accuracy vs " + x + " (" + m.title + ")", m.control_key,
                                "test accuracy (%)", false, 0, 100)});
    }
    Chart acc_sp = chart("accuracy-sparsity", "accuracy vs sparsity", "sparsity", "test accuracy (%)", false, 0, 100);
    Chart acc_bits = chart("accuracy-bits", "accuracy vs bits per weight", "bits per weight (natural encoding)",
                           "test accuracy (%)", true, 0, 100);
    Chart curves = chart("curves", "test accuracy per epoch (mean over seeds)", "epoch", "test accuracy (%)", false, 0, 100);
    SeriesBook book;
    int left_out = 0, curves_left_out = 0;
    for (const Cell* c : cells) {
      ControlCharts* control = nullptr;
      for (auto& cc : controls)
        if (c->method == cc.method->name) control = &cc;
      if (!drawable(*c)) {
        ++left_out;
        if (control) ++control->left_out;
        continue;
      }
      const std::string group = r.label(sec, *c, false);
      const std::string method_group = sec.many_models ? c->model + ", " + c->method : c->method;
      const std::string control_key = control ? control->method->control_key : std::string();
      const auto x = control ? c->config.find(control_key) : c->config.end();
      std::string point_label;  // "alpha=0.5" on the points of a method charted against its control key
      if (x != c->config.end() && x->second.kind == Value::Kind::kNumber) {
        std::string base;  // the cell's label without the control key
        for (const auto& k : sec.label_keys)
          if (k != control_key && c->config.count(k)) { base += (base.empty() ? "" : ", "); base += k + "=" + value_of(*c, k); }
        if (sec.many_models) base = c->model + (base.empty() ? "" : ", " + base);
        const std::string name = base.empty() ? c->method : base;
        const double a = x->second.number;
        point_label = control_name(*control->method) + "=" + x->second.str();
        if (c->stat("sparsity")) {
          Series& s = book.get(control->sparsity, name, c->method, name);
          s.line = true;
          s.points.push_back(point(*c, a, "sparsity", 1));
        }
        if (c->stat("test_acc")) {
          Series& s = book.get(control->accuracy, name + " (rounded)", c->method, name);
          s.line = true;
          s.points.push_back(point(*c, a, "test_acc", 100));
        }
        if (c->stat("test_acc_continuous")) {
          Series& s = book.get(control->accuracy, name + " (continuous)", c->method, name);
          s.line = s.dashed = true;
          s.points.push_back(point(*c, a, "test_acc_continuous", 100));
        }
      }
      if (c->stat("test_acc") && c->stat("sparsity")) {
        ChartPoint p = point(*c, c->stat("sparsity")->mean, "test_acc", 100);
        p.label = point_label;
        book.get(acc_sp, method_group, c->method, method_group).points.push_back(p);
      }
      if (c->stat("test_acc") && c->stat("natural_bpw")) {
        ChartPoint p = point(*c, c->stat("natural_bpw")->mean, "test_acc", 100);
        p.label = point_label;
        book.get(acc_bits, method_group, c->method, method_group).points.push_back(p);
        acc_bits.front.push_back(p);
      }
      // Training curve: mean over the done runs at each step, with a band of one sample std.
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
      const std::string name = group.empty() ? c->method : r.label(sec, *c);
      Series& s = book.get(curves, name, c->method, name);
      s.line = s.band = true;
      for (const auto& [step, accs] : at_step) {
        const SeedStats st = seed_stats(accs);
        if (st.n > 0) s.points.push_back(ChartPoint{static_cast<double>(step), st.mean * 100, st.std * 100, false, ""});
      }
    }
    acc_bits.front = pareto_front(acc_bits.front);
    std::vector<Chart*> with_points;  // every chart but the curves, in the report's order
    for (auto& cc : controls) {
      if (cc.left_out > 0) {
        cc.sparsity.notes.push_back(left_out_note(cc.left_out));
        cc.accuracy.notes.push_back(left_out_note(cc.left_out));
      }
      with_points.push_back(&cc.sparsity);
      with_points.push_back(&cc.accuracy);
    }
    with_points.push_back(&acc_sp);
    with_points.push_back(&acc_bits);
    for (Chart* ch : with_points) sort_points(*ch);
    for (Chart* ch : {&acc_sp, &acc_bits, &curves})
      if (left_out > 0) ch->notes.push_back(left_out_note(left_out));
    if (curves_left_out > 0)
      curves.notes.push_back(std::to_string(curves_left_out) + " more cells not drawn (at most " +
                             std::to_string(options.max_curves) + " curves per chart).");
    for (Chart* ch : with_points) {
      bool hollow = false;
      for (const auto& s : ch->series)
        for (const auto& p : s.points) hollow = hollow || p.hollow;
      if (hollow) ch->notes.push_back("Hollow markers: fewer than " + std::to_string(min_seeds) + " seeds.");
    }
    for (Chart* ch : with_points)
      if (!ch->empty()) ch->notes.insert(ch->notes.begin(), "Error bars: one sample standard deviation over seeds.");
    if (!curves.empty()) curves.notes.insert(curves.notes.begin(), "Shaded band: one sample standard deviation over seeds.");
    for (Chart* ch : {&acc_sp, &acc_bits}) {
      bool labelled = false;
      for (const auto& s : ch->series)
        for (const auto& p : s.points) labelled = labelled || !p.label.empty();
      if (labelled) ch->notes.push_back("Points of a method with a sparsity control are labelled with its value.");
    }
    if (acc_bits.front.size() >= 2)
      acc_bits.notes.insert(acc_bits.notes.begin(),
                            "Dotted line: Pareto front (no other cell is more accurate with as few bits).");
    // A chart without a point is left out (the table says why cells are missing).
    sec.charts.clear();
    with_points.push_back(&curves);
    for (Chart* ch : with_points)
      if (!ch->empty()) sec.charts.push_back(std::move(*ch));
  }
  return r;
}

}  // namespace ternbench::reports
