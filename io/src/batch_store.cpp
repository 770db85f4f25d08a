// Batch results file (HDF5, rewritten atomically) and checkpoint journal
// (append-only, fsync'd records). Layout: docs/hpc.md; design: batch_store.hpp.
#include "mriotrace/io/batch_store.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "atomic_file.hpp"
#include "hdf5_image.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/montecarlo.hpp"

#ifndef MRIOTRACE_VERSION
#define MRIOTRACE_VERSION "unknown"
#endif

namespace mriotrace::io {
namespace {

namespace fs = std::filesystem;
using ::mriotrace::detail::concat;
using Dims = std::vector<hsize_t>;
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// ---------------------------------------------------------------------------
// A minimal HDF5 layer for the batch file: every call is checked, every
// handle closed by its owner. Object times are not recorded, so the same
// items always give the same bytes.

class H5 {
 public:
  H5(hid_t id, herr_t (*close)(hid_t), const std::string& file, const std::string& what) : id_(id), close_(close) {
    if (id < 0) throw FileError(concat("batch file \"", file, "\": ", what, " failed"));
  }
  H5(H5&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  H5(const H5&) = delete;
  H5& operator=(const H5&) = delete;
  ~H5() {
    if (id_ >= 0) close_(id_);
  }
  operator hid_t() const { return id_; }
  herr_t release() {
    const herr_t r = close_(id_);
    id_ = -1;
    return r;
  }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

/// Debian's HDF5 is the serial (not thread-safe) build: batch files are read
/// and written one at a time in a process, with HDF5's error printing off.
class Session {
 public:
  Session() : lock_(mutex()) { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  std::lock_guard<std::mutex> lock_;
};

struct File {
  std::string path;
  hid_t id;
  void check(herr_t status, const std::string& what) const {
    if (status < 0) throw FileError(concat("batch file \"", path, "\": ", what, " failed"));
  }
  H5 own(hid_t h, herr_t (*close)(hid_t), const std::string& what) const { return H5(h, close, path, what); }

  H5 string_type() const {
    H5 t = own(H5Tcopy(H5T_C_S1), H5Tclose, "creating the string type");
    check(H5Tset_size(t, H5T_VARIABLE), "creating the string type");
    check(H5Tset_cset(t, H5T_CSET_UTF8), "creating the string type");
    return t;
  }
  H5 create_plist(hid_t cls) const {
    H5 p = own(H5Pcreate(cls), H5Pclose, "creating a property list");
    check(H5Pset_obj_track_times(p, false), "switching off object times");
    return p;
  }
  void group(const std::string& path) const {
    H5 gcpl = create_plist(H5P_GROUP_CREATE);
    own(H5Gcreate2(id, path.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose, "creating group " + path);
  }
  void dataset(const std::string& path, hid_t file_type, hid_t mem_type, const void* data, const Dims& dims) const {
    H5 space = own(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                   "creating the dataspace of " + path);
    H5 dcpl = create_plist(H5P_DATASET_CREATE);
    H5 ds = own(H5Dcreate2(id, path.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
                "creating " + path);
    hsize_t count = 1;
    for (hsize_t d : dims) count *= d;
    if (count > 0) check(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "writing " + path);
  }
  void doubles(const std::string& path, const std::vector<double>& v, const Dims& dims) const {
    dataset(path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v.data(), dims);
  }
  void int64s(const std::string& path, const std::vector<std::int64_t>& v) const {
    dataset(path, H5T_STD_I64LE, H5T_NATIVE_INT64, v.data(), {v.size()});
  }
  void strings(const std::string& path, const std::vector<std::string>& v) const {
    std::vector<const char*> p;
    for (const auto& s : v) p.push_back(s.c_str());
    H5 t = string_type();
    dataset(path, t, t, p.data(), {v.size()});
  }
  void attr_string(const char* name, const std::string& value) const {
    H5 t = string_type();
    H5 space = own(H5Screate(H5S_SCALAR), H5Sclose, "creating a dataspace");
    H5 a = own(H5Acreate2(id, name, t, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, concat("creating @", name));
    const char* p = value.c_str();
    check(H5Awrite(a, t, &p), concat("writing @", name));
  }
  void attr_int(const char* name, std::int64_t value) const {
    H5 space = own(H5Screate(H5S_SCALAR), H5Sclose, "creating a dataspace");
    H5 a = own(H5Acreate2(id, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
               concat("creating @", name));
    check(H5Awrite(a, H5T_NATIVE_INT64, &value), concat("writing @", name));
  }

  // Reading
  bool exists(const std::string& path) const {
    // Check each link on the way (H5Lexists fails on a missing intermediate group).
    size_t pos = 0;
    while ((pos = path.find('/', pos + 1)) != std::string::npos)
      if (H5Lexists(id, path.substr(0, pos).c_str(), H5P_DEFAULT) <= 0) return false;
    return H5Lexists(id, path.c_str(), H5P_DEFAULT) > 0;
  }
  std::string read_attr_string(const char* name) const {
    if (H5Aexists(id, name) <= 0) throw FileError(concat("batch file \"", path, "\": attribute @", name, " is missing"));
    H5 a = own(H5Aopen(id, name, H5P_DEFAULT), H5Aclose, concat("opening @", name));
    H5 stored = own(H5Aget_type(a), H5Tclose, concat("reading the type of @", name));
    if (H5Tget_class(stored) != H5T_STRING) throw FileError(concat("batch file \"", path, "\": @", name, " is not a string"));
    if (H5Tis_variable_str(stored) <= 0) {
      // Fixed-length (system files since format version 2): read as stored.
      const size_t size = H5Tget_size(stored);
      std::string buf(size, '\0');
      check(H5Aread(a, stored, buf.data()), concat("reading @", name));
      return buf.substr(0, buf.find('\0'));
    }
    H5 t = string_type();
    char* p = nullptr;
    check(H5Aread(a, t, &p), concat("reading @", name));
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  std::int64_t read_attr_int(const char* name) const {
    if (H5Aexists(id, name) <= 0) throw FileError(concat("batch file \"", path, "\": attribute @", name, " is missing"));
    H5 a = own(H5Aopen(id, name, H5P_DEFAULT), H5Aclose, concat("opening @", name));
    std::int64_t v = 0;
    check(H5Aread(a, H5T_NATIVE_INT64, &v), concat("reading @", name));
    return v;
  }
  Dims dims(hid_t ds, const std::string& p) const {
    H5 space = own(H5Dget_space(ds), H5Sclose, "reading the shape of " + p);
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) check(-1, "reading the shape of " + p);
    Dims d(static_cast<size_t>(rank));
    H5Sget_simple_extent_dims(space, d.data(), nullptr);
    return d;
  }
  std::vector<double> read_doubles(const std::string& p, Dims& d) const {
    H5 ds = own(H5Dopen2(id, p.c_str(), H5P_DEFAULT), H5Dclose, "opening " + p);
    d = dims(ds, p);
    hsize_t count = 1;
    for (hsize_t x : d) count *= x;
    std::vector<double> v(count);
    if (count > 0) check(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "reading " + p);
    return v;
  }
  std::vector<std::int64_t> read_int64s(const std::string& p) const {
    H5 ds = own(H5Dopen2(id, p.c_str(), H5P_DEFAULT), H5Dclose, "opening " + p);
    const Dims d = dims(ds, p);
    std::vector<std::int64_t> v(d.empty() ? 0 : d[0]);
    if (!v.empty()) check(H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "reading " + p);
    return v;
  }
  std::vector<std::string> read_strings(const std::string& p) const {
    H5 ds = own(H5Dopen2(id, p.c_str(), H5P_DEFAULT), H5Dclose, "opening " + p);
    const Dims d = dims(ds, p);
    std::vector<char*> buf(d.empty() ? 0 : d[0], nullptr);
    std::vector<std::string> out;
    if (buf.empty()) return out;
    H5 t = string_type();
    check(H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), "reading " + p);
    for (char* s : buf) out.emplace_back(s ? s : "");
    H5 space = own(H5Dget_space(ds), H5Sclose, "reading the shape of " + p);
    H5Dvlen_reclaim(t, space, H5P_DEFAULT, buf.data());
    return out;
  }
};

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
void write_summary(const File& f, const BatchJob& job, const BatchFileContents& h,
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
  detail::AtomicFile out(path);
  std::vector<char> image;
  {
    Session session;
    File f{path, -1};
    H5 fcpl = f.own(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "creating a property list");
    // Built in memory (HDF5's core driver, no backing store), then written by
    // AtomicFile: a full disk fails there with its reason (atomic_file.hpp).
    H5 fapl = f.own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "creating a property list");
    f.check(detail::use_memory_file(fapl), "configuring the in-memory file");
    H5 file = f.own(H5Fcreate(out.temp_path().c_str(), H5F_ACC_TRUNC, fcpl, fapl), H5Fclose,
                    "creating the file");
    f.id = file;
    const ItemGrid g = job.grid();
    const Index R = static_cast<Index>(h.regions.size());
    f.attr_string("format", kBatchFormat);
    f.attr_int("format_version", kBatchFormatVersion);
    f.attr_string("created_by", std::string("mriotrace ") + MRIOTRACE_VERSION);
    f.attr_string("job_hash", hex64(h.job_hash));
    f.attr_string("job", h.job_text);
    f.attr_string("scenarios", job.scenario_text);
    f.attr_int("total_items", g.total());
    f.attr_int("shard_index", h.shard_index);
    f.attr_int("shard_count", h.shard_count);
    f.attr_int("items_done", static_cast<std::int64_t>(items.size()));
    f.attr_int("complete", h.complete ? 1 : 0);

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
    f.check(detail::memory_file_image(file, image) ? 0 : -1, "taking the in-memory file's image");
    f.check(file.release(), "closing the in-memory file");
  }
  out.write(image.data(), image.size());
  out.commit();
}

BatchFileContents read_batch_file(const std::string& path) {
  if (!fs::exists(path)) throw FileError(concat("batch file \"", path, "\" does not exist"));
  Session session;
  File f{path, -1};
  H5 file = f.own(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                  "opening (not an HDF5 file, or damaged)");
  f.id = file;
  if (H5Aexists(f.id, "format") <= 0 || f.read_attr_string("format") != kBatchFormat)
    throw FileError(concat("\"", path, "\" is not an mriotrace batch results file (no format = \"", kBatchFormat,
                           "\" attribute)"));
  const auto version = f.read_attr_int("format_version");
  if (version > kBatchFormatVersion)
    throw FileError(concat("batch file \"", path, "\" has format version ", version, "; this build reads up to ",
                           kBatchFormatVersion, " (upgrade mriotrace)"));
  BatchFileContents c;
  c.job_text = f.read_attr_string("job");
  c.scenario_text = H5Aexists(f.id, "scenarios") > 0 ? f.read_attr_string("scenarios") : std::string();
  c.job_hash = std::stoull(f.read_attr_string("job_hash"), nullptr, 16);
  c.total_items = f.read_attr_int("total_items");
  c.shard_index = static_cast<int>(f.read_attr_int("shard_index"));
  c.shard_count = static_cast<int>(f.read_attr_int("shard_count"));
  c.complete = f.read_attr_int("complete") != 0;
  c.regions = f.read_strings("/labels/regions");
  c.sectors = f.read_strings("/labels/sectors");
  c.stressors = f.read_strings("/labels/stressors");
  c.systems = f.read_strings("/labels/systems");
  c.scenarios = f.read_strings("/labels/scenarios");
  const auto accounts = f.read_strings("/labels/accounts");
  const auto ids = f.read_int64s("/items/id");
  const auto status = f.read_int64s("/items/status");
  const auto iterations = f.read_int64s("/items/iterations");
  const auto refactored = f.read_int64s("/items/refactored");
  const auto sda = f.read_int64s("/items/sda");
  Dims d;
  const auto seconds = f.read_doubles("/items/seconds", d);
  const auto cpu_seconds = f.read_doubles("/items/cpu_seconds", d);
  const auto message = f.read_strings("/items/message");
  const size_t M = ids.size();
  if (status.size() != M || seconds.size() != M || message.size() != M || sda.size() != M)
    throw FileError(concat("batch file \"", path, "\": the /items datasets have different lengths"));
  c.items.resize(M);
  for (size_t i = 0; i < M; ++i) {
    ItemResult& r = c.items[i];
    r.id = ids[i];
    r.status = static_cast<ItemStatus>(status[i]);
    r.iterations = static_cast<std::int32_t>(iterations[i]);
    r.refactored = refactored[i] != 0;
    r.seconds = seconds[i];
    r.cpu_seconds = cpu_seconds.size() == M ? cpu_seconds[i] : 0.0;
    r.message = message[i];
  }
  for (const auto& name : accounts) {
    const std::string p = "/results/" + name;
    if (!f.exists(p)) continue;
    const auto data = f.read_doubles(p, d);
    if (d.empty() || d[0] != M || d.size() < 3)
      throw FileError(concat("batch file \"", path, "\": ", p, " does not have one row per item"));
    const Index rows = static_cast<Index>(d[1]);
    Index cols = 1;
    for (size_t j = 2; j < d.size(); ++j) cols *= static_cast<Index>(d[j]);
    for (size_t i = 0; i < M; ++i) {
      if (c.items[i].status != ItemStatus::Ok || sda[i] >= 0) continue;  // stored as NaN
      RowMajor rm = Eigen::Map<const RowMajor>(data.data() + i * static_cast<size_t>(rows * cols), rows, cols);
      c.items[i].arrays.push_back({name, Matrix(rm)});
    }
  }
  // SDA items: arrays back from /sda/<name> (the job text names them).
  const BatchJob job = parse_job_text(c.job_text, path, fs::path(path).parent_path().string(), &c.scenario_text);
  for (size_t i = 0; i < M; ++i) {
    if (sda[i] < 0 || c.items[i].status != ItemStatus::Ok) continue;
    const std::string base = "/sda/" + job.sda[static_cast<size_t>(sda[i])].name;
    const auto factors = f.read_strings(base + "/factors");
    const auto e0 = f.read_doubles(base + "/E0", d);
    const Index k = static_cast<Index>(d[0]), R = static_cast<Index>(d[1]);
    const auto e1 = f.read_doubles(base + "/E1", d);
    const auto eff = f.read_doubles(base + "/effects", d);
    auto mat = [&](const double* p) { return Matrix(Eigen::Map<const RowMajor>(p, k, R)); };
    c.items[i].arrays.push_back({"E0", mat(e0.data())});
    c.items[i].arrays.push_back({"E1", mat(e1.data())});
    for (size_t j = 0; j < factors.size(); ++j)
      c.items[i].arrays.push_back({"effect:" + factors[j], mat(eff.data() + j * static_cast<size_t>(k * R))});
  }
  return c;
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

}  // namespace mriotrace::io
