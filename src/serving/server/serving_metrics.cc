#include "serving/server/serving_metrics.h"

#include <cstdio>

namespace plinth::serving {
namespace {

constexpr const char* kEndpointNames[] = {"invocations", "infer", "other"};
constexpr const char* kClassNames[] = {"2xx", "4xx", "5xx", "other"};

// Label values escaped as the exposition format requires.
std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

}  // namespace

void ServingMetrics::Observe(Endpoint endpoint, int http_status, double seconds, uint64_t rows) {
  EndpointCounters& e = endpoints_[static_cast<size_t>(endpoint)];
  size_t cls = http_status >= 200 && http_status < 300   ? 0
               : http_status >= 400 && http_status < 500 ? 1
               : http_status >= 500                      ? 2
                                                         : 3;
  e.by_class[cls].fetch_add(1, std::memory_order_relaxed);
  size_t b = 0;
  while (b < kBucketsSeconds.size() && seconds > kBucketsSeconds[b]) ++b;
  e.buckets[b].fetch_add(1, std::memory_order_relaxed);
  e.sum_nanos.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
  e.rows.fetch_add(rows, std::memory_order_relaxed);
}

void ServingMetrics::CountLoadFailure(const std::string& version, const std::string& reason) {
  load_failures_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  last_failed_version_ = version;
  last_failure_reason_ = reason;
}

void ServingMetrics::SetServedModel(const std::string& name, const std::string& version,
                                    const std::string& runtime) {
  std::lock_guard lock(mu_);
  model_name_ = name;
  model_version_ = version;
  runtime_ = runtime;
}

std::string ServingMetrics::Render() const {
  std::string out;
  out +=
      "# HELP plinth_serving_requests_total Requests answered, by endpoint and status class.\n"
      "# TYPE plinth_serving_requests_total counter\n";
  for (size_t e = 0; e < kEndpoints; ++e) {
    for (size_t c = 0; c < kClasses; ++c) {
      out += std::string("plinth_serving_requests_total{endpoint=\"") + kEndpointNames[e] +
             "\",code=\"" + kClassNames[c] + "\"} " +
             std::to_string(endpoints_[e].by_class[c].load(std::memory_order_relaxed)) + "\n";
    }
  }
  out +=
      "# HELP plinth_serving_request_duration_seconds Time from request read to response "
      "ready.\n"
      "# TYPE plinth_serving_request_duration_seconds histogram\n";
  for (size_t e = 0; e < kEndpoints; ++e) {
    const EndpointCounters& ec = endpoints_[e];
    uint64_t cumulative = 0;
    std::string label = std::string("endpoint=\"") + kEndpointNames[e] + "\"";
    for (size_t b = 0; b <= kBucketsSeconds.size(); ++b) {
      cumulative += ec.buckets[b].load(std::memory_order_relaxed);
      std::string le = b < kBucketsSeconds.size() ? Number(kBucketsSeconds[b]) : "+Inf";
      out += "plinth_serving_request_duration_seconds_bucket{" + label + ",le=\"" + le + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "plinth_serving_request_duration_seconds_sum{" + label + "} " +
           Number(static_cast<double>(ec.sum_nanos.load(std::memory_order_relaxed)) / 1e9) + "\n";
    out += "plinth_serving_request_duration_seconds_count{" + label + "} " +
           std::to_string(cumulative) + "\n";
  }
  out +=
      "# HELP plinth_serving_rows_total Rows predicted.\n"
      "# TYPE plinth_serving_rows_total counter\n";
  for (size_t e = 0; e < kEndpoints; ++e) {
    out += std::string("plinth_serving_rows_total{endpoint=\"") + kEndpointNames[e] + "\"} " +
           std::to_string(endpoints_[e].rows.load(std::memory_order_relaxed)) + "\n";
  }
  std::lock_guard lock(mu_);
  out +=
      "# HELP plinth_serving_model_info The model version being served (value 1).\n"
      "# TYPE plinth_serving_model_info gauge\n"
      "plinth_serving_model_info{name=\"" +
      Escape(model_name_) + "\",version=\"" + Escape(model_version_) + "\",runtime=\"" +
      Escape(runtime_) + "\"} 1\n";
  char* end = nullptr;
  double numeric = std::strtod(model_version_.c_str(), &end);
  if (!model_version_.empty() && end != nullptr && *end == '\0') {
    out +=
        "# HELP plinth_serving_model_version The registered version being served.\n"
        "# TYPE plinth_serving_model_version gauge\n"
        "plinth_serving_model_version " +
        Number(numeric) + "\n";
  }
  out +=
      "# HELP plinth_serving_model_swaps_total Times a new model version was switched to.\n"
      "# TYPE plinth_serving_model_swaps_total counter\n"
      "plinth_serving_model_swaps_total " +
      std::to_string(swaps_.load()) +
      "\n"
      "# HELP plinth_serving_model_load_failures_total Versions that failed to load or to "
      "answer the smoke prediction (the previous version kept serving).\n"
      "# TYPE plinth_serving_model_load_failures_total counter\n"
      "plinth_serving_model_load_failures_total " +
      std::to_string(load_failures_.load()) + "\n";
  if (!last_failed_version_.empty()) {
    out +=
        "# HELP plinth_serving_model_last_load_failure The last version that failed to load "
        "(value 1).\n"
        "# TYPE plinth_serving_model_last_load_failure gauge\n"
        "plinth_serving_model_last_load_failure{version=\"" +
        Escape(last_failed_version_) + "\",reason=\"" + Escape(last_failure_reason_) + "\"} 1\n";
  }
  out +=
      "# HELP plinth_serving_prediction_log_records_total Records written to the prediction "
      "log.\n"
      "# TYPE plinth_serving_prediction_log_records_total counter\n"
      "plinth_serving_prediction_log_records_total " +
      std::to_string(logged_.load()) +
      "\n"
      "# HELP plinth_serving_prediction_log_dropped_total Records dropped because the log "
      "queue was full (serving never waits for the log).\n"
      "# TYPE plinth_serving_prediction_log_dropped_total counter\n"
      "plinth_serving_prediction_log_dropped_total " +
      std::to_string(log_dropped_.load()) + "\n";
  return out;
}

}  // namespace plinth::serving
