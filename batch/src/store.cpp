// Batch results file (HDF5, rewritten atomically) and checkpoint journal
// (append-only, fsync'd records). Layout: docs/hpc.md; design: mriotrace/batch/store.hpp.
#include "mriotrace/batch/store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "mriotrace/error.hpp"
#include "mriotrace/io/h5.hpp"
#include "mriotrace/montecarlo.hpp"

namespace mriotrace::batch {
namespace {

namespace fs = std::filesystem;
using ::mriotrace::detail::concat;
using io::h5::Dims;
using io::h5::RowMajor;

constexpr io::h5::Format kFormat{kBatchFormat, kBatchFormatVersion, "an mriotrace batch results file"};

// ---------------------------------------------------------------------------
// Layout helpers

/// HDF5 shape of one item's account: k x R, or k x R x R for Q.
Dims account_dims(const std::string& name, const Matrix& m, Index R) {
  if (name == "Q") return {static_cast<hsize_t>(m.rows()), static_cast<hsize_t>(R), static_cast<hsize_t>(R)};
  return {static_cast<hsize_t>(m.rows()), static_cast<hsize_t>(m.cols())};
}

void append_row_major(std::vector<double>& out, const Matrix& m) {
  const RowMajor rm = m;
  out.insert(out.end(), rm.data(), rm.data() + rm.size());
}

/// Index of `name` in `names`, or -1.
Index find_name(const std::vector<std::string>& names, const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : static_cast<Index>(it - names.begin());
}

/// Summary statistics of every kept account over the draws of each
/// (system, scenario): /summary/<account>/{mean, median, p2_5, p97_5,
/// deterministic, delta_median, delta_p2_5, delta_p97_5, p_delta_negative}
/// with shape [S, C, account dims], and /summary/target when configured.
void write_summary(const io::h5::Writer& f, const BatchJob& job, const BatchFileContents& h,
                   const std::map<Index, const ItemResult*>& by_id) {
  const ItemGrid g = job.grid();
  const Index S = g.systems, C = g.scenarios, D = g.draws, R = static_cast<Index>(h.regions.size());
  f.group("/summary");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto item = [&](Index s, Index c, Index d) -> const ItemResult* {
    auto it = by_id.find(item_id(g, s, c, d));
    return it == by_id.end() || it->second->status != ItemStatus::Ok ? nullptr : it->second;
  };
  // How many draws each (system, scenario) summary is over: draws that
  // failed (non-productive, singular) are not in it.
  if (D > 0) {
    std::vector<std::int64_t> used;
    for (Index s = 0; s < S; ++s)
      for (Index c = 0; c < C; ++c) {
        std::int64_t n = 0;
        for (Index d = 0; d < D; ++d) n += item(s, c, d) != nullptr;
        used.push_back(n);
      }
    f.int64s("/summary/draws_used", used);  // S*C, system-major
  }
  for (const auto& name : job.keep) {
    // Size of one item's array from any successful item.
    Index rows = -1, cols = -1;
    for (const auto& [id, r] : by_id)
      if (const Matrix* m = r->find(name)) {
        rows = m->rows();
        cols = m->cols();
        break;
      }
    if (rows < 0) continue;  // no successful item keeps it
    const Index p = rows * cols;
    std::vector<double> mean, median, lo, hi, det, dmed, dlo, dhi, pneg;
    for (Index s = 0; s < S; ++s)
      for (Index c = 0; c < C; ++c) {
        Matrix draws(D, p), delta(D, p);
        for (Index d = 0; d < D; ++d) {
          const ItemResult* r = item(s, c, d);
          const ItemResult* b = item(s, 0, d);
          const Matrix* m = r ? r->find(name) : nullptr;
          const Matrix* mb = b ? b->find(name) : nullptr;
          if (m) draws.row(d) = RowMajor(*m).reshaped<Eigen::RowMajor>().transpose();
          else draws.row(d).setConstant(nan);
          if (m && mb) delta.row(d) = draws.row(d) - RowMajor(*mb).reshaped<Eigen::RowMajor>().transpose();
          else delta.row(d).setConstant(nan);
        }
        const DrawSummary st = summarize_draws(draws), sd = summarize_draws(delta);
        auto put = [](std::vector<double>& out, const Vector& v) { out.insert(out.end(), v.data(), v.data() + v.size()); };
        put(mean, st.mean);
        put(median, st.median);
        put(lo, st.p2_5);
        put(hi, st.p97_5);
        put(dmed, sd.median);
        put(dlo, sd.p2_5);
        put(dhi, sd.p97_5);
        put(pneg, sd.p_negative);
        const ItemResult* r0 = item(s, c, -1);
        const Matrix* m0 = r0 ? r0->find(name) : nullptr;
        if (m0) append_row_major(det, *m0);
        else det.insert(det.end(), static_cast<size_t>(p), nan);
      }
    Dims dims = {static_cast<hsize_t>(S), static_cast<hsize_t>(C)};
    Matrix shape_probe(rows, cols);
    for (hsize_t d : account_dims(name, shape_probe, R)) dims.push_back(d);
    const std::string base = "/summary/" + name;
    f.group(base);
    f.doubles(base + "/mean", mean, dims);
    f.doubles(base + "/median", median, dims);
    f.doubles(base + "/p2_5", lo, dims);
    f.doubles(base + "/p97_5", hi, dims);
    f.doubles(base + "/deterministic", det, dims);
    f.doubles(base + "/delta_median", dmed, dims);
    f.doubles(base + "/delta_p2_5", dlo, dims);
    f.doubles(base + "/delta_p97_5", dhi, dims);
    f.doubles(base + "/p_delta_negative", pneg, dims);
  }
  const BatchTarget& t = job.target;
  if (!t.enabled) return;
  // V = sum over the target regions of account[stressor, region].
  const Index srow = find_name(h.stressors, t.stressor);
  MRIOTRACE_CHECK(srow >= 0, "target stressor \"", t.stressor, "\" is not among the job's stressors");
  std::vector<Index> regions;
  for (const auto& r : t.regions) {
    regions.push_back(find_name(h.regions, r));
    MRIOTRACE_CHECK(regions.back() >= 0, "target region \"", r, "\" is not among the job's regions");
  }
  if (regions.empty())
    for (Index r = 0; r < R; ++r) regions.push_back(r);
  auto value = [&](const ItemResult* r) {
    const Matrix* m = r ? r->find(t.account) : nullptr;
    if (!m) return nan;
    double v = 0;
    for (Index reg : regions) v += (*m)(srow, reg);
    return v;
  };
  auto met = [&](double v, double base) {
    if (std::isnan(v)) return nan;
    if (t.max_value) return v <= *t.max_value ? 1.0 : 0.0;
    if (std::isnan(base) || base == 0) return nan;
    return v / base - 1 <= *t.max_change ? 1.0 : 0.0;
  };
  std::vector<double> p_met, det_met, det_value, med_value;
  for (Index s = 0; s < S; ++s)
    for (Index c = 0; c < C; ++c) {
      det_met.push_back(met(value(item(s, c, -1)), value(item(s, 0, -1))));
      det_value.push_back(value(item(s, c, -1)));
      double hits = 0, used = 0;
      Matrix vals(D, 1);
      for (Index d = 0; d < D; ++d) {
        vals(d, 0) = value(item(s, c, d));
        const double m = met(vals(d, 0), value(item(s, 0, d)));
        if (!std::isnan(m)) {
          hits += m;
          used += 1;
        }
      }
      p_met.push_back(used > 0 ? hits / used : nan);
      med_value.push_back(D > 0 ? summarize_draws(vals).median[0] : nan);
    }
  f.group("/summary/target");
  const Dims sc = {static_cast<hsize_t>(S), static_cast<hsize_t>(C)};
  f.doubles("/summary/target/p_met", p_met, sc);
  f.doubles("/summary/target/deterministic_met", det_met, sc);
  f.doubles("/summary/target/deterministic_value", det_value, sc);
  f.doubles("/summary/target/median_value", med_value, sc);
}

}  // namespace

void write_batch_file(const std::string& path, const BatchJob& job, const BatchFileContents& h,
                      const std::vector<const ItemResult*>& items) {
  io::h5::write_atomically(path, kFormat, [&](const io::h5::Writer& f) {
    const ItemGrid g = job.grid();
    const Index R = static_cast<Index>(h.regions.size());
    f.attr_string("/", "job_hash", hex64(h.job_hash));
    f.attr_string("/", "job", h.job_text);
    f.attr_string("/", "scenarios", job.scenario_text);
    f.attr_ints("/", "total_items", {g.total()});
    f.attr_ints("/", "shard_index", {h.shard_index});
    f.attr_ints("/", "shard_count", {h.shard_count});
    f.attr_ints("/", "items_done", {static_cast<std::int64_t>(items.size())});
    f.attr_ints("/", "complete", {h.complete ? 1 : 0});

    f.group("/labels");
    f.strings("/labels/regions", h.regions);
    f.strings("/labels/sectors", h.sectors);
    f.strings("/labels/stressors", h.stressors);
    f.strings("/labels/systems", h.systems);
    std::vector<std::int64_t> years;
    for (const auto& s : job.systems) years.push_back(s.year);
    f.int64s("/labels/years", years);
    f.strings("/labels/scenarios", h.scenarios);
    f.strings("/labels/accounts", job.keep);

    // /items: one row per done item, in id order.
    std::vector<std::int64_t> id, system, scenario, draw, sda, status, iterations, refactored, year;
    std::vector<double> seconds, cpu_seconds;
    std::vector<std::string> message;
    for (const ItemResult* r : items) {
      const ItemKey k = item_key(g, r->id);
      id.push_back(r->id);
      system.push_back(k.system);
      scenario.push_back(k.scenario);
      draw.push_back(k.draw);
      sda.push_back(k.sda);
      year.push_back(k.system >= 0 ? job.systems[static_cast<size_t>(k.system)].year : 0);
      status.push_back(static_cast<std::int64_t>(r->status));
      iterations.push_back(r->iterations);
      refactored.push_back(r->refactored ? 1 : 0);
      seconds.push_back(r->seconds);
      cpu_seconds.push_back(r->cpu_seconds);
      message.push_back(r->message);
    }
    f.group("/items");
    f.int64s("/items/id", id);
    f.int64s("/items/system", system);
    f.int64s("/items/year", year);
    f.int64s("/items/scenario", scenario);
    f.int64s("/items/draw", draw);
    f.int64s("/items/sda", sda);
    f.int64s("/items/status", status);
    f.int64s("/items/iterations", iterations);
    f.int64s("/items/refactored", refactored);
    f.doubles("/items/seconds", seconds, {seconds.size()});
    f.doubles("/items/cpu_seconds", cpu_seconds, {cpu_seconds.size()});
    f.strings("/items/message", message);

    // /results/<account>: [items, account dims], NaN where an item has no such array.
    f.group("/results");
    for (const auto& name : job.keep) {
      const Matrix* probe = nullptr;
      for (const ItemResult* r : items)
        if ((probe = r->find(name))) break;
      if (!probe) continue;
      const Index p = probe->size();
      std::vector<double> data;
      data.reserve(static_cast<size_t>(p) * items.size());
      for (const ItemResult* r : items) {
        const Matrix* m = r->find(name);
        if (m && m->rows() == probe->rows() && m->cols() == probe->cols()) append_row_major(data, *m);
        else data.insert(data.end(), static_cast<size_t>(p), std::numeric_limits<double>::quiet_NaN());
      }
      Dims dims = {items.size()};
      for (hsize_t d : account_dims(name, *probe, R)) dims.push_back(d);
      f.doubles("/results/" + name, data, dims);
    }

    // /sda/<name>: E0, E1 (k x R) and effects [factors, k, R] of each done SDA item.
    f.group("/sda");
    for (const ItemResult* r : items) {
      const ItemKey k = item_key(g, r->id);
      if (k.sda < 0 || r->status != ItemStatus::Ok) continue;
      const std::string base = "/sda/" + job.sda[static_cast<size_t>(k.sda)].name;
      f.group(base);
      std::vector<std::string> factors;
      std::vector<double> effects, e0, e1;
      const Matrix* m0 = r->find("E0");
      for (const auto& a : r->arrays) {
        if (a.name.rfind("effect:", 0) == 0) {
          factors.push_back(a.name.substr(7));
          append_row_major(effects, a.values);
        }
      }
      append_row_major(e0, *m0);
      append_row_major(e1, *r->find("E1"));
      const Dims kr = {static_cast<hsize_t>(m0->rows()), static_cast<hsize_t>(m0->cols())};
      f.strings(base + "/factors", factors);
      f.doubles(base + "/E0", e0, kr);
      f.doubles(base + "/E1", e1, kr);
      f.doubles(base + "/effects", effects, {factors.size(), kr[0], kr[1]});
    }

    // Statistics need every draw: only in a complete unsharded (or merged) file.
    if (h.complete && h.shard_count == 1 && g.draws > 0) {
      std::map<Index, const ItemResult*> by_id;
      for (const ItemResult* r : items) by_id[r->id] = r;
      write_summary(f, job, h, by_id);
    }
  });
}

namespace {

/// Read everything back, checking every shape against the labels (runs in
/// the guarded child).
BatchFileContents read_contents(io::h5::Reader& r, const std::string& path) {
  const auto& ctx = r.ctx();
  BatchFileContents c;
  c.format_version = r.check_format(kFormat, 2,
                 "before batch files carried checksums: damage to it would go unnoticed; `mriotrace batch merge "
                 "FILE -o NEW.h5` writes a checksummed copy");
  if (r.has_attr("/", "created_by")) c.created_by = r.attr_string("/", "created_by");
  c.job_text = r.attr_string("/", "job");
  c.scenario_text = r.has_attr("/", "scenarios") ? r.attr_string("/", "scenarios") : std::string();
  const std::string hash = r.attr_string("/", "job_hash");
  if (hash.size() != 16 || hash.find_first_not_of("0123456789abcdef") != std::string::npos)
    ctx.fail(concat("/@job_hash is \"", hash, "\"; expected 16 hex digits"));
  c.job_hash = std::stoull(hash, nullptr, 16);
  c.total_items = r.attr_int("/", "total_items");
  c.shard_count = static_cast<int>(r.attr_int("/", "shard_count"));
  c.shard_index = static_cast<int>(r.attr_int("/", "shard_index"));
  if (c.total_items < 0 || c.total_items > kMaxJobItems || c.shard_count < 1 || c.shard_index < 0 ||
      c.shard_index >= c.shard_count)
    ctx.fail(concat("the root attributes total_items (", c.total_items, ") and shard ", c.shard_index, "/",
                    c.shard_count, " are out of range"));
  c.complete = r.attr_int("/", "complete") != 0;
  c.regions = r.strings("/labels/regions");
  c.sectors = r.strings("/labels/sectors");
  c.stressors = r.strings("/labels/stressors");
  c.systems = r.strings("/labels/systems");
  c.scenarios = r.strings("/labels/scenarios");
  const auto accounts = r.strings("/labels/accounts");
  c.accounts = accounts;
  const auto ids = r.column<std::int64_t>("/items/id");
  const hsize_t M = ids.size();
  auto items_column = [&](const char* name) {
    return r.numbers<std::int64_t>(concat("/items/", name), {M}, "one entry per item, as /items/id");
  };
  const auto status = items_column("status");
  const auto iterations = items_column("iterations");
  const auto refactored = items_column("refactored");
  const auto sda = items_column("sda");
  const auto seconds = r.numbers<double>("/items/seconds", {M}, "one entry per item, as /items/id");
  const auto cpu_seconds = r.exists("/items/cpu_seconds")
                               ? r.numbers<double>("/items/cpu_seconds", {M}, "one entry per item, as /items/id")
                               : std::vector<double>(M, 0.0);
  const auto message = r.strings("/items/message", M, "one entry per item, as /items/id");
  // The job names the SDA groups and checks the ids.
  const BatchJob job = parse_job_text(c.job_text, path, fs::path(path).parent_path().string(), &c.scenario_text);
  const ItemGrid g = job.grid();
  if (c.systems.size() != job.systems.size() || c.scenarios.size() != job.scenarios.size())
    ctx.fail(concat("/labels has ", c.systems.size(), " systems and ", c.scenarios.size(),
                    " scenarios; the stored job has ", job.systems.size(), " and ", job.scenarios.size()));
  c.years = r.numbers<std::int64_t>("/labels/years", {c.systems.size()}, "one year per system");
  if (g.total() != c.total_items)
    ctx.fail(concat("/@total_items is ", c.total_items, " but the stored job has ", g.total(), " items"));
  c.items.resize(M);
  for (size_t i = 0; i < M; ++i) {
    if (ids[i] < 0 || ids[i] >= c.total_items || (i > 0 && ids[i] <= ids[i - 1]))
      ctx.fail(concat("/items/id[", i, "] is ", ids[i], "; expected increasing ids in [0, ", c.total_items, ")"));
    if (status[i] != 1 && status[i] != 2) ctx.fail(concat("/items/status[", i, "] is ", status[i], "; expected 1 or 2"));
    const ItemKey key = item_key(g, ids[i]);
    if (sda[i] != key.sda) ctx.fail(concat("/items/sda[", i, "] is ", sda[i], "; item ", ids[i], " has ", key.sda));
    ItemResult& it = c.items[i];
    it.id = ids[i];
    it.status = static_cast<ItemStatus>(status[i]);
    it.iterations = static_cast<std::int32_t>(iterations[i]);
    it.refactored = refactored[i] != 0;
    it.seconds = seconds[i];
    it.cpu_seconds = cpu_seconds[i];
    it.message = message[i];
  }
  const auto k = static_cast<hsize_t>(c.stressors.size()), R = static_cast<hsize_t>(c.regions.size());
  for (const auto& name : accounts) {
    const std::string p = "/results/" + name;
    if (!r.exists(p)) {
      // Written whenever an item keeps it: absent only when no grid item succeeded.
      for (size_t i = 0; i < M; ++i)
        if (c.items[i].status == ItemStatus::Ok && sda[i] < 0)
          ctx.fail(concat(p, " is missing (the kept account of item ", ids[i], ")"));
      continue;
    }
    const bool q = name == "Q";
    Dims want = {M, k, R};
    if (q) want.push_back(R);
    const auto data = r.numbers<double>(p, want, q ? "items x stressors x regions x regions" : "items x stressors x regions");
    const Index rows = static_cast<Index>(k), cols = static_cast<Index>(q ? R * R : R);
    for (size_t i = 0; i < M; ++i) {
      if (c.items[i].status != ItemStatus::Ok || sda[i] >= 0) continue;  // stored as NaN
      RowMajor rm = Eigen::Map<const RowMajor>(data.data() + i * static_cast<size_t>(rows * cols), rows, cols);
      c.items[i].arrays.push_back({name, Matrix(rm)});
    }
  }
  // SDA items: arrays back from /sda/<name>.
  for (size_t i = 0; i < M; ++i) {
    if (sda[i] < 0 || c.items[i].status != ItemStatus::Ok) continue;
    const std::string base = "/sda/" + job.sda[static_cast<size_t>(sda[i])].name;
    const auto factors = r.strings(base + "/factors");
    const hsize_t F = factors.size();
    const auto e0 = r.numbers<double>(base + "/E0", {k, R}, "stressors x regions");
    const auto e1 = r.numbers<double>(base + "/E1", {k, R}, "stressors x regions");
    const auto eff = r.numbers<double>(base + "/effects", {F, k, R}, "factors x stressors x regions");
    auto mat = [&](const double* p) {
      return Matrix(Eigen::Map<const RowMajor>(p, static_cast<Index>(k), static_cast<Index>(R)));
    };
    c.items[i].arrays.push_back({"E0", mat(e0.data())});
    c.items[i].arrays.push_back({"E1", mat(e1.data())});
    for (size_t j = 0; j < F; ++j)
      c.items[i].arrays.push_back({"effect:" + factors[j], mat(eff.data() + j * static_cast<size_t>(k * R))});
  }
  // /summary: every statistic with the shape the writer gives it (always
  // written in complete unsharded files of jobs with draws).
  if (c.complete && c.shard_count == 1 && g.draws > 0) r.require("/summary", "the summary of a complete job");
  if (r.exists("/summary")) {
    const hsize_t S = c.systems.size(), C = c.scenarios.size();
    for (const auto& child : r.children("/summary")) {
      const std::string p = "/summary/" + child;
      if (child == "draws_used") {
        const auto v = r.numbers<double>(p, {S * C}, "systems * scenarios");
        c.summary.push_back({child, {S * C}, v});
        continue;
      }
      Dims want = {S, C};
      if (child != "target") {
        if (std::find(accounts.begin(), accounts.end(), child) == accounts.end())
          ctx.fail(concat(p, " is not one of the kept accounts"));
        want.push_back(k);
        want.push_back(R);
        if (child == "Q") want.push_back(R);
      }
      for (const auto& stat : r.children(p)) {
        const auto v = r.numbers<double>(p + "/" + stat, want, "systems x scenarios x account dims");
        c.summary.push_back({child + "/" + stat, {want.begin(), want.end()}, v});
      }
    }
  }
  return c;
}

void encode_contents(io::h5::Encoder& e, const BatchFileContents& c) {
  e.str(c.job_text);
  e.str(c.scenario_text);
  e.u64(c.job_hash);
  e.u64(static_cast<std::uint64_t>(c.total_items));
  e.u64(static_cast<std::uint64_t>(c.shard_index));
  e.u64(static_cast<std::uint64_t>(c.shard_count));
  e.u64(c.complete);
  for (const auto* v : {&c.regions, &c.sectors, &c.stressors, &c.systems, &c.scenarios, &c.accounts}) e.strs(*v);
  e.u64(static_cast<std::uint64_t>(c.format_version));
  e.str(c.created_by);
  e.array(c.years);
  e.u64(c.summary.size());
  for (const auto& a : c.summary) {
    e.str(a.name);
    e.array(a.dims);
    e.array(a.values);
  }
  e.u64(c.items.size());
  for (const auto& it : c.items) {
    const std::vector<char> record = encode(it);  // the journal's self-checking record
    e.u64(record.size());
    e.raw(record.data(), record.size());
  }
}

BatchFileContents decode_contents(io::h5::Decoder& d) {
  BatchFileContents c;
  c.job_text = d.str();
  c.scenario_text = d.str();
  c.job_hash = d.u64();
  c.total_items = static_cast<Index>(d.u64());
  c.shard_index = static_cast<int>(d.u64());
  c.shard_count = static_cast<int>(d.u64());
  c.complete = d.u64() != 0;
  for (auto* v : {&c.regions, &c.sectors, &c.stressors, &c.systems, &c.scenarios, &c.accounts}) *v = d.strs();
  c.format_version = static_cast<int>(d.u64());
  c.created_by = d.str();
  c.years = d.array<std::int64_t>();
  const std::uint64_t arrays = d.count(24);
  for (std::uint64_t i = 0; i < arrays; ++i) {
    StoredArray a;
    a.name = d.str();
    a.dims = d.array<std::uint64_t>();
    a.values = d.array<double>();
    c.summary.push_back(std::move(a));
  }
  const std::uint64_t n = d.count(8);
  c.items.reserve(static_cast<size_t>(n));
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t size = d.count(1);
    if (size > d.left()) d.damaged();
    size_t used = 0;
    auto item = decode(d.position(), static_cast<size_t>(size), used);
    if (!item || used != size) d.damaged();
    d.skip(static_cast<size_t>(size));
    c.items.push_back(std::move(*item));
  }
  return c;
}

}  // namespace

BatchFileContents read_batch_file(const std::string& path) {
  const std::string bytes = io::h5::guarded(path, [&](io::h5::Encoder& e) {
    io::h5::Session session;
    io::h5::Reader r(path);
    encode_contents(e, read_contents(r, path));
  });
  io::h5::Decoder d(bytes, path);
  return decode_contents(d);
}

// ---------------------------------------------------------------------------
// The checkpoint

namespace {

constexpr char kJournalMagic[8] = {'M', 'T', 'J', 'R', 'N', 'L', '0', '1'};
constexpr size_t kJournalHeader = 8 + 8 + 4 + 4;

std::vector<char> journal_header(std::uint64_t hash, int shard_index, int shard_count) {
  std::vector<char> h(kJournalHeader);
  std::memcpy(h.data(), kJournalMagic, 8);
  std::memcpy(h.data() + 8, &hash, 8);
  const std::int32_t si = shard_index, sc = shard_count;
  std::memcpy(h.data() + 16, &si, 4);
  std::memcpy(h.data() + 20, &sc, 4);
  return h;
}

void fsync_dir_of(const std::string& path) {
  const fs::path p(path);
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  const int fd = ::open(dir.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

BatchStore::BatchStore(const BatchJob& job, std::string output, int shard_index, int shard_count, bool restart,
                       const Labels& labels)
    : job_(job), output_(std::move(output)), journal_(output_ + ".journal"), shard_index_(shard_index),
      shard_count_(shard_count) {
  const Index total = job.grid().total();
  for (Index id = shard_index; id < total; id += shard_count) ++shard_items_;
  header_.job_text = job.text;
  header_.scenario_text = job.scenario_text;
  header_.job_hash = job.hash;
  header_.total_items = total;
  header_.shard_index = shard_index;
  header_.shard_count = shard_count;
  header_.regions = labels.regions;
  header_.sectors = labels.sectors;
  header_.stressors = labels.stressors;  // the job's selected stressors
  for (const auto& s : job.systems) header_.systems.push_back(s.name);
  header_.scenarios = job.scenarios;
  if (restart) {
    std::error_code ec;
    fs::remove(journal_, ec);
    fs::remove(output_, ec);
  }
  auto foreign = [&](const std::string& file, std::uint64_t hash, int si, int sc) {
    if (hash != job.hash)
      throw FileError(concat("\"", file, "\" belongs to another job or to an earlier version of this job file (job hash ",
                             hex64(hash), ", this job ", hex64(job.hash),
                             "); refusing to mix results. Use another output, or --restart to discard it"));
    if (si != shard_index || sc != shard_count)
      throw FileError(concat("\"", file, "\" belongs to shard ", si, "/", sc, ", not ", shard_index, "/",
                             shard_count, "; use that shard's command, or --restart to discard it"));
  };
  // Resume from the journal; else from a results file of the same job.
  if (fs::exists(journal_)) {
    std::ifstream in(journal_, std::ios::binary);
    std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.size() < kJournalHeader || std::memcmp(data.data(), kJournalMagic, 8) != 0)
      throw FileError(concat("\"", journal_, "\" is not an mriotrace checkpoint journal; remove it or use --restart"));
    std::uint64_t hash = 0;
    std::int32_t si = 0, sc = 0;
    std::memcpy(&hash, data.data() + 8, 8);
    std::memcpy(&si, data.data() + 16, 4);
    std::memcpy(&sc, data.data() + 20, 4);
    foreign(journal_, hash, si, sc);
    size_t pos = kJournalHeader, used = 0;
    while (pos < data.size()) {
      auto r = decode(data.data() + pos, data.size() - pos, used);
      if (!r) break;  // a record torn by a kill: cut off below
      if (r->id < 0 || r->id >= total || r->id % shard_count != shard_index)
        throw FileError(concat("\"", journal_, "\" holds item ", r->id, ", which is not part of this job/shard"));
      done_[r->id] = std::move(*r);
      pos += used;
    }
    fd_ = ::open(journal_.c_str(), O_WRONLY);
    if (fd_ < 0 || ::ftruncate(fd_, static_cast<off_t>(pos)) != 0 || ::fsync(fd_) != 0)
      throw FileError(concat("cannot open the checkpoint journal \"", journal_, "\" for writing: ", std::strerror(errno)));
    ::lseek(fd_, 0, SEEK_END);
  } else {
    if (fs::exists(output_)) {
      BatchFileContents old = read_batch_file(output_);
      foreign(output_, old.job_hash, old.shard_index, old.shard_count);
      for (auto& r : old.items) done_[r.id] = std::move(r);
    }
    fd_ = ::open(journal_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd_ < 0)
      throw FileError(concat("cannot create the checkpoint journal \"", journal_, "\": ", std::strerror(errno)));
    append(journal_header(job.hash, shard_index, shard_count));
    for (const auto& [id, r] : done_) append(encode(r));
    fsync_dir_of(journal_);
  }
  resumed_ = static_cast<Index>(done_.size());
}

BatchStore::~BatchStore() {
  if (fd_ >= 0) ::close(fd_);
}

void BatchStore::append(const std::vector<char>& record) {
  const off_t start = ::lseek(fd_, 0, SEEK_CUR);
  size_t written = 0;
  while (written < record.size()) {
    const ssize_t w = ::write(fd_, record.data() + written, record.size() - written);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int err = errno;
      // Cut the torn record off so the journal ends on a complete one.
      if (::ftruncate(fd_, start) == 0) ::lseek(fd_, start, SEEK_SET);
      throw FileError(concat("cannot write the checkpoint journal \"", journal_, "\": ", std::strerror(err),
                             "; the ", done_.size(), " items committed so far are safe, rerun to resume"));
    }
    written += static_cast<size_t>(w);
  }
  if (::fdatasync(fd_) != 0) {
    const int err = errno;
    throw FileError(concat("cannot flush the checkpoint journal \"", journal_, "\": ", std::strerror(err)));
  }
}

bool BatchStore::is_done(Index id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_.count(id) > 0;
}

Index BatchStore::done_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<Index>(done_.size());
}

Index BatchStore::failed_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::count_if(done_.begin(), done_.end(),
                       [](const auto& kv) { return kv.second.status == ItemStatus::Failed; });
}

std::vector<std::pair<Index, std::string>> BatchStore::failures() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<Index, std::string>> out;
  for (const auto& [id, r] : done_)
    if (r.status == ItemStatus::Failed) out.emplace_back(id, r.message);
  return out;
}

void BatchStore::commit(ItemResult result) {
  std::lock_guard<std::mutex> lock(mutex_);
  MRIOTRACE_CHECK(result.id % shard_count_ == shard_index_, "internal: item ", result.id, " is not in shard ",
                  shard_index_, "/", shard_count_);
  if (done_.count(result.id)) return;  // already committed (e.g. resent)
  append(encode(result));
  done_[result.id] = std::move(result);
}

void BatchStore::write_locked(bool final) {
  std::vector<const ItemResult*> items;
  items.reserve(done_.size());
  for (const auto& [id, r] : done_) items.push_back(&r);
  header_.complete = final && static_cast<Index>(done_.size()) == shard_items_;
  write_batch_file(output_, job_, header_, items);
}

void BatchStore::snapshot() {
  std::lock_guard<std::mutex> lock(mutex_);
  write_locked(false);
}

bool BatchStore::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  write_locked(true);
  if (header_.complete) {
    ::close(fd_);
    fd_ = -1;
    std::error_code ec;
    fs::remove(journal_, ec);
    fsync_dir_of(journal_);
  }
  return header_.complete;
}

}  // namespace mriotrace::batch
