#include "ternbench/core/kernels/loss.hpp"

#include <cassert>
#include <cmath>

#include "ternbench/base/error.hpp"

namespace ternbench::kernels {
namespace {

struct ColumnLoss {
  double max = 0, sum_exp = 0, loss = 0;
  bool correct = false;
};

// Log-sum-exp of one column shifted by its max, in double (C is small).
ColumnLoss column_loss(const float* z, Eigen::Index classes, int label) {
  ColumnLoss r;
  Eigen::Index arg = 0;
  float m = z[0];
  for (Eigen::Index c = 1; c < classes; ++c) {
    if (z[c] > m) {
      m = z[c];
      arg = c;
    }
  }
  r.max = m;
  for (Eigen::Index c = 0; c < classes; ++c) r.sum_exp += std::exp(static_cast<double>(z[c]) - r.max);
  r.loss = r.max + std::log(r.sum_exp) - static_cast<double>(z[label]);
  r.correct = arg == label;
  return r;
}

// dlogits == nullptr: loss and count only.
LossResult run(const Eigen::Ref<const Mat>& logits, std::span<const std::uint8_t> labels, Eigen::Ref<Mat>* dlogits) {
  const Eigen::Index classes = logits.rows(), batch = logits.cols();
  TB_CHECK(classes > 0 && static_cast<std::size_t>(batch) == labels.size(),
           "softmax_cross_entropy: logits has " + std::to_string(batch) + " columns but " +
               std::to_string(labels.size()) + " labels");
  LossResult out;
  if (batch == 0) return out;
  double total = 0;
  const double inv_batch = 1.0 / static_cast<double>(batch);
  for (Eigen::Index j = 0; j < batch; ++j) {
    const int y = labels[static_cast<std::size_t>(j)];
    assert(y < classes);
    const float* z = logits.col(j).data();
    const ColumnLoss c = column_loss(z, classes, y);
    total += c.loss;
    out.correct += c.correct ? 1 : 0;
    if (dlogits != nullptr) {
      float* d = dlogits->col(j).data();  // may alias z: z[k] is read before d[k] is written
      for (Eigen::Index k = 0; k < classes; ++k) {
        const double p = std::exp(static_cast<double>(z[k]) - c.max) / c.sum_exp;
        d[k] = static_cast<float>((p - (k == y ? 1.0 : 0.0)) * inv_batch);
      }
    }
  }
  out.loss = total * inv_batch;
  return out;
}

}  // namespace

LossResult softmax_cross_entropy(const Eigen::Ref<const Mat>& logits, std::span<const std::uint8_t> labels,
                                 Eigen::Ref<Mat> dlogits) {
  TB_CHECK(dlogits.rows() == logits.rows() && dlogits.cols() == logits.cols(),
           "softmax_cross_entropy: dlogits shape differs from logits");
  return run(logits, labels, &dlogits);
}

LossResult softmax_cross_entropy_eval(const Eigen::Ref<const Mat>& logits, std::span<const std::uint8_t> labels) {
  return run(logits, labels, nullptr);
}

}  // namespace ternbench::kernels
