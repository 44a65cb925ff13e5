// TuneService: hyperparameter studies kept in the metadata store, driven by ask/tell from any
// number of workers and server replicas. It knows nothing of HTTP (src/api/tune_api.cc
// translates); it reads and writes studies through the StudyStore seam and mirrors every trial
// as a tracking run through TrackingService, so trials show up to the MLflow client as runs
// named `trial-<number>` in the study's experiment, with the params as MLflow params and the
// objective and intermediate values as metrics.
//
// Sampling happens on the server, with the engine's samplers (random, grid, TPE, GP, CMA-ES,
// auto): an ask samples the declared search space against an in-memory Study that mirrors the
// stored trials (running trials included, so TPE's constant liar sees them); `Suggest` samples
// one more parameter of a running trial, so define-by-run (conditional) spaces work across
// requests. Each sampling request gets a fresh sampler seeded from (seed, trial number,
// parameters already set), so a seeded study told in the same order repeats itself.
//
// The cache: per study, the service keeps its settings, its trials as last read and the mirror
// Study, and before each use asks the store for the study's change counter
// (StudyStore::StudyVersion, bumped in the same transaction as every trial write); when it
// moved, only the trials written since are loaded and replayed into the mirror (a change the
// engine cannot replay, such as a queued trial starting, rebuilds the mirror from the cached
// trials). So any replica can answer any call, sees every other replica's writes, and an ask
// costs the sampler's time plus a few small store reads and writes instead of a reload of the
// history. A trial's joint (multivariate) sample, drawn at its first sampled parameter, is kept
// by the replica that drew it for the trial's later suggestions; another replica draws again.
//
// Liveness: every call on a trial (suggest, report, heartbeat, tell) refreshes its heartbeat. A
// RUNNING trial silent for longer than the study's heartbeat_grace_seconds is failed (its run
// FAILED) by the next ask, trial listing or best-trial call on the study, and with
// retry_failed a WAITING copy with the same params is queued.
//
// Thread-safe: requests on one study take turns on its cache entry (a mutex per study); the
// map of entries has its own mutex. The collaborators are thread-safe.
#ifndef PLINTH_TUNE_SERVICE_TUNE_SERVICE_H_
#define PLINTH_TUNE_SERVICE_TUNE_SERVICE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/metadata_store.h"
#include "tracking/tracking_service.h"
#include "tune/pruners.h"
#include "tune/service/study_config.h"
#include "tune/study.h"

namespace plinth::tune {

// Makes the pruner (tune/pruners.h) a study's `pruner` settings name; a report rebuilds the
// study's trials and asks it. Failure: kInvalidArgument for an unknown type or bad options
// (checked when the study is created).
using PrunerFactory = std::function<Result<std::unique_ptr<Pruner>>(const PrunerConfig&)>;

// The built-in factory, Optuna's pruners with their options and defaults: {"type": "none"}
// (NopPruner; also "nop"), "median" and "percentile" (percentile, n_startup_trials,
// n_warmup_steps, interval_steps, n_min_trials), "successive_halving" (min_resource: N or
// "auto", reduction_factor, min_early_stopping_rate, bootstrap_count) and "hyperband"
// (min_resource, max_resource: N or "auto", reduction_factor, bootstrap_count). Successive
// halving's rung records are kept as the trial's `completed_rungs` system attribute.
Result<std::unique_ptr<Pruner>> MakeBuiltinPruner(const PrunerConfig& config);

struct TuneServiceOptions {
  PrunerFactory pruner_factory = MakeBuiltinPruner;
  // Studies kept in memory at once; past it the least recently used is dropped (and read
  // again from the store when next used).
  size_t max_cached_studies = 64;
};

// A study as the service hands it out: the stored record with its parsed settings and trial
// counts by state (indexed by store::StoredTrialState).
struct StudyView {
  store::StudyRecord record;
  StudyConfig config;
  std::vector<int64_t> trial_counts;
};

// What an ask returns: a trial to run (RUNNING, params sampled, run created), or none.
struct AskReply {
  std::optional<store::TrialRecord> trial;
  bool study_done = false;  // n_trials trials finished: stop asking
};

struct TellRequest {
  int64_t trial_id = 0;
  std::vector<double> values;                    // COMPLETE: one per direction
  std::optional<store::StoredTrialState> state;  // unset: COMPLETE with values, else FAIL
};

// A study is named by id or by name.
struct StudyRef {
  std::optional<int64_t> id;
  std::string name;
};

class TuneService {
 public:
  TuneService(store::MetadataStore* store, tracking::TrackingService* tracking, Clock* clock,
              TuneServiceOptions options = {});

  // Creates a study (and its experiment, or uses the existing one of that name). With
  // `load_if_exists`, a study of that name is returned as it is. Failure: kInvalidArgument for
  // bad settings (a grid without values, TPE with several objectives, an unknown pruner…);
  // kAlreadyExists.
  Result<StudyView> CreateStudy(const StudyConfig& config,
                                const std::vector<store::KeyValue>& user_attrs,
                                bool load_if_exists);
  // Failure: kNotFound.
  Result<StudyView> GetStudy(const StudyRef& ref);
  Result<std::vector<StudyView>> ListStudies(int64_t max_results, int64_t offset, bool* has_more);

  // Starts a trial and samples the declared search space. Failure: kNotFound; a sampler's
  // error (the trial is then failed, not left running).
  Result<AskReply> Ask(const StudyRef& ref);
  // One parameter of a RUNNING trial (define-by-run). A parameter set before returns its value
  // (kInvalidArgument if `distribution` is incompatible with its first one). Returns the
  // trial's stored parameter. Failure: kNotFound; kFailedPrecondition when not RUNNING.
  Result<store::TrialParamRecord> Suggest(int64_t trial_id, const std::string& name,
                                          const Distribution& distribution);
  // Records an intermediate value and answers whether the trial should be pruned.
  // Failure: kInvalidArgument for a negative step; kNotFound; kFailedPrecondition.
  Result<bool> Report(int64_t trial_id, int64_t step, double value);
  Status Heartbeat(int64_t trial_id);
  // Finishes a trial and its run (FINISHED, KILLED for PRUNED, FAILED). Failure:
  // kInvalidArgument for values that do not fit the state and directions; kNotFound;
  // kFailedPrecondition when the trial is not RUNNING (told twice, or failed by the sweep).
  Result<store::TrialRecord> Tell(const TellRequest& request);
  // Queues a WAITING trial whose params take these values. Failure: kNotFound.
  Result<store::TrialRecord> Enqueue(const StudyRef& ref,
                                     const std::vector<std::pair<std::string, ParamValue>>& params);
  Result<store::TrialRecord> GetTrial(int64_t trial_id);
  Result<store::TrialPage> ListTrials(const StudyRef& ref,
                                      const std::vector<store::StoredTrialState>& states,
                                      int64_t max_results, int64_t offset);
  // The best COMPLETE trial (one objective) or the Pareto front (several); empty while none.
  Result<std::vector<store::TrialRecord>> BestTrials(const StudyRef& ref);
  Status SetTrialUserAttr(int64_t trial_id, const std::string& key, const std::string& json);
  // Fails the study's silent RUNNING trials now (what ask and list do first); returns them.
  Result<std::vector<store::TrialRecord>> SweepStaleTrials(const StudyRef& ref);

 private:
  // A study's cache entry (defined in the .cc).
  struct CachedStudy;
  using CachedStudyPtr = std::shared_ptr<CachedStudy>;

  Result<StudyView> Load(const store::StudyRecord& record, bool with_counts);
  Result<store::StudyRecord> Resolve(const StudyRef& ref);
  // The entry of a study (made on first use), by reference, id or one of its trials' ids.
  // Failure: kNotFound; kInvalidArgument for a corrupted study row.
  Result<CachedStudyPtr> Cached(const StudyRef& ref);
  Result<CachedStudyPtr> CachedById(int64_t study_id);
  Result<CachedStudyPtr> CachedForTrial(int64_t trial_id);
  Result<CachedStudyPtr> Insert(const store::StudyRecord& record);
  // Brings an entry up to the store: reads the change counter, loads the trials written
  // since and replays them into the mirror. Caller holds the entry's mutex.
  Status Refresh(CachedStudy& c);
  // The mirror, rebuilt from the cached trials if a change could not be replayed.
  Study& Engine(CachedStudy& c);
  // Fails the study's silent RUNNING trials (the store decides); asks the store only when a
  // cached heartbeat is older than the grace (cached heartbeats are never newer than stored).
  Result<std::vector<store::TrialRecord>> SweepIfStale(CachedStudy& c);
  Result<std::vector<store::TrialRecord>> Sweep(const StudyView& study);
  // Samples `wanted` for the RUNNING trial `target` against the refreshed entry.
  Result<std::vector<store::TrialParamRecord>> Sample(CachedStudy& c,
                                                      const store::TrialRecord& target,
                                                      const SearchSpace& wanted);
  void FinishRun(const store::TrialRecord& trial, store::RunStatus status);

  store::MetadataStore* store_;
  tracking::TrackingService* tracking_;
  Clock* clock_;
  TuneServiceOptions options_;

  std::mutex mu_;
  std::unordered_map<int64_t, CachedStudyPtr> cache_;    // GUARDED_BY(mu_)
  std::unordered_map<std::string, int64_t> study_ids_;   // GUARDED_BY(mu_): by name
  std::unordered_map<int64_t, int64_t> study_of_trial_;  // GUARDED_BY(mu_): cached trials
  uint64_t uses_ = 0;                                    // GUARDED_BY(mu_)
};

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_SERVICE_TUNE_SERVICE_H_
