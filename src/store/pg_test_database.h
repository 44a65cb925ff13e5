// Test support: a scratch PostgreSQL database, created on the server PLINTH_TEST_PG_DSN names
// (a postgresql:// URI whose own database is used only to create and drop scratch ones) and
// dropped when the object goes. `make test` starts that server (scripts/pg-server.sh).
#ifndef PLINTH_STORE_PG_TEST_DATABASE_H_
#define PLINTH_STORE_PG_TEST_DATABASE_H_

#include <stdlib.h>

#include <memory>
#include <string>

#include "core/ids.h"
#include "store/pg_db.h"

namespace plinth::store {

class ScratchPgDatabase {
 public:
  // nullptr when PLINTH_TEST_PG_DSN is unset (tests then skip).
  static std::unique_ptr<ScratchPgDatabase> MakeIfConfigured() {
    const char* dsn = getenv("PLINTH_TEST_PG_DSN");
    if (dsn == nullptr || *dsn == '\0') return nullptr;
    return std::make_unique<ScratchPgDatabase>(dsn);
  }

  explicit ScratchPgDatabase(std::string admin_dsn) : admin_dsn_(std::move(admin_dsn)) {
    name_ = "plinth_test_" + NewRunId().substr(0, 16);
    auto admin = PgConn::Connect(admin_dsn_);
    status_ = admin.ok() ? (*admin)->ExecScript("CREATE DATABASE " + name_) : admin.status();
    size_t slash = admin_dsn_.rfind('/');
    size_t query = admin_dsn_.find('?', slash);
    dsn_ = admin_dsn_.substr(0, slash + 1) + name_ +
           (query == std::string::npos ? "" : admin_dsn_.substr(query));
  }
  ~ScratchPgDatabase() {
    auto admin = PgConn::Connect(admin_dsn_);
    if (admin.ok()) {
      (void)(*admin)->ExecScript("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    }
  }
  ScratchPgDatabase(const ScratchPgDatabase&) = delete;
  ScratchPgDatabase& operator=(const ScratchPgDatabase&) = delete;

  // Whether CREATE DATABASE worked.
  const Status& status() const { return status_; }
  // postgresql:// URI of the scratch database.
  const std::string& dsn() const { return dsn_; }

 private:
  std::string admin_dsn_;
  std::string name_;
  std::string dsn_;
  Status status_;
};

}  // namespace plinth::store

#endif  // PLINTH_STORE_PG_TEST_DATABASE_H_
