// The default report on a fixed DB (tests/fixtures/reports/fixture.sql loaded into a DB made by
// storage::MetricsDb, read through the real views): Markdown and LaTeX compared with golden
// files, HTML checked for structure. Regenerate the goldens after an intended change with
// TB_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/reports/output.hpp"
#include "ternbench/reports/report.hpp"
#include "ternbench/reports/results_db.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace tr = ternbench::reports;
using ternbench::testing::TmpDir;

namespace {

const std::string kDataDir = std::string(TB_SOURCE_DIR) + "/tests/fixtures/reports/";

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string make_fixture_db(const TmpDir& tmp) {
  const std::string path = tmp.file("fixture.sqlite");
  ternbench::storage::MetricsDb db(path);
  db.exec(read_file(kDataDir + "fixture.sql"));
  return path;
}

tr::Report fixture_report(const std::string& db_path, const std::vector<tr::ExpectedRun>& expected = {}) {
  tr::ResultsDb db(db_path);
  tr::ReportOptions opt;
  opt.title = "fixture";
  opt.source = "fixture.sqlite";
  return tr::build_report(db.runs(expected), db.epochs(), opt);
}

void expect_golden(const std::string& actual, const std::string& name) {
  const std::string path = kDataDir + name;
  if (std::getenv("TB_UPDATE_GOLDEN")) {
    std::ofstream(path, std::ios::binary) << actual;
    GTEST_SKIP() << "wrote " << path;
  }
  const std::string expected = read_file(path);
  ASSERT_FALSE(expected.empty()) << path << " is missing; run with TB_UPDATE_GOLDEN=1 to create it";
  EXPECT_EQ(actual, expected) << "differs from " << path;
}

// Tags balance (every element closed in order, or self-closed): the page parses as XML
// apart from its doctype.
void expect_well_formed(const std::string& html) {
  std::vector<std::string> open;
  std::size_t pos = 0;
  while ((pos = html.find('<', pos)) != std::string::npos) {
    const std::size_t end = html.find('>', pos);
    ASSERT_NE(end, std::string::npos) << "unterminated tag at " << pos;
    const std::string tag = html.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    if (tag.empty() || tag[0] == '!' || tag[0] == '?' || tag.back() == '/') continue;
    if (tag[0] == '/') {
      ASSERT_FALSE(open.empty()) << "closing </" << tag << "> with nothing open";
      EXPECT_EQ(open.back(), tag.substr(1)) << "mismatched close at " << pos;
      open.pop_back();
    } else {
      open.push_back(tag.substr(0, tag.find_first_of(" \n")));
    }
  }
  EXPECT_TRUE(open.empty()) << open.size() << " elements left open, first " << (open.empty() ? "" : open[0]);
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST(ReportGolden, Markdown) {
  TmpDir tmp;
  expect_golden(tr::render_markdown(fixture_report(make_fixture_db(tmp)), "charts"), "report.md");
}

TEST(ReportGolden, Latex) {
  TmpDir tmp;
  const std::string tex = tr::render_latex(fixture_report(make_fixture_db(tmp)));
  expect_golden(tex, "report.tex");
}

TEST(ReportGolden, LatexTableForAPaper) {
  TmpDir tmp;
  const tr::Report r = fixture_report(make_fixture_db(tmp));
  expect_golden(tr::render_latex_table(r, r.sections.at(0)), "table_mnist.tex");
}

TEST(ReportGolden, LatexUsesBooktabsAndEscapes) {
  TmpDir tmp;
  const std::string tex = tr::render_latex(fixture_report(make_fixture_db(tmp)));
  EXPECT_NE(tex.find("\\usepackage{booktabs}"), std::string::npos);
  EXPECT_EQ(count(tex, "\\toprule"), 1u);
  EXPECT_EQ(count(tex, "\\midrule"), 1u);
  EXPECT_EQ(count(tex, "\\bottomrule"), 1u);
  EXPECT_NE(tex.find("sca\\_alpha"), std::string::npos);
  EXPECT_NE(tex.find("$\\pm$"), std::string::npos);
  EXPECT_NE(tex.find("95\\% CI"), std::string::npos);
  EXPECT_EQ(tex.find("±"), std::string::npos);  // no raw UTF-8 symbol where LaTeX needs math
}

TEST(ReportHtml, SelfContainedWellFormedWithTablesAndCharts) {
  TmpDir tmp;
  const std::string html = tr::render_html(fixture_report(make_fixture_db(tmp)));
  expect_well_formed(html);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count(html, "<table class=\"methods\">"), 1u);
  EXPECT_EQ(count(html, "<tr>"), 6u);  // header + fp, twn, 3 sca cells
  EXPECT_EQ(count(html, "<svg "), 5u);  // the five charts of the one dataset
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);  // no external references of any kind
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  // Every cell id the table links to has its run list.
  std::regex link("href=\"#cell-([0-9a-f]{8})\"");
  int links = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), link); it != std::sregex_iterator(); ++it, ++links)
    EXPECT_NE(html.find("id=\"cell-" + (*it)[1].str() + "\""), std::string::npos);
  EXPECT_EQ(links, 5);
}

TEST(ReportMarks, TooFewSeedsAndIncompleteCells) {
  TmpDir tmp;
  const tr::Report r = fixture_report(make_fixture_db(tmp));
  ASSERT_EQ(r.cells.size(), 5u);
  const tr::Cell* twn = nullptr;
  const tr::Cell* sca15 = nullptr;
  for (const auto& c : r.cells) {
    if (c.method == "twn") twn = &c;
    if (c.method == "sca" && c.config.at("sca_alpha").number == 1.5) sca15 = &c;
  }
  ASSERT_TRUE(twn && sca15);
  EXPECT_TRUE(twn->complete());
  EXPECT_EQ(twn->n_done(), 2);
  EXPECT_FALSE(sca15->complete());
  EXPECT_EQ(sca15->status_summary(), "2 done, 1 running");
  EXPECT_EQ(sca15->run_keys, (std::vector<std::string>{"sca15-s1", "sca15-s2", "sca15-s3"}));
  EXPECT_EQ(sca15->done_keys, (std::vector<std::string>{"sca15-s1", "sca15-s2"}));
  const std::string md = tr::render_markdown(r, "");
  // 92 ± t(0.975, 1) · 2.83 / √2 reaches 117.41: the interval stops at 100%.
  EXPECT_NE(md.find("| mlp | twn | – | 92.00 ± 2.83 [66.59, 100.00]† | 2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("81.00 ± 1.41 [68.29, 93.71]† (incomplete) | 2 |"), std::string::npos) << md;
  // The incomplete cell is left out of the charts, and the charts say so.
  const auto& charts = r.sections.at(0).charts;
  ASSERT_EQ(charts.at(0).series.size(), 1u);
  EXPECT_EQ(charts.at(0).series[0].points.size(), 2u);
  EXPECT_EQ(charts.at(0).notes.back(), "1 cell with unfinished runs not drawn (see the table).");
}

TEST(ReportInference, EngineColumnsAppearWithAMeasurementAndAverageOverSeeds) {
  TmpDir tmp;
  const std::string path = make_fixture_db(tmp);
  EXPECT_EQ(tr::render_markdown(fixture_report(path), "").find("engine speed-up"), std::string::npos);
  {
    ternbench::storage::MetricsDb db(path);
    for (const auto& [key, b1] : {std::pair{"twn-s1", 2.0}, std::pair{"twn-s2", 4.0}}) {
      ternbench::storage::InferenceRecord i;
      i.run_key = key;
      i.latency_us = 10;
      i.float_latency_us = 10 * b1;
      i.throughput = 500;
      i.float_throughput = 100;
      i.bytes = 100;
      i.float32_bytes = 1600;
      i.host = "h";
      i.git_commit = "c";
      i.measured_at = "t";
      db.record_inference(i);
    }
  }
  const std::string md = tr::render_markdown(fixture_report(path), "");
  EXPECT_NE(md.find("| engine speed-up, batch 1 | engine speed-up, batch 64 | engine memory vs fp32 |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("| 3.00× | 5.00× | 16.00× |"), std::string::npos) << md;  // twn, means of two seeds
  EXPECT_NE(md.find("| – | – | – |"), std::string::npos) << md;  // unmeasured cells
}

TEST(ReportMarks, RunsTheSweepExpectsButTheDbLacksMakeTheirCellIncomplete) {
  TmpDir tmp;
  const std::string missing_fp = "[train]\ndataset = \"mnist\"\nepochs = 2\nmethod = \"fp\"\nmodel = \"mlp\"\nseed = 4\n";
  const tr::Report r = fixture_report(make_fixture_db(tmp), {{"fp-s4", missing_fp}, {"fp-s1", "ignored: in the DB"}});
  const tr::Cell& fp = r.cells.at(0);
  ASSERT_EQ(fp.method, "fp");
  EXPECT_EQ(fp.n_runs(), 4);
  EXPECT_EQ(fp.n_done(), 3);
  EXPECT_FALSE(fp.complete());
  EXPECT_EQ(fp.status_summary(), "3 done, 1 not started");
}

TEST(ReportCsv, EveryCellTracesToItsRuns) {
  TmpDir tmp;
  const std::string csv = tr::render_cells_csv(fixture_report(make_fixture_db(tmp)));
  EXPECT_EQ(count(csv, "\n"), 6u);  // header + 5 cells
  EXPECT_NE(csv.find(",mnist,mlp,fp,fp,yes,3,3,0.960000,0.010000,0.935159,0.984841,0.000000,32.000000,3 done,"
                     "fp-s1 fp-s2 fp-s3,fp-s1 fp-s2 fp-s3\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("sca15-s1 sca15-s2,sca15-s1 sca15-s2 sca15-s3\n"), std::string::npos) << csv;
}

TEST(ReportFiles, WritesEveryFormatAtomicallyIntoTheDirectory) {
  TmpDir tmp;
  const tr::Report r = fixture_report(make_fixture_db(tmp));
  const auto paths = tr::write_files(tmp.file("out"), tr::report_files(r, tr::parse_formats("md,tex,html")));
  EXPECT_EQ(paths.front(), tmp.file("out/report.md"));
  for (const char* f : {"report.md", "report.tex", "report.html", "cells.csv", "charts/accuracy-bits-mnist.svg"})
    EXPECT_TRUE(std::filesystem::exists(tmp.file(std::string("out/") + f))) << f;
  for (const auto& e : std::filesystem::recursive_directory_iterator(tmp.path() / "out"))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  EXPECT_THROW(tr::parse_formats("md,pdf"), ternbench::ConfigError);
}

TEST(ReportDb, OldOrMissingDbIsRefusedWithAClearMessage) {
  TmpDir tmp;
  try {
    tr::ResultsDb db(tmp.file("nope.sqlite"));
    FAIL() << "opened a missing DB";
  } catch (const ternbench::StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.sqlite: no results DB here"), std::string::npos) << e.what();
  }
}

TEST(ReportDb, EmptyDbSaysSo) {
  TmpDir tmp;
  { ternbench::storage::MetricsDb db(tmp.file("empty.sqlite")); }
  tr::ResultsDb db(tmp.file("empty.sqlite"));
  const auto r = tr::build_report(db.runs(), db.epochs(), {});
  EXPECT_NE(tr::render_markdown(r, "charts").find("No runs in the results DB yet."), std::string::npos);
  EXPECT_NE(tr::render_html(r).find("No runs in the results DB yet."), std::string::npos);
}
