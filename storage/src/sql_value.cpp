#include "ternbench/storage/sql_value.hpp"

#include <bit>
#include <utility>

namespace ternbench::storage {

SqlValue SqlValue::of_integer(std::int64_t v) {
  SqlValue s;
  s.type = Type::kInteger;
  s.integer = v;
  return s;
}

SqlValue SqlValue::of_real(double v) {
  SqlValue s;
  s.type = Type::kReal;
  s.real = v;
  return s;
}

SqlValue SqlValue::of_text(std::string v) {
  SqlValue s;
  s.type = Type::kText;
  s.bytes = std::move(v);
  return s;
}

bool operator==(const SqlValue& a, const SqlValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case SqlValue::Type::kNull: return true;
    case SqlValue::Type::kInteger: return a.integer == b.integer;
    case SqlValue::Type::kReal: return std::bit_cast<std::uint64_t>(a.real) == std::bit_cast<std::uint64_t>(b.real);
    case SqlValue::Type::kText:
    case SqlValue::Type::kBlob: return a.bytes == b.bytes;
  }
  return false;
}

}  // namespace ternbench::storage
