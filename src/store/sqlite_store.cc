// SqliteStore: the embedded MetadataStore.
//
// Writes: one connection writes, used by one caller at a time. Callers queue their job; the
// caller at the front (the leader) folds every job queued at that moment into one transaction
// (group commit), each job inside its own SAVEPOINT so one failing job does not undo its
// neighbours. A caller is answered only after COMMIT returned, so an acknowledged write survives
// kill -9 (WAL). This is also why concurrent clients never see "database is locked".
// Reads: a pool of connections, each read in its own snapshot (BEGIN … COMMIT), concurrent with
// the writer thanks to WAL.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>

#include "core/log.h"
#include "store/dataset_sql.h"
#include "store/metadata_store.h"
#include "store/registry_sql.h"
#include "store/schema.h"
#include "store/sql_filter.h"
#include "store/sql_session.h"
#include "store/sqlite_db.h"
#include "store/store_common.h"
#include "store/study_sql.h"

namespace plinth::store {
namespace {

using WriteJob = std::function<Status(SqliteDb&)>;

Status BindAll(SqliteStmt& stmt, const std::vector<SqlValue>& binds, int first = 1) {
  int i = first;
  for (const SqlValue& v : binds) {
    if (const auto* s = std::get_if<std::string>(&v)) {
      stmt.Bind(i, *s);
    } else if (const auto* n = std::get_if<int64_t>(&v)) {
      stmt.Bind(i, *n);
    } else {
      stmt.Bind(i, std::get<double>(v));
    }
    ++i;
  }
  return Status::Ok();
}

// Steps a query issued with LIMIT max_results + 1, handing each of the first `max_results` rows
// to `on_row`. Returns whether a further row exists (a next page).
template <typename OnRow>
Result<bool> StepPage(SqliteStmt& stmt, int64_t max_results, OnRow&& on_row) {
  for (int64_t n = 0;; ++n) {
    PLINTH_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return false;
    if (n == max_results) return true;
    on_row(stmt);
  }
}

// The points of one run's metric in a step range, ordered by (step, timestamp, value, is_nan)
// off the metrics_by_step index, for SampleMetricHistory (store_common.h).
class SampledHistorySource {
 public:
  SampledHistorySource(SqliteDb& db, int64_t run_key, const std::string& key, int64_t lo,
                       int64_t hi)
      : db_(db), run_key_(run_key), key_(key), lo_(lo), hi_(hi) {}

  Result<std::vector<SampledPoint>> Head(int64_t n) {
    PLINTH_ASSIGN_OR_RETURN(SqliteStmt * stmt,
                            Prepare(std::string(kInRange) + kAscending + " LIMIT ?"));
    stmt->Bind(5, n);
    std::vector<SampledPoint> out;
    PLINTH_RETURN_IF_ERROR(Collect(*stmt, [&](const SampledPoint& p) { out.push_back(p); }));
    return out;
  }

  Result<SampledPoint> Last() {
    PLINTH_ASSIGN_OR_RETURN(
        SqliteStmt * stmt,
        Prepare(std::string(kInRange) +
                " ORDER BY step DESC, timestamp DESC, value DESC, is_nan DESC LIMIT 1"));
    SampledPoint last;
    PLINTH_RETURN_IF_ERROR(Collect(*stmt, [&](const SampledPoint& p) { last = p; }));
    return last;
  }

  Result<std::vector<StepSeek>> FirstAtOrAfter(const std::vector<int64_t>& steps) {
    std::vector<StepSeek> out;
    out.reserve(steps.size());
    const int64_t lo = lo_;
    for (int64_t step : steps) {
      // One index seek each (the range's lower bound moved up to the target), two points read.
      lo_ = std::max(lo, step);
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * stmt,
                              Prepare(std::string(kInRange) + kAscending + " LIMIT 2"));
      int n = 0;
      PLINTH_RETURN_IF_ERROR(Collect(*stmt, [&](const SampledPoint& p) {
        if (n++ == 0) {
          out.push_back(StepSeek{p, false});
        } else {
          out.back().step_repeats = p.step == out.back().point.step;
        }
      }));
    }
    lo_ = lo;
    return out;
  }

  Result<int64_t> Count() {
    PLINTH_ASSIGN_OR_RETURN(
        SqliteStmt * stmt,
        Prepare("SELECT COUNT(*) FROM metrics WHERE run_key=? AND key=? AND step BETWEEN ? AND ?"));
    PLINTH_ASSIGN_OR_RETURN(bool row, stmt->Step());
    int64_t n = row ? stmt->Int64(0) : 0;
    stmt->Reset();
    return n;
  }

  Result<std::vector<SampledPoint>> AtOrdinals(const std::vector<int64_t>& ordinals) {
    PLINTH_ASSIGN_OR_RETURN(SqliteStmt * stmt, Prepare(std::string(kInRange) + kAscending));
    std::vector<SampledPoint> out;
    out.reserve(ordinals.size());
    size_t next = 0;
    int64_t i = 0;
    while (next < ordinals.size()) {
      PLINTH_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      if (i++ != ordinals[next]) continue;
      out.push_back(PointFromRow(*stmt));
      ++next;
    }
    stmt->Reset();
    return out;
  }

 private:
  static constexpr const char* kInRange =
      "SELECT step, timestamp, value, is_nan FROM metrics INDEXED BY metrics_by_step WHERE "
      "run_key=? AND key=? AND step BETWEEN ? AND ?";
  static constexpr const char* kAscending = " ORDER BY step, timestamp, value, is_nan";

  static SampledPoint PointFromRow(const SqliteStmt& row) {
    return SampledPoint{row.Int64(0), row.Int64(1), row.Double(2), row.Int64(3)};
  }

  Result<SqliteStmt*> Prepare(const std::string& sql) {
    PLINTH_ASSIGN_OR_RETURN(SqliteStmt * stmt, db_.Prepare(sql));
    stmt->Bind(1, run_key_).Bind(2, key_).Bind(3, lo_).Bind(4, hi_);
    return stmt;
  }

  template <typename F>
  static Status Collect(SqliteStmt& stmt, F&& on_point) {
    for (;;) {
      auto row = stmt.Step();
      if (!row.ok()) {
        stmt.Reset();
        return row.status();
      }
      if (!*row) break;
      on_point(PointFromRow(stmt));
    }
    stmt.Reset();
    return Status::Ok();
  }

  SqliteDb& db_;
  int64_t run_key_;
  const std::string& key_;
  int64_t lo_;
  int64_t hi_;
};

// The registry's view of a connection inside a write job or read snapshot (sql_session.h).
class SqliteSession final : public SqlSession {
 public:
  explicit SqliteSession(SqliteDb& db) : db_(db) {}

  Result<SqlRows> Run(const std::string& sql, const std::vector<SqlArg>& args,
                      bool cached) override {
    std::unique_ptr<SqliteStmt> owned;
    SqliteStmt* stmt = nullptr;
    if (cached) {
      PLINTH_ASSIGN_OR_RETURN(stmt, db_.Prepare(sql));
    } else {
      PLINTH_ASSIGN_OR_RETURN(owned, db_.PrepareOnce(sql));
      stmt = owned.get();
    }
    int i = 1;
    for (const SqlArg& arg : args) {
      if (const auto* n = std::get_if<int64_t>(&arg)) {
        stmt->Bind(i, *n);
      } else if (const auto* d = std::get_if<double>(&arg)) {
        stmt->Bind(i, *d);
      } else if (const auto* t = std::get_if<std::string>(&arg)) {
        stmt->Bind(i, *t);
      } else {
        stmt->BindNull(i);
      }
      ++i;
    }
    SqlRows rows;
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) {
        stmt->Reset();
        return row.status();
      }
      if (!*row) break;
      SqlRows::Row cells(static_cast<size_t>(stmt->Columns()));
      for (int c = 0; c < stmt->Columns(); ++c) {
        if (stmt->IsFloat(c)) {
          // SQLite's own text form keeps 15 digits; the shortest round-trip form keeps the
          // double exact (a trial's parameter must read back as the value it was given).
          char buf[32];
          auto end = std::to_chars(buf, buf + sizeof(buf), stmt->Double(c)).ptr;
          cells[static_cast<size_t>(c)] = std::string(buf, end);
        } else if (!stmt->IsNull(c)) {
          cells[static_cast<size_t>(c)] = stmt->Text(c);
        }
      }
      rows.AddRow(std::move(cells));
    }
    rows.set_affected(stmt->Changes());
    stmt->Reset();
    return rows;
  }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

 private:
  SqliteDb& db_;
};

class SqliteStore final : public MetadataStore,
                          public RegistryStore,
                          public StudyStore,
                          public DatasetStore {
 public:
  explicit SqliteStore(SqliteStoreOptions options) : options_(std::move(options)) {}

  ~SqliteStore() override {
    {
      std::lock_guard<std::mutex> lock(write_mu_);
      stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    if (checkpointer_.joinable()) {
      checkpointer_.join();
    }
    if (write_db_ && write_db_->ExecScript("BEGIN IMMEDIATE").ok()) {
      // Leave no staged points behind on a clean stop (after a crash, the next start merges them).
      Status merged = MergeStaged(*write_db_, std::nullopt);
      (void)write_db_->ExecScript(merged.ok() ? "COMMIT" : "ROLLBACK");
    }
    if (checkpoint_db_) {
      // Fold the WAL back into the database on a clean stop.
      (void)checkpoint_db_->ExecScript("PRAGMA wal_checkpoint(TRUNCATE)");
    }
  }

  Status Open(int64_t now) {
    std::filesystem::path path(options_.path);
    if (path.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(path.parent_path(), ec);
      if (ec) {
        return Unavailable("cannot create folder '" + path.parent_path().string() +
                           "' for the database: " + ec.message());
      }
    }
    PLINTH_ASSIGN_OR_RETURN(write_db_, SqliteDb::Open(options_.path, false));
    PLINTH_RETURN_IF_ERROR(Migrate(now));
    for (int i = 0; i < options_.reader_connections; ++i) {
      PLINTH_ASSIGN_OR_RETURN(auto reader, SqliteDb::Open(options_.path, false));
      readers_.push_back(std::move(reader));
    }
    // Checkpoints run on their own connection and thread, so the writer never stops to copy
    // the WAL into the database (SQLite's automatic checkpoint would run inside a commit).
    PLINTH_RETURN_IF_ERROR(write_db_->ExecScript("PRAGMA wal_autocheckpoint=0"));
    PLINTH_ASSIGN_OR_RETURN(checkpoint_db_, SqliteDb::Open(options_.path, false));
    checkpointer_ = std::thread([this] { CheckpointLoop(); });
    return Status::Ok();
  }

  // ------------------------------------------------------------------ experiments

  Result<std::string> CreateExperiment(const Experiment& e,
                                       const std::string& default_root) override {
    std::string id;
    PLINTH_RETURN_IF_ERROR(Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * find,
                              db.Prepare("SELECT lifecycle_stage FROM experiments WHERE name=?"));
      find->Bind(1, e.name);
      PLINTH_ASSIGN_OR_RETURN(bool exists, find->Step());
      if (exists) {
        bool deleted = find->Text(0) == "deleted";
        find->Reset();
        return AlreadyExists(deleted ? "Experiment '" + e.name +
                                           "' already exists in deleted state. You can restore "
                                           "the experiment, or permanently delete it first."
                                     : "Experiment(name=" + e.name + ") already exists.");
      }
      find->Reset();
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * ins,
          db.Prepare("INSERT INTO experiments (name, artifact_location, lifecycle_stage, "
                     "creation_time, last_update_time) VALUES (?, ?, 'active', ?, ?)"));
      ins->Bind(1, e.name)
          .Bind(2, e.artifact_location)
          .Bind(3, e.creation_time)
          .Bind(4, e.creation_time);
      PLINTH_RETURN_IF_ERROR(ins->Exec());
      int64_t new_id = sqlite3_last_insert_rowid(db.handle());
      id = std::to_string(new_id);
      if (e.artifact_location.empty()) {
        PLINTH_ASSIGN_OR_RETURN(
            SqliteStmt * upd,
            db.Prepare("UPDATE experiments SET artifact_location=? WHERE experiment_id=?"));
        upd->Bind(1, default_root + "/" + id).Bind(2, new_id);
        PLINTH_RETURN_IF_ERROR(upd->Exec());
      }
      for (const KeyValue& tag : e.tags) {
        PLINTH_RETURN_IF_ERROR(UpsertExperimentTag(db, new_id, tag));
      }
      return Status::Ok();
    }));
    return id;
  }

  Result<Experiment> GetExperiment(const std::string& experiment_id) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) {
      return ExperimentNotFound(experiment_id);
    }
    return Read<Experiment>([&](SqliteDb& db) -> Result<Experiment> {
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * stmt,
          db.Prepare(std::string(kExperimentSelect) + " FROM experiments WHERE experiment_id=?"));
      stmt->Bind(1, *id);
      PLINTH_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) {
        return ExperimentNotFound(experiment_id);
      }
      Experiment e = ExperimentFromRow(*stmt);
      stmt->Reset();
      PLINTH_RETURN_IF_ERROR(LoadExperimentTags(db, *id, &e.tags));
      return e;
    });
  }

  Result<Experiment> GetExperimentByName(const std::string& name) override {
    return Read<Experiment>([&](SqliteDb& db) -> Result<Experiment> {
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * stmt,
          db.Prepare(std::string(kExperimentSelect) + " FROM experiments WHERE name=? ORDER BY "
                                                      "lifecycle_stage='active' DESC LIMIT 1"));
      stmt->Bind(1, name);
      PLINTH_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) {
        return NotFound("Could not find experiment with name '" + name + "'");
      }
      Experiment e = ExperimentFromRow(*stmt);
      int64_t id = stmt->Int64(0);
      stmt->Reset();
      PLINTH_RETURN_IF_ERROR(LoadExperimentTags(db, id, &e.tags));
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
    return Read<ExperimentPage>([&](SqliteDb& db) -> Result<ExperimentPage> {
      PLINTH_ASSIGN_OR_RETURN(auto stmt, db.PrepareOnce(sql));
      PLINTH_RETURN_IF_ERROR(BindAll(*stmt, binds));
      ExperimentPage page;
      std::vector<int64_t> ids;
      PLINTH_ASSIGN_OR_RETURN(page.has_more,
                              StepPage(*stmt, search.max_results, [&](SqliteStmt& row) {
                                page.experiments.push_back(ExperimentFromRow(row));
                                ids.push_back(row.Int64(0));
                              }));
      for (size_t i = 0; i < ids.size(); ++i) {
        PLINTH_RETURN_IF_ERROR(LoadExperimentTags(db, ids[i], &page.experiments[i].tags));
      }
      return page;
    });
  }

  Status RenameExperiment(const std::string& experiment_id, const std::string& new_name,
                          int64_t now) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string stage, ExperimentStage(db, *id, experiment_id));
      if (stage != "active") {
        return FailedPrecondition("Cannot rename a non-active experiment.");
      }
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * find,
                              db.Prepare("SELECT experiment_id FROM experiments WHERE name=?"));
      find->Bind(1, new_name);
      PLINTH_ASSIGN_OR_RETURN(bool taken, find->Step());
      int64_t holder = taken ? find->Int64(0) : -1;
      find->Reset();
      if (taken && holder != *id) {
        return ExperimentNameTaken(new_name);
      }
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * upd,
          db.Prepare("UPDATE experiments SET name=?, last_update_time=? WHERE experiment_id=?"));
      upd->Bind(1, new_name).Bind(2, now).Bind(3, *id);
      return upd->Exec();
    });
  }

  Status SetExperimentLifecycle(const std::string& experiment_id, LifecycleStage stage,
                                int64_t now) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string current, ExperimentStage(db, *id, experiment_id));
      std::string target(LifecycleName(stage));
      if (current == target) {
        // MLflow: deleting a deleted experiment or restoring an active one finds nothing to do.
        return ExperimentNotFound(experiment_id);
      }
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * upd,
                              db.Prepare("UPDATE experiments SET lifecycle_stage=?, "
                                         "last_update_time=? WHERE experiment_id=?"));
      upd->Bind(1, target).Bind(2, now).Bind(3, *id);
      PLINTH_RETURN_IF_ERROR(upd->Exec());
      // Like MLflow, deleting an experiment deletes its runs, and restoring restores them.
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * runs,
          db.Prepare("UPDATE runs SET lifecycle_stage=?, deleted_time=? WHERE experiment_id=?"));
      runs->Bind(1, target).Bind(3, *id);
      if (stage == LifecycleStage::kDeleted) {
        runs->Bind(2, now);
      } else {
        runs->BindNull(2);
      }
      return runs->Exec();
    });
  }

  Status SetExperimentTag(const std::string& experiment_id, const KeyValue& tag) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string stage, ExperimentStage(db, *id, experiment_id));
      if (stage != "active") {
        return NotActive("experiment", experiment_id, stage);
      }
      return UpsertExperimentTag(db, *id, tag);
    });
  }

  Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string stage, ExperimentStage(db, *id, experiment_id));
      if (stage != "active") {
        return NotActive("experiment", experiment_id, stage);
      }
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * del,
          db.Prepare("DELETE FROM experiment_tags WHERE experiment_id=? AND key=?"));
      del->Bind(1, *id).Bind(2, key);
      PLINTH_RETURN_IF_ERROR(del->Exec());
      if (del->Changes() == 0) {
        return NotFound("No tag with name: " + key + " in experiment with id " + experiment_id);
      }
      return Status::Ok();
    });
  }

  // ------------------------------------------------------------------ runs

  Status CreateRun(const Run& run) override {
    auto exp_id = ParseExperimentId(run.info.experiment_id);
    if (!exp_id) return ExperimentNotFound(run.info.experiment_id);
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string stage,
                              ExperimentStage(db, *exp_id, run.info.experiment_id));
      if (stage != "active") {
        return NotActive("experiment", run.info.experiment_id, stage);
      }
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * ins,
          db.Prepare("INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, "
                     "start_time, end_time, artifact_uri, lifecycle_stage) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active')"));
      const RunInfo& i = run.info;
      ins->Bind(1, i.run_id)
          .Bind(2, i.run_name)
          .Bind(3, *exp_id)
          .Bind(4, i.user_id)
          .Bind(5, RunStatusName(i.status))
          .Bind(6, i.start_time)
          .Bind(7, i.end_time)
          .Bind(8, i.artifact_uri);
      PLINTH_RETURN_IF_ERROR(ins->Exec());
      int64_t run_key = sqlite3_last_insert_rowid(db.handle());
      for (const KeyValue& t : run.tags) {
        PLINTH_RETURN_IF_ERROR(UpsertRunTag(db, run_key, t, /*sync_run_name=*/false));
      }
      for (const KeyValue& p : run.params) {
        PLINTH_RETURN_IF_ERROR(InsertParam(db, run_key, i.run_id, p));
      }
      return Status::Ok();
    });
  }

  Result<Run> GetRun(const std::string& run_id) override {
    return Read<Run>([&](SqliteDb& db) -> Result<Run> {
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * stmt, db.Prepare(std::string(kRunSelect) + " FROM runs r WHERE run_uuid=?"));
      stmt->Bind(1, run_id);
      PLINTH_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) {
        return RunNotFound(run_id);
      }
      std::vector<Run> runs(1);
      runs[0].info = RunInfoFromRow(*stmt);
      std::vector<int64_t> keys{stmt->Int64(kRunKeyColumn)};
      stmt->Reset();
      PLINTH_RETURN_IF_ERROR(LoadRunData(db, keys, &runs));
      return std::move(runs[0]);
    });
  }

  Result<RunInfo> UpdateRun(const std::string& run_id, const RunUpdate& update) override {
    RunInfo info;
    PLINTH_RETURN_IF_ERROR(Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(int64_t run_key, CheckRunActive(db, run_id));
      if (update.status) {
        PLINTH_ASSIGN_OR_RETURN(SqliteStmt * s,
                                db.Prepare("UPDATE runs SET status=? WHERE run_uuid=?"));
        s->Bind(1, RunStatusName(*update.status)).Bind(2, run_id);
        PLINTH_RETURN_IF_ERROR(s->Exec());
      }
      if (update.end_time) {
        PLINTH_ASSIGN_OR_RETURN(SqliteStmt * s,
                                db.Prepare("UPDATE runs SET end_time=? WHERE run_uuid=?"));
        s->Bind(1, *update.end_time).Bind(2, run_id);
        PLINTH_RETURN_IF_ERROR(s->Exec());
      }
      if (update.run_name) {
        PLINTH_ASSIGN_OR_RETURN(SqliteStmt * s,
                                db.Prepare("UPDATE runs SET name=? WHERE run_uuid=?"));
        s->Bind(1, *update.run_name).Bind(2, run_id);
        PLINTH_RETURN_IF_ERROR(s->Exec());
        PLINTH_RETURN_IF_ERROR(UpsertRunTag(db, run_key, {"mlflow.runName", *update.run_name}));
      }
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * stmt, db.Prepare(std::string(kRunSelect) + " FROM runs r WHERE run_uuid=?"));
      stmt->Bind(1, run_id);
      PLINTH_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (row) {
        info = RunInfoFromRow(*stmt);
      }
      stmt->Reset();
      return Status::Ok();
    }));
    return info;
  }

  Status SetRunLifecycle(const std::string& run_id, LifecycleStage stage, int64_t now) override {
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * s,
          db.Prepare("UPDATE runs SET lifecycle_stage=?, deleted_time=? WHERE run_uuid=?"));
      s->Bind(1, LifecycleName(stage)).Bind(3, run_id);
      if (stage == LifecycleStage::kDeleted) {
        s->Bind(2, now);
      } else {
        s->BindNull(2);
      }
      PLINTH_RETURN_IF_ERROR(s->Exec());
      if (s->Changes() == 0) {
        return RunNotFound(run_id);
      }
      return Status::Ok();
    });
  }

  Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                  const std::vector<KeyValue>& params, const std::vector<KeyValue>& tags) override {
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(int64_t run_key, CheckRunActive(db, run_id));
      for (const KeyValue& p : params) {
        PLINTH_RETURN_IF_ERROR(InsertParam(db, run_key, run_id, p));
      }
      for (const KeyValue& t : tags) {
        PLINTH_RETURN_IF_ERROR(UpsertRunTag(db, run_key, t));
      }
      if (!metrics.empty()) {
        PLINTH_RETURN_IF_ERROR(InsertMetrics(db, run_key, metrics));
      }
      return Status::Ok();
    });
  }

  Status DeleteTag(const std::string& run_id, const std::string& key) override {
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(int64_t run_key, CheckRunActive(db, run_id));
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * del,
                              db.Prepare("DELETE FROM tags WHERE run_key=? AND key=?"));
      del->Bind(1, run_key).Bind(2, key);
      PLINTH_RETURN_IF_ERROR(del->Exec());
      if (del->Changes() == 0) {
        return NotFound("No tag with name: " + key + " in run with id " + run_id);
      }
      return Status::Ok();
    });
  }

  Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& datasets,
                   const std::vector<ModelIo>& models) override {
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(int64_t run_key, CheckRunActive(db, run_id));
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * exp,
                              db.Prepare("SELECT experiment_id FROM runs WHERE run_key=?"));
      exp->Bind(1, run_key);
      PLINTH_ASSIGN_OR_RETURN(bool row, exp->Step());
      int64_t experiment_id = row ? exp->Int64(0) : 0;
      exp->Reset();
      for (const DatasetInput& in : datasets) {
        const Dataset& d = in.dataset;
        PLINTH_ASSIGN_OR_RETURN(
            SqliteStmt * up,
            db.Prepare("INSERT INTO datasets (experiment_id, name, digest, source_type, source, "
                       "schema, profile) VALUES (?, ?, ?, ?, ?, ?, ?) "
                       "ON CONFLICT (experiment_id, name, digest) DO NOTHING"));
        up->Bind(1, experiment_id)
            .Bind(2, d.name)
            .Bind(3, d.digest)
            .Bind(4, d.source_type)
            .Bind(5, d.source);
        d.schema.empty() ? up->BindNull(6) : up->Bind(6, d.schema);
        d.profile.empty() ? up->BindNull(7) : up->Bind(7, d.profile);
        PLINTH_RETURN_IF_ERROR(up->Exec());
        PLINTH_ASSIGN_OR_RETURN(SqliteStmt * get,
                                db.Prepare("SELECT dataset_uuid FROM datasets WHERE "
                                           "experiment_id=? AND name=? AND digest=?"));
        get->Bind(1, experiment_id).Bind(2, d.name).Bind(3, d.digest);
        PLINTH_ASSIGN_OR_RETURN(bool found, get->Step());
        if (!found) {
          get->Reset();
          return Internal("dataset row vanished");
        }
        int64_t dataset_uuid = get->Int64(0);
        get->Reset();
        PLINTH_ASSIGN_OR_RETURN(
            SqliteStmt * link,
            db.Prepare("INSERT OR IGNORE INTO run_inputs (run_key, dataset_uuid) VALUES (?, ?)"));
        link->Bind(1, run_key).Bind(2, dataset_uuid);
        PLINTH_RETURN_IF_ERROR(link->Exec());
        for (const KeyValue& tag : in.tags) {
          PLINTH_ASSIGN_OR_RETURN(
              SqliteStmt * t,
              db.Prepare("INSERT INTO input_tags (run_key, dataset_uuid, key, value) VALUES "
                         "(?, ?, ?, ?) ON CONFLICT DO UPDATE SET value=excluded.value"));
          t->Bind(1, run_key).Bind(2, dataset_uuid).Bind(3, tag.key).Bind(4, tag.value);
          PLINTH_RETURN_IF_ERROR(t->Exec());
        }
      }
      return InsertRunModels(db, run_key, "input", models);
    });
  }

  Status LogOutputs(const std::string& run_id, const std::vector<ModelIo>& models) override {
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(int64_t run_key, CheckRunActive(db, run_id));
      return InsertRunModels(db, run_key, "output", models);
    });
  }

  Result<MetricPage> GetMetricHistory(const std::string& run_id, const std::string& key,
                                      int64_t max_results, int64_t offset) override {
    // A run that does not exist has an empty history, as in MLflow (200 with no metrics).
    PLINTH_RETURN_IF_ERROR(MergeStagedForRun(run_id));
    return Read<MetricPage>([&](SqliteDb& db) -> Result<MetricPage> {
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * stmt,
          db.Prepare("SELECT key, value, timestamp, step, is_nan, model_id, dataset_name, "
                     "dataset_digest FROM metrics WHERE run_key=(SELECT run_key FROM runs WHERE "
                     "run_uuid=?) AND key=? "
                     "ORDER BY timestamp, step, value LIMIT ? OFFSET ?"));
      stmt->Bind(1, run_id).Bind(2, key).Bind(3, max_results + 1).Bind(4, offset);
      MetricPage page;
      page.metrics.reserve(static_cast<size_t>(std::min<int64_t>(max_results, 1 << 16)));
      PLINTH_ASSIGN_OR_RETURN(page.has_more, StepPage(*stmt, max_results, [&](SqliteStmt& row) {
                                page.metrics.push_back(MetricFromRow(row));
                              }));
      stmt->Reset();
      return page;
    });
  }

  Result<std::vector<Metric>> GetMetricHistorySampled(const std::vector<std::string>& run_ids,
                                                      const std::string& key,
                                                      std::optional<int64_t> start_step,
                                                      std::optional<int64_t> end_step,
                                                      int64_t max_results) override {
    for (const std::string& run_id : run_ids) {
      PLINTH_RETURN_IF_ERROR(MergeStagedForRun(run_id));
    }
    return Read<std::vector<Metric>>([&](SqliteDb& db) -> Result<std::vector<Metric>> {
      std::vector<Metric> out;
      for (const std::string& run_id : run_ids) {
        PLINTH_ASSIGN_OR_RETURN(SqliteStmt * find,
                                db.Prepare("SELECT run_key FROM runs WHERE run_uuid=?"));
        find->Bind(1, run_id);
        PLINTH_ASSIGN_OR_RETURN(bool found, find->Step());
        const int64_t run_key = found ? find->Int64(0) : 0;
        find->Reset();
        if (!found) continue;
        SampledHistorySource source(db, run_key, key,
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
    if (!ids) {
      return RunPage{};
    }
    std::string sql = std::string(kRunSelect) + " FROM runs r" + joins +
                      " WHERE r.experiment_id IN " + *ids + " AND " +
                      LifecycleClause("r.lifecycle_stage", search.view_type) + where +
                      " ORDER BY " + order + "r.start_time DESC, r.run_uuid ASC LIMIT ? OFFSET ?";
    for (auto& b : where_binds) binds.push_back(std::move(b));
    binds.emplace_back(search.max_results + 1);
    binds.emplace_back(search.offset);
    return Read<RunPage>([&](SqliteDb& db) -> Result<RunPage> {
      PLINTH_ASSIGN_OR_RETURN(auto stmt, db.PrepareOnce(sql));
      PLINTH_RETURN_IF_ERROR(BindAll(*stmt, binds));
      RunPage page;
      std::vector<int64_t> keys;
      PLINTH_ASSIGN_OR_RETURN(page.has_more,
                              StepPage(*stmt, search.max_results, [&](SqliteStmt& row) {
                                Run run;
                                run.info = RunInfoFromRow(row);
                                keys.push_back(row.Int64(kRunKeyColumn));
                                page.runs.push_back(std::move(run));
                              }));
      stmt.reset();
      PLINTH_RETURN_IF_ERROR(LoadRunData(db, keys, &page.runs));
      return page;
    });
  }

  // ------------------------------------------------------------------ logged models

  Status CreateLoggedModel(const LoggedModel& m) override {
    auto exp_id = ParseExperimentId(m.experiment_id);
    if (!exp_id) return ExperimentNotFound(m.experiment_id);
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string stage, ExperimentStage(db, *exp_id, m.experiment_id));
      if (stage != "active") {
        return NotActive("experiment", m.experiment_id, stage);
      }
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * ins,
          db.Prepare("INSERT INTO logged_models (model_id, experiment_id, name, artifact_uri, "
                     "status, status_message, model_type, source_run_id, creation_timestamp_ms, "
                     "last_updated_timestamp_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      ins->Bind(1, m.model_id)
          .Bind(2, *exp_id)
          .Bind(3, m.name)
          .Bind(4, m.artifact_uri)
          .Bind(5, LoggedModelStatusName(m.status));
      m.status_message.empty() ? ins->BindNull(6) : ins->Bind(6, m.status_message);
      m.model_type.empty() ? ins->BindNull(7) : ins->Bind(7, m.model_type);
      m.source_run_id.empty() ? ins->BindNull(8) : ins->Bind(8, m.source_run_id);
      ins->Bind(9, m.creation_timestamp_ms).Bind(10, m.last_updated_timestamp_ms);
      PLINTH_RETURN_IF_ERROR(ins->Exec());
      for (const KeyValue& t : m.tags) {
        PLINTH_RETURN_IF_ERROR(UpsertModelKv(db, "logged_model_tags", m.model_id, t));
      }
      for (const KeyValue& p : m.params) {
        PLINTH_RETURN_IF_ERROR(UpsertModelKv(db, "logged_model_params", m.model_id, p));
      }
      return Status::Ok();
    });
  }

  Result<LoggedModel> GetLoggedModel(const std::string& model_id) override {
    PLINTH_RETURN_IF_ERROR(MergeAllStaged());
    return Read<LoggedModel>([&](SqliteDb& db) -> Result<LoggedModel> {
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * stmt,
          db.Prepare(std::string(kModelSelect) +
                     " FROM logged_models m WHERE model_id=? AND lifecycle_stage='active'"));
      stmt->Bind(1, model_id);
      PLINTH_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) {
        return LoggedModelNotFound(model_id);
      }
      std::vector<LoggedModel> models{LoggedModelFromRow(*stmt)};
      stmt->Reset();
      PLINTH_RETURN_IF_ERROR(LoadModelData(db, &models));
      return std::move(models[0]);
    });
  }

  Status SetLoggedModelStatus(const std::string& model_id, LoggedModelStatus status,
                              const std::string& message, int64_t now) override {
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * s,
          db.Prepare("UPDATE logged_models SET status=?, status_message=?, "
                     "last_updated_timestamp_ms=? WHERE model_id=? AND lifecycle_stage='active'"));
      s->Bind(1, LoggedModelStatusName(status)).Bind(3, now).Bind(4, model_id);
      message.empty() ? s->BindNull(2) : s->Bind(2, message);
      PLINTH_RETURN_IF_ERROR(s->Exec());
      return s->Changes() == 0 ? LoggedModelNotFound(model_id) : Status::Ok();
    });
  }

  Status DeleteLoggedModel(const std::string& model_id, int64_t now) override {
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * s,
          db.Prepare("UPDATE logged_models SET lifecycle_stage='deleted', "
                     "last_updated_timestamp_ms=? WHERE model_id=? AND lifecycle_stage='active'"));
      s->Bind(1, now).Bind(2, model_id);
      PLINTH_RETURN_IF_ERROR(s->Exec());
      return s->Changes() == 0 ? LoggedModelNotFound(model_id) : Status::Ok();
    });
  }

  Status SetLoggedModelTags(const std::string& model_id, const std::vector<KeyValue>& tags,
                            int64_t now) override {
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_RETURN_IF_ERROR(CheckModelExists(db, model_id));
      for (const KeyValue& t : tags) {
        PLINTH_RETURN_IF_ERROR(UpsertModelKv(db, "logged_model_tags", model_id, t));
      }
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * s,
          db.Prepare("UPDATE logged_models SET last_updated_timestamp_ms=? WHERE model_id=?"));
      s->Bind(1, now).Bind(2, model_id);
      return s->Exec();
    });
  }

  Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key) override {
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_RETURN_IF_ERROR(CheckModelExists(db, model_id));
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * del, db.Prepare("DELETE FROM logged_model_tags WHERE model_id=? AND key=?"));
      del->Bind(1, model_id).Bind(2, key);
      PLINTH_RETURN_IF_ERROR(del->Exec());
      if (del->Changes() == 0) {
        return NotFound("No tag with key '" + key + "' found for logged model '" + model_id + "'");
      }
      return Status::Ok();
    });
  }

  Status LogLoggedModelParams(const std::string& model_id,
                              const std::vector<KeyValue>& params) override {
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_RETURN_IF_ERROR(CheckModelExists(db, model_id));
      for (const KeyValue& p : params) {
        PLINTH_RETURN_IF_ERROR(UpsertModelKv(db, "logged_model_params", model_id, p));
      }
      return Status::Ok();
    });
  }

  Result<LoggedModelPage> SearchLoggedModels(const LoggedModelSearch& search) override {
    PLINTH_RETURN_IF_ERROR(MergeAllStaged());
    std::vector<SqlValue> binds;
    PLINTH_ASSIGN_OR_RETURN(std::string where, CompileLoggedModelFilter(search.filter, &binds));
    std::optional<std::string> ids = ExperimentIdList(search.experiment_ids);
    if (!ids) {
      return LoggedModelPage{};
    }
    std::vector<SqlValue> ordered = std::move(binds);
    std::string order;
    for (const OrderBy& o : search.order_by) {
      PLINTH_ASSIGN_OR_RETURN(std::string term, CompileLoggedModelOrderBy(o, &ordered));
      order += term + ", ";
    }
    ordered.emplace_back(search.max_results + 1);
    ordered.emplace_back(search.offset);
    std::string sql = std::string(kModelSelect) +
                      " FROM logged_models m WHERE m.experiment_id IN " + *ids +
                      " AND m.lifecycle_stage='active'" + where + " ORDER BY " + order +
                      "m.creation_timestamp_ms DESC, m.model_id ASC LIMIT ? OFFSET ?";
    return Read<LoggedModelPage>([&](SqliteDb& db) -> Result<LoggedModelPage> {
      PLINTH_ASSIGN_OR_RETURN(auto stmt, db.PrepareOnce(sql));
      PLINTH_RETURN_IF_ERROR(BindAll(*stmt, ordered));
      LoggedModelPage page;
      PLINTH_ASSIGN_OR_RETURN(page.has_more,
                              StepPage(*stmt, search.max_results, [&](SqliteStmt& row) {
                                page.models.push_back(LoggedModelFromRow(row));
                              }));
      stmt.reset();
      PLINTH_RETURN_IF_ERROR(LoadModelData(db, &page.models));
      return page;
    });
  }

 private:
  // ---- plumbing

  // A caller's write waiting in the queue (LevelDB's DBImpl::Writer).
  struct PendingWrite {
    explicit PendingWrite(WriteJob j) : job(std::move(j)) {}
    WriteJob job;
    Status status;
    bool done = false;
    std::condition_variable cv;
  };

  // Group commit without a writer thread (LevelDB's write path): callers queue up; the one at
  // the front becomes the leader, commits every job queued behind it (up to
  // max_group_commit) in one transaction, answers them, and hands the front to the next
  // waiter. A lone writer runs its job on its own thread, with no hand-off.
  Status Write(WriteJob job) {
    PendingWrite w(std::move(job));
    std::unique_lock<std::mutex> lock(write_mu_);
    if (stopping_) {
      return Unavailable("the store is shutting down");
    }
    write_queue_.push_back(&w);
    while (!w.done && &w != write_queue_.front()) {
      w.cv.wait(lock);
    }
    if (w.done) {
      return std::move(w.status);
    }
    // Leader: take a batch from the front; the queue keeps it until it is answered, so later
    // arrivals wait behind it.
    size_t count =
        std::min<size_t>(write_queue_.size(), static_cast<size_t>(options_.max_group_commit));
    std::vector<PendingWrite*> batch(write_queue_.begin(), write_queue_.begin() + count);
    lock.unlock();
    CommitBatch(batch);
    lock.lock();
    for (size_t i = 0; i < count; ++i) {
      PendingWrite* done = write_queue_.front();
      write_queue_.pop_front();
      done->done = true;
      if (done != &w) {
        done->cv.notify_one();
      }
    }
    if (!write_queue_.empty()) {
      write_queue_.front()->cv.notify_one();
    }
    bool checkpoint_due = ++commits_since_checkpoint_ >= kCheckpointCommits;
    total_commits_.fetch_add(1);
    lock.unlock();
    if (checkpoint_due) {
      checkpoint_cv_.notify_one();
    }
    return std::move(w.status);
  }

  // Runs `batch` in one transaction, each job in its own savepoint so a failing job does not
  // undo its neighbours; sets each job's status. Called by the leader only.
  void CommitBatch(const std::vector<PendingWrite*>& batch) {
    Status begin = write_db_->Exec("BEGIN IMMEDIATE");
    if (!begin.ok()) {
      for (PendingWrite* w : batch) w->status = begin;
      return;
    }
    // A lone job needs no savepoint: if it fails, the whole transaction is rolled back.
    const bool savepoints = batch.size() > 1;
    for (PendingWrite* w : batch) {
      if (savepoints) (void)write_db_->Exec("SAVEPOINT job");
      try {
        w->status = w->job(*write_db_);
      } catch (const std::exception& e) {
        w->status = Internal(std::string("write failed: ") + e.what());
      }
      if (savepoints) {
        if (!w->status.ok()) {
          (void)write_db_->Exec("ROLLBACK TO job");
        }
        (void)write_db_->Exec("RELEASE job");
      }
    }
    if (!savepoints && !batch.front()->status.ok()) {
      (void)write_db_->Exec("ROLLBACK");
      return;
    }
    Status commit = write_db_->Exec("COMMIT");
    if (!commit.ok()) {
      PLINTH_LOG_ERROR("group commit failed: {}", commit.ToString());
      (void)write_db_->Exec("ROLLBACK");
      for (PendingWrite* w : batch) {
        if (w->status.ok()) w->status = commit;
      }
    }
  }

  // Copies committed WAL pages into the database in the background: PASSIVE checkpoints never
  // block the writer or readers. Runs after every `kCheckpointCommits` commits or once a second.
  void CheckpointLoop() {
    RefreshStatistics();
    auto last_statistics = std::chrono::steady_clock::now();
    int64_t commits_at_statistics = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(write_mu_);
        checkpoint_cv_.wait_for(lock, std::chrono::seconds(1), [this] {
          return stopping_ || commits_since_checkpoint_ >= kCheckpointCommits;
        });
        if (stopping_) {
          return;
        }
        commits_since_checkpoint_ = 0;
      }
      // Fold staged metric points into `metrics` in one bulk pass, then checkpoint.
      Status merged = MergeAllStaged();
      if (!merged.ok()) {
        PLINTH_LOG_WARN("merging staged metrics failed: {}", merged.ToString());
      }
      Status s = checkpoint_db_->ExecScript("PRAGMA wal_checkpoint(PASSIVE)");
      if (!s.ok()) {
        PLINTH_LOG_WARN("WAL checkpoint failed: {}", s.ToString());
      }
      // Statistics follow the data: after many commits (a fresh store filling up) or a while.
      int64_t commits = total_commits_.load();
      if (commits - commits_at_statistics >= kStatisticsCommits ||
          std::chrono::steady_clock::now() - last_statistics > kStatisticsInterval) {
        RefreshStatistics();
        last_statistics = std::chrono::steady_clock::now();
        commits_at_statistics = commits;
      }
    }
  }

  // Sampled table statistics for SQLite's planner (ANALYZE over at most a few hundred rows per
  // index): without them it scans every run of an experiment even when a param filter would
  // select a few. Cheap; waits its turn for the write lock like any writer.
  void RefreshStatistics() {
    Status s = checkpoint_db_->ExecScript("PRAGMA analysis_limit=400; ANALYZE;");
    if (!s.ok()) {
      PLINTH_LOG_WARN("refreshing planner statistics failed: {}", s.ToString());
    }
  }

  class ReaderLease {
   public:
    ReaderLease(SqliteStore* store) : store_(store) {
      std::unique_lock<std::mutex> lock(store_->read_mu_);
      store_->read_cv_.wait(lock, [this] { return !store_->readers_.empty(); });
      db_ = std::move(store_->readers_.back());
      store_->readers_.pop_back();
    }
    ~ReaderLease() {
      {
        std::lock_guard<std::mutex> lock(store_->read_mu_);
        store_->readers_.push_back(std::move(db_));
      }
      store_->read_cv_.notify_one();
    }
    SqliteDb& db() { return *db_; }

   private:
    SqliteStore* store_;
    std::unique_ptr<SqliteDb> db_;
  };

  template <typename T, typename Fn>
  Result<T> Read(Fn&& fn) {
    ReaderLease lease(this);
    SqliteDb& db = lease.db();
    PLINTH_RETURN_IF_ERROR(db.Exec("BEGIN"));
    Result<T> out = fn(db);
    (void)db.Exec("COMMIT");
    return out;
  }

  Status Migrate(int64_t now) {
    PLINTH_RETURN_IF_ERROR(write_db_->ExecScript(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
    int current = 0;
    {
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * s,
                              write_db_->Prepare("SELECT MAX(version) FROM schema_version"));
      PLINTH_ASSIGN_OR_RETURN(bool row, s->Step());
      if (row && !s->IsNull(0)) current = static_cast<int>(s->Int64(0));
      s->Reset();
    }
    if (current > LatestSchemaVersion()) {
      return SchemaTooNew(current, LatestSchemaVersion());
    }
    for (const Migration& m : Migrations()) {
      if (m.version <= current) continue;
      PLINTH_LOG_INFO("applying schema migration {}: {}", m.version, m.description);
      PLINTH_RETURN_IF_ERROR(write_db_->ExecScript("BEGIN IMMEDIATE"));
      Status s = write_db_->ExecScript(m.sqlite_sql);
      if (s.ok()) {
        s = write_db_->ExecScript("INSERT INTO schema_version (version) VALUES (" +
                                  std::to_string(m.version) + ")");
      }
      if (!s.ok()) {
        (void)write_db_->ExecScript("ROLLBACK");
        return Internal("schema migration " + std::to_string(m.version) +
                        " failed: " + s.message());
      }
      PLINTH_RETURN_IF_ERROR(write_db_->ExecScript("COMMIT"));
    }
    // The Default experiment "0" always exists, as in MLflow.
    PLINTH_ASSIGN_OR_RETURN(
        SqliteStmt * ins,
        write_db_->Prepare("INSERT OR IGNORE INTO experiments (experiment_id, name, "
                           "artifact_location, lifecycle_stage, creation_time, last_update_time) "
                           "VALUES (0, 'Default', ?, 'active', ?, ?)"));
    ins->Bind(1, std::string("mlflow-artifacts:/0")).Bind(2, now).Bind(3, now);
    return ins->Exec();
  }

  Status LoadExperimentTags(SqliteDb& db, int64_t id, std::vector<KeyValue>* out) {
    PLINTH_ASSIGN_OR_RETURN(
        SqliteStmt * s,
        db.Prepare("SELECT key, value FROM experiment_tags WHERE experiment_id=? ORDER BY key"));
    s->Bind(1, id);
    for (;;) {
      PLINTH_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      out->push_back({s->Text(0), s->Text(1)});
    }
    s->Reset();
    return Status::Ok();
  }

  // Fills params, tags, latest metrics, inputs and outputs of `runs` (infos already set),
  // with one query per kind for the whole page.
  Status LoadRunData(SqliteDb& db, const std::vector<int64_t>& keys, std::vector<Run>* runs) {
    if (runs->empty()) return Status::Ok();
    std::unordered_map<int64_t, Run*> by_key;
    std::string id_json = "[";
    for (size_t i = 0; i < runs->size(); ++i) {
      by_key[keys[i]] = &(*runs)[i];
      if (i > 0) id_json += ',';
      id_json += std::to_string(keys[i]);
    }
    id_json += ']';
    auto each = [&](const char* sql, auto&& fn) -> Status {
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * s, db.Prepare(sql));
      s->Bind(1, id_json);
      for (;;) {
        PLINTH_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        auto it = by_key.find(s->Int64(0));
        if (it != by_key.end()) fn(*s, *it->second);
      }
      s->Reset();
      return Status::Ok();
    };
    PLINTH_RETURN_IF_ERROR(
        each("SELECT run_key, key, value FROM params WHERE run_key IN "
             "(SELECT value FROM json_each(?)) ORDER BY run_key, key",
             [](SqliteStmt& s, Run& r) {
               r.params.push_back({s.Text(1), s.Text(2)});
             }));
    PLINTH_RETURN_IF_ERROR(
        each("SELECT run_key, key, value FROM tags WHERE run_key IN "
             "(SELECT value FROM json_each(?)) ORDER BY run_key, key",
             [](SqliteStmt& s, Run& r) {
               r.tags.push_back({s.Text(1), s.Text(2)});
             }));
    PLINTH_RETURN_IF_ERROR(each(
        "SELECT run_key, key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_key "
        "IN (SELECT value FROM json_each(?)) ORDER BY run_key, key",
        [](SqliteStmt& s, Run& r) {
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
             "WHERE i.run_key IN (SELECT value FROM json_each(?)) "
             "ORDER BY i.run_key, d.dataset_uuid, t.key",
             [&last_dataset](SqliteStmt& s, Run& r) { AddDatasetInputRow(s, r, &last_dataset); }));
    PLINTH_RETURN_IF_ERROR(
        each("SELECT run_key, model_id, direction, step FROM run_models WHERE run_key IN "
             "(SELECT value FROM json_each(?)) ORDER BY run_key, model_id",
             [](SqliteStmt& s, Run& r) { AddModelIoRow(s, r); }));
    return Status::Ok();
  }

  Status LoadModelData(SqliteDb& db, std::vector<LoggedModel>* models) {
    for (LoggedModel& m : *models) {
      for (const char* table : {"logged_model_tags", "logged_model_params"}) {
        PLINTH_ASSIGN_OR_RETURN(SqliteStmt * s,
                                db.Prepare(std::string("SELECT key, value FROM ") + table +
                                           " WHERE model_id=? ORDER BY key"));
        s->Bind(1, m.model_id);
        auto& out = std::string_view(table) == "logged_model_tags" ? m.tags : m.params;
        for (;;) {
          PLINTH_ASSIGN_OR_RETURN(bool row, s->Step());
          if (!row) break;
          out.push_back({s->Text(0), s->Text(1)});
        }
        s->Reset();
      }
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * s,
          db.Prepare(
              "SELECT key, value, timestamp, step, is_nan, model_id, dataset_name, "
              "dataset_digest, (SELECT run_uuid FROM runs r WHERE r.run_key=metrics.run_key) "
              "FROM metrics WHERE model_id=? "
              "ORDER BY key, step, timestamp"));
      s->Bind(1, m.model_id);
      for (;;) {
        PLINTH_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        Metric metric = MetricFromRow(*s);
        metric.run_id = s->Text(8);
        m.metrics.push_back(std::move(metric));
      }
      s->Reset();
    }
    return Status::Ok();
  }

  Result<std::string> ExperimentStage(SqliteDb& db, int64_t id, const std::string& id_text) {
    PLINTH_ASSIGN_OR_RETURN(
        SqliteStmt * s,
        db.Prepare("SELECT lifecycle_stage FROM experiments WHERE experiment_id=?"));
    s->Bind(1, id);
    PLINTH_ASSIGN_OR_RETURN(bool row, s->Step());
    std::string stage = row ? s->Text(0) : "";
    s->Reset();
    if (!row) {
      return ExperimentNotFound(id_text);
    }
    return stage;
  }

  // The run's key when it exists and is active. Failure: kNotFound, or kInvalidArgument when
  // the run is deleted (MLflow's wording).
  Result<int64_t> CheckRunActive(SqliteDb& db, const std::string& run_id) {
    PLINTH_ASSIGN_OR_RETURN(
        SqliteStmt * s, db.Prepare("SELECT run_key, lifecycle_stage FROM runs WHERE run_uuid=?"));
    s->Bind(1, run_id);
    PLINTH_ASSIGN_OR_RETURN(bool row, s->Step());
    int64_t run_key = row ? s->Int64(0) : 0;
    std::string stage = row ? s->Text(1) : "";
    s->Reset();
    if (!row) {
      return RunNotFound(run_id);
    }
    if (stage != "active") {
      return NotActive("run", run_id, stage);
    }
    return run_key;
  }

  Status CheckModelExists(SqliteDb& db, const std::string& model_id) {
    PLINTH_ASSIGN_OR_RETURN(
        SqliteStmt * s,
        db.Prepare("SELECT 1 FROM logged_models WHERE model_id=? AND lifecycle_stage='active'"));
    s->Bind(1, model_id);
    PLINTH_ASSIGN_OR_RETURN(bool row, s->Step());
    s->Reset();
    return row ? Status::Ok() : LoggedModelNotFound(model_id);
  }

  Status UpsertExperimentTag(SqliteDb& db, int64_t id, const KeyValue& tag) {
    PLINTH_ASSIGN_OR_RETURN(
        SqliteStmt * s,
        db.Prepare("INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
                   "ON CONFLICT (experiment_id, key) DO UPDATE SET value=excluded.value"));
    s->Bind(1, id).Bind(2, tag.key).Bind(3, tag.value);
    return s->Exec();
  }

  // `sync_run_name`: an mlflow.runName tag also renames the run (off when the caller has set
  // the run's name already).
  Status UpsertRunTag(SqliteDb& db, int64_t run_key, const KeyValue& tag,
                      bool sync_run_name = true) {
    PLINTH_ASSIGN_OR_RETURN(
        SqliteStmt * s,
        db.Prepare("INSERT INTO tags (run_key, key, value) VALUES (?, ?, ?) "
                   "ON CONFLICT (run_key, key) DO UPDATE SET value=excluded.value"));
    s->Bind(1, run_key).Bind(2, tag.key).Bind(3, tag.value);
    PLINTH_RETURN_IF_ERROR(s->Exec());
    if (sync_run_name && tag.key == "mlflow.runName") {
      // The run's name and its mlflow.runName tag are one fact, as in MLflow.
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * u, db.Prepare("UPDATE runs SET name=? WHERE run_key=?"));
      u->Bind(1, tag.value).Bind(2, run_key);
      PLINTH_RETURN_IF_ERROR(u->Exec());
    }
    return Status::Ok();
  }

  // Params are write-once: the same value again is fine, a different one is refused.
  Status InsertParam(SqliteDb& db, int64_t run_key, const std::string& run_id, const KeyValue& p) {
    PLINTH_ASSIGN_OR_RETURN(SqliteStmt * ins,
                            db.Prepare("INSERT INTO params (run_key, key, value) VALUES (?, ?, ?) "
                                       "ON CONFLICT (run_key, key) DO NOTHING"));
    ins->Bind(1, run_key).Bind(2, p.key).Bind(3, p.value);
    PLINTH_RETURN_IF_ERROR(ins->Exec());
    if (ins->Changes() == 1) {
      return Status::Ok();
    }
    PLINTH_ASSIGN_OR_RETURN(SqliteStmt * get,
                            db.Prepare("SELECT value FROM params WHERE run_key=? AND key=?"));
    get->Bind(1, run_key).Bind(2, p.key);
    PLINTH_ASSIGN_OR_RETURN(bool row, get->Step());
    std::string old = row ? get->Text(0) : "";
    get->Reset();
    if (old != p.value) {
      return ParamChanged(p.key, old, p.value, run_id);
    }
    return Status::Ok();
  }

  // Moves staged points into `metrics` (identical points are kept once, as MLflow does): all
  // of them, or only those of `run_key`. Runs inside a write job.
  Status MergeStaged(SqliteDb& db, std::optional<int64_t> run_key) {
    static const std::string kColumns =
        "run_key, key, step, timestamp, value, is_nan, model_id, dataset_name, dataset_digest";
    if (run_key) {
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * move,
          db.Prepare("INSERT OR IGNORE INTO metrics (" + kColumns + ") SELECT " + kColumns +
                     " FROM metrics_staging WHERE run_key=? ORDER BY rowid"));
      move->Bind(1, *run_key);
      PLINTH_RETURN_IF_ERROR(move->Exec());
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * drop,
                              db.Prepare("DELETE FROM metrics_staging WHERE run_key=?"));
      drop->Bind(1, *run_key);
      return drop->Exec();
    }
    // Sorted by the target's key, so each page of `metrics` is visited once.
    PLINTH_ASSIGN_OR_RETURN(
        SqliteStmt * move,
        db.Prepare("INSERT OR IGNORE INTO metrics (" + kColumns + ") SELECT " + kColumns +
                   " FROM metrics_staging ORDER BY run_key, key, timestamp, step"));
    PLINTH_RETURN_IF_ERROR(move->Exec());
    PLINTH_ASSIGN_OR_RETURN(SqliteStmt * drop, db.Prepare("DELETE FROM metrics_staging"));
    return drop->Exec();
  }

  // Before reading a run's metric history: merges the run's staged points, if it has any
  // (a read-only check first, so reads of settled runs never take the write path).
  Status MergeStagedForRun(const std::string& run_id) {
    PLINTH_ASSIGN_OR_RETURN(
        std::optional<int64_t> key,
        Read<std::optional<int64_t>>([&](SqliteDb& db) -> Result<std::optional<int64_t>> {
          PLINTH_ASSIGN_OR_RETURN(SqliteStmt * s,
                                  db.Prepare("SELECT st.run_key FROM metrics_staging "
                                             "st JOIN runs r ON r.run_key=st.run_key "
                                             "WHERE r.run_uuid=? LIMIT 1"));
          s->Bind(1, run_id);
          PLINTH_ASSIGN_OR_RETURN(bool row, s->Step());
          std::optional<int64_t> out;
          if (row) out = s->Int64(0);
          s->Reset();
          return out;
        }));
    if (!key) {
      return Status::Ok();
    }
    return Write([&](SqliteDb& db) { return MergeStaged(db, *key); });
  }

  // Before reading metrics across runs (logged models): merges everything staged, if anything.
  Status MergeAllStaged() {
    PLINTH_ASSIGN_OR_RETURN(bool any, Read<bool>([](SqliteDb& db) -> Result<bool> {
                              PLINTH_ASSIGN_OR_RETURN(
                                  SqliteStmt * s,
                                  db.Prepare("SELECT 1 FROM metrics_staging LIMIT 1"));
                              PLINTH_ASSIGN_OR_RETURN(bool row, s->Step());
                              s->Reset();
                              return row;
                            }));
    if (!any) {
      return Status::Ok();
    }
    return Write([this](SqliteDb& db) { return MergeStaged(db, std::nullopt); });
  }

  // Rows per multi-row INSERT: one statement step per chunk instead of per point (9 binds a
  // row, far below SQLite's 32766-bind limit).
  static constexpr size_t kMetricRowsPerInsert = 64;

  static std::string MetricInsertSql(size_t rows) {
    std::string sql =
        "INSERT INTO metrics_staging (run_key, key, step, timestamp, value, is_nan, model_id, "
        "dataset_name, dataset_digest) VALUES ";
    for (size_t i = 0; i < rows; ++i) {
      sql += i == 0 ? "(?,?,?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?,?,?)";
    }
    return sql;
  }

  Status InsertMetrics(SqliteDb& db, int64_t run_key, const std::vector<Metric>& metrics) {
    for (size_t start = 0; start < metrics.size(); start += kMetricRowsPerInsert) {
      size_t rows = std::min(kMetricRowsPerInsert, metrics.size() - start);
      // Two cached shapes cover every batch: full chunks and single rows for the tail.
      size_t shape = rows == kMetricRowsPerInsert ? rows : 1;
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * ins, db.Prepare(MetricInsertSql(shape)));
      for (size_t done = 0; done < rows; done += shape) {
        for (size_t r = 0; r < shape; ++r) {
          const Metric& m = metrics[start + done + r];
          auto [value, is_nan] = StoredValue(m.value);
          int base = static_cast<int>(r * 9);
          ins->Bind(base + 1, run_key)
              .Bind(base + 2, m.key)
              .Bind(base + 3, m.step)
              .Bind(base + 4, m.timestamp)
              .Bind(base + 5, value)
              .Bind(base + 6, is_nan);
          m.model_id.empty() ? ins->BindNull(base + 7) : ins->Bind(base + 7, m.model_id);
          m.dataset_name.empty() ? ins->BindNull(base + 8) : ins->Bind(base + 8, m.dataset_name);
          m.dataset_digest.empty() ? ins->BindNull(base + 9)
                                   : ins->Bind(base + 9, m.dataset_digest);
        }
        PLINTH_RETURN_IF_ERROR(ins->Exec());
      }
    }
    PLINTH_ASSIGN_OR_RETURN(
        SqliteStmt * latest,
        db.Prepare("INSERT INTO latest_metrics (run_key, key, step, timestamp, value, is_nan) "
                   "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_key, key) DO UPDATE SET "
                   "step=excluded.step, timestamp=excluded.timestamp, value=excluded.value, "
                   "is_nan=excluded.is_nan WHERE (excluded.step, excluded.timestamp, "
                   "excluded.value) >= (latest_metrics.step, latest_metrics.timestamp, "
                   "latest_metrics.value)"));
    // Only the newest point per key touches latest_metrics.
    std::unordered_map<std::string_view, const Metric*> newest;
    for (const Metric& m : metrics) {
      auto [it, inserted] = newest.emplace(m.key, &m);
      if (!inserted) {
        const Metric* o = it->second;
        auto [value, is_nan] = StoredValue(m.value);
        auto [ov, on] = StoredValue(o->value);
        if (std::tie(m.step, m.timestamp, value) >= std::tie(o->step, o->timestamp, ov)) {
          it->second = &m;
        }
      }
    }
    for (const auto& [key, m] : newest) {
      auto [value, is_nan] = StoredValue(m->value);
      latest->Bind(1, run_key)
          .Bind(2, m->key)
          .Bind(3, m->step)
          .Bind(4, m->timestamp)
          .Bind(5, value)
          .Bind(6, is_nan);
      PLINTH_RETURN_IF_ERROR(latest->Exec());
    }
    return Status::Ok();
  }

  Status InsertRunModels(SqliteDb& db, int64_t run_key, const char* direction,
                         const std::vector<ModelIo>& models) {
    for (const ModelIo& m : models) {
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * s,
          db.Prepare("INSERT INTO run_models (run_key, model_id, direction, step) VALUES "
                     "(?, ?, ?, ?) ON CONFLICT DO UPDATE SET step=excluded.step"));
      s->Bind(1, run_key).Bind(2, m.model_id).Bind(3, std::string_view(direction)).Bind(4, m.step);
      PLINTH_RETURN_IF_ERROR(s->Exec());
    }
    return Status::Ok();
  }

  Status UpsertModelKv(SqliteDb& db, const std::string& table, const std::string& model_id,
                       const KeyValue& kv) {
    PLINTH_ASSIGN_OR_RETURN(
        SqliteStmt * s,
        db.Prepare("INSERT INTO " + table +
                   " (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) "
                   "DO UPDATE SET value=excluded.value"));
    s->Bind(1, model_id).Bind(2, kv.key).Bind(3, kv.value);
    return s->Exec();
  }

  static constexpr int kCheckpointCommits = 200;
  static constexpr std::chrono::minutes kStatisticsInterval{5};
  static constexpr int64_t kStatisticsCommits = 5000;

  SqliteStoreOptions options_;
  std::unique_ptr<SqliteDb> write_db_;       // used only by the current leader (see Write)
  std::unique_ptr<SqliteDb> checkpoint_db_;  // used only by the checkpointer thread
  std::thread checkpointer_;
  std::condition_variable checkpoint_cv_;
  int commits_since_checkpoint_ = 0;  // guarded by write_mu_
  std::atomic<int64_t> total_commits_{0};
  std::mutex write_mu_;
  std::deque<PendingWrite*> write_queue_;  // guarded by write_mu_; front = leader
  bool stopping_ = false;                  // guarded by write_mu_

  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::vector<std::unique_ptr<SqliteDb>> readers_;  // idle readers, guarded by read_mu_

 public:
  // ------------------------------------------------------------------ permanent deletion

  Result<std::vector<RunInfo>> ListDeletedRuns(std::optional<int64_t> deleted_before) override {
    using Out = std::vector<RunInfo>;
    return Read<Out>([&](SqliteDb& db) -> Result<Out> {
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * s,
          db.Prepare(std::string(kRunSelect) + " FROM runs r WHERE r.lifecycle_stage='deleted'" +
                     (deleted_before ? " AND r.deleted_time < ?" : "") +
                     " ORDER BY r.deleted_time, r.run_key"));
      if (deleted_before) s->Bind(1, *deleted_before);
      Out out;
      for (;;) {
        PLINTH_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        out.push_back(RunInfoFromRow(*s));
      }
      return out;
    });
  }

  Result<std::vector<Experiment>> ListDeletedExperiments(
      std::optional<int64_t> updated_before) override {
    using Out = std::vector<Experiment>;
    return Read<Out>([&](SqliteDb& db) -> Result<Out> {
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * s,
                              db.Prepare(std::string(kExperimentSelect) +
                                         " FROM experiments WHERE lifecycle_stage='deleted'" +
                                         (updated_before ? " AND last_update_time < ?" : "") +
                                         " ORDER BY experiment_id"));
      if (updated_before) s->Bind(1, *updated_before);
      Out out;
      for (;;) {
        PLINTH_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        out.push_back(ExperimentFromRow(*s));
      }
      return out;
    });
  }

  Result<ExperimentContents> ListExperimentContents(const std::string& experiment_id) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    return Read<ExperimentContents>([&](SqliteDb& db) -> Result<ExperimentContents> {
      PLINTH_RETURN_IF_ERROR(ExperimentStage(db, *id, experiment_id).status());
      ExperimentContents out;
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * runs, db.Prepare(std::string(kRunSelect) +
                                        " FROM runs r WHERE r.experiment_id=? ORDER BY r.run_key"));
      runs->Bind(1, *id);
      for (;;) {
        PLINTH_ASSIGN_OR_RETURN(bool row, runs->Step());
        if (!row) break;
        out.runs.push_back(RunInfoFromRow(*runs));
      }
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * models,
          db.Prepare(std::string(kModelSelect) +
                     " FROM logged_models m WHERE m.experiment_id=? ORDER BY m.model_id"));
      models->Bind(1, *id);
      for (;;) {
        PLINTH_ASSIGN_OR_RETURN(bool row, models->Step());
        if (!row) break;
        out.models.push_back(LoggedModelFromRow(*models));
      }
      return out;
    });
  }

  Status PurgeRun(const std::string& run_id) override {
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(
          SqliteStmt * find,
          db.Prepare("SELECT run_key, lifecycle_stage FROM runs WHERE run_uuid=?"));
      find->Bind(1, run_id);
      PLINTH_ASSIGN_OR_RETURN(bool row, find->Step());
      if (!row) return RunNotFound(run_id);
      int64_t run_key = find->Int64(0);
      bool deleted = find->Text(1) == "deleted";
      find->Reset();
      if (!deleted) return NotDeleted("Run", run_id);
      for (const std::string& sql : PurgeRunSql()) {
        PLINTH_ASSIGN_OR_RETURN(SqliteStmt * del, db.Prepare(sql));
        del->Bind(1, run_key);
        PLINTH_RETURN_IF_ERROR(del->Exec());
      }
      return Status::Ok();
    });
  }

  Status PurgeExperiment(const std::string& experiment_id) override {
    auto id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    if (*id == 0) return FailedPrecondition("the Default experiment 0 cannot be purged");
    return Write([&](SqliteDb& db) -> Status {
      PLINTH_ASSIGN_OR_RETURN(std::string stage, ExperimentStage(db, *id, experiment_id));
      if (stage != "deleted") return NotDeleted("Experiment", experiment_id);
      PLINTH_ASSIGN_OR_RETURN(SqliteStmt * active,
                              db.Prepare("SELECT run_uuid FROM runs WHERE experiment_id=? AND "
                                         "lifecycle_stage<>'deleted' LIMIT 1"));
      active->Bind(1, *id);
      PLINTH_ASSIGN_OR_RETURN(bool has_active, active->Step());
      std::string active_run = has_active ? active->Text(0) : "";
      active->Reset();
      if (has_active) {
        return FailedPrecondition("Experiment " + experiment_id + " still has the active run " +
                                  active_run + "; delete or purge it first");
      }
      for (const std::string& sql : PurgeExperimentSql()) {
        PLINTH_ASSIGN_OR_RETURN(SqliteStmt * del, db.Prepare(sql));
        del->Bind(1, *id);
        PLINTH_RETURN_IF_ERROR(del->Exec());
      }
      return Status::Ok();
    });
  }

  // ------------------------------------------------------------------ model registry
  // The SQL is shared with PgStore (registry_sql.cc); here it runs inside a group-commit job
  // or a read snapshot. SQLite never re-runs a transaction, so no write is a retry.

  RegistryStore& registry() override { return *this; }

  Status CreateRegisteredModel(const RegisteredModel& model) override {
    return RegistryWrite(
        [&](SqlSession& s) { return registry_sql::CreateRegisteredModel(s, model, false); });
  }

  Result<RegisteredModel> GetRegisteredModel(const std::string& name) override {
    return RegistryRead<RegisteredModel>(
        [&](SqlSession& s) { return registry_sql::GetRegisteredModel(s, name); });
  }

  Status RenameRegisteredModel(const std::string& name, const std::string& new_name,
                               int64_t now) override {
    return RegistryWrite([&](SqlSession& s) {
      return registry_sql::RenameRegisteredModel(s, name, new_name, now, false);
    });
  }

  Status UpdateRegisteredModel(const std::string& name,
                               const std::optional<std::string>& description,
                               int64_t now) override {
    return RegistryWrite([&](SqlSession& s) {
      return registry_sql::UpdateRegisteredModel(s, name, description, now);
    });
  }

  Status DeleteRegisteredModel(const std::string& name) override {
    return RegistryWrite(
        [&](SqlSession& s) { return registry_sql::DeleteRegisteredModel(s, name, false); });
  }

  Result<RegisteredModelPage> SearchRegisteredModels(const RegisteredModelSearch& search) override {
    return RegistryRead<RegisteredModelPage>(
        [&](SqlSession& s) { return registry_sql::SearchRegisteredModels(s, search); });
  }

  Status SetRegisteredModelTag(const std::string& name, const KeyValue& tag) override {
    return RegistryWrite(
        [&](SqlSession& s) { return registry_sql::SetRegisteredModelTag(s, name, tag); });
  }

  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) override {
    return RegistryWrite(
        [&](SqlSession& s) { return registry_sql::DeleteRegisteredModelTag(s, name, key); });
  }

  Result<ModelVersion> CreateModelVersion(const ModelVersion& version) override {
    return RegistryWriteResult<ModelVersion>(
        [&](SqlSession& s) { return registry_sql::CreateModelVersion(s, version, false); });
  }

  Result<ModelVersion> GetModelVersion(const std::string& name, int64_t version) override {
    return RegistryRead<ModelVersion>(
        [&](SqlSession& s) { return registry_sql::GetModelVersion(s, name, version); });
  }

  Status UpdateModelVersion(const std::string& name, int64_t version,
                            const std::optional<std::string>& description, int64_t now) override {
    return RegistryWrite([&](SqlSession& s) {
      return registry_sql::UpdateModelVersion(s, name, version, description, now);
    });
  }

  Status TransitionModelVersionStage(const std::string& name, int64_t version,
                                     const std::string& stage, bool archive_existing,
                                     int64_t now) override {
    return RegistryWrite([&](SqlSession& s) {
      return registry_sql::TransitionModelVersionStage(s, name, version, stage, archive_existing,
                                                       now);
    });
  }

  Status DeleteModelVersion(const std::string& name, int64_t version,
                            const AliasChange& change) override {
    return RegistryWrite([&](SqlSession& s) {
      return registry_sql::DeleteModelVersion(s, name, version, change, false);
    });
  }

  Result<ModelVersionPage> SearchModelVersions(const ModelVersionSearch& search) override {
    return RegistryRead<ModelVersionPage>(
        [&](SqlSession& s) { return registry_sql::SearchModelVersions(s, search); });
  }

  Status SetModelVersionTag(const std::string& name, int64_t version,
                            const KeyValue& tag) override {
    return RegistryWrite(
        [&](SqlSession& s) { return registry_sql::SetModelVersionTag(s, name, version, tag); });
  }

  Status DeleteModelVersionTag(const std::string& name, int64_t version,
                               const std::string& key) override {
    return RegistryWrite(
        [&](SqlSession& s) { return registry_sql::DeleteModelVersionTag(s, name, version, key); });
  }

  Status SetRegisteredModelAlias(const std::string& name, const std::string& alias, int64_t version,
                                 const AliasChange& change) override {
    return RegistryWrite([&](SqlSession& s) {
      return registry_sql::SetRegisteredModelAlias(s, name, alias, version, change, false);
    });
  }

  Status DeleteRegisteredModelAlias(const std::string& name, const std::string& alias,
                                    const AliasChange& change) override {
    return RegistryWrite([&](SqlSession& s) {
      return registry_sql::DeleteRegisteredModelAlias(s, name, alias, change, false);
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
        [&](SqlSession& s) { return dataset_sql::AddVersion(s, record, now, created); });
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
  // The SQL is shared with PgStore (study_sql.cc); writes run as group-commit jobs.
  StudyStore& studies() override { return *this; }

  Result<int64_t> CreateStudy(const StudyRecord& study) override {
    return RegistryWriteResult<int64_t>(
        [&](SqlSession& s) { return study_sql::CreateStudy(s, study, false); });
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
        [&](SqlSession& s) { return study_sql::SetStudyUserAttr(s, study_id, attr); });
  }
  Result<std::vector<int64_t>> CountTrials(int64_t study_id) override {
    return RegistryRead<std::vector<int64_t>>(
        [&](SqlSession& s) { return study_sql::CountTrials(s, study_id); });
  }
  Result<AskResult> AskTrial(int64_t study_id, std::optional<int64_t> max_trials,
                             int64_t now) override {
    return RegistryWriteResult<AskResult>(
        [&](SqlSession& s) { return study_sql::AskTrial(s, study_id, max_trials, now); });
  }
  Result<TrialRecord> EnqueueTrial(int64_t study_id, const std::string& fixed_params_json,
                                   std::optional<int64_t> retry_of, int64_t now) override {
    return RegistryWriteResult<TrialRecord>([&](SqlSession& s) {
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
    return RegistryWrite(
        [&](SqlSession& s) { return study_sql::SetTrialParams(s, trial_id, params, run_id, now); });
  }
  Status ReportIntermediate(int64_t trial_id, int64_t step, double value, int64_t now) override {
    return RegistryWrite([&](SqlSession& s) {
      return study_sql::ReportIntermediate(s, trial_id, step, value, now);
    });
  }
  Status Heartbeat(int64_t trial_id, int64_t now) override {
    return RegistryWrite([&](SqlSession& s) { return study_sql::Heartbeat(s, trial_id, now); });
  }
  Status FinishTrial(int64_t trial_id, const TrialFinish& finish) override {
    return RegistryWrite(
        [&](SqlSession& s) { return study_sql::FinishTrial(s, trial_id, finish, false); });
  }
  Status SetTrialUserAttr(int64_t trial_id, const KeyValue& attr) override {
    return RegistryWrite(
        [&](SqlSession& s) { return study_sql::SetTrialUserAttr(s, trial_id, attr); });
  }
  Status SetTrialSystemAttr(int64_t trial_id, const KeyValue& attr) override {
    return RegistryWrite(
        [&](SqlSession& s) { return study_sql::SetTrialSystemAttr(s, trial_id, attr); });
  }
  Result<std::vector<TrialRecord>> FailStaleTrials(int64_t study_id, int64_t heartbeat_before,
                                                   int64_t now, bool retry) override {
    return RegistryWriteResult<std::vector<TrialRecord>>([&](SqlSession& s) {
      return study_sql::FailStaleTrials(s, study_id, heartbeat_before, now, retry);
    });
  }

 private:
  template <typename Fn>
  Status RegistryWrite(Fn&& fn) {
    return Write([&](SqliteDb& db) -> Status {
      SqliteSession session(db);
      return fn(session);
    });
  }

  template <typename T, typename Fn>
  Result<T> RegistryWriteResult(Fn&& fn) {
    std::optional<T> out;
    PLINTH_RETURN_IF_ERROR(Write([&](SqliteDb& db) -> Status {
      SqliteSession session(db);
      PLINTH_ASSIGN_OR_RETURN(T value, fn(session));
      out = std::move(value);
      return Status::Ok();
    }));
    return std::move(*out);
  }

  template <typename T, typename Fn>
  Result<T> RegistryRead(Fn&& fn) {
    return Read<T>([&](SqliteDb& db) -> Result<T> {
      SqliteSession session(db);
      return fn(session);
    });
  }
};

}  // namespace

Result<std::unique_ptr<MetadataStore>> OpenSqliteStore(const SqliteStoreOptions& options,
                                                       int64_t now) {
  auto store = std::make_unique<SqliteStore>(options);
  PLINTH_RETURN_IF_ERROR(store->Open(now));
  return std::unique_ptr<MetadataStore>(std::move(store));
}

}  // namespace plinth::store
