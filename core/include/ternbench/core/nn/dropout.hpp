#pragma once
// Inverted dropout: in training mode each activation is zeroed with probability `rate` and the
// survivors are scaled by 1 / (1 - rate), so evaluation mode is the identity.
#include <cstdint>
#include <string>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/nn/layer.hpp"

namespace ternbench::core {

class Dropout final : public Layer {
 public:
  // rate in [0, 1]; rate 1 zeroes everything. The masks come from an Rng seeded with `seed`
  // and drawn in column-major order, one uniform_float per activation (none when rate is 0).
  Dropout(std::string name, Eigen::Index features, double rate, std::uint64_t seed);

  const std::string& name() const override { return name_; }
  Eigen::Index in_features() const override { return features_; }
  Eigen::Index out_features() const override { return features_; }
  void forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) override;
  void backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy,
                Eigen::Ref<Mat> dx, bool want_dx) override;
  void set_training(bool training) override { training_ = training; }

  bool training() const { return training_; }
  double rate() const { return rate_; }
  // The mask stream, for checkpoints: restoring its state resumes the same masks.
  Rng& rng() { return rng_; }

 private:
  std::string name_;
  Eigen::Index features_;
  double rate_;
  Rng rng_;
  bool training_ = true;
  bool masked_ = false;  // the last forward applied mask_
  Mat mask_;             // 0 or 1 / (1 - rate); grows once to the largest batch, then reused
};

}  // namespace ternbench::core
