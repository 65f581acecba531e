#include "ternbench/core/nn/residual.hpp"

#include <utility>

#include "ternbench/base/error.hpp"

namespace ternbench::core {
namespace {

// Output size of the 3x3, padding 1 convolution that opens the block (and of the 1x1,
// padding 0 shortcut, which gives the same size for the same stride).
int strided(int n, int stride) { return (n + 2 - 3) / stride + 1; }

}  // namespace

ResidualBlock::ResidualBlock(std::string name, int in_c, int h, int w, int out_c, int stride, Rng& rng)
    : name_(std::move(name)),
      out_c_(out_c),
      out_h_(strided(h, stride)),
      out_w_(strided(w, stride)),
      bn0_(name_ + "/bn0", in_c, h * w),
      relu0_(name_ + "/relu0", Eigen::Index{in_c} * h * w),
      conv0_(name_ + "/conv0", in_c, h, w, out_c, 3, stride, 1, rng),
      bn1_(name_ + "/bn1", out_c, out_h_ * out_w_),
      relu1_(name_ + "/relu1", Eigen::Index{out_c} * out_h_ * out_w_),
      conv1_(name_ + "/conv1", out_c, out_h_, out_w_, out_c, 3, 1, 1, rng) {
  TB_CHECK(stride >= 1, "ResidualBlock " + name_ + ": stride must be >= 1");
  TB_CHECK(conv0_.out_features() == bn1_.in_features() && conv1_.out_features() == bn1_.in_features(),
           "ResidualBlock " + name_ + ": convolution output sizes disagree with the block's");
  if (stride != 1 || in_c != out_c) {
    shortcut_ = std::make_unique<Conv2d>(name_ + "/shortcut", in_c, h, w, out_c, 1, stride, 0, rng);
    TB_CHECK(shortcut_->out_features() == conv1_.out_features(),
             "ResidualBlock " + name_ + ": shortcut output size disagrees with the block's");
  }
}

void ResidualBlock::reserve(Eigen::Index b) {
  if (a0_.cols() >= b) return;
  const Eigen::Index in = in_features(), out = out_features();
  for (Mat* m : {&a0_, &r0_, &g_in_}) m->resize(in, b);
  for (Mat* m : {&c0_, &a1_, &r1_, &c1_, &g_out_}) m->resize(out, b);
  if (shortcut_) {
    s_.resize(out, b);
    g_shortcut_.resize(in, b);
  }
}

void ResidualBlock::forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  const Eigen::Index B = x.cols();
  TB_CHECK(x.rows() == in_features() && y.rows() == out_features() && y.cols() == B,
           "ResidualBlock " + name_ + ": shape mismatch");
  reserve(B);
  auto a0 = a0_.leftCols(B), r0 = r0_.leftCols(B);
  auto c0 = c0_.leftCols(B), a1 = a1_.leftCols(B), r1 = r1_.leftCols(B), c1 = c1_.leftCols(B);
  bn0_.forward(x, a0);
  relu0_.forward(a0, r0);
  conv0_.forward(r0, c0);
  bn1_.forward(c0, a1);
  relu1_.forward(a1, r1);
  conv1_.forward(r1, c1);
  if (shortcut_) {
    auto s = s_.leftCols(B);
    shortcut_->forward(r0, s);
    y = c1 + s;
  } else {
    y = c1 + x;
  }
}

void ResidualBlock::backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& /*y*/,
                             const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, bool want_dx) {
  const Eigen::Index B = x.cols();
  TB_CHECK(a0_.cols() >= B && dy.rows() == out_features() && dy.cols() == B,
           "ResidualBlock " + name_ + ": backward without a matching forward");
  auto a0 = a0_.leftCols(B), r0 = r0_.leftCols(B);
  auto c0 = c0_.leftCols(B), a1 = a1_.leftCols(B), r1 = r1_.leftCols(B), c1 = c1_.leftCols(B);
  auto gi = g_in_.leftCols(B), go = g_out_.leftCols(B);
  // Every sub-layer needs its input gradient (the block's parameters sit below it), except
  // bn0 when the caller wants no dx.
  conv1_.backward(r1, c1, dy, go, true);  // dL/dr1
  relu1_.backward(a1, r1, go, go, true);  // dL/da1
  bn1_.backward(c0, a1, go, go, true);    // dL/dc0
  conv0_.backward(r0, c0, go, gi, true);  // dL/dr0 through the residual branch
  if (shortcut_) {
    auto gs = g_shortcut_.leftCols(B);
    shortcut_->backward(r0, s_.leftCols(B), dy, gs, true);
    gi += gs;  // ... plus through the projection
  }
  relu0_.backward(a0, r0, gi, gi, true);  // dL/da0
  bn0_.backward(x, a0, gi, dx, want_dx);
  if (want_dx && !shortcut_) dx += dy;  // the identity shortcut
}

std::vector<Param*> ResidualBlock::params() {
  std::vector<Param*> out;
  for (Layer* l : std::initializer_list<Layer*>{&bn0_, &conv0_, &bn1_, &conv1_, shortcut_.get()}) {
    if (l == nullptr) continue;
    for (Param* p : l->params()) out.push_back(p);
  }
  return out;
}

std::vector<Param*> ResidualBlock::buffers() {
  std::vector<Param*> out = bn0_.buffers();
  for (Param* p : bn1_.buffers()) out.push_back(p);
  return out;
}

void ResidualBlock::set_training(bool training) {
  bn0_.set_training(training);
  bn1_.set_training(training);
  conv0_.set_training(training);
  conv1_.set_training(training);
  if (shortcut_) shortcut_->set_training(training);
}

void ResidualBlock::set_threads(int threads) {
  for (Layer* l : std::initializer_list<Layer*>{&bn0_, &conv0_, &bn1_, &conv1_, shortcut_.get()})
    if (l != nullptr) l->set_threads(threads);
}

std::vector<Weight*> ResidualBlock::weights() {
  std::vector<Weight*> out;
  for (Layer* l : std::initializer_list<Layer*>{&conv0_, &conv1_, shortcut_.get()}) {
    if (l == nullptr) continue;
    for (Weight* w : l->weights()) out.push_back(w);
  }
  return out;
}

void ResidualBlock::refresh() {
  conv0_.refresh();
  conv1_.refresh();
  if (shortcut_) shortcut_->refresh();
}

}  // namespace ternbench::core
