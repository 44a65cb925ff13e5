// Tests of `plinth db export`/`import` (dump.h): exact round trips between every pair of
// backends (SQLite and, when PLINTH_TEST_PG_DSN is set, PostgreSQL), the values that are easy
// to lose (NaN, infinities, DBL_MAX, int64 extremes, unicode, NULL vs ""), thousands of rows,
// and the refusals (non-empty target, schema mismatch, truncated or altered dumps).
#include "store/dump.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>

#include "core/log.h"
#include "store/direct_db.h"
#include "store/metadata_store.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "store/test_databases.h"

namespace plinth::store {
namespace {

using ::testing::HasSubstr;
using testing::MakeTestDatabase;
using testing::TestDatabase;

constexpr int64_t kNow = 1700000000000;
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
const char* const kUnicode = "données ☃ 日本語 🚀 \"quoted\" back\\slash tab\t newline\n";

::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString();
}
template <typename T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  return IsOk(r.status());
}

Metric M(std::string key, double value, int64_t timestamp, int64_t step) {
  Metric m;
  m.key = std::move(key);
  m.value = value;
  m.timestamp = timestamp;
  m.step = step;
  return m;
}

Result<std::unique_ptr<MetadataStore>> Open(const TestDatabase& db) {
  StoreOpenOptions options;
  options.pool_size = 2;
  return OpenStoreFromUri(db.uri(), options, kNow);
}

Result<std::string> Export(const TestDatabase& db, DumpSummary* summary = nullptr) {
  std::ostringstream out;
  PLINTH_ASSIGN_OR_RETURN(DumpSummary s, ExportStore(db.uri(), out, "test"));
  if (summary != nullptr) *summary = s;
  return out.str();
}

Result<DumpSummary> Import(const TestDatabase& db, const std::string& dump) {
  std::istringstream in(dump);
  return ImportStore(db.uri(), in, kNow);
}

int64_t RowsOf(const DumpSummary& summary, const std::string& table) {
  for (const auto& [name, rows] : summary.rows) {
    if (name == table) return rows;
  }
  return -1;
}

// Raw SQL against the database, below the store (rows the API cannot write).
Status Execute(const TestDatabase& db, const std::string& sql) {
  PLINTH_ASSIGN_OR_RETURN(auto direct, DirectDb::Open(db.uri(), false));
  return direct->Execute(sql);
}

struct Populated {
  std::string experiment_id;
  std::string edge_run;  // the run holding the hard values
  std::string bulk_run;  // 6000 metric points
  std::string model_id;
};

// Fills a store with a little of everything, including the values dumps tend to lose.
Populated Populate(const TestDatabase& db) {
  Populated p;
  auto opened = Open(db);
  EXPECT_TRUE(IsOk(opened));
  if (!opened.ok()) return p;
  MetadataStore& store = **opened;

  Experiment e;
  e.name = kUnicode;
  e.creation_time = kNow;
  e.tags = {{"empty", ""}, {"unicode", kUnicode}};
  auto id = store.CreateExperiment(e, "mlflow-artifacts:");
  EXPECT_TRUE(IsOk(id));
  p.experiment_id = id.ok() ? *id : "";
  Experiment gone;
  gone.name = "deleted experiment";
  gone.creation_time = kNow;
  auto gone_id = store.CreateExperiment(gone, "s3://bucket/prefix");
  EXPECT_TRUE(IsOk(gone_id));

  auto make_run = [&](const std::string& name, int64_t start) {
    store::Run run;
    run.info.run_id = NewRunId();
    run.info.run_name = name;
    run.info.experiment_id = p.experiment_id;
    run.info.user_id = kUnicode;
    run.info.start_time = start;
    run.info.artifact_uri = "mlflow-artifacts:/" + p.experiment_id + "/" + run.info.run_id;
    run.tags = {{"mlflow.runName", name}};
    run.params = {{"empty", ""}, {"unicode", kUnicode}};
    EXPECT_TRUE(IsOk(store.CreateRun(run)));
    return run.info.run_id;
  };
  p.edge_run = make_run("edges", kMin);
  p.bulk_run = make_run("bulk", kNow);
  std::string finished = make_run("finished", kNow + 1);

  const double kDenormal = std::numeric_limits<double>::denorm_min();
  EXPECT_TRUE(IsOk(store.LogBatch(
      p.edge_run,
      {M("nan", std::nan(""), kNow, 0), M("inf", HUGE_VAL, kNow, 0), M("-inf", -HUGE_VAL, kNow, 0),
       M("max", DBL_MAX, kNow, 0), M("lowest", -DBL_MAX, kNow, 0), M("min", DBL_MIN, kNow, 0),
       M("denormal", kDenormal, kNow, 0), M("third", 1.0 / 3.0, kNow, 0), M("tenth", 0.1, kNow, 0),
       M("steps", 1.5, kMax, kMin), M("steps", 2.5, kMin, kMax), M(kUnicode, 1e300, kNow, 1)},
      {}, {{"unicode", kUnicode}, {"empty", ""}})));
  for (int batch = 0; batch < 6; ++batch) {
    std::vector<Metric> points;
    for (int i = 0; i < 1000; ++i) {
      int step = batch * 1000 + i;
      points.push_back(M("loss", 1.0 / (step + 1), kNow + step, step));
    }
    EXPECT_TRUE(IsOk(store.LogBatch(p.bulk_run, points, {}, {})));
  }
  EXPECT_TRUE(IsOk(store.UpdateRun(finished, RunUpdate{RunStatus::kFinished, kMax, std::nullopt})));
  EXPECT_TRUE(IsOk(store.SetRunLifecycle(finished, LifecycleStage::kDeleted, kNow + 5)));

  DatasetInput input;
  input.dataset = {"iris", "d1g35t", "local", R"({"uri":"/data/iris.csv"})", "", kUnicode};
  input.tags = {{"mlflow.data.context", "training"}};
  EXPECT_TRUE(IsOk(store.LogInputs(p.edge_run, {input}, {ModelIo{"m-in", std::nullopt}})));
  EXPECT_TRUE(IsOk(store.LogOutputs(p.edge_run, {ModelIo{"m-out", kMax}})));

  LoggedModel model;
  model.model_id = NewLoggedModelId();
  p.model_id = model.model_id;
  model.experiment_id = p.experiment_id;
  model.name = kUnicode;
  model.artifact_uri = "mlflow-artifacts:/" + p.experiment_id + "/models/" + model.model_id;
  model.source_run_id = p.edge_run;
  model.creation_timestamp_ms = kNow;
  model.last_updated_timestamp_ms = kNow;
  model.tags = {{"t", kUnicode}};
  model.params = {{"p", ""}};
  EXPECT_TRUE(IsOk(store.CreateLoggedModel(model)));
  EXPECT_TRUE(IsOk(store.SetExperimentLifecycle(*gone_id, LifecycleStage::kDeleted, kNow + 7)));

  // The registry: a model with tags and three versions (the last deleted, so the model's
  // version counter runs ahead of its rows), a version tag, an alias moved twice.
  RegistryStore& registry = store.registry();
  RegisteredModel registered;
  registered.name = kUnicode;
  registered.creation_timestamp = kMin;
  registered.last_updated_timestamp = kMax;
  registered.tags = {{"t", kUnicode}, {"empty", ""}};
  EXPECT_TRUE(IsOk(registry.CreateRegisteredModel(registered)));
  for (int i = 0; i < 3; ++i) {
    ModelVersion v;
    v.name = kUnicode;
    v.source = "models:/" + model.model_id;
    v.storage_location = model.artifact_uri;
    v.run_id = p.edge_run;
    v.model_id = model.model_id;
    v.creation_timestamp = kNow + i;
    v.last_updated_timestamp = kNow + i;
    if (i == 0) v.description = "";  // next to NULL descriptions
    EXPECT_TRUE(IsOk(registry.CreateModelVersion(v)));
  }
  EXPECT_TRUE(IsOk(registry.SetModelVersionTag(kUnicode, 2, {"k", kUnicode})));
  AliasChange change;
  change.user_id = kUnicode;
  change.timestamp = kMax;
  EXPECT_TRUE(IsOk(registry.SetRegisteredModelAlias(kUnicode, "prod", 1, change)));
  EXPECT_TRUE(IsOk(registry.SetRegisteredModelAlias(kUnicode, "prod", 2, change)));
  EXPECT_TRUE(IsOk(registry.DeleteModelVersion(kUnicode, 3, change)));
  opened->reset();  // a clean stop, as before a real export

  // Below the API: "" next to NULL in nullable text columns, int64 extremes in every kind of
  // integer column.
  EXPECT_TRUE(IsOk(Execute(db, "UPDATE datasets SET schema = '', profile = NULL")));
  EXPECT_TRUE(IsOk(Execute(db, "UPDATE logged_models SET status_message = '', model_type = NULL")));
  EXPECT_TRUE(IsOk(Execute(db, "UPDATE experiments SET creation_time = " + std::to_string(kMin) +
                                   ", last_update_time = " + std::to_string(kMax) +
                                   " WHERE experiment_id = " + p.experiment_id)));
  return p;
}

// ------------------------------------------------------------------ round trips

struct Pair {
  std::string source;
  std::string target;
};
void PrintTo(const Pair& pair, std::ostream* os) { *os << pair.source << " to " << pair.target; }

class DumpRoundTripTest : public ::testing::TestWithParam<Pair> {
 protected:
  void SetUp() override {
    (void)SetLogLevel("warn");
    source_ = MakeTestDatabase(GetParam().source);
    target_ = MakeTestDatabase(GetParam().target);
    if (!source_ || !target_) GTEST_SKIP() << testing::kNoPostgres;
  }
  std::unique_ptr<TestDatabase> source_;
  std::unique_ptr<TestDatabase> target_;
};

// The acceptance test of the export/import pair: export, import elsewhere, export again, and
// the two dumps are the same bytes.
TEST_P(DumpRoundTripTest, ExportImportExportIsByteIdentical) {
  Populated p = Populate(*source_);
  DumpSummary first_summary;
  auto first = Export(*source_, &first_summary);
  ASSERT_TRUE(IsOk(first));
  EXPECT_EQ(RowsOf(first_summary, "metrics"), 6000 + 12);
  EXPECT_EQ(RowsOf(first_summary, "runs"), 3);
  EXPECT_EQ(RowsOf(first_summary, "experiments"), 3);
  EXPECT_EQ(first_summary.bytes, static_cast<int64_t>(first->size()));

  auto imported = Import(*target_, *first);
  ASSERT_TRUE(IsOk(imported));
  EXPECT_EQ(imported->total_rows, first_summary.total_rows);
  EXPECT_EQ(imported->rows, first_summary.rows);

  DumpSummary second_summary;
  auto second = Export(*target_, &second_summary);
  ASSERT_TRUE(IsOk(second));
  EXPECT_EQ(second_summary.sha256, first_summary.sha256);
  ASSERT_EQ(*second, *first);  // byte for byte

  // And the store reads back what was logged.
  auto opened = Open(*target_);
  ASSERT_TRUE(IsOk(opened));
  MetadataStore& store = **opened;
  auto run = store.GetRun(p.edge_run);
  ASSERT_TRUE(IsOk(run));
  EXPECT_EQ(run->info.user_id, kUnicode);
  EXPECT_EQ(run->info.start_time, kMin);
  auto latest = [&](const std::string& key) {
    for (const Metric& m : run->metrics) {
      if (m.key == key) return m.value;
    }
    return -1.0;
  };
  EXPECT_TRUE(std::isnan(latest("nan")));
  EXPECT_EQ(latest("inf"), DBL_MAX);  // MLflow's SQL store clamps infinities
  EXPECT_EQ(latest("-inf"), -DBL_MAX);
  EXPECT_EQ(latest("max"), DBL_MAX);
  EXPECT_EQ(latest("min"), DBL_MIN);
  EXPECT_EQ(latest("denormal"), std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(latest("third"), 1.0 / 3.0);
  EXPECT_EQ(latest(kUnicode), 1e300);
  auto steps = store.GetMetricHistory(p.edge_run, "steps", 10, 0);
  ASSERT_TRUE(IsOk(steps));
  ASSERT_EQ(steps->metrics.size(), 2u);
  EXPECT_EQ(steps->metrics[0].timestamp, kMin);
  EXPECT_EQ(steps->metrics[0].step, kMax);
  EXPECT_EQ(steps->metrics[1].timestamp, kMax);
  EXPECT_EQ(steps->metrics[1].step, kMin);
  auto bulk = store.GetMetricHistory(p.bulk_run, "loss", 100000, 0);
  ASSERT_TRUE(IsOk(bulk));
  EXPECT_EQ(bulk->metrics.size(), 6000u);
  ASSERT_EQ(run->dataset_inputs.size(), 1u);
  EXPECT_EQ(run->dataset_inputs[0].dataset.profile, "");
  ASSERT_EQ(run->model_outputs.size(), 1u);
  EXPECT_EQ(run->model_outputs[0].step, kMax);
  auto model = store.GetLoggedModel(p.model_id);
  ASSERT_TRUE(IsOk(model));
  EXPECT_EQ(model->name, kUnicode);
  auto experiment = store.GetExperiment(p.experiment_id);
  ASSERT_TRUE(IsOk(experiment));
  EXPECT_EQ(experiment->name, kUnicode);
  EXPECT_EQ(experiment->creation_time, kMin);

  // New ids continue after the imported ones (PostgreSQL's sequences were moved).
  Experiment fresh;
  fresh.name = "after import";
  auto fresh_id = store.CreateExperiment(fresh, "mlflow-artifacts:");
  ASSERT_TRUE(IsOk(fresh_id));
  EXPECT_GT(std::stoll(*fresh_id), std::stoll(p.experiment_id));
  store::Run run2;
  run2.info.run_id = NewRunId();
  run2.info.experiment_id = *fresh_id;
  run2.info.artifact_uri = "mlflow-artifacts:/x";
  EXPECT_TRUE(IsOk(store.CreateRun(run2)));
  EXPECT_TRUE(IsOk(store.LogBatch(run2.info.run_id, {M("m", 1, kNow, 0)}, {}, {})));

  // The registry came across whole: aliases, tags, the version counter, the history.
  RegistryStore& registry = store.registry();
  auto registered = registry.GetRegisteredModel(kUnicode);
  ASSERT_TRUE(IsOk(registered));
  EXPECT_EQ(registered->creation_timestamp, kMin);
  ASSERT_EQ(registered->aliases.size(), 1u);
  EXPECT_EQ(registered->aliases[0].version, 2);
  auto version = registry.GetModelVersion(kUnicode, 2);
  ASSERT_TRUE(IsOk(version));
  ASSERT_EQ(version->tags.size(), 1u);
  EXPECT_EQ(version->tags[0].value, kUnicode);
  EXPECT_FALSE(version->description.has_value());
  EXPECT_EQ(registry.GetModelVersion(kUnicode, 1)->description, "");
  auto history = registry.ListAliasHistory(kUnicode, "prod");
  ASSERT_TRUE(IsOk(history));
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].user_id, kUnicode);
  ModelVersion next;
  next.name = kUnicode;
  next.source = "s3://b/m";
  auto created = registry.CreateModelVersion(next);
  ASSERT_TRUE(IsOk(created));
  EXPECT_EQ(created->version, 4);  // 3 was deleted before the export and stays retired
  AliasChange change;
  EXPECT_TRUE(IsOk(registry.SetRegisteredModelAlias(kUnicode, "prod", 4, change)));
  RegisteredModel another;
  another.name = "after import";
  EXPECT_TRUE(IsOk(registry.CreateRegisteredModel(another)));
  EXPECT_EQ(registry.ListAliasHistory(kUnicode, "prod")->size(), 3u);
}

// NULL and "" stay distinct; a dump keeps them apart in JSON (null vs "").
TEST_P(DumpRoundTripTest, NullAndEmptyTextStayDistinct) {
  Populate(*source_);
  auto dump = Export(*source_);
  ASSERT_TRUE(IsOk(dump));
  EXPECT_THAT(*dump, HasSubstr(R"("local","{\"uri\":\"/data/iris.csv\"}","",null])"));
  ASSERT_TRUE(IsOk(Import(*target_, *dump)));
  auto again = Export(*target_);
  ASSERT_TRUE(IsOk(again));
  EXPECT_THAT(*again, HasSubstr(R"("local","{\"uri\":\"/data/iris.csv\"}","",null])"));
}

std::vector<Pair> AllPairs() {
  return {{"sqlite", "sqlite"},
          {"sqlite", "postgres"},
          {"postgres", "sqlite"},
          {"postgres", "postgres"}};
}

std::string PairName(const ::testing::TestParamInfo<Pair>& info) {
  return info.param.source + "_to_" + info.param.target;
}

INSTANTIATE_TEST_SUITE_P(Backends, DumpRoundTripTest, ::testing::ValuesIn(AllPairs()), PairName);

// ------------------------------------------------------------------ one backend at a time

class DumpTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    (void)SetLogLevel("warn");
    db_ = MakeTestDatabase(GetParam());
    if (!db_) GTEST_SKIP() << testing::kNoPostgres;
  }
  std::unique_ptr<TestDatabase> db_;
};

// A small store's dump, for the tests that damage it.
std::string SmallDump(const TestDatabase& db) {
  auto opened = Open(db);
  EXPECT_TRUE(IsOk(opened));
  if (!opened.ok()) return "";
  Experiment e;
  e.name = "small";
  auto id = (*opened)->CreateExperiment(e, "mlflow-artifacts:");
  EXPECT_TRUE(IsOk(id));
  store::Run run;
  run.info.run_id = NewRunId();
  run.info.run_name = "edges";
  run.info.experiment_id = id.ok() ? *id : "0";
  run.info.artifact_uri = "mlflow-artifacts:/r";
  EXPECT_TRUE(IsOk((*opened)->CreateRun(run)));
  EXPECT_TRUE(IsOk((*opened)->LogBatch(run.info.run_id, {M("m", 0.5, kNow, 1)}, {}, {})));
  opened->reset();
  auto dump = Export(db);
  EXPECT_TRUE(IsOk(dump));
  return dump.ok() ? *dump : "";
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST_P(DumpTest, ImportRefusesAStoreThatIsNotEmpty) {
  std::string dump = SmallDump(*db_);  // db_ now holds an experiment and a run
  auto refused = Import(*db_, dump);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("not empty"));
  EXPECT_THAT(refused.status().message(), HasSubstr("runs"));

  // A run in the Default experiment is data too.
  auto other = MakeTestDatabase(GetParam());
  {
    auto opened = Open(*other);
    ASSERT_TRUE(IsOk(opened));
    store::Run run;
    run.info.run_id = NewRunId();
    run.info.experiment_id = "0";
    run.info.artifact_uri = "mlflow-artifacts:/0/x";
    ASSERT_TRUE(IsOk((*opened)->CreateRun(run)));
  }
  EXPECT_EQ(Import(*other, dump).status().code(), StatusCode::kFailedPrecondition);
}

TEST_P(DumpTest, ImportRefusesOtherSchemaVersions) {
  std::string dump;
  {
    testing::SqliteTestDatabase source;
    dump = SmallDump(source);
  }
  const std::string current = "\"schema_version\":" + std::to_string(LatestSchemaVersion());
  auto newer = Import(*db_, Replace(dump, current, "\"schema_version\":999"));
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(newer.status().message(), HasSubstr("newer than this plinth"));
  auto older = Import(*db_, Replace(dump, current, "\"schema_version\":0"));
  EXPECT_EQ(older.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(older.status().message(), HasSubstr("plinth db migrate"));

  // A target whose schema is newer than this binary is refused by the store itself.
  ASSERT_TRUE(IsOk(Open(*db_)));
  ASSERT_TRUE(IsOk(Execute(*db_, "INSERT INTO schema_version (version) VALUES (999)")));
  auto target_newer = Import(*db_, dump);
  EXPECT_EQ(target_newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(target_newer.status().message(), HasSubstr("newer"));
}

TEST_P(DumpTest, DamagedDumpsAreRefusedAndLeaveTheStoreEmpty) {
  std::string dump;
  {
    testing::SqliteTestDatabase source;
    dump = SmallDump(source);
  }
  ASSERT_FALSE(dump.empty());
  std::string without_end = dump.substr(0, dump.rfind("{\"end\""));
  struct Case {
    std::string name;
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"empty", "", "empty"},
      {"not a dump", "hello\n", "not a plinth dump"},
      {"truncated before the end line", without_end, "truncated"},
      {"truncated mid-table", dump.substr(0, dump.find("{\"table\":\"params\"")), "truncated"},
      {"a row altered", Replace(dump, "\"edges\"", "\"edgez\""), "checksum mismatch"},
      {"a row lost", Replace(dump, "[1,\"m\",1,1700000000000,0.5,0,null,null,null]\n", ""),
       "counts a different number"},
      {"more after the end", dump + "[1]\n", "more after the end"},
      {"a text cell holding a number", Replace(dump, "\"edges\"", "7"), "holds text"},
      {"an integer out of range", Replace(dump, "1700000000000,0.5", "9223372036854775808,0.5"),
       "not a 64-bit integer"},
      {"a row too short", Replace(dump, ",0.5,0,null,null,null]", ",0.5,0,null,null]"),
       "has 8 values, not 9"},
      {"tables out of order", Replace(dump, "{\"table\":\"params\"", "{\"table\":\"tags\""),
       "expected table params"},
  };
  for (const Case& c : cases) {
    auto result = Import(*db_, c.text);
    EXPECT_FALSE(result.ok()) << c.name;
    EXPECT_THAT(result.status().message(), HasSubstr(c.message)) << c.name;
  }
  // Nothing of the failed attempts stayed behind: the intact dump still imports.
  auto imported = Import(*db_, dump);
  ASSERT_TRUE(IsOk(imported));
  EXPECT_EQ(RowsOf(*imported, "runs"), 1);
  auto again = Export(*db_);
  ASSERT_TRUE(IsOk(again));
  EXPECT_EQ(*again, dump);
}

// Values the store never writes but a database can hold (infinities, and NaN on PostgreSQL)
// survive a round trip through the dump too.
TEST_P(DumpTest, RawInfinitiesAndNanRoundTrip) {
  SmallDump(*db_);
  const bool postgres = GetParam() == "postgres";
  ASSERT_TRUE(IsOk(Execute(
      *db_, std::string("UPDATE metrics SET value = ") + (postgres ? "'-Infinity'" : "-9e999"))));
  ASSERT_TRUE(IsOk(Execute(
      *db_, std::string("UPDATE latest_metrics SET value = ") + (postgres ? "'NaN'" : "9e999"))));
  auto dump = Export(*db_);
  ASSERT_TRUE(IsOk(dump));
  EXPECT_THAT(*dump, HasSubstr(",\"-Infinity\","));
  EXPECT_THAT(*dump, HasSubstr(postgres ? ",\"NaN\"," : ",\"Infinity\","));
  auto target = MakeTestDatabase(GetParam());
  ASSERT_TRUE(IsOk(Import(*target, *dump)));
  auto again = Export(*target);
  ASSERT_TRUE(IsOk(again));
  EXPECT_EQ(*again, *dump);
}

INSTANTIATE_TEST_SUITE_P(Backends, DumpTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// A PostgreSQL database whose default collation is linguistic (ICU en-US sorts "a" before "B"
// before "é" before "Z") still exports text in byte order, as SQLite does.
TEST(DumpPostgresTest, LinguisticCollationStillExportsInByteOrder) {
  (void)SetLogLevel("warn");
  const char* dsn = getenv("PLINTH_TEST_PG_DSN");
  if (dsn == nullptr || *dsn == '\0') GTEST_SKIP() << testing::kNoPostgres;
  testing::PostgresTestDatabase icu(
      dsn, "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'");
  if (!icu.created().ok()) {
    GTEST_SKIP() << "this PostgreSQL cannot create an ICU database: " << icu.created().message();
  }
  testing::SqliteTestDatabase source;
  {
    auto opened = Open(source);
    ASSERT_TRUE(IsOk(opened));
    store::Run run;
    run.info.run_id = NewRunId();
    run.info.experiment_id = "0";
    run.info.artifact_uri = "mlflow-artifacts:/0/r";
    run.params = {{"a", "1"}, {"B", "2"}, {"\xc3\xa9", "3"}, {"Z", "4"}, {"_x", "5"}, {"a b", "6"}};
    ASSERT_TRUE(IsOk((*opened)->CreateRun(run)));
  }
  auto first = Export(source);
  ASSERT_TRUE(IsOk(first));
  // Byte order: "B" < "Z" < "_x" < "a" < "a b" < "é".
  EXPECT_LT(first->find("\"B\""), first->find("\"_x\""));
  EXPECT_LT(first->find("\"a b\""), first->find("\"\xc3\xa9\""));
  ASSERT_TRUE(IsOk(Import(icu, *first)));
  auto second = Export(icu);
  ASSERT_TRUE(IsOk(second));
  EXPECT_EQ(*second, *first);
}

// ------------------------------------------------------------------ SQLite specifics

// Points still staged (not yet merged by the store) are exported inside `metrics`, exactly as
// the merge would fold them in: once, and not at all when `metrics` has the point already.
TEST(DumpSqliteTest, StagedMetricPointsAreExportedMergedOnce) {
  testing::SqliteTestDatabase db;
  SmallDump(db);  // one point in metrics: run 1, "m", step 1, kNow, 0.5
  const std::string columns =
      "INSERT INTO metrics_staging (run_key, key, step, timestamp, value, is_nan) VALUES ";
  ASSERT_TRUE(IsOk(Execute(db, columns + "(1, 'm', 1, 1700000000000, 0.5, 0)")));  // merged
  ASSERT_TRUE(IsOk(Execute(db, columns + "(1, 'm', 2, 1700000000001, 0.25, 0)")));
  ASSERT_TRUE(IsOk(Execute(db, columns + "(1, 'm', 2, 1700000000001, 0.25, 0)")));  // twice
  DumpSummary summary;
  auto dump = Export(db, &summary);
  ASSERT_TRUE(IsOk(dump));
  EXPECT_EQ(RowsOf(summary, "metrics"), 2);
  EXPECT_EQ(RowsOf(summary, "metrics_staging"), 0);

  // Exactly what the store's own merge makes of it.
  { ASSERT_TRUE(IsOk(Open(db))); }  // a clean stop merges everything staged
  auto merged = Export(db);
  ASSERT_TRUE(IsOk(merged));
  EXPECT_EQ(*merged, *dump);
}

TEST(DumpSqliteTest, ExportNeedsAnExistingStore) {
  testing::SqliteTestDatabase db;
  auto missing = Export(db);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(IsOk(Execute(db, "CREATE TABLE unrelated (x INTEGER)")));
  auto no_schema = Export(db);
  EXPECT_EQ(no_schema.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(no_schema.status().message(), HasSubstr("no plinth schema"));
}

// ExportedTables() describes the real schema: every table, its columns in order, and a type
// letter that matches each column's declared type.
TEST(DumpSqliteTest, TableSpecsMatchTheSchema) {
  testing::SqliteTestDatabase db;
  { ASSERT_TRUE(IsOk(Open(db))); }
  auto sqlite = SqliteDb::Open(db.dir() + "/plinth.db", true);
  ASSERT_TRUE(IsOk(sqlite));
  int tables = 0;
  for (const TableSpec& table : ExportedTables()) {
    auto info = (*sqlite)->PrepareOnce(std::string("PRAGMA table_info(") + table.name + ")");
    ASSERT_TRUE(IsOk(info));
    std::string columns;
    std::string types;
    for (;;) {
      auto row = (*info)->Step();
      ASSERT_TRUE(IsOk(row));
      if (!*row) break;
      columns += (columns.empty() ? "" : ",") + (*info)->Text(1);
      std::string declared = (*info)->Text(2);
      types += declared == "INTEGER" ? 'i' : declared == "REAL" ? 'd' : 't';
    }
    EXPECT_EQ(columns, table.columns) << table.name;
    EXPECT_EQ(types, table.types) << table.name;
    ++tables;
  }
  auto count = (*sqlite)->PrepareOnce(
      "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name NOT IN "
      "('schema_version', 'sqlite_stat1', 'sqlite_stat4')");
  ASSERT_TRUE(IsOk(count));
  ASSERT_TRUE(IsOk((*count)->Step()));
  EXPECT_EQ((*count)->Int64(0), tables) << "a table is missing from ExportedTables()";
}

}  // namespace
}  // namespace plinth::store
