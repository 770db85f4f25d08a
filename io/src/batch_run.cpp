// The batch runner: loads the job's systems, hands out items dynamically to
// worker threads (and, through a transport, to other MPI ranks), commits every
// result to the checkpoint, reports progress. Design: io/batch.hpp.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <thread>

#include "mriotrace/error.hpp"
#include "mriotrace/io/batch.hpp"
#include "mriotrace/io/batch_store.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/parallel.hpp"

namespace mriotrace::io {
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
    ThreadScope scope(threads);  // factorisations use all of this rank's threads
    for (const auto& s : job.systems) {
      auto ctx = std::make_unique<SystemContext>(SystemContext{load_system(s.file), nullptr, {}});
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

  /// Compute one item; failures become Failed results with the reason.
  ItemResult compute(Index id) const {
    const auto t0 = Clock::now();
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
    return r;
  }

 private:
  void compute_grid(const ItemKey& k, ItemResult& r) const {
    const SystemContext& ctx = *contexts_[static_cast<size_t>(k.system)];
    // Draws of different systems are independent (the system index is part of
    // the seed); base and scenarios of one system share their draws.
    UncertaintyOptions mc = job_.mc;
    mc.seed = job_.mc.seed + static_cast<std::uint64_t>(k.system) * 0x9e3779b97f4a7c15ULL;
    const UncertaintyOptions none;  // every CV 0: the unperturbed system
    const PerturbedSystem p = k.draw < 0 ? perturb(ctx.system, none, 0, 1)
                                         : perturb(ctx.system, mc, static_cast<std::uint64_t>(k.draw), 1);
    WarmSolveInfo info;
    Accounts acc = draw_accounts(ctx.system, *ctx.solver, ctx.base, p, mc, &info, 1);
    r.iterations = info.iterations;
    r.refactored = info.refactored;
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

/// Pending item ids, handed out in id order to whoever asks first.
class Dispenser {
 public:
  explicit Dispenser(std::vector<Index> ids) : ids_(std::move(ids)) {}
  Index next() {
    if (stop_.load()) return -1;
    const size_t i = next_.fetch_add(1);
    return i < ids_.size() ? ids_[i] : -1;
  }
  void stop() { stop_ = true; }

 private:
  std::vector<Index> ids_;
  std::atomic<size_t> next_{0};
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
  const int threads = resolve_threads(o.threads >= 0 ? o.threads : job.threads);
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
      const FileInfo info = inspect(s.file);
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
  ThreadScope single(1);         // one BLAS thread per item; items run side by side

  if (rank != 0) {
    // Worker rank: ask rank 0 for items until it says there are none left.
    parallel_for(0, threads, threads, [&](std::int64_t) {
      for (Index id = transport->request(); id >= 0; id = transport->request())
        transport->send_result(encode(worker.compute(id)));
    });
    transport->bye();
    summary.seconds = since(t0);
    return summary;
  }

  Dispenser dispenser(std::move(pending));
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
        for (Index id = dispenser.next(); id >= 0; id = dispenser.next()) {
          store->commit(worker.compute(id));
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
  const BatchJob job = parse_job_text(first.job_text, inputs[0], "");
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

}  // namespace mriotrace::io
