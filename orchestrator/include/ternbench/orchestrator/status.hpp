#pragma once
// `ternbench status`: the summary line of a running or finished sweep, read from its DB.
#include <string>
#include <vector>

#include "ternbench/storage/records.hpp"

namespace ternbench::orchestrator {

// total: runs the sweep names (0 = count the DB's runs). Works while a sweep is writing.
std::string format_status(const std::vector<storage::RunRecord>& runs, int total, const std::string& name);

// Seconds since the epoch of an ISO 8601 UTC time ("2026-11-23T21:08:01Z"); -1 if malformed.
long long parse_utc(const std::string& iso);

}  // namespace ternbench::orchestrator
