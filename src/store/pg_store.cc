// PgStore: the MetadataStore on PostgreSQL, for teams that run many `plinth server` replicas
// on one database.
//
// Connections: a pool of at most `pool_size` libpq connections per process, opened lazily and
// reopened after a drop; each caller leases one for one transaction.
// Writes: one READ COMMITTED transaction per request. Races are settled by the database, not by
// this process (other replicas write too): unique constraints decide duplicate experiment names
// and run ids, `INSERT … ON CONFLICT` makes params write-once and tags last-writer-wins, and the
// latest-metric upsert compares (step, timestamp, value) under the row lock ON CONFLICT takes, so
// concurrent batches never lose the newest value. Rows are written in key order so concurrent
// batches on one run lock in the same order.
// Retries: a transaction that fails with a serialization failure, a deadlock, a dropped
// connection or a restarting server is run again with backoff (about 15 s in all), so a
// PostgreSQL restart shows up as latency, then as 503 (which clients retry), never as a lost
// acknowledged write. Every write is idempotent when re-run after an ambiguous COMMIT: metric
// points are a set (ON CONFLICT DO NOTHING), a run whose insert already landed is not created
// twice.
// Reads: a single statement runs alone; reads of several tables run in one REPEATABLE READ
// READ ONLY snapshot.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "core/log.h"
#include "store/dataset_sql.h"
#include "store/metadata_store.h"
#include "store/pg_db.h"
#include "store/registry_sql.h"
#include "store/schema.h"
#include "store/sql_filter.h"
#include "store/sql_session.h"
#include "store/store_common.h"
#include "store/study_sql.h"

namespace plinth::store {
namespace {

// Lock id for migrations (any constant; "plinth" in ASCII), so replicas starting together
// apply the schema once.
constexpr int64_t kMigrationLock = 0x706c696e7468;
constexpr int kMaxAttempts = 12;

PgParams ToParams(const std::vector<SqlValue>& binds) {
  PgParams p;
  for (const SqlValue& v : binds) {
    if (const auto* s = std::get_if<std::string>(&v)) {
      p.Add(*s);
    } else if (const auto* n = std::get_if<int64_t>(&v)) {
      p.Add(*n);
    } else {
      p.Add(std::get<double>(v));
    }
  }
  return p;
}

// "{1,2,3}": an int8[] literal for `= ANY(?::bigint[])`.
std::string ArrayLiteral(const std::vector<int64_t>& keys) {
  std::string out = "{";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(keys[i]);
  }
  return out + "}";
}

// "(?,?,?),(?,?,?)" for `rows` rows of `width` placeholders.
std::string ValuesList(size_t rows, int width) {
  std::string one = "(";
  for (int i = 0; i < width; ++i) one += i == 0 ? "?" : ",?";
  one += ")";
  std::string out;
  for (size_t r = 0; r < rows; ++r) {
    if (r > 0) out += ',';
    out += one;
  }
  return out;
}

enum class TxnMode {
  kWrite,     // READ COMMITTED read-write transaction
  kSnapshot,  // REPEATABLE READ READ ONLY: several reads that must agree
  kSingle,    // one statement, no explicit transaction
};

// The points of one run's metric in a step range, ordered by (step, timestamp, value, is_nan)
// off the metrics_by_step index, for SampleMetricHistory (store_common.h). The seeks travel
// together: one statement, one index probe per target step.
class SampledHistorySource {
 public:
  SampledHistorySource(PgConn& c, int64_t run_key, const std::string& key, int64_t lo, int64_t hi)
      : c_(c), run_key_(run_key), key_(key), lo_(lo), hi_(hi) {}

  Result<std::vector<SampledPoint>> Head(int64_t n) {
    return Points(std::string(kInRange) + kAscending + " LIMIT ?", Range().Add(n));
  }

  Result<SampledPoint> Last() {
    PLINTH_ASSIGN_OR_RETURN(
        std::vector<SampledPoint> last,
        Points(std::string(kInRange) +
                   " ORDER BY step DESC, timestamp DESC, value DESC, is_nan DESC LIMIT 1",
               Range()));
    if (last.empty()) return SampledPoint{};
    return last.front();
  }

  Result<std::vector<StepSeek>> FirstAtOrAfter(const std::vector<int64_t>& steps) {
    // Two points per target: the second says whether the first's step repeats.
    PLINTH_ASSIGN_OR_RETURN(
        PgResult r,
        c_.Exec("SELECT t.i, m.step, m.timestamp, m.value, m.is_nan FROM unnest(?::bigint[]) "
                "WITH ORDINALITY AS t(target, i) CROSS JOIN LATERAL (SELECT step, timestamp, "
                "value, is_nan FROM metrics WHERE run_key=? AND key=? AND step >= GREATEST("
                "t.target, ?) AND step <= ? ORDER BY step, timestamp, value, is_nan LIMIT 2) m "
                "ORDER BY t.i, m.step, m.timestamp, m.value, m.is_nan",
                PgParams().Add(ArrayLiteral(steps)).Add(run_key_).Add(key_).Add(lo_).Add(hi_)));
    std::vector<StepSeek> out;
    out.reserve(steps.size());
    int64_t target = -1;
    for (int i = 0; i < r.rows(); ++i) {
      SampledPoint p{r.Int64(i, 1), r.Int64(i, 2), r.Double(i, 3), r.Int64(i, 4)};
      if (r.Int64(i, 0) != target) {
        target = r.Int64(i, 0);
        out.push_back(StepSeek{p, false});
      } else {
        out.back().step_repeats = p.step == out.back().point.step;
      }
    }
    return out;
  }

  Result<int64_t> Count() {
    PLINTH_ASSIGN_OR_RETURN(
        PgResult r,
        c_.Exec("SELECT COUNT(*) FROM metrics WHERE run_key=? AND key=? AND step BETWEEN ? AND ?",
                Range()));
    return r.rows() ? r.Int64(0, 0) : 0;
  }

  Result<std::vector<SampledPoint>> AtOrdinals(const std::vector<int64_t>& ordinals) {
    return Points(
        "SELECT step, timestamp, value, is_nan FROM (SELECT step, timestamp, value, is_nan, "
        "row_number() OVER (ORDER BY step, timestamp, value, is_nan) - 1 AS i FROM metrics "
        "WHERE run_key=? AND key=? AND step BETWEEN ? AND ?) n WHERE i = ANY(?::bigint[]) "
        "ORDER BY i",
        Range().Add(ArrayLiteral(ordinals)));
  }

 private:
  static constexpr const char* kInRange =
      "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_key=? AND key=? AND step "
      "BETWEEN ? AND ?";
  static constexpr const char* kAscending = " ORDER BY step, timestamp, value, is_nan";

  PgParams Range() const { return PgParams().Add(run_key_).Add(key_).Add(lo_).Add(hi_); }

  Result<std::vector<SampledPoint>> Points(const std::string& sql, const PgParams& params) {
    PLINTH_ASSIGN_OR_RETURN(PgResult r, c_.Exec(sql, params));
    std::vector<SampledPoint> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(SampledPoint{r.Int64(i, 0), r.Int64(i, 1), r.Double(i, 2), r.Int64(i, 3)});
    }
    return out;
  }

  PgConn& c_;
  int64_t run_key_;
  const std::string& key_;
  int64_t lo_;
  int64_t hi_;
};

// The registry's view of a connection inside one of PgStore's transactions (sql_session.h).
class PgSession final : public SqlSession {
 public:
  explicit PgSession(PgConn& conn) : conn_(conn) {}

  Result<SqlRows> Run(const std::string& sql, const std::vector<SqlArg>& args,
                      bool cached) override {
    PgParams params;
    for (const SqlArg& arg : args) {
      if (const auto* n = std::get_if<int64_t>(&arg)) {
        params.Add(*n);
      } else if (const auto* d = std::get_if<double>(&arg)) {
        params.Add(*d);
      } else if (const auto* t = std::get_if<std::string>(&arg)) {
        params.Add(*t);
      } else {
        params.AddNull();
      }
    }
    PLINTH_ASSIGN_OR_RETURN(PgResult r,
                            cached ? conn_.Exec(sql, params) : conn_.ExecOnce(sql, params));
    SqlRows rows;
    for (int i = 0; i < r.rows(); ++i) {
      SqlRows::Row cells(static_cast<size_t>(r.cols()));
      for (int c = 0; c < r.cols(); ++c) {
        if (!r.IsNull(i, c)) cells[static_cast<size_t>(c)] = r.Text(i, c);
      }
      rows.AddRow(std::move(cells));
    }
    rows.set_affected(r.Affected());
    return rows;
  }

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }

 private:
  PgConn& conn_;
};

class PgStore final : public MetadataStore,
                      public RegistryStore,
                      public StudyStore,
                      public DatasetStore {
 public:
  explicit PgStore(PostgresStoreOptions options) : options_(std::move(options)) {
    if (options_.pool_size < 1) options_.pool_size = 1;
  }

  Status Open(int64_t now) {
    PLINTH_ASSIGN_OR_RETURN(auto conn, PgConn::Connect(options_.conninfo));
    PLINTH_RETURN_IF_ERROR(Migrate(*conn, now));
    idle_.push_back(std::move(conn));
    open_ = 1;
    return Status::Ok();
  }

  // ------------------------------------------------------------------ experiments

  Result<std::string> CreateExperiment(const Experiment& e,
                                       const std::string& default_root) override {
    return Transact<std::string>(TxnMode::kWrite, [&](PgConn& c, int) -> Result<std::string> {
      PLINTH_ASSIGN_OR_RETURN(
          PgResult found,
          c.Exec("SELECT lifecycle_stage FROM experiments WHERE name=?", PgParams().Add(e.name)));
      if (found.rows() > 0) {
        return found.Text(0, 0) == "deleted"
                   ? AlreadyExists("Experiment '" + e.name +
                                   "' already exists in deleted state. You can restore the "
                                   "experiment, or permanently delete it first.")
                   : ExperimentNameTaken(e.name);
      }
      auto inserted = c.Exec(
          "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, "
          "last_update_time) VALUES (?, ?, 'active', ?, ?) RETURNING experiment_id",
          PgParams()
              .Add(e.name)
              .Add(e.artifact_location)
              .Add(e.creation_time)
              .Add(e.creation_time));
      if (!inserted.ok()) {
        // Another replica created the same name between our check and insert.
        if (inserted.status().code() == StatusCode::kAlreadyExists) {
          return ExperimentNameTaken(e.name);
        }
        return inserted.status();
      }
      int64_t new_id = inserted->Int64(0, 0);
      std::string id = std::to_string(new_id);
      if (e.artifact_location.empty()) {
        PLINTH_RETURN_IF_ERROR(
            c.Exec("UPDATE experiments SET artifact_location=? WHERE experiment_id=?",
                   PgParams().Add(default_root + "/" + id).Add(new_id))
                .status());
      }
      for (const KeyValue& tag : SortedByKey(e.tags)) {
        PLINTH_RETURN_IF_ERROR(UpsertExperimentTag(c, new_id, tag));
      }
      return id;
    });
  }

  Result<Experiment> GetExperiment(const std::string& experiment_id) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    return Transact<Experiment>(TxnMode::kSnapshot, [&](PgConn& c, int) -> Result<Experiment> {
      PLINTH_ASSIGN_OR_RETURN(PgResult r, c.Exec(std::string(kExperimentSelect) +
                                                     " FROM experiments WHERE experiment_id=?",
                                                 PgParams().Add(*id)));
      if (r.rows() == 0) return ExperimentNotFound(experiment_id);
      Experiment e = ExperimentFromRow(PgRow(r, 0));
      PLINTH_RETURN_IF_ERROR(LoadExperimentTags(c, {*id}, {&e}));
      return e;
    });
  }

  Result<Experiment> GetExperimentByName(const std::string& name) override {
    return Transact<Experiment>(TxnMode::kSnapshot, [&](PgConn& c, int) -> Result<Experiment> {
      PLINTH_ASSIGN_OR_RETURN(PgResult r, c.Exec(std::string(kExperimentSelect) +
                                                     " FROM experiments WHERE name=? ORDER BY "
                                                     "lifecycle_stage='active' DESC LIMIT 1",
                                                 PgParams().Add(name)));
      if (r.rows() == 0) return NotFound("Could not find experiment with name '" + name + "'");
      Experiment e = ExperimentFromRow(PgRow(r, 0));
      PLINTH_RETURN_IF_ERROR(LoadExperimentTags(c, {r.Int64(0, 0)}, {&e}));
      return e;
    });
  }

  Result<ExperimentPage> SearchExperiments(const ExperimentSearch& search) override {
    std::vector<SqlValue> binds;
    PLINTH_ASSIGN_OR_RETURN(std::string where, CompileExperimentFilter(search.filter, &binds));
    std::string sql = std::string(kExperimentSelect) + " FROM experiments e WHERE " +
                      LifecycleClause("e.lifecycle_stage", search.view_type) + where + " ORDER BY ";
    for (const OrderBy& o : search.order_by) {
      PLINTH_ASSIGN_OR_RETURN(std::string term, CompileExperimentOrderBy(o, &binds));
      sql += term + ", ";
    }
    sql += "e.experiment_id DESC LIMIT ? OFFSET ?";
    binds.emplace_back(search.max_results + 1);
    binds.emplace_back(search.offset);
    return Transact<ExperimentPage>(
        TxnMode::kSnapshot, [&](PgConn& c, int) -> Result<ExperimentPage> {
          PLINTH_ASSIGN_OR_RETURN(PgResult r, c.ExecOnce(sql, ToParams(binds)));
          ExperimentPage page;
          std::vector<int64_t> ids;
          std::vector<Experiment*> targets;
          int n = std::min<int>(r.rows(), static_cast<int>(search.max_results));
          page.has_more = r.rows() > n;
          page.experiments.reserve(static_cast<size_t>(n));
          for (int i = 0; i < n; ++i) {
            page.experiments.push_back(ExperimentFromRow(PgRow(r, i)));
            ids.push_back(r.Int64(i, 0));
          }
          for (Experiment& e : page.experiments) targets.push_back(&e);
          PLINTH_RETURN_IF_ERROR(LoadExperimentTags(c, ids, targets));
          return page;
        });
  }

  Status RenameExperiment(const std::string& experiment_id, const std::string& new_name,
                          int64_t now) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    return Write([&](PgConn& c, int) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string stage, ExperimentStage(c, *id, experiment_id, true));
      if (stage != "active") {
        return FailedPrecondition("Cannot rename a non-active experiment.");
      }
      PLINTH_ASSIGN_OR_RETURN(
          PgResult holder,
          c.Exec("SELECT experiment_id FROM experiments WHERE name=?", PgParams().Add(new_name)));
      if (holder.rows() > 0 && holder.Int64(0, 0) != *id) {
        return ExperimentNameTaken(new_name);
      }
      auto upd = c.Exec("UPDATE experiments SET name=?, last_update_time=? WHERE experiment_id=?",
                        PgParams().Add(new_name).Add(now).Add(*id));
      if (!upd.ok() && upd.status().code() == StatusCode::kAlreadyExists) {
        return ExperimentNameTaken(new_name);
      }
      return upd.status();
    });
  }

  Status SetExperimentLifecycle(const std::string& experiment_id, LifecycleStage stage,
                                int64_t now) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    return Write([&](PgConn& c, int) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string current, ExperimentStage(c, *id, experiment_id, true));
      std::string target(LifecycleName(stage));
      if (current == target) {
        // MLflow: deleting a deleted experiment or restoring an active one finds nothing to do.
        return ExperimentNotFound(experiment_id);
      }
      PLINTH_RETURN_IF_ERROR(c.Exec("UPDATE experiments SET lifecycle_stage=?, "
                                    "last_update_time=? WHERE experiment_id=?",
                                    PgParams().Add(target).Add(now).Add(*id))
                                 .status());
      // Like MLflow, deleting an experiment deletes its runs, and restoring restores them.
      std::optional<int64_t> deleted_time;
      if (stage == LifecycleStage::kDeleted) deleted_time = now;
      return c
          .Exec("UPDATE runs SET lifecycle_stage=?, deleted_time=? WHERE experiment_id=?",
                PgParams().Add(target).Add(deleted_time).Add(*id))
          .status();
    });
  }

  Status SetExperimentTag(const std::string& experiment_id, const KeyValue& tag) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    return Write([&](PgConn& c, int) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string stage, ExperimentStage(c, *id, experiment_id, false));
      if (stage != "active") return NotActive("experiment", experiment_id, stage);
      return UpsertExperimentTag(c, *id, tag);
    });
  }

  Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    return Write([&](PgConn& c, int attempt) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string stage, ExperimentStage(c, *id, experiment_id, false));
      if (stage != "active") return NotActive("experiment", experiment_id, stage);
      PLINTH_ASSIGN_OR_RETURN(PgResult r,
                              c.Exec("DELETE FROM experiment_tags WHERE experiment_id=? AND key=?",
                                     PgParams().Add(*id).Add(key)));
      if (r.Affected() == 0 && attempt == 0) {
        return NotFound("No tag with name: " + key + " in experiment with id " + experiment_id);
      }
      return Status::Ok();
    });
  }

  // ------------------------------------------------------------------ runs

  Status CreateRun(const Run& run) override {
    auto exp_id = ParseExperimentId(run.info.experiment_id);
    if (!exp_id) return ExperimentNotFound(run.info.experiment_id);
    if (run.params.empty()) return CreateRunWithTags(run, *exp_id);
    return Write([&](PgConn& c, int attempt) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string stage,
                              ExperimentStage(c, *exp_id, run.info.experiment_id, false));
      if (stage != "active") return NotActive("experiment", run.info.experiment_id, stage);
      const RunInfo& i = run.info;
      PLINTH_ASSIGN_OR_RETURN(
          PgResult r,
          c.Exec("INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, "
                 "end_time, artifact_uri, lifecycle_stage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                 "'active') ON CONFLICT (run_uuid) DO NOTHING RETURNING run_key",
                 PgParams()
                     .Add(i.run_id)
                     .Add(i.run_name)
                     .Add(*exp_id)
                     .Add(i.user_id)
                     .Add(RunStatusName(i.status))
                     .Add(i.start_time)
                     .Add(i.end_time)
                     .Add(i.artifact_uri)));
      if (r.rows() == 0) {
        // The id exists: on a retry after an ambiguous COMMIT it is our own run, which landed.
        if (attempt > 0) return Status::Ok();
        return AlreadyExists("Run with id=" + i.run_id + " already exists");
      }
      int64_t run_key = r.Int64(0, 0);
      PLINTH_RETURN_IF_ERROR(UpsertRunTags(c, run_key, run.tags, /*sync_run_name=*/false));
      return InsertParams(c, run_key, i.run_id, run.params);
    });
  }

  // The usual create-run (tags, no params) in one statement: one round trip, no BEGIN/COMMIT.
  Status CreateRunWithTags(const Run& run, int64_t experiment_id) {
    static const std::string sql =
        "WITH e AS (SELECT lifecycle_stage FROM experiments WHERE experiment_id=?), "
        "r AS (INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, "
        "end_time, artifact_uri, lifecycle_stage) SELECT ?, ?, ?, ?, ?, ?, ?, ?, 'active' FROM e "
        "WHERE e.lifecycle_stage='active' ON CONFLICT (run_uuid) DO NOTHING RETURNING run_key), "
        "t AS (INSERT INTO tags (run_key, key, value) SELECT r.run_key, t.key, t.value FROM r, "
        "unnest(?::text[], ?::text[]) AS t(key, value) ON CONFLICT (run_key, key) DO UPDATE SET "
        "value=excluded.value) "
        "SELECT (SELECT lifecycle_stage FROM e), (SELECT run_key FROM r)";
    const RunInfo& i = run.info;
    std::map<std::string_view, std::string_view> tags;  // the last value of a key wins
    for (const KeyValue& t : run.tags) tags[t.key] = t.value;
    PgArray keys, values;
    for (const auto& [k, v] : tags) {
      keys.Add(k);
      values.Add(v);
    }
    PgParams params;
    params.Add(experiment_id)
        .Add(i.run_id)
        .Add(i.run_name)
        .Add(experiment_id)
        .Add(i.user_id)
        .Add(RunStatusName(i.status))
        .Add(i.start_time)
        .Add(i.end_time)
        .Add(i.artifact_uri)
        .Add(keys.str())
        .Add(values.str());
    return Transact<bool>(TxnMode::kSingle,
                          [&](PgConn& c, int attempt) -> Result<bool> {
                            PLINTH_ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, params));
                            if (r.IsNull(0, 0)) return ExperimentNotFound(i.experiment_id);
                            std::string stage = r.Text(0, 0);
                            if (stage != "active")
                              return NotActive("experiment", i.experiment_id, stage);
                            if (r.IsNull(0, 1)) {
                              // The id exists: on a retry after a lost answer it is our own run.
                              if (attempt > 0) return true;
                              return AlreadyExists("Run with id=" + i.run_id + " already exists");
                            }
                            return true;
                          })
        .status();
  }

  Result<Run> GetRun(const std::string& run_id) override {
    return Transact<Run>(TxnMode::kSnapshot, [&](PgConn& c, int) -> Result<Run> {
      PLINTH_ASSIGN_OR_RETURN(PgResult r,
                              c.Exec(std::string(kRunSelect) + " FROM runs r WHERE run_uuid=?",
                                     PgParams().Add(run_id)));
      if (r.rows() == 0) return RunNotFound(run_id);
      std::vector<Run> runs(1);
      runs[0].info = RunInfoFromRow(PgRow(r, 0));
      PLINTH_RETURN_IF_ERROR(LoadRunData(c, {r.Int64(0, kRunKeyColumn)}, &runs));
      return std::move(runs[0]);
    });
  }

  Result<RunInfo> UpdateRun(const std::string& run_id, const RunUpdate& update) override {
    return Transact<RunInfo>(TxnMode::kWrite, [&](PgConn& c, int) -> Result<RunInfo> {
      PLINTH_ASSIGN_OR_RETURN(int64_t run_key, CheckRunActive(c, run_id, /*lock=*/true));
      if (update.status) {
        PLINTH_RETURN_IF_ERROR(c.Exec("UPDATE runs SET status=? WHERE run_key=?",
                                      PgParams().Add(RunStatusName(*update.status)).Add(run_key))
                                   .status());
      }
      if (update.end_time) {
        PLINTH_RETURN_IF_ERROR(c.Exec("UPDATE runs SET end_time=? WHERE run_key=?",
                                      PgParams().Add(*update.end_time).Add(run_key))
                                   .status());
      }
      if (update.run_name) {
        PLINTH_RETURN_IF_ERROR(c.Exec("UPDATE runs SET name=? WHERE run_key=?",
                                      PgParams().Add(*update.run_name).Add(run_key))
                                   .status());
        PLINTH_RETURN_IF_ERROR(
            UpsertRunTags(c, run_key, {{"mlflow.runName", *update.run_name}}, true));
      }
      PLINTH_ASSIGN_OR_RETURN(PgResult r,
                              c.Exec(std::string(kRunSelect) + " FROM runs r WHERE run_key=?",
                                     PgParams().Add(run_key)));
      if (r.rows() == 0) return RunNotFound(run_id);
      return RunInfoFromRow(PgRow(r, 0));
    });
  }

  Status SetRunLifecycle(const std::string& run_id, LifecycleStage stage, int64_t now) override {
    return Write([&](PgConn& c, int) -> Status {
      std::optional<int64_t> deleted_time;
      if (stage == LifecycleStage::kDeleted) deleted_time = now;
      PLINTH_ASSIGN_OR_RETURN(
          PgResult r, c.Exec("UPDATE runs SET lifecycle_stage=?, deleted_time=? WHERE run_uuid=?",
                             PgParams().Add(LifecycleName(stage)).Add(deleted_time).Add(run_id)));
      return r.Affected() == 0 ? RunNotFound(run_id) : Status::Ok();
    });
  }

  Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                  const std::vector<KeyValue>& params, const std::vector<KeyValue>& tags) override {
    // Key order, so concurrent batches on one run take row locks in the same order.
    std::vector<const Metric*> points;
    points.reserve(metrics.size());
    for (const Metric& m : metrics) points.push_back(&m);
    std::sort(points.begin(), points.end(), [](const Metric* a, const Metric* b) {
      return std::tie(a->key, a->timestamp, a->step) < std::tie(b->key, b->timestamp, b->step);
    });
    if (params.empty() && tags.empty() && !points.empty()) {
      return LogMetricsOnly(run_id, points);
    }
    return Write([&](PgConn& c, int) -> Status {
      PLINTH_ASSIGN_OR_RETURN(int64_t run_key, CheckRunActive(c, run_id, /*lock=*/false));
      PLINTH_RETURN_IF_ERROR(InsertParams(c, run_key, run_id, params));
      PLINTH_RETURN_IF_ERROR(UpsertRunTags(c, run_key, tags, true));
      if (!points.empty()) {
        PLINTH_RETURN_IF_ERROR(InsertMetrics(c, run_key, points));
      }
      return Status::Ok();
    });
  }

  // The hot path (log_metric, log_batch of metrics): one statement, so one round trip and no
  // BEGIN/COMMIT; a single statement is atomic on its own. It finds the run, inserts the points
  // and upserts the latest values only if the run is active, and returns what it found.
  Status LogMetricsOnly(const std::string& run_id, const std::vector<const Metric*>& points) {
    static const std::string sql =
        std::string(
            "WITH r AS (SELECT run_key, lifecycle_stage FROM runs WHERE run_uuid=?), "
            "m AS (INSERT INTO metrics (run_key, key, step, timestamp, value, is_nan, model_id, "
            "dataset_name, dataset_digest) SELECT r.run_key, u.key, u.step, u.ts, u.value, "
            "u.is_nan, u.model_id, u.dataset_name, u.dataset_digest FROM r, ") +
        kMetricRows +
        " WHERE r.lifecycle_stage='active' ON CONFLICT DO NOTHING), "
        "l AS (INSERT INTO latest_metrics (run_key, key, step, timestamp, value, is_nan) "
        "SELECT r.run_key, l.key, l.step, l.ts, l.value, l.is_nan FROM r, " +
        kLatestRows + " WHERE r.lifecycle_stage='active'" + kLatestUpsert +
        ") SELECT lifecycle_stage FROM r";
    PgParams params;
    params.Add(run_id);
    AddPointArrays(points, &params);
    AddLatestArrays(points, &params);
    return Transact<bool>(TxnMode::kSingle,
                          [&](PgConn& c, int) -> Result<bool> {
                            PLINTH_ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, params));
                            if (r.rows() == 0) return RunNotFound(run_id);
                            std::string stage = r.Text(0, 0);
                            if (stage != "active") return NotActive("run", run_id, stage);
                            return true;
                          })
        .status();
  }

  Status DeleteTag(const std::string& run_id, const std::string& key) override {
    return Write([&](PgConn& c, int attempt) -> Status {
      PLINTH_ASSIGN_OR_RETURN(int64_t run_key, CheckRunActive(c, run_id, false));
      PLINTH_ASSIGN_OR_RETURN(PgResult r, c.Exec("DELETE FROM tags WHERE run_key=? AND key=?",
                                                 PgParams().Add(run_key).Add(key)));
      if (r.Affected() == 0 && attempt == 0) {
        return NotFound("No tag with name: " + key + " in run with id " + run_id);
      }
      return Status::Ok();
    });
  }

  Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& datasets,
                   const std::vector<ModelIo>& models) override {
    return Write([&](PgConn& c, int) -> Status {
      PLINTH_ASSIGN_OR_RETURN(int64_t run_key, CheckRunActive(c, run_id, false));
      PLINTH_ASSIGN_OR_RETURN(PgResult exp, c.Exec("SELECT experiment_id FROM runs WHERE run_key=?",
                                                   PgParams().Add(run_key)));
      int64_t experiment_id = exp.rows() > 0 ? exp.Int64(0, 0) : 0;
      for (const DatasetInput& in : datasets) {
        const Dataset& d = in.dataset;
        PLINTH_RETURN_IF_ERROR(
            c.Exec("INSERT INTO datasets (experiment_id, name, digest, source_type, source, "
                   "schema, profile) VALUES (?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (experiment_id, name, digest) DO NOTHING",
                   PgParams()
                       .Add(experiment_id)
                       .Add(d.name)
                       .Add(d.digest)
                       .Add(d.source_type)
                       .Add(d.source)
                       .AddOrNull(d.schema)
                       .AddOrNull(d.profile))
                .status());
        PLINTH_ASSIGN_OR_RETURN(PgResult got,
                                c.Exec("SELECT dataset_uuid FROM datasets WHERE experiment_id=? "
                                       "AND name=? AND digest=?",
                                       PgParams().Add(experiment_id).Add(d.name).Add(d.digest)));
        if (got.rows() == 0) return Internal("dataset row vanished");
        int64_t dataset_uuid = got.Int64(0, 0);
        PLINTH_RETURN_IF_ERROR(c.Exec("INSERT INTO run_inputs (run_key, dataset_uuid) VALUES (?, "
                                      "?) ON CONFLICT DO NOTHING",
                                      PgParams().Add(run_key).Add(dataset_uuid))
                                   .status());
        for (const KeyValue& tag : SortedByKey(in.tags)) {
          PLINTH_RETURN_IF_ERROR(
              c.Exec("INSERT INTO input_tags (run_key, dataset_uuid, key, value) VALUES (?, ?, "
                     "?, ?) ON CONFLICT (run_key, dataset_uuid, key) DO UPDATE SET "
                     "value=excluded.value",
                     PgParams().Add(run_key).Add(dataset_uuid).Add(tag.key).Add(tag.value))
                  .status());
        }
      }
      return InsertRunModels(c, run_key, "input", models);
    });
  }

  Status LogOutputs(const std::string& run_id, const std::vector<ModelIo>& models) override {
    return Write([&](PgConn& c, int) -> Status {
      PLINTH_ASSIGN_OR_RETURN(int64_t run_key, CheckRunActive(c, run_id, false));
      return InsertRunModels(c, run_key, "output", models);
    });
  }

  Result<MetricPage> GetMetricHistory(const std::string& run_id, const std::string& key,
                                      int64_t max_results, int64_t offset) override {
    // A run that does not exist has an empty history, as in MLflow (200 with no metrics).
    return Transact<MetricPage>(TxnMode::kSingle, [&](PgConn& c, int) -> Result<MetricPage> {
      PLINTH_ASSIGN_OR_RETURN(
          PgResult r,
          c.Exec(std::string(kMetricSelect) +
                     " FROM metrics WHERE run_key=(SELECT run_key FROM runs WHERE run_uuid=?) "
                     "AND key=? ORDER BY timestamp, step, value LIMIT ? OFFSET ?",
                 PgParams().Add(run_id).Add(key).Add(max_results + 1).Add(offset)));
      MetricPage page;
      int n = std::min<int>(r.rows(), static_cast<int>(std::min<int64_t>(max_results, INT32_MAX)));
      page.has_more = r.rows() > n;
      page.metrics.reserve(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) page.metrics.push_back(MetricFromRow(PgRow(r, i)));
      return page;
    });
  }

  Result<std::vector<Metric>> GetMetricHistorySampled(const std::vector<std::string>& run_ids,
                                                      const std::string& key,
                                                      std::optional<int64_t> start_step,
                                                      std::optional<int64_t> end_step,
                                                      int64_t max_results) override {
    using Out = std::vector<Metric>;
    return Transact<Out>(TxnMode::kSnapshot, [&](PgConn& c, int) -> Result<Out> {
      Out out;
      for (const std::string& run_id : run_ids) {
        PLINTH_ASSIGN_OR_RETURN(PgResult found, c.Exec("SELECT run_key FROM runs WHERE run_uuid=?",
                                                       PgParams().Add(run_id)));
        if (found.rows() == 0) continue;
        SampledHistorySource source(c, found.Int64(0, 0), key,
                                    start_step.value_or(std::numeric_limits<int64_t>::min()),
                                    end_step.value_or(std::numeric_limits<int64_t>::max()));
        PLINTH_ASSIGN_OR_RETURN(std::vector<SampledPoint> points,
                                SampleMetricHistory(source, max_results));
        for (const SampledPoint& p : points) {
          Metric m;
          m.key = key;
          m.value = LoadedValue(p.value, p.is_nan);
          m.timestamp = p.timestamp;
          m.step = p.step;
          m.run_id = run_id;
          out.push_back(std::move(m));
        }
      }
      return out;
    });
  }

  Result<RunPage> SearchRuns(const RunSearch& search) override {
    std::vector<SqlValue> binds;
    std::string joins;
    std::string order;
    int join_index = 0;
    for (const OrderBy& o : search.order_by) {
      PLINTH_ASSIGN_OR_RETURN(std::string term, CompileRunOrderBy(o, join_index++, &joins, &binds));
      order += term + ", ";
    }
    std::vector<SqlValue> where_binds;
    PLINTH_ASSIGN_OR_RETURN(std::string where, CompileRunFilter(search.filter, &where_binds));
    std::optional<std::string> ids = ExperimentIdList(search.experiment_ids);
    if (!ids) return RunPage{};
    std::string sql = std::string(kRunSelect) + " FROM runs r" + joins +
                      " WHERE r.experiment_id IN " + *ids + " AND " +
                      LifecycleClause("r.lifecycle_stage", search.view_type) + where +
                      " ORDER BY " + order + "r.start_time DESC, r.run_uuid ASC LIMIT ? OFFSET ?";
    for (auto& b : where_binds) binds.push_back(std::move(b));
    binds.emplace_back(search.max_results + 1);
    binds.emplace_back(search.offset);
    return Transact<RunPage>(TxnMode::kSnapshot, [&](PgConn& c, int) -> Result<RunPage> {
      PLINTH_ASSIGN_OR_RETURN(PgResult r, c.ExecOnce(sql, ToParams(binds)));
      RunPage page;
      int n = std::min<int>(r.rows(), static_cast<int>(search.max_results));
      page.has_more = r.rows() > n;
      std::vector<int64_t> keys;
      page.runs.resize(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        page.runs[static_cast<size_t>(i)].info = RunInfoFromRow(PgRow(r, i));
        keys.push_back(r.Int64(i, kRunKeyColumn));
      }
      PLINTH_RETURN_IF_ERROR(LoadRunData(c, keys, &page.runs));
      return page;
    });
  }

  // One round trip on a pooled connection, no retries: a load balancer asks again soon.
  Status Ping() override {
    PLINTH_ASSIGN_OR_RETURN(Lease lease, Acquire());
    Status s = lease.conn().ExecScript("SELECT 1");
    if (!s.ok()) return Unavailable("PostgreSQL does not answer: " + s.message());
    return s;
  }

  // ------------------------------------------------------------------ logged models

  Status CreateLoggedModel(const LoggedModel& m) override {
    auto exp_id = ParseExperimentId(m.experiment_id);
    if (!exp_id) return ExperimentNotFound(m.experiment_id);
    return Write([&](PgConn& c, int attempt) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string stage,
                              ExperimentStage(c, *exp_id, m.experiment_id, false));
      if (stage != "active") return NotActive("experiment", m.experiment_id, stage);
      PLINTH_ASSIGN_OR_RETURN(
          PgResult r,
          c.Exec("INSERT INTO logged_models (model_id, experiment_id, name, artifact_uri, status, "
                 "status_message, model_type, source_run_id, creation_timestamp_ms, "
                 "last_updated_timestamp_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT (model_id) DO NOTHING",
                 PgParams()
                     .Add(m.model_id)
                     .Add(*exp_id)
                     .Add(m.name)
                     .Add(m.artifact_uri)
                     .Add(LoggedModelStatusName(m.status))
                     .AddOrNull(m.status_message)
                     .AddOrNull(m.model_type)
                     .AddOrNull(m.source_run_id)
                     .Add(m.creation_timestamp_ms)
                     .Add(m.last_updated_timestamp_ms)));
      if (r.Affected() == 0) {
        if (attempt > 0) return Status::Ok();
        return AlreadyExists("Logged model with ID '" + m.model_id + "' already exists.");
      }
      PLINTH_RETURN_IF_ERROR(UpsertModelKvs(c, "logged_model_tags", m.model_id, m.tags));
      return UpsertModelKvs(c, "logged_model_params", m.model_id, m.params);
    });
  }

  Result<LoggedModel> GetLoggedModel(const std::string& model_id) override {
    return Transact<LoggedModel>(TxnMode::kSnapshot, [&](PgConn& c, int) -> Result<LoggedModel> {
      PLINTH_ASSIGN_OR_RETURN(PgResult r, c.Exec(std::string(kModelSelect) +
                                                     " FROM logged_models m WHERE model_id=? AND "
                                                     "lifecycle_stage='active'",
                                                 PgParams().Add(model_id)));
      if (r.rows() == 0) return LoggedModelNotFound(model_id);
      std::vector<LoggedModel> models{LoggedModelFromRow(PgRow(r, 0))};
      PLINTH_RETURN_IF_ERROR(LoadModelData(c, &models));
      return std::move(models[0]);
    });
  }

  Status SetLoggedModelStatus(const std::string& model_id, LoggedModelStatus status,
                              const std::string& message, int64_t now) override {
    return Write([&](PgConn& c, int) -> Status {
      PLINTH_ASSIGN_OR_RETURN(
          PgResult r,
          c.Exec("UPDATE logged_models SET status=?, status_message=?, "
                 "last_updated_timestamp_ms=? WHERE model_id=? AND lifecycle_stage='active'",
                 PgParams()
                     .Add(LoggedModelStatusName(status))
                     .AddOrNull(message)
                     .Add(now)
                     .Add(model_id)));
      return r.Affected() == 0 ? LoggedModelNotFound(model_id) : Status::Ok();
    });
  }

  Status DeleteLoggedModel(const std::string& model_id, int64_t now) override {
    return Write([&](PgConn& c, int attempt) -> Status {
      PLINTH_ASSIGN_OR_RETURN(
          PgResult r,
          c.Exec("UPDATE logged_models SET lifecycle_stage='deleted', "
                 "last_updated_timestamp_ms=? WHERE model_id=? AND lifecycle_stage='active'",
                 PgParams().Add(now).Add(model_id)));
      return (r.Affected() == 0 && attempt == 0) ? LoggedModelNotFound(model_id) : Status::Ok();
    });
  }

  Status SetLoggedModelTags(const std::string& model_id, const std::vector<KeyValue>& tags,
                            int64_t now) override {
    return Write([&](PgConn& c, int) -> Status {
      PLINTH_RETURN_IF_ERROR(CheckModelExists(c, model_id));
      PLINTH_RETURN_IF_ERROR(UpsertModelKvs(c, "logged_model_tags", model_id, tags));
      return c
          .Exec("UPDATE logged_models SET last_updated_timestamp_ms=? WHERE model_id=?",
                PgParams().Add(now).Add(model_id))
          .status();
    });
  }

  Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key) override {
    return Write([&](PgConn& c, int attempt) -> Status {
      PLINTH_RETURN_IF_ERROR(CheckModelExists(c, model_id));
      PLINTH_ASSIGN_OR_RETURN(PgResult r,
                              c.Exec("DELETE FROM logged_model_tags WHERE model_id=? AND key=?",
                                     PgParams().Add(model_id).Add(key)));
      if (r.Affected() == 0 && attempt == 0) {
        return NotFound("No tag with key '" + key + "' found for logged model '" + model_id + "'");
      }
      return Status::Ok();
    });
  }

  Status LogLoggedModelParams(const std::string& model_id,
                              const std::vector<KeyValue>& params) override {
    return Write([&](PgConn& c, int) -> Status {
      PLINTH_RETURN_IF_ERROR(CheckModelExists(c, model_id));
      return UpsertModelKvs(c, "logged_model_params", model_id, params);
    });
  }

  Result<LoggedModelPage> SearchLoggedModels(const LoggedModelSearch& search) override {
    std::vector<SqlValue> binds;
    PLINTH_ASSIGN_OR_RETURN(std::string where, CompileLoggedModelFilter(search.filter, &binds));
    std::optional<std::string> ids = ExperimentIdList(search.experiment_ids);
    if (!ids) return LoggedModelPage{};
    std::string order;
    for (const OrderBy& o : search.order_by) {
      PLINTH_ASSIGN_OR_RETURN(std::string term, CompileLoggedModelOrderBy(o, &binds));
      order += term + ", ";
    }
    binds.emplace_back(search.max_results + 1);
    binds.emplace_back(search.offset);
    std::string sql = std::string(kModelSelect) +
                      " FROM logged_models m WHERE m.experiment_id IN " + *ids +
                      " AND m.lifecycle_stage='active'" + where + " ORDER BY " + order +
                      "m.creation_timestamp_ms DESC, m.model_id ASC LIMIT ? OFFSET ?";
    return Transact<LoggedModelPage>(
        TxnMode::kSnapshot, [&](PgConn& c, int) -> Result<LoggedModelPage> {
          PLINTH_ASSIGN_OR_RETURN(PgResult r, c.ExecOnce(sql, ToParams(binds)));
          LoggedModelPage page;
          int n = std::min<int>(r.rows(), static_cast<int>(search.max_results));
          page.has_more = r.rows() > n;
          for (int i = 0; i < n; ++i) page.models.push_back(LoggedModelFromRow(PgRow(r, i)));
          PLINTH_RETURN_IF_ERROR(LoadModelData(c, &page.models));
          return page;
        });
  }

 private:
  // ---- connection pool

  class Lease {
   public:
    Lease(PgStore* store, std::unique_ptr<PgConn> conn) : store_(store), conn_(std::move(conn)) {}
    Lease(Lease&& o) noexcept : store_(o.store_), conn_(std::move(o.conn_)) {}
    ~Lease() {
      if (conn_) store_->Release(std::move(conn_));
    }
    PgConn& conn() { return *conn_; }

   private:
    PgStore* store_;
    std::unique_ptr<PgConn> conn_;
  };

  // A connection for one transaction: an idle one, a new one while under pool_size, or the
  // next one released. A connection found broken is reopened (Reset) before use.
  Result<Lease> Acquire() {
    std::unique_ptr<PgConn> conn;
    {
      std::unique_lock<std::mutex> lock(pool_mu_);
      pool_cv_.wait(lock, [this] { return !idle_.empty() || open_ < options_.pool_size; });
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++open_;
      }
    }
    if (!conn) {
      auto made = PgConn::Connect(options_.conninfo);
      if (!made.ok()) {
        {
          std::lock_guard<std::mutex> lock(pool_mu_);
          --open_;
        }
        pool_cv_.notify_one();
        return made.status();
      }
      conn = std::move(*made);
    } else if (!conn->ok()) {
      Status s = conn->Reset();
      if (!s.ok()) {
        Release(std::move(conn));
        return s;
      }
    }
    return Lease(this, std::move(conn));
  }

  void Release(std::unique_ptr<PgConn> conn) {
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      idle_.push_back(std::move(conn));
    }
    pool_cv_.notify_one();
  }

  // Runs `fn(conn, attempt)` in a transaction of `mode`, again (with backoff) while it fails
  // in a way a retry can cure. `attempt` > 0 tells idempotent writes that an earlier attempt
  // may have committed.
  template <typename T, typename Fn>
  Result<T> Transact(TxnMode mode, Fn&& fn) {
    Status last;
    thread_local std::minstd_rand jitter(std::random_device{}());
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      if (attempt > 0) {
        int base = std::min(50 << std::min(attempt - 1, 5), 1600);  // 50 ms … 1.6 s
        std::this_thread::sleep_for(std::chrono::milliseconds(base / 2 + jitter() % base));
      }
      auto lease = Acquire();
      if (!lease.ok()) {
        last = lease.status();
        continue;  // the server is unreachable: wait and try again
      }
      PgConn& c = lease->conn();
      c.clear_error();
      Status begin = Status::Ok();
      if (mode == TxnMode::kWrite) {
        begin = c.ExecScript("BEGIN");
      } else if (mode == TxnMode::kSnapshot) {
        begin = c.ExecScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      }
      Result<T> out = begin.ok() ? fn(c, attempt) : Result<T>(begin);
      if (out.ok()) {
        Status commit = mode == TxnMode::kSingle ? Status::Ok() : c.ExecScript("COMMIT");
        if (commit.ok()) return out;
        out = std::move(commit);
      } else if (mode != TxnMode::kSingle && c.ok()) {
        (void)c.ExecScript("ROLLBACK");
      }
      if (!c.last_error_retryable()) return out;
      last = out.status();
      PLINTH_LOG_WARN("PostgreSQL transaction attempt {} failed, retrying: {}", attempt + 1,
                      last.message());
    }
    return Unavailable("PostgreSQL is unavailable (gave up after " + std::to_string(kMaxAttempts) +
                       " attempts): " + last.message());
  }

  template <typename Fn>
  Status Write(Fn&& fn) {
    return Transact<bool>(TxnMode::kWrite,
                          [&](PgConn& c, int attempt) -> Result<bool> {
                            PLINTH_RETURN_IF_ERROR(fn(c, attempt));
                            return true;
                          })
        .status();
  }

  // ---- schema

  Status Migrate(PgConn& c, int64_t now) {
    PLINTH_RETURN_IF_ERROR(
        c.ExecScript("SELECT pg_advisory_lock(" + std::to_string(kMigrationLock) + ")"));
    Status s = MigrateLocked(c, now);
    (void)c.ExecScript("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")");
    return s;
  }

  Status MigrateLocked(PgConn& c, int64_t now) {
    PLINTH_RETURN_IF_ERROR(
        c.ExecScript("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
    PLINTH_ASSIGN_OR_RETURN(PgResult v, c.Exec("SELECT MAX(version) FROM schema_version"));
    int current = static_cast<int>(v.Int64(0, 0));
    if (current > LatestSchemaVersion()) return SchemaTooNew(current, LatestSchemaVersion());
    if (current > 0 && current < LatestSchemaVersion() && !options_.migrate) {
      return FailedPrecondition("database schema version " + std::to_string(current) +
                                " is older than this plinth binary's (" +
                                std::to_string(LatestSchemaVersion()) +
                                "); stop the servers and run `plinth db migrate` first");
    }
    for (const Migration& m : Migrations()) {
      if (m.version <= current) continue;
      PLINTH_LOG_INFO("applying schema migration {}: {}", m.version, m.description);
      // PostgreSQL DDL is transactional: a migration applies whole or not at all.
      Status step = c.ExecScript(std::string("BEGIN;\n") + m.postgres_sql +
                                 "\nINSERT INTO schema_version (version) VALUES (" +
                                 std::to_string(m.version) + ");\nCOMMIT;");
      if (!step.ok()) {
        (void)c.ExecScript("ROLLBACK");
        return Internal("schema migration " + std::to_string(m.version) +
                        " failed: " + step.message());
      }
    }
    // The Default experiment "0" always exists, as in MLflow.
    return c
        .Exec(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
            "creation_time, last_update_time) VALUES (0, 'Default', 'mlflow-artifacts:/0', "
            "'active', ?, ?) ON CONFLICT DO NOTHING",
            PgParams().Add(now).Add(now))
        .status();
  }

  // ---- reads

  static std::vector<KeyValue> SortedByKey(std::vector<KeyValue> kvs) {
    std::stable_sort(kvs.begin(), kvs.end(),
                     [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
    return kvs;
  }

  Status LoadExperimentTags(PgConn& c, const std::vector<int64_t>& ids,
                            const std::vector<Experiment*>& targets) {
    if (ids.empty()) return Status::Ok();
    std::unordered_map<int64_t, Experiment*> by_id;
    for (size_t i = 0; i < ids.size(); ++i) by_id[ids[i]] = targets[i];
    PLINTH_ASSIGN_OR_RETURN(PgResult r,
                            c.Exec("SELECT experiment_id, key, value FROM experiment_tags WHERE "
                                   "experiment_id = ANY(?::bigint[]) ORDER BY experiment_id, key",
                                   PgParams().Add(ArrayLiteral(ids))));
    for (int i = 0; i < r.rows(); ++i) {
      auto it = by_id.find(r.Int64(i, 0));
      if (it != by_id.end()) it->second->tags.push_back({r.Text(i, 1), r.Text(i, 2)});
    }
    return Status::Ok();
  }

  // Fills params, tags, latest metrics, inputs and outputs of `runs` (infos already set),
  // with one query per kind for the whole page.
  Status LoadRunData(PgConn& c, const std::vector<int64_t>& keys, std::vector<Run>* runs) {
    if (runs->empty()) return Status::Ok();
    std::unordered_map<int64_t, Run*> by_key;
    for (size_t i = 0; i < runs->size(); ++i) by_key[keys[i]] = &(*runs)[i];
    std::string array = ArrayLiteral(keys);
    auto each = [&](const char* sql, auto&& fn) -> Status {
      PLINTH_ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, PgParams().Add(array)));
      for (int i = 0; i < r.rows(); ++i) {
        auto it = by_key.find(r.Int64(i, 0));
        if (it != by_key.end()) fn(PgRow(r, i), *it->second);
      }
      return Status::Ok();
    };
    PLINTH_RETURN_IF_ERROR(
        each("SELECT run_key, key, value FROM params WHERE run_key = ANY(?::bigint[]) "
             "ORDER BY run_key, key",
             [](const PgRow& s, Run& r) {
               r.params.push_back({s.Text(1), s.Text(2)});
             }));
    PLINTH_RETURN_IF_ERROR(
        each("SELECT run_key, key, value FROM tags WHERE run_key = ANY(?::bigint[]) "
             "ORDER BY run_key, key",
             [](const PgRow& s, Run& r) {
               r.tags.push_back({s.Text(1), s.Text(2)});
             }));
    PLINTH_RETURN_IF_ERROR(
        each("SELECT run_key, key, value, timestamp, step, is_nan FROM latest_metrics WHERE "
             "run_key = ANY(?::bigint[]) ORDER BY run_key, key",
             [](const PgRow& s, Run& r) {
               Metric m;
               m.key = s.Text(1);
               m.value = LoadedValue(s.Double(2), s.Int64(5));
               m.timestamp = s.Int64(3);
               m.step = s.Int64(4);
               r.metrics.push_back(std::move(m));
             }));
    // One row per (run, dataset, input tag); rows of one input arrive together.
    std::unordered_map<const Run*, int64_t> last_dataset;
    PLINTH_RETURN_IF_ERROR(
        each("SELECT i.run_key, d.dataset_uuid, d.name, d.digest, d.source_type, d.source, "
             "d.schema, d.profile, t.key, t.value FROM run_inputs i "
             "JOIN datasets d ON d.dataset_uuid=i.dataset_uuid "
             "LEFT JOIN input_tags t ON t.run_key=i.run_key AND t.dataset_uuid=i.dataset_uuid "
             "WHERE i.run_key = ANY(?::bigint[]) ORDER BY i.run_key, d.dataset_uuid, t.key",
             [&last_dataset](const PgRow& s, Run& r) { AddDatasetInputRow(s, r, &last_dataset); }));
    PLINTH_RETURN_IF_ERROR(
        each("SELECT run_key, model_id, direction, step FROM run_models WHERE "
             "run_key = ANY(?::bigint[]) ORDER BY run_key, model_id",
             [](const PgRow& s, Run& r) { AddModelIoRow(s, r); }));
    return Status::Ok();
  }

  Status LoadModelData(PgConn& c, std::vector<LoggedModel>* models) {
    for (LoggedModel& m : *models) {
      for (const char* table : {"logged_model_tags", "logged_model_params"}) {
        PLINTH_ASSIGN_OR_RETURN(PgResult r, c.Exec(std::string("SELECT key, value FROM ") + table +
                                                       " WHERE model_id=? ORDER BY key",
                                                   PgParams().Add(m.model_id)));
        auto& out = std::string_view(table) == "logged_model_tags" ? m.tags : m.params;
        for (int i = 0; i < r.rows(); ++i) out.push_back({r.Text(i, 0), r.Text(i, 1)});
      }
      PLINTH_ASSIGN_OR_RETURN(
          PgResult r, c.Exec(std::string(kMetricSelect) +
                                 ", (SELECT run_uuid FROM runs r WHERE r.run_key=metrics.run_key) "
                                 "FROM metrics WHERE model_id=? ORDER BY key, step, timestamp",
                             PgParams().Add(m.model_id)));
      for (int i = 0; i < r.rows(); ++i) {
        Metric metric = MetricFromRow(PgRow(r, i));
        metric.run_id = r.Text(i, 8);
        m.metrics.push_back(std::move(metric));
      }
    }
    return Status::Ok();
  }

  // ---- write helpers

  // `lock`: FOR UPDATE, when the write depends on the stage staying what it is.
  Result<std::string> ExperimentStage(PgConn& c, int64_t id, const std::string& id_text,
                                      bool lock) {
    PLINTH_ASSIGN_OR_RETURN(
        PgResult r, c.Exec(lock ? "SELECT lifecycle_stage FROM experiments WHERE experiment_id=? "
                                  "FOR UPDATE"
                                : "SELECT lifecycle_stage FROM experiments WHERE experiment_id=?",
                           PgParams().Add(id)));
    if (r.rows() == 0) return ExperimentNotFound(id_text);
    return r.Text(0, 0);
  }

  // The run's key when it exists and is active. Failure: kNotFound, or kInvalidArgument when
  // the run is deleted (MLflow's wording).
  Result<int64_t> CheckRunActive(PgConn& c, const std::string& run_id, bool lock) {
    PLINTH_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec(lock ? "SELECT run_key, lifecycle_stage FROM runs WHERE run_uuid=? FOR UPDATE"
                    : "SELECT run_key, lifecycle_stage FROM runs WHERE run_uuid=?",
               PgParams().Add(run_id)));
    if (r.rows() == 0) return RunNotFound(run_id);
    std::string stage = r.Text(0, 1);
    if (stage != "active") return NotActive("run", run_id, stage);
    return r.Int64(0, 0);
  }

  Status CheckModelExists(PgConn& c, const std::string& model_id) {
    PLINTH_ASSIGN_OR_RETURN(PgResult r, c.Exec("SELECT 1 FROM logged_models WHERE model_id=? AND "
                                               "lifecycle_stage='active'",
                                               PgParams().Add(model_id)));
    return r.rows() > 0 ? Status::Ok() : LoggedModelNotFound(model_id);
  }

  Status UpsertExperimentTag(PgConn& c, int64_t id, const KeyValue& tag) {
    return c
        .Exec(
            "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (experiment_id, key) DO UPDATE SET value=excluded.value",
            PgParams().Add(id).Add(tag.key).Add(tag.value))
        .status();
  }

  // Runs `prefix VALUES (…),(…) suffix` over `count` rows of `width` columns, in statements of
  // 64, 32, … 1 rows so a handful of prepared shapes serve every batch size.
  template <typename BindRow>
  Status InsertRows(PgConn& c, const std::string& prefix, int width, size_t count,
                    const std::string& suffix, BindRow&& bind_row) {
    size_t done = 0;
    while (done < count) {
      size_t chunk = 64;
      while (chunk > count - done) chunk /= 2;
      PgParams params;
      for (size_t i = 0; i < chunk; ++i) bind_row(params, done + i);
      PLINTH_RETURN_IF_ERROR(
          c.Exec(prefix + " VALUES " + ValuesList(chunk, width) + suffix, params).status());
      done += chunk;
    }
    return Status::Ok();
  }

  // `sync_run_name`: an mlflow.runName tag also renames the run (off when the caller has set
  // the run's name already). Duplicate keys: the last value wins, as with one upsert each.
  Status UpsertRunTags(PgConn& c, int64_t run_key, const std::vector<KeyValue>& tags,
                       bool sync_run_name) {
    if (tags.empty()) return Status::Ok();
    std::map<std::string, const KeyValue*> last;
    for (const KeyValue& t : tags) last[t.key] = &t;
    std::vector<const KeyValue*> rows;
    for (const auto& [key, t] : last) rows.push_back(t);
    PLINTH_RETURN_IF_ERROR(InsertRows(
        c, "INSERT INTO tags (run_key, key, value)", 3, rows.size(),
        " ON CONFLICT (run_key, key) DO UPDATE SET value=excluded.value",
        [&](PgParams& p, size_t i) { p.Add(run_key).Add(rows[i]->key).Add(rows[i]->value); }));
    auto name = last.find("mlflow.runName");
    if (sync_run_name && name != last.end()) {
      // The run's name and its mlflow.runName tag are one fact, as in MLflow.
      PLINTH_RETURN_IF_ERROR(c.Exec("UPDATE runs SET name=? WHERE run_key=?",
                                    PgParams().Add(name->second->value).Add(run_key))
                                 .status());
    }
    return Status::Ok();
  }

  // Params are write-once: the same value again is fine, a different one is refused.
  Status InsertParams(PgConn& c, int64_t run_key, const std::string& run_id,
                      const std::vector<KeyValue>& params) {
    if (params.empty()) return Status::Ok();
    std::vector<const KeyValue*> rows;
    for (const KeyValue& p : params) rows.push_back(&p);
    std::stable_sort(rows.begin(), rows.end(),
                     [](const KeyValue* a, const KeyValue* b) { return a->key < b->key; });
    PLINTH_RETURN_IF_ERROR(InsertRows(
        c, "INSERT INTO params (run_key, key, value)", 3, rows.size(),
        " ON CONFLICT (run_key, key) DO NOTHING",
        [&](PgParams& p, size_t i) { p.Add(run_key).Add(rows[i]->key).Add(rows[i]->value); }));
    // Compare what is stored (ours, or an earlier or concurrent writer's) with what was asked.
    std::string keys = "{";
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i > 0) keys += ',';
      keys += '"';
      for (char ch : rows[i]->key) {
        if (ch == '"' || ch == '\\') keys += '\\';
        keys += ch;
      }
      keys += '"';
    }
    keys += '}';
    PLINTH_ASSIGN_OR_RETURN(PgResult r, c.Exec("SELECT key, value FROM params WHERE run_key=? AND "
                                               "key = ANY(?::text[])",
                                               PgParams().Add(run_key).Add(keys)));
    std::unordered_map<std::string, std::string> stored;
    for (int i = 0; i < r.rows(); ++i) stored[r.Text(i, 0)] = r.Text(i, 1);
    for (const KeyValue* p : rows) {
      auto it = stored.find(p->key);
      if (it != stored.end() && it->second != p->value) {
        return ParamChanged(p->key, it->second, p->value, run_id);
      }
    }
    return Status::Ok();
  }

  // A batch's points as arrays (key, step, timestamp, value, is_nan, model_id, dataset name and
  // digest) for kMetricRows; AddLatestArrays: the newest point per key (key, step, timestamp,
  // value, is_nan) for kLatestRows. Only the newest point per key touches latest_metrics; the
  // upsert's WHERE runs under the row lock, so of two concurrent batches the newer point wins
  // whatever the commit order.
  static void AddPointArrays(const std::vector<const Metric*>& points, PgParams* params) {
    PgArray key, step, timestamp, value, is_nan, model_id, dataset_name, dataset_digest;
    for (const Metric* m : points) {
      auto [v, nan] = StoredValue(m->value);
      key.Add(std::string_view(m->key));
      step.Add(m->step);
      timestamp.Add(m->timestamp);
      value.Add(v);
      is_nan.Add(int64_t{nan});
      model_id.AddOrNull(m->model_id);
      dataset_name.AddOrNull(m->dataset_name);
      dataset_digest.AddOrNull(m->dataset_digest);
    }
    for (const PgArray* a :
         {&key, &step, &timestamp, &value, &is_nan, &model_id, &dataset_name, &dataset_digest}) {
      params->Add(a->str());
    }
  }

  static void AddLatestArrays(const std::vector<const Metric*>& points, PgParams* params) {
    std::map<std::string_view, const Metric*> newest;
    for (const Metric* m : points) {
      auto [it, inserted] = newest.emplace(m->key, m);
      if (!inserted) {
        const Metric* o = it->second;
        auto [mv, mn] = StoredValue(m->value);
        auto [ov, on] = StoredValue(o->value);
        if (std::tie(m->step, m->timestamp, mv) >= std::tie(o->step, o->timestamp, ov)) {
          it->second = m;
        }
      }
    }
    PgArray lkey, lstep, ltimestamp, lvalue, lnan;
    for (const auto& [k, m] : newest) {
      auto [v, nan] = StoredValue(m->value);
      lkey.Add(k);
      lstep.Add(m->step);
      ltimestamp.Add(m->timestamp);
      lvalue.Add(v);
      lnan.Add(int64_t{nan});
    }
    for (const PgArray* a : {&lkey, &lstep, &ltimestamp, &lvalue, &lnan}) params->Add(a->str());
  }

  // Rows of a batch, unnested from the arrays AddPointArrays and AddLatestArrays bind.
  static constexpr const char* kMetricRows =
      "unnest(?::text[], ?::bigint[], ?::bigint[], ?::float8[], ?::int[], ?::text[], ?::text[], "
      "?::text[]) AS u(key, step, ts, value, is_nan, model_id, dataset_name, dataset_digest)";
  static constexpr const char* kLatestRows =
      "unnest(?::text[], ?::bigint[], ?::bigint[], ?::float8[], ?::int[]) AS l(key, step, ts, "
      "value, is_nan)";
  static constexpr const char* kLatestUpsert =
      " ON CONFLICT (run_key, key) DO UPDATE SET step=excluded.step, "
      "timestamp=excluded.timestamp, value=excluded.value, is_nan=excluded.is_nan WHERE "
      "(excluded.step, excluded.timestamp, excluded.value) >= (latest_metrics.step, "
      "latest_metrics.timestamp, latest_metrics.value)";

  // Identical points are one point (as MLflow); ON CONFLICT DO NOTHING also makes a re-run
  // after an ambiguous COMMIT harmless.
  Status InsertMetrics(PgConn& c, int64_t run_key, const std::vector<const Metric*>& points) {
    static const std::string sql =
        std::string(
            "WITH m AS (INSERT INTO metrics (run_key, key, step, timestamp, value, "
            "is_nan, model_id, dataset_name, dataset_digest) SELECT ?, u.key, u.step, "
            "u.ts, u.value, u.is_nan, u.model_id, u.dataset_name, u.dataset_digest "
            "FROM ") +
        kMetricRows +
        " ON CONFLICT DO NOTHING) INSERT INTO latest_metrics (run_key, key, step, timestamp, "
        "value, is_nan) SELECT ?, l.key, l.step, l.ts, l.value, l.is_nan FROM " +
        kLatestRows + kLatestUpsert;
    PgParams params;
    params.Add(run_key);
    AddPointArrays(points, &params);
    params.Add(run_key);
    AddLatestArrays(points, &params);
    return c.Exec(sql, params).status();
  }

  Status InsertRunModels(PgConn& c, int64_t run_key, const char* direction,
                         const std::vector<ModelIo>& models) {
    for (const ModelIo& m : models) {
      PLINTH_RETURN_IF_ERROR(
          c.Exec("INSERT INTO run_models (run_key, model_id, direction, step) VALUES (?, ?, ?, "
                 "?) ON CONFLICT (run_key, direction, model_id) DO UPDATE SET step=excluded.step",
                 PgParams().Add(run_key).Add(m.model_id).Add(direction).Add(m.step))
              .status());
    }
    return Status::Ok();
  }

  Status UpsertModelKvs(PgConn& c, const std::string& table, const std::string& model_id,
                        const std::vector<KeyValue>& kvs) {
    for (const KeyValue& kv : SortedByKey(kvs)) {
      PLINTH_RETURN_IF_ERROR(c.Exec("INSERT INTO " + table +
                                        " (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT "
                                        "(model_id, key) DO UPDATE SET value=excluded.value",
                                    PgParams().Add(model_id).Add(kv.key).Add(kv.value))
                                 .status());
    }
    return Status::Ok();
  }

  PostgresStoreOptions options_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<PgConn>> idle_;  // guarded by pool_mu_
  int open_ = 0;                               // connections in existence, guarded by pool_mu_

 public:
  // ------------------------------------------------------------------ permanent deletion

  Result<std::vector<RunInfo>> ListDeletedRuns(std::optional<int64_t> deleted_before) override {
    using Out = std::vector<RunInfo>;
    PgParams params;
    if (deleted_before) params.Add(*deleted_before);
    std::string sql = std::string(kRunSelect) + " FROM runs r WHERE r.lifecycle_stage='deleted'" +
                      (deleted_before ? " AND r.deleted_time < ?" : "") +
                      " ORDER BY r.deleted_time, r.run_key";
    return Transact<Out>(TxnMode::kSingle, [&](PgConn& c, int) -> Result<Out> {
      PLINTH_ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, params));
      Out out;
      out.reserve(static_cast<size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) out.push_back(RunInfoFromRow(PgRow(r, i)));
      return out;
    });
  }

  Result<std::vector<Experiment>> ListDeletedExperiments(
      std::optional<int64_t> updated_before) override {
    using Out = std::vector<Experiment>;
    PgParams params;
    if (updated_before) params.Add(*updated_before);
    std::string sql =
        std::string(kExperimentSelect) + " FROM experiments WHERE lifecycle_stage='deleted'" +
        (updated_before ? " AND last_update_time < ?" : "") + " ORDER BY experiment_id";
    return Transact<Out>(TxnMode::kSingle, [&](PgConn& c, int) -> Result<Out> {
      PLINTH_ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, params));
      Out out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(ExperimentFromRow(PgRow(r, i)));
      return out;
    });
  }

  Result<ExperimentContents> ListExperimentContents(const std::string& experiment_id) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    using Out = ExperimentContents;
    return Transact<Out>(TxnMode::kSnapshot, [&](PgConn& c, int) -> Result<Out> {
      PLINTH_RETURN_IF_ERROR(ExperimentStage(c, *id, experiment_id, false).status());
      Out out;
      PLINTH_ASSIGN_OR_RETURN(PgResult runs,
                              c.Exec(std::string(kRunSelect) +
                                         " FROM runs r WHERE r.experiment_id=? ORDER BY r.run_key",
                                     PgParams().Add(*id)));
      for (int i = 0; i < runs.rows(); ++i) out.runs.push_back(RunInfoFromRow(PgRow(runs, i)));
      PLINTH_ASSIGN_OR_RETURN(
          PgResult models,
          c.Exec(std::string(kModelSelect) +
                     " FROM logged_models m WHERE m.experiment_id=? ORDER BY m.model_id",
                 PgParams().Add(*id)));
      for (int i = 0; i < models.rows(); ++i) {
        out.models.push_back(LoggedModelFromRow(PgRow(models, i)));
      }
      return out;
    });
  }

  Status PurgeRun(const std::string& run_id) override {
    return Write([&](PgConn& c, int attempt) -> Status {
      PLINTH_ASSIGN_OR_RETURN(
          PgResult r,
          c.Exec("SELECT run_key, lifecycle_stage FROM runs WHERE run_uuid=? FOR UPDATE",
                 PgParams().Add(run_id)));
      if (r.rows() == 0) {
        // On a retry after an ambiguous COMMIT, the purge landed.
        return attempt > 0 ? Status::Ok() : RunNotFound(run_id);
      }
      if (r.Text(0, 1) != "deleted") return NotDeleted("Run", run_id);
      int64_t run_key = r.Int64(0, 0);
      for (const std::string& sql : PurgeRunSql()) {
        PLINTH_RETURN_IF_ERROR(c.Exec(sql, PgParams().Add(run_key)).status());
      }
      return Status::Ok();
    });
  }

  Status PurgeExperiment(const std::string& experiment_id) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    if (*id == 0) return FailedPrecondition("the Default experiment 0 cannot be purged");
    return Write([&](PgConn& c, int attempt) -> Status {
      // FOR UPDATE: no run is created in (or restored into) the experiment meanwhile.
      auto stage = ExperimentStage(c, *id, experiment_id, /*lock=*/true);
      if (!stage.ok()) {
        bool landed = attempt > 0 && stage.status().code() == StatusCode::kNotFound;
        return landed ? Status::Ok() : stage.status();
      }
      if (*stage != "deleted") return NotDeleted("Experiment", experiment_id);
      PLINTH_ASSIGN_OR_RETURN(PgResult active,
                              c.Exec("SELECT run_uuid FROM runs WHERE experiment_id=? AND "
                                     "lifecycle_stage<>'deleted' LIMIT 1",
                                     PgParams().Add(*id)));
      if (active.rows() > 0) {
        return FailedPrecondition("Experiment " + experiment_id + " still has the active run " +
                                  active.Text(0, 0) + "; delete or purge it first");
      }
      for (const std::string& sql : PurgeExperimentSql()) {
        PLINTH_RETURN_IF_ERROR(c.Exec(sql, PgParams().Add(*id)).status());
      }
      return Status::Ok();
    });
  }

  // ------------------------------------------------------------------ model registry
  // The SQL is shared with SqliteStore (registry_sql.cc); here each call is one transaction,
  // retried like the others, and a retry tells the SQL that an earlier attempt may have landed.

  RegistryStore& registry() override { return *this; }

  Status CreateRegisteredModel(const RegisteredModel& model) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::CreateRegisteredModel(s, model, retry);
    });
  }

  Result<RegisteredModel> GetRegisteredModel(const std::string& name) override {
    return RegistryRead<RegisteredModel>(
        [&](SqlSession& s) { return registry_sql::GetRegisteredModel(s, name); });
  }

  Status RenameRegisteredModel(const std::string& name, const std::string& new_name,
                               int64_t now) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::RenameRegisteredModel(s, name, new_name, now, retry);
    });
  }

  Status UpdateRegisteredModel(const std::string& name,
                               const std::optional<std::string>& description,
                               int64_t now) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::UpdateRegisteredModel(s, name, description, now);
    });
  }

  Status DeleteRegisteredModel(const std::string& name) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::DeleteRegisteredModel(s, name, retry);
    });
  }

  Result<RegisteredModelPage> SearchRegisteredModels(const RegisteredModelSearch& search) override {
    return RegistryRead<RegisteredModelPage>(
        [&](SqlSession& s) { return registry_sql::SearchRegisteredModels(s, search); });
  }

  Status SetRegisteredModelTag(const std::string& name, const KeyValue& tag) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::SetRegisteredModelTag(s, name, tag);
    });
  }

  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::DeleteRegisteredModelTag(s, name, key);
    });
  }

  Result<ModelVersion> CreateModelVersion(const ModelVersion& version) override {
    return RegistryWriteResult<ModelVersion>([&](SqlSession& s, bool retry) {
      return registry_sql::CreateModelVersion(s, version, retry);
    });
  }

  Result<ModelVersion> GetModelVersion(const std::string& name, int64_t version) override {
    return RegistryRead<ModelVersion>(
        [&](SqlSession& s) { return registry_sql::GetModelVersion(s, name, version); });
  }

  Status UpdateModelVersion(const std::string& name, int64_t version,
                            const std::optional<std::string>& description, int64_t now) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::UpdateModelVersion(s, name, version, description, now);
    });
  }

  Status TransitionModelVersionStage(const std::string& name, int64_t version,
                                     const std::string& stage, bool archive_existing,
                                     int64_t now) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::TransitionModelVersionStage(s, name, version, stage, archive_existing,
                                                       now);
    });
  }

  Status DeleteModelVersion(const std::string& name, int64_t version,
                            const AliasChange& change) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::DeleteModelVersion(s, name, version, change, retry);
    });
  }

  Result<ModelVersionPage> SearchModelVersions(const ModelVersionSearch& search) override {
    return RegistryRead<ModelVersionPage>(
        [&](SqlSession& s) { return registry_sql::SearchModelVersions(s, search); });
  }

  Status SetModelVersionTag(const std::string& name, int64_t version,
                            const KeyValue& tag) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::SetModelVersionTag(s, name, version, tag);
    });
  }

  Status DeleteModelVersionTag(const std::string& name, int64_t version,
                               const std::string& key) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::DeleteModelVersionTag(s, name, version, key);
    });
  }

  Status SetRegisteredModelAlias(const std::string& name, const std::string& alias, int64_t version,
                                 const AliasChange& change) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::SetRegisteredModelAlias(s, name, alias, version, change, retry);
    });
  }

  Status DeleteRegisteredModelAlias(const std::string& name, const std::string& alias,
                                    const AliasChange& change) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return registry_sql::DeleteRegisteredModelAlias(s, name, alias, change, retry);
    });
  }

  Result<ModelVersion> GetModelVersionByAlias(const std::string& name,
                                              const std::string& alias) override {
    return RegistryRead<ModelVersion>(
        [&](SqlSession& s) { return registry_sql::GetModelVersionByAlias(s, name, alias); });
  }

  Result<std::vector<AliasEvent>> ListAliasHistory(const std::string& name,
                                                   const std::string& alias) override {
    return RegistryRead<std::vector<AliasEvent>>(
        [&](SqlSession& s) { return registry_sql::ListAliasHistory(s, name, alias); });
  }

  // ------------------------------------------------------------------ dataset versions
  // The SQL is shared (dataset_sql.cc).
  DatasetStore& datasets() override { return *this; }

  Result<DatasetVersionRecord> AddDatasetVersion(const DatasetVersionRecord& record, int64_t now,
                                                 bool* created) override {
    return RegistryWriteResult<DatasetVersionRecord>(
        [&](SqlSession& s, bool) { return dataset_sql::AddVersion(s, record, now, created); });
  }
  Result<DatasetVersionRecord> GetDatasetVersion(const std::string& name,
                                                 std::optional<int64_t> version) override {
    return RegistryRead<DatasetVersionRecord>(
        [&](SqlSession& s) { return dataset_sql::GetVersion(s, name, version); });
  }
  Result<std::vector<DatasetVersionRecord>> ListDatasetVersions(const std::string& name) override {
    return RegistryRead<std::vector<DatasetVersionRecord>>(
        [&](SqlSession& s) { return dataset_sql::ListVersions(s, name); });
  }
  Result<std::vector<DatasetSummary>> ListDatasets() override {
    return RegistryRead<std::vector<DatasetSummary>>(
        [&](SqlSession& s) { return dataset_sql::ListDatasets(s); });
  }
  Result<std::optional<std::string>> FindStorageByDigest(const std::string& digest) override {
    return RegistryRead<std::optional<std::string>>(
        [&](SqlSession& s) { return dataset_sql::FindStorageByDigest(s, digest); });
  }

  // ------------------------------------------------------------------ tuning studies
  // The SQL is shared with SqliteStore (study_sql.cc); each call is one retried transaction.
  StudyStore& studies() override { return *this; }

  Result<int64_t> CreateStudy(const StudyRecord& study) override {
    return RegistryWriteResult<int64_t>(
        [&](SqlSession& s, bool retry) { return study_sql::CreateStudy(s, study, retry); });
  }
  Result<StudyRecord> GetStudy(int64_t study_id) override {
    return RegistryRead<StudyRecord>(
        [&](SqlSession& s) { return study_sql::GetStudy(s, study_id); });
  }
  Result<StudyRecord> GetStudyByName(const std::string& name) override {
    return RegistryRead<StudyRecord>(
        [&](SqlSession& s) { return study_sql::GetStudyByName(s, name); });
  }
  Result<std::vector<StudyRecord>> ListStudies(int64_t max_results, int64_t offset,
                                               bool* has_more) override {
    return RegistryRead<std::vector<StudyRecord>>(
        [&](SqlSession& s) { return study_sql::ListStudies(s, max_results, offset, has_more); });
  }
  Status SetStudyUserAttr(int64_t study_id, const KeyValue& attr) override {
    return RegistryWrite(
        [&](SqlSession& s, bool) { return study_sql::SetStudyUserAttr(s, study_id, attr); });
  }
  Result<std::vector<int64_t>> CountTrials(int64_t study_id) override {
    return RegistryRead<std::vector<int64_t>>(
        [&](SqlSession& s) { return study_sql::CountTrials(s, study_id); });
  }
  Result<AskResult> AskTrial(int64_t study_id, std::optional<int64_t> max_trials,
                             int64_t now) override {
    return RegistryWriteResult<AskResult>(
        [&](SqlSession& s, bool) { return study_sql::AskTrial(s, study_id, max_trials, now); });
  }
  Result<TrialRecord> EnqueueTrial(int64_t study_id, const std::string& fixed_params_json,
                                   std::optional<int64_t> retry_of, int64_t now) override {
    return RegistryWriteResult<TrialRecord>([&](SqlSession& s, bool) {
      return study_sql::EnqueueTrial(s, study_id, fixed_params_json, retry_of, now);
    });
  }
  Result<TrialRecord> GetTrial(int64_t trial_id) override {
    return RegistryRead<TrialRecord>(
        [&](SqlSession& s) { return study_sql::GetTrial(s, trial_id); });
  }
  Result<TrialRecord> GetTrialByNumber(int64_t study_id, int64_t number) override {
    return RegistryRead<TrialRecord>(
        [&](SqlSession& s) { return study_sql::GetTrialByNumber(s, study_id, number); });
  }
  Result<std::vector<TrialRecord>> LoadTrials(int64_t study_id) override {
    return RegistryRead<std::vector<TrialRecord>>(
        [&](SqlSession& s) { return study_sql::LoadTrials(s, study_id); });
  }
  Result<int64_t> StudyVersion(int64_t study_id) override {
    return RegistryRead<int64_t>(
        [&](SqlSession& s) { return study_sql::StudyVersion(s, study_id); });
  }
  Result<TrialChanges> LoadTrialsSince(int64_t study_id, int64_t since) override {
    return RegistryRead<TrialChanges>(
        [&](SqlSession& s) { return study_sql::LoadTrialsSince(s, study_id, since); });
  }
  Result<TrialPage> ListTrials(const TrialListRequest& request) override {
    return RegistryRead<TrialPage>(
        [&](SqlSession& s) { return study_sql::ListTrials(s, request); });
  }
  Status SetTrialParams(int64_t trial_id, const std::vector<TrialParamRecord>& params,
                        const std::string& run_id, int64_t now) override {
    return RegistryWrite([&](SqlSession& s, bool) {
      return study_sql::SetTrialParams(s, trial_id, params, run_id, now);
    });
  }
  Status ReportIntermediate(int64_t trial_id, int64_t step, double value, int64_t now) override {
    return RegistryWrite([&](SqlSession& s, bool) {
      return study_sql::ReportIntermediate(s, trial_id, step, value, now);
    });
  }
  Status Heartbeat(int64_t trial_id, int64_t now) override {
    return RegistryWrite(
        [&](SqlSession& s, bool) { return study_sql::Heartbeat(s, trial_id, now); });
  }
  Status FinishTrial(int64_t trial_id, const TrialFinish& finish) override {
    return RegistryWrite([&](SqlSession& s, bool retry) {
      return study_sql::FinishTrial(s, trial_id, finish, retry);
    });
  }
  Status SetTrialUserAttr(int64_t trial_id, const KeyValue& attr) override {
    return RegistryWrite(
        [&](SqlSession& s, bool) { return study_sql::SetTrialUserAttr(s, trial_id, attr); });
  }
  Status SetTrialSystemAttr(int64_t trial_id, const KeyValue& attr) override {
    return RegistryWrite(
        [&](SqlSession& s, bool) { return study_sql::SetTrialSystemAttr(s, trial_id, attr); });
  }
  Result<std::vector<TrialRecord>> FailStaleTrials(int64_t study_id, int64_t heartbeat_before,
                                                   int64_t now, bool retry) override {
    return RegistryWriteResult<std::vector<TrialRecord>>([&](SqlSession& s, bool) {
      return study_sql::FailStaleTrials(s, study_id, heartbeat_before, now, retry);
    });
  }

 private:
  template <typename Fn>
  Status RegistryWrite(Fn&& fn) {
    return Write([&](PgConn& c, int attempt) -> Status {
      PgSession session(c);
      return fn(session, attempt > 0);
    });
  }

  template <typename T, typename Fn>
  Result<T> RegistryWriteResult(Fn&& fn) {
    return Transact<T>(TxnMode::kWrite, [&](PgConn& c, int attempt) -> Result<T> {
      PgSession session(c);
      return fn(session, attempt > 0);
    });
  }

  template <typename T, typename Fn>
  Result<T> RegistryRead(Fn&& fn) {
    return Transact<T>(TxnMode::kSnapshot, [&](PgConn& c, int) -> Result<T> {
      PgSession session(c);
      return fn(session);
    });
  }
};

}  // namespace

Result<std::unique_ptr<MetadataStore>> OpenPostgresStore(const PostgresStoreOptions& options,
                                                         int64_t now) {
  auto store = std::make_unique<PgStore>(options);
  PLINTH_RETURN_IF_ERROR(store->Open(now));
  return std::unique_ptr<MetadataStore>(std::move(store));
}

}  // namespace plinth::store
