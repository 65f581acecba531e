#include "ternbench/datalib/idx.hpp"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>

#include "ternbench/base/error.hpp"
#include "ternbench/datalib/data_fetch.hpp"

namespace ternbench::data {
namespace {

namespace fs = std::filesystem;

constexpr std::uint8_t kTypeUbyte = 0x08;

// The fix depends on where the file came from: inside a fetchable dataset directory the
// fetch command rebuilds it; anywhere else only the user knows where an intact copy is.
std::string fix_for(const std::string& path) {
  const std::string parent = fs::path(path).parent_path().filename().string();
  const auto fetchable = fetchable_datasets();
  if (std::find(fetchable.begin(), fetchable.end(), parent) != fetchable.end())
    return "delete the file and run `ternbench data fetch " + parent + "`";
  return "replace it with an intact copy of the file";
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError(path + ": " + what + "; " + fix_for(path));
}

std::string hex_byte(std::uint8_t b) {
  char s[8];
  std::snprintf(s, sizeof s, "%02x", static_cast<unsigned>(b));
  return s;
}

const char* type_name(std::uint8_t t) {
  switch (t) {
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return nullptr;
  }
}

const char* payload_word(std::size_t ndims) {
  if (ndims == 3) return "images";
  if (ndims == 1) return "labels";
  return "data";
}

std::vector<std::uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    throw DataError(path + ": cannot open (" + std::strerror(err) + "); " +
                    (fs::exists(path) ? "check the file's permissions" : "check the path"));
  }
  in.seekg(0, std::ios::end);
  const std::streamoff n = in.tellg();
  in.seekg(0, std::ios::beg);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(n));
  if (n > 0) in.read(reinterpret_cast<char*>(bytes.data()), n);
  if (!in) throw DataError(path + ": read error; check the disk and the file's permissions");
  return bytes;
}

// Decompresses every gzip member in z. inflate (not gzread) so that a corrupt stream, a
// truncated stream and garbage after the last member are told apart in the message.
std::vector<std::uint8_t> gunzip(const std::vector<std::uint8_t>& z, const std::string& path) {
  // No size hint from the gzip trailer: in a damaged file it is garbage and could ask for
  // gigabytes. Doubling costs about one extra copy of the output.
  std::vector<std::uint8_t> out;
  std::size_t in_pos = 0;
  while (in_pos < z.size()) {
    if (in_pos > 0 && !(z.size() - in_pos >= 2 && z[in_pos] == 0x1f && z[in_pos + 1] == 0x8b))
      fail(path, "gzip stream is followed by " + std::to_string(z.size() - in_pos) + " bytes of garbage");
    z_stream s{};
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) throw DataError(path + ": zlib could not start; out of memory?");
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      const std::size_t old = out.size();
      out.resize(old + (old < 65536 ? 65536 : old));
      const std::size_t in_left = z.size() - in_pos;
      constexpr std::size_t kMaxChunk = std::numeric_limits<uInt>::max();
      s.next_in = const_cast<Bytef*>(z.data() + in_pos);
      s.avail_in = static_cast<uInt>(in_left < kMaxChunk ? in_left : kMaxChunk);
      const std::size_t out_left = out.size() - old;
      s.next_out = out.data() + old;
      s.avail_out = static_cast<uInt>(out_left < kMaxChunk ? out_left : kMaxChunk);
      const uInt avail_in_before = s.avail_in, avail_out_before = s.avail_out;
      rc = inflate(&s, Z_NO_FLUSH);
      in_pos += avail_in_before - s.avail_in;
      out.resize(old + (avail_out_before - s.avail_out));
      if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
        const std::string msg = s.msg ? s.msg : "invalid data";
        inflateEnd(&s);
        fail(path, "gzip data is corrupt (" + msg + ")");
      }
      if (rc == Z_MEM_ERROR) {
        inflateEnd(&s);
        throw DataError(path + ": out of memory while decompressing");
      }
      if (rc == Z_BUF_ERROR || rc == Z_STREAM_ERROR) {
        // Output space is always available here, so no progress means the input ran out.
        inflateEnd(&s);
        if (in_pos == z.size())
          fail(path, "gzip stream is truncated (ends after " + std::to_string(z.size()) + " bytes)");
        fail(path, "gzip data is corrupt (zlib error " + std::to_string(rc) + ")");
      }
    }
    inflateEnd(&s);
  }
  return out;
}

IdxArray parse(std::vector<std::uint8_t>&& b, const std::string& path, bool gz) {
  const std::string where = gz ? " after gunzip" : "";
  if (b.size() < 4)
    fail(path, "truncated: " + std::to_string(b.size()) + " bytes" + where + ", shorter than the 4-byte IDX magic");
  if (b[0] != 0 || b[1] != 0 || (b[2] != kTypeUbyte && type_name(b[2]) == nullptr))
    fail(path, "not an IDX file (magic " + hex_byte(b[0]) + " " + hex_byte(b[1]) + " " + hex_byte(b[2]) + " " +
                   hex_byte(b[3]) + ", expected 00 00 08 <ndims>)");
  if (b[2] != kTypeUbyte)
    throw DataError(path + ": unsupported IDX element type 0x" + hex_byte(b[2]) + " (" + type_name(b[2]) +
                    "); only unsigned bytes (0x08, as in the MNIST-family files) are supported");
  const std::size_t ndims = b[3];
  if (ndims == 0) fail(path, "IDX header declares 0 dimensions");
  const std::size_t header = 4 + 4 * ndims;
  if (b.size() < header)
    fail(path, "truncated: the IDX header needs " + std::to_string(header) + " bytes, file has " +
                   std::to_string(b.size()) + where);
  IdxArray a;
  a.dims.resize(ndims);
  std::uint64_t n = 1;
  bool overflow = false;
  for (std::size_t i = 0; i < ndims; ++i) {
    const std::uint8_t* p = b.data() + 4 + 4 * i;
    a.dims[i] = std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | std::uint32_t(p[3]);
    if (a.dims[i] != 0 && n > std::numeric_limits<std::uint64_t>::max() / a.dims[i]) overflow = true;
    n *= a.dims[i];
  }
  const std::uint64_t have = b.size() - header;
  if (overflow || n > have)
    fail(path, "truncated: header says " + (overflow ? std::string("more than 2^64") : std::to_string(n)) +
                   " bytes of " + payload_word(ndims) + ", file has only " + std::to_string(have) + where +
                   " after the " + std::to_string(header) + "-byte header");
  if (n < have)
    fail(path, "trailing bytes: header says " + std::to_string(n) + " bytes of " + payload_word(ndims) +
                   ", file has " + std::to_string(have) + where + " (" + std::to_string(have - n) + " extra)");
  // Reuses the buffer: the training sets are tens of MB and a copy costs as much as the read.
  b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(header));
  a.data = std::move(b);
  return a;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  std::vector<std::uint8_t> bytes = read_all(path);
  const bool gz = bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
  if (gz) bytes = gunzip(bytes, path);
  return parse(std::move(bytes), path, gz);
}

void write_idx(const std::string& path, const IdxArray& a) {
  TB_CHECK(!a.dims.empty() && a.dims.size() <= 255, path + ": IDX needs 1..255 dimensions");
  std::uint64_t n = 1;
  for (std::uint32_t d : a.dims) n *= d;
  TB_CHECK(n == a.data.size(), path + ": dims do not match the data size");

  std::vector<std::uint8_t> header{0, 0, kTypeUbyte, static_cast<std::uint8_t>(a.dims.size())};
  for (std::uint32_t d : a.dims)
    for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<std::uint8_t>(d >> shift));

  // Readers never see a partial file: they find either the old one or the complete new one.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) {
    const int err = errno;
    throw DataError(tmp + ": cannot create (" + std::strerror(err) + "); check that the directory exists and is writable");
  }
  bool ok = std::fwrite(header.data(), 1, header.size(), f) == header.size();
  if (ok && !a.data.empty()) ok = std::fwrite(a.data.data(), 1, a.data.size(), f) == a.data.size();
  ok = std::fflush(f) == 0 && ok;
  // fsync before rename: otherwise a crash can leave the new name pointing at empty blocks.
  ok = ::fsync(::fileno(f)) == 0 && ok;
  const int err = errno;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    throw DataError(tmp + ": write failed (" + std::strerror(err) + "); check free disk space");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw DataError(path + ": cannot rename " + tmp + " into place (" + ec.message() + ")");
  }
}

}  // namespace ternbench::data
