#pragma once
// Minimal logging to stderr with a rank prefix; the orchestrator sets the rank once.
#include <functional>
#include <string>

namespace ternbench {
// Writes one log line (without its newline) instead of stderr: the progress display uses
// it to print log lines above its live line rather than over it. Empty: stderr.
using LogWriter = std::function<void(const std::string& line)>;
void set_log_writer(LogWriter writer);
void set_log_rank(int rank);
void log_info(const std::string& msg);
void log_warn(const std::string& msg);
}  // namespace ternbench
