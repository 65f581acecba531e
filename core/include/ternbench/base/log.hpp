#pragma once
// Minimal logging to stderr with a rank prefix; the orchestrator sets the rank once.
#include <string>

namespace ternbench {
void set_log_rank(int rank);
void log_info(const std::string& msg);
void log_warn(const std::string& msg);
}  // namespace ternbench
