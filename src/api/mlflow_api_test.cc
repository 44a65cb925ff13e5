// In-process integration tests of the MLflow REST surface (mlflow_api.h): the real stack (SQLite
// store on a temp file, local artifact store on a temp folder, TrackingService, Router and
// HttpServer on an ephemeral port) driven over HTTP by a small blocking client (fixture and
// client in api_test_support.h, shared with registry_api_test.cc).
//
// Error handling and validation are data-driven (ApiCase table: request in, status and
// error_code or body substrings out); the wire format (int64 as JSON numbers, NaN as "NaN", unset
// fields omitted, enum names), paging, query parameters and the artifact proxy have focused tests
// that inspect the parsed JSON. Expected behaviour is `mlflow server`'s, as summarised in
// ../shared/reference/mlflow.md (in the planning repo).
#include "api/mlflow_api.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cfloat>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "api/api_test_support.h"
#include "artifacts/artifact_store.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "http/http_server.h"
#include "store/metadata_store.h"
#include "store/pg_test_database.h"
#include "tracking/tracking_service.h"

namespace plinth::api {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

// ------------------------------------------------------------------ the request table

struct ApiCase {
  const char* what;
  const char* method;
  std::string target;  // {exp}, {run}, {deleted_run}, {model} are replaced before sending
  std::string body;
  int status;
  const char* error_code;  // nullptr for a success
  std::vector<std::string> body_contains = {};
  const char* content_type = "application/json";
};

std::string Substitute(std::string s,
                       const std::vector<std::pair<std::string, std::string>>& vars) {
  for (const auto& [name, value] : vars) {
    for (size_t pos = s.find(name); pos != std::string::npos; pos = s.find(name, pos)) {
      s.replace(pos, name.size(), value);
      pos += value.size();
    }
  }
  return s;
}

std::string ManyMetricsBatch(int n) {
  std::string body = R"({"run_id":"{run}","metrics":[)";
  for (int i = 0; i < n; ++i) {
    if (i) body += ',';
    body += R"({"key":"m","value":1,"timestamp":1,"step":)" + std::to_string(i) + "}";
  }
  return body + "]}";
}

TEST_F(MlflowApiTest, RequestTable) {
  const std::string exp = CreateExperiment("table-exp");
  CreateExperiment("table-other");
  const std::string run = CreateRun(exp, "table-run");
  const std::string deleted_run = CreateRun(exp, "doomed");
  ASSERT_EQ(Post("/runs/delete", R"({"run_id":")" + deleted_run + R"("})").status, 200);
  ASSERT_EQ(Post("/runs/log-parameter", R"({"run_id":")" + run + R"(","key":"fixed","value":"1"})")
                .status,
            200);
  JsonDocument model_doc =
      Ok(Post("/logged-models", R"({"experiment_id":")" + exp + R"(","name":"tm"})"));
  const std::string model = StringAt(model_doc, "model.info.model_id");
  const std::vector<std::pair<std::string, std::string>> vars = {
      {"{exp}", exp}, {"{run}", run}, {"{deleted_run}", deleted_run}, {"{model}", model}};
  const char* kInvalid = "INVALID_PARAMETER_VALUE";
  const std::string kMissingRun = "0123456789abcdef0123456789abcdef";

  const std::string m = "/api/2.0/mlflow";
  // clang-format off
  const std::vector<ApiCase> cases = {
      // Body and content-type handling.
      {"malformed JSON", "POST", m + "/experiments/create", R"({"name": )",
       400, "BAD_REQUEST"},
      {"JSON that is not an object", "POST", m + "/experiments/create", "[1, 2]",
       400, "BAD_REQUEST"},
      {"wrong content type", "POST", m + "/experiments/create", R"({"name":"ct"})",
       400, kInvalid, {"Content-Type"}, "text/plain"},
      {"missing content type", "POST", m + "/experiments/create", R"({"name":"ct"})",
       400, kInvalid, {"Content-Type"}, ""},
      {"content type with charset", "POST", m + "/experiments/create", R"({"name":"charset"})",
       200, nullptr, {"\"experiment_id\":\""}, "application/json; charset=utf-8"},
      {"empty body is an empty message", "POST", m + "/experiments/search", "",
       200, nullptr, {"\"name\":\"Default\""}},
      {"double-encoded body", "POST", m + "/experiments/create",
       R"("{\"name\":\"double-encoded\"}")",
       200, nullptr, {"\"experiment_id\""}},
      {"unknown fields are ignored", "POST", m + "/experiments/create",
       R"({"name":"extra-fields","bogus":{"nested":[1,2]}})",
       200, nullptr, {"\"experiment_id\""}},
      // Routing.
      {"unknown endpoint", "GET", m + "/no/such/thing", "",
       404, "ENDPOINT_NOT_FOUND"},
      {"wrong method", "GET", m + "/runs/create", "",
       405, "BAD_REQUEST"},
      {"ajax-api prefix", "GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0", "",
       200, nullptr, {"\"name\":\"Default\""}},
      // Required fields are named.
      {"create experiment without name", "POST", m + "/experiments/create", "{}",
       400, kInvalid, {"'name'"}},
      {"get experiment without id", "GET", m + "/experiments/get", "",
       400, kInvalid, {"'experiment_id'"}},
      {"get run without id", "GET", m + "/runs/get", "",
       400, kInvalid, {"'run_id'"}},
      {"log metric without timestamp", "POST", m + "/runs/log-metric",
       R"({"run_id":"{run}","key":"m","value":1})",
       400, kInvalid, {"'timestamp'"}},
      {"log metric without value", "POST", m + "/runs/log-metric",
       R"({"run_id":"{run}","key":"m","timestamp":1})",
       400, kInvalid, {"'value'"}},
      {"set tag without value", "POST", m + "/runs/set-tag", R"({"run_id":"{run}","key":"k"})",
       400, kInvalid, {"'value'"}},
      {"history without metric_key", "GET", m + "/metrics/get-history?run_id={run}", "",
       400, kInvalid, {"'metric_key'"}},
      {"log-batch metric without key", "POST", m + "/runs/log-batch",
       R"({"run_id":"{run}","metrics":[{"value":1,"timestamp":1}]})",
       400, kInvalid, {"metrics.key"}},
      // Field types.
      {"metric value not a number", "POST", m + "/runs/log-metric",
       R"({"run_id":"{run}","key":"m","value":"abc","timestamp":1})",
       400, kInvalid, {"'value'"}},
      {"timestamp not an integer", "POST", m + "/runs/log-metric",
       R"({"run_id":"{run}","key":"m","value":1,"timestamp":"soon"})",
       400, kInvalid, {"'timestamp'"}},
      {"int64 fields as strings", "POST", m + "/runs/log-metric",
       R"({"run_id":"{run}","key":"m","value":"1.5","timestamp":"1700000000001","step":"3"})",
       200, nullptr, {"{}"}},
      {"NaN as a string", "POST", m + "/runs/log-metric",
       R"({"run_id":"{run}","key":"nan","value":"NaN","timestamp":1})",
       200, nullptr},
      {"numeric experiment_id", "POST", m + "/runs/create",
       R"({"experiment_id":{exp},"run_name":"numeric-exp"})",
       200, nullptr, {"\"experiment_id\":\"{exp}\""}},
      {"numeric experiment_ids in search", "POST", m + "/runs/search",
       R"({"experiment_ids":[{exp}],"filter":"attributes.run_name = 'table-run'"})",
       200, nullptr, {"{run}"}},
      {"bad metric key", "POST", m + "/runs/log-metric",
       R"({"run_id":"{run}","key":"../up","value":1,"timestamp":1})",
       400, kInvalid},
      {"run_name disagreeing with the mlflow.runName tag", "POST", m + "/runs/create",
       R"({"experiment_id":"{exp}","run_name":"a","tags":[{"key":"mlflow.runName","value":"b"}]})",
       400, kInvalid, {"mlflow.runName"}},
      {"bad run status", "POST", m + "/runs/update", R"({"run_id":"{run}","status":"SLEEPING"})",
       400, kInvalid, {"'status'"}},
      {"bad view type", "GET", m + "/experiments/search?view_type=SOME", "",
       400, kInvalid},
      // Entities that do not exist.
      {"unknown experiment", "GET", m + "/experiments/get?experiment_id=99999", "",
       404, "RESOURCE_DOES_NOT_EXIST"},
      {"unknown experiment name", "GET", m + "/experiments/get-by-name?experiment_name=nobody", "",
       404, "RESOURCE_DOES_NOT_EXIST"},
      {"unknown run", "GET", m + "/runs/get?run_id=" + kMissingRun, "",
       404, "RESOURCE_DOES_NOT_EXIST", {"Run with id=" + kMissingRun + " not found"}},
      {"log to unknown run", "POST", m + "/runs/log-metric",
       R"({"run_id":")" + kMissingRun + R"(","key":"m","value":1,"timestamp":1})",
       404, "RESOURCE_DOES_NOT_EXIST"},
      {"delete unknown run", "POST", m + "/runs/delete", R"({"run_id":")" + kMissingRun + R"("})",
       404, "RESOURCE_DOES_NOT_EXIST"},
      {"delete unknown tag", "POST", m + "/runs/delete-tag",
       R"({"run_id":"{run}","key":"never-set"})",
       404, "RESOURCE_DOES_NOT_EXIST"},
      {"unknown logged model", "GET", m + "/logged-models/m-00000000000000000000000000000000", "",
       404, "RESOURCE_DOES_NOT_EXIST"},
      // Lifecycle and uniqueness rules.
      {"duplicate experiment name", "POST", m + "/experiments/create", R"({"name":"table-exp"})",
       400, "RESOURCE_ALREADY_EXISTS"},
      {"rename onto a taken name", "POST", m + "/experiments/update",
       R"({"experiment_id":"{exp}","new_name":"table-other"})",
       400, "RESOURCE_ALREADY_EXISTS"},
      {"delete the default experiment", "POST", m + "/experiments/delete",
       R"({"experiment_id":"0"})",
       400, kInvalid},
      {"log to a deleted run", "POST", m + "/runs/log-metric",
       R"({"run_id":"{deleted_run}","key":"m","value":1,"timestamp":1})",
       400, kInvalid, {"must be in the 'active' state"}},
      {"change a param", "POST", m + "/runs/log-parameter",
       R"({"run_id":"{run}","key":"fixed","value":"2"})",
       400, kInvalid, {"Changing param values is not allowed"}},
      {"same param again", "POST", m + "/runs/log-parameter",
       R"({"run_id":"{run}","key":"fixed","value":"1"})",
       200, nullptr, {"{}"}},
      {"deprecated run_uuid", "GET", m + "/runs/get?run_uuid={run}", "",
       200, nullptr, {"\"run_id\":\"{run}\""}},
      // Limits and search errors.
      {"too many metrics in a batch", "POST", m + "/runs/log-batch", ManyMetricsBatch(1001),
       400, kInvalid, {"1000"}},
      {"bad filter", "POST", m + "/runs/search",
       R"({"experiment_ids":["{exp}"],"filter":"metrics.x >"})",
       400, kInvalid},
      {"too many results", "POST", m + "/runs/search",
       R"({"experiment_ids":["{exp}"],"max_results":50001})",
       400, kInvalid, {"max_results"}},
      {"bad page token", "POST", m + "/runs/search",
       R"({"experiment_ids":["{exp}"],"page_token":"not-a-token"})",
       400, kInvalid},
      {"bad order_by", "POST", m + "/runs/search",
       R"({"experiment_ids":["{exp}"],"order_by":["attributes.no_such_column"]})",
       400, kInvalid},
      {"bulk interval with end before start", "GET",
       "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={run}&metric_key=m"
       "&start_step=10&end_step=5", "",
       400, kInvalid},
      {"bulk interval with a start step and no end step", "GET",
       "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={run}&metric_key=m"
       "&start_step=10", "",
       400, kInvalid, {"both must be specified"}},
      {"bulk interval asking more than 2500 points", "GET",
       "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={run}&metric_key=m"
       "&max_results=2501", "",
       400, kInvalid, {"between 1 and 2500"}},
      {"dataset without digest", "POST", m + "/runs/log-inputs",
       R"({"run_id":"{run}","datasets":[{"dataset":{"name":"d","source_type":"l","source":""}}]})",
       400, kInvalid, {"digest"}},
      {"finalize with a bad status", "PATCH", m + "/logged-models/{model}", R"({"status":"NOPE"})",
       400, kInvalid},
  };
  // clang-format on

  for (const ApiCase& c : cases) {
    SCOPED_TRACE(c.what);
    std::string target = Substitute(c.target, vars);
    std::string body = Substitute(c.body, vars);
    HttpResult r = Call(c.method, target, body, c.content_type);
    ASSERT_NE(r.status, 0) << "no response";
    EXPECT_EQ(r.status, c.status) << r.body.substr(0, 300);
    if (c.error_code != nullptr) {
      ExpectErrorBody(r, c.error_code);
    } else if (r.status == 200) {
      JsonDocument doc;
      EXPECT_TRUE(ParseJson(r.body, &doc).ok() && doc.IsObject()) << r.body;
    }
    for (const std::string& want : c.body_contains) {
      EXPECT_THAT(r.body, HasSubstr(Substitute(want, vars)));
    }
  }
}

// ------------------------------------------------------------------ wire format

TEST_F(MlflowApiTest, RunWireFormat) {
  const std::string exp = CreateExperiment("wire");
  JsonDocument created = Ok(Post("/runs/create", R"({"experiment_id":")" + exp +
                                                     R"(","user_id":"ann","run_name":"w1",)"
                                                     R"("tags":[{"key":"k","value":"v"}]})"));
  const std::string run_id = StringAt(created, "run.info.run_id");
  EXPECT_EQ(run_id.size(), 32u);

  HttpResult raw = Get("/runs/get?run_id=" + run_id);
  JsonDocument doc = Ok(raw);
  const JsonValue* info = At(doc, "run.info");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(StringAt(*info, "run_id"), run_id);
  EXPECT_EQ(StringAt(*info, "run_uuid"), run_id);
  EXPECT_EQ(StringAt(*info, "run_name"), "w1");
  EXPECT_EQ(StringAt(*info, "experiment_id"), exp);  // ids are strings
  EXPECT_EQ(StringAt(*info, "user_id"), "ann");
  EXPECT_EQ(StringAt(*info, "status"), "RUNNING");  // enums by name
  EXPECT_EQ(StringAt(*info, "lifecycle_stage"), "active");
  EXPECT_EQ(StringAt(*info, "artifact_uri"),
            "mlflow-artifacts:/" + exp + "/" + run_id + "/artifacts");
  // int64 as a JSON number, not a string.
  ASSERT_NE(At(*info, "start_time"), nullptr);
  EXPECT_TRUE(At(*info, "start_time")->IsInt64());
  EXPECT_EQ(At(*info, "start_time")->GetInt64(), kNow);
  EXPECT_THAT(raw.body, HasSubstr("\"start_time\":1700000000000"));
  // Unset fields and empty lists are omitted.
  EXPECT_EQ(At(*info, "end_time"), nullptr);
  EXPECT_EQ(At(doc, "run.data.metrics"), nullptr);
  EXPECT_EQ(At(doc, "run.data.params"), nullptr);
  EXPECT_EQ(KeyValueAt(doc, "run.data.tags", "mlflow.runName"), "w1");
  EXPECT_EQ(KeyValueAt(doc, "run.data.tags", "k"), "v");
  ASSERT_NE(At(doc, "run.inputs"), nullptr);
  EXPECT_TRUE(At(doc, "run.inputs")->IsObject());

  // Finishing sets end_time, also a number.
  JsonDocument updated =
      Ok(Post("/runs/update",
              R"({"run_id":")" + run_id + R"(","status":"FINISHED","end_time":1700000009999})"));
  EXPECT_EQ(StringAt(updated, "run_info.status"), "FINISHED");
  ASSERT_NE(At(updated, "run_info.end_time"), nullptr);
  EXPECT_TRUE(At(updated, "run_info.end_time")->IsInt64());
  EXPECT_EQ(At(updated, "run_info.end_time")->GetInt64(), 1700000009999);

  // Renaming through update rewrites the mlflow.runName tag.
  Ok(Post("/runs/update", R"({"run_id":")" + run_id + R"(","run_name":"renamed"})"));
  doc = Ok(Get("/runs/get?run_id=" + run_id));
  EXPECT_EQ(StringAt(doc, "run.info.run_name"), "renamed");
  EXPECT_EQ(KeyValueAt(doc, "run.data.tags", "mlflow.runName"), "renamed");
  EXPECT_EQ(StringAt(doc, "run.info.status"), "FINISHED");
}

TEST_F(MlflowApiTest, ExperimentWireFormat) {
  const std::string exp = CreateExperiment("exp-wire");
  HttpResult raw = Get("/experiments/get?experiment_id=" + exp);
  JsonDocument doc = Ok(raw);
  EXPECT_EQ(StringAt(doc, "experiment.experiment_id"), exp);
  EXPECT_EQ(StringAt(doc, "experiment.name"), "exp-wire");
  EXPECT_EQ(StringAt(doc, "experiment.artifact_location"), "mlflow-artifacts:/" + exp);
  EXPECT_EQ(StringAt(doc, "experiment.lifecycle_stage"), "active");
  ASSERT_NE(At(doc, "experiment.creation_time"), nullptr);
  EXPECT_TRUE(At(doc, "experiment.creation_time")->IsInt64());
  EXPECT_EQ(At(doc, "experiment.creation_time")->GetInt64(), kNow);
  EXPECT_TRUE(At(doc, "experiment.last_update_time")->IsInt64());
  EXPECT_EQ(At(doc, "experiment.tags"), nullptr);

  Ok(Post("/experiments/set-experiment-tag",
          R"({"experiment_id":")" + exp + R"(","key":"team","value":"ml"})"));
  doc = Ok(Get("/experiments/get-by-name?experiment_name=exp-wire"));
  EXPECT_EQ(StringAt(doc, "experiment.experiment_id"), exp);
  EXPECT_EQ(KeyValueAt(doc, "experiment.tags", "team"), "ml");

  // Delete and restore: the lifecycle is visible; get works on a deleted experiment.
  clock_.Advance(1000);
  Ok(Post("/experiments/delete", R"({"experiment_id":")" + exp + R"("})"));
  doc = Ok(Get("/experiments/get?experiment_id=" + exp));
  EXPECT_EQ(StringAt(doc, "experiment.lifecycle_stage"), "deleted");
  EXPECT_EQ(At(doc, "experiment.last_update_time")->GetInt64(), kNow + 1000);
  Ok(Post("/experiments/restore", R"({"experiment_id":")" + exp + R"("})"));
  doc = Ok(Get("/experiments/get?experiment_id=" + exp));
  EXPECT_EQ(StringAt(doc, "experiment.lifecycle_stage"), "active");
}

TEST_F(MlflowApiTest, MetricValuesOnTheWire) {
  const std::string exp = CreateExperiment("metric-wire");
  const std::string run = CreateRun(exp);
  Ok(Post("/runs/log-batch",
          R"({"run_id":")" + run +
              R"(","metrics":[)"
              R"({"key":"nan","value":"NaN","timestamp":1700000000001,"step":2},)"
              R"({"key":"pinf","value":"Infinity","timestamp":1,"step":0},)"
              R"({"key":"ninf","value":"-Infinity","timestamp":1,"step":0},)"
              R"({"key":"plain","value":0.1,"timestamp":"5","step":"7"}],)"
              R"("params":[{"key":"p","value":"x"}],)"
              R"("tags":[{"key":"t","value":"y"}]})"));
  HttpResult raw = Get("/runs/get?run_id=" + run);
  JsonDocument doc = Ok(raw);
  const JsonValue* metrics = At(doc, "run.data.metrics");
  ASSERT_NE(metrics, nullptr);
  ASSERT_TRUE(metrics->IsArray());
  int seen = 0;
  for (const JsonValue& m : metrics->GetArray()) {
    std::string key = StringAt(m, "key");
    const JsonValue* value = At(m, "value");
    ASSERT_NE(value, nullptr) << key;
    ASSERT_NE(At(m, "timestamp"), nullptr) << key;
    EXPECT_TRUE(At(m, "timestamp")->IsInt64()) << key;
    EXPECT_TRUE(At(m, "step")->IsInt64()) << key;
    if (key == "nan") {
      EXPECT_TRUE(value->IsString() && std::string(value->GetString()) == "NaN");
      EXPECT_EQ(At(m, "step")->GetInt64(), 2);
      EXPECT_EQ(At(m, "timestamp")->GetInt64(), 1700000000001);
    } else if (key == "pinf") {
      // MLflow's SQL store clamps infinities to the largest double.
      ASSERT_TRUE(value->IsNumber());
      EXPECT_EQ(value->GetDouble(), DBL_MAX);
    } else if (key == "ninf") {
      ASSERT_TRUE(value->IsNumber());
      EXPECT_EQ(value->GetDouble(), -DBL_MAX);
    } else if (key == "plain") {
      ASSERT_TRUE(value->IsNumber());
      EXPECT_EQ(value->GetDouble(), 0.1);
      EXPECT_EQ(At(m, "step")->GetInt64(), 7);
      EXPECT_EQ(At(m, "timestamp")->GetInt64(), 5);
    }
    ++seen;
  }
  EXPECT_EQ(seen, 4);
  EXPECT_THAT(raw.body, HasSubstr(R"("value":"NaN")"));
  EXPECT_EQ(KeyValueAt(doc, "run.data.params", "p"), "x");
  EXPECT_EQ(KeyValueAt(doc, "run.data.tags", "t"), "y");

  JsonDocument history = Ok(Get("/metrics/get-history?run_id=" + run + "&metric_key=nan"));
  EXPECT_EQ(StringAt(history, "metrics.0.value"), "NaN");
  EXPECT_EQ(At(history, "metrics.1"), nullptr);
  EXPECT_EQ(At(history, "next_page_token"), nullptr);
}

// ------------------------------------------------------------------ paging and queries

TEST_F(MlflowApiTest, MetricHistoryPagesWithTokens) {
  const std::string exp = CreateExperiment("history-pages");
  const std::string run = CreateRun(exp);
  for (int i = 0; i < 7; ++i) {
    Ok(Post("/runs/log-metric", R"({"run_id":")" + run + R"(","key":"loss","value":)" +
                                    std::to_string(i) + R"(,"timestamp":)" +
                                    std::to_string(kNow + i) + R"(,"step":)" + std::to_string(i) +
                                    "}"));
  }
  std::vector<double> values;
  std::string token;
  int pages = 0;
  do {
    std::string target = "/metrics/get-history?run_id=" + run + "&metric_key=loss&max_results=3";
    if (!token.empty()) target += "&page_token=" + token;
    JsonDocument page = Ok(Get(target));
    const JsonValue* metrics = At(page, "metrics");
    ASSERT_NE(metrics, nullptr);
    EXPECT_LE(metrics->Size(), 3u);
    for (const JsonValue& m : metrics->GetArray()) values.push_back(At(m, "value")->GetDouble());
    const JsonValue* next = At(page, "next_page_token");
    token = next != nullptr ? std::string(next->GetString()) : "";
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_THAT(values, ElementsAre(0, 1, 2, 3, 4, 5, 6));
  EXPECT_EQ(pages, 3);

  // Without max_results: the whole history in one answer.
  JsonDocument all = Ok(Get("/metrics/get-history?run_id=" + run + "&metric_key=loss"));
  EXPECT_EQ(At(all, "metrics")->Size(), 7u);
  EXPECT_EQ(At(all, "next_page_token"), nullptr);

  HttpResult bad = Get("/metrics/get-history?run_id=" + run + "&metric_key=loss&page_token=%%%");
  EXPECT_EQ(bad.status, 400);
  ExpectErrorBody(bad, "INVALID_PARAMETER_VALUE");
}

TEST_F(MlflowApiTest, SearchRunsPagesWithTokens) {
  const std::string exp = CreateExperiment("search-pages");
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) {
    created.push_back(CreateRun(exp, "run-" + std::to_string(i), kNow + i));
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    std::string body = R"({"experiment_ids":[")" + exp + R"("],"max_results":2)";
    if (!token.empty()) body += R"(,"page_token":")" + token + "\"";
    body += "}";
    JsonDocument page = Ok(Post("/runs/search", body));
    const JsonValue* runs = At(page, "runs");
    ASSERT_NE(runs, nullptr);
    for (const JsonValue& r : runs->GetArray()) seen.push_back(StringAt(r, "info.run_id"));
    const JsonValue* next = At(page, "next_page_token");
    token = next != nullptr ? std::string(next->GetString()) : "";
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  // Newest first, each run once.
  EXPECT_THAT(seen, ElementsAre(created[4], created[3], created[2], created[1], created[0]));

  // Nothing found: an empty object.
  HttpResult none =
      Post("/runs/search", R"({"experiment_ids":[")" + exp + R"("],"filter":"params.x = 'y'"})");
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.body, "{}");
}

TEST_F(MlflowApiTest, GetWithRepeatedQueryParameters) {
  const std::string a = CreateExperiment("query-a");
  const std::string b = CreateExperiment("query-b");
  const std::string ra = CreateRun(a, "ra", kNow + 1);
  const std::string rb = CreateRun(b, "rb", kNow + 2);
  Ok(Post("/runs/log-metric",
          R"({"run_id":")" + ra + R"(","key":"acc","value":0.9,"timestamp":1})"));
  Ok(Post("/runs/log-metric",
          R"({"run_id":")" + rb + R"(","key":"acc","value":0.5,"timestamp":1})"));

  // experiment_ids and order_by repeated; spaces and quotes percent-encoded.
  JsonDocument doc = Ok(Get("/runs/search?experiment_ids=" + a + "&experiment_ids=" + b +
                            "&order_by=metrics.acc%20ASC&order_by=attributes.start_time+DESC"
                            "&filter=metrics.acc%20%3E%200.1&max_results=10"));
  ASSERT_NE(At(doc, "runs"), nullptr);
  std::vector<std::string> order;
  for (const JsonValue& r : At(doc, "runs")->GetArray())
    order.push_back(StringAt(r, "info.run_id"));
  EXPECT_THAT(order, ElementsAre(rb, ra));

  doc =
      Ok(Get("/experiments/search?filter=name%20LIKE%20%27query-%25%27&order_by=name%20DESC"
             "&max_results=1"));
  EXPECT_EQ(StringAt(doc, "experiments.0.name"), "query-b");
  EXPECT_EQ(At(doc, "experiments.1"), nullptr);
  std::string token = StringAt(doc, "next_page_token");
  doc =
      Ok(Get("/experiments/search?filter=name%20LIKE%20%27query-%25%27&order_by=name%20DESC"
             "&max_results=1&page_token=" +
             token));
  EXPECT_EQ(StringAt(doc, "experiments.0.name"), "query-a");

  // Bulk interval: run_ids repeated; every point carries its run id.
  for (int step = 0; step < 20; ++step) {
    Ok(Post("/runs/log-metric", R"({"run_id":")" + ra + R"(","key":"loss","value":1,"timestamp":)" +
                                    std::to_string(kNow + step) + R"(,"step":)" +
                                    std::to_string(step) + "}"));
  }
  Ok(Post("/runs/log-metric",
          R"({"run_id":")" + rb + R"(","key":"loss","value":2,"timestamp":1,"step":0})"));
  doc = Ok(Call("GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=" + ra +
                           "&run_ids=" + rb + "&metric_key=loss&max_results=5"));
  const JsonValue* metrics = At(doc, "metrics");
  ASSERT_NE(metrics, nullptr);
  int from_a = 0, from_b = 0;
  std::set<int64_t> steps_a;
  for (const JsonValue& m : metrics->GetArray()) {
    std::string id = StringAt(m, "run_id");
    if (id == ra) {
      ++from_a;
      steps_a.insert(At(m, "step")->GetInt64());
    }
    if (id == rb) ++from_b;
  }
  EXPECT_LE(from_a, 5);
  EXPECT_EQ(from_b, 1);
  EXPECT_TRUE(steps_a.count(0) == 1 && steps_a.count(19) == 1);
}

// ------------------------------------------------------------------ inputs, outputs, models

TEST_F(MlflowApiTest, InputsAndOutputsAppearInGetRun) {
  const std::string exp = CreateExperiment("io");
  const std::string run = CreateRun(exp);
  Ok(Post("/runs/log-inputs", R"({"run_id":")" + run +
                                  R"(","datasets":[{"tags":[{"key":"mlflow.data.context",)"
                                  R"("value":"training"}],"dataset":{"name":"iris","digest":"abc",)"
                                  R"("source_type":"local","source":"{\"uri\":\"x\"}"}}],)"
                                  R"("models":[{"model_id":"m-in"}]})"));
  Ok(Post("/runs/outputs",
          R"({"run_id":")" + run + R"(","models":[{"model_id":"m-out","step":4}]})"));
  JsonDocument doc = Ok(Get("/runs/get?run_id=" + run));
  EXPECT_EQ(StringAt(doc, "run.inputs.dataset_inputs.0.dataset.name"), "iris");
  EXPECT_EQ(StringAt(doc, "run.inputs.dataset_inputs.0.dataset.digest"), "abc");
  EXPECT_EQ(StringAt(doc, "run.inputs.dataset_inputs.0.dataset.source"), R"({"uri":"x"})");
  EXPECT_EQ(At(doc, "run.inputs.dataset_inputs.0.dataset.schema"), nullptr);  // unset: omitted
  EXPECT_EQ(KeyValueAt(doc, "run.inputs.dataset_inputs.0.tags", "mlflow.data.context"), "training");
  EXPECT_EQ(StringAt(doc, "run.inputs.model_inputs.0.model_id"), "m-in");
  EXPECT_EQ(StringAt(doc, "run.outputs.model_outputs.0.model_id"), "m-out");
  ASSERT_NE(At(doc, "run.outputs.model_outputs.0.step"), nullptr);
  EXPECT_TRUE(At(doc, "run.outputs.model_outputs.0.step")->IsInt64());
  EXPECT_EQ(At(doc, "run.outputs.model_outputs.0.step")->GetInt64(), 4);

  // Searchable by dataset.
  JsonDocument found = Ok(Post(
      "/runs/search", R"({"experiment_ids":[")" + exp + R"("],"filter":"dataset.name = 'iris'"})"));
  EXPECT_EQ(StringAt(found, "runs.0.info.run_id"), run);
}

TEST_F(MlflowApiTest, LoggedModelFlow) {
  const std::string exp = CreateExperiment("models");
  const std::string run = CreateRun(exp);
  JsonDocument created =
      Ok(Post("/logged-models", R"({"experiment_id":")" + exp +
                                    R"(","name":"model","source_run_id":")" + run +
                                    R"(","model_type":"sklearn",)"
                                    R"("params":[{"key":"lr","value":"0.1"}],)"
                                    R"("tags":[{"key":"flavor","value":"sk"}]})"));
  const std::string id = StringAt(created, "model.info.model_id");
  EXPECT_THAT(id, StartsWith("m-"));
  EXPECT_EQ(id.size(), 34u);
  EXPECT_EQ(StringAt(created, "model.info.experiment_id"), exp);
  EXPECT_EQ(StringAt(created, "model.info.status"), "LOGGED_MODEL_PENDING");
  EXPECT_EQ(StringAt(created, "model.info.source_run_id"), run);
  EXPECT_EQ(StringAt(created, "model.info.artifact_uri"),
            "mlflow-artifacts:/" + exp + "/models/" + id + "/artifacts");
  ASSERT_NE(At(created, "model.info.creation_timestamp_ms"), nullptr);
  EXPECT_TRUE(At(created, "model.info.creation_timestamp_ms")->IsInt64());
  EXPECT_EQ(At(created, "model.info.creation_timestamp_ms")->GetInt64(), kNow);
  EXPECT_EQ(KeyValueAt(created, "model.data.params", "lr"), "0.1");
  EXPECT_EQ(KeyValueAt(created, "model.info.tags", "flavor"), "sk");

  JsonDocument ready = Ok(Call("PATCH", "/api/2.0/mlflow/logged-models/" + id,
                               R"({"model_id":")" + id + R"(","status":"LOGGED_MODEL_READY"})"));
  EXPECT_EQ(StringAt(ready, "model.info.status"), "LOGGED_MODEL_READY");

  JsonDocument tagged = Ok(Call("PATCH", "/api/2.0/mlflow/logged-models/" + id + "/tags",
                                R"({"tags":[{"key":"stage","value":"dev"}]})"));
  EXPECT_EQ(KeyValueAt(tagged, "model.info.tags", "stage"), "dev");
  EXPECT_EQ(Call("DELETE", "/api/2.0/mlflow/logged-models/" + id + "/tags/stage").status, 200);
  HttpResult again = Call("DELETE", "/api/2.0/mlflow/logged-models/" + id + "/tags/stage");
  EXPECT_EQ(again.status, 404);
  Ok(Post("/logged-models/" + id + "/params", R"({"params":[{"key":"depth","value":"3"}]})"));
  JsonDocument got = Ok(Get("/logged-models/" + id));
  EXPECT_EQ(KeyValueAt(got, "model.data.params", "depth"), "3");
  EXPECT_EQ(KeyValueAt(got, "model.info.tags", "stage"), "<absent>");

  // Found by name, as register_model looks it up.
  JsonDocument by_name = Ok(Post("/logged-models/search", R"({"experiment_ids":[")" + exp +
                                                              R"("],"filter":"name = 'model'"})"));
  EXPECT_EQ(StringAt(by_name, "models.0.info.model_id"), id);
  EXPECT_EQ(At(by_name, "models.1"), nullptr);
  JsonDocument by_param =
      Ok(Post("/logged-models/search",
              R"({"experiment_ids":[")" + exp + R"("],"filter":"params.lr = '0.1'"})"));
  EXPECT_EQ(StringAt(by_param, "models.0.info.model_id"), id);

  // The model's files, uploaded through the proxy under its artifact_uri, are listed.
  const std::string model_root =
      "/api/2.0/mlflow-artifacts/artifacts/" + exp + "/models/" + id + "/artifacts";
  EXPECT_EQ(Call("PUT", model_root + "/MLmodel", "flavors: {}\n", "text/plain").status, 200);
  EXPECT_EQ(Call("PUT", model_root + "/data/model.pkl", "bytes", "application/octet-stream").status,
            200);
  JsonDocument dirs = Ok(Get("/logged-models/" + id + "/artifacts/directories"));
  EXPECT_EQ(StringAt(dirs, "root_uri"),
            "mlflow-artifacts:/" + exp + "/models/" + id + "/artifacts");
  std::vector<std::string> listed;
  for (const JsonValue& f : At(dirs, "files")->GetArray()) listed.push_back(StringAt(f, "path"));
  EXPECT_THAT(listed, UnorderedElementsAre("MLmodel", "data"));
  JsonDocument sub =
      Ok(Get("/logged-models/" + id + "/artifacts/directories?artifact_directory_path=data"));
  EXPECT_EQ(StringAt(sub, "files.0.path"), "data/model.pkl");

  EXPECT_EQ(Call("DELETE", "/api/2.0/mlflow/logged-models/" + id).status, 200);
  HttpResult gone = Get("/logged-models/" + id);
  EXPECT_EQ(gone.status, 404);
  ExpectErrorBody(gone, "RESOURCE_DOES_NOT_EXIST");
}

// MLflow's logged-model search combines attribute and entity clauses with AND, e.g.
// `name = 'model' AND params.lr = '0.1'` (reference §3, search_logged_models).
TEST_F(MlflowApiTest, LoggedModelSearchCombinesNameAndParams) {
  const std::string exp = CreateExperiment("models-combined");
  std::string ids[2];
  for (int i = 0; i < 2; ++i) {
    JsonDocument created = Ok(Post("/logged-models", R"({"experiment_id":")" + exp +
                                                         R"(","name":"model",)"
                                                         R"("params":[{"key":"lr","value":")" +
                                                         std::to_string(i) + R"("}]})"));
    ids[i] = StringAt(created, "model.info.model_id");
  }
  JsonDocument found =
      Ok(Post("/logged-models/search", R"({"experiment_ids":[")" + exp +
                                           R"("],"filter":"name = 'model' AND params.lr = '1'"})"));
  EXPECT_EQ(StringAt(found, "models.0.info.model_id"), ids[1]);
  EXPECT_EQ(At(found, "models.1"), nullptr);
}

// ------------------------------------------------------------------ artifact proxy

TEST_F(MlflowApiTest, ArtifactProxyRoundTrip) {
  const std::string exp = CreateExperiment("artifacts");
  const std::string run = CreateRun(exp);
  const std::string base = "/api/2.0/mlflow-artifacts/artifacts/" + exp + "/" + run + "/artifacts";
  std::string content(3 * 1024 * 1024 + 11, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 % 256);

  HttpResult put = Call("PUT", base + "/model/weights.bin", content, "application/octet-stream");
  EXPECT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.body, "{}");
  EXPECT_EQ(Call("PUT", base + "/model/MLmodel", "flavors: {}\n", "text/plain").status, 200);
  EXPECT_EQ(Call("PUT", base + "/metrics.json", R"({"a":1})", "application/json").status, 200);

  HttpResult got = Call("GET", base + "/model/weights.bin");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body.size(), content.size());
  EXPECT_TRUE(got.body == content);
  EXPECT_EQ(got.Header("content-length"), std::to_string(content.size()));
  EXPECT_EQ(got.Header("content-type"), "application/octet-stream");
  EXPECT_EQ(got.Header("content-disposition"), "attachment; filename=weights.bin");
  EXPECT_EQ(got.Header("x-content-type-options"), "nosniff");
  HttpResult json = Call("GET", base + "/metrics.json");
  EXPECT_EQ(json.body, R"({"a":1})");
  EXPECT_EQ(json.Header("content-type"), "application/json");

  // Listing through the proxy: basenames, sizes for files only.
  JsonDocument listing = Ok(Call(
      "GET", "/api/2.0/mlflow-artifacts/artifacts?path=" + exp + "/" + run + "/artifacts/model"));
  const JsonValue* files = At(listing, "files");
  ASSERT_NE(files, nullptr);
  std::vector<std::string> names;
  for (const JsonValue& f : files->GetArray()) {
    names.push_back(StringAt(f, "path"));
    EXPECT_FALSE(At(f, "is_dir")->GetBool());
    EXPECT_TRUE(At(f, "file_size")->IsInt64());
  }
  EXPECT_THAT(names, UnorderedElementsAre("MLmodel", "weights.bin"));
  JsonDocument top =
      Ok(Call("GET", "/api/2.0/mlflow-artifacts/artifacts?path=" + exp + "/" + run + "/artifacts"));
  bool saw_dir = false;
  for (const JsonValue& f : At(top, "files")->GetArray()) {
    if (StringAt(f, "path") == "model") {
      saw_dir = true;
      EXPECT_TRUE(At(f, "is_dir")->GetBool());
      EXPECT_EQ(At(f, "file_size"), nullptr);
    }
  }
  EXPECT_TRUE(saw_dir);

  // Listing through the tracking API: paths relative to the run's root.
  JsonDocument run_list = Ok(Get("/artifacts/list?run_id=" + run + "&path=model"));
  EXPECT_EQ(StringAt(run_list, "root_uri"), "mlflow-artifacts:/" + exp + "/" + run + "/artifacts");
  std::vector<std::string> run_paths;
  for (const JsonValue& f : At(run_list, "files")->GetArray()) {
    run_paths.push_back(StringAt(f, "path"));
  }
  EXPECT_THAT(run_paths, UnorderedElementsAre("model/MLmodel", "model/weights.bin"));

  // An empty file round-trips, and HEAD reports a file's size without sending it.
  EXPECT_EQ(Call("PUT", base + "/empty.txt", "", "text/plain").status, 200);
  HttpResult empty = Call("GET", base + "/empty.txt");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "");
  EXPECT_EQ(empty.Header("content-length"), "0");
  HttpResult head = Call("HEAD", base + "/model/weights.bin");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), std::to_string(content.size()));

  // Overwrite, delete, and a missing file.
  EXPECT_EQ(Call("PUT", base + "/metrics.json", R"({"a":2})", "application/json").status, 200);
  EXPECT_EQ(Call("GET", base + "/metrics.json").body, R"({"a":2})");
  EXPECT_EQ(Call("DELETE", base + "/model").status, 200);
  HttpResult missing = Call("GET", base + "/model/weights.bin");
  EXPECT_EQ(missing.status, 404);
  ExpectErrorBody(missing, "RESOURCE_DOES_NOT_EXIST");
  JsonDocument after = Ok(Get("/artifacts/list?run_id=" + run + "&path=model"));
  EXPECT_EQ(At(after, "files"), nullptr);
}

TEST_F(MlflowApiTest, ArtifactPathTraversalIsRefused) {
  // A file beside the artifact root that an escape would reach.
  const std::string outside = dir_ + "/secret.txt";
  {
    std::FILE* f = std::fopen(outside.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("secret", f);
    std::fclose(f);
  }
  const std::string prefix = "/api/2.0/mlflow-artifacts/artifacts/";
  const std::vector<std::string> escapes = {
      "../secret.txt",
      "a/../../secret.txt",
      "%2e%2e/secret.txt",
      "%2E%2E%2Fsecret.txt",
      "x/%2e%2e/%2e%2e/secret.txt",
      "/etc/passwd",
      "%2Fetc%2Fpasswd",
      "..%5Csecret.txt",
      "C:/secret.txt",
      "a/%00/b",
  };
  for (const std::string& path : escapes) {
    SCOPED_TRACE(path);
    for (const char* method : {"GET", "PUT", "DELETE"}) {
      SCOPED_TRACE(method);
      HttpResult r = Call(method, prefix + path, std::string(method) == "PUT" ? "pwned" : "",
                          "application/octet-stream");
      EXPECT_EQ(r.status, 400) << r.body;
      ExpectErrorBody(r, "INVALID_PARAMETER_VALUE");
    }
  }
  for (const char* query : {"..", "a/../..", "%2e%2e", "/etc"}) {
    SCOPED_TRACE(query);
    HttpResult list = Call("GET", std::string("/api/2.0/mlflow-artifacts/artifacts?path=") + query);
    EXPECT_EQ(list.status, 400) << list.body;
    ExpectErrorBody(list, "INVALID_PARAMETER_VALUE");
  }
  const std::string exp = CreateExperiment("traversal");
  const std::string run = CreateRun(exp);
  HttpResult run_list = Get("/artifacts/list?run_id=" + run + "&path=../../..");
  EXPECT_EQ(run_list.status, 400);
  ExpectErrorBody(run_list, "INVALID_PARAMETER_VALUE");

  // Nothing outside the root was read, replaced or removed.
  std::FILE* f = std::fopen(outside.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[16] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  EXPECT_EQ(std::string(buf, n), "secret");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/artifacts/../pwned"));
}

// A HEAD on a missing artifact answers 404 without a body, so the connection stays usable.
TEST_F(MlflowApiTest, HeadOnMissingArtifactKeepsConnectionUsable) {
  Connection c(port_);
  ASSERT_TRUE(
      c.Send(RequestBytes("HEAD", "/api/2.0/mlflow-artifacts/artifacts/0/nope.txt", "", "")));
  HttpResult head = c.Read(/*head=*/true);
  EXPECT_EQ(head.status, 404);
  ASSERT_TRUE(c.Send(RequestBytes("GET", "/health", "", "")));
  HttpResult next = c.Read();
  EXPECT_EQ(next.status, 200) << "the HEAD response carried body bytes";
  EXPECT_EQ(next.body, "OK");
}

// ------------------------------------------------------------------ robustness

// Several clients log at once (handlers block on group commit): every request succeeds and
// every point is stored.
TEST_F(MlflowApiTest, ConcurrentClientsAllSucceed) {
  const std::string exp = CreateExperiment("concurrent");
  constexpr int kClients = 8;
  constexpr int kRequests = 40;
  std::vector<std::string> runs;
  for (int i = 0; i < kClients; ++i) runs.push_back(CreateRun(exp));
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Connection conn(port_);  // one keep-alive connection per client
      for (int i = 0; i < kRequests; ++i) {
        std::string body = R"({"run_id":")" + runs[c] + R"(","metrics":[{"key":"x","value":)" +
                           std::to_string(i) + R"(,"timestamp":)" + std::to_string(kNow + i) +
                           R"(,"step":)" + std::to_string(i) + "}]}";
        if (!conn.Send(
                RequestBytes("POST", "/api/2.0/mlflow/runs/log-batch", body, "application/json")) ||
            conn.Read().status != 200) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (const std::string& run : runs) {
    JsonDocument history = Ok(Get("/metrics/get-history?run_id=" + run + "&metric_key=x"));
    ASSERT_NE(At(history, "metrics"), nullptr);
    EXPECT_EQ(At(history, "metrics")->Size(), static_cast<size_t>(kRequests));
  }
}

// Fixed, so the parent process can remove what a crashed child left.
std::string NestedJsonTestDir() { return ::testing::TempDir() + "plinth_api_nested_json_test"; }

// A hostile body (JSON nested a million levels deep, well under the 64 MB body limit) is a
// 400, not a crash of the whole server. Run in a child process so a crash fails only this test.
TEST(MlflowApiDeathTest, DeeplyNestedJsonIsRejectedNotFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto scenario = [] {
    (void)SetLogLevel("off");
    std::string dir = NestedJsonTestDir();
    store::SqliteStoreOptions store_options;
    store_options.path = dir + "/mlflow.db";
    auto metadata = store::OpenSqliteStore(store_options, kNow);
    auto artifacts = artifacts::OpenLocalArtifactStore(dir + "/artifacts");
    if (!metadata.ok() || !artifacts.ok()) std::_Exit(2);
    FakeClock clock(kNow);
    tracking::TrackingService tracking(metadata->get(), &clock, {});
    http::Router router;
    ApiContext context;
    context.tracking = &tracking;
    context.artifacts = artifacts->get();
    RegisterMlflowApi(router, context);
    http::ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.drain_timeout_seconds = 2;
    http::HttpServer server(options, &router);
    if (!server.Start().ok()) std::_Exit(2);
    std::string body(1000000, '[');
    Connection c(server.port());
    c.Send(RequestBytes("POST", "/api/2.0/mlflow/experiments/create", body, "application/json"));
    HttpResult r = c.Read();
    std::_Exit(r.status == 400 ? 0 : 1);
  };
  EXPECT_EXIT(scenario(), ::testing::ExitedWithCode(0), "");
  // The child may die before it can clean up, so the parent does.
  std::error_code ec;
  std::filesystem::remove_all(NestedJsonTestDir(), ec);
}

// ------------------------------------------------------------------ service routes

TEST_F(MlflowApiTest, HealthVersionAndReadiness) {
  HttpResult health = Call("GET", "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "OK");

  HttpResult version = Call("GET", "/version");
  EXPECT_EQ(version.status, 200);
  EXPECT_EQ(version.body, kMlflowCompatVersion);
  EXPECT_THAT(version.Header("content-type"), HasSubstr("text/plain"));

  JsonDocument plinth = Ok(Call("GET", "/api/plinth/v1/version"));
  EXPECT_EQ(StringAt(plinth, "plinth_version"), "9.9.9-test");
  EXPECT_EQ(StringAt(plinth, "mlflow_compat_version"), kMlflowCompatVersion);

  JsonDocument features = Ok(Get("/server-features"));
  ASSERT_NE(At(features, "workspaces_enabled"), nullptr);
  EXPECT_FALSE(At(features, "workspaces_enabled")->GetBool());

  EXPECT_EQ(Call("GET", "/ready").status, 200);
  ready_ = false;
  EXPECT_EQ(Call("GET", "/ready").status, 503);
}

}  // namespace
}  // namespace plinth::api
