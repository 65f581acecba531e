// CIFAR-10 binary files come from downloads and disks: whatever the bytes, plain or gzip,
// read_cifar10_file returns a dataset of whole records with labels 0..9 or throws a
// DataError naming the file. Any other exception, a crash, a leak or UB is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/datalib/cifar.hpp"

namespace td = ternbench::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ternbench::fuzz::ScratchDir dir("cifar");
  static const std::string path = dir.file("data_batch_1.bin");
  ternbench::fuzz::write_bytes(path, data, size);
  try {
    const td::Dataset d = td::read_cifar10_file(path);
    bool ok = d.images.rows() == static_cast<Eigen::Index>(td::kCifarRecordBytes - 1) &&
              d.images.cols() == static_cast<Eigen::Index>(d.labels.size()) && !d.labels.empty();
    for (const auto label : d.labels) ok = ok && label <= 9;
    if (!ok) ternbench::fuzz::finding("read_cifar10_file accepted a malformed dataset", path);
  } catch (const ternbench::DataError& e) {
    ternbench::fuzz::expect_names_file(e.what(), path);
  }
  return 0;
}
