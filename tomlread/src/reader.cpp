#include "ternbench/tomlread/reader.hpp"

#include <algorithm>

#include "ternbench/base/error.hpp"
#include "ternbench/base/format.hpp"

namespace ternbench::tomlread {

toml::table parse(std::string_view text, const std::string& file) {
  try {
    return toml::parse(text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    std::string what(e.description());
    std::replace(what.begin(), what.end(), '\n', ' ');  // the error promise is one line
    throw ConfigError(file, "", static_cast<int>(e.source().begin.line), "TOML syntax error: " + what);
  }
}

int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }
int line_of(const toml::key& key) { return static_cast<int>(key.source().begin.line); }

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "list";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

void reject_unknown_keys(const toml::table& t, const std::string& file, const std::string& path,
                         const std::vector<std::string>& valid,
                         const std::function<std::string(const std::string&)>& hint) {
  // toml::table iterates in key order; report the unknown key that comes first in the file.
  const toml::key* first = nullptr;
  for (auto&& [k, v] : t) {
    (void)v;
    if (std::find(valid.begin(), valid.end(), std::string(k.str())) != valid.end()) continue;
    if (!first || line_of(k) < line_of(*first)) first = &k;
  }
  if (!first) return;
  const std::string key(first->str());
  std::vector<std::string> sorted = valid;
  std::sort(sorted.begin(), sorted.end());
  std::string msg = "unknown key; ";
  if (const std::string guess = closest(key, sorted); !guess.empty()) msg += "did you mean \"" + guess + "\"? ";
  if (hint) {
    if (const std::string h = hint(key); !h.empty()) msg += h + "; ";
  }
  msg += "valid keys: " + join(sorted, ", ");
  throw ConfigError(file, path.empty() ? key : path + "." + key, line_of(*first), msg);
}

const toml::table* sub_table(const toml::table& root, const std::string& key, const std::string& file) {
  const toml::node* node = root.get(key);
  if (!node) return nullptr;
  if (const auto* t = node->as_table()) return t;
  throw ConfigError(file, key, line_of(*node), "expected a table ([" + key + "]), got " + std::string(type_name(*node)));
}

Reader::Reader(const toml::table& t, std::string file, std::string path)
    : t_(t), file_(std::move(file)), path_(std::move(path)) {}

void Reader::fail(const std::string& key, const toml::node* n, const std::string& what) const {
  throw ConfigError(file_, key_path(key), n ? line_of(*n) : line_of(t_), what);
}

std::string Reader::key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

const toml::node* Reader::get(const std::string& key) {
  read_.insert(key);
  return t_.get(key);
}

std::string Reader::text(const std::string& key, bool required, const std::string& fallback) {
  const toml::node* n = get(key);
  if (!n) {
    if (required) fail(key, nullptr, "missing key; add `" + key + " = \"...\"`");
    return fallback;
  }
  if (!n->is_string()) fail(key, n, "must be a string");
  return n->as_string()->get();
}

double Reader::number(const std::string& key, double fallback, bool* present) {
  const toml::node* n = get(key);
  if (present) *present = n != nullptr;
  if (!n) return fallback;
  if (n->is_integer()) return static_cast<double>(n->as_integer()->get());
  if (!n->is_floating_point()) fail(key, n, "must be a number");
  return n->as_floating_point()->get();
}

int Reader::integer(const std::string& key, int fallback, int lo) {
  const toml::node* n = get(key);
  if (!n) return fallback;
  if (!n->is_integer()) fail(key, n, "must be an integer");
  const auto v = n->as_integer()->get();
  if (v < lo) fail(key, n, "must be >= " + std::to_string(lo));
  return static_cast<int>(v);
}

std::string Reader::choice(const std::string& key, const std::vector<std::string>& options,
                           const std::string& fallback) {
  const std::string v = text(key, fallback.empty(), fallback);
  if (std::find(options.begin(), options.end(), v) == options.end()) {
    std::string msg = "\"" + v + "\" is not one of: " + join(options, ", ");
    if (const std::string guess = closest(v, options); !guess.empty()) msg += "; did you mean \"" + guess + "\"?";
    fail(key, get(key), msg);
  }
  return v;
}

std::vector<std::string> Reader::strings(const std::string& key) {
  std::vector<std::string> out;
  const toml::node* n = get(key);
  if (!n) return out;
  const toml::array* a = n->as_array();
  if (!a) fail(key, n, "must be a list of strings");
  for (const auto& e : *a) {
    if (!e.is_string()) fail(key, &e, "must be a list of strings");
    out.push_back(e.as_string()->get());
  }
  return out;
}

const toml::table* Reader::table(const std::string& key) {
  const toml::node* n = get(key);
  if (!n) return nullptr;
  if (!n->is_table()) fail(key, n, "must be a table, e.g. " + key + " = { method = \"fp\" }");
  return n->as_table();
}

const toml::array* Reader::array_of_tables(const std::string& key) {
  const toml::node* n = get(key);
  if (!n) return nullptr;
  if (!n->is_array_of_tables()) fail(key, n, "must be written as [[" + key_path(key) + "]] sections");
  return n->as_array();
}

void Reader::reject_unknown() const {
  reject_unknown_keys(t_, file_, path_, std::vector<std::string>(read_.begin(), read_.end()));
}

}  // namespace ternbench::tomlread
