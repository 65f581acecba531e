#include <gtest/gtest.h>

#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/experiments/sweep.hpp"

namespace tb = ternbench;
namespace ex = ternbench::experiments;

namespace {

// Lines 1-6; tests append from line 7 on, so expected line numbers read off directly.
const std::string kHead =
    "[sweep]\n"
    "name = \"t\"\n"
    "\n"
    "[train]\n"
    "dataset = \"mnist\"\n"
    "method = \"fp\"\n";

ex::Sweep parse(const std::string& text) { return ex::parse_sweep(text, "test.toml"); }

std::vector<std::string> methods_of(const ex::Sweep& s) {
  std::vector<std::string> v;
  for (const auto& r : s.runs) v.push_back(r.train.method);
  return v;
}

}  // namespace

TEST(Sweep, GridIsMethodTimesSeedTimesLrWithLrFastest) {
  const ex::Sweep s = parse(
      "[sweep]\nname = \"grid\"\n[train]\ndataset = \"mnist\"\n"
      "lr = [0.1, 0.01]\nseed = [1, 2]\nmethod = [\"fp\", \"twn\"]\n");
  ASSERT_EQ(s.runs.size(), 8u);
  struct Point { std::string method; std::uint64_t seed; double lr; };
  const std::vector<Point> expected = {
      {"fp", 1, 0.1},  {"fp", 1, 0.01},  {"fp", 2, 0.1},  {"fp", 2, 0.01},
      {"twn", 1, 0.1}, {"twn", 1, 0.01}, {"twn", 2, 0.1}, {"twn", 2, 0.01}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(s.runs[i].train.method, expected[i].method);
    EXPECT_EQ(s.runs[i].train.seed, expected[i].seed);
    EXPECT_EQ(s.runs[i].train.lr, expected[i].lr);
  }
}

TEST(Sweep, MethodOnlyKeysDoNotMultiplyOtherMethods) {
  const ex::Sweep s = parse(
      "[sweep]\nname = \"t\"\n[train]\ndataset = \"mnist\"\nmethod = [\"fp\", \"twn\"]\n"
      "seed = [1, 2]\ndelta_factor = [0.5, 0.7]\n");
  // Per seed: one fp run and one twn run per delta_factor.
  ASSERT_EQ(s.runs.size(), 6u);
  EXPECT_EQ(methods_of(s), (std::vector<std::string>{"fp", "fp", "twn", "twn", "twn", "twn"}));
  for (const auto& r : s.runs) {
    const bool has_delta = r.canonical_toml.find("delta_factor") != std::string::npos;
    EXPECT_EQ(has_delta, r.train.method == "twn") << r.canonical_toml;
  }
  EXPECT_EQ(s.runs[2].train.delta_factor, 0.5);
  EXPECT_EQ(s.runs[3].train.delta_factor, 0.7);
  EXPECT_EQ(s.runs[0].train.delta_factor, 0.7);  // the default: fp ignores the key
}

TEST(Sweep, AListOfAMethodOnlyKeyMultipliesOnlyItsMethod) {
  const ex::Sweep s = parse(
      "[sweep]\nname = \"t\"\n[train]\ndataset = \"mnist\"\nmethod = [\"fp\", \"sca\"]\n"
      "sca_alpha = [0.1, 0.5, 1.0]\nseed = [1, 2]\n");
  ASSERT_EQ(s.runs.size(), 8u);  // 2 fp + 3 x 2 sca, not 6 fp
  EXPECT_EQ(methods_of(s), (std::vector<std::string>{"fp", "fp", "sca", "sca", "sca", "sca", "sca", "sca"}));
  EXPECT_EQ(s.runs[0].train.seed, 1u);
  EXPECT_EQ(s.runs[1].train.seed, 2u);
  // seed comes before sca_alpha in grid order: sca_alpha varies fastest.
  EXPECT_EQ(s.runs[2].train.sca_alpha, 0.1);
  EXPECT_EQ(s.runs[2].train.seed, 1u);
  EXPECT_EQ(s.runs[3].train.sca_alpha, 0.5);
  EXPECT_EQ(s.runs[5].train.sca_alpha, 0.1);
  EXPECT_EQ(s.runs[5].train.seed, 2u);
  EXPECT_EQ(s.runs[7].train.sca_alpha, 1.0);
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(s.runs[i].canonical_toml.find("sca_alpha"), std::string::npos) << s.runs[i].canonical_toml;
  EXPECT_EQ(s.duplicates_across_blocks, 0u);
}

// A stack given for a grid that also has a named model does not multiply the named
// model's runs, and its key is the one of the same run without the stack.
TEST(Sweep, LayersDoNotMultiplyANamedModel) {
  const ex::Sweep s = parse(kHead + "model = [\"mlp\", \"custom\"]\n"
                            "layers = [[\"dense(10)\"], [\"dense(32)\", \"relu\", \"dense(10)\"]]\n");
  ASSERT_EQ(s.runs.size(), 3u);
  EXPECT_EQ(s.runs[0].train.model, "mlp");
  EXPECT_TRUE(s.runs[0].train.layers.empty());
  EXPECT_EQ(s.runs[0].run_key, parse(kHead).runs.at(0).run_key);
  EXPECT_EQ(s.runs[1].train.layers.size(), 1u);
  EXPECT_EQ(s.runs[2].train.layers.size(), 3u);
}

TEST(Sweep, ZipIsOneAxisCrossedWithTheOthers) {
  const ex::Sweep s = parse(kHead + "seed = [1, 2]\n"
                            "[train.zip]\n"
                            "lr = [0.1, 0.05, 0.01]\n"
                            "weight_decay = [0, 1e-4, 5e-4]\n");
  ASSERT_EQ(s.runs.size(), 6u);
  struct Point { std::uint64_t seed; double lr; double wd; };
  // seed comes before lr in grid order, so the zip (at lr's place) varies fastest.
  const std::vector<Point> expected = {{1, 0.1, 0.0}, {1, 0.05, 1e-4}, {1, 0.01, 5e-4},
                                       {2, 0.1, 0.0}, {2, 0.05, 1e-4}, {2, 0.01, 5e-4}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(s.runs[i].train.seed, expected[i].seed);
    EXPECT_EQ(s.runs[i].train.lr, expected[i].lr);
    EXPECT_EQ(s.runs[i].train.weight_decay, expected[i].wd);
  }
}

TEST(Sweep, SeveralZipsAreSeveralAxes) {
  const ex::Sweep s = parse(kHead +
                            "[[train.zip]]\nlr = [0.1, 0.05]\nweight_decay = [0, 1e-4]\n"
                            "[[train.zip]]\nepochs = [1, 2, 3]\nbatch_size = [8, 16, 32]\n");
  ASSERT_EQ(s.runs.size(), 6u);
  EXPECT_EQ(s.runs[0].train.epochs, 1);
  EXPECT_EQ(s.runs[0].train.batch_size, 8);
  EXPECT_EQ(s.runs[5].train.epochs, 3);
  EXPECT_EQ(s.runs[5].train.batch_size, 32);
  EXPECT_EQ(s.runs[5].train.lr, 0.05);
}

TEST(Sweep, ZippedListValuedKeysTakeListsOfLists) {
  const ex::Sweep s = parse(kHead + "lr_schedule = \"multistep\"\nepochs = 30\n"
                            "[train.zip]\nlr_milestones = [[15, 25], [10]]\nlr_gamma = [0.1, 0.5]\n");
  ASSERT_EQ(s.runs.size(), 2u);
  EXPECT_EQ(s.runs[0].train.lr_milestones, (std::vector<int>{15, 25}));
  EXPECT_EQ(s.runs[1].train.lr_milestones, (std::vector<int>{10}));
  EXPECT_EQ(s.runs[1].train.lr_gamma, 0.5);
}

TEST(Sweep, BlocksAreAUnionOverTheSharedKeys) {
  const ex::Sweep s = parse(
      "[sweep]\nname = \"t\"\n"
      "[train]\ndataset = \"mnist\"\nmodel = \"lenet5\"\nseed = [1, 2, 3]\nepochs = 3\n"
      "[[train.block]]\nmethod = [\"fp\", \"bwn\", \"twn\"]\n"
      "[[train.block]]\nmethod = \"sca\"\nsca_alpha = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]\n");
  EXPECT_EQ(s.blocks, 2u);
  EXPECT_EQ(s.duplicates_across_blocks, 0u);
  ASSERT_EQ(s.runs.size(), 9u + 24u);
  EXPECT_EQ(s.runs[0].train.method, "fp");
  EXPECT_EQ(s.runs[8].train.method, "twn");
  EXPECT_EQ(s.runs[9].train.method, "sca");
  for (const auto& r : s.runs) {
    EXPECT_EQ(r.train.model, "lenet5");
    EXPECT_EQ(r.train.epochs, 3);
  }
  EXPECT_EQ(s.runs[32].train.sca_alpha, 0.8);
  EXPECT_EQ(s.runs[32].train.seed, 3u);
}

TEST(Sweep, ABlockReplacesASharedKey) {
  const ex::Sweep s = parse(kHead + "epochs = 3\nlr = [0.1, 0.2]\n"
                            "[[train.block]]\n"
                            "[[train.block]]\nepochs = 5\nlr = 0.3\n");
  ASSERT_EQ(s.runs.size(), 3u);
  EXPECT_EQ(s.runs[1].train.lr, 0.2);
  EXPECT_EQ(s.runs[1].train.epochs, 3);
  EXPECT_EQ(s.runs[2].train.lr, 0.3);
  EXPECT_EQ(s.runs[2].train.epochs, 5);
}

// The file is parsed once for all blocks: each block borrows the shared keys, their zips
// and their init_from table and gives them back, with their lines, for the next block.
TEST(Sweep, EveryBlockSeesTheSharedKeysWhateverTheBlocksBeforeIt) {
  const ex::Sweep s = parse(kHead +
                            "lr = 0.2\ninit_from = { method = \"fp\", epochs = 1 }\n"
                            "[train.zip]\nepochs = [2, 3]\nbatch_size = [16, 32]\n"
                            "[[train.block]]\nmethod = \"twn\"\nlr = 0.1\n"
                            "[[train.block]]\nmethod = \"bwn\"\n"
                            "[[train.block]]\nmethod = \"ttq\"\nseed = [4, 5]\n");
  std::vector<std::string> methods;
  for (const auto& r : s.runs) {
    if (r.implied) continue;
    methods.push_back(r.train.method);
    EXPECT_FALSE(r.train.init_from.empty()) << r.canonical_toml;
    EXPECT_EQ(r.train.lr, r.train.method == "twn" ? 0.1 : 0.2);
    EXPECT_EQ(r.train.batch_size, r.train.epochs == 2 ? 16 : 32);
  }
  EXPECT_EQ(methods, (std::vector<std::string>{"twn", "twn", "bwn", "bwn", "ttq", "ttq", "ttq", "ttq"}));
  EXPECT_EQ(s.implied_sources, 2u + 2u + 4u);  // by lr and batch size, then seed and batch size

  // A shared key refused in a later block is still named at its line in [train].
  try {
    parse(kHead + "delta_factor = 0.5\n[[train.block]]\nmethod = \"twn\"\n[[train.block]]\nmethod = \"bwn\"\n");
    FAIL() << "accepted";
  } catch (const tb::ConfigError& e) {
    EXPECT_EQ(e.key_path(), "train.delta_factor") << e.what();
    EXPECT_EQ(e.line(), 7) << e.what();
  }
}

TEST(Sweep, ARunTwoBlocksProduceIsRunOnce) {
  const ex::Sweep s = parse(kHead +
                            "[[train.block]]\nseed = [1, 2, 3]\n"
                            "[[train.block]]\nseed = [3, 4, 1]\n");
  EXPECT_EQ(s.blocks, 2u);
  EXPECT_EQ(s.duplicates_across_blocks, 2u);
  ASSERT_EQ(s.runs.size(), 4u);
  EXPECT_EQ(s.runs[3].train.seed, 4u);
}

// The same run written as a grid point, a zip row or a block gets the same run key.
TEST(Sweep, GridZipAndBlockGiveTheSameRunKey) {
  const std::string grid =
      parse(kHead + "lr = [0.1, 0.05]\nweight_decay = [0.0, 1e-4]\n").runs.at(3).run_key;
  const std::string zip =
      parse(kHead + "[train.zip]\nlr = [0.1, 0.05]\nweight_decay = [0, 1e-4]\n").runs.at(1).run_key;
  const std::string block =
      parse("[sweep]\nname = \"t\"\n[train]\ndataset = \"mnist\"\nlr = 0.05\n"
            "[[train.block]]\nmethod = \"twn\"\n[[train.block]]\nmethod = \"fp\"\nweight_decay = 1e-4\n")
          .runs.at(1)
          .run_key;
  const std::string single = parse(kHead + "lr = 0.05\nweight_decay = 1e-4\n").runs.at(0).run_key;
  EXPECT_EQ(grid, single);
  EXPECT_EQ(zip, single);
  EXPECT_EQ(block, single);
}

TEST(Sweep, DuplicatePointsAreRemovedKeepingTheFirst) {
  const ex::Sweep s = parse(kHead + "seed = [3, 1, 3, 2, 1]\n");
  ASSERT_EQ(s.runs.size(), 3u);
  EXPECT_EQ(s.runs[0].train.seed, 3u);
  EXPECT_EQ(s.runs[1].train.seed, 1u);
  EXPECT_EQ(s.runs[2].train.seed, 2u);
}

TEST(Sweep, RunKeyIgnoresKeyOrderInTheFile) {
  const ex::Sweep a = parse(
      "[sweep]\nname = \"t\"\n[train]\ndataset = \"mnist\"\nmethod = \"twn\"\nepochs = 3\nlr = 0.1\n");
  const ex::Sweep b = parse(
      "[train]\nlr = 0.1\nepochs = 3\nmethod = \"twn\"\ndataset = \"mnist\"\n[sweep]\nname = \"t\"\n");
  ASSERT_EQ(a.runs.size(), 1u);
  ASSERT_EQ(b.runs.size(), 1u);
  EXPECT_EQ(a.runs[0].run_key, b.runs[0].run_key);
  EXPECT_EQ(a.runs[0].canonical_toml, b.runs[0].canonical_toml);
}

TEST(Sweep, RunKeyIgnoresDefaultsWrittenExplicitly) {
  const ex::Sweep omitted = parse(
      "[sweep]\nname = \"t\"\n[train]\ndataset = \"mnist\"\nmethod = \"twn\"\n");
  const ex::Sweep written = parse(
      "[sweep]\nname = \"t\"\n[train]\ndataset = \"mnist\"\nmethod = \"twn\"\nmodel = \"mlp\"\n"
      "seed = 1\nepochs = 10\nbatch_size = 64\nlr = 5e-2\nmomentum = 0.90\nweight_decay = 0\n"
      "threads = 1\nquantize_first = true\nquantize_last = false\ndelta_factor = 0.7\n"
      "train_limit = 0\ntest_limit = 0\n");
  EXPECT_EQ(omitted.runs.at(0).run_key, written.runs.at(0).run_key);
}

TEST(Sweep, IntegerAndFloatSpellingsOfANumberAreOneRun) {
  const ex::Sweep a = parse(kHead + "lr = 1\n");
  const ex::Sweep b = parse(kHead + "lr = 1.0\n");
  EXPECT_EQ(a.runs.at(0).run_key, b.runs.at(0).run_key);
  EXPECT_NE(a.runs.at(0).canonical_toml.find("lr = 1.0\n"), std::string::npos);
}

TEST(Sweep, RunKeyChangesWhenAValueChanges) {
  const std::string base = parse(kHead).runs.at(0).run_key;
  EXPECT_NE(parse(kHead + "lr = 0.051\n").runs.at(0).run_key, base);
  EXPECT_NE(parse(kHead + "seed = 2\n").runs.at(0).run_key, base);
  EXPECT_NE(parse(kHead + "train_limit = 100\n").runs.at(0).run_key, base);
  EXPECT_EQ(parse(kHead).runs.at(0).run_key, base);
}

// A list-typed key takes a whole list as one value; a list of lists is its grid axis.
TEST(Sweep, FlatListOfAListKeyIsOneValueAndListOfListsIsAnAxis) {
  const ex::Sweep one = parse(kHead + "lr_schedule = \"multistep\"\nlr_milestones = [15, 25]\n");
  ASSERT_EQ(one.runs.size(), 1u);
  EXPECT_EQ(one.runs[0].train.lr_milestones, (std::vector<int>{15, 25}));
  EXPECT_NE(one.runs[0].canonical_toml.find("lr_milestones = [15, 25]\n"), std::string::npos);
  const ex::Sweep two = parse(kHead + "lr_milestones = [[15, 25], [10]]\n");
  ASSERT_EQ(two.runs.size(), 2u);
  EXPECT_EQ(two.runs[1].train.lr_milestones, (std::vector<int>{10}));
}

TEST(Sweep, CustomStacksAreCanonicalAndGridable) {
  const ex::Sweep s = parse(kHead + "model = \"custom\"\n"
                            "layers = [[\"dense(300)\", \"relu\", \"dense(10)\"],\n"
                            "          [\"conv(8,kernel=5)\", \"relu\", \"maxpool(2)\", \"flatten\", \"dense(10)\"]]\n");
  ASSERT_EQ(s.runs.size(), 2u);
  ASSERT_EQ(s.runs[1].train.layers.size(), 5u);
  EXPECT_EQ(s.runs[1].train.layers[0].kernel, 5);
  EXPECT_NE(s.runs[1].canonical_toml.find("layers = [\"conv(8, kernel=5, stride=1, padding=0)\", \"relu\", "
                                          "\"maxpool(kernel=2, stride=2)\", \"flatten\", \"dense(10)\"]"),
            std::string::npos)
      << s.runs[1].canonical_toml;
  // Another spelling of the same stack is the same run.
  const ex::Sweep same = parse(kHead + "model = \"custom\"\n"
                               "layers = [\"conv(8, kernel=5, padding=0)\", \"relu\", \"maxpool(2, stride=2)\", "
                               "\"flatten\", \"dense(units=10)\"]\n");
  EXPECT_EQ(same.runs[0].run_key, s.runs[1].run_key);
  EXPECT_EQ(ex::parse_run(s.runs[1].canonical_toml).run_key, s.runs[1].run_key);
}

// A stack is checked against the dataset its run trains on, not every dataset of the file:
// zipped, each stack meets only its own dataset.
TEST(Sweep, StacksAreCheckedAgainstTheirOwnDataset) {
  const ex::Sweep s = parse("[sweep]\nname = \"t\"\n[train]\nmethod = \"fp\"\nmodel = \"custom\"\n"
                            "[train.zip]\ndataset = [\"mnist\", \"cifar10\"]\n"
                            "layers = [[\"conv(4, kernel=28)\", \"flatten\", \"dense(10)\"],\n"
                            "          [\"conv(4, kernel=32)\", \"flatten\", \"dense(10)\"]]\n");
  ASSERT_EQ(s.runs.size(), 2u);
  EXPECT_EQ(s.runs[1].train.dataset, "cifar10");
  EXPECT_EQ(s.runs[1].train.layers[0].kernel, 32);
}

namespace {

// "key = [first, first + 1, ...]", n values.
std::string list_of(const std::string& key, int n, int first = 1) {
  std::string out = key + " = [";
  for (int i = 0; i < n; ++i) out += (i ? ", " : "") + std::to_string(first + i);
  return out + "]\n";
}

std::string size_error(const std::string& text, std::string* key_path = nullptr, int* line = nullptr) {
  try {
    parse(text);
  } catch (const tb::ConfigError& e) {
    if (key_path) *key_path = e.key_path();
    if (line) *line = e.line();
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST(Sweep, GridOverTheCapNamesItsListsAndTheCap) {
  std::string key;
  int line = 0;
  const std::string what = size_error(kHead + list_of("seed", 1000) + list_of("lr", 1001), &key, &line);
  EXPECT_EQ(key, "train");
  EXPECT_EQ(line, 4);
  EXPECT_EQ(what, "test.toml:4: train: the grid has 1001000 points (seed 1000 x lr 1001), more than the 1000000 runs "
                  "a sweep file may expand to; shorten these lists or split the sweep into several files");
}

// Each block is under the cap but together they are not. The count comes from the list
// lengths before anything is expanded: expanding 1.5 million runs would take half a minute
// and gigabytes, and the test would show it in its time.
TEST(Sweep, BlocksShareOneCapCountedBeforeExpansion) {
  std::string text = kHead;
  for (int b = 0; b < 5; ++b) text += "[[train.block]]\n" + list_of("seed", 1000) + list_of("lr", 300);
  std::string key;
  int line = 0;
  const std::string what = size_error(text, &key, &line);
  EXPECT_EQ(key, "train.block[0]");
  EXPECT_EQ(line, 7);
  EXPECT_EQ(what, "test.toml:7: train.block[0]: the 5 blocks have 1500000 points in all, more than the 1000000 runs a "
                  "sweep file may expand to; the largest: train.block[0] (line 7) 300000 (seed 1000 x lr 300), "
                  "train.block[1] (line 10) 300000 (seed 1000 x lr 300), train.block[2] (line 13) 300000 (seed 1000 "
                  "x lr 300), and 2 more; shorten their lists or split the sweep into several files");
  // Under the cap together, the same blocks are expanded.
  std::string small = kHead;
  for (int b = 0; b < 3; ++b) small += "[[train.block]]\n" + list_of("seed", 2, 2 * b) + list_of("lr", 2);
  EXPECT_EQ(parse(small).runs.size(), 12u);
}

TEST(Sweep, GridCountSaturatesInsteadOfWrapping) {
  // 100^10 = 1e20 points, more than 64 bits hold: a wrapped count could come out small.
  std::string text = kHead;
  for (const char* key : {"seed", "epochs", "batch_size", "lr", "lr_gamma", "weight_decay", "crop_padding",
                          "warmup_epochs", "adam_eps", "lr_min"})
    text += list_of(key, 100);
  const std::string what = size_error(text);
  EXPECT_NE(what.find("the grid has more than 18446744073709551615 points (seed 100 x epochs 100 x batch_size 100"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find(" x crop_padding 100), more than the 1000000 runs"), std::string::npos) << what;
}

TEST(Sweep, ZippedListsCountOnce) {
  const std::string what =
      size_error(kHead + list_of("seed", 1001) + "[train.zip]\n" + list_of("lr", 1000) + list_of("epochs", 1000));
  EXPECT_NE(what.find("the grid has 1001000 points (seed 1001 x zip(epochs, lr) 1000)"), std::string::npos) << what;
}

// Each block is a grid of its own, so their number has a cap too (a file of 20,000 one-run
// blocks held 250 MB).
TEST(Sweep, BlocksOverTheCapAreRefusedAtTheFirstOneTooMany) {
  std::string text = kHead;
  for (int b = 0; b <= 10000; ++b) text += "[[train.block]]\n";
  std::string key;
  int line = 0;
  const std::string what = size_error(text, &key, &line);
  EXPECT_EQ(key, "train.block[10000]");
  EXPECT_EQ(line, 7 + 10000);
  EXPECT_NE(what.find("the file has 10001 blocks, more than the 10000 a sweep file may have"), std::string::npos)
      << what;
}

TEST(Sweep, AFileOverTheSizeCapIsRefusedUnread) {
  const std::string what = size_error(kHead + "# " + std::string(4 << 20, 'x') + "\n");
  EXPECT_EQ(what, "test.toml: the file has more than 4194304 bytes, the most a sweep file may have; split the sweep "
                  "into several files");
  // A device that never ends is read only up to the cap.
  try {
    ex::load_sweep("/dev/zero");
    FAIL() << "accepted /dev/zero";
  } catch (const tb::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/zero: the file has more than 4194304 bytes"), std::string::npos)
        << e.what();
  }
}

TEST(Sweep, DbAndWeightsDirDefaultFromTheName) {
  const ex::Sweep s = parse(kHead);
  EXPECT_EQ(s.name, "t");
  EXPECT_EQ(s.file, "test.toml");
  EXPECT_EQ(s.db_path, "results/t.sqlite");
  EXPECT_EQ(s.weights_dir, "results/t-weights");
  EXPECT_EQ(s.description, "");

  const ex::Sweep only_db = parse(
      "[sweep]\nname = \"t\"\ndb = \"out/x.sqlite\"\n[train]\ndataset = \"mnist\"\nmethod = \"fp\"\n");
  EXPECT_EQ(only_db.db_path, "out/x.sqlite");
  EXPECT_EQ(only_db.weights_dir, "out/x-weights");
}

TEST(Sweep, PathsAreTakenAsWritten) {
  const ex::Sweep s = parse(
      "[sweep]\nname = \"a.b-c_1\"\ndb = \"../r/db\"\nweights_dir = \"w\"\ndescription = \"d\"\n"
      "[train]\ndataset = \"fashion-mnist\"\nmethod = \"fp\"\n");
  EXPECT_EQ(s.name, "a.b-c_1");
  EXPECT_EQ(s.db_path, "../r/db");
  EXPECT_EQ(s.weights_dir, "w");
  EXPECT_EQ(s.description, "d");
  EXPECT_EQ(s.runs.at(0).train.dataset, "fashion-mnist");
}

TEST(Sweep, QuickstartHasFourRuns) {
  const ex::Sweep s = ex::load_sweep(std::string(TB_SOURCE_DIR) + "/experiments/quickstart.toml");
  EXPECT_EQ(s.name, "quickstart");
  EXPECT_EQ(s.db_path, "results/quickstart.sqlite");
  ASSERT_EQ(s.runs.size(), 4u);
  EXPECT_EQ(methods_of(s), (std::vector<std::string>{"fp", "fp", "twn", "twn"}));
  for (const auto& r : s.runs) {
    EXPECT_EQ(r.train.dataset, "mnist");
    EXPECT_EQ(r.train.epochs, 10);
    EXPECT_EQ(r.train.batch_size, 64);
    EXPECT_EQ(r.train.lr, 0.05);
    EXPECT_EQ(r.train.momentum, 0.9);
  }
}

TEST(Sweep, LoadSweepReadsAFileAndErrorsNameIt) {
  tb::testing::TmpDir dir;
  const std::string good = dir.file("good.toml");
  std::ofstream(good) << kHead << "seed = [1, 2]\n";
  const ex::Sweep s = ex::load_sweep(good);
  EXPECT_EQ(s.file, good);
  EXPECT_EQ(s.runs.size(), 2u);

  const std::string bad = dir.file("bad.toml");
  std::ofstream(bad) << kHead << "lr = -1\n";
  try {
    ex::load_sweep(bad);
    FAIL() << "expected ConfigError";
  } catch (const tb::ConfigError& e) {
    EXPECT_EQ(e.file(), bad);
    EXPECT_EQ(std::string(e.what()).rfind(bad + ":7: train.lr: ", 0), 0u) << e.what();
  }
}

TEST(Sweep, MissingFileIsAConfigErrorNamingThePath) {
  try {
    ex::load_sweep("/nonexistent/sweep.toml");
    FAIL() << "expected ConfigError";
  } catch (const tb::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/sweep.toml"), std::string::npos);
  }
}

// --- Conformance: each bad document fails with the expected key path and line -----------

struct BadCase {
  const char* name;
  std::string doc;
  std::string key_path;
  int line;
  std::string fragment;  // must appear in the message
};
// Without this, gtest prints each case as a hex dump of the struct.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class SweepRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(SweepRejects, WithKeyPathLineAndFix) {
  const BadCase& c = GetParam();
  try {
    parse(c.doc);
    FAIL() << "accepted:\n" << c.doc;
  } catch (const tb::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.key_path(), c.key_path) << what;
    EXPECT_EQ(e.line(), c.line) << what;
    EXPECT_NE(what.find(c.fragment), std::string::npos) << what;
    EXPECT_EQ(what.rfind("test.toml", 0), 0u) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Documents, SweepRejects,
    ::testing::Values(
        BadCase{"UnknownKeySuggestsClosest", kHead + "epoch = 3\n", "train.epoch", 7,
                "unknown key; did you mean \"epochs\"? valid keys: adam_beta1, adam_beta2,"},
        BadCase{"UnknownKeyTransposition", kHead + "ephocs = 3\n", "train.ephocs", 7,
                "did you mean \"epochs\"?"},
        BadCase{"UnknownKeyWithoutNearMatch", kHead + "alpha = 0.1\n", "train.alpha", 7,
                "unknown key; valid keys: adam_beta1"},
        BadCase{"UnknownSweepKey", "[sweep]\nname = \"t\"\ndb_file = \"x\"\n[train]\n", "sweep.db_file", 3,
                "valid keys: db, description, name, weights_dir"},
        BadCase{"UnknownTable", kHead + "[trian]\nx = 1\n", "trian", 7, "did you mean \"train\"?"},
        BadCase{"KeyOutsideItsTable", "epochs = 3\n" + kHead, "epochs", 1,
                "it belongs under [train]"},
        BadCase{"WrongType", kHead + "epochs = \"ten\"\n", "train.epochs", 7,
                "expected an integer, got string"},
        BadCase{"FloatForInteger", kHead + "epochs = 10.0\n", "train.epochs", 7,
                "expected an integer, got float"},
        BadCase{"WrongTypeInList", kHead + "seed = [1, \"2\"]\n", "train.seed[1]", 7,
                "expected an integer, got string"},
        BadCase{"BadValueOnItsOwnLine", kHead + "seed = [\n  1,\n  -2,\n]\n", "train.seed[1]", 9,
                "must be >= 0, got -2"},
        BadCase{"NestedList", kHead + "lr = [[0.1]]\n", "train.lr[0]", 7, "expected a number, got list"},
        BadCase{"TableForValue", kHead + "[train.lr]\nx = 1\n", "train.lr", 7, "got table"},
        BadCase{"MissingRequiredKey", "[sweep]\nname = \"t\"\n\n[train]\ndataset = \"mnist\"\n",
                "train.method", 4, "missing required key; add method = \"fp\" (one of: fp, "},
        BadCase{"MissingSweepName", "[sweep]\ndb = \"x.sqlite\"\n[train]\n", "sweep.name", 1,
                "missing required key"},
        BadCase{"MissingSweepTable", "[train]\ndataset = \"mnist\"\nmethod = \"fp\"\n", "sweep", 0,
                "missing [sweep] table"},
        BadCase{"MissingTrainTable", "[sweep]\nname = \"t\"\n", "train", 0, "missing [train] table"},
        BadCase{"TrainNotATable", "train = 1\n[sweep]\nname = \"t\"\n", "train", 1,
                "expected a table ([train]), got integer"},
        BadCase{"UnknownDataset", "[sweep]\nname = \"t\"\n\n[train]\ndataset = \"cifar\"\nmethod = \"fp\"\n",
                "train.dataset", 5, "unknown dataset \"cifar\"; did you mean \"cifar10\"? valid datasets: mnist, mnist-10k, fashion-mnist, cifar10"},
        BadCase{"UnknownMethodSuggests",
                "[sweep]\nname = \"t\"\n\n[train]\ndataset = \"mnist\"\nmethod = [\"fp\", \"tw\"]\n",
                "train.method[1]", 6, "did you mean \"twn\"? valid methods: fp, "},
        BadCase{"UnknownModel", kHead + "model = \"resnet\"\n", "train.model", 7, "valid models: mlp"},
        BadCase{"NegativeLr", kHead + "lr = -0.1\n", "train.lr", 7, "must be > 0.0, got -0.1"},
        BadCase{"NonFiniteLr", kHead + "lr = nan\n", "train.lr", 7, "must be a finite number"},
        BadCase{"MomentumOne", kHead + "momentum = 1\n", "train.momentum", 7,
                "must be in [0.0, 1.0), got 1.0"},
        BadCase{"ZeroEpochs", kHead + "epochs = 0\n", "train.epochs", 7, "must be >= 1, got 0"},
        BadCase{"EpochsOverflowInt", kHead + "epochs = 3000000000\n", "train.epochs", 7,
                "must be <= 2147483647"},
        BadCase{"EmptyList", kHead + "seed = []\n", "train.seed", 7,
                "empty list; give at least one value or remove the key to use the default 1"},
        BadCase{"SyntaxErrorLine", kHead + "epochs = 3\nlr = \n", "", 8, "TOML syntax error"},
        BadCase{"DuplicateKeyIsSyntaxError", kHead + "method = \"twn\"\n", "", 7, "TOML syntax error"},
        BadCase{"TwnOnlyKeyWithOnlyFp", kHead + "delta_factor = [0.5, 0.6]\n", "train.delta_factor", 7,
                "applies only to method twn, but method is fp; remove the key"},
        BadCase{"QuantizedOnlyKeyWithOnlyFp", kHead + "quantize_last = true\n", "train.quantize_last", 7,
                ", but method is fp; remove the key or add one of its methods"},
        BadCase{"BoolExpected", "[sweep]\nname = \"t\"\n[train]\ndataset = \"mnist\"\nmethod = \"twn\"\n"
                "quantize_first = 1\n", "train.quantize_first", 6, "expected a boolean"},
        BadCase{"BadSweepName", "[sweep]\nname = \"my sweep\"\n[train]\n", "sweep.name", 2,
                "may contain only letters, digits"},
        BadCase{"EmptyDbPath", "[sweep]\nname = \"t\"\ndb = \"\"\n[train]\n", "sweep.db", 3,
                "must not be empty"},
        BadCase{"MilestonesNotIncreasing", kHead + "lr_milestones = [20, 10]\n", "train.lr_milestones", 7,
                "milestones must increase, got [20, 10]"},
        BadCase{"MilestoneNotAnInteger", kHead + "lr_milestones = [10, \"x\"]\n", "train.lr_milestones[1]", 7,
                "expected an integer, got string"},
        BadCase{"LayersWithoutCustomModel", kHead + "layers = [\"dense(10)\"]\n", "train.layers", 7,
                "applies only to model = \"custom\""},
        BadCase{"CustomModelWithoutLayers", kHead + "model = \"custom\"\n", "train.layers", 7,
                "model = \"custom\" needs its layers"},
        BadCase{"BadLayerText", kHead + "model = \"custom\"\nlayers = [\"relu\", \"conv(3, size=2)\"]\n",
                "train.layers", 8, "entry 1: layer \"conv(3, size=2)\": conv has no option \"size\""},
        BadCase{"ThreadsAboveTheCap", kHead + "threads = 1000000\n", "train.threads", 7,
                "must be <= 256, got 1000000; ranks, not threads, are how ternbench runs in parallel"},
        BadCase{"LayerUnitsAboveTheMaximum", kHead + "model = \"custom\"\nlayers = [\"dense(2000000000)\"]\n",
                "train.layers", 8, "units 2000000000 is above the maximum of 65536"},
        BadCase{"LayerKernelAboveTheMaximum",
                kHead + "model = \"custom\"\nlayers = [\"conv(8, kernel=65)\", \"flatten\", \"dense(10)\"]\n",
                "train.layers", 8, "entry 0: layer \"conv(8, kernel=65)\": kernel 65 is above the maximum of 64"},
        BadCase{"StackWidthIsNotTheClassCount",
                kHead + "model = \"custom\"\nlayers = [\"dense(64)\", \"relu\", \"dense(5)\"]\n", "train.layers", 8,
                "the stack does not fit mnist (1x28x28 images, 10 classes): layers[2] = dense(5): the last layer "
                "gives 5 outputs but the data set has 10 classes; end the stack with dense(10)"},
        BadCase{"StackInAGridNamesItsIndexAndLine",
                kHead + "model = \"custom\"\nlayers = [\n  [\"dense(10)\"],\n  [\"dense(32)\", \"dense(3)\"],\n]\n",
                "train.layers[1]", 10, "layers[1] = dense(3): the last layer gives 3 outputs"},
        BadCase{"StackOverTheParameterMaximum",
                kHead + "model = \"custom\"\nlayers = [\"dense(65536)\", \"dense(10)\"]\n", "train.layers", 8,
                "layers[0] = dense(65536): the model reaches 51445760 parameters here, more than the maximum of "
                "50000000"},
        BadCase{"StackOverTheActivationMaximum",
                kHead + "model = \"custom\"\nlayers = [\"conv(16384, kernel=1)\", \"gap\", \"dense(10)\"]\n",
                "train.layers", 8,
                "layers[0] = conv(16384, kernel=1, stride=1, padding=0): the layers up to here make 12845056 "
                "activation values per image, more than the maximum of 8000000"},
        BadCase{"StackCheckedOnEachDataset",  // a 30x30 kernel fits cifar10's 32x32 images, not MNIST's
                "[sweep]\nname = \"t\"\n[train]\ndataset = [\"cifar10\", \"fashion-mnist\"]\nmethod = \"fp\"\n"
                "model = \"custom\"\nlayers = [\"conv(4, kernel=30)\", \"flatten\", \"dense(10)\"]\n",
                "train.layers", 7, "does not fit fashion-mnist (1x28x28 images, 10 classes): layers[0]"},
        BadCase{"StackInABlockNamesTheBlock",
                kHead + "[[train.block]]\nseed = 2\n[[train.block]]\nmodel = \"custom\"\nlayers = [\"dense(7)\"]\n",
                "train.block[1].layers", 11, "layers[0] = dense(7): the last layer gives 7 outputs"},
        BadCase{"UnknownOptimizer", kHead + "optimizer = \"adamw\"\n", "train.optimizer", 7,
                "unknown optimizer \"adamw\"; did you mean \"adam\"?"},
        // Zips and blocks.
        BadCase{"ZipLengthsDiffer", kHead + "[train.zip]\nlr = [0.1, 0.05, 0.01]\nweight_decay = [0, 1e-4]\n",
                "train.zip.weight_decay", 9,
                "has 2 values but lr (line 8) has 3; every list of a zip must have the same length"},
        BadCase{"ZipKeyAlsoInTrain", kHead + "lr = 0.1\n[train.zip]\nlr = [0.1, 0.05]\nepochs = [1, 2]\n",
                "train.zip.lr", 9, "also set in train (line 7); give each key once"},
        BadCase{"TrainKeyAfterZip", "[sweep]\nname = \"t\"\n[train.zip]\nlr = [0.1, 0.05]\n"
                "[train]\ndataset = \"mnist\"\nmethod = \"fp\"\nlr = 0.1\n",
                "train.lr", 8, "also set in train.zip (line 4)"},
        BadCase{"KeyInTwoZips", kHead + "[[train.zip]]\nlr = [0.1, 0.05]\n[[train.zip]]\nlr = [0.2, 0.3]\n",
                "train.zip[1].lr", 10, "also set in train.zip[0] (line 8)"},
        BadCase{"ZipValueNotAList", kHead + "[train.zip]\nlr = 0.1\n", "train.zip.lr", 8,
                "a zip takes a list of values per key, got float; write lr = [...] or move the key out of the zip"},
        BadCase{"ZipEmptyList", kHead + "[train.zip]\nlr = []\n", "train.zip.lr", 8, "empty list"},
        BadCase{"ZipEmpty", kHead + "[train.zip]\n", "train.zip", 7, "empty zip"},
        BadCase{"ZipUnknownKey", kHead + "[train.zip]\nlr = [0.1]\nwd = [0.0]\n", "train.zip.wd", 9,
                "unknown key"},
        BadCase{"ZipFlatListForListKey", kHead + "[train.zip]\nlr = [0.1, 0.2]\nlr_milestones = [15, 25]\n",
                "train.zip.lr_milestones", 9, "takes a list of lists, one per run"},
        BadCase{"ZipBadValueNamesItsIndex", kHead + "[train.zip]\nlr = [0.1, -0.2]\nepochs = [1, 2]\n",
                "train.zip.lr[1]", 8, "must be > 0.0, got -0.2"},
        BadCase{"ZipNotATable", kHead + "zip = [1, 2]\n", "train.zip", 7,
                "expected a table [train.zip] or tables [[train.zip]], got list"},
        BadCase{"BlockNotATable", kHead + "block = 1\n", "train.block", 7, "expected [[train.block]] tables"},
        BadCase{"BlockUnknownKey", kHead + "[[train.block]]\nsed = 1\n", "train.block[0].sed", 8,
                "unknown key; did you mean \"seed\"?"},
        BadCase{"BlockBadValue", kHead + "[[train.block]]\n[[train.block]]\nepochs = 0\n", "train.block[1].epochs",
                9, "must be >= 1, got 0"},
        BadCase{"BlockMissingMethod", "[sweep]\nname = \"t\"\n[train]\ndataset = \"mnist\"\n"
                "[[train.block]]\nmethod = \"fp\"\n[[train.block]]\nseed = 2\n",
                "train.block[1].method", 7, "missing required key; add method = \"fp\""},
        BadCase{"BlockChangesAZippedKey", kHead + "[train.zip]\nlr = [0.1, 0.05]\n[[train.block]]\nlr = 0.3\n",
                "train.block[0].lr", 10, "a block cannot change a key zipped in [train]"},
        BadCase{"BlockMethodOnlyKeyWithoutItsMethod",
                kHead + "[[train.block]]\nmethod = \"twn\"\ndelta_factor = 0.5\n[[train.block]]\ndelta_factor = 0.6\n",
                "train.block[1].delta_factor", 11, "applies only to method twn, but method is fp"},
        BadCase{"BlockAtTopLevel", kHead + "[[block]]\nseed = 1\n", "block", 7,
                "blocks are written [[train.block]]"},
        BadCase{"BlocksDoNotNest", kHead + "[[train.block]]\n[[train.block.block]]\nseed = 1\n",
                "train.block[0].block", 8, "unknown key"}),
    [](const ::testing::TestParamInfo<BadCase>& p) { return std::string(p.param.name); });
