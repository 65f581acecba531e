#include "ternbench/datalib/idx.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "data_file.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/datalib/data_fetch.hpp"

namespace ternbench::data {
namespace {

namespace fs = std::filesystem;

constexpr std::uint8_t kTypeUbyte = 0x08;
// Deflate never expands more than 1032:1 (zlib's technical notes), so a gzip file of N
// bytes cannot hold more than this many times N: a header claiming more is truncated.
constexpr std::uint64_t kMaxDeflateRatio = 1032;

// The fix depends on where the file came from: inside a fetchable dataset directory the
// fetch command rebuilds it; anywhere else only the user knows where an intact copy is.
std::string fix_for(const std::string& path, const std::string& what = "file") {
  const fs::path parent = fs::path(path).parent_path();
  const std::string name = parent.filename().string();
  const auto fetchable = fetchable_datasets();
  if (std::find(fetchable.begin(), fetchable.end(), name) != fetchable.end())
    return "delete the " + what + " and run `" + fetch_command(name, parent.parent_path().string()) + "`";
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

// The IDX header as the file declares it.
struct Header {
  std::vector<std::uint32_t> dims;
  std::size_t bytes = 0;         // 4 + 4 * ndims
  std::uint64_t payload = 0;     // product of dims (element size 1)
  bool overflow = false;         // the product does not fit in 64 bits
};

// Checks the 4-byte magic and returns the header's length. `where` is " after gunzip"
// for a compressed file, so that the sizes in a message say which bytes they count.
std::size_t header_bytes(const std::uint8_t* b, std::size_t have, const std::string& path, const std::string& where) {
  if (have < 4)
    fail(path, "truncated: " + std::to_string(have) + " bytes" + where + ", shorter than the 4-byte IDX magic");
  if (b[0] != 0 || b[1] != 0 || (b[2] != kTypeUbyte && type_name(b[2]) == nullptr))
    fail(path, "not an IDX file (magic " + hex_byte(b[0]) + " " + hex_byte(b[1]) + " " + hex_byte(b[2]) + " " +
                   hex_byte(b[3]) + ", expected 00 00 08 <ndims>)");
  if (b[2] != kTypeUbyte)
    throw DataError(path + ": unsupported IDX element type 0x" + hex_byte(b[2]) + " (" + type_name(b[2]) +
                    "); only unsigned bytes (0x08, as in the MNIST-family files) are supported");
  if (b[3] == 0) fail(path, "IDX header declares 0 dimensions");
  return 4 + 4 * std::size_t{b[3]};
}

// b holds `have` bytes of the file's start, at least 4 (header_bytes checked them).
Header parse_header(const std::uint8_t* b, std::size_t have, const std::string& path, const std::string& where) {
  Header h;
  h.bytes = header_bytes(b, have, path, where);
  if (have < h.bytes)
    fail(path, "truncated: the IDX header needs " + std::to_string(h.bytes) + " bytes, file has " +
                   std::to_string(have) + where);
  h.dims.resize(b[3]);
  h.payload = 1;
  for (std::size_t i = 0; i < h.dims.size(); ++i) {
    const std::uint8_t* p = b + 4 + 4 * i;
    h.dims[i] = std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | std::uint32_t(p[3]);
    if (h.dims[i] != 0 && h.payload > std::numeric_limits<std::uint64_t>::max() / h.dims[i]) h.overflow = true;
    h.payload *= h.dims[i];
  }
  return h;
}

[[noreturn]] void fail_short(const std::string& path, const Header& h, const std::string& have,
                             const std::string& where) {
  fail(path, "truncated: header says " + (h.overflow ? std::string("more than 2^64") : std::to_string(h.payload)) +
                 " bytes of " + payload_word(h.dims.size()) + ", file has only " + have + where + " after the " +
                 std::to_string(h.bytes) + "-byte header");
}

// An open file descriptor, closed on every exit path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads n bytes at offset; fewer only at the end of the file.
std::size_t read_at(int fd, std::uint8_t* out, std::size_t n, std::uint64_t offset, const std::string& path) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      throw DataError(path + ": read error (" + std::strerror(err) + "); check the disk and the file's permissions");
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

// Inflates the gzip members of z on demand, so that a reader takes exactly the bytes the IDX
// header declares (and one more, to see that there are none) instead of whatever the stream
// holds: a damaged or hostile file cannot make it allocate more than its header asked for.
// inflate rather than gzread so that a corrupt stream, a truncated one and garbage after the
// last member are told apart in the message.
class Gunzip {
 public:
  Gunzip(const std::vector<std::uint8_t>& z, std::string path) : z_(z), path_(std::move(path)) {}
  ~Gunzip() {
    if (active_) inflateEnd(&s_);
  }
  Gunzip(const Gunzip&) = delete;
  Gunzip& operator=(const Gunzip&) = delete;

  // Fills out[0, n); returns fewer bytes only when the last member has ended.
  std::size_t read(std::uint8_t* out, std::size_t n) {
    constexpr std::size_t kMaxChunk = std::numeric_limits<uInt>::max();
    std::size_t got = 0;
    while (got < n) {
      if (!active_) {
        if (in_pos_ == z_.size()) break;
        if (in_pos_ > 0 && !(z_.size() - in_pos_ >= 2 && z_[in_pos_] == 0x1f && z_[in_pos_ + 1] == 0x8b))
          fail(path_, "gzip stream is followed by " + std::to_string(z_.size() - in_pos_) + " bytes of garbage");
        s_ = z_stream{};
        if (inflateInit2(&s_, 16 + MAX_WBITS) != Z_OK)
          throw DataError(path_ + ": zlib could not start; out of memory?");
        active_ = true;
      }
      const std::size_t in_left = z_.size() - in_pos_;
      s_.next_in = const_cast<Bytef*>(z_.data() + in_pos_);
      s_.avail_in = static_cast<uInt>(std::min(in_left, kMaxChunk));
      s_.next_out = out + got;
      s_.avail_out = static_cast<uInt>(std::min(n - got, kMaxChunk));
      const uInt avail_in_before = s_.avail_in, avail_out_before = s_.avail_out;
      const int rc = inflate(&s_, Z_NO_FLUSH);
      in_pos_ += avail_in_before - s_.avail_in;
      got += avail_out_before - s_.avail_out;
      if (rc == Z_STREAM_END) {
        inflateEnd(&s_);
        active_ = false;
        continue;
      }
      if (rc == Z_OK) continue;
      const std::string msg = s_.msg ? s_.msg : "invalid data";
      inflateEnd(&s_);
      active_ = false;
      if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) fail(path_, "gzip data is corrupt (" + msg + ")");
      if (rc == Z_MEM_ERROR) throw DataError(path_ + ": out of memory while decompressing");
      // Output space is always available here, so no progress means the input ran out.
      if (in_pos_ == z_.size())
        fail(path_, "gzip stream is truncated (ends after " + std::to_string(z_.size()) + " bytes)");
      fail(path_, "gzip data is corrupt (zlib error " + std::to_string(rc) + ")");
    }
    return got;
  }

 private:
  const std::vector<std::uint8_t>& z_;
  std::string path_;
  z_stream s_{};
  bool active_ = false;
  std::size_t in_pos_ = 0;
};

// The payload goes to `keep` when given; otherwise it is inflated through a small buffer and
// only checked (its size, the gzip checksums).
IdxArray read_gzip(const std::vector<std::uint8_t>& z, const std::string& path, bool keep) {
  const std::string where = " after gunzip";
  Gunzip g(z, path);
  std::array<std::uint8_t, 4 + 4 * 255> head{};
  std::size_t have = g.read(head.data(), 4);
  const std::size_t header = header_bytes(head.data(), have, path, where);
  have += g.read(head.data() + 4, header - 4);
  const Header h = parse_header(head.data(), have, path, where);
  if (h.overflow || h.payload > kMaxDeflateRatio * z.size())
    fail(path, "truncated: header says " + (h.overflow ? std::string("more than 2^64") : std::to_string(h.payload)) +
                   " bytes of " + payload_word(h.dims.size()) + ", more than its " + std::to_string(z.size()) +
                   " gzip bytes can hold");
  IdxArray a;
  a.dims = h.dims;
  std::uint64_t got = 0;
  if (keep) {
    a.data.resize(static_cast<std::size_t>(h.payload));
    got = g.read(a.data.data(), a.data.size());
  } else {
    std::vector<std::uint8_t> buf(std::size_t{1} << 16);
    while (got < h.payload) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), h.payload - got));
      const std::size_t n = g.read(buf.data(), want);
      got += n;
      if (n < want) break;
    }
  }
  if (got < h.payload) fail_short(path, h, std::to_string(got), where);
  std::uint8_t extra = 0;
  if (g.read(&extra, 1) != 0)
    fail(path, "trailing bytes: header says " + std::to_string(h.payload) + " bytes of " +
                   payload_word(h.dims.size()) + ", but the gzip data holds more");
  return a;
}

IdxArray read(const std::string& path, bool keep) {
  require_regular_file(path, "an IDX file", fix_for(path, "directory"));
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    throw DataError(path + ": cannot open (" + std::strerror(err) + "); " +
                    (err == ENOENT ? "check the path" : "check the file's permissions"));
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    throw DataError(path + ": cannot stat (" + std::strerror(err) + "); check the disk");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);

  std::array<std::uint8_t, 4 + 4 * 255> head{};
  const std::size_t have = read_at(fd.get(), head.data(), std::min<std::uint64_t>(size, head.size()), 0, path);
  if (have >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
    std::vector<std::uint8_t> z(static_cast<std::size_t>(size));
    if (read_at(fd.get(), z.data(), z.size(), 0, path) != z.size())
      throw DataError(path + ": changed while being read; run again once nothing writes it");
    return read_gzip(z, path, keep);
  }
  const Header h = parse_header(head.data(), have, path, "");
  const std::uint64_t on_disk = size - h.bytes;
  if (h.overflow || h.payload > on_disk) fail_short(path, h, std::to_string(on_disk), "");
  if (h.payload < on_disk)
    fail(path, "trailing bytes: header says " + std::to_string(h.payload) + " bytes of " +
                   payload_word(h.dims.size()) + ", file has " + std::to_string(on_disk) + " (" +
                   std::to_string(on_disk - h.payload) + " extra)");
  IdxArray a;
  a.dims = h.dims;
  if (keep) {
    a.data.resize(static_cast<std::size_t>(h.payload));
    if (read_at(fd.get(), a.data.data(), a.data.size(), h.bytes, path) != a.data.size())
      throw DataError(path + ": changed while being read; run again once nothing writes it");
  }
  return a;
}

}  // namespace

IdxArray read_idx(const std::string& path) { return read(path, true); }

std::vector<std::uint32_t> check_idx(const std::string& path) { return read(path, false).dims; }

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
