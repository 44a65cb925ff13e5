// `plinth db export` and `plinth db import`: every row of a store in a backend-neutral dump, to
// move a store between SQLite and PostgreSQL (or back it up) with every row intact.
//
// The dump is JSON Lines, UTF-8, one JSON value per line:
//   {"format":"plinth-dump","format_version":1,"schema_version":1,"plinth_version":"0.1.0"}
//   {"table":"experiments","columns":["experiment_id",…],"types":"ittiii"}
//   [0,"Default","mlflow-artifacts:/0","active",1700000000000,1700000000000]
//   … one array per row, then the next table's line, for every table of ExportedTables() in
//   its order (parents before children), rows in the table's order_by, text ordered by bytes …
//   {"end":"plinth-dump","rows":{"experiments":2,…},"sha256":"…"}
// Cells follow the table's type letters: int64 as JSON integers (all 64 bits), doubles as the
// shortest number that reads back exactly or "NaN"/"Infinity"/"-Infinity", text as strings
// byte for byte, NULL as null (distinct from ""). The last line counts the rows of each table
// and carries the SHA-256 of every byte before it, so a truncated or altered dump is refused.
// The same store exported twice, or exported, imported elsewhere and exported again, gives the
// same bytes.
#ifndef PLINTH_STORE_DUMP_H_
#define PLINTH_STORE_DUMP_H_

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "core/result.h"

namespace plinth::store {

inline constexpr int kDumpFormatVersion = 1;

struct DumpSummary {
  int schema_version = 0;
  std::vector<std::pair<std::string, int64_t>> rows;  // per table, in dump order
  int64_t total_rows = 0;
  int64_t bytes = 0;
  std::string sha256;  // hex
};

// Writes every row of the store `uri` names to `out`, read in one consistent snapshot (servers
// may keep running; what they write after the snapshot is not in the dump). Only reads.
// Failure: kInvalidArgument (URI); kNotFound when the SQLite file does not exist;
// kFailedPrecondition when the database has no plinth schema or another version than this
// binary's (migrate it first, or use a newer plinth); kUnavailable; kInternal when writing fails.
Result<DumpSummary> ExportStore(const std::string& uri, std::ostream& out,
                                const std::string& plinth_version);

// Loads a dump into the store `uri` names, creating its schema if the database is new. The
// store must be empty (no rows but the Default experiment, which the dump's replaces); the
// whole load is one transaction, so on any failure the store is left as it was. PostgreSQL's
// id sequences are moved past the loaded ids. Failure: kFailedPrecondition when the store is
// not empty or the schema versions of dump, store and binary differ; kInvalidArgument (naming
// the line) when the dump is malformed, truncated, fails its checksum or a row breaks a
// constraint; kUnavailable.
Result<DumpSummary> ImportStore(const std::string& uri, std::istream& in, int64_t now);

}  // namespace plinth::store

#endif  // PLINTH_STORE_DUMP_H_
