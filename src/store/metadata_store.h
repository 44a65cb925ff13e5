// MetadataStore: the seam between the engines and the database that holds experiments, runs,
// metrics, params, tags, dataset inputs and logged models. SqliteStore (embedded default) is
// the first implementation; a PostgreSQL one implements the same interface and passes the same
// conformance suite (metadata_store_test.cc). The model registry's tables, in the same database,
// are reached through registry() (RegistryStore, registry_store.h).
//
// Contract: methods validate only what needs the database (existence, lifecycle, uniqueness,
// write-once params); field-level validation is the tracking engine's job. Every write is
// durable when the method returns OK. All methods are thread-safe.
#ifndef PLINTH_STORE_METADATA_STORE_H_
#define PLINTH_STORE_METADATA_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/dataset_store.h"
#include "store/query.h"
#include "store/records.h"
#include "store/registry_store.h"
#include "store/study_store.h"

namespace plinth::store {

struct RunUpdate {
  std::optional<RunStatus> status;
  std::optional<int64_t> end_time;
  std::optional<std::string> run_name;  // also rewrites the mlflow.runName tag
};

struct Page {
  bool has_more = false;
};
struct RunPage : Page {
  std::vector<Run> runs;
};
struct ExperimentPage : Page {
  std::vector<Experiment> experiments;
};
struct MetricPage : Page {
  std::vector<Metric> metrics;
};
struct LoggedModelPage : Page {
  std::vector<LoggedModel> models;
};

// What purging an experiment removes: its runs and logged models, in any lifecycle stage.
struct ExperimentContents {
  std::vector<RunInfo> runs;
  std::vector<LoggedModel> models;  // without tags, params and metrics
};

struct LoggedModelSearch {
  std::vector<std::string> experiment_ids;
  Filter filter;
  std::vector<OrderBy> order_by;
  int64_t max_results = 50;
  int64_t offset = 0;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // ---- experiments
  // Creates an experiment; an empty artifact_location becomes `<default_root>/<id>`.
  // Returns the new id. Failure: kAlreadyExists when the name is taken (deleted ones too).
  virtual Result<std::string> CreateExperiment(const Experiment& experiment,
                                               const std::string& default_root) = 0;
  // Failure: kNotFound.
  virtual Result<Experiment> GetExperiment(const std::string& experiment_id) = 0;
  // Prefers an active experiment over a deleted one. Failure: kNotFound.
  virtual Result<Experiment> GetExperimentByName(const std::string& name) = 0;
  virtual Result<ExperimentPage> SearchExperiments(const ExperimentSearch& search) = 0;
  // Failure: kNotFound; kAlreadyExists when new_name is taken.
  virtual Status RenameExperiment(const std::string& experiment_id, const std::string& new_name,
                                  int64_t now) = 0;
  // Deletes or restores an experiment and, like MLflow, its runs. Failure: kNotFound.
  virtual Status SetExperimentLifecycle(const std::string& experiment_id, LifecycleStage stage,
                                        int64_t now) = 0;
  virtual Status SetExperimentTag(const std::string& experiment_id, const KeyValue& tag) = 0;
  virtual Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key) = 0;

  // ---- runs
  // Inserts a fully formed run (id, name, artifact uri, tags chosen by the caller).
  // Failure: kNotFound when the experiment is missing; kInvalidArgument when it is deleted.
  virtual Status CreateRun(const Run& run) = 0;
  // Failure: kNotFound.
  virtual Result<Run> GetRun(const std::string& run_id) = 0;
  virtual Result<RunInfo> UpdateRun(const std::string& run_id, const RunUpdate& update) = 0;
  virtual Status SetRunLifecycle(const std::string& run_id, LifecycleStage stage, int64_t now) = 0;
  // Appends metrics, sets params (write-once: kInvalidArgument on a changed value) and tags, in
  // one transaction: all or nothing. Failure: kNotFound; kInvalidArgument if the run is deleted.
  virtual Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                          const std::vector<KeyValue>& params,
                          const std::vector<KeyValue>& tags) = 0;
  // Failure: kNotFound when the run or the tag is missing.
  virtual Status DeleteTag(const std::string& run_id, const std::string& key) = 0;
  virtual Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& datasets,
                           const std::vector<ModelIo>& models) = 0;
  virtual Status LogOutputs(const std::string& run_id, const std::vector<ModelIo>& models) = 0;
  // Metric history ordered by (timestamp, step, value) as MLflow, `max_results` per page from
  // `offset`. A run that does not exist has an empty history (MLflow answers 200, not 404).
  virtual Result<MetricPage> GetMetricHistory(const std::string& run_id, const std::string& key,
                                              int64_t max_results, int64_t offset) = 0;
  // Up to `max_results` (>= 1) points per run, sampled evenly over [start_step, end_step],
  // always keeping the first and last point, in (step, timestamp, value) order; only key, value,
  // timestamp, step and run_id are set. MLflow's row sampling, found by index seeks where each
  // step holds one point (see SampleMetricHistory in store_common.h). Missing runs are skipped.
  virtual Result<std::vector<Metric>> GetMetricHistorySampled(
      const std::vector<std::string>& run_ids, const std::string& key,
      std::optional<int64_t> start_step, std::optional<int64_t> end_step, int64_t max_results) = 0;
  virtual Result<RunPage> SearchRuns(const RunSearch& search) = 0;

  // Whether the database answers now (readiness probes). The default is for embedded stores.
  virtual Status Ping() { return Status::Ok(); }

  // The model registry's tables in the same database, on the same connections: this object
  // seen through the RegistryStore seam (registry_store.h). Valid as long as the store.
  virtual RegistryStore& registry() = 0;
  // The tuning tables (studies, trials) through the StudyStore seam (study_store.h), likewise.
  virtual StudyStore& studies() = 0;
  // Dataset versions (dataset_names, dataset_versions) through DatasetStore (dataset_store.h).
  virtual DatasetStore& datasets() = 0;

  // ---- logged models (MLflow 3)
  virtual Status CreateLoggedModel(const LoggedModel& model) = 0;
  // Failure: kNotFound (also for deleted models).
  virtual Result<LoggedModel> GetLoggedModel(const std::string& model_id) = 0;
  virtual Status SetLoggedModelStatus(const std::string& model_id, LoggedModelStatus status,
                                      const std::string& message, int64_t now) = 0;
  virtual Status DeleteLoggedModel(const std::string& model_id, int64_t now) = 0;
  virtual Status SetLoggedModelTags(const std::string& model_id, const std::vector<KeyValue>& tags,
                                    int64_t now) = 0;
  virtual Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key) = 0;
  virtual Status LogLoggedModelParams(const std::string& model_id,
                                      const std::vector<KeyValue>& params) = 0;
  virtual Result<LoggedModelPage> SearchLoggedModels(const LoggedModelSearch& search) = 0;

  // ---- permanent deletion (`plinth gc`); the caller deletes artifacts before purging rows
  // Runs in the deleted stage deleted before `deleted_before` (ms since the epoch; nullopt: all
  // of them, also those without a deletion time), oldest deletion first.
  virtual Result<std::vector<RunInfo>> ListDeletedRuns(std::optional<int64_t> deleted_before) = 0;
  // Experiments in the deleted stage last updated before `updated_before` (nullopt: all),
  // without tags.
  virtual Result<std::vector<Experiment>> ListDeletedExperiments(
      std::optional<int64_t> updated_before) = 0;
  // Failure: kNotFound.
  virtual Result<ExperimentContents> ListExperimentContents(const std::string& experiment_id) = 0;
  // Removes a deleted run and every row that belongs to it (params, tags, metric points, latest
  // metrics, inputs, outputs). Failure: kNotFound; kFailedPrecondition when the run is active.
  virtual Status PurgeRun(const std::string& run_id) = 0;
  // Removes a deleted experiment with its runs (which must all be deleted), logged models,
  // datasets and tags. Failure: kNotFound; kFailedPrecondition when the experiment or one of its
  // runs is active, or it is the Default experiment (which every store keeps).
  virtual Status PurgeExperiment(const std::string& experiment_id) = 0;
};

struct SqliteStoreOptions {
  std::string path;  // database file; created with its folder if missing
  int reader_connections = 8;
  int max_group_commit = 256;  // most write jobs folded into one transaction
};

// Opens the SQLite store, running schema migrations. Failure: kUnavailable when the file cannot
// be opened or created; kFailedPrecondition when its schema is newer than this binary knows.
Result<std::unique_ptr<MetadataStore>> OpenSqliteStore(const SqliteStoreOptions& options,
                                                       int64_t now);

struct StoreOpenOptions {
  int pool_size = 16;  // PostgreSQL: most connections this process opens
  // Apply pending migrations at open. SQLite (one process) always may; for PostgreSQL an empty
  // database gets the schema, but upgrading an existing one is `plinth db migrate`'s job
  // (replicas must not race to migrate) unless this is set.
  bool migrate = false;
};

// Checks a --backend-store-uri without opening it: sqlite:///PATH, a plain path, or
// postgresql://… (also postgres://). Failure: kInvalidArgument saying what is wrong.
Status CheckStoreUri(const std::string& uri);
// The URI with any password replaced by "***", for logs.
std::string RedactStoreUri(const std::string& uri);
// Opens the store a URI names. Failure: as OpenSqliteStore / OpenPostgresStore.
Result<std::unique_ptr<MetadataStore>> OpenStoreFromUri(const std::string& uri,
                                                        const StoreOpenOptions& options,
                                                        int64_t now);

struct PostgresStoreOptions {
  std::string conninfo;  // a libpq connection string or postgresql:// URI
  int pool_size = 16;
  bool migrate = false;  // see StoreOpenOptions::migrate
};
// Opens the PostgreSQL store. Failure: kUnavailable when the server cannot be reached;
// kFailedPrecondition when the schema is newer than this binary, or older and !migrate.
Result<std::unique_ptr<MetadataStore>> OpenPostgresStore(const PostgresStoreOptions& options,
                                                         int64_t now);

// Text forms used on the wire and in the database.
std::string_view RunStatusName(RunStatus status);
std::optional<RunStatus> ParseRunStatus(std::string_view name);
std::string_view LifecycleName(LifecycleStage stage);
std::string_view LoggedModelStatusName(LoggedModelStatus status);
std::optional<LoggedModelStatus> ParseLoggedModelStatus(std::string_view name);

}  // namespace plinth::store

#endif  // PLINTH_STORE_METADATA_STORE_H_
