#include "serving/objective.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace plinth::serving {
namespace {

using L = MarginLink;
using T = OutputTransform;

constexpr std::array<ObjectiveInfo, 19> kObjectives = {{
    {"reg:squarederror", L::kIdentity, T::kIdentity},
    {"reg:linear", L::kIdentity, T::kIdentity},
    {"reg:squaredlogerror", L::kIdentity, T::kIdentity},
    {"reg:pseudohubererror", L::kIdentity, T::kIdentity},
    {"reg:absoluteerror", L::kIdentity, T::kIdentity},
    {"reg:quantileerror", L::kIdentity, T::kIdentity},
    {"binary:logitraw", L::kIdentity, T::kIdentity},
    {"rank:pairwise", L::kIdentity, T::kIdentity},
    {"rank:ndcg", L::kIdentity, T::kIdentity},
    {"rank:map", L::kIdentity, T::kIdentity},
    {"binary:logistic", L::kLogit, T::kSigmoid},
    {"reg:logistic", L::kLogit, T::kSigmoid},
    {"count:poisson", L::kLog, T::kExp},
    {"reg:gamma", L::kLog, T::kExp},
    {"reg:tweedie", L::kLog, T::kExp},
    {"survival:cox", L::kLog, T::kExp},
    {"multi:softprob", L::kIdentity, T::kSoftmax},
    {"multi:softmax", L::kIdentity, T::kArgmax},
    {"binary:hinge", L::kIdentity, T::kHinge},
}};

// XGBoost's float sigmoid (common/math.h): the clamp avoids expf overflow and the epsilon a
// division by zero; both must stay to reproduce its bits.
float Sigmoid(float x) {
  constexpr float kEps = 1e-16f;
  x = std::min(-x, 88.7f);
  float denom = std::exp(x) + 1.0f + kEps;
  return 1.0f / denom;
}

}  // namespace

std::optional<ObjectiveInfo> FindObjective(std::string_view name) {
  for (const ObjectiveInfo& info : kObjectives) {
    if (info.name == name) {
      return info;
    }
  }
  return std::nullopt;
}

float ProbToMargin(MarginLink link, float base_score) {
  switch (link) {
    case MarginLink::kIdentity:
      return base_score;
    case MarginLink::kLogit: {
      constexpr float kRtEps = 1e-6f;  // XGBoost bounds the intercept away from 0 and 1
      float p = base_score > kRtEps ? base_score : kRtEps;
      p = p < 1.0f - kRtEps ? p : 1.0f - kRtEps;
      return -std::log(1.0f / p - 1.0f);
    }
    case MarginLink::kLog:
      return std::log(base_score);
  }
  return base_score;
}

void TransformRow(OutputTransform transform, float* margins, size_t groups) {
  switch (transform) {
    case OutputTransform::kIdentity:
      return;
    case OutputTransform::kSigmoid:
      for (size_t g = 0; g < groups; ++g) {
        margins[g] = Sigmoid(margins[g]);
      }
      return;
    case OutputTransform::kExp:
      for (size_t g = 0; g < groups; ++g) {
        margins[g] = std::exp(margins[g]);
      }
      return;
    case OutputTransform::kHinge:
      for (size_t g = 0; g < groups; ++g) {
        margins[g] = margins[g] > 0.0f ? 1.0f : 0.0f;
      }
      return;
    case OutputTransform::kSoftmax: {
      // XGBoost's common::Softmax: float max and exponentials, a double sum, float division.
      float wmax = margins[0];
      for (size_t g = 1; g < groups; ++g) {
        wmax = std::fmax(margins[g], wmax);
      }
      double wsum = 0.0;
      for (size_t g = 0; g < groups; ++g) {
        margins[g] = std::exp(margins[g] - wmax);
        wsum += margins[g];
      }
      for (size_t g = 0; g < groups; ++g) {
        margins[g] /= static_cast<float>(wsum);
      }
      return;
    }
    case OutputTransform::kArgmax: {
      size_t best = 0;
      for (size_t g = 1; g < groups; ++g) {
        if (margins[g] > margins[best]) {
          best = g;
        }
      }
      margins[0] = static_cast<float>(best);
      return;
    }
  }
}

}  // namespace plinth::serving
