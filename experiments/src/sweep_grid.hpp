#pragma once
// Private to tb::experiments: one grid of a sweep file as read (sweep_grid.cpp) and sized
// (sweep_size.cpp), before sweep.cpp expands it into runs.
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "params_internal.hpp"

namespace ternbench::experiments::detail {

// `init_from = { method = "fp", ... }`: the source of each run of the grid is the run itself
// with these keys replaced (and no warm start of its own unless the table gives one).
struct InitFromTable {
  std::vector<std::pair<std::size_t, ParamValue>> overrides;  // parameter index, value
  std::string path;  // "train.init_from", "train.block[1].init_from"
  int line = 0;
};

// One grid: every [train] key's values, and the keys that move together.
struct Grid {
  TrainAxes values;
  std::vector<std::vector<std::size_t>> zips;  // parameter indices, ascending
  int line = 0;                                // of the table the grid comes from
  std::optional<InitFromTable> init_from;
};

// One axis of a grid: a key alone, or the keys of a zip moving together.
struct Axis {
  std::vector<std::size_t> params;  // ascending; the axis sits at params.front() in grid order
  std::size_t length = 1;
};

// The axes of a grid in grid order (sweep_size.cpp).
std::vector<Axis> axes_of(const Grid& grid);

// Refuses a file whose grids (the plain [train] grid, or every block, paths naming each)
// have more than 1,000,000 points in all, counted from their list lengths before anything
// is expanded. The message names the largest grids, their lines and lists, and the cap.
void check_size(const std::vector<Grid>& grids, const std::vector<std::string>& paths, const std::string& file);

std::vector<std::string> names_of(const std::vector<ParamInfo>& params);
// The index of a [train] key in train_param_defs().
std::size_t param_index(const std::string& name);
// Reads the grid of [train] (block = nullopt) or of its block-th [[train.block]] entry from
// the parsed file. Moves nodes out of root while it reads and back afterwards; after a
// ConfigError, root is left incomplete.
Grid read_grid(toml::table& root, const std::string& file, std::optional<std::size_t> block);

}  // namespace ternbench::experiments::detail
