// Reading one grid of a sweep file: the [train] table, or one [[train.block]] entry over
// the shared [train] keys, with its zips and its init_from table (sweep.cpp expands it).
#include "sweep_grid.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "ternbench/base/error.hpp"
#include "ternbench/tomlread/reader.hpp"

namespace ternbench::experiments::detail {

std::vector<std::string> names_of(const std::vector<ParamInfo>& params) {
  std::vector<std::string> names;
  for (const auto& p : params) names.push_back(p.name);
  return names;
}

std::size_t param_index(const std::string& name) {
  const auto& defs = detail::train_param_defs();
  for (std::size_t i = 0; i < defs.size(); ++i)
    if (defs[i].info.name == name) return i;
  throw Error("no train parameter named " + name);  // a broken table, not a user error
}

namespace {

// A [train.zip] table (or one entry of [[train.zip]]) as found in the file.
struct ZipTable {
  toml::table* table = nullptr;
  std::string path;  // "train.zip", "train.block[1].zip[0]"
};

// The keys of a table in file order (toml::table iterates sorted by name).
std::vector<std::string> keys_in_file_order(const toml::table& t) {
  std::vector<std::pair<int, std::string>> keyed;
  for (auto&& [k, v] : t) keyed.emplace_back(tomlread::line_of(v), std::string(k.str()));
  std::stable_sort(keyed.begin(), keyed.end());
  std::vector<std::string> keys;
  for (auto& [line, k] : keyed) keys.push_back(std::move(k));
  return keys;
}

// Reads a table-valued init_from of t (a string value, a run key, is for the parameter
// table to read). Each key of the table takes one value: a source is one run.
std::optional<InitFromTable> read_init_from(const toml::table& t, const std::string& path, const std::string& file) {
  const toml::node* node = t.get("init_from");
  if (node == nullptr || !node->is_table()) return std::nullopt;
  const toml::table& table = *node->as_table();
  const auto& defs = detail::train_param_defs();
  tomlread::reject_unknown_keys(table, file, path, names_of(train_params()));
  if (table.empty()) {
    throw ConfigError(file, path, tomlread::line_of(*node),
                      "empty table; give the keys in which the source run differs from this one, e.g. "
                      "init_from = { method = \"fp\" }");
  }
  InitFromTable out;
  out.path = path;
  out.line = tomlread::line_of(*node);
  for (const std::string& key : keys_in_file_order(table)) {
    const toml::node& value = *table.get(key);
    const std::size_t i = param_index(key);
    const ParamType type = defs[i].info.type;
    const bool list_type = type == ParamType::kIntList || type == ParamType::kStringList;
    if (key == "init_from" && value.is_table())
      throw ConfigError(file, path + "." + key, tomlread::line_of(value),
                        "a source given as a table cannot itself take a table; give its init_from as a run key");
    if (value.is_array() && (!list_type || (!value.as_array()->empty() && value.as_array()->get(0)->is_array())))
      throw ConfigError(file, path + "." + key, tomlread::line_of(value),
                        "the source is one run, so each of its keys takes one value, not a list");
    out.overrides.emplace_back(i, detail::read_value(value, defs[i], path + "." + key, file));
  }
  return out;
}

// [train.zip] is one zip; [[train.zip]] is several, each its own axis.
std::vector<ZipTable> zip_tables(toml::table& owner, const std::string& owner_path, const std::string& file) {
  toml::node* node = owner.get("zip");
  if (!node) return {};
  const std::string path = owner_path + ".zip";
  if (auto* t = node->as_table()) return {{t, path}};
  auto* list = node->as_array();
  if (list == nullptr || list->empty() || !list->is_array_of_tables()) {
    throw ConfigError(file, path, tomlread::line_of(*node),
                      "expected a table [" + path + "] or tables [[" + path + "]], got " +
                          std::string(tomlread::type_name(*node)));
  }
  std::vector<ZipTable> out;
  for (std::size_t i = 0; i < list->size(); ++i)
    out.push_back({list->get(i)->as_table(), path + "[" + std::to_string(i) + "]"});
  return out;
}

// A zip holds one list per key, all of the same length; a list-valued key (layers,
// lr_milestones) takes a list of lists, one list per run.
void check_zip(const ZipTable& z, const std::string& file) {
  const auto& defs = detail::train_param_defs();
  tomlread::reject_unknown_keys(*z.table, file, z.path, names_of(train_params()));
  if (z.table->empty()) {
    throw ConfigError(file, z.path, tomlread::line_of(*z.table),
                      "empty zip; give two or more keys with lists of the same length");
  }
  std::string first;
  std::size_t length = 0;
  int first_line = 0;
  for (const std::string& key : keys_in_file_order(*z.table)) {
    const toml::node& node = *z.table->get(key);
    const std::string path = z.path + "." + key;
    const auto* list = node.as_array();
    if (list == nullptr) {
      throw ConfigError(file, path, tomlread::line_of(node),
                        "a zip takes a list of values per key, got " + std::string(tomlread::type_name(node)) +
                            "; write " + key + " = [...] or move the key out of the zip");
    }
    if (list->empty())
      throw ConfigError(file, path, tomlread::line_of(node), "empty list; a zip needs one value per run");
    const ParamType type = defs[param_index(key)].info.type;
    if ((type == ParamType::kIntList || type == ParamType::kStringList) && !list->get(0)->as_array()) {
      throw ConfigError(file, path, tomlread::line_of(node),
                        "in a zip a list-valued key takes a list of lists, one per run; write " + key +
                            " = [[...], [...]]");
    }
    if (first.empty()) {
      first = key;
      length = list->size();
      first_line = tomlread::line_of(node);
    } else if (list->size() != length) {
      throw ConfigError(file, path, tomlread::line_of(node),
                        "has " + std::to_string(list->size()) + " values but " + first + " (line " +
                            std::to_string(first_line) + ") has " + std::to_string(length) +
                            "; every list of a zip must have the same length");
    }
  }
}

// Moves a node into t under key. Moving keeps the node's source position (a copy would
// lose it), so errors raised on t still name the line in the file.
void move_into(toml::table& t, const std::string& key, toml::node& node) {
  t.insert_or_assign(key, std::move(node));
}

// "train.lr[2]" as named on the merged table, renamed to where the key is in the file
// ("train.block[1].lr[2]"). where maps a key to its table's path; "train" needs no change.
std::string path_in_file(const std::string& path, const std::map<std::string, std::string>& where) {
  const std::string prefix = "train.";
  if (path.rfind(prefix, 0) != 0) return path;
  const std::string rest = path.substr(prefix.size());
  const auto it = where.find(rest.substr(0, rest.find_first_of("[.")));
  if (it == where.end() || it->second == "train") return path;
  return it->second + "." + rest;
}

// An error raised on the merged table, renamed as path_in_file() does.
[[noreturn]] void rethrow_at(const ConfigError& e, const std::map<std::string, std::string>& where) {
  const std::string& path = e.key_path();
  const std::string renamed = path_in_file(path, where);
  if (renamed == path) throw e;
  // The message part follows "<file>:<line>: <key path>: ", as ConfigError composes it.
  std::string head = e.file();
  if (e.line() > 0) head.append(":").append(std::to_string(e.line()));
  head.append(": ").append(path).append(": ");
  const std::string what = e.what();
  if (what.rfind(head, 0) != 0) throw e;
  throw ConfigError(e.file(), renamed, e.line(), what.substr(head.size()));
}

}  // namespace

// Nodes are moved out of root into one merged table that read_train_table() checks, since
// moving keeps their lines (a copy would not), and are moved back once the grid is read,
// so that one parsed file serves every block. (Parsing it again for each block made a file
// of 2,000 one-line blocks take 26 s.)
Grid read_grid(toml::table& root, const std::string& file, std::optional<std::size_t> block) {
  toml::table& base = *root.get("train")->as_table();
  std::map<std::string, std::string> where;  // key -> path of the table that gives it
  std::map<std::string, toml::table*> owner;  // key -> the table its node in merged came from
  std::map<std::string, int> line_of_key;
  std::vector<std::vector<std::string>> zip_keys;
  toml::table merged;
  const auto give_back = [&](const std::string& key) {
    move_into(*owner.at(key), key, *merged.get(key));
    merged.erase(key);
  };
  Grid grid;
  grid.line = tomlread::line_of(base);

  std::vector<std::pair<toml::table*, std::string>> levels = {{&base, "train"}};
  toml::table* block_table = nullptr;
  if (block) {
    auto* list = base.get("block")->as_array();
    block_table = list->get(*block)->as_table();
    levels.emplace_back(block_table, "train.block[" + std::to_string(*block) + "]");
    grid.line = tomlread::line_of(*block_table);
  }
  for (auto& [table, path] : levels) {
    // This level's plain and zipped keys in file order, so a repeated key is reported
    // where it is repeated.
    std::vector<ZipTable> zips = zip_tables(*table, path, file);
    std::vector<std::pair<int, std::string>> plain;
    for (auto&& [k, v] : *table) {
      const std::string key(k.str());
      if (key != "zip" && key != "block") plain.emplace_back(tomlread::line_of(v), key);
    }
    std::sort(plain.begin(), plain.end());
    struct Entry {
      int line;
      std::string key;
      std::string path;
      toml::table* owner;
      toml::node* node;
      bool zipped;
      std::size_t zip;
    };
    std::vector<Entry> entries;
    for (const auto& [line, key] : plain) entries.push_back({line, key, path, table, table->get(key), false, 0});
    for (std::size_t z = 0; z < zips.size(); ++z) {
      check_zip(zips[z], file);
      for (auto&& [k, v] : *zips[z].table)
        entries.push_back({tomlread::line_of(v), std::string(k.str()), zips[z].path, zips[z].table, &v, true, z});
    }
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.line < b.line; });
    const std::size_t first_zip = zip_keys.size();
    zip_keys.resize(first_zip + zips.size());
    for (Entry& e : entries) {
      // Each key is given once, except that a block may replace a plain shared key.
      if (const auto it = where.find(e.key); it != where.end()) {
        if (it->second != "train" || path == "train") {
          std::string msg = "also set in " + it->second + " (line " + std::to_string(line_of_key[e.key]) +
                            "); give each key once, as a grid axis of its own or in one zip";
          if (it->second.rfind("train.zip", 0) == 0 && path != "train")
            msg += "; a block cannot change a key zipped in [train]: move that zip into the blocks";
          throw ConfigError(file, e.path + "." + e.key, e.line, msg);
        }
        give_back(e.key);  // the block's value replaces the shared one
      }
      where[e.key] = e.path;
      line_of_key[e.key] = e.line;
      if (e.zipped) zip_keys[first_zip + e.zip].push_back(e.key);
    }
    for (Entry& e : entries) {
      move_into(merged, e.key, *e.node);
      owner[e.key] = e.owner;
    }
  }

  // read_train_table() names a missing key at its table's line, which a merged table has
  // not; name the grid's header instead.
  for (const auto& p : detail::train_param_defs()) {
    if (!p.info.required || merged.get(p.info.name)) continue;
    std::string fix = "missing required key; add " + p.info.name + " = ";
    fix += p.info.choices.empty() ? std::string("...")
                                  : detail::format_toml_value(detail::ParamValue(p.info.choices.front())) +
                                        " (" + p.info.check + ")";
    if (block) fix += " to this block or to [train]";
    throw ConfigError(file, (block ? levels.back().second : std::string("train")) + "." + p.info.name,
                      grid.line, fix);
  }
  if (const auto it = where.find("init_from"); it != where.end()) {
    grid.init_from = read_init_from(merged, it->second + ".init_from", file);
    if (grid.init_from) give_back("init_from");  // a table: not a value of the parameter table
  }
  try {
    grid.values = detail::read_train_table(merged, file, /*single_values=*/false);
  } catch (const ConfigError& e) {
    rethrow_at(e, where);
  }
  for (const auto& [key, table] : owner)
    if (merged.contains(key)) give_back(key);
  for (auto& origins : grid.values.origins)
    for (Origin& o : origins) o.path = path_in_file(o.path, where);
  for (const auto& keys : zip_keys) {
    std::vector<std::size_t> indices;
    for (const auto& k : keys) indices.push_back(param_index(k));
    std::sort(indices.begin(), indices.end());
    grid.zips.push_back(std::move(indices));
  }
  return grid;
}

}  // namespace ternbench::experiments::detail
