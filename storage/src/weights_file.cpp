#include "ternbench/storage/weights_file.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <set>
#include <system_error>

#include "hdf5_util.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/file_kind.hpp"
#include "ternbench/base/hash.hpp"
#include "ternbench/storage/atomic_file.hpp"
#include "weights_checksum.hpp"

namespace ternbench::storage {
namespace {

namespace fs = std::filesystem;
using h5::Handle;

constexpr const char* kVersionAttr = "schema_version";
constexpr const char* kChecksumsAttr = "checksums";         // version 3: one line per item
constexpr const char* kChecksumV2Attr = "checksum_sha256";  // version 2: the datasets' digest
const std::string kRestore = "; restore it from a copy or train the run again";

// Names become HDF5 link paths relative to the root, so they must be plain "a/b" paths;
// '@' and newlines are refused as they separate the items of the checksums attribute.
void validate(const std::string& path, const std::vector<Tensor>& tensors) {
  std::set<std::string> seen;
  for (const Tensor& t : tensors) {
    const std::string& n = t.name;
    const bool bad_name = n.empty() || n.front() == '/' || n.back() == '/' ||
                          n.find("//") != std::string::npos || n == "." ||
                          n.find("./") == 0 || n.find("/./") != std::string::npos ||
                          n.find_first_of("@\n") != std::string::npos;
    if (bad_name) throw StorageError(path + ": invalid tensor name '" + n + "' (expected \"layer/param\")");
    if (!seen.insert(n).second) throw StorageError(path + ": tensor '" + n + "' given twice");
    for (const auto& a : t.attrs) {
      if (a.first.empty() || a.first.find_first_of("@\n") != std::string::npos)
        throw StorageError(path + ": tensor '" + n + "' has an invalid attribute name '" + a.first + "'");
    }
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

// The file's attributes but "checksums", in the order they are written.
Attrs root_attrs(const WeightsMeta& meta) {
  Attrs a = {{"run_key", meta.run_key}, {"config_toml", meta.config_toml}, {"git_commit", meta.git_commit}};
  if (!meta.data_sha256.empty()) a.emplace_back("data_sha256", meta.data_sha256);
  if (!meta.layer_stack.empty()) a.emplace_back("layer_stack", meta.layer_stack);
  a.emplace_back(kVersionAttr, std::int64_t{kWeightsSchemaVersion});
  if (meta.epoch >= 0) a.emplace_back("epoch", std::int64_t{meta.epoch});
  return a;
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
    for (const auto& [key, value] : t.attrs) h5::write_attr(dset.get(), path, key, value);
  }
  const Attrs root = root_attrs(meta);
  for (const auto& [key, value] : root) h5::write_attr(file.get(), path, key, value, /*int32=*/true);
  h5::write_attr(file.get(), path, kChecksumsAttr, checksum_lines(root, tensors));
  h5::check(H5Fflush(file.get(), H5F_SCOPE_LOCAL), path, "H5Fflush(in memory)");
  const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
  h5::check(size < 0 ? -1 : 0, path, "H5Fget_file_image");
  std::string image(static_cast<std::size_t>(size), '\0');
  h5::check(H5Fget_file_image(file.get(), image.data(), image.size()) != size ? -1 : 0, path,
            "H5Fget_file_image");
  file.close(path, "H5Fclose(in memory)");
  return image;
}

// Before anything opens it: HDF5 would block forever on a FIFO, and a device or a directory
// is no weights file either.
void require_regular_file(const std::string& path) {
  if (!fs::exists(path)) {
    throw DataError(path + ": weights file does not exist; check the path (runs.weights_path is "
                           "relative to the results DB's directory)");
  }
  const std::string kind = non_regular_kind(path);
  if (!kind.empty()) throw DataError(path + ": is " + kind + ", not a weights file; give the run's <run_key>.h5 file");
}

const AttrValue* find_attr(const Attrs& attrs, const std::string& name) {
  for (const auto& [key, value] : attrs)
    if (key == name) return &value;
  return nullptr;
}

std::string text_attr(const Attrs& root, const std::string& path, const char* name, bool required) {
  const AttrValue* v = find_attr(root, name);
  if (v == nullptr && !required) return "";
  if (v == nullptr)
    throw DataError(path + ": ternbench weights file lacks the '" + std::string(name) + "' attribute" + kRestore);
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  throw DataError(path + ": attribute " + name + " is not a string; the file was edited" + kRestore);
}

int read_version(hid_t file, const std::string& path) {
  const htri_t exists = H5Aexists(file, kVersionAttr);
  h5::check(exists, path, "H5Aexists(schema_version)");
  if (exists == 0) {
    throw DataError(path + ": not a ternbench weights file (no schema_version attribute); "
                           "check the path, or write it with ternbench");
  }
  Handle attr = h5::make(H5Aopen(file, kVersionAttr, H5P_DEFAULT), H5Aclose, path, "H5Aopen(schema_version)");
  Handle type = h5::make(H5Aget_type(attr.get()), H5Tclose, path, "H5Aget_type");
  Handle space = h5::make(H5Aget_space(attr.get()), H5Sclose, path, "H5Aget_space");
  if (H5Tget_class(type.get()) != H5T_INTEGER || H5Sget_simple_extent_type(space.get()) != H5S_SCALAR) {
    throw DataError(path + ": not a ternbench weights file (schema_version is not an integer)");
  }
  int version = 0;
  h5::check(H5Aread(attr.get(), H5T_NATIVE_INT, &version), path, "H5Aread(schema_version)");
  if (version > kWeightsSchemaVersion) {
    throw DataError(path + ": weights file has schema version " + std::to_string(version) +
                    ", this ternbench reads up to " + std::to_string(kWeightsSchemaVersion) +
                    "; use a newer ternbench");
  }
  if (version < 1) {
    throw DataError(path + ": weights file has invalid schema version " + std::to_string(version) +
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

enum class Read { tensor, group, foreign };

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
    throw DataError(path + ": dataset '" + name + "' declares " + std::to_string(n) + " values of " +
                    std::to_string(bytes) + " bytes but the file stores " + std::to_string(stored) +
                    " bytes of it; the file is damaged" + kRestore);
  }
}

// Reads a dataset of a type ternbench writes into t; groups and other datasets are reported.
Read read_tensor(hid_t file, const std::string& path, const std::string& name, Tensor& t) {
  Handle obj = h5::make(H5Oopen(file, name.c_str(), H5P_DEFAULT), H5Oclose, path, "H5Oopen(" + name + ")");
  if (H5Iget_type(obj.get()) != H5I_DATASET) return Read::group;
  Handle type = h5::make(H5Dget_type(obj.get()), H5Tclose, path, "H5Dget_type(" + name + ")");
  const H5T_class_t cls = H5Tget_class(type.get());
  const std::size_t bytes = H5Tget_size(type.get());
  const bool f32 = cls == H5T_FLOAT && bytes == 4, f64 = cls == H5T_FLOAT && bytes == 8;
  const bool u64 = cls == H5T_INTEGER && bytes == 8 && H5Tget_sign(type.get()) == H5T_SGN_NONE;
  const bool u8 = cls == H5T_INTEGER && bytes == 1 && H5Tget_sign(type.get()) == H5T_SGN_NONE;
  if (!f32 && !f64 && !u64 && !u8) return Read::foreign;
  Handle space = h5::make(H5Dget_space(obj.get()), H5Sclose, path, "H5Dget_space(" + name + ")");
  if (H5Sget_simple_extent_type(space.get()) == H5S_NULL) return Read::foreign;
  const int rank = H5Sget_simple_extent_ndims(space.get());
  h5::check(rank, path, "H5Sget_simple_extent_ndims(" + name + ")");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  h5::check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), path,
            "H5Sget_simple_extent_dims(" + name + ")");
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0) h5::fail(path, "H5Sget_simple_extent_npoints(" + name + ")");
  check_stored(obj.get(), path, name, count, bytes);
  // A tensor's type is the vector that holds its values, so an empty one is float32.
  if (count == 0 && !f32) return Read::foreign;
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
  t.attrs = h5::read_attrs(obj.get(), path, name);
  return Read::tensor;
}

// Each version is verified with its own checksum, and a file must carry exactly its
// version's: a lowered schema_version leaves a newer checksum behind and is caught.
void verify(const std::string& path, int version, const Attrs& all_root, const std::vector<Tensor>& tensors,
            const std::vector<std::string>& foreign) {
  const bool has_lines = find_attr(all_root, kChecksumsAttr) != nullptr;
  const bool has_v2 = find_attr(all_root, kChecksumV2Attr) != nullptr;
  const std::string says = path + ": schema_version is " + std::to_string(version) + ", but ";
  const std::string edited = "; schema_version was edited" + kRestore;
  if (version < 3 && has_lines)
    throw DataError(says + "the file carries attribute checksums, which version 3 introduced" + edited);
  // Only version 3 writes it, and only its checksum covers attributes.
  if (version < 3 && find_attr(all_root, "layer_stack") != nullptr)
    throw DataError(says + "the file carries attribute layer_stack, which only version-3 files hold; the file was "
                    "edited" + kRestore);
  if (version == 1 && has_v2)
    throw DataError(says + "the file carries attribute checksum_sha256, which version 2 introduced" + edited);
  if (version == 1) {
    // Version 1 wrote float32, float64 and uint64 datasets without attributes, and no
    // data_sha256: anything else is a newer file whose version was lowered.
    if (find_attr(all_root, "data_sha256") != nullptr)
      throw DataError(says + "the file carries attribute data_sha256, which version 2 introduced" + edited);
    for (const Tensor& t : tensors) {
      if (!t.u8.empty()) throw DataError(says + "dataset " + t.name + " is uint8, which version 2 introduced" + edited);
      if (!t.attrs.empty())
        throw DataError(says + "dataset " + t.name + " has attributes, which version 2 introduced" + edited);
    }
    return;
  }
  if (version == 2) {
    if (!has_v2)
      throw DataError(path + ": lacks attribute checksum_sha256, which every version-2 weights file carries" +
                      kRestore);
    const std::string stored = text_attr(all_root, path, kChecksumV2Attr, true);
    const std::string computed = checksum_v2(tensors);
    if (stored != computed) {
      throw DataError(path + ": checksum mismatch: the datasets do not match attribute checksum_sha256 (stored " +
                      stored.substr(0, 16) + "..., contents give " + computed.substr(0, 16) +
                      "...): the file was edited or damaged" + kRestore);
    }
    return;
  }
  if (!has_lines)
    throw DataError(path + ": lacks attribute checksums, which every version-3 weights file carries" + kRestore);
  if (!foreign.empty()) {
    throw DataError(path + ": dataset " + foreign.front() +
                    " is of a type or shape ternbench does not write, so no checksum covers it; the file was "
                    "edited" + kRestore);
  }
  Attrs root;
  for (const auto& a : all_root)
    if (a.first != kChecksumsAttr) root.push_back(a);
  verify_checksum_lines(path, text_attr(all_root, path, kChecksumsAttr, true), root, tensors);
}

WeightsContent read_open_file(hid_t file, const std::string& path) {
  WeightsContent out;
  out.meta.schema_version = read_version(file, path);
  const Attrs root = h5::read_attrs(file, path, "the file");
  std::vector<std::string> names, foreign;
  h5::check(H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, collect_hard_link, &names), path, "H5Lvisit");
  for (const std::string& name : names) {
    Tensor t;
    const Read r = read_tensor(file, path, name, t);
    if (r == Read::tensor) out.tensors.push_back(std::move(t));
    if (r == Read::foreign) foreign.push_back(name);
  }
  std::sort(out.tensors.begin(), out.tensors.end(), [](const Tensor& a, const Tensor& b) { return a.name < b.name; });
  verify(path, out.meta.schema_version, root, out.tensors, foreign);
  out.meta.run_key = text_attr(root, path, "run_key", true);
  out.meta.config_toml = text_attr(root, path, "config_toml", true);
  out.meta.git_commit = text_attr(root, path, "git_commit", true);
  out.meta.data_sha256 = text_attr(root, path, "data_sha256", false);
  out.meta.layer_stack = text_attr(root, path, "layer_stack", false);
  if (const AttrValue* epoch = find_attr(root, "epoch")) {
    const auto* e = std::get_if<std::int64_t>(epoch);
    if (e == nullptr || *e < 0 || *e > std::numeric_limits<int>::max())
      throw DataError(path + ": attribute epoch is not an epoch count; the file was edited" + kRestore);
    out.meta.epoch = static_cast<int>(*e);
  }
  return out;
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
  require_regular_file(path);
  const std::lock_guard<std::mutex> lock(h5::library_mutex());
  h5::silence_library_errors();
  // A weights file HDF5 cannot read is as bad an input as one that fails its checksum.
  try {
    const hid_t fid = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fid < 0) {
      throw DataError(h5::describe_failure(path, "H5Fopen") +
                      "; is it an HDF5 file? expected a ternbench weights file");
    }
    Handle file(fid, H5Fclose);
    WeightsContent out = read_open_file(file.get(), path);
    file.close(path, "H5Fclose");
    return out;
  } catch (const StorageError& e) {
    throw DataError(e.what());
  }
}

}  // namespace ternbench::storage
