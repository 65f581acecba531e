#pragma once
#include <string>

namespace ternbench::storage {
// "hdf5=1.10.8 sqlite=3.40.1": the libraries this binary stores results with, as linked.
std::string library_versions();
}  // namespace ternbench::storage
