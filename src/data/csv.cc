#include "data/csv.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>

#include "data/parallel.h"

namespace plinth::data {
namespace {

// One field of a chunk: bytes [start, start + len) of the chunk, inside the quotes for a
// quoted field. kEscaped marks a quoted field holding doubled quotes to collapse.
struct Span {
  uint32_t start;
  uint32_t len;  // top bit: kEscaped
};
constexpr uint32_t kEscaped = 0x80000000u;
constexpr uint32_t kLenMask = 0x7fffffffu;
// Chunk offsets are 32-bit; a chunk that grows past this (one enormous quoted field) fails.
constexpr size_t kMaxChunk = size_t{1} << 31;

// SWAR byte search (8 bytes per step): a mask with the high bit set in each byte of `word`
// equal to the byte broadcast in `pattern`. Bits above the lowest match may be false
// positives (borrows), so only the lowest set bit is trusted, or exact counts use
// ExactMatches.
constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;
inline uint64_t FirstMatchMask(uint64_t word, uint64_t pattern) {
  const uint64_t x = word ^ pattern;
  return (x - kOnes) & ~x & kHighs;
}
inline uint64_t ExactMatches(uint64_t word, uint64_t pattern) {
  const uint64_t x = word ^ pattern;
  const uint64_t t = ((x & ~kHighs) + ~kHighs) | x;
  return ~t & kHighs;
}
inline uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

// Counts bytes equal to a and to b in [p, end).
void CountTwo(const char* p, const char* end, char a, char b, uint64_t* count_a,
              uint64_t* count_b) {
  const uint64_t pa = kOnes * static_cast<uint8_t>(a);
  const uint64_t pb = kOnes * static_cast<uint8_t>(b);
  uint64_t na = 0, nb = 0;
#ifdef __SSE2__
  // 16 bytes a step (SSE2 is part of x86-64): per-byte match counters (cmpeq gives -1) summed
  // every 255 steps, before a byte counter could wrap, by _mm_sad_epu8.
  const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), zero = _mm_setzero_si128();
  while (end - p >= 16) {
    __m128i ca = zero, cb = zero;
    for (int k = 0; k < 255 && end - p >= 16; ++k, p += 16) {
      const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      ca = _mm_sub_epi8(ca, _mm_cmpeq_epi8(w, va));
      cb = _mm_sub_epi8(cb, _mm_cmpeq_epi8(w, vb));
    }
    const __m128i sa = _mm_sad_epu8(ca, zero), sb = _mm_sad_epu8(cb, zero);
    na += static_cast<uint64_t>(_mm_cvtsi128_si64(sa)) +
          static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sa, sa)));
    nb += static_cast<uint64_t>(_mm_cvtsi128_si64(sb)) +
          static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sb, sb)));
  }
#endif
  for (; p + 8 <= end; p += 8) {
    const uint64_t w = Load64(p);
    // One bit per matching byte at bit 7 of the byte: a multiply sums them into the top byte
    // (no popcnt instruction is assumed).
    na += ((ExactMatches(w, pa) >> 7) * kOnes) >> 56;
    nb += ((ExactMatches(w, pb) >> 7) * kOnes) >> 56;
  }
  for (; p < end; ++p) {
    na += *p == a;
    nb += *p == b;
  }
  *count_a = na;
  *count_b = nb;
}

// The inferred kind of a chunk's column; kNull means no non-null value was seen yet.
enum class Kind : uint8_t { kNull, kInt, kFloat, kBool, kTimestamp, kString };

Kind KindOf(DataType type) {
  switch (type) {
    case DataType::kInt64:
      return Kind::kInt;
    case DataType::kFloat64:
      return Kind::kFloat;
    case DataType::kBool:
      return Kind::kBool;
    case DataType::kTimestamp:
      return Kind::kTimestamp;
    case DataType::kString:
      return Kind::kString;
  }
  return Kind::kString;
}

DataType TypeOf(Kind kind) {
  switch (kind) {
    case Kind::kInt:
      return DataType::kInt64;
    case Kind::kFloat:
      return DataType::kFloat64;
    case Kind::kBool:
      return DataType::kBool;
    case Kind::kTimestamp:
      return DataType::kTimestamp;
    case Kind::kNull:
    case Kind::kString:
      return DataType::kString;
  }
  return DataType::kString;
}

// The type lattice: ints widen to floats, any other mix is a string.
Kind Join(Kind a, Kind b) {
  if (a == Kind::kNull) {
    return b;
  }
  if (b == Kind::kNull || a == b) {
    return a;
  }
  if ((a == Kind::kInt && b == Kind::kFloat) || (a == Kind::kFloat && b == Kind::kInt)) {
    return Kind::kFloat;
  }
  return Kind::kString;
}

inline std::string_view Trim(std::string_view s) {
  if (!s.empty() && s.front() > ' ' && s.back() > ' ') {
    return s;
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) {
    return false;
  }
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// A cheap test that rules out most non-null fields before IsNullText compares spellings.
inline bool MaybeNull(std::string_view text) {
  if (text.empty()) {
    return true;
  }
  const char c = text[0];
  return text.size() <= 8 && (c == 'N' || c == 'n' || c == '-' || c == '<' || c == '#' ||
                              (c == '1' && text.size() >= 3 && text[2] == '#'));
}
inline bool IsNull(std::string_view text) { return MaybeNull(text) && IsNullText(text); }

// One chunk's parse: fields row-major, each row's first line, malformed records, and then
// one converted column per table column.
struct ChunkColumn {
  Kind kind = Kind::kNull;
  size_t leading_nulls = 0;  // kNull: the rows, all null
  std::optional<Column> column;
  std::vector<CellTypeError> errors;  // rows local to the chunk
};

struct Chunk {
  const char* base = nullptr;
  const char* end = nullptr;
  int64_t first_line = 1;
  std::vector<Span> spans;
  std::vector<int64_t> lines;
  std::vector<BadRow> bad_rows;
  std::vector<ChunkColumn> columns;
  size_t rows() const { return lines.size(); }
};

class Tokenizer {
 public:
  Tokenizer(char delimiter, char quote)
      : delimiter_(delimiter),
        quote_(quote),
        pattern_delim_(kOnes * static_cast<uint8_t>(delimiter)),
        pattern_quote_(kOnes * static_cast<uint8_t>(quote)) {
    special_.fill(false);
    special_[static_cast<uint8_t>(delimiter)] = true;
    special_[static_cast<uint8_t>(quote)] = true;
    special_['\n'] = true;
    special_['\r'] = true;
  }

  // Tokenizes records of [chunk->base, chunk->end) into chunk->spans, at most `max_records`.
  // `ncols` 0 skips the field-count check. `stop_on_error` stops at the first malformed
  // record. `wanted` (ncols flags, or null for all) names the fields whose spans are kept:
  // each record then holds one span per wanted field, in order, so a suite reading 15 of 100
  // columns stores (and copies) 15 spans a row, not 100. Returns the position after the last
  // record read.
  const char* Run(Chunk* chunk, size_t ncols, size_t max_records, bool stop_on_error,
                  const uint8_t* wanted = nullptr) const {
#ifdef __SSE2__
    if (max_records == SIZE_MAX && ncols != 0 && wanted != nullptr &&
        RunPlain(chunk, ncols, wanted)) {
      return chunk->end;
    }
#endif
    return RunGeneral(chunk, ncols, max_records, stop_on_error, wanted);
  }

 private:
#ifdef __SSE2__
  // The common chunk: no CR, quotes only around whole fields that hold no delimiter, LF or
  // quote ("c5_000"), every record with `ncols` fields. Then a field ends at each delimiter
  // and a record at each LF, so 64 bytes at a time become bit masks and the fields are read
  // off their set bits (a few cycles a field instead of a byte loop). The quotes are checked
  // a block at a time, not per field: the bytes inside quotes (a prefix XOR of the quote
  // mask) must hold no delimiter or LF, an opening quote must start a field and a closing one
  // end it. Returns false, leaving the chunk untouched, when the chunk is not like that:
  // RunGeneral then reads it (and reports what is wrong, if anything).
  bool RunPlain(Chunk* chunk, size_t ncols, const uint8_t* wanted) const {
    const char* const base = chunk->base;
    const size_t size = static_cast<size_t>(chunk->end - base);
    if (std::memchr(base, '\r', size) != nullptr) {
      return false;
    }
    const __m128i vd = _mm_set1_epi8(delimiter_), vn = _mm_set1_epi8('\n'),
                  vq = _mm_set1_epi8(quote_);
    // Spans go to a per-thread buffer with room for any chunk (at most one field per byte,
    // plus one), written by index, then copied out once: no growth checks or fresh pages
    // per field. Every field's span is written; only a wanted field's moves the end on.
    thread_local std::vector<Span> scratch;
    if (scratch.size() < size + 2) {
      scratch.resize(size + 2);
    }
    Span* const spans = scratch.data();
    size_t nspans = 0;
    int64_t line = chunk->first_line;
    size_t field_start = 0;
    size_t nfields = 0;
    chunk->lines.reserve(size / 64 + 16);
    // run[f]: how many fields from f on are unwanted, the record's last field excepted.
    thread_local std::vector<uint32_t> run;
    run.assign(ncols, 0);
    for (size_t f = ncols - 1; f-- > 0;) {
      run[f] = wanted[f] ? 0 : run[f + 1] + 1;
    }
    // A field's span, its quotes (only ever both, around the whole field) left out.
    auto field_end = [&](size_t pos) __attribute__((always_inline)) {
      const size_t quoted = field_start < pos && base[field_start] == quote_;
      spans[nspans] = {static_cast<uint32_t>(field_start + quoted),
                       static_cast<uint32_t>(pos - field_start - 2 * quoted)};
      nspans += wanted[nfields];
      ++nfields;
      field_start = pos + 1;
    };
    auto mask64 = [](const char* at, __m128i v) __attribute__((always_inline)) {
      uint64_t m = 0;
      for (int k = 0; k < 4; ++k) {
        const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at + 16 * k));
        m |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(w, v))))
             << (16 * k);
      }
      return m;
    };
    uint64_t inside_carry = 0;    // all ones when the previous block ended inside quotes
    uint64_t boundary_carry = 1;  // bit 0: the byte before this block ended a field (or none)
    alignas(16) char tail[64];
    for (size_t block = 0; block < size; block += 64) {
      const char* at = base + block;
      uint64_t valid = ~uint64_t{0};
      if (size - block < 64) {  // the last bytes, padded with bytes that are none of the three
        std::memset(tail, 0, sizeof tail);
        std::memcpy(tail, at, size - block);
        at = tail;
        valid = (uint64_t{1} << (size - block)) - 1;
      }
      const uint64_t n = mask64(at, vn) & valid, q = mask64(at, vq) & valid;
      const uint64_t b = (mask64(at, vd) & valid) | n;
      if (q != 0 || inside_carry != 0) {
        uint64_t inside = q;  // from an opening quote up to its closing quote, exclusive
        for (int shift = 1; shift < 64; shift *= 2) {
          inside ^= inside << shift;
        }
        inside ^= inside_carry;
        const uint64_t opening = q & inside, closing = q & ~inside;
        const size_t next = block + 64;
        const bool next_ends = next >= size || base[next] == delimiter_ || base[next] == '\n';
        const uint64_t ends = (b >> 1) | (next_ends ? uint64_t{1} << 63 : 0) |
                              (valid == ~uint64_t{0} ? 0 : (valid + 1) >> 1);
        if ((b & inside) != 0 || (opening & ~((b << 1) | boundary_carry)) != 0 ||
            (closing & ~ends) != 0) {
          chunk->lines.clear();
          return false;
        }
        inside_carry = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
      }
      boundary_carry = b >> 63;
      for (uint64_t m = b; m != 0; m &= m - 1) {
        if (const size_t skip = run[nfields]; skip != 0) {
          // Fields nobody wants: drop their ends from the mask without writing spans. Only
          // delimiters can end them (a record's last field is never skipped).
          const uint64_t before = m;
          size_t dropped_ends = 0;  // (a counting loop: the build targets CPUs without POPCNT)
          for (; dropped_ends < skip && m != 0; ++dropped_ends) {
            m &= m - 1;
          }
          const uint64_t dropped = before & ~m;
          if ((dropped & n) != 0) {  // a record ended early, or a blank line: RunGeneral's
            chunk->lines.clear();
            return false;
          }
          nfields += dropped_ends;
          field_start = block + static_cast<size_t>(64 - __builtin_clzll(dropped));
          if (m == 0) {
            break;
          }
        }
        const int bit = __builtin_ctzll(m);
        const size_t pos = block + static_cast<size_t>(bit);
        if (((n >> bit) & 1) == 0) {
          if (nfields + 1 >= ncols) {  // more fields than the header
            chunk->lines.clear();
            return false;
          }
          field_end(pos);
          continue;
        }
        if (nfields == 0 && pos == field_start) {  // a blank line
          ++line;
          field_start = pos + 1;
          continue;
        }
        if (nfields + 1 != ncols) {  // fewer fields than the header
          chunk->lines.clear();
          return false;
        }
        field_end(pos);
        chunk->lines.push_back(line);
        ++line;
        nfields = 0;
      }
    }
    if (inside_carry != 0) {  // a quote never closed
      chunk->lines.clear();
      return false;
    }
    if (field_start < size || nfields > 0) {  // a last record without its LF
      if (nfields + 1 != ncols) {
        chunk->lines.clear();
        return false;
      }
      field_end(size);
      chunk->lines.push_back(line);
    }
    chunk->spans.assign(spans, spans + nspans);
    return true;
  }
#endif

  const char* RunGeneral(Chunk* chunk, size_t ncols, size_t max_records, bool stop_on_error,
                         const uint8_t* wanted) const {
    const char* const base = chunk->base;
    const char* const end = chunk->end;
    const char* p = base;
    int64_t line = chunk->first_line;
    const char* line_start = base;
    const char q = quote_;
    const char delim = delimiter_;
    size_t records = 0;

    while (p < end && records < max_records) {
      if (*p == '\n') {
        ++p, ++line, line_start = p;
        continue;
      }
      if (*p == '\r' && p + 1 < end && p[1] == '\n') {
        p += 2, ++line, line_start = p;
        continue;
      }
      const int64_t record_line = line;
      const size_t first_span = chunk->spans.size();
      size_t nfields = 0;
      bool bad = false;
      BadRow bad_row;
      auto mark_bad = [&](const char* at, int64_t at_line, const char* at_line_start,
                          std::string reason) {
        if (!bad) {
          bad = true;
          bad_row = {record_line, at - at_line_start + 1, at_line, std::move(reason)};
        }
      };
      // Skips a quoted section starting at the quote under p; false when it never closes.
      auto skip_quoted = [&]() -> bool {
        ++p;
        while (p < end) {
          const char c = *p;
          if (c == q) {
            if (p + 1 < end && p[1] == q) {
              p += 2;
              continue;
            }
            ++p;
            return true;
          }
          if (c == '\n') {
            ++line, line_start = p + 1;
          }
          ++p;
        }
        return false;
      };
      // Advances over unquoted text to the next delimiter or record end.
      auto scan_unquoted = [&]() {
        for (;;) {
          while (p + 8 <= end) {
            const uint64_t w = Load64(p);
            const uint64_t m = FirstMatchMask(w, pattern_delim_) |
                               FirstMatchMask(w, pattern_quote_) | FirstMatchMask(w, kOnes * '\n') |
                               FirstMatchMask(w, kOnes * '\r');
            if (m != 0) {
              p += __builtin_ctzll(m) >> 3;
              break;
            }
            p += 8;
          }
          while (p < end && !special_[static_cast<uint8_t>(*p)]) {
            ++p;
          }
          if (p >= end || *p == delim || *p == '\n') {
            return;
          }
          if (*p == '\r') {
            if (p + 1 < end && p[1] == '\n') {
              return;
            }
            ++p;  // a lone CR is data
            continue;
          }
          // A quote inside an unquoted field.
          const char* at = p;
          const int64_t at_line = line;
          const char* at_line_start = line_start;
          mark_bad(at, at_line, at_line_start, "quote character inside an unquoted field");
          if (!skip_quoted()) {
            return;
          }
        }
      };
      const char* extra_field = nullptr;
      int64_t extra_line = 0;
      const char* extra_line_start = nullptr;
      for (;;) {
        if (ncols != 0 && nfields == ncols && extra_field == nullptr) {
          extra_field = p, extra_line = line, extra_line_start = line_start;
        }
        uint32_t flags = 0;
        const char* content_begin = p;
        const char* content_end;
        if (p < end && *p == q) {
          const char* open = p;
          const int64_t open_line = line;
          const char* open_line_start = line_start;
          ++p;
          content_begin = p;
          bool closed = false;
          while (p < end) {
            const char* next = static_cast<const char*>(std::memchr(p, q, end - p));
            const char* stop = next ? next : end;
            for (const char* nl = static_cast<const char*>(std::memchr(p, '\n', stop - p));
                 nl != nullptr;
                 nl = static_cast<const char*>(std::memchr(nl + 1, '\n', stop - nl - 1))) {
              ++line, line_start = nl + 1;
            }
            p = stop;
            if (next == nullptr) {
              break;
            }
            if (p + 1 < end && p[1] == q) {
              flags = kEscaped;
              p += 2;
              continue;
            }
            closed = true;
            break;
          }
          if (!closed) {
            mark_bad(open, open_line, open_line_start, "unterminated quoted field");
            p = end;
            content_end = end;
          } else {
            content_end = p;
            ++p;
            if (p < end && *p != delim && *p != '\n' &&
                !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
              mark_bad(p, line, line_start, "unexpected text after a closing quote");
              scan_unquoted();
            }
          }
        } else {
          scan_unquoted();
          content_end = p;
        }
        if (wanted == nullptr || (nfields < ncols && wanted[nfields])) {
          chunk->spans.push_back({static_cast<uint32_t>(content_begin - base),
                                  static_cast<uint32_t>(content_end - content_begin) | flags});
        }
        ++nfields;
        if (p >= end) {
          break;
        }
        if (*p == delim) {
          ++p;
          continue;
        }
        if (ncols != 0 && nfields < ncols) {
          mark_bad(
              p, line, line_start,
              "expected " + std::to_string(ncols) + " fields, found " + std::to_string(nfields));
        }
        p += (*p == '\r') ? 2 : 1;
        ++line, line_start = p;
        break;
      }
      if (ncols != 0 && !bad && nfields != ncols) {
        if (nfields > ncols) {
          mark_bad(
              extra_field, extra_line, extra_line_start,
              "expected " + std::to_string(ncols) + " fields, found " + std::to_string(nfields));
        } else {
          // Only reached at the end of input (a newline-terminated record was checked above).
          mark_bad(
              p, line, line_start,
              "expected " + std::to_string(ncols) + " fields, found " + std::to_string(nfields));
        }
      }
      ++records;
      if (bad) {
        chunk->spans.resize(first_span);
        chunk->bad_rows.push_back(std::move(bad_row));
        if (stop_on_error) {
          return p;
        }
        continue;
      }
      chunk->lines.push_back(record_line);
    }
    return p;
  }

  char delimiter_;
  char quote_;
  uint64_t pattern_delim_;
  uint64_t pattern_quote_;
  std::array<bool, 256> special_;
};

// The text of a field, with doubled quotes collapsed into `scratch` when needed.
std::string_view FieldText(const Chunk& chunk, Span span, char quote, std::string* scratch) {
  std::string_view raw(chunk.base + span.start, span.len & kLenMask);
  if ((span.len & kEscaped) == 0) {
    return raw;
  }
  scratch->clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    scratch->push_back(raw[i]);
    if (raw[i] == quote && i + 1 < raw.size() && raw[i + 1] == quote) {
      ++i;
    }
  }
  return *scratch;
}

// Parses a non-null value as the widest-fitting kind and appends nothing: tells the kind.
Kind Classify(std::string_view text) {
  int64_t i;
  if (ParseInt64Text(text, &i)) {
    return Kind::kInt;
  }
  int64_t ts;
  if (text.size() >= 10 && text[4] == '-' && ParseTimestampText(text, &ts)) {
    return Kind::kTimestamp;
  }
  double d;
  if (ParseFloatText(text, &d)) {
    return Kind::kFloat;
  }
  bool b;
  if (ParseBoolText(text, &b)) {
    return Kind::kBool;
  }
  return Kind::kString;
}

// Appends `text` to a column of kind `kind`; false when it does not parse as that kind.
bool AppendAs(Kind kind, std::string_view text, Column* column) {
  switch (kind) {
    case Kind::kInt: {
      int64_t v;
      if (!ParseInt64Text(text, &v)) {
        return false;
      }
      column->AppendInt(v);
      return true;
    }
    case Kind::kFloat: {
      double v;
      if (!ParseFloatText(text, &v)) {
        return false;
      }
      column->AppendFloat(v);
      return true;
    }
    case Kind::kBool: {
      bool v;
      if (!ParseBoolText(text, &v)) {
        return false;
      }
      column->AppendBool(v);
      return true;
    }
    case Kind::kTimestamp: {
      int64_t v;
      if (!ParseTimestampText(text, &v)) {
        return false;
      }
      column->AppendInt(v);
      return true;
    }
    case Kind::kString:
      column->AppendString(text);
      return true;
    case Kind::kNull:
      return false;
  }
  return false;
}

Column IntsToFloats(const Column& ints) {
  Column out("", DataType::kFloat64);
  out.Reserve(ints.size());
  for (size_t i = 0; i < ints.size(); ++i) {
    if (ints.IsValid(i)) {
      out.AppendFloat(static_cast<double>(ints.Int(i)));
    } else {
      out.AppendNull();
    }
  }
  return out;
}

// The spans of one column: a chunk keeps `stride` spans a record (its wanted fields) and the
// column's are at `slot` in each.
Column StringsFromSpans(const Chunk& chunk, size_t slot, size_t stride, char quote) {
  Column out("", DataType::kString);
  const size_t rows = chunk.rows();
  size_t bytes = 0;
  for (size_t r = 0; r < rows; ++r) {
    bytes += chunk.spans[r * stride + slot].len & kLenMask;
  }
  out.Reserve(rows, bytes);
  std::string scratch;
  for (size_t r = 0; r < rows; ++r) {
    std::string_view text = FieldText(chunk, chunk.spans[r * stride + slot], quote, &scratch);
    if (IsNull(text)) {
      out.AppendNull();
    } else {
      out.AppendString(text);
    }
  }
  return out;
}

// Converts column c of a tokenized chunk (its spans at `slot` of each record's `stride`): to
// `forced` when given (cells that do not parse become null and are listed), else to the
// narrowest kind that holds every value.
void ConvertChunkColumn(const Chunk& chunk, size_t c, size_t slot, size_t stride, char quote,
                        std::optional<DataType> forced, ChunkColumn* out) {
  const size_t rows = chunk.rows();
  std::string scratch;
  if (forced) {
    out->kind = KindOf(*forced);
    if (out->kind == Kind::kString) {
      out->column = StringsFromSpans(chunk, slot, stride, quote);
      return;
    }
    Column column("", *forced);
    column.Reserve(rows);
    for (size_t r = 0; r < rows; ++r) {
      std::string_view text = FieldText(chunk, chunk.spans[r * stride + slot], quote, &scratch);
      if (IsNull(text)) {
        column.AppendNull();
      } else if (!AppendAs(out->kind, text, &column)) {
        column.AppendNull();
        out->errors.push_back({r, chunk.lines[r], static_cast<int>(c), std::string(text)});
      }
    }
    out->column = std::move(column);
    return;
  }
  Kind kind = Kind::kNull;
  size_t leading_nulls = 0;
  std::optional<Column> column;
  for (size_t r = 0; r < rows; ++r) {
    const Span span = chunk.spans[r * stride + slot];
    if (span.len & kEscaped) {  // holds a quote: only a string can
      kind = Kind::kString;
      break;
    }
    std::string_view text(chunk.base + span.start, span.len);
    if (IsNull(text)) {
      if (kind == Kind::kNull) {
        ++leading_nulls;
      } else {
        column->AppendNull();
      }
      continue;
    }
    if (kind == Kind::kNull) {
      kind = Classify(text);
      if (kind == Kind::kString) {
        break;
      }
      column.emplace("", TypeOf(kind));
      column->Reserve(rows);
      for (size_t i = 0; i < leading_nulls; ++i) {
        column->AppendNull();
      }
    }
    if (AppendAs(kind, text, &*column)) {
      continue;
    }
    const Kind joined = Join(kind, Classify(text));
    if (joined == Kind::kFloat && kind == Kind::kInt) {
      column = IntsToFloats(*column);
      kind = Kind::kFloat;
      if (AppendAs(kind, text, &*column)) {
        continue;
      }
    }
    kind = Kind::kString;
    break;
  }
  out->kind = kind;
  if (kind == Kind::kString) {
    out->column = StringsFromSpans(chunk, slot, stride, quote);
  } else if (kind == Kind::kNull) {
    out->leading_nulls = rows;
  } else {
    out->column = std::move(column);
  }
}

std::string FormatBadRow(const BadRow& bad) {
  std::string out = "line " + std::to_string(bad.error_line) + ", column " +
                    std::to_string(bad.column) + ": " + bad.reason;
  if (bad.error_line != bad.line) {
    out += " (in the record that starts at line " + std::to_string(bad.line) + ")";
  }
  return out;
}

// pandas' names for unnamed and repeated header fields.
std::vector<std::string> UniqueNames(std::vector<std::string> names) {
  std::set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      names[i] = "Unnamed: " + std::to_string(i);
    }
    std::string candidate = names[i];
    for (int k = 1; seen.count(candidate); ++k) {
      candidate = names[i] + "." + std::to_string(k);
    }
    names[i] = candidate;
    seen.insert(candidate);
  }
  return names;
}

Result<CsvReadResult> ParseCsv(std::string_view input, const CsvOptions& options) {
  PLINTH_RETURN_IF_ERROR(options.Validate());
  const char* begin = input.data();
  const char* const end = input.data() + input.size();
  if (input.size() >= 3 && std::memcmp(begin, "\xEF\xBB\xBF", 3) == 0) {
    begin += 3;
  }
  if (begin == end) {
    return InvalidArgument("the CSV input is empty");
  }
  const Tokenizer tokenizer(options.delimiter, options.quote);
  std::string scratch;

  // The first record: the header, or the first data row telling the column count.
  Chunk head;
  head.base = begin;
  head.end = std::min(end, begin + std::min(kMaxChunk - 1, static_cast<size_t>(end - begin)));
  const char* after_head = tokenizer.Run(&head, 0, 1, true);
  if (!head.bad_rows.empty()) {
    return InvalidArgument(FormatBadRow(head.bad_rows.front()));
  }
  if (head.spans.empty()) {
    return InvalidArgument("the CSV input has no records");
  }
  const size_t ncols = head.spans.size();
  std::vector<std::string> names;
  for (size_t c = 0; c < ncols; ++c) {
    names.emplace_back(options.header ? FieldText(head, head.spans[c], options.quote, &scratch)
                                      : "column_" + std::to_string(c + 1));
  }
  names = UniqueNames(std::move(names));
  const char* body = options.header ? after_head : begin;
  int64_t body_line = 1;
  for (const char* p = begin; p < body; ++p) {
    body_line += *p == '\n';
  }

  // Columns to type and keep, and each one's index in the table.
  std::vector<uint8_t> wanted(ncols, 1);
  if (!options.only_columns.empty()) {
    bool any = false;
    for (size_t c = 0; c < ncols; ++c) {
      wanted[c] = std::find(options.only_columns.begin(), options.only_columns.end(), names[c]) !=
                  options.only_columns.end();
      any = any || wanted[c];
    }
    wanted[0] = wanted[0] || !any;
  }
  // A wanted column's index in the table is also its slot among a record's kept spans.
  std::vector<int> table_index(ncols, -1);
  int kept = 0;
  for (size_t c = 0; c < ncols; ++c) {
    if (wanted[c]) {
      table_index[c] = kept++;
    }
  }
  const size_t stride = static_cast<size_t>(kept);

  // Pass 1: quotes and newlines per raw chunk, then cuts at newlines outside quotes. A read
  // of a few columns does less work a byte, so its chunks are larger (up to 4×, keeping about
  // as many kept fields a chunk as a whole read; measured ~5 % faster on 15 of 100 columns).
  const size_t body_size = static_cast<size_t>(end - body);
  const size_t chunk_bytes = options.chunk_bytes * std::clamp<size_t>(ncols / stride, 1, 4);
  const size_t raw_chunks = std::max<size_t>(1, body_size / chunk_bytes);
  std::vector<const char*> raw(raw_chunks + 1);
  for (size_t i = 0; i <= raw_chunks; ++i) {
    raw[i] = body + body_size * i / raw_chunks;
  }
  std::vector<uint64_t> quotes(raw_chunks), newlines(raw_chunks);
  const char q = options.quote;
  ParallelFor(raw_chunks, options.threads,
              [&](size_t i) { CountTwo(raw[i], raw[i + 1], q, '\n', &quotes[i], &newlines[i]); });
  std::vector<const char*> cuts{body};
  std::vector<int64_t> cut_lines{body_line};
  uint64_t quotes_before = 0;
  int64_t line_at_raw = body_line;
  for (size_t i = 1; i < raw_chunks; ++i) {
    quotes_before += quotes[i - 1];
    line_at_raw += static_cast<int64_t>(newlines[i - 1]);
    bool in_quotes = quotes_before & 1;
    const char* p = raw[i];
    int64_t line = line_at_raw;
    for (; p < end; ++p) {
      if (*p == q) {
        in_quotes = !in_quotes;
      } else if (*p == '\n') {
        ++line;
        if (!in_quotes) {
          ++p;
          break;
        }
      }
    }
    if (p >= end || p <= cuts.back()) {
      continue;
    }
    cuts.push_back(p);
    cut_lines.push_back(line);
  }
  cuts.push_back(end);

  // Pass 2: tokenize and convert each chunk on its own.
  const size_t nchunks = cuts.size() - 1;
  std::vector<Chunk> chunks(nchunks);
  std::vector<std::optional<DataType>> forced(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    auto it = options.column_types.find(names[c]);
    if (it != options.column_types.end()) {
      forced[c] = it->second;
    }
  }
  for (size_t i = 0; i < nchunks; ++i) {
    if (static_cast<size_t>(cuts[i + 1] - cuts[i]) >= kMaxChunk) {
      return InvalidArgument("a CSV record longer than 2 GiB (an unclosed quote?) near line " +
                             std::to_string(cut_lines[i]));
    }
  }
  const bool stop_on_error = options.bad_rows == BadRowMode::kError;
  ParallelFor(nchunks, options.threads, [&](size_t i) {
    Chunk& chunk = chunks[i];
    chunk.base = cuts[i];
    chunk.end = cuts[i + 1];
    chunk.first_line = cut_lines[i];
    chunk.spans.reserve(static_cast<size_t>(chunk.end - chunk.base) / 6 * stride / ncols + 16);
    tokenizer.Run(&chunk, ncols, SIZE_MAX, stop_on_error, wanted.data());
    if (stop_on_error && !chunk.bad_rows.empty()) {
      return;
    }
    chunk.columns.resize(ncols);
    for (size_t c = 0; c < ncols; ++c) {
      if (wanted[c]) {
        ConvertChunkColumn(chunk, c, static_cast<size_t>(table_index[c]), stride, options.quote,
                           forced[c], &chunk.columns[c]);
      }
    }
    // The field index is as large as the typed columns; drop it now and tokenize again in the
    // rare case a column's final type turns out to be string after all.
    chunk.spans = std::vector<Span>();
  });

  CsvReadResult result;
  result.bytes = input.size();
  for (const Chunk& chunk : chunks) {
    for (const BadRow& bad : chunk.bad_rows) {
      if (stop_on_error) {
        return InvalidArgument(FormatBadRow(bad));
      }
      result.bad_rows.push_back(bad);
    }
  }

  // Pass 3: one type per column, chunks concatenated in order (in parallel over columns).
  std::vector<size_t> row_offset(nchunks + 1, 0);
  for (size_t i = 0; i < nchunks; ++i) {
    row_offset[i + 1] = row_offset[i] + chunks[i].rows();
  }
  const size_t total_rows = row_offset[nchunks];
  std::vector<Kind> kinds(ncols, Kind::kNull);
  for (size_t c = 0; c < ncols; ++c) {
    for (const Chunk& chunk : chunks) {
      kinds[c] = Join(kinds[c], chunk.columns[c].kind);
    }
  }
  std::vector<std::once_flag> retokenized(nchunks);
  std::vector<std::optional<Column>> columns(ncols);
  ParallelFor(ncols, options.threads, [&](size_t c) {
    if (!wanted[c]) {
      return;
    }
    const Kind kind = kinds[c];
    Column column(names[c], TypeOf(kind));
    size_t bytes = 0;
    for (const Chunk& chunk : chunks) {
      const ChunkColumn& part = chunk.columns[c];
      if (part.column && part.kind == Kind::kString) {
        bytes += part.column->string_bytes();
      }
    }
    column.Reserve(total_rows, bytes);
    for (Chunk& chunk : chunks) {
      ChunkColumn& part = chunk.columns[c];
      if (part.kind == Kind::kNull) {
        for (size_t r = 0; r < part.leading_nulls; ++r) {
          column.AppendNull();
        }
      } else if (part.kind == kind) {
        column.AppendColumn(*part.column);
      } else if (kind == Kind::kFloat) {
        column.AppendColumn(IntsToFloats(*part.column));
      } else {
        std::call_once(retokenized[static_cast<size_t>(&chunk - chunks.data())], [&] {
          Chunk again;
          again.base = chunk.base;
          again.end = chunk.end;
          again.first_line = chunk.first_line;
          tokenizer.Run(&again, ncols, SIZE_MAX, false, wanted.data());
          chunk.spans = std::move(again.spans);
        });
        column.AppendColumn(
            StringsFromSpans(chunk, static_cast<size_t>(table_index[c]), stride, options.quote));
      }
      part.column.reset();
    }
    columns[c] = std::move(column);
  });
  result.table.columns.reserve(static_cast<size_t>(kept));
  for (auto& column : columns) {
    if (column) {
      result.table.columns.push_back(std::move(*column));
    }
  }
  result.file_columns = names;
  result.table.source_lines.reserve(total_rows);
  for (size_t i = 0; i < nchunks; ++i) {
    const Chunk& chunk = chunks[i];
    result.table.source_lines.insert(result.table.source_lines.end(), chunk.lines.begin(),
                                     chunk.lines.end());
    for (const ChunkColumn& part : chunk.columns) {
      for (CellTypeError error : part.errors) {
        error.row += row_offset[i];
        error.column = table_index[static_cast<size_t>(error.column)];
        result.type_errors.push_back(std::move(error));
      }
    }
  }
  std::sort(result.type_errors.begin(), result.type_errors.end(),
            [](const CellTypeError& a, const CellTypeError& b) {
              return a.row != b.row ? a.row < b.row : a.column < b.column;
            });
  return result;
}

// A read-only memory map of a whole file, unmapped on destruction.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) {
      munmap(data_, size_);
    }
  }

  Status Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      return Status(err == ENOENT ? StatusCode::kNotFound : StatusCode::kInternal,
                    "cannot open " + path + ": " + std::strerror(err));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return Internal("cannot stat " + path + ": " + std::strerror(err));
    }
    if (S_ISDIR(st.st_mode)) {
      ::close(fd);
      return InvalidArgument(path + " is a directory");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* mapped = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (mapped == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        return Internal("cannot map " + path + ": " + std::strerror(err));
      }
      data_ = mapped;
      // Ask for read-ahead of the whole file (the advice values are not flags: this was once
      // written MADV_SEQUENTIAL | MADV_WILLNEED, which is MADV_WILLNEED).
      madvise(data_, size_, MADV_WILLNEED);
    }
    ::close(fd);
    return Status::Ok();
  }

  std::string_view View() const { return {static_cast<const char*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

Status CsvOptions::Validate() const {
  if (delimiter == quote) {
    return InvalidArgument("the delimiter and the quote character must differ");
  }
  if (delimiter == '\n' || delimiter == '\r' || quote == '\n' || quote == '\r') {
    return InvalidArgument("the delimiter and the quote character cannot be a newline");
  }
  if (chunk_bytes == 0) {
    return InvalidArgument("chunk_bytes must be positive");
  }
  if (threads < 0) {
    return InvalidArgument("threads must not be negative");
  }
  return Status::Ok();
}

bool IsNullText(std::string_view text) {
  // Cheap rejection first: this runs once per field.
  if (text.empty()) {
    return true;
  }
  if (text.size() > 8) {
    return false;
  }
  // Every spelling starts with one of these; a digit only in "1.#IND"/"1.#QNAN".
  switch (text[0]) {
    case 'N':
    case 'n':
    case '-':
    case '<':
    case '#':
      break;
    case '1':
      if (text.size() < 3 || text[2] != '#') {
        return false;
      }
      break;
    default:
      return false;
  }
  // pandas' STR_NA_VALUES (pandas/_libs/parsers.pyx), the empty string handled above.
  static constexpr std::array<std::string_view, 18> kNulls = {
      "NA",   "N/A",  "n/a",  "NULL", "null",     "NaN",    "nan",     "-NaN",    "-nan",
      "None", "<NA>", "#N/A", "#NA",  "#N/A N/A", "1.#IND", "-1.#IND", "1.#QNAN", "-1.#QNAN"};
  for (std::string_view null : kNulls) {
    if (text == null) {
      return true;
    }
  }
  return false;
}

bool ParseInt64Text(std::string_view text, int64_t* out) {
  text = Trim(text);
  if (text.empty()) {
    return false;
  }
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    i = 1;
  }
  if (i == text.size() || text.size() - i > 19) {
    return false;
  }
  uint64_t v = 0;
  for (; i < text.size(); ++i) {
    const unsigned d = static_cast<unsigned char>(text[i]) - '0';
    if (d > 9) {
      return false;
    }
    v = v * 10 + d;
  }
  // 19 digits fit in uint64; the signed range is checked here.
  if (negative) {
    if (v > uint64_t{1} << 63) {
      return false;
    }
    *out = static_cast<int64_t>(~v + 1);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) {
      return false;
    }
    *out = static_cast<int64_t>(v);
  }
  return true;
}

bool ParseFloatText(std::string_view text, double* out) {
  text = Trim(text);
  // Clinger's fast path: [-]digits[.digits] whose digits form a mantissa of at most 2^53 with
  // at most 22 fraction digits is that mantissa divided by an exact power of ten, so one
  // division rounds correctly. Most CSV numbers take it (eight digits at a time); everything
  // else goes to std::from_chars.
  {
    static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char* p = text.data();
    const char* const end = p + text.size();
    const bool negative = p < end && *p == '-';
    p += negative;
    uint64_t mantissa = 0;
    int digits = 0;
    auto take_digits = [&]() {
      while (end - p >= 8 && digits <= 11) {
        const uint64_t w = Load64(p);
        if ((((w & 0xF0F0F0F0F0F0F0F0ull) |
              (((w + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) !=
             0x3333333333333333ull)) {
          break;
        }
        // Eight ASCII digits to their value (fast_float's parse_eight_digits_unrolled).
        uint64_t v = w - 0x3030303030303030ull;
        v = (v * 10) + (v >> 8);
        v = (((v & 0x000000FF000000FFull) * 0x000F424000000064ull) +
             (((v >> 16) & 0x000000FF000000FFull) * 0x0000271000000001ull)) >>
            32;
        mantissa = mantissa * 100000000 + static_cast<uint32_t>(v);
        digits += 8;
        p += 8;
      }
      while (p < end && *p >= '0' && *p <= '9' && digits < 19) {
        mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
        ++digits;
        ++p;
      }
    };
    take_digits();
    const int int_digits = digits;
    int frac = 0;
    if (p < end && *p == '.') {
      ++p;
      take_digits();
      frac = digits - int_digits;
    }
    if (p == end && digits > 0 && frac <= 22 && mantissa <= (uint64_t{1} << 53)) {
      const double v = static_cast<double>(mantissa) / kPow10[frac];
      *out = negative ? -v : v;
      return true;
    }
  }
  if (!text.empty() && text[0] == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text[0] == '-') {
      return false;
    }
  }
  if (text.empty()) {
    return false;
  }
  const char* last = text.data() + text.size();
  auto res = std::from_chars(text.data(), last, *out);
  return res.ec == std::errc() && res.ptr == last;
}

bool ParseBoolText(std::string_view text, bool* out) {
  if (text == "true" || text == "True" || text == "TRUE") {
    *out = true;
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    *out = false;
    return true;
  }
  return false;
}

bool ParseTimestampText(std::string_view s, int64_t* micros) {
  int y, mo, d;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &y) ||
      !Digits(s, 5, 2, &mo) || !Digits(s, 8, 2, &d)) {
    return false;
  }
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1) {
    return false;
  }
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDaysIn[mo - 1] + (mo == 2 && leap ? 1 : 0)) {
    return false;
  }
  int64_t value =
      DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400LL * 1000000;
  size_t pos = 10;
  if (pos == s.size()) {
    *micros = value;
    return true;
  }
  if (s[pos] != 'T' && s[pos] != ' ') {
    return false;
  }
  int h, mi, sec = 0;
  if (!Digits(s, pos + 1, 2, &h) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
      !Digits(s, pos + 4, 2, &mi) || h > 23 || mi > 59) {
    return false;
  }
  pos += 6;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == ':') {
    if (!Digits(s, pos + 1, 2, &sec) || sec > 59) {
      return false;
    }
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 6) {
          frac = frac * 10 + (s[pos] - '0');
        }
        ++digits, ++pos;
      }
      if (digits == 0 || digits > 9) {
        return false;
      }
      for (int k = digits; k < 6; ++k) {
        frac *= 10;
      }
    }
  }
  value += ((h * 60LL + mi) * 60 + sec) * 1000000 + frac;
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      pos += 1;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '+' ? 1 : -1;
      int zh, zm = 0;
      if (!Digits(s, pos + 1, 2, &zh) || zh > 23) {
        return false;
      }
      size_t zpos = pos + 3;
      if (zpos < s.size()) {
        if (s[zpos] == ':') {
          ++zpos;
        }
        if (!Digits(s, zpos, 2, &zm) || zm > 59) {
          return false;
        }
        zpos += 2;
      }
      if (zpos != s.size()) {
        return false;
      }
      value -= sign * (zh * 60LL + zm) * 60 * 1000000;
      pos = s.size();
    } else {
      return false;
    }
  }
  *micros = value;
  return pos == s.size();
}

Result<CsvReadResult> ReadCsvString(std::string_view text, const CsvOptions& options) {
  return ParseCsv(text, options);
}

Result<CsvReadResult> ReadCsvFile(const std::string& path, const CsvOptions& options) {
  MappedFile file;
  PLINTH_RETURN_IF_ERROR(file.Open(path));
  auto result = ParseCsv(file.View(), options);
  if (!result.ok()) {
    return Status(result.status().code(), path + ": " + result.status().message());
  }
  return result;
}

}  // namespace plinth::data
