// Reads paper specs (experiments/papers/*.toml). The spec is data about reports, so its
// reading lives with the reports; tb::tomlread gives it the sweep file's rules: unknown
// keys, wrong types and bad values are errors naming the file, line and key path.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "ternbench/base/error.hpp"
#include "ternbench/reports/paper.hpp"
#include "ternbench/tomlread/reader.hpp"

namespace ternbench::reports {
namespace {

using tomlread::Reader;

Value scalar(const toml::node& n, const Reader& r, const std::string& key) {
  if (n.is_string()) return Value::of_text(n.as_string()->get());
  if (n.is_integer()) return Value::of(static_cast<double>(n.as_integer()->get()));
  if (n.is_floating_point()) return Value::of(n.as_floating_point()->get());
  if (n.is_boolean()) return Value::of_bool(n.as_boolean()->get());
  r.fail(key, &n, "must be a string, number, boolean or a list of them");
}

Filter read_filter(Reader& r, const std::string& key) {
  Filter f;
  const toml::table* t = r.table(key);
  if (!t) return f;
  for (auto&& [k, v] : *t) {
    const std::string name(k.str());
    const std::string path = key + "." + name;
    if (const toml::array* a = v.as_array()) {
      if (a->empty()) r.fail(path, &v, "an empty list matches nothing; remove the key or list values");
      for (const auto& e : *a) f[name].push_back(scalar(e, r, path));
    } else {
      f[name].push_back(scalar(v, r, path));
    }
  }
  return f;
}

const std::vector<std::string> kSelect = {"only", "max", "min"};

Query read_query(Reader& r, bool need_metric) {
  Query q;
  q.where = read_filter(r, "where");
  q.metric = r.text("metric", false);
  q.sql = r.text("sql", false);
  q.select = r.choice("select", kSelect, "only");
  if (!q.sql.empty() && (!q.metric.empty() || !q.where.empty()))
    r.fail("sql", r.get("sql"), "give either sql or where + metric, not both");
  if (need_metric && q.sql.empty() && q.metric.empty())
    r.fail("metric", nullptr, "missing key; add `metric = \"test_acc\"` (a SQL expression over the results view) or `sql = \"SELECT run_key, ... AS value FROM results ...\"`");
  return q;
}

Reference read_reference(Reader& r) {
  Reference ref;
  bool has_value = false;
  ref.value = r.number("value", 0, &has_value);
  if (!has_value) r.fail("value", nullptr, "missing key; add `value = <the published number>`");
  ref.tolerance = r.number("tolerance", 0);
  if (ref.tolerance < 0) r.fail("tolerance", r.get("tolerance"), "must be >= 0");
  ref.source = r.text("source", true);
  return ref;
}

TableAxis read_axis(const toml::table& t, const std::string& file, const std::string& path) {
  Reader r(t, file, path);
  TableAxis a;
  a.label = r.text("label", true);
  a.where = read_filter(r, "where");
  a.metric = r.text("metric", false);
  a.best = r.text("best", false);
  if (!a.best.empty() && a.best != "max" && a.best != "min" && a.best != "none")
    r.fail("best", r.get("best"), "must be \"max\", \"min\" or \"none\" (which value the LaTeX table sets in bold)");
  r.reject_unknown();
  return a;
}

TableSpec read_table(const toml::table& t, const std::string& file, const std::string& path) {
  Reader r(t, file, path);
  TableSpec s;
  s.id = r.text("id", true);
  s.title = r.text("title", true);
  s.base = read_query(r, false);
  if (!s.base.sql.empty()) r.fail("sql", r.get("sql"), "a table takes where + metric; put SQL queries in [[claim]] entries");
  s.decimals = r.integer("decimals", 2, 0);
  s.best = r.choice("best", {"max", "min", "none"}, "none");
  for (const char* axis : {"row", "column"}) {
    const toml::array* a = r.array_of_tables(axis);
    if (!a || a->empty()) r.fail(axis, nullptr, std::string("missing; add at least one [[") + path + "." + axis + "]] with a label and where");
    int i = 0;
    for (const auto& e : *a) {
      auto& list = std::string(axis) == "row" ? s.rows : s.columns;
      list.push_back(read_axis(*e.as_table(), file, path + "." + axis + "[" + std::to_string(i++) + "]"));
    }
  }
  for (const auto& row : s.rows)
    for (const auto& col : s.columns)
      if (s.base.metric.empty() && row.metric.empty() && col.metric.empty())
        r.fail("metric", nullptr, "missing for row \"" + row.label + "\", column \"" + col.label + "\"; set metric on the table, its rows or its columns");
  if (const toml::array* refs = r.array_of_tables("reference")) {
    int i = 0;
    for (const auto& e : *refs) {
      Reader rr(*e.as_table(), file, path + ".reference[" + std::to_string(i++) + "]");
      const std::string row = rr.text("row", true), col = rr.text("column", true);
      const bool row_ok = std::any_of(s.rows.begin(), s.rows.end(), [&](const TableAxis& a) { return a.label == row; });
      const bool col_ok = std::any_of(s.columns.begin(), s.columns.end(), [&](const TableAxis& a) { return a.label == col; });
      if (!row_ok) rr.fail("row", rr.get("row"), "no row is labelled \"" + row + "\"");
      if (!col_ok) rr.fail("column", rr.get("column"), "no column is labelled \"" + col + "\"");
      s.references[{row, col}] = read_reference(rr);
      rr.reject_unknown();
    }
  }
  r.reject_unknown();
  return s;
}

ClaimSpec read_claim(const toml::table& t, const std::string& file, const std::string& path) {
  Reader r(t, file, path);
  ClaimSpec c;
  c.id = r.text("id", true);
  c.text = r.text("text", true);
  c.source = r.text("source", false);
  c.kind = r.choice("kind", {"value", "monotone", "within", "at_least"}, "");
  c.subject = read_query(r, true);
  c.for_each = r.strings("for_each");
  c.decimals = r.integer("decimals", 2, 0);
  if (c.kind == "monotone") {
    c.x = r.text("x", true);
    c.direction = r.choice("direction", {"increasing", "decreasing"}, "increasing");
    c.min_spearman = r.number("min_spearman", 1.0);
    if (c.min_spearman < -1 || c.min_spearman > 1) r.fail("min_spearman", r.get("min_spearman"), "must be in [-1, 1]");
  }
  if (c.kind == "within" || c.kind == "at_least") {
    const toml::table* b = r.table("baseline");
    if (!b) r.fail("baseline", nullptr, "missing; add baseline = { where = { method = \"fp\" } }");
    Reader br(*b, file, path + ".baseline");
    Query q = read_query(br, false);
    if (q.metric.empty() && q.sql.empty()) q.metric = c.subject.metric;
    if (!q.sql.empty() || !c.subject.sql.empty())
      br.fail("sql", nullptr, "within and at_least claims compare where + metric queries; use kind = \"value\" with sql");
    br.reject_unknown();
    c.baseline = q;
    c.match = r.text("match", false);
    if (c.kind == "within") {
      bool present = false;
      c.max_gap = r.number("max_gap", 0, &present);
      if (!present) r.fail("max_gap", nullptr, "missing; add max_gap = <largest allowed shortfall against the baseline>");
    } else {
      c.margin = r.number("margin", 0);
    }
  }
  if (c.kind == "value") {
    bool has_above = false, has_below = false;
    const double above = r.number("above", 0, &has_above), below = r.number("below", 0, &has_below);
    if (has_above) c.above = above;
    if (has_below) c.below = below;
    if (const toml::table* ref = r.table("reference")) {
      Reader rr(*ref, file, path + ".reference");
      c.reference = read_reference(rr);
      rr.reject_unknown();
    }
  }
  r.reject_unknown();
  return c;
}

}  // namespace

PaperSpec parse_paper_spec(const std::string& text, const std::string& file) {
  const toml::table root = tomlread::parse(text, file);
  Reader top(root, file, "");
  const toml::table* paper = top.table("paper");
  if (!paper) throw ConfigError(file, "paper", 1, "missing [paper] table with name, title, sweep");
  PaperSpec s;
  s.file = file;
  Reader p(*paper, file, "paper");
  s.name = p.text("name", true);
  s.title = p.text("title", true);
  s.source = p.text("source", false);
  s.description = p.text("description", false);
  s.sweep = p.text("sweep", true);
  s.smoke_sweep = p.text("smoke_sweep", false);
  s.min_seeds = p.integer("min_seeds", 3, 1);
  s.smoke_min_seeds = p.integer("smoke_min_seeds", 1, 1);
  p.reject_unknown();
  std::set<std::string> ids;
  auto unique_id = [&](const std::string& id, const std::string& path) {
    if (!ids.insert(id).second) throw ConfigError(file, path + ".id", 0, "duplicate id \"" + id + "\"; ids must be unique");
  };
  if (const toml::array* tables = top.array_of_tables("table")) {
    int i = 0;
    for (const auto& t : *tables) {
      const std::string path = "table[" + std::to_string(i++) + "]";
      s.tables.push_back(read_table(*t.as_table(), file, path));
      unique_id(s.tables.back().id, path);
    }
  }
  if (const toml::array* claims = top.array_of_tables("claim")) {
    int i = 0;
    for (const auto& t : *claims) {
      const std::string path = "claim[" + std::to_string(i++) + "]";
      s.claims.push_back(read_claim(*t.as_table(), file, path));
      unique_id(s.claims.back().id, path);
    }
  }
  if (s.tables.empty() && s.claims.empty())
    throw ConfigError(file, "", 1, "the spec declares nothing; add [[table]] or [[claim]] entries");
  top.reject_unknown();
  return s;
}

PaperSpec load_paper_spec(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    // A mistyped name: list the specs that do exist beside it.
    const std::filesystem::path dir = std::filesystem::path(path).parent_path().empty() ? "." : std::filesystem::path(path).parent_path();
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".toml") names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw ConfigError(path, "", 0,
                      known.empty() ? "cannot read the paper spec; check the path (specs live in experiments/papers/)"
                                    : "no such paper spec; the specs in " + dir.string() + "/ are: " + known);
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_paper_spec(ss.str(), path);
}

std::string paper_spec_path(const std::string& name, const std::string& papers_dir) {
  if (name.size() > 5 && name.substr(name.size() - 5) == ".toml") return name;
  return (std::filesystem::path(papers_dir) / (name + ".toml")).string();
}

}  // namespace ternbench::reports
