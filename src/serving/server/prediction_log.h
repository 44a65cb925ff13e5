// The prediction log: what a model server answered, for monitoring to consume later. Each
// sampled request becomes one JSON line (format in docs/serving.md) appended to
// DIR/predictions-<start ms>.jsonl; files roll over at `max_file_bytes`.
//
// Serving never waits for the log: Append copies the record into a bounded in-memory queue
// (dropping it, and counting the drop, when the queue is full) and a background thread formats
// and writes. Records reach the file within ~`flush_interval_ms`; a clean stop writes the rest.
//
// Thread-safety: Append may be called from any thread; Start/Stop from one owner thread.
#ifndef PLINTH_SERVING_SERVER_PREDICTION_LOG_H_
#define PLINTH_SERVING_SERVER_PREDICTION_LOG_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "serving/model.h"

namespace plinth::serving {

class ServingMetrics;

struct PredictionLogOptions {
  std::filesystem::path directory;  // empty = no log
  double sample_rate = 1.0;         // fraction of requests recorded, in [0, 1]
  size_t max_queue = 10000;         // records waiting to be written; more are dropped
  uint64_t max_file_bytes = 64ull << 20;
  int flush_interval_ms = 200;

  Status Validate() const;
};

struct PredictionRecord {
  int64_t timestamp_ms = 0;
  std::string request_id;
  std::string endpoint;  // "invocations" or "infer"
  std::string model_name;
  std::string model_version;
  std::shared_ptr<const std::vector<std::string>> columns;  // feature names (may be empty)
  std::vector<float> inputs;                                // rows × width, NaN = missing
  size_t rows = 0;
  size_t width = 0;
  Predictions outputs;
  double latency_ms = 0;
};

class PredictionLog {
 public:
  PredictionLog(PredictionLogOptions options, ServingMetrics* metrics);
  ~PredictionLog();
  PredictionLog(const PredictionLog&) = delete;
  PredictionLog& operator=(const PredictionLog&) = delete;

  // Creates the directory and starts the writer. Failure: kInvalidArgument / kInternal.
  Status Start();
  // Whether this request should be recorded (the sampling decision; cheap).
  bool Sample();
  // Queues the record; never blocks on I/O. Returns false when it was dropped.
  bool Append(PredictionRecord record);
  // Writes what is queued and stops the writer.
  void Stop();

 private:
  void WriterLoop();
  Status WriteBatch(std::deque<PredictionRecord>& batch);
  Status OpenNextFile();

  PredictionLogOptions options_;
  ServingMetrics* metrics_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<PredictionRecord> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;               // GUARDED_BY(mu_)
  std::thread writer_;
  // Writer-thread state.
  std::FILE* file_ = nullptr;
  uint64_t file_bytes_ = 0;
};

}  // namespace plinth::serving

#endif  // PLINTH_SERVING_SERVER_PREDICTION_LOG_H_
