#pragma once
// Loading a named dataset from its files under the data root, and its fingerprint.
#include <string>
#include <vector>

#include "ternbench/core/train/dataset.hpp"

namespace ternbench::data {

using core::DataSplit;
using core::Dataset;

// SHA-256 hex of the file hashes, each followed by "\n" (the fingerprint of DataSplit).
std::string combine_fingerprint(const std::vector<std::string>& file_hashes);

// The fingerprint load_dataset(name, root) would give, from the files alone (no float
// conversion). Throws the DataErrors loading throws.
std::string dataset_fingerprint(const std::string& name, const std::string& root);

// $TERNBENCH_DATA, or "./data" when unset.
std::string data_root();

// Directory holding one dataset's IDX files under root ("<root>/mnist").
std::string dataset_dir(const std::string& root, const std::string& name);

// Reads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
// t10k-labels-idx1-ubyte (each optionally with .gz) from dir. Throws DataError naming the
// file and the fix when a file is missing, truncated, corrupt or the pair does not match.
DataSplit load_idx_dir(const std::string& dir, const std::string& name);

// Loads a named dataset from root (no download; see data_fetch.hpp).
DataSplit load_dataset(const std::string& name, const std::string& root);

// Throws the DataError load_dataset(name, root) would throw for a missing, misplaced or
// damaged file, without converting anything: every file's presence, header and size (a
// gzip file is inflated through a small buffer, nothing is kept), the labels, and that the
// files match each other. `run` calls it before anything is written.
void check_dataset(const std::string& name, const std::string& root);

}  // namespace ternbench::data
