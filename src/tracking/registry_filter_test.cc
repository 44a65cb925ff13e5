// Tests for the model registry's search filters and order_by (search_filter.h:
// ParseRegisteredModelFilter, ParseModelVersionFilter and their order_by parsers). Expected
// results and messages are those of `mlflow server` 3.x (SearchModelUtils,
// SearchModelVersionUtils and its SQL registry store), checked by hand against a running server;
// where MLflow answers 500 (IS NULL, a duplicate order_by key) Plinth answers 400.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tracking/search_filter.h"

namespace plinth::tracking {
namespace {

using store::Comparator;
using store::EntityKind;
using ::testing::HasSubstr;

struct Case {
  std::string_view filter;
  bool ok;
  std::string_view want;  // ok: "entity|key|op|value"; else a substring of the error
};

std::string Describe(const store::Filter& f) {
  std::string out;
  for (const store::FilterClause& c : f.clauses) {
    if (!out.empty()) out += " && ";
    out += c.entity == EntityKind::kTag ? "tag|" : "attr|";
    out += c.key + "|";
    switch (c.comparator) {
      case Comparator::kEq:
        out += "=";
        break;
      case Comparator::kNe:
        out += "!=";
        break;
      case Comparator::kGt:
        out += ">";
        break;
      case Comparator::kGe:
        out += ">=";
        break;
      case Comparator::kLt:
        out += "<";
        break;
      case Comparator::kLe:
        out += "<=";
        break;
      case Comparator::kLike:
        out += "LIKE";
        break;
      case Comparator::kILike:
        out += "ILIKE";
        break;
      case Comparator::kIn:
        out += "IN";
        break;
      case Comparator::kNotIn:
        out += "NOT IN";
        break;
      default:
        out += "?";
    }
    if (c.numeric) {
      out += "|" + std::to_string(static_cast<int64_t>(c.number_value));
    } else if (!c.string_list.empty()) {
      out += "|";
      for (size_t i = 0; i < c.string_list.size(); ++i) {
        out += (i ? "," : "") + c.string_list[i];
      }
    } else {
      out += "|" + c.string_value;
    }
  }
  return out;
}

void Check(const Result<store::Filter>& got, const Case& c) {
  if (c.ok) {
    ASSERT_TRUE(got.ok()) << c.filter << ": " << got.status().ToString();
    EXPECT_EQ(Describe(*got), c.want) << c.filter;
  } else {
    ASSERT_FALSE(got.ok()) << c.filter << " parsed as " << Describe(*got);
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(got.status().message(), HasSubstr(std::string(c.want))) << c.filter;
  }
}

TEST(RegisteredModelFilterTest, MatchesMlflow) {
  const Case cases[] = {
      {"", true, ""},
      {"name = 'churn'", true, "attr|name|=|churn"},
      {"name LIKE 'ch%'", true, "attr|name|LIKE|ch%"},
      {"name ilike '%CH%'", true, "attr|name|ILIKE|%CH%"},
      {"attribute.name != \"x\"", true, "attr|name|!=|x"},
      {"name IN ('a', 'b')", true, "attr|name|IN|a,b"},
      {"tags.team = 'red' and name LIKE 'a%'", true, "tag|team|=|red && attr|name|LIKE|a%"},
      {"tags.`mlflow.prompt.is_prompt` = 'true'", true, "tag|mlflow.prompt.is_prompt|=|true"},
      {"foo = 'b'", false, "Invalid attribute key 'foo' specified. Valid keys are '{'name'}'"},
      {"name > 'b'", false, "Invalid comparator for attribute: >"},
      {"tags.a > 'b'", false, "Invalid comparator for tag: >"},
      {"tags.a IN ('b')", false,
       "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('b')"},
      {"name = 5", false,
       "Expected a quoted string value or a list of quoted string values for attributes. Got "
       "value 5"},
      {"tags.a = 5", false, "Expected a quoted string value for tag (e.g. 'my-value')"},
      {"name = 'a' OR name = 'b'", false, "Invalid clause(s) in filter string: OR"},
      {"runs.x = 'a'", false,
       "Invalid entity type 'runs'. Valid entity types are ('attribute', 'tag', 'tags')"},
      {"tags.a IS NULL", false, "IS NULL"},
  };
  for (const Case& c : cases) Check(ParseRegisteredModelFilter(c.filter), c);
}

TEST(ModelVersionFilterTest, MatchesMlflow) {
  const Case cases[] = {
      {"name = 'm'", true, "attr|name|=|m"},
      {"run_id = 'abc'", true, "attr|run_id|=|abc"},
      {"run_id IN ('a', 'b')", true, "attr|run_id|IN|a,b"},
      {"source_path LIKE 's3://%'", true, "attr|source_path|LIKE|s3://%"},
      {"version_number > 3", true, "attr|version_number|>|3"},
      {"version_number = '3'", true, "attr|version_number|=|3"},  // MLflow's int('3')
      {"tags.k = 'v' AND name = 'm'", true, "tag|k|=|v && attr|name|=|m"},
      {"version_number > 3.5", false, "Invalid value for numeric attribute 'version_number': 3.5"},
      {"version_number = 'abc'", false,
       "Invalid value for numeric attribute 'version_number': 'abc'"},
      {"version_number LIKE '3'", false, "Invalid comparator for attribute version_number: LIKE"},
      {"source_path IN ('a')", false,
       "Only ['name', 'run_id'] attributes support comparison with a list"},
      {"source_path NOT LIKE 'a'", false, "Invalid comparator for attribute: NOT LIKE"},
      {"run_id > 'a'", false, "Invalid comparator for attribute: >"},
      {"run_id = 5", false, "attributes support comparison with numeric values."},
      {"current_stage = 'None'", false,
       "Invalid attribute key 'current_stage' specified. Valid keys are"},
      {"source_path = ('a')", false,
       "Only ['name', 'run_id'] attributes support comparison with a list"},
  };
  for (const Case& c : cases) Check(ParseModelVersionFilter(c.filter), c);
}

std::string DescribeOrder(const std::vector<store::OrderBy>& order) {
  std::string out;
  for (const store::OrderBy& o : order) {
    out += (out.empty() ? "" : ", ") + o.key + (o.ascending ? " ASC" : " DESC");
  }
  return out;
}

TEST(RegistryOrderByTest, RegisteredModels) {
  auto ok = ParseRegisteredModelOrderBy({"timestamp DESC", "name"});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(DescribeOrder(*ok), "last_updated_timestamp DESC, name ASC");
  EXPECT_EQ(DescribeOrder(*ParseRegisteredModelOrderBy({"last_updated_timestamp asc"})),
            "last_updated_timestamp ASC");

  auto bad = ParseRegisteredModelOrderBy({"foo"});
  EXPECT_THAT(bad.status().message(),
              HasSubstr("Invalid order by key 'foo' specified. Valid keys are"));
  // MLflow's SQL store refuses the creation time although its parser accepts it.
  EXPECT_THAT(ParseRegisteredModelOrderBy({"creation_timestamp"}).status().message(),
              HasSubstr("Invalid order by key 'creation_timestamp'"));
  EXPECT_THAT(ParseRegisteredModelOrderBy({"name", "name DESC"}).status().message(),
              HasSubstr("`order_by` contains duplicate fields"));
  EXPECT_THAT(ParseRegisteredModelOrderBy({"name UP"}).status().message(),
              HasSubstr("Invalid ordering key in order_by clause 'name UP'"));
}

TEST(RegistryOrderByTest, ModelVersions) {
  auto ok = ParseModelVersionOrderBy({"attribute.version_number DESC", "creation_timestamp"});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(DescribeOrder(*ok), "version_number DESC, creation_timestamp ASC");
  EXPECT_THAT(ParseModelVersionOrderBy({"run_id"}).status().message(),
              HasSubstr("Invalid attribute key 'run_id' specified. Valid keys are"));
  EXPECT_THAT(ParseModelVersionOrderBy({"name", "name"}).status().message(),
              HasSubstr("duplicate fields"));
}

}  // namespace
}  // namespace plinth::tracking
