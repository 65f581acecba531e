#pragma once
// A linearly separable 784-feature problem for trainer tests: class c lights features
// [78c, 78c + 78) at 0.9, and every feature gets uniform noise in [0, 0.1).
#include <cstddef>
#include <cstdint>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/train/dataset.hpp"

namespace ternbench::testing {

inline core::Dataset toy_split(std::size_t n, Rng& rng) {
  core::Dataset d;
  d.images = Eigen::MatrixXf::Zero(784, static_cast<Eigen::Index>(n));
  d.labels.resize(n);
  for (std::size_t s = 0; s < n; ++s) {
    const auto c = static_cast<std::uint8_t>(rng.uniform_index(10));
    d.labels[s] = c;
    const auto col = static_cast<Eigen::Index>(s);
    for (Eigen::Index f = 0; f < 784; ++f) d.images(f, col) = 0.1f * rng.uniform_float();
    d.images.block(78 * c, col, 78, 1).array() += 0.9f;
  }
  return d;
}

inline core::DataSplit toy_data(std::size_t n_train, std::size_t n_test, std::uint64_t seed = 2024) {
  Rng rng(seed);
  core::DataSplit s;
  s.name = "toy";
  s.train = toy_split(n_train, rng);
  s.test = toy_split(n_test, rng);
  return s;
}

}  // namespace ternbench::testing
