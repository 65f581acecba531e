#pragma once
// Softmax cross-entropy over classes in the rows. Pure functions, no allocation.
#include <Eigen/Core>
#include <cstdint>
#include <span>

namespace ternbench::kernels {

using Mat = Eigen::MatrixXf;

struct LossResult {
  double loss = 0;           // mean cross-entropy over the batch
  std::int64_t correct = 0;  // samples whose arg-max logit (first on ties) is the label
};

// Mean softmax cross-entropy, with log-sum-exp shifted by the column max so large logits
// do not overflow.          logits: (C, B)  labels: B values in [0, C)  dlogits: (C, B)
// dlogits = (softmax(logits) - onehot(labels)) / B, the gradient of the mean loss.
// dlogits may alias logits.
LossResult softmax_cross_entropy(const Eigen::Ref<const Mat>& logits, std::span<const std::uint8_t> labels,
                                 Eigen::Ref<Mat> dlogits);

// Same loss and count without the gradient (evaluation).   logits: (C, B)
LossResult softmax_cross_entropy_eval(const Eigen::Ref<const Mat>& logits, std::span<const std::uint8_t> labels);

}  // namespace ternbench::kernels
