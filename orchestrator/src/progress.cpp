#include "ternbench/orchestrator/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "ternbench/base/error.hpp"
#include "ternbench/base/log.hpp"

namespace ternbench::orchestrator {

std::string format_duration(double seconds) {
  char buf[64];
  if (seconds < 120) std::snprintf(buf, sizeof buf, "%.0f s", seconds);
  else if (seconds < 7200) std::snprintf(buf, sizeof buf, "%.0f min", seconds / 60);
  else std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
  return buf;
}

std::string plural(long long n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string format_progress(const ProgressCounts& c) {
  // A live line must fit a terminal: the epochs of the first few running runs only.
  constexpr std::size_t kEpochsShown = 4;
  std::string out = std::to_string(c.done) + "/" + std::to_string(c.total) + " done, " +
                    std::to_string(c.running) + " running";
  if (!c.running_epochs.empty()) {
    out += " (epoch ";
    for (std::size_t i = 0; i < c.running_epochs.size() && i < kEpochsShown; ++i) {
      if (i > 0) out += ", ";
      out += std::to_string(c.running_epochs[i].epoch) + "/" + std::to_string(c.running_epochs[i].epochs);
    }
    if (c.running_epochs.size() > kEpochsShown) out += ", ...";
    out += ")";
  }
  out += ", " + std::to_string(c.failed) + " failed";
  if (c.show_elapsed) out += ", " + format_duration(c.elapsed_seconds) + " elapsed";
  const int finished = c.done + c.failed;
  char buf[64];
  if (finished > 0 && c.elapsed_seconds > 0) {
    std::snprintf(buf, sizeof buf, ", %.1f runs/h", finished / c.elapsed_seconds * 3600.0);
    out += buf;
  }
  const double remaining = c.total - finished;
  if (remaining > 0 && c.progressing) {
    if (c.eta_seconds >= 0) {
      out += ", ETA " + format_duration(c.eta_seconds);
    } else if (finished > 0 && c.elapsed_seconds > 0) {
      out += ", ETA " + format_duration(remaining / finished * c.elapsed_seconds);
    }
  }
  return out;
}

double eta_from_costs(const std::vector<RunCost>& runs, int workers) {
  double expected_left = 0, expected_done = 0, spent = 0;
  for (const RunCost& r : runs) {
    expected_left += r.expected * (1 - r.done_fraction);
    if (r.done_fraction > 0) {
      expected_done += r.expected * r.done_fraction;
      spent += r.spent;
    }
  }
  if (expected_left + expected_done <= 0) return -1;
  const double scale = expected_done > 0 && spent > 0 ? spent / expected_done : 1.0;
  return expected_left * scale / std::max(1, workers);
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
  c_.show_elapsed = true;
  if (live_) set_log_writer([this](const std::string& line) { message(stderr, line); });
  // The live line is redrawn every second so that its elapsed time and ETA move.
  if (interval_ > 0) timer_ = std::thread([this] { timer_loop(); });
}

Progress::~Progress() {
  if (live_) set_log_writer({});
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (live_) std::fputs("\r\033[K", out_);
  }
  cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  std::fflush(out_);
}

void Progress::expect(std::map<std::string, double> wall_seconds, int workers) {
  std::lock_guard<std::mutex> lock(mu_);
  expected_ = std::move(wall_seconds);
  waiting_seconds_ = 0;
  for (const auto& [key, seconds] : expected_) waiting_seconds_ += seconds;
  workers_ = std::max(1, workers);
}

ProgressCounts Progress::counts_locked() const {
  ProgressCounts c = c_;
  const auto now = std::chrono::steady_clock::now();
  c.elapsed_seconds = std::chrono::duration<double>(now - t0_).count();
  std::vector<RunCost> costs = {finished_, {std::max(0.0, waiting_seconds_), 0, 0}};
  for (const auto& [key, run] : running_) {
    c.running_epochs.push_back(run.epochs);
    const auto it = expected_.find(key);
    if (it == expected_.end()) continue;
    const double fraction = run.epochs.epochs > 0 ? static_cast<double>(run.epochs.epoch) / run.epochs.epochs : 0;
    costs.push_back({it->second, fraction, std::chrono::duration<double>(now - run.since).count()});
  }
  if (!expected_.empty()) c.eta_seconds = eta_from_costs(costs, workers_);
  return c;
}

void Progress::redraw_locked() {
  if (!live_) return;
  std::fprintf(out_, "\r\033[K[%s]", format_progress(counts_locked()).c_str());
  std::fflush(out_);
}

void Progress::started(const std::string& run_key, int epochs) {
  std::lock_guard<std::mutex> lock(mu_);
  ++c_.running;
  if (const auto it = expected_.find(run_key); it != expected_.end()) waiting_seconds_ -= it->second;
  running_.push_back({run_key, {std::chrono::steady_clock::now(), {0, std::max(1, epochs)}}});
  redraw_locked();
}

void Progress::epoch(const std::string& run_key) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, run] : running_) {
    // A resumed run replays the epochs of its checkpoint: they count once.
    if (key == run_key) run.epochs.epoch = std::min(run.epochs.epoch + 1, run.epochs.epochs);
  }
  redraw_locked();
}

void Progress::finished(const std::string& run_key, bool ok, const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  --c_.running;
  ++(ok ? c_.done : c_.failed);
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if (it->first != run_key) continue;
    const auto e = expected_.find(run_key);
    if (e != expected_.end()) {
      const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.since).count();
      finished_.expected += e->second;
      finished_.spent += spent;
      expected_.erase(e);
    }
    running_.erase(it);
    break;
  }
  if (live_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "%s\n", line.c_str());
  redraw_locked();
  std::fflush(out_);
}

void Progress::message(std::FILE* stream, const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (live_) {
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
  }
  std::fprintf(stream, "%s\n", line.c_str());
  std::fflush(stream);
  redraw_locked();
}

void Progress::timer_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto period = std::chrono::duration<double>(live_ ? 1.0 : interval_);
  while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
    if (live_) {
      redraw_locked();
    } else {
      std::fprintf(out_, "progress: %s\n", format_progress(counts_locked()).c_str());
      std::fflush(out_);
    }
  }
}

}  // namespace ternbench::orchestrator
