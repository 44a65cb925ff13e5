#include <array>
#include <utility>

#include "store/metadata_store.h"

namespace plinth::store {
namespace {

// Wire names of the enums, in proto order: the position is the proto number, which old clients
// send instead of the name.
constexpr std::array<std::pair<RunStatus, std::string_view>, 5> kRunStatusNames = {{
    {RunStatus::kRunning, "RUNNING"},
    {RunStatus::kScheduled, "SCHEDULED"},
    {RunStatus::kFinished, "FINISHED"},
    {RunStatus::kFailed, "FAILED"},
    {RunStatus::kKilled, "KILLED"},
}};
constexpr int kRunStatusFirstNumber = 1;

constexpr std::array<std::pair<LoggedModelStatus, std::string_view>, 4> kLoggedModelStatusNames = {{
    {LoggedModelStatus::kUnspecified, "LOGGED_MODEL_STATUS_UNSPECIFIED"},
    {LoggedModelStatus::kPending, "LOGGED_MODEL_PENDING"},
    {LoggedModelStatus::kReady, "LOGGED_MODEL_READY"},
    {LoggedModelStatus::kUploadFailed, "LOGGED_MODEL_UPLOAD_FAILED"},
}};
constexpr int kLoggedModelStatusFirstNumber = 0;

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return table[0].second;
}

// Accepts the name or the proto number.
template <typename E, size_t N>
std::optional<E> Parse(const std::array<std::pair<E, std::string_view>, N>& table, int first_number,
                       std::string_view text) {
  for (size_t i = 0; i < N; ++i) {
    if (text == table[i].second || text == std::to_string(first_number + static_cast<int>(i))) {
      return table[i].first;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view RunStatusName(RunStatus status) { return NameOf(kRunStatusNames, status); }

std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  return Parse(kRunStatusNames, kRunStatusFirstNumber, name);
}

std::string_view LifecycleName(LifecycleStage stage) {
  return stage == LifecycleStage::kDeleted ? "deleted" : "active";
}

std::string_view LoggedModelStatusName(LoggedModelStatus status) {
  return NameOf(kLoggedModelStatusNames, status);
}

std::optional<LoggedModelStatus> ParseLoggedModelStatus(std::string_view name) {
  return Parse(kLoggedModelStatusNames, kLoggedModelStatusFirstNumber, name);
}

}  // namespace plinth::store
