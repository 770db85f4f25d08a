// The batch runner: loads the job's systems, hands out items dynamically to
// worker threads (and, through a transport, to other MPI ranks), commits every
// result to the checkpoint, reports progress. Design: mriotrace/batch/runner.hpp.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <time.h>

#include "mriotrace/error.hpp"
#include "mriotrace/batch/job.hpp"
#include "mriotrace/batch/runner.hpp"
#include "mriotrace/batch/store.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/parallel.hpp"
#include "mriotrace/scenario.hpp"

namespace mriotrace::batch {
namespace {

using ::mriotrace::detail::concat;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// "4m18s", "1h02m", "12s".
std::string duration(double s) {
  if (!(s >= 0) || !std::isfinite(s)) return "?";
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

/// CPU seconds used by the calling thread.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// A loaded system with its base factorisation and warm starts.
struct SystemContext {
  MrioSystem system;
  std::unique_ptr<LeontiefSolver> solver;
  DrawBase base;
};

/// Everything a rank needs to compute any item of the job.
class Worker {
 public:
  Worker(const BatchJob& job, int threads) : job_(job), grid_(job.grid()) {
    MRIOTRACE_CHECK(grid_.total() > 0, "the job has no items");
    // Serial BLAS for the factorisations too: multi-threaded OpenBLAS sums in
    // an order that depends on its thread count, and the base factorisation
    // preconditions every draw, so a batch result would depend on --threads.
    // The engine's own loops (block LUs, trade panels) still use the threads.
    SerialBlas serial_blas;
    for (const auto& s : job.systems) {
      auto ctx = std::make_unique<SystemContext>(SystemContext{io::load_system(s.file), nullptr, {}});
      const MrioSystem& sys = ctx->system;
      if (!contexts_.empty()) {
        const Labels& first = contexts_.front()->system.labels();
        MRIOTRACE_CHECK(sys.labels().regions == first.regions && sys.labels().sectors == first.sectors,
                        "system \"", s.name, "\" (", s.file, ") has other regions or sectors than system \"",
                        job.systems.front().name, "\"; all systems of a job must share them");
      } else {
        labels_ = sys.labels();
        labels_.stressors = job.stressors.empty() ? sys.labels().stressors : job.stressors;
      }
      MRIOTRACE_CHECK(sys.Y().cols() > 0, "system \"", s.name, "\" (", s.file, ") has no final demand Y");
      std::vector<Index> rows;
      for (const auto& name : labels_.stressors) rows.push_back(sys.stressor_index(name));
      if (contexts_.empty()) stressor_rows_ = rows;
      MRIOTRACE_CHECK(rows == stressor_rows_, "system \"", s.name, "\" orders the stressors differently");
      if (grid_.grid_items() > 0) {
        SolverOptions so;
        so.threads = threads;
        ctx->solver = std::make_unique<LeontiefSolver>(sys.A(), so);
        DrawAccountsOptions dopt;
        dopt.stressors = rows;
        dopt.with_Q = job.with_Q();
        dopt.production = std::find(job.keep.begin(), job.keep.end(), "D_pba_reg") != job.keep.end();
        ctx->base = prepare_draws(sys, *ctx->solver, dopt);
      }
      contexts_.push_back(std::move(ctx));
    }
  }

  const Labels& labels() const { return labels_; }

  /// Items that may share a work unit with `first` (Monte Carlo draws of the
  /// same system and scenario, solved side by side), at most this many.
  Index unit_size() const {
    return std::max<Index>(1, kDrawLanes / std::max<Index>(1, static_cast<Index>(stressor_rows_.size())));
  }
  bool same_unit(Index first, Index id) const {
    if (first >= grid_.grid_items() || id >= grid_.grid_items()) return false;
    const ItemKey a = item_key(grid_, first), b = item_key(grid_, id);
    return a.draw >= 0 && b.draw >= 0 && a.system == b.system && a.scenario == b.scenario;
  }

  /// Compute a work unit (ids from next_unit): draws together, the rest one by one.
  std::vector<ItemResult> compute_unit(const std::vector<Index>& ids) const {
    if (ids.size() == 1) return {compute(ids.front())};
    const auto t0 = Clock::now();
    const double cpu0 = thread_cpu_seconds();
    std::vector<ItemResult> out(ids.size());
    try {
      const ItemKey k = item_key(grid_, ids.front());
      std::vector<std::uint64_t> draws;
      for (Index id : ids) draws.push_back(static_cast<std::uint64_t>(item_key(grid_, id).draw));
      const SystemContext& ctx = *contexts_[static_cast<size_t>(k.system)];
      std::optional<MrioSystem> edited;
      if (k.scenario > 0) edited = apply_scenario(ctx.system, job_.scenario_defs[static_cast<size_t>(k.scenario - 1)], 1);
      std::vector<WarmSolveInfo> info;
      std::vector<Accounts> acc = draw_accounts_block(edited ? *edited : ctx.system, *ctx.solver, ctx.base, draws,
                                                      draw_options(k), &info);
      for (size_t i = 0; i < ids.size(); ++i) {
        out[i].id = ids[i];
        out[i].iterations = info[i].iterations;
        out[i].refactored = info[i].refactored;
        keep(acc[i], out[i]);
      }
    } catch (const std::exception&) {
      // A failing block (e.g. a singular refactorisation): redo its draws one
      // by one, so each failure is recorded against its own draw.
      for (size_t i = 0; i < ids.size(); ++i) out[i] = compute(ids[i]);
      return out;
    }
    const double seconds = since(t0) / static_cast<double>(ids.size());
    const double cpu = (thread_cpu_seconds() - cpu0) / static_cast<double>(ids.size());
    for (auto& r : out) {
      r.seconds = seconds;
      r.cpu_seconds = cpu;
    }
    return out;
  }

  /// Compute one item; failures become Failed results with the reason.
  ItemResult compute(Index id) const {
    const auto t0 = Clock::now();
    const double cpu0 = thread_cpu_seconds();
    ItemResult r;
    r.id = id;
    try {
      const ItemKey k = item_key(grid_, id);
      if (k.sda >= 0) compute_sda(job_.sda[static_cast<size_t>(k.sda)], r);
      else compute_grid(k, r);
    } catch (const std::exception& e) {
      r.status = ItemStatus::Failed;
      r.message = e.what();
      r.arrays.clear();
    }
    r.seconds = since(t0);
    r.cpu_seconds = thread_cpu_seconds() - cpu0;
    return r;
  }

 private:
  void compute_grid(const ItemKey& k, ItemResult& r) const {
    const SystemContext& ctx = *contexts_[static_cast<size_t>(k.system)];
    const UncertaintyOptions mc = draw_options(k);
    // A scenario is the system with the scenario's edits; its draws perturb
    // the edited entries with the same z as the base (same seed, positions),
    // and its solves are warm-started from and preconditioned by the base.
    std::optional<MrioSystem> edited;
    if (k.scenario > 0) edited = apply_scenario(ctx.system, job_.scenario_defs[static_cast<size_t>(k.scenario - 1)], 1);
    const MrioSystem& sys = edited ? *edited : ctx.system;
    WarmSolveInfo info;
    Accounts acc;
    if (k.draw < 0) {
      const UncertaintyOptions none;  // every CV 0: the unperturbed system
      acc = draw_accounts(sys, *ctx.solver, ctx.base, perturb(sys, none, 0, 1), none, &info, 1);
    } else {
      // The same code as a unit of draws (compute_unit): a draw's bits do not
      // depend on whether it was computed alone or with others.
      std::vector<WarmSolveInfo> infos;
      acc = std::move(draw_accounts_block(sys, *ctx.solver, ctx.base, {static_cast<std::uint64_t>(k.draw)}, mc,
                                          &infos).front());
      info = infos.front();
    }
    r.iterations = info.iterations;
    r.refactored = info.refactored;
    keep(acc, r);
  }

  /// The job's Monte Carlo options for an item. Draws of different systems
  /// are independent (the system index is part of the seed); base and
  /// scenarios of one system share their draws.
  UncertaintyOptions draw_options(const ItemKey& k) const {
    UncertaintyOptions mc = job_.mc;
    mc.seed = job_.mc.seed + static_cast<std::uint64_t>(k.system) * 0x9e3779b97f4a7c15ULL;
    return mc;
  }

  /// Move the accounts the job keeps into the result.
  void keep(Accounts& acc, ItemResult& r) const {
    for (const auto& name : job_.keep) {
      Matrix* m = name == "D_cba_reg"   ? &acc.D_cba_reg
                  : name == "D_pba_reg" ? &acc.D_pba_reg
                  : name == "D_imp_reg" ? &acc.D_imp_reg
                  : name == "D_exp_reg" ? &acc.D_exp_reg
                                        : &acc.Q;
      r.arrays.push_back({name, std::move(*m)});
    }
  }

  void compute_sda(const BatchSda& s, ItemResult& r) const {
    SdaOptions o;
    o.method = s.method;
    o.split_demand = s.split_demand;
    o.stressors = stressor_rows_;
    o.threads = 1;
    const Decomposition d = structural_decomposition(contexts_[static_cast<size_t>(s.from)]->system,
                                                     contexts_[static_cast<size_t>(s.to)]->system, o);
    r.arrays.push_back({"E0", d.E0});
    r.arrays.push_back({"E1", d.E1});
    for (size_t i = 0; i < d.factors.size(); ++i) r.arrays.push_back({"effect:" + d.factors[i], d.effects[i]});
  }

  const BatchJob& job_;
  ItemGrid grid_;
  Labels labels_;
  std::vector<Index> stressor_rows_;
  std::vector<std::unique_ptr<SystemContext>> contexts_;
};

/// Pending item ids, handed out in id order to whoever asks first, as work
/// units: runs of consecutive pending ids the worker computes together.
class Dispenser {
 public:
  Dispenser(std::vector<Index> ids, const Worker& worker) : ids_(std::move(ids)), worker_(worker) {}
  /// The next unit (empty: no more work).
  std::vector<Index> next() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Index> unit;
    if (stop_.load() || next_ >= ids_.size()) return unit;
    unit.push_back(ids_[next_++]);
    const Index most = worker_.unit_size();
    while (next_ < ids_.size() && static_cast<Index>(unit.size()) < most && worker_.same_unit(unit.front(), ids_[next_]))
      unit.push_back(ids_[next_++]);
    return unit;
  }
  void stop() { stop_ = true; }

 private:
  std::vector<Index> ids_;
  const Worker& worker_;
  size_t next_ = 0;
  std::mutex mutex_;
  std::atomic<bool> stop_{false};
};

/// Progress lines on stderr and the callback; snapshots of the results file.
class Monitor {
 public:
  Monitor(const BatchRunOptions& o, BatchStore& store, Index total)
      : o_(o), store_(store), total_(total), resumed_(store.resumed_count()) {}

  void item_done() {
    std::lock_guard<std::mutex> lock(mutex_);
    const double now = since(start_);
    BatchProgress p = progress_locked(now);
    const bool last = p.done == total_ && !final_printed_;
    if (!o_.quiet && (now - last_print_ >= o_.progress_seconds || last) && !final_printed_) {
      print(p);
      last_print_ = now;
      final_printed_ = last;
    }
    if (o_.on_progress) o_.on_progress(p);
    if (now - last_snapshot_ >= o_.snapshot_seconds) {
      store_.snapshot();
      last_snapshot_ = now;
    }
  }

  BatchProgress progress() {
    std::lock_guard<std::mutex> lock(mutex_);
    return progress_locked(since(start_));
  }

 private:
  BatchProgress progress_locked(double now) const {
    BatchProgress p;
    p.total = total_;
    p.done = store_.done_count();
    p.resumed = resumed_;
    p.failed = store_.failed_count();
    p.seconds = now;
    const Index computed = p.done - resumed_;
    p.items_per_second = now > 0 ? static_cast<double>(computed) / now : 0;
    p.eta_seconds = p.items_per_second > 0 ? static_cast<double>(total_ - p.done) / p.items_per_second : -1;
    return p;
  }
  void print(const BatchProgress& p) const {
    std::cerr << concat("mriotrace: batch ", p.done, "/", p.total, " items (",
                        std::lround(1000.0 * static_cast<double>(p.done) / std::max<double>(1.0, static_cast<double>(p.total))) / 10.0,
                        " %), ", std::lround(p.items_per_second * 100) / 100.0, " items/s, ETA ",
                        p.done == p.total ? std::string("0s") : duration(p.eta_seconds),
                        p.failed ? concat(", ", p.failed, " failed") : std::string())
              << std::endl;
  }

  const BatchRunOptions& o_;
  BatchStore& store_;
  Index total_, resumed_;
  Clock::time_point start_ = Clock::now();
  double last_print_ = -1e9, last_snapshot_ = 0;
  bool final_printed_ = false;
  std::mutex mutex_;
};

}  // namespace

BatchRunSummary run_batch(const BatchJob& job, const BatchRunOptions& o, BatchTransport* transport) {
  MRIOTRACE_CHECK(o.shard_count >= 1 && o.shard_index >= 0 && o.shard_index < o.shard_count, "shard ",
                  o.shard_index, "/", o.shard_count, " is invalid; expected --shard i/N with 0 <= i < N");
  MRIOTRACE_CHECK(o.snapshot_seconds >= 0 && o.progress_seconds >= 0, "progress and snapshot intervals must be >= 0");
  const auto t0 = Clock::now();
  MRIOTRACE_CHECK(o.threads <= kMaxJobThreads, "threads = ", o.threads, "; expected at most ", kMaxJobThreads);
  int threads = resolve_threads(o.threads >= 0 ? o.threads : job.threads);
  if (threads > available_cores()) {
    // More workers than cores only compete for them (and for OpenBLAS's
    // per-thread buffers, which can exhaust a memory limit): never faster.
    if (!o.quiet)
      std::cerr << concat("mriotrace: ", threads, " worker threads requested but this process may use ", available_cores(),
                          " cores; running ", available_cores(), " worker threads")
                << std::endl;
    threads = available_cores();
  }
  const int rank = transport ? transport->rank() : 0, size = transport ? transport->size() : 1;
  std::string output = o.output.empty() ? job.output : o.output;
  if (o.shard_count > 1 && o.output.empty()) output = shard_output_path(output, o.shard_index, o.shard_count);

  // Check the output before any expensive step (rank 0 only writes).
  std::unique_ptr<BatchStore> store;
  BatchRunSummary summary;
  summary.output = output;
  const Index total = job.grid().total();
  Labels labels;
  if (rank == 0) {
    // Labels without loading matrices: the store is opened (and a foreign or
    // changed job refused) before the systems are factorised.
    // Every system file is readable and has the job's stressors, or nothing
    // is written (a corrected job must not be refused as a changed one).
    for (const auto& s : job.systems) {
      const io::FileInfo info = io::inspect(s.file);
      for (const auto& name : job.stressors)
        if (std::find(info.labels.stressors.begin(), info.labels.stressors.end(), name) == info.labels.stressors.end()) {
          std::string known;
          for (const auto& k : info.labels.stressors) known += (known.empty() ? "\"" : ", \"") + k + "\"";
          throw InputError(concat("stressor \"", name, "\" of the job is not in system \"", s.name, "\" (", s.file,
                                  "); its stressors: ", known));
        }
      if (labels.regions.empty()) labels = info.labels;
    }
    if (!job.stressors.empty()) labels.stressors = job.stressors;
    for (const auto& r : job.target.regions)
      if (std::find(labels.regions.begin(), labels.regions.end(), r) == labels.regions.end()) {
        std::string known;
        for (size_t i = 0; i < labels.regions.size() && i < 12; ++i) known += (i ? ", \"" : "\"") + labels.regions[i] + "\"";
        if (labels.regions.size() > 12) known += ", ...";
        throw InputError(concat("job file \"", job.path, "\": [target]: region \"", r, "\" is not a region of the job's systems; their regions: ",
                                known));
      }
    store = std::make_unique<BatchStore>(job, output, o.shard_index, o.shard_count, o.restart, labels);
  }
  std::vector<Index> pending;
  for (Index id = o.shard_index; id < total; id += o.shard_count)
    if (!store || !store->is_done(id)) pending.push_back(id);
  const Index shard_total = static_cast<Index>((total - o.shard_index + o.shard_count - 1) / o.shard_count);
  summary.total = shard_total;
  summary.resumed = store ? store->resumed_count() : 0;
  if (store && !o.quiet && summary.resumed > 0)
    std::cerr << concat("mriotrace: resuming ", output, ": ", summary.resumed, " of ", shard_total,
                        " items already done") << std::endl;

  if (rank == 0 && pending.empty()) {
    summary.complete = store->finish();
    summary.failed = store->failed_count();
    for (const auto& [id, msg] : store->failures())
      if (summary.failures.size() < 20) summary.failures.push_back(describe_item(job, id) + ": " + msg);
    summary.seconds = since(t0);
    return summary;
  }

  if (store) store->snapshot();  // the results file exists (and opens) from the start
  const Worker worker(job, threads);
  summary.setup_seconds = since(t0);
  SerialBlas single;  // one BLAS thread per item; items run side by side

  if (rank != 0) {
    // Worker rank: ask rank 0 for items until it says there are none left.
    parallel_for(0, threads, threads, [&](std::int64_t) {
      for (auto unit = transport->request(); !unit.empty(); unit = transport->request())
        for (const ItemResult& r : worker.compute_unit(unit)) transport->send_result(encode(r));
    });
    transport->bye();
    summary.seconds = since(t0);
    return summary;
  }

  Dispenser dispenser(std::move(pending), worker);
  Monitor monitor(o, *store, shard_total);
  std::exception_ptr comm_error;
  std::atomic<bool> abort_comm{false};
  std::thread comm;
  if (size > 1) {
    // Rank 0's message loop: hand out ids, commit remote results, until every
    // other rank has said bye (after its last result).
    comm = std::thread([&] {
      try {
        int byes = 0;
        while (byes < size - 1 && !abort_comm.load()) {
          auto m = transport->poll();
          if (!m) {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            continue;
          }
          switch (m->kind) {
            case BatchTransport::Kind::Request: transport->reply(m->from, dispenser.next()); break;
            case BatchTransport::Kind::Result: {
              size_t used = 0;
              auto r = decode(m->payload.data(), m->payload.size(), used);
              if (!r) throw FileError(concat("a damaged result arrived from rank ", m->from));
              store->commit(std::move(*r));
              monitor.item_done();
              break;
            }
            case BatchTransport::Kind::Bye: ++byes; break;
          }
        }
      } catch (...) {
        comm_error = std::current_exception();
        dispenser.stop();
      }
    });
  }
  std::exception_ptr local_error;
  try {
    parallel_for(0, threads, threads, [&](std::int64_t) {
      try {
        for (auto unit = dispenser.next(); !unit.empty(); unit = dispenser.next())
          for (ItemResult& r : worker.compute_unit(unit)) {
            store->commit(std::move(r));
            monitor.item_done();
          }
      } catch (...) {
        dispenser.stop();  // e.g. disk full: stop handing out work, keep what is committed
        throw;
      }
    });
  } catch (...) {
    local_error = std::current_exception();
    abort_comm = true;
  }
  if (comm.joinable()) comm.join();
  if (local_error) std::rethrow_exception(local_error);
  if (comm_error) std::rethrow_exception(comm_error);

  summary.complete = store->finish();
  summary.failed = store->failed_count();
  summary.computed = store->done_count() - summary.resumed;
  for (const auto& [id, msg] : store->failures())
    if (summary.failures.size() < 20) summary.failures.push_back(describe_item(job, id) + ": " + msg);
  summary.seconds = since(t0);
  const BatchProgress p = monitor.progress();
  summary.seconds_per_item = p.items_per_second > 0 ? 1.0 / p.items_per_second : 0;
  return summary;
}

void merge_batch(const std::vector<std::string>& inputs, const std::string& output, bool allow_partial) {
  MRIOTRACE_CHECK(!inputs.empty(), "merge: no input files given");
  std::vector<BatchFileContents> parts;
  for (const auto& path : inputs) parts.push_back(read_batch_file(path));
  const BatchFileContents& first = parts.front();
  for (size_t i = 1; i < parts.size(); ++i)
    if (parts[i].job_hash != first.job_hash)
      throw FileError(concat("\"", inputs[i], "\" belongs to another job (job hash ", hex64(parts[i].job_hash),
                             ") than \"", inputs[0], "\" (", hex64(first.job_hash), "); refusing to merge"));
  const BatchJob job = parse_job_text(first.job_text, inputs[0], "", &first.scenario_text);
  std::map<Index, const ItemResult*> items;
  for (size_t i = 0; i < parts.size(); ++i)
    for (const auto& r : parts[i].items) {
      auto [it, fresh] = items.emplace(r.id, &r);
      MRIOTRACE_CHECK(fresh, "merge: item ", r.id, " is in more than one input (\"", inputs[i],
                      "\" and another); expected disjoint shards");
    }
  const Index total = job.grid().total();
  std::vector<Index> missing;
  for (Index id = 0; id < total && missing.size() < 10; ++id)
    if (!items.count(id)) missing.push_back(id);
  if (!missing.empty() && !allow_partial) {
    std::string list;
    for (Index id : missing) list += (list.empty() ? "" : ", ") + std::to_string(id);
    throw InputError(concat("merge: ", total - static_cast<Index>(items.size()), " of ", total,
                            " items are missing (first: ", list, "); run the missing shards first"));
  }
  BatchFileContents header = first;
  header.shard_index = 0;
  header.shard_count = 1;
  header.complete = missing.empty();
  std::vector<const ItemResult*> sorted;
  for (const auto& [id, r] : items) sorted.push_back(r);
  write_batch_file(output, job, header, sorted);
}

}  // namespace mriotrace::batch
