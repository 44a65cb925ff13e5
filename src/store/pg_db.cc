#include "store/pg_db.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace plinth::store {
namespace {

constexpr Oid kInt8Oid = 20;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kUnknownOid = 0;

// SQLSTATE classes (PostgreSQL Appendix A) and what the store makes of them.
bool IsRetryableState(std::string_view state) {
  return state == "40001"               // serialization_failure
         || state == "40P01"            // deadlock_detected
         || state.substr(0, 2) == "08"  // connection exceptions
         || state == "57P01"            // admin_shutdown (server restarting)
         || state == "57P02"            // crash_shutdown
         || state == "57P03"            // cannot_connect_now (starting up)
         || state == "53300"            // too_many_connections
         || state == "25P03";           // idle_in_transaction_session_timeout
}

StatusCode CodeOfState(std::string_view state) {
  if (state == "23505") return StatusCode::kAlreadyExists;
  if (state.substr(0, 2) == "23") return StatusCode::kInvalidArgument;  // other integrity
  if (state.substr(0, 2) == "22") return StatusCode::kInvalidArgument;  // data exception
  // A filter comparing a value of the wrong type (e.g. LIKE on a number column).
  if (state == "42883" || state == "42804") return StatusCode::kInvalidArgument;
  if (IsRetryableState(state)) return StatusCode::kUnavailable;
  return StatusCode::kInternal;
}

}  // namespace

PgParams& PgParams::Add(int64_t v) {
  oids_.push_back(kInt8Oid);
  values_.emplace_back(std::to_string(v));
  return *this;
}

PgParams& PgParams::Add(double v) {
  oids_.push_back(kFloat8Oid);
  if (std::isnan(v)) {
    values_.emplace_back("NaN");
  } else if (std::isinf(v)) {
    values_.emplace_back(v > 0 ? "Infinity" : "-Infinity");
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    values_.emplace_back(std::string(buf, end));
  }
  return *this;
}

PgParams& PgParams::Add(std::string_view v) {
  oids_.push_back(kUnknownOid);
  values_.emplace_back(std::string(v));
  return *this;
}

PgParams& PgParams::Add(const std::optional<int64_t>& v) {
  if (!v) {
    oids_.push_back(kInt8Oid);
    values_.emplace_back(std::nullopt);
    return *this;
  }
  return Add(*v);
}

PgParams& PgParams::AddOrNull(const std::string& v) {
  if (v.empty()) return AddNull();
  return Add(v);
}

PgParams& PgParams::AddNull() {
  oids_.push_back(kUnknownOid);
  values_.emplace_back(std::nullopt);
  return *this;
}

std::vector<const char*> PgParams::values() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
  return out;
}

PgArray& PgArray::Add(std::string_view v) {
  Separator();
  text_ += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
  return *this;
}

PgArray& PgArray::Add(int64_t v) {
  Separator();
  text_ += std::to_string(v);
  return *this;
}

PgArray& PgArray::Add(double v) {
  Separator();
  if (std::isnan(v)) {
    text_ += "NaN";
  } else if (std::isinf(v)) {
    text_ += v > 0 ? "Infinity" : "-Infinity";
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    text_.append(buf, end);
  }
  return *this;
}

PgArray& PgArray::AddOrNull(const std::string& v) {
  if (!v.empty()) return Add(std::string_view(v));
  Separator();
  text_ += "NULL";
  return *this;
}

std::string PgResult::Text(int row, int col) const {
  if (IsNull(row, col)) return {};
  return std::string(PQgetvalue(r_.get(), row, col),
                     static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

int64_t PgResult::Int64(int row, int col) const {
  if (IsNull(row, col)) return 0;
  const char* s = PQgetvalue(r_.get(), row, col);
  int64_t out = 0;
  std::from_chars(s, s + PQgetlength(r_.get(), row, col), out);
  return out;
}

double PgResult::Double(int row, int col) const {
  if (IsNull(row, col)) return 0;
  return std::strtod(PQgetvalue(r_.get(), row, col), nullptr);  // also "NaN", "Infinity"
}

std::optional<int64_t> PgResult::OptInt64(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Int64(row, col);
}

int64_t PgResult::Affected() const {
  const char* n = PQcmdTuples(r_.get());
  return (n == nullptr || *n == '\0') ? 0 : std::strtoll(n, nullptr, 10);
}

std::string PgPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::unique_ptr<PgConn>> PgConn::Connect(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (c == nullptr) return Unavailable("PostgreSQL: out of memory connecting");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string message = PQerrorMessage(c);
    PQfinish(c);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    return Unavailable("cannot connect to PostgreSQL: " + message);
  }
  auto conn = std::unique_ptr<PgConn>(new PgConn(c));
  // Plain, predictable sessions: UTC, no statement timeout surprises from the role's settings.
  PLINTH_RETURN_IF_ERROR(conn->ExecScript("SET TIME ZONE 'UTC'; SET client_min_messages=WARNING"));
  return conn;
}

PgConn::~PgConn() { PQfinish(conn_); }

bool PgConn::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

Status PgConn::Reset() {
  prepared_.clear();
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    retryable_ = true;
    return Unavailable(std::string("cannot reconnect to PostgreSQL: ") + PQerrorMessage(conn_));
  }
  return ExecScript("SET TIME ZONE 'UTC'; SET client_min_messages=WARNING");
}

Status PgConn::ResultError(PGresult* r, std::string_view sql) {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  if (state == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    // No server answer: the connection dropped (server restart, network).
    retryable_ = true;
    return Unavailable("PostgreSQL connection lost: " + message);
  }
  retryable_ = IsRetryableState(state);
  StatusCode code = CodeOfState(state);
  if (code == StatusCode::kInternal) {
    return Status(code, "PostgreSQL error " + std::string(state) + ": " + message + " [" +
                            std::string(sql.substr(0, 200)) + "]");
  }
  return Status(code, message);
}

Status PgConn::CheckResult(PGresult* r, std::string_view sql) {
  ExecStatusType st = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::Ok();
  return ResultError(r, sql);
}

Result<PgResult> PgConn::Exec(const std::string& sql, const PgParams& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "p" + std::to_string(prepared_.size() + 1);
    std::string text = PgPlaceholders(sql);
    PGresult* r = PQprepare(conn_, name.c_str(), text.c_str(), static_cast<int>(params.size()),
                            params.oids());
    Status s = CheckResult(r, sql);
    PQclear(r);
    PLINTH_RETURN_IF_ERROR(s);
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values = params.values();
  PGresult* r = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()),
                               values.data(), nullptr, nullptr, 0);
  PgResult result(r);
  PLINTH_RETURN_IF_ERROR(CheckResult(r, sql));
  return result;
}

Result<PgResult> PgConn::ExecOnce(const std::string& sql, const PgParams& params) {
  std::string text = PgPlaceholders(sql);
  std::vector<const char*> values = params.values();
  PGresult* r = PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), params.oids(),
                             values.data(), nullptr, nullptr, 0);
  PgResult result(r);
  PLINTH_RETURN_IF_ERROR(CheckResult(r, sql));
  return result;
}

Status PgConn::ExecScript(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  PgResult result(r);
  return CheckResult(r, sql);
}

}  // namespace plinth::store
