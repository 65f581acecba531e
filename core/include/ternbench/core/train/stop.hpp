#pragma once
// A process-wide request to stop training at the next batch boundary (signals, walltime).
// Set from signal handlers and timers; the trainer polls it once per batch.
namespace ternbench::core {

// Async-signal-safe.
void request_stop() noexcept;
bool stop_requested() noexcept;
// For tests and for a new sweep in the same process.
void clear_stop() noexcept;

}  // namespace ternbench::core
