// The engine's parallel layer: oneTBB arenas for loops, explicit BLAS/OpenMP
// thread control for LAPACK and Eigen products. The ownership rules for the
// BLAS thread count are in parallel.hpp.
#include "mriotrace/parallel.hpp"

#include <omp.h>
#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "mriotrace/error.hpp"

extern "C" {
// OpenBLAS's thread control (cblas.h of libopenblas); declared here so we do not
// depend on which cblas.h variant the system installs first.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace mriotrace {
namespace {

// Per thread: how deep inside parallel_for bodies, and inside SerialBlas scopes.
thread_local int t_loop_depth = 0;
thread_local int t_pin_depth = 0;
thread_local int t_prev_omp = 1;

// The process-wide BLAS setting has one owner thread at a time (nested scopes on it).
std::mutex g_owner_mutex;
std::thread::id g_owner;
int g_owner_depth = 0;

/// Marks the executing thread as inside a parallel_for body: BLAS and OpenMP
/// serial (OpenMP's thread count is a per-thread setting, so it is set here).
struct LoopMark {
  LoopMark() {
    if (t_loop_depth++ == 0) {
      t_prev_omp = omp_get_max_threads();
      omp_set_num_threads(1);
    }
  }
  ~LoopMark() {
    if (--t_loop_depth == 0) omp_set_num_threads(t_prev_omp);
  }
  LoopMark(const LoopMark&) = delete;
  LoopMark& operator=(const LoopMark&) = delete;
};

}  // namespace

int available_cores() { return std::max(1, tbb::info::default_concurrency()); }

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
  // The default respects the process's CPU affinity mask (taskset, cgroups).
  return available_cores();
}

bool in_parallel_region() { return t_loop_depth > 0; }

int blas_threads() { return openblas_get_num_threads(); }

void parallel_for(std::int64_t begin, std::int64_t end, int threads,
                  const std::function<void(std::int64_t)>& body, std::int64_t grain) {
  if (end <= begin) return;
  const int t = resolve_threads(threads);
  if (t == 1 || end - begin <= std::max<std::int64_t>(grain, 1) || t_loop_depth > 0) {
    for (std::int64_t i = begin; i < end; ++i) body(i);
    return;
  }
  // BLAS serial for the whole region, set once by this (top-level) thread
  // before any body runs and restored after the last one ends.
  SerialBlas serial;
  // Capture the first exception inside the parallel region and rethrow it on
  // the caller, so no exception escapes a worker thread.
  std::exception_ptr error;
  std::mutex error_mutex;
  tbb::task_arena arena(t);
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(begin, end, std::max<std::int64_t>(grain, 1)),
                      [&](const tbb::blocked_range<std::int64_t>& r) {
                        const LoopMark mark;
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

ThreadScope::ThreadScope(int threads) : threads_(resolve_threads(threads)) {
  if (t_loop_depth > 0) {
    threads_ = 1;  // nested loops run serially; BLAS is serial here
    return;
  }
  if (t_pin_depth > 0) return;  // a SerialBlas scope of this thread holds BLAS at 1
  std::lock_guard<std::mutex> lock(g_owner_mutex);
  const auto self = std::this_thread::get_id();
  if (g_owner_depth > 0 && g_owner != self) return;  // another thread owns the setting: never change it under it
  g_owner = self;
  ++g_owner_depth;
  owns_ = true;
  prev_blas_ = openblas_get_num_threads();
  prev_omp_ = omp_get_max_threads();
  // BLAS never gets more threads than cores: oversubscribing it is never
  // faster, and OpenBLAS's per-thread buffers can exhaust a memory limit.
  openblas_set_num_threads(std::min(threads_, available_cores()));
  omp_set_num_threads(threads_);
}

ThreadScope::~ThreadScope() {
  if (!owns_) return;
  std::lock_guard<std::mutex> lock(g_owner_mutex);
  openblas_set_num_threads(prev_blas_);
  omp_set_num_threads(prev_omp_);
  --g_owner_depth;
}

SerialBlas::SerialBlas() : scope_(1) { ++t_pin_depth; }

SerialBlas::~SerialBlas() { --t_pin_depth; }

}  // namespace mriotrace
