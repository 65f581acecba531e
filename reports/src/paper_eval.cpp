// Verdicts of a paper spec: every table cell and claim resolves its queries to cells of
// the DB (groups of runs that differ only by seed) and compares them.
#include <algorithm>
#include <cmath>
#include <set>

#include "ternbench/base/error.hpp"
#include "ternbench/reports/escape.hpp"
#include "ternbench/reports/paper.hpp"

namespace ternbench::reports {
namespace {

std::string metric_key(const Query& q) { return q.sql.empty() ? q.metric : "sql:" + q.sql; }

bool matches(const Cell& c, const Filter& f) {
  for (const auto& [key, values] : f) {
    const auto it = c.config.find(key);
    if (it == c.config.end()) return false;
    if (std::none_of(values.begin(), values.end(), [&](const Value& v) { return v == it->second; })) return false;
  }
  return true;
}

std::string filter_text(const Filter& f) {
  std::string out;
  for (const auto& [key, values] : f) {
    out += (out.empty() ? "" : ", ");
    out += key + "=";
    for (std::size_t i = 0; i < values.size(); ++i) { out += (i ? "|" : ""); out += values[i].str(); }
  }
  return out.empty() ? "(no filter)" : out;
}

std::string mean_text(const SeedStats& s, int decimals) {
  std::string out = fixed(s.mean, decimals);
  if (s.n >= 2) out.append(" ± ").append(fixed(s.std, decimals));
  return out + " (n=" + std::to_string(s.n) + ")";
}

// The outcome of resolving one query: a cell with enough finished seeds, or why not.
struct Pick {
  const Cell* cell = nullptr;
  const SeedStats* stat = nullptr;
  std::string why;  // set when cell is unusable
  std::vector<std::string> cell_ids;
};

class Evaluator {
 public:
  Evaluator(const PaperSpec& spec, const std::vector<RunRow>& runs) : spec_(spec), cells_(make_cells(runs)) {
    // For sql queries: the cells whose runs the query returned (done or not).
    std::map<std::string, const Cell*> cell_of_run;
    for (const auto& c : cells_)
      for (const auto& k : c.run_keys) cell_of_run[k] = &c;
    for (const auto& r : runs)
      for (const auto& [name, v] : r.metrics)
        if (name.rfind("sql:", 0) == 0) sql_cells_[name].insert(cell_of_run[r.run_key]);
  }

  const std::vector<Cell>& cells() const { return cells_; }

  std::vector<const Cell*> all() const {
    std::vector<const Cell*> out;
    for (const auto& c : cells_) out.push_back(&c);
    return out;
  }

  std::vector<const Cell*> candidates(const Query& q, const std::vector<const Cell*>& pool) const {
    std::vector<const Cell*> out;
    const std::string key = metric_key(q);
    for (const Cell* c : pool) {
      if (!q.sql.empty()) {
        const auto it = sql_cells_.find(key);
        if (it != sql_cells_.end() && it->second.count(c)) out.push_back(c);
      } else if (matches(*c, q.where)) {
        out.push_back(c);
      }
    }
    return out;
  }

  // Usable means complete, with enough seeds and a value of the metric.
  std::string unusable(const Cell& c, const std::string& metric) const {
    if (!c.complete()) return "cell " + c.id + " is incomplete (" + c.status_summary() + ")";
    if (c.n_done() < spec_.min_seeds)
      return "cell " + c.id + " has " + std::to_string(c.n_done()) + " finished seeds, fewer than " +
             std::to_string(spec_.min_seeds);
    if (!c.stat(metric)) return "cell " + c.id + " has no value of " + metric;
    return "";
  }

  Pick resolve(const Query& q, const std::vector<const Cell*>& pool) const {
    Pick p;
    const std::string metric = metric_key(q);
    const auto cands = candidates(q, pool);
    for (const Cell* c : cands) p.cell_ids.push_back(c->id);
    if (cands.empty()) {
      p.why = "no runs match " + (q.sql.empty() ? filter_text(q.where) : "the sql query");
      return p;
    }
    if (q.select == "only" && cands.size() > 1) {
      p.why = std::to_string(cands.size()) + " configurations match " + filter_text(q.where) +
              "; narrow where or set select = \"max\" / \"min\"";
      return p;
    }
    // max/min choose among all candidates, so each must be final: a running cell could win.
    for (const Cell* c : cands)
      if (!c->complete()) {
        p.why = "cell " + c->id + " is incomplete (" + c->status_summary() + ")";
        return p;
      }
    const Cell* best = nullptr;
    for (const Cell* c : cands) {
      if (!c->stat(metric)) continue;
      if (!best || (q.select == "min" ? c->stat(metric)->mean < best->stat(metric)->mean
                                      : c->stat(metric)->mean > best->stat(metric)->mean))
        best = c;
    }
    if (!best) {
      p.why = "no finished run has a value of " + metric;
      return p;
    }
    p.cell_ids = {best->id};
    if (const std::string u = unusable(*best, metric); !u.empty()) {
      p.why = u;
      return p;
    }
    p.cell = best;
    p.stat = best->stat(metric);
    return p;
  }

  Outcome with_reference(const SeedStats& s, int decimals, const std::optional<Reference>& ref,
                         std::optional<double> above, std::optional<double> below) const {
    Outcome o;
    o.measured = mean_text(s, decimals);
    o.stats = s;
    if (ref) {
      const double diff = s.mean - ref->value;
      o.expected = fixed(ref->value, decimals) + " ± " + fixed(ref->tolerance, decimals) + " (" + ref->source + ")";
      const bool ok = std::fabs(diff) <= ref->tolerance;
      o.verdict = ok ? Verdict::kReproduced : Verdict::kDeviates;
      o.detail = "difference " + std::string(diff >= 0 ? "+" : "") + fixed(diff, decimals) + (ok ? " within" : " outside") +
                 " the tolerance " + fixed(ref->tolerance, decimals);
      return o;
    }
    if (above || below) {
      bool ok = true;
      if (above) {
        o.expected = "> " + fixed_exact(*above, decimals);
        ok = ok && s.mean > *above;
      }
      if (below) {
        o.expected += std::string(o.expected.empty() ? "" : " and ") + "< " + fixed_exact(*below, decimals);
        ok = ok && s.mean < *below;
      }
      o.verdict = ok ? Verdict::kReproduced : Verdict::kDeviates;
      o.detail = ok ? "the predicate holds" : "mean " + fixed(s.mean, decimals) + " is not " + o.expected;
      return o;
    }
    o.verdict = Verdict::kNoReference;  // the verdict says it; no detail to repeat in every cell
    return o;
  }

  Outcome table_cell(const TableSpec& t, const TableAxis& row, const TableAxis& col) const {
    Query q = t.base;
    for (const Filter* f : {&row.where, &col.where})
      for (const auto& [k, v] : *f) q.where[k] = v;
    if (!row.metric.empty()) q.metric = row.metric;
    if (!col.metric.empty()) q.metric = col.metric;
    const Pick p = resolve(q, all());
    const auto ref_it = t.references.find({row.label, col.label});
    const std::optional<Reference> ref =
        ref_it == t.references.end() ? std::nullopt : std::optional<Reference>(ref_it->second);
    if (!p.cell) {
      Outcome o;
      o.verdict = Verdict::kMissing;
      if (ref) o.expected = fixed(ref->value, t.decimals) + " ± " + fixed(ref->tolerance, t.decimals) + " (" + ref->source + ")";
      o.detail = p.why;
      o.cell_ids = p.cell_ids;
      return o;
    }
    Outcome o = with_reference(*p.stat, t.decimals, ref, std::nullopt, std::nullopt);
    o.cell_ids = p.cell_ids;
    return o;
  }

  Outcome claim(const ClaimSpec& c, const std::vector<const Cell*>& pool) const {
    if (c.kind == "monotone") return monotone(c, pool);
    if (c.kind == "value") {
      const Pick p = resolve(c.subject, pool);
      if (!p.cell) return missing(p.why, p.cell_ids);
      Outcome o = with_reference(*p.stat, c.decimals, c.reference, c.above, c.below);
      o.cell_ids = p.cell_ids;
      return o;
    }
    return compare(c, pool);
  }

 private:
  static Outcome missing(const std::string& why, std::vector<std::string> ids) {
    Outcome o;
    o.verdict = Verdict::kMissing;
    o.detail = why;
    o.cell_ids = std::move(ids);
    return o;
  }

  Outcome monotone(const ClaimSpec& c, const std::vector<const Cell*>& pool) const {
    const std::string metric = metric_key(c.subject);
    std::map<double, const Cell*> by_x;
    std::vector<std::string> ids;
    for (const Cell* cell : candidates(c.subject, pool)) {
      ids.push_back(cell->id);
      const auto it = cell->config.find(c.x);
      if (it == cell->config.end() || it->second.kind != Value::Kind::kNumber)
        return missing("cell " + cell->id + " has no numeric " + c.x, ids);
      if (by_x.count(it->second.number))
        return missing("cells " + by_x[it->second.number]->id + " and " + cell->id + " share " + c.x + "=" +
                           it->second.str() + "; narrow where or add for_each keys",
                       ids);
      by_x[it->second.number] = cell;
    }
    if (by_x.size() < 3)
      return missing(std::to_string(by_x.size()) + " values of " + c.x + " found, at least 3 needed", ids);
    std::vector<double> xs, ys;
    std::string points;
    for (const auto& [x, cell] : by_x) {
      if (const std::string u = unusable(*cell, metric); !u.empty()) return missing(u, ids);
      xs.push_back(x);
      ys.push_back(cell->stat(metric)->mean);
      points += (points.empty() ? "" : ", ");
      points += Value::of(x).str() + ": " + fixed(ys.back(), c.decimals);
    }
    double rho = spearman(xs, ys);
    if (std::isnan(rho)) rho = 0;  // a constant metric does not rise
    if (c.direction == "decreasing") rho = -rho;
    Outcome o;
    o.cell_ids = ids;
    o.measured = "rho = " + fixed(rho, 2) + " over " + std::to_string(xs.size()) + " values of " + c.x;
    o.expected = c.direction + " (Spearman rho >= " + fixed(c.min_spearman, 2) + ")";
    o.verdict = rho >= c.min_spearman ? Verdict::kReproduced : Verdict::kDeviates;
    o.detail = c.x + " -> " + metric + ": " + points;
    return o;
  }

  Outcome compare(const ClaimSpec& c, const std::vector<const Cell*>& pool) const {
    const Pick base = resolve(*c.baseline, pool);
    if (!base.cell) return missing("baseline: " + base.why, base.cell_ids);
    Pick subj;
    if (c.match.empty()) {
      subj = resolve(c.subject, pool);
    } else {
      // The subject cell closest to the baseline on the match metric (e.g. sparsity).
      const SeedStats* target = base.cell->stat(c.match);
      if (!target) return missing("baseline cell " + base.cell->id + " has no value of " + c.match, base.cell_ids);
      double best_dist = 0;
      for (const Cell* cell : candidates(c.subject, pool)) {
        subj.cell_ids.push_back(cell->id);
        if (!cell->complete()) {
          subj.why = "cell " + cell->id + " is incomplete (" + cell->status_summary() + ")";
          subj.cell = nullptr;
          break;
        }
        const SeedStats* m = cell->stat(c.match);
        if (!m) continue;
        const double d = std::fabs(m->mean - target->mean);
        if (!subj.cell || d < best_dist) {
          subj.cell = cell;
          best_dist = d;
        }
      }
      if (subj.cell) {
        if (const std::string u = unusable(*subj.cell, metric_key(c.subject)); !u.empty()) {
          subj.why = u;
          subj.cell = nullptr;
        } else {
          subj.stat = subj.cell->stat(metric_key(c.subject));
          subj.cell_ids = {subj.cell->id};
        }
      } else if (subj.why.empty()) {
        subj.why = "no runs match " + filter_text(c.subject.where);
      }
    }
    std::vector<std::string> ids = subj.cell_ids;
    ids.insert(ids.end(), base.cell_ids.begin(), base.cell_ids.end());
    if (!subj.cell) return missing(subj.why, ids);
    const double s = subj.stat->mean, b = base.stat->mean;
    Outcome o;
    o.cell_ids = {subj.cell->id, base.cell->id};
    o.measured = fixed(s, c.decimals) + " vs " + fixed(b, c.decimals) + " (baseline)";
    const double gap = b - s;
    if (c.kind == "within") {
      o.expected = "shortfall <= " + fixed(c.max_gap, c.decimals);
      o.verdict = gap <= c.max_gap ? Verdict::kReproduced : Verdict::kDeviates;
      o.detail = "shortfall " + fixed(gap, c.decimals) + (o.verdict == Verdict::kReproduced ? " <= " : " > ") +
                 fixed(c.max_gap, c.decimals);
    } else {
      o.expected = ">= baseline" + (c.margin != 0 ? " + " + fixed(c.margin, c.decimals) : std::string());
      o.verdict = s >= b + c.margin ? Verdict::kReproduced : Verdict::kDeviates;
      o.detail = "difference " + std::string(s - b >= 0 ? "+" : "") + fixed(s - b, c.decimals);
    }
    if (!c.match.empty())
      o.detail += "; matched on " + c.match + ": " + fixed(subj.cell->stat(c.match)->mean, 3) + " vs " +
                  fixed(base.cell->stat(c.match)->mean, 3);
    return o;
  }

  const PaperSpec& spec_;
  std::vector<Cell> cells_;
  std::map<std::string, std::set<const Cell*>> sql_cells_;
};

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kReproduced: return "reproduced";
    case Verdict::kDeviates: return "deviates";
    case Verdict::kMissing: return "missing";
    case Verdict::kNoReference: return "no reference";
  }
  return "?";
}

void add_spec_metrics(const PaperSpec& spec, const ResultsDb& db, std::vector<RunRow>& runs) {
  std::vector<std::pair<std::string, const Query*>> needed;  // entry path, query
  std::vector<std::pair<std::string, std::string>> exprs;    // entry path, expression
  for (const auto& t : spec.tables) {
    exprs.emplace_back("table " + t.id + " metric", t.base.metric);
    for (const auto& a : t.rows) exprs.emplace_back("table " + t.id + " row \"" + a.label + "\" metric", a.metric);
    for (const auto& a : t.columns) exprs.emplace_back("table " + t.id + " column \"" + a.label + "\" metric", a.metric);
  }
  for (const auto& c : spec.claims) {
    exprs.emplace_back("claim " + c.id + " metric", c.subject.metric);
    if (c.baseline) exprs.emplace_back("claim " + c.id + " baseline metric", c.baseline->metric);
    exprs.emplace_back("claim " + c.id + " match", c.match);
    if (!c.subject.sql.empty()) needed.emplace_back("claim " + c.id + " sql", &c.subject);
  }
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < runs.size(); ++i) index[runs[i].run_key] = i;
  std::set<std::string> columns;
  for (const auto& c : db.query("SELECT * FROM results LIMIT 0").columns) columns.insert(c);
  auto fill = [&](const std::string& where, const std::string& sql, const std::string& key) {
    Table t;
    try {
      t = db.query(sql);
    } catch (const StorageError& e) {
      throw ConfigError(spec.file, where, 0, std::string(e.what()) + "; the SQL must be valid over the results view");
    }
    for (const auto& row : t.rows) {
      const auto it = index.find(row.at(0).str());
      if (it != index.end()) runs[it->second].metrics[key] = row.at(1);
    }
  };
  std::set<std::string> done;
  for (const auto& [where, e] : exprs) {
    // Plain columns and the derived natural_* metrics are on the runs already.
    if (e.empty() || columns.count(e) || e.rfind("natural_", 0) == 0 || !done.insert(e).second) continue;
    fill(where, "SELECT run_key, (" + e + ") FROM results", e);
  }
  for (const auto& [where, q] : needed) {
    fill(where, "SELECT run_key, value FROM (" + q->sql + ")", "sql:" + q->sql);
  }
}

PaperResult evaluate_paper(const PaperSpec& spec, const std::vector<RunRow>& runs) {
  PaperResult r;
  r.spec = &spec;
  Evaluator ev(spec, runs);
  r.cells = ev.cells();
  for (const auto& t : spec.tables) {
    TableResult tr;
    tr.spec = &t;
    for (const auto& row : t.rows) {
      std::vector<Outcome> line;
      for (const auto& col : t.columns) {
        line.push_back(ev.table_cell(t, row, col));
        ++r.verdict_counts[verdict_name(line.back().verdict)];
      }
      tr.grid.push_back(std::move(line));
    }
    r.tables.push_back(std::move(tr));
  }
  for (const auto& c : spec.claims) {
    std::vector<std::pair<std::string, std::vector<const Cell*>>> scopes;
    if (c.for_each.empty()) {
      scopes.emplace_back("", ev.all());
    } else {
      // One scope per combination of for_each values among the cells the claim touches.
      std::map<std::string, std::vector<const Cell*>> by_scope;
      for (const Cell* cell : ev.all()) {
        std::string scope;
        bool has_all = true;
        for (const auto& k : c.for_each) {
          const auto it = cell->config.find(k);
          if (it == cell->config.end()) {
            has_all = false;
            break;
          }
          scope += (scope.empty() ? "" : ", ");
          scope += k + "=" + it->second.str();
        }
        if (has_all) by_scope[scope].push_back(cell);
      }
      for (auto& [scope, cells] : by_scope) {
        const bool touched = std::any_of(cells.begin(), cells.end(), [&](const Cell* cell) {
          return (c.subject.sql.empty() && matches(*cell, c.subject.where)) ||
                 (c.baseline && matches(*cell, c.baseline->where));
        });
        if (touched) scopes.emplace_back(scope, cells);
      }
      if (scopes.empty()) scopes.emplace_back("", ev.all());
    }
    for (const auto& [scope, pool] : scopes) {
      ClaimResult cr;
      cr.spec = &c;
      cr.scope = scope;
      cr.outcome = ev.claim(c, pool);
      ++r.verdict_counts[verdict_name(cr.outcome.verdict)];
      r.claims.push_back(std::move(cr));
    }
  }
  return r;
}

}  // namespace ternbench::reports
