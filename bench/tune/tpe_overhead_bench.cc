// TPE's own cost per trial, in-process and without Python: the study bench/tune/bench.py's
// run_overhead times (five parameters: float, log float, int, 4-way categorical, float; an
// objective that costs nothing), CPU time per trial over the whole study. A driver for `perf
// record` too.
//
//   plinth_tune_tpe_bench [n_trials ...]     (default: 100 1000 10000)
//   plinth_tune_tpe_bench --print N          (the seed-1 study's suggestions, one trial a line)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "tune/auto_sampler.h"
#include "tune/study.h"
#include "tune/tpe.h"

namespace plinth::tune {
namespace {

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// One trial of the overhead objective; returns its value.
double Objective(Trial& trial, bool print) {
  const double x = trial.SuggestFloat("x", -10, 10).value();
  const double lr = trial.SuggestFloat("lr", 1e-5, 1e-1, true).value();
  const int64_t n = trial.SuggestInt("n", 1, 64).value();
  const ParamValue k = trial.SuggestCategorical("k", {"a", "b", "c", "d"}).value();
  const double y = trial.SuggestFloat("y", 0, 1).value();
  const std::string& ks = std::get<std::string>(k);
  if (print) {
    std::printf("%d x=%.17g lr=%.17g n=%lld k=%s y=%.17g\n", trial.number(), x, lr,
                static_cast<long long>(n), ks.c_str(), y);
  }
  return x * x + std::pow(std::log10(lr), 2) + static_cast<double>((n - 20) * (n - 20)) / 100 +
         (ks == "b" ? 1.0 : 0.0) + y;
}

std::unique_ptr<Sampler> MakeSampler(const std::string& name, uint32_t seed) {
  if (name == "auto") {
    AutoSamplerOptions o;
    o.seed = seed;
    return AutoSampler::Create(o).value();
  }
  TpeOptions o;
  o.seed = seed;
  return TpeSampler::Create(o).value();
}

// Milliseconds of CPU per trial over a whole study.
double StudyCost(const std::string& sampler, int n_trials, bool print) {
  Study study(MakeSampler(sampler, print ? 1 : 0));
  const double t0 = CpuSeconds();
  for (int i = 0; i < n_trials; ++i) {
    Trial trial = study.Ask();
    const double v = Objective(trial, print);
    (void)study.Tell(trial.number(), v);
  }
  return 1e3 * (CpuSeconds() - t0) / n_trials;
}

int Main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--print") == 0) {
    StudyCost("tpe", std::atoi(argv[2]), true);
    return 0;
  }
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {100, 1000, 10000};
  std::printf("%-8s %10s %14s\n", "sampler", "n_trials", "ms/trial (CPU)");
  for (int n : sizes) {
    for (const char* s : {"tpe", "auto"}) {
      std::printf("%-8s %10d %14.4f\n", s, n, StudyCost(s, n, false));
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace plinth::tune

int main(int argc, char** argv) { return plinth::tune::Main(argc, argv); }
