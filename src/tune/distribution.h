// Distribution: the range of one hyperparameter, with Optuna's rules so that a study written
// against Optuna means the same thing here.
//
// Three kinds, as Optuna's FloatDistribution, IntDistribution and CategoricalDistribution:
//   Float(low, high, log, step)  log and step are exclusive; log needs low > 0; with a step,
//                                high is snapped down to low + k·step in decimal arithmetic.
//   Int(low, high, log, step)    log needs step == 1 and low >= 1; high snapped to the grid.
//   Categorical(choices)         None, bool, int, float or str values.
// Every value has an internal representation, a double: the number itself for Float and Int,
// the index into `choices` for Categorical. Samplers work on internal values only; the external
// value (ParamValue) is what the user sees. Distribution is an immutable value type.
#ifndef PLINTH_TUNE_DISTRIBUTION_H_
#define PLINTH_TUNE_DISTRIBUTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/result.h"

namespace plinth::tune {

// An external parameter value: a categorical choice, a grid value or a fixed parameter. The
// alternatives are Python's None, bool, int, float and str, the types Optuna stores.
using ParamValue = std::variant<std::monostate, bool, int64_t, double, std::string>;

// Python's `==` on two such values (True == 1 == 1.0, "1" != 1), except that NaN equals NaN,
// as Optuna compares choices.
bool ParamValueEqual(const ParamValue& a, const ParamValue& b);
// Python's repr-like text: None, True, 3, 0.5, 'relu'.
std::string ParamValueToString(const ParamValue& v);

enum class DistributionKind : uint8_t { kFloat, kInt, kCategorical };

class Distribution {
 public:
  // Failure: kInvalidArgument naming the violated rule (Optuna's ValueError cases).
  static Result<Distribution> Float(double low, double high, bool log = false,
                                    std::optional<double> step = std::nullopt);
  static Result<Distribution> Int(int64_t low, int64_t high, bool log = false, int64_t step = 1);
  static Result<Distribution> Categorical(std::vector<ParamValue> choices);

  DistributionKind kind() const { return kind_; }
  bool is_categorical() const { return kind_ == DistributionKind::kCategorical; }
  // Float and Int bounds (Int's as exact doubles); high is the snapped one.
  double low() const { return low_; }
  double high() const { return high_; }
  bool log() const { return log_; }
  // The grid step, 0 for a Float without one. Int always has a step (default 1).
  double step() const { return step_; }
  bool has_step() const { return step_ != 0.0; }
  const std::vector<ParamValue>& choices() const { return choices_; }

  // True when the range holds one value only; samplers skip such parameters.
  bool Single() const;
  // Whether an internal value lies in the range (on the grid for stepped distributions).
  bool Contains(double internal) const;
  // The internal representation of an external value. Failure: kInvalidArgument when the
  // value has the wrong type, is NaN, is not positive under log, or is not a choice.
  Result<double> ToInternal(const ParamValue& external) const;
  // The external value of an internal one: Float a double, Int an int64 (truncated, as
  // Python's int()), Categorical the choice at that index.
  ParamValue ToExternal(double internal) const;
  // The value a Single() distribution holds (low, or the first choice), internal.
  double SingleValue() const { return is_categorical() ? 0.0 : low_; }

  // Same kind and the same attributes (choices compared with ParamValueEqual).
  bool operator==(const Distribution& other) const;
  // Optuna's check before a parameter is suggested again with another distribution: the same
  // kind, the same log flag, and for Categorical the same choices.
  bool CompatibleWith(const Distribution& other) const;
  // Optuna's repr, e.g. "FloatDistribution(high=1.0, log=False, low=0.0, step=None)".
  std::string ToString() const;

 private:
  Distribution() = default;

  DistributionKind kind_ = DistributionKind::kFloat;
  bool log_ = false;
  double low_ = 0.0;
  double high_ = 0.0;
  double step_ = 0.0;
  std::vector<ParamValue> choices_;
};

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_DISTRIBUTION_H_
