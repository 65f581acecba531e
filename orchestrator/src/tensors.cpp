#include "tensors.hpp"

namespace ternbench::orchestrator {

std::vector<storage::Tensor> to_storage(std::vector<core::NamedTensor>&& in) {
  std::vector<storage::Tensor> out;
  out.reserve(in.size());
  for (auto& t : in) {
    storage::Tensor s{std::move(t.name), std::move(t.shape), std::move(t.data)};
    s.f64 = std::move(t.f64);
    s.u64 = std::move(t.u64);
    s.u8 = std::move(t.u8);
    for (auto& [key, value] : t.attrs) s.attrs.emplace_back(key, std::move(value));
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<core::NamedTensor> to_core(std::vector<storage::Tensor>&& in) {
  std::vector<core::NamedTensor> out;
  out.reserve(in.size());
  for (auto& t : in) {
    core::NamedTensor n;
    n.name = std::move(t.name);
    n.shape = std::move(t.shape);
    n.data = std::move(t.data);
    n.f64 = std::move(t.f64);
    n.u64 = std::move(t.u64);
    n.u8 = std::move(t.u8);
    for (auto& [key, value] : t.attrs) n.attrs.emplace_back(key, std::move(value));
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace ternbench::orchestrator
