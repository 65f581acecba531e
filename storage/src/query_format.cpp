// Renderings of a result, streamed or whole: aligned text table, CSV, JSON, Markdown.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

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
void note_numeric(const std::vector<SqlValue>& row, std::vector<bool>& numeric) {
  for (std::size_t i = 0; i < row.size() && i < numeric.size(); ++i) {
    if (!row[i].is_null() && !row[i].is_number()) numeric[i] = false;
  }
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

// Text goes out at row ends once this much has gathered: few writes, little memory.
constexpr std::size_t kFlushBytes = 64u << 10;

struct FormatWriter::State {
  OutputFormat format;
  Out out;
  std::string buf;
  std::vector<std::string> columns;
  std::int64_t rows = 0;
  // table and markdown: the cells of the rows held until the layout is measured
  bool measured = false;
  std::vector<std::vector<std::string>> held;
  std::size_t held_bytes = 0;
  std::vector<bool> numeric;
  std::vector<std::size_t> width;

  void flush_if(std::size_t at_least) {
    if (buf.size() < at_least || buf.empty()) return;
    out(buf);
    buf.clear();
  }

  void table_line(const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) text += "  ";
      pad(text, cells[i], width[i], numeric[i]);
    }
    rtrim(text);
    buf.append(text).append("\n");
  }

  void markdown_line(const std::vector<std::string>& cells) {
    buf += "|";
    for (const auto& c : cells) buf.append(" ").append(c).append(" |");
    buf += '\n';
  }

  // The cells of a row as the held formats show them.
  std::vector<std::string> cells(const std::vector<SqlValue>& row) const {
    std::vector<std::string> out_cells;
    out_cells.reserve(row.size());
    for (const SqlValue& v : row) {
      if (format == OutputFormat::kTable) out_cells.push_back(v.is_null() ? "NULL" : escape_controls(plain(v)));
      else out_cells.push_back(markdown_cell(plain(v)));
    }
    return out_cells;
  }

  // Writes the header from the held rows' layout, then the held rows.
  void measure() {
    measured = true;
    if (format == OutputFormat::kTable) {
      std::vector<std::string> header, rule;
      for (std::size_t i = 0; i < columns.size(); ++i) {
        header.push_back(escape_controls(columns[i]));
        width[i] = display_width(header.back());
        for (const auto& line : held) width[i] = std::max(width[i], display_width(line[i]));
      }
      for (std::size_t w : width) rule.emplace_back(w, '-');
      table_line(header);
      table_line(rule);
      for (const auto& line : held) table_line(line);
    } else {
      buf += "|";
      for (const auto& c : columns) buf.append(" ").append(markdown_cell(c)).append(" |");
      buf += "\n|";
      for (std::size_t i = 0; i < columns.size(); ++i) buf += numeric[i] && !held.empty() ? "---:|" : "---|";
      buf += '\n';
      for (const auto& line : held) markdown_line(line);
    }
    held.clear();
    held.shrink_to_fit();
  }

  void csv_row(const std::vector<SqlValue>& row) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) buf += ',';
      // An empty text is quoted so that it reads back apart from NULL (an empty field).
      buf += csv_field(plain(row[i]), row[i].type == Type::kText);
    }
    buf += '\n';
  }

  void json_row(const std::vector<SqlValue>& row) {
    buf += rows == 0 ? "[\n  {" : ",\n  {";
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) buf += ", ";
      buf.append(json_string(columns[i])).append(": ").append(json_value(row[i]));
    }
    buf += "}";
  }
};

FormatWriter::FormatWriter(OutputFormat format, Out out) : s_(std::make_unique<State>()) {
  s_->format = format;
  s_->out = std::move(out);
}

FormatWriter::~FormatWriter() = default;

void FormatWriter::begin(const std::vector<std::string>& columns) {
  State& s = *s_;
  s.columns = columns;
  s.numeric.assign(columns.size(), true);
  s.width.assign(columns.size(), 0);
  if (s.format == OutputFormat::kCsv) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) s.buf += ',';
      s.buf += csv_field(columns[i], true);
    }
    s.buf += '\n';
  }
}

void FormatWriter::row(const std::vector<SqlValue>& values) {
  State& s = *s_;
  switch (s.format) {
    case OutputFormat::kCsv: s.csv_row(values); break;
    case OutputFormat::kJson: s.json_row(values); break;
    case OutputFormat::kTable:
    case OutputFormat::kMarkdown:
      if (s.measured) {
        if (s.format == OutputFormat::kTable) s.table_line(s.cells(values));
        else s.markdown_line(s.cells(values));
        break;
      }
      note_numeric(values, s.numeric);
      s.held.push_back(s.cells(values));
      for (const auto& c : s.held.back()) s.held_bytes += c.size();
      if (s.held.size() >= kMeasuredRows || s.held_bytes >= kMeasuredBytes) s.measure();
      break;
  }
  ++s.rows;
  s.flush_if(kFlushBytes);
}

void FormatWriter::end(bool complete) {
  State& s = *s_;
  if ((s.format == OutputFormat::kTable || s.format == OutputFormat::kMarkdown) && !s.measured) s.measure();
  if (s.format == OutputFormat::kJson && complete) s.buf += s.rows == 0 ? "[]\n" : "\n]\n";
  s.flush_if(1);
}

namespace {

std::string render(const QueryResult& r, OutputFormat f) {
  std::string text;
  FormatWriter w(f, [&text](std::string_view piece) { text.append(piece); });
  w.begin(r.columns);
  for (const auto& row : r.rows) w.row(row);
  w.end(true);
  return text;
}

}  // namespace

std::string format_table(const QueryResult& r) { return render(r, OutputFormat::kTable); }
std::string format_csv(const QueryResult& r) { return render(r, OutputFormat::kCsv); }
std::string format_json(const QueryResult& r) { return render(r, OutputFormat::kJson); }
std::string format_markdown(const QueryResult& r) { return render(r, OutputFormat::kMarkdown); }

std::string format_result(const QueryResult& r, OutputFormat f) { return render(r, f); }

}  // namespace ternbench::storage
