// Tests of the registry engine (registry_service.h) on a real SQLite store in a temporary folder,
// with a fake clock: MLflow's validation and source handling, the alias history behind Promote
// and Rollback, and lineage. The store's own behaviour on both backends is covered by
// store/registry_store_test.cc.
#include "registry/registry_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/log.h"

namespace plinth::registry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kNow = 1700000000000;

::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString();
}
template <typename T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  return IsOk(r.status());
}

class RegistryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)SetLogLevel("warn");
    std::string pattern = ::testing::TempDir() + "plinth_registry_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    store::SqliteStoreOptions options;
    options.path = dir_ + "/plinth.db";
    auto opened = store::OpenSqliteStore(options, kNow);
    ASSERT_TRUE(IsOk(opened));
    store_ = std::move(opened).value();
    service_ = std::make_unique<RegistryService>(store_.get(), &clock_);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // A run in the Default experiment whose artifacts live at `artifact_uri`, with one input
  // dataset.
  std::string MakeRun(const std::string& artifact_uri = "") {
    store::Run run;
    run.info.run_id = NewRunId();
    run.info.run_name = "train";
    run.info.experiment_id = "0";
    run.info.start_time = kNow;
    run.info.artifact_uri = artifact_uri.empty()
                                ? "mlflow-artifacts:/0/" + run.info.run_id + "/artifacts"
                                : artifact_uri;
    EXPECT_TRUE(IsOk(store_->CreateRun(run)));
    store::DatasetInput input;
    input.dataset = {"iris", "d1g35t", "local", "{\"uri\":\"/data/iris.csv\"}", "", ""};
    input.tags = {{"mlflow.data.context", "training"}};
    EXPECT_TRUE(IsOk(store_->LogInputs(run.info.run_id, {input}, {})));
    return run.info.run_id;
  }

  std::string MakeLoggedModel(const std::string& run_id) {
    store::LoggedModel m;
    m.model_id = NewLoggedModelId();
    m.experiment_id = "0";
    m.name = "model";
    m.artifact_uri = "mlflow-artifacts:/0/models/" + m.model_id + "/artifacts";
    m.source_run_id = run_id;
    m.creation_timestamp_ms = kNow;
    m.last_updated_timestamp_ms = kNow;
    EXPECT_TRUE(IsOk(store_->CreateLoggedModel(m)));
    return m.model_id;
  }

  void CreateModel(const std::string& name) {
    ASSERT_TRUE(IsOk(service_->CreateRegisteredModel(name, {}, "")));
  }

  Result<ModelVersion> Register(const std::string& name, const std::string& source,
                                std::optional<std::string> run_id = std::nullopt,
                                std::optional<std::string> model_id = std::nullopt) {
    CreateModelVersionRequest r;
    r.name = name;
    r.source = source;
    r.run_id = std::move(run_id);
    r.model_id = std::move(model_id);
    return service_->CreateModelVersion(r);
  }

  int64_t RegisterS3(const std::string& name) {
    auto v = Register(name, "s3://bucket/models/" + name);
    EXPECT_TRUE(IsOk(v));
    return v.ok() ? v->version : -1;
  }

  std::string dir_;
  FakeClock clock_{kNow};
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<RegistryService> service_;
};

TEST_F(RegistryServiceTest, RegisteredModelLifecycle) {
  auto created = service_->CreateRegisteredModel("churn", {{"team", "a"}}, "about churn");
  ASSERT_TRUE(IsOk(created));
  EXPECT_EQ(created->creation_timestamp, kNow);
  EXPECT_EQ(created->description, "about churn");
  EXPECT_EQ(service_->CreateRegisteredModel("a/b", {}, "").status().message(),
            "Invalid model name 'a/b'. Names cannot contain '/' or ':'.");
  EXPECT_THAT(service_->CreateRegisteredModel("m", {{"bad!", "v"}}, "").status().message(),
              HasSubstr("for parameter 'key' supplied"));
  EXPECT_EQ(service_->GetRegisteredModel("x:y").status().code(), StatusCode::kInvalidArgument);

  clock_.Advance(10);
  auto renamed = service_->RenameRegisteredModel("churn", "churn-v2");
  ASSERT_TRUE(IsOk(renamed));
  EXPECT_EQ(renamed->name, "churn-v2");
  EXPECT_EQ(renamed->last_updated_timestamp, kNow + 10);
  EXPECT_EQ(service_->RenameRegisteredModel("churn-v2", " ").status().message(),
            "Missing value for required parameter 'new_name'.");

  auto updated = service_->UpdateRegisteredModel("churn-v2", "new words");
  ASSERT_TRUE(IsOk(updated));
  EXPECT_EQ(updated->description, "new words");
  ASSERT_TRUE(IsOk(service_->DeleteRegisteredModel("churn-v2")));
  EXPECT_EQ(service_->GetRegisteredModel("churn-v2").status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryServiceTest, RunsSourcesNeedTheirRun) {
  CreateModel("m");
  std::string run = MakeRun();
  auto v = Register("m", "runs:/" + run + "/model", run);
  ASSERT_TRUE(IsOk(v));
  EXPECT_EQ(v->version, 1);
  EXPECT_EQ(v->run_id, run);
  EXPECT_EQ(v->source, "runs:/" + run + "/model");
  EXPECT_EQ(*service_->GetModelVersionDownloadUri("m", "1"), "runs:/" + run + "/model");

  const std::string expected =
      "Invalid model version source: 'runs:/" + run +
      "/model'. The run_id request parameter must identify the resource that contains the "
      "source.";
  EXPECT_EQ(Register("m", "runs:/" + run + "/model").status().message(), expected);
  EXPECT_EQ(Register("m", "runs:/" + run + "/model", "other").status().message(), expected);
  EXPECT_EQ(Register("m", "runs://" + run + "/model", run).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(RegistryServiceTest, ArtifactSourcesMustLieInTheirRun) {
  CreateModel("m");
  std::string run = MakeRun();
  std::string inside = "mlflow-artifacts:/0/" + run + "/artifacts/model";
  auto v = Register("m", inside, run);
  ASSERT_TRUE(IsOk(v));
  EXPECT_EQ(*service_->GetModelVersionDownloadUri("m", "1"), inside);
  EXPECT_THAT(Register("m", "mlflow-artifacts:/0/elsewhere/model", run).status().message(),
              HasSubstr("The run_id request parameter must identify"));
  EXPECT_THAT(Register("m", inside).status().message(),
              HasSubstr("The run_id request parameter must identify"));
  EXPECT_THAT(Register("m", inside, "no-such-run").status().message(),
              HasSubstr("The run_id request parameter must identify"));
  EXPECT_THAT(Register("m", "s3://b/../x").status().message(),
              HasSubstr("an absolute path must be provided"));
  EXPECT_THAT(Register("m", "/tmp/model").status().message(),
              HasSubstr("To use a local path as a model version source, the run_id"));
  // Object stores are the caller's business (MLflow checks only their paths).
  EXPECT_TRUE(IsOk(Register("m", "s3://bucket/any/where")));
  // A run whose artifacts are local may register a path inside them.
  std::string local_run = MakeRun("file://" + dir_ + "/runs/1/artifacts");
  EXPECT_TRUE(IsOk(Register("m", dir_ + "/runs/1/artifacts/model", local_run)));
  EXPECT_FALSE(Register("m", dir_ + "/runs/2/model", local_run).ok());
}

TEST_F(RegistryServiceTest, LoggedModelSourcesResolveToTheirFilesAndRun) {
  CreateModel("m");
  std::string run = MakeRun();
  std::string model_id = MakeLoggedModel(run);
  auto v = Register("m", "models:/" + model_id, std::nullopt, model_id);
  ASSERT_TRUE(IsOk(v));
  EXPECT_EQ(v->source, "models:/" + model_id);
  EXPECT_EQ(v->run_id, run);  // the logged model's source run
  EXPECT_EQ(v->model_id, model_id);
  EXPECT_EQ(*service_->GetModelVersionDownloadUri("m", "1"),
            "mlflow-artifacts:/0/models/" + model_id + "/artifacts");
  // The logged model remembers its registrations, as MLflow's server records them.
  ASSERT_TRUE(IsOk(Register("m", "models:/" + model_id, run, model_id)));
  ASSERT_TRUE(IsOk(Register("m", "models:/" + model_id, run, model_id)));
  auto logged = store_->GetLoggedModel(model_id);
  ASSERT_TRUE(IsOk(logged));
  std::string tag;
  for (const KeyValue& t : logged->tags) {
    if (t.key == "mlflow.modelVersions") tag = t.value;
  }
  EXPECT_EQ(tag,
            "[{\"name\": \"m\", \"version\": 1}, {\"name\": \"m\", \"version\": 2}, {\"name\": "
            "\"m\", \"version\": 3}]");

  EXPECT_THAT(Register("m", "models:/" + model_id).status().message(),
              HasSubstr("The model_id request parameter must identify"));
  EXPECT_THAT(Register("m", "models:/" + model_id, std::nullopt, "m-other").status().message(),
              HasSubstr("The model_id request parameter must identify"));
  auto missing = Register("m", "models:/m-missing", std::nullopt, "m-missing");
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("Unable to fetch model from model URI source artifact location"));
  EXPECT_THAT(Register("m", "runs:/" + run + "/model", run, model_id).status().message(),
              HasSubstr("The model_id request parameter must identify"));
}

TEST_F(RegistryServiceTest, RegisteredVersionSourcesCopyTheirLineage) {
  CreateModel("src");
  CreateModel("dst");
  std::string run = MakeRun();
  ASSERT_TRUE(IsOk(Register("src", "mlflow-artifacts:/0/" + run + "/artifacts/m", run)));
  RegisterS3("src");
  ASSERT_TRUE(IsOk(service_->SetRegisteredModelAlias("src", "champion", "1")));
  ASSERT_TRUE(IsOk(service_->TransitionModelVersionStage("src", "2", "staging", false)));

  auto by_alias = Register("dst", "models:/src@champion");
  ASSERT_TRUE(IsOk(by_alias));
  EXPECT_EQ(by_alias->source, "models:/src/1");
  EXPECT_EQ(by_alias->run_id, run);
  EXPECT_EQ(*service_->GetModelVersionDownloadUri("dst", "1"),
            "mlflow-artifacts:/0/" + run + "/artifacts/m");
  EXPECT_EQ(Register("dst", "models:/src/Staging")->source, "models:/src/2");
  EXPECT_EQ(Register("dst", "models:/src/latest")->source, "models:/src/2");
  EXPECT_EQ(Register("dst", "models:/src/1")->source, "models:/src/1");
  EXPECT_THAT(Register("dst", "models:/src/1", "other-run").status().message(),
              HasSubstr("must match the referenced model version"));
  EXPECT_EQ(Register("dst", "models:/src/9").status().message(),
            "Model Version (name=src, version=9) not found");
  EXPECT_EQ(Register("dst", "models:/nope/1").status().message(),
            "Registered Model with name=nope not found");
  EXPECT_EQ(Register("dst", "models:/src/Production").status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryServiceTest, PromptVersionsKeepTheirPlaceholderSource) {
  ASSERT_TRUE(
      IsOk(service_->CreateRegisteredModel("greeting", {{"mlflow.prompt.is_prompt", "true"}}, "")));
  CreateModelVersionRequest r;
  r.name = "greeting";
  r.source = "dummy-source";
  r.tags = {{"mlflow.prompt.is_prompt", "true"}, {"mlflow.prompt.text", "Hi {{name}}"}};
  auto v = service_->CreateModelVersion(r);
  ASSERT_TRUE(IsOk(v));
  EXPECT_EQ(v->source, "dummy-source");
  // Prompts stay out of plain searches, as in MLflow.
  CreateModel("plain");
  auto page = service_->SearchRegisteredModels({});
  ASSERT_TRUE(IsOk(page));
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].name, "plain");
  RegistrySearchRequest prompts;
  prompts.filter = "tags.`mlflow.prompt.is_prompt` = 'true'";
  EXPECT_EQ(service_->SearchRegisteredModels(prompts)->items[0].name, "greeting");
  RegistrySearchRequest versions;
  versions.filter = "name = 'greeting'";
  EXPECT_THAT(service_->SearchModelVersions(versions)->items, IsEmpty());
}

TEST_F(RegistryServiceTest, StagesAndLatestVersions) {
  CreateModel("m");
  for (int i = 0; i < 3; ++i) RegisterS3("m");
  EXPECT_EQ(service_->TransitionModelVersionStage("m", "1", "prod", false).status().message(),
            "Invalid Model Version stage: prod. Value must be one of None, Staging, Production, "
            "Archived.");
  EXPECT_EQ(service_->TransitionModelVersionStage("m", "1", "none", true).status().message(),
            "Model version transition cannot archive existing model versions because 'none' is "
            "not an Active stage. Valid stages are ['Staging', 'Production']");
  ASSERT_TRUE(IsOk(service_->TransitionModelVersionStage("m", "1", "production", false)));
  auto moved = service_->TransitionModelVersionStage("m", "2", "Production", true);
  ASSERT_TRUE(IsOk(moved));
  EXPECT_EQ(moved->current_stage, "Production");
  EXPECT_EQ(service_->GetModelVersion("m", "1")->current_stage, "Archived");
  ASSERT_TRUE(IsOk(service_->SetRegisteredModelAlias("m", "champ", "2")));

  auto production = service_->GetLatestVersions("m", {"PRODUCTION"});
  ASSERT_TRUE(IsOk(production));
  ASSERT_EQ(production->size(), 1u);
  EXPECT_EQ((*production)[0].version, 2);
  EXPECT_THAT((*production)[0].aliases, ElementsAre("champ"));
  auto all = service_->GetLatestVersions("m", {});
  ASSERT_TRUE(IsOk(all));
  EXPECT_EQ(all->size(), 3u);  // Archived 1, Production 2, None 3
  EXPECT_FALSE(service_->GetLatestVersions("m", {"bogus"}).ok());
  EXPECT_EQ(service_->GetLatestVersions("nope", {}).status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryServiceTest, AliasesAndTheLatestAlias) {
  CreateModel("m");
  RegisterS3("m");
  RegisterS3("m");
  EXPECT_EQ(service_->SetRegisteredModelAlias("m", "latest", "1").message(),
            "'latest' alias name (case insensitive) is reserved.");
  EXPECT_EQ(service_->SetRegisteredModelAlias("m", "v2", "1").message(),
            "Version alias name 'v2' is reserved.");
  EXPECT_EQ(service_->SetRegisteredModelAlias("m", "prod", "x").message(),
            "Parameter 'version' must be an integer, got 'x'.");
  ASSERT_TRUE(IsOk(service_->SetRegisteredModelAlias("m", "prod", "1")));
  EXPECT_EQ(service_->GetModelVersionByAlias("m", "prod")->version, 1);
  EXPECT_EQ(service_->GetModelVersionByAlias("m", "Latest")->version, 2);
  EXPECT_EQ(service_->GetModelVersionByAlias("m", "nope").status().message(),
            "Registered model alias nope not found.");
  ASSERT_TRUE(IsOk(service_->DeleteModelVersion("m", "2")));
  ASSERT_TRUE(IsOk(service_->DeleteModelVersion("m", "1")));
  EXPECT_EQ(service_->GetModelVersionByAlias("m", "latest").status().message(),
            "Latest version not found for model m.");
  EXPECT_EQ(service_->DeleteModelVersion("m", "one").message(),
            "Parameter 'version' must be an integer, got 'one'.");
}

TEST_F(RegistryServiceTest, PromoteAndRollbackWalkBackThroughTheHistory) {
  CreateModel("m");
  for (int i = 0; i < 4; ++i) RegisterS3("m");
  EXPECT_EQ(service_->Rollback("m", "production", "ops").status().code(),
            StatusCode::kFailedPrecondition);

  auto first = service_->Promote("m", "production", "1", "alice");
  ASSERT_TRUE(IsOk(first));
  EXPECT_FALSE(first->from.has_value());
  EXPECT_EQ(first->to, 1);
  EXPECT_THAT(first->version.aliases, ElementsAre("production"));
  ASSERT_TRUE(IsOk(service_->Promote("m", "production", "2", "alice")));
  auto third = service_->Promote("m", "production", "3", "bob");
  ASSERT_TRUE(IsOk(third));
  EXPECT_EQ(third->from, 2);

  // 3 -> 2 -> 1: each rollback steps further back, it does not flip between two versions.
  auto back = service_->Rollback("m", "production", "ops");
  ASSERT_TRUE(IsOk(back));
  EXPECT_EQ(back->from, 3);
  EXPECT_EQ(back->to, 2);
  EXPECT_EQ(service_->Rollback("m", "production", "ops")->to, 1);
  EXPECT_EQ(service_->Rollback("m", "production", "ops").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->GetModelVersionByAlias("m", "production")->version, 1);

  // A promotion after rollbacks is rolled back to where it started.
  ASSERT_TRUE(IsOk(service_->Promote("m", "production", "4", "carol")));
  EXPECT_EQ(service_->Rollback("m", "production", "ops")->to, 1);

  // Moves through the MLflow API count too, and a removed alias comes back.
  ASSERT_TRUE(IsOk(service_->SetRegisteredModelAlias("m", "production", "3", "dave")));
  ASSERT_TRUE(IsOk(service_->DeleteRegisteredModelAlias("m", "production", "dave")));
  auto restored = service_->Rollback("m", "production", "ops");
  ASSERT_TRUE(IsOk(restored));
  EXPECT_FALSE(restored->from.has_value());
  EXPECT_EQ(restored->to, 3);

  auto history = service_->AliasHistory("m", "production");
  ASSERT_TRUE(IsOk(history));
  std::vector<std::string> actions;
  for (const AliasEvent& e : *history) actions.push_back(e.action + ":" + e.user_id);
  EXPECT_THAT(actions, ElementsAre("promote:alice", "promote:alice", "promote:bob", "rollback:ops",
                                   "rollback:ops", "promote:carol", "rollback:ops", "set:dave",
                                   "delete:dave", "rollback:ops"));
}

TEST_F(RegistryServiceTest, RollbackRefusesADeletedPreviousHolder) {
  CreateModel("m");
  RegisterS3("m");
  RegisterS3("m");
  ASSERT_TRUE(IsOk(service_->Promote("m", "production", "1", "")));
  ASSERT_TRUE(IsOk(service_->Promote("m", "production", "2", "")));
  ASSERT_TRUE(IsOk(service_->DeleteModelVersion("m", "1")));
  auto refused = service_->Rollback("m", "production", "");
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("Version 1 of registered model 'm'"));
  EXPECT_EQ(service_->GetModelVersionByAlias("m", "production")->version, 2);
}

TEST_F(RegistryServiceTest, SearchesWithMlflowLimitsAndPaging) {
  for (const char* name : {"a", "b", "c"}) CreateModel(name);
  RegistrySearchRequest request;
  request.max_results = 2;
  auto first = service_->SearchRegisteredModels(request);
  ASSERT_TRUE(IsOk(first));
  ASSERT_EQ(first->items.size(), 2u);
  ASSERT_FALSE(first->next_page_token.empty());
  request.page_token = first->next_page_token;
  auto second = service_->SearchRegisteredModels(request);
  ASSERT_TRUE(IsOk(second));
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].name, "c");
  EXPECT_TRUE(second->next_page_token.empty());

  request = {};
  request.max_results = 1001;
  EXPECT_EQ(service_->SearchRegisteredModels(request).status().message(),
            "Invalid value for request parameter max_results. It must be at most 1000, but got "
            "value 1001");
  request.max_results = 0;
  EXPECT_EQ(service_->SearchModelVersions(request).status().message(),
            "Invalid value for max_results. It must be a positive integer, but got 0");
  request = {};
  request.filter = "name = 'a' OR name = 'b'";
  EXPECT_EQ(service_->SearchRegisteredModels(request).status().message(),
            "Invalid clause(s) in filter string: OR");
  request = {};
  request.page_token = "not-a-token";
  EXPECT_EQ(service_->SearchModelVersions(request).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RegistryServiceTest, ModelVersionSearchDefaultsToMostRecentlyUpdated) {
  CreateModel("m");
  for (int i = 0; i < 3; ++i) {
    RegisterS3("m");
    clock_.Advance(1);
  }
  ASSERT_TRUE(IsOk(service_->UpdateModelVersion("m", "1", "touched")));
  auto page = service_->SearchModelVersions({});
  ASSERT_TRUE(IsOk(page));
  std::vector<int64_t> order;
  for (const ModelVersion& v : page->items) order.push_back(v.version);
  EXPECT_THAT(order, ElementsAre(1, 3, 2));
}

TEST_F(RegistryServiceTest, LineageFollowsTheVersionToItsRunAndDatasets) {
  CreateModel("m");
  std::string run = MakeRun();
  std::string model_id = MakeLoggedModel(run);
  ASSERT_TRUE(IsOk(Register("m", "models:/" + model_id, run, model_id)));
  auto lineage = service_->GetLineage("m", "1");
  ASSERT_TRUE(IsOk(lineage));
  EXPECT_EQ(lineage->version.model_id, model_id);
  ASSERT_TRUE(lineage->run.has_value());
  EXPECT_EQ(lineage->run->info.run_id, run);
  ASSERT_EQ(lineage->run->dataset_inputs.size(), 1u);
  EXPECT_EQ(lineage->run->dataset_inputs[0].dataset.name, "iris");
  EXPECT_EQ(lineage->run->dataset_inputs[0].dataset.digest, "d1g35t");

  // A version that names a run no longer there still reports what it can.
  ASSERT_TRUE(IsOk(Register("m", "runs:/gone/model", "gone")));
  auto orphan = service_->GetLineage("m", "2");
  ASSERT_TRUE(IsOk(orphan));
  EXPECT_FALSE(orphan->run.has_value());
  EXPECT_THAT(orphan->run_missing, HasSubstr("gone"));
}

}  // namespace
}  // namespace plinth::registry
