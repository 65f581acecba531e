#pragma once
// The checksums of weights files (docs/weights.md, "Checksum"), private to tb::storage.
// Version 3 lists one SHA-256 per item (file attribute, dataset, dataset attribute), so a
// refusal names the item that changed; version 2 hashed the datasets only, into one digest.
#include <string>
#include <utility>
#include <vector>

#include "ternbench/base/tensor.hpp"

namespace ternbench::storage {

using Attrs = std::vector<std::pair<std::string, AttrValue>>;

// The text of the version-3 attribute "checksums": "<sha256 hex> <item>\n" for every
// attribute of root (the file's, without "checksums" itself), every tensor and every
// tensor attribute, sorted by item. Items are "@<attr>", "<dataset>" and "<dataset>@<attr>".
std::string checksum_lines(const Attrs& root, const std::vector<Tensor>& tensors);

// Throws DataError naming path and the first item (in item order) whose checksum differs,
// that lines does not list, or that lines lists but the file lacks.
void verify_checksum_lines(const std::string& path, const std::string& lines, const Attrs& root,
                           const std::vector<Tensor>& tensors);

// Version 2's checksum_sha256: the datasets only, in name order, into one digest.
std::string checksum_v2(const std::vector<Tensor>& tensors);

}  // namespace ternbench::storage
