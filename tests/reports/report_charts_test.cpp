// The statistics and charts of the default report on hand-made runs: intervals inside the
// metric's range, chance-level runs flagged, one colour per method, SCA points labelled with
// alpha, training curves as a mean with a band, no empty charts; and the table for a paper.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "ternbench/reports/report.hpp"

namespace tr = ternbench::reports;

namespace {

tr::RunRow run(const std::string& key, const std::string& config, double acc, double sparsity) {
  tr::RunRow r;
  r.run_key = key;
  r.status = "done";
  const std::string toml = "[train]\ndataset = \"mnist\"\nmodel = \"mlp\"\n" + config;
  r.config = tr::parse_canonical_toml(toml, key);
  r.cell_key = tr::cell_key_of(toml);
  r.metrics["test_acc"] = tr::Value::of(acc);
  r.metrics["sparsity"] = tr::Value::of(sparsity);
  r.metrics["n_weights"] = tr::Value::of(1000);
  r.metrics["size_fp32_bits"] = tr::Value::of(32000);
  r.metrics["size_binary_bits"] = tr::Value::of(1032);
  r.metrics["size_ternary_2bit_bits"] = tr::Value::of(2032);
  r.metrics["size_bitmap_bits"] = tr::Value::of(1000 + 1000 * (1 - sparsity));
  r.metrics["size_relative_index_bits"] = tr::Value::of(4000);
  return r;
}

// fp, bwn (one seed at chance level), SCA at two alphas; three seeds each, epochs for all.
struct Fixture {
  std::vector<tr::RunRow> runs;
  std::vector<tr::EpochPoint> epochs;
  Fixture() {
    auto cell = [&](const std::string& name, const std::string& config, std::vector<double> accs, double sp) {
      for (std::size_t i = 0; i < accs.size(); ++i) {
        const std::string key = name + std::to_string(i);
        runs.push_back(run(key, config + "seed = " + std::to_string(i) + "\n", accs[i], sp));
        for (int e = 1; e <= 3; ++e) epochs.push_back({key, e, accs[i] - 0.1 * (3 - e) + 0.01 * static_cast<double>(i)});
      }
    };
    cell("fp", "method = \"fp\"\n", {0.99, 0.995, 0.999}, 0);
    cell("bwn", "method = \"bwn\"\n", {0.97, 0.10, 0.96}, 0);
    cell("sa", "method = \"sca\"\nsca_alpha = 0.5\n", {0.95, 0.96, 0.97}, 0.4);
    cell("sb", "method = \"sca\"\nsca_alpha = 1.0\n", {0.93, 0.94, 0.95}, 0.6);
  }
};

const tr::Chart* chart(const tr::DatasetSection& s, const std::string& prefix) {
  for (const auto& c : s.charts)
    if (c.id.rfind(prefix, 0) == 0) return &c;
  return nullptr;
}

}  // namespace

TEST(ReportStats, IntervalsStayInsideTheMetricRange) {
  Fixture f;
  const tr::Report r = tr::build_report(f.runs, f.epochs, {});
  const tr::SeedStats* fp = r.cells.at(0).stat("test_acc");
  ASSERT_NE(fp, nullptr);
  EXPECT_GT(fp->mean + 4.30 * fp->std / std::sqrt(3.0), 1.0);  // the t interval would pass 100%
  EXPECT_DOUBLE_EQ(fp->ci_high, 1.0);
  EXPECT_LT(fp->ci_low, fp->mean);
  // The same clipping for any statistic on fractions, and none for unbounded metrics.
  EXPECT_EQ(tr::metric_range("sparsity"), (std::pair<double, double>{0, 1}));
  EXPECT_EQ(tr::metric_range("test_acc_continuous"), (std::pair<double, double>{0, 1}));
  EXPECT_TRUE(std::isinf(tr::metric_range("natural_bpw").second));
}

TEST(ReportStats, ChanceLevelRunsAreFlagged) {
  Fixture f;
  const tr::Report r = tr::build_report(f.runs, f.epochs, {});
  EXPECT_EQ(r.cells.at(1).method, "bwn");
  EXPECT_EQ(r.cells.at(1).chance_keys, (std::vector<std::string>{"bwn1"}));
  EXPECT_TRUE(r.cells.at(0).chance_keys.empty());
  const std::string md = tr::render_markdown(r, "");
  EXPECT_NE(md.find("‡ |"), std::string::npos) << md;  // the accuracy cell is marked
  EXPECT_NE(md.find("‡ at chance level (test accuracy at most 15% with 10 classes"), std::string::npos) << md;
  EXPECT_NE(md.find("): bwn1."), std::string::npos) << md;
  EXPECT_NE(tr::render_latex_table(r, r.sections.at(0)).find("$^\\ddagger$"), std::string::npos);
}

TEST(ReportCharts, OneColourPerMethodInEveryChart) {
  Fixture f;
  const tr::Report r = tr::build_report(f.runs, f.epochs, {});
  // Another report with other methods still draws SCA in the same colour.
  std::vector<tr::RunRow> sca_only(f.runs.begin() + 6, f.runs.end());
  const tr::Report other = tr::build_report(sca_only, {}, {});
  auto color_of = [](const tr::Chart& c, const std::string& name) {
    for (const auto& s : c.series)
      if (s.name == name) return s.color;
    return std::string("none");
  };
  const std::string sca = color_of(*chart(r.sections[0], "accuracy-sparsity"), "sca");
  EXPECT_EQ(sca.size(), 7u);
  EXPECT_EQ(color_of(*chart(other.sections[0], "accuracy-sparsity"), "sca"), sca);
  EXPECT_NE(color_of(*chart(r.sections[0], "accuracy-sparsity"), "fp"), sca);
  EXPECT_EQ(color_of(*chart(r.sections[0], "accuracy-bits"), "sca"), sca);
  // On the control charts both the rounded and the continuous SCA line keep SCA's colour.
  EXPECT_EQ(color_of(*chart(r.sections[0], "sparsity-alpha"), "sca"), sca);
}

TEST(ReportCharts, ScaPointsCarryTheirAlpha) {
  Fixture f;
  const tr::Report r = tr::build_report(f.runs, f.epochs, {});
  const tr::Chart* c = chart(r.sections[0], "accuracy-sparsity");
  ASSERT_NE(c, nullptr);
  std::set<std::string> labels;
  for (const auto& s : c->series)
    for (const auto& p : s.points) labels.insert(s.name + ":" + p.label);
  EXPECT_EQ(labels, (std::set<std::string>{"fp:", "bwn:", "sca:alpha=0.5", "sca:alpha=1.0"}));
  EXPECT_NE(tr::render_svg(*c, false).find(">alpha=0.5</text>"), std::string::npos);
}

TEST(ReportCharts, CurvesAreAMeanWithABandOverSeeds) {
  Fixture f;
  const tr::Report r = tr::build_report(f.runs, f.epochs, {});
  const tr::Chart* c = chart(r.sections[0], "curves");
  ASSERT_NE(c, nullptr);
  const tr::Series& fp = c->series.at(0);
  EXPECT_TRUE(fp.band);
  ASSERT_EQ(fp.points.size(), 3u);
  // Epoch 3 of fp: seeds 0.99, 1.005, 1.019 (in percent 99, 100.5, 101.9): mean and sample std.
  EXPECT_NEAR(fp.points[2].y, 100.4666667, 1e-6);
  EXPECT_NEAR(fp.points[2].yerr, 1.4502873, 1e-6);
  EXPECT_EQ(c->y_max, 100);  // the band is drawn up to 100% at most
  EXPECT_NE(tr::render_svg(*c, false).find("class=\"band\""), std::string::npos);
}

TEST(ReportCharts, NoEmptyCharts) {
  Fixture f;
  // Without SCA cells and without epochs, the alpha charts and the curves have nothing to draw.
  std::vector<tr::RunRow> no_sca(f.runs.begin(), f.runs.begin() + 6);
  const tr::Report r = tr::build_report(no_sca, {}, {});
  std::vector<std::string> ids;
  for (const auto& c : r.sections.at(0).charts) {
    EXPECT_FALSE(c.empty()) << c.id;
    ids.push_back(c.id);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"accuracy-sparsity-mnist", "accuracy-bits-mnist"}));
  EXPECT_EQ(tr::render_markdown(r, "charts").find("no data"), std::string::npos);
}

TEST(ReportLatexTable, PaperReadyTable) {
  Fixture f;
  const tr::Report r = tr::build_report(f.runs, f.epochs, {});
  const std::string tex = tr::render_latex_table(r, r.sections.at(0));
  EXPECT_EQ(tex.find("\\documentclass"), std::string::npos);  // \input-able
  EXPECT_NE(tex.find("\\label{tab:mnist}"), std::string::npos);
  EXPECT_NE(tex.find("\\toprule"), std::string::npos);
  EXPECT_NE(tex.find("\nBWN & "), std::string::npos) << tex;  // the printed method name
  EXPECT_NE(tex.find("\nFP & "), std::string::npos) << tex;
  EXPECT_NE(tex.find("\nSCA & 0.5 & "), std::string::npos) << tex;
  for (const auto& c : r.cells) EXPECT_EQ(tex.find(c.id), std::string::npos) << "no cell ids";
  // Best per column: fp's accuracy, SCA alpha 1.0's sparsity, bits and compression.
  EXPECT_NE(tex.find("\\textbf{99.47} $\\pm$ 0.45"), std::string::npos) << tex;
  EXPECT_NE(tex.find("\\textbf{0.600}"), std::string::npos) << tex;
  EXPECT_NE(tex.find("\\textbf{1.03}"), std::string::npos) << tex;  // binary 1032 bits / 1000 weights
  EXPECT_EQ(tex.find("\\textbf{0.400}"), std::string::npos);
}
