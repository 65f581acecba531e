// Sweep files: [sweep] metadata plus a [train] table whose lists are grid axes, optional
// [train.zip] tables whose lists move together (one axis), and optional [[train.block]]
// entries, each a grid of its own over the shared [train] keys (the runs are their union).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_set>

#include "params_internal.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/experiments/sweep.hpp"

namespace ternbench::experiments {
namespace {

// A grid this large is a typo (a list where a scalar was meant), not a study.
constexpr std::size_t kMaxGridPoints = 1'000'000;

std::vector<std::string> names_of(const std::vector<ParamInfo>& params) {
  std::vector<std::string> names;
  for (const auto& p : params) names.push_back(p.name);
  return names;
}

bool valid_name(const std::string& s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// An optional string key of [sweep]; empty strings are refused because they would turn
// into the working directory as a path.
std::optional<std::string> sweep_string(const toml::table& t, const std::string& key,
                                        const std::string& file) {
  const toml::node* node = t.get(key);
  if (!node) return std::nullopt;
  const auto* s = node->as_string();
  if (!s) {
    throw ConfigError(file, "sweep." + key, detail::line_of(*node),
                      "expected a string, got " + std::string(detail::node_type_name(*node)));
  }
  if (s->get().empty() && key != "description")
    throw ConfigError(file, "sweep." + key, detail::line_of(*node), "must not be empty");
  return s->get();
}

void read_sweep_table(const toml::table& t, const std::string& file, Sweep& sweep) {
  detail::reject_unknown_keys(t, file, "sweep", names_of(sweep_params()));
  const auto name = sweep_string(t, "name", file);
  if (!name) {
    throw ConfigError(file, "sweep.name", detail::line_of(t),
                      "missing required key; add name = \"my-sweep\" (letters, digits, _ . -)");
  }
  if (!valid_name(*name)) {
    throw ConfigError(file, "sweep.name", detail::line_of(*t.get("name")),
                      "\"" + *name + "\" may contain only letters, digits, '_', '.' and '-'");
  }
  sweep.name = *name;
  sweep.db_path = sweep_string(t, "db", file).value_or("results/" + sweep.name + ".sqlite");
  if (const auto dir = sweep_string(t, "weights_dir", file)) {
    sweep.weights_dir = *dir;
  } else {
    // Beside the database and named after it, so two sweeps sharing results/ never mix files.
    std::string stem = sweep.db_path;
    const std::string ext = ".sqlite";
    if (stem.size() > ext.size() && stem.compare(stem.size() - ext.size(), ext.size(), ext) == 0)
      stem.resize(stem.size() - ext.size());
    sweep.weights_dir = stem + "-weights";
  }
  sweep.description = sweep_string(t, "description", file).value_or("");
}

std::size_t param_index(const std::string& name) {
  const auto& defs = detail::train_param_defs();
  for (std::size_t i = 0; i < defs.size(); ++i)
    if (defs[i].info.name == name) return i;
  throw Error("no train parameter named " + name);  // a broken table, not a user error
}

// --- Reading one grid -------------------------------------------------------------------

// `init_from = { method = "fp", ... }`: the source of each run of the grid is the run itself
// with these keys replaced (and no warm start of its own unless the table gives one).
struct InitFromTable {
  std::vector<std::pair<std::size_t, detail::ParamValue>> overrides;  // parameter index, value
  std::string path;  // "train.init_from", "train.block[1].init_from"
  int line = 0;
};

// One grid: every [train] key's values, and the keys that move together.
struct Grid {
  detail::TrainAxes values;
  std::vector<std::vector<std::size_t>> zips;  // parameter indices, ascending
  int line = 0;                                // of the table the grid comes from
  std::optional<InitFromTable> init_from;
};

// A [train.zip] table (or one entry of [[train.zip]]) as found in the file.
struct ZipTable {
  toml::table* table = nullptr;
  std::string path;  // "train.zip", "train.block[1].zip[0]"
};

// The keys of a table in file order (toml::table iterates sorted by name).
std::vector<std::string> keys_in_file_order(const toml::table& t) {
  std::vector<std::pair<int, std::string>> keyed;
  for (auto&& [k, v] : t) keyed.emplace_back(detail::line_of(v), std::string(k.str()));
  std::stable_sort(keyed.begin(), keyed.end());
  std::vector<std::string> keys;
  for (auto& [line, k] : keyed) keys.push_back(std::move(k));
  return keys;
}

// Takes a table-valued init_from out of t (a string value, a run key, stays for the
// parameter table to read). Each key of the table takes one value: a source is one run.
std::optional<InitFromTable> take_init_from(toml::table& t, const std::string& path, const std::string& file) {
  toml::node* node = t.get("init_from");
  if (node == nullptr || !node->is_table()) return std::nullopt;
  const toml::table& table = *node->as_table();
  const auto& defs = detail::train_param_defs();
  detail::reject_unknown_keys(table, file, path, names_of(train_params()));
  if (table.empty()) {
    throw ConfigError(file, path, detail::line_of(*node),
                      "empty table; give the keys in which the source run differs from this one, e.g. "
                      "init_from = { method = \"fp\" }");
  }
  InitFromTable out;
  out.path = path;
  out.line = detail::line_of(*node);
  for (const std::string& key : keys_in_file_order(table)) {
    const toml::node& value = *table.get(key);
    const std::size_t i = param_index(key);
    const ParamType type = defs[i].info.type;
    const bool list_type = type == ParamType::kIntList || type == ParamType::kStringList;
    if (key == "init_from" && value.is_table())
      throw ConfigError(file, path + "." + key, detail::line_of(value),
                        "a source given as a table cannot itself take a table; give its init_from as a run key");
    if (value.is_array() && (!list_type || (!value.as_array()->empty() && value.as_array()->get(0)->is_array())))
      throw ConfigError(file, path + "." + key, detail::line_of(value),
                        "the source is one run, so each of its keys takes one value, not a list");
    out.overrides.emplace_back(i, detail::read_value(value, defs[i], path + "." + key, file));
  }
  t.erase("init_from");
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
    throw ConfigError(file, path, detail::line_of(*node),
                      "expected a table [" + path + "] or tables [[" + path + "]], got " +
                          std::string(detail::node_type_name(*node)));
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
  detail::reject_unknown_keys(*z.table, file, z.path, names_of(train_params()));
  if (z.table->empty()) {
    throw ConfigError(file, z.path, detail::line_of(*z.table),
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
      throw ConfigError(file, path, detail::line_of(node),
                        "a zip takes a list of values per key, got " + std::string(detail::node_type_name(node)) +
                            "; write " + key + " = [...] or move the key out of the zip");
    }
    if (list->empty())
      throw ConfigError(file, path, detail::line_of(node), "empty list; a zip needs one value per run");
    const ParamType type = defs[param_index(key)].info.type;
    if ((type == ParamType::kIntList || type == ParamType::kStringList) && !list->get(0)->as_array()) {
      throw ConfigError(file, path, detail::line_of(node),
                        "in a zip a list-valued key takes a list of lists, one per run; write " + key +
                            " = [[...], [...]]");
    }
    if (first.empty()) {
      first = key;
      length = list->size();
      first_line = detail::line_of(node);
    } else if (list->size() != length) {
      throw ConfigError(file, path, detail::line_of(node),
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

// "train.lr[2]" raised on the merged table, renamed to where the key is in the file
// ("train.block[1].lr[2]"). where maps a key to its table's path; "train" needs no change.
[[noreturn]] void rethrow_at(const ConfigError& e, const std::map<std::string, std::string>& where) {
  const std::string& path = e.key_path();
  const std::string prefix = "train.";
  if (path.rfind(prefix, 0) != 0) throw e;
  const std::string rest = path.substr(prefix.size());
  const auto it = where.find(rest.substr(0, rest.find_first_of("[.")));
  if (it == where.end() || it->second == "train") throw e;
  // The message part follows "<file>:<line>: <key path>: ", as ConfigError composes it.
  std::string head = e.file();
  if (e.line() > 0) head.append(":").append(std::to_string(e.line()));
  head.append(": ").append(path).append(": ");
  const std::string what = e.what();
  if (what.rfind(head, 0) != 0) throw e;
  std::string renamed = it->second;
  renamed.append(".").append(rest);
  throw ConfigError(e.file(), renamed, e.line(), what.substr(head.size()));
}

// Reads the grid of [train] (block = nullopt) or of its block-th [[train.block]] entry.
// The file is parsed again for every grid: nodes are moved out of it into one merged
// table that read_train_table() checks, and moving keeps their lines.
Grid read_grid(const std::string& text, const std::string& file, std::optional<std::size_t> block) {
  toml::table root = detail::parse_toml(text, file);
  toml::table& base = *root.get("train")->as_table();
  std::map<std::string, std::string> where;  // key -> path of the table that gives it
  std::map<std::string, int> line_of_key;
  std::vector<std::vector<std::string>> zip_keys;
  toml::table merged;
  Grid grid;
  grid.line = detail::line_of(base);

  std::vector<std::pair<toml::table*, std::string>> levels = {{&base, "train"}};
  toml::table* block_table = nullptr;
  if (block) {
    auto* list = base.get("block")->as_array();
    block_table = list->get(*block)->as_table();
    levels.emplace_back(block_table, "train.block[" + std::to_string(*block) + "]");
    grid.line = detail::line_of(*block_table);
  }
  for (auto& [table, path] : levels) {
    // This level's plain and zipped keys in file order, so a repeated key is reported
    // where it is repeated.
    std::vector<ZipTable> zips = zip_tables(*table, path, file);
    std::vector<std::pair<int, std::string>> plain;
    for (auto&& [k, v] : *table) {
      const std::string key(k.str());
      if (key != "zip" && key != "block") plain.emplace_back(detail::line_of(v), key);
    }
    std::sort(plain.begin(), plain.end());
    struct Entry { int line; std::string key; std::string path; toml::node* node; bool zipped; std::size_t zip; };
    std::vector<Entry> entries;
    for (const auto& [line, key] : plain) entries.push_back({line, key, path, table->get(key), false, 0});
    for (std::size_t z = 0; z < zips.size(); ++z) {
      check_zip(zips[z], file);
      for (auto&& [k, v] : *zips[z].table)
        entries.push_back({detail::line_of(v), std::string(k.str()), zips[z].path, &v, true, z});
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
        merged.erase(e.key);  // the block's value replaces the shared one
      }
      where[e.key] = e.path;
      line_of_key[e.key] = e.line;
      if (e.zipped) zip_keys[first_zip + e.zip].push_back(e.key);
    }
    for (Entry& e : entries) move_into(merged, e.key, *e.node);
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
  if (const auto it = where.find("init_from"); it != where.end())
    grid.init_from = take_init_from(merged, it->second + ".init_from", file);
  try {
    grid.values = detail::read_train_table(merged, file, /*single_values=*/false);
  } catch (const ConfigError& e) {
    rethrow_at(e, where);
  }
  for (const auto& keys : zip_keys) {
    std::vector<std::size_t> indices;
    for (const auto& k : keys) indices.push_back(param_index(k));
    std::sort(indices.begin(), indices.end());
    grid.zips.push_back(std::move(indices));
  }
  return grid;
}

// --- Expansion --------------------------------------------------------------------------

// One axis of a grid: a key alone, or the keys of a zip moving together.
struct Axis {
  std::vector<std::size_t> params;  // ascending; the axis sits at params.front() in grid order
  std::size_t length = 1;
};

// Whether a key changes the run of cfg: a method-only key for other methods, and a layer
// stack for a named model, are ignored (make_run leaves them out or at their default).
bool used_by(const detail::TrainParam& p, const core::TrainConfig& cfg) {
  if (p.info.name == "layers") return cfg.model == "custom";
  return applies_to(p.info, cfg.method);
}

// The data shape class of a dataset: a warm start needs the source's input shape.
std::string input_shape(const std::string& dataset) { return dataset == "cifar10" ? "3x32x32" : "1x28x28"; }

class Expander {
 public:
  Expander(const Grid& grid, const std::string& file) : grid_(grid), file_(file) {
    const auto& defs = detail::train_param_defs();
    std::vector<bool> zipped(defs.size(), false);
    for (const auto& z : grid.zips) {
      for (const std::size_t i : z) {
        zipped[i] = true;
        // check_zip() compared the lists as written; a difference here is a parser bug.
        if (grid.values.axes[i].size() != grid.values.axes[z.front()].size())
          throw Error("zip of " + defs[z.front()].info.name + " and " + defs[i].info.name + " read unequal lengths");
      }
      axes_.push_back({z, grid.values.axes[z.front()].size()});
    }
    for (std::size_t i = 0; i < defs.size(); ++i)
      if (!zipped[i]) axes_.push_back({{i}, grid.values.axes[i].size()});
    std::sort(axes_.begin(), axes_.end(), [](const Axis& a, const Axis& b) { return a.params.front() < b.params.front(); });
    std::size_t points = 1;
    for (const auto& axis : axes_) {
      if (points > kMaxGridPoints / axis.length) {
        throw ConfigError(file, "train", grid.line,
                          "the grid has more than " + std::to_string(kMaxGridPoints) +
                              " points; split the sweep or shorten its lists");
      }
      points *= axis.length;
    }
    method_axis_ = axis_of(param_index("method"));
    model_axis_ = axis_of(param_index("model"));
  }

  // Cartesian product of the axes in grid order, last axis fastest. An axis whose keys the
  // point's method (or model) ignores is not walked: its values would only repeat runs.
  // Points that still coincide keep the first.
  std::vector<RunSpec> runs() {
    out_.clear();
    seen_.clear();
    core::TrainConfig cfg;
    visit(0, cfg);
    return std::move(out_);
  }

 private:
  std::size_t axis_of(std::size_t param) const {
    for (std::size_t a = 0; a < axes_.size(); ++a)
      if (std::find(axes_[a].params.begin(), axes_[a].params.end(), param) != axes_[a].params.end()) return a;
    return axes_.size();
  }

  // An axis can be skipped only once the keys deciding its use are set (earlier axes).
  bool ignored(std::size_t a, const core::TrainConfig& cfg) const {
    const auto& defs = detail::train_param_defs();
    for (const std::size_t p : axes_[a].params) {
      const auto& def = defs[p];
      const bool by_model = def.info.name == "layers";
      const bool scoped = by_model || !def.info.methods.empty();
      const std::size_t decider = by_model ? model_axis_ : method_axis_;
      if (!scoped || decider >= a || used_by(def, cfg)) return false;
    }
    return true;
  }

  void visit(std::size_t a, core::TrainConfig& cfg) {
    if (a == axes_.size()) {
      if (grid_.init_from) {
        // The source comes first, so the file order is also an order that trains it first.
        RunSpec source = source_of(cfg);
        cfg.init_from = source.run_key;
        RunSpec run = make_run(cfg);
        cfg.init_from.clear();
        if (seen_.insert(source.run_key).second) {
          source.implied = true;
          out_.push_back(std::move(source));
        }
        if (seen_.insert(run.run_key).second) out_.push_back(std::move(run));
        return;
      }
      RunSpec run = make_run(cfg);
      if (seen_.insert(run.run_key).second) out_.push_back(std::move(run));
      return;
    }
    const auto& defs = detail::train_param_defs();
    const std::size_t n = ignored(a, cfg) ? 1 : axes_[a].length;
    for (std::size_t j = 0; j < n; ++j) {
      for (const std::size_t p : axes_[a].params) defs[p].set(cfg, grid_.values.axes[p][j]);
      visit(a + 1, cfg);
    }
  }

  RunSpec source_of(const core::TrainConfig& cfg) const {
    const InitFromTable& t = *grid_.init_from;
    core::TrainConfig src = cfg;
    src.init_from.clear();
    const auto& defs = detail::train_param_defs();
    for (const auto& [i, v] : t.overrides) defs[i].set(src, v);
    RunSpec source;
    try {
      source = make_run(src);
    } catch (const ConfigError& e) {
      throw ConfigError(file_, t.path, t.line, std::string("the source run is not a valid run: ") + e.what());
    }
    if (auto problem = warm_start_problem(source.train, cfg)) throw ConfigError(file_, t.path, t.line, *problem);
    return source;
  }

  const Grid& grid_;
  std::string file_;
  std::vector<Axis> axes_;
  std::size_t method_axis_ = 0, model_axis_ = 0;
  std::vector<RunSpec> out_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

std::optional<std::string> warm_start_problem(const core::TrainConfig& source, const core::TrainConfig& run) {
  const auto& all = core::methods();
  const auto method = std::find_if(all.begin(), all.end(), [&](const core::Method* m) { return source.method == m->name(); });
  if (method == all.end() || !(*method)->seeds_warm_starts())
    return "the source run has method \"" + source.method +
           "\"; a warm start starts from a full-precision run: set method = \"fp\" in init_from";
  if (source.model != run.model)
    return "the source run is model \"" + source.model + "\" but this run is \"" + run.model +
           "\"; a warm start needs the same network: remove model from init_from";
  if (source.model == "custom" && source.layers != run.layers)
    return "the source run's layers differ from this run's; a warm start needs the same network";
  if (input_shape(source.dataset) != input_shape(run.dataset))
    return "the source run trains on " + source.dataset + " (" + input_shape(source.dataset) + " images) but this run on " +
           run.dataset + " (" + input_shape(run.dataset) + "); a warm start needs the same input shape";
  return std::nullopt;
}

Sweep parse_sweep(const std::string& text, const std::string& file_name) {
  const toml::table root = detail::parse_toml(text, file_name);
  const auto train_names = names_of(train_params());
  const auto sweep_names = names_of(sweep_params());
  auto hint = [&](const std::string& key) -> std::string {
    auto has = [&key](const std::vector<std::string>& v) {
      return std::find(v.begin(), v.end(), key) != v.end();
    };
    if (has(train_names)) return "it belongs under [train]";
    if (has(sweep_names)) return "it belongs under [sweep]";
    if (key == "block") return "blocks are written [[train.block]]";
    if (key == "zip") return "a zip is written [train.zip]";
    return "";
  };
  detail::reject_unknown_keys(root, file_name, "", {"sweep", "train"}, hint);

  Sweep sweep;
  sweep.file = file_name;
  const toml::table* meta = detail::sub_table(root, "sweep", file_name);
  if (!meta) {
    throw ConfigError(file_name, "sweep", 0,
                      "missing [sweep] table; add [sweep] with name = \"my-sweep\"");
  }
  read_sweep_table(*meta, file_name, sweep);
  const toml::table* train = detail::sub_table(root, "train", file_name);
  if (!train) {
    throw ConfigError(file_name, "train", 0,
                      "missing [train] table; add [train] with at least dataset and method");
  }
  std::vector<std::string> train_keys = train_names;
  train_keys.push_back("block");
  train_keys.push_back("zip");
  detail::reject_unknown_keys(*train, file_name, "train", train_keys);

  const toml::node* blocks = train->get("block");
  if (blocks == nullptr) {
    const toml::node* init = train->get("init_from");
    if (!train->get("zip") && !(init && init->is_table())) {
      // The plain grid: [train] is read as it stands.
      Grid grid;
      grid.values = detail::read_train_table(*train, file_name, /*single_values=*/false);
      grid.line = detail::line_of(*train);
      sweep.runs = Expander(grid, file_name).runs();
    } else {
      sweep.runs = Expander(read_grid(text, file_name, std::nullopt), file_name).runs();
    }
    for (const RunSpec& r : sweep.runs) sweep.implied_sources += r.implied ? 1 : 0;
    return sweep;
  }

  const auto* list = blocks->as_array();
  if (list == nullptr || list->empty() || !list->is_array_of_tables()) {
    throw ConfigError(file_name, "train.block", detail::line_of(*blocks),
                      "expected [[train.block]] tables, got " + std::string(detail::node_type_name(*blocks)) +
                          "; write each block as a [[train.block]] table of keys");
  }
  std::vector<std::string> block_keys = train_names;
  block_keys.push_back("zip");
  for (std::size_t b = 0; b < list->size(); ++b)
    detail::reject_unknown_keys(*list->get(b)->as_table(), file_name, "train.block[" + std::to_string(b) + "]",
                                block_keys);
  sweep.blocks = list->size();
  std::map<std::string, std::size_t> seen;  // run key -> index in sweep.runs
  for (std::size_t b = 0; b < list->size(); ++b) {
    for (RunSpec& run : Expander(read_grid(text, file_name, b), file_name).runs()) {
      const auto [it, added] = seen.emplace(run.run_key, sweep.runs.size());
      if (added) {
        sweep.runs.push_back(std::move(run));
        continue;
      }
      // A source that a block also lists is a run of the file, and sharing one is no duplicate.
      RunSpec& kept = sweep.runs[it->second];
      if (!run.implied && !kept.implied) ++sweep.duplicates_across_blocks;
      if (!run.implied) kept.implied = false;
    }
  }
  for (const RunSpec& r : sweep.runs) sweep.implied_sources += r.implied ? 1 : 0;
  return sweep;
}

Sweep load_sweep(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, "", 0, std::string("cannot open sweep file: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path, "", 0, std::string("cannot read sweep file: ") + std::strerror(errno));
  return parse_sweep(text.str(), path);
}

}  // namespace ternbench::experiments
