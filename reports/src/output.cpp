#include "ternbench/reports/output.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ternbench/base/error.hpp"

namespace fs = std::filesystem;

namespace ternbench::reports {

std::set<std::string> parse_formats(const std::string& list, const std::string& option) {
  std::set<std::string> out;
  std::stringstream ss(list);
  std::string f;
  while (std::getline(ss, f, ',')) {
    if (f != "md" && f != "tex" && f != "html")
      throw ConfigError(option, "", 0, "unknown format \"" + f + "\"; use a comma-separated subset of md,tex,html");
    out.insert(f);
  }
  if (out.empty()) throw ConfigError(option, "", 0, "no format given; use a comma-separated subset of md,tex,html");
  return out;
}

std::vector<OutputFile> report_files(const Report& r, const std::set<std::string>& formats) {
  std::vector<OutputFile> files;
  if (formats.count("md")) {
    files.push_back({"report.md", render_markdown(r, "charts")});
    for (const auto& sec : r.sections)
      for (const auto& ch : sec.charts) files.push_back({"charts/" + ch.id + ".svg", render_svg(ch, true)});
  }
  if (formats.count("tex")) {
    files.push_back({"report.tex", render_latex(r)});
    for (const auto& sec : r.sections) {
      files.push_back({"tables/" + sec.dataset + ".tex", render_latex_table(r, sec)});
      for (const auto& ch : sec.charts) files.push_back({"charts/" + ch.id + ".pdf", render_pdf(ch)});
    }
  }
  if (formats.count("html")) files.push_back({"report.html", render_html(r)});
  files.push_back({"cells.csv", render_cells_csv(r)});
  return files;
}

std::vector<OutputFile> paper_files(const PaperResult& r, const std::string& db_path,
                                    const std::set<std::string>& formats) {
  std::vector<OutputFile> files;
  if (formats.count("md")) files.push_back({"report.md", render_paper_markdown(r, db_path)});
  if (formats.count("tex")) {
    files.push_back({"report.tex", render_paper_latex(r, db_path)});
    for (const auto& t : r.tables) files.push_back({"tables/" + t.spec->id + ".tex", render_paper_table_latex(r, t)});
  }
  if (formats.count("html")) files.push_back({"report.html", render_paper_html(r, db_path)});
  files.push_back({"cells.csv", render_paper_cells_csv(r)});
  return files;
}

std::vector<std::string> write_files(const std::string& dir, const std::vector<OutputFile>& files) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& f : files) {
    const fs::path target = fs::path(dir) / f.name;
    fs::create_directories(target.parent_path(), ec);
    if (ec) throw StorageError(target.parent_path().string() + ": cannot create the report directory: " + ec.message());
    const fs::path tmp = target.string() + ".tmp." + std::to_string(::getpid());
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << f.content;
      out.flush();
      if (!out) {
        fs::remove(tmp, ec);
        throw StorageError(target.string() + ": cannot write the report file (disk full or no permission?)");
      }
    }
    fs::rename(tmp, target, ec);
    if (ec) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw StorageError(target.string() + ": cannot move the report file into place: " + ec.message());
    }
    paths.push_back(target.string());
  }
  return paths;
}

}  // namespace ternbench::reports
