// numpy's pairwise summation (np.sum over a contiguous float64 array): 8 lanes within blocks of
// 128 values, halves (multiples of 8) above. Code that must reproduce numpy/scipy results to the
// last bit (drift statistics, the TPE sampler's Parzen estimator) sums with this, not a loop.
#ifndef PLINTH_CORE_PAIRWISE_SUM_H_
#define PLINTH_CORE_PAIRWISE_SUM_H_

#include <cstddef>
#include <cstdint>

namespace plinth {

double PairwiseSum(const double* a, size_t n);

// PairwiseSum of the n values a[base .. base + n) of an array that is 0 except at the ascending
// indices idx[0..m), which hold terms[0..m) (none negative): the same bits, as adding 0 to a
// non-negative partial sum leaves it unchanged, without reading or summing the zeros (the TPE
// mixture's log-sum-exp has a few terms worth an exp among hundreds of kernels).
double SparsePairwiseSum(const uint32_t* idx, const double* terms, size_t m, size_t base, size_t n);

}  // namespace plinth

#endif  // PLINTH_CORE_PAIRWISE_SUM_H_
