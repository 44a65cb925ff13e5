#include "core/status.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/json.h"
#include "core/result.h"

namespace plinth {
namespace {

TEST(StatusTest, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
}

TEST(StatusTest, CodeTableMapsToMlflow) {
  EXPECT_EQ(HttpStatusOf(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(MlflowErrorCodeOf(StatusCode::kInvalidArgument), "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(HttpStatusOf(StatusCode::kNotFound), 404);
  EXPECT_EQ(MlflowErrorCodeOf(StatusCode::kNotFound), "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(HttpStatusOf(StatusCode::kAlreadyExists), 400);
  EXPECT_EQ(MlflowErrorCodeOf(StatusCode::kAlreadyExists), "RESOURCE_ALREADY_EXISTS");
  EXPECT_EQ(HttpStatusOf(StatusCode::kEndpointNotFound), 404);
  EXPECT_EQ(HttpStatusOf(StatusCode::kInternal), 500);
  // A user error is never a 5xx: the MLflow client retries those for minutes.
  for (StatusCode c :
       {StatusCode::kInvalidArgument, StatusCode::kBadRequest, StatusCode::kFailedPrecondition,
        StatusCode::kAlreadyExists, StatusCode::kPayloadTooLarge}) {
    EXPECT_LT(HttpStatusOf(c), 500) << StatusCodeName(c);
  }
}

TEST(StatusTest, CopyKeepsCodeAndMessage) {
  Status a = NotFound("Run with id=x not found");
  Status b = a;
  EXPECT_EQ(b.code(), StatusCode::kNotFound);
  EXPECT_EQ(b.ToString(), "NOT_FOUND: Run with id=x not found");
}

Result<int> Half(int x) {
  if (x % 2 != 0) {
    return InvalidArgument("odd");
  }
  return x / 2;
}

Status UseHalf(int x, int* out) {
  PLINTH_ASSIGN_OR_RETURN(*out, Half(x));
  return Status::Ok();
}

TEST(ResultTest, ValueOrError) {
  int out = 0;
  EXPECT_TRUE(UseHalf(4, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = UseHalf(3, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(JsonTest, DoublesFollowProtoJson) {
  JsonWriter w;
  w.StartArray();
  w.Double(1.5);
  w.Double(std::numeric_limits<double>::quiet_NaN());
  w.Double(std::numeric_limits<double>::infinity());
  w.Double(-std::numeric_limits<double>::infinity());
  w.EndArray();
  EXPECT_EQ(w.View(), R"([1.5,"NaN","Infinity","-Infinity"])");
}

TEST(JsonTest, ReadsNumbersAndStrings) {
  JsonDocument doc;
  ASSERT_TRUE(ParseJson(R"({"a":"7","b":7,"c":"NaN","d":"-inf","e":"x","id":3})", &doc).ok());
  EXPECT_EQ(*JsonGetInt64(doc, "a").value(), 7);
  EXPECT_EQ(*JsonGetInt64(doc, "b").value(), 7);
  EXPECT_TRUE(std::isnan(*JsonGetDouble(doc, "c").value()));
  EXPECT_EQ(*JsonGetDouble(doc, "d").value(), -std::numeric_limits<double>::infinity());
  EXPECT_FALSE(JsonGetDouble(doc, "e").ok());
  EXPECT_EQ(*JsonGetString(doc, "id", /*allow_number=*/true).value(), "3");
  EXPECT_FALSE(JsonGetString(doc, "id").ok());
  EXPECT_FALSE(JsonGetString(doc, "missing").value().has_value());
}

TEST(JsonTest, MalformedIsBadRequest) {
  JsonDocument doc;
  Status s = ParseJson("{\"a\": ", &doc);
  EXPECT_EQ(s.code(), StatusCode::kBadRequest);
  EXPECT_NE(s.message().find("Malformed JSON"), std::string::npos);
}

}  // namespace
}  // namespace plinth
