#include "serving/server/prediction_log.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "core/json.h"
#include "core/log.h"
#include "serving/server/serving_metrics.h"

namespace plinth::serving {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void WriteFloat(JsonWriter& w, float v) {
  if (std::isnan(v)) {
    w.Null();  // JSON has no NaN; a missing input is null
  } else {
    w.Double(v);
  }
}

}  // namespace

Status PredictionLogOptions::Validate() const {
  if (!(sample_rate >= 0.0 && sample_rate <= 1.0)) {
    return InvalidArgument("--prediction-log-sample must be between 0 and 1");
  }
  if (max_queue == 0) return InvalidArgument("the prediction log queue must hold a record");
  return Status();
}

PredictionLog::PredictionLog(PredictionLogOptions options, ServingMetrics* metrics)
    : options_(std::move(options)), metrics_(metrics) {}

PredictionLog::~PredictionLog() { Stop(); }

Status PredictionLog::Start() {
  PLINTH_RETURN_IF_ERROR(options_.Validate());
  std::error_code ec;
  std::filesystem::create_directories(options_.directory, ec);
  if (ec) {
    return InvalidArgument("cannot create the prediction log folder " +
                           options_.directory.string() + ": " + ec.message());
  }
  PLINTH_RETURN_IF_ERROR(OpenNextFile());
  writer_ = std::thread([this] { WriterLoop(); });
  return Status();
}

bool PredictionLog::Sample() {
  if (options_.sample_rate >= 1.0) return true;
  if (options_.sample_rate <= 0.0) return false;
  thread_local std::minstd_rand rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < options_.sample_rate;
}

bool PredictionLog::Append(PredictionRecord record) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && queue_.size() < options_.max_queue) {
      queue_.push_back(std::move(record));
      return true;
    }
  }
  if (metrics_ != nullptr) metrics_->CountLogDropped();
  return false;
}

void PredictionLog::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
}

void PredictionLog::WriterLoop() {
  std::deque<PredictionRecord> batch;
  while (true) {
    bool stop;
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(options_.flush_interval_ms),
                     [&] { return stopping_; });
      batch.swap(queue_);
      stop = stopping_;
    }
    if (!batch.empty()) {
      Status s = WriteBatch(batch);
      if (!s.ok()) PLINTH_LOG_ERROR("prediction log: {}", s.message());
      batch.clear();
    }
    if (stop) return;
  }
}

Status PredictionLog::OpenNextFile() {
  if (file_ != nullptr) std::fclose(file_);
  auto path = options_.directory / ("predictions-" + std::to_string(NowMs()) + ".jsonl");
  file_ = std::fopen(path.c_str(), "ae");
  file_bytes_ = 0;
  if (file_ == nullptr) return Internal("cannot open the prediction log " + path.string());
  return Status();
}

Status PredictionLog::WriteBatch(std::deque<PredictionRecord>& batch) {
  for (const PredictionRecord& r : batch) {
    JsonWriter w;
    w.StartObject();
    w.KeyInt64("timestamp_ms", r.timestamp_ms);
    w.KeyString("request_id", r.request_id);
    w.KeyString("endpoint", r.endpoint);
    w.KeyString("model_name", r.model_name);
    w.KeyString("model_version", r.model_version);
    w.KeyDouble("latency_ms", r.latency_ms);
    w.Key("columns");
    w.StartArray();
    if (r.columns) {
      for (const std::string& c : *r.columns) w.String(c);
    }
    w.EndArray();
    w.Key("inputs");
    w.StartArray();
    for (size_t i = 0; i < r.rows; ++i) {
      w.StartArray();
      for (size_t j = 0; j < r.width; ++j) WriteFloat(w, r.inputs[i * r.width + j]);
      w.EndArray();
    }
    w.EndArray();
    w.Key("outputs");
    w.StartArray();
    const Predictions& p = r.outputs;
    for (size_t i = 0; i < p.rows; ++i) {
      bool nested = p.width != 1 || !p.squeeze;
      if (nested) w.StartArray();
      for (size_t j = 0; j < p.width; ++j) {
        double v = p.values[i * p.width + j];
        if (p.integer) {
          w.Int64(static_cast<int64_t>(v));
        } else {
          w.Double(v);
        }
      }
      if (nested) w.EndArray();
    }
    w.EndArray();
    w.EndObject();
    std::string_view line = w.View();
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
        std::fputc('\n', file_) == EOF) {
      return Internal("cannot write the prediction log");
    }
    file_bytes_ += line.size() + 1;
    if (metrics_ != nullptr) metrics_->CountLogged();
    if (file_bytes_ >= options_.max_file_bytes) PLINTH_RETURN_IF_ERROR(OpenNextFile());
  }
  std::fflush(file_);
  return Status();
}

}  // namespace plinth::serving
