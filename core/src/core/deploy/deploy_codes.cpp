#include "ternbench/core/deploy/deploy_codes.hpp"

#include "ternbench/base/error.hpp"
#include "ternbench/base/format.hpp"
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

const AttrValue* find_attr(const NamedTensor& t, const std::string& key) {
  for (const auto& [k, v] : t.attrs)
    if (k == key) return &v;
  return nullptr;
}

}  // namespace

std::optional<StoredCodes> read_stored_codes(const std::vector<NamedTensor>& tensors, const std::string& name,
                                             Eigen::Index rows, Eigen::Index cols, const std::string& source) {
  const NamedTensor* codes = find_tensor(tensors, name + "_codes");
  if (codes == nullptr) return std::nullopt;
  const std::string edited = "; the file was edited or damaged, restore it from a copy or train the run again";
  const auto text = [&](const char* key) {
    const AttrValue* v = find_attr(*codes, key);
    const std::string* s = v != nullptr ? std::get_if<std::string>(v) : nullptr;
    if (s == nullptr) throw DataError(source + ": " + codes->name + " lacks its text attribute " + key + edited);
    return *s;
  };
  // The codes must be of the model's matrix: rows and cols say which one they were packed from.
  for (const auto& [key, want] : {std::pair<const char*, Eigen::Index>{"rows", rows}, {"cols", cols}}) {
    const AttrValue* v = find_attr(*codes, key);
    const std::int64_t* n = v != nullptr ? std::get_if<std::int64_t>(v) : nullptr;
    if (n == nullptr || *n != want)
      throw DataError(source + ": attribute " + key + " of " + codes->name + " is " +
                      (n == nullptr ? std::string("missing or not an integer") : std::to_string(*n)) + ", but " +
                      name + " has " + std::to_string(want) + " " + key + edited);
  }
  StoredCodes out;
  out.encoding = text("encoding");
  out.layout = text("scale_layout");
  if (const NamedTensor* scales = find_tensor(tensors, name + "_scales")) out.scales = scales->data;
  try {
    out.decoded = decode_deployed(codes->u8, out.encoding, rows, cols, out.scales, out.layout);
    const auto n = static_cast<std::size_t>(rows * cols);
    out.signs = out.encoding == "binary" ? unpack_binary(codes->u8, n) : unpack_ternary_2bit(codes->u8, n);
  } catch (const Error& e) {
    throw DataError(source + ": " + codes->name + ": " + e.what() + edited);
  }
  // The file stores the deployed matrix beside its codes; they must agree bit for bit, so a
  // model rebuilt from either (the float model, the ternary engine) is the one the run had.
  const NamedTensor* stored = find_tensor(tensors, name);
  if (stored == nullptr || stored->data.size() != static_cast<std::size_t>(rows * cols))
    throw DataError(source + ": no tensor " + name + " of " + std::to_string(rows * cols) + " float32 values beside " +
                    codes->name + edited);
  // decoded is column-major; the stored tensor and the codes are row-major.
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (Eigen::Index c = 0; c < cols; ++c) {
      const float want = stored->data[static_cast<std::size_t>(r * cols + c)];
      if (out.decoded(r, c) != want)
        throw DataError(source + ": " + codes->name + " decodes to " + format_g(out.decoded(r, c), 9) + " at (" +
                        std::to_string(r) + ", " + std::to_string(c) + ") where " + name + " holds " +
                        format_g(want, 9) + edited);
    }
  }
  return out;
}

}  // namespace ternbench::core
