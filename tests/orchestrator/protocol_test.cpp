#include "ternbench/orchestrator/protocol.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "ternbench/base/error.hpp"

namespace tb = ternbench;
namespace orch = tb::orchestrator;

namespace {
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
}  // namespace

TEST(Protocol, WorkItemRoundTripsStringsWithAnyBytes) {
  orch::WorkItem w{"abc123", "sweep", "[train]\nlr = 0.05\n", "/tmp/w 1.h5", "w/1.h5", "/data:1", 2,
                   "0123456789abcdef", "/tmp/src 1.h5"};
  const orch::WorkItem back = orch::decode_work(orch::encode(w));
  EXPECT_EQ(back.run_key, w.run_key);
  EXPECT_EQ(back.canonical_toml, w.canonical_toml);
  EXPECT_EQ(back.attempt, 2);
  EXPECT_EQ(back.init_from, w.init_from);
  EXPECT_EQ(back.init_weights, w.init_weights);
  EXPECT_EQ(back.weights_path, w.weights_path);
  EXPECT_EQ(back.data_root, w.data_root);
}

TEST(Protocol, EpochDoublesSurviveBitForBit) {
  tb::storage::EpochRecord e;
  e.run_key = "k";
  e.epoch = 7;
  e.train_loss = 0.1 + 0.2;
  e.test_acc = 1.0 / 3.0;
  e.sparsity = std::numeric_limits<double>::denorm_min();
  e.seconds = std::numeric_limits<double>::infinity();
  const auto back = orch::decode_epoch(orch::encode(e));
  EXPECT_EQ(back.epoch, 7);
  EXPECT_TRUE(same_bits(back.train_loss, e.train_loss));
  EXPECT_TRUE(same_bits(back.test_acc, e.test_acc));
  EXPECT_TRUE(same_bits(back.sparsity, e.sparsity));
  EXPECT_TRUE(std::isinf(back.seconds));
}

TEST(Protocol, EpochLayerRowsRoundTripInOrder) {
  tb::storage::EpochRecord e;
  e.run_key = "k";
  e.stage = "stage3";
  e.epoch = 2;
  tb::storage::EpochLayerRecord l;
  l.layer = "conv0/W";
  l.precision = "ternary";
  l.n = 1LL << 40;  // beyond 32 bits
  l.n_zero = 3;
  l.n_pos = 5;
  l.n_neg = 7;
  l.sparsity = 1.0 / 3.0;
  l.scale = std::numeric_limits<double>::denorm_min();
  l.delta = std::nan("");
  l.codes_changed = 0.1;
  tb::storage::EpochLayerRecord fp = l;
  fp.layer = "dense1/W";
  fp.precision = "fp32";
  fp.codes_changed = std::nan("");
  e.layers = {l, fp};
  const auto back = orch::decode_epoch(orch::encode(e));
  ASSERT_EQ(back.layers.size(), 2u);
  EXPECT_EQ(back.layers[0].layer, "conv0/W");
  EXPECT_EQ(back.layers[0].precision, "ternary");
  EXPECT_EQ(back.layers[0].n, 1LL << 40);
  EXPECT_EQ(back.layers[0].n_zero, 3);
  EXPECT_EQ(back.layers[0].n_pos, 5);
  EXPECT_EQ(back.layers[0].n_neg, 7);
  EXPECT_TRUE(same_bits(back.layers[0].sparsity, l.sparsity));
  EXPECT_TRUE(same_bits(back.layers[0].scale, l.scale));
  EXPECT_TRUE(std::isnan(back.layers[0].delta));
  EXPECT_TRUE(same_bits(back.layers[0].codes_changed, 0.1));
  EXPECT_TRUE(std::isnan(back.layers[1].codes_changed));
  EXPECT_EQ(back.layers[1].layer, "dense1/W");
  EXPECT_EQ(back.layers[1].precision, "fp32");
  // An epoch without layer rows stays without.
  e.layers.clear();
  EXPECT_TRUE(orch::decode_epoch(orch::encode(e)).layers.empty());
}

TEST(Protocol, ResultWithLayersRoundTrips) {
  orch::RunResult r;
  r.run.run_key = "k";
  r.run.error = "line1\nline2";
  r.run.test_acc = 0.9512345678901234;
  r.run.git_dirty = true;
  r.run.train_loss = std::nan("");
  tb::storage::LayerRecord l;
  l.layer = "dense0/W";
  l.n = 392000;
  l.scale = 0.0123;
  r.layers = {l, l};
  const auto back = orch::decode_result(orch::encode(r));
  EXPECT_EQ(back.run.error, r.run.error);
  EXPECT_TRUE(same_bits(back.run.test_acc, r.run.test_acc));
  EXPECT_TRUE(back.run.git_dirty);
  EXPECT_TRUE(std::isnan(back.run.train_loss));
  ASSERT_EQ(back.layers.size(), 2u);
  EXPECT_EQ(back.layers[1].n, 392000);
  EXPECT_TRUE(same_bits(back.layers[1].scale, 0.0123));
}

TEST(Protocol, TruncatedPayloadIsACommError) {
  const std::string p = orch::encode(orch::WorkItem{"a", "b", "c", "d", "e", "f", 1, "g", "h"});
  EXPECT_THROW(orch::decode_work(p.substr(0, p.size() - 1)), tb::CommError);
  EXPECT_THROW(orch::decode_work(p + "1:x"), tb::CommError);
  EXPECT_THROW(orch::decode_epoch("garbage"), tb::CommError);
  tb::storage::EpochRecord e;
  e.layers.resize(1);
  const std::string epoch = orch::encode(e);
  EXPECT_THROW(orch::decode_epoch(epoch.substr(0, epoch.size() - 1)), tb::CommError);
}
