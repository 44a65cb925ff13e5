// Conformance suite for the MetadataStore interface (metadata_store.h).
//
// Every test runs against each backend listed in INSTANTIATE_TEST_SUITE_P at the bottom; a
// backend is a StoreBackend that can open (and reopen) a fresh database and report which schema
// migrations it has applied. PostgreSQL runs when PLINTH_TEST_PG_DSN names a server (make test
// starts one: scripts/pg-server.sh); each test gets a database of its own, dropped after.
//
// The expected behaviour is MLflow's SQL store (see ../shared/reference/mlflow.md): the store
// validates only what needs the database (existence, lifecycle, uniqueness, write-once params).
#include "store/metadata_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/ids.h"
#include "core/log.h"
#include "store/pg_db.h"
#include "store/pg_test_database.h"
#include "store/sqlite_db.h"

namespace plinth {

// Readable StatusCode values in gtest failure messages.
inline void PrintTo(StatusCode code, std::ostream* os) { *os << StatusCodeName(code); }

namespace store {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

constexpr int64_t kNow = 1700000000000;

// ------------------------------------------------------------------ backends

// One database under test. Destroying it removes the database.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // Opens the database, creating it on first use; later calls reopen the same data.
  virtual Result<std::unique_ptr<MetadataStore>> Open(int64_t now) = 0;
  // The schema versions recorded as applied, read outside the store, in order.
  virtual Result<std::vector<int64_t>> AppliedMigrations() = 0;
};

class SqliteBackend final : public StoreBackend {
 public:
  SqliteBackend() {
    std::string pattern = ::testing::TempDir() + "plinth_store_XXXXXX";
    char* made = mkdtemp(pattern.data());
    dir_ = made != nullptr ? std::string(made) : ::testing::TempDir() + "plinth_store_fallback";
    std::filesystem::create_directories(dir_);
  }
  ~SqliteBackend() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Result<std::unique_ptr<MetadataStore>> Open(int64_t now) override {
    SqliteStoreOptions options;
    options.path = dir_ + "/nested/mlflow.db";  // the folder must be created by the store
    options.reader_connections = 4;
    return OpenSqliteStore(options, now);
  }

  Result<std::vector<int64_t>> AppliedMigrations() override {
    PLINTH_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(dir_ + "/nested/mlflow.db", true));
    PLINTH_ASSIGN_OR_RETURN(SqliteStmt * stmt,
                            db->Prepare("SELECT version FROM schema_version ORDER BY version"));
    std::vector<int64_t> versions;
    for (;;) {
      PLINTH_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      versions.push_back(stmt->Int64(0));
    }
    stmt->Reset();
    return versions;
  }

 private:
  std::string dir_;
};

// A fresh database per test on the PostgreSQL server PLINTH_TEST_PG_DSN names.
class PostgresBackend final : public StoreBackend {
 public:
  static std::unique_ptr<StoreBackend> MakeIfConfigured() {
    auto db = ScratchPgDatabase::MakeIfConfigured();
    if (!db) return nullptr;
    return std::make_unique<PostgresBackend>(std::move(db));
  }
  explicit PostgresBackend(std::unique_ptr<ScratchPgDatabase> db) : db_(std::move(db)) {}

  Result<std::unique_ptr<MetadataStore>> Open(int64_t now) override {
    PLINTH_RETURN_IF_ERROR(db_->status());
    PostgresStoreOptions options;
    options.conninfo = db_->dsn();
    options.pool_size = 4;
    return OpenPostgresStore(options, now);
  }

  Result<std::vector<int64_t>> AppliedMigrations() override {
    PLINTH_ASSIGN_OR_RETURN(auto conn, PgConn::Connect(db_->dsn()));
    PLINTH_ASSIGN_OR_RETURN(PgResult r,
                            conn->Exec("SELECT version FROM schema_version ORDER BY version"));
    std::vector<int64_t> versions;
    for (int i = 0; i < r.rows(); ++i) versions.push_back(r.Int64(i, 0));
    return versions;
  }

 private:
  std::unique_ptr<ScratchPgDatabase> db_;
};

struct BackendFactory {
  std::string name;
  std::function<std::unique_ptr<StoreBackend>()> make;
};

std::ostream& operator<<(std::ostream& os, const BackendFactory& f) { return os << f.name; }

// ------------------------------------------------------------------ helpers

::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString();
}
template <typename T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  return IsOk(r.status());
}
StatusCode CodeOf(const Status& s) { return s.code(); }
template <typename T>
StatusCode CodeOf(const Result<T>& r) {
  return r.status().code();
}

Metric M(std::string key, double value, int64_t timestamp, int64_t step) {
  Metric m;
  m.key = std::move(key);
  m.value = value;
  m.timestamp = timestamp;
  m.step = step;
  return m;
}

FilterClause NumberClause(EntityKind entity, std::string key, Comparator op, double v) {
  FilterClause c;
  c.entity = entity;
  c.key = std::move(key);
  c.comparator = op;
  c.numeric = true;
  c.number_value = v;
  return c;
}

FilterClause StringClause(EntityKind entity, std::string key, Comparator op, std::string v) {
  FilterClause c;
  c.entity = entity;
  c.key = std::move(key);
  c.comparator = op;
  c.string_value = std::move(v);
  return c;
}

FilterClause ListClause(EntityKind entity, std::string key, Comparator op,
                        std::vector<std::string> values) {
  FilterClause c;
  c.entity = entity;
  c.key = std::move(key);
  c.comparator = op;
  c.string_list = std::move(values);
  return c;
}

FilterClause NullClause(EntityKind entity, std::string key, bool is_null) {
  FilterClause c;
  c.entity = entity;
  c.key = std::move(key);
  c.comparator = is_null ? Comparator::kIsNull : Comparator::kIsNotNull;
  return c;
}

OrderBy Order(EntityKind entity, std::string key, bool ascending) {
  OrderBy o;
  o.entity = entity;
  o.key = std::move(key);
  o.ascending = ascending;
  return o;
}

std::string TagValue(const std::vector<KeyValue>& kvs, const std::string& key) {
  for (const KeyValue& kv : kvs) {
    if (kv.key == key) return kv.value;
  }
  return "<absent>";
}

bool HasKey(const std::vector<KeyValue>& kvs, const std::string& key) {
  return std::any_of(kvs.begin(), kvs.end(), [&](const KeyValue& kv) { return kv.key == key; });
}

const Metric* FindMetric(const std::vector<Metric>& metrics, const std::string& key) {
  for (const Metric& m : metrics) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

std::vector<std::string> RunNames(const std::vector<store::Run>& runs) {
  std::vector<std::string> out;
  for (const store::Run& r : runs) out.push_back(r.info.run_name);
  return out;
}

std::vector<std::string> ExperimentNames(const std::vector<Experiment>& experiments) {
  std::vector<std::string> out;
  for (const Experiment& e : experiments) out.push_back(e.name);
  return out;
}

class MetadataStoreTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override {
    (void)SetLogLevel("warn");  // migrations log at info on every fresh database
    backend_ = GetParam().make();
    if (!backend_) {
      GTEST_SKIP() << GetParam().name << ": PLINTH_TEST_PG_DSN is not set (make test sets it)";
    }
    auto opened = backend_->Open(kNow);
    ASSERT_TRUE(IsOk(opened));
    store_ = std::move(opened).value();
  }

  MetadataStore& store() { return *store_; }

  // Closes the store (as at process exit) and opens the same database again.
  void Reopen() {
    store_.reset();
    auto opened = backend_->Open(kNow + 1000);
    ASSERT_TRUE(IsOk(opened));
    store_ = std::move(opened).value();
  }

  std::string CreateExperiment(const std::string& name, std::vector<KeyValue> tags = {},
                               int64_t creation_time = kNow) {
    Experiment e;
    e.name = name;
    e.creation_time = creation_time;
    e.last_update_time = creation_time;
    e.tags = std::move(tags);
    auto id = store().CreateExperiment(e, "mlflow-artifacts:");
    EXPECT_TRUE(IsOk(id)) << name;
    return id.ok() ? *id : "";
  }

  store::Run MakeRun(const std::string& experiment_id, const std::string& name,
                     int64_t start_time) {
    store::Run run;
    run.info.run_id = NewRunId();
    run.info.run_name = name;
    run.info.experiment_id = experiment_id;
    run.info.user_id = "alice";
    run.info.status = RunStatus::kRunning;
    run.info.start_time = start_time;
    run.info.artifact_uri =
        "mlflow-artifacts:/" + experiment_id + "/" + run.info.run_id + "/artifacts";
    run.tags = {{"mlflow.runName", name}, {"mlflow.user", "alice"}};
    return run;
  }

  // Creates a run and returns its id.
  std::string CreateRun(const std::string& experiment_id, const std::string& name,
                        int64_t start_time = kNow) {
    store::Run run = MakeRun(experiment_id, name, start_time);
    EXPECT_TRUE(IsOk(store().CreateRun(run))) << name;
    return run.info.run_id;
  }

  store::Run GetRunOrDie(const std::string& run_id) {
    auto run = store().GetRun(run_id);
    EXPECT_TRUE(IsOk(run)) << run_id;
    return run.ok() ? *run : store::Run{};
  }

  std::vector<Metric> History(const std::string& run_id, const std::string& key) {
    auto page = store().GetMetricHistory(run_id, key, 100000, 0);
    EXPECT_TRUE(IsOk(page));
    return page.ok() ? page->metrics : std::vector<Metric>{};
  }

  RunPage Search(std::vector<std::string> experiment_ids, std::vector<FilterClause> clauses,
                 std::vector<OrderBy> order_by = {}, ViewType view = ViewType::kActiveOnly,
                 int64_t max_results = 1000, int64_t offset = 0) {
    RunSearch search;
    search.experiment_ids = std::move(experiment_ids);
    search.filter.clauses = std::move(clauses);
    search.order_by = std::move(order_by);
    search.view_type = view;
    search.max_results = max_results;
    search.offset = offset;
    auto page = store().SearchRuns(search);
    EXPECT_TRUE(IsOk(page));
    return page.ok() ? *page : RunPage{};
  }

  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<MetadataStore> store_;
};

// ------------------------------------------------------------------ experiments

TEST_P(MetadataStoreTest, DefaultExperimentExists) {
  auto e = store().GetExperiment("0");
  ASSERT_TRUE(IsOk(e));
  EXPECT_EQ(e->experiment_id, "0");
  EXPECT_EQ(e->name, "Default");
  EXPECT_EQ(e->lifecycle_stage, LifecycleStage::kActive);
  EXPECT_FALSE(e->artifact_location.empty());

  auto by_name = store().GetExperimentByName("Default");
  ASSERT_TRUE(IsOk(by_name));
  EXPECT_EQ(by_name->experiment_id, "0");
}

TEST_P(MetadataStoreTest, CreateAndGetExperiment) {
  Experiment e;
  e.name = "my experiment";
  e.creation_time = kNow + 5;
  e.last_update_time = kNow + 5;
  e.tags = {{"team", "ml"}, {"b", "2"}};
  auto id = store().CreateExperiment(e, "mlflow-artifacts:");
  ASSERT_TRUE(IsOk(id));
  EXPECT_NE(*id, "0");

  auto got = store().GetExperiment(*id);
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->experiment_id, *id);
  EXPECT_EQ(got->name, "my experiment");
  EXPECT_EQ(got->artifact_location, "mlflow-artifacts:/" + *id);
  EXPECT_EQ(got->lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(got->creation_time, kNow + 5);
  EXPECT_EQ(TagValue(got->tags, "team"), "ml");
  EXPECT_EQ(TagValue(got->tags, "b"), "2");

  auto by_name = store().GetExperimentByName("my experiment");
  ASSERT_TRUE(IsOk(by_name));
  EXPECT_EQ(by_name->experiment_id, *id);
  EXPECT_EQ(by_name->tags.size(), 2u);

  // An explicit artifact location is kept as given.
  Experiment with_location;
  with_location.name = "located";
  with_location.artifact_location = "s3://bucket/somewhere";
  auto id2 = store().CreateExperiment(with_location, "mlflow-artifacts:");
  ASSERT_TRUE(IsOk(id2));
  EXPECT_NE(*id2, *id);
  EXPECT_EQ(store().GetExperiment(*id2)->artifact_location, "s3://bucket/somewhere");
}

TEST_P(MetadataStoreTest, MissingExperimentIsNotFound) {
  EXPECT_EQ(CodeOf(store().GetExperiment("424242")), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().GetExperiment("not-a-number")), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().GetExperiment("")), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().GetExperimentByName("nobody")), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().RenameExperiment("424242", "x", kNow)), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().SetExperimentLifecycle("424242", LifecycleStage::kDeleted, kNow)),
            StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().SetExperimentTag("424242", {"k", "v"})), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().DeleteExperimentTag("424242", "k")), StatusCode::kNotFound);
}

TEST_P(MetadataStoreTest, DuplicateExperimentNameIsAlreadyExists) {
  std::string id = CreateExperiment("dup");
  Experiment again;
  again.name = "dup";
  EXPECT_EQ(CodeOf(store().CreateExperiment(again, "mlflow-artifacts:")),
            StatusCode::kAlreadyExists);

  // A deleted experiment still holds its name.
  ASSERT_TRUE(IsOk(store().SetExperimentLifecycle(id, LifecycleStage::kDeleted, kNow)));
  EXPECT_EQ(CodeOf(store().CreateExperiment(again, "mlflow-artifacts:")),
            StatusCode::kAlreadyExists);
  // …and can still be found by it.
  auto by_name = store().GetExperimentByName("dup");
  ASSERT_TRUE(IsOk(by_name));
  EXPECT_EQ(by_name->experiment_id, id);
  EXPECT_EQ(by_name->lifecycle_stage, LifecycleStage::kDeleted);
}

TEST_P(MetadataStoreTest, RenameExperiment) {
  std::string id = CreateExperiment("before");
  CreateExperiment("taken");

  ASSERT_TRUE(IsOk(store().RenameExperiment(id, "after", kNow + 100)));
  auto e = store().GetExperiment(id);
  ASSERT_TRUE(IsOk(e));
  EXPECT_EQ(e->name, "after");
  EXPECT_EQ(e->last_update_time, kNow + 100);
  EXPECT_EQ(CodeOf(store().GetExperimentByName("before")), StatusCode::kNotFound);
  EXPECT_EQ(store().GetExperimentByName("after")->experiment_id, id);

  EXPECT_EQ(CodeOf(store().RenameExperiment(id, "taken", kNow)), StatusCode::kAlreadyExists);
  EXPECT_EQ(store().GetExperiment(id)->name, "after");
  // Renaming to its own name is a no-op, not a conflict.
  EXPECT_TRUE(IsOk(store().RenameExperiment(id, "after", kNow)));
}

TEST_P(MetadataStoreTest, DeleteAndRestoreExperimentCascadeToRuns) {
  std::string id = CreateExperiment("lifecycle");
  std::string run_a = CreateRun(id, "a");
  std::string run_b = CreateRun(id, "b");
  std::string other_exp = CreateExperiment("bystander");
  std::string other_run = CreateRun(other_exp, "c");

  ASSERT_TRUE(IsOk(store().SetExperimentLifecycle(id, LifecycleStage::kDeleted, kNow + 1)));
  auto e = store().GetExperiment(id);
  ASSERT_TRUE(IsOk(e));  // deleted experiments stay readable
  EXPECT_EQ(e->lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(GetRunOrDie(run_a).info.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(GetRunOrDie(run_b).info.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(GetRunOrDie(other_run).info.lifecycle_stage, LifecycleStage::kActive);

  // No new runs in a deleted experiment; deleting it again finds nothing to delete.
  EXPECT_EQ(CodeOf(store().CreateRun(MakeRun(id, "late", kNow))), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(store().SetExperimentLifecycle(id, LifecycleStage::kDeleted, kNow)),
            StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().LogBatch(run_a, {M("m", 1, kNow, 0)}, {}, {})),
            StatusCode::kInvalidArgument);

  ASSERT_TRUE(IsOk(store().SetExperimentLifecycle(id, LifecycleStage::kActive, kNow + 2)));
  EXPECT_EQ(store().GetExperiment(id)->lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(GetRunOrDie(run_a).info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(GetRunOrDie(run_b).info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_TRUE(IsOk(store().LogBatch(run_a, {M("m", 1, kNow, 0)}, {}, {})));
  EXPECT_EQ(CodeOf(store().SetExperimentLifecycle(id, LifecycleStage::kActive, kNow)),
            StatusCode::kNotFound);
}

TEST_P(MetadataStoreTest, SearchExperimentsByViewType) {
  std::string a = CreateExperiment("view-a");
  std::string b = CreateExperiment("view-b");
  ASSERT_TRUE(IsOk(store().SetExperimentLifecycle(b, LifecycleStage::kDeleted, kNow)));

  auto search = [&](ViewType view) {
    ExperimentSearch s;
    s.view_type = view;
    auto page = store().SearchExperiments(s);
    EXPECT_TRUE(IsOk(page));
    return page.ok() ? ExperimentNames(page->experiments) : std::vector<std::string>{};
  };
  EXPECT_THAT(search(ViewType::kActiveOnly), UnorderedElementsAre("Default", "view-a"));
  EXPECT_THAT(search(ViewType::kDeletedOnly), UnorderedElementsAre("view-b"));
  EXPECT_THAT(search(ViewType::kAll), UnorderedElementsAre("Default", "view-a", "view-b"));
  // The default order is experiment_id DESC: newest first.
  EXPECT_THAT(search(ViewType::kAll), ElementsAre("view-b", "view-a", "Default"));
}

TEST_P(MetadataStoreTest, SearchExperimentsFiltersOrderAndPaging) {
  CreateExperiment("exp-Alpha", {{"team", "red"}}, kNow + 10);
  CreateExperiment("exp-beta", {{"team", "blue"}}, kNow + 20);
  CreateExperiment("exp-gamma", {{"team", "red"}, {"prio", "high"}}, kNow + 30);
  CreateExperiment("other", {}, kNow + 40);

  struct Case {
    const char* what;
    std::vector<FilterClause> clauses;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"name LIKE",
       {StringClause(EntityKind::kAttribute, "name", Comparator::kLike, "exp-%a")},
       {"exp-Alpha", "exp-beta", "exp-gamma"}},
      {"name LIKE is case-sensitive",
       {StringClause(EntityKind::kAttribute, "name", Comparator::kLike, "exp-a%")},
       {}},
      {"name ILIKE",
       {StringClause(EntityKind::kAttribute, "name", Comparator::kILike, "EXP-A%")},
       {"exp-Alpha"}},
      {"name =",
       {StringClause(EntityKind::kAttribute, "name", Comparator::kEq, "other")},
       {"other"}},
      {"name !=",
       {StringClause(EntityKind::kAttribute, "name", Comparator::kNe, "other")},
       {"Default", "exp-Alpha", "exp-beta", "exp-gamma"}},
      {"tag =",
       {StringClause(EntityKind::kTag, "team", Comparator::kEq, "red")},
       {"exp-Alpha", "exp-gamma"}},
      {"tag IS NULL", {NullClause(EntityKind::kTag, "team", true)}, {"Default", "other"}},
      {"tag IS NOT NULL", {NullClause(EntityKind::kTag, "prio", false)}, {"exp-gamma"}},
      {"creation_time >",
       {NumberClause(EntityKind::kAttribute, "creation_time", Comparator::kGt, kNow + 20)},
       {"exp-gamma", "other"}},
      {"AND of two clauses",
       {StringClause(EntityKind::kTag, "team", Comparator::kEq, "red"),
        NumberClause(EntityKind::kAttribute, "creation_time", Comparator::kLe, kNow + 10)},
       {"exp-Alpha"}},
  };
  for (const Case& c : cases) {
    ExperimentSearch s;
    s.filter.clauses = c.clauses;
    auto page = store().SearchExperiments(s);
    ASSERT_TRUE(IsOk(page)) << c.what;
    EXPECT_THAT(ExperimentNames(page->experiments), UnorderedElementsAreArray(c.expected))
        << c.what;
  }

  ExperimentSearch ordered;
  ordered.order_by = {Order(EntityKind::kAttribute, "name", true)};
  auto page = store().SearchExperiments(ordered);
  ASSERT_TRUE(IsOk(page));
  // Byte order: upper-case letters sort before lower-case ones.
  EXPECT_THAT(ExperimentNames(page->experiments),
              ElementsAre("Default", "exp-Alpha", "exp-beta", "exp-gamma", "other"));

  ordered.order_by = {Order(EntityKind::kAttribute, "creation_time", false)};
  page = store().SearchExperiments(ordered);
  ASSERT_TRUE(IsOk(page));
  EXPECT_THAT(ExperimentNames(page->experiments),
              ElementsAre("other", "exp-gamma", "exp-beta", "exp-Alpha", "Default"));

  // Paging by offset: 5 experiments in pages of 2.
  ordered.order_by = {Order(EntityKind::kAttribute, "name", true)};
  ordered.max_results = 2;
  std::vector<std::string> all;
  std::vector<bool> has_more;
  for (int64_t offset = 0; offset < 10; offset += 2) {
    ordered.offset = offset;
    auto p = store().SearchExperiments(ordered);
    ASSERT_TRUE(IsOk(p));
    for (const auto& e : p->experiments) all.push_back(e.name);
    has_more.push_back(p->has_more);
    if (!p->has_more) break;
  }
  EXPECT_THAT(all, ElementsAre("Default", "exp-Alpha", "exp-beta", "exp-gamma", "other"));
  EXPECT_THAT(has_more, ElementsAre(true, true, false));
}

TEST_P(MetadataStoreTest, ExperimentTags) {
  std::string id = CreateExperiment("tagged");
  ASSERT_TRUE(IsOk(store().SetExperimentTag(id, {"k", "v1"})));
  ASSERT_TRUE(IsOk(store().SetExperimentTag(id, {"k", "v2"})));  // overwrites
  ASSERT_TRUE(IsOk(store().SetExperimentTag(id, {"other", "x"})));
  auto e = store().GetExperiment(id);
  ASSERT_TRUE(IsOk(e));
  EXPECT_EQ(e->tags.size(), 2u);
  EXPECT_EQ(TagValue(e->tags, "k"), "v2");

  ASSERT_TRUE(IsOk(store().DeleteExperimentTag(id, "k")));
  e = store().GetExperiment(id);
  EXPECT_FALSE(HasKey(e->tags, "k"));
  EXPECT_TRUE(HasKey(e->tags, "other"));
  EXPECT_EQ(CodeOf(store().DeleteExperimentTag(id, "k")), StatusCode::kNotFound);

  ASSERT_TRUE(IsOk(store().SetExperimentLifecycle(id, LifecycleStage::kDeleted, kNow)));
  EXPECT_EQ(CodeOf(store().SetExperimentTag(id, {"k", "v"})), StatusCode::kInvalidArgument);
}

// ------------------------------------------------------------------ runs

TEST_P(MetadataStoreTest, CreateAndGetRun) {
  std::string exp = CreateExperiment("runs");
  store::Run run = MakeRun(exp, "first-run", kNow + 7);
  run.tags.push_back({"custom", "yes"});
  ASSERT_TRUE(IsOk(store().CreateRun(run)));

  store::Run got = GetRunOrDie(run.info.run_id);
  EXPECT_EQ(got.info.run_id, run.info.run_id);
  EXPECT_EQ(got.info.run_name, "first-run");
  EXPECT_EQ(got.info.experiment_id, exp);
  EXPECT_EQ(got.info.user_id, "alice");
  EXPECT_EQ(got.info.status, RunStatus::kRunning);
  EXPECT_EQ(got.info.start_time, kNow + 7);
  EXPECT_FALSE(got.info.end_time.has_value());
  EXPECT_EQ(got.info.artifact_uri, run.info.artifact_uri);
  EXPECT_EQ(got.info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(TagValue(got.tags, "mlflow.runName"), "first-run");
  EXPECT_EQ(TagValue(got.tags, "custom"), "yes");
  EXPECT_THAT(got.metrics, IsEmpty());
  EXPECT_THAT(got.params, IsEmpty());
  EXPECT_THAT(got.dataset_inputs, IsEmpty());
}

TEST_P(MetadataStoreTest, CreateRunInMissingExperimentIsNotFound) {
  EXPECT_EQ(CodeOf(store().CreateRun(MakeRun("987654", "orphan", kNow))), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().GetRun("0123456789abcdef0123456789abcdef")), StatusCode::kNotFound);
}

TEST_P(MetadataStoreTest, UpdateRun) {
  std::string exp = CreateExperiment("updates");
  std::string id = CreateRun(exp, "old-name");

  RunUpdate finish;
  finish.status = RunStatus::kFinished;
  finish.end_time = kNow + 500;
  auto info = store().UpdateRun(id, finish);
  ASSERT_TRUE(IsOk(info));
  EXPECT_EQ(info->status, RunStatus::kFinished);
  ASSERT_TRUE(info->end_time.has_value());
  EXPECT_EQ(*info->end_time, kNow + 500);
  EXPECT_EQ(info->run_name, "old-name");  // untouched fields stay

  RunUpdate rename;
  rename.run_name = "new-name";
  info = store().UpdateRun(id, rename);
  ASSERT_TRUE(IsOk(info));
  EXPECT_EQ(info->run_name, "new-name");
  EXPECT_EQ(info->status, RunStatus::kFinished);
  store::Run got = GetRunOrDie(id);
  EXPECT_EQ(got.info.run_name, "new-name");
  EXPECT_EQ(TagValue(got.tags, "mlflow.runName"), "new-name");
  EXPECT_EQ(got.info.end_time.value_or(0), kNow + 500);

  // Setting the mlflow.runName tag renames the run too: the two are one fact.
  ASSERT_TRUE(IsOk(store().LogBatch(id, {}, {}, {{"mlflow.runName", "via-tag"}})));
  EXPECT_EQ(GetRunOrDie(id).info.run_name, "via-tag");

  EXPECT_EQ(CodeOf(store().UpdateRun("0123456789abcdef0123456789abcdef", finish)),
            StatusCode::kNotFound);
}

TEST_P(MetadataStoreTest, DeleteAndRestoreRun) {
  std::string exp = CreateExperiment("run-lifecycle");
  std::string id = CreateRun(exp, "r");
  ASSERT_TRUE(IsOk(store().SetRunLifecycle(id, LifecycleStage::kDeleted, kNow)));
  EXPECT_EQ(GetRunOrDie(id).info.lifecycle_stage, LifecycleStage::kDeleted);
  ASSERT_TRUE(IsOk(store().SetRunLifecycle(id, LifecycleStage::kActive, kNow)));
  EXPECT_EQ(GetRunOrDie(id).info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(CodeOf(store().SetRunLifecycle("0123456789abcdef0123456789abcdef",
                                           LifecycleStage::kDeleted, kNow)),
            StatusCode::kNotFound);
}

TEST_P(MetadataStoreTest, WritesToDeletedRunAreInvalidArgument) {
  std::string exp = CreateExperiment("deleted-writes");
  std::string id = CreateRun(exp, "r");
  ASSERT_TRUE(IsOk(store().LogBatch(id, {}, {}, {{"t", "v"}})));
  ASSERT_TRUE(IsOk(store().SetRunLifecycle(id, LifecycleStage::kDeleted, kNow)));

  EXPECT_EQ(CodeOf(store().LogBatch(id, {M("m", 1, kNow, 0)}, {}, {})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(store().LogBatch(id, {}, {{"p", "1"}}, {})), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(store().LogBatch(id, {}, {}, {{"t", "w"}})), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(store().DeleteTag(id, "t")), StatusCode::kInvalidArgument);
  RunUpdate update;
  update.status = RunStatus::kFailed;
  EXPECT_EQ(CodeOf(store().UpdateRun(id, update)), StatusCode::kInvalidArgument);
  DatasetInput input;
  input.dataset = {"ds", "abc", "local", "{}", "", ""};
  EXPECT_EQ(CodeOf(store().LogInputs(id, {input}, {})), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(store().LogOutputs(id, {ModelIo{"m-1", 0}})), StatusCode::kInvalidArgument);

  // Nothing was written.
  store::Run got = GetRunOrDie(id);
  EXPECT_THAT(got.metrics, IsEmpty());
  EXPECT_THAT(got.params, IsEmpty());
  EXPECT_EQ(TagValue(got.tags, "t"), "v");
  EXPECT_EQ(got.info.status, RunStatus::kRunning);
}

TEST_P(MetadataStoreTest, WritesToMissingRunAreNotFound) {
  const std::string missing = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(CodeOf(store().LogBatch(missing, {M("m", 1, kNow, 0)}, {}, {})), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().LogBatch(missing, {}, {{"p", "1"}}, {})), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().DeleteTag(missing, "t")), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().LogInputs(missing, {}, {})), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().LogOutputs(missing, {})), StatusCode::kNotFound);
  // Like MLflow, the history of a run that does not exist is empty, not an error.
  auto history = store().GetMetricHistory(missing, "m", 10, 0);
  ASSERT_TRUE(history.ok());
  EXPECT_TRUE(history->metrics.empty());
}

TEST_P(MetadataStoreTest, DeleteTag) {
  std::string exp = CreateExperiment("tags");
  std::string id = CreateRun(exp, "r");
  ASSERT_TRUE(IsOk(store().LogBatch(id, {}, {}, {{"a", "1"}, {"b", "2"}})));
  ASSERT_TRUE(IsOk(store().DeleteTag(id, "a")));
  store::Run got = GetRunOrDie(id);
  EXPECT_FALSE(HasKey(got.tags, "a"));
  EXPECT_EQ(TagValue(got.tags, "b"), "2");
  EXPECT_EQ(CodeOf(store().DeleteTag(id, "a")), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().DeleteTag(id, "never")), StatusCode::kNotFound);
}

// ------------------------------------------------------------------ LogBatch

TEST_P(MetadataStoreTest, ParamsAreWriteOnce) {
  std::string exp = CreateExperiment("params");
  std::string id = CreateRun(exp, "r");
  ASSERT_TRUE(IsOk(store().LogBatch(id, {}, {{"lr", "0.1"}, {"depth", "3"}}, {})));
  // The same value again is fine.
  ASSERT_TRUE(IsOk(store().LogBatch(id, {}, {{"lr", "0.1"}}, {})));

  // A changed value is refused and the whole batch is rolled back, including the metric, the
  // tag and the new param that came with it.
  Status changed = store().LogBatch(id, {M("loss", 0.5, kNow, 1)},
                                    {{"new_param", "x"}, {"lr", "0.2"}}, {{"note", "hello"}});
  EXPECT_EQ(changed.code(), StatusCode::kInvalidArgument) << changed.ToString();

  store::Run got = GetRunOrDie(id);
  EXPECT_EQ(TagValue(got.params, "lr"), "0.1");
  EXPECT_EQ(TagValue(got.params, "depth"), "3");
  EXPECT_FALSE(HasKey(got.params, "new_param"));
  EXPECT_FALSE(HasKey(got.tags, "note"));
  EXPECT_THAT(got.metrics, IsEmpty());
  EXPECT_THAT(History(id, "loss"), IsEmpty());
}

TEST_P(MetadataStoreTest, TagsOverwrite) {
  std::string exp = CreateExperiment("tag-overwrite");
  std::string id = CreateRun(exp, "r");
  ASSERT_TRUE(IsOk(store().LogBatch(id, {}, {}, {{"stage", "one"}})));
  ASSERT_TRUE(IsOk(store().LogBatch(id, {}, {}, {{"stage", "two"}})));
  store::Run got = GetRunOrDie(id);
  EXPECT_EQ(TagValue(got.tags, "stage"), "two");
  EXPECT_EQ(std::count_if(got.tags.begin(), got.tags.end(),
                          [](const KeyValue& kv) { return kv.key == "stage"; }),
            1);
}

TEST_P(MetadataStoreTest, MetricsAppendAndDeduplicate) {
  std::string exp = CreateExperiment("metrics");
  std::string id = CreateRun(exp, "r");
  ASSERT_TRUE(
      IsOk(store().LogBatch(id, {M("loss", 1.0, kNow, 0), M("loss", 0.5, kNow + 1, 1)}, {}, {})));
  // The identical point again (alone, and twice in one batch) is stored once.
  ASSERT_TRUE(IsOk(store().LogBatch(id, {M("loss", 1.0, kNow, 0)}, {}, {})));
  ASSERT_TRUE(IsOk(
      store().LogBatch(id, {M("loss", 0.25, kNow + 2, 2), M("loss", 0.25, kNow + 2, 2)}, {}, {})));
  // Same step and time with another value is a new point.
  ASSERT_TRUE(IsOk(store().LogBatch(id, {M("loss", 0.3, kNow + 2, 2)}, {}, {})));

  std::vector<Metric> history = History(id, "loss");
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0].value, 1.0);
  EXPECT_EQ(history[1].value, 0.5);
  EXPECT_EQ(history[2].value, 0.25);
  EXPECT_EQ(history[3].value, 0.3);
  EXPECT_THAT(History(id, "other"), IsEmpty());
}

TEST_P(MetadataStoreTest, LatestMetricIsMaxByStepTimestampValue) {
  std::string exp = CreateExperiment("latest");
  std::string id = CreateRun(exp, "r");
  auto latest = [&]() -> Metric {
    store::Run run = GetRunOrDie(id);
    const Metric* m = FindMetric(run.metrics, "acc");
    EXPECT_NE(m, nullptr);
    return m != nullptr ? *m : Metric{};
  };

  ASSERT_TRUE(IsOk(store().LogBatch(id, {M("acc", 0.5, kNow + 100, 5)}, {}, {})));
  // A lower step loses even with a later timestamp.
  ASSERT_TRUE(IsOk(store().LogBatch(id, {M("acc", 0.9, kNow + 200, 3)}, {}, {})));
  EXPECT_EQ(latest().value, 0.5);
  EXPECT_EQ(latest().step, 5);
  // Same step, earlier timestamp loses.
  ASSERT_TRUE(IsOk(store().LogBatch(id, {M("acc", 0.8, kNow + 50, 5)}, {}, {})));
  EXPECT_EQ(latest().value, 0.5);
  // Same step and timestamp: the larger value wins, whatever the order of arrival.
  ASSERT_TRUE(IsOk(store().LogBatch(id, {M("acc", 0.4, kNow + 100, 5)}, {}, {})));
  EXPECT_EQ(latest().value, 0.5);
  ASSERT_TRUE(IsOk(store().LogBatch(id, {M("acc", 0.6, kNow + 100, 5)}, {}, {})));
  EXPECT_EQ(latest().value, 0.6);
  // Same step, later timestamp wins even with a smaller value.
  ASSERT_TRUE(IsOk(store().LogBatch(id, {M("acc", 0.1, kNow + 150, 5)}, {}, {})));
  EXPECT_EQ(latest().value, 0.1);
  EXPECT_EQ(latest().timestamp, kNow + 150);

  // Within one batch the order of the points does not matter.
  std::string id2 = CreateRun(exp, "r2");
  ASSERT_TRUE(IsOk(store().LogBatch(
      id2, {M("acc", 3, kNow, 9), M("acc", 1, kNow + 9, 2), M("acc", 2, kNow, 9)}, {}, {})));
  const Metric* m = FindMetric(GetRunOrDie(id2).metrics, "acc");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->value, 3);
  EXPECT_EQ(m->step, 9);
}

TEST_P(MetadataStoreTest, NanRoundTripsAndInfinityIsClamped) {
  std::string exp = CreateExperiment("special-values");
  std::string id = CreateRun(exp, "r");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  ASSERT_TRUE(IsOk(store().LogBatch(
      id, {M("nan", nan, kNow, 0), M("pos", inf, kNow, 0), M("neg", -inf, kNow, 0)}, {}, {})));

  store::Run run = GetRunOrDie(id);
  const Metric* n = FindMetric(run.metrics, "nan");
  const Metric* p = FindMetric(run.metrics, "pos");
  const Metric* q = FindMetric(run.metrics, "neg");
  ASSERT_TRUE(n != nullptr && p != nullptr && q != nullptr);
  EXPECT_TRUE(std::isnan(n->value));
  EXPECT_EQ(p->value, DBL_MAX);
  EXPECT_EQ(q->value, -DBL_MAX);

  std::vector<Metric> history = History(id, "nan");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_TRUE(std::isnan(history[0].value));
  // NaN is not the same point as 0.
  ASSERT_TRUE(IsOk(store().LogBatch(id, {M("nan", 0.0, kNow, 0)}, {}, {})));
  EXPECT_EQ(History(id, "nan").size(), 2u);
  EXPECT_EQ(History(id, "pos")[0].value, DBL_MAX);
}

// ------------------------------------------------------------------ metric history

TEST_P(MetadataStoreTest, MetricHistoryPagesInTimestampStepValueOrder) {
  std::string exp = CreateExperiment("history");
  std::string id = CreateRun(exp, "r");
  // Logged out of order; expected order is by (timestamp, step, value).
  std::vector<Metric> points = {
      M("x", 5, kNow + 3, 0), M("x", 1, kNow + 1, 7), M("x", 2, kNow + 1, 7),
      M("x", 0, kNow + 1, 2), M("x", 9, kNow + 0, 9), M("x", 4, kNow + 2, 1),
      M("x", 3, kNow + 2, 0), M("x", 8, kNow + 4, 0), M("x", 7, kNow + 4, 0),
  };
  ASSERT_TRUE(IsOk(store().LogBatch(id, points, {}, {})));
  const std::vector<double> expected = {9, 0, 1, 2, 3, 4, 5, 7, 8};

  std::vector<double> seen;
  std::vector<bool> has_more;
  for (int64_t offset = 0; offset < 100; offset += 3) {
    auto page = store().GetMetricHistory(id, "x", 3, offset);
    ASSERT_TRUE(IsOk(page));
    EXPECT_LE(page->metrics.size(), 3u);
    for (const Metric& m : page->metrics) {
      EXPECT_EQ(m.key, "x");
      seen.push_back(m.value);
    }
    has_more.push_back(page->has_more);
    if (!page->has_more) break;
  }
  EXPECT_THAT(seen, ElementsAreArray(expected));
  // 9 points in pages of 3: the last full page says there is no more.
  EXPECT_THAT(has_more, ElementsAre(true, true, false));

  auto beyond = store().GetMetricHistory(id, "x", 3, 9);
  ASSERT_TRUE(IsOk(beyond));
  EXPECT_THAT(beyond->metrics, IsEmpty());
  EXPECT_FALSE(beyond->has_more);
}

TEST_P(MetadataStoreTest, SampledHistoryKeepsEndsAndLimit) {
  std::string exp = CreateExperiment("sampled");
  std::string a = CreateRun(exp, "a");
  std::string b = CreateRun(exp, "b");
  std::vector<Metric> points;
  for (int step = 0; step < 100; ++step) points.push_back(M("loss", step * 0.5, kNow + step, step));
  // LogBatch takes at most what the engine allows per call; the store itself has no limit.
  ASSERT_TRUE(IsOk(store().LogBatch(a, points, {}, {})));
  points.resize(7);
  ASSERT_TRUE(IsOk(store().LogBatch(b, points, {}, {})));

  auto sampled = store().GetMetricHistorySampled({a}, "loss", std::nullopt, std::nullopt, 10);
  ASSERT_TRUE(IsOk(sampled));
  ASSERT_FALSE(sampled->empty());
  EXPECT_LE(sampled->size(), 10u);
  EXPECT_GE(sampled->size(), 2u);
  EXPECT_EQ(sampled->front().step, 0);
  EXPECT_EQ(sampled->back().step, 99);
  for (size_t i = 1; i < sampled->size(); ++i) {
    EXPECT_LT((*sampled)[i - 1].step, (*sampled)[i].step);
  }
  for (const Metric& m : *sampled) EXPECT_EQ(m.run_id, a);

  // A step range keeps its own first and last step.
  sampled = store().GetMetricHistorySampled({a}, "loss", 20, 60, 5);
  ASSERT_TRUE(IsOk(sampled));
  ASSERT_FALSE(sampled->empty());
  EXPECT_LE(sampled->size(), 5u);
  EXPECT_EQ(sampled->front().step, 20);
  EXPECT_EQ(sampled->back().step, 60);

  // Fewer steps than the limit: everything; several runs are answered together.
  sampled = store().GetMetricHistorySampled({a, b}, "loss", std::nullopt, std::nullopt, 50);
  ASSERT_TRUE(IsOk(sampled));
  int from_a = 0, from_b = 0;
  for (const Metric& m : *sampled) (m.run_id == a ? from_a : from_b)++;
  EXPECT_LE(from_a, 50);
  EXPECT_EQ(from_b, 7);
  bool a_has_last = std::any_of(sampled->begin(), sampled->end(),
                                [&](const Metric& m) { return m.run_id == a && m.step == 99; });
  EXPECT_TRUE(a_has_last);
}

// MLflow 3.17's sampled history, written out as its SQL does it: number the points in (step,
// timestamp, value) order, NTILE(k) them, keep each bucket's first point, then put the last
// point in place of the last kept one (or after it, when fewer than k were kept).
std::vector<std::pair<int64_t, int64_t>> MlflowSample(std::vector<Metric> points, int64_t k) {
  std::sort(points.begin(), points.end(), [](const Metric& a, const Metric& b) {
    return std::tie(a.step, a.timestamp, a.value) < std::tie(b.step, b.timestamp, b.value);
  });
  const int64_t n = static_cast<int64_t>(points.size());
  std::vector<std::pair<int64_t, int64_t>> out;  // (step, timestamp)
  int64_t row = 0;
  for (int64_t bucket = 0; bucket < std::min(n, k); ++bucket) {
    out.emplace_back(points[static_cast<size_t>(row)].step,
                     points[static_cast<size_t>(row)].timestamp);
    row += n / k + (bucket < n % k ? 1 : 0);
  }
  if (n > 0) {
    std::pair<int64_t, int64_t> last{points.back().step, points.back().timestamp};
    if (out.back() != last) {
      if (static_cast<int64_t>(out.size()) >= k) {
        out.back() = last;
      } else {
        out.push_back(last);
      }
    }
  }
  return out;
}

std::vector<std::pair<int64_t, int64_t>> StepsAndTimes(const std::vector<Metric>& sampled) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const Metric& m : sampled) out.emplace_back(m.step, m.timestamp);
  return out;
}

TEST_P(MetadataStoreTest, SampledHistoryIsMlflowsWhenEachStepHasOnePoint) {
  std::string run = CreateRun(CreateExperiment("sampled-dense"), "dense");
  std::vector<Metric> points;
  for (int step = 0; step < 3000; ++step) {
    points.push_back(M("loss", 1.0 / (step + 1), kNow + 7 * step, step));
  }
  points[1234].value = std::nan("");
  for (size_t i = 0; i < points.size(); i += 1000) {
    std::vector<Metric> batch(points.begin() + static_cast<std::ptrdiff_t>(i),
                              points.begin() + static_cast<std::ptrdiff_t>(i + 1000));
    ASSERT_TRUE(IsOk(store().LogBatch(run, batch, {}, {})));
  }
  for (int64_t k : {1, 2, 7, 320, 1000, 2500, 2999, 3000}) {
    SCOPED_TRACE(k);
    auto sampled = store().GetMetricHistorySampled({run}, "loss", std::nullopt, std::nullopt, k);
    ASSERT_TRUE(IsOk(sampled));
    EXPECT_EQ(StepsAndTimes(*sampled), MlflowSample(points, k));
    for (const Metric& m : *sampled) {
      EXPECT_EQ(m.run_id, run);
      EXPECT_EQ(m.key, "loss");
      if (m.step == 1234) {
        EXPECT_TRUE(std::isnan(m.value));
      } else {
        EXPECT_DOUBLE_EQ(m.value, 1.0 / static_cast<double>(m.step + 1));
      }
    }
  }
  // A step range is sampled on its own.
  std::vector<Metric> in_range(points.begin() + 100, points.begin() + 2001);
  auto sampled = store().GetMetricHistorySampled({run}, "loss", 100, 2000, 320);
  ASSERT_TRUE(IsOk(sampled));
  EXPECT_EQ(StepsAndTimes(*sampled), MlflowSample(in_range, 320));
  sampled = store().GetMetricHistorySampled({run}, "loss", 5000, 6000, 320);
  ASSERT_TRUE(IsOk(sampled));
  EXPECT_TRUE(sampled->empty());
}

TEST_P(MetadataStoreTest, SampledHistoryWithRepeatedStepsIsMlflowsRowSample) {
  // Every value at step 0 (log_metric without a step): MLflow samples rows, not steps.
  std::string run = CreateRun(CreateExperiment("sampled-repeated"), "repeated");
  std::vector<Metric> points;
  for (int i = 0; i < 900; ++i) points.push_back(M("acc", i * 0.001, kNow + 900 - i, 0));
  // And a few steps with several values each.
  for (int i = 0; i < 100; ++i) points.push_back(M("acc", i, kNow + i, 1 + i / 10));
  ASSERT_TRUE(IsOk(store().LogBatch(run, points, {}, {})));
  for (int64_t k : {1, 10, 320}) {
    SCOPED_TRACE(k);
    auto sampled = store().GetMetricHistorySampled({run}, "acc", std::nullopt, std::nullopt, k);
    ASSERT_TRUE(IsOk(sampled));
    EXPECT_EQ(StepsAndTimes(*sampled), MlflowSample(points, k));
  }

  // One point per step at first, two per step later on (train and eval logging one key): the
  // repeats are seen at a sampled step.
  std::string later = CreateRun(CreateExperiment("sampled-later"), "later");
  points.clear();
  for (int i = 0; i < 1000; ++i) points.push_back(M("loss", i, kNow + i, i));
  for (int i = 1000; i < 2000; ++i) {
    points.push_back(M("loss", i, kNow + i, i));
    points.push_back(M("loss", -i, kNow + i, i));
  }
  ASSERT_TRUE(IsOk(store().LogBatch(later, points, {}, {})));
  auto sampled = store().GetMetricHistorySampled({later}, "loss", std::nullopt, std::nullopt, 20);
  ASSERT_TRUE(IsOk(sampled));
  EXPECT_EQ(StepsAndTimes(*sampled), MlflowSample(points, 20));
}

TEST_P(MetadataStoreTest, SampledHistoryOfSparseStepsSpansTheRange) {
  // Steps 0, 10, 20, …: evenly spaced over the steps, first and last kept, as many as asked.
  std::string run = CreateRun(CreateExperiment("sampled-sparse"), "sparse");
  std::vector<Metric> points;
  for (int i = 0; i < 800; ++i) points.push_back(M("x", i, kNow + i, 10 * i));
  ASSERT_TRUE(IsOk(store().LogBatch(run, points, {}, {})));
  auto sampled = store().GetMetricHistorySampled({run}, "x", std::nullopt, std::nullopt, 50);
  ASSERT_TRUE(IsOk(sampled));
  ASSERT_EQ(sampled->size(), 50u);
  EXPECT_EQ(sampled->front().step, 0);
  EXPECT_EQ(sampled->back().step, 7990);
  // (The last point replaces the last bucket's first, as in MLflow: that gap is twice the rest.)
  for (size_t i = 1; i + 1 < sampled->size(); ++i) {
    int64_t gap = (*sampled)[i].step - (*sampled)[i - 1].step;
    EXPECT_GE(gap, 150);
    EXPECT_LE(gap, 170);
  }

  // A gap wider than the sample's spacing: the seeks would find fewer points than asked, so the
  // store counts and picks MLflow's rows instead.
  std::string gapped = CreateRun(CreateExperiment("sampled-gap"), "gap");
  points.clear();
  for (int i = 0; i < 800; ++i) {
    points.push_back(M("x", i, kNow + i, i < 400 ? 10 * i : 10 * i + 50000));
  }
  ASSERT_TRUE(IsOk(store().LogBatch(gapped, points, {}, {})));
  sampled = store().GetMetricHistorySampled({gapped}, "x", std::nullopt, std::nullopt, 50);
  ASSERT_TRUE(IsOk(sampled));
  EXPECT_EQ(StepsAndTimes(*sampled), MlflowSample(points, 50));
}

// ------------------------------------------------------------------ SearchRuns

class SearchRunsTest : public MetadataStoreTest {
 protected:
  void SetUp() override {
    MetadataStoreTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    exp_ = CreateExperiment("search");
    r1_ = CreateRun(exp_, "alpha-run", kNow + 1000);
    r2_ = CreateRun(exp_, "beta-run", kNow + 2000);
    r3_ = CreateRun(exp_, "Gamma-run", kNow + 3000);
    r4_ = CreateRun(exp_, "delta-run", kNow + 4000);
    ASSERT_TRUE(IsOk(store().LogBatch(r1_, {M("acc", 0.9, kNow, 0), M("loss", 0.3, kNow, 0)},
                                      {{"model", "lr"}}, {{"team", "Alpha"}})));
    ASSERT_TRUE(IsOk(
        store().LogBatch(r2_, {M("acc", 0.5, kNow, 0)}, {{"model", "RF"}}, {{"team", "beta"}})));
    ASSERT_TRUE(IsOk(store().LogBatch(r3_, {M("acc", 0.7, kNow, 0)}, {{"model", "lr-2"}}, {})));
    ASSERT_TRUE(IsOk(store().LogBatch(r4_, {}, {{"model", "xgb"}}, {})));
    RunUpdate finish;
    finish.status = RunStatus::kFinished;
    finish.end_time = kNow + 9000;
    ASSERT_TRUE(IsOk(store().UpdateRun(r2_, finish)));
  }

  std::string exp_, r1_, r2_, r3_, r4_;
};

TEST_P(SearchRunsTest, FilterClauses) {
  using C = Comparator;
  const auto kM = EntityKind::kMetric;
  const auto kP = EntityKind::kParam;
  const auto kT = EntityKind::kTag;
  const auto kA = EntityKind::kAttribute;
  struct Case {
    const char* what;
    std::vector<FilterClause> clauses;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"no filter", {}, {"alpha-run", "beta-run", "Gamma-run", "delta-run"}},
      {"metric =", {NumberClause(kM, "acc", C::kEq, 0.5)}, {"beta-run"}},
      {"metric != skips runs without the metric",
       {NumberClause(kM, "acc", C::kNe, 0.5)},
       {"alpha-run", "Gamma-run"}},
      {"metric <", {NumberClause(kM, "acc", C::kLt, 0.8)}, {"beta-run", "Gamma-run"}},
      {"metric >", {NumberClause(kM, "acc", C::kGt, 0.6)}, {"alpha-run", "Gamma-run"}},
      {"metric <=", {NumberClause(kM, "acc", C::kLe, 0.7)}, {"beta-run", "Gamma-run"}},
      {"metric >=", {NumberClause(kM, "acc", C::kGe, 0.9)}, {"alpha-run"}},
      {"unknown metric", {NumberClause(kM, "nope", C::kGt, -1e300)}, {}},
      {"param =", {StringClause(kP, "model", C::kEq, "lr")}, {"alpha-run"}},
      {"param !=",
       {StringClause(kP, "model", C::kNe, "lr")},
       {"beta-run", "Gamma-run", "delta-run"}},
      {"param LIKE", {StringClause(kP, "model", C::kLike, "lr%")}, {"alpha-run", "Gamma-run"}},
      {"param LIKE is case-sensitive", {StringClause(kP, "model", C::kLike, "rf")}, {}},
      {"param ILIKE", {StringClause(kP, "model", C::kILike, "rf")}, {"beta-run"}},
      {"tag =", {StringClause(kT, "team", C::kEq, "Alpha")}, {"alpha-run"}},
      {"tag = is case-sensitive", {StringClause(kT, "team", C::kEq, "alpha")}, {}},
      {"tag LIKE is case-sensitive", {StringClause(kT, "team", C::kLike, "%LPH%")}, {}},
      {"tag ILIKE", {StringClause(kT, "team", C::kILike, "%LPH%")}, {"alpha-run"}},
      {"tag IS NULL", {NullClause(kT, "team", true)}, {"Gamma-run", "delta-run"}},
      {"tag IS NOT NULL", {NullClause(kT, "team", false)}, {"alpha-run", "beta-run"}},
      {"param IS NULL", {NullClause(kP, "model", true)}, {}},
      {"attribute run_id IN",
       {ListClause(kA, "run_id", C::kIn, {r1_, r3_})},
       {"alpha-run", "Gamma-run"}},
      {"attribute run_id NOT IN",
       {ListClause(kA, "run_id", C::kNotIn, {r1_, r3_})},
       {"beta-run", "delta-run"}},
      {"attribute status =", {StringClause(kA, "status", C::kEq, "FINISHED")}, {"beta-run"}},
      {"attribute status !=",
       {StringClause(kA, "status", C::kNe, "FINISHED")},
       {"alpha-run", "Gamma-run", "delta-run"}},
      {"attribute run_name LIKE",
       {StringClause(kA, "run_name", C::kLike, "%ta-run")},
       {"beta-run", "delta-run"}},
      {"attribute run_name ILIKE",
       {StringClause(kA, "run_name", C::kILike, "gamma%")},
       {"Gamma-run"}},
      {"attribute start_time >=",
       {NumberClause(kA, "start_time", C::kGe, kNow + 3000)},
       {"Gamma-run", "delta-run"}},
      {"attribute end_time >", {NumberClause(kA, "end_time", C::kGt, 0)}, {"beta-run"}},
      {"AND of metric and param",
       {NumberClause(kM, "acc", C::kGt, 0.6), StringClause(kP, "model", C::kEq, "lr")},
       {"alpha-run"}},
      {"AND of tag and attribute",
       {NullClause(kT, "team", true), NumberClause(kA, "start_time", C::kLt, kNow + 3500)},
       {"Gamma-run"}},
  };
  for (const Case& c : cases) {
    RunPage page = Search({exp_}, c.clauses);
    EXPECT_THAT(RunNames(page.runs), UnorderedElementsAreArray(c.expected)) << c.what;
    EXPECT_FALSE(page.has_more) << c.what;
  }
}

TEST_P(SearchRunsTest, DefaultOrderIsStartTimeDescending) {
  EXPECT_THAT(RunNames(Search({exp_}, {}).runs),
              ElementsAre("delta-run", "Gamma-run", "beta-run", "alpha-run"));
}

TEST_P(SearchRunsTest, OrderByMetricPutsMissingValuesLast) {
  EXPECT_THAT(RunNames(Search({exp_}, {}, {Order(EntityKind::kMetric, "acc", true)}).runs),
              ElementsAre("beta-run", "Gamma-run", "alpha-run", "delta-run"));
  EXPECT_THAT(RunNames(Search({exp_}, {}, {Order(EntityKind::kMetric, "acc", false)}).runs),
              ElementsAre("alpha-run", "Gamma-run", "beta-run", "delta-run"));
  // loss only exists on alpha-run; the rest keep the default order behind it.
  EXPECT_THAT(RunNames(Search({exp_}, {}, {Order(EntityKind::kMetric, "loss", false)}).runs),
              ElementsAre("alpha-run", "delta-run", "Gamma-run", "beta-run"));
}

TEST_P(SearchRunsTest, FilterAndOrderTogether) {
  // Order-by joins and filter clauses both bind values; they must not get mixed up.
  RunPage page =
      Search({exp_},
             {StringClause(EntityKind::kParam, "model", Comparator::kLike, "lr%"),
              NumberClause(EntityKind::kMetric, "acc", Comparator::kGt, 0.1)},
             {Order(EntityKind::kTag, "team", true), Order(EntityKind::kMetric, "acc", false)});
  EXPECT_THAT(RunNames(page.runs), ElementsAre("alpha-run", "Gamma-run"));
  page = Search({exp_}, {NumberClause(EntityKind::kMetric, "acc", Comparator::kGe, 0.5)},
                {Order(EntityKind::kMetric, "acc", true)}, ViewType::kActiveOnly, 2, 1);
  EXPECT_THAT(RunNames(page.runs), ElementsAre("Gamma-run", "alpha-run"));
  EXPECT_FALSE(page.has_more);
}

TEST_P(SearchRunsTest, OrderByParamTagAndAttribute) {
  EXPECT_THAT(RunNames(Search({exp_}, {}, {Order(EntityKind::kParam, "model", true)}).runs),
              ElementsAre("beta-run", "alpha-run", "Gamma-run", "delta-run"));  // "RF" < "lr"
  EXPECT_THAT(RunNames(Search({exp_}, {}, {Order(EntityKind::kTag, "team", false)}).runs),
              ElementsAre("beta-run", "alpha-run", "delta-run", "Gamma-run"));
  EXPECT_THAT(RunNames(Search({exp_}, {}, {Order(EntityKind::kAttribute, "run_name", true)}).runs),
              ElementsAre("Gamma-run", "alpha-run", "beta-run", "delta-run"));
  EXPECT_THAT(
      RunNames(Search({exp_}, {}, {Order(EntityKind::kAttribute, "start_time", true)}).runs),
      ElementsAre("alpha-run", "beta-run", "Gamma-run", "delta-run"));
}

TEST_P(SearchRunsTest, PagingByOffset) {
  CreateRun(exp_, "epsilon-run", kNow + 5000);
  std::vector<std::string> all;
  std::vector<bool> has_more;
  for (int64_t offset = 0; offset < 20; offset += 2) {
    RunPage page = Search({exp_}, {}, {}, ViewType::kActiveOnly, 2, offset);
    EXPECT_LE(page.runs.size(), 2u);
    for (const std::string& n : RunNames(page.runs)) all.push_back(n);
    has_more.push_back(page.has_more);
    if (!page.has_more) break;
  }
  EXPECT_THAT(all, ElementsAre("epsilon-run", "delta-run", "Gamma-run", "beta-run", "alpha-run"));
  EXPECT_THAT(has_more, ElementsAre(true, true, false));

  // Exactly a full last page: no more.
  RunPage last = Search({exp_}, {}, {}, ViewType::kActiveOnly, 5, 0);
  EXPECT_EQ(last.runs.size(), 5u);
  EXPECT_FALSE(last.has_more);
  // The page carries each run's data, not just its info.
  RunPage first =
      Search({exp_}, {StringClause(EntityKind::kParam, "model", Comparator::kEq, "lr")});
  ASSERT_EQ(first.runs.size(), 1u);
  EXPECT_EQ(TagValue(first.runs[0].params, "model"), "lr");
  EXPECT_EQ(TagValue(first.runs[0].tags, "team"), "Alpha");
  ASSERT_NE(FindMetric(first.runs[0].metrics, "acc"), nullptr);
  EXPECT_EQ(FindMetric(first.runs[0].metrics, "acc")->value, 0.9);
}

TEST_P(SearchRunsTest, SeveralExperimentsAndViewTypes) {
  std::string other = CreateExperiment("search-other");
  CreateRun(other, "other-run", kNow + 6000);
  std::string gone = CreateRun(other, "gone-run", kNow + 7000);
  ASSERT_TRUE(IsOk(store().SetRunLifecycle(gone, LifecycleStage::kDeleted, kNow)));

  EXPECT_THAT(RunNames(Search({exp_, other}, {}).runs),
              ElementsAre("other-run", "delta-run", "Gamma-run", "beta-run", "alpha-run"));
  EXPECT_THAT(RunNames(Search({other}, {}).runs), ElementsAre("other-run"));
  EXPECT_THAT(RunNames(Search({other}, {}, {}, ViewType::kDeletedOnly).runs),
              ElementsAre("gone-run"));
  EXPECT_THAT(RunNames(Search({other}, {}, {}, ViewType::kAll).runs),
              ElementsAre("gone-run", "other-run"));
  EXPECT_THAT(Search({}, {}).runs, IsEmpty());
  EXPECT_THAT(Search({"not-an-id"}, {}).runs, IsEmpty());
  EXPECT_THAT(Search({"99999"}, {}).runs, IsEmpty());
  // Paging across experiments.
  RunPage page = Search({exp_, other}, {}, {}, ViewType::kAll, 3, 3);
  EXPECT_THAT(RunNames(page.runs), ElementsAre("Gamma-run", "beta-run", "alpha-run"));
  EXPECT_FALSE(page.has_more);
}

// ------------------------------------------------------------------ inputs and outputs

TEST_P(MetadataStoreTest, LogInputsDeduplicatesDatasetsPerExperiment) {
  std::string exp = CreateExperiment("inputs");
  std::string a = CreateRun(exp, "a");
  std::string b = CreateRun(exp, "b");

  DatasetInput train;
  train.dataset = {
      "iris", "d1g35t", "local", R"({"uri":"/data/iris.csv"})", R"({"mlflow_colspec":[]})", ""};
  train.tags = {{"mlflow.data.context", "training"}};
  ASSERT_TRUE(IsOk(store().LogInputs(a, {train}, {ModelIo{"m-input", std::nullopt}})));
  // The same input again adds nothing.
  ASSERT_TRUE(IsOk(store().LogInputs(a, {train}, {})));

  // Another run logs a dataset with the same (name, digest): the experiment's existing dataset is
  // reused, so its first description wins.
  DatasetInput same = train;
  same.dataset.source = R"({"uri":"/elsewhere.csv"})";
  same.tags = {{"mlflow.data.context", "eval"}};
  ASSERT_TRUE(IsOk(store().LogInputs(b, {same}, {})));

  store::Run run_a = GetRunOrDie(a);
  ASSERT_EQ(run_a.dataset_inputs.size(), 1u);
  const DatasetInput& in = run_a.dataset_inputs[0];
  EXPECT_EQ(in.dataset.name, "iris");
  EXPECT_EQ(in.dataset.digest, "d1g35t");
  EXPECT_EQ(in.dataset.source_type, "local");
  EXPECT_EQ(in.dataset.source, R"({"uri":"/data/iris.csv"})");
  EXPECT_EQ(in.dataset.schema, R"({"mlflow_colspec":[]})");
  EXPECT_EQ(in.dataset.profile, "");
  EXPECT_EQ(TagValue(in.tags, "mlflow.data.context"), "training");
  ASSERT_EQ(run_a.model_inputs.size(), 1u);
  EXPECT_EQ(run_a.model_inputs[0].model_id, "m-input");

  store::Run run_b = GetRunOrDie(b);
  ASSERT_EQ(run_b.dataset_inputs.size(), 1u);
  EXPECT_EQ(run_b.dataset_inputs[0].dataset.source, R"({"uri":"/data/iris.csv"})");
  EXPECT_EQ(TagValue(run_b.dataset_inputs[0].tags, "mlflow.data.context"), "eval");

  // Datasets are shared within an experiment only: another experiment gets its own copy.
  std::string exp2 = CreateExperiment("inputs-2");
  std::string c = CreateRun(exp2, "c");
  ASSERT_TRUE(IsOk(store().LogInputs(c, {same}, {})));
  store::Run run_c = GetRunOrDie(c);
  ASSERT_EQ(run_c.dataset_inputs.size(), 1u);
  EXPECT_EQ(run_c.dataset_inputs[0].dataset.source, R"({"uri":"/elsewhere.csv"})");

  // The dataset is searchable.
  FilterClause by_name = StringClause(EntityKind::kDataset, "name", Comparator::kEq, "iris");
  EXPECT_THAT(RunNames(Search({exp}, {by_name}).runs), UnorderedElementsAre("a", "b"));
  FilterClause by_context =
      StringClause(EntityKind::kDataset, "context", Comparator::kEq, "training");
  EXPECT_THAT(RunNames(Search({exp}, {by_context}).runs), ElementsAre("a"));
}

TEST_P(MetadataStoreTest, LogOutputsVisibleInGetRun) {
  std::string exp = CreateExperiment("outputs");
  std::string id = CreateRun(exp, "r");
  ASSERT_TRUE(IsOk(store().LogOutputs(id, {ModelIo{"m-out1", 0}, ModelIo{"m-out2", 7}})));
  store::Run run = GetRunOrDie(id);
  ASSERT_EQ(run.model_outputs.size(), 2u);
  std::vector<std::pair<std::string, int64_t>> outputs;
  for (const ModelIo& io : run.model_outputs) {
    outputs.emplace_back(io.model_id, io.step.value_or(-1));
  }
  EXPECT_THAT(outputs, UnorderedElementsAre(std::pair<std::string, int64_t>{"m-out1", 0},
                                            std::pair<std::string, int64_t>{"m-out2", 7}));
  EXPECT_THAT(run.model_inputs, IsEmpty());
}

// ------------------------------------------------------------------ logged models

LoggedModel MakeModel(const std::string& experiment_id, const std::string& name, int64_t created) {
  LoggedModel m;
  m.model_id = NewLoggedModelId();
  m.experiment_id = experiment_id;
  m.name = name;
  m.artifact_uri = "mlflow-artifacts:/" + experiment_id + "/models/" + m.model_id + "/artifacts";
  m.status = LoggedModelStatus::kPending;
  m.model_type = "sklearn";
  m.creation_timestamp_ms = created;
  m.last_updated_timestamp_ms = created;
  return m;
}

TEST_P(MetadataStoreTest, LoggedModelLifecycle) {
  std::string exp = CreateExperiment("models");
  std::string run = CreateRun(exp, "trainer");
  LoggedModel model = MakeModel(exp, "model", kNow);
  model.source_run_id = run;
  model.tags = {{"flavor", "sklearn"}};
  model.params = {{"alpha", "0.5"}};
  ASSERT_TRUE(IsOk(store().CreateLoggedModel(model)));

  auto got = store().GetLoggedModel(model.model_id);
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->model_id, model.model_id);
  EXPECT_EQ(got->experiment_id, exp);
  EXPECT_EQ(got->name, "model");
  EXPECT_EQ(got->artifact_uri, model.artifact_uri);
  EXPECT_EQ(got->status, LoggedModelStatus::kPending);
  EXPECT_EQ(got->model_type, "sklearn");
  EXPECT_EQ(got->source_run_id, run);
  EXPECT_EQ(got->creation_timestamp_ms, kNow);
  EXPECT_EQ(TagValue(got->tags, "flavor"), "sklearn");
  EXPECT_EQ(TagValue(got->params, "alpha"), "0.5");

  // Finalize.
  ASSERT_TRUE(
      IsOk(store().SetLoggedModelStatus(model.model_id, LoggedModelStatus::kReady, "", kNow + 9)));
  got = store().GetLoggedModel(model.model_id);
  EXPECT_EQ(got->status, LoggedModelStatus::kReady);
  EXPECT_EQ(got->last_updated_timestamp_ms, kNow + 9);

  // Tags: add and overwrite; delete; a missing tag is NotFound.
  ASSERT_TRUE(IsOk(
      store().SetLoggedModelTags(model.model_id, {{"flavor", "xgb"}, {"extra", "1"}}, kNow + 10)));
  got = store().GetLoggedModel(model.model_id);
  EXPECT_EQ(TagValue(got->tags, "flavor"), "xgb");
  EXPECT_EQ(TagValue(got->tags, "extra"), "1");
  ASSERT_TRUE(IsOk(store().DeleteLoggedModelTag(model.model_id, "extra")));
  EXPECT_FALSE(HasKey(store().GetLoggedModel(model.model_id)->tags, "extra"));
  EXPECT_EQ(CodeOf(store().DeleteLoggedModelTag(model.model_id, "extra")), StatusCode::kNotFound);

  // Params.
  ASSERT_TRUE(IsOk(store().LogLoggedModelParams(model.model_id, {{"beta", "2"}})));
  got = store().GetLoggedModel(model.model_id);
  EXPECT_EQ(TagValue(got->params, "alpha"), "0.5");
  EXPECT_EQ(TagValue(got->params, "beta"), "2");

  // Metrics logged to the run with the model's id show up on the model.
  Metric m = M("score", 0.75, kNow, 3);
  m.model_id = model.model_id;
  ASSERT_TRUE(IsOk(store().LogBatch(run, {m}, {}, {})));
  got = store().GetLoggedModel(model.model_id);
  ASSERT_EQ(got->metrics.size(), 1u);
  EXPECT_EQ(got->metrics[0].key, "score");
  EXPECT_EQ(got->metrics[0].value, 0.75);
  EXPECT_EQ(got->metrics[0].step, 3);
  EXPECT_EQ(got->metrics[0].run_id, run);

  // Delete: gone for reads and writes.
  ASSERT_TRUE(IsOk(store().DeleteLoggedModel(model.model_id, kNow + 20)));
  EXPECT_EQ(CodeOf(store().GetLoggedModel(model.model_id)), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().DeleteLoggedModel(model.model_id, kNow)), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().SetLoggedModelTags(model.model_id, {{"a", "b"}}, kNow)),
            StatusCode::kNotFound);
  EXPECT_EQ(
      CodeOf(store().SetLoggedModelStatus(model.model_id, LoggedModelStatus::kReady, "", kNow)),
      StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().LogLoggedModelParams(model.model_id, {{"c", "3"}})),
            StatusCode::kNotFound);
}

TEST_P(MetadataStoreTest, LoggedModelMissingExperimentOrModel) {
  EXPECT_EQ(CodeOf(store().CreateLoggedModel(MakeModel("987654", "m", kNow))),
            StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().GetLoggedModel("m-00000000000000000000000000000000")),
            StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().DeleteLoggedModelTag("m-00000000000000000000000000000000", "k")),
            StatusCode::kNotFound);
}

TEST_P(MetadataStoreTest, SearchLoggedModels) {
  std::string exp = CreateExperiment("model-search");
  std::string other = CreateExperiment("model-search-other");
  LoggedModel a = MakeModel(exp, "model", kNow + 1);
  a.params = {{"lr", "0.1"}};
  LoggedModel b = MakeModel(exp, "model", kNow + 2);
  b.params = {{"lr", "0.2"}};
  LoggedModel c = MakeModel(exp, "other-model", kNow + 3);
  c.params = {{"lr", "0.1"}};
  LoggedModel d = MakeModel(other, "model", kNow + 4);
  LoggedModel gone = MakeModel(exp, "model", kNow + 5);
  for (const LoggedModel* m : {&a, &b, &c, &d, &gone}) {
    ASSERT_TRUE(IsOk(store().CreateLoggedModel(*m)));
  }
  ASSERT_TRUE(IsOk(store().DeleteLoggedModel(gone.model_id, kNow + 6)));

  auto ids = [&](std::vector<std::string> experiment_ids, std::vector<FilterClause> clauses,
                 std::vector<OrderBy> order_by = {}) {
    LoggedModelSearch s;
    s.experiment_ids = std::move(experiment_ids);
    s.filter.clauses = std::move(clauses);
    s.order_by = std::move(order_by);
    auto page = store().SearchLoggedModels(s);
    EXPECT_TRUE(IsOk(page));
    std::vector<std::string> out;
    if (page.ok()) {
      for (const LoggedModel& m : page->models) out.push_back(m.model_id);
    }
    return out;
  };
  // Newest first by default; deleted models are not listed.
  EXPECT_THAT(ids({exp}, {}), ElementsAre(c.model_id, b.model_id, a.model_id));
  EXPECT_THAT(ids({exp}, {StringClause(EntityKind::kAttribute, "name", Comparator::kEq, "model")}),
              ElementsAre(b.model_id, a.model_id));
  EXPECT_THAT(ids({exp}, {StringClause(EntityKind::kParam, "lr", Comparator::kEq, "0.1")}),
              ElementsAre(c.model_id, a.model_id));
  EXPECT_THAT(ids({exp}, {StringClause(EntityKind::kAttribute, "name", Comparator::kEq, "model"),
                          StringClause(EntityKind::kParam, "lr", Comparator::kEq, "0.1")}),
              ElementsAre(a.model_id));
  EXPECT_THAT(
      ids({exp, other}, {StringClause(EntityKind::kAttribute, "name", Comparator::kEq, "model")}),
      ElementsAre(d.model_id, b.model_id, a.model_id));
  EXPECT_THAT(ids({exp}, {}, {Order(EntityKind::kAttribute, "creation_timestamp", true)}),
              ElementsAre(a.model_id, b.model_id, c.model_id));
  EXPECT_THAT(ids({}, {}), IsEmpty());

  // Paging.
  LoggedModelSearch paged;
  paged.experiment_ids = {exp};
  paged.max_results = 2;
  auto page = store().SearchLoggedModels(paged);
  ASSERT_TRUE(IsOk(page));
  EXPECT_EQ(page->models.size(), 2u);
  EXPECT_TRUE(page->has_more);
  paged.offset = 2;
  page = store().SearchLoggedModels(paged);
  ASSERT_TRUE(IsOk(page));
  EXPECT_EQ(page->models.size(), 1u);
  EXPECT_FALSE(page->has_more);
}

// ------------------------------------------------------------------ concurrency and durability

// Many writers at once: each call waits for its own commit, and group commit folds concurrent
// calls into shared transactions without losing or mixing any of them.
TEST_P(MetadataStoreTest, ConcurrentLogBatchesAreAllCommitted) {
  constexpr int kThreads = 16;
  constexpr int kBatchesPerThread = 200;
  constexpr int kMetricsPerBatch = 3;
  std::string exp = CreateExperiment("concurrency");
  std::vector<std::string> runs;
  for (int t = 0; t < kThreads; ++t) runs.push_back(CreateRun(exp, "run-" + std::to_string(t)));

  std::atomic<int> failures{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kBatchesPerThread; ++i) {
        std::vector<Metric> metrics;
        for (int k = 0; k < kMetricsPerBatch; ++k) {
          metrics.push_back(M("m" + std::to_string(k), i, kNow + i, i));
        }
        std::vector<KeyValue> params;
        if (i % 50 == 0) params.push_back({"p" + std::to_string(i), std::to_string(t)});
        Status s = store().LogBatch(runs[t], metrics, params, {{"last", std::to_string(i)}});
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << "thread " << t << " batch " << i << ": " << s.ToString();
        }
      }
    });
  }
  // Readers run alongside the writers and must never see an error.
  std::atomic<bool> writers_done{false};
  std::atomic<int> read_failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      while (!go.load()) std::this_thread::yield();
      while (!writers_done.load()) {
        if (!store().GetRun(runs[r]).ok()) ++read_failures;
        RunSearch search;
        search.experiment_ids = {exp};
        search.order_by = {Order(EntityKind::kMetric, "m0", false)};
        if (!store().SearchRuns(search).ok()) ++read_failures;
      }
    });
  }
  go = true;
  for (std::thread& th : threads) th.join();
  writers_done = true;
  for (std::thread& th : readers) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(read_failures.load(), 0);

  for (int t = 0; t < kThreads; ++t) {
    for (int k = 0; k < kMetricsPerBatch; ++k) {
      auto page = store().GetMetricHistory(runs[t], "m" + std::to_string(k), 100000, 0);
      ASSERT_TRUE(IsOk(page));
      EXPECT_EQ(page->metrics.size(), static_cast<size_t>(kBatchesPerThread))
          << "run " << t << " metric m" << k;
    }
    store::Run run = GetRunOrDie(runs[t]);
    EXPECT_EQ(TagValue(run.tags, "last"), std::to_string(kBatchesPerThread - 1));
    EXPECT_EQ(run.params.size(), static_cast<size_t>(kBatchesPerThread / 50));
    EXPECT_EQ(TagValue(run.params, "p0"), std::to_string(t));
    const Metric* latest = FindMetric(run.metrics, "m0");
    ASSERT_NE(latest, nullptr);
    EXPECT_EQ(latest->step, kBatchesPerThread - 1);
  }
}

// Group commit isolates jobs: a failing job does not undo its neighbours in the same transaction.
TEST_P(MetadataStoreTest, ConcurrentFailingBatchesDoNotUndoOthers) {
  std::string exp = CreateExperiment("isolation");
  std::string good = CreateRun(exp, "good");
  std::string bad = CreateRun(exp, "bad");
  ASSERT_TRUE(IsOk(store().LogBatch(bad, {}, {{"fixed", "1"}}, {})));

  constexpr int kPerThread = 100;
  std::atomic<int> good_failures{0};
  std::atomic<int> bad_successes{0};
  std::thread good_writer([&] {
    for (int i = 0; i < kPerThread; ++i) {
      if (!store().LogBatch(good, {M("x", i, kNow + i, i)}, {}, {}).ok()) ++good_failures;
    }
  });
  std::thread bad_writer([&] {
    for (int i = 0; i < kPerThread; ++i) {
      Status s = store().LogBatch(bad, {M("x", i, kNow + i, i)}, {{"fixed", "2"}}, {});
      if (s.ok()) ++bad_successes;
    }
  });
  good_writer.join();
  bad_writer.join();
  EXPECT_EQ(good_failures.load(), 0);
  EXPECT_EQ(bad_successes.load(), 0);
  EXPECT_EQ(History(good, "x").size(), static_cast<size_t>(kPerThread));
  EXPECT_THAT(History(bad, "x"), IsEmpty());
}

TEST_P(MetadataStoreTest, DataSurvivesReopenWithoutRerunningMigrations) {
  auto migrations_before = backend_->AppliedMigrations();
  ASSERT_TRUE(IsOk(migrations_before));
  ASSERT_FALSE(migrations_before->empty());
  // Each migration is recorded exactly once, in order.
  for (size_t i = 0; i < migrations_before->size(); ++i) {
    EXPECT_EQ((*migrations_before)[i], static_cast<int64_t>(i + 1));
  }

  std::string exp = CreateExperiment("durable", {{"k", "v"}});
  std::string id = CreateRun(exp, "kept");
  ASSERT_TRUE(IsOk(store().LogBatch(id, {M("loss", 0.25, kNow, 4)}, {{"p", "1"}}, {{"t", "2"}})));
  LoggedModel model = MakeModel(exp, "kept-model", kNow);
  ASSERT_TRUE(IsOk(store().CreateLoggedModel(model)));

  Reopen();
  ASSERT_NE(store_, nullptr);

  auto migrations_after = backend_->AppliedMigrations();
  ASSERT_TRUE(IsOk(migrations_after));
  EXPECT_EQ(*migrations_after, *migrations_before);

  auto e = store().GetExperiment(exp);
  ASSERT_TRUE(IsOk(e));
  EXPECT_EQ(e->name, "durable");
  EXPECT_EQ(TagValue(e->tags, "k"), "v");
  store::Run run = GetRunOrDie(id);
  EXPECT_EQ(run.info.run_name, "kept");
  EXPECT_EQ(TagValue(run.params, "p"), "1");
  EXPECT_EQ(TagValue(run.tags, "t"), "2");
  ASSERT_NE(FindMetric(run.metrics, "loss"), nullptr);
  EXPECT_EQ(FindMetric(run.metrics, "loss")->value, 0.25);
  EXPECT_TRUE(IsOk(store().GetLoggedModel(model.model_id)));

  // Still exactly one Default experiment, and new ids continue after the old ones.
  ExperimentSearch all;
  all.view_type = ViewType::kAll;
  auto page = store().SearchExperiments(all);
  ASSERT_TRUE(IsOk(page));
  EXPECT_THAT(ExperimentNames(page->experiments), UnorderedElementsAre("Default", "durable"));
  std::string next = CreateExperiment("after-reopen");
  EXPECT_NE(next, exp);
  EXPECT_NE(next, "0");
}

TEST_P(MetadataStoreTest, WritesAfterReopenWork) {
  std::string exp = CreateExperiment("reopen-writes");
  std::string id = CreateRun(exp, "r");
  ASSERT_TRUE(IsOk(store().LogBatch(id, {M("m", 1, kNow, 0)}, {{"p", "1"}}, {})));
  Reopen();
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(IsOk(store().LogBatch(id, {M("m", 2, kNow + 1, 1)}, {{"p", "1"}}, {})));
  EXPECT_EQ(CodeOf(store().LogBatch(id, {}, {{"p", "2"}}, {})), StatusCode::kInvalidArgument);
  EXPECT_EQ(History(id, "m").size(), 2u);
  Experiment dup;
  dup.name = "reopen-writes";
  EXPECT_EQ(CodeOf(store().CreateExperiment(dup, "mlflow-artifacts:")), StatusCode::kAlreadyExists);
}

// ------------------------------------------------------------------ permanent deletion (gc)

std::vector<std::string> RunIds(const std::vector<RunInfo>& infos) {
  std::vector<std::string> out;
  for (const RunInfo& i : infos) out.push_back(i.run_id);
  return out;
}

TEST_P(MetadataStoreTest, ListDeletedRunsByDeletionTime) {
  std::string exp = CreateExperiment("gc-list");
  CreateRun(exp, "active");
  std::string old_run = CreateRun(exp, "old");
  std::string young = CreateRun(exp, "young");
  ASSERT_TRUE(IsOk(store().SetRunLifecycle(young, LifecycleStage::kDeleted, kNow + 20)));
  ASSERT_TRUE(IsOk(store().SetRunLifecycle(old_run, LifecycleStage::kDeleted, kNow + 10)));

  auto all = store().ListDeletedRuns(std::nullopt);
  ASSERT_TRUE(IsOk(all));
  EXPECT_THAT(RunIds(*all), ElementsAre(old_run, young));  // oldest deletion first
  EXPECT_EQ((*all)[0].experiment_id, exp);
  EXPECT_EQ((*all)[0].artifact_uri, "mlflow-artifacts:/" + exp + "/" + old_run + "/artifacts");
  EXPECT_EQ((*all)[0].lifecycle_stage, LifecycleStage::kDeleted);
  auto before = store().ListDeletedRuns(kNow + 20);  // strictly before
  ASSERT_TRUE(IsOk(before));
  EXPECT_THAT(RunIds(*before), ElementsAre(old_run));
  auto none = store().ListDeletedRuns(kNow + 10);
  ASSERT_TRUE(IsOk(none));
  EXPECT_THAT(*none, IsEmpty());

  // A restored run is no longer garbage.
  ASSERT_TRUE(IsOk(store().SetRunLifecycle(old_run, LifecycleStage::kActive, kNow + 30)));
  all = store().ListDeletedRuns(std::nullopt);
  ASSERT_TRUE(IsOk(all));
  EXPECT_THAT(RunIds(*all), ElementsAre(young));
}

TEST_P(MetadataStoreTest, ListDeletedExperimentsByLastUpdate) {
  std::string a = CreateExperiment("gc-a");
  std::string b = CreateExperiment("gc-b");
  CreateExperiment("gc-active");
  ASSERT_TRUE(IsOk(store().SetExperimentLifecycle(a, LifecycleStage::kDeleted, kNow + 10)));
  ASSERT_TRUE(IsOk(store().SetExperimentLifecycle(b, LifecycleStage::kDeleted, kNow + 20)));
  auto all = store().ListDeletedExperiments(std::nullopt);
  ASSERT_TRUE(IsOk(all));
  EXPECT_THAT(ExperimentNames(*all), ElementsAre("gc-a", "gc-b"));
  auto before = store().ListDeletedExperiments(kNow + 20);
  ASSERT_TRUE(IsOk(before));
  EXPECT_THAT(ExperimentNames(*before), ElementsAre("gc-a"));
}

TEST_P(MetadataStoreTest, ListExperimentContentsInEveryStage) {
  std::string exp = CreateExperiment("gc-contents");
  std::string live = CreateRun(exp, "live");
  std::string gone = CreateRun(exp, "gone");
  ASSERT_TRUE(IsOk(store().SetRunLifecycle(gone, LifecycleStage::kDeleted, kNow)));
  LoggedModel kept = MakeModel(exp, "kept", kNow);
  LoggedModel dropped = MakeModel(exp, "dropped", kNow);
  ASSERT_TRUE(IsOk(store().CreateLoggedModel(kept)));
  ASSERT_TRUE(IsOk(store().CreateLoggedModel(dropped)));
  ASSERT_TRUE(IsOk(store().DeleteLoggedModel(dropped.model_id, kNow)));

  auto contents = store().ListExperimentContents(exp);
  ASSERT_TRUE(IsOk(contents));
  EXPECT_THAT(RunIds(contents->runs), UnorderedElementsAre(live, gone));
  std::vector<std::string> models;
  for (const LoggedModel& m : contents->models) models.push_back(m.model_id);
  EXPECT_THAT(models, UnorderedElementsAre(kept.model_id, dropped.model_id));
  EXPECT_EQ(contents->models[0].artifact_uri.rfind("mlflow-artifacts:/", 0), 0u);
  EXPECT_EQ(CodeOf(store().ListExperimentContents("424242")), StatusCode::kNotFound);
}

TEST_P(MetadataStoreTest, PurgeRunRemovesThatRunOnly) {
  std::string exp = CreateExperiment("gc-purge-run");
  DatasetInput input;
  input.dataset = {"iris", "d1", "local", "/iris.csv", "", ""};
  input.tags = {{"mlflow.data.context", "training"}};
  auto fill = [&](const std::string& id) {
    ASSERT_TRUE(IsOk(store().LogBatch(id, {M("m", 1, kNow, 0), M("m", 2, kNow + 1, 1)},
                                      {{"p", "1"}}, {{"t", "x"}})));
    ASSERT_TRUE(IsOk(store().LogInputs(id, {input}, {ModelIo{"m-in", std::nullopt}})));
    ASSERT_TRUE(IsOk(store().LogOutputs(id, {ModelIo{"m-out", 3}})));
  };
  std::string victim = CreateRun(exp, "victim");
  std::string neighbour = CreateRun(exp, "neighbour");
  fill(victim);
  fill(neighbour);

  EXPECT_EQ(CodeOf(store().PurgeRun(victim)), StatusCode::kFailedPrecondition);  // active
  EXPECT_TRUE(IsOk(store().GetRun(victim)));
  ASSERT_TRUE(IsOk(store().SetRunLifecycle(victim, LifecycleStage::kDeleted, kNow)));
  ASSERT_TRUE(IsOk(store().PurgeRun(victim)));

  EXPECT_EQ(CodeOf(store().GetRun(victim)), StatusCode::kNotFound);
  EXPECT_THAT(History(victim, "m"), IsEmpty());
  auto deleted = store().ListDeletedRuns(std::nullopt);
  ASSERT_TRUE(IsOk(deleted));
  EXPECT_THAT(*deleted, IsEmpty());
  EXPECT_EQ(CodeOf(store().PurgeRun(victim)), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().PurgeRun("no-such-run")), StatusCode::kNotFound);

  // The neighbour keeps everything, the shared dataset included.
  store::Run n = GetRunOrDie(neighbour);
  EXPECT_EQ(TagValue(n.params, "p"), "1");
  EXPECT_EQ(TagValue(n.tags, "t"), "x");
  EXPECT_EQ(History(neighbour, "m").size(), 2u);
  ASSERT_EQ(n.dataset_inputs.size(), 1u);
  EXPECT_EQ(n.dataset_inputs[0].dataset.name, "iris");
  EXPECT_EQ(n.model_outputs.size(), 1u);
  EXPECT_THAT(RunNames(Search({exp}, {}, {}, ViewType::kAll).runs), ElementsAre("neighbour"));
}

TEST_P(MetadataStoreTest, PurgeExperimentRemovesEverythingInIt) {
  std::string exp = CreateExperiment("gc-purge-exp", {{"team", "a"}});
  std::string other = CreateExperiment("gc-other");
  std::string r1 = CreateRun(exp, "r1");
  std::string r2 = CreateRun(exp, "r2");
  std::string survivor = CreateRun(other, "survivor");
  DatasetInput input;
  input.dataset = {"iris", "d1", "local", "/iris.csv", "", ""};
  for (const std::string& id : {r1, r2, survivor}) {
    ASSERT_TRUE(IsOk(store().LogBatch(id, {M("m", 1, kNow, 0)}, {{"p", "1"}}, {})));
    ASSERT_TRUE(IsOk(store().LogInputs(id, {input}, {})));
  }
  LoggedModel model = MakeModel(exp, "model", kNow);
  model.tags = {{"k", "v"}};
  model.params = {{"alpha", "1"}};
  ASSERT_TRUE(IsOk(store().CreateLoggedModel(model)));

  EXPECT_EQ(CodeOf(store().PurgeExperiment(exp)), StatusCode::kFailedPrecondition);  // active
  EXPECT_EQ(CodeOf(store().PurgeExperiment("0")), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CodeOf(store().PurgeExperiment("424242")), StatusCode::kNotFound);
  ASSERT_TRUE(IsOk(store().SetExperimentLifecycle(exp, LifecycleStage::kDeleted, kNow + 5)));
  // A run restored inside the deleted experiment holds it back.
  ASSERT_TRUE(IsOk(store().SetRunLifecycle(r1, LifecycleStage::kActive, kNow + 6)));
  Status held = store().PurgeExperiment(exp);
  EXPECT_EQ(held.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(held.message(), ::testing::HasSubstr(r1));
  ASSERT_TRUE(IsOk(store().SetRunLifecycle(r1, LifecycleStage::kDeleted, kNow + 7)));

  ASSERT_TRUE(IsOk(store().PurgeExperiment(exp)));
  EXPECT_EQ(CodeOf(store().GetExperiment(exp)), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().GetRun(r1)), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().GetRun(r2)), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().GetLoggedModel(model.model_id)), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().PurgeExperiment(exp)), StatusCode::kNotFound);
  // Its name is free again, as after MLflow's permanent deletion.
  std::string again = CreateExperiment("gc-purge-exp");
  EXPECT_NE(again, exp);

  store::Run s = GetRunOrDie(survivor);
  EXPECT_EQ(TagValue(s.params, "p"), "1");
  ASSERT_EQ(s.dataset_inputs.size(), 1u);
  EXPECT_EQ(History(survivor, "m").size(), 1u);
}

// ------------------------------------------------------------------ backends under test

std::string BackendName(const ::testing::TestParamInfo<BackendFactory>& info) {
  return info.param.name;
}

const BackendFactory kBackends[] = {
    {"sqlite", [] { return std::make_unique<SqliteBackend>(); }},
    {"postgres", [] { return PostgresBackend::MakeIfConfigured(); }},
};

INSTANTIATE_TEST_SUITE_P(Backends, MetadataStoreTest, ::testing::ValuesIn(kBackends), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, SearchRunsTest, ::testing::ValuesIn(kBackends), BackendName);

}  // namespace
}  // namespace store
}  // namespace plinth
