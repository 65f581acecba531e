#include "weights_checksum.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <map>

#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"

namespace ternbench::storage {
namespace {

// Values are hashed as the machine holds them; the format says little-endian.
static_assert(std::endian::native == std::endian::little, "weights checksums hash little-endian bytes");

std::string tensor_digest(const Tensor& t) {
  Sha256 h;
  h.update(!t.f64.empty() ? "f64\n" : !t.u64.empty() ? "u64\n" : !t.u8.empty() ? "u8\n" : "f32\n");
  const auto rank = static_cast<std::int64_t>(t.shape.size());
  h.update(&rank, sizeof rank);
  for (const std::int64_t d : t.shape) h.update(&d, sizeof d);
  h.update(t.f64.data(), t.f64.size() * sizeof(double));
  h.update(t.u64.data(), t.u64.size() * sizeof(std::uint64_t));
  h.update(t.u8.data(), t.u8.size());
  h.update(t.data.data(), t.data.size() * sizeof(float));
  return h.hex_digest();
}

std::string attr_digest(const AttrValue& v) {
  Sha256 h;
  if (const auto* s = std::get_if<std::string>(&v)) {
    h.update("str\n");
    h.update(*s);
  } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
    h.update("int\n");
    h.update(i, sizeof *i);
  } else {
    const double d = std::get<double>(v);
    h.update("float\n");
    h.update(&d, sizeof d);
  }
  return h.hex_digest();
}

// An item as messages name it: "attribute encoding of dense0/W_codes".
std::string label(const std::string& item) {
  const std::size_t at = item.rfind('@');
  if (at == std::string::npos) return "dataset " + item;
  if (at == 0) return "attribute " + item.substr(1);
  return "attribute " + item.substr(at + 1) + " of " + item.substr(0, at);
}

// Every item of the file, by its name in "checksums", with its digest. Two objects cannot
// share an item name in a file ternbench wrote ('@' is refused in names); one that does was edited.
std::map<std::string, std::string> items_of(const std::string& path, const Attrs& root,
                                            const std::vector<Tensor>& tensors) {
  std::map<std::string, std::string> items;
  const auto add = [&](const std::string& item, std::string digest) {
    if (!items.emplace(item, std::move(digest)).second)
      throw DataError(path + ": two objects of the file are both named '" + item +
                      "' in its checksums; the file was edited, restore it from a copy or train the run again");
  };
  for (const auto& [name, value] : root) add("@" + name, attr_digest(value));
  for (const Tensor& t : tensors) {
    add(t.name, tensor_digest(t));
    for (const auto& [name, value] : t.attrs) add(t.name + "@" + name, attr_digest(value));
  }
  return items;
}

bool is_hex_digest(const std::string& s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// "checksums" as item -> digest; throws naming the first line that is not "<hex> <item>".
std::map<std::string, std::string> parse_lines(const std::string& path, const std::string& lines) {
  std::map<std::string, std::string> out;
  std::size_t at = 0;
  for (int n = 1; at < lines.size(); ++n) {
    const std::size_t end = lines.find('\n', at);
    const std::string line = lines.substr(at, end == std::string::npos ? std::string::npos : end - at);
    const bool ok =
        end != std::string::npos && line.size() > 65 && line[64] == ' ' && is_hex_digest(line.substr(0, 64));
    if (!ok || !out.emplace(line.substr(65), line.substr(0, 64)).second)
      throw DataError(path + ": attribute checksums is malformed at line " + std::to_string(n) +
                      " (expected one \"<sha256 hex> <item>\" line per item); the file was edited or damaged, "
                      "restore it from a copy or train the run again");
    at = end + 1;
  }
  return out;
}

}  // namespace

std::string checksum_lines(const Attrs& root, const std::vector<Tensor>& tensors) {
  std::string out;
  for (const auto& [item, digest] : items_of("(writing)", root, tensors)) out += digest + " " + item + "\n";
  return out;
}

void verify_checksum_lines(const std::string& path, const std::string& lines, const Attrs& root,
                           const std::vector<Tensor>& tensors) {
  const std::map<std::string, std::string> items = items_of(path, root, tensors);
  const std::map<std::string, std::string> listed = parse_lines(path, lines);
  const std::string restore = ": the file was edited or damaged; restore it from a copy or train the run again";
  // Both maps are in item order, so the first problem reported is the same on every read.
  auto it = items.begin();
  auto li = listed.begin();
  while (it != items.end() || li != listed.end()) {
    if (li == listed.end() || (it != items.end() && it->first < li->first)) {
      throw DataError(path + ": " + label(it->first) + " is not covered by attribute checksums (it was added " +
                      "after ternbench wrote the file); remove it, or restore the file from a copy");
    }
    if (it == items.end() || li->first < it->first) {
      throw DataError(path + ": " + label(li->first) + " is listed in attribute checksums but missing" + restore);
    }
    if (it->second != li->second) {
      throw DataError(path + ": checksum mismatch in " + label(it->first) + " (checksums lists " +
                      li->second.substr(0, 16) + "..., its contents give " + it->second.substr(0, 16) + "...)" +
                      restore);
    }
    ++it;
    ++li;
  }
}

std::string checksum_v2(const std::vector<Tensor>& tensors) {
  std::vector<const Tensor*> sorted;
  for (const Tensor& t : tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](const Tensor* a, const Tensor* b) { return a->name < b->name; });
  Sha256 h;
  for (const Tensor* t : sorted) {
    h.update(t->name);
    h.update("\n", 1);
    // Three bytes each: "u8" is followed by its terminating NUL.
    const char* type = !t->f64.empty() ? "f64" : !t->u64.empty() ? "u64" : !t->u8.empty() ? "u8" : "f32";
    h.update(type, 3);
    for (const std::int64_t d : t->shape) h.update(&d, sizeof d);
    h.update(t->f64.data(), t->f64.size() * sizeof(double));
    h.update(t->u64.data(), t->u64.size() * sizeof(std::uint64_t));
    h.update(t->u8.data(), t->u8.size());
    h.update(t->data.data(), t->data.size() * sizeof(float));
  }
  return h.hex_digest();
}

}  // namespace ternbench::storage
