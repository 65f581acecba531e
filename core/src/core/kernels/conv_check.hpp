// The geometry check shared by the fast convolution (conv.cpp) and its naive references
// (conv_naive.cpp).
#pragma once

#include <string>

#include "ternbench/base/error.hpp"
#include "ternbench/core/kernels/conv.hpp"

namespace ternbench::kernels::detail {

inline void check_geometry(const ConvGeometry& g, const char* who) {
  TB_CHECK(g.in_c >= 1 && g.in_h >= 1 && g.in_w >= 1 && g.out_c >= 1 && g.kernel >= 1 && g.stride >= 1 &&
               g.padding >= 0 && g.out_h() >= 1 && g.out_w() >= 1,
           std::string(who) + ": invalid convolution geometry");
}

}  // namespace ternbench::kernels::detail
