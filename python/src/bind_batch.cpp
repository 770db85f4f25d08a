// Bindings of batch runs, merging, SDA and LMDI (thin; mriotrace/batch.py and
// mriotrace/sda.py add labels, tqdm progress and pandas tables).
#include <nanobind/stl/function.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <Python.h>

#include <stdexcept>

#include "common.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/batch.hpp"
#include "mriotrace/sda.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace mriotrace::py {
namespace {

nb::dict summary_dict(const io::BatchRunSummary& s) {
  nb::dict d;
  d["output"] = s.output;
  d["total"] = s.total;
  d["resumed"] = s.resumed;
  d["computed"] = s.computed;
  d["failed"] = s.failed;
  d["seconds"] = s.seconds;
  d["setup_seconds"] = s.setup_seconds;
  d["seconds_per_item"] = s.seconds_per_item;
  d["complete"] = s.complete;
  d["failures"] = s.failures;
  return d;
}

}  // namespace

void bind_batch(nb::module_& m) {
  m.def(
      "batch_job_info",
      [](const std::string& text, const std::string& origin, const std::string& base_dir) {
        const io::BatchJob job = io::parse_job_text(text, origin, base_dir);
        const ItemGrid g = job.grid();
        nb::dict d;
        d["output"] = job.output;
        d["total"] = g.total();
        d["systems"] = g.systems;
        d["scenarios"] = job.scenarios;
        d["draws"] = g.draws;
        d["sda"] = g.sda;
        d["threads"] = job.threads;
        d["hash"] = hex64(job.hash);
        return d;
      },
      "text"_a, "origin"_a, "base_dir"_a, "Parse and validate a job (TOML text); dict of its shape.");

  m.def(
      "batch_run",
      [](const std::string& text, const std::string& origin, const std::string& base_dir, int threads,
         int shard_index, int shard_count, const std::string& output, bool restart, bool quiet,
         double snapshot_seconds, std::optional<nb::callable> progress) {
        const io::BatchJob job = io::parse_job_text(text, origin, base_dir);
        io::BatchRunOptions o;
        o.threads = threads;
        o.shard_index = shard_index;
        o.shard_count = shard_count;
        o.output = output;
        o.restart = restart;
        o.quiet = quiet;
        o.snapshot_seconds = snapshot_seconds;
        if (progress) {
          // Called from worker threads: take the GIL, never let a Python error
          // escape into C++ frames (it becomes a runtime_error that stops the run).
          nb::callable cb = *progress;
          o.on_progress = [cb](const io::BatchProgress& p) {
            std::string error;
            {
              nb::gil_scoped_acquire gil;
              try {
                if (PyErr_CheckSignals() != 0) throw nb::python_error();
                cb(p.done, p.total, p.failed, p.items_per_second, p.eta_seconds);
              } catch (nb::python_error& e) {
                error = e.what();
              }
            }
            if (!error.empty()) throw std::runtime_error("batch run stopped: " + error);
          };
        }
        io::BatchRunSummary s;
        {
          nb::gil_scoped_release release;
          s = io::run_batch(job, o);
        }
        return summary_dict(s);
      },
      "text"_a, "origin"_a, "base_dir"_a, "threads"_a = -1, "shard_index"_a = 0, "shard_count"_a = 1,
      "output"_a = "", "restart"_a = false, "quiet"_a = true, "snapshot_seconds"_a = 30.0,
      "progress"_a = nb::none(),
      "Run or resume a batch job (single process; threads per the job or `threads`). "
      "progress(done, total, failed, items_per_second, eta_seconds) is called after each item.");

  m.def(
      "batch_merge",
      [](const std::vector<std::string>& inputs, const std::string& output, bool allow_partial) {
        nb::gil_scoped_release release;
        io::merge_batch(inputs, output, allow_partial);
      },
      "inputs"_a, "output"_a, "allow_partial"_a = false, "Merge shard outputs of one job into one results file.");

  m.def(
      "structural_decomposition",
      [](const MrioSystem& s0, const MrioSystem& s1, const std::string& method, std::vector<Index> stressors,
         bool split_demand, int threads) {
        SdaOptions o;
        o.method = sda_method_from_string(method);
        o.stressors = std::move(stressors);
        o.split_demand = split_demand;
        o.threads = threads;
        Decomposition d;
        {
          nb::gil_scoped_release release;
          d = structural_decomposition(s0, s1, o);
        }
        nb::dict out;
        out["factors"] = d.factors;
        out["E0"] = to_numpy(std::move(d.E0));
        out["E1"] = to_numpy(std::move(d.E1));
        nb::list effects;
        for (auto& e : d.effects) effects.append(to_numpy(std::move(e)));
        out["effects"] = effects;
        return out;
      },
      "system0"_a, "system1"_a, "method"_a = "exact", "stressors"_a = std::vector<Index>{}, "split_demand"_a = false,
      "threads"_a = 0,
      "Additive SDA of E[s, r] = f_s L y_r (k x R) between two systems with the same labels; dict with "
      "factors, E0, E1 and one effect (k x R) per factor, summing to E1 - E0.");

  m.def(
      "lmdi",
      [](const Eigen::Ref<const Matrix>& X0, const Eigen::Ref<const Matrix>& X1) { return lmdi(X0, X1); },
      "X0"_a, "X1"_a,
      "LMDI-I effects (K) of V = sum_i prod_k X[k, i] between two periods (X: K x I, positive); sum = V1 - V0.");
}

}  // namespace mriotrace::py
