// Tests of `plinth db migrate` / `plinth db version` (migrate.h) on SQLite and, when
// PLINTH_TEST_PG_DSN is set, PostgreSQL: a new database gets the schema, a second run changes
// nothing, a schema newer than the binary is refused and left alone, and migrations started
// together apply once.
#include "store/migrate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "core/log.h"
#include "store/direct_db.h"
#include "store/metadata_store.h"
#include "store/schema.h"
#include "store/test_databases.h"

namespace plinth::store {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1700000000000;

::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString();
}
template <typename T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  return IsOk(r.status());
}

class MigrateTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    (void)SetLogLevel("warn");
    db_ = testing::MakeTestDatabase(GetParam());
    if (!db_) GTEST_SKIP() << testing::kNoPostgres;
  }

  // Rows of schema_version: one per applied migration.
  int64_t AppliedRows() {
    auto direct = DirectDb::Open(db_->uri(), false);
    EXPECT_TRUE(IsOk(direct));
    if (!direct.ok()) return -1;
    auto n = (*direct)->QueryInt("SELECT COUNT(*) FROM schema_version");
    EXPECT_TRUE(IsOk(n));
    return n.ok() ? *n : -1;
  }

  Status Execute(const std::string& sql) {
    PLINTH_ASSIGN_OR_RETURN(auto direct, DirectDb::Open(db_->uri(), false));
    return direct->Execute(sql);
  }

  std::unique_ptr<testing::TestDatabase> db_;
};

TEST_P(MigrateTest, CreatesTheSchemaOnceAndIsIdempotent) {
  auto before = ReadSchemaVersion(db_->uri());
  ASSERT_TRUE(IsOk(before));
  EXPECT_EQ(before->current, 0);
  EXPECT_EQ(before->latest, LatestSchemaVersion());

  auto first = MigrateStore(db_->uri(), kNow);
  ASSERT_TRUE(IsOk(first));
  EXPECT_EQ(first->from, 0);
  EXPECT_EQ(first->to, LatestSchemaVersion());
  EXPECT_EQ(AppliedRows(), static_cast<int64_t>(Migrations().size()));

  auto second = MigrateStore(db_->uri(), kNow + 1);
  ASSERT_TRUE(IsOk(second));
  EXPECT_EQ(second->from, LatestSchemaVersion());
  EXPECT_EQ(second->to, LatestSchemaVersion());
  EXPECT_EQ(AppliedRows(), static_cast<int64_t>(Migrations().size()));

  // The migrated database is a working store with its Default experiment, once.
  StoreOpenOptions options;
  options.pool_size = 1;
  auto store = OpenStoreFromUri(db_->uri(), options, kNow + 2);
  ASSERT_TRUE(IsOk(store));
  auto e = (*store)->GetExperiment("0");
  ASSERT_TRUE(IsOk(e));
  EXPECT_EQ(e->name, "Default");
}

// A database upgraded by a newer plinth: this binary must not touch it, and says so.
TEST_P(MigrateTest, RefusesASchemaNewerThanTheBinary) {
  ASSERT_TRUE(IsOk(MigrateStore(db_->uri(), kNow)));
  ASSERT_TRUE(IsOk(Execute("INSERT INTO schema_version (version) VALUES (999)")));

  auto version = ReadSchemaVersion(db_->uri());
  ASSERT_TRUE(IsOk(version));
  EXPECT_EQ(version->current, 999);

  auto refused = MigrateStore(db_->uri(), kNow);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("999"));
  EXPECT_THAT(refused.status().message(), HasSubstr("newer than this plinth"));
  EXPECT_EQ(AppliedRows(), static_cast<int64_t>(Migrations().size()) + 1);
  // Nor does a server open it.
  StoreOpenOptions options;
  options.pool_size = 1;
  EXPECT_EQ(OpenStoreFromUri(db_->uri(), options, kNow).status().code(),
            StatusCode::kFailedPrecondition);
}

// A store written by a binary that knew only schema version 1 (tracking, no registry): a
// PostgreSQL server refuses it until `plinth db migrate`, which adds the registry tables and
// keeps the tracking data; SQLite upgrades at open.
TEST_P(MigrateTest, UpgradesAVersionOneStoreKeepingItsData) {
  const Migration& first = Migrations()[0];
  ASSERT_EQ(first.version, 1);
  ASSERT_GT(LatestSchemaVersion(), 1);
  const bool postgres = GetParam() == "postgres";
  ASSERT_TRUE(IsOk(Execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")));
  ASSERT_TRUE(IsOk(Execute(postgres ? first.postgres_sql : first.sqlite_sql)));
  ASSERT_TRUE(IsOk(Execute(
      "INSERT INTO schema_version (version) VALUES (1); "
      "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
      "creation_time, last_update_time) VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', "
      "1, 1), (7, 'kept', 'mlflow-artifacts:/7', 'active', 2, 2)")));

  StoreOpenOptions options;
  options.pool_size = 1;
  if (postgres) {
    auto refused = OpenStoreFromUri(db_->uri(), options, kNow);
    EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(refused.status().message(), HasSubstr("plinth db migrate"));
    auto migrated = MigrateStore(db_->uri(), kNow);
    ASSERT_TRUE(IsOk(migrated));
    EXPECT_EQ(migrated->from, 1);
    EXPECT_EQ(migrated->to, LatestSchemaVersion());
  }
  auto store = OpenStoreFromUri(db_->uri(), options, kNow);
  ASSERT_TRUE(IsOk(store));
  auto kept = (*store)->GetExperiment("7");
  ASSERT_TRUE(IsOk(kept));
  EXPECT_EQ(kept->name, "kept");
  EXPECT_EQ(AppliedRows(), static_cast<int64_t>(Migrations().size()));
  // The registry tables exist and are empty.
  auto direct = DirectDb::Open(db_->uri(), false);
  ASSERT_TRUE(IsOk(direct));
  auto models = (*direct)->QueryInt("SELECT COUNT(*) FROM registered_models");
  ASSERT_TRUE(IsOk(models));
  EXPECT_EQ(*models, 0);
}

// Replicas (or operators) migrating at the same moment: each migration is applied once.
TEST_P(MigrateTest, ConcurrentMigrationsApplyEachMigrationOnce) {
  if (GetParam() == "sqlite") {
    // SQLite serves one process (`plinth server` migrates it at start); the advisory lock that
    // makes this safe is PostgreSQL's.
    GTEST_SKIP() << "concurrent migration is a PostgreSQL concern";
  }
  constexpr int kCallers = 6;
  std::vector<Status> results(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] { results[i] = MigrateStore(db_->uri(), kNow + i).status(); });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& s : results) EXPECT_TRUE(IsOk(s));
  EXPECT_EQ(AppliedRows(), static_cast<int64_t>(Migrations().size()));
}

TEST_P(MigrateTest, BadUriIsInvalidArgument) {
  EXPECT_EQ(MigrateStore("mysql://x/y", kNow).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadSchemaVersion("sqlite:///").status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, MigrateTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace plinth::store
