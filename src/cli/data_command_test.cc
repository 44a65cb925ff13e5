// Tests of `plinth data` at the command level (RunCli): exit codes (0 pass, 1 failed
// validation, 2 usage or I/O), the JSON printed by validate, profile and drift, HTML files,
// and infer-suite drafting a suite that its own file passes.
#include "cli/data_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"

namespace plinth {
namespace {

using ::testing::HasSubstr;

class DataCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "plinth_data_cli_XXXXXX";
    char* made = mkdtemp(pattern.data());
    ASSERT_NE(made, nullptr);
    dir_ = made;
    Write("good.csv", "id,plan,score\n1,basic,0.5\n2,pro,0.7\n3,basic,0.2\n");
    Write("bad.csv", "id,plan,score\n1,basic,0.5\n2,gold,0.7\n2,basic,x\n4,pro\n");
    Write("suite.yaml",
          "name: s\nprimary_key: [id]\ncolumns:\n  - {name: id, type: int}\n"
          "  - {name: score, type: float}\nexpectations:\n"
          "  - expect_column_values_to_be_in_set: {column: plan, value_set: [basic, pro]}\n");
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name), std::ios::binary) << text;
  }
  std::string ReadFile(const std::string& name) const {
    std::ifstream in(Path(name), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }

  // Runs `plinth ARGS…`, capturing stdout and stderr.
  int Run(std::vector<std::string> args) {
    args.insert(args.begin(), "plinth");
    std::vector<char*> argv;
    for (std::string& a : args) {
      argv.push_back(a.data());
    }
    std::stringstream out, err;
    std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
    std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
    const int code = RunCli(static_cast<int>(argv.size()), argv.data());
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    out_ = out.str();
    err_ = err.str();
    return code;
  }

  std::string dir_;
  std::string out_;
  std::string err_;
};

TEST_F(DataCommandTest, ValidateExitCodes) {
  EXPECT_EQ(Run({"data", "validate", Path("good.csv"), "--suite", Path("suite.yaml")}), 0) << err_;
  EXPECT_TRUE(nlohmann::json::parse(out_)["success"].get<bool>());

  EXPECT_EQ(Run({"data", "validate", Path("bad.csv"), "--suite", Path("suite.yaml")}), 1);
  const auto json = nlohmann::json::parse(out_);
  EXPECT_FALSE(json["success"].get<bool>());
  EXPECT_EQ(json["results"][0]["result"]["partial_unexpected_rows"][0]["row"], 2);
  EXPECT_EQ(json["results"][0]["result"]["partial_unexpected_rows"][0]["line"], 3);
  std::set<std::string> kinds;
  for (const auto& v : json["schema"]["violations"]) {
    kinds.insert(v["kind"].get<std::string>());
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"type_mismatch", "duplicate_key", "malformed_row"}));
  EXPECT_THAT(err_, HasSubstr("validation failed"));

  EXPECT_EQ(Run({"data", "validate", Path("bad.csv"), "--suite", Path("suite.yaml"), "--format",
                 "html", "-o", Path("report.html")}),
            1);
  EXPECT_THAT(ReadFile("report.html"), HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(ReadFile("report.html"), HasSubstr("gold"));
}

TEST_F(DataCommandTest, UsageAndIoErrorsExitTwo) {
  EXPECT_EQ(Run({"data", "validate", Path("good.csv")}), 2);  // --suite missing
  EXPECT_EQ(Run({"data", "validate", Path("missing.csv"), "--suite", Path("suite.yaml")}), 2);
  EXPECT_THAT(err_, HasSubstr("missing.csv"));
  EXPECT_EQ(Run({"data", "validate", Path("good.csv"), "--suite", Path("nope.yaml")}), 2);
  Write("broken.yaml", "expectations:\n  - expect_magic: {column: a}\n");
  EXPECT_EQ(Run({"data", "validate", Path("good.csv"), "--suite", Path("broken.yaml")}), 2);
  EXPECT_THAT(err_, HasSubstr("unknown expectation 'expect_magic'"));
  EXPECT_EQ(
      Run({"data", "validate", Path("good.csv"), "--suite", Path("suite.yaml"), "--format", "xml"}),
      2);
  EXPECT_EQ(Run({"data", "drift", "--reference", Path("good.csv"), "--current", Path("good.csv"),
                 "--method", "magic"}),
            2);
  EXPECT_EQ(Run({"data", "drift", "--reference", Path("good.csv"), "--current", Path("good.csv"),
                 "--column-method", "plan"}),
            2);
  EXPECT_EQ(Run({"data", "profile", Path("good.csv"), "--delimiter", ";;"}), 2);
  EXPECT_EQ(Run({"data"}), 2);
}

TEST_F(DataCommandTest, ProfileAndInferSuite) {
  EXPECT_EQ(Run({"data", "profile", Path("good.csv")}), 0) << err_;
  const auto profile = nlohmann::json::parse(out_);
  EXPECT_EQ(profile["row_count"], 3);
  EXPECT_EQ(profile["columns"][2]["type"], "float");
  EXPECT_EQ(Run({"data", "infer-suite", Path("good.csv"), "-o", Path("drafted.yaml")}), 0) << err_;
  EXPECT_THAT(ReadFile("drafted.yaml"), HasSubstr("name: good"));
  EXPECT_EQ(Run({"data", "validate", Path("good.csv"), "--suite", Path("drafted.yaml")}), 0)
      << out_;
  EXPECT_EQ(Run({"data", "validate", Path("bad.csv"), "--suite", Path("drafted.yaml")}), 1);
}

TEST_F(DataCommandTest, DriftJsonAndHtml) {
  std::string ref = "x,c\n", cur = "x,c\n";
  for (int i = 0; i < 200; ++i) {
    ref += std::to_string(i % 50) + "," + (i % 3 ? "a" : "b") + "\n";
    cur += std::to_string(i % 50 + 30) + "," + (i % 3 ? "a" : "b") + "\n";
  }
  Write("ref.csv", ref);
  Write("cur.csv", cur);
  ASSERT_EQ(Run({"data", "drift", "--reference", Path("ref.csv"), "--current", Path("cur.csv"),
                 "--format", "json"}),
            0)
      << err_;
  const auto json = nlohmann::json::parse(out_);
  EXPECT_TRUE(json["columns"]["x"]["drifted"].get<bool>());
  EXPECT_EQ(json["columns"]["x"]["test"], "ks");
  EXPECT_FALSE(json["columns"]["c"]["drifted"].get<bool>());
  EXPECT_DOUBLE_EQ(json["drift_share"].get<double>(), 0.5);
  EXPECT_TRUE(json["dataset_drift"].get<bool>());  // 0.5 >= 0.5
  for (const char* key : {"test", "statistic", "p_value", "threshold", "drifted"}) {
    EXPECT_TRUE(json["columns"]["c"].contains(key)) << key;
  }
  EXPECT_EQ(Run({"data", "drift", "--reference", Path("ref.csv"), "--current", Path("cur.csv"),
                 "--fail-on-drift", "--column-method", "x=psi", "--column-threshold", "x=0.5"}),
            1);
  EXPECT_EQ(nlohmann::json::parse(out_)["columns"]["x"]["test"], "psi");
  EXPECT_EQ(nlohmann::json::parse(out_)["columns"]["x"]["threshold"], 0.5);
  ASSERT_EQ(Run({"data", "drift", "--reference", Path("ref.csv"), "--current", Path("cur.csv"),
                 "--format", "html", "-o", Path("drift.html")}),
            0);
  const std::string html = ReadFile("drift.html");
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<script")));
}

}  // namespace
}  // namespace plinth
