// Bindings of batch runs, merging, SDA and LMDI (thin; mriotrace/batch.py and
// mriotrace/sda.py add labels, tqdm progress and pandas tables).
#include <nanobind/stl/function.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <Python.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "common.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/batch/job.hpp"
#include "mriotrace/batch/runner.hpp"
#include "mriotrace/batch/store.hpp"
#include "mriotrace/io/h5.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/sda.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace mriotrace::py {
namespace {

nb::dict summary_dict(const batch::BatchRunSummary& s) {
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

/// A row-major float64 array of shape `dims` (copied into NumPy).
nb::object stored_array(const std::vector<std::uint64_t>& dims, const double* values) {
  size_t count = 1;
  for (auto d : dims) count *= static_cast<size_t>(d);
  auto* data = new double[count];
  std::copy(values, values + count, data);
  nb::capsule owner(data, [](void* p) noexcept { delete[] static_cast<double*>(p); });
  std::vector<size_t> shape(dims.begin(), dims.end());
  return nb::ndarray<nb::numpy, double>(data, shape.size(), shape.data(), owner).cast();
}

/// Everything of a batch results file as plain Python values and NumPy
/// arrays (mriotrace/batch.py builds the tables).
nb::dict contents_dict(batch::BatchFileContents&& c) {
  nb::dict attrs;
  attrs["format"] = batch::kBatchFormat;
  attrs["format_version"] = c.format_version;
  attrs["created_by"] = c.created_by;
  attrs["job"] = c.job_text;
  attrs["scenarios"] = c.scenario_text;
  attrs["job_hash"] = hex64(c.job_hash);
  attrs["total_items"] = c.total_items;
  attrs["shard_index"] = c.shard_index;
  attrs["shard_count"] = c.shard_count;
  attrs["items_done"] = static_cast<Index>(c.items.size());
  attrs["complete"] = c.complete ? 1 : 0;
  nb::dict labels;
  labels["regions"] = c.regions;
  labels["sectors"] = c.sectors;
  labels["stressors"] = c.stressors;
  labels["systems"] = c.systems;
  labels["years"] = c.years;
  labels["scenarios"] = c.scenarios;
  labels["accounts"] = c.accounts;

  // /items columns, and the kept accounts as [items, k, R] (Q: [items, k, R, R]) with NaN where absent.
  const batch::BatchJob job = batch::parse_job_text(c.job_text, "<batch file>", "", &c.scenario_text);
  const ItemGrid g = job.grid();
  const size_t M = c.items.size(), k = c.stressors.size(), R = c.regions.size();
  std::vector<Index> id, system, year, scenario, draw, sda, status, iterations, refactored;
  std::vector<double> seconds, cpu_seconds;
  std::vector<std::string> message;
  for (const auto& r : c.items) {
    const ItemKey key = item_key(g, r.id);
    id.push_back(r.id);
    system.push_back(key.system);
    year.push_back(key.system >= 0 ? c.years[static_cast<size_t>(key.system)] : 0);
    scenario.push_back(key.scenario);
    draw.push_back(key.draw);
    sda.push_back(key.sda);
    status.push_back(static_cast<Index>(r.status));
    iterations.push_back(r.iterations);
    refactored.push_back(r.refactored ? 1 : 0);
    seconds.push_back(r.seconds);
    cpu_seconds.push_back(r.cpu_seconds);
    message.push_back(r.message);
  }
  nb::dict items;
  items["id"] = id;
  items["system"] = system;
  items["year"] = year;
  items["scenario"] = scenario;
  items["draw"] = draw;
  items["sda"] = sda;
  items["status"] = status;
  items["iterations"] = iterations;
  items["refactored"] = refactored;
  items["seconds"] = seconds;
  items["cpu_seconds"] = cpu_seconds;
  items["message"] = message;

  nb::dict results;
  for (const auto& name : c.accounts) {
    const bool q = name == "Q";
    const size_t per = k * R * (q ? R : 1);
    bool any = false;
    std::vector<double> data(M * per, std::numeric_limits<double>::quiet_NaN());
    for (size_t i = 0; i < M; ++i)
      if (const Matrix* m = c.items[i].find(name); m && static_cast<size_t>(m->size()) == per) {
        const io::h5::RowMajor rm = *m;  // [s, r] (Q: [s, p*R + r]) row-major = the file's order
        std::copy(rm.data(), rm.data() + per, data.begin() + static_cast<std::ptrdiff_t>(i * per));
        any = true;
      }
    if (!any) continue;
    std::vector<std::uint64_t> dims = {M, k, R};
    if (q) dims.push_back(R);
    results[name.c_str()] = stored_array(dims, data.data());
  }

  nb::dict sda_out;
  for (size_t i = 0; i < M; ++i) {
    if (sda[i] < 0 || c.items[i].status != ItemStatus::Ok) continue;
    const auto& item = c.items[i];
    nb::dict one;
    std::vector<std::string> factors;
    std::vector<double> effects;
    for (const auto& a : item.arrays)
      if (a.name.rfind("effect:", 0) == 0) {
        factors.push_back(a.name.substr(7));
        const io::h5::RowMajor rm = a.values;
        effects.insert(effects.end(), rm.data(), rm.data() + rm.size());
      }
    const io::h5::RowMajor e0 = *item.find("E0"), e1 = *item.find("E1");
    one["factors"] = factors;
    one["E0"] = stored_array({k, R}, e0.data());
    one["E1"] = stored_array({k, R}, e1.data());
    one["effects"] = stored_array({factors.size(), k, R}, effects.data());
    sda_out[job.sda[static_cast<size_t>(sda[i])].name.c_str()] = one;
  }

  nb::dict summary;
  for (const auto& a : c.summary) summary[a.name.c_str()] = stored_array(a.dims, a.values.data());

  nb::dict d;
  d["attrs"] = attrs;
  d["labels"] = labels;
  d["items"] = items;
  d["results"] = results;
  d["sda"] = sda_out;
  d["summary"] = summary;
  return d;
}

}  // namespace

void bind_batch(nb::module_& m) {
  m.def(
      "batch_load",
      [](const std::string& path) {
        batch::BatchFileContents c;
        std::vector<std::string> warnings;
        {
          nb::gil_scoped_release release;
          io::CollectWarnings collect;
          c = batch::read_batch_file(path);
          warnings = collect.messages();
        }
        python_warnings(warnings);
        return contents_dict(std::move(c));
      },
      "path"_a,
      "Read a batch results file with every checksum and shape verified, in a guarded child process: dict of "
      "attrs, labels, items (columns), results {account: [items, k, R(, R)]}, sda {name: {factors, E0, E1, "
      "effects}}, summary {\"account/statistic\": [S, C, ...], \"target/...\": [S, C], \"draws_used\": [S*C]}.");

  m.def(
      "batch_job_info",
      [](const std::string& text, const std::string& origin, const std::string& base_dir) {
        const batch::BatchJob job = batch::parse_job_text(text, origin, base_dir);
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
        const batch::BatchJob job = batch::parse_job_text(text, origin, base_dir);
        batch::BatchRunOptions o;
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
          o.on_progress = [cb](const batch::BatchProgress& p) {
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
        batch::BatchRunSummary s;
        {
          nb::gil_scoped_release release;
          s = batch::run_batch(job, o);
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
        std::vector<std::string> warnings;
        {
          nb::gil_scoped_release release;
          io::CollectWarnings collect;
          batch::merge_batch(inputs, output, allow_partial);
          warnings = collect.messages();
        }
        python_warnings(warnings);
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
