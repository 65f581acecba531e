#include "ternbench/core/nn/layer_spec.hpp"

#include <gtest/gtest.h>

#include "ternbench/base/error.hpp"

namespace tb = ternbench;
using tb::core::format_layer_spec;
using tb::core::parse_layer_spec;

TEST(LayerSpec, ParsesEveryTypeWithDefaults) {
  const auto conv = parse_layer_spec(" conv(32, kernel=5) ");
  EXPECT_EQ(conv.type, "conv");
  EXPECT_EQ(conv.units, 32);
  EXPECT_EQ(conv.kernel, 5);
  EXPECT_EQ(conv.stride, 1);
  EXPECT_EQ(conv.padding, 0);
  const auto pool = parse_layer_spec("maxpool(3)");
  EXPECT_EQ(pool.kernel, 3);
  EXPECT_EQ(pool.stride, 3);  // stride defaults to the kernel
  EXPECT_EQ(parse_layer_spec("dense(units=10)").units, 10);
  EXPECT_DOUBLE_EQ(parse_layer_spec("dropout(0.25)").rate, 0.25);
  EXPECT_EQ(parse_layer_spec("relu").type, "relu");
}

TEST(LayerSpec, CanonicalSpellingRoundTrips) {
  for (const char* text : {"conv(64, padding=2, kernel=5)", "maxpool(2)", "dense(512)", "dropout(0.5)", "batchnorm",
                           "gap", "flatten", "relu", "maxpool(3, stride=2)"}) {
    const auto spec = parse_layer_spec(text);
    const std::string canon = format_layer_spec(spec);
    EXPECT_EQ(parse_layer_spec(canon), spec) << text;
    EXPECT_EQ(format_layer_spec(parse_layer_spec(canon)), canon);
  }
  EXPECT_EQ(format_layer_spec(parse_layer_spec("conv(64,padding=2,kernel=5)")),
            "conv(64, kernel=5, stride=1, padding=2)");
  EXPECT_EQ(format_layer_spec(parse_layer_spec("maxpool(2)")), "maxpool(kernel=2, stride=2)");
}

TEST(LayerSpec, BadTextSaysWhatIsWrongAndWhatIsValid) {
  auto message = [](const char* text) {
    try {
      parse_layer_spec(text);
    } catch (const tb::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("convv(3)").find("unknown layer type \"convv\""), std::string::npos);
  EXPECT_NE(message("dense").find("dense needs arguments"), std::string::npos);
  EXPECT_NE(message("relu(2)").find("relu takes no arguments"), std::string::npos);
  EXPECT_NE(message("dense(0)").find("units must be >= 1"), std::string::npos);
  EXPECT_NE(message("conv(3, size=2)").find("no option \"size\""), std::string::npos);
  EXPECT_NE(message("dropout(1.0)").find("rate must be in [0, 1)"), std::string::npos);
  EXPECT_NE(message("dense(1.5)").find("units must be an integer"), std::string::npos);
  EXPECT_NE(message("conv(3").find("missing ')'"), std::string::npos);
  EXPECT_NE(message("dense(512)x").find("valid: dense(N)"), std::string::npos);
}

// Sizes above the stated maxima are refused while the text is read, before a layer of them
// could be built: dense(2000000000) used to end in std::bad_alloc.
TEST(LayerSpec, SizesAboveTheMaximaAreRefused) {
  auto message = [](const std::string& text) {
    try {
      parse_layer_spec(text);
    } catch (const tb::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("dense(2000000000)"),
            "layer \"dense(2000000000)\": units 2000000000 is above the maximum of 65536 (docs/sweep-format.md); "
            "valid: dense(N), conv(N, kernel=K, stride=S, padding=P), maxpool(K, stride=S), dropout(RATE), batchnorm, "
            "relu, flatten, gap");
  EXPECT_NE(message("conv(units=65537)").find("units 65537 is above the maximum of 65536"), std::string::npos);
  // Beyond 64 bits: still "above the maximum", not "not an integer".
  EXPECT_NE(message("dense(99999999999999999999)").find("units 99999999999999999999 is above the maximum of 65536"),
            std::string::npos);
  EXPECT_NE(message("dense(-99999999999999999999)").find("units must be >= 1"), std::string::npos);
  EXPECT_NE(message("conv(8, kernel=65)").find("kernel 65 is above the maximum of 64"), std::string::npos);
  EXPECT_NE(message("conv(8, stride=65)").find("stride 65 is above the maximum of 64"), std::string::npos);
  EXPECT_NE(message("conv(8, padding=1000000)").find("padding 1000000 is above the maximum of 64"), std::string::npos);
  EXPECT_NE(message("maxpool(65)").find("kernel 65 is above the maximum of 64"), std::string::npos);
  EXPECT_NE(message("maxpool(2, stride=100)").find("stride 100 is above the maximum of 64"), std::string::npos);
  // The maxima themselves are allowed.
  EXPECT_EQ(parse_layer_spec("dense(65536)").units, tb::core::kMaxLayerUnits);
  const auto conv = parse_layer_spec("conv(65536, kernel=64, stride=64, padding=64)");
  EXPECT_EQ(conv.kernel, tb::core::kMaxLayerWindow);
  EXPECT_EQ(conv.stride, 64);
  EXPECT_EQ(conv.padding, 64);
}
