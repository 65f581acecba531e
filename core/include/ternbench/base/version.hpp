#pragma once
// Provenance compiled into the binary (generated at build time from git).
namespace ternbench {
const char* git_commit() noexcept;
bool git_dirty() noexcept;
const char* project_version() noexcept;
const char* compiler_version() noexcept;
}  // namespace ternbench
