// The CSV reader: a file (memory-mapped) or a string becomes a Table, parsed on several threads.
//
// Dialect: RFC 4180 with a configurable delimiter. A field that starts with the quote character
// is quoted: it may hold delimiters, newlines and doubled quotes (""). Records end at \n or
// \r\n; blank lines are skipped (as pandas does). A UTF-8 byte-order mark is skipped.
//
// Parallel parsing. The body is cut into chunks of about `chunk_bytes`. Every quote character
// toggles "inside quotes" (a doubled quote toggles twice), so a first parallel pass counts
// quotes and newlines per raw chunk; the prefix parity says whether each cut lies inside a
// quoted field, and the cut moves to the next newline outside quotes. Chunks then tokenize,
// check field counts and convert values on their own, and are concatenated in order. A quote
// inside an unquoted field (ab"c) breaks that rule, so it makes the record malformed; the
// parser still toggles on it, so chunk cuts and the sequential meaning always agree.
//
// Types. Unless `column_types` forces one, each column's type is inferred from its non-null
// values: int (64-bit), float (also inf), bool (true/false in three casings), timestamp (ISO
// 8601 date or date-time, optional fraction and zone; stored as UTC microseconds) or string.
// Ints mixed with floats give float; any other mix gives string, keeping the original text.
// Nulls follow pandas' default na_values: empty, NA, N/A, n/a, NULL, null, NaN, nan, -NaN,
// -nan, None, <NA>, #N/A, #NA and friends. A forced type that a cell does not parse as makes
// that cell null and records a CellTypeError (row, line, column, text).
//
// Errors. A malformed record (wrong field count, unterminated quoted field, a quote inside an
// unquoted field, text after a closing quote) fails the read with its line and column
// (1-based, bytes) in kError mode; in kCollect mode it is skipped and listed in bad_rows.
// Functions are thread-safe; each call uses its own threads.
#ifndef PLINTH_DATA_CSV_H_
#define PLINTH_DATA_CSV_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "data/table.h"

namespace plinth::data {

enum class BadRowMode { kError, kCollect };

struct CsvOptions {
  char delimiter = ',';
  char quote = '"';
  // The first record names the columns; without it columns are column_1, column_2, ….
  bool header = true;
  BadRowMode bad_rows = BadRowMode::kError;
  // Forced types by column name; other columns are inferred.
  std::map<std::string, DataType, std::less<>> column_types;
  // When not empty, only these columns are typed and kept in the table (names the file lacks
  // are ignored; when none matches, the first column is kept so the row count stands). The
  // others are still tokenized, so malformed records are found all the same: a suite that
  // reads 15 of 100 columns converts 15.
  std::vector<std::string> only_columns;
  // Worker threads (0: all cores) and the target chunk size. 256 KiB keeps a chunk's text
  // and field index in L2 while its columns are converted one by one (measured: ~13% less
  // CPU than 4 MiB chunks); tiny chunks are for tests.
  int threads = 0;
  size_t chunk_bytes = 256 << 10;

  // Fails with kInvalidArgument when the delimiter equals the quote or is a newline, or the
  // chunk size is 0.
  Status Validate() const;
};

// A skipped malformed record: where it starts and where the problem was found.
struct BadRow {
  int64_t line = 0;    // 1-based line where the record starts
  int64_t column = 0;  // 1-based byte column, in line `error_line`, of the problem
  int64_t error_line = 0;
  std::string reason;
};

// A cell that did not parse as its column's forced type (it reads as null in the table).
struct CellTypeError {
  size_t row = 0;    // 0-based row in the table
  int64_t line = 0;  // 1-based line where the record starts
  int column = 0;    // column index in the table
  std::string text;  // the cell as written (unescaped)
};

struct CsvReadResult {
  Table table;
  // Every column of the file, in order, including those only_columns left out of `table`.
  std::vector<std::string> file_columns;
  std::vector<BadRow> bad_rows;            // kCollect mode, in file order
  std::vector<CellTypeError> type_errors;  // in row order
  uint64_t bytes = 0;                      // input size
};

// Reads a whole file. Failure: kNotFound / kInternal when the file cannot be opened or mapped,
// kInvalidArgument for an empty file, a bad option, or (kError mode) the first malformed record:
// "line 7, column 12: expected 5 fields, found 6".
Result<CsvReadResult> ReadCsvFile(const std::string& path, const CsvOptions& options);
// The same for text in memory (tests, small inputs).
Result<CsvReadResult> ReadCsvString(std::string_view text, const CsvOptions& options);

// True when `text` is one of the null spellings above.
bool IsNullText(std::string_view text);
// Parsers the reader uses, exposed for suites and tests. Each returns false when `text` is not
// entirely a value of that type (surrounding spaces are allowed for numbers).
bool ParseInt64Text(std::string_view text, int64_t* out);
bool ParseFloatText(std::string_view text, double* out);
bool ParseBoolText(std::string_view text, bool* out);
bool ParseTimestampText(std::string_view text, int64_t* micros);

}  // namespace plinth::data

#endif  // PLINTH_DATA_CSV_H_
