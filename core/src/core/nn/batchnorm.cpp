#include "ternbench/core/nn/batchnorm.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "ternbench/base/error.hpp"

namespace ternbench::core {
namespace {

Param channel_param(const std::string& name, Eigen::Index channels, float init) {
  Param p;
  p.name = name;
  p.value = Mat::Constant(channels, 1, init);
  p.grad = Mat::Zero(channels, 1);
  p.decay = false;
  p.shape = {static_cast<std::int64_t>(channels)};
  return p;
}

}  // namespace

BatchNorm::BatchNorm(std::string name, int channels, int spatial)
    : name_(std::move(name)), channels_(channels), spatial_(spatial) {
  TB_CHECK(channels > 0 && spatial > 0, "BatchNorm " + name_ + ": channels and spatial must be > 0");
  gamma_ = channel_param(name_ + "/gamma", channels_, 1.0f);
  beta_ = channel_param(name_ + "/beta", channels_, 0.0f);
  running_mean_ = channel_param(name_ + "/running_mean", channels_, 0.0f);
  running_var_ = channel_param(name_ + "/running_var", channels_, 1.0f);
  for (kernels::VecD* v : {&mean_, &var_, &sum_dy_, &sum_dyxc_}) v->setZero(channels_);
  for (kernels::VecF* v : {&center_, &inv_std_, &scale_, &a_, &b_, &k_}) v->setZero(channels_);
}

void BatchNorm::forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  prepare(x);
  kernels::channel_affine(x, spatial_, center_, scale_, beta_.value.col(0), y, threads_);
}

void BatchNorm::forward_relu(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  prepare(x);
  kernels::channel_affine_relu(x, spatial_, center_, scale_, beta_.value.col(0), y, threads_);
}

void BatchNorm::prepare(const Eigen::Ref<const Mat>& x) {
  TB_CHECK(x.rows() == in_features(), "BatchNorm " + name_ + ": input has " + std::to_string(x.rows()) +
                                          " features, expected " + std::to_string(in_features()));
  batch_stats_ = training_;
  if (training_) {
    kernels::channel_mean_var(x, spatial_, mean_, var_, threads_);
    const double m = static_cast<double>(x.cols()) * static_cast<double>(spatial_);
    // PyTorch raises for a single value per channel; a last batch of one sample must not end a
    // run, so the running variance then takes the (zero) biased value.
    const double unbias = m > 1.0 ? m / (m - 1.0) : 1.0;
    for (Eigen::Index c = 0; c < channels_; ++c) {
      center_(c) = static_cast<float>(mean_(c));
      inv_std_(c) = static_cast<float>(1.0 / std::sqrt(var_(c) + kEps));
      float& rm = running_mean_.value(c, 0);
      float& rv = running_var_.value(c, 0);
      rm = static_cast<float>((1.0 - kMomentum) * rm + kMomentum * mean_(c));
      rv = static_cast<float>((1.0 - kMomentum) * rv + kMomentum * var_(c) * unbias);
    }
  } else {
    for (Eigen::Index c = 0; c < channels_; ++c) {
      center_(c) = running_mean_.value(c, 0);
      inv_std_(c) = static_cast<float>(1.0 / std::sqrt(static_cast<double>(running_var_.value(c, 0)) + kEps));
    }
  }
  scale_ = gamma_.value.col(0).cwiseProduct(inv_std_);
}

void BatchNorm::backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& /*y*/,
                         const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, bool want_dx) {
  kernels::channel_backward_sums(x, dy, spatial_, center_, sum_dy_, sum_dyxc_, threads_);
  backward_from_sums(x, dy, dx, want_dx);
}

std::pair<Eigen::Ref<Mat>, Eigen::Ref<Mat>> BatchNorm::sum_terms(Eigen::Index batch) {
  if (terms_dy_.cols() < batch) {
    terms_dy_.resize(channels_, batch);
    terms_dyxc_.resize(channels_, batch);
  }
  return {terms_dy_.leftCols(batch), terms_dyxc_.leftCols(batch)};
}

void BatchNorm::backward_from_terms(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dy,
                                    Eigen::Ref<Mat> dx, bool want_dx) {
  const Eigen::Index B = dy.cols();
  TB_CHECK(terms_dy_.cols() >= B, "BatchNorm " + name_ + ": backward_from_terms without sum_terms");
  kernels::channel_sums_of_terms(terms_dy_.leftCols(B), terms_dyxc_.leftCols(B), sum_dy_, sum_dyxc_);
  backward_from_sums(x, dy, dx, want_dx);
}

void BatchNorm::backward_from_sums(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dy,
                                   Eigen::Ref<Mat> dx, bool want_dx) {
  const double m = static_cast<double>(x.cols()) * static_cast<double>(spatial_);
  for (Eigen::Index c = 0; c < channels_; ++c) {
    const double inv_std = inv_std_(c);
    const double dgamma = inv_std * sum_dyxc_(c);  // sum of dy * x_hat
    gamma_.grad(c, 0) = static_cast<float>(dgamma);
    beta_.grad(c, 0) = static_cast<float>(sum_dy_(c));
    const double a = static_cast<double>(gamma_.value(c, 0)) * inv_std;
    a_(c) = static_cast<float>(a);
    // With batch statistics the mean and variance depend on x:
    //   dx = a * (dy - sum(dy) / M - x_hat * sum(dy * x_hat) / M).
    b_(c) = batch_stats_ ? static_cast<float>(-a * inv_std * dgamma / m) : 0.0f;
    k_(c) = batch_stats_ ? static_cast<float>(-a * sum_dy_(c) / m) : 0.0f;
  }
  if (want_dx) kernels::channel_backward_input(x, dy, spatial_, center_, a_, b_, k_, dx, threads_);
}

}  // namespace ternbench::core
