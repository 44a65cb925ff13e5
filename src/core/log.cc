#include "core/log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <exception>

namespace plinth {
namespace {
std::shared_ptr<spdlog::logger> g_access;  // set once at start-up, before serving
}  // namespace

Status SetLogLevel(const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    return InvalidArgument("unknown log level '" + level +
                           "' (expected trace, debug, info, warn, error or off)");
  }
  spdlog::set_level(parsed);
  return Status::Ok();
}

Status OpenAccessLog(const std::string& destination) {
  try {
    spdlog::init_thread_pool(8192, 1);
    if (destination == "-") {
      g_access = spdlog::create_async<spdlog::sinks::stderr_sink_mt>("access");
    } else {
      g_access = spdlog::create_async<spdlog::sinks::basic_file_sink_mt>("access", destination);
    }
    g_access->set_pattern("%v");
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("cannot open access log: ") + e.what());
  }
  return Status::Ok();
}

spdlog::logger* AccessLog() { return g_access.get(); }

void ShutdownLogging() {
  if (g_access) {
    g_access->flush();
  }
  g_access.reset();
  spdlog::shutdown();
}

}  // namespace plinth
