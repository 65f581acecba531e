#pragma once
// Bit-for-bit equality, for tests of results that must not move: EXPECT_EQ on floats would
// take -0 for +0 and fail on equal NaNs.
#include <Eigen/Core>
#include <cstddef>
#include <cstring>

namespace ternbench::testing {

// Same shape and the same bytes (any dense Eigen matrix or array with contiguous storage).
template <class M>
bool same_bits(const M& a, const M& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(typename M::Scalar) * static_cast<std::size_t>(a.size())) == 0;
}

inline bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace ternbench::testing
