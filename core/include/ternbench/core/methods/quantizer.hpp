#pragma once
// Weight quantizers: the forward rule W -> W_q and the rule that carries dL/dW_q back to the
// latent weights (DESIGN.md §2, docs/methods.md). One instance per weight matrix (out, in);
// for a convolution the rows are output channels, so "per channel" means per row. An
// instance remembers the scale and threshold of its last quantize()/deploy() call for the
// deployed-model statistics.
//
// Two matrices come out of a quantizer: the TRAINING forward (quantize(): what forward and
// backward use while training) and the DEPLOYED weights (deploy(): what evaluation and the
// exported model use). They differ only where deploy_differs() is true: SCA trains through
// tanh(theta) and deploys round(tanh(theta)); stochastic BinaryConnect trains on samples and
// deploys H sign(W).
#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/methods/update_hooks.hpp"
#include "ternbench/core/nn/layer.hpp"
#include "ternbench/core/train/train_config.hpp"

namespace ternbench::core {

class Regularizer;

class Quantizer {
 public:
  virtual ~Quantizer() = default;
  // "fp32" | "binary" | "ternary": how the deployed matrix is stored.
  virtual const char* precision() const = 0;
  // Training forward q = Q(w).                        w, q: (out, in); q must not alias w
  virtual void quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) = 0;
  // Deployed weights q = D(w); the same as quantize() unless deploy_differs().
  virtual void deploy(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) { quantize(w, q); }
  virtual bool deploy_differs() const { return false; }
  // dw = dL/dw given dq = dL/dq, for the w of the last quantize() (thresholds and scales are
  // those of that call). Sets (not accumulates) the grad of every params() entry. dw may
  // alias dq (the rules are element-wise).
  virtual void backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) = 0;
  // The same, also given q, the output of that last quantize(w): a rule that is a function
  // of q (SCA's tanh) then costs no second evaluation. Must equal backward(w, dq, dw).
  virtual void backward_given_output(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& /*q*/,
                                     const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
    backward(w, dq, dw);
  }
  // backward_given_output(w, q, dq, dw) then reg.add_gradient(w, dw): the latent gradient
  // of the loss plus a regularizer on the latent values. A quantizer whose output the
  // regularizer can reuse does both in one pass, with the same bits.
  virtual void backward_regularized(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& q,
                                    const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw, const Regularizer& reg);
  // Called on the latent weights after each optimizer step (BinaryConnect clips to [-H, H];
  // Faraone stage 3 keeps pruned weights at exactly 0).
  virtual void after_step(Eigen::Ref<Mat> /*w*/) {}
  // Work the optimizer does for this quantizer in its update of the latent weights
  // (Param::after_update): a statistic quantize_after_update() then needs, or after_step()'s
  // constraint. nullptr: none.
  virtual UpdateHook* update_hook() { return nullptr; }
  // quantize(w, q), bit for bit, for the w of the step just taken (its update and after_step,
  // nothing else since), using what update_hook() took in that update where it ran.
  virtual void quantize_after_update(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) { quantize(w, q); }
  // Called once on freshly initialised latent weights, never on restored ones: maps the
  // usual init to the method's parameterisation (SCA's theta).
  virtual void init_latent(Eigen::Ref<Mat> /*w*/) {}
  // Trainable parameters owned by the quantizer (TTQ's "<layer>/Wp", "<layer>/Wn"); the
  // optimizer must step them and checkpoints must store them.
  virtual std::vector<Param*> params() { return {}; }
  // A frozen pruning mask (entries 0 or 1, the weight's shape) cut at threshold delta(),
  // which checkpoints store beside params(): Faraone's stage 2. None by default.
  virtual const Mat* pruning_mask() const { return nullptr; }
  // Restores such a mask from a checkpoint; false when the quantizer takes none.
  virtual bool restore_pruning_mask(const Mat& /*mask*/, double /*threshold*/) { return false; }
  // Magnitude of the nonzero values of the last quantize()/deploy(): the mean over channels,
  // or of Wp and Wn; 1 for plain {-1, 0, 1}; 0 for fp32.
  virtual double scale() const { return 0; }
  // Threshold of the last quantize()/deploy() (mean over channels); 0 when none.
  virtual double delta() const { return 0; }
  // The float scales a deployed file stores (32 bits each): one per channel, {Wp, Wn}, or
  // none when the values are plain {-1, 0, 1} or +-1.
  virtual std::vector<float> scales() const { return {}; }
  // How scales() turn codes c in {-1, 0, 1} back into the deployed values:
  //   "none"  q = c                 (no scales)
  //   "layer" q = s0 c              (one scale)
  //   "row"   q = s_r c             (one scale per row / output channel)
  //   "sign"  q = c > 0 ? s0 : -s1  (TTQ's Wp, Wn)
  // The product is exactly the float the quantizer deployed (docs/weights.md).
  virtual const char* scale_layout() const;
};

// Method `fp`: q = w, dw = dq.
class IdentityQuantizer final : public Quantizer {
 public:
  const char* precision() const override { return "fp32"; }
  void quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  void backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) override;
};

// Method `binaryconnect` (Courbariaux et al.): deterministic q = H sign(W), sign(0) = +1, or
// stochastic q = +H with probability clip((W/H + 1)/2, 0, 1), else -H, drawn from the
// quantizer's own Rng (column-major, one draw per entry per quantize()). Deployed: H sign(W).
// Backward: identity STE. after_step clips W to [-H, H].
class BinaryConnectQuantizer final : public Quantizer {
 public:
  BinaryConnectQuantizer(double h, bool stochastic, std::uint64_t seed);
  const char* precision() const override { return "binary"; }
  void quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  void deploy(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  bool deploy_differs() const override { return stochastic_; }
  void backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) override;
  void after_step(Eigen::Ref<Mat> w) override;
  UpdateHook* update_hook() override { return &clip_; }  // the clip, in the update
  double scale() const override { return h_; }
  std::vector<float> scales() const override;
  // The stochastic stream (its four state words belong in a checkpoint).
  Rng& rng() { return rng_; }

 private:
  float h_;
  bool stochastic_;
  Rng rng_;
  ClipHook clip_;
};

// Method `bwn` (XNOR-Net's binary-weight network): q = a_r sign(W), a_r = mean|W| of row r,
// sign(0) = +1. Backward as DESIGN.md prints it: dW = dq (1/n + a_r 1{|W| <= 1}), n = row length.
class BwnQuantizer final : public Quantizer {
 public:
  const char* precision() const override { return "binary"; }
  void quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  void backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) override;
  double scale() const override;
  std::vector<float> scales() const override;
  const Mat& row_scales() const { return scale_; }  // (out, 1)

 private:
  Mat scale_;
};

// Method `twn` (Li & Liu): delta = delta_factor * mean|W|, t = sign(W) 1{|W| > delta},
// alpha = mean of |W| over kept entries (0 when none is kept), q = alpha t; per layer, or per
// row when per_channel. Backward: identity straight-through estimator, dw = dq.
class TwnQuantizer final : public Quantizer {
 public:
  explicit TwnQuantizer(double delta_factor, bool per_channel = false);
  const char* precision() const override { return "ternary"; }
  void quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  void backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) override;
  // Per layer, sum |W| is taken in the update.
  UpdateHook* update_hook() override { return per_channel_ ? nullptr : &abs_sum_; }
  void quantize_after_update(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  double scale() const override;
  double delta() const override;
  std::vector<float> scales() const override;
  bool per_channel() const { return per_channel_; }
  const Mat& row_scales() const { return row_scale_; }  // (out, 1) when per_channel
  const Mat& row_deltas() const { return row_delta_; }  // (out, 1) when per_channel

 private:
  void ternarize_layer(const Eigen::Ref<const Mat>& w, double abs_sum, Eigen::Ref<Mat> q);

  double delta_factor_;
  bool per_channel_;
  float scale_ = 0, delta_ = 0;
  Mat row_scale_, row_delta_;
  AbsSumHook abs_sum_;
  std::vector<std::uint16_t> codes_;  // per layer: kernels::kept_abs's codes of the last w
};

// Method `ttq` (Zhu et al.): D = threshold * max|W|; q = +Wp where W > D, -Wn where W < -D,
// else 0. Wp, Wn are learned scalars (init 1, no weight decay) named "<layer>/Wp",
// "<layer>/Wn". Backward: dWp = sum dq over W > D, dWn = -sum dq over W < -D,
// dW = Wp dq / dq / Wn dq over W > D / |W| <= D / W < -D.
class TtqQuantizer final : public Quantizer {
 public:
  TtqQuantizer(const std::string& layer, double threshold);
  const char* precision() const override { return "ternary"; }
  void quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  void backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) override;
  UpdateHook* update_hook() override { return &abs_max_; }  // max |W|, in the update
  void quantize_after_update(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  std::vector<Param*> params() override { return {&wp_, &wn_}; }
  double scale() const override;
  double delta() const override { return delta_; }
  std::vector<float> scales() const override;
  const char* scale_layout() const override { return "sign"; }
  Param& wp() { return wp_; }
  Param& wn() { return wn_; }

 private:
  void quantize_at(const Eigen::Ref<const Mat>& w, float abs_max, Eigen::Ref<Mat> q);

  double threshold_;
  float delta_ = 0;
  Param wp_, wn_;
  AbsMaxHook abs_max_;
};

// Method `sca` (Deng & Zhang): the latent matrix is theta. Training forward q = tanh(theta)
// (continuous, no STE); backward dtheta = dq (1 - tanh(theta)^2). Deployed:
// round(tanh(theta)) in {-1, 0, 1}, times s = mean of |tanh(theta)| over the entries that
// round to +-1 (the least-squares scale of that support) when `scaled` (a layer without batch
// norm after it), else unscaled. init_latent maps W0 to atanh(clip(init_std W0/std(W0), +-0.99)).
class ScaQuantizer final : public Quantizer {
 public:
  ScaQuantizer(bool scaled, double init_std);
  const char* precision() const override { return "ternary"; }
  void quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  void deploy(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  bool deploy_differs() const override { return true; }
  void backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) override;
  void backward_given_output(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& q,
                             const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) override;
  // With SCA's WDR: the tanh backward and the WDR gradient in one pass over q = tanh(w).
  void backward_regularized(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& q,
                            const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw, const Regularizer& reg) override;
  void init_latent(Eigen::Ref<Mat> w) override;
  double scale() const override { return scale_; }
  double delta() const override { return 0.5; }  // the rounding threshold on |tanh(theta)|
  std::vector<float> scales() const override;
  bool scaled() const { return scaled_; }

 private:
  bool scaled_;
  double init_std_;
  float scale_ = 1;
};

// theta = atanh(clip(init_std * w / std(w), -0.99, 0.99)) in place, std the population
// standard deviation of the whole matrix; an all-constant matrix (std 0) becomes 0.
void sca_init_theta(Eigen::Ref<Mat> w, double init_std);

// w = clip(init_std * w / std(w), -0.99, 0.99) in place: SCA's starting weights tanh(theta)
// without the re-parameterisation (fp_init_std, the control of the init-scale lead).
void scale_to_spread(Eigen::Ref<Mat> w, double init_std);

// Method `faraone`, stage 3 (interpretation, DESIGN.md §2): ternary with a frozen mask. Until
// set_mask() it is the identity (stage 1 trains full precision). With mask M:
//   kTwn: q = alpha sign(W) M, alpha = mean |W| over M, sign(0) = +1; dW = dq M.
//   kTtq: q = M (W >= 0 ? Wp : -Wn), Wp, Wn learned ("<layer>/Wp", "<layer>/Wn", init 1);
//         dW = M (W >= 0 ? Wp : Wn) dq, dWp = sum dq over M & W >= 0, dWn = -sum dq over M & W < 0.
// Pruned entries get zero gradient and after_step() sets their latent value to 0.
enum class FaraoneStyle { kTwn, kTtq };

class FaraoneQuantizer final : public Quantizer {
 public:
  FaraoneQuantizer(FaraoneStyle style, const std::string& layer);
  const char* precision() const override { return has_mask() ? "ternary" : "fp32"; }
  void quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  void backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) override;
  void after_step(Eigen::Ref<Mat> w) override;
  std::vector<Param*> params() override;
  double scale() const override;
  double delta() const override { return threshold_; }
  std::vector<float> scales() const override;
  const char* scale_layout() const override;

  // Freezes the mask (entries 0 or 1, the weight's shape) and starts stage 3; threshold is
  // the stage-2 threshold, kept for the statistics.
  void set_mask(const Mat& mask, double threshold = 0);
  const Mat* pruning_mask() const override { return has_mask() ? &mask_ : nullptr; }
  bool restore_pruning_mask(const Mat& mask, double threshold) override {
    set_mask(mask, threshold);
    return true;
  }
  bool has_mask() const { return mask_.size() > 0; }
  const Mat& mask() const { return mask_; }
  // kTtq: Wp, Wn = mean |w| over the kept positive / negative entries (1 where none), so
  // stage 3 starts at the TWN-style scales instead of 1. No-op for kTwn.
  void init_scales_from(const Eigen::Ref<const Mat>& w);
  FaraoneStyle style() const { return style_; }
  Param& wp() { return wp_; }
  Param& wn() { return wn_; }

 private:
  FaraoneStyle style_;
  Mat mask_;
  double threshold_ = 0;
  float alpha_ = 0;
  Param wp_, wn_;
};

// Where a quantizer sits in the model.
struct QuantizerSite {
  std::string layer;       // layer name, the prefix of the quantizer's params ("dense0" -> "dense0/Wp")
  bool last = false;       // the model's last weight layer (no batch norm follows it)
  std::uint64_t seed = 0;  // stochastic quantizers' stream, e.g. derive_seed(cfg.seed, "quantizer/dense0")
};

// Method keys accepted by TrainConfig::method:
// {"fp", "binaryconnect", "bwn", "twn", "ttq", "sca", "faraone"}.
std::vector<std::string> method_names();

// True when the method quantizes weights ("fp" does not). Throws ternbench::Error listing
// the valid methods for an unknown key.
bool method_quantizes(const std::string& method);

// Throws ternbench::Error ("train config: sca_alpha must be ...") when a method option in
// the "Methods" block of TrainConfig is out of range or not one of its allowed strings.
void check_method_config(const TrainConfig& cfg);

// The quantizer of cfg.method for one weight matrix at site. ttq and faraone with
// retrain_quantizer "ttq" need site.layer (their params are named after it). Throws
// ternbench::Error listing the valid methods for an unknown key.
std::unique_ptr<Quantizer> make_quantizer(const TrainConfig& cfg, const QuantizerSite& site = {});

}  // namespace ternbench::core
