#include "serving/server/request_parser.h"

#include <gtest/gtest.h>

#include <cmath>

namespace plinth::serving {
namespace {

ModelInfo ThreeFeatures() {
  ModelInfo info;
  info.feature_names = {"a", "b", "c"};
  info.num_features = 3;
  info.signature.inputs = {{"a", DataType::kDouble, true},
                           {"b", DataType::kLong, true},
                           {"c", DataType::kDouble, false}};
  return info;
}

Status Parse(const std::string& body, ParsedInput* out,
             std::string_view content_type = "application/json") {
  static const InputLayout layout(ThreeFeatures());
  std::string copy = body;
  return ParseInvocation(content_type, copy, layout, out);
}

std::vector<float> Row(const ParsedInput& in, size_t r) {
  return {in.values.begin() + r * 3, in.values.begin() + r * 3 + 3};
}

TEST(RequestParser, DataframeSplitReordersByName) {
  ParsedInput in;
  ASSERT_TRUE(Parse(R"({"dataframe_split": {"columns": ["c", "a", "b", "extra"],
                        "data": [[3.5, 1.5, 2, "x"], [null, 4, 5, "y"]]}})",
                    &in)
                  .ok());
  ASSERT_EQ(in.rows, 2u);
  EXPECT_EQ(Row(in, 0), (std::vector<float>{1.5f, 2, 3.5f}));
  EXPECT_EQ(in.values[3], 4);
  EXPECT_TRUE(std::isnan(in.values[5]));  // null → missing
}

TEST(RequestParser, RecordsInstancesInputsAndColumns) {
  ParsedInput in;
  ASSERT_TRUE(
      Parse(R"({"dataframe_records": [{"a": 1, "b": 2, "c": 3}, {"b": 5, "a": 4}]})", &in).ok());
  EXPECT_EQ(Row(in, 0), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(in.values[3], 4);
  EXPECT_TRUE(std::isnan(in.values[5]));
  ASSERT_TRUE(Parse(R"({"instances": [[1, 2, 3], [4, 5, 6]]})", &in).ok());
  EXPECT_EQ(Row(in, 1), (std::vector<float>{4, 5, 6}));
  ASSERT_TRUE(Parse(R"({"inputs": {"a": [1, 2], "b": [3, 4], "c": [5, 6]}})", &in).ok());
  EXPECT_EQ(Row(in, 1), (std::vector<float>{2, 4, 6}));
  ASSERT_TRUE(Parse(R"({"inputs": [{"a": 1, "b": 2, "c": 3}]})", &in).ok());
  EXPECT_EQ(in.rows, 1u);
}

TEST(RequestParser, ParamsSelectMargins) {
  ParsedInput in;
  ASSERT_TRUE(Parse(R"({"instances": [[1, 2, 3]], "params": {"output_margin": true}})", &in).ok());
  EXPECT_TRUE(in.params.output_margin);
  EXPECT_FALSE(
      Parse(R"({"instances": [[1, 2, 3]], "params": {"predict_method": "nope"}})", &in).ok());
}

TEST(RequestParser, ErrorsNameTheColumnOrField) {
  ParsedInput in;
  Status s = Parse(R"({"dataframe_split": {"columns": ["a", "c"], "data": [[1, 2]]}})", &in);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Model is missing inputs ['b']"), std::string::npos) << s.message();

  s = Parse(R"({"dataframe_records": [{"a": "high", "b": 1}]})", &in);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("column 'a'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("string"), std::string::npos);

  s = Parse(R"({"dataframe_records": [{"a": 1, "b": 1.5}]})", &in);
  EXPECT_NE(s.message().find("column 'b'"), std::string::npos) << s.message();

  s = Parse(R"({"instances": [[1, 2, 3], [1, 2]]})", &in);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("row 1 has 2 values"), std::string::npos) << s.message();

  s = Parse(R"({"data": [[1, 2, 3]]})", &in);
  EXPECT_EQ(s.code(), StatusCode::kBadRequest);
  EXPECT_NE(s.message().find("exactly one of the input fields"), std::string::npos);
  s = Parse(R"({"instances": [[1,2,3]], "inputs": [[1,2,3]]})", &in);
  EXPECT_EQ(s.code(), StatusCode::kBadRequest);
  s = Parse(R"([1, 2, 3])", &in);
  EXPECT_EQ(s.code(), StatusCode::kBadRequest);
  s = Parse(R"({"instances": [[1, 2, 3]])", &in);
  EXPECT_EQ(s.code(), StatusCode::kBadRequest);
  EXPECT_NE(s.message().find("valid JSON"), std::string::npos);
}

TEST(RequestParser, CsvAndMediaTypes) {
  ParsedInput in;
  ASSERT_TRUE(Parse("b,a,c\n2,1,\n5,4,6\n", &in, "text/csv").ok());
  ASSERT_EQ(in.rows, 2u);
  EXPECT_EQ(in.values[0], 1);
  EXPECT_TRUE(std::isnan(in.values[2]));
  Status s = Parse("a,b,c\n1,x,3\n", &in, "text/csv; charset=utf-8");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("column 'b'"), std::string::npos);
  EXPECT_EQ(Parse("a,b,c\n1,2\n", &in, "text/csv").code(), StatusCode::kBadRequest);
  EXPECT_EQ(Parse("{}", &in, "application/xml").code(), StatusCode::kUnimplemented);
  EXPECT_EQ(Parse("{}", &in, "application/json; charset=latin-1").code(),
            StatusCode::kUnimplemented);
}

TEST(RequestParser, OipTensorAndPerFeatureInputs) {
  InputLayout layout(ThreeFeatures());
  ParsedInput in;
  std::string tensor = R"({"id": "r1", "inputs": [{"name": "input-0", "shape": [2, 3],
      "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]}]})";
  ASSERT_TRUE(ParseOipInfer(tensor, layout, &in).ok());
  EXPECT_EQ(in.rows, 2u);
  EXPECT_EQ(in.oip_id, "r1");
  EXPECT_EQ(Row(in, 1), (std::vector<float>{4, 5, 6}));

  std::string nested = R"({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64",
      "data": [[7, 8, 9]]}]})";
  ASSERT_TRUE(ParseOipInfer(nested, layout, &in).ok());
  EXPECT_EQ(Row(in, 0), (std::vector<float>{7, 8, 9}));

  std::string columns = R"({"inputs": [
      {"name": "c", "shape": [2], "datatype": "FP32", "data": [3, 6]},
      {"name": "a", "shape": [2, 1], "datatype": "FP32", "data": [1, 4]},
      {"name": "b", "shape": [2], "datatype": "INT64", "data": [2, 5]}]})";
  ASSERT_TRUE(ParseOipInfer(columns, layout, &in).ok());
  EXPECT_EQ(Row(in, 1), (std::vector<float>{4, 5, 6}));
}

TEST(RequestParser, OipErrors) {
  InputLayout layout(ThreeFeatures());
  ParsedInput in;
  auto parse = [&](std::string body) { return ParseOipInfer(body, layout, &in); };
  Status s = parse(R"({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32",
      "data": [1, 2, 3, 4]}]})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[1, 4]"), std::string::npos) << s.message();
  s = parse(R"({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32",
      "data": [1, 2]}]})");
  EXPECT_NE(s.message().find("holds 3 values but 'data' has 2"), std::string::npos) << s.message();
  s = parse(R"({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "BYTES",
      "data": ["a", "b", "c"]}]})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = parse(R"({"inputs": [{"name": "zz", "shape": [1], "datatype": "FP32", "data": [1]}]})");
  EXPECT_NE(s.message().find("unknown input 'zz'"), std::string::npos) << s.message();
  s = parse(R"({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": [1]}]})");
  EXPECT_NE(s.message().find("missing inputs ['b']"), std::string::npos) << s.message();
  EXPECT_EQ(parse(R"({"inputs": []})").code(), StatusCode::kBadRequest);
  EXPECT_EQ(parse(R"({"outputs": []})").code(), StatusCode::kBadRequest);
  EXPECT_EQ(parse(R"(nope)").code(), StatusCode::kBadRequest);
  EXPECT_EQ(parse(R"({"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]})").code(),
            StatusCode::kBadRequest);
}

TEST(RequestParser, WritesMlflowAndOipResponses) {
  Predictions p;
  p.rows = 2;
  p.values = {0.25, 0.75};
  EXPECT_EQ(WriteMlflowPredictions(p), R"({"predictions":[0.25,0.75]})");
  p.width = 2;
  p.rows = 1;
  EXPECT_EQ(WriteMlflowPredictions(p), R"({"predictions":[[0.25,0.75]]})");
  Predictions labels;
  labels.rows = 2;
  labels.integer = true;
  labels.values = {1, 0};
  EXPECT_EQ(WriteOipResponse(labels, "churn", "3", "r1"),
            R"({"model_name":"churn","model_version":"3","id":"r1","parameters":{},)"
            R"("outputs":[{"name":"predict","shape":[2],"datatype":"INT64","data":[1,0]}]})");
}

}  // namespace
}  // namespace plinth::serving
