// The quantizer interface and the method registry: identity, the factory, unknown methods, option checks.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "support/error_of.hpp"
#include "support/gradient_check.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/quantizer.hpp"
#include "ternbench/core/methods/regularizer.hpp"
#include "support/quantizer_inputs.hpp"

namespace ternbench::core {
namespace {

using namespace quantizer_tests;
using testing::relative_gradient_error;

// ---- identity and registry ---------------------------------------------------------------

TEST(Quantizer, IdentityCopiesAndPassesThrough) {
  IdentityQuantizer q;
  const Mat w = hand_weights();
  Mat out(2, 2), dw(2, 2);
  q.quantize(w, out);
  EXPECT_EQ(out, w);
  q.backward(w, w, dw);
  EXPECT_EQ(dw, w);
  EXPECT_STREQ(q.precision(), "fp32");
}

TEST(Quantizer, FactoryBuildsEachMethodFromTheConfig) {
  TrainConfig cfg;
  const QuantizerSite site{"dense1", true, 99};
  struct Case {
    const char* method;
    const char* precision;
  };
  for (const Case c : {Case{"fp", "fp32"}, Case{"binaryconnect", "binary"}, Case{"bwn", "binary"},
                       Case{"twn", "ternary"}, Case{"ttq", "ternary"}, Case{"sca", "ternary"},
                       Case{"faraone", "fp32"}}) {
    cfg.method = c.method;
    const auto q = make_quantizer(cfg, site);
    ASSERT_NE(q, nullptr) << c.method;
    EXPECT_STREQ(q->precision(), c.precision) << c.method;
    EXPECT_EQ(method_quantizes(c.method), std::string(c.method) != "fp");
  }
  cfg.method = "twn";
  cfg.twn_per_channel = true;
  EXPECT_TRUE(dynamic_cast<TwnQuantizer&>(*make_quantizer(cfg, site)).per_channel());
  cfg.method = "sca";
  EXPECT_TRUE(dynamic_cast<ScaQuantizer&>(*make_quantizer(cfg, site)).scaled());  // last layer
  EXPECT_FALSE(dynamic_cast<ScaQuantizer&>(*make_quantizer(cfg, {"dense0", false, 1})).scaled());
  cfg.sca_scale_last = false;
  EXPECT_FALSE(dynamic_cast<ScaQuantizer&>(*make_quantizer(cfg, site)).scaled());
  cfg.method = "faraone";
  cfg.faraone_retrain_quantizer = "ttq";
  const auto f = make_quantizer(cfg, site);
  EXPECT_EQ(dynamic_cast<FaraoneQuantizer&>(*f).style(), FaraoneStyle::kTtq);
  EXPECT_EQ(f->params().size(), 2u);
  cfg.method = "ttq";
  EXPECT_THROW(make_quantizer(cfg), Error);  // no layer name for Wp, Wn
}

TEST(Quantizer, MakeQuantizerRejectsUnknownMethodListingValidOnes) {
  TrainConfig cfg;
  cfg.method = "twm";
  try {
    make_quantizer(cfg);
    FAIL() << "expected ternbench::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("twm"), std::string::npos);
    EXPECT_NE(msg.find("fp, binaryconnect, bwn, twn, ttq, sca, faraone"), std::string::npos) << msg;
  }
  EXPECT_THROW(method_quantizes("twm"), Error);
}

TEST(Quantizer, CheckMethodConfigNamesTheOffendingField) {
  auto message = [](const TrainConfig& c) { return testing::error_of([&] { check_method_config(c); }); };
  TrainConfig cfg;
  EXPECT_EQ(message(cfg), testing::kNoError);
  cfg.sca_alpha = 2.0;
  EXPECT_NE(message(cfg).find("sca_alpha"), std::string::npos) << message(cfg);
  cfg = {};
  cfg.sca_wdr = "avg";
  EXPECT_NE(message(cfg).find("sca_wdr 'avg' is unknown (valid: sum, mean)"), std::string::npos) << message(cfg);
  cfg = {};
  cfg.faraone_target_sparsity = 1.5;
  EXPECT_NE(message(cfg).find("faraone_target_sparsity"), std::string::npos);
  cfg = {};
  cfg.faraone_retrain_quantizer = "bwn";
  EXPECT_NE(message(cfg).find("faraone_retrain_quantizer"), std::string::npos);
  cfg = {};
  cfg.bc_h = 0;
  EXPECT_NE(message(cfg).find("bc_h"), std::string::npos);
  cfg = {};
  cfg.faraone_retrain_epochs = -1;
  EXPECT_NE(message(cfg).find("faraone_retrain_epochs"), std::string::npos);
}

}  // namespace
}  // namespace ternbench::core
