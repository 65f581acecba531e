#include "writer_lease.hpp"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "ternbench/base/error.hpp"

namespace ternbench::storage {

std::string WriterInfo::describe() const {
  std::string out = "`" + command + "` (pid " + std::to_string(pid) + " on host " + host + " since " + since;
  out += ", last heartbeat " + std::to_string(heartbeat_age) + " s ago)";
  return out;
}

namespace lease {
namespace {

constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

std::string first_line(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

// A PID names a process only within one boot of one kernel and one PID namespace (two
// containers on a host may share a host name, never both of these).
const std::string& this_machine() {
  static const std::string id = [] {
    const std::string boot = first_line("/proc/sys/kernel/random/boot_id");
    char ns[128] = {};
    const ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    if (boot.empty() || n <= 0) return std::string();  // no /proc: judge by the heartbeat
    return boot + " " + std::string(ns, static_cast<std::size_t>(n));
  }();
  return id;
}

// The start time of a live process in clock ticks after boot (field 22 of /proc/<pid>/stat),
// which tells a holder from a later process that reuses its PID; -1 when no such process runs
// (a zombie has ended: only its exit status waits for its parent).
std::int64_t process_start(std::int64_t pid) {
  const std::string stat = first_line("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t paren = stat.rfind(')');  // the command name may hold spaces and ')'
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {  // fields after the name, from the state (3) on
    if (!(fields >> field)) return -1;
    if (i == 3 && (field == "Z" || field == "X")) return -1;
  }
  return std::stoll(field);
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::int64_t env_int(const char* name) {
  const std::string v = env(name);
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  return v.empty() || *end != '\0' ? 0 : n;
}

std::string new_token() {
  std::random_device rd;
  std::ostringstream out;
  out << std::hex << rd() << rd() << rd() << rd();
  return out.str();
}

// Sets info.alive and info.gone_because from the row's identity of the holder.
void judge(WriterInfo& info, const std::string& machine, std::int64_t start, const std::string& slurm_job,
           std::int64_t slurm_restart) {
  if (!machine.empty() && machine == this_machine()) {
    info.alive = start >= 0 ? process_start(info.pid) == start
                            : kill(static_cast<pid_t>(info.pid), 0) == 0 || errno == EPERM;
    if (!info.alive) info.gone_because = "process " + std::to_string(info.pid) + " is gone";
    return;
  }
  // Slurm starts a requeued job only after every process of its previous start has ended.
  if (!slurm_job.empty() && slurm_job == env("SLURM_JOB_ID") && slurm_restart < env_int("SLURM_RESTART_COUNT")) {
    info.gone_because = "its Slurm job " + slurm_job + " has been requeued since";
    return;
  }
  info.alive = info.heartbeat_age <= MetricsDb::kLeaseExpirySeconds;
  if (!info.alive) info.gone_because = "no heartbeat for " + std::to_string(info.heartbeat_age) + " s";
}

}  // namespace

std::optional<WriterInfo> read(sqlite3* db, const std::string& path) {
  sqlite::Statement st(db, path,
                       "SELECT command, pid, host, since, heartbeat_at, "
                       "CAST(strftime('%s', 'now') AS INTEGER) - CAST(strftime('%s', heartbeat_at) AS INTEGER), "
                       "machine, coalesce(process_start, -1), slurm_job_id, coalesce(slurm_restart_count, 0) "
                       "FROM writer WHERE id = 1");
  if (!st.step()) return std::nullopt;
  WriterInfo info;
  info.command = st.text(0);
  info.pid = st.integer(1);
  info.host = st.text(2);
  info.since = st.text(3);
  info.heartbeat_at = st.text(4);
  info.heartbeat_age = st.integer(5);
  judge(info, st.text(6), st.integer(7), st.text(8), st.integer(9));
  return info;
}

std::string take(sqlite3* db, const std::string& path, const std::string& command,
                 std::optional<WriterInfo>* replaced) {
  std::optional<WriterInfo> holder = read(db, path);
  if (holder && holder->alive) {
    throw ConfigError(path, "", 0,
                      "in use by " + holder->describe() + ", the one process that may write it; wait for it to "
                      "finish or stop it (kill " + std::to_string(holder->pid) + " on " + holder->host +
                      "), or give this run another DB with --db");
  }
  *replaced = std::move(holder);
  std::string token = new_token();
  sqlite::Statement st(db, path,
                       std::string("INSERT OR REPLACE INTO writer(id, token, command, pid, host, machine, "
                                   "process_start, slurm_job_id, slurm_restart_count, since, heartbeat_at) "
                                   "VALUES(1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ") +
                           kNow + ", " + kNow + ")");
  const auto pid = static_cast<std::int64_t>(getpid());
  st.bind(1, token);
  st.bind(2, command);
  st.bind(3, pid);
  st.bind(4, host_name());
  st.bind_text_or_null(5, this_machine());
  const std::int64_t start = process_start(pid);
  st.bind(6, start >= 0 ? std::optional<std::int64_t>(start) : std::nullopt);
  st.bind_text_or_null(7, env("SLURM_JOB_ID"));
  st.bind(8, env_int("SLURM_RESTART_COUNT"));
  st.run();
  return token;
}

void check_held(sqlite3* db, sqlite::StatementCache& stmts, const std::string& path, const std::string& token) {
  {
    sqlite::Statement st(stmts, "SELECT token FROM writer WHERE id = 1");
    if (st.step() && st.text(0) == token) return;
  }
  const std::optional<WriterInfo> holder = read(db, path);
  throw StorageError(path + ": this process no longer holds the DB's writer lease (" +
                     (holder ? "it is now " + holder->describe() : std::string("it was released")) +
                     ", after this process's heartbeat stalled); stopping without writing");
}

void release(sqlite3* db, const std::string& token) noexcept {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "DELETE FROM writer WHERE token = ?1", -1, &st, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, token.c_str(), static_cast<int>(token.size()), SQLITE_TRANSIENT);
    sqlite3_step(st);  // a failure leaves a row whose process is gone: the next writer replaces it
  }
  sqlite3_finalize(st);
}

Heartbeat::Heartbeat(const std::string& path, std::string token, int seconds)
    : token_(std::move(token)), seconds_(seconds) {
  db_ = sqlite::open(path, path, SQLITE_OPEN_READWRITE);
  // A beat that waits for the coordinator's transaction is retried at the next one.
  sqlite3_busy_timeout(db_, 2000);
  sqlite3_exec(db_, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr);
  thread_ = std::thread([this] { loop(); });
}

Heartbeat::~Heartbeat() {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  sqlite3_close_v2(db_);
}

bool Heartbeat::beat() noexcept {
  sqlite3_stmt* st = nullptr;
  const std::string sql = std::string("UPDATE writer SET heartbeat_at = ") + kNow + " WHERE token = ?1";
  bool ours = true;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, token_.c_str(), static_cast<int>(token_.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_DONE) ours = sqlite3_changes(db_) > 0;
  }
  sqlite3_finalize(st);
  return ours;
}

void Heartbeat::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::seconds(seconds_), [this] { return stop_; })) {
    lock.unlock();
    const bool ours = beat();
    lock.lock();
    if (!ours) return;  // replaced: the writer's next write fails in check_held
  }
}

}  // namespace lease
}  // namespace ternbench::storage
