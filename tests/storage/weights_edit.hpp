#pragma once
// Edits of a weights file in place with the HDF5 C API, as h5py or a stray writer would make
// them, for the tests of what read_weights refuses. Each opens and closes the file itself.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ternbench::testing {

// obj is "/" for the file's attributes, else a dataset's path.
inline void set_string_attr(const std::string& file, const std::string& obj, const std::string& name,
                            const std::string& value) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0) << file;
  const hid_t o = H5Oopen(f, obj.c_str(), H5P_DEFAULT);
  ASSERT_GE(o, 0) << obj;
  if (H5Aexists(o, name.c_str()) > 0) H5Adelete(o, name.c_str());
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(o, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
  const char* p = value.c_str();
  EXPECT_GE(H5Awrite(a, type, &p), 0);
  H5Aclose(a);
  H5Sclose(space);
  H5Tclose(type);
  H5Oclose(o);
  H5Fclose(f);
}

// Writes value into an existing integer attribute, keeping its type.
inline void set_int_attr(const std::string& file, const std::string& obj, const std::string& name, std::int64_t value) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0) << file;
  // Through the object: HDF5 1.10 cannot write an attribute opened by H5Aopen_by_name.
  const hid_t o = H5Oopen(f, obj.c_str(), H5P_DEFAULT);
  ASSERT_GE(o, 0) << obj;
  const hid_t a = H5Aopen(o, name.c_str(), H5P_DEFAULT);
  ASSERT_GE(a, 0) << obj << " " << name;
  EXPECT_GE(H5Awrite(a, H5T_NATIVE_INT64, &value), 0);
  H5Aclose(a);
  H5Oclose(o);
  H5Fclose(f);
}

inline void delete_attr(const std::string& file, const std::string& obj, const std::string& name) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0) << file;
  EXPECT_GE(H5Adelete_by_name(f, obj.c_str(), name.c_str(), H5P_DEFAULT), 0) << obj << " " << name;
  H5Fclose(f);
}

// Adds one to the first element of a uint8 dataset (a packed byte of codes).
inline void bump_first_byte(const std::string& file, const std::string& dataset) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0) << file;
  const hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  ASSERT_GE(d, 0) << dataset;
  const hid_t space = H5Dget_space(d);
  const hsize_t n = static_cast<hsize_t>(H5Sget_simple_extent_npoints(space));
  std::string bytes(n, '\0');
  EXPECT_GE(H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()), 0);
  bytes[0] = static_cast<char>(bytes[0] + 1);
  EXPECT_GE(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()), 0);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
}

// Replaces attribute `name` of `obj` by an array of n values of `type` (zero bytes, or "x"
// for variable-length strings): an attribute ternbench writes as one value, made an array.
inline void make_array_attr(const std::string& file, const std::string& obj, const std::string& name, hid_t type,
                            hsize_t n) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0) << file;
  ASSERT_GE(H5Adelete_by_name(f, obj.c_str(), name.c_str(), H5P_DEFAULT), 0) << obj << " " << name;
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t a = H5Acreate_by_name(f, obj.c_str(), name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  EXPECT_GE(a, 0) << obj << " " << name;
  if (H5Tis_variable_str(type) > 0) {
    const std::vector<const char*> values(n, "x");
    EXPECT_GE(H5Awrite(a, type, values.data()), 0);
  } else {
    const std::vector<unsigned char> values(n * H5Tget_size(type), 0);
    EXPECT_GE(H5Awrite(a, type, values.data()), 0);
  }
  H5Aclose(a);
  H5Sclose(space);
  H5Fclose(f);
}

// Replaces a dataset by a float one of `dims` made with dcpl, holding `values` if given
// (none stored otherwise). Its attributes are gone with the old one.
inline void replace_float_dataset(const std::string& file, const std::string& dataset, const std::vector<hsize_t>& dims,
                                  hid_t dcpl, const std::vector<float>* values) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0) << file;
  ASSERT_GE(H5Ldelete(f, dataset.c_str(), H5P_DEFAULT), 0) << dataset;
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t d = H5Dcreate2(f, dataset.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  EXPECT_GE(d, 0) << dataset;
  if (values != nullptr) {
    EXPECT_GE(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values->data()), 0);
  }
  H5Dclose(d);
  H5Sclose(space);
  H5Fclose(f);
}

}  // namespace ternbench::testing
