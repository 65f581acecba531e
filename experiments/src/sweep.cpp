// Sweep files: [sweep] metadata plus a [train] table whose lists are grid axes, optional
// [train.zip] tables whose lists move together (one axis), and optional [[train.block]]
// entries, each a grid of its own over the shared [train] keys (the runs are their union).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include "params_internal.hpp"
#include "sweep_grid.hpp"
#include "sweep_override.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/tomlread/reader.hpp"

namespace ternbench::experiments {
namespace {

using detail::axes_of;
using detail::Axis;
using detail::check_size;
using detail::Grid;
using detail::InitFromTable;
using detail::names_of;
using detail::param_index;
using detail::read_grid;

// Limits on the text itself, whose parse tree costs about 100 bytes a value and whose blocks
// are each read as a grid: a file written by hand, or generated for a real study, is far
// smaller, and `ternbench plan /dev/zero` must not read forever.
constexpr std::size_t kMaxFileBytes = 4 << 20;
constexpr std::size_t kMaxBlocks = 10'000;

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
    throw ConfigError(file, "sweep." + key, tomlread::line_of(*node),
                      "expected a string, got " + std::string(tomlread::type_name(*node)));
  }
  if (s->get().empty() && key != "description")
    throw ConfigError(file, "sweep." + key, tomlread::line_of(*node), "must not be empty");
  return s->get();
}

void read_sweep_table(const toml::table& t, const std::string& file, Sweep& sweep) {
  tomlread::reject_unknown_keys(t, file, "sweep", names_of(sweep_params()));
  const auto name = sweep_string(t, "name", file);
  if (!name) {
    throw ConfigError(file, "sweep.name", tomlread::line_of(t),
                      "missing required key; add name = \"my-sweep\" (letters, digits, _ . -)");
  }
  if (!valid_name(*name)) {
    throw ConfigError(file, "sweep.name", tomlread::line_of(*t.get("name")),
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

// --- Expansion --------------------------------------------------------------------------

// Whether a key changes the run of cfg: a method-only key for other methods, and a layer
// stack for a named model, are ignored (make_run leaves them out or at their default).
bool used_by(const detail::TrainParam& p, const core::TrainConfig& cfg) {
  if (p.info.name == "layers") return cfg.model == "custom";
  return applies_to(p.info, cfg.method);
}

// The images and classes of a dataset, as its files hold them (docs/data.md).
struct ImageShape {
  int channels, height, width, classes;
  std::string text() const {
    return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width);
  }
};
ImageShape image_shape(const std::string& dataset) {
  return dataset == "cifar10" ? ImageShape{3, 32, 32, 10} : ImageShape{1, 28, 28, 10};
}

// The data shape class of a dataset: a warm start needs the source's input shape.
std::string input_shape(const std::string& dataset) { return image_shape(dataset).text(); }

class Expander {
 public:
  // The grid's size is checked (check_size) before it comes here.
  Expander(const Grid& grid, const std::string& file) : grid_(grid), file_(file), axes_(axes_of(grid)) {
    method_axis_ = axis_of(param_index("method"));
    model_axis_ = axis_of(param_index("model"));
    layers_param_ = param_index("layers");
    layers_axis_ = axis_of(layers_param_);
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
      // dataset and model come before layers in grid order, so they are set by now.
      if (a == layers_axis_) check_stack(cfg, j);
      visit(a + 1, cfg);
    }
  }

  // A custom stack must build on its dataset's images: shapes that chain, one output per
  // class, sizes under the maxima. The trainer would find out only when the run starts.
  void check_stack(const core::TrainConfig& cfg, std::size_t j) {
    if (cfg.model != "custom" || !checked_stacks_.emplace(cfg.dataset, j).second) return;
    const ImageShape in = image_shape(cfg.dataset);
    try {
      (void)core::model_shape(cfg, in.channels, in.height, in.width, in.classes);
    } catch (const Error& e) {
      std::string why = e.what();
      const std::string context = "custom model: ";
      if (why.rfind(context, 0) == 0) why.erase(0, context.size());
      const detail::Origin& at = grid_.values.origins[layers_param_][j];
      throw ConfigError(file_, at.path, at.line,
                        "the stack does not fit " + cfg.dataset + " (" + in.text() + " images, " +
                            std::to_string(in.classes) + " classes): " + why);
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
  std::size_t method_axis_ = 0, model_axis_ = 0, layers_axis_ = 0, layers_param_ = 0;
  std::set<std::pair<std::string, std::size_t>> checked_stacks_;  // (dataset, index of the stack)
  std::vector<RunSpec> out_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

std::optional<std::string> warm_start_problem(const core::TrainConfig& source, const core::TrainConfig& run) {
  const core::Method* method = core::lookup_method(source.method);
  if (!method || !method->seeds_warm_starts())
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

namespace {

// The sweep of a parsed file. read_grid() moves nodes in root and back.
Sweep sweep_of(toml::table& root, const std::string& file_name) {
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
  tomlread::reject_unknown_keys(root, file_name, "", {"sweep", "train"}, hint);

  Sweep sweep;
  sweep.file = file_name;
  const toml::table* meta = tomlread::sub_table(root, "sweep", file_name);
  if (!meta) {
    throw ConfigError(file_name, "sweep", 0,
                      "missing [sweep] table; add [sweep] with name = \"my-sweep\"");
  }
  read_sweep_table(*meta, file_name, sweep);
  const toml::table* train = tomlread::sub_table(root, "train", file_name);
  if (!train) {
    throw ConfigError(file_name, "train", 0,
                      "missing [train] table; add [train] with at least dataset and method");
  }
  std::vector<std::string> train_keys = train_names;
  train_keys.push_back("block");
  train_keys.push_back("zip");
  tomlread::reject_unknown_keys(*train, file_name, "train", train_keys);

  const toml::node* blocks = train->get("block");
  if (blocks == nullptr) {
    const toml::node* init = train->get("init_from");
    std::vector<Grid> grid(1);
    if (!train->get("zip") && !(init && init->is_table())) {
      // The plain grid: [train] is read as it stands.
      grid[0].values = detail::read_train_table(*train, file_name, /*single_values=*/false);
      grid[0].line = tomlread::line_of(*train);
    } else {
      grid[0] = read_grid(root, file_name, std::nullopt);
    }
    check_size(grid, {"train"}, file_name);
    sweep.runs = Expander(grid[0], file_name).runs();
    for (const RunSpec& r : sweep.runs) sweep.implied_sources += r.implied ? 1 : 0;
    return sweep;
  }

  const auto* list = blocks->as_array();
  if (list == nullptr || list->empty() || !list->is_array_of_tables()) {
    throw ConfigError(file_name, "train.block", tomlread::line_of(*blocks),
                      "expected [[train.block]] tables, got " + std::string(tomlread::type_name(*blocks)) +
                          "; write each block as a [[train.block]] table of keys");
  }
  if (list->size() > kMaxBlocks) {
    throw ConfigError(file_name, "train.block[" + std::to_string(kMaxBlocks) + "]",
                      tomlread::line_of(*list->get(kMaxBlocks)),
                      "the file has " + std::to_string(list->size()) + " blocks, more than the " +
                          std::to_string(kMaxBlocks) +
                          " a sweep file may have; write the key the blocks vary as a list instead, or split the "
                          "sweep into several files");
  }
  std::vector<std::string> block_keys = train_names;
  block_keys.push_back("zip");
  for (std::size_t b = 0; b < list->size(); ++b)
    tomlread::reject_unknown_keys(*list->get(b)->as_table(), file_name, "train.block[" + std::to_string(b) + "]",
                                block_keys);
  sweep.blocks = list->size();
  // Every block is read and counted before any is expanded, so the cap holds for the file.
  std::vector<Grid> grids;
  std::vector<std::string> paths;
  for (std::size_t b = 0; b < list->size(); ++b) {
    grids.push_back(read_grid(root, file_name, b));
    paths.push_back("train.block[" + std::to_string(b) + "]");
  }
  check_size(grids, paths, file_name);
  std::map<std::string, std::size_t> seen;  // run key -> index in sweep.runs
  for (const Grid& grid : grids) {
    for (RunSpec& run : Expander(grid, file_name).runs()) {
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

}  // namespace

Sweep parse_sweep(const std::string& text, const std::string& file_name) { return parse_sweep(text, file_name, {}); }

namespace {

void check_length(const std::string& text, const std::string& file_name) {
  if (text.size() > kMaxFileBytes) {
    throw ConfigError(file_name, "", 0,
                      "the file has more than " + std::to_string(kMaxFileBytes) +
                          " bytes, the most a sweep file may have; split the sweep into several files");
  }
}

// The sweep of a file with set files (path, text) and then overrides applied, in that order.
Sweep parse_with(const std::string& text, const std::string& file_name,
                 const std::vector<std::pair<std::string, std::string>>& set_files,
                 const std::vector<std::string>& overrides) {
  check_length(text, file_name);
  toml::table root = tomlread::parse(text, file_name);
  std::vector<detail::AppliedOverride> applied;
  for (const auto& [path, set_text] : set_files) {
    check_length(set_text, path);
    const toml::table set = tomlread::parse(set_text, path);
    for (auto& a : detail::apply_set_file(root, set, path, file_name)) applied.push_back(std::move(a));
  }
  for (auto& a : detail::apply_overrides(root, overrides, file_name)) applied.push_back(std::move(a));
  try {
    return sweep_of(root, file_name);
  } catch (const ConfigError& e) {
    detail::rethrow_for_override(e, applied);
  }
}

}  // namespace

Sweep parse_sweep(const std::string& text, const std::string& file_name, const std::vector<std::string>& overrides) {
  return parse_with(text, file_name, {}, overrides);
}

namespace {

std::string read_sweep_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, "", 0, std::string("cannot open sweep file: ") + std::strerror(errno));
  // One byte past the limit is enough for parse_sweep to refuse the file (or a device).
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw ConfigError(path, "", 0, std::string("cannot read sweep file: ") + std::strerror(errno));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

}  // namespace

Sweep load_sweep(const std::string& path) { return parse_sweep(read_sweep_file(path), path); }

Sweep load_sweep(const SweepArgs& args) {
  // Without a file the command line is the whole sweep: one grid, named so that its runs
  // share one DB whatever the keys (a run's key depends on its settings alone).
  const std::string text = args.file.empty()
                               ? std::string("[sweep]\nname = \"") + kCommandLineSweep + "\"\n[train]\n"
                               : read_sweep_file(args.file);
  Sweep sweep;
  try {
    std::vector<std::pair<std::string, std::string>> set_files;
    for (const auto& path : args.set_files) set_files.emplace_back(path, read_sweep_file(path));
    sweep = parse_with(text, args.file.empty() ? kCommandLine : args.file, set_files, args.overrides);
  } catch (const ConfigError& e) {
    // The lines of the text made up above mean nothing to the user.
    if (!args.file.empty() || e.line() == 0) throw;
    throw ConfigError(e.file(), e.key_path(), 0, detail::message_of(e));
  }
  select_runs(sweep, args.only);
  return sweep;
}

}  // namespace ternbench::experiments
