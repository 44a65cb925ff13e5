// Tests of MLflow's registry input rules (registry_rules.h), the Python formatting they rely on
// (python_format.h) and the reading of model version sources (model_source.h). Expected texts
// are MLflow 3.x's, checked against a running `mlflow server` where a message is involved.
#include "registry/registry_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "registry/model_source.h"
#include "registry/python_format.h"

namespace plinth::registry {
namespace {

using ::testing::HasSubstr;

TEST(PythonFormatTest, ReprJsonAndNormpath) {
  EXPECT_EQ(PythonRepr("a/b"), "'a/b'");
  EXPECT_EQ(PythonRepr("it's"), "\"it's\"");
  EXPECT_EQ(PythonRepr("a\\b\n"), "'a\\\\b\\n'");
  EXPECT_EQ(PythonJsonString("m1"), "\"m1\"");
  EXPECT_EQ(PythonJsonString("q\"\\\n"), "\"q\\\"\\\\\\n\"");
  EXPECT_EQ(PythonJsonString("é☃🚀"), "\"\\u00e9\\u2603\\ud83d\\ude80\"");
  EXPECT_EQ(PosixNormpath(""), ".");
  EXPECT_EQ(PosixNormpath("a//b/./c/"), "a/b/c");
  EXPECT_EQ(PosixNormpath("a/../../b"), "../b");
  EXPECT_EQ(PosixNormpath("/../a"), "/a");
  EXPECT_EQ(PosixNormpath("//a"), "//a");
  EXPECT_EQ(PosixNormpath("///a"), "/a");
}

TEST(RegistryRulesTest, ModelNames) {
  EXPECT_TRUE(ValidateModelName("churn model-v2.1").ok());
  EXPECT_TRUE(ValidateModelName("données").ok());
  EXPECT_EQ(ValidateModelName("  ").message(), "Missing value for required parameter 'name'.");
  EXPECT_EQ(ValidateModelName("", "new_name").message(),
            "Missing value for required parameter 'new_name'.");
  EXPECT_EQ(ValidateModelName("a/b").message(),
            "Invalid model name 'a/b'. Names cannot contain '/' or ':'.");
  EXPECT_EQ(ValidateModelName("a:b").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateModelName("..x").message(),
            "Invalid value \"..x\" for parameter 'name' supplied: Names may be treated as files "
            "in certain cases, and must not resolve to other names when treated as such. This "
            "name would resolve to '..x'");
  EXPECT_EQ(ValidateModelName(".").code(), StatusCode::kInvalidArgument);
}

TEST(RegistryRulesTest, Versions) {
  EXPECT_EQ(*ParseVersion("3"), 3);
  EXPECT_EQ(*ParseVersion(" +007 "), 7);
  EXPECT_EQ(*ParseVersion("-1"), -1);
  EXPECT_EQ(ParseVersion("abc").status().message(),
            "Parameter 'version' must be an integer, got 'abc'.");
  EXPECT_FALSE(ParseVersion("").ok());
  EXPECT_FALSE(ParseVersion("3.0").ok());
  EXPECT_FALSE(ParseVersion("99999999999999999999").ok());
}

TEST(RegistryRulesTest, Aliases) {
  EXPECT_TRUE(ValidateAlias("champion_2-b", true).ok());
  EXPECT_EQ(ValidateAlias("", true).message(), "Registered model alias name cannot be empty.");
  EXPECT_EQ(ValidateAlias("a.b", true).message(),
            "Invalid alias name: 'a.b'. Names may only contain alphanumerics, underscores (_), "
            "and dashes (-).");
  EXPECT_EQ(ValidateAlias("LATEST", true).message(),
            "'latest' alias name (case insensitive) is reserved.");
  EXPECT_EQ(ValidateAlias("v3", true).message(), "Version alias name 'v3' is reserved.");
  EXPECT_TRUE(ValidateAlias("v3", false).ok());  // reads and deletes may name them
  EXPECT_TRUE(ValidateAlias("v", true).ok());
  EXPECT_TRUE(ValidateAlias("v3a", true).ok());
  EXPECT_THAT(ValidateAlias(std::string(256, 'a'), true).message(),
              HasSubstr("exceeds the maximum length of 255"));
  EXPECT_TRUE(IsLatestAlias("Latest"));
}

TEST(RegistryRulesTest, Stages) {
  EXPECT_EQ(*CanonicalStage("production"), "Production");
  EXPECT_EQ(*CanonicalStage("NONE"), "None");
  EXPECT_EQ(CanonicalStage("prod").status().message(),
            "Invalid Model Version stage: prod. Value must be one of None, Staging, Production, "
            "Archived.");
  EXPECT_TRUE(IsActiveStage("Staging"));
  EXPECT_FALSE(IsActiveStage("Archived"));
}

TEST(RegistryRulesTest, Tags) {
  EXPECT_TRUE(ValidateRegistryTag("mlflow.note: x/y", std::string(100000, 'v')).ok());
  EXPECT_EQ(ValidateRegistryTag("k", std::string(100001, 'v')).message(),
            "'value' exceeds the maximum length of 100000 characters");
  EXPECT_EQ(ValidateRegistryTag(std::string(251, 'k'), "").message(),
            "'key' exceeds the maximum length of 250 characters");
  EXPECT_THAT(ValidateRegistryTagKey("a!b").message(),
              HasSubstr("Invalid value \"a!b\" for parameter 'key' supplied: Names may only"));
  EXPECT_THAT(ValidateRegistryTagKey("a//b").message(), HasSubstr("would resolve to 'a/b'"));
}

TEST(ModelSourceTest, SplitsUrisAsPython) {
  UriParts s3 = SplitUri("S3://bucket/a/b?x=1#frag");
  EXPECT_EQ(s3.scheme, "s3");
  EXPECT_EQ(s3.netloc, "bucket");
  EXPECT_EQ(s3.path, "/a/b");
  EXPECT_EQ(s3.query, "x=1");
  UriParts runs = SplitUri("runs:/abc/model");
  EXPECT_EQ(runs.scheme, "runs");
  EXPECT_EQ(runs.netloc, "");
  EXPECT_EQ(runs.path, "/abc/model");
  EXPECT_EQ(SplitUri("/tmp/x").scheme, "");
  EXPECT_EQ(SplitUri("1x:/y").scheme, "");  // a scheme starts with a letter
}

TEST(ModelSourceTest, ParsesModelsUris) {
  auto id = ParseModelsUri("models:/m-0123");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->model_id, "m-0123");
  auto version = ParseModelsUri("models:/churn/12");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->name, "churn");
  EXPECT_EQ(version->version, 12);
  auto stage = ParseModelsUri("models:/churn/Production");
  EXPECT_EQ(stage->stage, "Production");
  auto latest = ParseModelsUri("models:/churn/LATEST");
  EXPECT_TRUE(latest->stage.empty());
  EXPECT_FALSE(latest->version.has_value());
  EXPECT_EQ(latest->name, "churn");
  auto alias = ParseModelsUri("models:/churn@champion");
  EXPECT_EQ(alias->name, "churn");
  EXPECT_EQ(alias->alias, "champion");
  for (const char* bad : {"models:/", "models:/a/b/c", "models:/a/ ", "models:/a@", "runs:/a"}) {
    auto parsed = ParseModelsUri(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr("Not a proper models:/ URI")) << bad;
  }
}

TEST(ModelSourceTest, RunsUrisAndLocality) {
  EXPECT_EQ(*RunIdOfRunsUri("runs:/abc123/path/to/model"), "abc123");
  EXPECT_FALSE(RunIdOfRunsUri("runs:/").ok());
  EXPECT_TRUE(IsLocalUri("/tmp/model"));
  EXPECT_TRUE(IsLocalUri("relative/model"));
  EXPECT_TRUE(IsLocalUri("file:///tmp/model"));
  EXPECT_TRUE(IsLocalUri("file://localhost/tmp/model"));
  EXPECT_FALSE(IsLocalUri("file://otherhost/tmp/model"));
  EXPECT_FALSE(IsLocalUri("s3://b/k"));
}

TEST(ModelSourceTest, RelativePathsAreRefused) {
  EXPECT_TRUE(CheckAbsoluteSourcePath("s3://b/models/1").ok());
  EXPECT_TRUE(CheckAbsoluteSourcePath("runs:/abc/model").ok());
  EXPECT_THAT(CheckAbsoluteSourcePath("s3://b/../x").message(),
              HasSubstr("Invalid model version source: 's3://b/../x'. If supplying a source as"));
  EXPECT_FALSE(CheckAbsoluteSourcePath("s3://b/a/%2e%2e/x").ok());
  EXPECT_FALSE(CheckAbsoluteSourcePath("mlflow-artifacts:/a/./b").ok());
  EXPECT_FALSE(CheckAbsoluteSourcePath("s3://bucket").ok());  // no path: MLflow refuses it too
  EXPECT_FALSE(CheckAbsoluteSourcePath("http://h/a%00b").ok());
}

TEST(ModelSourceTest, ArtifactRoots) {
  EXPECT_TRUE(IsProxiedArtifactSource("mlflow-artifacts:/0/abc/artifacts/model"));
  EXPECT_TRUE(IsProxiedArtifactSource("https://h/x/api/2.0/mlflow-artifacts/artifacts/0/a"));
  EXPECT_FALSE(IsProxiedArtifactSource("s3://b/api/2.0/mlflow-artifacts/artifacts/0"));
  EXPECT_TRUE(IsUriWithinRoot("mlflow-artifacts:/0/abc/artifacts/model",
                              "mlflow-artifacts:/0/abc/artifacts"));
  EXPECT_TRUE(IsUriWithinRoot("mlflow-artifacts:/0/a%62c/artifacts", "mlflow-artifacts:/0/abc"));
  EXPECT_FALSE(IsUriWithinRoot("mlflow-artifacts:/0/abd/artifacts", "mlflow-artifacts:/0/abc"));
  EXPECT_FALSE(IsUriWithinRoot("mlflow-artifacts:/0/abc", "mlflow-artifacts:/"));
  EXPECT_TRUE(IsLocalPathWithin("/data/runs/1/artifacts/model", "file:///data/runs/1/artifacts"));
  EXPECT_FALSE(IsLocalPathWithin("/data/runs/2/model", "/data/runs/1"));
}

}  // namespace
}  // namespace plinth::registry
