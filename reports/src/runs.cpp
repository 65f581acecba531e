#include "ternbench/reports/runs.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"

namespace ternbench::reports {

Value Value::of(double v) {
  Value x;
  if (std::isnan(v)) return x;
  x.kind = Kind::kNumber;
  x.number = v;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  x.text = buf;
  return x;
}

Value Value::of_text(std::string s) {
  Value x;
  x.kind = Kind::kText;
  x.text = std::move(s);
  return x;
}

Value Value::of_bool(bool b) {
  Value x;
  x.kind = Kind::kBool;
  x.number = b ? 1 : 0;
  x.text = b ? "true" : "false";
  return x;
}

std::string Value::str() const { return kind == Kind::kNull ? std::string() : text; }

bool operator==(const Value& a, const Value& b) {
  if (a.kind != b.kind) {
    // A TOML bool compared with SQLite's 0/1.
    const bool numeric_a = a.kind == Value::Kind::kNumber || a.kind == Value::Kind::kBool;
    const bool numeric_b = b.kind == Value::Kind::kNumber || b.kind == Value::Kind::kBool;
    return numeric_a && numeric_b && a.number == b.number;
  }
  switch (a.kind) {
    case Value::Kind::kNull: return true;
    case Value::Kind::kText: return a.text == b.text;
    default: return a.number == b.number;
  }
}

std::optional<double> RunRow::metric(const std::string& name) const {
  const auto it = metrics.find(name);
  if (it == metrics.end() || it->second.kind == Value::Kind::kNull || it->second.kind == Value::Kind::kText)
    return std::nullopt;
  return it->second.number;
}

std::map<std::string, Value> parse_canonical_toml(const std::string& text, const std::string& origin) {
  std::map<std::string, Value> out;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '[' || line[0] == '#') continue;
    const auto eq = line.find(" = ");
    if (eq == std::string::npos)
      throw ConfigError(origin, "", line_no, "not a `key = value` line of a canonical config: " + line);
    const std::string key = line.substr(0, eq);
    const std::string v = line.substr(eq + 3);
    if (v == "true" || v == "false") {
      out[key] = Value::of_bool(v == "true");
    } else if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
      // Canonical strings only escape quotes and backslashes in practice (names, paths).
      std::string s;
      for (std::size_t i = 1; i + 1 < v.size(); ++i) {
        if (v[i] == '\\' && i + 2 < v.size()) ++i;
        s += v[i];
      }
      out[key] = Value::of_text(s);
    } else if (!v.empty() && v.front() == '[') {
      out[key] = Value::of_text(v);
    } else {
      double d = 0;
      const auto res = std::from_chars(v.data(), v.data() + v.size(), d);
      if (res.ec != std::errc() || res.ptr != v.data() + v.size())
        throw ConfigError(origin, key, line_no, "cannot read value `" + v + "` of a canonical config");
      out[key] = Value::of(d);
      out[key].text = v;
    }
  }
  return out;
}

std::string cell_key_of(const std::string& canonical_toml, const SourceLookup& source_of) {
  std::string out;
  std::istringstream in(canonical_toml);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("seed = ", 0) == 0) continue;
    // Each seed's run starts from the source of its own seed: the cell is the source's
    // cell, not its run key.
    constexpr std::string_view kInit = "init_from = \"";
    if (source_of && line.rfind(kInit, 0) == 0 && line.size() > kInit.size() + 1) {
      const std::string key = line.substr(kInit.size(), line.size() - kInit.size() - 1);
      if (const std::string source = source_of(key); !source.empty()) {
        out.append("init_from = \"cell ").append(cell_id(cell_key_of(source, source_of))).append("\"\n");
        continue;
      }
    }
    out.append(line).append("\n");
  }
  return out;
}

std::string cell_id(const std::string& cell_key) { return sha256_hex(cell_key).substr(0, 8); }

}  // namespace ternbench::reports
