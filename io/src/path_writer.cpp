// Streaming SPA path writers (path_writer.hpp): CSV rows and chunked,
// extendible HDF5 datasets, both committed atomically by finish().
#include "mriotrace/io/path_writer.hpp"

#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "atomic_file.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/h5.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "system_file.hpp"

namespace mriotrace::io {
namespace {

using ::mriotrace::detail::concat;

std::string node_label(const Labels& l, std::int32_t j) {
  const auto N = static_cast<std::int32_t>(l.N());
  std::string out = l.regions[static_cast<size_t>(j / N)];
  out += '/';
  out += l.sectors[static_cast<size_t>(j % N)];
  return out;
}

}  // namespace

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  out.push_back('"');
  return out;
}

void write_file_atomically(const std::string& path, const std::string& content) {
  detail::AtomicFile file(path);
  std::FILE* out = std::fopen(file.temp_path().c_str(), "wb");
  if (!out) throw FileError(concat("cannot write \"", path, "\": cannot create a file in its folder"));
  const bool written = std::fwrite(content.data(), 1, content.size(), out) == content.size();
  if (std::fclose(out) != 0 || !written) throw FileError(concat("cannot write \"", path, "\": write failed"));
  file.commit();
}

// --- CSV ----------------------------------------------------------------------

struct CsvPathWriter::Impl {
  detail::AtomicFile file;
  const Labels& labels;
  const SparseMatrix& A;
  Vector s;
  double total = 0;
  std::FILE* out = nullptr;
  std::string line;

  Impl(const std::string& path, const Labels& l, const SparseMatrix& a, const Eigen::Ref<const Vector>& s_)
      : file(path), labels(l), A(a), s(s_) {}
  void fail() const { throw FileError(concat("cannot write \"", file.target(), "\": write failed (disk full?)")); }
};

CsvPathWriter::CsvPathWriter(const std::string& path, const Labels& labels, const SparseMatrix& A,
                             const Eigen::Ref<const Vector>& s)
    : impl_(std::make_unique<Impl>(path, labels, A, s)) {
  MRIOTRACE_CHECK(A.rows() == labels.n() && s.size() == labels.n(), "path writer: A (", A.rows(),
                  " rows) and s (", s.size(), ") must match the labels' n = ", labels.n());
  impl_->out = std::fopen(impl_->file.temp_path().c_str(), "wb");
  if (!impl_->out) throw FileError(concat("cannot write \"", path, "\": cannot create a file in its folder"));
  if (std::fputs("depth,value,share,emitter_region,emitter_sector,final_region,final_sector,path,intensities,"
                 "coefficients\n",
                 impl_->out) < 0)
    impl_->fail();
}

CsvPathWriter::~CsvPathWriter() {
  if (impl_ && impl_->out) std::fclose(impl_->out);  // not finished: AtomicFile removes the temporary
}

void CsvPathWriter::begin(double total, double) { impl_->total = total; }

void CsvPathWriter::write(const std::int32_t* nodes, int depth, double value) {
  Impl& m = *impl_;
  const Labels& l = m.labels;
  const auto N = static_cast<std::int32_t>(l.N());
  const SpaPathDetail d = spa_path_detail(m.A, m.s, nodes, depth);
  char num[32];
  auto number = [&](double v) {
    std::snprintf(num, sizeof num, "%.17g", v);
    return std::string(num);
  };
  std::string& line = m.line;
  line.clear();
  line += std::to_string(depth) + ',' + number(value) + ',' + number(m.total != 0 ? value / m.total : 0.0) + ',';
  line += csv_quote(l.regions[static_cast<size_t>(nodes[0] / N)]) + ',' +
          csv_quote(l.sectors[static_cast<size_t>(nodes[0] % N)]) + ',';
  line += csv_quote(l.regions[static_cast<size_t>(nodes[depth] / N)]) + ',' +
          csv_quote(l.sectors[static_cast<size_t>(nodes[depth] % N)]) + ',';
  std::string path;
  for (int t = 0; t <= depth; ++t) {
    if (t) path += " > ";
    path += node_label(l, nodes[t]);
  }
  line += csv_quote(path) + ',';
  auto join = [&](const std::vector<double>& v) {
    for (size_t t = 0; t < v.size(); ++t) {
      if (t) line += ';';
      line += number(v[t]);
    }
  };
  join(d.intensities);
  line += ',';
  join(d.coefficients);
  line += '\n';
  if (std::fwrite(line.data(), 1, line.size(), m.out) != line.size()) m.fail();
}

void CsvPathWriter::finish() {
  Impl& m = *impl_;
  const int closed = std::fclose(m.out);
  m.out = nullptr;
  if (closed != 0) m.fail();
  m.file.commit();
}

// --- HDF5 -----------------------------------------------------------------------

namespace {
constexpr const char* kGroup = "/tracing/spa";
}  // namespace

struct Hdf5PathWriter::Impl {
  detail::AtomicFile file;
  h5::FileContext ctx;
  SpaRunInfo info;
  h5::Hid h5file;
  std::optional<h5::Writer> w;
  std::optional<h5::AppendColumn> values, depths, offsets, nodes;
  std::int64_t node_count = 0;

  explicit Impl(const std::string& path) : file(path), ctx(path, true) {}

  /// Write every full buffer (under the lock: push itself makes no HDF5 call).
  void flush_full(bool a, bool b, bool c, bool d) {
    if (!(a || b || c || d)) return;
    h5::Session session;
    guard([&] {
      if (a) values->flush();
      if (b) depths->flush();
      if (c) offsets->flush();
      if (d) nodes->flush();
    });
  }
  /// Run HDF5 writes; on a failure (a full disk) leave HDF5 clean and rethrow
  /// (the temporary file is removed by AtomicFile). Inside a Session.
  template <class Body>
  void guard(Body&& body) {
    try {
      body();
    } catch (...) {
      h5::discard_further_writes(h5file);
      for (auto* col : {&values, &depths, &offsets, &nodes}) col->reset();
      w.reset();
      h5file.close();
      throw;
    }
  }
  void close_all() {
    for (auto* col : {&values, &depths, &offsets, &nodes}) col->reset();
    w.reset();
    // Flush first: a failure then leaves the file open, for guard() to abandon.
    if (h5file.valid()) ctx.check(H5Fflush(h5file, H5F_SCOPE_LOCAL), "writing the file");
    if (h5file.valid() && h5file.close() < 0) ctx.fail("closing the file failed");
  }
};

Hdf5PathWriter::Hdf5PathWriter(const std::string& path, const Labels& labels, const SpaRunInfo& info)
    : impl_(std::make_unique<Impl>(path)) {
  Impl& m = *impl_;
  m.info = info;
  h5::Session session;
  // On disk, not in memory: millions of paths must not sit in memory. A
  // results file (root attributes, /system/labels), then the paths group.
  m.h5file = h5::create_disk_file(m.ctx, m.file.temp_path());
  m.w.emplace(m.h5file, m.ctx);
  m.guard([&] {
    m.w->root(system_format());
    write_labels_group(*m.w, labels);
    m.w->group("/tracing");
    m.w->group(kGroup);
    m.w->attr_ints(kGroup, "spa_format_version", {kSpaFormatVersion});
    m.values.emplace(*m.w, concat(kGroup, "/values"), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sizeof(double));
    m.depths.emplace(*m.w, concat(kGroup, "/depths"), H5T_STD_I32LE, H5T_NATIVE_INT32, sizeof(std::int32_t));
    m.offsets.emplace(*m.w, concat(kGroup, "/offsets"), H5T_STD_I64LE, H5T_NATIVE_INT64, sizeof(std::int64_t));
    m.nodes.emplace(*m.w, concat(kGroup, "/nodes"), H5T_STD_I64LE, H5T_NATIVE_INT64, sizeof(std::int64_t));
  });
  m.offsets->push<std::int64_t>(0);
}

Hdf5PathWriter::~Hdf5PathWriter() {
  if (!impl_) return;
  try {
    h5::Session session;
    impl_->close_all();  // not finished: AtomicFile then removes the temporary
  } catch (...) {
  }
}

void Hdf5PathWriter::write(const std::int32_t* nodes, int depth, double value) {
  Impl& m = *impl_;
  const bool a = m.values->push(value);
  const bool b = m.depths->push<std::int32_t>(depth);
  bool d = false;
  for (int t = 0; t <= depth; ++t) d = m.nodes->push<std::int64_t>(nodes[t]) || d;
  m.node_count += depth + 1;
  const bool c = m.offsets->push(m.node_count);
  m.flush_full(a, b, c, d);
}

void Hdf5PathWriter::finish(const SpaResult& r) {
  Impl& m = *impl_;
  {
    h5::Session session;
    m.guard([&] {
      m.values->flush();
      m.depths->flush();
      m.offsets->flush();
      m.nodes->flush();
      const h5::Writer& w = *m.w;
      w.attr_string(kGroup, "stressor", m.info.stressor);
      w.attr_string(kGroup, "unit", m.info.unit);
      w.attr_string(kGroup, "demand", m.info.demand);
      w.attr_double(kGroup, "tau", m.info.options.tau);
      w.attr_string(kGroup, "tau_kind", m.info.options.absolute ? "absolute" : "relative");
      w.attr_double(kGroup, "max_depth", r.max_depth);
      w.attr_double(kGroup, "total", r.total);
      w.attr_double(kGroup, "threshold", r.threshold);
      w.attr_double(kGroup, "coverage", r.coverage);
      w.attr_double(kGroup, "paths_found", static_cast<double>(r.paths_found));
      w.attr_double(kGroup, "nodes_expanded", static_cast<double>(r.nodes_expanded));
      w.attr_double(kGroup, "search_seconds", r.search_seconds);
      w.attr_string(kGroup, "truncation", r.truncated ? r.truncation : "");
      w.vector(concat(kGroup, "/coverage_by_depth"), r.coverage_by_depth);
      m.close_all();
    });
  }
  m.file.commit();
}

namespace {

SpaPathFile read_paths(h5::Reader& r) {
  const auto& ctx = r.ctx();
  SpaPathFile f;
  check_system_format(r);
  f.labels = read_labels_group(r);
  r.require(kGroup, "the paths of a structural path analysis");
  const std::string g = kGroup;
  f.spa_format_version = r.has_attr(g, "spa_format_version") ? static_cast<int>(r.attr_int(g, "spa_format_version")) : 1;
  if (f.spa_format_version > kSpaFormatVersion)
    ctx.fail(concat(g, "@spa_format_version is ", f.spa_format_version, ", newer than this build of mriotrace reads (",
                    kSpaFormatVersion, "); upgrade mriotrace"));
  if (f.spa_format_version < 2)
    warn(concat("\"", ctx.path(), "\" holds paths written before path files carried checksums: damage to them would "
                "go unnoticed; run the analysis again to write them with checksums"));
  f.values = r.column<double>(g + "/values");
  const hsize_t P = f.values.size();
  f.depths = r.numbers<std::int32_t>(g + "/depths", {P}, "one depth per path, as values");
  f.offsets = r.numbers<std::int64_t>(g + "/offsets", {P + 1}, "paths + 1 offsets into nodes");
  f.nodes = r.column<std::int64_t>(g + "/nodes");
  f.coverage_by_depth = r.column<double>(g + "/coverage_by_depth");
  const auto n = static_cast<std::int64_t>(f.labels.n());
  if (f.offsets[0] != 0 || f.offsets[P] != static_cast<std::int64_t>(f.nodes.size()))
    ctx.fail(concat(g, "/offsets must start at 0 and end at the number of nodes (", f.nodes.size(), ")"));
  for (hsize_t p = 0; p < P; ++p)
    if (f.depths[p] < 0 || f.offsets[p + 1] - f.offsets[p] != f.depths[p] + 1)
      ctx.fail(concat(g, "/offsets and depths disagree at path ", p, ": depth ", f.depths[p], ", ",
                      f.offsets[p + 1] - f.offsets[p], " nodes"));
  for (size_t p = 0; p < f.values.size(); ++p)
    if (!std::isfinite(f.values[p])) ctx.fail(concat(g, "/values[", p, "] = ", f.values[p], " is not a finite number"));
  for (size_t i = 0; i < f.nodes.size(); ++i)
    if (f.nodes[i] < 0 || f.nodes[i] >= n)
      ctx.fail(concat(g, "/nodes[", i, "] is ", f.nodes[i], ", outside the n = ", n, " sectors of the labels"));
  f.stressor = r.attr_string(g, "stressor");
  f.unit = r.attr_string(g, "unit");
  f.demand = r.attr_string(g, "demand");
  f.tau_kind = r.attr_string(g, "tau_kind");
  f.truncation = r.attr_string(g, "truncation");
  for (auto [name, out] : {std::pair{"tau", &f.tau}, {"total", &f.total}, {"threshold", &f.threshold},
                           {"coverage", &f.coverage}, {"max_depth", &f.max_depth}, {"paths_found", &f.paths_found},
                           {"nodes_expanded", &f.nodes_expanded}, {"search_seconds", &f.search_seconds}})
    *out = r.attr_double(g, name);
  return f;
}

}  // namespace

SpaPathFile read_spa_paths(const std::string& path) {
  const std::string bytes = h5::guarded(path, [&](h5::Encoder& e) {
    h5::Session session;
    h5::Reader r(path);
    const SpaPathFile f = read_paths(r);
    e.u64(static_cast<std::uint64_t>(f.spa_format_version));
    encode_labels(e, f.labels);
    e.array(f.values);
    e.array(f.depths);
    e.array(f.offsets);
    e.array(f.nodes);
    e.array(f.coverage_by_depth);
    for (const auto* v : {&f.stressor, &f.unit, &f.demand, &f.tau_kind, &f.truncation}) e.str(*v);
    for (double v : {f.tau, f.total, f.threshold, f.coverage, f.max_depth, f.paths_found, f.nodes_expanded,
                     f.search_seconds})
      e.f64(v);
  });
  h5::Decoder d(bytes, path);
  SpaPathFile f;
  f.spa_format_version = static_cast<int>(d.u64());
  f.labels = decode_labels_from(d);
  f.values = d.array<double>();
  f.depths = d.array<std::int32_t>();
  f.offsets = d.array<std::int64_t>();
  f.nodes = d.array<std::int64_t>();
  f.coverage_by_depth = d.array<double>();
  for (auto* v : {&f.stressor, &f.unit, &f.demand, &f.tau_kind, &f.truncation}) *v = d.str();
  for (double* v : {&f.tau, &f.total, &f.threshold, &f.coverage, &f.max_depth, &f.paths_found, &f.nodes_expanded,
                    &f.search_seconds})
    *v = d.f64();
  return f;
}

}  // namespace mriotrace::io
