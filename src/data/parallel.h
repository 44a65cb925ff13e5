// ParallelFor: runs independent tasks on a few threads, handing out the next index as a worker
// frees, so uneven tasks (a string column next to an int column, a chunk with long quoted
// fields) balance. Thread-safe; fn must be safe to call concurrently for distinct indexes.
#ifndef PLINTH_DATA_PARALLEL_H_
#define PLINTH_DATA_PARALLEL_H_

#include <cstddef>
#include <functional>

namespace plinth::data {

// The worker count `threads` asks for: 0 means std::thread::hardware_concurrency().
int ResolveThreads(int threads);

// Runs fn(i) once for every i in [0, n) on up to `threads` threads (0: all cores); returns
// when all have run. With one thread (or n <= 1) everything runs on the caller's thread.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn);

}  // namespace plinth::data

#endif  // PLINTH_DATA_PARALLEL_H_
