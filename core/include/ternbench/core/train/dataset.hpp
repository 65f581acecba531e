#pragma once
// In-memory image classification data, one sample per column. Reading and fetching the
// files is the data library's (ternbench/datalib/).
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace ternbench::core {

struct Dataset {
  int channels = 1, height = 28, width = 28;
  int num_classes = 10;
  Eigen::MatrixXf images;             // (channels*height*width, N), values in [0, 1]
  std::vector<std::uint8_t> labels;   // N labels in [0, num_classes)
  std::size_t size() const { return labels.size(); }
};

struct DataSplit {
  std::string name;  // "mnist", "fashion-mnist", or the directory the files came from
  Dataset train;
  Dataset test;
  // The dataset's identity (docs/data.md): SHA-256 over the SHA-256 of each file's content
  // (IDX: decompressed bytes, so a .gz copy has the plain copy's fingerprint), in the order
  // train images, train labels, test images, test labels (cifar10: the six batch files as
  // stored, train batches first).
  std::string fingerprint;
};

// The samples a run uses of d when `limit` (train_limit, test_limit) is set: `limit` of them,
// taken class by class in turn, each class in file order (label 0's first sample, label 1's
// first, ..., then every class's second, ...). A limit thus gives a class-balanced subset
// even of files sorted by class, as the npm-derived ones are. Returns false (out untouched)
// when limit <= 0 or limit >= d.size(): the run uses all of d.
bool limited_subset(const Dataset& d, int limit, Dataset& out);

// Keeps the first n samples (n <= 0 or n >= size keeps all).
void truncate(Dataset& d, int n);

}  // namespace ternbench::core
