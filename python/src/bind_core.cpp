// Bindings of the engine: Labels, MrioSystem, LeontiefSolver and the accounts.
//
// The GIL is released around everything that factors or solves (system
// construction from A, solver construction, solves, accounts). Python objects
// are converted before the release and results are wrapped after it.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>

#include "common.hpp"
#include "mriotrace/accounts.hpp"
#include "mriotrace/characterize.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace mriotrace::py {
namespace {

using ConstRef = Eigen::Ref<const Matrix>;
using ConstVecRef = Eigen::Ref<const Vector>;

SolverOptions make_options(const std::string& solver, int threads, double max_residual, double tol,
                           Index max_iterations, Index block_size, bool fallback, Index restart) {
  MRIOTRACE_CHECK(threads >= 0, "threads = ", threads, "; expected >= 0 (0 = OMP_NUM_THREADS or all cores)");
  SolverOptions o{solver_kind_from_string(solver), threads, max_residual};
  o.tolerance = tol;
  o.max_iterations = max_iterations;
  o.block_size = block_size;
  o.fallback = fallback;
  o.restart = restart;
  return o;
}

// The solver keywords shared by LeontiefSolver() and LeontiefSolver.for_system().
#define MRIOTRACE_SOLVER_KWARGS                                                                             \
  "solver"_a = "auto", "threads"_a = 0, "max_residual"_a = 1e-8, "tol"_a = 1e-13, "max_iterations"_a = 1000, \
  "block_size"_a = 0, "fallback"_a = true, "restart"_a = 30

AccountsOptions make_accounts_options(bool sector_level, bool regional, std::vector<Index> stressors) {
  AccountsOptions o;
  o.sector_level = sector_level;
  o.regional = regional;
  o.stressors = std::move(stressors);
  return o;
}

nb::dict diagnostics_dict(const SolveDiagnostics& d) {
  nb::dict out;
  out["solver"] = to_string(d.kind);
  out["threads"] = d.threads;
  out["factor_seconds"] = d.factor_seconds;
  out["solve_seconds"] = d.solve_seconds;
  out["rhs_solved"] = d.rhs_solved;
  out["max_relative_residual"] = d.max_relative_residual;
  out["rcond_estimate"] = d.rcond_estimate;
  out["reason"] = d.reason;
  out["last_solver"] = to_string(d.last_kind);
  out["preconditioner"] = d.preconditioner;
  out["iterations"] = d.iterations;
  out["total_iterations"] = d.total_iterations;
  out["last_relative_residual"] = d.last_relative_residual;
  out["fell_back"] = d.fell_back;
  out["fallback_reason"] = d.fallback_reason;
  out["kernel_seconds"] = d.kernel_seconds;
  out["preconditioner_seconds"] = d.preconditioner_seconds;
  out["analyses"] = d.analyses;
  out["refactors"] = d.refactors;
  out["analysis_reused"] = d.analysis_reused;
  return out;
}

/// Read-only NumPy views of engine-owned data, kept alive by `owner`.
nb::object view(const Vector& v, nb::handle owner) {
  return nb::ndarray<nb::numpy, const double, nb::ndim<1>>(v.data(), {static_cast<size_t>(v.size())}, owner).cast();
}
nb::object view(const Matrix& m, nb::handle owner) {
  // Column-major: element strides (1, rows).
  return nb::ndarray<nb::numpy, const double, nb::ndim<2>, nb::f_contig>(
             m.data(), {static_cast<size_t>(m.rows()), static_cast<size_t>(m.cols())}, owner,
             {1, static_cast<std::int64_t>(m.rows())})
      .cast();
}

/// solve / solve_transposed for one vector b (n,) -> (n,) and for a block B (n, m) -> (n, m);
/// X0 (same shape) is an optional warm start for the iterative solvers.
template <Matrix (LeontiefSolver::*Solve)(const Eigen::Ref<const Matrix>&) const,
          Matrix (LeontiefSolver::*Warm)(const Eigen::Ref<const Matrix>&, const Eigen::Ref<const Matrix>&) const>
void def_solve(nb::class_<LeontiefSolver>& cls, const char* name, const char* op) {
  cls.def(
      name,
      [](const LeontiefSolver& s, ConstVecRef b, std::optional<Vector> x0) -> Vector {
        const Eigen::Map<const Matrix> B(b.data(), b.size(), 1);
        nb::gil_scoped_release release;
        if (x0) return (s.*Warm)(B, Eigen::Map<const Matrix>(x0->data(), x0->size(), 1)).col(0);
        return (s.*Solve)(B).col(0);
      },
      "b"_a, "X0"_a = nb::none(),
      detail::concat("x = ", op, " b for one right-hand side b, (n,); X0: warm start (n,) or None").c_str());
  cls.def(
      name,
      [](const LeontiefSolver& s, ConstRef B, std::optional<Matrix> x0) {
        nb::gil_scoped_release release;
        if (x0) return (s.*Warm)(B, *x0);
        return (s.*Solve)(B);
      },
      "B"_a, "X0"_a = nb::none(),
      detail::concat("X = ", op, " B, B: (n, m); X0: warm start (n, m) for the iterative solvers, or None").c_str());
}

}  // namespace

void bind_core(nb::module_& m) {
  nb::class_<Labels>(m, "Labels", "Labels of every axis of a system (sectors are the same in every region).")
      .def(nb::init<>())
      .def_rw("regions", &Labels::regions, "R region names, unique")
      .def_rw("sectors", &Labels::sectors, "N sector names, unique")
      .def_rw("fd_categories", &Labels::fd_categories, "c final-demand categories per region")
      .def_rw("stressors", &Labels::stressors, "k stressor names, unique")
      .def_rw("stressor_units", &Labels::stressor_units, "k units (empty: all '')")
      .def_rw("indicators", &Labels::indicators, "m indicator names (rows of C)")
      .def_rw("indicator_units", &Labels::indicator_units, "m units (empty: all '')")
      .def_rw("monetary_unit", &Labels::monetary_unit, "unit of Z, Y, x, v")
      .def("__repr__", [](const Labels& l) {
        return detail::concat("Labels(R=", l.R(), ", N=", l.N(), ", c=", l.c(), ", k=", l.k(), ", m=", l.m(),
                              ", monetary_unit='", l.monetary_unit, "')");
      });

  nb::class_<MrioSystem>(m, "MrioSystem",
                         "A validated EE-MRIO system: sparse A (n x n CSC), x (n), Y (n x R*c), S (k x n), "
                         "F_Y (k x R*c or empty), v (n or empty), C (m x k or empty). Region-major order.")
      .def_static(
          "build",
          [](Labels labels, nb::object Z, nb::object A, std::optional<Vector> x, std::optional<Matrix> Y,
             std::optional<Matrix> F, std::optional<Matrix> S, std::optional<Matrix> F_Y, std::optional<Vector> v,
             std::optional<Matrix> C, int threads) {
            SystemInput in;
            in.labels = std::move(labels);
            if (!Z.is_none()) in.Z = csc_from_scipy(Z, "Z");
            if (!A.is_none()) in.A = csc_from_scipy(A, "A");
            if (x) in.x = std::move(*x);
            if (Y) in.Y = std::move(*Y);
            if (F) in.F = std::move(*F);
            if (S) in.S = std::move(*S);
            if (F_Y) in.F_Y = std::move(*F_Y);
            if (v) in.v = std::move(*v);
            if (C) in.C = std::move(*C);
            nb::gil_scoped_release release;  // x from A and Y needs a factorisation
            return MrioSystem::build(std::move(in), threads);
          },
          "labels"_a, "Z"_a = nb::none(), "A"_a = nb::none(), "x"_a = nb::none(), "Y"_a = nb::none(),
          "F"_a = nb::none(), "S"_a = nb::none(), "F_Y"_a = nb::none(), "v"_a = nb::none(), "C"_a = nb::none(),
          "threads"_a = 0,
          "Build and validate a system. Z or A (scipy.sparse CSC, int64 indices); F or S; the rest optional. "
          "Raises ValueError for bad shapes/labels/values, RuntimeError (NumericError) for a non-productive "
          "or singular system.")
      .def_prop_ro("labels", &MrioSystem::labels, nb::rv_policy::copy)
      .def_prop_ro("n", &MrioSystem::n)
      .def_prop_ro("R", &MrioSystem::R)
      .def_prop_ro("N", &MrioSystem::N)
      .def_prop_ro("c", &MrioSystem::c)
      .def_prop_ro("k", &MrioSystem::k)
      .def_prop_ro("has_F_Y", &MrioSystem::has_F_Y)
      .def_prop_ro("has_value_added", &MrioSystem::has_value_added)
      .def_prop_ro("has_indicators", &MrioSystem::has_indicators)
      .def_prop_ro("density", &MrioSystem::density, "fraction of nonzero entries of A")
      .def(
          "A_csc", [](nb::handle self) { return csc_views(nb::cast<const MrioSystem&>(self).A(), self); },
          "((n, n), data, indices, indptr): read-only views of A's CSC arrays (int64 indices)")
      // Read-only views into the system (no copy); they keep the system alive.
      // (nanobind's Eigen caster would hand out writable views of const data.)
      .def_prop_ro("x", [](nb::handle self) { return view(nb::cast<const MrioSystem&>(self).x(), self); },
                   "gross output, (n,)")
      .def_prop_ro("Y", [](nb::handle self) { return view(nb::cast<const MrioSystem&>(self).Y(), self); },
                   "final demand, (n, R*c)")
      .def_prop_ro("S", [](nb::handle self) { return view(nb::cast<const MrioSystem&>(self).S(), self); },
                   "stressor intensities, (k, n)")
      .def_prop_ro("F_Y", [](nb::handle self) { return view(nb::cast<const MrioSystem&>(self).F_Y(), self); },
                   "stressors of final demand, (k, R*c) or (0, 0)")
      .def_prop_ro("v", [](nb::handle self) { return view(nb::cast<const MrioSystem&>(self).v(), self); },
                   "value added, (n,) or (0,)")
      .def_prop_ro("C", [](nb::handle self) { return view(nb::cast<const MrioSystem&>(self).C(), self); },
                   "characterisation factors, (m, k) or (0, 0)")
      .def("F", &MrioSystem::F, "stressor flows F = S diag(x), (k, n)")
      .def("Y_by_region", &MrioSystem::Y_by_region, "final demand summed per region, (n, R)")
      .def("stressor_index", &MrioSystem::stressor_index, "name"_a)
      .def("region_index", &MrioSystem::region_index, "name"_a)
      .def("__repr__", [](const MrioSystem& s) {
        return detail::concat("MrioSystem(R=", s.R(), ", N=", s.N(), ", c=", s.c(), ", k=", s.k(),
                              ", nnz(A)=", s.A().nonZeros(), ")");
      });

  auto solver_cls = nb::class_<LeontiefSolver>(m, "LeontiefSolver",
                             "Factor I - A once; solve blocks of right-hand sides, plain or transposed. "
                             "Every solve checks its relative residual against max_residual.")
      .def(
          "__init__",
          [](LeontiefSolver* self, nb::object A, const std::string& solver, int threads, double max_residual,
             double tol, Index max_iterations, Index block_size, bool fallback, Index restart) {
            SparseMatrix a = csc_from_scipy(A, "A");
            const SolverOptions opts =
                make_options(solver, threads, max_residual, tol, max_iterations, block_size, fallback, restart);
            nb::gil_scoped_release release;
            new (self) LeontiefSolver(a, opts);
          },
          "A"_a, MRIOTRACE_SOLVER_KWARGS,
          "A: n x n scipy.sparse CSC (int64 indices). solver: 'auto', 'dense', 'umfpack', 'klu', 'gmres' or 'power'. "
          "threads: 0 = OMP_NUM_THREADS or all cores. Iterative solvers: tol (relative residual per column), "
          "max_iterations, block_size (sectors per region for the block-Jacobi preconditioner; 0 = none), "
          "fallback (unconverged: finish with a direct solver, else raise RuntimeError), restart (GMRES).")
      .def_static(
          "for_system",
          [](const MrioSystem& system, const std::string& solver, int threads, double max_residual, double tol,
             Index max_iterations, Index block_size, bool fallback, Index restart) {
            const SolverOptions opts =
                make_options(solver, threads, max_residual, tol, max_iterations, block_size, fallback, restart);
            nb::gil_scoped_release release;
            return make_solver(system, opts);
          },
          "system"_a, MRIOTRACE_SOLVER_KWARGS,
          "Factor I - A of a system (no copy of A through Python); block_size = 0 means the system's sectors "
          "per region (each region's domestic block preconditions the iterative solvers).")
      .def_prop_ro("n", &LeontiefSolver::n)
      .def(
          "refactor",
          [](LeontiefSolver& s, nb::object A) {
            SparseMatrix a = csc_from_scipy(A, "A");
            nb::gil_scoped_release release;
            s.refactor(a);
          },
          "A"_a,
          "Factor I - A for new coefficients A (n x n scipy.sparse CSC, the solver's n), same backend and "
          "options. With A's pattern unchanged the symbolic analysis is reused (UMFPACK, KLU); a new pattern "
          "is analysed afresh. diagnostics()['analysis_reused'] says which.")
      .def(
          "refactored",
          [](const LeontiefSolver& s, nb::object A) {
            SparseMatrix a = csc_from_scipy(A, "A");
            nb::gil_scoped_release release;
            return s.refactored(a);
          },
          "A"_a, "A new solver for new coefficients A sharing this one's analysis (as refactor); this one is unchanged.")
      .def(
          "leontief_inverse",
          [](const LeontiefSolver& s) {
            nb::gil_scoped_release release;
            return s.leontief_inverse();
          },
          "The dense n x n Leontief inverse L = (I - A)^-1 (n^2 doubles: only on request).")
      .def("diagnostics", [](const LeontiefSolver& s) { return diagnostics_dict(s.diagnostics()); },
           "dict: solver, reason, last_solver, preconditioner, threads, factor_seconds, solve_seconds, "
           "kernel_seconds, preconditioner_seconds, rhs_solved, iterations, total_iterations, "
           "last_relative_residual, max_relative_residual, fell_back, fallback_reason, rcond_estimate, analyses, "
           "refactors, analysis_reused")
      .def_static(
          "choose",
          [](Index n, Index nnz, Index block_size) {
            return to_string(LeontiefSolver::choose(n, nnz, block_size));
          },
          "n"_a, "nnz"_a, "block_size"_a = 0,
          "The backend 'auto' picks for an n x n system with nnz nonzeros and region blocks of block_size "
          "(0 = none).")
      .def("__repr__", [](const LeontiefSolver& s) {
        return detail::concat("LeontiefSolver(n=", s.n(), ", solver='", to_string(s.diagnostics().kind),
                              "', threads=", s.diagnostics().threads, ")");
      });

  def_solve<&LeontiefSolver::solve, &LeontiefSolver::solve>(solver_cls, "solve", "(I - A)^-1");
  def_solve<&LeontiefSolver::solve_transposed, &LeontiefSolver::solve_transposed>(solver_cls, "solve_transposed",
                                                                                   "(I - A)^-T");

  m.def(
      "characterize",
      [](const MrioSystem& system, std::vector<std::string> impacts, std::vector<std::string> impact_units,
         std::vector<std::string> stressors, const Matrix& factors) {
        CharacterisationTable table{std::move(impacts), std::move(impact_units), std::move(stressors), factors};
        nb::gil_scoped_release release;
        return characterize(system, table);
      },
      "system"_a, "impacts"_a, "impact_units"_a, "stressors"_a, "factors"_a,
      "The system with impact rows appended: S_new = factors S[stressors], F_Y_new = factors F_Y[stressors].");

  m.def(
      "check_productive",
      [](nb::handle A) {
        const SparseMatrix a = csc_from_scipy(A, "A");
        return check_productive(a);
      },
      "A"_a,
      "Raise NumericError (RuntimeError) when the spectral radius of A is >= 1; return an upper bound of it.");

  m.def(
      "calc_M",
      [](const LeontiefSolver& solver, ConstRef S) {
        nb::gil_scoped_release release;
        return calc_M(solver, S);
      },
      "solver"_a, "S"_a, "Total multipliers M = S (I - A)^-1, (k, n), from k transposed solves.");

  m.def(
      "calc_accounts",
      [](const LeontiefSolver& solver, ConstRef S, ConstRef Yr, std::optional<Matrix> F_Y_r, Index R,
         bool sector_level, bool regional) {
        const AccountsOptions opts = make_accounts_options(sector_level, regional, {});
        const Matrix FYr = F_Y_r ? std::move(*F_Y_r) : Matrix();  // k x R: small, a copy is fine
        Accounts acc;
        {
          nb::gil_scoped_release release;
          acc = calc_accounts(solver, S, Yr, FYr, R, opts);
        }
        return accounts_to_dict(std::move(acc));
      },
      "solver"_a, "S"_a, "Y_r"_a, "F_Y_r"_a.none(), "R"_a, "sector_level"_a = true, "regional"_a = true,
      "Accounts of an arbitrary extension. S: (k, n); Y_r: (n, R) final demand per region; F_Y_r: (k, R) or "
      "None. Returns a dict of arrays (pymrio layouts, k x n and k x R; Q: (k, R, R), Q[s, p, r] = emitted "
      "in p for final demand of r).");

  m.def(
      "calc_accounts",
      [](const MrioSystem& system, const LeontiefSolver& solver, bool sector_level, bool regional,
         std::vector<Index> stressors) {
        const AccountsOptions opts = make_accounts_options(sector_level, regional, std::move(stressors));
        Accounts acc;
        {
          nb::gil_scoped_release release;
          acc = calc_accounts(system, solver, opts);
        }
        return accounts_to_dict(std::move(acc));
      },
      "system"_a, "solver"_a, "sector_level"_a = true, "regional"_a = true,
      "stressors"_a = std::vector<Index>{},
      "Accounts of the system's stressors (rows `stressors`, default all), F_Y included in the _reg totals.");

  m.def(
      "calc_value_added_accounts",
      [](const MrioSystem& system, const LeontiefSolver& solver, bool sector_level, bool regional) {
        const AccountsOptions opts = make_accounts_options(sector_level, regional, {});
        Accounts acc;
        {
          nb::gil_scoped_release release;
          acc = calc_value_added_accounts(system, solver, opts);
        }
        return accounts_to_dict(std::move(acc));
      },
      "system"_a, "solver"_a, "sector_level"_a = true, "regional"_a = true,
      "Accounts of value added as a one-row extension (v / x).");

  m.def(
      "calc_accounts_with_value_added",
      [](const MrioSystem& system, const LeontiefSolver& solver, bool sector_level, bool regional,
         std::vector<Index> stressors) {
        const AccountsOptions opts = make_accounts_options(sector_level, regional, std::move(stressors));
        std::pair<Accounts, Accounts> acc;
        {
          nb::gil_scoped_release release;
          acc = calc_accounts_with_value_added(system, solver, opts);
        }
        return nb::make_tuple(accounts_to_dict(std::move(acc.first)), accounts_to_dict(std::move(acc.second)));
      },
      "system"_a, "solver"_a, "sector_level"_a = true, "regional"_a = true,
      "stressors"_a = std::vector<Index>{},
      "(stressor accounts, value-added accounts) from one set of solves (v / x solved with the stressors).");

  m.def(
      "calc_demand_footprint",
      [](const LeontiefSolver& solver, ConstRef S, ConstRef M, ConstVecRef y) {
        DemandFootprint fp;
        {
          nb::gil_scoped_release release;
          fp = calc_demand_footprint(solver, S, M, y);
        }
        nb::dict d;
        d["final"] = to_numpy(std::move(fp.final_));
        d["direct"] = to_numpy(std::move(fp.direct));
        d["x"] = to_numpy(std::move(fp.x));
        return d;
      },
      "solver"_a, "S"_a, "M"_a, "y"_a,
      "USEEIO-style footprint of one demand vector y (n,): final = M diag(y), direct = S diag(L y) (both k x n), "
      "x = L y.");
}

}  // namespace mriotrace::py
