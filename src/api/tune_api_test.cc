// /api/plinth/v1/studies/… against the real stack in process (api_test_support.h), on SQLite
// and again on PostgreSQL: a whole ask/report/tell cycle seen through the MLflow API too,
// define-by-run suggestions, enqueue, paging, best trials, and bad input answered 4xx naming
// the field (data-driven).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/api_test_support.h"

namespace plinth::api {
namespace {

using ::testing::HasSubstr;

class TuneApiTest : public MlflowApiTest {
 protected:
  HttpResult Studies(std::string_view method, std::string_view tail, std::string_view body = "") {
    return Call(method, "/api/plinth/v1/studies" + std::string(tail), body);
  }
  JsonDocument PostOk(std::string_view tail, std::string_view body) {
    return Ok(Studies("POST", tail, body));
  }
  int64_t IntAt(const JsonValue& root, std::string_view path) {
    const JsonValue* v = At(root, path);
    return v != nullptr && v->IsInt64() ? v->GetInt64() : -1;
  }
  double DoubleAt(const JsonValue& root, std::string_view path) {
    const JsonValue* v = At(root, path);
    return v != nullptr && v->IsNumber() ? v->GetDouble() : -1e300;
  }
  int64_t CreateStudy(std::string_view body) {
    JsonDocument doc = PostOk("/create", body);
    return IntAt(doc, "study.study_id");
  }
};

constexpr const char* kStudy = R"({
  "name": "churn", "direction": "maximize", "metric_name": "auc", "n_trials": 3,
  "sampler": {"type": "tpe", "seed": 42, "n_startup_trials": 2},
  "search_space": {"lr": {"type": "float", "low": 0.0001, "high": 0.1, "log": true},
                   "depth": {"type": "int", "low": 2, "high": 8},
                   "booster": {"type": "categorical", "choices": ["gbtree", "dart"]}},
  "user_attrs": {"team": "ml"}})";

TEST_F(TuneApiTest, AskReportTellAndTheRunsTheMlflowClientSees) {
  int64_t id = CreateStudy(kStudy);
  ASSERT_GT(id, 0);
  JsonDocument got = Ok(Studies("GET", "/get?study_name=churn"));
  EXPECT_EQ(IntAt(got, "study.study_id"), id);
  EXPECT_EQ(StringAt(got, "study.directions.0"), "maximize");
  EXPECT_EQ(StringAt(got, "study.search_space.lr.type"), "float");
  EXPECT_EQ(StringAt(got, "study.sampler.type"), "tpe");
  EXPECT_EQ(StringAt(got, "study.user_attrs.team"), "ml");
  EXPECT_EQ(StringAt(got, "study.metric_names.0"), "auc");
  const std::string experiment_id = StringAt(got, "study.experiment_id");

  for (int i = 0; i < 3; ++i) {
    JsonDocument asked = PostOk("/ask", R"({"study_id": )" + std::to_string(id) + "}");
    ASSERT_EQ(IntAt(asked, "trial.number"), i);
    EXPECT_EQ(StringAt(asked, "trial.state"), "RUNNING");
    EXPECT_FALSE(At(asked, "study_done")->GetBool());
    const double lr = DoubleAt(asked, "trial.params.lr");
    EXPECT_GE(lr, 0.0001);
    EXPECT_LE(lr, 0.1);
    EXPECT_EQ(StringAt(asked, "trial.distributions.depth.type"), "int");
    const std::string trial = std::to_string(IntAt(asked, "trial.trial_id"));
    const std::string run_id = StringAt(asked, "trial.run_id");
    JsonDocument report =
        PostOk("/report", R"({"trial_id": )" + trial + R"(, "step": 1, "value": 0.5})");
    EXPECT_FALSE(At(report, "should_prune")->GetBool());
    Ok(Studies("POST", "/heartbeat", R"({"trial_id": )" + trial + "}"));
    JsonDocument told = PostOk("/tell", R"({"trial_id": )" + trial + R"(, "value": )" +
                                            std::to_string(0.6 + i * 0.1) + "}");
    EXPECT_EQ(StringAt(told, "trial.state"), "COMPLETE");

    // The trial is a finished MLflow run named trial-<n> with its params and metric.
    JsonDocument run = Ok(Get("/runs/get?run_id=" + run_id));
    EXPECT_EQ(StringAt(run, "run.info.run_name"), "trial-" + std::to_string(i));
    EXPECT_EQ(StringAt(run, "run.info.experiment_id"), experiment_id);
    EXPECT_EQ(StringAt(run, "run.info.status"), "FINISHED");
    EXPECT_THAT(KeyValueAt(run, "run.data.params", "booster"), ::testing::AnyOf("gbtree", "dart"));
    EXPECT_EQ(DoubleAt(run, "run.data.metrics.0.value"), 0.6 + i * 0.1);
    EXPECT_EQ(StringAt(run, "run.data.metrics.0.key"), "auc");
  }
  JsonDocument done = PostOk("/ask", R"({"study_name": "churn"})");
  EXPECT_TRUE(At(done, "trial")->IsNull());
  EXPECT_TRUE(At(done, "study_done")->GetBool());

  JsonDocument best = Ok(Studies("GET", "/best?study_id=" + std::to_string(id)));
  EXPECT_EQ(IntAt(best, "best_trials.0.number"), 2);  // maximize: the last value is the largest
  JsonDocument page =
      Ok(Studies("GET", "/trials?study_id=" + std::to_string(id) + "&max_results=2"));
  EXPECT_EQ(At(page, "trials")->Size(), 2u);
  EXPECT_EQ(StringAt(page, "next_page_token"), "2");
  JsonDocument rest =
      Ok(Studies("GET", "/trials?study_id=" + std::to_string(id) + "&max_results=2&page_token=2"));
  EXPECT_EQ(IntAt(rest, "trials.0.number"), 2);
  EXPECT_EQ(At(rest, "next_page_token"), nullptr);
  JsonDocument complete =
      Ok(Studies("GET", "/trials?study_id=" + std::to_string(id) + "&states=COMPLETE&states=FAIL"));
  EXPECT_EQ(At(complete, "trials")->Size(), 3u);
  JsonDocument list = Ok(Studies("GET", "/list"));
  EXPECT_EQ(StringAt(list, "studies.0.name"), "churn");
  EXPECT_EQ(IntAt(list, "studies.0.trial_counts.COMPLETE"), 3);
}

TEST_F(TuneApiTest, DefineByRunEnqueueUserAttrsAndPruneState) {
  int64_t id = CreateStudy(R"({"name": "dbr", "sampler": {"type": "random", "seed": 1}})");
  const std::string sid = std::to_string(id);
  JsonDocument queued =
      PostOk("/enqueue", R"({"study_id": )" + sid + R"(, "params": {"kind": "svm"}})");
  EXPECT_EQ(StringAt(queued, "trial.state"), "WAITING");
  JsonDocument asked = PostOk("/ask", R"({"study_id": )" + sid + "}");
  const std::string trial = std::to_string(IntAt(asked, "trial.trial_id"));
  EXPECT_EQ(IntAt(asked, "trial.trial_id"), IntAt(queued, "trial.trial_id"));
  JsonDocument kind = PostOk(
      "/suggest",
      R"({"trial_id": )" + trial +
          R"(, "name": "kind", "distribution": {"type": "categorical", "choices": ["svm", "tree"]}})");
  EXPECT_EQ(StringAt(kind, "value"), "svm");  // the enqueued value
  JsonDocument c = PostOk(
      "/suggest",
      R"({"trial_id": )" + trial +
          R"(, "name": "C", "distribution": {"type": "float", "low": 0.001, "high": 1000, "log": true}})");
  EXPECT_GE(DoubleAt(c, "value"), 0.001);
  Ok(Studies("POST", "/trials/set-user-attr",
             R"({"trial_id": )" + trial + R"(, "key": "note", "value": [1, "x"]})"));
  PostOk("/report", R"({"trial_id": )" + trial + R"(, "step": 3, "value": 0.25})");
  JsonDocument pruned = PostOk("/tell", R"({"trial_id": )" + trial + R"(, "state": "PRUNED"})");
  EXPECT_EQ(StringAt(pruned, "trial.state"), "PRUNED");
  EXPECT_EQ(DoubleAt(pruned, "trial.value"), 0.25);  // the last reported value
  EXPECT_EQ(DoubleAt(pruned, "trial.params.C"), DoubleAt(c, "value"));
  EXPECT_EQ(StringAt(pruned, "trial.user_attrs.note.1"), "x");
  JsonDocument one = Ok(Studies("GET", "/trials/get?trial_id=" + trial));
  EXPECT_EQ(DoubleAt(one, "trial.intermediate_values.0.value"), 0.25);
  JsonDocument run = Ok(Get("/runs/get?run_id=" + StringAt(one, "trial.run_id")));
  EXPECT_EQ(StringAt(run, "run.info.status"), "KILLED");
  EXPECT_EQ(KeyValueAt(run, "run.data.params", "kind"), "svm");
}

// AutoSampler is served: a study created with {"type": "auto"} keeps it and its asks sample.
TEST_F(TuneApiTest, AutoSamplerStudiesAskAndTell) {
  int64_t id = CreateStudy(R"({"name": "auto", "sampler": {"type": "auto", "seed": 5},
      "search_space": {"x": {"type": "float", "low": -2, "high": 2},
                       "k": {"type": "categorical", "choices": ["a", "b"]}}})");
  ASSERT_GT(id, 0);
  const std::string sid = std::to_string(id);
  JsonDocument got = Ok(Studies("GET", "/get?study_id=" + sid));
  EXPECT_EQ(StringAt(got, "study.sampler.type"), "auto");
  EXPECT_EQ(IntAt(got, "study.sampler.seed"), 5);
  for (int i = 0; i < 4; ++i) {
    JsonDocument asked = PostOk("/ask", R"({"study_id": )" + sid + "}");
    const double x = DoubleAt(asked, "trial.params.x");
    EXPECT_GE(x, -2);
    EXPECT_LE(x, 2);
    PostOk("/tell", R"({"trial_id": )" + std::to_string(IntAt(asked, "trial.trial_id")) +
                        R"(, "value": )" + std::to_string(x * x) + "}");
  }
  JsonDocument best = Ok(Studies("GET", "/best?study_id=" + sid));
  EXPECT_EQ(At(best, "best_trials")->Size(), 1u);
}

struct BadCase {
  const char* method;
  const char* tail;
  const char* body;
  int status;
  const char* error_code;
  const char* message;  // a substring: the field it names
};

TEST_F(TuneApiTest, BadInputIsA4xxNamingTheField) {
  int64_t id = CreateStudy(
      R"({"name": "s", "search_space": {"x": {"type": "float", "low": 0, "high": 1}}})");
  JsonDocument asked = PostOk("/ask", R"({"study_id": )" + std::to_string(id) + "}");
  const std::string trial = std::to_string(IntAt(asked, "trial.trial_id"));
  PostOk("/tell", R"({"trial_id": )" + trial + R"(, "value": 1})");
  const std::string t = R"({"trial_id": )" + trial;
  const std::vector<BadCase> cases = {
      {"POST", "/create", R"({"direction": "minimize"})", 400, "INVALID_PARAMETER_VALUE", "'name'"},
      {"POST", "/create", R"({"name": "s"})", 400, "RESOURCE_ALREADY_EXISTS", "already exists"},
      {"POST", "/create", R"({"name": "b", "direction": 3})", 400, "INVALID_PARAMETER_VALUE",
       "'direction'"},
      {"POST", "/create",
       R"({"name": "b", "search_space": {"x": {"type": "int", "low": 1.5, "high": 3}}})", 400,
       "INVALID_PARAMETER_VALUE", "search_space.x.low"},
      {"POST", "/create", R"({"name": "b", "sampler": {"type": "tpe", "seed": -1}})", 400,
       "INVALID_PARAMETER_VALUE", "sampler.seed"},
      {"POST", "/create", R"({"name": "b", "pruner": {"type": "bogus"}})", 400,
       "INVALID_PARAMETER_VALUE", "pruner.type"},
      {"POST", "/create", R"({"name": "b", "sampler": {"type": "bogus"}})", 400,
       "INVALID_PARAMETER_VALUE", "cmaes or auto"},
      {"POST", "/create",
       R"({"name": "b", "directions": ["minimize", "maximize"], "sampler": {"type": "auto"}})", 400,
       "INVALID_PARAMETER_VALUE", "sampler.type"},
      {"POST", "/create", R"({"name": "b", "user_attrs": [1]})", 400, "INVALID_PARAMETER_VALUE",
       "user_attrs"},
      {"POST", "/create", "{not json", 400, "BAD_REQUEST", ""},
      {"GET", "/get", "", 400, "INVALID_PARAMETER_VALUE", "study_id"},
      {"GET", "/get?study_name=nope", "", 404, "RESOURCE_DOES_NOT_EXIST", "nope"},
      {"GET", "/get?study_id=abc", "", 400, "INVALID_PARAMETER_VALUE", "study_id"},
      {"POST", "/ask", R"({})", 400, "INVALID_PARAMETER_VALUE", "study_id"},
      {"POST", "/ask", R"({"study_id": 99999})", 404, "RESOURCE_DOES_NOT_EXIST", "99999"},
      {"POST", "/report", R"({"step": 1, "value": 1})", 400, "INVALID_PARAMETER_VALUE", "trial_id"},
      {"POST", "/report", R"({"trial_id": 99999, "step": 1, "value": 1})", 404,
       "RESOURCE_DOES_NOT_EXIST", ""},
      {"POST", "/heartbeat", R"({"trial_id": "x"})", 400, "INVALID_PARAMETER_VALUE", "trial_id"},
      {"POST", "/suggest", R"({"trial_id": 1, "name": "y"})", 400, "INVALID_PARAMETER_VALUE",
       "distribution"},
      {"POST", "/suggest",
       R"({"trial_id": 1, "name": "y", "distribution": {"type": "float", "low": 1}})", 400,
       "INVALID_PARAMETER_VALUE", "distribution.high"},
      {"POST", "/tell", R"({"value": 1})", 400, "INVALID_PARAMETER_VALUE", "trial_id"},
      {"POST", "/tell", R"({"trial_id": 1, "value": 1, "values": [1]})", 400,
       "INVALID_PARAMETER_VALUE", "not both"},
      {"POST", "/tell", R"({"trial_id": 1, "state": "DONE"})", 400, "INVALID_PARAMETER_VALUE",
       "'state'"},
      {"GET", "/trials?study_id=1&max_results=0", "", 400, "INVALID_PARAMETER_VALUE",
       "max_results"},
      {"GET", "/trials?study_id=1&page_token=zz", "", 400, "INVALID_PARAMETER_VALUE", "page token"},
      {"GET", "/trials?study_id=1&states=DONE", "", 400, "INVALID_PARAMETER_VALUE", "states"},
      {"POST", "/enqueue", R"({"study_id": 1, "params": {"x": [1]}})", 400,
       "INVALID_PARAMETER_VALUE", "params.x"},
      {"POST", "/trials/set-user-attr", R"({"trial_id": 1, "key": "k"})", 400,
       "INVALID_PARAMETER_VALUE", "value"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.tail + " " + c.body);
    HttpResult r = Studies(c.method, c.tail, c.body);
    EXPECT_EQ(r.status, c.status) << r.body;
    ExpectErrorBody(r, c.error_code);
    EXPECT_THAT(r.body, HasSubstr(c.message));
  }
  // A finished trial refuses changes: 400 INVALID_STATE, never a 5xx.
  for (const std::string& body :
       {t + R"(, "value": 2})", t + R"(, "step": 1, "value": 1})", t + "}"}) {
    const char* tail = body.find("step") != std::string::npos    ? "/report"
                       : body.find("value") != std::string::npos ? "/tell"
                                                                 : "/heartbeat";
    HttpResult r = Studies("POST", tail, body);
    EXPECT_EQ(r.status, 400) << tail << " " << r.body;
    ExpectErrorBody(r, "INVALID_STATE");
  }
}

}  // namespace
}  // namespace plinth::api
