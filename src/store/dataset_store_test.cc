// Conformance suite for DatasetStore (dataset_store.h) on SQLite and, when PLINTH_TEST_PG_DSN
// names a server, PostgreSQL: numbering per name, the same bytes added twice stored once, a
// changed file a new version, lookups, listings, and gap-free numbers under concurrent adds from
// several store instances (replicas).
#include "store/dataset_store.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "core/log.h"
#include "store/metadata_store.h"
#include "store/test_databases.h"

namespace plinth::store {
namespace {

constexpr int64_t kNow = 1700000000000;

class DatasetStoreTest : public ::testing::TestWithParam<std::string> {
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
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }
  static DatasetVersionRecord Version(const std::string& name, const std::string& digest) {
    DatasetVersionRecord r;
    r.name = name;
    r.digest = digest;
    r.size_bytes = 1234;
    r.source = "data/" + name + ".csv";
    r.storage_uri = "datasets/sha256/" + digest.substr(0, 2) + "/" + digest;
    r.format = "csv";
    r.num_rows = 10;
    r.num_columns = 3;
    r.schema_json = R"([{"name":"a","type":"int"}])";
    r.profile_json = R"({"columns":{}})";
    r.validation_success = true;
    r.validation_json = R"({"success":true})";
    r.user_id = "ana";
    return r;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<MetadataStore> store_;
};

TEST_P(DatasetStoreTest, SameBytesTwiceIsOneVersionAndAChangeIsANewOne) {
  DatasetStore& ds = store_->datasets();
  bool created = false;
  auto v1 = ds.AddDatasetVersion(Version("churn", std::string(64, 'a')), kNow, &created);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_TRUE(created);
  EXPECT_EQ(v1->version, 1);
  auto again = ds.AddDatasetVersion(Version("churn", std::string(64, 'a')), kNow + 1, &created);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(again->version, 1);
  EXPECT_EQ(again->creation_time, kNow);
  auto v2 = ds.AddDatasetVersion(Version("churn", std::string(64, 'b')), kNow + 2, &created);
  ASSERT_TRUE(v2.ok());
  EXPECT_TRUE(created);
  EXPECT_EQ(v2->version, 2);
  // Back to the first bytes: a new version (the latest differs), the bytes stored once.
  auto v3 = ds.AddDatasetVersion(Version("churn", std::string(64, 'a')), kNow + 3, &created);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->version, 3);

  auto latest = ds.GetDatasetVersion("churn", std::nullopt);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 3);
  EXPECT_EQ(latest->profile_json, R"({"columns":{}})");
  EXPECT_EQ(latest->validation_success, true);
  EXPECT_EQ(latest->num_rows, 10);
  auto second = ds.GetDatasetVersion("churn", 2);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->digest, std::string(64, 'b'));
  EXPECT_EQ(ds.GetDatasetVersion("churn", 9).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ds.GetDatasetVersion("nope", std::nullopt).status().code(), StatusCode::kNotFound);

  auto versions = ds.ListDatasetVersions("churn");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 3u);
  EXPECT_EQ((*versions)[0].version, 3);
  EXPECT_EQ((*versions)[0].profile_json, "");  // listings leave the large texts out
  ASSERT_TRUE(ds.AddDatasetVersion(Version("ads", std::string(64, 'c')), kNow, &created).ok());
  auto all = ds.ListDatasets();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "ads");
  EXPECT_EQ((*all)[1].latest_version, 3);
  EXPECT_EQ((*all)[1].versions, 3);

  auto where = ds.FindStorageByDigest(std::string(64, 'b'));
  ASSERT_TRUE(where.ok());
  ASSERT_TRUE(where->has_value());
  EXPECT_EQ(**where, "datasets/sha256/bb/" + std::string(64, 'b'));
  EXPECT_FALSE(ds.FindStorageByDigest(std::string(64, 'f'))->has_value());
  EXPECT_EQ(ds.AddDatasetVersion(Version("", "x"), kNow, &created).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(DatasetStoreTest, ConcurrentAddsFromReplicasGetDistinctNumbers) {
  std::vector<std::unique_ptr<MetadataStore>> replicas;
  for (int i = 0; i < 3; ++i) replicas.push_back(Open());
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<int64_t> numbers;
  int failures = 0;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        bool created = false;
        std::string digest(64, '0');
        digest[0] = static_cast<char>('a' + t);
        digest[1] = static_cast<char>('a' + i);
        auto v = replicas[t % 3]->datasets().AddDatasetVersion(Version("shared", digest), kNow,
                                                               &created);
        std::lock_guard lock(mu);
        if (!v.ok() || !created) {
          ++failures;
        } else {
          numbers.insert(v->version);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  ASSERT_EQ(numbers.size(), 30u);
  EXPECT_EQ(*numbers.begin(), 1);
  EXPECT_EQ(*numbers.rbegin(), 30);
}

INSTANTIATE_TEST_SUITE_P(Backends, DatasetStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace plinth::store
