// The engine's parallel layer: oneTBB arenas for loops, explicit BLAS/OpenMP
// thread control for LAPACK and Eigen products.
#include "mriotrace/parallel.hpp"

#include <omp.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>

#include "mriotrace/error.hpp"

extern "C" {
// OpenBLAS's thread control (cblas.h of libopenblas); declared here so we do not
// depend on which cblas.h variant the system installs first.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace mriotrace {

int resolve_threads(int threads) {
  MRIOTRACE_CHECK(threads >= 0, "threads = ", threads, "; expected 0 (use the environment) or a positive count");
  if (threads > 0) return threads;
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env && *env) {
    // OMP_NUM_THREADS may be a list ("4,2"); the first entry is the outer level.
    try {
      int t = std::stoi(env);
      if (t > 0) return t;
    } catch (const std::exception&) {
    }
  }
  // The arena's default respects the process's CPU affinity mask (taskset, cgroups).
  return std::max(1, tbb::this_task_arena::max_concurrency());
}

void parallel_for(std::int64_t begin, std::int64_t end, int threads,
                  const std::function<void(std::int64_t)>& body, std::int64_t grain) {
  if (end <= begin) return;
  const int t = resolve_threads(threads);
  if (t == 1 || end - begin <= std::max<std::int64_t>(grain, 1)) {
    for (std::int64_t i = begin; i < end; ++i) body(i);
    return;
  }
  // Capture the first exception inside the parallel region and rethrow it on
  // the caller, so no exception escapes a worker thread.
  std::exception_ptr error;
  std::mutex error_mutex;
  tbb::task_arena arena(t);
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(begin, end, std::max<std::int64_t>(grain, 1)),
                      [&](const tbb::blocked_range<std::int64_t>& r) {
                        for (std::int64_t i = r.begin(); i != r.end(); ++i) {
                          try {
                            body(i);
                          } catch (...) {
                            std::lock_guard<std::mutex> lock(error_mutex);
                            if (!error) error = std::current_exception();
                          }
                        }
                      });
  });
  if (error) std::rethrow_exception(error);
}

ThreadScope::ThreadScope(int threads)
    : threads_(resolve_threads(threads)),
      prev_blas_(openblas_get_num_threads()),
      prev_omp_(omp_get_max_threads()) {
  openblas_set_num_threads(threads_);
  omp_set_num_threads(threads_);
}

ThreadScope::~ThreadScope() {
  openblas_set_num_threads(prev_blas_);
  omp_set_num_threads(prev_omp_);
}

}  // namespace mriotrace
