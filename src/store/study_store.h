// StudyStore: the seam between the tuning service (src/tune/service) and the tables that keep
// hyperparameter studies: studies, their trials (numbered 0, 1, … per study), each trial's
// parameters with their distributions, objective values, intermediate values, user attributes,
// the tracking run that mirrors it and its last heartbeat. SqliteStore and PgStore implement it
// next to MetadataStore, on the same database and connections; MetadataStore::studies() hands it
// out. study_store_test.cc is the conformance suite both pass.
//
// The store knows nothing of samplers: search spaces, sampler and pruner settings, parameter
// values and distributions are JSON texts the service writes and reads back. What the store
// guarantees is what workers on many hosts need from the database: trial numbers unique and
// gap-free per study however many replicas ask at once (each ask locks the study's row, so
// asks of one study are serialized by the database; a unique (study, number) constraint backs
// it), a budget of trials that concurrent asks cannot overshoot, a WAITING trial handed to one
// worker only, and a stale RUNNING trial failed by one caller only.
//
// Contract: as MetadataStore's. Every write is durable when the method returns OK. On
// PostgreSQL each method is one transaction that may be retried after a dropped connection; a
// retried ask may leave an extra RUNNING trial nobody runs, which the heartbeat sweep then
// fails (never a trial handed out twice). All methods are thread-safe.
#ifndef PLINTH_STORE_STUDY_STORE_H_
#define PLINTH_STORE_STUDY_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/records.h"

namespace plinth::store {

// Trial states as stored (Optuna's names).
enum class StoredTrialState : uint8_t { kRunning, kComplete, kPruned, kFail, kWaiting };
std::string_view StoredTrialStateName(StoredTrialState s);
std::optional<StoredTrialState> ParseStoredTrialState(std::string_view name);

struct StudyRecord {
  int64_t study_id = 0;  // chosen by the store
  std::string name;
  std::string experiment_id;             // the MLflow experiment its trials' runs belong to
  std::vector<std::string> directions;   // "minimize" / "maximize", one per objective
  std::string search_space_json = "{}";  // the declared space ({} for define-by-run only)
  std::string sampler_json = "{}";
  std::string pruner_json = "{}";
  std::string options_json = "{}";   // n_trials, heartbeat grace, retry_failed, metric names
  std::vector<KeyValue> user_attrs;  // values are JSON texts
  int64_t creation_time = 0;
};

struct TrialParamRecord {
  std::string name;
  double internal = 0.0;          // the sampler's representation (a choice's index)
  std::string external_json;      // what the user sees, as JSON
  std::string distribution_json;  // the distribution, as JSON
};

struct TrialRecord {
  int64_t trial_id = 0;  // unique across studies
  int64_t study_id = 0;
  int64_t number = 0;  // 0, 1, … within the study
  StoredTrialState state = StoredTrialState::kRunning;
  std::vector<double> values;            // one per objective once COMPLETE (PRUNED: at most one)
  std::vector<TrialParamRecord> params;  // in the order they were set
  std::vector<std::pair<int64_t, double>> intermediate_values;  // by step; NaN allowed
  std::vector<KeyValue> user_attrs;                             // values are JSON texts
  std::vector<KeyValue> system_attrs;    // the engine's bookkeeping (pruner rungs), JSON texts
  std::string fixed_params_json;         // enqueued trials: {"name": value, …}; "" for none
  std::optional<int64_t> retry_of;       // the failed trial's number this one repeats
  std::string run_id;                    // the tracking run; "" until it is created
  std::optional<int64_t> start_time;     // unset while WAITING
  std::optional<int64_t> complete_time;  // set once finished
  std::optional<int64_t> heartbeat_time;
};

// What an ask got: a trial to run, or none and why.
struct AskResult {
  std::optional<TrialRecord> trial;  // RUNNING, without params (the service samples them)
  // No trial because `max_trials` finished (COMPLETE or PRUNED) trials exist: stop asking.
  bool study_done = false;
};

struct TrialListRequest {
  int64_t study_id = 0;
  std::vector<StoredTrialState> states;  // empty: every state
  int64_t max_results = 1000;
  int64_t offset = 0;  // in trial-number order
};
struct TrialPage {
  bool has_more = false;
  std::vector<TrialRecord> trials;
};

// The trials of a study that changed after a version (StudyStore::LoadTrialsSince).
struct TrialChanges {
  // The study's version when read: every change up to it is in `trials` (or was before
  // `since`); a trial changed later may be in `trials` too, in its newer state.
  int64_t version = 0;
  std::vector<TrialRecord> trials;  // in number order, loaded as LoadTrials loads them
};

// How a trial finishes: its state, values (COMPLETE: one per objective; PRUNED: none or the
// last intermediate value) and time.
struct TrialFinish {
  StoredTrialState state = StoredTrialState::kComplete;
  std::vector<double> values;
  int64_t now = 0;
};

class StudyStore {
 public:
  virtual ~StudyStore() = default;

  // Inserts the study with its user attributes; returns its id.
  // Failure: kAlreadyExists "Study 'X' already exists."; kNotFound when the experiment is missing.
  virtual Result<int64_t> CreateStudy(const StudyRecord& study) = 0;
  // Failure: kNotFound "Study with id N not found" / "Study 'X' not found".
  virtual Result<StudyRecord> GetStudy(int64_t study_id) = 0;
  virtual Result<StudyRecord> GetStudyByName(const std::string& name) = 0;
  // Studies by id, `max_results` from `offset`; has_more tells whether more follow.
  virtual Result<std::vector<StudyRecord>> ListStudies(int64_t max_results, int64_t offset,
                                                       bool* has_more) = 0;
  // Upserts a study user attribute (value: JSON text). Failure: kNotFound.
  virtual Status SetStudyUserAttr(int64_t study_id, const KeyValue& attr) = 0;
  // Trials per state, indexed by StoredTrialState. Failure: kNotFound.
  virtual Result<std::vector<int64_t>> CountTrials(int64_t study_id) = 0;

  // Starts a trial: the oldest WAITING one (keeping its number and fixed params), else a new
  // RUNNING one with the next number; its start and heartbeat time are `now`. With
  // `max_trials`, no trial is started once COMPLETE + PRUNED + RUNNING trials reach it
  // (study_done tells whether the finished ones alone do). Failure: kNotFound for the study.
  virtual Result<AskResult> AskTrial(int64_t study_id, std::optional<int64_t> max_trials,
                                     int64_t now) = 0;
  // Queues a WAITING trial with fixed params (JSON object text); returns it.
  // Failure: kNotFound.
  virtual Result<TrialRecord> EnqueueTrial(int64_t study_id, const std::string& fixed_params_json,
                                           std::optional<int64_t> retry_of, int64_t now) = 0;
  // The trial with params, values, intermediate values and user attributes.
  // Failure: kNotFound "Trial with id N not found".
  virtual Result<TrialRecord> GetTrial(int64_t trial_id) = 0;
  virtual Result<TrialRecord> GetTrialByNumber(int64_t study_id, int64_t number) = 0;
  // Every trial of the study in number order, with params, values, intermediate values and
  // system attributes (user attributes left out: samplers and pruners do not read them).
  // Failure: kNotFound.
  virtual Result<std::vector<TrialRecord>> LoadTrials(int64_t study_id) = 0;
  // The study's change counter: bumped, in the writing transaction and under the study's row
  // lock, by every trial write a sampler or pruner reads (asks, enqueues, params, intermediate
  // values, tells, system attributes, heartbeat failures) — not by heartbeats or user
  // attributes. A cache of the study is current while the counter has not moved.
  // Failure: kNotFound.
  virtual Result<int64_t> StudyVersion(int64_t study_id) = 0;
  // The trials written after `since` (a version read before), with what LoadTrials loads, and
  // the version they bring the reader to. LoadTrialsSince(id, -1) loads every trial (those
  // last written before the counter existed have version 0).
  // Failure: kNotFound.
  virtual Result<TrialChanges> LoadTrialsSince(int64_t study_id, int64_t since) = 0;
  virtual Result<TrialPage> ListTrials(const TrialListRequest& request) = 0;

  // Sets parameters of a RUNNING trial (a name already set keeps its first value, as
  // Optuna's suggest does) and, when not empty, its run id; refreshes the heartbeat.
  // Failure: kNotFound; kFailedPrecondition when the trial is not RUNNING.
  virtual Status SetTrialParams(int64_t trial_id, const std::vector<TrialParamRecord>& params,
                                const std::string& run_id, int64_t now) = 0;
  // Records an intermediate value (a step reported again keeps its first value) and refreshes
  // the heartbeat. Failure: kNotFound; kFailedPrecondition when the trial is not RUNNING.
  virtual Status ReportIntermediate(int64_t trial_id, int64_t step, double value, int64_t now) = 0;
  // Refreshes the heartbeat. Failure: kNotFound; kFailedPrecondition when not RUNNING.
  virtual Status Heartbeat(int64_t trial_id, int64_t now) = 0;
  // Finishes a RUNNING trial. Failure: kNotFound; kFailedPrecondition when it is not RUNNING
  // (a trial told twice, or failed by the heartbeat sweep while its worker was away).
  virtual Status FinishTrial(int64_t trial_id, const TrialFinish& finish) = 0;
  // Upserts a trial user attribute (JSON text). Failure: kNotFound.
  virtual Status SetTrialUserAttr(int64_t trial_id, const KeyValue& attr) = 0;
  // Upserts a trial system attribute (JSON text): the engine's bookkeeping, such as the values
  // successive halving recorded at each rung. Failure: kNotFound.
  virtual Status SetTrialSystemAttr(int64_t trial_id, const KeyValue& attr) = 0;
  // Fails every RUNNING trial of the study whose heartbeat is older than `heartbeat_before`
  // and returns them (with params); with `retry`, queues a WAITING copy of each with the same
  // params (retry_of = its number). A trial is failed by one caller only. Failure: kNotFound.
  virtual Result<std::vector<TrialRecord>> FailStaleTrials(int64_t study_id,
                                                           int64_t heartbeat_before, int64_t now,
                                                           bool retry) = 0;
};

}  // namespace plinth::store

#endif  // PLINTH_STORE_STUDY_STORE_H_
