// The eigendecomposition of a small symmetric matrix, computed the way numpy.linalg.eigh
// computes it (LAPACK dsyevd with UPLO='L', which for n <= 25 is Householder tridiagonal
// reduction, dsytd2, then implicit QL/QR with Wilkinson shifts, dsteqr, then the reflectors
// applied back, dorm2r).
//
// Why not just any eigensolver: an eigenvector's sign is arbitrary, and CMA-ES samples
// y = B·D·z, so the sign of each column of B decides which points a seeded run draws. Following
// LAPACK's sequence of reflections and rotations gives the columns LAPACK gives (values equal
// to rounding, ~1e-15), so a seeded CMA-ES run here draws the points Optuna's does. Over-/
// underflow scaling (entries beyond ~1e150 or below ~1e-120) is not reproduced. Thread-safe
// (no state).
#ifndef PLINTH_TUNE_SYMMETRIC_EIGEN_H_
#define PLINTH_TUNE_SYMMETRIC_EIGEN_H_

#include <vector>

namespace plinth::tune {

// The largest n for which LAPACK's dsyevd takes the path reproduced here (dstedc's SMLSIZ).
inline constexpr int kLapackSteqrMaxN = 25;

// Eigenvalues of the n×n symmetric `a` (row-major; only the lower triangle is read) into `w`,
// ascending, and the unit eigenvectors into the columns of `v` (row-major n×n). Requires
// 1 <= n <= kLapackSteqrMaxN. Returns false if the QL/QR iteration did not converge in 30·n
// sweeps (LAPACK's INFO > 0).
bool SymmetricEigenLapack(int n, const std::vector<double>& a, std::vector<double>* w,
                          std::vector<double>* v);

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_SYMMETRIC_EIGEN_H_
