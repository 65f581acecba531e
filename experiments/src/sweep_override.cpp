// `key=value` overrides: each value is put into the parsed sweep file, where the file's own
// checks then read it, so an override is refused exactly when the same edit of the file
// would be; only the error is renamed to name the override.
#include "sweep_override.hpp"

#include <algorithm>

#include "params_internal.hpp"
#include "sweep_grid.hpp"
#include "ternbench/experiments/sweep.hpp"

namespace ternbench::experiments::detail {
namespace {

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw ConfigError(kCommandLine, where, 0, what);
}

// Splits at the commas outside brackets, parentheses (a layer's options: conv(16, kernel=5))
// and quotes; nullopt when the brackets do not pair.
std::optional<std::vector<std::string>> split_top(std::string_view s) {
  std::vector<std::string> parts(1);
  int depth = 0;
  char quote = 0;
  for (const char c : s) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '(') {
      ++depth;
    } else if (c == ']' || c == ')') {
      if (--depth < 0) return std::nullopt;
    } else if (c == ',' && depth == 0) {
      parts.emplace_back();
      continue;
    }
    parts.back() += c;
  }
  if (depth != 0 || quote) return std::nullopt;
  return parts;
}

// Appends a copy of node: copies carry no line, so an error names the override, not line 1
// of the text it was parsed from.
void push_copy(toml::array& out, const toml::node& node) {
  node.visit([&out](const auto& n) { out.push_back(n); });
}

void push_value(toml::array& out, const std::string& text, const std::string& where) {
  const std::string t = trim(text);
  if (t.empty()) fail(where, "no value after '='; write key=value, e.g. train.epochs=5");
  if (t.find_first_of("\r\n") != std::string::npos) fail(where, "a value is one line");
  try {
    const toml::table doc = toml::parse("v = " + t);
    if (doc.size() == 1 && doc.get("v")) {
      push_copy(out, *doc.get("v"));
      return;
    }
  } catch (const toml::parse_error&) {
    // Not TOML: a list or a string written without quotes, as shells make typing them easy.
  }
  if (t.front() == '[') {
    const auto parts = t.back() == ']' ? split_top(std::string_view(t).substr(1, t.size() - 2)) : std::nullopt;
    if (!parts)
      fail(where, "bad list: its brackets or quotes do not pair; write a list as [1,2,3] or [fp,twn] and quote "
                  "the override for the shell: 'train.seed=[1,2,3]'");
    toml::array list;
    for (std::size_t i = 0; i < parts->size(); ++i) {
      if (trim((*parts)[i]).empty())
        fail(where, "bad list: value " + std::to_string(i) + " is empty; separate the values by single commas");
      push_value(list, (*parts)[i], where);
    }
    out.push_back(std::move(list));
    return;
  }
  if (t.front() == '"' || t.front() == '\'' || t.front() == '{' || t.front() == ']')
    fail(where, "not a TOML value: " + t + "; a string may be written with or without quotes (method=fp)");
  out.push_back(t);
}

}  // namespace

std::string message_of(const ConfigError& e) {
  std::string head = e.file();
  if (e.line() > 0) head.append(":").append(std::to_string(e.line()));
  head.append(": ");
  if (!e.key_path().empty()) head.append(e.key_path()).append(": ");
  const std::string what = e.what();
  return what.rfind(head, 0) == 0 ? what.substr(head.size()) : what;
}

toml::array parse_values(const std::string& text, const std::string& where, bool as_list) {
  toml::array out;
  if (!as_list) {
    push_value(out, text, where);
    return out;
  }
  std::string t = trim(text);
  if (t.size() >= 2 && t.front() == '[' && t.back() == ']') t = t.substr(1, t.size() - 2);
  const auto parts = split_top(t);
  if (!parts) fail(where, "bad list: its brackets or quotes do not pair; write the values as a,b,c");
  for (const std::string& part : *parts) {
    if (trim(part).empty()) fail(where, "empty value; write the values as a,b,c separated by single commas");
    push_value(out, part, where);
  }
  return out;
}

namespace {

[[noreturn]] void fail_at(const AppliedOverride& where, const std::string& what) {
  throw ConfigError(where.file, where.key, where.line, what);
}

// A key of a zip cannot be replaced alone: the zip's lists must keep one length.
void refuse_zipped(const toml::table& owner, const std::string& owner_path, const std::string& key,
                   const AppliedOverride& where, const std::string& file) {
  const toml::node* zip = owner.get("zip");
  if (!zip) return;
  std::vector<std::pair<const toml::table*, std::string>> zips;
  if (const auto* t = zip->as_table()) zips.emplace_back(t, owner_path + ".zip");
  if (const auto* list = zip->as_array())
    for (std::size_t i = 0; i < list->size(); ++i)
      if (const auto* t = list->get(i)->as_table()) zips.emplace_back(t, owner_path + ".zip[" + std::to_string(i) + "]");
  for (const auto& [t, path] : zips) {
    if (const toml::node* n = t->get(key))
      fail_at(where, key + " is in " + path + " (" + file + " line " + std::to_string(tomlread::line_of(*n)) +
                         "), whose lists move together; an override cannot replace one list of a zip: edit the zip "
                         "in the file");
  }
}

// Sets table.name = value in root as an edit of the file would, value holding for every
// run: under [train] it also replaces the key in each block that sets it.
void apply_one(toml::table& root, const std::string& table, const std::string& name, const toml::node& value,
               const AppliedOverride& where, const std::string& file) {
  if (!root.get(table)) root.insert(table, toml::table{});
  toml::table* t = root.get(table)->as_table();
  if (t == nullptr) return;  // the file's own checks refuse a [train] that is no table
  if (table == "train") {
    refuse_zipped(*t, "train", name, where, file);
    if (auto* blocks = t->get("block"); blocks && blocks->as_array()) {
      auto& list = *blocks->as_array();
      for (std::size_t b = 0; b < list.size(); ++b) {
        auto* block = list.get(b)->as_table();
        if (block == nullptr) continue;  // refused by the file's checks
        refuse_zipped(*block, "train.block[" + std::to_string(b) + "]", name, where, file);
        block->erase(name);
      }
    }
  }
  // A copy carries no line: an error on it can only be renamed, never point into the file.
  value.visit([&](const auto& n) { t->insert_or_assign(name, n); });
}

}  // namespace

std::vector<AppliedOverride> apply_overrides(toml::table& root, const std::vector<std::string>& overrides,
                                             const std::string& file) {
  const auto sweep_names = names_of(sweep_params());
  std::vector<AppliedOverride> applied;
  for (const std::string& text : overrides) {
    const auto eq = text.find('=');
    const std::string key = eq == std::string::npos ? "" : trim(std::string_view(text).substr(0, eq));
    if (key.empty()) fail(text, "expected key=value, e.g. train.epochs=5 or 'train.seed=[1,2,3]'");
    std::string table = "train", name = key;
    if (const auto dot = key.find('.'); dot != std::string::npos) {
      table = key.substr(0, dot);
      name = key.substr(dot + 1);
    } else if (std::find(sweep_names.begin(), sweep_names.end(), key) != sweep_names.end()) {
      table = "sweep";
    }
    if (table != "train" && table != "sweep")
      fail(text, "\"" + table + "\" is not a table of a sweep file; an override sets a key of [train] or [sweep]: "
                     "train.KEY=VALUE (or KEY=VALUE) or sweep.KEY=VALUE");
    if (name.empty() || name.find_first_of(".[]") != std::string::npos || name == "zip" || name == "block")
      fail(text, "an override sets one key of [train] or [sweep]; the keys of zips, blocks and init_from tables "
                 "are changed in the file");
    const toml::array value = parse_values(text.substr(eq + 1), text, /*as_list=*/false);
    applied.push_back({table + "." + name, kCommandLine, text, 0});
    apply_one(root, table, name, *value.get(0), applied.back(), file);
  }
  return applied;
}

std::vector<AppliedOverride> apply_set_file(toml::table& root, const toml::table& set, const std::string& set_file,
                                            const std::string& file) {
  tomlread::reject_unknown_keys(set, set_file, "", {"sweep", "train"});
  std::vector<AppliedOverride> applied;
  for (const std::string table : {"sweep", "train"}) {
    const toml::table* t = tomlread::sub_table(set, table, set_file);
    if (t == nullptr) continue;
    for (auto&& [k, v] : *t) {
      const std::string name(k.str());
      const std::string path = table + "." + name;
      if (name == "zip" || name == "block")
        throw ConfigError(set_file, path, tomlread::line_of(k),
                          "a set file changes single keys of [train] and [sweep]; zips and blocks are written in "
                          "the sweep file");
      applied.push_back({path, set_file, path, tomlread::line_of(v)});
      apply_one(root, table, name, v, applied.back(), file);
    }
  }
  return applied;
}

void rethrow_for_override(const ConfigError& e, const std::vector<AppliedOverride>& applied) {
  // The key the error is about, as an override names it: "train.block[2].seed[1]" -> "train.seed".
  std::string path = e.key_path();
  const std::string block = "train.block[";
  if (path.rfind(block, 0) == 0) {
    const auto close = path.find("].", block.size());
    if (close != std::string::npos) path = "train." + path.substr(close + 2);
  }
  const std::string full = path;
  if (const auto dot = path.find('.'); dot != std::string::npos) path = path.substr(0, path.find_first_of(".[", dot + 1));
  for (auto it = applied.rbegin(); it != applied.rend(); ++it) {
    if (it->path != path) continue;
    if (it->file != kCommandLine) throw ConfigError(it->file, full, it->line, message_of(e));
    // An element of a list keeps its index: "command line: seed=[1,x]: train.seed[1]: ...".
    std::string what = message_of(e);
    if (full != it->path) what = full + ": " + what;
    throw ConfigError(kCommandLine, it->key, 0, what);
  }
  throw e;
}

}  // namespace ternbench::experiments::detail
