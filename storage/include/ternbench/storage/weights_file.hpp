#pragma once
// One HDF5 file per run: every layer's tensors as /<layer>/<param> float32 datasets in
// row-major order (h5py sees the model's shapes), plus provenance attributes.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ternbench::storage {

inline constexpr int kWeightsSchemaVersion = 1;

struct Tensor {
  std::string name;                 // "dense0/W": group "dense0", dataset "W"
  std::vector<std::int64_t> shape;  // row-major dims
  std::vector<float> data;          // product(shape) values
};

struct WeightsMeta {
  std::string run_key;
  std::string config_toml;
  std::string git_commit;
  int schema_version = kWeightsSchemaVersion;
};

// Writes path atomically: the data goes to "<path>.tmp.<pid>" and is renamed when complete.
// Creates the parent directory. Throws StorageError naming the path.
void write_weights(const std::string& path, const WeightsMeta& meta, const std::vector<Tensor>& tensors);

struct WeightsContent {
  WeightsMeta meta;
  std::vector<Tensor> tensors;  // sorted by name
};

// Reads a file written by write_weights. Throws StorageError naming the path when the file
// is missing, not HDF5, not a ternbench weights file, or newer than this binary.
WeightsContent read_weights(const std::string& path);

}  // namespace ternbench::storage
