#include "ternbench/datalib/cifar.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

#include "data_file.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"

namespace ternbench::data {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUrl = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
constexpr std::size_t kPixels = kCifarRecordBytes - 1;
// Every official batch file holds 10,000 records. No header declares a size, so this is the
// bound on what one file may inflate to: a gzip bomb stops here, not at the machine's memory.
constexpr std::size_t kMaxRecordsPerFile = 10000;

std::string fix_corrupt() {
  return std::string("replace it with an intact copy from the binary version, ") + kUrl;
}

// One file's raw records, checked: a whole number of them, labels in range.
struct Records {
  std::vector<std::uint8_t> bytes;
  std::size_t count = 0;
};

// Calls take(bytes, n) for each decompressed chunk of the file, in order, and returns
// whether it was gzip. gzread reads gzip and plain files alike (it looks at the magic
// bytes), so official files and compressed copies of them need no separate path.
template <class Take>
bool for_each_chunk(const std::string& path, Take&& take) {
  require_regular_file(path, "a CIFAR-10 batch file", "remove it and " + fix_corrupt());
  // Closed also when take() throws (a bad label found while checking).
  const std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  if (f == nullptr) {
    const int err = errno;
    throw DataError(path + ": cannot open (" + std::strerror(err) + "); " +
                    (fs::exists(path) ? "check the file's permissions" : "check the path"));
  }
  gzbuffer(f.get(), 1u << 20);
  constexpr unsigned kChunk = 1u << 20;
  std::vector<std::uint8_t> buf(kChunk);
  std::size_t total = 0;
  for (;;) {
    const int got = gzread(f.get(), buf.data(), kChunk);
    if (got <= 0) break;
    if (total + static_cast<std::size_t>(got) > kMaxRecordsPerFile * kCifarRecordBytes)
      throw DataError(path + ": holds more than " + std::to_string(kMaxRecordsPerFile) + " records of " +
                      std::to_string(kCifarRecordBytes) + " bytes" + (gzdirect(f.get()) == 0 ? " after gunzip" : "") +
                      ", the size of every CIFAR-10 batch file; " + fix_corrupt());
    take(buf.data(), static_cast<std::size_t>(got));
    total += static_cast<std::size_t>(got);
  }
  int errnum = Z_OK;
  const char* msg = gzerror(f.get(), &errnum);
  const std::string zmsg = msg != nullptr ? msg : "";
  const bool compressed = gzdirect(f.get()) == 0;
  if (errnum == Z_BUF_ERROR)
    throw DataError(path + ": gzip stream is truncated (ends after " + std::to_string(total) +
                    " decompressed bytes); " + fix_corrupt());
  if (errnum == Z_ERRNO) {
    throw DataError(path + ": read error (" + zmsg + "); check the disk and the file's permissions");
  }
  if (errnum != Z_OK) throw DataError(path + ": gzip data is corrupt (" + zmsg + "); " + fix_corrupt());
  return compressed;
}

void check_size(const std::string& path, std::size_t n, bool gz) {
  const std::string where = gz ? " after gunzip" : "";
  if (n == 0) throw DataError(path + ": empty (0 bytes" + where + "); " + fix_corrupt());
  if (n % kCifarRecordBytes != 0)
    throw DataError(path + ": truncated: " + std::to_string(n) + " bytes" + where + " is not a whole number of " +
                    std::to_string(kCifarRecordBytes) + "-byte records (" +
                    std::to_string(n / kCifarRecordBytes) + " records and " +
                    std::to_string(n % kCifarRecordBytes) + " bytes); " + fix_corrupt());
}

void check_label(const std::string& path, std::uint8_t label, std::size_t record) {
  if (label > 9)
    throw DataError(path + ": label " + std::to_string(label) + " in record " + std::to_string(record) +
                    " is outside 0..9; this is not a CIFAR-10 binary file (CIFAR-100's has two label bytes "
                    "per record); use the CIFAR-10 binary version, " + kUrl);
}

Records read_records(const std::string& path) {
  Records r;
  std::error_code ec;
  const std::uintmax_t on_disk = fs::file_size(path, ec);
  if (!ec) r.bytes.reserve(static_cast<std::size_t>(on_disk));  // exact for plain files, a floor for gzip
  const bool gz =
      for_each_chunk(path, [&](const std::uint8_t* p, std::size_t n) { r.bytes.insert(r.bytes.end(), p, p + n); });
  check_size(path, r.bytes.size(), gz);
  r.count = r.bytes.size() / kCifarRecordBytes;
  for (std::size_t i = 0; i < r.count; ++i) check_label(path, r.bytes[i * kCifarRecordBytes], i);
  return r;
}

// read_records' checks, streamed: nothing is kept, so a file is checked in 1 MB of memory.
void check_records(const std::string& path) {
  std::size_t offset = 0;
  const bool gz = for_each_chunk(path, [&](const std::uint8_t* p, std::size_t n) {
    // Labels are the bytes at multiples of the record size.
    const std::size_t first = (kCifarRecordBytes - offset % kCifarRecordBytes) % kCifarRecordBytes;
    for (std::size_t k = first; k < n; k += kCifarRecordBytes)
      check_label(path, p[k], (offset + k) / kCifarRecordBytes);
    offset += n;
  });
  check_size(path, offset, gz);
}

Dataset to_dataset(const std::vector<Records>& parts) {
  std::size_t total = 0;
  for (const auto& p : parts) total += p.count;
  TB_CHECK(total <= static_cast<std::size_t>(std::numeric_limits<Eigen::Index>::max()), "CIFAR-10: too many records");
  Dataset d;
  d.channels = kCifarChannels;
  d.height = kCifarSide;
  d.width = kCifarSide;
  d.num_classes = 10;
  d.images.resize(static_cast<Eigen::Index>(kPixels), static_cast<Eigen::Index>(total));
  d.labels.reserve(total);
  // The record's pixel order (plane by plane, rows within a plane) is already the CHW column.
  // Through Eigen maps rather than a pointer loop: a float store through a pointer may alias
  // the byte source as far as the compiler knows, which keeps a plain loop scalar.
  using Bytes = Eigen::Map<const Eigen::Array<std::uint8_t, Eigen::Dynamic, 1>>;
  Eigen::Index col = 0;
  for (const auto& p : parts) {
    for (std::size_t i = 0; i < p.count; ++i, ++col) {
      const std::uint8_t* rec = p.bytes.data() + i * kCifarRecordBytes;
      d.labels.push_back(rec[0]);
      d.images.col(col).array() = Bytes(rec + 1, static_cast<Eigen::Index>(kPixels)).cast<float>() / 255.0f;
    }
  }
  return d;
}

std::string fix_missing(const std::string& dir) {
  return std::string("download the CIFAR-10 binary version from ") + kUrl +
         ", unpack it and put data_batch_1.bin .. data_batch_5.bin and test_batch.bin (from its "
         "cifar-10-batches-bin/) in " + dir + " (ternbench reads $TERNBENCH_DATA/cifar10)";
}

std::string find_file(const std::string& dir, const std::string& base) {
  const fs::path plain = fs::path(dir) / base;
  if (fs::exists(plain)) return plain.string();
  const fs::path gz = fs::path(dir) / (base + ".gz");
  if (fs::exists(gz)) return gz.string();
  throw DataError(plain.string() + ": missing (also looked for " + base + ".gz); " + fix_missing(dir));
}

}  // namespace

const std::vector<std::string>& cifar10_train_files() {
  static const std::vector<std::string> names = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                                 "data_batch_4.bin", "data_batch_5.bin"};
  return names;
}

const std::string& cifar10_test_file() {
  static const std::string name = "test_batch.bin";
  return name;
}

Dataset read_cifar10_file(const std::string& path) {
  std::vector<Records> parts;
  parts.push_back(read_records(path));
  return to_dataset(parts);
}

std::string cifar10_fingerprint(const std::string& dir) {
  if (!fs::is_directory(dir)) throw DataError(dir + ": no such directory; " + fix_missing(dir));
  std::vector<std::string> hashes;
  for (const auto& name : cifar10_train_files()) hashes.push_back(sha256_file_hex(find_file(dir, name)));
  hashes.push_back(sha256_file_hex(find_file(dir, cifar10_test_file())));
  return combine_fingerprint(hashes);
}

DataSplit load_cifar10_dir(const std::string& dir) {
  if (!fs::is_directory(dir)) throw DataError(dir + ": no such directory; " + fix_missing(dir));
  // Every path is resolved first, so a missing file is reported before minutes of reading.
  std::vector<std::string> train_paths;
  for (const auto& name : cifar10_train_files()) train_paths.push_back(find_file(dir, name));
  const std::string test_path = find_file(dir, cifar10_test_file());
  DataSplit s;
  s.name = "cifar10";
  {
    std::vector<Records> parts;
    for (const auto& p : train_paths) parts.push_back(read_records(p));
    s.train = to_dataset(parts);
  }
  s.test = read_cifar10_file(test_path);
  s.fingerprint = cifar10_fingerprint(dir);
  return s;
}

void check_cifar10_dir(const std::string& dir) {
  if (!fs::is_directory(dir)) throw DataError(dir + ": no such directory; " + fix_missing(dir));
  std::vector<std::string> paths;
  for (const auto& name : cifar10_train_files()) paths.push_back(find_file(dir, name));
  paths.push_back(find_file(dir, cifar10_test_file()));
  for (const auto& p : paths) check_records(p);
}

}  // namespace ternbench::data
