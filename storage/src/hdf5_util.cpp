#include "hdf5_util.hpp"

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

}  // namespace ternbench::storage::h5
