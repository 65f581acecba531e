#pragma once
// Adversarial compressed input for the data readers' tests: a gzip file that inflates to far
// more than it should, and a cap on the address space under which reading it must stay.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace ternbench::testing {

// One gzip member holding `head` followed by `megabytes` MB of zeros: a file of about 1 KB
// per MB that inflates to far more than its header declares. The zeros are compressed once:
// after a full flush the deflate state starts afresh, so one flushed megabyte can be
// repeated; the trailer's CRC-32 and size are those of the whole content.
inline void write_gzip_bomb(const std::string& path, const std::vector<std::uint8_t>& head, std::size_t megabytes) {
  z_stream s{};
  ASSERT_EQ(deflateInit2(&s, 9, Z_DEFLATED, -MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);  // raw deflate
  const auto deflate_all = [&](const std::uint8_t* in, std::size_t n, int flush) {
    std::vector<std::uint8_t> out, buf(1 << 16);
    s.next_in = const_cast<Bytef*>(in);
    s.avail_in = static_cast<uInt>(n);
    do {
      s.next_out = buf.data();
      s.avail_out = static_cast<uInt>(buf.size());
      deflate(&s, flush);
      out.insert(out.end(), buf.data(), buf.data() + (buf.size() - s.avail_out));
    } while (s.avail_out == 0);
    return out;
  };
  const std::vector<std::uint8_t> zero(std::size_t{1} << 20, 0);
  std::vector<std::uint8_t> file = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};  // gzip header: deflate, no name, Unix
  const std::vector<std::uint8_t> h = deflate_all(head.data(), head.size(), Z_FULL_FLUSH);
  const std::vector<std::uint8_t> z = deflate_all(zero.data(), zero.size(), Z_FULL_FLUSH);
  const std::vector<std::uint8_t> end = deflate_all(nullptr, 0, Z_FINISH);
  deflateEnd(&s);
  file.insert(file.end(), h.begin(), h.end());
  uLong crc = crc32(0, head.data(), static_cast<uInt>(head.size()));
  const uLong crc_zero = crc32(0, zero.data(), static_cast<uInt>(zero.size()));
  for (std::size_t i = 0; i < megabytes; ++i) {
    file.insert(file.end(), z.begin(), z.end());
    crc = crc32_combine(crc, crc_zero, static_cast<z_off_t>(zero.size()));
  }
  file.insert(file.end(), end.begin(), end.end());
  const auto size = static_cast<std::uint32_t>(head.size() + megabytes * zero.size());
  for (const std::uint32_t v : {static_cast<std::uint32_t>(crc), size})
    for (int k = 0; k < 4; ++k) file.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
  ASSERT_TRUE(out.good()) << path;
}

// Runs f with the address space capped at what the process uses now plus `headroom`
// bytes, so that a reader that allocates what a file inflates to (instead of what its
// header declares) fails with std::bad_alloc here rather than taking the machine's memory.
inline void with_memory_headroom(std::size_t headroom, const std::function<void()>& f) {
#if defined(__SANITIZE_ADDRESS__)
  (void)headroom;  // the sanitizer's shadow memory needs mappings of its own: no cap
  f();
  return;
#endif
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  statm >> pages;
  ASSERT_GT(pages, 0u);
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_AS, &old), 0);
  rlimit capped = old;
  capped.rlim_cur = static_cast<rlim_t>(pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) + headroom);
  if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < capped.rlim_cur) capped.rlim_cur = old.rlim_cur;
  ASSERT_EQ(setrlimit(RLIMIT_AS, &capped), 0);
  try {
    f();
  } catch (...) {
    setrlimit(RLIMIT_AS, &old);
    throw;
  }
  ASSERT_EQ(setrlimit(RLIMIT_AS, &old), 0);
}

}  // namespace ternbench::testing
