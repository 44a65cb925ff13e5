// The drift tests: two-sample statistics, p-values and distances between a reference and a
// current sample of one column, with Evidently's definitions, default thresholds and drift
// rules (Evidently 0.7, src/evidently/legacy/calculations/stattests/). Statistics and p-values
// follow scipy's algorithms (scipy 1.17): see README.md for each test.
//
// Every function takes prepared samples (sample.h), so the sorting and counting are done once
// per column whatever the number of tests. Functions are pure and thread-safe.
#ifndef PLINTH_DRIFT_STATTESTS_H_
#define PLINTH_DRIFT_STATTESTS_H_

#include <optional>
#include <string_view>

#include "core/result.h"
#include "drift/sample.h"

namespace plinth::drift {

// Evidently's stattest ids, in its order of appearance in this header's README.
enum class Method {
  kKs,               // "ks": Kolmogorov-Smirnov p-value (numeric)
  kChiSquare,        // "chisquare": Pearson chi-square p-value (categorical)
  kZ,                // "z": two-proportion Z-test p-value (categorical)
  kWasserstein,      // "wasserstein": Wasserstein-1 distance / std(reference) (numeric)
  kJensenShannon,    // "jensenshannon": Jensen-Shannon distance on binned shares
  kPsi,              // "psi": population stability index on binned shares
  kKullbackLeibler,  // "kl_div": KL divergence of reference from current, binned shares
  kHellinger,        // "hellinger": Hellinger distance
  kAndersonDarling,  // "anderson": k-sample Anderson-Darling p-value (numeric)
  kCramerVonMises,   // "cramer_von_mises": two-sample Cramér-von Mises p-value (numeric)
  kMannWhitney,      // "mannw": Mann-Whitney U p-value, alternative "less" (numeric)
  kEnergyDistance,   // "ed": energy distance (numeric)
};

enum class ColumnKind { kNumerical, kCategorical };

// Evidently's id ("ks"), display name ("K-S p_value") and default threshold of a method.
std::string_view MethodId(Method method);
std::string_view MethodDisplayName(Method method);
double DefaultThreshold(Method method);
// Parses an Evidently id. Failure: kInvalidArgument listing the ids.
Result<Method> MethodFromId(std::string_view id);
// Whether Evidently allows `method` on a column of `kind` when the user names it. (The default
// selection also runs chi-square and Z on numeric columns of few values.)
bool MethodAllows(Method method, ColumnKind kind);

// One test's outcome.
struct TestResult {
  Method method = Method::kKs;
  // The test statistic: KS D, chi-square, Z, raw Wasserstein distance, the distance itself for
  // JS/PSI/KL/Hellinger/energy, normalized A2 (Anderson-Darling), T (Cramér-von Mises),
  // U of the reference sample (Mann-Whitney). NaN where a test has none (Z with one shared
  // category).
  double statistic = 0.0;
  // The p-value for the p-value tests, NaN for distances.
  double p_value = 0.0;
  // What Evidently compares with the threshold: the p-value, or the (normed) distance.
  double score = 0.0;
  double threshold = 0.0;
  // Evidently's rule: p < threshold (p <= for KS and Cramér-von Mises), distance >= threshold
  // (> for energy distance).
  bool drifted = false;
};

// Runs `method` on two numeric samples; `threshold` defaults to DefaultThreshold(method).
// Failure: kInvalidArgument when a sample is empty after dropping missing values, or when
// the reference test refuses the data (Anderson-Darling on a single distinct value or fewer
// than 3 values). Where scipy answers NaN instead (Cramér-von Mises with a one-value sample,
// Anderson-Darling on 3 values), so does this, and NaN never counts as drift.
Result<TestResult> RunNumericTest(Method method, const NumericSample& reference,
                                  const NumericSample& current,
                                  std::optional<double> threshold = std::nullopt);
// Runs a categorical-capable `method` (chi-square, Z, JS, PSI, KL, Hellinger) on category
// counts. Failure: kInvalidArgument for an empty sample, a numeric-only method, or samples
// whose keys are of different kinds (strings against integer codes).
Result<TestResult> RunCategoricalTest(Method method, const CategoricalSample& reference,
                                      const CategoricalSample& current,
                                      std::optional<double> threshold = std::nullopt);

// Distinct values of reference and current together (pandas' nunique of the concatenation):
// the count Evidently's default selection looks at.
uint64_t UnionDistinct(const NumericSample& reference, const NumericSample& current);
Result<uint64_t> UnionDistinct(const CategoricalSample& reference,
                               const CategoricalSample& current);

// Evidently's default choice (DataDriftPreset, `_get_default_stattest`) for a column of `kind`
// whose reference has `reference_size` non-missing values and whose two samples together hold
// `union_distinct` distinct values. Only the reference size matters:
//   reference <= 1000: numeric: KS, or chi-square/Z for <= 5 values (Z for <= 2);
//                      categorical: chi-square, Z for <= 2 values;
//   reference  > 1000: numeric: normed Wasserstein, or Jensen-Shannon for <= 5 values;
//                      categorical: Jensen-Shannon.
Method DefaultMethod(ColumnKind kind, uint64_t reference_size, uint64_t union_distinct);

}  // namespace plinth::drift

#endif  // PLINTH_DRIFT_STATTESTS_H_
