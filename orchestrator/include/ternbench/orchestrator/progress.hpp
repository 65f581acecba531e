#pragma once
// Progress of a sweep as users see it: on a terminal a live line (done/total, running,
// failed, throughput, ETA) redrawn in place; otherwise (Slurm logs, mpirun) the same summary
// as one line every `interval` seconds. Thread-safe: the coordinator reports, a timer prints.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace ternbench::orchestrator {

struct ProgressCounts {
  int total = 0, done = 0, running = 0, failed = 0;
  double elapsed_seconds = 0;
  bool progressing = true;  // false: no process works on the sweep, so no ETA
};

// "3/10 done, 2 running, 1 failed, 42.0 runs/h, ETA 10 min"
std::string format_progress(const ProgressCounts& c);

enum class ProgressStyle {
  kLive,   // one line redrawn in place with \r and an erase-line escape
  kLines,  // a plain summary line every interval
};

// The live line only on a terminal and outside mpirun/srun: a launcher forwards output
// through a pty or pipe that usually ends in a log, where \r and escapes are noise.
// TERNBENCH_PROGRESS (env_value, may be null) overrides: "live" or "lines"; any other
// value is a ConfigError.
ProgressStyle progress_style(bool stdout_is_tty, bool under_launcher, const char* env_value);

// True when an MPI or Slurm launcher started this process, even with one rank.
bool started_by_launcher();

class Progress {
 public:
  // The style is progress_style() of out, the environment and TERNBENCH_PROGRESS.
  Progress(int total, std::FILE* out, double interval_seconds);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void started();
  // One finished run; `line` is printed above the live line (or alone when not a terminal).
  void finished(bool ok, const std::string& line);

 private:
  void redraw_locked();
  ProgressCounts counts_locked() const;
  void timer_loop();

  std::FILE* out_;
  bool live_;
  double interval_;
  std::chrono::steady_clock::time_point t0_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  ProgressCounts c_;
  std::thread timer_;
};

}  // namespace ternbench::orchestrator
