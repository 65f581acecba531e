#include "ternbench/base/log.hpp"

#include <cstdio>

namespace ternbench {
namespace {
int g_rank = -1;
void emit(const char* level, const std::string& msg) {
  if (g_rank >= 0)
    std::fprintf(stderr, "[rank %d] %s%s\n", g_rank, level, msg.c_str());
  else
    std::fprintf(stderr, "%s%s\n", level, msg.c_str());
}
}  // namespace
void set_log_rank(int rank) { g_rank = rank; }
void log_info(const std::string& msg) { emit("", msg); }
void log_warn(const std::string& msg) { emit("warning: ", msg); }
}  // namespace ternbench
