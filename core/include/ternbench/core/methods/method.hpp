#pragma once
// The method registry: one Method per training method (fp, binaryconnect, bwn, twn, ttq,
// sca, faraone), each in its own file under src/core/methods/, listed once in registry.cpp.
// The trainer, the model and the config checks ask a method what it does instead of
// comparing its name. docs/methods.md ("Adding a method") names the files a new one touches.
#include <memory>
#include <string>
#include <vector>

#include "ternbench/core/methods/option.hpp"
#include "ternbench/core/methods/quantizer.hpp"
#include "ternbench/core/methods/regularizer.hpp"
#include "ternbench/core/train/train_config.hpp"
#include "ternbench/core/nn/weight.hpp"

namespace ternbench::core {

class Model;
class Optimizer;

// One training stage of a run: its name in the epochs table, its length, what steps and
// what regularizes (the latent matrix of every quantized weight).
struct StageSpec {
  std::string name;
  int epochs = 0;
  Optimizer* opt = nullptr;
  Regularizer* reg = nullptr;
  bool eval_continuous = false;  // also evaluate the training forward (SCA's tanh network)
  bool inference = false;        // train on the deployed weights (SCA's fine-tune)
};

// Which network a named evaluation (the stages table) measures.
enum class StageEval { kDeployed, kContinuous };

// What a method's stages ask of the run being trained. Phases number the stages (and the
// steps between them) in order, so that a resumed run skips the ones it has passed.
class StageRunner {
 public:
  virtual ~StageRunner() = default;
  virtual const TrainConfig& config() const = 0;
  virtual Model& model() = 0;
  // A resumed run has finished this phase and what follows it up to the next phase.
  virtual bool passed(int phase) const = 0;
  // The run diverged or was stopped by a signal or the walltime: no further stage runs.
  virtual bool stopped() const = 0;
  virtual void train_stage(int phase, const StageSpec& stage) = 0;
  // Evaluates the model and records it as the named stage; the weights are left in the
  // training mode `inference` for what follows.
  virtual void record(const std::string& name, StageEval eval, bool inference = false) = 0;
};

class Method {
 public:
  virtual ~Method() = default;
  virtual const char* name() const = 0;
  // The name people write in a paper: "BinaryConnect", "TWN", "SCA".
  virtual const char* title() const = 0;
  // The key whose sweep sets the method's sparsity (SCA's sca_alpha): reports chart sparsity
  // and accuracy against it; "" for none.
  virtual const char* control_key() const { return ""; }
  // How its models are naturally stored, as reports size them: "fp32", "binary",
  // "ternary 2-bit" (dense codes), or "sparse ternary" (the smallest sparse encoding).
  virtual const char* natural_encoding() const = 0;
  // Whether any weight is deployed quantized (fp: none).
  virtual bool quantizes() const { return true; }
  // Whether a run of this method can be the source of a warm start (init_from): every
  // method maps full-precision weights into its latent parameters, so only fp's qualify.
  virtual bool seeds_warm_starts() const { return false; }
  // The method's own [train] keys, each with its rule and help (option.hpp); the sweep
  // reader lists them under this method's name.
  virtual std::vector<MethodOption> options() const { return {}; }
  // Throws ternbench::Error ("train config: ...") for values of the method's options that
  // are valid one by one but not together; check_method_config runs the options' own rules.
  virtual void check(const TrainConfig& /*cfg*/) const {}
  virtual std::unique_ptr<Quantizer> quantizer(const TrainConfig& cfg, const QuantizerSite& site) const = 0;
  // The regularizer of the latent matrices, if the method has one (stage 1 for faraone).
  virtual std::unique_ptr<Regularizer> regularizer(const TrainConfig& /*cfg*/) const { return nullptr; }
  // Takes over a weight matrix the layer policy gives the method, after the random init or
  // the warm start: by default it installs the method's quantizer and maps the weights into
  // its latent parameters (Quantizer::init_latent).
  virtual void adopt(Weight& w, const TrainConfig& cfg, const QuantizerSite& site) const;
  // Epochs over every stage of the run.
  virtual int planned_epochs(const TrainConfig& cfg) const { return cfg.epochs; }
  // The run's stages; by default one stage "train" of cfg.epochs and the evaluation "final".
  virtual void train(StageRunner& run) const;
};

// Every registered method, in the order reports list them.
const std::vector<const Method*>& methods();
// The method of that name; throws ternbench::Error listing the valid names for another.
const Method& find_method(const std::string& name);
// The method of that name, or nullptr.
const Method* lookup_method(const std::string& name);

}  // namespace ternbench::core
