#include "ternbench/reports/escape.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ternbench::reports {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string latex_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '_': case '%': case '&': case '#': case '$': case '{': case '}':
        out += '\\';
        out += ch;
        break;
      case '~': out += "\\textasciitilde{}"; break;
      case '^': out += "\\textasciicircum{}"; break;
      case '\\': out += "\\textbackslash{}"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|' || ch == '\\') out += '\\';
    out += ch == '\n' ? ' ' : ch;
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::string fixed(double v, int decimals) {
  if (std::isnan(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string fixed_exact(double v, int decimals) {
  int d = decimals;
  while (d < 6 && std::fabs(std::strtod(fixed(v, d).c_str(), nullptr) - v) > 1e-12 * std::max(1.0, std::fabs(v))) ++d;
  return fixed(v, d);
}

std::string human_bits(double bits) {
  if (std::isnan(bits)) return "–";
  const double bytes = bits / 8;
  char buf[64];
  if (bytes < 1024) std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  else if (bytes < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024);
  else std::snprintf(buf, sizeof buf, "%.2f MiB", bytes / (1024 * 1024));
  return buf;
}

}  // namespace ternbench::reports
