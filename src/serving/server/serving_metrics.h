// Prometheus metrics of a model server: request counts by endpoint and status class, a latency
// histogram, rows predicted, the model version served, swaps and failed loads, prediction-log
// drops. Counters are relaxed atomics (no lock, no allocation on the request path); the text
// exposition is built on scrape.
//
// Thread-safety: every method may be called from any thread.
#ifndef PLINTH_SERVING_SERVER_SERVING_METRICS_H_
#define PLINTH_SERVING_SERVER_SERVING_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace plinth::serving {

enum class Endpoint { kInvocations = 0, kInfer, kOther, kCount };

class ServingMetrics {
 public:
  // Records one answered request.
  void Observe(Endpoint endpoint, int http_status, double seconds, uint64_t rows);
  void CountSwap() { swaps_.fetch_add(1, std::memory_order_relaxed); }
  // A version that failed to load or to answer its smoke prediction (kept serving the old one).
  void CountLoadFailure(const std::string& version, const std::string& reason);
  void CountLogDropped(uint64_t n = 1) { log_dropped_.fetch_add(n, std::memory_order_relaxed); }
  void CountLogged(uint64_t n = 1) { logged_.fetch_add(n, std::memory_order_relaxed); }
  // The model now served.
  void SetServedModel(const std::string& name, const std::string& version,
                      const std::string& runtime);

  // The Prometheus text exposition (format 0.0.4).
  std::string Render() const;

  static constexpr std::array<double, 14> kBucketsSeconds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};

 private:
  static constexpr size_t kEndpoints = static_cast<size_t>(Endpoint::kCount);
  static constexpr size_t kClasses = 4;  // 2xx, 4xx, 5xx, other
  struct EndpointCounters {
    std::array<std::atomic<uint64_t>, kClasses> by_class{};
    std::array<std::atomic<uint64_t>, kBucketsSeconds.size() + 1> buckets{};
    std::atomic<uint64_t> sum_nanos{0};
    std::atomic<uint64_t> rows{0};
  };
  std::array<EndpointCounters, kEndpoints> endpoints_;
  std::atomic<uint64_t> swaps_{0};
  std::atomic<uint64_t> load_failures_{0};
  std::atomic<uint64_t> log_dropped_{0};
  std::atomic<uint64_t> logged_{0};

  mutable std::mutex mu_;  // guards the strings below (written on swaps and failures only)
  std::string model_name_;
  std::string model_version_;
  std::string runtime_;
  std::string last_failed_version_;
  std::string last_failure_reason_;
};

}  // namespace plinth::serving

#endif  // PLINTH_SERVING_SERVER_SERVING_METRICS_H_
