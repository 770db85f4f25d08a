// The one small parallel layer of the engine.
//
// `threads` is an explicit setting everywhere: 0 means "respect the
// environment" (OMP_NUM_THREADS, else the number of cores this process may use).
// parallel_for runs independent iterations; every kernel built on it writes
// disjoint outputs, so results never depend on the thread count.
//
// Who owns the BLAS thread count. OpenBLAS's thread count is one setting for
// the whole process: changing it while another thread is inside LAPACK
// corrupts OpenBLAS's buffers (wrong results, crashes in dgetrf_parallel), and
// multi-threaded OpenBLAS sums in an order that depends on its thread count.
// So the rules are:
//   * only a top-level caller (a thread that is not running a parallel_for
//     body, and while no other thread owns the setting) ever changes it;
//   * inside a parallel_for body, and inside a SerialBlas scope, BLAS is
//     serial; a ThreadScope there changes nothing (it reports the threads it
//     was asked for, for the engine's own loops);
//   * a parallel_for nested inside another one's body runs serially on the
//     thread that reached it: one level of parallelism, never more busy
//     threads than requested.
#pragma once

#include <cstdint>
#include <functional>

namespace mriotrace {

/// Resolve a user thread setting: 0 -> OMP_NUM_THREADS or the core count.
int resolve_threads(int threads);

/// The number of cores this process may use (its CPU affinity mask).
int available_cores();

/// Run body(i) for i in [begin, end) on up to `threads` threads (oneTBB arena).
/// Runs sequentially when threads == 1, the range is shorter than `grain`, or
/// the call is nested inside another parallel_for's body. BLAS is serial inside
/// the bodies. An exception thrown by any body is rethrown on the calling thread.
void parallel_for(std::int64_t begin, std::int64_t end, int threads,
                  const std::function<void(std::int64_t)>& body, std::int64_t grain = 1);

/// Whether the calling thread is running a parallel_for body.
bool in_parallel_region();

/// Sets the thread count of the BLAS/LAPACK library (OpenBLAS) and OpenMP for
/// the lifetime of the object, and restores the previous settings after, when
/// the calling thread owns the setting (see the rules above). Elsewhere it
/// changes nothing and BLAS stays as its owner set it (serial inside parallel
/// regions and SerialBlas scopes).
class ThreadScope {
 public:
  explicit ThreadScope(int threads);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;
  /// Threads for the engine's own loops: the resolved request (1 inside a parallel region).
  int threads() const { return threads_; }

 private:
  int threads_;
  bool owns_ = false;
  int prev_blas_ = 1;
  int prev_omp_ = 1;
};

/// BLAS and OpenMP run serially on the calling thread for the lifetime of the
/// object, and ThreadScopes inside change nothing; the engine's own loops
/// (parallel_for) still use the threads they are given. Used where results
/// must not depend on the thread count (batch runs) and around parallel regions.
class SerialBlas {
 public:
  SerialBlas();
  ~SerialBlas();
  SerialBlas(const SerialBlas&) = delete;
  SerialBlas& operator=(const SerialBlas&) = delete;

 private:
  ThreadScope scope_;
};

/// The BLAS thread count in force (OpenBLAS's process-wide setting).
int blas_threads();

}  // namespace mriotrace
