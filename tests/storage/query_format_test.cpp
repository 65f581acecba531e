// Renderings of query results: golden strings for each format, NULL and the awkward values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <sstream>
#include <vector>
#include <string>

#include "results_fixtures.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "ternbench/storage/query.hpp"

namespace {

using ternbench::storage::FormatWriter;
using ternbench::storage::OutputFormat;
using ternbench::storage::format_csv;
using ternbench::storage::format_json;
using ternbench::storage::format_markdown;
using ternbench::storage::format_real;
using ternbench::storage::format_table;
using ternbench::storage::QueryResult;
using ternbench::storage::SqlValue;

QueryResult sample() {
  QueryResult r;
  r.columns = {"method", "seed", "test_acc", "note"};
  r.rows.push_back({SqlValue::of_text("fp"), SqlValue::of_integer(1), SqlValue::of_real(0.9654), SqlValue::null()});
  r.rows.push_back({SqlValue::of_text("twn"), SqlValue::of_integer(12), SqlValue::of_real(0.1 + 0.2),
                    SqlValue::of_text("a,b \"q\"")});
  return r;
}

TEST(QueryFormat, TableAlignsNumbersRightAndShowsNull) {
  EXPECT_EQ(format_table(sample()),
            "method  seed             test_acc  note\n"
            "------  ----  -------------------  -------\n"
            "fp         1               0.9654  NULL\n"
            "twn       12  0.30000000000000004  a,b \"q\"\n");
}

TEST(QueryFormat, CsvQuotesPerRfc4180AndLeavesNullEmpty) {
  EXPECT_EQ(format_csv(sample()),
            "method,seed,test_acc,note\n"
            "fp,1,0.9654,\n"
            "twn,12,0.30000000000000004,\"a,b \"\"q\"\"\"\n");
}

TEST(QueryFormat, JsonIsAnArrayOfObjectsWithNumbersAsNumbers) {
  EXPECT_EQ(format_json(sample()),
            "[\n"
            "  {\"method\": \"fp\", \"seed\": 1, \"test_acc\": 0.9654, \"note\": null},\n"
            "  {\"method\": \"twn\", \"seed\": 12, \"test_acc\": 0.30000000000000004, \"note\": \"a,b \\\"q\\\"\"}\n"
            "]\n");
}

TEST(QueryFormat, MarkdownIsAPipeTable) {
  EXPECT_EQ(format_markdown(sample()),
            "| method | seed | test_acc | note |\n"
            "|---|---:|---:|---|\n"
            "| fp | 1 | 0.9654 |  |\n"
            "| twn | 12 | 0.30000000000000004 | a,b \"q\" |\n");
}

TEST(QueryFormat, AwkwardValues) {
  QueryResult r;
  r.columns = {"x"};
  r.rows.push_back({SqlValue::of_text("")});
  r.rows.push_back({SqlValue::null()});
  r.rows.push_back({SqlValue::of_real(std::numeric_limits<double>::infinity())});
  r.rows.push_back({SqlValue::of_text("a|b\nc\t\x01")});
  EXPECT_EQ(format_csv(r), "x\n\"\"\n\ninf\n\"a|b\nc\t\x01\"\n");  // "" is an empty text, nothing is NULL
  EXPECT_EQ(format_json(r), "[\n  {\"x\": \"\"},\n  {\"x\": null},\n  {\"x\": null},\n  {\"x\": \"a|b\\nc\\t\\u0001\"}\n]\n");
  QueryResult whole;
  whole.columns = {"bits", "n", "tiny"};
  whole.rows.push_back({SqlValue::of_real(32.0), SqlValue::of_integer(32), SqlValue::of_real(1e-300)});
  EXPECT_EQ(format_json(whole), "[\n  {\"bits\": 32.0, \"n\": 32, \"tiny\": 1e-300}\n]\n");
  EXPECT_EQ(format_csv(whole), "bits,n,tiny\n32,32,1e-300\n");
  EXPECT_EQ(format_markdown(r), "| x |\n|---|\n|  |\n|  |\n| inf |\n| a\\|b<br>c\t\x01 |\n");
  EXPECT_EQ(format_table(r), "x\n---------\n\nNULL\ninf\na|b\\nc\\t\x01\n");
}

TEST(QueryFormat, NoRows) {
  QueryResult r;
  r.columns = {"run_key", "n"};
  EXPECT_EQ(format_table(r), "run_key  n\n-------  -\n");
  EXPECT_EQ(format_csv(r), "run_key,n\n");
  EXPECT_EQ(format_json(r), "[]\n");
  EXPECT_EQ(format_markdown(r), "| run_key | n |\n|---|---|\n");
}

TEST(QueryFormat, RealsUseTheShortestTextThatReadsBackExactly) {
  EXPECT_EQ(format_real(0.1), "0.1");
  EXPECT_EQ(format_real(32.0), "32");
  EXPECT_EQ(format_real(1e-300), "1e-300");
  EXPECT_EQ(format_real(4.9406564584124654e-324), "5e-324");
  EXPECT_EQ(format_real(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(format_real(-std::numeric_limits<double>::infinity()), "-inf");
  for (double v : {0.1 + 0.2, 1.0 / 3.0, 2.0 / 3.0, 1e300, 0.9654}) EXPECT_EQ(std::stod(format_real(v)), v);
}

TEST(QueryFormat, CsvOfARealDb) {
  ternbench::testing::TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  {
    ternbench::storage::MetricsDb db(path);
    db.finish_run(ternbench::testing::full_run("k1", "fp", 1), {});
    auto r = ternbench::testing::full_run("k2", "twn", 2);
    r.test_acc = 0.5;
    r.weights_path = "";
    db.finish_run(r, {});
  }
  const QueryResult r = ternbench::storage::run_query(
      path, "SELECT method, seed, test_acc, epochs, ratio_ternary_2bit > 15, weights_path FROM results ORDER BY seed");
  EXPECT_EQ(format_csv(r),
            "method,seed,test_acc,epochs,ratio_ternary_2bit > 15,weights_path\n"
            "fp,1,0.921875,2,1,study-weights/k1.h5\n"
            "twn,2,0.5,2,1,\n");
}

// Writes rows through a FormatWriter into a string; `complete` is passed to end().
std::string stream_rows(OutputFormat f, const QueryResult& r, bool complete) {
  std::string text;
  FormatWriter w(f, [&text](std::string_view piece) { text.append(piece); });
  w.begin(r.columns);
  for (const auto& row : r.rows) w.row(row);
  w.end(complete);
  return text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// kMeasuredRows rows of ("a", i), then one wider row with text in the numeric column.
QueryResult long_result() {
  QueryResult r;
  r.columns = {"name", "n"};
  for (std::size_t i = 0; i < FormatWriter::kMeasuredRows; ++i) {
    r.rows.push_back({SqlValue::of_text("a"), SqlValue::of_integer(static_cast<std::int64_t>(i))});
  }
  r.rows.push_back({SqlValue::of_text("abcdefgh"), SqlValue::of_text("many")});
  return r;
}

TEST(QueryFormatStream, TableTakesItsLayoutFromTheFirstRowsAndCutsNothingLater) {
  const std::vector<std::string> lines = lines_of(format_table(long_result()));
  ASSERT_EQ(lines.size(), FormatWriter::kMeasuredRows + 3);
  EXPECT_EQ(lines[0], "name    n");
  EXPECT_EQ(lines[1], "----  ---");
  EXPECT_EQ(lines[2], "a       0");
  EXPECT_EQ(lines[FormatWriter::kMeasuredRows + 1], "a     999");
  // Wider than the measured width: the line grows, the text stays right-aligned as the
  // column was numeric in the measured rows.
  EXPECT_EQ(lines.back(), "abcdefgh  many");
}

TEST(QueryFormatStream, MarkdownAlignmentComesFromTheFirstRows) {
  const std::vector<std::string> lines = lines_of(format_markdown(long_result()));
  EXPECT_EQ(lines[1], "|---|---:|");
  EXPECT_EQ(lines.back(), "| abcdefgh | many |");
}

TEST(QueryFormatStream, HeldRowsAreMeasuredEarlierWhenLarge) {
  QueryResult r;
  r.columns = {"big"};
  r.rows.push_back({SqlValue::of_text(std::string(FormatWriter::kMeasuredBytes, 'x'))});
  r.rows.push_back({SqlValue::of_text(std::string(FormatWriter::kMeasuredBytes + 5, 'y'))});
  const std::vector<std::string> lines = lines_of(format_table(r));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1].size(), FormatWriter::kMeasuredBytes);  // the rule: the first row's width
  EXPECT_EQ(lines[3].size(), FormatWriter::kMeasuredBytes + 5);
}

TEST(QueryFormatStream, AStoppedResultKeepsItsRowsAndLeavesJsonUnclosed) {
  const QueryResult r = sample();
  EXPECT_EQ(stream_rows(OutputFormat::kJson, r, false),
            "[\n"
            "  {\"method\": \"fp\", \"seed\": 1, \"test_acc\": 0.9654, \"note\": null},\n"
            "  {\"method\": \"twn\", \"seed\": 12, \"test_acc\": 0.30000000000000004, \"note\": \"a,b \\\"q\\\"\"}");
  EXPECT_EQ(stream_rows(OutputFormat::kCsv, r, false), format_csv(r));
  EXPECT_EQ(stream_rows(OutputFormat::kTable, r, false), format_table(r));
  QueryResult none;
  none.columns = {"x"};
  EXPECT_EQ(stream_rows(OutputFormat::kJson, none, false), "");
  EXPECT_EQ(stream_rows(OutputFormat::kCsv, none, false), "x\n");
}

// The writer hands its text on in bounded pieces while the statement still runs: an endless
// result streams until the reader has had enough.
TEST(QueryFormatStream, TextLeavesInBoundedPiecesWhileTheStatementRuns) {
  ternbench::testing::TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  { ternbench::storage::MetricsDb db(path); }
  const ternbench::storage::ReadOnlyDb db(path);
  for (OutputFormat f : {OutputFormat::kCsv, OutputFormat::kJson, OutputFormat::kTable, OutputFormat::kMarkdown}) {
    struct Enough {};
    std::size_t total = 0, largest = 0, pieces = 0;
    FormatWriter w(f, [&](std::string_view piece) {
      total += piece.size();
      largest = std::max(largest, piece.size());
      if (++pieces == 40) throw Enough{};
    });
    ternbench::storage::QueryLimits limits;
    limits.timeout_seconds = 60;  // a writer that held everything fails here, not hangs
    EXPECT_THROW(db.stream("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                           "SELECT i, 'text ' || i AS t, i / 7.0 AS r FROM n",
                           {}, w, limits),
                 Enough);
    EXPECT_GT(total, 40u * (64u << 10) - 1);
    EXPECT_LT(largest, (64u << 10) + 1024) << static_cast<int>(f);
  }
}

}  // namespace
