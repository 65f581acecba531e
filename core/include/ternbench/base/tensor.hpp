#pragma once
// A tensor as the trainer produces it and the weights file stores it: one struct for both
// (core writes it, storage reads and writes it), so nothing is copied field by field.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ternbench {

using AttrValue = std::variant<std::string, std::int64_t, double>;

// Row-major (C order), so h5py sees the model's shape. Exactly one of data (float32: the
// weights), u8 (packed codes), f64 or u64 (checkpoint state float32 cannot hold exactly:
// metric history, RNG words) holds the values, and it decides the dataset's type. attrs
// become the dataset's HDF5 attributes (layer statistics, the codes' encoding).
struct Tensor {
  std::string name;                 // "dense0/W": group "dense0", dataset "W"
  std::vector<std::int64_t> shape;  // e.g. {out, in}
  std::vector<float> data;
  std::vector<std::uint8_t> u8{};
  std::vector<std::pair<std::string, AttrValue>> attrs{};
  std::vector<double> f64{};
  std::vector<std::uint64_t> u64{};

  std::size_t size() const {
    return !f64.empty() ? f64.size() : !u64.empty() ? u64.size() : !u8.empty() ? u8.size() : data.size();
  }
};

}  // namespace ternbench
