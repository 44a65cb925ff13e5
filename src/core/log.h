// Logging: thin wrappers over spdlog so the rest of the code names one logger. The server log
// goes to stderr; the access log is a separate logger, off unless configured, and asynchronous
// so a request never waits on a write. All functions are thread-safe.
#ifndef PLINTH_CORE_LOG_H_
#define PLINTH_CORE_LOG_H_

#include <spdlog/spdlog.h>

#include <string>

#include "core/status.h"

namespace plinth {

// Sets the level of the main logger from a name: trace|debug|info|warn|error|off.
Status SetLogLevel(const std::string& level);
// Opens the access log: "-" is stderr, anything else a file path appended to.
Status OpenAccessLog(const std::string& destination);
// The access logger, or null when access logging is off.
spdlog::logger* AccessLog();
// Flushes and drops all loggers; call once at exit.
void ShutdownLogging();

}  // namespace plinth

#define PLINTH_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define PLINTH_LOG_INFO(...) spdlog::info(__VA_ARGS__)
#define PLINTH_LOG_WARN(...) spdlog::warn(__VA_ARGS__)
#define PLINTH_LOG_ERROR(...) spdlog::error(__VA_ARGS__)

#endif  // PLINTH_CORE_LOG_H_
