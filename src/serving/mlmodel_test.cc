#include "serving/mlmodel.h"

#include <gtest/gtest.h>

#include "serving/test_models.h"

namespace plinth::serving {
namespace {

// An MLmodel file as mlflow 3.17 writes it for mlflow.xgboost.save_model with a signature.
constexpr const char* kSignature =
    "signature:\n"
    "  inputs: '[{\"type\": \"float\", \"name\": \"a\", \"required\": true}, {\"type\": \"double\","
    " \"name\":\n"
    "    \"b\", \"required\": false}, {\"type\": \"long\", \"name\": \"c\", \"required\": true}]'\n"
    "  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"int64\", \"shape\": "
    "[-1]}}]'\n"
    "  params: null\n";

TEST(MlModelTest, ParsesFlavorsSignatureAndProvenance) {
  auto file = ParseMlModel(
      testing::MlModelText("model.ubj", "xgboost.sklearn.XGBClassifier", "ubj", kSignature));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(file->has_flavor("xgboost"));
  EXPECT_TRUE(file->has_flavor("python_function"));
  EXPECT_EQ(file->FlavorField("xgboost", "data"), "model.ubj");
  EXPECT_EQ(file->FlavorField("xgboost", "model_class"), "xgboost.sklearn.XGBClassifier");
  EXPECT_EQ(file->FlavorField("xgboost", "model_format"), "ubj");
  EXPECT_EQ(file->FlavorField("xgboost", "xgb_version"), "3.2.0");
  EXPECT_EQ(file->FlavorField("xgboost", "code"), "");  // null is left out
  EXPECT_EQ(file->FlavorField("python_function", "loader_module"), "mlflow.xgboost");
  EXPECT_EQ(file->FlavorField("onnx", "data"), "");
  EXPECT_EQ(file->mlflow_version, "3.17.2");
  EXPECT_EQ(file->model_uuid, "6387534f56514ee3a6ce45e403732ca4");

  const Signature& sig = file->signature;
  ASSERT_TRUE(sig.present());
  ASSERT_EQ(sig.inputs.size(), 3u);
  EXPECT_EQ(sig.inputs[0].name, "a");
  EXPECT_EQ(sig.inputs[0].type, DataType::kFloat);
  EXPECT_TRUE(sig.inputs[0].required);
  EXPECT_EQ(sig.inputs[1].type, DataType::kDouble);
  EXPECT_FALSE(sig.inputs[1].required);
  EXPECT_EQ(sig.inputs[2].type, DataType::kLong);
  EXPECT_FALSE(sig.input_tensor.has_value());
  EXPECT_TRUE(sig.outputs.empty());
  ASSERT_TRUE(sig.output_tensor.has_value());
  EXPECT_EQ(sig.output_tensor->dtype, "int64");
  EXPECT_EQ(sig.output_tensor->shape, std::vector<int64_t>{-1});
}

TEST(MlModelTest, TensorInputSignature) {
  auto sig = ParseSignature(
      R"([{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 30]}}])",
      R"([{"type": "double", "name": "score"}])");
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(sig->present());
  EXPECT_TRUE(sig->inputs.empty());
  ASSERT_TRUE(sig->input_tensor.has_value());
  EXPECT_EQ(sig->input_tensor->dtype, "float32");
  EXPECT_EQ(sig->input_tensor->shape, (std::vector<int64_t>{-1, 30}));
  ASSERT_EQ(sig->outputs.size(), 1u);
  EXPECT_EQ(sig->outputs[0].name, "score");
}

TEST(MlModelTest, NoSignature) {
  auto file = ParseMlModel(
      testing::MlModelText("model.json", "xgboost.core.Booster", "json", "signature: null\n"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_FALSE(file->signature.present());
}

TEST(MlModelTest, DataTypeNamesRoundTrip) {
  for (DataType type :
       {DataType::kBoolean, DataType::kInteger, DataType::kLong, DataType::kFloat,
        DataType::kDouble, DataType::kString, DataType::kBinary, DataType::kDatetime}) {
    EXPECT_EQ(ParseDataType(DataTypeName(type)), type);
  }
  EXPECT_FALSE(ParseDataType("tensor").has_value());
}

TEST(MlModelTest, ErrorsNameTheProblem) {
  struct Case {
    std::string text;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"flavors: [unterminated", "MLmodel"},
      {"just a string", "not a YAML mapping"},
      {"mlflow_version: 3.17.2\n", "no `flavors` mapping"},
      {"flavors: 7\n", "no `flavors` mapping"},
      {"flavors:\n  xgboost:\n    data: m.json\nsignature: 5\n", "`signature` is not a mapping"},
      {"flavors:\n  xgboost:\n    data: m.json\nsignature:\n  inputs: 'not json'\n",
       "signature inputs is not a JSON list"},
      {"flavors:\n  xgboost:\n    data: m.json\nsignature:\n  inputs: '[{\"name\": \"a\"}]'\n",
       "signature inputs [0] has no `type`"},
      {"flavors:\n  xgboost:\n    data: m.json\nsignature:\n  inputs: '[{\"type\": \"uuid\"}]'\n",
       "unsupported column type `uuid`"},
      {"flavors:\n  xgboost:\n    data: m.json\nsignature:\n  outputs: '[{\"type\": "
       "\"tensor\"}]'\n",
       "signature outputs [0] is a tensor without `tensor-spec`"},
  };
  for (const Case& c : cases) {
    auto file = ParseMlModel(c.text);
    ASSERT_FALSE(file.ok()) << c.text;
    EXPECT_EQ(file.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(file.status().message().find(c.message_part), std::string::npos)
        << c.text << " -> " << file.status().message();
  }
}

}  // namespace
}  // namespace plinth::serving
