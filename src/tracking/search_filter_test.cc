// Tests for the MLflow search DSL parser (search_filter.h).
//
// Every table row below was run through MLflow's own parser (SearchUtils and
// SearchExperimentsUtils of mlflow 3.x with sqlparse 0.6, plus the comparator checks its SQL
// store makes) and Plinth agrees with it, except the rows under "Deliberate deviations". Many
// inputs are MLflow's tests/utils/test_search_utils.py cases. Valid filters compare the whole
// AST, via Describe(); invalid ones compare a substring of the error that names the offending
// part (MLflow prints its key sets in hash order, so those lists are cut off).
#include "tracking/search_filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::tracking {
namespace {

using ::testing::HasSubstr;

std::string_view EntityName(store::EntityKind e) {
  switch (e) {
    case store::EntityKind::kMetric:
      return "metric";
    case store::EntityKind::kParam:
      return "param";
    case store::EntityKind::kTag:
      return "tag";
    case store::EntityKind::kAttribute:
      return "attr";
    case store::EntityKind::kDataset:
      return "dataset";
  }
  return "?";
}

std::string_view ComparatorName(store::Comparator c) {
  using store::Comparator;
  switch (c) {
    case Comparator::kEq:
      return "=";
    case Comparator::kNe:
      return "!=";
    case Comparator::kLt:
      return "<";
    case Comparator::kLe:
      return "<=";
    case Comparator::kGt:
      return ">";
    case Comparator::kGe:
      return ">=";
    case Comparator::kLike:
      return "LIKE";
    case Comparator::kILike:
      return "ILIKE";
    case Comparator::kIn:
      return "IN";
    case Comparator::kNotIn:
      return "NOT IN";
    case Comparator::kIsNull:
      return "IS NULL";
    case Comparator::kIsNotNull:
      return "IS NOT NULL";
  }
  return "?";
}

// One clause as "entity|key|comparator|value": numbers bare (shortest round-trip form), strings
// in single quotes, lists in brackets; every field of the clause that matters is shown.
std::string Describe(const store::FilterClause& c) {
  std::string out = std::string(EntityName(c.entity)) + "|" + c.key + "|" +
                    std::string(ComparatorName(c.comparator));
  if (c.comparator == store::Comparator::kIsNull || c.comparator == store::Comparator::kIsNotNull) {
    return out;
  }
  if (c.numeric) {
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), c.number_value);
    return out + "|" + std::string(buf, end);
  }
  if (c.comparator == store::Comparator::kIn || c.comparator == store::Comparator::kNotIn) {
    out += "|[";
    for (size_t i = 0; i < c.string_list.size(); ++i) {
      out += (i > 0 ? ", '" : "'") + c.string_list[i] + "'";
    }
    return out + "]";
  }
  return out + "|'" + c.string_value + "'";
}

std::string Describe(const store::Filter& filter) {
  std::string out;
  for (const store::FilterClause& c : filter.clauses) {
    out += (out.empty() ? "" : " && ") + Describe(c);
  }
  return out;
}

std::string Describe(const std::vector<store::OrderBy>& order_by) {
  std::string out;
  for (const store::OrderBy& o : order_by) {
    out += (out.empty() ? "" : ", ") + std::string(EntityName(o.entity)) + "|" + o.key +
           (o.ascending ? "|ASC" : "|DESC");
  }
  return out;
}

struct Case {
  std::string_view input;
  std::string_view want;  // Describe() of the result, or a substring of the error message
};

void PrintTo(const Case& c, std::ostream* os) { *os << "\"" << c.input << "\""; }

// ---------------------------------------------------------------------------------------------
// search_runs filters.

constexpr Case kValidRunFilters[] = {
    {"metric.acc >= 0.94", "metric|acc|>=|0.94"},
    {"metric.acc>=100", "metric|acc|>=|100"},
    {"params.m!='tf'", "param|m|!=|'tf'"},
    {R"f(params."m"!="tf")f", "param|m|!=|'tf'"},
    {R"f(metric."legit name" >= 0.243)f", "metric|legit name|>=|0.243"},
    {"metrics.XYZ = 3", "metric|XYZ|=|3"},
    {R"f(params."cat dog" = "pets")f", "param|cat dog|=|'pets'"},
    {R"f(metrics."X-Y-Z" = 3)f", "metric|X-Y-Z|=|3"},
    {R"f(metrics."X//Y#$$@&Z" = 3)f", "metric|X//Y#$$@&Z|=|3"},
    {"params.model = 'LinearRegression'", "param|model|=|'LinearRegression'"},
    {"metrics.rmse < 1 and params.model_class = 'LR'",
     "metric|rmse|<|1 && param|model_class|=|'LR'"},
    {"`metric`.a >= 0.1", "metric|a|>=|0.1"},
    {"tags.version = 'commit-hash'", "tag|version|=|'commit-hash'"},
    {"`tags`.source_name = 'a notebook'", "tag|source_name|=|'a notebook'"},
    {R"f(metrics."accuracy.2.0" > 5)f", "metric|accuracy.2.0|>|5"},
    {"metrics.`spacey name` > 5", "metric|spacey name|>|5"},
    {R"f(params."p.a.r.a.m" != "a")f", "param|p.a.r.a.m|!=|'a'"},
    {R"f(tags."t.a.g" = "a")f", "tag|t.a.g|=|'a'"},
    {"attribute.artifact_uri = '1/23/4'", "attr|artifact_uri|=|'1/23/4'"},
    {"attribute.start_time >= 1234", "attr|start_time|>=|1234"},
    {"run.status = 'RUNNING'", "attr|status|=|'RUNNING'"},
    {"dataset.name = 'my_dataset'", "dataset|name|=|'my_dataset'"},
    {"tags.version IS NULL", "tag|version|IS NULL"},
    {"tags.version IS NOT NULL", "tag|version|IS NOT NULL"},
    {"params.lr IS NULL", "param|lr|IS NULL"},
    {"params.lr IS NOT NULL", "param|lr|IS NOT NULL"},
    {"tags.a IS NULL AND params.b = 'val'", "tag|a|IS NULL && param|b|=|'val'"},
    {"params.m = 'LR'", "param|m|=|'LR'"},
    {R"f(params.m = "LR")f", "param|m|=|'LR'"},
    {R"f(params.m = "L'Hosp")f", "param|m|=|'L'Hosp'"},
    {"params.m = 'L''Hosp'", "param|m|=|'L''Hosp'"},
    {R"f(params.m = 'it\'s')f", R"f(param|m|=|'it\'s')f"},
    {R"f(params.p = 'C:\')f", R"f(param|p|=|'C:\')f"},
    {R"f(params.m = 'x"s')f", R"f(param|m|=|'x"s')f"},
    {"params.m = ''", "param|m|=|''"},
    {"tags.mlflow.source.type = 'LOCAL'", "tag|mlflow.source.type|=|'LOCAL'"},
    {"tags.`mlflow.source.type` = 'LOCAL'", "tag|mlflow.source.type|=|'LOCAL'"},
    {R"f(tags."my-key" = 'x')f", "tag|my-key|=|'x'"},
    {"tags.'quoted' = 'x'", "tag|quoted|=|'x'"},
    {"tags.`` = 'x'", "tag||=|'x'"},
    {"tags.select = 'x'", "tag|select|=|'x'"},
    {"metrics.1abc > 1", "metric|1abc|>|1"},
    {"metrics.a..b > 1", "metric|a..b|>|1"},
    {"tags.é = 'é'", "tag|é|=|'é'"},
    {"status = 'FINISHED'", "attr|status|=|'FINISHED'"},
    {"attributes.status != 'FAILED'", "attr|status|!=|'FAILED'"},
    {"attr.user_id LIKE 'alice%'", "attr|user_id|LIKE|'alice%'"},
    {"run_name ILIKE '%test%'", "attr|run_name|ILIKE|'%test%'"},
    {"`run name` = 'x'", "attr|run_name|=|'x'"},
    {R"f("Run name" = 'x')f", "attr|run_name|=|'x'"},
    {"attributes.`Run Name` LIKE 'x%'", "attr|run_name|LIKE|'x%'"},
    {"artifact_uri = 's3://b/p'", "attr|artifact_uri|=|'s3://b/p'"},
    {"run_id = 'abc'", "attr|run_id|=|'abc'"},
    {"start_time > 1700000000000", "attr|start_time|>|1.7e+12"},
    {"end_time <= 5", "attr|end_time|<=|5"},
    {"created > 10", "attr|start_time|>|10"},
    {"Created < 10", "attr|start_time|<|10"},
    {"attribute.start_time >= 1.5", "attr|start_time|>=|1.5"},
    {"start_time = -5", "attr|start_time|=|-5"},
    {"metrics.a > -1", "metric|a|>|-1"},
    {"metrics.a>-1", "metric|a|>|-1"},
    {"metrics.a > 1e5", "metric|a|>|1e+05"},
    {"metrics.a > 1E-5", "metric|a|>|1e-05"},
    {"metrics.a > .5", "metric|a|>|0.5"},
    {"metrics.a > -.5", "metric|a|>|-0.5"},
    {"metrics.a > 5.", "metric|a|>|5"},
    {"metrics.a > 00012", "metric|a|>|12"},
    {"metrics.a > 1e400", "metric|a|>|inf"},
    {"metrics.a > -1e400", "metric|a|>|-inf"},
    {"metrics.a > 1e-400", "metric|a|>|0"},
    {"metrics.a = 0 AND metrics.b != 0 AND metrics.c < 0 AND metrics.d <= 0 AND metrics.e > 0 AND "
     "metrics.f >= 0",
     "metric|a|=|0 && metric|b|!=|0 && metric|c|<|0 && metric|d|<=|0 && metric|e|>|0 && "
     "metric|f|>=|0"},
    {"run_id IN ('a', 'b')", "attr|run_id|IN|['a', 'b']"},
    {"run_id IN ('a')", "attr|run_id|IN|['a']"},
    {"run_id in ('a','b')", "attr|run_id|IN|['a', 'b']"},
    {"run_id NOT IN ('a', 'b')", "attr|run_id|NOT IN|['a', 'b']"},
    {"run_id not  in ('a', 'B')", "attr|run_id|NOT IN|['a', 'B']"},
    {R"f(run_id IN ("a", "b"))f", "attr|run_id|IN|['a', 'b']"},
    {"run_id IN('a')", "attr|run_id|IN|['a']"},
    {"run_id IN ( 'a' , 'b', )", "attr|run_id|IN|['a', 'b']"},
    {"run_id IN ('a' 'b')", "attr|run_id|IN|['ab']"},
    {"run_id IN ('a''b')", "attr|run_id|IN|['ab']"},
    {R"f(run_id IN ('a\'b', '\x41\u00e9'))f", "attr|run_id|IN|['a'b', 'Aé']"},
    {"run_id IN ('é')", "attr|run_id|IN|['é']"},
    {"dataset.name IN ('a', 'b')", "dataset|name|IN|['a', 'b']"},
    {"datasets.digest NOT IN ('d1')", "dataset|digest|NOT IN|['d1']"},
    {"datasets.context = 'train'", "dataset|context|=|'train'"},
    {R"f(dataset.name = "x")f", "dataset|name|=|'x'"},
    {"dataset.name LIKE '%x'", "dataset|name|LIKE|'%x'"},
    {"dataset.digest ILIKE 'ab%'", "dataset|digest|ILIKE|'ab%'"},
    {"tags.a ILIKE 'x'", "tag|a|ILIKE|'x'"},
    {"params.a Like 'x'", "param|a|LIKE|'x'"},
    {"tags.a is null", "tag|a|IS NULL"},
    {"tags.a Is Not Null", "tag|a|IS NOT NULL"},
    {"params.a IS NOT NULL AND tags.b IS NULL", "param|a|IS NOT NULL && tag|b|IS NULL"},
    {"tags.a = 'x' and tags.b = 'y' AnD tags.c = 'z'", "tag|a|=|'x' && tag|b|=|'y' && tag|c|=|'z'"},
    {"tags.a='x'AND tags.b='y'", "tag|a|=|'x' && tag|b|=|'y'"},
    {"tags.a = 'x'\tAND\ttags.b = 'y'", "tag|a|=|'x' && tag|b|=|'y'"},
    {"AND tags.a = 'x'", "tag|a|=|'x'"},
    {"tags.a = 'x' AND", "tag|a|=|'x'"},
    {"tags.a = 'x' AND AND tags.b = 'y'", "tag|a|=|'x' && tag|b|=|'y'"},
    {"tags.a = 'x' tags.b = 'y'", "tag|a|=|'x' && tag|b|=|'y'"},
    {"and", ""},
    {"", ""},
    {"tags.a = 'x' AND run_id IN ('a', 'b') AND metrics.m > 0.5 AND params.p LIKE '%q%' AND "
     "datasets.context = 'eval'",
     "tag|a|=|'x' && attr|run_id|IN|['a', 'b'] && metric|m|>|0.5 && param|p|LIKE|'%q%' && "
     "dataset|context|=|'eval'"},
    {"params.a = 'x' AND params.a = 'y'", "param|a|=|'x' && param|a|=|'y'"},
};

class ValidRunFilterTest : public testing::TestWithParam<Case> {};

TEST_P(ValidRunFilterTest, ParsesToMlflowAst) {
  const Result<store::Filter> got = ParseRunFilter(GetParam().input);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Describe(*got), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(SearchFilter, ValidRunFilterTest, testing::ValuesIn(kValidRunFilters));

constexpr Case kInvalidRunFilters[] = {
    {"metric.acc >= 0.94; metrics.rmse < 1",
     "Search filter contained multiple expression 'metric.acc >= 0.94; metrics.rmse < 1'. Provide "
     "AND-ed expression list."},
    {";tags.a = 'x'",
     R"f(Search filter contained multiple expression ";tags.a = 'x'". Provide AND-ed expression list.)f"},
    {"tags.a = 'x';", "Invalid clause(s) in filter string: ';'"},
    {"m.acc >= 0.94", "Invalid entity type 'm'"},
    {"acc >= 0.94", "Invalid attribute key 'acc'"},
    {"p.model >= 'LR'", "Invalid entity type 'p'"},
    {"attri.x != 1", "Invalid entity type 'attri'"},
    {"a.x != 1", "Invalid entity type 'a'"},
    {"model >= 'LR'", "Invalid attribute key 'model'"},
    {"Metrics.a > 1", "Invalid entity type 'Metrics'"},
    {R"f("metrics".a > 1)f", R"f(Invalid entity type '"metrics"')f"},
    {"`metrics.a` > 1", "Invalid entity type '`metrics'"},
    {"metrics.A > 0.1 OR params.B = 'LR'", "Invalid clause(s) in filter string: 'OR'"},
    {"metrics.A > 0.1 NAND params.B = 'LR'", "Invalid clause(s) in filter string: 'NAND params.B'"},
    {"metrics.A > 0.1 AND (params.B = 'LR')",
     "Invalid clause(s) in filter string: '(params.B = 'LR')'"},
    {"NOT tags.a = 'x'", "Invalid clause(s) in filter string: 'NOT'"},
    {"`metrics.A > 0.1", "Invalid clause(s) in filter string: '`metrics.A > 0.1'"},
    {"param`.A > 0.1", "Invalid clause(s) in filter string: 'param`.A > 0.1'"},
    {"`dummy.A > 0.1", "Invalid clause(s) in filter string: '`dummy.A > 0.1'"},
    {"dummy`.A > 0.1", "Invalid clause(s) in filter string: 'dummy`.A > 0.1'"},
    {"attribute.start != 1", "Invalid attribute key 'start'"},
    {"attribute.experiment_id != 1", "Invalid attribute key 'experiment_id'"},
    {"attribute.lifecycle_stage = 'ACTIVE'", "Invalid attribute key 'lifecycle_stage'"},
    {"attribute.name != 1", "Invalid attribute key 'name'"},
    {"attribute.time != 1", "Invalid attribute key 'time'"},
    {"attribute._status != 'RUNNING'", "Invalid attribute key '_status'"},
    {"attribute.status = true",
     "Parameter value is either not quoted or unidentified quote types used for string value true. "
     "Use either single or double quotes."},
    {"tags = 'x'", "Invalid attribute key 'tags'"},
    {"dataset.status = 'true'", "Invalid dataset key 'status'"},
    {"dataset.profile = 'num_rows: 10'", "Invalid dataset key 'profile'"},
    {"metrics.acc IS NULL",
     "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'acc'"},
    {"attribute.status IS NULL",
     "IS NULL / IS NOT NULL is only supported for tags and params, not for 'attribute' 'status'"},
    {"dataset.name IS NOT NULL",
     "IS NULL / IS NOT NULL is only supported for tags and params, not for 'dataset' 'name'"},
    {"metric.model = 'LR'", "Expected numeric value type for metric. Found 'LR'"},
    {"metric.model = '5'", "Expected numeric value type for metric. Found '5'"},
    {"params.acc = 5",
     "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 5"},
    {"tags.acc = 5", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 5"},
    {"metrics.acc != metrics.acc", "Expected numeric value type for metric. Found metrics.acc"},
    {"1.0 > metrics.acc", "Invalid comparison clause. Expected 'Identifier' found '1.0'"},
    {"'x' = tags.a", "Invalid comparison clause. Expected 'Identifier' found ''x''"},
    {"attribute.status = 1", "Expected a quoted string value for attributes. Got value 1"},
    {"params.acc = LR",
     "Parameter value is either not quoted or unidentified quote types used for string value LR. "
     "Use either single or double quotes."},
    {"tags.acc = LR",
     "Parameter value is either not quoted or unidentified quote types used for string value LR. "
     "Use either single or double quotes."},
    {"params.acc = `LR`",
     "Parameter value is either not quoted or unidentified quote types used for string value `LR`. "
     "Use either single or double quotes."},
    {"params.'acc = LR", "Invalid clause(s) in filter string: 'params.'acc = LR'"},
    {"params.acc = 'LR", "Invalid clause(s) in filter string: 'params.acc = 'LR'"},
    {"params.acc = LR'", "Invalid clause(s) in filter string: '''"},
    {R"f(params.acc = "LR')f", R"f(Invalid clause(s) in filter string: 'params.acc = "LR'')f"},
    {R"f(tags.acc = "LR')f", R"f(Invalid clause(s) in filter string: 'tags.acc = "LR'')f"},
    {"tags.acc = = 'LR'", "Invalid clause(s) in filter string: 'tags.acc = ='"},
    {"attribute.status IS 'RUNNING'", "Invalid clause(s) in filter string: 'attribute.status IS'"},
    {"params.acc LR !=", "Invalid clause(s) in filter string: 'params.acc LR'"},
    {"params.acc LR", "Invalid clause(s) in filter string: 'params.acc LR'"},
    {"metric.acc !=", "Invalid clause(s) in filter string: 'metric.acc !='"},
    {"acc != 1.0", "Invalid attribute key 'acc'"},
    {"foo is null", "Invalid attribute key 'foo'"},
    {"1=1", "Invalid comparison clause. Expected 'Identifier' found '1'"},
    {"1==2", "Invalid comparison clause. Expected 'Identifier' found '1'"},
    {"metrics.abc ~ 1.0", "Invalid comparator '~' not one of '{'=', '!=', '>', '>=', '<', '<='}'"},
    {"metrics.abc ~= 1.0",
     "Invalid comparator '~=' not one of '{'=', '!=', '>', '>=', '<', '<='}'"},
    {"metrics.abc <> 1.0",
     "Invalid comparator '<>' not one of '{'=', '!=', '>', '>=', '<', '<='}'"},
    {"metrics.abc == 1.0",
     "Invalid comparator '==' not one of '{'=', '!=', '>', '>=', '<', '<='}'"},
    {"metrics.abc LIKE 1.0",
     "Invalid comparator 'LIKE' not one of '{'=', '!=', '>', '>=', '<', '<='}'"},
    {"params.abc > 'my-param-value'",
     "Invalid comparator '>' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'"},
    {"params.abc < 'my-param-value'",
     "Invalid comparator '<' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'"},
    {"params.abc >= 'my-param-value'",
     "Invalid comparator '>=' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'"},
    {"params.abc <= 'my-param-value'",
     "Invalid comparator '<=' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'"},
    {"params.abc ~ 'my-param-value'",
     "Invalid comparator '~' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'"},
    {"tags.abc > 'my-tag-value'",
     "Invalid comparator '>' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'"},
    {"tags.abc NOT LIKE 'x'",
     "Invalid comparator 'NOT LIKE' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT "
     "NULL'}'"},
    {"tags.abc RLIKE 'x'",
     "Invalid comparator 'RLIKE' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT "
     "NULL'}'"},
    {"attributes.status > 'my-tag-value'",
     "Invalid comparator '>' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'"},
    {"attributes.status <= 'my-tag-value'",
     "Invalid comparator '<=' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'"},
    {"attributes.start_time LIKE 1234",
     "Invalid comparator 'LIKE' not one of '{'=', '!=', '>', '>=', '<', '<='}'"},
    {"attributes.start_time ILIKE 1234",
     "Invalid comparator 'ILIKE' not one of '{'=', '!=', '>', '>=', '<', '<='}'"},
    {"attributes.start_time != 'x'",
     "Expected numeric value type for numeric attribute: start_time. Found 'x'"},
    {"attributes.start_time IN (1)",
     "Expected numeric value type for numeric attribute: start_time. Found (1)"},
    {"datasets.name > 'my-dataset-name'",
     "Invalid comparator '>' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'"},
    {"datasets.name ~ 'my-dataset-name'",
     "Invalid comparator '~' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'"},
    {"dataset.name = 1", "Expected a quoted string value for dataset attributes. Got value 1"},
    {"status IN ('a')",
     "Only ['run_id'] attributes support comparison with a list of quoted string values."},
    {"run_name NOT IN ('a')",
     "Only ['run_id'] attributes support comparison with a list of quoted string values."},
    {"tags.a IN ('x')",
     "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('x')"},
    {"metrics.a IN (1)", "Expected numeric value type for metric. Found (1)"},
    {"run_id IN ()",
     "While parsing a list in the query, expected a non-empty list of string values, but got empty "
     "list"},
    {"run_id IN ('a', 1)",
     "While parsing a list in the query, expected string value, punctuation, or whitespace, but "
     "got different type in list: ('a', 1)"},
    {"run_id IN (a, b)",
     "While parsing a list in the query, expected string value, punctuation, or whitespace, but "
     "got different type in list: (a, b)"},
    {"run_id IN ('a',, 'b')",
     "While parsing a list in the query, expected a non-empty list of string values, but got "
     "ill-formed list."},
    {"run_id IN ('a'", "Invalid clause(s) in filter string: 'run_id IN ('a''"},
    {"run_id IN 'a'", "Invalid clause(s) in filter string: 'run_id IN 'a''"},
    {"tags.a = ('x')", "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('x')"},
    {"metrics.a > - 1", "Invalid clause(s) in filter string: 'metrics.a > -'"},
    {"metrics.a > +1", "Invalid clause(s) in filter string: 'metrics.a > +1'"},
    {"metrics.a > 1_000", "Expected numeric value type for metric. Found 1_000"},
    {"metrics.a > 1a", "Expected numeric value type for metric. Found 1a"},
    {"metrics.a>1AND metrics.b<2", "Expected numeric value type for metric. Found 1AND"},
    {"metrics.a = inf", "Expected numeric value type for metric. Found inf"},
    {"metrics.a = 'nan'", "Expected numeric value type for metric. Found 'nan'"},
    {"metrics.a > 1.5.3", "Invalid clause(s) in filter string: '.3'"},
    {"metrics.123 > 1", "Invalid clause(s) in filter string: 'metrics.123'"},
    {"tags.my-key = 'x'", "Invalid clause(s) in filter string: 'tags.my-key'"},
    {"tags.a = 'x' -- comment", "Invalid clause(s) in filter string: '--'"},
    {"tags.a = NULL",
     "Parameter value is either not quoted or unidentified quote types used for string value NULL. "
     "Use either single or double quotes."},
    {"tags.a = 'x' AND tags.b", "Invalid clause(s) in filter string: 'tags.b'"},
    {"tags.a", "Invalid clause(s) in filter string: 'tags.a'"},
    {"tags.a =", "Invalid clause(s) in filter string: 'tags.a ='"},
    {"= 'x'", "Invalid clause(s) in filter string: '='"},
    {"tags.a = 'x' or tags.b = 'y'", "Invalid clause(s) in filter string: 'or'"},
    {"metrics.a > 1 AND NOT metrics.b > 1", "Invalid clause(s) in filter string: 'NOT'"},
    {"metrics.a between 1 and 2", "Invalid clause(s) in filter string: 'metrics.a between'"},
    {"tags.a = 'x' AND tags.b = 'unterminated",
     "Invalid clause(s) in filter string: 'tags.b = 'unterminated'"},
    {"tags.a='x'ANDtags.b='y'", "Invalid entity type 'ANDtags'"},
    {"tags.a ISNULL", "Invalid clause(s) in filter string: 'tags.a ISNULL'"},
    {"Run name = 'x'", "Invalid clause(s) in filter string: 'Run name'"},
};

class InvalidRunFilterTest : public testing::TestWithParam<Case> {};

TEST_P(InvalidRunFilterTest, FailsWithMlflowMessage) {
  const Result<store::Filter> got = ParseRunFilter(GetParam().input);
  ASSERT_FALSE(got.ok()) << Describe(*got);
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(got.status().message(), HasSubstr(GetParam().want));
}

INSTANTIATE_TEST_SUITE_P(SearchFilter, InvalidRunFilterTest, testing::ValuesIn(kInvalidRunFilters));

// ---------------------------------------------------------------------------------------------
// search_experiments filters.

constexpr Case kValidExperimentFilters[] = {
    {"name = 'x'", "attr|name|=|'x'"},
    {"name LIKE 'x%'", "attr|name|LIKE|'x%'"},
    {"name ILIKE '%x%'", "attr|name|ILIKE|'%x%'"},
    {"name != 'x'", "attr|name|!=|'x'"},
    {"attribute.name = 'x'", "attr|name|=|'x'"},
    {R"f("name" = 'x')f", "attr|name|=|'x'"},
    {"`name` = 'x'", "attr|name|=|'x'"},
    {R"f(name = "my experiment")f", "attr|name|=|'my experiment'"},
    {"experiment_id = '1'", "attr|experiment_id|=|'1'"},
    {"experiment_id != '007'", "attr|experiment_id|!=|'7'"},
    {"experiment_id IN ('1', '2')", "attr|experiment_id|IN|['1', '2']"},
    {"experiment_id NOT IN ('3')", "attr|experiment_id|NOT IN|['3']"},
    {"experiment_id = ' 12 '", "attr|experiment_id|=|'12'"},
    {"creation_time > 1", "attr|creation_time|>|1"},
    {"creation_time >= -1", "attr|creation_time|>=|-1"},
    {"last_update_time < 1700000000000", "attr|last_update_time|<|1.7e+12"},
    {"last_update_time = 0", "attr|last_update_time|=|0"},
    {"tags.a = 'x'", "tag|a|=|'x'"},
    {"tag.a = 'x'", "tag|a|=|'x'"},
    {"tags.`a.b` = 'x'", "tag|a.b|=|'x'"},
    {"tags.a.b = 'x'", "tag|a.b|=|'x'"},
    {R"f(tags."a b" != 'x')f", "tag|a b|!=|'x'"},
    {"tags.a LIKE '%x'", "tag|a|LIKE|'%x'"},
    {"tags.a ILIKE '%x'", "tag|a|ILIKE|'%x'"},
    {"tags.a IS NULL", "tag|a|IS NULL"},
    {"tags.a IS NOT NULL", "tag|a|IS NOT NULL"},
    {"name = 'x' AND tags.a = 'y' AND creation_time > 0",
     "attr|name|=|'x' && tag|a|=|'y' && attr|creation_time|>|0"},
    {"", ""},
};

class ValidExperimentFilterTest : public testing::TestWithParam<Case> {};

TEST_P(ValidExperimentFilterTest, ParsesToMlflowAst) {
  const Result<store::Filter> got = ParseExperimentFilter(GetParam().input);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Describe(*got), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(SearchFilter, ValidExperimentFilterTest,
                         testing::ValuesIn(kValidExperimentFilters));

constexpr Case kInvalidExperimentFilters[] = {
    {"name IN ('x')",
     "Only ['experiment_id'] attributes support comparison with a list of quoted string values."},
    {"name > 'x'", "Invalid comparator '>' not one of '{'=', '!=', 'LIKE', 'ILIKE'}'"},
    {"name = x",
     "Parameter value is either not quoted or unidentified quote types used for string value x. "
     "Use either single or double quotes."},
    {"name = 1", "Expected a quoted string value for attributes. Got value 1"},
    {"name IS NULL", "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name'"},
    {"experiment_id = 1", "Expected a quoted string value for attributes. Got value 1"},
    {"experiment_id = 'abc'",
     "Invalid experiment ID 'abc'. Experiment ID must be a valid integer."},
    {"experiment_id IN ('1', 'x')",
     "Invalid experiment ID 'x'. Experiment ID must be a valid integer."},
    {"experiment_id LIKE '1'", "Invalid comparator for experiment_id: LIKE"},
    {"experiment_id IN ()",
     "While parsing a list in the query, expected a non-empty list of string values, but got empty "
     "list"},
    {"creation_time > 1.5", "Invalid value for numeric attribute 'creation_time': '1.5'"},
    {"creation_time > 1e3", "Invalid value for numeric attribute 'creation_time': '1e3'"},
    {"creation_time = '1'",
     "Expected numeric value type for numeric attribute: creation_time. Found '1'"},
    {"creation_time LIKE 1",
     "Invalid comparator 'LIKE' not one of '{'=', '!=', '>', '>=', '<', '<='}'"},
    {"last_update_time IS NOT NULL",
     "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'last_update_time'"},
    {"attributes.name = 'x'", "Invalid entity type 'attributes'"},
    {"attr.name = 'x'", "Invalid entity type 'attr'"},
    {"`attribute`.name = 'x'", "Invalid entity type '`attribute`'"},
    {"metrics.a > 1", "Invalid entity type 'metrics'"},
    {"params.a = 'x'", "Invalid entity type 'params'"},
    {"datasets.name = 'x'", "Invalid entity type 'datasets'"},
    {"run_id = 'x'", "Invalid attribute key 'run_id'"},
    {"status = 'x'", "Invalid attribute key 'status'"},
    {"lifecycle_stage = 'active'", "Invalid attribute key 'lifecycle_stage'"},
    {"tags.a > 'x'", "Invalid comparator for tag: >"},
    {"tags.a IN ('x')",
     "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('x')"},
    {"tags.a = 1", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1"},
    {"name = 'x' OR name = 'y'", "Invalid clause(s) in filter string: OR"},
    {"name = 'x'; name = 'y'",
     R"f(Search filter contained multiple expression "name = 'x'; name = 'y'". Provide AND-ed expression list.)f"},
    {"1 = 1", "Invalid comparison clause. Expected 'Identifier' found '1'"},
    {"(name = 'x')", "Invalid clause(s) in filter string: (name = 'x')"},
};

class InvalidExperimentFilterTest : public testing::TestWithParam<Case> {};

TEST_P(InvalidExperimentFilterTest, FailsWithMlflowMessage) {
  const Result<store::Filter> got = ParseExperimentFilter(GetParam().input);
  ASSERT_FALSE(got.ok()) << Describe(*got);
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(got.status().message(), HasSubstr(GetParam().want));
}

INSTANTIATE_TEST_SUITE_P(SearchFilter, InvalidExperimentFilterTest,
                         testing::ValuesIn(kInvalidExperimentFilters));

// ---------------------------------------------------------------------------------------------
// order_by. Entries for search_runs are prefixed "R ", for search_experiments "E ".

Result<std::vector<store::OrderBy>> ParseTaggedOrderBy(std::string_view tagged) {
  const std::vector<std::string> entries = {std::string(tagged.substr(2))};
  return tagged.front() == 'R' ? ParseRunOrderBy(entries) : ParseExperimentOrderBy(entries);
}

constexpr Case kValidOrderBy[] = {
    {"R metrics.a", "metric|a|ASC"},
    {"R metrics.a ASC", "metric|a|ASC"},
    {"R metrics.a desc", "metric|a|DESC"},
    {"R metrics.a DeSc", "metric|a|DESC"},
    {"R metrics.a  DESC", "metric|a|DESC"},
    {"R metrics.a\tDESC", "metric|a|DESC"},
    {"R metrics.`Mean Square Error`", "metric|Mean Square Error|ASC"},
    {"R metrics.`Mean Square Error` ASC", "metric|Mean Square Error|ASC"},
    {"R metrics.`Mean Square Error` DESC", "metric|Mean Square Error|DESC"},
    {R"f(R metrics."a b" DESC)f", "metric|a b|DESC"},
    {"R metrics.'a b' DESC", "metric|a b|DESC"},
    {R"f(R metrics."key1"  desc)f", "metric|key1|DESC"},
    {"R `metrics`.a", "metric|a|ASC"},
    {R"f(R "metrics".a DESC)f", "metric|a|DESC"},
    {"R params.my_param aSc", "param|my_param|ASC"},
    {"R params.`my_param` DESC", "param|my_param|DESC"},
    {"R param.p", "param|p|ASC"},
    {"R parameters.p", "param|p|ASC"},
    {"R tags.noSuchTag", "tag|noSuchTag|ASC"},
    {"R tags.mlflow.runName", "tag|mlflow.runName|ASC"},
    {"R tags.`mlflow.runName` DESC", "tag|mlflow.runName|DESC"},
    {"R attributes.status  ASC", "attr|status|ASC"},
    {"R attributes.start_time", "attr|start_time|ASC"},
    {"R attribute.end_time DESC", "attr|end_time|DESC"},
    {"R attr.run_id", "attr|run_id|ASC"},
    {"R run.status", "attr|status|ASC"},
    {"R start_time DESC", "attr|start_time|DESC"},
    {"R created", "attr|start_time|ASC"},
    {"R Created DESC", "attr|start_time|DESC"},
    {"R run_name", "attr|run_name|ASC"},
    {"R user_id", "attr|user_id|ASC"},
    {"R artifact_uri", "attr|artifact_uri|ASC"},
    {"R metrics.timestamp", "metric|timestamp|ASC"},
    {R"f(R metrics.a "DESC")f", "metric|a|DESC"},
    {"R metrics.a `desc`", "metric|a|DESC"},
    {"R metrics.", "metric||ASC"},
    {"E name", "attr|name|ASC"},
    {"E name DESC", "attr|name|DESC"},
    {"E name asc", "attr|name|ASC"},
    {"E experiment_id", "attr|experiment_id|ASC"},
    {"E creation_time DESC", "attr|creation_time|DESC"},
    {"E last_update_time", "attr|last_update_time|ASC"},
    {"E attribute.name", "attr|name|ASC"},
    {"E `name`", "attr|name|ASC"},
    {R"f(E "name" DESC)f", "attr|name|DESC"},
};

class ValidOrderByTest : public testing::TestWithParam<Case> {};

TEST_P(ValidOrderByTest, ParsesToMlflowKey) {
  const Result<std::vector<store::OrderBy>> got = ParseTaggedOrderBy(GetParam().input);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Describe(*got), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(SearchFilter, ValidOrderByTest, testing::ValuesIn(kValidOrderBy));

constexpr Case kInvalidOrderBy[] = {
    {"R m.acc", "Invalid entity type 'm'"},
    {"R acc", "Invalid attribute key 'acc'"},
    {"R attri.x", "Invalid entity type 'attri'"},
    {"R `metrics.A", "Invalid order_by clause '`metrics.A'. Could not be parsed."},
    {"R `metrics.A`", "Invalid entity type '`metrics'"},
    {"R attribute.start", "Invalid attribute key 'start'"},
    {"R attribute.experiment_id", "Invalid attribute key 'experiment_id'"},
    {"R metrics.A != 1", "Invalid order_by clause 'metrics.A != 1'. Could not be parsed."},
    {"R params.my_param ", "Invalid order_by clause 'params.my_param '. Could not be parsed."},
    {"R  params.my_param", "Invalid order_by clause ' params.my_param'. Could not be parsed."},
    {"R attribute.run_id ACS", "Invalid ordering key in order_by clause 'attribute.run_id ACS'."},
    {"R attribute.run_id decs", "Invalid ordering key in order_by clause 'attribute.run_id decs'."},
    {"R metrics.a DESC ASC", "Invalid order_by clause 'metrics.a DESC ASC'. Could not be parsed."},
    {"R metrics.a b", "Invalid ordering key in order_by clause 'metrics.a b'."},
    {"R metrics.a,metrics.b",
     "Invalid order_by clause 'metrics.a,metrics.b'. Could not be parsed."},
    {"R ", "Invalid order_by clause ''. Could not be parsed."},
    {"R DESC NULLS LAST", "Invalid order_by clause 'DESC NULLS LAST'. Could not be parsed."},
    {"R metrics.a NULLS LAST",
     "Invalid order_by clause 'metrics.a NULLS LAST'. Could not be parsed."},
    {"R (metrics.a)", "Invalid order_by clause '(metrics.a)'. Could not be parsed."},
    {"R metrics.a;", "Invalid order_by clause 'metrics.a;'. Could not be parsed."},
    {"R `run name`", "Invalid attribute key 'run name'"},
    {R"f(R "Run Name" DESC)f", "Invalid attribute key 'Run Name'"},
    {"R lifecycle_stage", "Invalid attribute key 'lifecycle_stage'"},
    {"R timestamp", "Invalid attribute key 'timestamp'"},
    {"R dataset.name", "Invalid identifier type 'dataset'"},
    {"R datasets.digest DESC", "Invalid identifier type 'dataset'"},
    {"R 1", "Invalid order_by clause '1'. Could not be parsed."},
    {"R 'metrics.a'", "Invalid order_by clause ''metrics.a''. Could not be parsed."},
    {"E created", "Invalid attribute key 'created'"},
    {"E tags.a", "Invalid order_by entity: tag"},
    {"E tag.a DESC", "Invalid order_by entity: tag"},
    {"E metrics.a", "Invalid entity type 'metrics'"},
    {"E attributes.name", "Invalid entity type 'attributes'"},
    {"E lifecycle_stage", "Invalid attribute key 'lifecycle_stage'"},
    {"E artifact_location", "Invalid attribute key 'artifact_location'"},
    {"E name DESCENDING", "Invalid ordering key in order_by clause 'name DESCENDING'."},
};

class InvalidOrderByTest : public testing::TestWithParam<Case> {};

TEST_P(InvalidOrderByTest, FailsWithMlflowMessage) {
  const Result<std::vector<store::OrderBy>> got = ParseTaggedOrderBy(GetParam().input);
  ASSERT_FALSE(got.ok()) << Describe(*got);
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(got.status().message(), HasSubstr(GetParam().want));
}

INSTANTIATE_TEST_SUITE_P(SearchFilter, InvalidOrderByTest, testing::ValuesIn(kInvalidOrderBy));

// ---------------------------------------------------------------------------------------------
// Deliberate deviations from MLflow, each a case MLflow rejects or mishandles.

TEST(SearchFilterDeviationTest, WhitespaceOnlyFilterIsEmpty) {
  // MLflow: "Invalid filter '  '. Could not be parsed."; Plinth treats it like an empty filter.
  for (std::string_view filter : {"", " ", "  \t\n "}) {
    const Result<store::Filter> runs = ParseRunFilter(filter);
    ASSERT_TRUE(runs.ok()) << runs.status().ToString();
    EXPECT_TRUE(runs->clauses.empty());
    const Result<store::Filter> experiments = ParseExperimentFilter(filter);
    ASSERT_TRUE(experiments.ok()) << experiments.status().ToString();
    EXPECT_TRUE(experiments->clauses.empty());
  }
}

TEST(SearchFilterDeviationTest, IsNotNullAcceptsAnyWhitespace) {
  // sqlparse reads "NOT   NULL" as one keyword that MLflow then fails to recognise.
  const Result<store::Filter> got = ParseRunFilter("tags.a IS  NOT   NULL");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Describe(*got), "tag|a|IS NOT NULL");
}

TEST(SearchFilterDeviationTest, ExperimentComparatorsAreCaseInsensitive) {
  // MLflow's SQL store upper-cases run comparators but not experiment ones, so it rejects
  // "name like 'x'" with "Invalid comparator 'like'"; Plinth treats both searches alike.
  const Result<store::Filter> name = ParseExperimentFilter("name like 'x%'");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(Describe(*name), "attr|name|LIKE|'x%'");
  const Result<store::Filter> tag = ParseExperimentFilter("tags.a ilike 'x'");
  ASSERT_TRUE(tag.ok()) << tag.status().ToString();
  EXPECT_EQ(Describe(*tag), "tag|a|ILIKE|'x'");
}

TEST(SearchFilterDeviationTest, ListNeedsInOrNotIn) {
  // MLflow parses these and hands `column = ('a', 'b')` to SQL; Plinth rejects them up front.
  for (std::string_view filter :
       {"run_id = ('a', 'b')", "dataset.name LIKE ('a')", "datasets.context != ('a')"}) {
    const Result<store::Filter> got = ParseRunFilter(filter);
    ASSERT_FALSE(got.ok()) << filter;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(got.status().message(), HasSubstr("for a list of values: expected 'IN'"));
  }
}

// ---------------------------------------------------------------------------------------------
// The AST's fields, beyond what Describe() shows.

TEST(SearchFilterAstTest, NumericAndStringClausesFillTheirOwnFields) {
  const Result<store::Filter> got =
      ParseRunFilter("metrics.loss <= 0.25 AND params.lr = '0.1' AND run_id IN ('a', 'b')");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->clauses.size(), 3u);

  const store::FilterClause& metric = got->clauses[0];
  EXPECT_EQ(metric.entity, store::EntityKind::kMetric);
  EXPECT_EQ(metric.key, "loss");
  EXPECT_EQ(metric.comparator, store::Comparator::kLe);
  EXPECT_TRUE(metric.numeric);
  EXPECT_EQ(metric.number_value, 0.25);
  EXPECT_EQ(metric.string_value, "");
  EXPECT_TRUE(metric.string_list.empty());

  const store::FilterClause& param = got->clauses[1];
  EXPECT_EQ(param.entity, store::EntityKind::kParam);
  EXPECT_FALSE(param.numeric);
  EXPECT_EQ(param.string_value, "0.1");
  EXPECT_TRUE(param.string_list.empty());

  const store::FilterClause& ids = got->clauses[2];
  EXPECT_EQ(ids.entity, store::EntityKind::kAttribute);
  EXPECT_EQ(ids.comparator, store::Comparator::kIn);
  EXPECT_FALSE(ids.numeric);
  EXPECT_EQ(ids.string_value, "");
  EXPECT_EQ(ids.string_list, (std::vector<std::string>{"a", "b"}));
}

TEST(SearchFilterAstTest, LargeIntegersKeepTheirValue) {
  // Millisecond timestamps are exact in a double.
  const Result<store::Filter> got = ParseRunFilter("start_time >= 1712345678901");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->clauses.size(), 1u);
  EXPECT_EQ(got->clauses[0].number_value, 1712345678901.0);
}

TEST(SearchFilterAstTest, ManyClausesParseInOrder) {
  std::string filter;
  for (int i = 0; i < 2000; ++i) {
    filter += (i > 0 ? " AND " : "") + std::string("metrics.m") + std::to_string(i) + " > " +
              std::to_string(i);
  }
  const Result<store::Filter> got = ParseRunFilter(filter);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->clauses.size(), 2000u);
  EXPECT_EQ(got->clauses[1999].key, "m1999");
  EXPECT_EQ(got->clauses[1999].number_value, 1999);
}

// MLflow checks the syntax of the whole filter before the keys and values of any clause.
TEST(SearchFilterAstTest, SyntaxErrorsComeBeforeKeyErrors) {
  const Result<store::Filter> got = ParseRunFilter("m.acc > 1 AND tags.a = 'x' OR tags.b = 'y'");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("Invalid clause(s) in filter string: 'OR'"));
}

TEST(SearchFilterAstTest, FirstBadClauseIsReported) {
  const Result<store::Filter> got = ParseRunFilter("metrics.a > 1 AND m.b > 1 AND p.c = 'x'");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("Invalid entity type 'm'"));
}

TEST(SearchOrderByTest, KeepsEntriesInOrder) {
  const Result<std::vector<store::OrderBy>> got =
      ParseRunOrderBy({"metrics.`val loss` DESC", "created", "tags.mlflow.runName ASC"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Describe(*got), "metric|val loss|DESC, attr|start_time|ASC, tag|mlflow.runName|ASC");
}

TEST(SearchOrderByTest, EmptyListIsEmpty) {
  const Result<std::vector<store::OrderBy>> runs = ParseRunOrderBy({});
  ASSERT_TRUE(runs.ok());
  EXPECT_TRUE(runs->empty());
  const Result<std::vector<store::OrderBy>> experiments = ParseExperimentOrderBy({});
  ASSERT_TRUE(experiments.ok());
  EXPECT_TRUE(experiments->empty());
}

TEST(SearchOrderByTest, FirstBadEntryIsReported) {
  const Result<std::vector<store::OrderBy>> got =
      ParseExperimentOrderBy({"name", "creation_time DESCENDING", "tags.a"});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status().message(),
            "Invalid ordering key in order_by clause 'creation_time DESCENDING'.");
}

}  // namespace
}  // namespace plinth::tracking

namespace plinth::tracking {
namespace {

TEST(ParseLoggedModelFilterTest, CombinesAttributesWithRunEntities) {
  auto f = ParseLoggedModelFilter("name = 'model' AND params.lr = '0.1' AND metrics.acc > 0.9");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->clauses.size(), 3u);
  EXPECT_EQ(f->clauses[0].entity, store::EntityKind::kAttribute);
  EXPECT_EQ(f->clauses[0].key, "name");
  EXPECT_EQ(f->clauses[0].string_value, "model");
  EXPECT_EQ(f->clauses[1].entity, store::EntityKind::kParam);
  EXPECT_EQ(f->clauses[2].entity, store::EntityKind::kMetric);
  EXPECT_TRUE(f->clauses[2].numeric);
  EXPECT_DOUBLE_EQ(f->clauses[2].number_value, 0.9);
}

TEST(ParseLoggedModelFilterTest, RejectsRunOnlyAttributes) {
  auto f = ParseLoggedModelFilter("run_name = 'x'");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find("Invalid attribute key 'run_name'"), std::string::npos);
}

}  // namespace
}  // namespace plinth::tracking
