#pragma once
// JSON text pieces shared by every module that writes JSON (query output, runs.config_json).
#include <string>
#include <string_view>

namespace ternbench {

// s as a JSON string literal: quotes, backslash and control characters escaped (\n, \r, \t,
// else \u00XX); other bytes, UTF-8 included, pass through.
std::string json_quote(std::string_view s);

}  // namespace ternbench
