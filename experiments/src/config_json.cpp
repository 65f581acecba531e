#include "ternbench/experiments/config_json.hpp"

#include <charconv>

#include "ternbench/base/error.hpp"
#include "ternbench/base/json.hpp"
#include "ternbench/tomlread/reader.hpp"

namespace ternbench::experiments {
namespace {

void put_string(std::string& out, std::string_view s) { out += json_quote(s); }

// Shortest round-trip form, so 0.05 reads back as the same double and shows as 0.05.
void put_node(std::string& out, const toml::node& n) {
  if (const auto* s = n.as_string()) {
    put_string(out, s->get());
  } else if (const auto* i = n.as_integer()) {
    out += std::to_string(i->get());
  } else if (const auto* f = n.as_floating_point()) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, f->get());
    std::string text(buf, r.ptr);
    if (text.find_first_of(".en") == std::string::npos) text += ".0";  // stays a JSON real
    out += text;
  } else if (const auto* b = n.as_boolean()) {
    out += b->get() ? "true" : "false";
  } else if (const auto* a = n.as_array()) {
    out += '[';
    for (std::size_t k = 0; k < a->size(); ++k) {
      if (k > 0) out += ',';
      put_node(out, *a->get(k));
    }
    out += ']';
  } else {
    throw ConfigError("<config>", "", 0, "a run's config holds only strings, numbers, booleans and lists");
  }
}

}  // namespace

std::string config_json(const std::string& run_toml) {
  const toml::table doc = tomlread::parse(run_toml, "<config>");
  const toml::table* train = doc["train"].as_table();
  if (train == nullptr) throw ConfigError("<config>", "train", 0, "a run's config has a [train] table");
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : *train) {
    if (!first) out += ',';
    first = false;
    put_string(out, key.str());
    out += ':';
    put_node(out, value);
  }
  out += '}';
  return out;
}

}  // namespace ternbench::experiments
