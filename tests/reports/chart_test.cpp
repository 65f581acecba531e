#include "ternbench/reports/chart.hpp"

#include <gtest/gtest.h>

namespace tr = ternbench::reports;

namespace {
tr::ChartPoint pt(double x, double y, double err = 0, bool hollow = false, const char* label = "") {
  return tr::ChartPoint{x, y, err, hollow, label};
}
tr::Series line(const char* name, std::vector<tr::ChartPoint> points, bool band = false, const char* color = "") {
  return tr::Series{name, std::move(points), true, false, color, band};
}
tr::Chart chart(std::vector<tr::Series> series, double y_min = -1e300, double y_max = 1e300) {
  return tr::Chart{"c", "t", "x", "y", false, std::move(series), {}, {}, y_min, y_max};
}
}  // namespace

TEST(NiceTicks, StepsOfOneTwoFive) {
  const auto unit = tr::nice_ticks(0.0, 1.0);  // raw step 0.2
  ASSERT_EQ(unit.size(), 6u);
  for (std::size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], 0.2 * static_cast<double>(i), 1e-12);
  const auto t = tr::nice_ticks(83.2, 96.7);  // raw step 2.7 -> 5: 80 85 90 95 100
  ASSERT_EQ(t.size(), 5u);
  EXPECT_DOUBLE_EQ(t.front(), 80);
  EXPECT_DOUBLE_EQ(t.back(), 100);
  const auto one = tr::nice_ticks(5, 5);  // a single value is widened, not a zero range
  EXPECT_LT(one.front(), 5);
  EXPECT_GT(one.back(), 5);
  EXPECT_EQ(tr::tick_label(0.6000000000000001), "0.6");
  EXPECT_EQ(tr::tick_label(32), "32");
  EXPECT_EQ(tr::tick_label(90), "90");
  EXPECT_EQ(tr::tick_label(0.25), "0.25");
  EXPECT_EQ(tr::tick_label(-0.05), "-0.05");
}

TEST(Pareto, KeepsPointsNoOtherBeatsWithFewerBits) {
  const auto f = tr::pareto_front({pt(32, 96), pt(2, 90), pt(1.4, 93), pt(2, 91), pt(1, 80), pt(16, 94)});
  ASSERT_EQ(f.size(), 4u);
  EXPECT_DOUBLE_EQ(f[0].x, 1);
  EXPECT_DOUBLE_EQ(f[1].x, 1.4);
  EXPECT_DOUBLE_EQ(f[2].x, 16);
  EXPECT_DOUBLE_EQ(f[3].x, 32);
}

TEST(Svg, EmptyChartSaysSo) {
  const tr::Chart c = chart({});
  const std::string svg = tr::render_svg(c, false);
  EXPECT_NE(svg.find("no data"), std::string::npos);
  EXPECT_EQ(svg.find("<circle"), std::string::npos);
  EXPECT_EQ(svg.find("xmlns"), std::string::npos);  // inline SVG in HTML needs no namespace
}

TEST(Svg, PointsErrorBarsLegendAndEscaping) {
  // Aggregate initialization: assigning short literals to the strings trips GCC 12's false
  // -Wrestrict in Release builds.
  tr::Chart c = chart({line("s1", {pt(0.1, 50, 2), pt(0.5, 60, 0, true)})});
  c.title = "a < b & c";
  const std::string svg = tr::render_svg(c, true);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(svg.find("a &lt; b &amp; c"), std::string::npos);
  EXPECT_NE(svg.find("class=\"errbar\""), std::string::npos);
  EXPECT_NE(svg.find("fill=\"#ffffff\"/>"), std::string::npos);  // the hollow marker
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find(">s1</text>"), std::string::npos);
}

TEST(Svg, ErrorBarsStopAtTheMetricRange) {
  // 99 +- 3 on an accuracy axis: the bar ends at 100, and the axis does not run past it.
  const std::string svg = tr::render_svg(chart({line("s", {pt(0, 99, 3), pt(1, 90, 1)})}, 0, 100), false);
  EXPECT_NE(svg.find(">100</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">105</text>"), std::string::npos);
  const std::string open = tr::render_svg(chart({line("s", {pt(0, 99, 3), pt(1, 90, 1)})}), false);
  EXPECT_NE(open.find(">105</text>"), std::string::npos);  // without a range the bar reaches 102
}

TEST(Svg, BandColourAndPointLabels) {
  const std::string svg =
      tr::render_svg(chart({line("curve", {pt(1, 50, 2, false, "alpha=0.5"), pt(2, 60, 3)}, true, "#2ca02c")}), false);
  EXPECT_NE(svg.find("<polygon class=\"band\" fill=\"#2ca02c\" fill-opacity=\"0.2\""), std::string::npos);
  EXPECT_EQ(svg.find("class=\"errbar\""), std::string::npos);  // the band replaces the bars
  EXPECT_NE(svg.find(">alpha=0.5</text>"), std::string::npos);
  EXPECT_NE(svg.find("stroke=\"#2ca02c\""), std::string::npos);
}

TEST(Pdf, OnePageWithAValidCrossReferenceTable) {
  tr::Chart c = chart({line("s ±", {pt(1, 50, 2, false, "alpha=0.5"), pt(2, 60, 3)}, true)}, 0, 100);
  c.title = "a (b) \\ c";
  const std::string pdf = tr::render_pdf(c);
  ASSERT_EQ(pdf.rfind("%PDF-1.4\n", 0), 0u);
  EXPECT_EQ(pdf.substr(pdf.size() - 6), "%%EOF\n");
  EXPECT_NE(pdf.find("/MediaBox [0 0 560.0 340.0]"), std::string::npos);
  EXPECT_NE(pdf.find("(a \\(b\\) \\\\ c) Tj"), std::string::npos);  // PDF string escaping
  EXPECT_NE(pdf.find("(s \xb1) Tj"), std::string::npos);  // ± in WinAnsi
  // startxref points at the xref table, and every entry at its object.
  const std::size_t sx = pdf.rfind("startxref\n");
  const std::size_t xref = std::stoul(pdf.substr(sx + 10));
  ASSERT_EQ(pdf.compare(xref, 5, "xref\n"), 0);
  for (int i = 1; i <= 7; ++i) {
    const std::size_t off = std::stoul(pdf.substr(xref + 9 + 20 * static_cast<std::size_t>(i), 10));
    EXPECT_EQ(pdf.compare(off, std::to_string(i).size() + 6, std::to_string(i) + " 0 obj"), 0) << i;
  }
  const std::size_t len_at = pdf.find("/Length ") + 8;
  const std::size_t len = std::stoul(pdf.substr(len_at));
  const std::size_t body = pdf.find("stream\n", len_at) + 7;
  EXPECT_EQ(pdf.compare(body + len, 9, "endstream"), 0);
  EXPECT_EQ(pdf, tr::render_pdf(c));  // deterministic: no date, no id
}
