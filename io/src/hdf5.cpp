// HDF5 storage of systems and results: the layout is docs/file-format.md.
//
// Everything goes through the HDF5 C API with absolute object paths
// ("/system/A/data") so messages can name the object that is wrong. Handles are
// owned by Hid (RAII), so an exception never leaks one; HDF5's own error-stack
// printing is switched off and every failing call becomes a FileError naming
// the file. Dense matrices are stored row-major with the shape the user sees
// (what h5py and NumPy expect), so Eigen's column-major data is transposed on
// the way in and out.
#include "mriotrace/io/hdf5.hpp"

#include <hdf5.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <mutex>
#include <set>
#include <type_traits>
#include <utility>

#include "atomic_file.hpp"
#include "hdf5_image.hpp"
#include "mriotrace/error.hpp"

#ifndef MRIOTRACE_VERSION
#define MRIOTRACE_VERSION "unknown"
#endif

namespace mriotrace::io {
namespace {

using ::mriotrace::detail::concat;
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Dims = std::vector<hsize_t>;

constexpr const char* kFormatName = "mriotrace";
/// Datasets with at least this many elements are chunked and compressed;
/// smaller ones stay contiguous (compression overhead would exceed the gain).
constexpr hsize_t kCompressMin = 4096;
/// Target elements per chunk (512 KiB of doubles): large enough for gzip,
/// small enough that reading a slice does not inflate the whole array.
constexpr hsize_t kChunkElements = 65536;
constexpr unsigned kGzipLevel = 4;

// Debian's libhdf5 is the serial (not thread-safe) build: every public
// function holds this lock for its whole HDF5 session.
std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

/// Holds the HDF5 lock and silences HDF5's automatic error-stack printing
/// (errors are reported as FileError instead).
struct Session {
  std::lock_guard<std::mutex> lock{hdf5_mutex()};
  Session() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};

/// Owning HDF5 identifier, closed with the matching H5?close on destruction.
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);
  Hid() = default;
  Hid(hid_t id, Closer close) : id_(id), close_(close) {}
  Hid(Hid&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      close();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      close_ = o.close_;
    }
    return *this;
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  ~Hid() { close(); }
  operator hid_t() const { return id_; }
  /// Close now; the result matters for files (H5Fclose flushes the data).
  herr_t close() {
    const herr_t r = id_ >= 0 ? close_(id_) : 0;
    id_ = H5I_INVALID_HID;
    return r;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

/// Error context: the file and whether it is being read or written.
class FileContext {
 public:
  FileContext(std::string path, bool writing) : path_(std::move(path)), writing_(writing) {}
  const std::string& path() const { return path_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw FileError(concat(writing_ ? "cannot write \"" : "cannot read \"", path_, "\": ", what));
  }
  /// Wrap a new identifier; throw FileError("<what> failed") if HDF5 returned an error.
  Hid own(hid_t id, Hid::Closer close, const std::string& what) const {
    if (id < 0) fail(what + " failed");
    return Hid(id, close);
  }
  void check(herr_t status, const std::string& what) const {
    if (status < 0) fail(what + " failed");
  }

 private:
  std::string path_;
  bool writing_;
};

std::string shape_string(const Dims& d) {
  std::string s;
  for (size_t i = 0; i < d.size(); ++i) s += (i ? " x " : "") + std::to_string(d[i]);
  return d.empty() ? "scalar" : s;
}

Hid utf8_string_type(const FileContext& ctx) {
  Hid t = ctx.own(H5Tcopy(H5T_C_S1), H5Tclose, "creating the string type");
  ctx.check(H5Tset_size(t, H5T_VARIABLE), "creating the string type");
  ctx.check(H5Tset_cset(t, H5T_CSET_UTF8), "creating the string type");
  return t;
}

hsize_t element_count(const Dims& dims) {
  hsize_t count = 1;
  for (hsize_t d : dims) count *= d;
  return count;
}

// ---------------------------------------------------------------------------
// Writing

class Writer {
 public:
  Writer(hid_t file, const FileContext& ctx) : file_(file), ctx_(ctx) {}

  /// Create a group; `track_order` records link creation order so readers
  /// list the children (result sets) in the order they were written.
  Hid group(const std::string& path, bool track_order = false) const {
    Hid gcpl = ctx_.own(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, "creating a property list");
    if (track_order)
      ctx_.check(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
                 "setting link creation order of " + path);
    return ctx_.own(H5Gcreate2(file_, path.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose,
                    "creating group " + path);
  }

  void attr_string(const std::string& object, const char* name, const std::string& value) const {
    Hid type = utf8_string_type(ctx_);
    Hid space = ctx_.own(H5Screate(H5S_SCALAR), H5Sclose, "creating a dataspace");
    Hid attr = create_attr(object, name, type, space);
    const char* p = value.c_str();
    ctx_.check(H5Awrite(attr, type, &p), "writing attribute " + object + "@" + name);
  }

  /// int64 attribute: scalar when `scalar`, else a 1-D array.
  void attr_ints(const std::string& object, const char* name, const std::vector<std::int64_t>& values,
                 bool scalar) const {
    const hsize_t count = values.size();
    Hid space = ctx_.own(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr), H5Sclose,
                         "creating a dataspace");
    Hid attr = create_attr(object, name, H5T_STD_I64LE, space);
    ctx_.check(H5Awrite(attr, H5T_NATIVE_INT64, values.data()), "writing attribute " + object + "@" + name);
  }

  /// 1-D dataset of variable-length UTF-8 strings.
  void strings(const std::string& path, const std::vector<std::string>& values) const {
    std::vector<const char*> ptrs;
    ptrs.reserve(values.size());
    for (const auto& s : values) ptrs.push_back(s.c_str());
    Hid type = utf8_string_type(ctx_);
    dataset(path, type, type, ptrs.data(), {values.size()});
  }

  void doubles(const std::string& path, const double* data, const Dims& dims) const {
    dataset(path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, dims);
  }
  void int64s(const std::string& path, const std::int64_t* data, hsize_t count) const {
    dataset(path, H5T_STD_I64LE, H5T_NATIVE_INT64, data, {count});
  }
  void vector(const std::string& path, const Vector& v) const {
    doubles(path, v.data(), {static_cast<hsize_t>(v.size())});
  }
  /// Row-major with the user's shape; `dims` overrides the shape with the
  /// same element order (Q: k x R*R written as k x R x R).
  void matrix(const std::string& path, const Matrix& m, Dims dims = {}) const {
    const RowMajor rm = m;
    if (dims.empty()) dims = {static_cast<hsize_t>(m.rows()), static_cast<hsize_t>(m.cols())};
    doubles(path, rm.data(), dims);
  }

 private:
  Hid create_attr(const std::string& object, const char* name, hid_t type, hid_t space) const {
    return ctx_.own(H5Acreate_by_name(file_, object.c_str(), name, type, space, H5P_DEFAULT, H5P_DEFAULT,
                                      H5P_DEFAULT),
                    H5Aclose, concat("creating attribute ", object, "@", name));
  }

  void dataset(const std::string& path, hid_t file_type, hid_t mem_type, const void* data,
               const Dims& dims) const {
    Hid space = ctx_.own(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                         "creating the dataspace of " + path);
    Hid dcpl = ctx_.own(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "creating a property list");
    const hsize_t count = element_count(dims);
    const bool is_string = H5Tget_class(file_type) == H5T_STRING;
    if (!is_string && count >= kCompressMin && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
      // Chunks span whole trailing dimensions where possible (row blocks of a
      // row-major matrix), about kChunkElements each.
      Dims chunk(dims.size());
      hsize_t budget = kChunkElements;
      for (size_t i = dims.size(); i-- > 0;) {
        chunk[i] = std::max<hsize_t>(1, std::min(dims[i], budget));
        budget = std::max<hsize_t>(1, budget / chunk[i]);
      }
      ctx_.check(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "chunking " + path);
      ctx_.check(H5Pset_shuffle(dcpl), "setting the shuffle filter of " + path);
      ctx_.check(H5Pset_deflate(dcpl, kGzipLevel), "setting gzip compression of " + path);
    }
    Hid ds = ctx_.own(H5Dcreate2(file_, path.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                      H5Dclose, "creating dataset " + path);
    if (count > 0)
      ctx_.check(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "writing dataset " + path);
  }

  hid_t file_;
  const FileContext& ctx_;
};

/// The stored k x n and k x R members of Accounts, in file order.
struct AccountMember {
  const char* name;
  Matrix Accounts::*member;
  bool regional;  ///< k x R (else k x n)
};
constexpr AccountMember kAccountMembers[] = {
    {"M", &Accounts::M, false},
    {"D_cba", &Accounts::D_cba, false},
    {"D_pba", &Accounts::D_pba, false},
    {"D_imp", &Accounts::D_imp, false},
    {"D_exp", &Accounts::D_exp, false},
    {"D_cba_reg", &Accounts::D_cba_reg, true},
    {"D_pba_reg", &Accounts::D_pba_reg, true},
    {"D_imp_reg", &Accounts::D_imp_reg, true},
    {"D_exp_reg", &Accounts::D_exp_reg, true},
};

const char* const kLabelSets[] = {"regions",    "sectors",         "fd_categories",  "stressors",
                                  "stressor_units", "indicators", "indicator_units"};

/// The label vector called `name` (one of kLabelSets); const-ness follows `l`.
template <class L>
auto* label_set(L& l, const std::string& name) {
  if (name == "regions") return &l.regions;
  if (name == "sectors") return &l.sectors;
  if (name == "fd_categories") return &l.fd_categories;
  if (name == "stressors") return &l.stressors;
  if (name == "stressor_units") return &l.stressor_units;
  if (name == "indicators") return &l.indicators;
  return &l.indicator_units;
}

void write_root(const Writer& w) {
  w.attr_string("/", "format", kFormatName);
  w.attr_ints("/", "format_version", {kFormatVersion}, true);
  w.attr_string("/", "created_by", std::string("mriotrace ") + MRIOTRACE_VERSION);
}

void write_labels(const Writer& w, const Labels& labels) {
  w.group("/system/labels");
  for (const char* name : kLabelSets) w.strings(std::string("/system/labels/") + name, *label_set(labels, name));
  w.attr_string("/system/labels", "monetary_unit", labels.monetary_unit);
}

void write_system(const Writer& w, const MrioSystem& s) {
  // Eigen's arrays are scipy's CSC arrays only when compressed (the system
  // keeps A compressed; copy only if not).
  SparseMatrix compressed;
  const SparseMatrix* A = &s.A();
  if (!A->isCompressed()) {
    compressed = *A;
    compressed.makeCompressed();
    A = &compressed;
  }
  w.group("/system/A");
  w.attr_ints("/system/A", "shape", {A->rows(), A->cols()}, false);
  const auto nnz = static_cast<hsize_t>(A->nonZeros());
  w.doubles("/system/A/data", A->valuePtr(), {nnz});
  w.int64s("/system/A/indices", A->innerIndexPtr(), nnz);
  w.int64s("/system/A/indptr", A->outerIndexPtr(), static_cast<hsize_t>(A->outerSize()) + 1);
  w.vector("/system/x", s.x());
  w.matrix("/system/Y", s.Y());
  w.matrix("/system/S", s.S());
  if (s.has_F_Y()) w.matrix("/system/F_Y", s.F_Y());
  if (s.has_value_added()) w.vector("/system/v", s.v());
  if (s.has_indicators()) w.matrix("/system/C", s.C());
}

void check_result_names(const std::vector<NamedAccounts>& results) {
  std::set<std::string> seen;
  for (const auto& r : results) {
    MRIOTRACE_CHECK(!r.name.empty() && r.name != "." && r.name.find('/') == std::string::npos,
                    "result set name \"", r.name, "\" is not usable as an HDF5 group name; expected a non-empty "
                    "name without '/'");
    MRIOTRACE_CHECK(seen.insert(r.name).second, "result set name \"", r.name, "\" appears twice; expected unique names");
  }
}

/// Shapes of `acc` against the labels, checked before writing so that every
/// written file can be read back (the reader checks the same shapes).
void check_accounts(const std::string& name, const Accounts& acc, const Labels& labels) {
  const Index n = labels.n(), R = labels.R();
  MRIOTRACE_CHECK(acc.x.size() == 0 || acc.x.size() == n, "results \"", name, "\": x has ", acc.x.size(),
                  " entries; expected n = ", n);
  Index k = acc.stressors.empty() ? -1 : static_cast<Index>(acc.stressors.size());
  for (Index s : acc.stressors)
    MRIOTRACE_CHECK(s >= 0 && s < labels.k(), "results \"", name, "\": stressor index ", s, " is outside the ",
                    labels.k(), " stressors of the labels");
  for (const auto& m : kAccountMembers) {
    if (!(m.regional ? acc.regional : acc.sector_level)) continue;
    const Matrix& v = acc.*m.member;
    if (k < 0) k = v.rows();
    MRIOTRACE_CHECK(v.rows() == k && v.cols() == (m.regional ? R : n), "results \"", name, "\": ", m.name, " is ",
                    v.rows(), " x ", v.cols(), "; expected ", k, " x ", m.regional ? R : n,
                    m.regional ? " (stressors x regions)" : " (stressors x n)");
  }
  if (acc.regional)
    MRIOTRACE_CHECK(acc.Q.rows() == k && acc.Q.cols() == R * R, "results \"", name, "\": Q is ", acc.Q.rows(),
                    " x ", acc.Q.cols(), "; expected ", k, " x ", R * R, " (stressors x R*R)");
}

void write_results(const Writer& w, const Labels& labels, const std::vector<NamedAccounts>& results) {
  if (results.empty()) return;
  w.group("/results", true);
  const Index R = labels.R();
  for (const auto& [name, acc] : results) {
    const std::string g = "/results/" + name;
    check_accounts(name, acc, labels);
    w.group(g);
    w.attr_ints(g, "sector_level", {acc.sector_level ? 1 : 0}, true);
    w.attr_ints(g, "regional", {acc.regional ? 1 : 0}, true);
    w.int64s(g + "/stressors", acc.stressors.data(), acc.stressors.size());
    if (acc.x.size() > 0) w.vector(g + "/x", acc.x);
    for (const auto& m : kAccountMembers)
      if (m.regional ? acc.regional : acc.sector_level) w.matrix(g + "/" + m.name, acc.*m.member);
    if (acc.regional)
      w.matrix(g + "/Q", acc.Q,
               {static_cast<hsize_t>(acc.Q.rows()), static_cast<hsize_t>(R), static_cast<hsize_t>(R)});
  }
}

/// Create the file as a temporary, let `body` fill it, close, rename over `path`.
template <class Body>
void write_atomically(const std::string& path, Body&& body) {
  Session session;
  const FileContext ctx(path, true);
  detail::AtomicFile out(path);
  std::vector<char> image;
  {
    // Built in memory (HDF5's core driver, no backing store), then written by
    // AtomicFile: a full disk fails there with its reason (atomic_file.hpp).
    Hid fapl = ctx.own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "creating a property list");
    ctx.check(detail::use_memory_file(fapl), "configuring the in-memory file");
    Hid file = ctx.own(H5Fcreate(out.temp_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose,
                       "creating the in-memory file");
    const Writer w(file, ctx);
    write_root(w);
    body(w);
    if (!detail::memory_file_image(file, image)) ctx.fail("taking the in-memory file's image failed");
    if (file.close() < 0) ctx.fail("closing the in-memory file failed");
  }
  out.write(image.data(), image.size());
  out.commit();
}

// ---------------------------------------------------------------------------
// Reading

class Reader {
 public:
  /// Opens `path` read-only and checks that it is an mriotrace file this build can read.
  explicit Reader(const std::string& path) : ctx_(path, false) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path, ec)) ctx_.fail("no such file");
    if (!fs::is_regular_file(path, ec)) ctx_.fail("not a regular file");
#if H5_VERSION_GE(1, 12, 0)
    const htri_t is_hdf5 = H5Fis_accessible(path.c_str(), H5P_DEFAULT);
#else
    const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
#endif
    if (is_hdf5 == 0) ctx_.fail("not an HDF5 file (no HDF5 signature); expected an mriotrace .h5 file");
    if (is_hdf5 < 0) ctx_.fail("the file cannot be opened (permissions?)");
    Hid fapl = ctx_.own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "creating a property list");
#if H5_VERSION_GE(1, 10, 7)
    ctx_.check(H5Pset_file_locking(fapl, true, true), "configuring file locking");
#endif
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl);
    if (file < 0) ctx_.fail("the HDF5 file cannot be opened: it is truncated or corrupt");
    file_ = Hid(file, H5Fclose);
    check_format();
  }

  /// Opens a file image (the bytes of an .h5 file held in memory) read-only
  /// through HDF5's core driver; `name` stands for the file in messages.
  Reader(const void* image, size_t size, const std::string& name) : ctx_(name, false) {
    if (image == nullptr || size == 0) ctx_.fail("empty file image");
    Hid fapl = ctx_.own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "creating a property list");
    ctx_.check(detail::use_memory_file(fapl), "configuring the in-memory file");
    // HDF5 copies the image into its own buffer: the caller's bytes stay untouched.
    ctx_.check(H5Pset_file_image(fapl, const_cast<void*>(image), size), "setting the file image");
    const hid_t file = H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl);
    if (file < 0) ctx_.fail("the HDF5 file image cannot be opened: it is truncated or corrupt");
    file_ = Hid(file, H5Fclose);
    check_format();
  }

  /// Throws unless the open file is an mriotrace file of a version this build reads.
  void check_format() {
    if (H5Aexists(file_, "format") <= 0)
      ctx_.fail("not an mriotrace file (foreign HDF5 file: the root has no \"format\" attribute)");
    const std::string format = attr_string("/", "format");
    if (format != kFormatName)
      ctx_.fail(concat("not an mriotrace file (foreign HDF5 file: format is \"", format, "\", expected \"",
                       kFormatName, "\")"));
    if (H5Aexists(file_, "format_version") <= 0) ctx_.fail("the root has no \"format_version\" attribute");
    const auto version = attr_ints("/", "format_version");
    if (version.size() != 1 || version[0] < 1) ctx_.fail("the root attribute \"format_version\" is invalid");
    if (version[0] > kFormatVersion)
      ctx_.fail(concat("written with format version ", version[0], ", newer than this build of mriotrace reads (",
                       kFormatVersion, "); upgrade mriotrace"));
    version_ = static_cast<int>(version[0]);
  }

  const FileContext& ctx() const { return ctx_; }
  int version() const { return version_; }

  /// True if every component of the absolute `path` exists.
  bool exists(const std::string& path) const {
    for (size_t pos = path.find('/', 1);; pos = path.find('/', pos + 1)) {
      const std::string prefix = path.substr(0, pos);
      if (H5Lexists(file_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
      if (pos == std::string::npos) return true;
    }
  }
  void require(const std::string& path, const char* meaning) const {
    if (!exists(path)) ctx_.fail(concat(path, " is missing (", meaning, ")"));
  }

  bool has_attr(const std::string& object, const char* name) const {
    return H5Aexists_by_name(file_, object.c_str(), name, H5P_DEFAULT) > 0;
  }
  std::string attr_string(const std::string& object, const char* name) const {
    Hid attr = open_attr(object, name);
    auto values = read_strings(attr, true, object + "@" + name);
    if (values.size() != 1) ctx_.fail(concat("attribute ", object, "@", name, " is not a single string"));
    return values[0];
  }
  std::vector<std::int64_t> attr_ints(const std::string& object, const char* name) const {
    const std::string what = object + "@" + name;
    Hid attr = open_attr(object, name);
    Hid type = ctx_.own(H5Aget_type(attr), H5Tclose, "reading the type of " + what);
    if (H5Tget_class(type) != H5T_INTEGER) ctx_.fail(what + " is not an integer attribute");
    Hid space = ctx_.own(H5Aget_space(attr), H5Sclose, "reading the dataspace of " + what);
    std::vector<std::int64_t> out(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
    if (!out.empty()) ctx_.check(H5Aread(attr, H5T_NATIVE_INT64, out.data()), "reading " + what);
    return out;
  }

  std::vector<std::string> strings(const std::string& path) const {
    Hid ds = open_dataset(path);
    return read_strings(ds, false, path);
  }

  Dims dims(const std::string& path) const {
    Hid ds = open_dataset(path);
    Hid space = ctx_.own(H5Dget_space(ds), H5Sclose, "reading the dataspace of " + path);
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) ctx_.fail("reading the shape of " + path + " failed");
    Dims d(static_cast<size_t>(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space, d.data(), nullptr);
    return d;
  }
  void expect_dims(const std::string& path, const Dims& want, const char* meaning) const {
    const Dims got = dims(path);
    if (got != want)
      ctx_.fail(concat(path, " has shape ", shape_string(got), "; expected ", shape_string(want), " (", meaning, ")"));
  }

  /// Numeric dataset of shape `want` (after checking it), as `T` (double or int64).
  template <class T>
  std::vector<T> numbers(const std::string& path, const Dims& want, const char* meaning) const {
    expect_dims(path, want, meaning);
    Hid ds = open_dataset(path);
    Hid type = ctx_.own(H5Dget_type(ds), H5Tclose, "reading the type of " + path);
    const H5T_class_t cls = H5Tget_class(type);
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) ctx_.fail(path + " is not numeric");
    std::vector<T> out(element_count(want));
    const hid_t mem = std::is_same_v<T, double> ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
    if (!out.empty())
      ctx_.check(H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
                 "reading " + path + " (truncated or corrupt file?)");
    return out;
  }
  Matrix matrix(const std::string& path, Index rows, Index cols, const char* meaning) const {
    const auto data = numbers<double>(path, {static_cast<hsize_t>(rows), static_cast<hsize_t>(cols)}, meaning);
    return Eigen::Map<const RowMajor>(data.data(), rows, cols);
  }
  Vector vector(const std::string& path, Index n, const char* meaning) const {
    const auto data = numbers<double>(path, {static_cast<hsize_t>(n)}, meaning);
    return Eigen::Map<const Vector>(data.data(), n);
  }

  /// Names of the links in group `path`, in creation order when the file
  /// tracks it (ours do), else alphabetical.
  std::vector<std::string> children(const std::string& path) const {
    Hid g = ctx_.own(H5Gopen2(file_, path.c_str(), H5P_DEFAULT), H5Gclose, "opening group " + path);
    H5G_info_t info;
    ctx_.check(H5Gget_info(g, &info), "listing group " + path);
    for (H5_index_t index : {H5_INDEX_CRT_ORDER, H5_INDEX_NAME}) {
      std::vector<std::string> names;
      for (hsize_t i = 0; i < info.nlinks; ++i) {
        const ssize_t len = H5Lget_name_by_idx(g, ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
        if (len < 0) break;
        std::string name(static_cast<size_t>(len) + 1, '\0');
        H5Lget_name_by_idx(g, ".", index, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
        name.resize(static_cast<size_t>(len));
        names.push_back(std::move(name));
      }
      if (names.size() == info.nlinks) return names;
    }
    ctx_.fail("listing group " + path + " failed");
  }

 private:
  Hid open_dataset(const std::string& path) const {
    require(path, "dataset");
    return ctx_.own(H5Dopen2(file_, path.c_str(), H5P_DEFAULT), H5Dclose, "opening dataset " + path);
  }
  Hid open_attr(const std::string& object, const char* name) const {
    if (!has_attr(object, name)) ctx_.fail(concat("attribute ", object, "@", name, " is missing"));
    return ctx_.own(H5Aopen_by_name(file_, object.c_str(), name, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                    concat("opening attribute ", object, "@", name));
  }

  /// Strings of a dataset or attribute, variable-length (ours, h5py's default)
  /// or fixed-length (NumPy "S" arrays written by other tools).
  std::vector<std::string> read_strings(hid_t obj, bool is_attr, const std::string& what) const {
    Hid type = ctx_.own(is_attr ? H5Aget_type(obj) : H5Dget_type(obj), H5Tclose, "reading the type of " + what);
    if (H5Tget_class(type) != H5T_STRING) ctx_.fail(what + " is not a string " + (is_attr ? "attribute" : "dataset"));
    Hid space = ctx_.own(is_attr ? H5Aget_space(obj) : H5Dget_space(obj), H5Sclose,
                         "reading the dataspace of " + what);
    const auto count = static_cast<size_t>(H5Sget_simple_extent_npoints(space));
    std::vector<std::string> out;
    if (count == 0) return out;
    out.reserve(count);
    auto read = [&](hid_t mem, void* buf) {
      ctx_.check(is_attr ? H5Aread(obj, mem, buf) : H5Dread(obj, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf),
                 "reading " + what);
    };
    if (H5Tis_variable_str(type) > 0) {
      // Same character set as stored: HDF5 does not convert ASCII <-> UTF-8.
      Hid mem = utf8_string_type(ctx_);
      ctx_.check(H5Tset_cset(mem, H5Tget_cset(type)), "reading " + what);
      std::vector<char*> buf(count, nullptr);
      read(mem, buf.data());
      for (char* s : buf) out.emplace_back(s ? s : "");
      // Free the strings the library allocated.
#if H5_VERSION_GE(1, 12, 0)
      H5Treclaim(mem, space, H5P_DEFAULT, buf.data());
#else
      H5Dvlen_reclaim(mem, space, H5P_DEFAULT, buf.data());
#endif
    } else {
      const size_t size = H5Tget_size(type);
      std::vector<char> buf(count * size);
      read(type, buf.data());
      for (size_t i = 0; i < count; ++i) {
        const char* s = buf.data() + i * size;
        std::string v(s, std::find(s, s + size, '\0'));
        if (H5Tget_strpad(type) == H5T_STR_SPACEPAD) v.erase(v.find_last_not_of(' ') + 1);
        out.push_back(std::move(v));
      }
    }
    return out;
  }

  FileContext ctx_;
  Hid file_;
  int version_ = 0;
};

Labels read_labels(const Reader& r) {
  r.require("/system/labels", "the axis labels");
  Labels l;
  for (const char* name : kLabelSets) *label_set(l, name) = r.strings(std::string("/system/labels/") + name);
  l.monetary_unit = r.attr_string("/system/labels", "monetary_unit");
  return l;
}

SparseMatrix read_A(const Reader& r, Index n) {
  const auto& ctx = r.ctx();
  const auto shape = r.attr_ints("/system/A", "shape");
  if (shape != std::vector<std::int64_t>{n, n})
    ctx.fail(concat("/system/A@shape is not [", n, ", ", n, "] (n = regions x sectors from the labels)"));
  auto indptr = r.numbers<std::int64_t>("/system/A/indptr", {static_cast<hsize_t>(n) + 1}, "n + 1 column pointers");
  const Dims data_dims = r.dims("/system/A/data");
  if (data_dims.size() != 1) ctx.fail("/system/A/data is not 1-D");
  const hsize_t nnz = data_dims[0];
  auto data = r.numbers<double>("/system/A/data", {nnz}, "nonzero values");
  auto indices = r.numbers<std::int64_t>("/system/A/indices", {nnz}, "row index of each nonzero, as data");

  // Validate the CSC structure before Eigen trusts it.
  if (indptr[0] != 0 || indptr[static_cast<size_t>(n)] != static_cast<std::int64_t>(nnz))
    ctx.fail(concat("/system/A/indptr must start at 0 and end at nnz = ", nnz));
  bool sorted = true;
  for (Index j = 0; j < n; ++j) {
    const auto b = indptr[static_cast<size_t>(j)], e = indptr[static_cast<size_t>(j) + 1];
    if (e < b) ctx.fail(concat("/system/A/indptr decreases at column ", j));
    for (auto p = b; p < e; ++p) {
      const auto i = indices[static_cast<size_t>(p)];
      if (i < 0 || i >= n) ctx.fail(concat("/system/A/indices holds row ", i, " outside [0, ", n, ")"));
      sorted = sorted && (p == b || indices[static_cast<size_t>(p) - 1] < i);
    }
  }
  if (sorted)  // our files: Eigen's own layout, copied as is
    return Eigen::Map<const SparseMatrix>(n, n, static_cast<Index>(nnz), indptr.data(), indices.data(), data.data());
  // Files written by other tools may have unsorted or duplicate row indices
  // (valid for scipy, which sums duplicates): rebuild via triplets.
  std::vector<Eigen::Triplet<double, Index>> triplets;
  triplets.reserve(nnz);
  for (Index j = 0; j < n; ++j)
    for (auto p = indptr[static_cast<size_t>(j)]; p < indptr[static_cast<size_t>(j) + 1]; ++p)
      triplets.emplace_back(indices[static_cast<size_t>(p)], j, data[static_cast<size_t>(p)]);
  SparseMatrix A(n, n);
  A.setFromTriplets(triplets.begin(), triplets.end());
  return A;
}

Accounts read_accounts(const Reader& r, const std::string& g, const Labels& labels) {
  const auto& ctx = r.ctx();
  const Index n = labels.n(), R = labels.R();
  Accounts acc;
  auto flag = [&](const char* name) {
    const auto v = r.attr_ints(g, name);
    if (v.size() != 1) ctx.fail(concat(g, "@", name, " is not a scalar"));
    return v[0] != 0;
  };
  acc.sector_level = flag("sector_level");
  acc.regional = flag("regional");
  const Dims sdims = r.dims(g + "/stressors");
  if (sdims.size() != 1) ctx.fail(g + "/stressors is not 1-D");
  acc.stressors = r.numbers<std::int64_t>(g + "/stressors", sdims, "stressor indices");
  for (Index s : acc.stressors)
    if (s < 0 || s >= labels.k())
      ctx.fail(concat(g, "/stressors holds index ", s, " outside the ", labels.k(), " stressors of the labels"));
  if (r.exists(g + "/x")) acc.x = r.vector(g + "/x", n, "gross output, n");

  // k rows: one per stored stressor index; value-added accounts store one row and no index.
  Index k = acc.stressors.empty() ? -1 : static_cast<Index>(acc.stressors.size());
  for (const auto& m : kAccountMembers) {
    if (!(m.regional ? acc.regional : acc.sector_level)) continue;
    const std::string path = g + "/" + m.name;
    if (k < 0) {
      const Dims d = r.dims(path);
      if (d.size() != 2) ctx.fail(path + " is not 2-D");
      k = static_cast<Index>(d[0]);
    }
    acc.*m.member = r.matrix(path, k, m.regional ? R : n, m.regional ? "stressors x regions" : "stressors x n");
  }
  if (acc.regional) {
    const auto q = r.numbers<double>(g + "/Q", {static_cast<hsize_t>(k), static_cast<hsize_t>(R), static_cast<hsize_t>(R)},
                                     "stressors x emitting region x consuming region");
    acc.Q = Eigen::Map<const RowMajor>(q.data(), k, R * R);
  }
  return acc;
}

std::vector<NamedAccounts> read_results(const Reader& r, const Labels& labels) {
  std::vector<NamedAccounts> out;
  if (!r.exists("/results")) return out;
  for (auto& name : r.children("/results")) {
    Accounts acc = read_accounts(r, "/results/" + name, labels);
    out.push_back({std::move(name), std::move(acc)});
  }
  return out;
}

}  // namespace

void save(const std::string& path, const MrioSystem& system, const std::vector<NamedAccounts>& results) {
  check_result_names(results);
  write_atomically(path, [&](const Writer& w) {
    w.group("/system");
    write_labels(w, system.labels());
    write_system(w, system);
    write_results(w, system.labels(), results);
  });
}

void save_results(const std::string& path, const Labels& labels, const std::vector<NamedAccounts>& results) {
  check_result_names(results);
  write_atomically(path, [&](const Writer& w) {
    w.group("/system");
    write_labels(w, labels);
    write_results(w, labels, results);
  });
}

namespace {

MrioSystem read_system(const Reader& r, const std::string& path) {
  if (!r.exists("/system")) r.ctx().fail("no /system group: not an mriotrace system file");
  if (!r.exists("/system/A"))
    r.ctx().fail("/system/A is missing: the file holds results only, no system (written by save_results?)");
  SystemInput in;
  in.labels = read_labels(r);
  const Labels& l = in.labels;
  const Index n = l.n(), k = l.k(), fd = l.R() * l.c();
  in.A = read_A(r, n);
  in.x = r.vector("/system/x", n, "gross output, n");
  in.Y = r.matrix("/system/Y", n, fd, "n x regions*fd_categories");
  in.S = r.matrix("/system/S", k, n, "stressors x n");
  if (r.exists("/system/F_Y")) in.F_Y = r.matrix("/system/F_Y", k, fd, "stressors x regions*fd_categories");
  if (r.exists("/system/v")) in.v = r.vector("/system/v", n, "value added, n");
  if (r.exists("/system/C")) in.C = r.matrix("/system/C", l.m(), k, "indicators x stressors");
  // Rebuild through the validating constructor: a file edited by hand must
  // not yield a system that breaks the engine's invariants.
  try {
    return MrioSystem::build(std::move(in));
  } catch (const InputError& e) {
    throw InputError(concat("\"", path, "\" holds an invalid system: ", e.what()));
  } catch (const NumericError& e) {
    throw NumericError(concat("\"", path, "\" holds an invalid system: ", e.what()));
  }
}

}  // namespace

MrioSystem load_system(const std::string& path) {
  Session session;
  const Reader r(path);
  return read_system(r, path);
}

MrioSystem load_system_image(const void* image, size_t size, const std::string& name) {
  Session session;
  const Reader r(image, size, name);
  return read_system(r, name);
}

std::vector<NamedAccounts> load_results(const std::string& path) {
  Session session;
  const Reader r(path);
  if (!r.exists("/results")) return {};
  return read_results(r, read_labels(r));
}

FileInfo inspect(const std::string& path) {
  Session session;
  const Reader r(path);
  FileInfo info;
  info.format_version = r.version();
  if (r.has_attr("/", "created_by")) info.created_by = r.attr_string("/", "created_by");
  info.labels = read_labels(r);
  info.has_system = r.exists("/system/A");
  if (info.has_system) {
    const Dims d = r.dims("/system/A/data");
    info.nnz_A = d.size() == 1 ? static_cast<Index>(d[0]) : 0;
  }
  if (r.exists("/results")) info.result_names = r.children("/results");
  return info;
}

}  // namespace mriotrace::io
