// The dump format (see dump.h), written and read once for both backends; DirectDb does the
// database side. Rows are streamed: neither side holds a table in memory.
#include "store/dump.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <span>

#include "store/direct_db.h"
#include "store/metadata_store.h"
#include "store/schema.h"

namespace plinth::store {
namespace {

constexpr const char* kFormatName = "plinth-dump";

size_t ColumnCount(const TableSpec& table) {
  return static_cast<size_t>(
             std::count(table.columns, table.columns + std::strlen(table.columns), ',')) +
         1;
}

// SHA-256 over the dump's bytes, as they are written or read.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
  }
  void Update(std::string_view bytes) { EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()); }
  std::string Hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &n);
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < n; ++i) {
      out += kHex[digest[i] >> 4];
      out += kHex[digest[i] & 0xf];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

// ------------------------------------------------------------------ writing

class DumpWriter {
 public:
  explicit DumpWriter(std::ostream& out) : out_(out) {}

  // Writes the JSON in buffer_ as one line, counted into the checksum unless it is the last.
  Status EmitLine(bool hashed = true) {
    buffer_.Put('\n');
    std::string_view line(buffer_.GetString(), buffer_.GetSize());
    if (hashed) sha_.Update(line);
    out_.write(line.data(), static_cast<std::streamsize>(line.size()));
    bytes_ += static_cast<int64_t>(line.size());
    buffer_.Clear();
    if (!out_) return Internal("writing the dump failed (disk full, or the reader went away?)");
    return Status::Ok();
  }

  Status Header(int schema_version, const std::string& plinth_version) {
    Writer w(buffer_);
    w.StartObject();
    Key(w, "format"), Str(w, kFormatName);
    Key(w, "format_version"), w.Int(kDumpFormatVersion);
    Key(w, "schema_version"), w.Int(schema_version);
    Key(w, "plinth_version"), Str(w, plinth_version);
    w.EndObject();
    return EmitLine();
  }

  Status TableStart(const TableSpec& table) {
    Writer w(buffer_);
    w.StartObject();
    Key(w, "table"), Str(w, table.name);
    Key(w, "columns");
    w.StartArray();
    std::string_view columns = table.columns;
    while (!columns.empty()) {
      size_t comma = columns.find(',');
      Str(w, columns.substr(0, comma));
      if (comma == std::string_view::npos) break;
      columns.remove_prefix(comma + 1);
    }
    w.EndArray();
    Key(w, "types"), Str(w, table.types);
    w.EndObject();
    return EmitLine();
  }

  Status Row(std::span<const Cell> row) {
    Writer w(buffer_);
    w.StartArray();
    char buf[32];
    for (const Cell& cell : row) {
      switch (cell.kind) {
        case Cell::Kind::kNull:
          w.Null();
          break;
        case Cell::Kind::kInt:
          w.Int64(cell.i);
          break;
        case Cell::Kind::kDouble:
          if (std::isnan(cell.d)) {
            Str(w, "NaN");
          } else if (std::isinf(cell.d)) {
            Str(w, cell.d > 0 ? "Infinity" : "-Infinity");
          } else {
            // Shortest form that reads back as the same double (RapidJSON's own writer rounds).
            auto [end, ec] = std::to_chars(buf, buf + sizeof buf, cell.d);
            w.RawValue(buf, static_cast<size_t>(end - buf), rapidjson::kNumberType);
          }
          break;
        case Cell::Kind::kText:
          Str(w, cell.text);
          break;
      }
    }
    w.EndArray();
    return EmitLine();
  }

  Status End(const std::vector<std::pair<std::string, int64_t>>& rows, std::string* sha256) {
    *sha256 = sha_.Hex();
    Writer w(buffer_);
    w.StartObject();
    Key(w, "end"), Str(w, kFormatName);
    Key(w, "rows");
    w.StartObject();
    for (const auto& [table, count] : rows) Key(w, table), w.Int64(count);
    w.EndObject();
    Key(w, "sha256"), Str(w, *sha256);
    w.EndObject();
    PLINTH_RETURN_IF_ERROR(EmitLine(/*hashed=*/false));
    out_.flush();
    if (!out_) return Internal("writing the dump failed");
    return Status::Ok();
  }

  int64_t bytes() const { return bytes_; }

 private:
  using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
  static void Key(Writer& w, std::string_view k) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  }
  static void Str(Writer& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }

  std::ostream& out_;
  rapidjson::StringBuffer buffer_;
  Sha256 sha_;
  int64_t bytes_ = 0;
};

Status CheckSchemaForExport(int version) {
  if (version == 0) {
    return FailedPrecondition("the database has no plinth schema: nothing to export");
  }
  if (version > LatestSchemaVersion()) {
    return FailedPrecondition("the database's schema version " + std::to_string(version) +
                              " is newer than this plinth binary knows (" +
                              std::to_string(LatestSchemaVersion()) + "); use a newer plinth");
  }
  if (version < LatestSchemaVersion()) {
    return FailedPrecondition("the database's schema version " + std::to_string(version) +
                              " is older than this plinth binary's (" +
                              std::to_string(LatestSchemaVersion()) +
                              "); run `plinth db migrate` on it first");
  }
  return Status::Ok();
}

// ------------------------------------------------------------------ reading

// Parses one row line (a JSON array) in place into typed cells, checking each against the
// table's type letter. Text cells point into the line buffer.
class RowParser : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, RowParser> {
 public:
  Status Parse(char* line, const TableSpec& table, std::vector<Cell>* cells) {
    table_ = &table;
    cells_ = cells;
    cells_->clear();
    width_ = ColumnCount(table);
    depth_ = 0;
    error_.clear();
    rapidjson::InsituStringStream stream(line);
    rapidjson::Reader reader;
    constexpr unsigned kFlags = rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag;
    rapidjson::ParseResult ok = reader.Parse<kFlags>(stream, *this);
    if (!error_.empty()) return InvalidArgument(error_);
    if (!ok) return InvalidArgument("not a JSON array of cells");
    if (cells_->size() != width_) {
      return InvalidArgument("a row of " + std::string(table.name) + " has " +
                             std::to_string(cells_->size()) + " values, not " +
                             std::to_string(width_));
    }
    return Status::Ok();
  }

  // SAX events.
  bool StartArray() { return ++depth_ == 1 || Fail("a cell is an array"); }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return true;
  }
  bool Null() {
    if (!Room()) return false;
    cells_->push_back(Cell{});
    return true;
  }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    if (!Room()) return false;
    char type = table_->types[cells_->size()];
    Cell cell;
    if (type == 'i') {
      cell.kind = Cell::Kind::kInt;
      auto [end, ec] = std::from_chars(s, s + n, cell.i);
      if (ec != std::errc() || end != s + n) {
        return Fail("'" + std::string(s, n) + "' is not a 64-bit integer");
      }
    } else if (type == 'd') {
      cell.kind = Cell::Kind::kDouble;
      auto [end, ec] = std::from_chars(s, s + n, cell.d);
      if (ec != std::errc() || end != s + n) {
        return Fail("'" + std::string(s, n) + "' is not a double");
      }
    } else {
      return Fail(ColumnName() + " holds text, not the number " + std::string(s, n));
    }
    cells_->push_back(cell);
    return true;
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (!Room()) return false;
    char type = table_->types[cells_->size()];
    std::string_view text(s, n);
    Cell cell;
    if (type == 't') {
      cell.kind = Cell::Kind::kText;
      cell.text = text;
    } else if (type == 'd' && (text == "NaN" || text == "Infinity" || text == "-Infinity")) {
      cell.kind = Cell::Kind::kDouble;
      cell.d = text == "NaN"        ? std::numeric_limits<double>::quiet_NaN()
               : text == "Infinity" ? std::numeric_limits<double>::infinity()
                                    : -std::numeric_limits<double>::infinity();
    } else {
      return Fail(ColumnName() + " holds a number, not the string \"" +
                  std::string(text.substr(0, 40)) + "\"");
    }
    cells_->push_back(cell);
    return true;
  }
  bool Default() { return Fail("a cell is not a number, string or null"); }

 private:
  bool Room() {
    if (depth_ != 1) return Fail("a row is not an array");
    if (cells_->size() >= width_) {
      return Fail("a row of " + std::string(table_->name) + " has more than " +
                  std::to_string(width_) + " values");
    }
    return true;
  }
  std::string ColumnName() {
    std::string_view columns = table_->columns;
    for (size_t i = 0; i < cells_->size(); ++i) columns.remove_prefix(columns.find(',') + 1);
    return std::string(table_->name) + "." + std::string(columns.substr(0, columns.find(',')));
  }
  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  const TableSpec* table_ = nullptr;
  std::vector<Cell>* cells_ = nullptr;
  size_t width_ = 0;
  int depth_ = 0;
  std::string error_;
};

std::string StringMember(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

int IntMember(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsInt()) return -1;
  return it->value.GetInt();
}

Status CheckHeader(const std::string& line, int* schema_version) {
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject() || StringMember(doc, "format") != kFormatName) {
    return InvalidArgument("not a plinth dump (its first line is not a plinth-dump header)");
  }
  int format_version = IntMember(doc, "format_version");
  if (format_version != kDumpFormatVersion) {
    return FailedPrecondition("the dump's format version is " + std::to_string(format_version) +
                              "; this plinth reads version " + std::to_string(kDumpFormatVersion) +
                              " (use a newer plinth)");
  }
  *schema_version = IntMember(doc, "schema_version");
  if (*schema_version > LatestSchemaVersion()) {
    return FailedPrecondition("the dump has schema version " + std::to_string(*schema_version) +
                              ", newer than this plinth binary knows (" +
                              std::to_string(LatestSchemaVersion()) + "); use a newer plinth");
  }
  if (*schema_version != LatestSchemaVersion()) {
    return FailedPrecondition(
        "the dump has schema version " + std::to_string(*schema_version) +
        " but this plinth binary's is " + std::to_string(LatestSchemaVersion()) +
        ": run `plinth db migrate` on the source store and export it again (or import with the "
        "plinth version that wrote the dump, " +
        StringMember(doc, "plinth_version") + ")");
  }
  return Status::Ok();
}

// Refuses a store that holds anything but the Default experiment: an import adds nothing to
// existing data (ids would collide, and a half-merged store is worse than a refusal).
Status CheckEmpty(DirectDb& db) {
  std::string found;
  for (const TableSpec& table : ExportedTables()) {
    std::string where =
        std::string_view(table.name) == "experiments" ? " WHERE experiment_id <> 0" : "";
    PLINTH_ASSIGN_OR_RETURN(
        int64_t any, db.QueryInt(std::string("SELECT COUNT(*) FROM (SELECT 1 FROM ") + table.name +
                                 where + " LIMIT 1) AS probe"));
    if (any != 0) found += (found.empty() ? "" : ", ") + std::string(table.name);
  }
  if (!found.empty()) {
    return FailedPrecondition("the target store is not empty (it has rows in " + found +
                              "); `plinth db import` loads into a new, empty database only");
  }
  return Status::Ok();
}

class DumpLoader {
 public:
  DumpLoader(DirectDb& db, std::istream& in) : db_(db), in_(in) {}

  // Everything after the header line, into the open transaction.
  Result<DumpSummary> Load(const std::string& header) {
    sha_.Update(header);
    sha_.Update("\n");
    bytes_ = static_cast<int64_t>(header.size()) + 1;
    line_number_ = 1;
    const auto tables = ExportedTables();
    size_t next_table = 0;
    const TableSpec* current = nullptr;
    int64_t current_rows = 0;
    std::vector<Cell> cells;
    RowParser parser;
    DumpSummary summary;
    std::string line;
    while (std::getline(in_, line)) {
      ++line_number_;
      bytes_ += static_cast<int64_t>(line.size()) + 1;
      if (!line.empty() && line[0] == '[') {
        if (current == nullptr) return LineError("a row comes before any table line");
        sha_.Update(line);
        sha_.Update("\n");
        PLINTH_RETURN_IF_ERROR(WithLine(parser.Parse(line.data(), *current, &cells)));
        PLINTH_RETURN_IF_ERROR(WithLine(db_.InsertRow(cells)));
        ++current_rows;
        continue;
      }
      rapidjson::Document doc;
      doc.Parse(line.data(), line.size());
      if (doc.HasParseError() || !doc.IsObject()) {
        return LineError("not a row, a table line or the end line");
      }
      if (current != nullptr) {
        PLINTH_RETURN_IF_ERROR(WithLine(db_.EndInsert()));
        summary.rows.emplace_back(current->name, current_rows);
        summary.total_rows += current_rows;
        current = nullptr;
      }
      if (doc.HasMember("end")) {
        PLINTH_RETURN_IF_ERROR(CheckEnd(doc, summary, next_table));
        while (std::getline(in_, line)) {
          ++line_number_;
          if (!line.empty()) return LineError("there is more after the end line");
        }
        return summary;
      }
      sha_.Update(line);
      sha_.Update("\n");
      if (next_table >= tables.size()) return LineError("more tables than this schema has");
      const TableSpec& expected = tables[next_table];
      std::string name = StringMember(doc, "table");
      if (name != expected.name) {
        return LineError("expected table " + std::string(expected.name) + ", found '" + name +
                         "' (tables must come in the order plinth writes them)");
      }
      std::string columns;
      auto cols = doc.FindMember("columns");
      if (cols != doc.MemberEnd() && cols->value.IsArray()) {
        for (const auto& c : cols->value.GetArray()) {
          if (!c.IsString()) continue;
          columns += (columns.empty() ? "" : ",") + std::string(c.GetString(), c.GetStringLength());
        }
      }
      if (columns != expected.columns || StringMember(doc, "types") != expected.types) {
        return LineError("the columns of " + name + " are not this schema's (" + expected.columns +
                         ")");
      }
      PLINTH_RETURN_IF_ERROR(WithLine(db_.BeginInsert(expected)));
      current = &expected;
      current_rows = 0;
      ++next_table;
    }
    if (in_.bad()) return Internal("reading the dump failed");
    return InvalidArgument("the dump ends at line " + std::to_string(line_number_) +
                           " without its end line: it is truncated");
  }

  int64_t bytes() const { return bytes_; }

 private:
  Status CheckEnd(const rapidjson::Document& doc, const DumpSummary& summary, size_t seen) {
    if (seen != ExportedTables().size()) {
      return LineError("the end line comes after " + std::to_string(seen) + " of " +
                       std::to_string(ExportedTables().size()) + " tables");
    }
    auto rows = doc.FindMember("rows");
    if (rows == doc.MemberEnd() || !rows->value.IsObject()) {
      return LineError("the end line has no row counts");
    }
    for (const auto& [table, count] : summary.rows) {
      auto it = rows->value.FindMember(table.c_str());
      if (it == rows->value.MemberEnd() || !it->value.IsInt64() || it->value.GetInt64() != count) {
        return LineError("the dump holds " + std::to_string(count) + " rows of " + table +
                         " but its end line counts a different number");
      }
    }
    std::string computed = sha_.Hex();
    if (StringMember(doc, "sha256") != computed) {
      return LineError(
          "checksum mismatch: the dump was altered or damaged (sha256 of its "
          "content is " +
          computed + ")");
    }
    return Status::Ok();
  }

  Status LineError(const std::string& message) const {
    return InvalidArgument("dump line " + std::to_string(line_number_) + ": " + message);
  }
  Status WithLine(Status s) const {
    if (s.ok()) return s;
    return Status(s.code(), "dump line " + std::to_string(line_number_) + ": " + s.message());
  }

  DirectDb& db_;
  std::istream& in_;
  Sha256 sha_;
  int64_t line_number_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace

Result<DumpSummary> ExportStore(const std::string& uri, std::ostream& out,
                                const std::string& plinth_version) {
  PLINTH_ASSIGN_OR_RETURN(auto db, DirectDb::Open(uri, /*must_exist=*/true));
  PLINTH_RETURN_IF_ERROR(db->BeginSnapshot());
  auto write = [&]() -> Result<DumpSummary> {
    DumpSummary summary;
    PLINTH_ASSIGN_OR_RETURN(summary.schema_version, db->SchemaVersion());
    PLINTH_RETURN_IF_ERROR(CheckSchemaForExport(summary.schema_version));
    DumpWriter writer(out);
    PLINTH_RETURN_IF_ERROR(writer.Header(summary.schema_version, plinth_version));
    for (const TableSpec& table : ExportedTables()) {
      PLINTH_RETURN_IF_ERROR(writer.TableStart(table));
      int64_t rows = 0;
      PLINTH_RETURN_IF_ERROR(db->ScanTable(table, [&](std::span<const Cell> row) {
        ++rows;
        return writer.Row(row);
      }));
      summary.rows.emplace_back(table.name, rows);
      summary.total_rows += rows;
    }
    PLINTH_RETURN_IF_ERROR(writer.End(summary.rows, &summary.sha256));
    summary.bytes = writer.bytes();
    return summary;
  };
  Result<DumpSummary> out_summary = write();
  db->Rollback();  // a read-only transaction: nothing to keep
  return out_summary;
}

Result<DumpSummary> ImportStore(const std::string& uri, std::istream& in, int64_t now) {
  // The header first: a wrong file is refused before the target is touched.
  std::string header;
  if (!std::getline(in, header)) return InvalidArgument("the dump is empty");
  int schema_version = 0;
  PLINTH_RETURN_IF_ERROR(CheckHeader(header, &schema_version));

  // Opening the store creates the schema of a new database (and refuses one that is newer, or
  // an older PostgreSQL one, with the store's own message).
  {
    StoreOpenOptions options;
    options.pool_size = 1;
    PLINTH_ASSIGN_OR_RETURN(auto store, OpenStoreFromUri(uri, options, now));
  }
  PLINTH_ASSIGN_OR_RETURN(auto db, DirectDb::Open(uri, /*must_exist=*/false));
  PLINTH_ASSIGN_OR_RETURN(int target_version, db->SchemaVersion());
  if (target_version != schema_version) {
    return FailedPrecondition("the target store has schema version " +
                              std::to_string(target_version) + " but the dump has " +
                              std::to_string(schema_version));
  }
  PLINTH_RETURN_IF_ERROR(db->BeginExclusive());
  auto load = [&]() -> Result<DumpSummary> {
    PLINTH_RETURN_IF_ERROR(CheckEmpty(*db));
    // The Default experiment the store created at open makes way for the dump's.
    PLINTH_RETURN_IF_ERROR(db->Execute("DELETE FROM experiments WHERE experiment_id = 0"));
    DumpLoader loader(*db, in);
    PLINTH_ASSIGN_OR_RETURN(DumpSummary summary, loader.Load(header));
    summary.schema_version = schema_version;
    summary.bytes = loader.bytes();
    PLINTH_RETURN_IF_ERROR(db->ResyncIdentities());
    PLINTH_RETURN_IF_ERROR(db->Commit());
    return summary;
  };
  Result<DumpSummary> summary = load();
  if (!summary.ok()) {
    db->Rollback();
    return summary;
  }
  // The rows are in; statistics only help the planner (and are refreshed later anyway).
  (void)db->Analyze();
  return summary;
}

}  // namespace plinth::store
