#include "ternbench/reports/chart.hpp"

#include <gtest/gtest.h>

namespace tr = ternbench::reports;

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
  const auto f = tr::pareto_front({{32, 96, 0, false}, {2, 90, 0, false}, {1.4, 93, 0, false},
                                   {2, 91, 0, false}, {1, 80, 0, false}, {16, 94, 0, false}});
  ASSERT_EQ(f.size(), 4u);
  EXPECT_DOUBLE_EQ(f[0].x, 1);
  EXPECT_DOUBLE_EQ(f[1].x, 1.4);
  EXPECT_DOUBLE_EQ(f[2].x, 16);
  EXPECT_DOUBLE_EQ(f[3].x, 32);
}

TEST(Svg, EmptyChartSaysSo) {
  const tr::Chart c{"empty", "nothing", "", "", false, {}, {}, {}};
  const std::string svg = tr::render_svg(c, false);
  EXPECT_NE(svg.find("no data"), std::string::npos);
  EXPECT_EQ(svg.find("<circle"), std::string::npos);
  EXPECT_EQ(svg.find("xmlns"), std::string::npos);  // inline SVG in HTML needs no namespace
}

TEST(Svg, PointsErrorBarsLegendAndEscaping) {
  // Aggregate initialization: assigning short literals to the strings trips GCC 12's false
  // -Wrestrict in Release builds.
  const tr::Chart c{"c", "a < b & c", "x", "y", false,
                    {{"s1", {{0.1, 50, 2, false}, {0.5, 60, 0, true}}, true, false}}, {}, {}};
  const std::string svg = tr::render_svg(c, true);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(svg.find("a &lt; b &amp; c"), std::string::npos);
  EXPECT_NE(svg.find("class=\"errbar\""), std::string::npos);
  EXPECT_NE(svg.find("fill=\"#ffffff\"/>"), std::string::npos);  // the hollow marker
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find(">s1</text>"), std::string::npos);
}
