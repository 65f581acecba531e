#include "ternbench/orchestrator/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "ternbench/base/error.hpp"

namespace ternbench::orchestrator {

std::string format_progress(const ProgressCounts& c) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "%d/%d done, %d running, %d failed", c.done, c.total, c.running, c.failed);
  const int finished = c.done + c.failed;
  if (finished > 0 && c.elapsed_seconds > 0) {
    const double per_hour = finished / c.elapsed_seconds * 3600.0;
    const double remaining = c.total - finished;
    const double eta = remaining / finished * c.elapsed_seconds;
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ", %.1f runs/h", per_hour);
    if (remaining > 0 && c.progressing) {
      if (eta < 120)
        std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ", ETA %.0f s", eta);
      else if (eta < 7200)
        std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ", ETA %.0f min", eta / 60);
      else
        std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ", ETA %.1f h", eta / 3600);
    }
  }
  return buf;
}

ProgressStyle progress_style(bool stdout_is_tty, bool under_launcher, const char* env_value) {
  if (env_value != nullptr && *env_value != '\0') {
    if (std::strcmp(env_value, "live") == 0) return ProgressStyle::kLive;
    if (std::strcmp(env_value, "lines") == 0) return ProgressStyle::kLines;
    throw ConfigError("environment", "TERNBENCH_PROGRESS", 0,
                      "unknown value \"" + std::string(env_value) + "\"; use live or lines, or unset it");
  }
  return stdout_is_tty && !under_launcher ? ProgressStyle::kLive : ProgressStyle::kLines;
}

bool started_by_launcher() {
  // Open MPI (mpirun), PMIx and PMI (MPICH, Intel MPI, srun --mpi) set these in every rank;
  // srun sets SLURM_STEP_ID in every task it starts.
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "SLURM_STEP_ID"})
    if (std::getenv(var) != nullptr) return true;
  return false;
}

Progress::Progress(int total, std::FILE* out, double interval_seconds)
    : out_(out),
      live_(progress_style(isatty(fileno(out)) != 0, started_by_launcher(), std::getenv("TERNBENCH_PROGRESS")) ==
            ProgressStyle::kLive),
      interval_(interval_seconds),
      t0_(std::chrono::steady_clock::now()) {
  c_.total = total;
  if (!live_ && interval_ > 0) timer_ = std::thread([this] { timer_loop(); });
}

Progress::~Progress() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (live_) std::fputs("\r\033[K", out_);
  }
  cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  std::fflush(out_);
}

ProgressCounts Progress::counts_locked() const {
  ProgressCounts c = c_;
  c.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  return c;
}

void Progress::redraw_locked() {
  if (!live_) return;
  std::fprintf(out_, "\r\033[K[%s]", format_progress(counts_locked()).c_str());
  std::fflush(out_);
}

void Progress::started() {
  std::lock_guard<std::mutex> lock(mu_);
  ++c_.running;
  redraw_locked();
}

void Progress::finished(bool ok, const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  --c_.running;
  ++(ok ? c_.done : c_.failed);
  if (live_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "%s\n", line.c_str());
  redraw_locked();
  std::fflush(out_);
}

void Progress::timer_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto period = std::chrono::duration<double>(interval_);
  while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
    std::fprintf(out_, "progress: %s\n", format_progress(counts_locked()).c_str());
    std::fflush(out_);
  }
}

}  // namespace ternbench::orchestrator
