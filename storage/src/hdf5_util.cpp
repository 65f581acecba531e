#include "hdf5_util.hpp"

#include <algorithm>

#include "ternbench/base/error.hpp"

namespace ternbench::storage::h5 {
namespace {

// The outermost entry says what failed ("unable to create dataset"), the innermost why
// ("file signature not found"); together they make one readable line.
struct StackEnds {
  std::string outer, inner;
};

herr_t note_entry(unsigned n, const H5E_error2_t* err, void* out) {
  auto* ends = static_cast<StackEnds*>(out);
  if (err == nullptr || err->desc == nullptr) return 0;
  if (n == 0) ends->inner = err->desc;
  ends->outer = err->desc;
  return 0;
}

std::string stack_reason() {
  StackEnds ends;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, note_entry, &ends);
  if (ends.outer.empty() || ends.outer == ends.inner) return ends.inner;
  return ends.outer + " (" + ends.inner + ")";
}

}  // namespace

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    release();
    id_ = o.id_;
    closer_ = o.closer_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::release() noexcept {
  if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  id_ = H5I_INVALID_HID;
}

void Handle::close(const std::string& path, std::string_view call) {
  const hid_t id = id_;
  id_ = H5I_INVALID_HID;
  if (id >= 0 && closer_ != nullptr) check(closer_(id), path, call);
}

std::mutex& library_mutex() {
  static std::mutex m;
  return m;
}

void silence_library_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::string describe_failure(const std::string& path, std::string_view call) {
  std::string msg = path + ": " + std::string(call) + " failed";
  if (const std::string why = stack_reason(); !why.empty()) msg += ": " + why;
  return msg;
}

[[noreturn]] void fail(const std::string& path, std::string_view call) {
  throw StorageError(describe_failure(path, call));
}

void check(herr_t rc, const std::string& path, std::string_view call) {
  if (rc < 0) fail(path, call);
}

Handle make(hid_t id, Handle::Closer closer, const std::string& path, std::string_view call) {
  if (id < 0) fail(path, call);
  return Handle(id, closer);
}

void write_attr(hid_t obj, const std::string& path, const std::string& name, const AttrValue& value, bool int32) {
  const std::string what = "(" + name + ")";
  Handle space = make(H5Screate(H5S_SCALAR), H5Sclose, path, "H5Screate");
  if (const auto* str = std::get_if<std::string>(&value)) {
    // Variable-length UTF-8: h5py returns it as str, whatever its length.
    Handle type = make(H5Tcopy(H5T_C_S1), H5Tclose, path, "H5Tcopy");
    check(H5Tset_size(type.get(), H5T_VARIABLE), path, "H5Tset_size");
    check(H5Tset_cset(type.get(), H5T_CSET_UTF8), path, "H5Tset_cset");
    Handle attr = make(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                       path, "H5Acreate2" + what);
    const char* p = str->c_str();
    check(H5Awrite(attr.get(), type.get(), &p), path, "H5Awrite" + what);
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    Handle attr = make(H5Acreate2(obj, name.c_str(), int32 ? H5T_STD_I32LE : H5T_STD_I64LE, space.get(), H5P_DEFAULT,
                                  H5P_DEFAULT),
                       H5Aclose, path, "H5Acreate2" + what);
    check(H5Awrite(attr.get(), H5T_NATIVE_INT64, i), path, "H5Awrite" + what);
  } else {
    Handle attr = make(H5Acreate2(obj, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                       path, "H5Acreate2" + what);
    const double d = std::get<double>(value);
    check(H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, &d), path, "H5Awrite" + what);
  }
}

namespace {

std::string read_string(hid_t attr, hid_t type, const std::string& path, const std::string& call) {
  const htri_t vlen = H5Tis_variable_str(type);
  check(vlen, path, "H5Tis_variable_str");
  if (vlen > 0) {
    // Reading with the file's own type avoids an ASCII/UTF-8 conversion HDF5 does not have.
    char* p = nullptr;
    check(H5Aread(attr, type, &p), path, call);
    std::string value = p != nullptr ? p : "";
    H5free_memory(p);
    return value;
  }
  // Fixed-length (as numpy bytes attributes are stored): read the bytes, drop NUL padding.
  std::string value(H5Tget_size(type), '\0');
  check(H5Aread(attr, type, value.data()), path, call);
  value.erase(std::find(value.begin(), value.end(), '\0'), value.end());
  return value;
}

}  // namespace

std::vector<std::pair<std::string, AttrValue>> read_attrs(hid_t obj, const std::string& path,
                                                          const std::string& owner) {
  H5O_info_t info;
  check(H5Oget_info2(obj, &info, H5O_INFO_NUM_ATTRS), path, "H5Oget_info2(" + owner + ")");
  std::vector<std::pair<std::string, AttrValue>> out;
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    Handle attr = make(H5Aopen_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                       path, "H5Aopen_by_idx(" + owner + ")");
    const ssize_t len = H5Aget_name(attr.get(), 0, nullptr);
    if (len < 0) fail(path, "H5Aget_name(" + owner + ")");
    std::string name(static_cast<std::size_t>(len) + 1, '\0');
    if (H5Aget_name(attr.get(), name.size(), name.data()) < 0) fail(path, "H5Aget_name(" + owner + ")");
    name.resize(static_cast<std::size_t>(len));
    const std::string call = "H5Aread(" + name + " of " + owner + ")";
    Handle type = make(H5Aget_type(attr.get()), H5Tclose, path, "H5Aget_type");
    Handle space = make(H5Aget_space(attr.get()), H5Sclose, path, "H5Aget_space");
    const H5T_class_t cls = H5Tget_class(type.get());
    // One value is read into one variable: any other shape would overrun it.
    if (H5Sget_simple_extent_type(space.get()) != H5S_SCALAR ||
        (cls != H5T_STRING && cls != H5T_INTEGER && cls != H5T_FLOAT)) {
      throw StorageError(path + ": attribute " + name + " of " + owner +
                         " is not a single string, integer or float, which is all ternbench writes; the file "
                         "was edited, restore it from a copy or train the run again");
    }
    if (cls == H5T_STRING) {
      out.emplace_back(name, read_string(attr.get(), type.get(), path, call));
    } else if (cls == H5T_INTEGER) {
      std::int64_t v = 0;
      check(H5Aread(attr.get(), H5T_NATIVE_INT64, &v), path, call);
      out.emplace_back(name, v);
    } else {
      double v = 0;
      check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v), path, call);
      out.emplace_back(name, v);
    }
  }
  return out;
}

}  // namespace ternbench::storage::h5
