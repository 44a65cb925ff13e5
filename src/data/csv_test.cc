// CSV reader: quoting, embedded newlines, CRLF, empty fields, type inference and nulls,
// malformed records with exact line and column in both modes, and parallel chunking giving
// the same table as one chunk.
#include "data/csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>

namespace plinth::data {
namespace {

using ::testing::HasSubstr;

CsvReadResult Read(std::string_view text, CsvOptions options = {}) {
  auto result = ReadCsvString(text, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? std::move(*result) : CsvReadResult{};
}

Status ReadError(std::string_view text, CsvOptions options = {}) {
  auto result = ReadCsvString(text, options);
  EXPECT_FALSE(result.ok());
  return result.ok() ? Status::Ok() : result.status();
}

TEST(CsvTest, InfersTypesAndNulls) {
  auto r = Read(
      "i,f,b,s,t,mixed,empty\n"
      "1,1.5,true,x,2024-03-01,1,\n"
      "-2,NaN,False,NA,2024-03-01T12:30:00Z,2.5,NA\n"
      ",3,TRUE,\"y\",2024-03-02 01:02:03.25,,null\n");
  const Table& t = r.table;
  ASSERT_EQ(t.num_columns(), 7u);
  ASSERT_EQ(t.num_rows(), 3u);
  EXPECT_EQ(t.columns[0].type(), DataType::kInt64);
  EXPECT_EQ(t.columns[1].type(), DataType::kFloat64);
  EXPECT_EQ(t.columns[2].type(), DataType::kBool);
  EXPECT_EQ(t.columns[3].type(), DataType::kString);
  EXPECT_EQ(t.columns[4].type(), DataType::kTimestamp);
  EXPECT_EQ(t.columns[5].type(), DataType::kFloat64);  // int widened by 2.5
  EXPECT_EQ(t.columns[6].type(), DataType::kString);   // all null
  EXPECT_EQ(t.columns[0].Int(1), -2);
  EXPECT_FALSE(t.columns[0].IsValid(2));
  EXPECT_EQ(t.columns[0].null_count(), 1u);
  EXPECT_FALSE(t.columns[1].IsValid(1));
  EXPECT_DOUBLE_EQ(t.columns[1].Float(2), 3.0);
  EXPECT_FALSE(t.columns[2].Bool(1));
  EXPECT_FALSE(t.columns[3].IsValid(1));
  EXPECT_EQ(t.columns[3].String(2), "y");
  EXPECT_EQ(FormatTimestamp(t.columns[4].Int(1)), "2024-03-01T12:30:00Z");
  EXPECT_EQ(FormatTimestamp(t.columns[4].Int(2)), "2024-03-02T01:02:03.250000Z");
  EXPECT_DOUBLE_EQ(t.columns[5].Float(0), 1.0);
  EXPECT_EQ(t.columns[6].null_count(), 3u);
  EXPECT_EQ(t.source_lines, (std::vector<int64_t>{2, 3, 4}));
}

TEST(CsvTest, MixedTypesBecomeStringsKeepingText) {
  auto r = Read("a,b\n007,true\nx,1\n1.50,0\n");
  ASSERT_EQ(r.table.columns[0].type(), DataType::kString);
  EXPECT_EQ(r.table.columns[0].String(0), "007");
  EXPECT_EQ(r.table.columns[0].String(2), "1.50");
  EXPECT_EQ(r.table.columns[1].type(), DataType::kString);
  EXPECT_EQ(r.table.columns[1].String(0), "true");
}

TEST(CsvTest, QuotedFieldsWithDelimitersQuotesAndNewlines) {
  auto r = Read(
      "id,text,n\n"
      "1,\"a, b\",10\n"
      "2,\"she said \"\"hi\"\"\",20\n"
      "3,\"line one\nline two\r\nline three\",30\n"
      "4,\"\",40\n");
  const Table& t = r.table;
  ASSERT_EQ(t.num_rows(), 4u);
  EXPECT_EQ(t.columns[1].String(0), "a, b");
  EXPECT_EQ(t.columns[1].String(1), "she said \"hi\"");
  EXPECT_EQ(t.columns[1].String(2), "line one\nline two\r\nline three");
  EXPECT_FALSE(t.columns[1].IsValid(3));  // "" is null, as in pandas
  EXPECT_EQ(t.columns[2].Int(3), 40);
  EXPECT_EQ(t.source_lines, (std::vector<int64_t>{2, 3, 4, 7}));
}

TEST(CsvTest, CrlfBlankLinesBomAndMissingFinalNewline) {
  auto r = Read("\xEF\xBB\xBFx,y\r\n1,a\r\n\r\n2,b\r\n\n3,c");
  const Table& t = r.table;
  ASSERT_EQ(t.num_rows(), 3u);
  EXPECT_EQ(t.columns[0].name(), "x");
  EXPECT_EQ(t.columns[1].String(0), "a");  // no stray \r
  EXPECT_EQ(t.columns[1].String(2), "c");
  EXPECT_EQ(t.source_lines, (std::vector<int64_t>{2, 4, 6}));
}

TEST(CsvTest, EmptyFieldsAndTrailingDelimiter) {
  auto r = Read("a,b,c\n,,\n1,,3\n");
  const Table& t = r.table;
  ASSERT_EQ(t.num_rows(), 2u);
  EXPECT_EQ(t.columns[0].null_count(), 1u);
  EXPECT_EQ(t.columns[1].null_count(), 2u);
  EXPECT_EQ(t.columns[2].Int(1), 3);
}

TEST(CsvTest, DelimiterNoHeaderAndDuplicateNames) {
  CsvOptions options;
  options.delimiter = ';';
  options.header = false;
  auto r = Read("1;2,5\n3;4,5\n", options);
  ASSERT_EQ(r.table.num_columns(), 2u);
  EXPECT_EQ(r.table.columns[0].name(), "column_1");
  EXPECT_EQ(r.table.columns[1].String(0), "2,5");
  auto d = Read("a,a,,b\n1,2,3,4\n");
  EXPECT_EQ(d.table.columns[1].name(), "a.1");
  EXPECT_EQ(d.table.columns[2].name(), "Unnamed: 2");
}

TEST(CsvTest, WrongFieldCountNamesLineAndColumn) {
  Status too_many = ReadError("a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n");
  EXPECT_THAT(too_many.message(), HasSubstr("line 3, column 7: expected 3 fields, found 4"));
  Status too_few = ReadError("a,b,c\n1,2,3\n4,5\n");
  EXPECT_THAT(too_few.message(), HasSubstr("line 3, column 4: expected 3 fields, found 2"));
  Status at_end = ReadError("a,b,c\n1,2,3\n4,5");
  EXPECT_THAT(at_end.message(), HasSubstr("line 3, column 4: expected 3 fields, found 2"));
}

TEST(CsvTest, QuoteErrorsNameLineAndColumn) {
  Status unterminated = ReadError("a,b\n1,x\n2,\"open\nstill open\n");
  EXPECT_THAT(unterminated.message(), HasSubstr("line 3, column 3: unterminated quoted field"));
  Status stray = ReadError("a,b\n1,ab\"c\"\n");
  EXPECT_THAT(stray.message(),
              HasSubstr("line 2, column 5: quote character inside an unquoted field"));
  Status after = ReadError("a,b\n1,\"ab\"c\n");
  EXPECT_THAT(after.message(),
              HasSubstr("line 2, column 7: unexpected text after a closing quote"));
}

TEST(CsvTest, CollectModeSkipsBadRowsAndKeepsLines) {
  CsvOptions options;
  options.bad_rows = BadRowMode::kCollect;
  auto r = Read(
      "id,v\n"
      "1,a\n"
      "2,b,extra\n"
      "3,\"multi\nline\"\n"
      "4\n"
      "5,e\n"
      "6,\"never closed\n",
      options);
  ASSERT_EQ(r.table.num_rows(), 3u);
  EXPECT_EQ(r.table.columns[0].Int(0), 1);
  EXPECT_EQ(r.table.columns[0].Int(1), 3);
  EXPECT_EQ(r.table.columns[0].Int(2), 5);
  EXPECT_EQ(r.table.source_lines, (std::vector<int64_t>{2, 4, 7}));
  ASSERT_EQ(r.bad_rows.size(), 3u);
  EXPECT_EQ(r.bad_rows[0].line, 3);
  EXPECT_EQ(r.bad_rows[0].column, 5);
  EXPECT_EQ(r.bad_rows[1].line, 6);
  EXPECT_EQ(r.bad_rows[1].reason, "expected 2 fields, found 1");
  EXPECT_EQ(r.bad_rows[2].line, 8);
  EXPECT_EQ(r.bad_rows[2].column, 3);
  EXPECT_EQ(r.bad_rows[2].reason, "unterminated quoted field");
}

TEST(CsvTest, ForcedTypesRecordCellsThatDoNotParse) {
  CsvOptions options;
  options.column_types = {{"n", DataType::kInt64}, {"s", DataType::kString}};
  auto r = Read("n,s\n1,10\nabc,20\n3.5,x\n,y\n", options);
  ASSERT_EQ(r.table.columns[0].type(), DataType::kInt64);
  EXPECT_EQ(r.table.columns[1].type(), DataType::kString);
  EXPECT_EQ(r.table.columns[1].String(0), "10");
  ASSERT_EQ(r.type_errors.size(), 2u);
  EXPECT_EQ(r.type_errors[0].row, 1u);
  EXPECT_EQ(r.type_errors[0].line, 3);
  EXPECT_EQ(r.type_errors[0].text, "abc");
  EXPECT_EQ(r.type_errors[1].row, 2u);
  EXPECT_EQ(r.table.columns[0].null_count(), 3u);
}

TEST(CsvTest, ParsersAcceptAndRefuse) {
  int64_t i;
  EXPECT_TRUE(ParseInt64Text("9223372036854775807", &i));
  EXPECT_TRUE(ParseInt64Text("-9223372036854775808", &i));
  EXPECT_EQ(i, INT64_MIN);
  EXPECT_FALSE(ParseInt64Text("9223372036854775808", &i));
  EXPECT_FALSE(ParseInt64Text("1.0", &i));
  EXPECT_TRUE(ParseInt64Text(" +42 ", &i));
  EXPECT_EQ(i, 42);
  double d;
  EXPECT_TRUE(ParseFloatText("1e-3", &d));
  EXPECT_TRUE(ParseFloatText("-inf", &d));
  EXPECT_FALSE(ParseFloatText("1.2.3", &d));
  EXPECT_FALSE(ParseFloatText("0x10", &d));
  int64_t ts;
  EXPECT_TRUE(ParseTimestampText("1970-01-01T01:00:00+01:00", &ts));
  EXPECT_EQ(ts, 0);
  EXPECT_TRUE(ParseTimestampText("2024-02-29", &ts));
  EXPECT_FALSE(ParseTimestampText("2023-02-29", &ts));
  EXPECT_FALSE(ParseTimestampText("2024-13-01", &ts));
  EXPECT_TRUE(IsNullText("#N/A"));
  EXPECT_FALSE(IsNullText("NAN"));  // not in pandas' default list
}

// The fast float path must give std::from_chars' correctly rounded result, bit for bit.
TEST(CsvTest, FastFloatPathMatchesFromChars) {
  std::mt19937_64 rng(11);
  char buf[64];
  for (int i = 0; i < 200000; ++i) {
    const double v =
        std::ldexp(static_cast<double>(rng() >> 11), static_cast<int>(rng() % 60) - 40);
    const int precision = static_cast<int>(rng() % 20);
    const int n = std::snprintf(buf, sizeof(buf), "%.*f", precision, (rng() & 1) ? v : -v);
    const std::string_view text(buf, static_cast<size_t>(n));
    double ours, theirs;
    ASSERT_TRUE(ParseFloatText(text, &ours)) << text;
    std::from_chars(buf, buf + n, theirs);
    ASSERT_EQ(std::memcmp(&ours, &theirs, sizeof(double)), 0) << text;
  }
}

// A random file with quoted newlines everywhere parses to the same table whatever the chunk
// size and thread count, so chunk cuts never land inside a quoted field.
TEST(CsvTest, ChunkedParallelParseEqualsSequential) {
  std::mt19937_64 rng(7);
  std::string text = "id,name,x,flag\n";
  for (int row = 0; row < 3000; ++row) {
    text += std::to_string(row) + ",";
    switch (rng() % 4) {
      case 0:
        text += "\"multi\nline, \"\"quoted\"\"\"";
        break;
      case 1:
        text += "plain";
        break;
      case 2:
        text += "\"\"";
        break;
      default:
        text += "\"a\r\nb\"";
    }
    text += "," + std::to_string(static_cast<double>(rng() % 1000) / 8) + ",";
    text += (rng() % 2) ? "true\n" : "false\r\n";
  }
  CsvOptions one;
  one.threads = 1;
  one.chunk_bytes = 1 << 30;
  auto whole = Read(text, one);
  for (size_t chunk : {7u, 64u, 1000u, 4096u}) {
    CsvOptions many;
    many.threads = 3;
    many.chunk_bytes = chunk;
    auto parts = Read(text, many);
    ASSERT_EQ(parts.table.num_rows(), 3000u) << chunk;
    EXPECT_EQ(parts.table.source_lines, whole.table.source_lines) << chunk;
    for (size_t c = 0; c < 4; ++c) {
      ASSERT_EQ(parts.table.columns[c].type(), whole.table.columns[c].type());
      for (size_t r = 0; r < 3000; ++r) {
        ASSERT_EQ(parts.table.columns[c].ToText(r), whole.table.columns[c].ToText(r))
            << "chunk " << chunk << " column " << c << " row " << r;
      }
    }
  }
}

// Type decisions are global: a column that is int in early chunks and string in a late one is
// a string column everywhere, with the original text.
TEST(CsvTest, TypeJoinAcrossChunks) {
  std::string text = "v\n";
  for (int i = 0; i < 500; ++i) {
    text += std::to_string(i) + "\n";
  }
  text += "oops\n";
  CsvOptions options;
  options.chunk_bytes = 100;
  auto r = Read(text, options);
  ASSERT_EQ(r.table.columns[0].type(), DataType::kString);
  EXPECT_EQ(r.table.columns[0].String(7), "7");
  EXPECT_EQ(r.table.columns[0].String(500), "oops");
  std::string floats = "v\n";
  for (int i = 0; i < 500; ++i) {
    floats += std::to_string(i) + "\n";
  }
  floats += "0.5\n";
  auto f = Read(floats, options);
  ASSERT_EQ(f.table.columns[0].type(), DataType::kFloat64);
  EXPECT_DOUBLE_EQ(f.table.columns[0].Float(499), 499.0);
}

TEST(CsvTest, FileErrors) {
  auto missing = ReadCsvFile("/nonexistent/plinth.csv", {});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  std::string path = ::testing::TempDir() + "plinth_csv_empty.csv";
  { std::ofstream(path).flush(); }
  auto empty = ReadCsvFile(path, {});
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  std::remove(path.c_str());
}

}  // namespace
// Quote parity at chunk cuts comes from counting quotes and newlines 16 bytes at a time, in
// runs of up to 255 steps: a file long enough for several runs, with quoted delimiters,
// doubled quotes and newlines inside quotes, reads the same whatever the chunk size.
TEST(CsvTest, LongQuotedInputReadsTheSameAtAnyChunkSize) {
  std::string text = "id,note,x\n";
  for (int i = 0; i < 3000; ++i) {
    text += std::to_string(i) + ",";
    text += i % 3 == 0 ? "\"a, \"\"b\"\"\nc\"" : (i % 3 == 1 ? "plain" : "\"q\"");
    text += "," + std::to_string(i * 0.5) + "\n";
  }
  CsvOptions whole;
  whole.chunk_bytes = 1 << 30;
  auto a = ReadCsvString(text, whole);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->table.num_rows(), 3000u);
  EXPECT_EQ(a->table.columns[1].String(0), "a, \"b\"\nc");
  for (size_t chunk : {size_t{97}, size_t{4096}, size_t{5000}}) {
    CsvOptions small;
    small.chunk_bytes = chunk;
    auto b = ReadCsvString(text, small);
    ASSERT_TRUE(b.ok()) << chunk << ": " << b.status().ToString();
    ASSERT_EQ(b->table.num_rows(), 3000u) << chunk;
    for (size_t r = 0; r < 3000; r += 7) {
      EXPECT_EQ(b->table.columns[1].String(r), a->table.columns[1].String(r)) << chunk << " " << r;
      EXPECT_EQ(b->table.SourceLine(r), a->table.SourceLine(r)) << chunk << " " << r;
    }
  }
}

// The bit-mask fast path (plain chunks: no CR, quotes only around whole fields) must read
// exactly what the general tokenizer reads. The same random text with CRLF line ends goes
// through the general one: values, row lines and bad rows must agree.
TEST(CsvTest, PlainChunksReadLikeTheGeneralTokenizer) {
  std::mt19937 rng(5);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string> lines = {"a,b,c"};
    const int rows = 50 + static_cast<int>(rng() % 400);
    for (int r = 0; r < rows; ++r) {
      const int kind = static_cast<int>(rng() % 20);
      if (kind == 0) {
        lines.emplace_back("");  // blank line
      } else if (kind == 1 && round % 2 == 0) {
        lines.emplace_back("1,2");  // too few fields
      } else if (kind == 2 && round % 3 == 0) {
        lines.emplace_back("\"x,y\",2,3");  // a delimiter inside quotes
      } else if (kind == 3 && round % 5 == 0) {
        lines.emplace_back("\"say \"\"hi\"\"\",2,3");  // doubled quotes
      } else if (kind == 5 && round % 3 == 1) {
        lines.emplace_back("\"two\nlines\",2,3");  // a line break inside quotes
      } else if (kind == 6 && round % 4 == 1) {
        lines.emplace_back("a\"b,2,3");  // a quote inside an unquoted field (a bad row)
      } else if (kind == 4 && round % 2 == 1) {
        lines.emplace_back("1,2,3,4,5");  // too many fields
      } else {
        auto field = [&](int i) -> std::string {
          switch (rng() % 5) {
            case 0:
              return "";
            case 1:
              return "\"s" + std::to_string(i) + "\"";
            case 2:
              return "\"\"";
            default:
              return std::to_string(static_cast<int>(rng() % 1000) - 500);
          }
        };
        lines.push_back(field(0) + "," + field(1) + "," + field(2));
      }
    }
    std::string lf, crlf;
    for (size_t i = 0; i < lines.size(); ++i) {
      const bool last = i + 1 == lines.size();
      lf += lines[i] + (last && round % 4 == 0 ? "" : "\n");
      crlf += lines[i] + (last && round % 4 == 0 ? "" : "\r\n");
    }
    CsvOptions options;
    options.bad_rows = BadRowMode::kCollect;
    options.chunk_bytes = 64 + rng() % 512;
    for (auto& [name, type] : std::map<std::string, DataType>{
             {"a", DataType::kString}, {"b", DataType::kString}, {"c", DataType::kString}}) {
      options.column_types[name] = type;
    }
    auto plain = ReadCsvString(lf, options);
    auto general = ReadCsvString(crlf, options);
    ASSERT_TRUE(plain.ok() && general.ok()) << round;
    ASSERT_EQ(plain->table.num_rows(), general->table.num_rows()) << round;
    ASSERT_EQ(plain->bad_rows.size(), general->bad_rows.size()) << round;
    for (size_t i = 0; i < plain->bad_rows.size(); ++i) {
      EXPECT_EQ(plain->bad_rows[i].line, general->bad_rows[i].line) << round;
      EXPECT_EQ(plain->bad_rows[i].reason, general->bad_rows[i].reason) << round;
    }
    for (size_t r = 0; r < plain->table.num_rows(); ++r) {
      EXPECT_EQ(plain->table.SourceLine(r), general->table.SourceLine(r)) << round << " " << r;
      for (size_t c = 0; c < 3; ++c) {
        const Column& x = plain->table.columns[c];
        const Column& y = general->table.columns[c];
        ASSERT_EQ(x.IsValid(r), y.IsValid(r)) << round << " " << r << " " << c;
        if (x.IsValid(r)) {
          EXPECT_EQ(x.String(r), y.String(r)) << round << " " << r << " " << c;
        }
      }
    }
    // Reading some columns keeps only their fields' spans: the same values, lines and bad
    // rows as the whole read, through both tokenizers.
    for (const std::vector<std::string>& only :
         {std::vector<std::string>{"b"}, std::vector<std::string>{"a", "c"},
          std::vector<std::string>{"c"}}) {
      CsvOptions some = options;
      some.only_columns = only;
      for (const std::string* text : {&lf, &crlf}) {
        auto part = ReadCsvString(*text, some);
        ASSERT_TRUE(part.ok()) << round;
        ASSERT_EQ(part->table.columns.size(), only.size()) << round;
        ASSERT_EQ(part->table.num_rows(), plain->table.num_rows()) << round;
        ASSERT_EQ(part->bad_rows.size(), plain->bad_rows.size()) << round;
        for (size_t k = 0; k < only.size(); ++k) {
          const Column& x = part->table.columns[k];
          const Column& y = plain->table.columns[static_cast<size_t>(only[k][0] - 'a')];
          for (size_t r = 0; r < x.size(); ++r) {
            EXPECT_EQ(part->table.SourceLine(r), plain->table.SourceLine(r)) << round << " " << r;
            ASSERT_EQ(x.IsValid(r), y.IsValid(r)) << round << " " << r << " " << only[k];
            if (x.IsValid(r)) {
              EXPECT_EQ(x.String(r), y.String(r)) << round << " " << r << " " << only[k];
            }
          }
        }
      }
    }
  }
}

// Wide records, a few columns read: the fields between wanted ones are skipped a block of
// bit masks at a time. Values and row lines must match a whole read, through both
// tokenizers, with records that end early or run long among them.
TEST(CsvTest, SomeColumnsOfWideRecordsReadLikeAllColumns) {
  std::mt19937 rng(11);
  const int ncols = 40;
  for (int round = 0; round < 12; ++round) {
    std::string lf;
    for (int c = 0; c < ncols; ++c) {
      lf += (c ? ",c" : "c") + std::to_string(c);
    }
    lf += "\n";
    const int rows = 200 + static_cast<int>(rng() % 300);
    for (int r = 0; r < rows; ++r) {
      const int odd = static_cast<int>(rng() % 50);
      const int fields = round % 3 == 1 && odd == 0   ? ncols - 3
                         : round % 3 == 2 && odd == 1 ? ncols + 2
                                                      : ncols;
      for (int c = 0; c < fields; ++c) {
        if (c) {
          lf += ",";
        }
        switch (rng() % 6) {
          case 0:
            break;
          case 1:
            lf += "\"s" + std::to_string(rng() % 100) + "\"";
            break;
          default:
            lf += std::to_string(static_cast<int>(rng() % 100000) - 50000);
        }
      }
      lf += "\n";
    }
    std::string crlf;
    for (char ch : lf) {
      crlf += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
    }
    CsvOptions options;
    options.bad_rows = BadRowMode::kCollect;
    options.chunk_bytes = 100 + rng() % 3000;
    for (int c = 0; c < ncols; ++c) {
      options.column_types["c" + std::to_string(c)] = DataType::kString;
    }
    auto all = ReadCsvString(lf, options);
    ASSERT_TRUE(all.ok()) << round;
    CsvOptions some = options;
    for (int c = 0; c < ncols; ++c) {
      if (rng() % 5 == 0 || (round % 4 == 0 && c == ncols - 1)) {
        some.only_columns.push_back("c" + std::to_string(c));
      }
    }
    if (some.only_columns.empty()) {
      some.only_columns.push_back("c7");
    }
    for (const std::string* text : {&lf, &crlf}) {
      auto part = ReadCsvString(*text, some);
      ASSERT_TRUE(part.ok()) << round;
      ASSERT_EQ(part->table.num_rows(), all->table.num_rows()) << round;
      ASSERT_EQ(part->bad_rows.size(), all->bad_rows.size()) << round;
      for (size_t i = 0; i < part->bad_rows.size(); ++i) {
        EXPECT_EQ(part->bad_rows[i].line, all->bad_rows[i].line) << round;
        EXPECT_EQ(part->bad_rows[i].reason, all->bad_rows[i].reason) << round;
      }
      for (size_t k = 0; k < some.only_columns.size(); ++k) {
        const Column& x = part->table.columns[k];
        const Column& y = all->table.columns[std::stoul(some.only_columns[k].substr(1))];
        for (size_t r = 0; r < x.size(); ++r) {
          ASSERT_EQ(part->table.SourceLine(r), all->table.SourceLine(r)) << round << " " << r;
          ASSERT_EQ(x.IsValid(r), y.IsValid(r)) << round << " " << r << " " << k;
          if (x.IsValid(r)) {
            ASSERT_EQ(x.String(r), y.String(r)) << round << " " << r << " " << k;
          }
        }
      }
    }
  }
}

}  // namespace plinth::data
