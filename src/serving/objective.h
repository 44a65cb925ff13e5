// XGBoost objectives as the prediction side sees them: how the stored intercept (base_score, in
// output space) becomes the initial margin, and how a row's margins become the output. The
// arithmetic follows XGBoost 3.2 exactly, in float (src/objective/regression_loss.h,
// regression_obj.cu, multiclass_obj.cu, hinge.cu and src/common/math.h), so a runtime that sums
// the same leaves gets XGBoost's bits. Plain functions, thread-safe.
#ifndef PLINTH_SERVING_OBJECTIVE_H_
#define PLINTH_SERVING_OBJECTIVE_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace plinth::serving {

// Inverse link applied to base_score once, at load (XGBoost's ObjFunction::ProbToMargin).
enum class MarginLink {
  kIdentity,
  kLogit,  // binary:logistic, reg:logistic: -logf(1/p - 1) with p clamped to [1e-6, 1 - 1e-6]
  kLog,    // count:poisson, reg:gamma, reg:tweedie, survival:cox: logf(p)
};

// Output transform of one row's margins (XGBoost's ObjFunction::PredTransform).
enum class OutputTransform {
  kIdentity,
  kSigmoid,  // per value, XGBoost's float Sigmoid
  kExp,      // per value, expf
  kSoftmax,  // per row over the groups (multi:softprob)
  kArgmax,   // per row: index of the first largest margin (multi:softmax); width becomes 1
  kHinge,    // per value: 1 if > 0 else 0 (binary:hinge)
};

struct ObjectiveInfo {
  std::string_view name;
  MarginLink link = MarginLink::kIdentity;
  OutputTransform transform = OutputTransform::kIdentity;
};

// The objectives whose prediction arithmetic we reproduce; nullopt for any other (e.g.
// survival:aft, a custom objective), which only the XGBoost runtime serves.
std::optional<ObjectiveInfo> FindObjective(std::string_view name);

// base_score (output space) → the initial margin, in float as XGBoost does.
float ProbToMargin(MarginLink link, float base_score);

// Transforms one row of `groups` margins in place. kArgmax writes the class index into
// margins[0] (the row's width becomes 1).
void TransformRow(OutputTransform transform, float* margins, size_t groups);

// Width of one output row after `transform` of `groups` margins.
inline size_t TransformedWidth(OutputTransform transform, size_t groups) {
  return transform == OutputTransform::kArgmax ? 1 : groups;
}

}  // namespace plinth::serving

#endif  // PLINTH_SERVING_OBJECTIVE_H_
