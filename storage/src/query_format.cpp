// Renderings of a QueryResult: aligned text table, CSV, JSON, Markdown.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include "ternbench/base/json.hpp"
#include "ternbench/storage/query.hpp"

namespace ternbench::storage {
namespace {

using Type = SqlValue::Type;

std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// The value as plain text, NULL as "" (the csv/markdown reading).
std::string plain(const SqlValue& v) {
  switch (v.type) {
    case Type::kNull: return "";
    case Type::kInteger: return std::to_string(v.integer);
    case Type::kReal: return format_real(v.real);
    case Type::kText: return v.bytes;
    case Type::kBlob: return std::string("x'").append(hex(v.bytes)).append("'");
  }
  return "";
}

// Characters on screen: UTF-8 continuation bytes take no column.
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// Control characters would break the table's lines; they are shown escaped.
std::string escape_controls(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out;
}

// A column is numeric, and aligned right, when every non-NULL value in it is a number.
std::vector<bool> numeric_columns(const QueryResult& r) {
  std::vector<bool> numeric(r.columns.size(), true);
  for (const auto& row : r.rows) {
    for (std::size_t i = 0; i < row.size() && i < numeric.size(); ++i) {
      if (!row[i].is_null() && !row[i].is_number()) numeric[i] = false;
    }
  }
  return numeric;
}

void pad(std::string& line, const std::string& cell, std::size_t width, bool right) {
  const std::size_t w = display_width(cell);
  const std::string fill(width > w ? width - w : 0, ' ');
  if (right) line.append(fill).append(cell);
  else line.append(cell).append(fill);
}

void rtrim(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
}

std::string csv_field(const std::string& s, bool quote_empty) {
  const bool quote = s.find_first_of(",\"\r\n") != std::string::npos ||
                     (!s.empty() && (s.front() == ' ' || s.back() == ' ')) || (quote_empty && s.empty());
  if (!quote) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string json_string(const std::string& s) { return json_quote(s); }

std::string json_value(const SqlValue& v) {
  switch (v.type) {
    case Type::kNull: return "null";
    case Type::kInteger: return std::to_string(v.integer);
    case Type::kReal: {
      if (!std::isfinite(v.real)) return "null";  // JSON has no inf
      // A REAL keeps a decimal point, so that JSON readers see a float and not an integer.
      std::string s = format_real(v.real);
      if (s.find_first_of(".e") == std::string::npos) s += ".0";
      return s;
    }
    case Type::kText: return json_string(v.bytes);
    case Type::kBlob: return json_string(hex(v.bytes));
  }
  return "null";
}

std::string markdown_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += "<br>";
    else if (c != '\r') out += c;
  }
  return out;
}

}  // namespace

std::string format_real(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, res.ptr);
}

std::string format_table(const QueryResult& r) {
  const std::size_t n = r.columns.size();
  const std::vector<bool> numeric = numeric_columns(r);
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> width(n);
  for (std::size_t i = 0; i < n; ++i) width[i] = display_width(escape_controls(r.columns[i]));
  for (const auto& row : r.rows) {
    std::vector<std::string> line;
    for (std::size_t i = 0; i < n; ++i) {
      line.push_back(row[i].is_null() ? "NULL" : escape_controls(plain(row[i])));
      width[i] = std::max(width[i], display_width(line.back()));
    }
    cells.push_back(std::move(line));
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& line) {
    std::string text;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) text += "  ";
      pad(text, line[i], width[i], numeric[i]);
    }
    rtrim(text);
    out.append(text).append("\n");
  };
  std::vector<std::string> header, rule;
  for (std::size_t i = 0; i < n; ++i) {
    header.push_back(escape_controls(r.columns[i]));
    rule.emplace_back(width[i], '-');
  }
  emit(header);
  emit(rule);
  for (const auto& line : cells) emit(line);
  return out;
}

std::string format_csv(const QueryResult& r) {
  std::string out;
  for (std::size_t i = 0; i < r.columns.size(); ++i) {
    if (i > 0) out += ',';
    out += csv_field(r.columns[i], true);
  }
  out += '\n';
  for (const auto& row : r.rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ',';
      // An empty text is quoted so that it reads back apart from NULL (an empty field).
      out += csv_field(plain(row[i]), row[i].type == Type::kText);
    }
    out += '\n';
  }
  return out;
}

std::string format_json(const QueryResult& r) {
  if (r.rows.empty()) return "[]\n";
  std::string out = "[\n";
  for (std::size_t k = 0; k < r.rows.size(); ++k) {
    out += "  {";
    for (std::size_t i = 0; i < r.columns.size(); ++i) {
      if (i > 0) out += ", ";
      out.append(json_string(r.columns[i])).append(": ").append(json_value(r.rows[k][i]));
    }
    out += k + 1 < r.rows.size() ? "},\n" : "}\n";
  }
  out += "]\n";
  return out;
}

std::string format_markdown(const QueryResult& r) {
  const std::vector<bool> numeric = numeric_columns(r);
  std::string out = "|";
  for (const auto& c : r.columns) out.append(" ").append(markdown_cell(c)).append(" |");
  out += "\n|";
  for (std::size_t i = 0; i < r.columns.size(); ++i) out += numeric[i] && !r.rows.empty() ? "---:|" : "---|";
  out += '\n';
  for (const auto& row : r.rows) {
    out += "|";
    for (const auto& v : row) out.append(" ").append(markdown_cell(plain(v))).append(" |");
    out += '\n';
  }
  return out;
}

std::string format_result(const QueryResult& r, OutputFormat f) {
  switch (f) {
    case OutputFormat::kTable: return format_table(r);
    case OutputFormat::kCsv: return format_csv(r);
    case OutputFormat::kJson: return format_json(r);
    case OutputFormat::kMarkdown: return format_markdown(r);
  }
  return format_table(r);
}

}  // namespace ternbench::storage
