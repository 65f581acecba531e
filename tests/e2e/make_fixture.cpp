// Writes a small, learnable MNIST-shaped dataset as IDX files, so end-to-end tests run
// without network access: class c is a bright 6x6 square at a class-specific place plus
// seeded noise. Usage: tb_make_fixture <dir> <train count> <test count>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "ternbench/base/rng.hpp"
#include "ternbench/datalib/idx.hpp"

namespace {
ternbench::data::IdxArray images(std::uint32_t n) { return {{n, 28, 28}, std::vector<std::uint8_t>(n * 784u)}; }

void fill(ternbench::data::IdxArray& img, ternbench::data::IdxArray& lab, ternbench::Rng& rng) {
  const std::uint32_t n = img.dims[0];
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t c = i % 10;
    lab.data[i] = static_cast<std::uint8_t>(c);
    const std::uint32_t r0 = 2 + (c / 5) * 12, c0 = 2 + (c % 5) * 5;
    for (std::uint32_t p = 0; p < 784; ++p) img.data[i * 784 + p] = static_cast<std::uint8_t>(rng.uniform_index(60));
    for (std::uint32_t r = r0; r < r0 + 6; ++r)
      for (std::uint32_t k = c0; k < c0 + 6 && k < 28; ++k)
        img.data[i * 784 + r * 28 + k] = static_cast<std::uint8_t>(180 + rng.uniform_index(76));
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <dir> <train count> <test count>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::filesystem::create_directories(dir);
  ternbench::Rng rng(2024);
  for (const auto& [prefix, count] : {std::pair<std::string, long>{"train", std::atol(argv[2])},
                                      std::pair<std::string, long>{"t10k", std::atol(argv[3])}}) {
    const auto n = static_cast<std::uint32_t>(count);
    auto img = images(n);
    ternbench::data::IdxArray lab{{n}, std::vector<std::uint8_t>(n)};
    fill(img, lab, rng);
    ternbench::data::write_idx(dir + "/" + prefix + "-images-idx3-ubyte", img);
    ternbench::data::write_idx(dir + "/" + prefix + "-labels-idx1-ubyte", lab);
  }
  return 0;
}
