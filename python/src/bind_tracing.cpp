// Bindings of supply-chain tracing (tracing.hpp, io/path_writer.hpp): SPA,
// production layers, hypothetical extraction, linkages, the Ghosh model.
// Results come back as dicts of NumPy arrays; mriotrace/tracing.py adds labels.
// The GIL is released around every search and solve.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <optional>

#include "common.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/path_writer.hpp"
#include "mriotrace/spa_report.hpp"
#include "mriotrace/tracing.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace mriotrace::py {
namespace {

using ConstRef = Eigen::Ref<const Matrix>;
using ConstVecRef = Eigen::Ref<const Vector>;
using IndexVector = Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>;

/// Kept paths as flat arrays: values (P), depths (P), offsets (P + 1), nodes,
/// intensities (both sum(depth + 1)) and coefficients (sum(depth)).
nb::dict spa_to_dict(const SparseMatrix& A, const Vector& s, SpaResult&& r) {
  const auto P = static_cast<Index>(r.paths.size());
  Vector values(P);
  IndexVector depths(P), offsets(P + 1);
  offsets[0] = 0;
  for (Index p = 0; p < P; ++p) {
    values[p] = r.paths[static_cast<size_t>(p)].value;
    depths[p] = r.paths[static_cast<size_t>(p)].depth();
    offsets[p + 1] = offsets[p] + depths[p] + 1;
  }
  IndexVector nodes(offsets[P]);
  Vector intensities(offsets[P]), coefficients(offsets[P] - P);
  for (Index p = 0; p < P; ++p) {
    const SpaPath& path = r.paths[static_cast<size_t>(p)];
    const SpaPathDetail d = spa_path_detail(A, s, path.nodes.data(), path.depth());
    for (Index t = 0; t <= depths[p]; ++t) {
      nodes[offsets[p] + t] = path.nodes[static_cast<size_t>(t)];
      intensities[offsets[p] + t] = d.intensities[static_cast<size_t>(t)];
      if (t < depths[p]) coefficients[offsets[p] - p + t] = d.coefficients[static_cast<size_t>(t)];
    }
  }
  nb::dict out;
  out["total"] = r.total;
  out["threshold"] = r.threshold;
  out["max_depth"] = r.max_depth;
  out["paths_found"] = r.paths_found;
  out["coverage"] = r.coverage;
  out["coverage_by_depth"] = to_numpy(std::move(r.coverage_by_depth));
  out["nodes_expanded"] = r.nodes_expanded;
  out["setup_seconds"] = r.setup_seconds;
  out["search_seconds"] = r.search_seconds;
  out["truncated"] = r.truncated;
  out["truncation"] = r.truncation;
  out["values"] = to_numpy(std::move(values));
  out["depths"] = nb::cast(std::move(depths), nb::rv_policy::move);
  out["offsets"] = nb::cast(std::move(offsets), nb::rv_policy::move);
  out["nodes"] = nb::cast(std::move(nodes), nb::rv_policy::move);
  out["intensities"] = to_numpy(std::move(intensities));
  out["coefficients"] = to_numpy(std::move(coefficients));
  return out;
}

/// Extraction results as dicts: sectors, x, x_star, delta_D, delta_total, woodbury.
nb::list extraction_to_python(std::vector<ExtractionResult>& res) {
  nb::list out;
  for (auto& r : res) {
    nb::dict d;
    d["sectors"] = nb::cast(r.sectors);
    d["x"] = to_numpy(std::move(r.x));
    d["x_star"] = to_numpy(std::move(r.x_star));
    d["delta_D"] = to_numpy(std::move(r.delta_D));
    d["delta_total"] = to_numpy(std::move(r.delta_total));
    d["woodbury"] = r.woodbury;
    out.append(d);
  }
  return out;
}

}  // namespace

void bind_tracing(nb::module_& m) {
  m.def(
      "spa",
      [](const MrioSystem& system, const LeontiefSolver& solver, const Vector& s, ConstVecRef y, double tau,
         bool absolute, int max_depth, Index max_paths, Index keep, double time_budget, int threads,
         std::optional<std::string> csv, std::optional<std::string> h5, std::string stressor, std::string unit,
         std::string demand) {
        SpaOptions o;
        o.tau = tau;
        o.absolute = absolute;
        o.max_depth = max_depth;
        o.max_paths = max_paths;
        o.keep = keep;
        o.time_budget = time_budget;
        o.threads = threads;
        MRIOTRACE_CHECK(solver.n() == system.n(), "solver is for n = ", solver.n(), " but the system has n = ",
                        system.n());
        SpaResult r;
        {
          nb::gil_scoped_release release;
          // Two sinks at most: a small fan-out so CSV and HDF5 can both be written in one search.
          std::optional<io::CsvPathWriter> csv_writer;
          std::optional<io::Hdf5PathWriter> h5_writer;
          if (csv) csv_writer.emplace(*csv, system.labels(), system.A(), s);
          if (h5) h5_writer.emplace(*h5, system.labels(), io::SpaRunInfo{stressor, unit, demand, o});
          struct Fan : PathSink {
            std::vector<PathSink*> sinks;
            void begin(double t, double th) override {
              for (auto* k : sinks) k->begin(t, th);
            }
            void write(const std::int32_t* nodes, int depth, double value) override {
              for (auto* k : sinks) k->write(nodes, depth, value);
            }
          } fan;
          if (csv_writer) fan.sinks.push_back(&*csv_writer);
          if (h5_writer) fan.sinks.push_back(&*h5_writer);
          r = spa(system.A(), solver, s, y, o, fan.sinks.empty() ? nullptr : &fan);
          if (csv_writer) csv_writer->finish();
          if (h5_writer) h5_writer->finish(r);
        }
        return spa_to_dict(system.A(), s, std::move(r));
      },
      "system"_a, "solver"_a, "s"_a, "y"_a, "tau"_a = 1e-4, "absolute"_a = false, "max_depth"_a = 8,
      "max_paths"_a = 10'000'000, "keep"_a = 100'000, "time_budget"_a = 0.0, "threads"_a = 0,
      "csv"_a = nb::none(), "h5"_a = nb::none(), "stressor"_a = "", "unit"_a = "", "demand"_a = "",
      "Structural path analysis of s L y (s, y: (n,)). Every path with |value| >= threshold up to max_depth "
      "is found; the best `keep` are returned (0 = all), every one is streamed to `csv` / `h5` when given. "
      "Returns a dict (summary and flat path arrays: values, depths, offsets, nodes emitter first, "
      "intensities, coefficients).");

  m.def(
      "spa_report",
      [](const MrioSystem& system, double total, double threshold, int max_depth, Index paths_found, double coverage,
         const Vector& coverage_by_depth, bool truncated, std::string truncation, ConstVecRef values,
         const IndexVector& offsets, const IndexVector& nodes, std::string target, std::string unit,
         std::string demand, size_t top) {
        // The kept paths back from spa()'s flat arrays, for the one formatter.
        MRIOTRACE_CHECK(offsets.size() == values.size() + 1, "offsets has ", offsets.size(),
                        " entries; expected one more than values (", values.size(), ")");
        SpaResult r;
        r.total = total;
        r.threshold = threshold;
        r.max_depth = max_depth;
        r.paths_found = paths_found;
        r.coverage = coverage;
        r.coverage_by_depth = coverage_by_depth;
        r.truncated = truncated;
        r.truncation = std::move(truncation);
        const size_t P = std::min(top, static_cast<size_t>(values.size()));
        for (size_t p = 0; p < P; ++p) {
          SpaPath path;
          path.value = values[static_cast<Index>(p)];
          for (auto t = offsets[static_cast<Index>(p)]; t < offsets[static_cast<Index>(p) + 1]; ++t) {
            MRIOTRACE_CHECK(t >= 0 && t < nodes.size() && nodes[t] >= 0 && nodes[t] < system.n(),
                            "path ", p, ": node entry ", t, " is outside the system");
            path.nodes.push_back(static_cast<std::int32_t>(nodes[t]));
          }
          r.paths.push_back(std::move(path));
        }
        std::string text = spa_report(system.labels(), r, target, unit, demand, P);
        if (P < static_cast<size_t>(values.size()))
          text += "     ... " + std::to_string(static_cast<size_t>(values.size()) - P) + " more kept paths\n";
        return text;
      },
      "system"_a, "total"_a, "threshold"_a, "max_depth"_a, "paths_found"_a, "coverage"_a, "coverage_by_depth"_a,
      "truncated"_a, "truncation"_a, "values"_a, "offsets"_a, "nodes"_a, "target"_a, "unit"_a, "demand"_a,
      "top"_a = 20,
      "The SPA summary `mriotrace spa` prints (spa_report.hpp) from spa()'s summary and flat path arrays; "
      "the best `top` paths.");

  m.def(
      "target_demand", [](const MrioSystem& system, Index region, Index product) {
        return target_demand(system, region, product);
      },
      "system"_a, "region"_a = -1, "product"_a = -1,
      "Demand vector (n,): region's final demand (-1: all regions), only `product` kept when >= 0.");

  m.def(
      "production_layers",
      [](const MrioSystem& system, const LeontiefSolver& solver, ConstRef S, ConstVecRef y, int T) {
        ProductionLayers pl;
        {
          nb::gil_scoped_release release;
          pl = production_layers(system.A(), solver, S, y, T, system.R());
        }
        nb::dict d;
        d["output"] = to_numpy(std::move(pl.output));
        d["emissions"] = to_numpy(std::move(pl.emissions));
        d["totals"] = to_numpy(std::move(pl.totals));
        d["total"] = to_numpy(std::move(pl.total));
        return d;
      },
      "system"_a, "solver"_a, "S"_a, "y"_a, "T"_a,
      "Tiers t = 0..T of S L y and the remainder: output (n, T+2) = A^t y, emissions (k*(T+2), R), "
      "totals (k, T+2), total (k,).");

  m.def(
      "hypothetical_extraction",
      [](const MrioSystem& system, const LeontiefSolver& solver, ConstRef S, ConstVecRef y,
         std::vector<std::vector<Index>> sets, const std::string& mode, const std::string& method) {
        const ExtractionMode md = extraction_mode_from_string(mode);
        const ExtractionMethod mt = extraction_method_from_string(method);
        std::vector<ExtractionResult> res;
        {
          nb::gil_scoped_release release;
          res = hypothetical_extraction(system.A(), solver, S, y, sets, md, mt);
        }
        return extraction_to_python(res);
      },
      "system"_a, "solver"_a, "S"_a, "y"_a, "sets"_a, "mode"_a = "full", "method"_a = "auto",
      "Extract each set of sector indices (mode 'full', 'backward', 'forward'; method 'auto', 'woodbury', "
      "'refactor'). Returns a list of dicts: sectors, x, x_star, delta_D (k, n), delta_total (k,), woodbury.");

  m.def(
      "ghosh_forward_extraction",
      [](const MrioSystem& system, ConstRef S, std::vector<std::vector<Index>> sets, int threads) {
        std::vector<ExtractionResult> res;
        {
          nb::gil_scoped_release release;
          res = ghosh_forward_extraction(system.A(), system.x(), S, sets, SolverOptions{SolverKind::Auto, threads});
        }
        return extraction_to_python(res);
      },
      "system"_a, "S"_a, "sets"_a, "threads"_a = 0,
      "Ghosh-based forward extraction (rows of B zeroed, v fixed) of each set; dicts as hypothetical_extraction.");

  m.def(
      "linkages",
      [](const LeontiefSolver& solver, ConstRef S, ConstVecRef x) {
        Linkages lk;
        {
          nb::gil_scoped_release release;
          lk = linkages(solver, S, x);
        }
        nb::dict d;
        d["backward"] = to_numpy(std::move(lk.backward));
        d["forward"] = to_numpy(std::move(lk.forward));
        d["backward_total"] = to_numpy(std::move(lk.backward_total));
        d["forward_total"] = to_numpy(std::move(lk.forward_total));
        d["environmental"] = to_numpy(std::move(lk.environmental));
        d["M"] = to_numpy(std::move(lk.M));
        return d;
      },
      "solver"_a, "S"_a, "x"_a,
      "Rasmussen backward (1^T L normalised), Ghosh forward (G 1 normalised) and environmental (M / mean M) "
      "linkages.");

  m.def(
      "ghosh_B",
      [](const MrioSystem& system) {
        auto* B = new SparseMatrix(ghosh_B(system.A(), system.x()));
        nb::capsule owner(B, [](void* p) noexcept { delete static_cast<SparseMatrix*>(p); });
        return csc_views(*B, owner);
      },
      "system"_a, "Ghosh B = x^-1 A x as ((n, n), data, indices, indptr) CSC arrays.");
  m.def(
      "ghosh_G",
      [](const LeontiefSolver& solver, ConstVecRef x) {
        nb::gil_scoped_release release;
        return ghosh_G(solver, x);
      },
      "solver"_a, "x"_a, "Dense Ghosh inverse G = x^-1 L x, (n, n): forms L, only on request.");
  m.def(
      "ghosh_M_down",
      [](const LeontiefSolver& solver, ConstRef S, ConstVecRef x) {
        nb::gil_scoped_release release;
        return ghosh_M_down(solver, S, x);
      },
      "solver"_a, "S"_a, "x"_a, "Supply-side multipliers M_down = S G^T, (k, n), from k solves.");
}

}  // namespace mriotrace::py
