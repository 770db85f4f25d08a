// The one small parallel layer of the engine.
//
// `threads` is an explicit setting everywhere: 0 means "respect the
// environment" (OMP_NUM_THREADS, else the number of cores this process may use).
// parallel_for runs independent iterations; every kernel built on it writes
// disjoint outputs, so results never depend on the thread count.
#pragma once

#include <cstdint>
#include <functional>

namespace mriotrace {

/// Resolve a user thread setting: 0 -> OMP_NUM_THREADS or the core count.
int resolve_threads(int threads);

/// Run body(i) for i in [begin, end) on up to `threads` threads (oneTBB arena).
/// Runs sequentially when threads == 1 or the range is shorter than `grain`.
/// An exception thrown by any body is rethrown on the calling thread.
void parallel_for(std::int64_t begin, std::int64_t end, int threads,
                  const std::function<void(std::int64_t)>& body, std::int64_t grain = 1);

/// Sets the thread count of the BLAS/LAPACK library (OpenBLAS) and OpenMP for
/// the lifetime of the object, and restores the previous settings after.
class ThreadScope {
 public:
  explicit ThreadScope(int threads);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;
  int threads() const { return threads_; }

 private:
  int threads_;
  int prev_blas_;
  int prev_omp_;
};

}  // namespace mriotrace
