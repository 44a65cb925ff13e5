// In-process tests of the model registry over HTTP (registry_api.h): MLflow's Model Registry REST
// API and Plinth's /api/plinth/v1/registry routes, on the real stack of api_test_support.h (run
// on SQLite, and again on PostgreSQL by ctest). Errors are data-driven (request in, status and
// error_code out); the wire shapes, which were compared field by field with `mlflow server`
// 3.x's answers to the same requests, have focused tests.
#include "api/registry_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/api_test_support.h"

namespace plinth::api {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RegistryApiTest : public MlflowApiTest {
 protected:
  HttpResult Send(std::string_view method, std::string_view path, std::string_view body = "") {
    return Call(method, "/api/2.0/mlflow" + std::string(path), body);
  }
  HttpResult Plinth(std::string_view method, std::string_view path, std::string_view body = "") {
    return Call(method, "/api/plinth/v1/registry" + std::string(path), body);
  }
  void CreateModel(const std::string& name) {
    Ok(Post("/registered-models/create", R"({"name":")" + Escape(name) + R"("})"));
  }
  std::string CreateVersion(const std::string& name, const std::string& source = "s3://b/m") {
    JsonDocument doc = Ok(Post("/model-versions/create",
                               R"({"name":")" + name + R"(","source":")" + source + R"("})"));
    return StringAt(doc, "model_version.version");
  }
  std::vector<std::string> Strings(const JsonValue& root, std::string_view list_path,
                                   std::string_view field) {
    std::vector<std::string> out;
    const JsonValue* list = At(root, list_path);
    if (list == nullptr || !list->IsArray()) return out;
    for (const JsonValue& item : list->GetArray()) out.push_back(StringAt(item, field));
    return out;
  }
};

struct RegistryCase {
  const char* what;
  const char* method;
  std::string path;  // below /api/2.0/mlflow, or absolute when it starts with /api/plinth
  std::string body;
  int status;
  const char* error_code;
  const char* message_part;
};

TEST_F(RegistryApiTest, ErrorsAnswerMlflowsCodes) {
  CreateModel("m");
  CreateModel("other");
  CreateVersion("m");
  const char* kInvalid = "INVALID_PARAMETER_VALUE";
  const char* kMissing = "RESOURCE_DOES_NOT_EXIST";
  const std::string p = "/api/plinth/v1/registry";
  // clang-format off
  const std::vector<RegistryCase> cases = {
      {"create without name", "POST", "/registered-models/create", "{}", 400, kInvalid,
       "Missing value for required parameter 'name'"},
      {"name with a slash", "POST", "/registered-models/create", R"({"name":"a/b"})", 400,
       kInvalid, "Names cannot contain '/' or ':'"},
      {"duplicate model", "POST", "/registered-models/create", R"({"name":"m"})", 400,
       "RESOURCE_ALREADY_EXISTS", "Registered Model (name=m) already exists."},
      {"get missing model", "GET", "/registered-models/get?name=nope", "", 404, kMissing,
       "Registered Model with name=nope not found"},
      {"rename onto a taken name", "POST", "/registered-models/rename",
       R"({"name":"m","new_name":"other"})", 400, "RESOURCE_ALREADY_EXISTS", "name=other"},
      {"rename without new_name", "POST", "/registered-models/rename", R"({"name":"m"})", 400,
       kInvalid, "'new_name'"},
      {"version not a number", "GET", "/model-versions/get?name=m&version=abc", "", 400, kInvalid,
       "Parameter 'version' must be an integer, got 'abc'."},
      {"version missing", "GET", "/model-versions/get?name=m&version=9", "", 404, kMissing,
       "Model Version (name=m, version=9) not found"},
      {"runs source without its run", "POST", "/model-versions/create",
       R"({"name":"m","source":"runs:/abc/model"})", 400, kInvalid,
       "The run_id request parameter must identify the resource that contains the source."},
      {"relative source", "POST", "/model-versions/create",
       R"({"name":"m","source":"s3://b/../x"})", 400, kInvalid, "an absolute path must be"},
      {"version of a missing model", "POST", "/model-versions/create",
       R"({"name":"nope","source":"s3://b/x"})", 404, kMissing, "name=nope not found"},
      {"reserved alias", "POST", "/registered-models/alias",
       R"({"name":"m","alias":"latest","version":"1"})", 400, kInvalid, "is reserved"},
      {"alias on a missing version", "POST", "/registered-models/alias",
       R"({"name":"m","alias":"prod","version":"5"})", 404, kMissing, "version=5"},
      {"unknown alias", "GET", "/registered-models/alias?name=m&alias=nope", "", 400, kInvalid,
       "Registered model alias nope not found."},
      {"bad stage", "POST", "/model-versions/transition-stage",
       R"({"name":"m","version":"1","stage":"prod","archive_existing_versions":false})", 400,
       kInvalid, "Invalid Model Version stage: prod"},
      {"archiving into None", "POST", "/model-versions/transition-stage",
       R"({"name":"m","version":"1","stage":"None","archive_existing_versions":true})", 400,
       kInvalid, "is not an Active stage"},
      {"bad filter", "GET", "/registered-models/search?filter=foo%3D'x'", "", 400, kInvalid,
       "Invalid attribute key 'foo' specified"},
      {"too many results", "GET", "/registered-models/search?max_results=1001", "", 400, kInvalid,
       "at most 1000"},
      {"zero results", "GET", "/model-versions/search?max_results=0", "", 400, kInvalid,
       "must be a positive integer"},
      {"bad order_by", "GET", "/model-versions/search?order_by=run_id", "", 400, kInvalid,
       "Invalid attribute key 'run_id'"},
      {"tag without key", "POST", "/registered-models/set-tag", R"({"name":"m","value":"v"})",
       400, kInvalid, "'key'"},
      {"tag on a missing version", "POST", "/model-versions/set-tag",
       R"({"name":"m","version":"3","key":"k","value":"v"})", 404, kMissing, "version=3"},
      {"promote without alias", "POST", p + "/promote", R"({"name":"m","version":"1"})", 400,
       kInvalid, "'alias'"},
      {"rollback with no history", "POST", p + "/rollback", R"({"name":"m","alias":"prod"})",
       400, "INVALID_STATE", "no previous holder"},
      {"lineage of a missing version", "GET", p + "/lineage?name=m&version=4", "", 404, kMissing,
       "version=4"},
  };
  // clang-format on
  for (const RegistryCase& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string target = c.path.rfind("/api/", 0) == 0 ? c.path : "/api/2.0/mlflow" + c.path;
    HttpResult r = Call(c.method, target, c.body);
    ASSERT_NE(r.status, 0) << "no response";
    EXPECT_EQ(r.status, c.status) << r.body;
    ExpectErrorBody(r, c.error_code);
    EXPECT_THAT(r.body, HasSubstr(c.message_part));
  }
}

TEST_F(RegistryApiTest, WireShapesMatchMlflow) {
  JsonDocument created = Ok(Post("/registered-models/create", R"({"name":"shape"})"));
  EXPECT_EQ(StringAt(created, "registered_model.name"), "shape");
  EXPECT_TRUE(At(created, "registered_model.creation_timestamp")->IsInt64());
  EXPECT_EQ(At(created, "registered_model.description"), nullptr);  // unset: omitted
  EXPECT_EQ(At(created, "registered_model.latest_versions"), nullptr);

  JsonDocument v =
      Ok(Post("/model-versions/create",
              R"({"name":"shape","source":"s3://b/x","tags":[{"key":"k","value":"v"}]})"));
  EXPECT_EQ(StringAt(v, "model_version.version"), "1");  // a string, as in MLflow
  EXPECT_EQ(StringAt(v, "model_version.current_stage"), "None");
  EXPECT_EQ(StringAt(v, "model_version.description"), "");
  EXPECT_EQ(StringAt(v, "model_version.run_id"), "");
  EXPECT_EQ(StringAt(v, "model_version.run_link"), "");
  EXPECT_EQ(StringAt(v, "model_version.status"), "READY");
  EXPECT_EQ(KeyValueAt(v, "model_version.tags", "k"), "v");
  EXPECT_EQ(At(v, "model_version.aliases"), nullptr);

  Ok(Post("/registered-models/alias", R"({"name":"shape","alias":"prod","version":"1"})"));
  JsonDocument by_alias = Ok(Get("/registered-models/alias?name=shape&alias=prod"));
  EXPECT_EQ(StringAt(by_alias, "model_version.aliases.0"), "prod");
  JsonDocument model = Ok(Get("/registered-models/get?name=shape"));
  EXPECT_EQ(StringAt(model, "registered_model.aliases.0.alias"), "prod");
  EXPECT_EQ(StringAt(model, "registered_model.aliases.0.version"), "1");
  EXPECT_EQ(StringAt(model, "registered_model.latest_versions.0.version"), "1");
  // Latest versions and searches carry no aliases, as MLflow's do.
  EXPECT_EQ(At(model, "registered_model.latest_versions.0.aliases"), nullptr);
  JsonDocument search = Ok(Get("/model-versions/search?filter=name%3D'shape'"));
  EXPECT_EQ(At(search, "model_versions.0.aliases"), nullptr);

  // An update without a description clears it; the field then disappears.
  JsonDocument updated = Ok(
      Call("PATCH", "/api/2.0/mlflow/model-versions/update", R"({"name":"shape","version":"1"})"));
  EXPECT_EQ(At(updated, "model_version.description"), nullptr);
  EXPECT_EQ(StringAt(updated, "model_version.aliases.0"), "prod");

  JsonDocument uri = Ok(Get("/model-versions/get-download-uri?name=shape&version=1"));
  EXPECT_EQ(StringAt(uri, "artifact_uri"), "s3://b/x");

  // Empty answers are {} (no empty lists), and the UI's prefix serves the same routes.
  HttpResult empty = Call("GET", "/ajax-api/2.0/mlflow/registered-models/search?filter=name%3D'x'");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "{}");
}

TEST_F(RegistryApiTest, SearchPagesAndOrders) {
  for (const char* name : {"a1", "a2", "a3", "b1"}) CreateModel(name);
  JsonDocument first =
      Ok(Get("/registered-models/search?filter=name%20LIKE%20'a%25'"
             "&max_results=2&order_by=name%20DESC"));
  EXPECT_THAT(Strings(first, "registered_models", "name"), ElementsAre("a3", "a2"));
  const std::string token = StringAt(first, "next_page_token");
  ASSERT_EQ(token.find('<'), std::string::npos) << "no next_page_token";
  JsonDocument second =
      Ok(Get("/registered-models/search?filter=name%20LIKE%20'a%25'"
             "&max_results=2&order_by=name%20DESC&page_token=" +
             token));
  EXPECT_THAT(Strings(second, "registered_models", "name"), ElementsAre("a1"));
  EXPECT_EQ(At(second, "next_page_token"), nullptr);

  CreateVersion("a1", "s3://b/1");
  CreateVersion("a1", "s3://b/2");
  CreateVersion("b1", "s3://b/3");
  JsonDocument versions =
      Ok(Get("/model-versions/search?filter=name%20IN%20('a1','b1')"
             "&order_by=name%20DESC&order_by=version_number%20ASC"));
  std::vector<std::string> got;
  const JsonValue* list = At(versions, "model_versions");
  ASSERT_NE(list, nullptr);
  for (const JsonValue& item : list->GetArray()) {
    got.push_back(StringAt(item, "name") + "/" + StringAt(item, "version"));
  }
  EXPECT_THAT(got, ElementsAre("b1/1", "a1/1", "a1/2"));

  // get-latest-versions answers GET and POST.
  JsonDocument latest = Ok(Get("/registered-models/get-latest-versions?name=a1&stages=None"));
  EXPECT_EQ(StringAt(latest, "model_versions.0.version"), "2");
  JsonDocument posted = Ok(
      Post("/registered-models/get-latest-versions", R"({"name":"a1","stages":["Production"]})"));
  EXPECT_EQ(At(posted, "model_versions"), nullptr);
}

TEST_F(RegistryApiTest, DeletesTakeTheirArgumentsInTheBody) {
  CreateModel("gone");
  CreateVersion("gone");
  Ok(Post("/registered-models/alias", R"({"name":"gone","alias":"prod","version":"1"})"));
  Ok(Post("/registered-models/set-tag", R"({"name":"gone","key":"k","value":"v"})"));
  Ok(Send("DELETE", "/registered-models/delete-tag", R"({"name":"gone","key":"k"})"));
  Ok(Send("DELETE", "/registered-models/alias", R"({"name":"gone","alias":"prod"})"));
  Ok(Send("DELETE", "/registered-models/alias", R"({"name":"gone","alias":"prod"})"));
  JsonDocument model = Ok(Get("/registered-models/get?name=gone"));
  EXPECT_EQ(At(model, "registered_model.tags"), nullptr);
  EXPECT_EQ(At(model, "registered_model.aliases"), nullptr);
  Ok(Send("DELETE", "/model-versions/delete", R"({"name":"gone","version":"1"})"));
  EXPECT_EQ(Get("/model-versions/get?name=gone&version=1").status, 404);
  Ok(Send("DELETE", "/registered-models/delete", R"({"name":"gone"})"));
  EXPECT_EQ(Get("/registered-models/get?name=gone").status, 404);
}

TEST_F(RegistryApiTest, PromoteRollbackAndHistory) {
  CreateModel("svc");
  for (int i = 0; i < 3; ++i) CreateVersion("svc");
  JsonDocument first =
      Ok(Plinth("POST", "/promote", R"({"name":"svc","version":"1","alias":"production"})"));
  EXPECT_EQ(StringAt(first, "version"), "1");
  EXPECT_EQ(At(first, "previous_version"), nullptr);
  JsonDocument second = Ok(Plinth(
      "POST", "/promote", R"({"name":"svc","version":3,"alias":"production","user":"ann"})"));
  EXPECT_EQ(StringAt(second, "previous_version"), "1");
  EXPECT_EQ(StringAt(second, "model_version.aliases.0"), "production");

  JsonDocument back =
      Ok(Plinth("POST", "/rollback", R"({"name":"svc","alias":"production","user":"bob"})"));
  EXPECT_EQ(StringAt(back, "previous_version"), "3");
  EXPECT_EQ(StringAt(back, "version"), "1");
  JsonDocument held = Ok(Get("/registered-models/alias?name=svc&alias=production"));
  EXPECT_EQ(StringAt(held, "model_version.version"), "1");

  JsonDocument history = Ok(Plinth("GET", "/alias-history?name=svc&alias=production"));
  EXPECT_THAT(Strings(history, "events", "action"), ElementsAre("promote", "promote", "rollback"));
  EXPECT_EQ(StringAt(history, "events.1.user_id"), "ann");
  EXPECT_EQ(StringAt(history, "events.2.previous_version"), "3");
  EXPECT_TRUE(At(history, "events.2.timestamp")->IsInt64());
}

TEST_F(RegistryApiTest, LineageReachesTheRunsDatasets) {
  const std::string exp = CreateExperiment("lineage");
  const std::string run = CreateRun(exp, "train");
  Ok(Post("/runs/log-inputs",
          R"({"run_id":")" + run +
              R"(","datasets":[{"dataset":{"name":"iris","digest":"abc","source_type":"local",)"
              R"("source":"{}"},"tags":[{"key":"mlflow.data.context","value":"training"}]}]})"));
  CreateModel("lin");
  Ok(Post("/model-versions/create",
          R"({"name":"lin","source":"runs:/)" + run + R"(/model","run_id":")" + run + R"("})"));
  JsonDocument lineage = Ok(Plinth("GET", "/lineage?name=lin&version=1"));
  EXPECT_EQ(StringAt(lineage, "model_version.run_id"), run);
  EXPECT_EQ(StringAt(lineage, "run.info.run_id"), run);
  EXPECT_EQ(StringAt(lineage, "run.inputs.dataset_inputs.0.dataset.name"), "iris");
  EXPECT_EQ(StringAt(lineage, "run.inputs.dataset_inputs.0.dataset.digest"), "abc");
}

}  // namespace
}  // namespace plinth::api
