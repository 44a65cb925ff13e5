// The model a server answers with right now, swapped atomically when an alias moves.
#ifndef PLINTH_SERVING_SERVER_MODEL_HOLDER_H_
#define PLINTH_SERVING_SERVER_MODEL_HOLDER_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "serving/model.h"
#include "serving/server/request_parser.h"

namespace plinth::serving {

// One loaded model plus where it came from.
struct ServedModel {
  std::shared_ptr<const Model> model;
  std::string name;     // the served name (registered model name, or the directory's name)
  std::string version;  // registered model version, "1" for a plain directory
  std::string uri;      // the artifact URI or folder it was loaded from
  std::shared_ptr<const InputLayout> layout;
  std::shared_ptr<const std::vector<std::string>> columns;  // feature names, for the log
};

// Readers take a snapshot (shared_ptr) per request; Swap publishes a new one. The old model is
// freed when the last request holding it finishes.
class ModelHolder {
 public:
  std::shared_ptr<const ServedModel> Get() const {
    return current_.load(std::memory_order_acquire);
  }
  void Swap(std::shared_ptr<const ServedModel> next) {
    current_.store(std::move(next), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const ServedModel>> current_;
};

}  // namespace plinth::serving

#endif  // PLINTH_SERVING_SERVER_MODEL_HOLDER_H_
