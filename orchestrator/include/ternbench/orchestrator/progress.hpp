#pragma once
// Progress of a sweep as users see it: on a terminal a live line (done/total, the epoch of
// each running run, failed, elapsed time, throughput, ETA) redrawn in place; otherwise (Slurm
// logs, mpirun) the same summary as one line every `interval` seconds. Thread-safe: the
// coordinator reports, a timer prints.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ternbench::orchestrator {

// Epochs of a running run: `epoch` finished of `epochs` planned (every stage counted).
struct RunEpochs {
  int epoch = 0, epochs = 0;
};

struct ProgressCounts {
  int total = 0, done = 0, running = 0, failed = 0;
  double elapsed_seconds = 0;
  bool progressing = true;  // false: no process works on the sweep, so no ETA
  // Known only to the job itself (empty, -1 and false in `ternbench status`):
  std::vector<RunEpochs> running_epochs;  // of each running run, in the order they started
  double eta_seconds = -1;                // from the cost model; -1: from the finished runs' rate
  bool show_elapsed = false;
};

// "3/10 done, 2 running (epoch 2/5, 4/5), 1 failed, 2 min elapsed, 42.0 runs/h, ETA 10 min"
std::string format_progress(const ProgressCounts& c);

// "42 s", "3 min", "1.5 h".
std::string format_duration(double seconds);

// "1 run", "2 runs", "0 runs": noun + "s" unless n is 1.
std::string plural(long long n, const std::string& noun);

// Wall-clock seconds left of a job, from the cost model (sweep_plan.hpp, cost_seconds):
// `expected` is each run's expected wall seconds, `done_fraction` how much of it is behind
// it (1 for finished runs, epoch/epochs for running ones, 0 for waiting ones) and
// `spent` the wall seconds it took so far. The expected times are scaled by spent over
// expected-and-done of the runs with progress (the model's assumed speed is rough), then the
// work left is spread over `workers`. -1 when nothing is expected.
struct RunCost {
  double expected = 0, done_fraction = 0, spent = 0;
};
double eta_from_costs(const std::vector<RunCost>& runs, int workers);

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

  // The expected wall seconds of each run that may start, by run key, and how many run at
  // once: the ETA then comes from the cost model, also before any run has finished.
  void expect(std::map<std::string, double> wall_seconds, int workers);

  // A run started that trains `epochs` epochs.
  void started(const std::string& run_key, int epochs);
  // One epoch of a running run finished.
  void epoch(const std::string& run_key);
  // One finished run; `line` is printed above the live line (or alone when not a terminal).
  void finished(const std::string& run_key, bool ok, const std::string& line);
  // Any other line for the user (warnings, log lines): above the live line, never over it.
  void message(std::FILE* stream, const std::string& line);

 private:
  struct Running {
    std::chrono::steady_clock::time_point since;
    RunEpochs epochs;
  };
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
  std::map<std::string, double> expected_;  // wall seconds by run key, of runs not finished
  // Kept as sums, so that a redraw (every epoch and second, on the coordinator's thread)
  // costs the running runs only, not the whole sweep.
  double waiting_seconds_ = 0;               // expected_ of the runs not started yet
  RunCost finished_{0, 1, 0};                // expected and spent seconds of the finished ones
  int workers_ = 1;
  std::vector<std::pair<std::string, Running>> running_;  // in start order
  std::thread timer_;
};

}  // namespace ternbench::orchestrator
