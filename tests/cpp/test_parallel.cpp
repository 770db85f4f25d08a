// The parallel layer's ownership rules for the BLAS thread count
// (parallel.hpp): only a top-level caller changes it; inside parallel_for
// bodies and SerialBlas scopes BLAS is serial and a ThreadScope changes nothing;
// nested loops run serially; exceptions reach the caller.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "mriotrace/parallel.hpp"
#include "mriotrace/solver.hpp"

namespace mriotrace {
namespace {

TEST(Parallel, OnlyTheTopLevelCallerChangesTheBlasThreadCount) {
  const int before = blas_threads();
  {
    ThreadScope two(2);
    EXPECT_EQ(blas_threads(), std::min(2, available_cores()));
    std::atomic<int> seen_not_serial{0}, scoped_not_serial{0}, bodies{0};
    std::atomic<bool> nested_parallel{false};
    parallel_for(0, 64, 2, [&](std::int64_t) {
      ++bodies;
      EXPECT_TRUE(in_parallel_region());
      if (blas_threads() != 1) ++seen_not_serial;
      {
        ThreadScope inner(4);  // a worker asking for threads changes nothing
        EXPECT_EQ(inner.threads(), 1);
        if (blas_threads() != 1) ++scoped_not_serial;
      }
      // A nested loop runs on the thread that reached it.
      const auto self = std::this_thread::get_id();
      parallel_for(0, 8, 4, [&](std::int64_t) {
        if (std::this_thread::get_id() != self) nested_parallel = true;
      });
    });
    EXPECT_EQ(bodies.load(), 64);
    EXPECT_EQ(seen_not_serial.load(), 0);
    EXPECT_EQ(scoped_not_serial.load(), 0);
    EXPECT_FALSE(nested_parallel.load());
    EXPECT_FALSE(in_parallel_region());
    EXPECT_EQ(blas_threads(), std::min(2, available_cores()));  // restored after the region
  }
  EXPECT_EQ(blas_threads(), before);
}

TEST(Parallel, SerialBlasPinsBlasButNotTheEnginesLoops) {
  const int before = blas_threads();
  {
    SerialBlas serial;
    EXPECT_EQ(blas_threads(), 1);
    ThreadScope asks(2);  // e.g. a solver built inside a batch's setup
    EXPECT_EQ(asks.threads(), 2);
    EXPECT_EQ(blas_threads(), 1);
    std::mutex m;
    std::set<std::thread::id> threads;
    parallel_for(0, 256, 2, [&](std::int64_t) {
      std::lock_guard<std::mutex> lock(m);
      threads.insert(std::this_thread::get_id());
      EXPECT_EQ(blas_threads(), 1);
    });
    EXPECT_GE(threads.size(), 1u);
  }
  EXPECT_EQ(blas_threads(), before);
}

TEST(Parallel, AnotherThreadNeverChangesTheSettingUnderItsOwner) {
  ThreadScope owner(2);
  const int owned = blas_threads();
  std::thread other([&] {
    ThreadScope intruder(1);  // not the owner: must not touch the process-wide setting
    EXPECT_EQ(blas_threads(), owned);
  });
  other.join();
  EXPECT_EQ(blas_threads(), owned);
}

// A threaded batch of solver work (what Monte Carlo, scenario and SDA
// workers do): every worker factors and solves with a solver asking for 2
// threads, and refactors one it shares. The BLAS setting seen by the workers
// is always 1 (never changed from a worker), no more distinct threads run
// bodies than requested, and the caller's setting is back afterwards.
TEST(Parallel, ThreadedBatchOfSolvesNeverChangesBlasFromAWorker) {
  const Index n = 300;  // big enough that LAPACK would use its threads if allowed
  Matrix dense = Matrix::Zero(n, n);
  for (Index j = 0; j < n; ++j)
    for (Index i = 0; i < n; ++i) dense(i, j) = 0.1 / static_cast<double>(n) * (1.0 + static_cast<double>((i * 7 + j) % 5));
  const SparseMatrix A = dense.sparseView();
  SolverOptions o;
  o.kind = SolverKind::DenseLU;
  o.threads = 2;
  const LeontiefSolver shared(A, o);
  ThreadScope top(2);
  const int owned = blas_threads();
  std::mutex m;
  std::set<std::thread::id> workers;
  std::atomic<int> not_serial{0};
  // A watcher samples the process-wide setting all through the region: a
  // worker that changed it and changed it back would still be seen.
  // (The setting is read before the count of running bodies: once the last
  // body has ended the caller restores its own setting, which is not a change.)
  std::atomic<int> running{0}, seen_changed{0};
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done) {
      const int blas = blas_threads();
      if (running > 0 && blas != 1) ++seen_changed;
    }
  });
  parallel_for(0, 16, 2, [&](std::int64_t i) {
    ++running;
    {
      std::lock_guard<std::mutex> lock(m);
      workers.insert(std::this_thread::get_id());
    }
    if (blas_threads() != 1) ++not_serial;
    SparseMatrix Ai = A * (0.5 + 0.01 * static_cast<double>(i));
    const LeontiefSolver own(Ai, o);
    if (blas_threads() != 1) ++not_serial;
    const LeontiefSolver copy = shared.refactored(Ai);
    const Matrix x = own.solve(Matrix::Ones(n, 2)), y = copy.solve_transposed(Matrix::Ones(n, 2));
    if (blas_threads() != 1) ++not_serial;
    EXPECT_EQ(own.diagnostics().threads, 1);  // a worker's solver runs its loops serially
    EXPECT_GT(x.minCoeff(), 1.0);
    EXPECT_GT(y.minCoeff(), 1.0);
    --running;
  });
  done = true;
  watcher.join();
  EXPECT_EQ(seen_changed.load(), 0);
  EXPECT_EQ(not_serial.load(), 0);
  EXPECT_LE(workers.size(), 2u);
  EXPECT_EQ(blas_threads(), owned);
}

TEST(Parallel, ExceptionsReachTheCaller) {
  EXPECT_THROW(parallel_for(0, 100, 2,
                            [](std::int64_t i) {
                              if (i == 57) throw std::runtime_error("body 57");
                            }),
               std::runtime_error);
  EXPECT_FALSE(in_parallel_region());
}

}  // namespace
}  // namespace mriotrace
