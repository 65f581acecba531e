#include "ternbench/datalib/loading.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"
#include "ternbench/datalib/data_fetch.hpp"
#include "ternbench/datalib/cifar.hpp"
#include "ternbench/datalib/idx.hpp"

namespace ternbench::data {
namespace {

namespace fs = std::filesystem;

bool is_known(const std::string& name) {
  const auto names = fetchable_datasets();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The IDX datasets ternbench fetches, and cifar10; anything else is a typo.
void require_known(const std::string& name) {
  if (name == "cifar10" || is_known(name)) return;
  std::string known;
  for (const auto& n : fetchable_datasets()) known += n + ", ";
  throw DataError("unknown dataset '" + name + "'; known: " + known + "cifar10");
}

// A <root>/mnist that still holds the subset would train "mnist" runs on it.
const std::string& refuse_subset_as_mnist(const std::string& name, const std::string& dir, const std::string& fp) {
  if (name == "mnist" && fp == pinned_fingerprint("mnist-10k")) throw subset_in_mnist_dir(dir);
  return fp;
}

// SHA-256 of the IDX file's bytes as they decompress: the header rebuilt from the dims
// (read_idx accepted exactly header + payload) followed by the payload.
std::string idx_sha256(const IdxArray& a) {
  std::string header = {0, 0, 0x08, static_cast<char>(a.dims.size())};
  for (const std::uint32_t d : a.dims)
    for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<char>((d >> shift) & 0xff));
  Sha256 h;
  h.update(header);
  h.update(a.data.data(), a.data.size());
  return h.hex_digest();
}

// What the user can do about a missing file depends on whether ternbench can fetch it.
std::string fix_missing(const std::string& name, const std::string& root) {
  if (is_known(name))
    return "run `" + fetch_command(name, root) + "`, or set TERNBENCH_DATA (or --data) to the directory that holds " +
           name + "/";
  return "put the four official IDX files (optionally .gz) there";
}

std::string root_of(const std::string& dir) { return fs::path(dir).parent_path().string(); }

void require_dir(const std::string& dir, const std::string& name) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  throw DataError(dir + (fs::exists(dir, ec) ? ": is not a directory; " : ": no such directory; ") +
                  fix_missing(name, root_of(dir)));
}

// The official names with or without .gz, so users can drop in the files as published.
std::string find_file(const std::string& dir, const std::string& base, const std::string& name) {
  const fs::path plain = fs::path(dir) / base;
  if (fs::exists(plain)) return plain.string();
  const fs::path gz = fs::path(dir) / (base + ".gz");
  if (fs::exists(gz)) return gz.string();
  throw DataError(plain.string() + ": missing (also looked for " + base + ".gz); " + fix_missing(name, root_of(dir)));
}

// The checks of an images file and its labels file against each other, from their dims and
// the label bytes.
void check_pair(const std::string& img_path, const std::vector<std::uint32_t>& img, const std::string& lab_path,
                const IdxArray& lab) {
  if (img.size() != 3)
    throw DataError(img_path + ": has " + std::to_string(img.size()) +
                    " dimensions, images need 3 (count, rows, columns); is this a labels file?");
  if (lab.dims.size() != 1)
    throw DataError(lab_path + ": has " + std::to_string(lab.dims.size()) +
                    " dimensions, labels need 1; is this an images file?");
  if (img[0] != lab.dims[0])
    throw DataError(lab_path + ": holds " + std::to_string(lab.dims[0]) + " labels but " + img_path + " holds " +
                    std::to_string(img[0]) + " images; both files must come from the same release");
  for (std::size_t i = 0; i < lab.data.size(); ++i)
    if (lab.data[i] >= 10)
      throw DataError(lab_path + ": label " + std::to_string(lab.data[i]) + " at index " + std::to_string(i) +
                      " is outside 0..9; the file is not an MNIST-family labels file");
}

void check_same_size(const std::string& dir, std::uint32_t train_h, std::uint32_t train_w, std::uint32_t test_h,
                     std::uint32_t test_w) {
  if (train_h != test_h || train_w != test_w)
    throw DataError(dir + ": train images are " + std::to_string(train_h) + "x" + std::to_string(train_w) +
                    " but t10k images are " + std::to_string(test_h) + "x" + std::to_string(test_w) +
                    "; both files must come from the same dataset");
}

Dataset load_pair(const std::string& dir, const std::string& prefix, const std::string& name,
                  std::vector<std::string>& hashes) {
  const std::string img_path = find_file(dir, prefix + "-images-idx3-ubyte", name);
  const std::string lab_path = find_file(dir, prefix + "-labels-idx1-ubyte", name);
  const IdxArray img = read_idx(img_path);
  const IdxArray lab = read_idx(lab_path);
  hashes.push_back(idx_sha256(img));
  hashes.push_back(idx_sha256(lab));
  check_pair(img_path, img.dims, lab_path, lab);
  Dataset d;
  d.channels = 1;
  d.height = static_cast<int>(img.dims[1]);
  d.width = static_cast<int>(img.dims[2]);
  d.num_classes = 10;
  const std::size_t n = img.dims[0];
  const auto pixels = static_cast<Eigen::Index>(std::size_t(img.dims[1]) * img.dims[2]);
  d.images.resize(pixels, static_cast<Eigen::Index>(n));
  // IDX is sample-major and Eigen column-major, so sample i's pixels are column i as is.
  float* out = d.images.data();
  for (std::size_t k = 0; k < img.data.size(); ++k) out[k] = static_cast<float>(img.data[k]) / 255.0f;
  d.labels = lab.data;
  return d;
}

}  // namespace

std::string data_root() {
  const char* env = std::getenv("TERNBENCH_DATA");
  if (env != nullptr && *env != '\0') return env;
  return "./data";
}

std::string dataset_dir(const std::string& root, const std::string& name) {
  return (fs::path(root) / name).string();
}

std::string combine_fingerprint(const std::vector<std::string>& file_hashes) {
  std::string text;
  for (const auto& h : file_hashes) text.append(h).append("\n");
  return sha256_hex(text);
}

DataSplit load_idx_dir(const std::string& dir, const std::string& name) {
  require_dir(dir, name);
  DataSplit s;
  s.name = name;
  std::vector<std::string> hashes;
  s.train = load_pair(dir, "train", name, hashes);
  s.test = load_pair(dir, "t10k", name, hashes);
  s.fingerprint = combine_fingerprint(hashes);
  check_same_size(dir, static_cast<std::uint32_t>(s.train.height), static_cast<std::uint32_t>(s.train.width),
                  static_cast<std::uint32_t>(s.test.height), static_cast<std::uint32_t>(s.test.width));
  return s;
}

DataSplit load_dataset(const std::string& name, const std::string& root) {
  require_known(name);
  const std::string dir = dataset_dir(root, name);
  if (name == "cifar10") return load_cifar10_dir(dir);
  DataSplit s = load_idx_dir(dir, name);
  refuse_subset_as_mnist(name, dir, s.fingerprint);
  return s;
}

std::string dataset_fingerprint(const std::string& name, const std::string& root) {
  require_known(name);
  const std::string dir = dataset_dir(root, name);
  if (name == "cifar10") return cifar10_fingerprint(dir);
  require_dir(dir, name);
  std::vector<std::string> hashes;
  for (const char* prefix : {"train", "t10k"}) {
    hashes.push_back(idx_sha256(read_idx(find_file(dir, std::string(prefix) + "-images-idx3-ubyte", name))));
    hashes.push_back(idx_sha256(read_idx(find_file(dir, std::string(prefix) + "-labels-idx1-ubyte", name))));
  }
  return refuse_subset_as_mnist(name, dir, combine_fingerprint(hashes));
}

void check_dataset(const std::string& name, const std::string& root) {
  require_known(name);
  const std::string dir = dataset_dir(root, name);
  if (name == "cifar10") return check_cifar10_dir(dir);
  require_dir(dir, name);
  // Every path first, so a missing file is reported before any reading.
  std::vector<std::string> paths;
  for (const char* prefix : {"train", "t10k"}) {
    paths.push_back(find_file(dir, std::string(prefix) + "-images-idx3-ubyte", name));
    paths.push_back(find_file(dir, std::string(prefix) + "-labels-idx1-ubyte", name));
  }
  std::vector<std::vector<std::uint32_t>> images;
  for (std::size_t i = 0; i < paths.size(); i += 2) {
    images.push_back(check_idx(paths[i]));
    check_pair(paths[i], images.back(), paths[i + 1], read_idx(paths[i + 1]));  // labels are 1 byte per image
  }
  check_same_size(dir, images[0][1], images[0][2], images[1][1], images[1][2]);
  // The old subset in mnist/ is refused by its fingerprint; only its counts make that read worth it.
  if (name == "mnist" && images[0][0] == 8004 && images[1][0] == 1996) (void)dataset_fingerprint(name, root);
}

}  // namespace ternbench::data
