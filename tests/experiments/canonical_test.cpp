#include <gtest/gtest.h>

#include <algorithm>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"
#include "ternbench/experiments/params.hpp"
#include "ternbench/experiments/sweep.hpp"

namespace tb = ternbench;
namespace ex = ternbench::experiments;

namespace {

tb::core::TrainConfig twn_config() {
  tb::core::TrainConfig c;
  c.dataset = "fashion-mnist";
  c.method = "twn";
  c.seed = 123456789;
  c.epochs = 3;
  c.batch_size = 50;
  c.lr = 0.01;
  c.momentum = 0.0;
  c.weight_decay = 1e-4;
  c.threads = 2;
  c.quantize_first = false;
  c.quantize_last = true;
  c.delta_factor = 0.65;
  c.train_limit = 1000;
  c.test_limit = 500;
  return c;
}

std::uint64_t bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

}  // namespace

TEST(Canonical, WritesEveryApplicableDefaultSortedByKey) {
  const ex::RunSpec r = ex::make_run(tb::core::TrainConfig{});
  EXPECT_EQ(r.canonical_toml,
            "[train]\n"
            "adam_beta1 = 0.9\n"
            "adam_beta2 = 0.999\n"
            "adam_eps = 1e-08\n"
            "augment = false\n"
            "batch_size = 64\n"
            "crop_padding = 4\n"
            "dataset = \"mnist\"\n"
            "epochs = 10\n"
            "layers = []\n"
            "lr = 0.05\n"
            "lr_gamma = 0.1\n"
            "lr_milestones = []\n"
            "lr_min = 0.0\n"
            "lr_schedule = \"constant\"\n"
            "method = \"fp\"\n"
            "model = \"mlp\"\n"
            "momentum = 0.9\n"
            "nesterov = false\n"
            "normalize = false\n"
            "optimizer = \"sgd\"\n"
            "seed = 1\n"
            "test_limit = 0\n"
            "threads = 1\n"
            "train_limit = 0\n"
            "warmup_epochs = 0.0\n"
            "weight_decay = 0.0\n");
}

TEST(Canonical, TwnRunsAlsoCarryTheirOwnKeys) {
  tb::core::TrainConfig c;
  c.method = "twn";
  const std::string t = ex::make_run(c).canonical_toml;
  EXPECT_NE(t.find("delta_factor = 0.7\n"), std::string::npos) << t;
  EXPECT_NE(t.find("quantize_first = true\n"), std::string::npos) << t;
  EXPECT_NE(t.find("quantize_last = false\n"), std::string::npos) << t;
  EXPECT_LT(t.find("delta_factor"), t.find("epochs"));
}

TEST(Canonical, RunKeyIsTheFirst16HexDigitsOfSha256) {
  const ex::RunSpec r = ex::make_run(twn_config());
  EXPECT_EQ(r.run_key, tb::sha256_hex(r.canonical_toml).substr(0, 16));
  EXPECT_EQ(r.run_key.size(), 16u);
}

TEST(Canonical, DoublesAreShortestAndStayFloats) {
  tb::core::TrainConfig c;
  c.lr = 1.0;
  EXPECT_NE(ex::make_run(c).canonical_toml.find("lr = 1.0\n"), std::string::npos);
  c.lr = 1e-5;
  EXPECT_NE(ex::make_run(c).canonical_toml.find("lr = 1e-05\n"), std::string::npos);
  c.lr = 1e22;
  EXPECT_NE(ex::make_run(c).canonical_toml.find("lr = 1e+22\n"), std::string::npos);
  c.lr = 0.1 + 0.2;
  const ex::RunSpec r = ex::make_run(c);
  EXPECT_NE(r.canonical_toml.find("lr = 0.30000000000000004\n"), std::string::npos);
  EXPECT_EQ(bits(ex::parse_run(r.canonical_toml).train.lr), bits(0.1 + 0.2));
}

TEST(Canonical, NegativeZeroIsTheSameRunAsZero) {
  tb::core::TrainConfig a, b;
  a.weight_decay = 0.0;
  b.weight_decay = -0.0;
  EXPECT_EQ(ex::make_run(a).run_key, ex::make_run(b).run_key);
}

TEST(Canonical, RoundTripsThroughParseRun) {
  tb::core::TrainConfig fp;
  fp.seed = std::numeric_limits<std::int64_t>::max();  // the largest seed TOML can hold
  fp.lr = 0.123456789012345;
  for (const tb::core::TrainConfig& c : {tb::core::TrainConfig{}, twn_config(), fp}) {
    const ex::RunSpec r = ex::make_run(c);
    const ex::RunSpec back = ex::parse_run(r.canonical_toml);
    EXPECT_EQ(back.canonical_toml, r.canonical_toml);
    EXPECT_EQ(back.run_key, r.run_key);
    EXPECT_EQ(back.train.seed, c.seed);
    EXPECT_EQ(bits(back.train.lr), bits(c.lr));
  }
  const ex::RunSpec twn = ex::parse_run(ex::make_run(twn_config()).canonical_toml);
  EXPECT_EQ(twn.train.dataset, "fashion-mnist");
  EXPECT_EQ(twn.train.delta_factor, 0.65);
  EXPECT_FALSE(twn.train.quantize_first);
  EXPECT_TRUE(twn.train.quantize_last);
  EXPECT_EQ(twn.train.weight_decay, 1e-4);
  EXPECT_EQ(twn.train.train_limit, 1000);
  EXPECT_EQ(twn.train.test_limit, 500);
  EXPECT_EQ(twn.train.threads, 2);
}

TEST(Canonical, ParseRunFillsDefaultsAndAcceptsAnyKeyOrder) {
  const ex::RunSpec r = ex::parse_run("[train]\nmethod = \"fp\"\ndataset = \"mnist\"\n");
  EXPECT_EQ(r.canonical_toml, ex::make_run(tb::core::TrainConfig{}).canonical_toml);
}

TEST(Canonical, KeysTheMethodIgnoresDoNotChangeTheRun) {
  tb::core::TrainConfig c;
  c.delta_factor = 0.3;
  c.quantize_last = true;
  const ex::RunSpec r = ex::make_run(c);
  EXPECT_EQ(r.run_key, ex::make_run(tb::core::TrainConfig{}).run_key);
  EXPECT_EQ(r.train.delta_factor, 0.7);  // reset to the default, so train matches the text
  EXPECT_FALSE(r.train.quantize_last);
}

TEST(Canonical, MakeRunRejectsWhatASweepFileWould) {
  auto key_path_of = [](const tb::core::TrainConfig& c) -> std::string {
    try {
      ex::make_run(c);
    } catch (const tb::ConfigError& e) {
      return e.key_path();
    }
    return "(accepted)";
  };
  tb::core::TrainConfig c;
  c.lr = -1;
  EXPECT_EQ(key_path_of(c), "train.lr");
  c = {};
  c.method = "xnor";
  EXPECT_EQ(key_path_of(c), "train.method");
  c = {};
  c.seed = std::numeric_limits<std::uint64_t>::max();  // TOML integers are signed 64-bit
  EXPECT_EQ(key_path_of(c), "train.seed");
  c = {};
  c.method = "twn";
  c.delta_factor = 0.0;
  EXPECT_EQ(key_path_of(c), "train.delta_factor");
}

TEST(Canonical, ParseRunRefusesListsAndOtherTables) {
  auto key_path_of = [](const std::string& text) -> std::string {
    try {
      ex::parse_run(text);
    } catch (const tb::ConfigError& e) {
      EXPECT_EQ(e.file(), "<run>");
      return e.key_path();
    }
    return "(accepted)";
  };
  EXPECT_EQ(key_path_of("[train]\ndataset = \"mnist\"\nmethod = \"fp\"\nseed = [1, 2]\n"), "train.seed");
  EXPECT_EQ(key_path_of("[sweep]\nname = \"x\"\n[train]\ndataset = \"mnist\"\nmethod = \"fp\"\n"), "sweep");
  EXPECT_EQ(key_path_of("[train]\ndataset = \"mnist\"\nmethod = \"fp\"\ndelta_factor = 0.5\n"),
            "train.delta_factor");
  EXPECT_EQ(key_path_of("dataset = \"mnist\"\n"), "dataset");
  EXPECT_EQ(key_path_of(""), "train");
}

TEST(Canonical, StringsInMessagesAreTomlEscaped) {
  try {
    ex::parse_run("[train]\ndataset = \"mn\\tist\\\"\"\nmethod = \"fp\"\n");
    FAIL();
  } catch (const tb::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown dataset \"mn\\tist\\\"\""), std::string::npos) << e.what();
  }
}

TEST(Params, TableDefaultsAreWhatTheCanonicalFormWrites) {
  for (const ex::ParamInfo& p : ex::train_params()) {
    SCOPED_TRACE(p.name);
    tb::core::TrainConfig c;
    c.method = p.methods.empty() ? "twn" : p.methods.front();  // a method the key applies to
    const std::string t = ex::make_run(c).canonical_toml;
    EXPECT_FALSE(p.check.empty());
    EXPECT_FALSE(p.description.empty());
    if (p.required) {
      EXPECT_TRUE(p.default_text.empty());
      EXPECT_NE(t.find("\n" + p.name + " = "), std::string::npos);
    } else if (p.omitted_at_default) {
      // Keys added after runs were stored: written only when set, so those runs keep their keys.
      const std::vector<std::string> late = {"init_from", "sca_theta_lr_scale", "sca_lambda_final", "fp_init_std"};
      EXPECT_NE(std::find(late.begin(), late.end(), p.name), late.end());
      EXPECT_EQ(t.find("\n" + p.name + " = "), std::string::npos) << t;
    } else {
      EXPECT_NE(t.find("\n" + p.name + " = " + p.default_text + "\n"), std::string::npos) << t;
    }
  }
}

TEST(Params, ALateKeyAwayFromItsDefaultIsWrittenAndMakesAnotherRun) {
  tb::core::TrainConfig c;
  c.method = "sca";
  const ex::RunSpec base = ex::make_run(c);
  c.sca_theta_lr_scale = 10;
  const ex::RunSpec scaled = ex::make_run(c);
  EXPECT_NE(scaled.canonical_toml.find("\nsca_theta_lr_scale = 10.0\n"), std::string::npos) << scaled.canonical_toml;
  EXPECT_NE(scaled.run_key, base.run_key);
  c.sca_theta_lr_scale = 1;  // the default again: the first run's key
  EXPECT_EQ(ex::make_run(c).run_key, base.run_key);
}

// The stored text (runs.config_json) has every key of the method: the canonical text plus the
// keys it leaves out at their default, in the same order and spelling. The canonical text and
// so the run key do not change; init_from, whose default "" means no warm start, stays out.
TEST(Canonical, StoredTextAddsTheKeysTheCanonicalTextLeavesOutAtTheirDefault) {
  auto without = [](std::string text, const std::vector<std::string>& lines) {
    for (const std::string& line : lines) {
      const std::size_t at = text.find(line);
      EXPECT_NE(at, std::string::npos) << line << " in\n" << text;
      if (at != std::string::npos) text.erase(at, line.size());
    }
    return text;
  };
  tb::core::TrainConfig fp;
  const ex::RunSpec f = ex::make_run(fp);
  EXPECT_EQ(without(f.stored_toml, {"fp_init_std = 0.0\n"}), f.canonical_toml);
  EXPECT_LT(f.stored_toml.find("epochs = "), f.stored_toml.find("fp_init_std = "));  // sorted
  EXPECT_LT(f.stored_toml.find("fp_init_std = "), f.stored_toml.find("layers = "));
  EXPECT_EQ(f.canonical_toml.find("fp_init_std"), std::string::npos);
  EXPECT_EQ(f.stored_toml.find("init_from"), std::string::npos);
  EXPECT_EQ(f.run_key, tb::sha256_hex(f.canonical_toml).substr(0, 16));

  tb::core::TrainConfig sca;
  sca.method = "sca";
  const ex::RunSpec s = ex::make_run(sca);
  EXPECT_EQ(without(s.stored_toml, {"sca_lambda_final = 0.0\n", "sca_theta_lr_scale = 1.0\n"}), s.canonical_toml);
  EXPECT_EQ(s.canonical_toml.find("sca_lambda_final"), std::string::npos);
  EXPECT_EQ(s.canonical_toml.find("sca_theta_lr_scale"), std::string::npos);
  EXPECT_EQ(s.run_key, tb::sha256_hex(s.canonical_toml).substr(0, 16));
  // A late key away from its default is in both; the other one only in the stored text.
  sca.sca_theta_lr_scale = 10;
  sca.init_from = "0123456789abcdef";
  const ex::RunSpec scaled = ex::make_run(sca);
  EXPECT_EQ(without(scaled.stored_toml, {"sca_lambda_final = 0.0\n"}), scaled.canonical_toml);
  EXPECT_NE(scaled.stored_toml.find("\ninit_from = \"0123456789abcdef\"\n"), std::string::npos);
  EXPECT_NE(scaled.stored_toml.find("\nsca_theta_lr_scale = 10.0\n"), std::string::npos);
  // Methods without late keys store their canonical text; workers rebuild the same text.
  EXPECT_EQ(ex::make_run(twn_config()).stored_toml, ex::make_run(twn_config()).canonical_toml);
  EXPECT_EQ(ex::parse_run(s.canonical_toml).stored_toml, s.stored_toml);
  EXPECT_EQ(ex::parse_run(scaled.canonical_toml).stored_toml, scaled.stored_toml);
}

TEST(Params, MethodOnlyKeysAndChoicesAreListed) {
  for (const ex::ParamInfo& p : ex::train_params()) {
    if (p.name == "delta_factor" || p.name == "twn_per_channel") {
      EXPECT_EQ(p.methods, (std::vector<std::string>{"twn"})) << p.name;
    } else if (p.name == "quantize_first" || p.name == "quantize_last") {
      EXPECT_TRUE(ex::applies_to(p, "twn")) << p.name;
      EXPECT_TRUE(ex::applies_to(p, "sca")) << p.name;
      EXPECT_FALSE(ex::applies_to(p, "fp")) << p.name;
    } else if (p.name.rfind("sca_", 0) == 0 || p.name.rfind("faraone_", 0) == 0 || p.name.rfind("bc_", 0) == 0 ||
               p.name.rfind("ttq_", 0) == 0) {
      // Each method's own keys apply to it alone.
      const std::string owner = p.name.rfind("bc_", 0) == 0 ? "binaryconnect" : p.name.substr(0, p.name.find('_'));
      EXPECT_EQ(p.methods, (std::vector<std::string>{owner})) << p.name;
    } else {
      EXPECT_TRUE(ex::applies_to(p, "fp")) << p.name;
    }
    if (p.name == "method") {
      EXPECT_EQ(p.choices, (std::vector<std::string>{"fp", "binaryconnect", "bwn", "twn", "ttq", "sca", "faraone"}));
    }
    if (p.name == "dataset") {
      EXPECT_EQ(p.choices, (std::vector<std::string>{"mnist", "mnist-10k", "fashion-mnist", "cifar10"}));
    }
  }
  EXPECT_EQ(ex::type_name(ex::ParamType::kFloat), "float");
}

TEST(Params, HelpListsEveryKey) {
  const std::string help = ex::params_help();
  for (const auto* table : {&ex::train_params(), &ex::sweep_params()})
    for (const ex::ParamInfo& p : *table) EXPECT_NE(help.find("  " + p.name + "  "), std::string::npos) << p.name;
}
