// Conformance suite for RegistryStore (registry_store.h), run on SQLite and, when
// PLINTH_TEST_PG_DSN names a server (make test starts one), on PostgreSQL. Expected behaviour is
// MLflow's SQL registry store (mlflow/store/model_registry/sqlalchemy_store.py) where clients can
// see it, plus the alias history MLflow does not keep.
#include "store/registry_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/log.h"
#include "store/metadata_store.h"
#include "store/test_databases.h"

namespace plinth {

inline void PrintTo(StatusCode code, std::ostream* os) { *os << StatusCodeName(code); }

namespace store {
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

class RegistryStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    (void)SetLogLevel("warn");
    db_ = testing::MakeTestDatabase(GetParam());
    if (!db_) GTEST_SKIP() << testing::kNoPostgres;
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<MetadataStore> Open() {
    StoreOpenOptions options;
    options.pool_size = 4;
    auto opened = OpenStoreFromUri(db_->uri(), options, kNow);
    EXPECT_TRUE(IsOk(opened));
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  RegistryStore& reg() { return store_->registry(); }

  void CreateModel(const std::string& name, std::vector<KeyValue> tags = {},
                   std::string description = "") {
    RegisteredModel m;
    m.name = name;
    m.creation_timestamp = kNow;
    m.last_updated_timestamp = kNow;
    m.description = std::move(description);
    m.tags = std::move(tags);
    ASSERT_TRUE(IsOk(reg().CreateRegisteredModel(m)));
  }

  ModelVersion NewVersion(const std::string& name, const std::string& source,
                          const std::string& run_id = "", int64_t now = kNow) {
    ModelVersion v;
    v.name = name;
    v.source = source;
    v.run_id = run_id;
    v.creation_timestamp = now;
    v.last_updated_timestamp = now;
    v.description = "";
    return v;
  }

  int64_t AddVersion(const std::string& name, const std::string& source = "s3://b/m",
                     const std::string& run_id = "", int64_t now = kNow) {
    auto created = reg().CreateModelVersion(NewVersion(name, source, run_id, now));
    EXPECT_TRUE(IsOk(created));
    return created.ok() ? created->version : -1;
  }

  static AliasChange Change(std::string action = "set", int64_t at = kNow,
                            std::optional<int64_t> expected = std::nullopt) {
    AliasChange c;
    c.action = std::move(action);
    c.user_id = "alice";
    c.timestamp = at;
    c.expected_version = expected;
    return c;
  }

  std::vector<std::string> Names(const RegisteredModelPage& page) {
    std::vector<std::string> out;
    for (const RegisteredModel& m : page.models) out.push_back(m.name);
    return out;
  }
  std::vector<int64_t> Versions(const ModelVersionPage& page) {
    std::vector<int64_t> out;
    for (const ModelVersion& v : page.versions) out.push_back(v.version);
    return out;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<MetadataStore> store_;
};

FilterClause Clause(EntityKind entity, std::string key, Comparator op, std::string value) {
  FilterClause c;
  c.entity = entity;
  c.key = std::move(key);
  c.comparator = op;
  c.string_value = std::move(value);
  return c;
}

FilterClause NumberClause(std::string key, Comparator op, double value) {
  FilterClause c;
  c.entity = EntityKind::kAttribute;
  c.key = std::move(key);
  c.comparator = op;
  c.numeric = true;
  c.number_value = value;
  return c;
}

// ------------------------------------------------------------------ registered models

TEST_P(RegistryStoreTest, CreatesAndGetsARegisteredModel) {
  CreateModel("churn", {{"team", "a"}, {"team", "b"}, {"env", "x"}}, "first model");
  auto m = reg().GetRegisteredModel("churn");
  ASSERT_TRUE(IsOk(m));
  EXPECT_EQ(m->name, "churn");
  EXPECT_EQ(m->creation_timestamp, kNow);
  EXPECT_EQ(m->description, "first model");
  ASSERT_EQ(m->tags.size(), 2u);  // the last value of a repeated key wins
  EXPECT_EQ(m->tags[0].key, "env");
  EXPECT_EQ(m->tags[1].value, "b");
  EXPECT_THAT(m->latest_versions, IsEmpty());
  EXPECT_THAT(m->aliases, IsEmpty());

  RegisteredModel again;
  again.name = "churn";
  Status dup = reg().CreateRegisteredModel(again);
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "Registered Model (name=churn) already exists.");

  auto missing = reg().GetRegisteredModel("nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Registered Model with name=nope not found");
}

TEST_P(RegistryStoreTest, RenameMovesVersionsAliasesAndTags) {
  CreateModel("old", {{"k", "v"}});
  int64_t v1 = AddVersion("old");
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelAlias("old", "prod", v1, Change())));
  CreateModel("taken");

  Status taken = reg().RenameRegisteredModel("old", "taken", kNow + 1);
  EXPECT_EQ(taken.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(taken.message(), "Registered Model (name=taken) already exists.");
  EXPECT_EQ(reg().RenameRegisteredModel("nope", "x", kNow).code(), StatusCode::kNotFound);

  ASSERT_TRUE(IsOk(reg().RenameRegisteredModel("old", "new", kNow + 5)));
  EXPECT_EQ(reg().GetRegisteredModel("old").status().code(), StatusCode::kNotFound);
  auto m = reg().GetRegisteredModel("new");
  ASSERT_TRUE(IsOk(m));
  EXPECT_EQ(m->last_updated_timestamp, kNow + 5);
  ASSERT_EQ(m->tags.size(), 1u);
  ASSERT_EQ(m->aliases.size(), 1u);
  EXPECT_EQ(m->aliases[0].alias, "prod");
  auto v = reg().GetModelVersion("new", v1);
  ASSERT_TRUE(IsOk(v));
  EXPECT_EQ(v->name, "new");
  EXPECT_EQ(v->last_updated_timestamp, kNow + 5);
  EXPECT_THAT(v->aliases, ElementsAre("prod"));
  // The next version continues the numbering.
  EXPECT_EQ(AddVersion("new"), v1 + 1);
}

TEST_P(RegistryStoreTest, UpdatesAndClearsTheDescription) {
  CreateModel("m");
  ASSERT_TRUE(IsOk(reg().UpdateRegisteredModel("m", "text", kNow + 1)));
  auto m = reg().GetRegisteredModel("m");
  ASSERT_TRUE(IsOk(m));
  EXPECT_EQ(m->description, "text");
  EXPECT_EQ(m->last_updated_timestamp, kNow + 1);
  ASSERT_TRUE(IsOk(reg().UpdateRegisteredModel("m", std::nullopt, kNow + 2)));
  EXPECT_EQ(reg().GetRegisteredModel("m")->description, "");
  EXPECT_EQ(reg().UpdateRegisteredModel("nope", "x", kNow).code(), StatusCode::kNotFound);
}

TEST_P(RegistryStoreTest, DeleteRemovesEverythingAndFreesTheName) {
  CreateModel("m", {{"k", "v"}});
  int64_t v1 = AddVersion("m");
  ASSERT_TRUE(IsOk(reg().SetModelVersionTag("m", v1, {"t", "1"})));
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelAlias("m", "prod", v1, Change())));
  ASSERT_TRUE(IsOk(reg().DeleteRegisteredModel("m")));
  EXPECT_EQ(reg().GetRegisteredModel("m").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reg().DeleteRegisteredModel("m").code(), StatusCode::kNotFound);

  // A new model of the same name starts from scratch.
  CreateModel("m");
  EXPECT_EQ(AddVersion("m"), 1);
  auto v = reg().GetModelVersion("m", 1);
  ASSERT_TRUE(IsOk(v));
  EXPECT_THAT(v->tags, IsEmpty());
  EXPECT_THAT(v->aliases, IsEmpty());
  auto history = reg().ListAliasHistory("m", "");
  ASSERT_TRUE(IsOk(history));
  EXPECT_THAT(*history, IsEmpty());
}

TEST_P(RegistryStoreTest, RegisteredModelTags) {
  CreateModel("m");
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelTag("m", {"a", "1"})));
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelTag("m", {"a", "2"})));
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelTag("m", {"b", ""})));
  auto m = reg().GetRegisteredModel("m");
  ASSERT_TRUE(IsOk(m));
  ASSERT_EQ(m->tags.size(), 2u);
  EXPECT_EQ(m->tags[0].value, "2");
  EXPECT_EQ(m->tags[1].value, "");
  ASSERT_TRUE(IsOk(reg().DeleteRegisteredModelTag("m", "a")));
  ASSERT_TRUE(IsOk(reg().DeleteRegisteredModelTag("m", "never-set")));  // MLflow: no error
  EXPECT_EQ(reg().GetRegisteredModel("m")->tags.size(), 1u);
  EXPECT_EQ(reg().SetRegisteredModelTag("nope", {"a", "1"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(reg().DeleteRegisteredModelTag("nope", "a").code(), StatusCode::kNotFound);
}

// ------------------------------------------------------------------ model versions

TEST_P(RegistryStoreTest, VersionsAreNumberedAndNumbersAreNeverReused) {
  CreateModel("m");
  ModelVersion v = NewVersion("m", "runs:/r1/model", "r1", kNow + 3);
  v.tags = {{"x", "1"}, {"x", "2"}};
  v.run_link = "http://link";
  v.storage_location = "s3://b/resolved";
  v.model_id = "m-abc";
  auto first = reg().CreateModelVersion(v);
  ASSERT_TRUE(IsOk(first));
  EXPECT_EQ(first->version, 1);
  EXPECT_EQ(first->name, "m");
  EXPECT_EQ(first->current_stage, "None");
  EXPECT_EQ(first->status, "READY");
  EXPECT_EQ(first->source, "runs:/r1/model");
  EXPECT_EQ(first->storage_location, "s3://b/resolved");
  EXPECT_EQ(first->run_id, "r1");
  EXPECT_EQ(first->run_link, "http://link");
  EXPECT_EQ(first->model_id, "m-abc");
  ASSERT_TRUE(first->description.has_value());
  EXPECT_EQ(*first->description, "");
  ASSERT_EQ(first->tags.size(), 1u);
  EXPECT_EQ(first->tags[0].value, "2");
  EXPECT_EQ(reg().GetRegisteredModel("m")->last_updated_timestamp, kNow + 3);

  EXPECT_EQ(AddVersion("m"), 2);
  EXPECT_EQ(AddVersion("m"), 3);
  ASSERT_TRUE(IsOk(reg().DeleteModelVersion("m", 3, Change("version_deleted"))));
  EXPECT_EQ(AddVersion("m"), 4);  // 3 stays retired, as in MLflow

  auto missing = reg().CreateModelVersion(NewVersion("nope", "s3://x"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Registered Model with name=nope not found");
  auto gone = reg().GetModelVersion("m", 3);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message(), "Model Version (name=m, version=3) not found");
  EXPECT_EQ(reg().GetModelVersion("nope", 1).status().message(),
            "Model Version (name=nope, version=1) not found");
}

// Registrations racing on one model, from several threads and (on PostgreSQL) from two store
// instances standing for two replicas: every version number is given out exactly once.
TEST_P(RegistryStoreTest, ConcurrentRegistrationsNeverShareANumber) {
  CreateModel("hot");
  std::unique_ptr<MetadataStore> replica = GetParam() == "postgres" ? Open() : nullptr;
  constexpr int kThreads = 6;
  constexpr int kPerThread = 15;
  std::vector<std::vector<int64_t>> got(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      RegistryStore& target = (replica && t % 2 == 1) ? replica->registry() : reg();
      for (int i = 0; i < kPerThread; ++i) {
        auto v = target.CreateModelVersion(
            NewVersion("hot", "s3://b/" + std::to_string(t), "", kNow + t * 1000 + i));
        if (v.ok()) {
          got[static_cast<size_t>(t)].push_back(v->version);
        } else {
          ++failures;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<int64_t> all;
  size_t count = 0;
  for (const auto& list : got) {
    all.insert(list.begin(), list.end());
    count += list.size();
  }
  EXPECT_EQ(all.size(), count) << "a version number was given out twice";
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kThreads * kPerThread);
}

TEST_P(RegistryStoreTest, UpdatesAVersionDescription) {
  CreateModel("m");
  AddVersion("m");
  ASSERT_TRUE(IsOk(reg().UpdateModelVersion("m", 1, "better", kNow + 9)));
  auto v = reg().GetModelVersion("m", 1);
  ASSERT_TRUE(IsOk(v));
  EXPECT_EQ(v->description.value_or("<unset>"), "better");
  EXPECT_EQ(v->last_updated_timestamp, kNow + 9);
  ASSERT_TRUE(IsOk(reg().UpdateModelVersion("m", 1, std::nullopt, kNow + 10)));
  EXPECT_FALSE(reg().GetModelVersion("m", 1)->description.has_value());
  EXPECT_EQ(reg().UpdateModelVersion("m", 7, "x", kNow).code(), StatusCode::kNotFound);
}

TEST_P(RegistryStoreTest, StageTransitionsAndLatestVersionPerStage) {
  CreateModel("m");
  for (int i = 0; i < 4; ++i) AddVersion("m");
  ASSERT_TRUE(IsOk(reg().TransitionModelVersionStage("m", 1, "Production", false, kNow + 1)));
  ASSERT_TRUE(IsOk(reg().TransitionModelVersionStage("m", 2, "Production", false, kNow + 2)));
  ASSERT_TRUE(IsOk(reg().TransitionModelVersionStage("m", 3, "Staging", false, kNow + 3)));
  auto m = reg().GetRegisteredModel("m");
  ASSERT_TRUE(IsOk(m));
  EXPECT_EQ(m->last_updated_timestamp, kNow + 3);
  std::vector<std::pair<int64_t, std::string>> latest;
  for (const ModelVersion& v : m->latest_versions) latest.emplace_back(v.version, v.current_stage);
  EXPECT_THAT(latest, ElementsAre(std::pair<int64_t, std::string>{2, "Production"},
                                  std::pair<int64_t, std::string>{3, "Staging"},
                                  std::pair<int64_t, std::string>{4, "None"}));

  // Archiving the others of the target stage.
  ASSERT_TRUE(IsOk(reg().TransitionModelVersionStage("m", 4, "Production", true, kNow + 4)));
  EXPECT_EQ(reg().GetModelVersion("m", 1)->current_stage, "Archived");
  EXPECT_EQ(reg().GetModelVersion("m", 2)->current_stage, "Archived");
  EXPECT_EQ(reg().GetModelVersion("m", 2)->last_updated_timestamp, kNow + 4);
  EXPECT_EQ(reg().GetModelVersion("m", 3)->current_stage, "Staging");
  EXPECT_EQ(reg().GetModelVersion("m", 4)->current_stage, "Production");
  EXPECT_EQ(reg().TransitionModelVersionStage("m", 9, "Staging", false, kNow).code(),
            StatusCode::kNotFound);
}

TEST_P(RegistryStoreTest, VersionTags) {
  CreateModel("m");
  AddVersion("m");
  ASSERT_TRUE(IsOk(reg().SetModelVersionTag("m", 1, {"k", "v"})));
  ASSERT_TRUE(IsOk(reg().SetModelVersionTag("m", 1, {"k", "w"})));
  ASSERT_TRUE(IsOk(reg().SetModelVersionTag("m", 1, {"long", std::string(100000, 'x')})));
  auto v = reg().GetModelVersion("m", 1);
  ASSERT_TRUE(IsOk(v));
  ASSERT_EQ(v->tags.size(), 2u);
  EXPECT_EQ(v->tags[0].value, "w");
  EXPECT_EQ(v->tags[1].value.size(), 100000u);
  ASSERT_TRUE(IsOk(reg().DeleteModelVersionTag("m", 1, "k")));
  ASSERT_TRUE(IsOk(reg().DeleteModelVersionTag("m", 1, "absent")));
  EXPECT_EQ(reg().GetModelVersion("m", 1)->tags.size(), 1u);
  EXPECT_EQ(reg().SetModelVersionTag("m", 2, {"k", "v"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(reg().DeleteModelVersionTag("nope", 1, "k").code(), StatusCode::kNotFound);
}

// ------------------------------------------------------------------ search

TEST_P(RegistryStoreTest, SearchesRegisteredModels) {
  CreateModel("alpha", {{"team", "red"}});
  CreateModel("beta", {{"team", "blue"}});
  CreateModel("Gamma", {{"team", "red"}});
  CreateModel("prompt", {{"mlflow.prompt.is_prompt", "true"}});
  AddVersion("beta", "s3://x", "", kNow + 50);  // beta is the most recently updated

  RegisteredModelSearch all;
  auto page = reg().SearchRegisteredModels(all);
  ASSERT_TRUE(IsOk(page));
  EXPECT_THAT(Names(*page), ElementsAre("Gamma", "alpha", "beta"));  // name ASC, no prompts
  EXPECT_FALSE(page->has_more);
  ASSERT_EQ(page->models[2].latest_versions.size(), 1u);

  RegisteredModelSearch red;
  red.filter.clauses = {Clause(EntityKind::kTag, "team", Comparator::kEq, "red")};
  EXPECT_THAT(Names(*reg().SearchRegisteredModels(red)), ElementsAre("Gamma", "alpha"));

  RegisteredModelSearch like;
  like.filter.clauses = {Clause(EntityKind::kAttribute, "name", Comparator::kLike, "%a")};
  EXPECT_THAT(Names(*reg().SearchRegisteredModels(like)), ElementsAre("Gamma", "alpha", "beta"));
  like.filter.clauses[0].string_value = "%A";  // LIKE is case-sensitive on both backends
  EXPECT_THAT(Names(*reg().SearchRegisteredModels(like)), IsEmpty());
  like.filter.clauses[0].comparator = Comparator::kILike;
  EXPECT_THAT(Names(*reg().SearchRegisteredModels(like)), ElementsAre("Gamma", "alpha", "beta"));

  RegisteredModelSearch in;
  FilterClause list = Clause(EntityKind::kAttribute, "name", Comparator::kIn, "");
  list.string_list = {"beta", "alpha", "zeta"};
  in.filter.clauses = {list};
  EXPECT_THAT(Names(*reg().SearchRegisteredModels(in)), ElementsAre("alpha", "beta"));

  RegisteredModelSearch recent;
  recent.order_by = {{EntityKind::kAttribute, "last_updated_timestamp", false}};
  EXPECT_THAT(Names(*reg().SearchRegisteredModels(recent)), ElementsAre("beta", "Gamma", "alpha"));

  RegisteredModelSearch paged;
  paged.max_results = 2;
  auto first = reg().SearchRegisteredModels(paged);
  ASSERT_TRUE(IsOk(first));
  EXPECT_THAT(Names(*first), ElementsAre("Gamma", "alpha"));
  EXPECT_TRUE(first->has_more);
  paged.offset = 2;
  auto second = reg().SearchRegisteredModels(paged);
  EXPECT_THAT(Names(*second), ElementsAre("beta"));
  EXPECT_FALSE(second->has_more);

  RegisteredModelSearch prompts;
  prompts.include_prompts = true;
  prompts.filter.clauses = {
      Clause(EntityKind::kTag, "mlflow.prompt.is_prompt", Comparator::kEq, "true")};
  EXPECT_THAT(Names(*reg().SearchRegisteredModels(prompts)), ElementsAre("prompt"));
}

TEST_P(RegistryStoreTest, SearchesModelVersions) {
  CreateModel("a");
  CreateModel("b");
  AddVersion("a", "s3://x/1", "run1", kNow + 1);
  AddVersion("a", "s3://x/2", "run2", kNow + 2);
  AddVersion("b", "s3://y/1", "run1", kNow + 3);
  ASSERT_TRUE(IsOk(reg().SetModelVersionTag("a", 2, {"kind", "good"})));
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelAlias("a", "prod", 2, Change())));

  ModelVersionSearch by_name;
  by_name.filter.clauses = {Clause(EntityKind::kAttribute, "name", Comparator::kEq, "a")};
  auto page = reg().SearchModelVersions(by_name);
  ASSERT_TRUE(IsOk(page));
  EXPECT_THAT(Versions(*page), ElementsAre(2, 1));  // name ASC, version DESC
  ASSERT_EQ(page->versions[0].tags.size(), 1u);
  EXPECT_THAT(page->versions[0].aliases, IsEmpty());  // MLflow's search leaves them out

  ModelVersionSearch by_run;
  by_run.filter.clauses = {Clause(EntityKind::kAttribute, "run_id", Comparator::kEq, "run1")};
  auto runs = reg().SearchModelVersions(by_run);
  ASSERT_TRUE(IsOk(runs));
  ASSERT_EQ(runs->versions.size(), 2u);
  EXPECT_EQ(runs->versions[0].name, "a");
  EXPECT_EQ(runs->versions[1].name, "b");

  ModelVersionSearch by_tag;
  by_tag.filter.clauses = {Clause(EntityKind::kTag, "kind", Comparator::kEq, "good")};
  EXPECT_THAT(Versions(*reg().SearchModelVersions(by_tag)), ElementsAre(2));

  ModelVersionSearch numeric;
  numeric.filter.clauses = {NumberClause("version_number", Comparator::kGe, 2)};
  EXPECT_THAT(Versions(*reg().SearchModelVersions(numeric)), ElementsAre(2));

  ModelVersionSearch source;
  source.filter.clauses = {
      Clause(EntityKind::kAttribute, "source_path", Comparator::kLike, "s3://x/%")};
  EXPECT_THAT(Versions(*reg().SearchModelVersions(source)), ElementsAre(2, 1));

  ModelVersionSearch ordered;
  ordered.order_by = {{EntityKind::kAttribute, "creation_timestamp", true}};
  ordered.max_results = 2;
  auto first = reg().SearchModelVersions(ordered);
  ASSERT_TRUE(IsOk(first));
  EXPECT_THAT(Versions(*first), ElementsAre(1, 2));
  EXPECT_TRUE(first->has_more);
}

// ------------------------------------------------------------------ aliases and their history

TEST_P(RegistryStoreTest, AliasesPointAtVersionsAndKeepTheirHistory) {
  CreateModel("m");
  for (int i = 0; i < 3; ++i) AddVersion("m");
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelAlias("m", "prod", 1, Change("set", kNow + 1))));
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelAlias("m", "prod", 2, Change("promote", kNow + 2))));
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelAlias("m", "prod", 2, Change("set", kNow + 3))));
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelAlias("m", "canary", 3, Change("set", kNow + 4))));

  auto held = reg().GetModelVersionByAlias("m", "prod");
  ASSERT_TRUE(IsOk(held));
  EXPECT_EQ(held->version, 2);
  EXPECT_THAT(held->aliases, ElementsAre("prod"));
  auto m = reg().GetRegisteredModel("m");
  ASSERT_TRUE(IsOk(m));
  ASSERT_EQ(m->aliases.size(), 2u);
  EXPECT_EQ(m->aliases[0].alias, "canary");
  EXPECT_EQ(m->aliases[1].version, 2);

  auto missing = reg().GetModelVersionByAlias("m", "nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(), "Registered model alias nope not found.");
  EXPECT_EQ(reg().GetModelVersionByAlias("x", "prod").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reg().SetRegisteredModelAlias("m", "prod", 9, Change()).code(), StatusCode::kNotFound);

  // Deleting a version removes its aliases, and the history says why.
  ASSERT_TRUE(IsOk(reg().DeleteModelVersion("m", 3, Change("version_deleted", kNow + 5))));
  ASSERT_TRUE(IsOk(reg().DeleteRegisteredModelAlias("m", "prod", Change("delete", kNow + 6))));
  ASSERT_TRUE(IsOk(reg().DeleteRegisteredModelAlias("m", "prod", Change("delete", kNow + 7))));
  EXPECT_THAT(reg().GetRegisteredModel("m")->aliases, IsEmpty());

  auto history = reg().ListAliasHistory("m", "prod");
  ASSERT_TRUE(IsOk(history));
  ASSERT_EQ(history->size(), 3u);  // the no-op set and the second delete are not moves
  const AliasEvent& first = (*history)[0];
  EXPECT_EQ(first.version, 1);
  EXPECT_FALSE(first.previous_version.has_value());
  EXPECT_EQ(first.action, "set");
  EXPECT_EQ(first.user_id, "alice");
  EXPECT_EQ(first.timestamp, kNow + 1);
  EXPECT_EQ((*history)[1].version, 2);
  EXPECT_EQ((*history)[1].previous_version, 1);
  EXPECT_EQ((*history)[1].action, "promote");
  EXPECT_FALSE((*history)[2].version.has_value());
  EXPECT_EQ((*history)[2].previous_version, 2);
  EXPECT_EQ((*history)[2].action, "delete");
  EXPECT_LT((*history)[0].event_id, (*history)[1].event_id);

  auto everything = reg().ListAliasHistory("m", "");
  ASSERT_TRUE(IsOk(everything));
  ASSERT_EQ(everything->size(), 5u);
  EXPECT_EQ((*everything)[3].alias, "canary");
  EXPECT_EQ((*everything)[3].action, "version_deleted");
  EXPECT_EQ((*everything)[3].previous_version, 3);
  EXPECT_EQ(reg().ListAliasHistory("nope", "").status().code(), StatusCode::kNotFound);
}

TEST_P(RegistryStoreTest, CompareAndSetRefusesAnAliasThatMoved) {
  CreateModel("m");
  for (int i = 0; i < 3; ++i) AddVersion("m");
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelAlias("m", "prod", 2, Change())));
  Status stale = reg().SetRegisteredModelAlias("m", "prod", 1, Change("rollback", kNow, 3));
  EXPECT_EQ(stale.code(), StatusCode::kConflict);
  EXPECT_THAT(stale.message(), HasSubstr("version 2"));
  EXPECT_EQ(reg().GetModelVersionByAlias("m", "prod")->version, 2);
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelAlias("m", "prod", 1, Change("rollback", kNow, 2))));
  EXPECT_EQ(reg().GetModelVersionByAlias("m", "prod")->version, 1);
  // 0 expects the alias to be unset.
  EXPECT_EQ(reg().SetRegisteredModelAlias("m", "new", 1, Change("set", kNow, 0)).code(),
            StatusCode::kOk);
  EXPECT_EQ(reg().DeleteRegisteredModelAlias("m", "new", Change("delete", kNow, 3)).code(),
            StatusCode::kConflict);
}

TEST_P(RegistryStoreTest, RegistrySurvivesReopen) {
  CreateModel("kept", {{"k", "v"}});
  AddVersion("kept");
  ASSERT_TRUE(IsOk(reg().SetRegisteredModelAlias("kept", "prod", 1, Change())));
  store_.reset();
  store_ = Open();
  ASSERT_NE(store_, nullptr);
  auto m = reg().GetRegisteredModel("kept");
  ASSERT_TRUE(IsOk(m));
  EXPECT_EQ(m->tags.size(), 1u);
  EXPECT_EQ(m->latest_versions.size(), 1u);
  EXPECT_EQ(m->aliases.size(), 1u);
  EXPECT_EQ(AddVersion("kept"), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace store
}  // namespace plinth
