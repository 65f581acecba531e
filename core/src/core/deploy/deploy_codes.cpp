#include "ternbench/core/deploy/deploy_codes.hpp"

#include "ternbench/base/error.hpp"
#include "ternbench/core/deploy/packing.hpp"

namespace ternbench::core {

std::vector<NamedTensor> deployable_codes(const Weight& w) {
  const Quantizer* q = w.quantizer();
  if (q == nullptr || std::string(q->precision()) == "fp32") return {};
  const Mat& m = w.deployed();
  const std::string layout = q->scale_layout();
  std::vector<std::int8_t> codes = ternary_codes(m);
  if (layout == "sign") {
    // The region decides the code, not the value's sign: a learned Wp or Wn may go negative.
    const std::vector<float> s = q->scales();
    std::size_t i = 0;
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      for (Eigen::Index c = 0; c < m.cols(); ++c, ++i) {
        const float v = m(r, c);
        codes[i] = v == 0.0f ? std::int8_t{0} : v == s[0] ? std::int8_t{1} : std::int8_t{-1};
      }
    }
  }
  const bool binary = std::string(q->precision()) == "binary";
  NamedTensor c;
  c.name = w.latent().name + "_codes";
  if (binary) {
    // A zero only comes from a zero scale (an all-zero row of BWN); any sign decodes to 0.
    for (std::int8_t& x : codes) x = x == 0 ? std::int8_t{1} : x;
    c.u8 = pack_binary(codes);
  } else {
    c.u8 = pack_ternary_2bit(codes);
  }
  c.shape = {static_cast<std::int64_t>(c.u8.size())};
  c.attrs = {{"encoding", std::string(binary ? "binary" : "ternary_2bit")},
             {"rows", static_cast<std::int64_t>(m.rows())},
             {"cols", static_cast<std::int64_t>(m.cols())},
             {"scale_layout", layout}};
  std::vector<NamedTensor> out;
  out.push_back(std::move(c));
  std::vector<float> scales = q->scales();
  if (!scales.empty()) {
    NamedTensor s;
    s.name = w.latent().name + "_scales";
    s.shape = {static_cast<std::int64_t>(scales.size())};
    s.data = std::move(scales);
    out.push_back(std::move(s));
  }
  return out;
}

Mat decode_deployed(std::span<const std::uint8_t> bytes, const std::string& encoding, Eigen::Index rows,
                    Eigen::Index cols, std::span<const float> scales, const std::string& layout) {
  const auto n = static_cast<std::size_t>(rows * cols);
  std::vector<std::int8_t> codes;
  if (encoding == "binary") {
    codes = unpack_binary(bytes, n);
  } else if (encoding == "ternary_2bit") {
    codes = unpack_ternary_2bit(bytes, n);
  } else {
    throw Error("codes: unknown encoding '" + encoding + "' (expected binary or ternary_2bit)");
  }
  const std::size_t want = layout == "none" ? 0 : layout == "layer" ? 1 : layout == "sign" ? 2
                           : layout == "row" ? static_cast<std::size_t>(rows) : static_cast<std::size_t>(-1);
  if (want == static_cast<std::size_t>(-1))
    throw Error("codes: unknown scale_layout '" + layout + "' (expected none, layer, row or sign)");
  if (scales.size() != want)
    throw Error("codes: scale_layout " + layout + " needs " + std::to_string(want) + " scales, got " +
                std::to_string(scales.size()));
  Mat q(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (Eigen::Index c = 0; c < cols; ++c) {
      const float code = codes[static_cast<std::size_t>(r * cols + c)];
      float v = code;
      if (layout == "layer") {
        v = scales[0] * code;
      } else if (layout == "row") {
        v = scales[static_cast<std::size_t>(r)] * code;
      } else if (layout == "sign") {
        v = code > 0 ? scales[0] : code < 0 ? -scales[1] : 0.0f;
      }
      q(r, c) = v;
    }
  }
  return q;
}

namespace {

const std::string* text_attr(const NamedTensor& t, const std::string& key) {
  for (const auto& [k, v] : t.attrs)
    if (k == key) return std::get_if<std::string>(&v);
  return nullptr;
}

}  // namespace

std::optional<StoredCodes> read_stored_codes(const std::vector<NamedTensor>& tensors, const std::string& name,
                                             Eigen::Index rows, Eigen::Index cols, const std::string& source) {
  const NamedTensor* codes = find_tensor(tensors, name + "_codes");
  if (codes == nullptr) return std::nullopt;
  const std::string* encoding = text_attr(*codes, "encoding");
  const std::string* layout = text_attr(*codes, "scale_layout");
  if (encoding == nullptr || layout == nullptr)
    throw Error(source + ": " + codes->name + " lacks its encoding or scale_layout attribute; the file is damaged");
  StoredCodes out;
  out.encoding = *encoding;
  out.layout = *layout;
  if (const NamedTensor* scales = find_tensor(tensors, name + "_scales")) out.scales = scales->data;
  try {
    out.decoded = decode_deployed(codes->u8, out.encoding, rows, cols, out.scales, out.layout);
    const auto n = static_cast<std::size_t>(rows * cols);
    out.signs = out.encoding == "binary" ? unpack_binary(codes->u8, n) : unpack_ternary_2bit(codes->u8, n);
  } catch (const Error& e) {
    throw Error(source + ": " + codes->name + ": " + e.what());
  }
  return out;
}

}  // namespace ternbench::core
