#pragma once
// One SQLite value as stored, with its storage class, so that copies and comparisons of
// rows are exact (no text round trip, NULL kept apart from 0 and "").
#include <cstdint>
#include <string>

namespace ternbench::storage {

struct SqlValue {
  enum class Type { kNull, kInteger, kReal, kText, kBlob };
  Type type = Type::kNull;
  std::int64_t integer = 0;  // kInteger
  double real = 0;           // kReal
  std::string bytes;         // kText (UTF-8) or kBlob

  static SqlValue null() { return {}; }
  static SqlValue of_integer(std::int64_t v);
  static SqlValue of_real(double v);
  static SqlValue of_text(std::string v);
  bool is_null() const { return type == Type::kNull; }
  bool is_number() const { return type == Type::kInteger || type == Type::kReal; }
};

// Same storage class and same value; reals compare by their bits (-0.0 != 0.0).
bool operator==(const SqlValue& a, const SqlValue& b);
inline bool operator!=(const SqlValue& a, const SqlValue& b) { return !(a == b); }

}  // namespace ternbench::storage
