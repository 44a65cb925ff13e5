// Store-level timing of the hot write path, without HTTP or JSON: LogBatch of N metrics with
// distinct keys into one run, as bench/tracking's log-batch workloads send. Prints microseconds
// per batch and per metric. Used to compare store designs; bench/tracking holds the numbers
// that are compared with the peers.
//
//   build/bench/plinth_log_batch_bench [batches=200] [metrics_per_batch=500] [threads=1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/metadata_store.h"

using namespace plinth;

int main(int argc, char** argv) {
  int batches = argc > 1 ? std::atoi(argv[1]) : 200;
  int per_batch = argc > 2 ? std::atoi(argv[2]) : 500;
  int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  auto dir = std::filesystem::temp_directory_path() / "plinth-log-batch-bench";
  std::filesystem::remove_all(dir);
  store::SqliteStoreOptions options;
  options.path = (dir / "bench.db").string();
  auto opened = store::OpenSqliteStore(options, 1700000000000);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  auto& db = *opened.value();
  std::vector<std::string> run_ids;
  for (int t = 0; t < threads; ++t) {
    store::Run run;
    run.info.run_id = "0123456789abcdef0123456789abc" + std::to_string(100 + t);
    run.info.run_name = "bench";
    run.info.experiment_id = "0";
    run.info.start_time = 1700000000000;
    run.info.artifact_uri = "mlflow-artifacts:/0/x/artifacts";
    if (!db.CreateRun(run).ok()) return 1;
    run_ids.push_back(run.info.run_id);
  }
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int b = 0; b < batches; ++b) {
        std::vector<store::Metric> metrics(per_batch);
        for (int k = 0; k < per_batch; ++k) {
          metrics[k].key = "m" + std::to_string(k);
          metrics[k].value = 0.5 + k / 1000.0;
          metrics[k].timestamp = 1700000000000 + k;
          metrics[k].step = b;
        }
        Status s = db.LogBatch(run_ids[t], metrics, {}, {});
        if (!s.ok()) {
          std::fprintf(stderr, "%s\n", s.ToString().c_str());
          std::exit(1);
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  double total_batches = static_cast<double>(batches) * threads;
  std::printf("%d threads x %d batches x %d metrics: %.1f us/batch, %.2f us/metric\n", threads,
              batches, per_batch, us / total_batches, us / (total_batches * per_batch));
  opened.value().reset();
  std::filesystem::remove_all(dir);
  return 0;
}
