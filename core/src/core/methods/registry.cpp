#include <memory>
#include <string>

#include "ternbench/base/error.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/train/optimizer.hpp"

namespace ternbench::core {

// Defined in the method files of this folder, one each.
const Method& fp_method();
const Method& binaryconnect_method();
const Method& bwn_method();
const Method& twn_method();
const Method& ttq_method();
const Method& sca_method();
const Method& faraone_method();

const std::vector<const Method*>& methods() {
  static const std::vector<const Method*> all = {&fp_method(),  &binaryconnect_method(), &bwn_method(),
                                                 &twn_method(), &ttq_method(),           &sca_method(),
                                                 &faraone_method()};
  return all;
}

const Method* lookup_method(const std::string& name) {
  for (const Method* m : methods())
    if (name == m->name()) return m;
  return nullptr;
}

const Method& find_method(const std::string& name) {
  if (const Method* m = lookup_method(name)) return *m;
  std::string valid;
  for (const Method* m : methods()) valid += (valid.empty() ? "" : ", ") + std::string(m->name());
  throw Error("method '" + name + "' is unknown (valid: " + valid + ")");
}

void Method::adopt(Weight& w, const TrainConfig& cfg, const QuantizerSite& site) const {
  w.set_quantizer(quantizer(cfg, site));
  w.init_latent();
}

void Method::train(StageRunner& run) const {
  const std::unique_ptr<Optimizer> opt = make_optimizer(run.config(), run.model().params());
  run.train_stage(0, StageSpec{"train", run.config().epochs, opt.get(), nullptr, false, false});
  if (!run.stopped()) run.record("final", StageEval::kDeployed);
}

}  // namespace ternbench::core
