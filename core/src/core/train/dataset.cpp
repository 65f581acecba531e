#include "ternbench/core/train/dataset.hpp"

#include <cstdint>
#include <vector>

namespace ternbench::core {

bool limited_subset(const Dataset& d, int limit, Dataset& out) {
  if (limit <= 0 || static_cast<std::size_t>(limit) >= d.size()) return false;
  std::vector<std::vector<std::uint32_t>> by_class;
  for (std::uint32_t i = 0; i < d.size(); ++i) {
    const std::size_t c = d.labels[i];
    if (by_class.size() <= c) by_class.resize(c + 1);
    by_class[c].push_back(i);
  }
  std::vector<std::uint32_t> pick;
  for (std::size_t round = 0; pick.size() < static_cast<std::size_t>(limit); ++round) {
    for (const auto& members : by_class) {
      if (round < members.size() && pick.size() < static_cast<std::size_t>(limit)) pick.push_back(members[round]);
    }
  }
  out.channels = d.channels;
  out.height = d.height;
  out.width = d.width;
  out.num_classes = d.num_classes;
  out.images.resize(d.images.rows(), static_cast<Eigen::Index>(pick.size()));
  out.labels.resize(pick.size());
  for (std::size_t j = 0; j < pick.size(); ++j) {
    out.images.col(static_cast<Eigen::Index>(j)) = d.images.col(pick[j]);
    out.labels[j] = d.labels[pick[j]];
  }
  return true;
}

void truncate(Dataset& d, int n) {
  if (n <= 0 || static_cast<std::size_t>(n) >= d.size()) return;
  d.images.conservativeResize(Eigen::NoChange, n);
  d.labels.resize(static_cast<std::size_t>(n));
}

}  // namespace ternbench::core
