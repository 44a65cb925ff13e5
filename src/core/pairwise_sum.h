// numpy's pairwise summation (np.sum over a contiguous float64 array): 8 lanes within blocks of
// 128 values, halves (multiples of 8) above. Code that must reproduce numpy/scipy results to the
// last bit (drift statistics, the TPE sampler's Parzen estimator) sums with this, not a loop.
#ifndef PLINTH_CORE_PAIRWISE_SUM_H_
#define PLINTH_CORE_PAIRWISE_SUM_H_

#include <cstddef>

namespace plinth {

double PairwiseSum(const double* a, size_t n);

}  // namespace plinth

#endif  // PLINTH_CORE_PAIRWISE_SUM_H_
