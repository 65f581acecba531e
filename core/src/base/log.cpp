#include "ternbench/base/log.hpp"

#include <cstdio>
#include <mutex>
#include <utility>

namespace ternbench {
namespace {
int g_rank = -1;
std::mutex g_writer_mu;
LogWriter g_writer;

void emit(const char* level, const std::string& msg) {
  std::string line = g_rank >= 0 ? "[rank " + std::to_string(g_rank) + "] " : std::string();
  line.append(level).append(msg);
  LogWriter writer;
  {
    std::lock_guard<std::mutex> lock(g_writer_mu);
    writer = g_writer;
  }
  if (writer) writer(line);
  else std::fprintf(stderr, "%s\n", line.c_str());
}
}  // namespace
void set_log_rank(int rank) { g_rank = rank; }
void set_log_writer(LogWriter writer) {
  std::lock_guard<std::mutex> lock(g_writer_mu);
  g_writer = std::move(writer);
}
void log_info(const std::string& msg) { emit("", msg); }
void log_warn(const std::string& msg) { emit("warning: ", msg); }
}  // namespace ternbench
