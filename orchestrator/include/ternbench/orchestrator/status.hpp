#pragma once
// `ternbench status`: the summary line of a running or finished sweep, read from its DB.
#include <optional>
#include <string>
#include <vector>

#include "ternbench/experiments/sweep.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "ternbench/storage/records.hpp"

namespace ternbench::orchestrator {

// total: runs the sweep names (0 = count the DB's runs). Works while a sweep is writing.
std::string format_status(const std::vector<storage::RunRecord>& runs, int total, const std::string& name);
// The same with the DB's writer lease (MetricsDb::writer()): runs left `running` by a writer
// that is gone, or by one before the live writer, count as stale, not running, and without a
// live writer nothing progresses, so there is no ETA.
std::string format_status(const std::vector<storage::RunRecord>& runs, int total, const std::string& name,
                          const std::optional<storage::WriterInfo>& writer);

// `ternbench status SWEEP`: format_status of the runs of the DB the sweep file names (runs
// of other sweeps sharing the DB left out), "0/N done" when the DB does not exist yet, and
// a second line when finished runs were trained by a commit other than `commit` (the
// binary's; "" = no comparison).
std::string format_sweep_status(const experiments::Sweep& sweep, const std::string& db_path,
                                const std::string& commit);

// Seconds since the epoch of an ISO 8601 UTC time ("2026-11-23T21:08:01Z"); -1 if malformed.
long long parse_utc(const std::string& iso);

}  // namespace ternbench::orchestrator
