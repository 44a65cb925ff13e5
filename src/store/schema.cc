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
    {"metrics",
     "run_key,key,step,timestamp,value,is_nan,model_id,dataset_name,dataset_digest",
     "itiiditt" "t", "run_key,key,timestamp,step,value,is_nan", nullptr},
    {"metrics_staging",
     "run_key,key,step,timestamp,value,is_nan,model_id,dataset_name,dataset_digest",
     "itiiditt" "t", "run_key,key,timestamp,step,value,is_nan", nullptr},
    {"latest_metrics", "run_key,key,step,timestamp,value,is_nan", "itiidi", "run_key,key",
     nullptr},
    {"datasets", "dataset_uuid,experiment_id,name,digest,source_type,source,schema,profile",
     "iitttttt", "dataset_uuid", "dataset_uuid"},
    {"run_inputs", "run_key,dataset_uuid", "ii", "run_key,dataset_uuid", nullptr},
    {"input_tags", "run_key,dataset_uuid,key,value", "iitt", "run_key,dataset_uuid,key", nullptr},
    {"run_models", "run_key,model_id,direction,step", "itti", "run_key,direction,model_id",
     nullptr},
    {"logged_models",
     "model_id,experiment_id,name,artifact_uri,status,status_message,model_type,source_run_id,"
     "creation_timestamp_ms,last_updated_timestamp_ms,lifecycle_stage",
     "titttttt" "iit", "model_id", nullptr},
    {"logged_model_tags", "model_id,key,value", "ttt", "model_id,key", nullptr},
    {"logged_model_params", "model_id,key,value", "ttt", "model_id,key", nullptr},
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

std::span<const TableSpec> ExportedTables() { return kTables; }

}  // namespace plinth::store
