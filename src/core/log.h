// Logging: one place that sets up spdlog for the kiln binary and tests.
//
// Thread-safety: spdlog's default logger is thread-safe; InitLogging() is
// called once from main before other threads start.
#pragma once

#include <string>

namespace kiln {

// level: "trace", "debug", "info", "warn", "error", "off". Logs go to stderr.
void InitLogging(const std::string& level);

}  // namespace kiln
