#include "tracking/search_filter.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "core/python_repr.h"

namespace plinth::tracking {
namespace {

using store::Comparator;
using store::EntityKind;

constexpr size_t kNpos = std::string_view::npos;

// Runs and experiments share the grammar but not the entities, keys and comparator rules.
// Logged models take the runs' entities (metrics, params, tags) with attributes of their own.
// The registry's searches (registered models, model versions) take attributes and tags only,
// like experiments, with the rules of MLflow's SearchModelUtils / SearchModelVersionUtils.
enum class Dialect { kRuns, kExperiments, kLoggedModels, kRegisteredModels, kModelVersions };

bool RunLike(Dialect d) { return d == Dialect::kRuns || d == Dialect::kLoggedModels; }
bool Registry(Dialect d) { return d == Dialect::kRegisteredModels || d == Dialect::kModelVersions; }

// ---------------------------------------------------------------------------------------------
// Character classes and scanners. Each scanner takes the input and a start offset and returns
// the offset just past what it recognised, the start offset when nothing matched, or kNpos for
// a malformed construct (an unterminated quote). They mirror the sqlparse lexer rules that
// MLflow's parser relies on.

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsNonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
// sqlparse's \w, with any non-ASCII byte taken as part of a (UTF-8) letter.
bool IsWordChar(char c) { return IsAsciiLetter(c) || IsDigit(c) || c == '_' || IsNonAscii(c); }
// What may not follow a number for sqlparse to read it as one ([_A-ZÀ-Ü], case-insensitive).
bool IsLetterLike(char c) { return IsAsciiLetter(c) || c == '_' || IsNonAscii(c); }
bool IsComparatorChar(char c) { return c == '<' || c == '>' || c == '=' || c == '~' || c == '!'; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') {
      x = static_cast<char>(x - 'a' + 'A');
    }
    if (y >= 'a' && y <= 'z') {
      y = static_cast<char>(y - 'a' + 'A');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

size_t SkipSpace(std::string_view s, size_t pos) {
  while (pos < s.size() && IsSpace(s[pos])) {
    ++pos;
  }
  return pos;
}

size_t ScanWord(std::string_view s, size_t pos) {
  while (pos < s.size() && IsWordChar(s[pos])) {
    ++pos;
  }
  return pos;
}

size_t ScanDigits(std::string_view s, size_t pos) {
  while (pos < s.size() && IsDigit(s[pos])) {
    ++pos;
  }
  return pos;
}

// A quoted token starting at s[pos] == quote, as sqlparse's '(''|\\'|[^'])*' reads it: a doubled
// quote (and, unless quote is a backtick, a backslash-quote) stays inside. When the greedy
// reading runs off the end, the regex engine backtracks to the last quote it had taken as part
// of an escape and closes there, so 'C:\' is the string C:\ .
size_t ScanQuoted(std::string_view s, size_t pos, char quote) {
  const bool backslash_escapes = quote != '`';
  size_t last_escaped_quote = kNpos;
  size_t i = pos + 1;
  while (i < s.size()) {
    if (s[i] == quote) {
      if (i + 1 < s.size() && s[i + 1] == quote) {
        last_escaped_quote = i;
        i += 2;
        continue;
      }
      return i + 1;
    }
    if (backslash_escapes && s[i] == '\\' && i + 1 < s.size() && s[i + 1] == quote) {
      last_escaped_quote = i + 1;
      i += 2;
      continue;
    }
    ++i;
  }
  return last_escaped_quote == kNpos ? kNpos : last_escaped_quote + 1;
}

// A numeric literal, as sqlparse reads one: -?\d+(\.\d+)?E-?\d+ (a float), or
// -?(\d+\.\d*|\.\d+) (a float) or -?\d+ (an integer), the last two not followed by a letter or
// '_'. Returns pos when there is none; sets *is_integer.
size_t ScanNumber(std::string_view s, size_t pos, bool* is_integer) {
  size_t i = pos;
  if (i < s.size() && s[i] == '-') {
    ++i;
  }
  const size_t int_end = ScanDigits(s, i);
  const bool has_int = int_end > i;
  if (has_int) {
    size_t j = int_end;
    if (j + 1 < s.size() && s[j] == '.' && IsDigit(s[j + 1])) {
      j = ScanDigits(s, j + 1);
    }
    if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
      size_t k = j + 1;
      if (k < s.size() && s[k] == '-') {
        ++k;
      }
      const size_t exp_end = ScanDigits(s, k);
      if (exp_end > k) {
        *is_integer = false;
        return exp_end;
      }
    }
  }
  size_t end = int_end;
  *is_integer = true;
  if (int_end < s.size() && s[int_end] == '.' &&
      (has_int || (int_end + 1 < s.size() && IsDigit(s[int_end + 1])))) {
    end = ScanDigits(s, int_end + 1);
    *is_integer = false;
  } else if (!has_int) {
    return pos;
  }
  if (end < s.size() && IsLetterLike(s[end])) {
    return pos;
  }
  return end;
}

// An identifier: a first part (word, "double quoted" or `backticked`) and any number of
// '.'-joined parts, which may also be 'single quoted' or empty (tags. and metrics.a..b are keys
// to MLflow). No whitespace inside. A '.' followed by digits that make a float literal ends the
// identifier, as it does for sqlparse.
size_t ScanIdentifier(std::string_view s, size_t pos) {
  auto scan_part = [s](size_t p, bool allow_single_quote) -> size_t {
    if (p >= s.size()) {
      return p;
    }
    const char c = s[p];
    if (c == '`' || c == '"' || (c == '\'' && allow_single_quote)) {
      return ScanQuoted(s, p, c);
    }
    return ScanWord(s, p);
  };
  size_t i = scan_part(pos, /*allow_single_quote=*/false);
  if (i == kNpos || i == pos) {
    return i;
  }
  while (i < s.size() && s[i] == '.') {
    if (i + 1 < s.size() && IsDigit(s[i + 1])) {
      const size_t digits_end = ScanDigits(s, i + 1);
      if (digits_end >= s.size() || !IsLetterLike(s[digits_end])) {
        break;
      }
    }
    i = scan_part(i + 1, /*allow_single_quote=*/true);
    if (i == kNpos) {
      return kNpos;
    }
  }
  return i;
}

// A parenthesised group starting at s[pos] == '(', nested groups and quotes included.
size_t ScanParens(std::string_view s, size_t pos) {
  int depth = 0;
  size_t i = pos;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\'' || c == '"' || c == '`') {
      i = ScanQuoted(s, i, c);
      if (i == kNpos) {
        return kNpos;
      }
      continue;
    }
    if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0) {
      return i + 1;
    }
    ++i;
  }
  return kNpos;
}

// The word at s[pos] if it is exactly `keyword` (case-insensitive); returns its end or pos.
size_t MatchKeyword(std::string_view s, size_t pos, std::string_view keyword) {
  const size_t end = ScanWord(s, pos);
  return EqualsIgnoreCase(s.substr(pos, end - pos), keyword) ? end : pos;
}

// ---------------------------------------------------------------------------------------------
// Values.

bool IsQuotedWith(std::string_view v, char quote) {
  return v.size() >= 2 && v.front() == quote && v.back() == quote;
}

// MLflow's _trim_backticks.
std::string_view TrimBackticks(std::string_view v) {
  return IsQuotedWith(v, '`') ? v.substr(1, v.size() - 2) : v;
}

// MLflow's _strip_quotes: drops one pair of surrounding ' or ", leaving escapes as they are.
std::string_view StripQuotes(std::string_view v) {
  return IsQuotedWith(v, '\'') || IsQuotedWith(v, '"') ? v.substr(1, v.size() - 2) : v;
}

// The number a numeric literal denotes, as Python's float() reads it (overflow to +-inf).
double NumberValue(std::string_view text) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    const size_t exp = text.find_first_of("eE");
    const bool underflow = exp != kNpos && exp + 1 < text.size() && text[exp + 1] == '-';
    value = underflow ? 0.0 : std::numeric_limits<double>::infinity();
    if (text.front() == '-') {
      value = -value;
    }
  }
  return value;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int HexDigitValue(char c) {
  if (IsDigit(c)) {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// One Python string literal at s[pos] (a ' or "), decoded onto *out. MLflow reads IN lists with
// ast.literal_eval, so escapes there are Python's. Returns the end, or kNpos if malformed.
size_t DecodePythonString(std::string_view s, size_t pos, std::string* out) {
  const char quote = s[pos];
  size_t i = pos + 1;
  while (i < s.size()) {
    const char c = s[i];
    if (c == quote) {
      return i + 1;
    }
    if (c == '\n') {
      return kNpos;
    }
    if (c != '\\' || i + 1 >= s.size()) {
      out->push_back(c);
      ++i;
      continue;
    }
    const char e = s[i + 1];
    i += 2;
    switch (e) {
      case '\n':
        break;
      case '\\':
      case '\'':
      case '"':
        out->push_back(e);
        break;
      case 'a':
        out->push_back('\a');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'v':
        out->push_back('\v');
        break;
      case 'x':
      case 'u':
      case 'U': {
        const size_t width = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
        uint32_t cp = 0;
        for (size_t k = 0; k < width; ++k) {
          const int d = i + k < s.size() ? HexDigitValue(s[i + k]) : -1;
          if (d < 0) {
            return kNpos;
          }
          cp = cp * 16 + static_cast<uint32_t>(d);
        }
        if (cp > 0x10FFFF) {
          return kNpos;
        }
        AppendUtf8(cp, out);
        i += width;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t cp = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i < s.size() && s[i] >= '0' && s[i] <= '7'; ++k, ++i) {
            cp = cp * 8 + static_cast<uint32_t>(s[i] - '0');
          }
          AppendUtf8(cp, out);
        } else {
          out->push_back('\\');
          out->push_back(e);
        }
    }
  }
  return kNpos;
}

constexpr std::string_view kListIllFormed =
    "While parsing a list in the query, expected a non-empty list of string values, but got "
    "ill-formed list.";

// A parenthesised list of quoted strings, read the way MLflow's ast.literal_eval reads it:
// ('a'), ('a',), ('a', "b",) are lists; adjacent literals concatenate ('a' 'b' is "ab").
Status ParseStringList(std::string_view paren, std::vector<std::string>* out) {
  const std::string_view s = paren.substr(1, paren.size() - 2);
  size_t i = SkipSpace(s, 0);
  if (i == s.size()) {
    return InvalidArgument(
        "While parsing a list in the query, expected a non-empty list of string values, but got "
        "empty list");
  }
  while (i < s.size()) {
    if (s[i] != '\'' && s[i] != '"') {
      const size_t end = ScanIdentifier(s, i);
      bool is_integer = false;
      if (ScanNumber(s, i, &is_integer) > i || (end != kNpos && end > i)) {
        return InvalidArgument(
            "While parsing a list in the query, expected string value, punctuation, or "
            "whitespace, but got different type in list: " +
            std::string(paren));
      }
      return InvalidArgument(kListIllFormed);
    }
    std::string item;
    while (i < s.size() && (s[i] == '\'' || s[i] == '"')) {
      i = DecodePythonString(s, i, &item);
      if (i == kNpos) {
        return InvalidArgument(kListIllFormed);
      }
      i = SkipSpace(s, i);
    }
    out->push_back(std::move(item));
    if (i == s.size()) {
      break;
    }
    if (s[i] != ',') {
      return InvalidArgument(kListIllFormed);
    }
    i = SkipSpace(s, i + 1);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Entities and attributes.

struct AttributeInfo {
  std::string_view name;       // as written in a filter
  std::string_view canonical;  // what the store sees
  bool numeric;
  bool orderable;
  bool list_ok;  // may be compared with IN / NOT IN
};

// SearchUtils.VALID_SEARCH_ATTRIBUTE_KEYS and VALID_ORDER_BY_ATTRIBUTE_KEYS with their aliases.
constexpr AttributeInfo kRunAttributes[] = {
    {"run_id", "run_id", false, true, true},
    {"run_name", "run_name", false, true, false},
    {"user_id", "user_id", false, true, false},
    {"status", "status", false, true, false},
    {"artifact_uri", "artifact_uri", false, true, false},
    {"start_time", "start_time", true, true, false},
    {"end_time", "end_time", true, true, false},
    {"created", "start_time", true, true, false},
    {"Created", "start_time", true, true, false},
    {"run name", "run_name", false, false, false},
    {"Run name", "run_name", false, false, false},
    {"Run Name", "run_name", false, false, false},
};
constexpr std::string_view kRunSearchKeys =
    "{'run_id', 'run_name', 'user_id', 'status', 'artifact_uri', 'start_time', 'end_time', "
    "'created', 'Created', 'run name', 'Run name', 'Run Name'}";
constexpr std::string_view kRunOrderByKeys =
    "{'run_id', 'run_name', 'user_id', 'status', 'artifact_uri', 'start_time', 'end_time', "
    "'created', 'Created'}";

// SearchExperimentsUtils.VALID_SEARCH_ATTRIBUTE_KEYS (also its order_by keys).
constexpr AttributeInfo kExperimentAttributes[] = {
    {"name", "name", false, true, false},
    {"experiment_id", "experiment_id", false, true, true},
    {"creation_time", "creation_time", true, true, false},
    {"last_update_time", "last_update_time", true, true, false},
};
constexpr std::string_view kExperimentKeys =
    "{'name', 'experiment_id', 'creation_time', 'last_update_time'}";

// The logged-model attributes MLflow's search_logged_models accepts.
constexpr AttributeInfo kLoggedModelAttributes[] = {
    {"name", "name", false, true, false},
    {"model_id", "model_id", false, true, true},
    {"model_type", "model_type", false, true, false},
    {"status", "status", false, true, false},
    {"source_run_id", "source_run_id", false, true, true},
    {"creation_time", "creation_time", true, true, false},
    {"creation_timestamp", "creation_timestamp", true, true, false},
    {"last_updated_timestamp", "last_updated_timestamp", true, true, false},
};
constexpr std::string_view kLoggedModelKeys =
    "{'name', 'model_id', 'model_type', 'status', 'source_run_id', 'creation_time', "
    "'creation_timestamp', 'last_updated_timestamp'}";

// SearchModelUtils.VALID_SEARCH_ATTRIBUTE_KEYS and SearchModelVersionUtils' (list_ok: its
// LIST_SUPPORTED_KEYS). Their order_by keys are checked in ParseRegistryOrderBy.
constexpr AttributeInfo kRegisteredModelAttributes[] = {
    {"name", "name", false, true, true},
};
constexpr std::string_view kRegisteredModelKeys = "{'name'}";
constexpr AttributeInfo kModelVersionAttributes[] = {
    {"name", "name", false, true, true},
    {"version_number", "version_number", true, true, false},
    {"run_id", "run_id", false, true, true},
    {"source_path", "source_path", false, true, false},
};
constexpr std::string_view kModelVersionKeys =
    "{'name', 'version_number', 'run_id', 'source_path'}";

constexpr std::string_view kNumericComparators = "{'=', '!=', '>', '>=', '<', '<='}";
constexpr std::string_view kParamTagComparators =
    "{'=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}";
constexpr std::string_view kStringComparators = "{'=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}";
constexpr std::string_view kExperimentNameComparators = "{'=', '!=', 'LIKE', 'ILIKE'}";

// MLflow's names for the entity types, as its messages print them.
std::string_view EntityName(EntityKind entity) {
  switch (entity) {
    case EntityKind::kMetric:
      return "metric";
    case EntityKind::kParam:
      return "parameter";
    case EntityKind::kTag:
      return "tag";
    case EntityKind::kAttribute:
      return "attribute";
    case EntityKind::kDataset:
      return "dataset";
  }
  return "";
}

std::optional<EntityKind> RunEntityOf(std::string_view name) {
  struct Alias {
    std::string_view name;
    EntityKind entity;
  };
  static constexpr Alias kAliases[] = {
      {"metric", EntityKind::kMetric},
      {"metrics", EntityKind::kMetric},
      {"parameter", EntityKind::kParam},
      {"parameters", EntityKind::kParam},
      {"param", EntityKind::kParam},
      {"params", EntityKind::kParam},
      {"tag", EntityKind::kTag},
      {"tags", EntityKind::kTag},
      {"attribute", EntityKind::kAttribute},
      {"attributes", EntityKind::kAttribute},
      {"attr", EntityKind::kAttribute},
      {"run", EntityKind::kAttribute},
      {"dataset", EntityKind::kDataset},
      {"datasets", EntityKind::kDataset},
  };
  for (const Alias& alias : kAliases) {
    if (alias.name == name) {
      return alias.entity;
    }
  }
  return std::nullopt;
}

enum class Purpose { kFilter, kOrderBy };

struct Identifier {
  EntityKind entity = EntityKind::kAttribute;
  std::string_view key;                      // quotes stripped, alias not yet resolved
  const AttributeInfo* attribute = nullptr;  // set for attributes
};

// MLflow's _get_identifier: "<entity>.<key>" split at the first '.' of the raw text (even one
// inside quotes, as MLflow does), or a bare attribute key.
Status ResolveIdentifier(std::string_view raw, Dialect dialect, Purpose purpose, Identifier* out) {
  const size_t dot = raw.find('.');
  std::string_view key_raw = raw;
  out->entity = EntityKind::kAttribute;
  if (dot != kNpos) {
    const std::string_view entity_raw = raw.substr(0, dot);
    key_raw = raw.substr(dot + 1);
    if (RunLike(dialect)) {
      const std::string_view entity_name = TrimBackticks(entity_raw);
      const std::optional<EntityKind> entity = RunEntityOf(entity_name);
      if (!entity) {
        return InvalidArgument("Invalid entity type '" + std::string(entity_name) +
                               "'. Valid values are ['metric', 'parameter', 'tag', 'attribute', "
                               "'dataset']");
      }
      out->entity = *entity;
    } else if (entity_raw == "attribute") {
      out->entity = EntityKind::kAttribute;
    } else if (entity_raw == "tag" || entity_raw == "tags") {
      out->entity = EntityKind::kTag;
    } else {
      return InvalidArgument("Invalid entity type '" + std::string(entity_raw) +
                             "'. Valid entity types are ('attribute', 'tag', 'tags')");
    }
  }
  out->key = TrimBackticks(StripQuotes(key_raw));
  out->attribute = nullptr;
  if (out->entity == EntityKind::kAttribute) {
    if (dialect == Dialect::kRuns) {
      for (const AttributeInfo& info : kRunAttributes) {
        if (info.name == out->key && (purpose == Purpose::kFilter || info.orderable)) {
          out->attribute = &info;
        }
      }
    } else if (dialect == Dialect::kLoggedModels) {
      for (const AttributeInfo& info : kLoggedModelAttributes) {
        if (info.name == out->key) {
          out->attribute = &info;
        }
      }
    } else if (dialect == Dialect::kRegisteredModels) {
      for (const AttributeInfo& info : kRegisteredModelAttributes) {
        if (info.name == out->key) {
          out->attribute = &info;
        }
      }
    } else if (dialect == Dialect::kModelVersions) {
      for (const AttributeInfo& info : kModelVersionAttributes) {
        if (info.name == out->key) {
          out->attribute = &info;
        }
      }
    } else {
      for (const AttributeInfo& info : kExperimentAttributes) {
        if (info.name == out->key) {
          out->attribute = &info;
        }
      }
    }
    if (out->attribute == nullptr) {
      const std::string_view valid = dialect == Dialect::kExperiments        ? kExperimentKeys
                                     : dialect == Dialect::kLoggedModels     ? kLoggedModelKeys
                                     : dialect == Dialect::kRegisteredModels ? kRegisteredModelKeys
                                     : dialect == Dialect::kModelVersions    ? kModelVersionKeys
                                     : purpose == Purpose::kFilter           ? kRunSearchKeys
                                                                             : kRunOrderByKeys;
      return InvalidArgument("Invalid attribute key '" + std::string(out->key) +
                             "' specified. Valid keys are '" + std::string(valid) + "'");
    }
  } else if (out->entity == EntityKind::kDataset) {
    if (out->key != "name" && out->key != "digest" && out->key != "context") {
      return InvalidArgument("Invalid dataset key '" + std::string(out->key) +
                             "' specified. Valid keys are '{'name', 'digest', 'context'}'");
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// The filter parser. A syntax pass over the whole string comes first, then a pass that resolves
// each clause: MLflow reports a malformed clause anywhere before a bad key in an earlier one.

struct Op {
  std::string_view text;                 // as MLflow reports it: upper case for keywords
  std::optional<Comparator> comparator;  // unset for operators MLflow never accepts (~, <>)
};

enum class ValueKind { kNone, kNumber, kQuoted, kName, kList };

struct RawValue {
  ValueKind kind = ValueKind::kNone;
  std::string_view text;  // raw, quotes and parentheses included
  bool is_integer = false;
};

struct RawClause {
  std::string_view identifier;
  Op op;
  RawValue value;
};

std::optional<Comparator> SymbolComparator(std::string_view op) {
  if (op == "=") {
    return Comparator::kEq;
  }
  if (op == "!=") {
    return Comparator::kNe;
  }
  if (op == "<") {
    return Comparator::kLt;
  }
  if (op == "<=") {
    return Comparator::kLe;
  }
  if (op == ">") {
    return Comparator::kGt;
  }
  if (op == ">=") {
    return Comparator::kGe;
  }
  return std::nullopt;
}

class FilterParser {
 public:
  FilterParser(std::string_view input, Dialect dialect) : s_(input), dialect_(dialect) {}

  Result<store::Filter> Parse() {
    size_t count = 0;
    PLINTH_RETURN_IF_ERROR(ForEachClause([&count](const RawClause&) {
      ++count;
      return Status::Ok();
    }));
    store::Filter filter;
    filter.clauses.reserve(count);
    PLINTH_RETURN_IF_ERROR(ForEachClause([this, &filter](const RawClause& raw) {
      filter.clauses.emplace_back();
      return Resolve(raw, &filter.clauses.back());
    }));
    return filter;
  }

 private:
  // Scans the clauses in order, calling `on_clause` for each; stops at the first error.
  template <typename OnClause>
  Status ForEachClause(OnClause&& on_clause) {
    pos_ = 0;
    while (true) {
      pos_ = SkipSpace(s_, pos_);
      if (pos_ >= s_.size()) {
        return Status::Ok();
      }
      // AND joins clauses; like MLflow, extra, leading or trailing ANDs and clauses written
      // side by side are accepted.
      const size_t and_end = MatchKeyword(s_, pos_, "AND");
      if (and_end > pos_) {
        pos_ = and_end;
        continue;
      }
      RawClause clause;
      PLINTH_RETURN_IF_ERROR(ScanClause(&clause));
      PLINTH_RETURN_IF_ERROR(on_clause(clause));
    }
  }

  Status ScanClause(RawClause* clause) {
    const size_t start = pos_;
    const char c = s_[pos_];
    // A literal where the identifier belongs: "1 = 1", "'x' = tags.a".
    bool is_integer = false;
    size_t literal_end = ScanNumber(s_, pos_, &is_integer);
    if (literal_end == pos_ && c == '\'') {
      literal_end = ScanQuoted(s_, pos_, '\'');
    }
    if (literal_end != pos_ && literal_end != kNpos) {
      Op op;
      if (ScanOp(SkipSpace(s_, literal_end), &op) != kNpos) {
        return InvalidArgument("Invalid comparison clause. Expected 'Identifier' found '" +
                               std::string(s_.substr(start, literal_end - start)) + "'");
      }
      return InvalidClause(start, literal_end);
    }
    if (c == '(') {
      const size_t end = ScanParens(s_, pos_);
      return InvalidClause(start, end == kNpos ? s_.size() : end);
    }
    const size_t id_end = ScanIdentifier(s_, pos_);
    if (id_end == kNpos) {
      return InvalidClause(start, s_.size());
    }
    if (id_end == pos_) {
      return Unexpected(start, pos_);
    }
    clause->identifier = s_.substr(start, id_end - start);
    for (std::string_view keyword : {"OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE"}) {
      if (EqualsIgnoreCase(clause->identifier, keyword)) {
        return InvalidClause(start, id_end);
      }
    }

    pos_ = SkipSpace(s_, id_end);
    const size_t op_end = ScanOp(pos_, &clause->op);
    if (op_end == kNpos) {
      return Unexpected(start, pos_);
    }
    pos_ = op_end;
    if (clause->op.comparator == Comparator::kIsNull ||
        clause->op.comparator == Comparator::kIsNotNull) {
      return Status::Ok();
    }

    pos_ = SkipSpace(s_, pos_);
    const bool list_only =
        clause->op.comparator == Comparator::kIn || clause->op.comparator == Comparator::kNotIn;
    const size_t value_end = ScanValue(pos_, list_only, &clause->value);
    if (value_end == kNpos) {
      return InvalidClause(start, s_.size());
    }
    if (value_end == pos_) {
      return Unexpected(start, pos_);
    }
    pos_ = value_end;
    return Status::Ok();
  }

  // The comparator at `pos`: a run of <>=~! or LIKE, ILIKE, RLIKE, REGEXP, [NOT] IN, NOT LIKE...,
  // IS [NOT] NULL. Returns its end, or kNpos if there is none.
  size_t ScanOp(size_t pos, Op* op) const {
    if (pos >= s_.size()) {
      return kNpos;
    }
    if (IsComparatorChar(s_[pos])) {
      size_t end = pos;
      while (end < s_.size() && IsComparatorChar(s_[end])) {
        ++end;
      }
      op->text = s_.substr(pos, end - pos);
      op->comparator = SymbolComparator(op->text);
      return end;
    }
    const size_t end = ScanWord(s_, pos);
    const std::string_view word = s_.substr(pos, end - pos);
    if (EqualsIgnoreCase(word, "LIKE")) {
      *op = {"LIKE", Comparator::kLike};
    } else if (EqualsIgnoreCase(word, "ILIKE")) {
      *op = {"ILIKE", Comparator::kILike};
    } else if (EqualsIgnoreCase(word, "RLIKE")) {
      *op = {"RLIKE", std::nullopt};
    } else if (EqualsIgnoreCase(word, "REGEXP")) {
      *op = {"REGEXP", std::nullopt};
    } else if (EqualsIgnoreCase(word, "IN")) {
      *op = {"IN", Comparator::kIn};
    } else if (EqualsIgnoreCase(word, "NOT")) {
      const size_t next = SkipSpace(s_, end);
      const size_t next_end = ScanWord(s_, next);
      const std::string_view next_word = s_.substr(next, next_end - next);
      if (EqualsIgnoreCase(next_word, "IN")) {
        *op = {"NOT IN", Comparator::kNotIn};
      } else if (EqualsIgnoreCase(next_word, "LIKE")) {
        *op = {"NOT LIKE", std::nullopt};
      } else if (EqualsIgnoreCase(next_word, "ILIKE")) {
        *op = {"NOT ILIKE", std::nullopt};
      } else {
        return kNpos;
      }
      return next_end;
    } else if (EqualsIgnoreCase(word, "IS")) {
      size_t next = SkipSpace(s_, end);
      size_t next_end = MatchKeyword(s_, next, "NULL");
      if (next_end > next) {
        *op = {"IS NULL", Comparator::kIsNull};
        return next_end;
      }
      next_end = MatchKeyword(s_, next, "NOT");
      if (next_end == next) {
        return kNpos;
      }
      next = SkipSpace(s_, next_end);
      next_end = MatchKeyword(s_, next, "NULL");
      if (next_end == next) {
        return kNpos;
      }
      *op = {"IS NOT NULL", Comparator::kIsNotNull};
      return next_end;
    } else {
      return kNpos;
    }
    return end;
  }

  // The value at `pos`. Returns its end, pos if there is none, kNpos if it is unterminated.
  size_t ScanValue(size_t pos, bool list_only, RawValue* value) const {
    if (pos >= s_.size()) {
      return pos;
    }
    const char c = s_[pos];
    size_t end = pos;
    if (c == '(') {
      value->kind = ValueKind::kList;
      end = ScanParens(s_, pos);
    } else if (list_only) {
      return pos;
    } else if (c == '\'') {
      value->kind = ValueKind::kQuoted;
      end = ScanQuoted(s_, pos, '\'');
    } else if ((end = ScanNumber(s_, pos, &value->is_integer)) > pos) {
      value->kind = ValueKind::kNumber;
    } else {
      // A bare word, "double quoted" or `backticked` value is an identifier to sqlparse; MLflow
      // then accepts it only if it is quoted.
      value->kind = ValueKind::kName;
      end = ScanIdentifier(s_, pos);
    }
    if (end != kNpos && end > pos) {
      value->text = s_.substr(pos, end - pos);
    }
    return end;
  }

  // MLflow's "Invalid clause(s)" error, naming s_[start, end).
  Status InvalidClause(size_t start, size_t end) const {
    const std::string_view text = s_.substr(start, end - start);
    if (!RunLike(dialect_)) {
      return InvalidArgument("Invalid clause(s) in filter string: " + std::string(text));
    }
    return InvalidArgument("Invalid clause(s) in filter string: '" + std::string(text) + "'");
  }

  // An unexpected token at `pos` inside the clause that starts at `start`.
  Status Unexpected(size_t start, size_t pos) const {
    if (pos < s_.size() && s_[pos] == ';') {
      // sqlparse splits statements at ';' before MLflow looks at the clauses.
      if (SkipSpace(s_, pos + 1) < s_.size()) {
        return InvalidArgument("Search filter contained multiple expression " + PythonRepr(s_) +
                               ". Provide AND-ed expression list.");
      }
      return InvalidClause(pos, pos + 1);
    }
    size_t end = pos;
    if (pos < s_.size()) {
      const char c = s_[pos];
      if (c == '\'' || c == '"' || c == '`') {
        end = ScanQuoted(s_, pos, c);
        end = end == kNpos ? s_.size() : end;
      } else if (IsWordChar(c) || c == '-' || c == '+' || c == '.') {
        // A word, or number-like debris such as "-1.5e+3" or the "-key" of "tags.my-key".
        end = pos + 1;
        while (end < s_.size() &&
               (IsWordChar(s_[end]) || s_[end] == '-' || s_[end] == '+' || s_[end] == '.')) {
          ++end;
        }
      } else {
        end = pos + 1;
      }
    }
    return InvalidClause(start, end);
  }

  Status Resolve(const RawClause& raw, store::FilterClause* out) const;
  Status ResolveValue(const Identifier& id, const RawValue& value, store::FilterClause* out) const;
  Status CheckRunComparator(const Identifier& id, const Op& op, const RawValue& value) const;
  Status CheckExperimentComparator(const Identifier& id, const Op& op, const RawValue& value,
                                   store::FilterClause* out) const;
  Status ResolveRegistryValue(const Identifier& id, const RawValue& value,
                              store::FilterClause* out) const;
  Status CheckRegistryComparator(const Identifier& id, const Op& op, const RawValue& value) const;

  std::string_view s_;
  Dialect dialect_;
  size_t pos_ = 0;
};

Status FilterParser::Resolve(const RawClause& raw, store::FilterClause* out) const {
  Identifier id;
  PLINTH_RETURN_IF_ERROR(ResolveIdentifier(raw.identifier, dialect_, Purpose::kFilter, &id));
  out->entity = id.entity;
  out->key = std::string(id.attribute != nullptr ? id.attribute->canonical : id.key);

  if (Registry(dialect_)) {
    if (raw.op.comparator == Comparator::kIsNull || raw.op.comparator == Comparator::kIsNotNull) {
      return InvalidArgument(
          "Invalid comparison clause: IS NULL / IS NOT NULL is not supported "
          "when searching the model registry");
    }
    PLINTH_RETURN_IF_ERROR(ResolveRegistryValue(id, raw.value, out));
    PLINTH_RETURN_IF_ERROR(CheckRegistryComparator(id, raw.op, raw.value));
    out->comparator = *raw.op.comparator;
    return Status::Ok();
  }
  if (raw.op.comparator == Comparator::kIsNull || raw.op.comparator == Comparator::kIsNotNull) {
    if (RunLike(dialect_) && id.entity != EntityKind::kTag && id.entity != EntityKind::kParam) {
      return InvalidArgument(
          "IS NULL / IS NOT NULL is only supported for tags and params, not for '" +
          std::string(EntityName(id.entity)) + "' '" + std::string(id.key) + "'");
    }
    if (dialect_ == Dialect::kExperiments && id.entity != EntityKind::kTag) {
      return InvalidArgument(
          "IS NULL / IS NOT NULL is only supported for tags, not for attribute '" +
          std::string(id.key) + "'");
    }
    out->comparator = *raw.op.comparator;
    return Status::Ok();
  }

  PLINTH_RETURN_IF_ERROR(ResolveValue(id, raw.value, out));
  if (RunLike(dialect_)) {
    PLINTH_RETURN_IF_ERROR(CheckRunComparator(id, raw.op, raw.value));
  } else {
    PLINTH_RETURN_IF_ERROR(CheckExperimentComparator(id, raw.op, raw.value, out));
  }
  out->comparator = *raw.op.comparator;
  return Status::Ok();
}

// MLflow's _get_value: the value's type must suit the entity.
Status FilterParser::ResolveValue(const Identifier& id, const RawValue& value,
                                  store::FilterClause* out) const {
  const std::string_view text = value.text;
  auto quoted_string = [&]() -> Status {
    if (!IsQuotedWith(value.text, '\'') && !IsQuotedWith(value.text, '"')) {
      return InvalidArgument(
          "Parameter value is either not quoted or unidentified quote types used for string "
          "value " +
          std::string(text) + ". Use either single or double quotes.");
    }
    out->string_value = std::string(StripQuotes(value.text));
    return Status::Ok();
  };
  const bool is_string = value.kind == ValueKind::kQuoted || value.kind == ValueKind::kName;
  switch (id.entity) {
    case EntityKind::kMetric:
      if (value.kind != ValueKind::kNumber) {
        return InvalidArgument("Expected numeric value type for metric. Found " +
                               std::string(text));
      }
      out->numeric = true;
      out->number_value = NumberValue(value.text);
      return Status::Ok();
    case EntityKind::kParam:
    case EntityKind::kTag:
      if (is_string) {
        return quoted_string();
      }
      return InvalidArgument("Expected a quoted string value for " +
                             std::string(EntityName(id.entity)) + " (e.g. 'my-value'). Got value " +
                             std::string(text));
    case EntityKind::kAttribute:
      if (id.attribute->numeric) {
        if (value.kind != ValueKind::kNumber) {
          return InvalidArgument("Expected numeric value type for numeric attribute: " +
                                 std::string(id.key) + ". Found " + std::string(text));
        }
        out->numeric = true;
        out->number_value = NumberValue(value.text);
        return Status::Ok();
      }
      if (is_string) {
        return quoted_string();
      }
      if (value.kind == ValueKind::kList) {
        if (!id.attribute->list_ok) {
          return InvalidArgument(RunLike(dialect_)
                                     ? "Only ['run_id'] attributes support comparison with a "
                                       "list of quoted string values."
                                     : "Only ['experiment_id'] attributes support comparison "
                                       "with a list of quoted string values.");
        }
        return ParseStringList(value.text, &out->string_list);
      }
      return InvalidArgument("Expected a quoted string value for attributes. Got value " +
                             std::string(text));
    case EntityKind::kDataset:
      if (is_string) {
        return quoted_string();
      }
      if (value.kind == ValueKind::kList) {
        return ParseStringList(value.text, &out->string_list);
      }
      return InvalidArgument("Expected a quoted string value for dataset attributes. Got value " +
                             std::string(text));
  }
  return Internal("unknown entity kind");
}

Status InvalidComparator(const Op& op, std::string_view valid) {
  return InvalidArgument("Invalid comparator '" + std::string(op.text) + "' not one of '" +
                         std::string(valid) + "'");
}

bool IsOneOf(const std::optional<Comparator>& c, std::initializer_list<Comparator> valid) {
  if (!c) {
    return false;
  }
  for (Comparator v : valid) {
    if (*c == v) {
      return true;
    }
  }
  return false;
}

constexpr std::initializer_list<Comparator> kNumericSet = {
    Comparator::kEq, Comparator::kNe, Comparator::kLt,
    Comparator::kLe, Comparator::kGt, Comparator::kGe,
};

// A list goes only with IN / NOT IN (MLflow would hand `run_id = ('a')` to SQL as is).
Status CheckListComparator(const Op& op, const RawValue& value) {
  const bool is_list_op = IsOneOf(op.comparator, {Comparator::kIn, Comparator::kNotIn});
  if (value.kind == ValueKind::kList && !is_list_op) {
    return InvalidArgument("Invalid comparator '" + std::string(op.text) +
                           "' for a list of values: expected 'IN' or 'NOT IN'");
  }
  return Status::Ok();
}

// The comparator checks of MLflow's SearchUtils.is_metric/is_param/... as its SQL store applies
// them.
Status FilterParser::CheckRunComparator(const Identifier& id, const Op& op,
                                        const RawValue& value) const {
  switch (id.entity) {
    case EntityKind::kMetric:
      if (!IsOneOf(op.comparator, kNumericSet)) {
        return InvalidComparator(op, kNumericComparators);
      }
      return Status::Ok();
    case EntityKind::kParam:
    case EntityKind::kTag:
      if (!IsOneOf(op.comparator,
                   {Comparator::kEq, Comparator::kNe, Comparator::kLike, Comparator::kILike})) {
        return InvalidComparator(op, kParamTagComparators);
      }
      return Status::Ok();
    case EntityKind::kAttribute:
      if (id.attribute->numeric) {
        if (!IsOneOf(op.comparator, kNumericSet)) {
          return InvalidComparator(op, kNumericComparators);
        }
        return Status::Ok();
      }
      [[fallthrough]];
    case EntityKind::kDataset:
      if (!IsOneOf(op.comparator, {Comparator::kEq, Comparator::kNe, Comparator::kLike,
                                   Comparator::kILike, Comparator::kIn, Comparator::kNotIn})) {
        return InvalidComparator(op, kStringComparators);
      }
      return CheckListComparator(op, value);
  }
  return Internal("unknown entity kind");
}

// Python's int() of an experiment id, as MLflow's SQL store applies it; *out gets the canonical
// decimal form so that '007' finds experiment 7.
bool ParseExperimentId(std::string_view text, std::string* out) {
  size_t b = SkipSpace(text, 0);
  size_t e = text.size();
  while (e > b && IsSpace(text[e - 1])) {
    --e;
  }
  text = text.substr(b, e - b);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || ScanDigits(text, 0) != text.size()) {
    return false;
  }
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc()) {
    return false;
  }
  *out = std::to_string(negative ? -value : value);
  return true;
}

// The checks MLflow's SQL store makes in _get_search_experiments_filter_clauses.
Status FilterParser::CheckExperimentComparator(const Identifier& id, const Op& op,
                                               const RawValue& value,
                                               store::FilterClause* out) const {
  if (id.entity == EntityKind::kTag) {
    if (!IsOneOf(op.comparator,
                 {Comparator::kEq, Comparator::kNe, Comparator::kLike, Comparator::kILike})) {
      return InvalidArgument("Invalid comparator for tag: " + std::string(op.text));
    }
    return Status::Ok();
  }
  if (id.attribute->numeric) {
    if (!IsOneOf(op.comparator, kNumericSet)) {
      return InvalidComparator(op, kNumericComparators);
    }
    if (!value.is_integer) {
      return InvalidArgument("Invalid value for numeric attribute '" + std::string(id.key) +
                             "': '" + std::string(value.text) + "'");
    }
    return Status::Ok();
  }
  if (id.attribute->canonical == "experiment_id") {
    if (!IsOneOf(op.comparator,
                 {Comparator::kEq, Comparator::kNe, Comparator::kIn, Comparator::kNotIn})) {
      return InvalidArgument("Invalid comparator for experiment_id: " + std::string(op.text));
    }
    PLINTH_RETURN_IF_ERROR(CheckListComparator(op, value));
    auto canonicalize = [](std::string* v) -> Status {
      std::string canonical;
      if (!ParseExperimentId(*v, &canonical)) {
        return InvalidArgument("Invalid experiment ID '" + *v +
                               "'. Experiment ID must be a valid integer.");
      }
      *v = std::move(canonical);
      return Status::Ok();
    };
    if (value.kind == ValueKind::kList) {
      for (std::string& v : out->string_list) {
        PLINTH_RETURN_IF_ERROR(canonicalize(&v));
      }
      return Status::Ok();
    }
    return canonicalize(&out->string_value);
  }
  if (!IsOneOf(op.comparator,
               {Comparator::kEq, Comparator::kNe, Comparator::kLike, Comparator::kILike})) {
    return InvalidComparator(op, kExperimentNameComparators);
  }
  return Status::Ok();
}

// SearchModelUtils._get_value / SearchModelVersionUtils._get_value, then what MLflow's SQL
// registry store makes of numeric attributes (an integer, also when written as a string).
Status FilterParser::ResolveRegistryValue(const Identifier& id, const RawValue& value,
                                          store::FilterClause* out) const {
  const std::string text(value.text);
  const bool is_string = value.kind == ValueKind::kQuoted || value.kind == ValueKind::kName;
  auto quoted_string = [&]() -> Status {
    if (!IsQuotedWith(value.text, '\'') && !IsQuotedWith(value.text, '"')) {
      return InvalidArgument(
          "Parameter value is either not quoted or unidentified quote types used for string "
          "value " +
          text + ". Use either single or double quotes.");
    }
    out->string_value = std::string(StripQuotes(value.text));
    return Status::Ok();
  };
  if (id.entity == EntityKind::kTag) {
    if (is_string) return quoted_string();
    return InvalidArgument("Expected a quoted string value for tag (e.g. 'my-value'). Got value " +
                           text);
  }
  const bool versions = dialect_ == Dialect::kModelVersions;
  if (value.kind == ValueKind::kList) {
    if (!id.attribute->list_ok) {
      return InvalidArgument(versions ? "Only ['name', 'run_id'] attributes support comparison "
                                        "with a list of quoted string values."
                                      : "Only ['name'] attributes support comparison with a "
                                        "list of quoted string values.");
    }
    return ParseStringList(value.text, &out->string_list);
  }
  if (value.kind == ValueKind::kNumber && !(versions && id.attribute->numeric)) {
    if (versions) {
      return InvalidArgument(
          "Only the '{'version_number', 'creation_timestamp', 'last_updated_timestamp'}' "
          "attributes support comparison with numeric values.");
    }
    return InvalidArgument(
        "Expected a quoted string value or a list of quoted string values for attributes. Got "
        "value " +
        text);
  }
  if (!id.attribute->numeric) {
    if (is_string) return quoted_string();
    return InvalidArgument(
        "Expected a quoted string value or a list of quoted string values for attributes. Got "
        "value " +
        text);
  }
  // A numeric attribute (version_number): an integer, or a string holding one.
  std::string digits = text;
  if (is_string) {
    PLINTH_RETURN_IF_ERROR(quoted_string());
    digits = out->string_value;
  } else if (!value.is_integer) {
    return InvalidArgument("Invalid value for numeric attribute '" + std::string(id.key) +
                           "': " + text);
  }
  std::string canonical;
  if (!ParseExperimentId(digits, &canonical)) {
    return InvalidArgument("Invalid value for numeric attribute '" + std::string(id.key) +
                           "': " + PythonRepr(digits));
  }
  out->numeric = true;
  out->number_value = NumberValue(canonical);
  out->string_value.clear();
  return Status::Ok();
}

// The comparator checks of MLflow's SQL registry store (_get_search_registered_model_filter_query,
// _get_search_model_versions_filter_clauses).
Status FilterParser::CheckRegistryComparator(const Identifier& id, const Op& op,
                                             const RawValue& value) const {
  const std::initializer_list<Comparator> kStringSet = {Comparator::kEq,   Comparator::kNe,
                                                        Comparator::kLike, Comparator::kILike,
                                                        Comparator::kIn,   Comparator::kNotIn};
  if (id.entity == EntityKind::kTag) {
    if (!IsOneOf(op.comparator,
                 {Comparator::kEq, Comparator::kNe, Comparator::kLike, Comparator::kILike})) {
      return InvalidArgument("Invalid comparator for tag: " + std::string(op.text));
    }
    return Status::Ok();
  }
  if (id.attribute->numeric) {
    if (!IsOneOf(op.comparator, kNumericSet)) {
      return InvalidArgument("Invalid comparator for attribute " + std::string(id.key) + ": " +
                             std::string(op.text));
    }
    return Status::Ok();
  }
  const bool list_op = IsOneOf(op.comparator, {Comparator::kIn, Comparator::kNotIn});
  if (!IsOneOf(op.comparator, kStringSet) || (list_op && !id.attribute->list_ok)) {
    return InvalidArgument("Invalid comparator for attribute: " + std::string(op.text));
  }
  return CheckListComparator(op, value);
}

// ---------------------------------------------------------------------------------------------
// order_by.

// The identifier as Python's shlex.split reads it after MLflow turned backticks into double
// quotes: quotes removed, backslash escapes applied. MLflow reads an order_by identifier this way
// when a direction follows it. Returns false for an unterminated quote.
bool ShlexUnquote(std::string_view raw, std::string* out) {
  char quote = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i] == '`' ? '"' : raw[i];
    if (quote == 0) {
      if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '\\' && i + 1 < raw.size()) {
        out->push_back(raw[++i]);
      } else {
        out->push_back(c);
      }
    } else if (c == quote) {
      quote = 0;
    } else if (quote == '"' && c == '\\' && i + 1 < raw.size() &&
               (raw[i + 1] == '\\' || raw[i + 1] == '"' || raw[i + 1] == '`')) {
      ++i;
      out->push_back(raw[i] == '`' ? '"' : raw[i]);
    } else {
      out->push_back(raw[i]);
    }
  }
  return quote == 0;
}

// One "<identifier> [ASC|DESC]" entry, as MLflow's _parse_order_by_string reads it.
Result<store::OrderBy> ParseOrderByEntry(std::string_view s, Dialect dialect) {
  auto unparsable = [s]() {
    return InvalidArgument("Invalid order_by clause '" + std::string(s) +
                           "'. Could not be parsed.");
  };
  // sqlparse must see a single identifier: no surrounding whitespace, no literal.
  bool is_integer = false;
  if (s.empty() || IsSpace(s.front()) || IsSpace(s.back()) || ScanNumber(s, 0, &is_integer) > 0) {
    return unparsable();
  }
  const size_t id_end = ScanIdentifier(s, 0);
  if (id_end == kNpos || id_end == 0) {
    return unparsable();
  }
  store::OrderBy order_by;
  std::string_view identifier = s.substr(0, id_end);
  std::string unquoted;
  if (id_end < s.size()) {
    if (!IsSpace(s[id_end])) {
      return unparsable();
    }
    // The direction is a word, or a quoted one (shlex unquotes "DESC" and `DESC` too).
    const size_t dir_start = SkipSpace(s, id_end);
    const char first = s[dir_start];
    const size_t dir_end = first == '"' || first == '`' || first == '\''
                               ? ScanQuoted(s, dir_start, first)
                               : ScanWord(s, dir_start);
    if (dir_end == kNpos || dir_end == dir_start || dir_end != s.size()) {
      return unparsable();
    }
    std::string_view direction = s.substr(dir_start, dir_end - dir_start);
    if (direction.front() == first && !IsWordChar(first)) {
      direction = direction.substr(1, direction.size() - 2);
    }
    if (EqualsIgnoreCase(direction, "DESC")) {
      order_by.ascending = false;
    } else if (!EqualsIgnoreCase(direction, "ASC")) {
      return InvalidArgument("Invalid ordering key in order_by clause '" + std::string(s) + "'.");
    }
    if (!ShlexUnquote(identifier, &unquoted)) {
      return unparsable();
    }
    identifier = unquoted;
  }
  Identifier id;
  PLINTH_RETURN_IF_ERROR(ResolveIdentifier(identifier, dialect, Purpose::kOrderBy, &id));
  // What MLflow's SQL store then refuses to sort by.
  if (RunLike(dialect) && id.entity == EntityKind::kDataset) {
    return InvalidArgument("Invalid identifier type 'dataset'");
  }
  if (dialect == Dialect::kExperiments && id.entity != EntityKind::kAttribute) {
    return InvalidArgument("Invalid order_by entity: " + std::string(EntityName(id.entity)));
  }
  order_by.entity = id.entity;
  order_by.key = std::string(id.attribute != nullptr ? id.attribute->canonical : id.key);
  return order_by;
}

Result<std::vector<store::OrderBy>> ParseOrderByList(const std::vector<std::string>& order_by,
                                                     Dialect dialect) {
  std::vector<store::OrderBy> out;
  out.reserve(order_by.size());
  for (const std::string& entry : order_by) {
    PLINTH_ASSIGN_OR_RETURN(store::OrderBy parsed, ParseOrderByEntry(entry, dialect));
    out.push_back(std::move(parsed));
  }
  return out;
}

// One registry order_by entry, as MLflow's SQL registry store reads it. Registered models take a
// bare key (name, timestamp, last_updated_timestamp; both timestamps sort by the update time);
// model versions take an identifier ([attribute.]name, version_number, creation_timestamp,
// last_updated_timestamp). A key may appear once.
Result<std::vector<store::OrderBy>> ParseRegistryOrderBy(const std::vector<std::string>& order_by,
                                                         Dialect dialect) {
  std::vector<store::OrderBy> out;
  auto duplicate = [&order_by]() {
    std::string list = "[";
    for (size_t i = 0; i < order_by.size(); ++i) {
      list += (i == 0 ? "" : ", ") + PythonRepr(order_by[i]);
    }
    return InvalidArgument("`order_by` contains duplicate fields: " + list + "]");
  };
  for (const std::string& entry : order_by) {
    // The direction is read as for experiments; the key is checked here.
    std::string_view s = entry;
    while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
    while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
    store::OrderBy parsed;
    std::string key(s);
    const size_t space = s.find_last_of(" \t");
    if (space != kNpos) {
      const std::string_view direction = s.substr(space + 1);
      if (EqualsIgnoreCase(direction, "DESC")) {
        parsed.ascending = false;
      } else if (!EqualsIgnoreCase(direction, "ASC")) {
        return InvalidArgument("Invalid ordering key in order_by clause '" + entry + "'.");
      }
      key = std::string(s.substr(0, space));
      while (!key.empty() && IsSpace(key.back())) key.pop_back();
    }
    if (dialect == Dialect::kRegisteredModels) {
      if (key != "name" && key != "timestamp" && key != "last_updated_timestamp") {
        if (key == "creation_timestamp") {
          return InvalidArgument("Invalid order by key '" + key +
                                 "' specified.Valid keys are '{'name', 'timestamp'}'");
        }
        return InvalidArgument("Invalid order by key '" + key +
                               "' specified. Valid keys are '{'name', 'timestamp'}'");
      }
      parsed.key = key == "name" ? "name" : "last_updated_timestamp";
    } else {
      const size_t dot = key.find('.');
      if (dot != std::string::npos) {
        const std::string entity = key.substr(0, dot);
        if (entity != "attribute" && entity != "tag" && entity != "tags") {
          return InvalidArgument("Invalid entity type '" + entity +
                                 "'. Valid entity types are ('attribute', 'tag', 'tags')");
        }
        key = key.substr(dot + 1);
      }
      key = std::string(TrimBackticks(StripQuotes(key)));
      if (key != "name" && key != "version_number" && key != "creation_timestamp" &&
          key != "last_updated_timestamp") {
        return InvalidArgument("Invalid attribute key '" + key +
                               "' specified. Valid keys are '{'name', 'version_number', "
                               "'creation_timestamp', 'last_updated_timestamp'}'");
      }
      parsed.key = key;
    }
    parsed.entity = EntityKind::kAttribute;
    for (const store::OrderBy& seen : out) {
      if (seen.key == parsed.key) return duplicate();
    }
    out.push_back(std::move(parsed));
  }
  return out;
}

}  // namespace

Result<store::Filter> ParseRunFilter(std::string_view filter) {
  return FilterParser(filter, Dialect::kRuns).Parse();
}

Result<std::vector<store::OrderBy>> ParseRunOrderBy(const std::vector<std::string>& order_by) {
  return ParseOrderByList(order_by, Dialect::kRuns);
}

Result<store::Filter> ParseExperimentFilter(std::string_view filter) {
  return FilterParser(filter, Dialect::kExperiments).Parse();
}

Result<std::vector<store::OrderBy>> ParseExperimentOrderBy(
    const std::vector<std::string>& order_by) {
  return ParseOrderByList(order_by, Dialect::kExperiments);
}

Result<store::Filter> ParseLoggedModelFilter(std::string_view filter) {
  return FilterParser(filter, Dialect::kLoggedModels).Parse();
}

Result<store::Filter> ParseRegisteredModelFilter(std::string_view filter) {
  return FilterParser(filter, Dialect::kRegisteredModels).Parse();
}

Result<store::Filter> ParseModelVersionFilter(std::string_view filter) {
  return FilterParser(filter, Dialect::kModelVersions).Parse();
}

Result<std::vector<store::OrderBy>> ParseRegisteredModelOrderBy(
    const std::vector<std::string>& order_by) {
  return ParseRegistryOrderBy(order_by, Dialect::kRegisteredModels);
}

Result<std::vector<store::OrderBy>> ParseModelVersionOrderBy(
    const std::vector<std::string>& order_by) {
  return ParseRegistryOrderBy(order_by, Dialect::kModelVersions);
}

}  // namespace plinth::tracking
