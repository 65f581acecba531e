// Warm starts in sweep files: init_from as a table of the keys in which the source differs
// (the source is added to the sweep, before its dependents) or as a run key.
#include <gtest/gtest.h>

#include <string>

#include "ternbench/base/error.hpp"
#include "ternbench/experiments/sweep.hpp"

namespace ex = ternbench::experiments;

namespace {

ex::Sweep parse(const std::string& text) { return ex::parse_sweep(text, "w.toml"); }

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const ternbench::ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "";
}

const std::string kHead = "[sweep]\nname = \"w\"\n[train]\ndataset = \"mnist\"\nmodel = \"lenet5\"\n";

}  // namespace

TEST(InitFrom, ATableAddsTheSourceBeforeItsDependentsAndPutsItsKeyInTheirConfig) {
  const ex::Sweep s = parse(kHead + "seed = [1, 2]\nepochs = 5\nmethod = [\"twn\", \"sca\"]\n"
                                    "init_from = { method = \"fp\", epochs = 3 }\n");
  // Per grid point (method, then seed): the source the first time it is needed, then the run.
  ASSERT_EQ(s.runs.size(), 6u);
  EXPECT_EQ(s.implied_sources, 2u);
  const ex::RunSpec& fp1 = s.runs[0];
  EXPECT_TRUE(fp1.implied);
  EXPECT_EQ(fp1.train.method, "fp");
  EXPECT_EQ(fp1.train.epochs, 3);
  EXPECT_EQ(fp1.train.seed, 1u);
  EXPECT_EQ(fp1.train.init_from, "");
  EXPECT_EQ(fp1.canonical_toml.find("init_from"), std::string::npos);
  const ex::RunSpec& twn1 = s.runs[1];
  EXPECT_FALSE(twn1.implied);
  EXPECT_EQ(twn1.train.method, "twn");
  EXPECT_EQ(twn1.train.epochs, 5);
  EXPECT_EQ(twn1.train.init_from, fp1.run_key);
  EXPECT_NE(twn1.canonical_toml.find("init_from = \"" + fp1.run_key + "\"\n"), std::string::npos);
  // The source is exactly the run a file listing it would make.
  const ex::Sweep direct = parse(kHead + "seed = 1\nepochs = 3\nmethod = \"fp\"\n");
  EXPECT_EQ(direct.runs.at(0).run_key, fp1.run_key);
  EXPECT_EQ(s.runs[2].train.seed, 2u);
  EXPECT_EQ(s.runs[2].train.method, "fp");
  EXPECT_EQ(s.runs[3].train.init_from, s.runs[2].run_key);
  EXPECT_EQ(s.runs[4].train.method, "sca");
  EXPECT_EQ(s.runs[4].train.init_from, fp1.run_key);
  EXPECT_EQ(s.runs[5].train.init_from, s.runs[2].run_key);
  // The key is part of the identity: the same twn run without the warm start is another run.
  const ex::Sweep cold = parse(kHead + "seed = 1\nepochs = 5\nmethod = \"twn\"\n");
  EXPECT_NE(cold.runs.at(0).run_key, twn1.run_key);
  // parse_run reads the canonical text back to the same key.
  EXPECT_EQ(ex::parse_run(twn1.canonical_toml).run_key, twn1.run_key);
}

TEST(InitFrom, ASourceABlockAlsoListsIsARunOfTheFileAndNoDuplicate) {
  const ex::Sweep s = parse(kHead + "[[train.block]]\nmethod = \"fp\"\n"
                                    "[[train.block]]\nmethod = \"twn\"\ninit_from = { method = \"fp\" }\n");
  ASSERT_EQ(s.runs.size(), 2u);
  EXPECT_EQ(s.implied_sources, 0u);
  EXPECT_EQ(s.duplicates_across_blocks, 0u);
  EXPECT_EQ(s.runs[1].train.init_from, s.runs[0].run_key);
}

TEST(InitFrom, ARunKeyIsTakenAsItIs) {
  const ex::Sweep s = parse(kHead + "method = \"twn\"\ninit_from = \"0123456789abcdef\"\n");
  ASSERT_EQ(s.runs.size(), 1u);
  EXPECT_EQ(s.runs[0].train.init_from, "0123456789abcdef");
  EXPECT_EQ(s.implied_sources, 0u);
}

TEST(InitFrom, BadValuesGiveOneLineNamingTheKey) {
  const std::string not_a_key = error_of(kHead + "method = \"twn\"\ninit_from = \"fp\"\n");
  EXPECT_NE(not_a_key.find("w.toml:7: train.init_from: expected a run key (16 lowercase hex digits"), std::string::npos)
      << not_a_key;
  EXPECT_NE(error_of(kHead + "method = \"twn\"\ninit_from = { method = \"fp\", model = \"mlp\" }\n")
                .find("train.init_from: the source run is model \"mlp\" but this run is \"lenet5\""),
            std::string::npos);
  EXPECT_NE(error_of(kHead + "method = \"twn\"\ninit_from = { method = \"bwn\" }\n")
                .find("a warm start starts from a full-precision run"),
            std::string::npos);
  EXPECT_NE(error_of(kHead + "method = \"twn\"\ninit_from = { method = \"fp\", seed = [1, 2] }\n")
                .find("train.init_from.seed: the source is one run"),
            std::string::npos);
  EXPECT_NE(error_of(kHead + "method = \"twn\"\ninit_from = { method = \"fp\", epoch = 2 }\n")
                .find("train.init_from.epoch: unknown key; did you mean \"epochs\"?"),
            std::string::npos);
  EXPECT_NE(error_of(kHead + "method = \"twn\"\ninit_from = { }\n").find("train.init_from: empty table"),
            std::string::npos);
  EXPECT_NE(error_of(kHead + "method = \"twn\"\ninit_from = { method = \"fp\", lr = -1.0 }\n")
                .find("train.init_from.lr: must be > 0.0, got -1.0"),
            std::string::npos);
  EXPECT_NE(error_of(kHead + "[[train.block]]\nmethod = \"twn\"\ninit_from = { method = \"fp\", dataset = \"cifar10\" }\n")
                .find("train.block[0].init_from: the source run trains on cifar10 (3x32x32 images)"),
            std::string::npos);
}

// A dataset name stands for one content: the standard MNIST and the 10k subset are
// different runs, whatever else they share.
TEST(DatasetIdentity, StandardMnistAndTheSubsetAreDifferentRuns) {
  const ex::Sweep s = parse("[sweep]\nname = \"d\"\n[train]\ndataset = [\"mnist\", \"mnist-10k\"]\nmethod = \"fp\"\n");
  ASSERT_EQ(s.runs.size(), 2u);
  EXPECT_NE(s.runs[0].run_key, s.runs[1].run_key);
  EXPECT_NE(s.runs[1].canonical_toml.find("dataset = \"mnist-10k\"\n"), std::string::npos);
}
