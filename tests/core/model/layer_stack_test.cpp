// model_layer_stack, the text every weights file stores (attribute layer_stack): one line per
// layer of the model make_model builds, with that layer's name, output size and parameter
// count; and docs/models.md shows each model's stack exactly as ternbench writes it.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/model/model.hpp"

namespace ternbench::core {
namespace {

struct Case {
  const char* model;
  int c, h, w;
};
// Every named model on MNIST-sized and CIFAR-10-sized images.
constexpr Case kCases[] = {{"mlp", 1, 28, 28},     {"lenet300", 1, 28, 28}, {"lenet5", 1, 28, 28},
                           {"vgg7", 1, 28, 28},    {"resnet20", 1, 28, 28}, {"mlp", 3, 32, 32},
                           {"lenet300", 3, 32, 32}, {"lenet5", 3, 32, 32},  {"vgg7", 3, 32, 32},
                           {"resnet20", 3, 32, 32}};

TrainConfig config(const std::string& model) {
  TrainConfig cfg;
  cfg.model = model;
  return cfg;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// "32x24x24" or "512" -> the number of values.
Eigen::Index size_of(const std::string& shape) {
  Eigen::Index n = 1;
  std::istringstream in(shape);
  for (std::string part; std::getline(in, part, 'x');) n *= std::stoll(part);
  return n;
}

TEST(LayerStack, EachLineIsALayerOfTheBuiltModelWithItsNameSizeAndParameters) {
  for (const Case& k : kCases) {
    SCOPED_TRACE(std::string(k.model) + " on " + std::to_string(k.c) + "x" + std::to_string(k.h));
    const TrainConfig cfg = config(k.model);
    const std::vector<std::string> lines = lines_of(model_layer_stack(cfg, k.c, k.h, k.w, 10));
    Rng rng(1);
    Model m = make_model(cfg, k.c, k.h, k.w, 10, rng);
    ASSERT_EQ(lines.size(), m.layers().size() + 3);  // the "# " line, input and total
    EXPECT_EQ(lines[0], std::string("# ternbench layer stack of model ") + k.model + " (docs/models.md)");
    EXPECT_EQ(lines[1], "input: " + std::to_string(k.c) + "x" + std::to_string(k.h) + "x" + std::to_string(k.w));
    for (std::size_t i = 0; i < m.layers().size(); ++i) {
      Layer& layer = *m.layers()[i];
      const std::string& line = lines[i + 2];
      EXPECT_EQ(line.substr(0, line.find(": ")), layer.name()) << line;
      const std::size_t arrow = line.find(" -> "), open = line.rfind(" (");
      ASSERT_NE(arrow, std::string::npos);
      EXPECT_EQ(size_of(line.substr(arrow + 4, open - arrow - 4)), layer.out_features()) << line;
      std::int64_t params = 0;
      for (const Param* p : layer.params()) params += p->value.size();
      EXPECT_EQ(line.substr(open), " (" + std::to_string(params) + " params)") << line;
    }
    EXPECT_EQ(lines.back(), "total: " + std::to_string(m.param_count()) + " params");
  }
}

TEST(LayerStack, CustomStacksAreWrittenInTheSweepFileSyntax) {
  TrainConfig cfg = config("custom");
  for (const char* l : {"conv(8, kernel=3, padding=1)", "relu", "maxpool(2)", "dropout(0.25)", "flatten", "dense(10)"})
    cfg.layers.push_back(parse_layer_spec(l));
  EXPECT_EQ(model_layer_stack(cfg, 1, 6, 6, 10),
            "# ternbench layer stack of model custom (docs/models.md)\n"
            "input: 1x6x6\n"
            "conv0: conv(8, kernel=3, stride=1, padding=1) -> 8x6x6 (80 params)\n"
            "relu0: relu -> 8x6x6 (0 params)\n"
            "pool0: maxpool(kernel=2, stride=2) -> 8x3x3 (0 params)\n"
            "dropout0: dropout(0.25) -> 8x3x3 (0 params)\n"
            "flatten0: flatten -> 72 (0 params)\n"
            "dense0: dense(10) -> 10 (730 params)\n"
            "total: 810 params\n");
}

// The stacks in docs/models.md are ternbench's own text, so the page cannot drift from the code.
TEST(LayerStack, DocsModelsShowsEveryModelsStackAsWritten) {
  std::ifstream in(std::string(TB_SOURCE_DIR) + "/docs/models.md");
  ASSERT_TRUE(in) << "docs/models.md";
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const Case& k : kCases) {
    const std::string stack = model_layer_stack(config(k.model), k.c, k.h, k.w, 10);
    EXPECT_NE(doc.find("```\n" + stack + "```\n"), std::string::npos) << "docs/models.md lacks:\n" << stack;
  }
  // The table of parameter counts: "| `mlp` | ... | 545,810 | 1,689,810 |".
  for (const char* model : {"mlp", "lenet300", "lenet5", "vgg7", "resnet20"}) {
    std::string counts;
    for (const Case& k : kCases) {
      if (std::string(k.model) != model) continue;
      Rng rng(1);
      const std::string n = std::to_string(make_model(config(model), k.c, k.h, k.w, 10, rng).param_count());
      counts += " ";
      for (std::size_t i = 0; i < n.size(); ++i) {
        if (i > 0 && (n.size() - i) % 3 == 0) counts += ',';
        counts += n[i];
      }
      counts += " |";
    }
    const std::size_t row = doc.find(std::string("\n| `") + model + "` |");
    ASSERT_NE(row, std::string::npos) << model;
    const std::string line = doc.substr(row + 1, doc.find('\n', row + 1) - row - 1);
    EXPECT_TRUE(line.ends_with(counts)) << line << " should end with" << counts;
  }
}

}  // namespace
}  // namespace ternbench::core
