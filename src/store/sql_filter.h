// Compiles parsed search filters and order_by terms (store/query.h) into SQL fragments with
// positional `?` binds. The fragments name the tables of schema.cc; the SQL used here is
// portable between SQLite and PostgreSQL except where `Dialect` says otherwise (LIKE case
// sensitivity). Pure functions, thread-safe.
#ifndef PLINTH_STORE_SQL_FILTER_H_
#define PLINTH_STORE_SQL_FILTER_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "core/result.h"
#include "store/query.h"

namespace plinth::store {

using SqlValue = std::variant<std::string, int64_t, double>;

// Returns "" or " AND <cond> AND <cond>…" over the alias `r` (runs). Binds are appended in order.
// Failure: kInvalidArgument for a clause this entity does not support.
Result<std::string> CompileRunFilter(const Filter& filter, std::vector<SqlValue>* binds);
// Returns an ORDER BY term list ("a ASC, b DESC") for one key; may append a LEFT JOIN to `joins`
// (with its binds, which precede the WHERE binds). `index` makes join aliases unique.
Result<std::string> CompileRunOrderBy(const OrderBy& order, int index, std::string* joins,
                                      std::vector<SqlValue>* binds);

// Same over the alias `e` (experiments).
Result<std::string> CompileExperimentFilter(const Filter& filter, std::vector<SqlValue>* binds);
Result<std::string> CompileExperimentOrderBy(const OrderBy& order, std::vector<SqlValue>* binds);

// Same over the alias `m` (logged_models).
Result<std::string> CompileLoggedModelFilter(const Filter& filter, std::vector<SqlValue>* binds);
Result<std::string> CompileLoggedModelOrderBy(const OrderBy& order, std::vector<SqlValue>* binds);

// Model registry searches, over the aliases `rm` (registered_models) and `v` (model_versions,
// joined to its `rm`). Attributes: name (both); version_number, run_id, source_path (versions).
// Tags: the registered model's, or the version's.
Result<std::string> CompileRegisteredModelFilter(const Filter& filter,
                                                 std::vector<SqlValue>* binds);
Result<std::string> CompileRegisteredModelOrderBy(const OrderBy& order);
Result<std::string> CompileModelVersionFilter(const Filter& filter, std::vector<SqlValue>* binds);
Result<std::string> CompileModelVersionOrderBy(const OrderBy& order);

}  // namespace plinth::store

#endif  // PLINTH_STORE_SQL_FILTER_H_
