// Sweep files are written by hand: whatever the text, parse_sweep returns runs or throws a
// ConfigError naming the file. Any other exception, a crash, a leak or UB is a finding, and
// so is a run whose canonical TOML (what a worker receives) gives back another run key.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/experiments/sweep.hpp"

namespace {
namespace ex = ternbench::experiments;
constexpr const char* kFile = "fuzz.toml";
// Enough to cover every method and block of a small file; a large grid repeats itself.
constexpr std::size_t kRoundTrips = 8;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ex::Sweep sweep;
  try {
    sweep = ex::parse_sweep(text, kFile);
  } catch (const ternbench::ConfigError& e) {
    ternbench::fuzz::expect_names_file(e.what(), kFile);
    return 0;
  }
  for (std::size_t i = 0; i < sweep.runs.size() && i < kRoundTrips; ++i) {
    const ex::RunSpec& run = sweep.runs[i];
    try {
      if (ex::parse_run(run.canonical_toml).run_key != run.run_key)
        ternbench::fuzz::finding("parse_run(canonical_toml) gives another run key", run.canonical_toml);
    } catch (const ternbench::Error& e) {
      ternbench::fuzz::finding(std::string("parse_run refuses the canonical TOML of an accepted run: ") + e.what(),
                               run.canonical_toml);
    }
  }
  return 0;
}
