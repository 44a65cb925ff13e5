// Identifiers in MLflow's formats. Thread-safe: each thread draws from its own generator,
// seeded from the OS.
#ifndef PLINTH_CORE_IDS_H_
#define PLINTH_CORE_IDS_H_

#include <string>
#include <string_view>

namespace plinth {

// 32 lowercase hex characters (uuid4().hex), as MLflow run ids.
std::string NewRunId();
// "m-" followed by 32 lowercase hex characters, as MLflow logged-model ids.
std::string NewLoggedModelId();
// A readable run name like MLflow's: "<adjective>-<animal>-<number>".
std::string NewRunName();
// True when `id` is 32 lowercase hex characters.
bool IsRunIdShape(std::string_view id);

}  // namespace plinth

#endif  // PLINTH_CORE_IDS_H_
