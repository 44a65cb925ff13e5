// Test-only: scratch databases named by store URI, for the tests of the `plinth db` and
// `plinth gc` machinery (dump_test.cc, migrate_test.cc, the cli and tracking tests). A SQLite
// one lives in a temporary folder; a PostgreSQL one is created on the server PLINTH_TEST_PG_DSN
// names (`make test` starts one with scripts/pg-server.sh) and dropped with the object.
#ifndef PLINTH_STORE_TEST_DATABASES_H_
#define PLINTH_STORE_TEST_DATABASES_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/ids.h"
#include "store/pg_db.h"

namespace plinth::store::testing {

class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  virtual const std::string& uri() const = 0;
};

class SqliteTestDatabase final : public TestDatabase {
 public:
  SqliteTestDatabase() {
    std::string pattern = ::testing::TempDir() + "plinth_db_XXXXXX";
    char* made = mkdtemp(pattern.data());
    dir_ = made != nullptr ? std::string(made) : ::testing::TempDir() + "plinth_db_fallback";
    std::filesystem::create_directories(dir_);
    uri_ = "sqlite:///" + dir_ + "/plinth.db";  // dir_ is absolute: sqlite:////tmp/…
  }
  ~SqliteTestDatabase() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& uri() const override { return uri_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string uri_;
};

class PostgresTestDatabase final : public TestDatabase {
 public:
  // nullptr when PLINTH_TEST_PG_DSN is unset; a database that could not be created shows up as
  // a failing open in the test that uses it.
  static std::unique_ptr<PostgresTestDatabase> MakeIfConfigured() {
    const char* dsn = getenv("PLINTH_TEST_PG_DSN");
    if (dsn == nullptr || *dsn == '\0') return nullptr;
    return std::make_unique<PostgresTestDatabase>(dsn);
  }

  // `create_options`: appended to CREATE DATABASE (e.g. another collation).
  explicit PostgresTestDatabase(std::string admin_dsn, const std::string& create_options = "")
      : admin_dsn_(std::move(admin_dsn)) {
    name_ = "plinth_test_" + NewRunId().substr(0, 16);
    auto admin = PgConn::Connect(admin_dsn_);
    created_ = admin.ok() ? (*admin)->ExecScript("CREATE DATABASE " + name_ + " " + create_options)
                          : admin.status();
    size_t slash = admin_dsn_.rfind('/');
    size_t query = admin_dsn_.find('?', slash);
    uri_ = admin_dsn_.substr(0, slash + 1) + name_ +
           (query == std::string::npos ? "" : admin_dsn_.substr(query));
  }
  ~PostgresTestDatabase() override {
    auto admin = PgConn::Connect(admin_dsn_);
    if (admin.ok())
      (void)(*admin)->ExecScript("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  const std::string& uri() const override { return uri_; }
  const Status& created() const { return created_; }

 private:
  Status created_;
  std::string admin_dsn_;
  std::string name_;
  std::string uri_;
};

inline constexpr const char* kNoPostgres =
    "PLINTH_TEST_PG_DSN is not set; start a server with `f=$(bash scripts/pg-server.sh start); "
    ". $f` (make test does)";

// "sqlite" or "postgres"; nullptr (skip) for postgres without a server.
inline std::unique_ptr<TestDatabase> MakeTestDatabase(const std::string& backend) {
  if (backend == "postgres") return PostgresTestDatabase::MakeIfConfigured();
  return std::make_unique<SqliteTestDatabase>();
}

}  // namespace plinth::store::testing

#endif  // PLINTH_STORE_TEST_DATABASES_H_
