#pragma once
// The CIFAR-10 binary version (https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz):
// data_batch_1.bin .. data_batch_5.bin (training) and test_batch.bin, each a sequence of
// 3073-byte records: 1 label byte (0..9), then 3072 pixel bytes: the red plane, the green
// plane, the blue plane, each 32x32 row-major. Official files hold 10,000 records; any whole
// number of records is accepted. Files may be gzip-compressed, with or without a .gz suffix.
#include <string>
#include <vector>

#include "ternbench/datalib/loading.hpp"

namespace ternbench::data {

inline constexpr int kCifarSide = 32;
inline constexpr int kCifarChannels = 3;
inline constexpr std::size_t kCifarRecordBytes = 1 + 3 * 32 * 32;

// The training files in the order they are concatenated, then the test file.
const std::vector<std::string>& cifar10_train_files();
const std::string& cifar10_test_file();

// Reads one file into a Dataset: channels 3, height = width = 32, 10 classes, images
// (3072, N) in CHW order (the file's own order) scaled by 1/255. Throws DataError
// "<path>: <what>; <fix>" when the file cannot be read, is empty, is not a whole number of
// records ("truncated: N bytes is not a whole number of 3073-byte records"), its gzip stream
// is damaged, or a label exceeds 9 (naming the record index).
Dataset read_cifar10_file(const std::string& path);

// Reads the five training files (concatenated in order) and the test file from dir, each
// as <name> or <name>.gz. Throws DataError naming a missing file and where to get it.
// DataSplit::fingerprint of the six batch files in dir (as stored, .gz or plain).
std::string cifar10_fingerprint(const std::string& dir);

DataSplit load_cifar10_dir(const std::string& dir);

// Throws the DataError load_cifar10_dir(dir) would throw, reading each file through a 1 MB
// buffer without keeping it (for checking the data before a sweep starts).
void check_cifar10_dir(const std::string& dir);

}  // namespace ternbench::data
