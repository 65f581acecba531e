#pragma once
// One HDF5 file per run: every layer's tensors as /<layer>/<param> float32 datasets in
// row-major order (h5py sees the model's shapes), plus provenance attributes.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ternbench/base/tensor.hpp"

namespace ternbench::storage {

// Version 3: the file attribute "checksums" lists a SHA-256 for every dataset and every
// attribute (the file's and the datasets'), so no edit that changes what a file means goes
// unnoticed. Version 2 (uint8 codes, dataset attributes, checksum_sha256 over the datasets
// only) and version 1 (no checksum) files are still read (docs/weights.md, "Versions").
inline constexpr int kWeightsSchemaVersion = 3;

using Tensor = ternbench::Tensor;  // ternbench/base/tensor.hpp

struct WeightsMeta {
  std::string run_key;
  std::string config_toml;
  std::string git_commit;
  int schema_version = kWeightsSchemaVersion;
  int epoch = -1;  // checkpoints: epochs completed (attribute "epoch"); -1 = a final weights file
  // Fingerprint of the data the run trained on (attribute "data_sha256", docs/data.md); ""
  // in files written before datasets were identified by content, whose "mnist" is the
  // 10,000-image subset now named "mnist-10k".
  std::string data_sha256;
  // The model's layers as text (attribute "layer_stack", docs/models.md), so the file can be
  // rebuilt without ternbench; "" in files written before it was stored. Version 3 covers it
  // with the other attributes, so it needed no new version.
  std::string layer_stack;
};

// Writes path atomically: the data goes to "<path>.tmp.<pid>", is fsynced and renamed when
// complete. Creates the parent directory. Returns the SHA-256 (hex) of the file's bytes.
// Throws StorageError naming the path.
std::string write_weights(const std::string& path, const WeightsMeta& meta, const std::vector<Tensor>& tensors);

struct WeightsContent {
  WeightsMeta meta;
  std::vector<Tensor> tensors;  // sorted by name
};

// Reads a file written by write_weights. A bad file is bad input: throws DataError naming
// the path (and the dataset or attribute at fault) when the file is missing, not a regular
// file (checked before opening it: a FIFO would block), not HDF5, not a ternbench weights
// file, newer than this binary, or its contents do not match its version's checksum.
WeightsContent read_weights(const std::string& path);

}  // namespace ternbench::storage
