// Streaming SPA path writers (path_writer.hpp): CSV rows and chunked,
// extendible HDF5 datasets, both committed atomically by finish().
#include "mriotrace/io/path_writer.hpp"

#include <hdf5.h>

#include <cstdio>
#include <vector>

#include "atomic_file.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/hdf5.hpp"

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

constexpr hsize_t kChunk = 65536;  // elements per chunk and per buffered append
constexpr const char* kGroup = "/tracing/spa";

/// One chunked, extendible 1-D dataset with an append buffer.
template <class T>
struct Column {
  explicit Column(hid_t type) : mem_type(type) {}
  hid_t ds = H5I_INVALID_HID;
  hid_t mem_type;
  hsize_t size = 0;
  std::vector<T> buffer;
};

}  // namespace

struct Hdf5PathWriter::Impl {
  detail::AtomicFile file;
  SpaRunInfo info;
  hid_t h5 = H5I_INVALID_HID;
  Column<double> values{H5T_NATIVE_DOUBLE};
  Column<std::int32_t> depths{H5T_NATIVE_INT32};
  Column<std::int64_t> offsets{H5T_NATIVE_INT64};
  Column<std::int64_t> nodes{H5T_NATIVE_INT64};
  std::int64_t node_count = 0;

  explicit Impl(const std::string& path) : file(path) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw FileError(concat("cannot write \"", file.target(), "\": ", what, " failed"));
  }
  void check(herr_t status, const std::string& what) const {
    if (status < 0) fail(what);
  }

  template <class T>
  void create(Column<T>& c, const char* name, hid_t file_type) {
    const hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = kChunk;
    const hid_t space = H5Screate_simple(1, &zero, &unlimited);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 4);
    c.ds = H5Dcreate2(h5, concat(kGroup, "/", name).c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (c.ds < 0) fail(concat("creating ", kGroup, "/", name));
    c.buffer.reserve(kChunk);
  }

  template <class T>
  void flush(Column<T>& c) {
    if (c.buffer.empty()) return;
    const hsize_t start = c.size, count = c.buffer.size(), end = c.size + count;
    check(H5Dset_extent(c.ds, &end), "extending a path dataset");
    const hid_t fspace = H5Dget_space(c.ds);
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, nullptr, &count, nullptr);
    const hid_t mspace = H5Screate_simple(1, &count, nullptr);
    const herr_t st = H5Dwrite(c.ds, c.mem_type, mspace, fspace, H5P_DEFAULT, c.buffer.data());
    H5Sclose(mspace);
    H5Sclose(fspace);
    check(st, "appending paths");
    c.size = end;
    c.buffer.clear();
  }

  template <class T>
  void push(Column<T>& c, T v) {
    c.buffer.push_back(v);
    if (c.buffer.size() >= kChunk) flush(c);
  }

  void attr_double(const char* name, double v) {
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate_by_name(h5, kGroup, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const herr_t st = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    check(st, concat("writing attribute ", kGroup, "@", name));
  }
  void attr_string(const char* name, const std::string& v) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate_by_name(h5, kGroup, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char* p = v.c_str();
    const herr_t st = a < 0 ? -1 : H5Awrite(a, type, &p);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    check(st, concat("writing attribute ", kGroup, "@", name));
  }

  void close_all() {
    for (hid_t* ds : {&values.ds, &depths.ds, &offsets.ds, &nodes.ds})
      if (*ds >= 0) {
        H5Dclose(*ds);
        *ds = H5I_INVALID_HID;
      }
    if (h5 >= 0) {
      const herr_t st = H5Fclose(h5);
      h5 = H5I_INVALID_HID;
      check(st, "closing the file");
    }
  }
};

Hdf5PathWriter::Hdf5PathWriter(const std::string& path, const Labels& labels, const SpaRunInfo& info)
    : impl_(std::make_unique<Impl>(path)) {
  Impl& m = *impl_;
  m.info = info;
  // A results file with the labels (root attributes, /system/labels), then the paths group.
  save_results(m.file.temp_path(), labels, {});
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  m.h5 = H5Fopen(m.file.temp_path().c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (m.h5 < 0) m.fail("reopening the new file");
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const hid_t g = H5Gcreate2(m.h5, kGroup, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Pclose(lcpl);
  if (g < 0) m.fail(concat("creating ", kGroup));
  H5Gclose(g);
  m.create(m.values, "values", H5T_IEEE_F64LE);
  m.create(m.depths, "depths", H5T_STD_I32LE);
  m.create(m.offsets, "offsets", H5T_STD_I64LE);
  m.create(m.nodes, "nodes", H5T_STD_I64LE);
  m.push<std::int64_t>(m.offsets, 0);
}

Hdf5PathWriter::~Hdf5PathWriter() {
  if (!impl_) return;
  try {
    impl_->close_all();  // not finished: AtomicFile then removes the temporary
  } catch (...) {
  }
}

void Hdf5PathWriter::write(const std::int32_t* nodes, int depth, double value) {
  Impl& m = *impl_;
  m.push(m.values, value);
  m.push<std::int32_t>(m.depths, depth);
  for (int t = 0; t <= depth; ++t) m.push<std::int64_t>(m.nodes, nodes[t]);
  m.node_count += depth + 1;
  m.push(m.offsets, m.node_count);
}

void Hdf5PathWriter::finish(const SpaResult& r) {
  Impl& m = *impl_;
  m.flush(m.values);
  m.flush(m.depths);
  m.flush(m.offsets);
  m.flush(m.nodes);
  m.attr_string("stressor", m.info.stressor);
  m.attr_string("unit", m.info.unit);
  m.attr_string("demand", m.info.demand);
  m.attr_double("tau", m.info.options.tau);
  m.attr_string("tau_kind", m.info.options.absolute ? "absolute" : "relative");
  m.attr_double("max_depth", r.max_depth);
  m.attr_double("total", r.total);
  m.attr_double("threshold", r.threshold);
  m.attr_double("coverage", r.coverage);
  m.attr_double("paths_found", static_cast<double>(r.paths_found));
  m.attr_double("nodes_expanded", static_cast<double>(r.nodes_expanded));
  m.attr_double("search_seconds", r.search_seconds);
  m.attr_string("truncation", r.truncated ? r.truncation : "");
  {
    const hsize_t count = static_cast<hsize_t>(r.coverage_by_depth.size());
    const hid_t space = H5Screate_simple(1, &count, nullptr);
    const hid_t ds = H5Dcreate2(m.h5, concat(kGroup, "/coverage_by_depth").c_str(), H5T_IEEE_F64LE, space,
                                H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const herr_t st =
        ds < 0 ? -1 : H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, r.coverage_by_depth.data());
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
    m.check(st, "writing coverage_by_depth");
  }
  m.close_all();
  m.file.commit();
}

}  // namespace mriotrace::io
