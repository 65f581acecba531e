#pragma once
// RAII ids and checked calls for the HDF5 C API (private to tb::storage), after HighFive:
// every failing call becomes one StorageError line "<path>: <call> failed: <HDF5 reason>".
#include <hdf5.h>

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ternbench/base/tensor.hpp"

namespace ternbench::storage::h5 {

// Owns one hid_t and closes it with the matching H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) noexcept : id_(id), closer_(closer) {}
  ~Handle() { release(); }
  Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  // Closes now and reports failure; H5Fclose is where buffered writes can still fail.
  void close(const std::string& path, std::string_view call);

 private:
  void release() noexcept;
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// The library here is built without thread safety; callers hold this for every HDF5 use.
std::mutex& library_mutex();

// Stops HDF5 printing its error stack to stderr; our exceptions carry the reason instead.
void silence_library_errors();

// "<path>: <call> failed: <what HDF5 says> (<why>)", read right after the failing call.
std::string describe_failure(const std::string& path, std::string_view call);
[[noreturn]] void fail(const std::string& path, std::string_view call);
void check(herr_t rc, const std::string& path, std::string_view call);
Handle make(hid_t id, Handle::Closer closer, const std::string& path, std::string_view call);

// Attributes as ternbench writes them: scalar strings (variable-length UTF-8), integers and
// floats. Integers are written as int64 unless int32 is asked for.
void write_attr(hid_t obj, const std::string& path, const std::string& name, const AttrValue& value,
                bool int32 = false);

// Every attribute of obj, in name order; owner names obj in messages ("the file", "dense0/W").
// Strings come back without a fixed-length string's NUL padding, integers as int64, floats
// as double. Throws StorageError for any other kind of attribute, or one that is not scalar.
std::vector<std::pair<std::string, AttrValue>> read_attrs(hid_t obj, const std::string& path,
                                                          const std::string& owner);

}  // namespace ternbench::storage::h5
