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
