// Paper specs: parsing and its errors, and the verdict of every kind of table cell and
// claim on hand-made runs (metrics named as the spec names them).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/reports/paper.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace tr = ternbench::reports;
using ternbench::testing::TmpDir;

namespace {

// A run: config keys as canonical TOML lines, plus test_acc and sparsity when done.
tr::RunRow run(const std::string& key, const std::string& config, double acc, double sparsity,
               const std::string& status = "done") {
  tr::RunRow r;
  r.run_key = key;
  r.status = status;
  const std::string toml = "[train]\n" + config;
  r.config = tr::parse_canonical_toml(toml, key);
  r.cell_key = tr::cell_key_of(toml);
  if (status == "done") {
    r.metrics["test_acc"] = tr::Value::of(acc);
    r.metrics["sparsity"] = tr::Value::of(sparsity);
  }
  return r;
}

// Three seeds of one config with the given accuracies.
void add_cell(std::vector<tr::RunRow>& runs, const std::string& name, const std::string& config,
              std::vector<double> accs, double sparsity, const std::string& last_status = "done") {
  for (std::size_t i = 0; i < accs.size(); ++i) {
    const std::string seed = "seed = " + std::to_string(i + 1) + "\n";
    const bool last = i + 1 == accs.size();
    runs.push_back(run(name + "-" + std::to_string(i + 1), config + seed, accs[i], sparsity, last ? last_status : "done"));
  }
}

std::vector<tr::RunRow> sample_runs() {
  std::vector<tr::RunRow> runs;
  const std::string mnist = "dataset = \"mnist\"\nmodel = \"mlp\"\n";
  add_cell(runs, "fp", mnist + "method = \"fp\"\n", {0.95, 0.96, 0.97}, 0.0);
  add_cell(runs, "twn", mnist + "method = \"twn\"\n", {0.92, 0.93, 0.94}, 0.45);
  add_cell(runs, "bwn", mnist + "method = \"bwn\"\n", {0.90, 0.91}, 0.0);  // too few seeds
  add_cell(runs, "sca05", mnist + "method = \"sca\"\nsca_alpha = 0.5\n", {0.93, 0.94, 0.95}, 0.30);
  add_cell(runs, "sca10", mnist + "method = \"sca\"\nsca_alpha = 1.0\n", {0.92, 0.93, 0.94}, 0.50);
  add_cell(runs, "sca15", mnist + "method = \"sca\"\nsca_alpha = 1.5\n", {0.80, 0.81, 0.82}, 0.90);
  // Fashion-MNIST: sparsity falls with alpha, and one cell is still running.
  const std::string fashion = "dataset = \"fashion-mnist\"\nmodel = \"mlp\"\n";
  add_cell(runs, "f05", fashion + "method = \"sca\"\nsca_alpha = 0.5\n", {0.8, 0.8, 0.8}, 0.6);
  add_cell(runs, "f10", fashion + "method = \"sca\"\nsca_alpha = 1.0\n", {0.8, 0.8, 0.8}, 0.5);
  add_cell(runs, "f15", fashion + "method = \"sca\"\nsca_alpha = 1.5\n", {0.8, 0.8, 0.8}, 0.4);
  add_cell(runs, "f20", fashion + "method = \"sca\"\nsca_alpha = 1.9\n", {0.8, 0.8, 0.8}, 0.3, "running");
  return runs;
}

const char* kSpec = R"toml(
[paper]
name = "t"
title = "Test spec"
source = "a test"
sweep = "experiments/none.toml"

[[table]]
id = "acc"
title = "Accuracy"
metric = "test_acc"
where = { dataset = "mnist" }
decimals = 3
best = "max"
  [[table.row]]
  label = "fp"
  where = { method = "fp" }
  [[table.row]]
  label = "bwn"
  where = { method = "bwn" }
  [[table.row]]
  label = "ttq"
  where = { method = "ttq" }
  [[table.row]]
  label = "twn"
  where = { method = "twn" }
  [[table.column]]
  label = "close"
  [[table.column]]
  label = "far"
  [[table.reference]]
  row = "fp"
  column = "close"
  value = 0.962
  tolerance = 0.005
  source = "ref A"
  [[table.reference]]
  row = "fp"
  column = "far"
  value = 0.90
  tolerance = 0.01
  source = "ref B"

[[claim]]
id = "rises"
text = "sparsity rises with alpha"
kind = "monotone"
where = { method = "sca" }
metric = "sparsity"
x = "sca_alpha"
for_each = ["dataset"]

[[claim]]
id = "parity"
text = "sca within 2.5 points of fp"
kind = "within"
where = { dataset = "mnist", method = "sca" }
select = "max"
metric = "test_acc"
baseline = { where = { dataset = "mnist", method = "fp" } }
max_gap = 0.025

[[claim]]
id = "parity-strict"
text = "sca within 1 point of fp"
kind = "within"
where = { dataset = "mnist", method = "sca" }
select = "max"
metric = "test_acc"
baseline = { where = { dataset = "mnist", method = "fp" } }
max_gap = 0.01

[[claim]]
id = "beats-twn"
text = "sca at twn's sparsity beats twn"
kind = "at_least"
where = { dataset = "mnist", method = "sca" }
metric = "test_acc"
match = "sparsity"
baseline = { where = { dataset = "mnist", method = "twn" } }

[[claim]]
id = "sparse"
text = "alpha 1.5 is over 80% sparse"
kind = "value"
where = { dataset = "mnist", method = "sca", sca_alpha = 1.5 }
metric = "sparsity"
above = 0.8

[[claim]]
id = "ambiguous"
text = "which sca?"
kind = "value"
where = { dataset = "mnist", method = ["sca", "twn"] }
metric = "test_acc"
)toml";

const tr::ClaimResult& claim(const tr::PaperResult& r, const std::string& id, const std::string& scope = "") {
  for (const auto& c : r.claims)
    if (c.spec->id == id && c.scope == scope) return c;
  throw std::runtime_error("no claim " + id + " / " + scope);
}

}  // namespace

TEST(PaperVerdicts, TableCellsAgainstReferences) {
  const auto spec = tr::parse_paper_spec(kSpec, "t.toml");
  const auto result = tr::evaluate_paper(spec, sample_runs());
  ASSERT_EQ(result.tables.size(), 1u);
  const auto& g = result.tables[0].grid;
  // fp: mean 0.960, reference 0.962 +- 0.005 -> reproduced; 0.90 +- 0.01 -> deviates by +0.060.
  EXPECT_EQ(g[0][0].verdict, tr::Verdict::kReproduced);
  EXPECT_EQ(g[0][0].measured, "0.960 ± 0.010 (n=3)");
  EXPECT_EQ(g[0][0].expected, "0.962 ± 0.005 (ref A)");
  EXPECT_EQ(g[0][1].verdict, tr::Verdict::kDeviates);
  EXPECT_EQ(g[0][1].detail, "difference +0.060 outside the tolerance 0.010");
  // bwn: two seeds; ttq: no runs; twn: no reference.
  EXPECT_EQ(g[1][0].verdict, tr::Verdict::kMissing);
  EXPECT_NE(g[1][0].detail.find("has 2 finished seeds, fewer than 3"), std::string::npos) << g[1][0].detail;
  EXPECT_EQ(g[2][0].verdict, tr::Verdict::kMissing);
  EXPECT_EQ(g[2][0].detail, "no runs match dataset=mnist, method=ttq");
  EXPECT_EQ(g[3][0].verdict, tr::Verdict::kNoReference);
}

TEST(PaperVerdicts, MonotonePerScopeWithIncompleteCellMissing) {
  const auto spec = tr::parse_paper_spec(kSpec, "t.toml");
  const auto result = tr::evaluate_paper(spec, sample_runs());
  const auto& mnist = claim(result, "rises", "dataset=mnist").outcome;
  EXPECT_EQ(mnist.verdict, tr::Verdict::kReproduced);
  EXPECT_EQ(mnist.measured, "rho = 1.00 over 3 values of sca_alpha");
  EXPECT_EQ(mnist.detail, "sca_alpha -> sparsity: 0.5: 0.30, 1: 0.50, 1.5: 0.90");
  const auto& fashion = claim(result, "rises", "dataset=fashion-mnist").outcome;
  EXPECT_EQ(fashion.verdict, tr::Verdict::kMissing);  // alpha 1.9 still running
  EXPECT_NE(fashion.detail.find("is incomplete (2 done, 1 running)"), std::string::npos) << fashion.detail;
}

TEST(PaperVerdicts, MonotoneDeviatesWhenTheMetricFalls) {
  auto runs = sample_runs();
  runs.erase(std::remove_if(runs.begin(), runs.end(), [](const tr::RunRow& r) { return r.run_key.rfind("f20", 0) == 0; }),
             runs.end());
  const auto spec = tr::parse_paper_spec(kSpec, "t.toml");  // outlives the result, which points into it
  const auto result = tr::evaluate_paper(spec, runs);
  const auto& fashion = claim(result, "rises", "dataset=fashion-mnist").outcome;
  EXPECT_EQ(fashion.verdict, tr::Verdict::kDeviates);
  EXPECT_EQ(fashion.measured, "rho = -1.00 over 3 values of sca_alpha");
}

TEST(PaperVerdicts, ComparisonsAndPredicates) {
  const auto spec = tr::parse_paper_spec(kSpec, "t.toml");
  const auto result = tr::evaluate_paper(spec, sample_runs());
  // Best sca cell (0.94) against fp (0.96): shortfall 0.02.
  EXPECT_EQ(claim(result, "parity").outcome.verdict, tr::Verdict::kReproduced);
  const auto& strict = claim(result, "parity-strict").outcome;
  EXPECT_EQ(strict.verdict, tr::Verdict::kDeviates);
  EXPECT_EQ(strict.detail, "shortfall 0.02 > 0.01");
  // twn sparsity 0.45: the closest sca cell is alpha 1.0 (0.50), accuracy 0.93 = twn's 0.93.
  const auto& beats = claim(result, "beats-twn").outcome;
  EXPECT_EQ(beats.verdict, tr::Verdict::kReproduced) << beats.detail;
  EXPECT_EQ(beats.detail, "difference +0.00; matched on sparsity: 0.500 vs 0.450");
  EXPECT_EQ(claim(result, "sparse").outcome.verdict, tr::Verdict::kReproduced);
  EXPECT_EQ(claim(result, "sparse").outcome.expected, "> 0.80");
  const auto& amb = claim(result, "ambiguous").outcome;
  EXPECT_EQ(amb.verdict, tr::Verdict::kMissing);
  EXPECT_NE(amb.detail.find("4 configurations match"), std::string::npos) << amb.detail;
  EXPECT_EQ(result.verdict_counts.at("reproduced"), 5);
}

TEST(PaperVerdicts, RendersEveryFormat) {
  const auto spec = tr::parse_paper_spec(kSpec, "t.toml");
  const auto result = tr::evaluate_paper(spec, sample_runs());
  const std::string md = tr::render_paper_markdown(result, "x.sqlite");
  EXPECT_NE(md.find("| fp | 0.960 ± 0.010 (n=3); expected 0.962 ± 0.005 (ref A): **reproduced** |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| sparsity rises with alpha | dataset=mnist | rho = 1.00 over 3 values of sca_alpha |"),
            std::string::npos)
      << md;
  const std::string tex = tr::render_paper_latex(result, "x.sqlite");
  EXPECT_NE(tex.find("\\toprule"), std::string::npos);
  EXPECT_NE(tex.find("0.960 $\\pm$ 0.010"), std::string::npos);
  EXPECT_NE(tex.find("sca\\_alpha"), std::string::npos);
  // Long claim rows wrap in a table as wide as the text that breaks across pages.
  EXPECT_NE(tex.find("\\begin{longtable}{@{}"), std::string::npos);
  const std::string html = tr::render_paper_html(result, "x.sqlite");
  EXPECT_NE(html.find("<span class=\"verdict-deviates\">deviates</span>"), std::string::npos);
  // A cell without a reference shows its measurement alone, in every format.
  for (const std::string* out : {&md, &tex, &html}) {
    EXPECT_EQ(out->find("no verified published number"), std::string::npos) << *out;
    EXPECT_EQ(out->find("no reference</span><br/><small>"), std::string::npos) << *out;
  }
  const std::string csv = tr::render_paper_cells_csv(result);
  EXPECT_NE(csv.find("fp-1 fp-2 fp-3,fp-1 fp-2 fp-3"), std::string::npos) << csv;
}

TEST(PaperVerdicts, TableForAPaperHasLabelBoldBestAndNoVerdicts) {
  const auto spec = tr::parse_paper_spec(kSpec, "t.toml");
  const auto result = tr::evaluate_paper(spec, sample_runs());
  const std::string tex = tr::render_paper_table_latex(result, result.tables.at(0));
  EXPECT_NE(tex.find("\\label{tab:acc}"), std::string::npos) << tex;
  EXPECT_NE(tex.find("\\begin{tabular}{lrr}"), std::string::npos) << tex;
  EXPECT_NE(tex.find("fp & \\textbf{0.960} $\\pm$ 0.010 & \\textbf{0.960} $\\pm$ 0.010 \\\\"), std::string::npos) << tex;
  EXPECT_EQ(tex.find("reproduced"), std::string::npos);
  EXPECT_EQ(tex.find("\\documentclass"), std::string::npos);  // \input-able, not standalone
}

TEST(PaperSpecErrors, NameFileLineAndKey) {
  auto error_of = [](const std::string& text) {
    try {
      tr::parse_paper_spec(text, "bad.toml");
    } catch (const ternbench::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string head = "[paper]\nname = \"x\"\ntitle = \"X\"\nsweep = \"s.toml\"\n";
  EXPECT_EQ(error_of(head), "bad.toml:1: the spec declares nothing; add [[table]] or [[claim]] entries");
  EXPECT_EQ(error_of(head + "swep = 1\n[[claim]]\nid = \"a\"\ntext = \"t\"\nkind = \"value\"\nmetric = \"x\"\n"),
            "bad.toml:5: paper.swep: unknown key; did you mean \"sweep\"? valid keys: description, min_seeds, name, "
            "smoke_min_seeds, smoke_sweep, source, sweep, title");
  EXPECT_EQ(error_of(head + "[[claim]]\nid = \"a\"\ntext = \"t\"\nkind = \"guess\"\nmetric = \"x\"\n"),
            "bad.toml:8: claim[0].kind: \"guess\" is not one of: value, monotone, within, at_least");
  EXPECT_EQ(error_of(head + "[[claim]]\nid = \"a\"\ntext = \"t\"\nkind = \"within\"\nmetric = \"x\"\n"
                            "baseline = { where = { method = \"fp\" } }\n"),
            "bad.toml:5: claim[0].max_gap: missing; add max_gap = <largest allowed shortfall against the baseline>");
  EXPECT_NE(error_of(head + "[[claim]]\nid = \"a\"\ntext = \"t\"\nkind = \"value\"\n").find("claim[0].metric: missing key"),
            std::string::npos);
  EXPECT_NE(error_of("[paper\n").find("bad.toml:1: TOML syntax error"), std::string::npos);
}

// The shipped specs parse, and every reference number they carry names its source.
TEST(PaperSpecs, ShippedSpecsParse) {
  for (const char* name : {"sca_claims", "faraone_compression", "baselines"}) {
    const auto spec = tr::load_paper_spec(tr::paper_spec_path(name, std::string(TB_SOURCE_DIR) + "/experiments/papers"));
    EXPECT_EQ(spec.name, name);
    EXPECT_FALSE(spec.sweep.empty());
    for (const auto& t : spec.tables)
      for (const auto& [cell, ref] : t.references) EXPECT_FALSE(ref.source.empty()) << name << " " << t.id;
  }
}

// SQL metric expressions and sql queries are evaluated through the results view.
TEST(PaperSql, ExpressionsAndQueriesRunOnTheViews) {
  TmpDir tmp;
  const std::string path = tmp.file("p.sqlite");
  {
    ternbench::storage::MetricsDb db(path);
    std::ifstream f(std::string(TB_SOURCE_DIR) + "/tests/fixtures/reports/fixture.sql");
    std::ostringstream ss;
    ss << f.rdbuf();
    db.exec(ss.str());
  }
  const std::string spec_text = R"toml(
[paper]
name = "sql"
title = "SQL"
sweep = "none.toml"
[[claim]]
id = "err"
text = "fp error in percent"
kind = "value"
where = { method = "fp" }
metric = "100 * (1 - test_acc)"
reference = { value = 4.0, tolerance = 0.01, source = "made up for the test" }
[[claim]]
id = "q"
text = "sca alpha 1.0 accuracy by SQL"
kind = "value"
sql = "SELECT run_key, test_acc AS value FROM results WHERE method = 'sca' AND sca_alpha = 1.0"
above = 0.9
[[claim]]
id = "natural"
text = "sca alpha 0.5 compresses over 20x"
kind = "value"
where = { method = "sca", sca_alpha = 0.5 }
metric = "natural_ratio"
above = 20
)toml";
  const auto spec = tr::parse_paper_spec(spec_text, "sql.toml");
  tr::ResultsDb db(path);
  auto runs = db.runs();
  tr::add_derived_metrics(runs);
  tr::add_spec_metrics(spec, db, runs);
  const auto result = tr::evaluate_paper(spec, runs);
  EXPECT_EQ(claim(result, "err").outcome.verdict, tr::Verdict::kReproduced) << claim(result, "err").outcome.detail;
  EXPECT_EQ(claim(result, "q").outcome.verdict, tr::Verdict::kReproduced) << claim(result, "q").outcome.detail;
  // bitmap 1000 + 700 + 32 = 1732 bits < 2032 (2-bit) < 3500 (relative index): 32000 / 1732 = 18.48
  EXPECT_EQ(claim(result, "natural").outcome.verdict, tr::Verdict::kDeviates) << claim(result, "natural").outcome.detail;
  EXPECT_EQ(claim(result, "natural").outcome.measured, "18.48 ± 0.00 (n=3)");

  const auto bad = tr::parse_paper_spec(
      "[paper]\nname = \"b\"\ntitle = \"B\"\nsweep = \"s\"\n[[claim]]\nid = \"x\"\ntext = \"t\"\nkind = \"value\"\n"
      "metric = \"no_such_column + 1\"\n",
      "b.toml");
  try {
    tr::add_spec_metrics(bad, db, runs);
    FAIL() << "bad SQL accepted";
  } catch (const ternbench::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("b.toml: claim x metric: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such column: no_such_column"), std::string::npos) << e.what();
  }
}
