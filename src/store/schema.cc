#include "store/schema.h"

namespace plinth::store {
namespace {

constexpr Migration kMigrations[] = {
    {1, "tracking: experiments, runs, metrics, params, tags, datasets, logged models", R"SQL(
CREATE TABLE experiments (
  experiment_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
-- Child tables reference runs by the integer run_key: narrow keys make every B-tree probe and
-- page cheaper than 32-character uuids (measured: search and log-batch spend most of their
-- time in key comparisons). run_uuid is what the API sees.
CREATE TABLE runs (
  run_key INTEGER PRIMARY KEY,
  run_uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  artifact_uri TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  deleted_time INTEGER
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time DESC);
CREATE TABLE params (
  run_key INTEGER NOT NULL REFERENCES runs(run_key),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_key, key)
) WITHOUT ROWID;
CREATE INDEX params_by_key ON params (key, value);
CREATE TABLE tags (
  run_key INTEGER NOT NULL REFERENCES runs(run_key),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_key, key)
) WITHOUT ROWID;
CREATE INDEX tags_by_key ON tags (key, value);
-- Every logged point; identical points are stored once, as MLflow does.
CREATE TABLE metrics (
  run_key INTEGER NOT NULL REFERENCES runs(run_key),
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  model_id TEXT,
  dataset_name TEXT,
  dataset_digest TEXT,
  PRIMARY KEY (run_key, key, timestamp, step, value, is_nan)
) WITHOUT ROWID;
CREATE INDEX metrics_by_model ON metrics (model_id) WHERE model_id IS NOT NULL;
-- New points land here first, in arrival order, so a commit touches a few pages at the end of
-- this table instead of one page per metric key in `metrics`; they are merged into `metrics`
-- in bulk (in the background, and before any read of the run's history). Same columns.
CREATE TABLE metrics_staging (
  run_key INTEGER NOT NULL,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  model_id TEXT,
  dataset_name TEXT,
  dataset_digest TEXT
);
CREATE INDEX metrics_staging_by_run ON metrics_staging (run_key);
-- The latest point per (run, key): max by (step, timestamp, value). Search and GetRun read it.
CREATE TABLE latest_metrics (
  run_key INTEGER NOT NULL REFERENCES runs(run_key),
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_key, key)
) WITHOUT ROWID;
CREATE INDEX latest_metrics_by_key ON latest_metrics (key, value);
CREATE TABLE datasets (
  dataset_uuid INTEGER PRIMARY KEY,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  UNIQUE (experiment_id, name, digest)
);
CREATE TABLE run_inputs (
  run_key INTEGER NOT NULL REFERENCES runs(run_key),
  dataset_uuid INTEGER NOT NULL REFERENCES datasets(dataset_uuid),
  PRIMARY KEY (run_key, dataset_uuid)
) WITHOUT ROWID;
CREATE TABLE input_tags (
  run_key INTEGER NOT NULL,
  dataset_uuid INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_key, dataset_uuid, key)
) WITHOUT ROWID;
CREATE TABLE run_models (
  run_key INTEGER NOT NULL REFERENCES runs(run_key),
  model_id TEXT NOT NULL,
  direction TEXT NOT NULL,  -- 'input' or 'output'
  step INTEGER,
  PRIMARY KEY (run_key, direction, model_id)
) WITHOUT ROWID;
CREATE TABLE logged_models (
  model_id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  artifact_uri TEXT NOT NULL,
  status TEXT NOT NULL,
  status_message TEXT,
  model_type TEXT,
  source_run_id TEXT,
  creation_timestamp_ms INTEGER NOT NULL,
  last_updated_timestamp_ms INTEGER NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active'
);
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, creation_timestamp_ms);
CREATE TABLE logged_model_tags (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE logged_model_params (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
)SQL",
     R"SQL(
CREATE TABLE experiments (
  experiment_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  creation_time BIGINT NOT NULL,
  last_update_time BIGINT NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
);
CREATE TABLE runs (
  run_key BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  run_uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time BIGINT NOT NULL,
  end_time BIGINT,
  artifact_uri TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  deleted_time BIGINT
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time DESC);
CREATE TABLE params (
  run_key BIGINT NOT NULL REFERENCES runs(run_key),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_key, key)
);
-- Long values (up to 6000/8000 characters) would overflow a B-tree entry; index a prefix-free
-- hash instead for equality and the key alone for the rest.
CREATE INDEX params_by_key ON params (key, md5(value));
CREATE TABLE tags (
  run_key BIGINT NOT NULL REFERENCES runs(run_key),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_key, key)
);
CREATE INDEX tags_by_key ON tags (key, md5(value));
CREATE TABLE metrics (
  run_key BIGINT NOT NULL REFERENCES runs(run_key),
  key TEXT NOT NULL,
  step BIGINT NOT NULL,
  timestamp BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  model_id TEXT,
  dataset_name TEXT,
  dataset_digest TEXT,
  PRIMARY KEY (run_key, key, timestamp, step, value, is_nan)
);
CREATE INDEX metrics_by_model ON metrics (model_id) WHERE model_id IS NOT NULL;
-- SQLite's staging table; PostgreSQL writes straight into metrics and leaves it empty (it
-- exists so both backends have the same tables for export and import).
CREATE TABLE metrics_staging (
  run_key BIGINT NOT NULL,
  key TEXT NOT NULL,
  step BIGINT NOT NULL,
  timestamp BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  model_id TEXT,
  dataset_name TEXT,
  dataset_digest TEXT
);
CREATE TABLE latest_metrics (
  run_key BIGINT NOT NULL REFERENCES runs(run_key),
  key TEXT NOT NULL,
  step BIGINT NOT NULL,
  timestamp BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_key, key)
);
CREATE INDEX latest_metrics_by_key ON latest_metrics (key, value);
CREATE TABLE datasets (
  dataset_uuid BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  experiment_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  UNIQUE (experiment_id, name, digest)
);
CREATE TABLE run_inputs (
  run_key BIGINT NOT NULL REFERENCES runs(run_key),
  dataset_uuid BIGINT NOT NULL REFERENCES datasets(dataset_uuid),
  PRIMARY KEY (run_key, dataset_uuid)
);
CREATE TABLE input_tags (
  run_key BIGINT NOT NULL,
  dataset_uuid BIGINT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_key, dataset_uuid, key)
);
CREATE TABLE run_models (
  run_key BIGINT NOT NULL REFERENCES runs(run_key),
  model_id TEXT NOT NULL,
  direction TEXT NOT NULL,
  step BIGINT,
  PRIMARY KEY (run_key, direction, model_id)
);
CREATE TABLE logged_models (
  model_id TEXT PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  artifact_uri TEXT NOT NULL,
  status TEXT NOT NULL,
  status_message TEXT,
  model_type TEXT,
  source_run_id TEXT,
  creation_timestamp_ms BIGINT NOT NULL,
  last_updated_timestamp_ms BIGINT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active'
);
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, creation_timestamp_ms);
CREATE TABLE logged_model_tags (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
);
CREATE TABLE logged_model_params (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
);
)SQL"},
    {2, "registry: registered models, model versions, tags, aliases and the alias history",
     R"SQL(
-- Children reference a registered model by the integer model_key, never by its name, so a
-- rename rewrites one row.
CREATE TABLE registered_models (
  model_key INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description TEXT,
  -- The highest version number given out so far. A new version takes last_version + 1 in the
  -- UPDATE that increments it, under that row's lock: concurrent registrations (on any replica)
  -- never share a number, and a deleted version's number is never given out again (MLflow's
  -- numbering, which keeps deleted versions as hidden rows).
  last_version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE registered_model_tags (
  model_key INTEGER NOT NULL REFERENCES registered_models(model_key),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_key, key)
) WITHOUT ROWID;
CREATE INDEX registered_model_tags_by_key ON registered_model_tags (key, value);
CREATE TABLE model_versions (
  model_key INTEGER NOT NULL REFERENCES registered_models(model_key),
  version INTEGER NOT NULL,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description TEXT,
  user_id TEXT,
  current_stage TEXT NOT NULL DEFAULT 'None',
  source TEXT NOT NULL,
  -- Where the files are: the source itself, or what a models:/ source resolved to when the
  -- version was created (get-download-uri answers this).
  storage_location TEXT,
  run_id TEXT,
  run_link TEXT,
  model_id TEXT,  -- the MLflow 3 logged model the version was registered from
  status TEXT NOT NULL DEFAULT 'READY',
  status_message TEXT,
  PRIMARY KEY (model_key, version)
) WITHOUT ROWID;
CREATE INDEX model_versions_by_run ON model_versions (run_id);
CREATE TABLE model_version_tags (
  model_key INTEGER NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_key, version, key),
  FOREIGN KEY (model_key, version) REFERENCES model_versions(model_key, version)
) WITHOUT ROWID;
CREATE INDEX model_version_tags_by_key ON model_version_tags (key, value);
CREATE TABLE registered_model_aliases (
  model_key INTEGER NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (model_key, alias),
  FOREIGN KEY (model_key, version) REFERENCES model_versions(model_key, version)
) WITHOUT ROWID;
-- Every move of an alias, which MLflow does not keep: who moved it, when, from which version to
-- which. `plinth models rollback` returns an alias to its previous holder from here.
CREATE TABLE registered_model_alias_history (
  event_id INTEGER PRIMARY KEY,
  model_key INTEGER NOT NULL REFERENCES registered_models(model_key),
  alias TEXT NOT NULL,
  version INTEGER,           -- NULL: the alias was removed
  previous_version INTEGER,  -- NULL: it pointed nowhere before
  action TEXT NOT NULL,      -- set, promote, rollback, delete, version_deleted
  user_id TEXT,
  timestamp INTEGER NOT NULL
);
CREATE INDEX registered_model_alias_history_by_alias
  ON registered_model_alias_history (model_key, alias, event_id);
)SQL",
     R"SQL(
CREATE TABLE registered_models (
  model_key BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description TEXT,
  last_version BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE registered_model_tags (
  model_key BIGINT NOT NULL REFERENCES registered_models(model_key),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_key, key)
);
-- Tag values run to 100,000 characters, past what a B-tree entry holds: hash them.
CREATE INDEX registered_model_tags_by_key ON registered_model_tags (key, md5(value));
CREATE TABLE model_versions (
  model_key BIGINT NOT NULL REFERENCES registered_models(model_key),
  version BIGINT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description TEXT,
  user_id TEXT,
  current_stage TEXT NOT NULL DEFAULT 'None',
  source TEXT NOT NULL,
  storage_location TEXT,
  run_id TEXT,
  run_link TEXT,
  model_id TEXT,
  status TEXT NOT NULL DEFAULT 'READY',
  status_message TEXT,
  PRIMARY KEY (model_key, version)
);
CREATE INDEX model_versions_by_run ON model_versions (run_id);
CREATE TABLE model_version_tags (
  model_key BIGINT NOT NULL,
  version BIGINT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_key, version, key),
  FOREIGN KEY (model_key, version) REFERENCES model_versions(model_key, version)
);
CREATE INDEX model_version_tags_by_key ON model_version_tags (key, md5(value));
CREATE TABLE registered_model_aliases (
  model_key BIGINT NOT NULL,
  alias TEXT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (model_key, alias),
  FOREIGN KEY (model_key, version) REFERENCES model_versions(model_key, version)
);
CREATE TABLE registered_model_alias_history (
  event_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  model_key BIGINT NOT NULL REFERENCES registered_models(model_key),
  alias TEXT NOT NULL,
  version BIGINT,
  previous_version BIGINT,
  action TEXT NOT NULL,
  user_id TEXT,
  timestamp BIGINT NOT NULL
);
CREATE INDEX registered_model_alias_history_by_alias
  ON registered_model_alias_history (model_key, alias, event_id);
)SQL"},
    {3, "tuning: studies, trials, trial params, values, intermediate values, user attributes",
     R"SQL(
-- A hyperparameter study. Samplers live in the tuning service: the search space, the sampler
-- and pruner settings and the study options are JSON the service reads back. Each study's
-- trials are tracked as runs of `experiment_id`.
CREATE TABLE studies (
  study_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  directions TEXT NOT NULL,  -- comma-separated: minimize,maximize
  search_space TEXT NOT NULL,
  sampler TEXT NOT NULL,
  pruner TEXT NOT NULL,
  options TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  -- The number the next new trial takes. Asks increment it under the study's row lock, so
  -- workers on many replicas never share a number (UNIQUE (study_id, number) backs it).
  next_number INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE study_user_attrs (
  study_id INTEGER NOT NULL REFERENCES studies(study_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,  -- JSON
  PRIMARY KEY (study_id, key)
) WITHOUT ROWID;
CREATE TABLE trials (
  trial_id INTEGER PRIMARY KEY,
  study_id INTEGER NOT NULL REFERENCES studies(study_id),
  number INTEGER NOT NULL,
  state TEXT NOT NULL,  -- RUNNING, COMPLETE, PRUNED, FAIL, WAITING
  run_id TEXT,
  fixed_params TEXT,  -- enqueued trials: a JSON object of values
  retry_of INTEGER,   -- the number of the failed trial this one repeats
  start_time INTEGER,
  complete_time INTEGER,
  heartbeat_time INTEGER,
  UNIQUE (study_id, number)
);
CREATE INDEX trials_by_state ON trials (study_id, state, number);
CREATE TABLE trial_values (
  trial_id INTEGER NOT NULL REFERENCES trials(trial_id),
  objective INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (trial_id, objective)
) WITHOUT ROWID;
CREATE TABLE trial_params (
  trial_id INTEGER NOT NULL REFERENCES trials(trial_id),
  name TEXT NOT NULL,
  seq INTEGER NOT NULL,  -- the order the parameters were set in
  value REAL NOT NULL,   -- internal (a categorical's choice index)
  external TEXT NOT NULL,      -- JSON
  distribution TEXT NOT NULL,  -- JSON
  PRIMARY KEY (trial_id, name)
) WITHOUT ROWID;
-- value NULL stands for NaN (SQLite stores NaN as NULL; PostgreSQL follows for one format).
CREATE TABLE trial_intermediate_values (
  trial_id INTEGER NOT NULL REFERENCES trials(trial_id),
  step INTEGER NOT NULL,
  value REAL,
  PRIMARY KEY (trial_id, step)
) WITHOUT ROWID;
CREATE TABLE trial_user_attrs (
  trial_id INTEGER NOT NULL REFERENCES trials(trial_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,  -- JSON
  PRIMARY KEY (trial_id, key)
) WITHOUT ROWID;
)SQL",
     R"SQL(
CREATE TABLE studies (
  study_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  directions TEXT NOT NULL,
  search_space TEXT NOT NULL,
  sampler TEXT NOT NULL,
  pruner TEXT NOT NULL,
  options TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  next_number BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE study_user_attrs (
  study_id BIGINT NOT NULL REFERENCES studies(study_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (study_id, key)
);
CREATE TABLE trials (
  trial_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  study_id BIGINT NOT NULL REFERENCES studies(study_id),
  number BIGINT NOT NULL,
  state TEXT NOT NULL,
  run_id TEXT,
  fixed_params TEXT,
  retry_of BIGINT,
  start_time BIGINT,
  complete_time BIGINT,
  heartbeat_time BIGINT,
  UNIQUE (study_id, number)
);
CREATE INDEX trials_by_state ON trials (study_id, state, number);
CREATE TABLE trial_values (
  trial_id BIGINT NOT NULL REFERENCES trials(trial_id),
  objective BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (trial_id, objective)
);
CREATE TABLE trial_params (
  trial_id BIGINT NOT NULL REFERENCES trials(trial_id),
  name TEXT NOT NULL,
  seq BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  external TEXT NOT NULL,
  distribution TEXT NOT NULL,
  PRIMARY KEY (trial_id, name)
);
CREATE TABLE trial_intermediate_values (
  trial_id BIGINT NOT NULL REFERENCES trials(trial_id),
  step BIGINT NOT NULL,
  value DOUBLE PRECISION,
  PRIMARY KEY (trial_id, step)
);
CREATE TABLE trial_user_attrs (
  trial_id BIGINT NOT NULL REFERENCES trials(trial_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (trial_id, key)
);
)SQL"},
    {4, "datasets: content-addressed dataset versions with schema, profile and validation",
     R"SQL(
-- Named datasets (MLflow's `datasets` table is the run inputs'): a per-name version counter,
-- locked while a version is added.
CREATE TABLE dataset_names (
  dataset_key INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  next_version INTEGER NOT NULL,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL
);
-- One version: the SHA-256 of its bytes, where they are kept, and what was learned on adding.
CREATE TABLE dataset_versions (
  dataset_key INTEGER NOT NULL REFERENCES dataset_names(dataset_key),
  version INTEGER NOT NULL,
  digest TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  source TEXT,
  storage_uri TEXT NOT NULL,
  format TEXT,
  num_rows INTEGER,
  num_columns INTEGER,
  schema_json TEXT,
  profile_json TEXT,
  validation_json TEXT,
  validation_success INTEGER,
  description TEXT,
  user_id TEXT,
  creation_time INTEGER NOT NULL,
  PRIMARY KEY (dataset_key, version)
);
CREATE INDEX dataset_versions_by_digest ON dataset_versions (digest);
)SQL",
     R"SQL(
CREATE TABLE dataset_names (
  dataset_key BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  next_version BIGINT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL
);
CREATE TABLE dataset_versions (
  dataset_key BIGINT NOT NULL REFERENCES dataset_names(dataset_key),
  version BIGINT NOT NULL,
  digest TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  source TEXT,
  storage_uri TEXT NOT NULL,
  format TEXT,
  num_rows BIGINT,
  num_columns BIGINT,
  schema_json TEXT,
  profile_json TEXT,
  validation_json TEXT,
  validation_success BIGINT,
  description TEXT,
  user_id TEXT,
  creation_time BIGINT NOT NULL,
  PRIMARY KEY (dataset_key, version)
);
CREATE INDEX dataset_versions_by_digest ON dataset_versions (digest);
)SQL"},
    {5,
     "tuning: trial system attributes (the engine's bookkeeping, e.g. successive halving's rungs)",
     R"SQL(
-- What the engine keeps about a trial besides the user's view (Optuna's system_attrs): the
-- values successive halving recorded at each rung, so a pruner decides the same on any
-- replica and after a restart.
CREATE TABLE trial_system_attrs (
  trial_id INTEGER NOT NULL REFERENCES trials(trial_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,  -- JSON
  PRIMARY KEY (trial_id, key)
) WITHOUT ROWID;
)SQL",
     R"SQL(
CREATE TABLE trial_system_attrs (
  trial_id BIGINT NOT NULL REFERENCES trials(trial_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (trial_id, key)
);
)SQL"},
    {6,
     "tuning: a per-study change counter, bumped with every trial write, and each trial's last "
     "change",
     R"SQL(
-- `version` counts the study's trial writes (asks, enqueues, params, reports, tells, system
-- attributes, heartbeat failures; not heartbeats or user attributes). It is bumped under the
-- study's row lock in the writing transaction, so versions are handed out in commit order: a
-- server caching a study reads it to know whether the study moved, and loads only the trials
-- whose `version` is newer than the one it holds.
ALTER TABLE studies ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX trials_by_version ON trials (study_id, version);
)SQL",
     R"SQL(
ALTER TABLE studies ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX trials_by_version ON trials (study_id, version);
)SQL"},
    {7, "tracking: metric points by step, for sampled histories (get-history-bulk-interval)",
     R"SQL(
-- The primary key orders a run's points by timestamp; this orders them by step (then as MLflow
-- orders points within a step), so a sampled history is found by index seeks, not by reading the
-- whole history. In a WITHOUT ROWID table these columns are the whole key: the index covers the
-- sampled answer.
CREATE INDEX metrics_by_step ON metrics (run_key, key, step, timestamp, value, is_nan);
)SQL",
     R"SQL(
CREATE INDEX metrics_by_step ON metrics (run_key, key, step, timestamp, value, is_nan);
)SQL"},
};

constexpr TableSpec kTables[] = {
    {"experiments",
     "experiment_id,name,artifact_location,lifecycle_stage,creation_time,last_update_time",
     "itttii", "experiment_id", "experiment_id"},
    {"experiment_tags", "experiment_id,key,value", "itt", "experiment_id,key", nullptr},
    {"runs",
     "run_key,run_uuid,name,experiment_id,user_id,status,start_time,end_time,artifact_uri,"
     "lifecycle_stage,deleted_time",
     "ittittiitti", "run_key", "run_key"},
    {"params", "run_key,key,value", "itt", "run_key,key", nullptr},
    {"tags", "run_key,key,value", "itt", "run_key,key", nullptr},
    {"metrics", "run_key,key,step,timestamp,value,is_nan,model_id,dataset_name,dataset_digest",
     "itiiditt"
     "t",
     "run_key,key,timestamp,step,value,is_nan", nullptr},
    {"metrics_staging",
     "run_key,key,step,timestamp,value,is_nan,model_id,dataset_name,dataset_digest",
     "itiiditt"
     "t",
     "run_key,key,timestamp,step,value,is_nan", nullptr},
    {"latest_metrics", "run_key,key,step,timestamp,value,is_nan", "itiidi", "run_key,key", nullptr},
    {"datasets", "dataset_uuid,experiment_id,name,digest,source_type,source,schema,profile",
     "iitttttt", "dataset_uuid", "dataset_uuid"},
    {"run_inputs", "run_key,dataset_uuid", "ii", "run_key,dataset_uuid", nullptr},
    {"input_tags", "run_key,dataset_uuid,key,value", "iitt", "run_key,dataset_uuid,key", nullptr},
    {"run_models", "run_key,model_id,direction,step", "itti", "run_key,direction,model_id",
     nullptr},
    {"logged_models",
     "model_id,experiment_id,name,artifact_uri,status,status_message,model_type,source_run_id,"
     "creation_timestamp_ms,last_updated_timestamp_ms,lifecycle_stage",
     "titttttt"
     "iit",
     "model_id", nullptr},
    {"logged_model_tags", "model_id,key,value", "ttt", "model_id,key", nullptr},
    {"logged_model_params", "model_id,key,value", "ttt", "model_id,key", nullptr},
    {"registered_models", "model_key,name,creation_time,last_updated_time,description,last_version",
     "itiiti", "model_key", "model_key"},
    {"registered_model_tags", "model_key,key,value", "itt", "model_key,key", nullptr},
    {"model_versions",
     "model_key,version,creation_time,last_updated_time,description,user_id,current_stage,source,"
     "storage_location,run_id,run_link,model_id,status,status_message",
     "iiiitttttttttt", "model_key,version", nullptr},
    {"model_version_tags", "model_key,version,key,value", "iitt", "model_key,version,key", nullptr},
    {"registered_model_aliases", "model_key,alias,version", "iti", "model_key,alias", nullptr},
    {"registered_model_alias_history",
     "event_id,model_key,alias,version,previous_version,action,user_id,timestamp", "iitiitti",
     "event_id", "event_id"},
    {"studies",
     "study_id,name,experiment_id,directions,search_space,sampler,pruner,options,creation_time,"
     "next_number,version",
     "itittttt"
     "iii",
     "study_id", "study_id"},
    {"study_user_attrs", "study_id,key,value", "itt", "study_id,key", nullptr},
    {"trials",
     "trial_id,study_id,number,state,run_id,fixed_params,retry_of,start_time,complete_time,"
     "heartbeat_time,version",
     "iiittt"
     "iiiii",
     "trial_id", "trial_id"},
    {"trial_values", "trial_id,objective,value", "iid", "trial_id,objective", nullptr},
    {"trial_params", "trial_id,name,seq,value,external,distribution", "itidtt", "trial_id,name",
     nullptr},
    {"trial_intermediate_values", "trial_id,step,value", "iid", "trial_id,step", nullptr},
    {"trial_user_attrs", "trial_id,key,value", "itt", "trial_id,key", nullptr},
    {"trial_system_attrs", "trial_id,key,value", "itt", "trial_id,key", nullptr},
    {"dataset_names", "dataset_key,name,next_version,creation_time,last_updated_time", "itiii",
     "dataset_key", "dataset_key"},
    {"dataset_versions",
     "dataset_key,version,digest,size_bytes,source,storage_uri,format,num_rows,num_columns,"
     "schema_json,profile_json,validation_json,validation_success,description,user_id,"
     "creation_time",
     "iitittti"
     "itttitti",
     "dataset_key,version", nullptr},
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

std::span<const TableSpec> ExportedTables() { return kTables; }

}  // namespace plinth::store
