#include "ternbench/storage/weights_file.hpp"

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "hdf5_util.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"
#include "ternbench/storage/atomic_file.hpp"

namespace ternbench::storage {
namespace {

namespace fs = std::filesystem;
using h5::Handle;

constexpr const char* kVersionAttr = "schema_version";
constexpr const char* kChecksumAttr = "checksum_sha256";

// Names become HDF5 link paths relative to the root, so they must be plain "a/b" paths.
void validate(const std::string& path, const std::vector<Tensor>& tensors) {
  std::set<std::string> seen;
  for (const Tensor& t : tensors) {
    const std::string& n = t.name;
    const bool bad_name = n.empty() || n.front() == '/' || n.back() == '/' ||
                          n.find("//") != std::string::npos || n == "." ||
                          n.find("./") == 0 || n.find("/./") != std::string::npos;
    if (bad_name) throw StorageError(path + ": invalid tensor name '" + n + "' (expected \"layer/param\")");
    if (!seen.insert(n).second) throw StorageError(path + ": tensor '" + n + "' given twice");
    std::int64_t count = 1;
    for (std::int64_t d : t.shape) {
      if (d < 0) throw StorageError(path + ": tensor '" + n + "' has a negative dimension");
      count *= d;
    }
    const int kinds =
        (t.data.empty() ? 0 : 1) + (t.f64.empty() ? 0 : 1) + (t.u64.empty() ? 0 : 1) + (t.u8.empty() ? 0 : 1);
    if (kinds > 1) throw StorageError(path + ": tensor '" + n + "' holds values of more than one type");
    if (static_cast<std::size_t>(count) != t.size()) {
      throw StorageError(path + ": tensor '" + n + "' has " + std::to_string(t.size()) +
                         " values but its shape holds " + std::to_string(count));
    }
  }
}

void write_string_attr(hid_t obj, const std::string& path, const char* name, const std::string& value) {
  const std::string call = std::string("H5Acreate2(") + name + ")";
  // Variable-length UTF-8: h5py returns it as str, whatever its length.
  Handle type = h5::make(H5Tcopy(H5T_C_S1), H5Tclose, path, "H5Tcopy");
  h5::check(H5Tset_size(type.get(), H5T_VARIABLE), path, "H5Tset_size");
  h5::check(H5Tset_cset(type.get(), H5T_CSET_UTF8), path, "H5Tset_cset");
  Handle space = h5::make(H5Screate(H5S_SCALAR), H5Sclose, path, "H5Screate");
  Handle attr = h5::make(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                         H5Aclose, path, call);
  const char* p = value.c_str();
  h5::check(H5Awrite(attr.get(), type.get(), &p), path, std::string("H5Awrite(") + name + ")");
}

void write_int_attr(hid_t obj, const std::string& path, const char* name, int value) {
  Handle space = h5::make(H5Screate(H5S_SCALAR), H5Sclose, path, "H5Screate");
  Handle attr = h5::make(H5Acreate2(obj, name, H5T_STD_I32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                         H5Aclose, path, std::string("H5Acreate2(") + name + ")");
  h5::check(H5Awrite(attr.get(), H5T_NATIVE_INT, &value), path, std::string("H5Awrite(") + name + ")");
}

void write_double_attr(hid_t obj, const std::string& path, const char* name, double value) {
  Handle space = h5::make(H5Screate(H5S_SCALAR), H5Sclose, path, "H5Screate");
  Handle attr = h5::make(H5Acreate2(obj, name, H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                         H5Aclose, path, std::string("H5Acreate2(") + name + ")");
  h5::check(H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, &value), path, std::string("H5Awrite(") + name + ")");
}

void write_int64_attr(hid_t obj, const std::string& path, const char* name, std::int64_t value) {
  Handle space = h5::make(H5Screate(H5S_SCALAR), H5Sclose, path, "H5Screate");
  Handle attr = h5::make(H5Acreate2(obj, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                         H5Aclose, path, std::string("H5Acreate2(") + name + ")");
  h5::check(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), path, std::string("H5Awrite(") + name + ")");
}

// SHA-256 over every tensor in name order: name, element type, shape and raw values
// (little-endian, as x86-64 holds them). Attributes are not covered.
std::string content_checksum(std::vector<const Tensor*> tensors) {
  std::sort(tensors.begin(), tensors.end(), [](const Tensor* a, const Tensor* b) { return a->name < b->name; });
  Sha256 h;
  for (const Tensor* t : tensors) {
    h.update(t->name);
    h.update("\n", 1);
    const char* type = !t->f64.empty() ? "f64" : !t->u64.empty() ? "u64" : !t->u8.empty() ? "u8" : "f32";
    h.update(type, 3);
    for (const std::int64_t d : t->shape) h.update(&d, sizeof d);
    if (!t->f64.empty()) h.update(t->f64.data(), t->f64.size() * sizeof(double));
    if (!t->u64.empty()) h.update(t->u64.data(), t->u64.size() * sizeof(std::uint64_t));
    if (!t->u8.empty()) h.update(t->u8.data(), t->u8.size());
    if (!t->data.empty()) h.update(t->data.data(), t->data.size() * sizeof(float));
  }
  return h.hex_digest();
}

std::string content_checksum(const std::vector<Tensor>& tensors) {
  std::vector<const Tensor*> ps;
  for (const Tensor& t : tensors) ps.push_back(&t);
  return content_checksum(ps);
}

Handle make_space(const std::vector<std::int64_t>& shape, const std::string& path) {
  if (shape.empty()) return h5::make(H5Screate(H5S_SCALAR), H5Sclose, path, "H5Screate");
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  return h5::make(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, path,
                  "H5Screate_simple");
}

// Object headers carry modification times unless told otherwise; with them off, the same
// run writes a byte-identical file wherever and whenever it is trained.
Handle untimed(hid_t cls, const std::string& path) {
  Handle p = h5::make(H5Pcreate(cls), H5Pclose, path, "H5Pcreate");
  h5::check(H5Pset_obj_track_times(p.get(), 0), path, "H5Pset_obj_track_times");
  return p;
}

// The whole file as bytes: HDF5's core driver without a backing store keeps it in memory,
// so publishing it costs one write and one fsync, and its hash is taken from the bytes
// written instead of by reading the file back.
std::string file_image(const std::string& path, const WeightsMeta& meta, const std::vector<Tensor>& tensors) {
  Handle fcpl = untimed(H5P_FILE_CREATE, path);
  Handle gcpl = untimed(H5P_GROUP_CREATE, path);
  Handle dcpl = untimed(H5P_DATASET_CREATE, path);
  Handle fapl = h5::make(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, path, "H5Pcreate");
  h5::check(H5Pset_fapl_core(fapl.get(), 64 * 1024, 0), path, "H5Pset_fapl_core");
  Handle file = h5::make(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), H5Fclose, path,
                         "H5Fcreate(in memory)");
  for (const Tensor& t : tensors) {
    // Groups on the way ("dense0" of "dense0/W") are made here so they get the untimed gcpl.
    for (std::size_t slash = t.name.find('/'); slash != std::string::npos; slash = t.name.find('/', slash + 1)) {
      const std::string group = t.name.substr(0, slash);
      const htri_t exists = H5Lexists(file.get(), group.c_str(), H5P_DEFAULT);
      h5::check(exists, path, "H5Lexists(" + group + ")");
      if (exists == 0) {
        h5::make(H5Gcreate2(file.get(), group.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose, path,
                 "H5Gcreate2(" + group + ")");
      }
    }
    Handle space = make_space(t.shape, path);
    const hid_t file_type = !t.f64.empty()   ? H5T_IEEE_F64LE
                            : !t.u64.empty() ? H5T_STD_U64LE
                            : !t.u8.empty()  ? H5T_STD_U8LE
                                             : H5T_IEEE_F32LE;
    const hid_t mem_type = !t.f64.empty()   ? H5T_NATIVE_DOUBLE
                           : !t.u64.empty() ? H5T_NATIVE_UINT64
                           : !t.u8.empty()  ? H5T_NATIVE_UINT8
                                            : H5T_NATIVE_FLOAT;
    const void* values = !t.f64.empty()   ? static_cast<const void*>(t.f64.data())
                         : !t.u64.empty() ? static_cast<const void*>(t.u64.data())
                         : !t.u8.empty()  ? static_cast<const void*>(t.u8.data())
                                          : static_cast<const void*>(t.data.data());
    Handle dset = h5::make(H5Dcreate2(file.get(), t.name.c_str(), file_type, space.get(), H5P_DEFAULT,
                                      dcpl.get(), H5P_DEFAULT),
                           H5Dclose, path, "H5Dcreate2(" + t.name + ")");
    if (t.size() > 0) {
      h5::check(H5Dwrite(dset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), path,
                "H5Dwrite(" + t.name + ")");
    }
    for (const auto& [key, value] : t.attrs) {
      if (const auto* str = std::get_if<std::string>(&value)) {
        write_string_attr(dset.get(), path, key.c_str(), *str);
      } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
        write_int64_attr(dset.get(), path, key.c_str(), *i);
      } else {
        write_double_attr(dset.get(), path, key.c_str(), std::get<double>(value));
      }
    }
  }
  write_string_attr(file.get(), path, "run_key", meta.run_key);
  write_string_attr(file.get(), path, "config_toml", meta.config_toml);
  write_string_attr(file.get(), path, "git_commit", meta.git_commit);
  if (!meta.data_sha256.empty()) write_string_attr(file.get(), path, "data_sha256", meta.data_sha256);
  write_int_attr(file.get(), path, kVersionAttr, kWeightsSchemaVersion);
  if (meta.epoch >= 0) write_int_attr(file.get(), path, "epoch", meta.epoch);
  write_string_attr(file.get(), path, kChecksumAttr, content_checksum(tensors));
  h5::check(H5Fflush(file.get(), H5F_SCOPE_LOCAL), path, "H5Fflush(in memory)");
  const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
  h5::check(size < 0 ? -1 : 0, path, "H5Fget_file_image");
  std::string image(static_cast<std::size_t>(size), '\0');
  h5::check(H5Fget_file_image(file.get(), image.data(), image.size()) != size ? -1 : 0, path,
            "H5Fget_file_image");
  file.close(path, "H5Fclose(in memory)");
  return image;
}

// Attributes are read into one value; one holding several (or none) would overrun it.
hssize_t value_count(hid_t attr, const std::string& path, const std::string& name) {
  Handle space = h5::make(H5Aget_space(attr), H5Sclose, path, "H5Aget_space(" + name + ")");
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) h5::fail(path, "H5Sget_simple_extent_npoints(" + name + ")");
  return n;
}

void require_one_value(hid_t attr, const std::string& path, const std::string& name) {
  const hssize_t n = value_count(attr, path, name);
  if (n != 1) {
    throw StorageError(path + ": attribute '" + name + "' holds " + std::to_string(n) +
                       " values, expected one; the file is damaged, rewrite it with ternbench");
  }
}

std::string read_string_attr(hid_t obj, const std::string& path, const char* name) {
  const htri_t exists = H5Aexists(obj, name);
  h5::check(exists, path, std::string("H5Aexists(") + name + ")");
  if (exists == 0) {
    throw StorageError(path + ": ternbench weights file lacks the '" + name +
                       "' attribute; the file is damaged, rewrite it with ternbench");
  }
  const std::string call = std::string("H5Aread(") + name + ")";
  Handle attr = h5::make(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, path, std::string("H5Aopen(") + name + ")");
  require_one_value(attr.get(), path, name);
  Handle type = h5::make(H5Aget_type(attr.get()), H5Tclose, path, "H5Aget_type");
  if (H5Tget_class(type.get()) != H5T_STRING) {
    throw StorageError(path + ": attribute '" + name + "' is not a string");
  }
  const htri_t vlen = H5Tis_variable_str(type.get());
  h5::check(vlen, path, "H5Tis_variable_str");
  if (vlen > 0) {
    // Reading with the file's own type avoids an ASCII/UTF-8 conversion HDF5 does not have.
    char* p = nullptr;
    h5::check(H5Aread(attr.get(), type.get(), &p), path, call);
    std::string value = p != nullptr ? p : "";
    H5free_memory(p);
    return value;
  }
  // Fixed-length (as numpy bytes attributes are stored): read the bytes, drop NUL padding.
  std::string value(H5Tget_size(type.get()), '\0');
  h5::check(H5Aread(attr.get(), type.get(), value.data()), path, call);
  value.erase(std::find(value.begin(), value.end(), '\0'), value.end());
  return value;
}

int read_version(hid_t file, const std::string& path) {
  const htri_t exists = H5Aexists(file, kVersionAttr);
  h5::check(exists, path, "H5Aexists(schema_version)");
  if (exists == 0) {
    throw StorageError(path + ": not a ternbench weights file (no schema_version attribute); "
                              "check the path, or write it with ternbench");
  }
  Handle attr = h5::make(H5Aopen(file, kVersionAttr, H5P_DEFAULT), H5Aclose, path, "H5Aopen(schema_version)");
  require_one_value(attr.get(), path, kVersionAttr);
  Handle type = h5::make(H5Aget_type(attr.get()), H5Tclose, path, "H5Aget_type");
  if (H5Tget_class(type.get()) != H5T_INTEGER) {
    throw StorageError(path + ": not a ternbench weights file (schema_version is not an integer)");
  }
  int version = 0;
  h5::check(H5Aread(attr.get(), H5T_NATIVE_INT, &version), path, "H5Aread(schema_version)");
  if (version > kWeightsSchemaVersion) {
    throw StorageError(path + ": weights file has schema version " + std::to_string(version) +
                       ", this ternbench reads up to " + std::to_string(kWeightsSchemaVersion) +
                       "; use a newer ternbench");
  }
  if (version < 1) {
    throw StorageError(path + ": weights file has invalid schema version " + std::to_string(version) +
                       "; the file is damaged, rewrite it with ternbench");
  }
  return version;
}

// HDF5 calls this from C; it must not throw, so allocation failure stops the visit instead.
herr_t collect_hard_link(hid_t, const char* name, const H5L_info_t* info, void* out) {
  if (info->type != H5L_TYPE_HARD) return 0;
  try {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  } catch (...) {
    return -1;
  }
  return 0;
}

// Scalar string, integer and float attributes of a dataset, in name order.
void read_dataset_attrs(hid_t dset, const std::string& path, Tensor& t) {
  H5O_info_t info;
  h5::check(H5Oget_info2(dset, &info, H5O_INFO_NUM_ATTRS), path, "H5Oget_info2(" + t.name + ")");
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    Handle attr = h5::make(H5Aopen_by_idx(dset, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT),
                           H5Aclose, path, "H5Aopen_by_idx(" + t.name + ")");
    const ssize_t len = H5Aget_name(attr.get(), 0, nullptr);
    h5::check(static_cast<int>(len), path, "H5Aget_name(" + t.name + ")");
    std::string key(static_cast<std::size_t>(len) + 1, '\0');
    H5Aget_name(attr.get(), key.size(), key.data());
    key.resize(static_cast<std::size_t>(len));
    // Arrays and empty attributes are not ternbench's (it writes one value each): skipped
    // like the types it does not write.
    if (value_count(attr.get(), path, key) != 1) continue;
    Handle type = h5::make(H5Aget_type(attr.get()), H5Tclose, path, "H5Aget_type");
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls == H5T_STRING) {
      t.attrs.emplace_back(key, read_string_attr(dset, path, key.c_str()));
    } else if (cls == H5T_INTEGER) {
      std::int64_t v = 0;
      h5::check(H5Aread(attr.get(), H5T_NATIVE_INT64, &v), path, "H5Aread(" + key + ")");
      t.attrs.emplace_back(key, v);
    } else if (cls == H5T_FLOAT) {
      double v = 0;
      h5::check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v), path, "H5Aread(" + key + ")");
      t.attrs.emplace_back(key, v);
    }
  }
}

// A dataset can declare any shape whatever it stores (HDF5 reads fill values for the rest),
// so a damaged file could ask for terabytes here. ternbench writes every value uncompressed,
// so the stored bytes must cover the shape; compressed datasets (other writers) may expand
// up to deflate's ratio of about 1032:1.
void check_stored(hid_t dset, const std::string& path, const std::string& name, hssize_t count, std::size_t bytes) {
  Handle dcpl = h5::make(H5Dget_create_plist(dset), H5Pclose, path, "H5Dget_create_plist(" + name + ")");
  const int filters = H5Pget_nfilters(dcpl.get());
  h5::check(filters, path, "H5Pget_nfilters(" + name + ")");
  const hsize_t stored = H5Dget_storage_size(dset);
  const hsize_t limit = filters > 0 ? stored * 1032 : stored;
  const auto n = static_cast<hsize_t>(count);
  if (n > limit / bytes) {
    throw StorageError(path + ": dataset '" + name + "' declares " + std::to_string(n) + " values of " +
                       std::to_string(bytes) + " bytes but the file stores " + std::to_string(stored) +
                       " bytes of it; the file is damaged, rewrite it with ternbench");
  }
}

// Reads a float dataset into t; false for groups and datasets that hold no weights.
bool read_tensor(hid_t file, const std::string& path, const std::string& name, Tensor& t) {
  Handle obj = h5::make(H5Oopen(file, name.c_str(), H5P_DEFAULT), H5Oclose, path, "H5Oopen(" + name + ")");
  if (H5Iget_type(obj.get()) != H5I_DATASET) return false;
  Handle type = h5::make(H5Dget_type(obj.get()), H5Tclose, path, "H5Dget_type(" + name + ")");
  const H5T_class_t cls = H5Tget_class(type.get());
  const std::size_t bytes = H5Tget_size(type.get());
  const bool f32 = cls == H5T_FLOAT && bytes == 4, f64 = cls == H5T_FLOAT && bytes == 8;
  const bool u64 = cls == H5T_INTEGER && bytes == 8 && H5Tget_sign(type.get()) == H5T_SGN_NONE;
  const bool u8 = cls == H5T_INTEGER && bytes == 1 && H5Tget_sign(type.get()) == H5T_SGN_NONE;
  if (!f32 && !f64 && !u64 && !u8) return false;
  Handle space = h5::make(H5Dget_space(obj.get()), H5Sclose, path, "H5Dget_space(" + name + ")");
  if (H5Sget_simple_extent_type(space.get()) == H5S_NULL) return false;
  const int rank = H5Sget_simple_extent_ndims(space.get());
  h5::check(rank, path, "H5Sget_simple_extent_ndims(" + name + ")");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  h5::check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), path,
            "H5Sget_simple_extent_dims(" + name + ")");
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0) h5::fail(path, "H5Sget_simple_extent_npoints(" + name + ")");
  check_stored(obj.get(), path, name, count, bytes);
  t.name = name;
  t.shape.assign(dims.begin(), dims.end());
  const auto n = static_cast<std::size_t>(count);
  void* values = nullptr;
  hid_t mem_type = H5T_NATIVE_FLOAT;
  if (f64) {
    t.f64.resize(n);
    values = t.f64.data();
    mem_type = H5T_NATIVE_DOUBLE;
  } else if (u64) {
    t.u64.resize(n);
    values = t.u64.data();
    mem_type = H5T_NATIVE_UINT64;
  } else if (u8) {
    t.u8.resize(n);
    values = t.u8.data();
    mem_type = H5T_NATIVE_UINT8;
  } else {
    t.data.resize(n);
    values = t.data.data();
  }
  if (count > 0) {
    h5::check(H5Dread(obj.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), path, "H5Dread(" + name + ")");
  }
  read_dataset_attrs(obj.get(), path, t);
  return true;
}

}  // namespace

std::string write_weights(const std::string& path, const WeightsMeta& meta, const std::vector<Tensor>& tensors) {
  if (meta.schema_version != kWeightsSchemaVersion) {
    throw StorageError(path + ": cannot write weights schema version " + std::to_string(meta.schema_version) +
                       "; this ternbench writes version " + std::to_string(kWeightsSchemaVersion));
  }
  validate(path, tensors);
  std::string image;
  {
    const std::lock_guard<std::mutex> lock(h5::library_mutex());
    h5::silence_library_errors();
    image = file_image(path, meta, tensors);
  }
  write_file_atomically(path, image);
  return sha256_hex(image);
}

WeightsContent read_weights(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw StorageError(path + ": weights file does not exist; check the path (runs.weights_path is "
                              "relative to the results DB's directory)");
  }
  const std::lock_guard<std::mutex> lock(h5::library_mutex());
  h5::silence_library_errors();
  const hid_t fid = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (fid < 0) {
    throw StorageError(h5::describe_failure(path, "H5Fopen") +
                       "; is it an HDF5 file? expected a ternbench weights file");
  }
  Handle file(fid, H5Fclose);
  WeightsContent out;
  out.meta.schema_version = read_version(file.get(), path);
  out.meta.run_key = read_string_attr(file.get(), path, "run_key");
  out.meta.config_toml = read_string_attr(file.get(), path, "config_toml");
  out.meta.git_commit = read_string_attr(file.get(), path, "git_commit");
  if (H5Aexists(file.get(), "data_sha256") > 0) out.meta.data_sha256 = read_string_attr(file.get(), path, "data_sha256");
  if (const htri_t has_epoch = H5Aexists(file.get(), "epoch"); has_epoch > 0) {
    Handle attr = h5::make(H5Aopen(file.get(), "epoch", H5P_DEFAULT), H5Aclose, path, "H5Aopen(epoch)");
    require_one_value(attr.get(), path, "epoch");
    h5::check(H5Aread(attr.get(), H5T_NATIVE_INT, &out.meta.epoch), path, "H5Aread(epoch)");
  }

  std::vector<std::string> names;
  h5::check(H5Lvisit(file.get(), H5_INDEX_NAME, H5_ITER_INC, collect_hard_link, &names), path, "H5Lvisit");
  for (const std::string& name : names) {
    Tensor t;
    if (read_tensor(file.get(), path, name, t)) out.tensors.push_back(std::move(t));
  }
  std::sort(out.tensors.begin(), out.tensors.end(),
            [](const Tensor& a, const Tensor& b) { return a.name < b.name; });
  // Version 1 files have no checksum; from version 2 on it is required.
  if (out.meta.schema_version >= 2) {
    const std::string stored = read_string_attr(file.get(), path, kChecksumAttr);
    const std::string computed = content_checksum(out.tensors);
    if (stored != computed) {
      throw StorageError(path + ": checksum mismatch (stored " + stored.substr(0, 16) + "..., contents give " +
                         computed.substr(0, 16) + "...): the file is damaged; restore it from a copy or train the run again");
    }
  }
  file.close(path, "H5Fclose");
  return out;
}

}  // namespace ternbench::storage
