#pragma once
// Escaping for each output format, and the small number formats the tables share.
#include <string>

namespace ternbench::reports {

std::string xml_escape(const std::string& s);    // & < > " '
std::string latex_escape(const std::string& s);  // _ % & # $ { } ~ ^ backslash
std::string md_escape(const std::string& s);     // | and backslash, for table cells
std::string csv_field(const std::string& s);     // RFC 4180 quoting when needed

std::string fixed(double v, int decimals);       // printf %.Nf; "–" for NaN
// At least `decimals` decimals, and as many more (up to 6) as v needs to be shown exactly:
// a claim's threshold 0.975 is "0.975", not "0.97".
std::string fixed_exact(double v, int decimals);
std::string human_bits(double bits);             // "123 B", "12.3 KiB", "1.20 MiB"; "–" for NaN

}  // namespace ternbench::reports
