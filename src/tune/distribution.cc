#include "tune/distribution.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>

namespace plinth::tune {
namespace {

// An exact decimal m·10^e. Optuna snaps a stepped float range with Python's
// Decimal(str(x)) arithmetic, i.e. on the shortest round-trip digits of each double, so that
// Float(0, 1, step=0.1) keeps high=1.0 although 1.0 / 0.1 is not an integer in binary.
struct Decimal {
  __int128 mantissa = 0;
  int exponent = 0;
};

Decimal DecimalOf(double x) {
  // std::to_chars without a precision writes the shortest digits that round-trip, the digits
  // of Python's repr().
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::scientific);
  (void)ec;
  std::string_view text(buf, static_cast<size_t>(end - buf));
  Decimal d;
  bool negative = false;
  size_t i = 0;
  if (text[i] == '-') {
    negative = true;
    ++i;
  }
  int frac_digits = 0;
  bool in_frac = false;
  for (; i < text.size() && text[i] != 'e'; ++i) {
    if (text[i] == '.') {
      in_frac = true;
      continue;
    }
    d.mantissa = d.mantissa * 10 + (text[i] - '0');
    if (in_frac) {
      ++frac_digits;
    }
  }
  int exp10 = 0;
  if (i < text.size()) {
    std::from_chars(text.data() + i + 1 + (text[i + 1] == '+' ? 1 : 0), text.data() + text.size(),
                    exp10);
  }
  d.exponent = exp10 - frac_digits;
  if (negative) {
    d.mantissa = -d.mantissa;
  }
  return d;
}

// Brings the three decimals to one exponent. False when that would overflow 128 bits (ranges
// spanning ~30 orders of magnitude), where the caller falls back to binary arithmetic.
bool Align(Decimal* a, Decimal* b, Decimal* c) {
  int e = std::min({a->exponent, b->exponent, c->exponent});
  for (Decimal* d : {a, b, c}) {
    int shift = d->exponent - e;
    if (shift > 30) {
      return false;
    }
    for (int s = 0; s < shift; ++s) {
      d->mantissa *= 10;
    }
    d->exponent = e;
  }
  return true;
}

double DecimalToDouble(__int128 mantissa, int exponent) {
  bool negative = mantissa < 0;
  unsigned __int128 m = negative ? -static_cast<unsigned __int128>(mantissa) : mantissa;
  char digits[64];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(m % 10));
    m /= 10;
  } while (m != 0);
  std::string text = negative ? "-" : "";
  for (int i = n - 1; i >= 0; --i) {
    text.push_back(digits[i]);
  }
  text += "e" + std::to_string(exponent);
  return std::strtod(text.c_str(), nullptr);  // correctly rounded, as float(Decimal)
}

// Optuna's _adjust_discrete_uniform_high: high = (high - low) // step * step + low.
double AdjustDiscreteHigh(double low, double high, double step) {
  Decimal l = DecimalOf(low), h = DecimalOf(high), s = DecimalOf(step);
  if (!Align(&l, &h, &s)) {
    double k = std::floor((high - low) / step);
    return k * step + low;
  }
  __int128 r = h.mantissa - l.mantissa;
  if (r % s.mantissa == 0) {
    return high;
  }
  return DecimalToDouble((r / s.mantissa) * s.mantissa + l.mantissa, l.exponent);
}

// Decimal (high - low) < step, Optuna's FloatDistribution.single() with a step.
bool DecimalRangeBelowStep(double low, double high, double step) {
  Decimal l = DecimalOf(low), h = DecimalOf(high), s = DecimalOf(step);
  if (!Align(&l, &h, &s)) {
    return high - low < step;
  }
  return h.mantissa - l.mantissa < s.mantissa;
}

std::string FormatDouble(double v) {
  // Python's repr of a float: shortest digits, always with a '.0' or exponent.
  if (std::isnan(v)) {
    return "nan";
  }
  if (std::isinf(v)) {
    return v > 0 ? "inf" : "-inf";
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  std::string s(buf, end);
  if (s.find_first_of(".en") == std::string::npos) {
    s += ".0";
  }
  return s;
}

// A numeric view of a ParamValue (bool and int64 count as numbers, as in Python).
struct Numeric {
  bool is_int;
  int64_t i;
  double d;
};

std::optional<Numeric> AsNumeric(const ParamValue& v) {
  if (const bool* b = std::get_if<bool>(&v)) {
    return Numeric{true, *b ? 1 : 0, *b ? 1.0 : 0.0};
  }
  if (const int64_t* i = std::get_if<int64_t>(&v)) {
    return Numeric{true, *i, static_cast<double>(*i)};
  }
  if (const double* d = std::get_if<double>(&v)) {
    return Numeric{false, 0, *d};
  }
  return std::nullopt;
}

}  // namespace

bool ParamValueEqual(const ParamValue& a, const ParamValue& b) {
  std::optional<Numeric> na = AsNumeric(a), nb = AsNumeric(b);
  if (na && nb) {
    if (na->is_int && nb->is_int) {
      return na->i == nb->i;
    }
    if (std::isnan(na->d) && std::isnan(nb->d)) {
      return true;
    }
    // int vs float: Python compares exactly; an int64 beyond 2^53 that rounds onto the double
    // is not equal to it.
    if (na->is_int != nb->is_int) {
      const Numeric& n_int = na->is_int ? *na : *nb;
      double d = na->is_int ? nb->d : na->d;
      if (!(d >= -9.3e18 && d <= 9.3e18) || d != std::trunc(d)) {
        return false;
      }
      return static_cast<int64_t>(d) == n_int.i;
    }
    return na->d == nb->d;
  }
  if (na || nb) {
    return false;
  }
  if (std::holds_alternative<std::monostate>(a) || std::holds_alternative<std::monostate>(b)) {
    return std::holds_alternative<std::monostate>(a) && std::holds_alternative<std::monostate>(b);
  }
  return std::get<std::string>(a) == std::get<std::string>(b);
}

std::string ParamValueToString(const ParamValue& v) {
  switch (v.index()) {
    case 0:
      return "None";
    case 1:
      return std::get<bool>(v) ? "True" : "False";
    case 2:
      return std::to_string(std::get<int64_t>(v));
    case 3:
      return FormatDouble(std::get<double>(v));
    default:
      return "'" + std::get<std::string>(v) + "'";
  }
}

Result<Distribution> Distribution::Float(double low, double high, bool log,
                                         std::optional<double> step) {
  if (std::isnan(low) || std::isnan(high) || (step && std::isnan(*step))) {
    return InvalidArgument("FloatDistribution: low, high and step must not be NaN");
  }
  if (log && step) {
    return InvalidArgument("The parameter `step` is not supported when `log` is true.");
  }
  if (low > high) {
    return InvalidArgument("`low <= high` must hold, but got (low=" + FormatDouble(low) +
                           ", high=" + FormatDouble(high) + ").");
  }
  if (log && low <= 0.0) {
    return InvalidArgument("`low > 0` must hold for `log=True`, but got (low=" + FormatDouble(low) +
                           ", high=" + FormatDouble(high) + ").");
  }
  if (step && *step <= 0) {
    return InvalidArgument("`step > 0` must hold, but got step=" + FormatDouble(*step) + ".");
  }
  Distribution d;
  d.kind_ = DistributionKind::kFloat;
  d.log_ = log;
  d.low_ = low;
  d.high_ = step ? AdjustDiscreteHigh(low, high, *step) : high;
  d.step_ = step ? *step : 0.0;
  return d;
}

Result<Distribution> Distribution::Int(int64_t low, int64_t high, bool log, int64_t step) {
  if (log && step != 1) {
    return InvalidArgument(
        "Samplers and other components in Optuna only accept step is 1 when `log` argument is "
        "True.");
  }
  if (low > high) {
    return InvalidArgument("`low <= high` must hold, but got (low=" + std::to_string(low) +
                           ", high=" + std::to_string(high) + ").");
  }
  if (log && low < 1) {
    return InvalidArgument("`low >= 1` must hold for `log=True`, but got (low=" +
                           std::to_string(low) + ", high=" + std::to_string(high) + ").");
  }
  if (step <= 0) {
    return InvalidArgument("`step > 0` must hold, but got step=" + std::to_string(step) + ".");
  }
  int64_t r = high - low;
  if (r % step != 0) {
    high = r / step * step + low;
  }
  Distribution d;
  d.kind_ = DistributionKind::kInt;
  d.log_ = log;
  d.low_ = static_cast<double>(low);
  d.high_ = static_cast<double>(high);
  d.step_ = static_cast<double>(step);
  return d;
}

Result<Distribution> Distribution::Categorical(std::vector<ParamValue> choices) {
  if (choices.empty()) {
    return InvalidArgument("The `choices` must contain one or more elements.");
  }
  Distribution d;
  d.kind_ = DistributionKind::kCategorical;
  d.choices_ = std::move(choices);
  return d;
}

bool Distribution::Single() const {
  switch (kind_) {
    case DistributionKind::kCategorical:
      return choices_.size() == 1;
    case DistributionKind::kInt:
      if (log_ || low_ == high_) {
        return low_ == high_;
      }
      return high_ - low_ < step_;
    case DistributionKind::kFloat:
      if (low_ == high_) {
        return true;
      }
      return has_step() && DecimalRangeBelowStep(low_, high_, step_);
  }
  return false;
}

bool Distribution::Contains(double v) const {
  switch (kind_) {
    case DistributionKind::kCategorical: {
      double index = std::trunc(v);
      return index >= 0 && index < static_cast<double>(choices_.size());
    }
    case DistributionKind::kInt:
      return low_ <= v && v <= high_ && std::fmod(v - low_, step_) == 0;
    case DistributionKind::kFloat:
      if (!has_step()) {
        return low_ <= v && v <= high_;
      } else {
        double k = (v - low_) / step_;
        return low_ <= v && v <= high_ && std::abs(k - std::nearbyint(k)) < 1.0e-8;
      }
  }
  return false;
}

Result<double> Distribution::ToInternal(const ParamValue& external) const {
  if (kind_ == DistributionKind::kCategorical) {
    for (size_t i = 0; i < choices_.size(); ++i) {
      if (ParamValueEqual(external, choices_[i])) {
        return static_cast<double>(i);
      }
    }
    return InvalidArgument(ParamValueToString(external) + " not in the choices of " + ToString() +
                           ".");
  }
  double v;
  if (std::optional<Numeric> n = AsNumeric(external)) {
    v = n->d;
  } else if (const std::string* s = std::get_if<std::string>(&external)) {
    // Optuna calls float() on the value, which also parses numeric strings.
    char* end = nullptr;
    v = std::strtod(s->c_str(), &end);
    if (s->empty() || end != s->c_str() + s->size()) {
      return InvalidArgument("'" + *s + "' is not a valid type. float-castable value is expected.");
    }
  } else {
    return InvalidArgument("'None' is not a valid type. float-castable value is expected.");
  }
  if (std::isnan(v)) {
    return InvalidArgument("`" + ParamValueToString(external) + "` is invalid value.");
  }
  if (log_ && v <= 0.0) {
    return InvalidArgument("`" + ParamValueToString(external) +
                           "` is invalid value for the case log=True.");
  }
  return v;
}

ParamValue Distribution::ToExternal(double internal) const {
  switch (kind_) {
    case DistributionKind::kCategorical:
      return choices_[static_cast<size_t>(internal)];
    case DistributionKind::kInt:
      return static_cast<int64_t>(internal);
    case DistributionKind::kFloat:
      break;
  }
  return internal;
}

bool Distribution::operator==(const Distribution& other) const {
  if (kind_ != other.kind_) {
    return false;
  }
  if (kind_ == DistributionKind::kCategorical) {
    if (choices_.size() != other.choices_.size()) {
      return false;
    }
    for (size_t i = 0; i < choices_.size(); ++i) {
      if (!ParamValueEqual(choices_[i], other.choices_[i])) {
        return false;
      }
    }
    return true;
  }
  return log_ == other.log_ && low_ == other.low_ && high_ == other.high_ && step_ == other.step_;
}

bool Distribution::CompatibleWith(const Distribution& other) const {
  if (kind_ != other.kind_) {
    return false;
  }
  if (kind_ == DistributionKind::kCategorical) {
    return *this == other;
  }
  return log_ == other.log_;
}

std::string Distribution::ToString() const {
  switch (kind_) {
    case DistributionKind::kCategorical: {
      std::string s = "CategoricalDistribution(choices=(";
      for (size_t i = 0; i < choices_.size(); ++i) {
        s += (i ? ", " : "") + ParamValueToString(choices_[i]);
      }
      return s + (choices_.size() == 1 ? ",))" : "))");
    }
    case DistributionKind::kInt:
      return "IntDistribution(high=" + std::to_string(static_cast<int64_t>(high_)) +
             ", log=" + (log_ ? "True" : "False") +
             ", low=" + std::to_string(static_cast<int64_t>(low_)) +
             ", step=" + std::to_string(static_cast<int64_t>(step_)) + ")";
    case DistributionKind::kFloat:
      break;
  }
  return "FloatDistribution(high=" + FormatDouble(high_) + ", log=" + (log_ ? "True" : "False") +
         ", low=" + FormatDouble(low_) +
         ", step=" + (has_step() ? FormatDouble(step_) : std::string("None")) + ")";
}

}  // namespace plinth::tune
