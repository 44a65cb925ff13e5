// The cost of one pruning decision and of one CMA-ES / AutoSampler suggestion, in-process
// (no storage, no HTTP). bench/tune/decision_cost_optuna.py measures Optuna 5 on the same
// histories; src/tune/README.md quotes both.
//
//   plinth_tune_decision_bench [n_complete ...]     (default: 100 1000 10000)
//
// Pruners: a study with n COMPLETE trials, each reporting 100 steps of a noisy learning curve,
// then 200 RUNNING trials report step by step, asking after each report; the time is per
// ShouldPrune call (the report excluded). CMA-ES and AutoSampler: a whole study on a 10-D
// sphere, time per trial (Ask + 10 suggestions + Tell).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tune/auto_sampler.h"
#include "tune/cmaes_sampler.h"
#include "tune/pruners.h"
#include "tune/random_sampler.h"
#include "tune/random_state.h"
#include "tune/study.h"

namespace plinth::tune {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kSteps = 100;
// Running trials per measurement: enough that the first decisions at each step (which sort
// the bulk-loaded history once) do not dominate.
constexpr int kRunning = 200;

int64_t RungPow(int64_t base, int64_t k) {
  int64_t out = 1;
  for (int64_t i = 0; i < k; ++i) out *= base;
  return out;
}

double Curve(RandomState& rng, double quality, int step) {
  return quality + 1.0 / (1.0 + 0.1 * step) + 0.05 * (rng.RandomSample() - 0.5);
}

// Microseconds per ShouldPrune over kRunning running trials × 100 steps (stopping a trial when it
// is pruned, as a worker would).
using RungSteps = std::function<std::vector<int64_t>(Study&, int)>;

double PruneCost(std::unique_ptr<Pruner> pruner, RungSteps rung_steps, int n_complete,
                 int* n_pruned) {
  Study study(std::make_unique<RandomSampler>(0));
  study.set_name("bench");
  study.SetPruner(std::move(pruner));
  RandomState rng(1);
  for (int i = 0; i < n_complete; ++i) {
    TrialSpec spec;
    const double q = rng.RandomSample();
    for (int s = 0; s < kSteps; ++s) spec.intermediate_values.emplace_back(s, Curve(rng, q, s));
    spec.value = spec.intermediate_values.back().second;
    (void)study.AddTrial(spec);
  }
  // Successive halving compares with the values trials recorded at the rungs they passed:
  // give every COMPLETE trial its records (at steps r·η^(s+k) of its bracket), as a live
  // study would have written them, without replaying every decision.
  if (rung_steps) {
    for (const FrozenTrial& t : study.trials()) {
      int k = 0;
      for (int64_t step : rung_steps(study, t.number)) {
        if (step >= static_cast<int64_t>(t.intermediate_values.size())) break;
        study.RecordCompletedRung(t.number, k++, t.intermediate_values[step].second);
      }
    }
  }
  double total_us = 0;
  long calls = 0;
  *n_pruned = 0;
  for (int r = 0; r < kRunning; ++r) {
    Trial trial = study.Ask();
    const double q = rng.RandomSample();
    for (int s = 0; s < kSteps; ++s) {
      (void)trial.Report(Curve(rng, q, s), s);
      const auto t0 = Clock::now();
      const bool prune = trial.ShouldPrune();
      total_us += std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      ++calls;
      if (prune) {
        ++*n_pruned;
        break;
      }
    }
    (void)study.Tell(trial.number(), std::nullopt, TrialState::kPruned);
  }
  return total_us / calls;
}

// Microseconds per trial of a whole study on a 10-D sphere.
double StudyCost(std::unique_ptr<Sampler> sampler, int n_trials) {
  Study study(std::move(sampler));
  const auto t0 = Clock::now();
  for (int i = 0; i < n_trials; ++i) {
    Trial trial = study.Ask();
    double v = 0;
    for (int d = 0; d < 10; ++d) {
      const double x = trial.SuggestFloat("x" + std::to_string(d), -5, 5).value();
      v += (x - 0.3 * d) * (x - 0.3 * d);
    }
    (void)study.Tell(trial.number(), v);
  }
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n_trials;
}

int Main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {100, 1000, 10000};
  std::printf("%-22s %10s %14s %8s\n", "pruner", "n_complete", "us/decision", "pruned");
  for (int n : sizes) {
    // Successive halving with "auto" min_resource = max(99 // 100, 1) = 1 and η = 4: rungs at
    // steps 1, 4, 16, 64. Hyperband (max_resource 100, η = 3, 5 brackets): bracket b's rung k
    // at 3^(b+k), the bracket known once the pruner has set up (after a first decision).
    RungSteps sha_rungs = [](Study&, int) { return std::vector<int64_t>{1, 4, 16, 64}; };
    HyperbandPruner* hyperband = nullptr;
    RungSteps hb_rungs = [&hyperband](Study& study, int number) {
      if (hyperband->n_brackets() == 0) {
        (void)hyperband->Prune(study, study.trial(number));
      }
      std::vector<int64_t> steps;
      for (int64_t step = RungPow(3, hyperband->BracketId(study, number)); step < kSteps;
           step *= 3) {
        steps.push_back(step);
      }
      return steps;
    };
    struct Case {
      const char* name;
      std::function<std::unique_ptr<Pruner>()> make;
      RungSteps rungs;
    } cases[] = {
        {"median", [] { return std::unique_ptr<Pruner>(PercentilePruner::Median().value()); },
         nullptr},
        {"percentile(25)",
         [] {
           PercentilePrunerOptions o;
           o.percentile = 25;
           return std::unique_ptr<Pruner>(PercentilePruner::Create(o).value());
         },
         nullptr},
        {"successive_halving",
         [] { return std::unique_ptr<Pruner>(SuccessiveHalvingPruner::Create().value()); },
         sha_rungs},
        {"hyperband",
         [&hyperband] {
           auto p = HyperbandPruner::Create().value();
           hyperband = p.get();
           return std::unique_ptr<Pruner>(std::move(p));
         },
         hb_rungs},
    };
    for (const Case& c : cases) {
      int pruned = 0;
      const double us = PruneCost(c.make(), c.rungs, n, &pruned);
      std::printf("%-22s %10d %14.2f %8d\n", c.name, n, us, pruned);
    }
  }
  std::printf("\n%-22s %10s %14s\n", "sampler (10-D sphere)", "n_trials", "us/trial");
  for (int n : {100, 1000}) {
    CmaEsOptions cma;
    cma.seed = 1;
    std::printf("%-22s %10d %14.2f\n", "cmaes", n, StudyCost(CmaEsSampler::Create(cma).value(), n));
    AutoSamplerOptions autos;
    autos.seed = 1;
    std::printf("%-22s %10d %14.2f\n", "auto (GP, then CMA-ES)", n,
                StudyCost(AutoSampler::Create(autos).value(), n));
  }
  return 0;
}

}  // namespace
}  // namespace plinth::tune

int main(int argc, char** argv) { return plinth::tune::Main(argc, argv); }
