// `mriotrace batch run JOB.toml`, `mriotrace batch merge`, `mriotrace sda`:
// thin wrappers over mriotrace::io's batch runner and the core SDA.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "batch_commands.hpp"
#include "batch_mpi.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/batch/job.hpp"
#include "mriotrace/batch/runner.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/sda.hpp"
#include "util.hpp"

namespace mriotrace::cli {

struct BatchCommands::Options {
  // batch run
  std::string job;
  int threads = -1;
  std::string shard;
  std::string output;
  bool quiet = false, restart = false;
  double snapshot_seconds = 30;
  // batch merge
  std::vector<std::string> inputs;
  std::string merge_output;
  bool allow_partial = false;
  // sda
  std::string file0, file1;
  std::string method = "exact";
  std::vector<std::string> stressors;
  bool split_demand = false;
  int sda_threads = 0;
  std::string sda_output;
};

namespace {

/// "i/N" -> (i, N) with 0 <= i < N.
std::pair<int, int> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  int i = -1, n = -1;
  try {
    size_t used = 0;
    if (slash != std::string::npos) {
      i = std::stoi(text.substr(0, slash), &used);
      if (used != slash) i = -1;
      n = std::stoi(text.substr(slash + 1), &used);
      if (used != text.size() - slash - 1) n = -1;
    }
  } catch (const std::exception&) {
    i = n = -1;
  }
  if (i < 0 || n < 1 || i >= n)
    throw UsageError("--shard " + text + ": expected i/N with 0 <= i < N, e.g. --shard 0/4");
  return {i, n};
}

void run_batch_command(const BatchCommands::Options& o) {
  int shard_index = 0, shard_count = 1;
  if (!o.shard.empty()) std::tie(shard_index, shard_count) = parse_shard(o.shard);
  MpiSession mpi;
  Index failed = 0, total = 0;
  std::string output;
  try {
    const batch::BatchJob job = batch::parse_job(o.job);
    batch::BatchRunOptions ro;
    ro.threads = o.threads;
    ro.shard_index = shard_index;
    ro.shard_count = shard_count;
    ro.output = o.output;
    ro.quiet = o.quiet || mpi.rank() != 0;
    ro.restart = o.restart;
    ro.snapshot_seconds = o.snapshot_seconds;
    if (mpi.rank() == 0 && !o.quiet) {
      const ItemGrid g = job.grid();
      progress(format("batch %s: %s items (%lld systems x %lld scenarios x %lld runs + %lld SDA), %d rank%s",
                      o.job.c_str(), thousands(g.total()).c_str(), static_cast<long long>(g.systems),
                      static_cast<long long>(g.scenarios), static_cast<long long>(g.slots()),
                      static_cast<long long>(g.sda), mpi.size(), mpi.size() == 1 ? "" : "s"));
    }
    const batch::BatchRunSummary s = batch::run_batch(job, ro, mpi.transport());
    if (mpi.rank() != 0) return;
    std::cout << format("results      %s (%s)\n", s.output.c_str(), s.complete ? "complete" : "INCOMPLETE");
    std::cout << format("items        %s total, %s done earlier (resumed), %s computed now, %s failed\n",
                        thousands(s.total).c_str(), thousands(s.resumed).c_str(), thousands(s.computed).c_str(),
                        thousands(s.failed).c_str());
    const double items_seconds = s.seconds - s.setup_seconds;
    std::cout << format("time         %.2f s wall: %.2f s setup (load, factorise), %.2f s items, %.3f items/s "
                        "(%d rank%s)\n",
                        s.seconds, s.setup_seconds, items_seconds,
                        items_seconds > 0 ? static_cast<double>(s.computed) / items_seconds : 0.0, mpi.size(),
                        mpi.size() == 1 ? "" : "s");
    for (const auto& f : s.failures) std::cout << "failed       " << f << '\n';
    if (s.failed > static_cast<Index>(s.failures.size()))
      std::cout << format("failed       ... and %lld more (see /items/message in the results file)\n",
                          static_cast<long long>(s.failed - static_cast<Index>(s.failures.size())));
    failed = s.failed;
    total = s.total;
    output = s.output;
  } catch (const std::exception& e) {
    // One rank failing must end all of them (the others would wait forever).
    if (mpi.size() > 1) mpi.abort(e.what(), 1);
    throw;
  }
  // Failed items are results a check rejected: the run must not look like a
  // success to a scheduler or a script (exit code 1). The file keeps them.
  if (failed > 0)
    throw NumericError(format("%s of %s items failed (reasons above and in /items/message of %s); the other items "
                              "are complete",
                              thousands(failed).c_str(), thousands(total).c_str(), output.c_str()));
}

void run_sda_command(const BatchCommands::Options& o) {
  const SdaMethod method = sda_method_from_string(o.method);
  progress("loading " + o.file0 + " and " + o.file1);
  const MrioSystem s0 = io::load_system(o.file0), s1 = io::load_system(o.file1);
  SdaOptions so;
  so.method = method;
  so.split_demand = o.split_demand;
  so.threads = o.sda_threads;
  so.stressors = named_stressors(s0, o.stressors);
  Stopwatch clock;
  const Decomposition d = structural_decomposition(s0, s1, so);
  progress(format("%s SDA over %zu factors in %.2f s", to_string(method).c_str(), d.factors.size(), clock.seconds()));
  const Labels& l = s0.labels();
  std::vector<Index> rows = so.stressors;
  if (rows.empty())
    for (Index i = 0; i < s0.k(); ++i) rows.push_back(i);

  std::vector<std::string> header = {"stressor", "region", "E0", "E1", "change"};
  for (const auto& f : d.factors) header.push_back("effect_" + f);
  auto row_values = [&](Index s, Index r) {
    std::vector<double> v = {d.E0(s, r), d.E1(s, r), d.E1(s, r) - d.E0(s, r)};
    for (const auto& e : d.effects) v.push_back(e(s, r));
    return v;
  };
  if (!o.sda_output.empty()) {
    std::ofstream out(o.sda_output);
    if (!out) throw FileError("cannot write \"" + o.sda_output + "\"");
    out.precision(17);
    for (size_t i = 0; i < header.size(); ++i) out << (i ? "," : "") << header[i];
    out << '\n';
    for (Index s = 0; s < static_cast<Index>(rows.size()); ++s)
      for (Index r = 0; r < s0.R(); ++r) {
        out << '"' << l.stressors[static_cast<size_t>(rows[static_cast<size_t>(s)])] << "\",\""
            << l.regions[static_cast<size_t>(r)] << '"';
        for (double v : row_values(s, r)) out << ',' << v;
        out << '\n';
      }
    if (!out.flush()) throw FileError("cannot write \"" + o.sda_output + "\"");
    progress("wrote " + o.sda_output);
  }
  // Readable table: totals over regions per stressor.
  for (Index s = 0; s < static_cast<Index>(rows.size()); ++s) {
    const Index si = rows[static_cast<size_t>(s)];
    const std::string unit = l.stressor_units.empty() ? "" : l.stressor_units[static_cast<size_t>(si)];
    std::cout << format("%s%s%s: consumption-based, summed over %lld regions (%s SDA)\n",
                        l.stressors[static_cast<size_t>(si)].c_str(), unit.empty() ? "" : " [",
                        unit.empty() ? "" : (unit + "]").c_str(), static_cast<long long>(s0.R()),
                        to_string(method).c_str());
    const double e0 = d.E0.row(s).sum(), e1 = d.E1.row(s).sum();
    std::cout << format("  %-10s %16.6g\n  %-10s %16.6g\n  %-10s %16.6g\n", "period 0", e0, "period 1", e1, "change",
                        e1 - e0);
    for (size_t f = 0; f < d.factors.size(); ++f) {
      const double v = d.effects[f].row(s).sum();
      std::cout << format("  %-10s %16.6g  (%+.1f %% of period 0)\n", ("effect " + d.factors[f]).c_str(), v,
                          e0 != 0 ? 100 * v / e0 : 0.0);
    }
  }
}

}  // namespace

BatchCommands add_batch_commands(CLI::App& app) {
  BatchCommands c;
  c.options = std::make_shared<BatchCommands::Options>();
  auto& o = *c.options;
  c.batch = app.add_subcommand("batch", "Batch runs: scenario and Monte Carlo ensembles, MPI, shards, resume");
  c.batch->require_subcommand(1);
  c.run_cmd = c.batch->add_subcommand(
      "run", "Run or resume a job file (threads; mpirun -n P for MPI ranks; --shard i/N for job arrays)");
  c.run_cmd->add_option("JOB", o.job, "Job file (TOML; see docs/hpc.md)")->required();
  c.run_cmd->add_option("--threads", o.threads, "Worker threads per rank (default: the job's, 0 = all cores)")
      ->check(CLI::Range(0, 4096));
  c.run_cmd->add_option("--shard", o.shard, "Run only shard i of N (items with id % N == i), e.g. 0/4");
  c.run_cmd->add_option("-o,--output", o.output, "Results file (default: the job's; shards add .shard-i-of-N)");
  c.run_cmd->add_flag("--quiet", o.quiet, "No progress lines on stderr");
  c.run_cmd->add_flag("--restart", o.restart, "Discard an earlier partial run of this output instead of resuming");
  c.run_cmd->add_option("--snapshot-every", o.snapshot_seconds,
                        "Seconds between rewrites of the results file (every item is checkpointed regardless)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  c.merge_cmd = c.batch->add_subcommand("merge", "Merge the shard outputs of one job into one results file");
  c.merge_cmd->add_option("SHARDS", o.inputs, "Shard result files")->required();
  c.merge_cmd->add_option("-o,--output", o.merge_output, "Merged results file")->required();
  c.merge_cmd->add_flag("--allow-partial", o.allow_partial, "Write the merge even if some items are missing");

  c.sda_cmd = app.add_subcommand("sda", "Structural decomposition of consumption-based accounts between two systems");
  c.sda_cmd->add_option("FILE0", o.file0, "System of period 0 (HDF5)")->required();
  c.sda_cmd->add_option("FILE1", o.file1, "System of period 1 (HDF5)")->required();
  c.sda_cmd->add_option("--method", o.method, "exact (mean over all orderings) or polar")
      ->check(CLI::IsMember({"exact", "polar"}))
      ->capture_default_str();
  c.sda_cmd->add_option("--stressor", o.stressors, "Stressor(s) (repeatable, or comma-separated); default: all");
  c.sda_cmd->add_flag("--split-demand", o.split_demand, "Split demand into mix and level (4 factors)");
  c.sda_cmd->add_option("--threads", o.sda_threads, "Threads (0 = OMP_NUM_THREADS or all cores)")
      ->check(CLI::Range(0, 4096));
  c.sda_cmd->add_option("-o,--output", o.sda_output, "CSV with E0, E1, change and each effect per stressor and region");
  return c;
}

void BatchCommands::run() const {
  if (run_cmd && run_cmd->parsed()) run_batch_command(*options);
  if (merge_cmd && merge_cmd->parsed()) {
    batch::merge_batch(options->inputs, options->merge_output, options->allow_partial);
    std::cout << "merged " << options->inputs.size() << " files into " << options->merge_output << '\n';
  }
  if (sda_cmd && sda_cmd->parsed()) run_sda_command(*options);
}

}  // namespace mriotrace::cli
