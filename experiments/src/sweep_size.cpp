// The size of a sweep before it is expanded: its grids' axes and the cap on their points.
#include <algorithm>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "sweep_grid.hpp"
#include "ternbench/base/error.hpp"

namespace ternbench::experiments::detail {
namespace {

// A sweep this large is a typo (a list where a scalar was meant), not a study. The cap holds
// for the whole file, all blocks together, and is checked before any run is expanded: a run
// costs about a kilobyte and a few microseconds, so a million runs is the most a file may
// ask for.
constexpr std::size_t kMaxGridPoints = 1'000'000;
constexpr std::size_t kSaturated = std::numeric_limits<std::size_t>::max();

// A grid's size counted from its list lengths alone: the product of its axes, an upper bound
// of its runs (keys a method ignores, and duplicates, make fewer).
struct GridSize {
  std::size_t points = 1;  // saturates at kSaturated
  std::string axes;        // "seed 1000 x lr 1000": the axes longer than one value
};

GridSize size_of(const Grid& grid) {
  const auto& defs = train_param_defs();
  GridSize size;
  for (const Axis& axis : axes_of(grid)) {
    if (axis.length == 1) continue;
    size.points = size.points > kSaturated / axis.length ? kSaturated : size.points * axis.length;
    std::string name;
    for (const std::size_t p : axis.params) name += (name.empty() ? "" : ", ") + defs[p].info.name;
    if (axis.params.size() > 1) name = "zip(" + name + ")";
    size.axes += (size.axes.empty() ? "" : " x ") + name + " " + std::to_string(axis.length);
  }
  return size;
}

std::string count_text(std::size_t n) {
  return n == kSaturated ? "more than " + std::to_string(n) : std::to_string(n);
}

}  // namespace

std::vector<Axis> axes_of(const Grid& grid) {
  const auto& defs = train_param_defs();
  std::vector<Axis> axes;
  std::vector<bool> zipped(defs.size(), false);
  for (const auto& z : grid.zips) {
    for (const std::size_t i : z) {
      zipped[i] = true;
      // check_zip() compared the lists as written; a difference here is a parser bug.
      if (grid.values.axes[i].size() != grid.values.axes[z.front()].size())
        throw Error("zip of " + defs[z.front()].info.name + " and " + defs[i].info.name + " read unequal lengths");
    }
    axes.push_back({z, grid.values.axes[z.front()].size()});
  }
  for (std::size_t i = 0; i < defs.size(); ++i)
    if (!zipped[i]) axes.push_back({{i}, grid.values.axes[i].size()});
  std::sort(axes.begin(), axes.end(), [](const Axis& a, const Axis& b) { return a.params.front() < b.params.front(); });
  return axes;
}

void check_size(const std::vector<Grid>& grids, const std::vector<std::string>& paths, const std::string& file) {
  std::vector<GridSize> sizes;
  std::size_t total = 0;  // saturates at kSaturated
  for (const Grid& g : grids) {
    sizes.push_back(size_of(g));
    total = total > kSaturated - sizes.back().points ? kSaturated : total + sizes.back().points;
  }
  if (total <= kMaxGridPoints) return;
  std::vector<std::size_t> order(grids.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return sizes[a].points > sizes[b].points; });
  const std::size_t largest = order.front();
  const std::string cap = "more than the " + std::to_string(kMaxGridPoints) + " runs a sweep file may expand to";
  if (grids.size() == 1) {
    throw ConfigError(file, paths[largest], grids[largest].line,
                      "the grid has " + count_text(sizes[largest].points) + " points (" + sizes[largest].axes + "), " +
                          cap + "; shorten these lists or split the sweep into several files");
  }
  std::string listed;
  const std::size_t shown = std::min<std::size_t>(3, order.size());
  for (std::size_t k = 0; k < shown; ++k) {
    const std::size_t i = order[k];
    listed += (k ? ", " : "") + paths[i] + " (line " + std::to_string(grids[i].line) + ") " +
              count_text(sizes[i].points) + (sizes[i].axes.empty() ? "" : " (" + sizes[i].axes + ")");
  }
  if (order.size() > shown) listed += ", and " + std::to_string(order.size() - shown) + " more";
  throw ConfigError(file, paths[largest], grids[largest].line,
                    "the " + std::to_string(grids.size()) + " blocks have " + count_text(total) + " points in all, " +
                        cap + "; the largest: " + listed +
                        "; shorten their lists or split the sweep into several files");
}

}  // namespace ternbench::experiments::detail
