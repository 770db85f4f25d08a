// Structural path analysis: an exact threshold search over the supply-chain
// tree, parallel over subtrees, deterministic output (see tracing.hpp).
//
// Plain formula: total = s L y = sum_t s A^t y = sum over paths
//   j_t <- ... <- j_0 of s_{j_t} a_{j_t j_{t-1}} ... a_{j_1 j_0} y_{j_0}.
// Kernel: depth-first from each final product j_0 (weight w = y_{j_0}); the
// subtree of a node (j, w) sums to at most |w| mbar_j, so only children with
// |w a_ij| mbar_i >= threshold are visited. Each column of A is copied once,
// sorted by |a_ij| mbar_i descending, so the child loop stops at the first
// child that fails the bound: the work is proportional to the nodes visited,
// not to the nonzeros scanned.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>

#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"
#include "mriotrace/tracing.hpp"

namespace mriotrace {
namespace {

using Clock = std::chrono::steady_clock;

/// Relative slack on the bound so that rounding in mbar (a solve, ~1e-15
/// relative) can never prune a path that is exactly at the threshold.
constexpr double kBoundSlack = 1.0 + 1e-9;
/// Subtree tasks handled per parallel round; their paths are then flushed in
/// task order (bounded memory, deterministic stream order).
constexpr std::size_t kTasksPerRound = 8192;

/// Columns of A, each sorted by |a_ij| mbar_i descending (ties: row ascending),
/// holding only the entries that can ever be visited: a node at column j has
/// weight |w| <= xbar_j = ((I - |A|)^-1 |y|)_j (the sum of every path weight
/// ending there), so an entry with |a_ij| mbar_i xbar_j < threshold never
/// passes the bound. Columns are prepared lazily, the first time the search
/// reaches them (once, whichever thread gets there first; the content does not
/// depend on which), so a search that touches few sectors never pays for a
/// pass over all of A.
class SortedColumns {
 public:
  struct Entry {
    double key;    // |a_ij| mbar_i (kBoundSlack applied)
    double value;  // a_ij, signed
    std::int32_t row;
  };

  SortedColumns(const SparseMatrix& A, const Vector& mbar, const Vector& xbar, double threshold)
      : A_(A), mbar_(mbar), xbar_(xbar), threshold_(threshold), columns_(static_cast<size_t>(A.cols())),
        once_(new std::once_flag[static_cast<size_t>(A.cols())]) {}

  const std::vector<Entry>& column(Index j) const {
    std::call_once(once_[static_cast<size_t>(j)], [&] { prepare(j); });
    return columns_[static_cast<size_t>(j)];
  }

 private:
  void prepare(Index j) const {
    std::vector<Entry>& col = columns_[static_cast<size_t>(j)];
    for (SparseMatrix::InnerIterator it(A_, j); it; ++it) {
      const double key = std::abs(it.value()) * mbar_[it.row()] * kBoundSlack;
      if (key > 0 && key * xbar_[j] * kBoundSlack >= threshold_)
        col.push_back({key, it.value(), static_cast<std::int32_t>(it.row())});
    }
    std::sort(col.begin(), col.end(),
              [](const Entry& a, const Entry& b) { return a.key > b.key || (a.key == b.key && a.row < b.row); });
    col.shrink_to_fit();
  }

  const SparseMatrix& A_;
  const Vector& mbar_;
  const Vector& xbar_;
  double threshold_;
  mutable std::vector<std::vector<Entry>> columns_;
  std::unique_ptr<std::once_flag[]> once_;
};

/// A subtree root: final product `root` and, unless child < 0, its first supplier.
struct Task {
  std::int32_t root;
  std::int32_t child;  // -1: only the depth-0 path of root
  double w;            // weight of the task's top node
};

/// Paths recorded by one task, in depth-first order, emitter first.
struct TaskPaths {
  std::vector<double> values;
  std::vector<std::uint16_t> depths;
  std::vector<std::int32_t> nodes;  // concatenated, depth + 1 each
  Index expanded = 0;
};

enum StopReason : int { kNone = 0, kMaxPaths = 1, kTime = 2 };

struct Search {
  const SortedColumns& g;
  const double* s;
  const double* mbar;
  double threshold;
  int max_depth;
  Index max_paths;
  bool has_deadline;
  Clock::time_point deadline;
  std::atomic<Index>& found;
  std::atomic<int>& stop;
  std::atomic<bool>& depth_capped;

  struct Walker {
    const Search& S;
    TaskPaths& out;
    std::vector<std::int32_t> stack;

    void record(int depth, double value) {
      // The shared counter is touched only under a path limit (paths_found is counted at the merge).
      if (S.max_paths > 0 && S.found.fetch_add(1, std::memory_order_relaxed) >= S.max_paths) {
        int none = kNone;
        S.stop.compare_exchange_strong(none, kMaxPaths);
        return;
      }
      out.values.push_back(value);
      out.depths.push_back(static_cast<std::uint16_t>(depth));
      for (int t = depth; t >= 0; --t) out.nodes.push_back(stack[static_cast<size_t>(t)]);
    }

    /// Visit node j at `depth` with weight w (its bound was checked by the caller).
    void visit(std::int32_t j, double w, int depth) {
      if (S.stop.load(std::memory_order_relaxed) != kNone) return;
      ++out.expanded;
      // The clock is read every 1024 nodes per thread (not per task: small tasks would never look).
      thread_local std::uint32_t tick = 0;
      if ((++tick & 1023) == 0 && S.has_deadline && Clock::now() > S.deadline) {
        int none = kNone;
        S.stop.compare_exchange_strong(none, kTime);
        return;
      }
      stack[static_cast<size_t>(depth)] = j;
      const double v = S.s[j] * w;
      if (v != 0 && std::abs(v) >= S.threshold) record(depth, v);
      const double aw = std::abs(w);
      for (const SortedColumns::Entry& e : S.g.column(j)) {
        const double bound = aw * e.key;
        if (!(bound >= S.threshold && bound > 0)) break;  // sorted: every later child is smaller
        if (depth == S.max_depth) {
          if (S.max_depth == kSpaDepthCap) S.depth_capped.store(true, std::memory_order_relaxed);
          break;
        }
        visit(e.row, w * e.value, depth + 1);
      }
    }
  };

  void run(const Task& task, TaskPaths& out) const {
    Walker walker{*this, out, std::vector<std::int32_t>(static_cast<size_t>(max_depth) + 1)};
    if (task.child < 0) {
      // Depth 0 only: the final product's own direct emission.
      ++out.expanded;
      walker.stack[0] = task.root;
      const double v = s[task.root] * task.w;
      if (v != 0 && std::abs(v) >= threshold) walker.record(0, v);
      return;
    }
    walker.stack[0] = task.root;
    walker.visit(task.child, task.w, 1);
  }
};

/// Strict total order of paths: |value| descending, then nodes lexicographically.
bool better(double va, const std::int32_t* a, int da, double vb, const std::int32_t* b, int db) {
  const double x = std::abs(va), y = std::abs(vb);
  if (x != y) return x > y;
  return std::lexicographical_compare(a, a + da + 1, b, b + db + 1);
}
bool better(const SpaPath& a, const SpaPath& b) {
  return better(a.value, a.nodes.data(), a.depth(), b.value, b.nodes.data(), b.depth());
}

void check_spa_input(const SparseMatrix& A, const LeontiefSolver& solver, const Eigen::Ref<const Vector>& s,
                     const Eigen::Ref<const Vector>& y, const SpaOptions& o) {
  const Index n = solver.n();
  MRIOTRACE_CHECK(A.rows() == n && A.cols() == n, "A is ", A.rows(), " x ", A.cols(),
                  "; expected the solver's n x n with n = ", n);
  MRIOTRACE_CHECK(n < std::numeric_limits<std::int32_t>::max(), "n = ", n, " is too large for SPA (max 2^31 - 1)");
  MRIOTRACE_CHECK(s.size() == n, "intensity vector s has ", s.size(), " entries; expected n = ", n);
  MRIOTRACE_CHECK(y.size() == n, "demand vector y has ", y.size(), " entries; expected n = ", n);
  check_finite(s, "intensity vector s");
  check_finite(y, "demand vector y");
  check_spa_options(o);
}

}  // namespace

void check_spa_options(const SpaOptions& o) {
  MRIOTRACE_CHECK(std::isfinite(o.tau) && o.tau >= 0, "tau = ", o.tau,
                  "; expected a finite threshold >= 0 (a fraction of the total, or absolute)");
  MRIOTRACE_CHECK(o.absolute || o.tau <= 1, "tau = ", o.tau,
                  " as a fraction of the total must be <= 1 (set absolute for a threshold in the stressor's unit)");
  MRIOTRACE_CHECK(o.max_depth >= -1 && o.max_depth <= kSpaMaxDepth, "max_depth = ", o.max_depth,
                  "; expected 0..", kSpaMaxDepth, " steps, or -1 for unlimited");
  MRIOTRACE_CHECK(!(o.max_depth == -1 && o.tau == 0), "tau = 0 with unlimited depth (max_depth = -1) would "
                  "enumerate infinitely many paths; give tau > 0 or a finite max_depth");
  MRIOTRACE_CHECK(o.max_paths >= 0, "max_paths = ", o.max_paths, "; expected >= 0 (0 = no limit)");
  MRIOTRACE_CHECK(o.keep >= 0, "keep = ", o.keep, "; expected >= 0 (0 = keep every path found)");
  MRIOTRACE_CHECK(std::isfinite(o.time_budget) && o.time_budget >= 0, "time_budget = ", o.time_budget,
                  "; expected seconds >= 0 (0 = no limit)");
  MRIOTRACE_CHECK(o.threads >= 0, "threads = ", o.threads, "; expected >= 0 (0 = all cores)");
}

SpaResult spa(const SparseMatrix& A, const LeontiefSolver& solver, const Eigen::Ref<const Vector>& s,
              const Eigen::Ref<const Vector>& y, const SpaOptions& o, PathSink* sink) {
  check_spa_input(A, solver, s, y, o);
  const auto t0 = Clock::now();
  const Index n = solver.n();
  SpaResult res;
  res.max_depth = o.max_depth < 0 ? kSpaDepthCap : o.max_depth;

  // m = s L (one transposed solve); total = m . y.
  const Vector m = solver.solve_transposed(Eigen::Map<const Matrix>(s.data(), n, 1)).col(0);
  res.total = m.dot(y);
  res.threshold = o.absolute ? o.tau : o.tau * std::abs(res.total);

  // The bounds: mbar = |s| (I - |A|)^-1 bounds the value of a subtree per unit
  // of weight, xbar = (I - |A|)^-1 |y| the weight of any node (see sort_columns).
  // With A, s, y >= 0 they are m and L y; otherwise extra solves (with |A|:
  // a factorisation of I - |A|).
  bool A_negative = false;
  for (Index q = 0; q < A.nonZeros(); ++q) A_negative = A_negative || A.valuePtr()[q] < 0;
  const bool s_negative = (s.array() < 0).any();
  // |A| has A's pattern: the solver's analysis is reused.
  std::unique_ptr<LeontiefSolver> abs_solver;
  if (A_negative) abs_solver = std::make_unique<LeontiefSolver>(solver.refactored(SparseMatrix(A.cwiseAbs())));
  const LeontiefSolver& bound_solver = A_negative ? *abs_solver : solver;
  Vector mbar = m, xbar;
  if (A_negative || s_negative) {
    const Vector abs_s = s.cwiseAbs();
    mbar = bound_solver.solve_transposed(Eigen::Map<const Matrix>(abs_s.data(), n, 1)).col(0);
  }
  {
    const Vector abs_y = y.cwiseAbs();
    xbar = bound_solver.solve(Eigen::Map<const Matrix>(abs_y.data(), n, 1)).col(0);
  }
  // Rounding can leave tiny negatives where the true value is 0.
  mbar = mbar.cwiseMax(0.0);
  xbar = xbar.cwiseMax(0.0);
  const SortedColumns g(A, mbar, xbar, res.threshold);

  // Tasks: each final product's depth-0 path, then one task per first supplier
  // whose bound passes (the subtrees below are what runs in parallel).
  std::vector<Index> roots;
  for (Index j = 0; j < n; ++j)
    if (y[j] != 0 && std::abs(y[j]) * mbar[j] * kBoundSlack >= res.threshold) roots.push_back(j);
  if (res.max_depth > 0)  // the final products' columns are all needed: prepare them in parallel
    parallel_for(0, static_cast<std::int64_t>(roots.size()), o.threads,
                 [&](std::int64_t i) { g.column(roots[static_cast<size_t>(i)]); }, 16);
  std::vector<Task> tasks;
  for (Index j : roots) {
    const double wy = y[j];
    const auto root = static_cast<std::int32_t>(j);
    tasks.push_back({root, -1, wy});
    if (res.max_depth == 0) continue;
    for (const SortedColumns::Entry& e : g.column(j)) {
      const double bound = std::abs(wy) * e.key;
      if (!(bound >= res.threshold && bound > 0)) break;
      tasks.push_back({root, e.row, wy * e.value});
    }
  }
  res.setup_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (sink) sink->begin(res.total, res.threshold);

  const auto t1 = Clock::now();
  std::atomic<Index> found{0};
  std::atomic<int> stop{kNone};
  std::atomic<bool> depth_capped{false};
  const Search search{g, s.data(), mbar.data(), res.threshold, res.max_depth, o.max_paths, o.time_budget > 0,
                      t1 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.time_budget)),
                      found, stop, depth_capped};

  std::vector<double> by_depth(static_cast<size_t>(res.max_depth) + 1, 0.0);
  std::vector<SpaPath>& kept = res.paths;  // keep == 0: every path; else a heap whose front is the worst kept
  const auto keep = static_cast<size_t>(o.keep);
  auto heap_order = [](const SpaPath& a, const SpaPath& b) { return better(a, b); };

  std::vector<TaskPaths> outs;
  for (size_t first = 0; first < tasks.size() && stop.load() == kNone; first += kTasksPerRound) {
    if (o.time_budget > 0 && Clock::now() > search.deadline) {
      stop = kTime;
      break;
    }
    const size_t count = std::min(kTasksPerRound, tasks.size() - first);
    outs.assign(count, TaskPaths{});
    parallel_for(0, static_cast<std::int64_t>(count), o.threads,
                 [&](std::int64_t i) { search.run(tasks[first + static_cast<size_t>(i)], outs[static_cast<size_t>(i)]); });
    // Flush in task order: the same stream, sums and kept set for any thread count.
    for (const TaskPaths& out : outs) {
      res.nodes_expanded += out.expanded;
      const std::int32_t* nodes = out.nodes.data();
      for (size_t p = 0; p < out.values.size(); ++p) {
        const int d = out.depths[p];
        const double v = out.values[p];
        by_depth[static_cast<size_t>(d)] += v;
        ++res.paths_found;
        if (sink) sink->write(nodes, d, v);
        if (keep == 0 || kept.size() < keep) {
          kept.push_back({std::vector<std::int32_t>(nodes, nodes + d + 1), v});
          if (keep > 0) std::push_heap(kept.begin(), kept.end(), heap_order);
        } else if (better(v, nodes, d, kept.front().value, kept.front().nodes.data(), kept.front().depth())) {
          std::pop_heap(kept.begin(), kept.end(), heap_order);
          kept.back() = {std::vector<std::int32_t>(nodes, nodes + d + 1), v};
          std::push_heap(kept.begin(), kept.end(), heap_order);
        }
        nodes += d + 1;
      }
    }
  }
  std::sort(kept.begin(), kept.end(), heap_order);
  res.search_seconds = std::chrono::duration<double>(Clock::now() - t1).count();

  res.coverage_by_depth = Vector::Zero(res.max_depth + 1);
  double covered = 0;
  for (size_t d = 0; d < by_depth.size(); ++d) covered += by_depth[d];
  if (res.total != 0) {
    for (size_t d = 0; d < by_depth.size(); ++d)
      res.coverage_by_depth[static_cast<Index>(d)] = by_depth[d] / res.total;
    res.coverage = covered / res.total;
  }
  switch (stop.load()) {
    case kMaxPaths: res.truncated = true; res.truncation = "max_paths"; break;
    case kTime: res.truncated = true; res.truncation = "time_budget"; break;
    default:
      if (depth_capped.load()) {
        res.truncated = true;
        res.truncation = "depth_cap";
      }
  }
  return res;
}

SpaPathDetail spa_path_detail(const SparseMatrix& A, const Eigen::Ref<const Vector>& s, const std::int32_t* nodes,
                              int depth) {
  MRIOTRACE_CHECK(depth >= 0, "path depth ", depth, " is negative");
  SpaPathDetail d;
  d.intensities.reserve(static_cast<size_t>(depth) + 1);
  d.coefficients.reserve(static_cast<size_t>(depth));
  for (int t = 0; t <= depth; ++t) {
    const std::int32_t j = nodes[t];
    MRIOTRACE_CHECK(j >= 0 && j < s.size(), "path node ", j, " is outside 0..", s.size() - 1);
    d.intensities.push_back(s[j]);
    if (t < depth) d.coefficients.push_back(A.coeff(j, nodes[t + 1]));  // emitter j supplies nodes[t+1]
  }
  return d;
}

Vector target_demand(const MrioSystem& system, Index region, Index product) {
  MRIOTRACE_CHECK(system.Y().cols() > 0, "the system has no final demand Y; SPA of a region's demand needs Y");
  MRIOTRACE_CHECK(region >= -1 && region < system.R(), "region index ", region, " is outside 0..", system.R() - 1,
                  " (or -1 for all regions)");
  MRIOTRACE_CHECK(product >= -1 && product < system.n(), "product index ", product, " is outside 0..",
                  system.n() - 1, " (or -1 for all products)");
  const Matrix Yr = system.Y_by_region();
  Vector y = region >= 0 ? Vector(Yr.col(region)) : Vector(Yr.rowwise().sum());
  if (product >= 0) {
    const double keep = y[product];
    y.setZero();
    y[product] = keep;
  }
  return y;
}

}  // namespace mriotrace
