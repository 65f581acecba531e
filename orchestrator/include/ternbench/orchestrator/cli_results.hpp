#pragma once
// `ternbench query`, `ternbench export` and `ternbench merge`: the command-line side of the
// results DB's SQL contract (docs/schema.md). The work itself is in tb::storage.
#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace ternbench::orchestrator {

class ResultsCommands {
 public:
  // Adds the three subcommands to `app`; call before app.parse().
  explicit ResultsCommands(CLI::App& app);
  ~ResultsCommands();
  ResultsCommands(const ResultsCommands&) = delete;
  ResultsCommands& operator=(const ResultsCommands&) = delete;

  // After parsing: runs the subcommand that was given and returns its exit code (0 ok,
  // 1 storage failure, 2 bad input or bad SQL, 3 merge conflicts), or nullopt when the
  // command line named none of them. Prints its own errors.
  std::optional<int> run() const;

 private:
  struct Options;
  std::unique_ptr<Options> opt_;
};

}  // namespace ternbench::orchestrator
