#include "ternbench/core/train/trainer.hpp"

#include "ternbench/core/train/stop.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>
#include <span>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/train/augment.hpp"
#include "ternbench/core/train/checkpoint.hpp"
#include "ternbench/core/train/config_check.hpp"
#include "ternbench/core/kernels/loss.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/core/train/metrics.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/train/optimizer.hpp"
#include "ternbench/core/methods/regularizer.hpp"
#include "ternbench/core/train/restore.hpp"
#include "ternbench/core/train/schedule.hpp"

namespace ternbench::core {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One run's training state shared by its stages: data views, batch buffers, the random
// streams (one shuffle stream over all stages, so stages never reuse an order) and the
// result so far.
struct Run {
  Run(const TrainConfig& c, const Dataset& train, const Dataset& test, const EpochCallback& cb, Model& m)
      : cfg(c), train_set(train), test_set(test), on_epoch(cb), model(m),
        shuffle_rng(derive_seed(c.seed, "shuffle")),
        // Drawn from only when augmenting, so runs without augmentation keep their streams.
        augment_rng(derive_seed(c.seed, "augment")) {}

  const TrainConfig& cfg;
  const Dataset& train_set;
  const Dataset& test_set;
  const EpochCallback& on_epoch;
  Model& model;
  std::size_t n_train = 0, n_test = 0, steps_per_epoch = 0;
  Eigen::Index B = 0;
  BatchTransform transform;
  Mat xb, dlogits;
  std::vector<std::uint8_t> yb;
  std::vector<std::uint32_t> order;
  Rng shuffle_rng, augment_rng;
  TrainResult result;
  int epochs_done = 0;  // over all stages
  int last_epoch = 0;   // planned_epochs(cfg)
  std::vector<std::pair<std::string, Rng*>> streams;  // every random stream, for checkpoints
  Checkpointing checkpointing;
  std::optional<Progress> resume;  // where a resumed run continues, until its phase starts
  InitCodes init_codes;            // deployed codes at the start, per model weight

  bool stopped() const { return result.diverged || result.interrupted; }
  // A resumed run skips the phases (training stages and what follows them) it has passed.
  bool passed(int phase) const { return resume && resume->phase > phase; }
};

std::vector<Weight*> quantized_weights(Model& model) {
  std::vector<Weight*> out;
  for (Weight* w : model.weights()) {
    if (w->quantized()) out.push_back(w);
  }
  return out;
}

double penalty(Regularizer* reg, const std::vector<Weight*>& ws) {
  if (reg == nullptr) return kNoValue;
  double sum = 0;
  for (const Weight* w : ws) sum += reg->penalty(w->latent().value);
  return sum;
}

// Evaluates the model as deployed (inference weights), leaving the weights in the mode
// `training_inference` for the next training step.
Evaluation evaluate_deployed(Run& run, bool training_inference) {
  run.model.refresh();
  run.model.use_deployed(true);
  const Evaluation e = evaluate(run.model, run.test_set, static_cast<std::int64_t>(run.n_test));
  run.model.use_deployed(training_inference);
  return e;
}

Evaluation evaluate_continuous(Run& run, bool training_inference) {
  run.model.use_deployed(false);
  const Evaluation e = evaluate(run.model, run.test_set, static_cast<std::int64_t>(run.n_test));
  run.model.use_deployed(training_inference);
  return e;
}

void add_stage_metrics(Run& run, const std::string& name, const Evaluation& e) {
  StageMetrics s;
  s.stage = name;
  s.epochs = run.epochs_done;
  s.test_loss = e.loss;
  s.test_acc = e.accuracy;
  s.sparsity = deployed_sparsity(run.model);
  run.result.stages.push_back(s);
}

// Trains stage.epochs epochs. The learning-rate schedule and the regularizer's ramp start
// over with each stage. stage.inference says which weights the training forward uses (the
// deployed ones while fine-tuning SCA's float parameters).
void train_stage(Run& run, int phase, const StageSpec& stage) {
  const TrainConfig& cfg = run.cfg;
  Model& model = run.model;
  Optimizer& opt = *stage.opt;
  const std::vector<Weight*> quantized = quantized_weights(model);
  const RegularizerScope regularized(quantized, stage.reg);
  const bool inference = stage.inference;
  model.use_deployed(inference);
  int first = 1;
  if (run.resume && run.resume->phase == phase) {
    restore_optimizer(*run.checkpointing.resume, opt);
    first = run.resume->phase_epochs + 1;
  }
  run.resume.reset();
  for (int e = first; e <= stage.epochs && !run.stopped(); ++e) {
    const auto t_epoch = std::chrono::steady_clock::now();
    model.set_training(true);
    std::iota(run.order.begin(), run.order.end(), 0u);
    run.shuffle_rng.shuffle(run.order);

    const double epoch_lr = lr_at(cfg, static_cast<double>(e - 1));
    double loss_sum = 0;
    std::int64_t correct = 0;
    for (std::size_t step = 0; step < run.steps_per_epoch; ++step) {
      if (stop_requested()) {  // signal or walltime: the partial epoch is dropped
        run.result.interrupted = true;
        return;
      }
      const std::size_t start = step * static_cast<std::size_t>(run.B);
      const Eigen::Index b =
          static_cast<Eigen::Index>(std::min(static_cast<std::size_t>(run.B), run.n_train - start));
      const std::span<const std::uint32_t> idx(run.order.data() + start, static_cast<std::size_t>(b));
      gather_batch(run.train_set, idx, run.xb, run.transform, run.augment_rng);
      for (std::size_t j = 0; j < idx.size(); ++j) run.yb[j] = run.train_set.labels[idx[j]];
      const auto x = run.xb.leftCols(b);
      auto dl = run.dlogits.leftCols(b);
      const double progress =
          static_cast<double>(e - 1) + static_cast<double>(step) / static_cast<double>(run.steps_per_epoch);
      opt.set_lr(lr_at(cfg, progress));
      // After the first step, the quantizers reuse what the optimizer's update took of the
      // latent values (TWN's sum |W|, TTQ's max |W|): the same bits, one pass fewer.
      if (step == 0) {
        model.refresh();
      } else {
        for (Weight* w : quantized) w->refresh_after_update();
      }
      const kernels::LossResult r = kernels::softmax_cross_entropy(
          model.forward(x), std::span<const std::uint8_t>(run.yb.data(), static_cast<std::size_t>(b)), dl);
      if (!std::isfinite(r.loss)) {
        run.result.diverged = true;
        return;
      }
      // The quantized weights add stage.reg's gradient in their backward (regularized).
      if (stage.reg != nullptr) stage.reg->set_progress(progress);
      model.backward(x, dl);
      opt.step();
      for (Weight* w : quantized) w->after_step();
      loss_sum += r.loss * static_cast<double>(b);
      correct += r.correct;
    }

    ++run.epochs_done;
    EpochMetrics m;
    m.epoch = run.epochs_done;
    m.stage = stage.name;
    const Evaluation test = evaluate_deployed(run, inference);
    if (stage.eval_continuous) {
      const Evaluation cont = evaluate_continuous(run, inference);
      m.test_loss_continuous = cont.loss;
      m.test_acc_continuous = cont.accuracy;
    }
    if (!test.finite) {
      run.result.diverged = true;
      return;
    }
    m.train_loss = loss_sum / static_cast<double>(run.n_train);  // cross-entropy per sample
    m.train_acc = static_cast<double>(correct) / static_cast<double>(run.n_train);
    m.test_loss = test.loss;
    m.test_acc = test.accuracy;
    m.reg_penalty = penalty(stage.reg, quantized);
    m.sparsity = deployed_sparsity(model);
    m.layers = layer_stats(model);
    const std::vector<Weight*> weights = model.weights();
    for (std::size_t i = 0; i < m.layers.size() && i < run.init_codes.size(); ++i)
      m.layers[i].codes_changed = codes_changed(weights[i]->deployed(), run.init_codes[i]);
    m.lr = epoch_lr;
    m.seconds = seconds_since(t_epoch);
    run.result.epochs.push_back(m);
    // Saved before the epoch is reported: a store that misses it gets it again on resume.
    if (run.checkpointing.save && run.epochs_done < run.last_epoch) {
      run.checkpointing.save(capture_state(Progress{run.epochs_done, phase, e}, model, opt, run.streams,
                                           run.result.epochs, run.result.stages, run.init_codes));
    }
    if (run.on_epoch) run.on_epoch(m);
  }
}

// The run as its method's stages see it.
class Runner final : public StageRunner {
 public:
  explicit Runner(Run& run) : run_(run) {}
  const TrainConfig& config() const override { return run_.cfg; }
  Model& model() override { return run_.model; }
  bool passed(int phase) const override { return run_.passed(phase); }
  bool stopped() const override { return run_.stopped(); }
  void train_stage(int phase, const StageSpec& stage) override { core::train_stage(run_, phase, stage); }
  void record(const std::string& name, StageEval eval, bool inference) override {
    add_stage_metrics(run_, name,
                      eval == StageEval::kContinuous ? evaluate_continuous(run_, inference)
                                                     : evaluate_deployed(run_, inference));
  }

 private:
  Run& run_;
};

}  // namespace

int planned_epochs(const TrainConfig& cfg) { return find_method(cfg.method).planned_epochs(cfg); }

TrainResult train(const TrainConfig& cfg, const DataSplit& data, const EpochCallback& on_epoch,
                  const Checkpointing& checkpointing, const WarmStart& warm_start) {
  check_config(cfg);
  check_data(cfg, data);
  // Process-wide, so set for every run. With 1 Eigen never enters an OpenMP region, and the
  // OpenMP runtime creates no threads.
  Eigen::setNbThreads(cfg.threads);

  Dataset train_subset, test_subset;
  const Dataset& train_set = limited_subset(data.train, cfg.train_limit, train_subset) ? train_subset : data.train;
  const Dataset& test_raw = limited_subset(data.test, cfg.test_limit, test_subset) ? test_subset : data.test;
  Rng init_rng(derive_seed(cfg.seed, "init"));
  Model model =
      make_model(cfg, train_set.channels, train_set.height, train_set.width, train_set.num_classes, init_rng);
  if (warm_start.tensors != nullptr && checkpointing.resume == nullptr)
    load_stored_tensors(model, *warm_start.tensors, warm_start.source);
  apply_method(model, cfg);

  const std::size_t n_train = train_set.size();
  const std::size_t n_test = test_raw.size();
  // Statistics of the samples this run trains on (after train_limit), as a PyTorch recipe
  // computes them on its training subset.
  ChannelStats stats;
  Dataset test_normalized;
  if (cfg.normalize) {
    stats = channel_stats(train_set, static_cast<std::int64_t>(n_train));
    test_normalized = normalized_prefix(test_raw, n_test, stats);
  }
  Run run(cfg, train_set, cfg.normalize ? test_normalized : test_raw, on_epoch, model);
  run.n_train = n_train;
  run.n_test = n_test;
  run.B = cfg.batch_size;
  run.steps_per_epoch = (n_train + static_cast<std::size_t>(run.B) - 1) / static_cast<std::size_t>(run.B);
  run.transform.augment = cfg.augment;
  run.transform.crop_padding = cfg.crop_padding;
  run.transform.stats = cfg.normalize ? &stats : nullptr;
  // Everything the step touches is allocated here, once.
  run.xb.resize(model.input_size(), run.B);
  run.dlogits.resize(model.output_size(), run.B);
  run.yb.resize(static_cast<std::size_t>(run.B));
  run.order.resize(n_train);
  run.streams = {{"shuffle", &run.shuffle_rng}, {"augment", &run.augment_rng}};
  for (const auto& stream : model_streams(model)) run.streams.push_back(stream);
  run.checkpointing = checkpointing;
  run.last_epoch = planned_epochs(cfg);
  if (checkpointing.resume != nullptr) {
    const TrainState& state = *checkpointing.resume;
    restore_model_state(state, model, run.streams);
    restore_history(state, run.result.epochs, run.result.stages);
    run.resume = state_progress(state);
    run.epochs_done = run.resume->epochs_done;
    run.init_codes = restore_init_codes(state, model);
    if (on_epoch) {
      for (const EpochMetrics& m : run.result.epochs) on_epoch(m);
    }
  }

  if (checkpointing.resume == nullptr) {
    // Read after apply_method refreshed every weight: computing the deployed matrix draws
    // from no random stream.
    for (const Weight* w : model.weights()) run.init_codes.push_back(deployed_codes(*w));
  }

  const auto t_start = std::chrono::steady_clock::now();
  Runner runner(run);
  find_method(cfg.method).train(runner);
  TrainResult& result = run.result;
  result.train_seconds = seconds_since(t_start);

  model.refresh();
  model.set_training(false);  // the exported model is the deployed one (running statistics)
  model.use_deployed(true);
  summarize_weights(model, result);
  result.weights = export_weights(model);
  for (NamedTensor& t : result.weights) {
    if (!t.attrs.empty()) t.attrs.emplace_back("method", cfg.method);  // the weight matrices
  }
  return std::move(result);
}

}  // namespace ternbench::core
