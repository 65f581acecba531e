#pragma once
// The files of a report and writing them: each file goes to a temporary name first and is
// renamed into place, so a reader never sees a half-written report.
#include <set>
#include <string>
#include <vector>

#include "ternbench/reports/paper.hpp"
#include "ternbench/reports/report.hpp"

namespace ternbench::reports {

struct OutputFile {
  std::string name;  // relative to the output directory, e.g. "report.md", "charts/x.svg"
  std::string content;
};

// "md,tex,html" -> {"md", "tex", "html"}; throws ConfigError naming `option` for anything else.
std::set<std::string> parse_formats(const std::string& list, const std::string& option = "--format");

// report.md (+ charts/*.svg), report.tex (+ tables/*.tex and charts/*.pdf), report.html as
// asked; cells.csv always.
std::vector<OutputFile> report_files(const Report& r, const std::set<std::string>& formats);
std::vector<OutputFile> paper_files(const PaperResult& r, const std::string& db_path,
                                    const std::set<std::string>& formats);

// Creates dir, writes every file atomically, returns their paths in order. Throws
// StorageError naming the path on failure.
std::vector<std::string> write_files(const std::string& dir, const std::vector<OutputFile>& files);

}  // namespace ternbench::reports
