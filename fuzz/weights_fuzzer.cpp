// Weights files outlive the binary that wrote them and may be damaged or written by other
// tools. Fuzzing their raw bytes would mostly test libhdf5's own parser, so this target
// starts from a valid file written by write_weights and lets the input tamper with it
// through the HDF5 API: attributes deleted or replaced (any type, any shape), datasets
// replaced (type, shape, layout, filters, declared but never written), contents
// overwritten, links added and removed. Then read_weights must return tensors whose
// shapes match their values, or throw a StorageError naming the file; and it must close
// every HDF5 object it opened. Any other exception, a crash, a leak or UB is a finding.
#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/weights_file.hpp"

namespace {

namespace st = ternbench::storage;
using ternbench::fuzz::finding;

// An HDF5 id closed at scope exit; the tampering ignores failed calls (the input asked for
// something HDF5 refuses), so ids may be negative.
class Id {
 public:
  Id(hid_t id, herr_t (*closer)(hid_t)) : id_(id), closer_(closer) {}
  ~Id() {
    if (id_ >= 0) closer_(id_);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*closer_)(hid_t);
};

// Every kind of tensor and attribute the writer produces: float32, uint8 codes, float64
// and uint64 checkpoint state, a scalar, an empty tensor, and string/int/float attributes.
std::vector<st::Tensor> model() {
  std::vector<st::Tensor> ts(7);
  ts[0].name = "dense0/W";
  ts[0].shape = {3, 4};
  for (int i = 0; i < 12; ++i) ts[0].data.push_back(static_cast<float>(i) * 0.5f - 2.0f);
  ts[0].attrs = {{"scale", 0.25}, {"encoding", std::string("ternary")}, {"nonzero", std::int64_t{7}}};
  ts[1].name = "dense0/b";
  ts[1].shape = {4};
  ts[1].data = {0.1f, -0.2f, 0.3f, -0.4f};
  ts[2].name = "codes/packed";
  ts[2].shape = {5};
  ts[2].u8 = {1, 2, 3, 250, 0};
  ts[3].name = "state/history";
  ts[3].shape = {2, 2};
  ts[3].f64 = {0.5, 1e-300, -3.0, 42.0};
  ts[4].name = "state/rng";
  ts[4].shape = {2};
  ts[4].u64 = {0xdeadbeefcafef00dULL, 7};
  ts[5].name = "state/step";
  ts[5].shape = {};
  ts[5].f64 = {12.0};
  ts[6].name = "empty";
  ts[6].shape = {0, 3};
  return ts;
}

const std::vector<std::string> kObjects = {"/",     "dense0",        "dense0/W",      "dense0/b",   "codes",
                                           "codes/packed", "state", "state/history", "state/rng", "state/step",
                                           "empty", "extra"};
const std::vector<std::string> kAttrs = {"schema_version", "run_key",  "config_toml", "git_commit", "data_sha256",
                                         "epoch",          "checksum_sha256", "checksums", "scale", "encoding",  "nonzero"};

std::string pick(FuzzedDataProvider& in, const std::vector<std::string>& known) {
  if (in.ConsumeIntegralInRange(0, 7) == 0) return in.ConsumeRandomLengthString(12);
  return known[in.ConsumeIntegralInRange<std::size_t>(0, known.size() - 1)];
}

// A datatype chosen by the input; the caller closes it.
hid_t pick_type(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 16)) {
    case 0: return H5Tcopy(H5T_NATIVE_INT8);
    case 1: return H5Tcopy(H5T_NATIVE_UINT8);
    case 2: return H5Tcopy(H5T_NATIVE_INT16);
    case 3: return H5Tcopy(H5T_STD_I32BE);
    case 4: return H5Tcopy(H5T_NATIVE_INT64);
    case 5: return H5Tcopy(H5T_NATIVE_UINT64);
    case 6: return H5Tcopy(H5T_NATIVE_FLOAT);
    case 7: return H5Tcopy(H5T_IEEE_F64BE);
    case 8: return H5Tcopy(H5T_NATIVE_B8);
    case 9: {  // fixed-length string, as numpy bytes attributes are stored
      const hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, in.ConsumeIntegralInRange<std::size_t>(1, 80));
      H5Tset_strpad(t, in.ConsumeBool() ? H5T_STR_NULLTERM : H5T_STR_NULLPAD);
      return t;
    }
    case 10: {
      const hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, H5T_VARIABLE);
      H5Tset_cset(t, in.ConsumeBool() ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
      return t;
    }
    case 11: {
      const hid_t t = H5Tcreate(H5T_COMPOUND, 16);
      H5Tinsert(t, "a", 0, H5T_NATIVE_INT32);
      H5Tinsert(t, "b", 8, H5T_NATIVE_DOUBLE);
      return t;
    }
    case 12: {
      const hid_t t = H5Tenum_create(H5T_NATIVE_INT32);
      int v = 0;
      H5Tenum_insert(t, "zero", &v);
      v = 1;
      H5Tenum_insert(t, "one", &v);
      return t;
    }
    case 13: {
      const hsize_t n = in.ConsumeIntegralInRange<hsize_t>(1, 4);
      return H5Tarray_create2(H5T_NATIVE_FLOAT, 1, &n);
    }
    case 14: return H5Tcreate(H5T_OPAQUE, in.ConsumeIntegralInRange<std::size_t>(1, 8));
    case 15: {  // a float32 with an unusual layout: class FLOAT, size 4, other bits
      const hid_t t = H5Tcopy(H5T_NATIVE_FLOAT);
      H5Tset_order(t, H5T_ORDER_BE);
      return t;
    }
    default: return H5Tcopy(H5T_NATIVE_DOUBLE);
  }
}

// A dataspace chosen by the input; `big` allows dimensions no test file would write data for.
hid_t pick_space(FuzzedDataProvider& in, int max_rank, bool big) {
  const int kind = in.ConsumeIntegralInRange(0, 5);
  if (kind == 0) return H5Screate(H5S_SCALAR);
  if (kind == 1) return H5Screate(H5S_NULL);
  const int rank = in.ConsumeIntegralInRange(1, max_rank);
  std::array<hsize_t, 4> dims{};
  for (int i = 0; i < rank; ++i) {
    dims[static_cast<std::size_t>(i)] = big && in.ConsumeIntegralInRange(0, 3) == 0
                                            ? in.ConsumeIntegral<std::uint32_t>()
                                            : in.ConsumeIntegralInRange<hsize_t>(0, 5);
  }
  return H5Screate_simple(rank, dims.data(), nullptr);
}

// Values for n elements of type t from the input; vlen strings get pointers into `strings`.
std::vector<unsigned char> values(FuzzedDataProvider& in, hid_t type, hssize_t n,
                                  std::vector<std::string>& strings) {
  const std::size_t count = n > 0 ? static_cast<std::size_t>(n) : 0;
  if (H5Tis_variable_str(type) > 0) {
    strings.clear();
    for (std::size_t i = 0; i < count; ++i) strings.push_back(in.ConsumeRandomLengthString(40));
    std::vector<unsigned char> buf(count * sizeof(const char*));
    for (std::size_t i = 0; i < count; ++i) {
      const char* p = strings[i].c_str();
      std::memcpy(buf.data() + i * sizeof p, &p, sizeof p);
    }
    return buf;
  }
  std::vector<unsigned char> buf = in.ConsumeBytes<unsigned char>(count * H5Tget_size(type));
  buf.resize(count * H5Tget_size(type));
  return buf;
}

void set_attr(FuzzedDataProvider& in, hid_t file) {
  const std::string obj = pick(in, kObjects), name = pick(in, kAttrs);
  if (H5Aexists_by_name(file, obj.c_str(), name.c_str(), H5P_DEFAULT) > 0)
    H5Adelete_by_name(file, obj.c_str(), name.c_str(), H5P_DEFAULT);
  const Id type(pick_type(in), H5Tclose), space(pick_space(in, 2, false), H5Sclose);
  if (!type.ok() || !space.ok()) return;
  const Id attr(H5Acreate_by_name(file, obj.c_str(), name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                  H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
  if (!attr.ok()) return;
  std::vector<std::string> strings;
  const auto buf = values(in, type.get(), H5Sget_simple_extent_npoints(space.get()), strings);
  if (!buf.empty()) H5Awrite(attr.get(), type.get(), buf.data());
}

void replace_dataset(FuzzedDataProvider& in, hid_t file) {
  const std::string name = pick(in, kObjects);
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0) H5Ldelete(file, name.c_str(), H5P_DEFAULT);
  const Id type(pick_type(in), H5Tclose), space(pick_space(in, 4, true), H5Sclose);
  const Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose), lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  if (!type.ok() || !space.ok() || !dcpl.ok() || !lcpl.ok()) return;
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: H5Pset_layout(dcpl.get(), H5D_COMPACT); break;
    case 1:
    case 2:
      if (rank > 0) {
        const std::vector<hsize_t> chunk(static_cast<std::size_t>(rank), in.ConsumeIntegralInRange<hsize_t>(1, 4));
        H5Pset_chunk(dcpl.get(), rank, chunk.data());
        if (in.ConsumeBool()) H5Pset_deflate(dcpl.get(), 6);
        if (in.ConsumeBool()) H5Pset_shuffle(dcpl.get());
      }
      break;
    default: break;  // contiguous, as the writer makes them
  }
  const Id dset(H5Dcreate2(file, name.c_str(), type.get(), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
                H5Dclose);
  if (!dset.ok() || in.ConsumeIntegralInRange(0, 4) == 0) return;  // sometimes declared, never written
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n <= 0 || n > 4096) return;
  std::vector<std::string> strings;
  const auto buf = values(in, type.get(), n, strings);
  H5Dwrite(dset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
}

void overwrite_values(FuzzedDataProvider& in, hid_t file) {
  const std::string name = pick(in, kObjects);
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) return;
  const Id dset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) return;
  const Id type(H5Dget_type(dset.get()), H5Tclose), space(H5Dget_space(dset.get()), H5Sclose);
  if (!type.ok() || !space.ok()) return;
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n <= 0 || n > 4096) return;
  std::vector<std::string> strings;
  const auto buf = values(in, type.get(), n, strings);
  H5Dwrite(dset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
}

void tamper(FuzzedDataProvider& in, hid_t file) {
  for (int op = 0; op < 8 && in.remaining_bytes() > 0; ++op) {
    switch (in.ConsumeIntegralInRange(0, 7)) {
      case 0: {
        const std::string obj = pick(in, kObjects), name = pick(in, kAttrs);
        H5Adelete_by_name(file, obj.c_str(), name.c_str(), H5P_DEFAULT);
        break;
      }
      case 1: set_attr(in, file); break;
      case 2: replace_dataset(in, file); break;
      case 3: overwrite_values(in, file); break;
      case 4: {
        const std::string name = pick(in, kObjects);
        H5Ldelete(file, name.c_str(), H5P_DEFAULT);
        break;
      }
      case 5: {  // a second name for an object, maybe the root (a cycle)
        const std::string from = pick(in, kObjects), to = pick(in, kObjects);
        H5Lcreate_hard(file, from.c_str(), file, to.c_str(), H5P_DEFAULT, H5P_DEFAULT);
        break;
      }
      case 6: {
        const std::string to = pick(in, kObjects);
        if (in.ConsumeBool())
          H5Lcreate_soft(pick(in, kObjects).c_str(), file, to.c_str(), H5P_DEFAULT, H5P_DEFAULT);
        else
          H5Lcreate_external("missing.h5", "/x", file, to.c_str(), H5P_DEFAULT, H5P_DEFAULT);
        break;
      }
      default: {
        const std::string name = pick(in, kObjects);
        const Id group(H5Gcreate2(file, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        break;
      }
    }
  }
}

// Open ids of every kind the reader uses; a reader that leaves one open leaks it for good.
std::array<hsize_t, 6> open_ids() {
  std::array<hsize_t, 6> n{};
  const std::array<H5I_type_t, 6> kinds = {H5I_FILE, H5I_GROUP, H5I_DATATYPE, H5I_DATASPACE, H5I_DATASET, H5I_ATTR};
  for (std::size_t i = 0; i < kinds.size(); ++i) H5Inmembers(kinds[i], &n[i]);
  return n;
}

struct Fixture {
  ternbench::fuzz::ScratchDir dir{"weights"};
  std::string path = dir.file("run.h5");
  std::string pristine;  // the writer's bytes, restored before each input

  Fixture() {
    st::WeightsMeta meta;
    meta.run_key = "0123456789abcdef";
    meta.config_toml = "[train]\nmethod = \"twn\"\n";
    meta.git_commit = "61c4d03";
    meta.epoch = 3;
    meta.data_sha256 = std::string(64, 'a');
    st::write_weights(path, meta, model());
    std::ifstream f(path, std::ios::binary);
    pristine.assign(std::istreambuf_iterator<char>(f), {});
    st::read_weights(path);  // the untouched file must read
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // tampering calls fail often; say nothing
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Fixture fx;
  ternbench::fuzz::write_bytes(fx.path, fx.pristine.data(), fx.pristine.size());
  FuzzedDataProvider in(data, size);
  {
    const Id file(H5Fopen(fx.path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    if (!file.ok()) finding("cannot open the scratch weights file", fx.path);
    tamper(in, file.get());
  }
  const auto before = open_ids();
  try {
    const st::WeightsContent w = st::read_weights(fx.path);
    for (const st::Tensor& t : w.tensors) {
      std::uint64_t n = 1;
      for (const std::int64_t d : t.shape) n *= static_cast<std::uint64_t>(d);
      if (n != t.size()) finding("read_weights returned a tensor whose shape does not match its values", t.name);
    }
  } catch (const ternbench::DataError& e) {  // what the file holds
    ternbench::fuzz::expect_names_file(e.what(), fx.path);
  } catch (const ternbench::StorageError& e) {  // what HDF5 could not read
    ternbench::fuzz::expect_names_file(e.what(), fx.path);
  }
  if (open_ids() != before) finding("read_weights left HDF5 objects open", fx.path);
  return 0;
}
