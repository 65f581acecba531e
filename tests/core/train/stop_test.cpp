#include "ternbench/core/train/stop.hpp"

#include <gtest/gtest.h>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/train/trainer.hpp"

namespace tb = ternbench;

namespace {
tb::core::DataSplit tiny_data() {
  tb::core::DataSplit d;
  d.name = "tiny";
  for (tb::core::Dataset* s : {&d.train, &d.test}) {
    s->images = Eigen::MatrixXf::Zero(784, 64);
    s->labels.resize(64);
    tb::Rng rng(3);
    for (int i = 0; i < 64; ++i) {
      s->labels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i % 10);
      s->images(i % 10, i) = 1.0f;
      s->images(100 + static_cast<int>(rng.uniform_index(50)), i) = 0.5f;
    }
  }
  return d;
}
}  // namespace

// A stop request (signal, walltime) ends training at the next batch boundary: the finished
// epochs are kept, the partial one is dropped, and the result says so.
TEST(Stop, RequestEndsTrainingAtTheNextBatchBoundary) {
  tb::core::TrainConfig cfg;
  cfg.epochs = 5;
  cfg.batch_size = 16;
  tb::core::clear_stop();
  const auto r = tb::core::train(cfg, tiny_data(), [](const tb::core::EpochMetrics& m) {
    if (m.epoch == 2) tb::core::request_stop();
  });
  tb::core::clear_stop();
  EXPECT_TRUE(r.interrupted);
  EXPECT_FALSE(r.diverged);
  ASSERT_EQ(r.epochs.size(), 2u);
}

TEST(Stop, WithoutARequestEveryEpochRuns) {
  tb::core::TrainConfig cfg;
  cfg.epochs = 3;
  cfg.batch_size = 16;
  tb::core::clear_stop();
  const auto r = tb::core::train(cfg, tiny_data());
  EXPECT_FALSE(r.interrupted);
  EXPECT_EQ(r.epochs.size(), 3u);
}
