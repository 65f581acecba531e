#pragma once
// SQL from the column lists of record_columns.hpp (private to tb::storage): the names for a
// statement, binding a record's fields and reading them back, whatever the field's type.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sqlite_util.hpp"
#include "ternbench/storage/record_columns.hpp"

namespace ternbench::storage::record_sql {

// "a, b, c": the columns of Columns, in order.
template <class Columns, class Record>
std::string names() {
  std::string out;
  Record r;
  Columns::visit(r, [&](std::string_view name, auto&, Empty) {
    if (!out.empty()) out += ", ";
    out += name;
  });
  return out;
}

// "?first, ?first+1, ...": one placeholder per column of Columns.
template <class Columns, class Record>
std::string placeholders(int first = 1) {
  std::string out;
  Record r;
  int i = first;
  Columns::visit(r, [&](std::string_view, auto&, Empty) {
    out += (out.empty() ? "?" : ", ?") + std::to_string(i++);
  });
  return out;
}

// "<verb> INTO table(a, b, c) VALUES(?1, ?2, ?3)", the columns of Columns.
template <class Columns, class Record>
std::string insert(std::string_view verb, std::string_view table) {
  return std::string(verb) + " INTO " + std::string(table) + "(" + names<Columns, Record>() + ") VALUES(" +
         placeholders<Columns, Record>() + ")";
}

inline void bind_field(sqlite::Statement& st, int i, const std::string& v, Empty empty) {
  if (empty == Empty::kNull) {
    st.bind_text_or_null(i, v);
  } else {
    st.bind(i, std::string_view(v));
  }
}
template <class T>
void bind_field(sqlite::Statement& st, int i, const T& v, Empty) {
  st.bind(i, v);
}

// Binds r's columns to ?first, ?first+1, ...; returns the index after the last.
template <class Columns, class Record>
int bind(sqlite::Statement& st, const Record& r, int first = 1) {
  int i = first;
  Columns::visit(r, [&](std::string_view, const auto& v, Empty empty) { bind_field(st, i++, v, empty); });
  return i;
}

inline void read_field(const sqlite::Statement& st, int c, std::string& v) { v = st.text(c); }
inline void read_field(const sqlite::Statement& st, int c, double& v) { v = st.real(c); }
inline void read_field(const sqlite::Statement& st, int c, std::int64_t& v) { v = st.integer(c); }
inline void read_field(const sqlite::Statement& st, int c, int& v) { v = st.int32(c); }
inline void read_field(const sqlite::Statement& st, int c, bool& v) { v = st.integer(c) != 0; }
inline void read_field(const sqlite::Statement& st, int c, std::optional<std::int64_t>& v) {
  v = st.optional_integer(c);
}

// Reads r's columns from result columns first, first+1, ...
template <class Columns, class Record>
void read(const sqlite::Statement& st, Record& r, int first = 0) {
  int c = first;
  Columns::visit(r, [&](std::string_view, auto& v, Empty) { read_field(st, c++, v); });
}

}  // namespace ternbench::storage::record_sql
