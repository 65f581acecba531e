// IDX files (MNIST family) come from downloads and disks: whatever the bytes, plain or
// gzip, read_idx returns an array whose dims match its data or throws a DataError naming
// the file. Any other exception, a crash, a leak or UB is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/datalib/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ternbench::fuzz::ScratchDir dir("idx");
  static const std::string path = dir.file("train-images-idx3-ubyte");
  ternbench::fuzz::write_bytes(path, data, size);
  try {
    const ternbench::data::IdxArray a = ternbench::data::read_idx(path);
    std::uint64_t n = 1;
    for (const std::uint32_t d : a.dims) n *= d;
    if (a.dims.empty() || n != a.data.size())
      ternbench::fuzz::finding("read_idx accepted an array whose dims do not match its data", path);
  } catch (const ternbench::DataError& e) {
    ternbench::fuzz::expect_names_file(e.what(), path);
  }
  return 0;
}
