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

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
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

/// Whether HDF5's current error stack says an allocation failed.
bool hdf5_out_of_memory() {
  bool oom = false;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        if (e->maj_num == H5E_RESOURCE || e->min_num == H5E_CANTALLOC || e->min_num == H5E_NOSPACE)
          *static_cast<bool*>(data) = true;
        return 0;
      },
      &oom);
  return oom;
}

/// Whether HDF5's current error stack reports a checksum that did not match
/// (Fletcher32 of a chunk, or of metadata in the 1.10 format).
bool hdf5_checksum_failed() {
  bool bad = false;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        std::string d = e->desc ? e->desc : "";
        std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (d.find("checksum") != std::string::npos || d.find("fletcher") != std::string::npos ||
            e->min_num == H5E_CANTFILTER || e->min_num == H5E_READERROR)
          *static_cast<bool*>(data) = true;
        return 0;
      },
      &bad);
  return bad;
}

/// The reason a read of `what` failed, from HDF5's error stack.
std::string read_failure(const std::string& what) {
  if (hdf5_out_of_memory()) return "reading " + what + " failed: out of memory";
  if (hdf5_checksum_failed())
    return "reading " + what + " failed: its checksum does not match, the file is damaged (changed since it was written)";
  return "reading " + what + " failed: the file is truncated or damaged";
}

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
    if (id < 0) fail(what + " failed" + damage());
    return Hid(id, close);
  }
  void check(herr_t status, const std::string& what) const {
    if (status < 0) fail(what + " failed" + damage());
  }

 private:
  /// ": a checksum does not match ..." when HDF5's error stack says so.
  static std::string damage() {
    return hdf5_checksum_failed() ? ": a checksum does not match, the file is damaged (changed since it was written)"
                                  : "";
  }

 public:

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

/// Fixed-length UTF-8 strings of `size` bytes (null-padded). Written instead
/// of variable-length ones since format version 2: variable-length strings
/// live in HDF5's global heap, which carries no checksum, so a damaged label
/// would go unnoticed; fixed-length ones are chunk data under Fletcher32.
Hid fixed_string_type(const FileContext& ctx, size_t size) {
  Hid t = ctx.own(H5Tcopy(H5T_C_S1), H5Tclose, "creating the string type");
  ctx.check(H5Tset_size(t, std::max<size_t>(1, size)), "creating the string type");
  ctx.check(H5Tset_strpad(t, H5T_STR_NULLPAD), "creating the string type");
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
    // Fixed length: the value lives in the (checksummed) object header.
    Hid type = fixed_string_type(ctx_, value.size());
    Hid space = ctx_.own(H5Screate(H5S_SCALAR), H5Sclose, "creating a dataspace");
    Hid attr = create_attr(object, name, type, space);
    std::vector<char> buf(std::max<size_t>(1, value.size()), '\0');
    std::copy(value.begin(), value.end(), buf.begin());
    ctx_.check(H5Awrite(attr, type, buf.data()), "writing attribute " + object + "@" + name);
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

  /// 1-D dataset of fixed-length UTF-8 strings (as long as the longest, null-padded).
  void strings(const std::string& path, const std::vector<std::string>& values) const {
    size_t width = 1;
    for (const auto& s : values) width = std::max(width, s.size());
    std::vector<char> buf(values.size() * width, '\0');
    for (size_t i = 0; i < values.size(); ++i) std::copy(values[i].begin(), values[i].end(), buf.begin() + i * width);
    Hid type = fixed_string_type(ctx_, width);
    dataset(path, type, type, buf.data(), {values.size()});
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
    if (count > 0) {
      // Every non-empty dataset is chunked, for the Fletcher32 checksum that
      // HDF5 verifies on every read (a damaged byte becomes an error, never a
      // different number). Chunks span whole trailing dimensions where
      // possible (row blocks of a row-major matrix), about kChunkElements each.
      Dims chunk(dims.size());
      hsize_t budget = kChunkElements;
      for (size_t i = dims.size(); i-- > 0;) {
        chunk[i] = std::max<hsize_t>(1, std::min(dims[i], budget));
        budget = std::max<hsize_t>(1, budget / chunk[i]);
      }
      ctx_.check(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "chunking " + path);
      if (!is_string && count >= kCompressMin && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
        ctx_.check(H5Pset_shuffle(dcpl), "setting the shuffle filter of " + path);
        ctx_.check(H5Pset_deflate(dcpl, kGzipLevel), "setting gzip compression of " + path);
      }
      ctx_.check(H5Pset_fletcher32(dcpl), "setting the Fletcher32 checksum of " + path);
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
    // The 1.10 file format: superblock, object headers, link and chunk
    // indexes all carry checksums (format version 2; docs/file-format.md).
    detail::ClosedMemoryFile memory;
    Hid fapl = ctx.own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "creating a property list");
    ctx.check(memory.configure(fapl), "configuring the in-memory file");
    Hid file = ctx.own(H5Fcreate(out.temp_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose,
                       "creating the in-memory file");
    const Writer w(file, ctx);
    write_root(w);
    body(w);
    if (file.close() < 0) ctx.fail("closing the in-memory file failed");
    if (!memory.take(image)) ctx.fail("taking the in-memory file's image failed");
  }
  out.write(image.data(), image.size());
  out.commit();
}

// ---------------------------------------------------------------------------
// Reading

class Reader {
 public:
  /// Opens `path` read-only and checks that it is an mriotrace file this build can read
  /// (`check_root` false: only opens it, for file_format(), which reports what the root says).
  explicit Reader(const std::string& path, bool check_root = true) : ctx_(path, false) {
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
    check_not_truncated(path);
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl);
    if (file < 0) {
      // A memory limit (ulimit -v, a cgroup) makes HDF5 fail too: say so
      // rather than blame the file.
      if (hdf5_out_of_memory())
        ctx_.fail("HDF5 could not allocate memory to open it (a memory limit such as ulimit -v or the job's "
                  "memory request is too small)");
      if (hdf5_checksum_failed())
        ctx_.fail("the HDF5 file cannot be opened: a metadata checksum does not match, the file is damaged");
      ctx_.fail("the HDF5 file cannot be opened: it is truncated or corrupt");
    }
    file_ = Hid(file, H5Fclose);
    if (check_root) check_format();
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
    if (version_ < 2)
      warn(concat("\"", ctx_.path(), "\" was written with format version ", version_,
                  ", before files carried checksums: damage to it would go unnoticed; save it again to add them"));
  }

  const FileContext& ctx() const { return ctx_; }
  int version() const { return version_; }

  /// A file shorter than the end-of-file address its superblock records was
  /// cut off (an interrupted copy or download): say so before HDF5 reports
  /// whatever it trips over first.
  void check_not_truncated(const std::string& path) const {
    unsigned char head[52] = {};
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return;
    const size_t got = std::fread(head, 1, sizeof head, f);
    std::fclose(f);
    static const unsigned char kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (got < 48 || std::memcmp(head, kSignature, 8) != 0) return;
    const unsigned version = head[8];
    // Offset of the end-of-file address (8-byte addresses) by superblock version.
    size_t at = version == 0 ? 40 : version == 1 ? 44 : (version == 2 || version == 3) ? 28 : 0;
    if (at == 0 || at + 8 > got || (version < 2 ? head[13] : head[9]) != 8) return;
    std::uint64_t eof = 0;
    for (int b = 7; b >= 0; --b) eof = (eof << 8) | head[at + static_cast<size_t>(b)];
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && eof != ~std::uint64_t{0} && size < eof)
      ctx_.fail(concat("the file is truncated: it has ", size, " bytes, its header says ", eof));
  }

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
    if (!out.empty() && H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
      ctx_.fail(read_failure(path));
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
      if ((is_attr ? H5Aread(obj, mem, buf) : H5Dread(obj, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf)) < 0)
        ctx_.fail(read_failure(what));
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

/// Whether `s` is well-formed UTF-8 (labels are text: anything else is damage).
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += len;
  }
  return true;
}

Labels read_labels(const Reader& r) {
  r.require("/system/labels", "the axis labels");
  Labels l;
  for (const char* name : kLabelSets) {
    const std::string path = std::string("/system/labels/") + name;
    *label_set(l, name) = r.strings(path);
    const auto& v = *label_set(l, name);
    for (size_t i = 0; i < v.size(); ++i)
      if (!valid_utf8(v[i])) r.ctx().fail(concat(path, "[", i, "] is not UTF-8 text: the file is damaged"));
  }
  l.monetary_unit = r.attr_string("/system/labels", "monetary_unit");
  if (!valid_utf8(l.monetary_unit)) r.ctx().fail("/system/labels@monetary_unit is not UTF-8 text: the file is damaged");
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

// ---------------------------------------------------------------------------
// The read guard

/// This thread's warning collector (CollectWarnings), or null: stderr.
thread_local std::vector<std::string>* t_warnings = nullptr;

/// Plain-data encoding of what a guarded read returns (native byte order: the
/// bytes only travel through a pipe to the parent process).
class Encoder {
 public:
  std::string bytes;
  void u64(std::uint64_t v) { raw(&v, sizeof v); }
  void str(const std::string& s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  void strs(const std::vector<std::string>& v) {
    u64(v.size());
    for (const auto& s : v) str(s);
  }
  void indices(const std::vector<Index>& v) {
    u64(v.size());
    raw(v.data(), v.size() * sizeof(Index));
  }
  void matrix(const Matrix& m) {
    u64(static_cast<std::uint64_t>(m.rows()));
    u64(static_cast<std::uint64_t>(m.cols()));
    raw(m.data(), static_cast<size_t>(m.size()) * sizeof(double));
  }
  void vector(const Vector& v) {
    u64(static_cast<std::uint64_t>(v.size()));
    raw(v.data(), static_cast<size_t>(v.size()) * sizeof(double));
  }
  void sparse(const SparseMatrix& a) {
    SparseMatrix c = a;
    c.makeCompressed();
    u64(static_cast<std::uint64_t>(c.rows()));
    u64(static_cast<std::uint64_t>(c.cols()));
    u64(static_cast<std::uint64_t>(c.nonZeros()));
    raw(c.outerIndexPtr(), static_cast<size_t>(c.outerSize() + 1) * sizeof(Index));
    raw(c.innerIndexPtr(), static_cast<size_t>(c.nonZeros()) * sizeof(Index));
    raw(c.valuePtr(), static_cast<size_t>(c.nonZeros()) * sizeof(double));
  }
  void labels(const Labels& l) {
    for (const char* name : kLabelSets) strs(*label_set(l, name));
    str(l.monetary_unit);
  }

 private:
  void raw(const void* p, size_t n) { bytes.append(static_cast<const char*>(p), n); }
};

class Decoder {
 public:
  Decoder(const std::string& bytes, const std::string& path) : p_(bytes.data()), end_(p_ + bytes.size()), path_(path) {}
  std::uint64_t u64() {
    std::uint64_t v;
    raw(&v, sizeof v);
    return v;
  }
  std::string str() {
    const std::uint64_t n = count(1);
    std::string s(static_cast<size_t>(n), '\0');
    raw(s.data(), s.size());
    return s;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(static_cast<size_t>(count(8)));
    for (auto& s : v) s = str();
    return v;
  }
  std::vector<Index> indices() {
    std::vector<Index> v(static_cast<size_t>(count(sizeof(Index))));
    raw(v.data(), v.size() * sizeof(Index));
    return v;
  }
  Matrix matrix() {
    const std::uint64_t r = u64(), c = u64();
    if (r != 0 && c > static_cast<std::uint64_t>(end_ - p_) / (8 * r)) damaged();
    Matrix m(static_cast<Index>(r), static_cast<Index>(c));
    raw(m.data(), static_cast<size_t>(m.size()) * sizeof(double));
    return m;
  }
  Vector vector() {
    Vector v(static_cast<Index>(count(sizeof(double))));
    raw(v.data(), static_cast<size_t>(v.size()) * sizeof(double));
    return v;
  }
  SparseMatrix sparse() {
    const std::uint64_t r = u64(), c = u64(), nnz = u64();
    if (c + 1 > static_cast<std::uint64_t>(end_ - p_) / sizeof(Index) || nnz > static_cast<std::uint64_t>(end_ - p_) / 16)
      damaged();
    std::vector<Index> outer(static_cast<size_t>(c) + 1), inner(static_cast<size_t>(nnz));
    std::vector<double> values(static_cast<size_t>(nnz));
    raw(outer.data(), outer.size() * sizeof(Index));
    raw(inner.data(), inner.size() * sizeof(Index));
    raw(values.data(), values.size() * sizeof(double));
    return Eigen::Map<const SparseMatrix>(static_cast<Index>(r), static_cast<Index>(c), static_cast<Index>(nnz),
                                          outer.data(), inner.data(), values.data());
  }
  Labels labels() {
    Labels l;
    for (const char* name : kLabelSets) *label_set(l, name) = strs();
    l.monetary_unit = str();
    return l;
  }

 private:
  /// A count of items of at least `item_bytes` each that can still follow.
  std::uint64_t count(std::uint64_t item_bytes) {
    const std::uint64_t n = u64();
    if (n > static_cast<std::uint64_t>(end_ - p_) / item_bytes) damaged();
    return n;
  }
  void raw(void* out, size_t n) {
    if (n > static_cast<size_t>(end_ - p_)) damaged();
    std::memcpy(out, p_, n);
    p_ += n;
  }
  [[noreturn]] void damaged() const {
    throw FileError(concat("cannot read \"", path_, "\": the guarded read returned incomplete data"));
  }
  const char* p_;
  const char* end_;
  std::string path_;
};

void encode(Encoder& e, const Accounts& a) {
  e.indices(a.stressors);
  e.u64(a.sector_level);
  e.u64(a.regional);
  e.vector(a.x);
  for (const Matrix* m : {&a.M, &a.D_cba, &a.D_pba, &a.D_imp, &a.D_exp, &a.D_cba_reg, &a.D_pba_reg, &a.D_imp_reg,
                          &a.D_exp_reg, &a.Q})
    e.matrix(*m);
}
Accounts decode_accounts(Decoder& d) {
  Accounts a;
  a.stressors = d.indices();
  a.sector_level = d.u64() != 0;
  a.regional = d.u64() != 0;
  a.x = d.vector();
  for (Matrix* m : {&a.M, &a.D_cba, &a.D_pba, &a.D_imp, &a.D_exp, &a.D_cba_reg, &a.D_pba_reg, &a.D_imp_reg,
                    &a.D_exp_reg, &a.Q})
    *m = d.matrix();
  return a;
}

void encode(Encoder& e, const SystemInput& in) {
  e.labels(in.labels);
  e.sparse(in.A);
  e.vector(in.x);
  e.matrix(in.Y);
  e.matrix(in.S);
  e.matrix(in.F_Y);
  e.vector(in.v);
  e.matrix(in.C);
}
void decode(Decoder& d, SystemInput& in) {
  in.labels = d.labels();
  in.A = d.sparse();
  in.x = d.vector();
  in.Y = d.matrix();
  in.S = d.matrix();
  in.F_Y = d.matrix();
  in.v = d.vector();
  in.C = d.matrix();
}
void encode(Encoder& e, const std::vector<NamedAccounts>& v) {
  e.u64(v.size());
  for (const auto& [name, acc] : v) {
    e.str(name);
    encode(e, acc);
  }
}
void decode(Decoder& d, std::vector<NamedAccounts>& v) {
  v.clear();
  const std::uint64_t n = d.u64();
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string name = d.str();
    Accounts acc = decode_accounts(d);
    v.push_back({std::move(name), std::move(acc)});
  }
}
void encode(Encoder& e, const FileInfo& f) {
  e.u64(static_cast<std::uint64_t>(f.format_version));
  e.str(f.created_by);
  e.u64(f.has_system);
  e.labels(f.labels);
  e.u64(static_cast<std::uint64_t>(f.nnz_A));
  e.strs(f.result_names);
  e.u64(static_cast<std::uint64_t>(f.spa_paths));
}
void decode(Decoder& d, FileInfo& f) {
  f.format_version = static_cast<int>(d.u64());
  f.created_by = d.str();
  f.has_system = d.u64() != 0;
  f.labels = d.labels();
  f.nnz_A = static_cast<Index>(d.u64());
  f.result_names = d.strs();
  f.spa_paths = static_cast<Index>(d.u64());
}
void encode(Encoder& e, const std::string& s) { e.str(s); }
void decode(Decoder& d, std::string& s) { s = d.str(); }

/// Seconds and bytes a guarded read may take (MRIOTRACE_HDF5_GUARD_SECONDS
/// overrides the time; MRIOTRACE_HDF5_GUARD=0 switches the guard off).
struct GuardLimits {
  unsigned seconds = 60;
  std::uint64_t bytes = 0;
};

GuardLimits guard_limits(std::uintmax_t file_size) {
  GuardLimits g;
  if (const char* env = std::getenv("MRIOTRACE_HDF5_GUARD_SECONDS"); env && *env) {
    const long v = std::strtol(env, nullptr, 10);
    if (v > 0) g.seconds = static_cast<unsigned>(v);
  }
  // Reading a file never needs much more than its uncompressed arrays twice
  // (read, then handed over): gzip of real tables reaches ~20x; 2 GiB plus
  // 128x the file leaves room and refuses damaged sizes (a 15 kB file asking
  // for gigabytes).
  g.bytes = (std::uint64_t{2} << 30) + 128 * static_cast<std::uint64_t>(file_size);
  return g;
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    default: return concat("signal ", sig);
  }
}

enum class ChildStatus : std::uint64_t { Ok = 0, File = 1, Input = 2, Numeric = 3, NoMemory = 4, Other = 5 };

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

/// The HDF5 library never parses a file in this process: a child process
/// (fork) reads it, under a time limit and a memory budget, and sends the
/// plain arrays back through a pipe. On damaged metadata that no checksum
/// covers (format version 1, files written by other tools) HDF5 1.10 can
/// crash (SIGSEGV), corrupt the heap, loop forever or allocate gigabytes: the
/// child dies, this process reports it as a FileError and goes on.
/// `read` runs in the child and returns the value; encode/decode carry it.
template <class T, class Read>
T guarded(const std::string& path, Read&& read) {
  if (const char* env = std::getenv("MRIOTRACE_HDF5_GUARD"); env && std::string(env) == "0") return read();
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return read();  // missing or not a file: the reader's own message
  const GuardLimits limits = guard_limits(size);
  int fds[2];
  if (pipe(fds) != 0) {
    warn(concat("could not start the guarded read of \"", path, "\" (pipe failed); reading it unguarded"));
    return read();
  }
  pid_t pid;
  {
    // No other thread is inside HDF5 while the child is made: its copy of
    // the library's state is consistent, and it can take the lock itself.
    std::lock_guard<std::mutex> lock(hdf5_mutex());
    pid = fork();
    if (pid == 0) {
      hdf5_mutex().unlock();  // the child's copy of the lock this thread held
      ::close(fds[0]);
      // A crash must end the child quietly: default actions (no handler of
      // the host, e.g. Python's faulthandler, printing a traceback) and no
      // messages from glibc's heap checks on the caller's terminal.
      for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGALRM}) std::signal(sig, SIG_DFL);
      if (const int null = ::open("/dev/null", O_WRONLY); null >= 0) {
        ::dup2(null, STDERR_FILENO);
        ::dup2(null, STDOUT_FILENO);
      }
      setenv("LIBC_FATAL_STDERR_", "1", 1);
      std::vector<std::string> warnings;
      t_warnings = &warnings;
      alarm(limits.seconds);
      std::uint64_t vm_pages = 0;
      if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        unsigned long long pages = 0;
        if (std::fscanf(f, "%llu", &pages) == 1) vm_pages = pages;
        std::fclose(f);
      }
      rlimit rl{};
      rl.rlim_cur = rl.rlim_max =
          static_cast<rlim_t>(vm_pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) + limits.bytes);
      setrlimit(RLIMIT_AS, &rl);
      Encoder e;
      ChildStatus status = ChildStatus::Ok;
      std::string message;
      try {
        const T value = read();
        encode(e, value);
      } catch (const std::bad_alloc&) {
        status = ChildStatus::NoMemory;
      } catch (const FileError& x) {
        status = ChildStatus::File;
        message = x.what();
      } catch (const InputError& x) {
        status = ChildStatus::Input;
        message = x.what();
      } catch (const NumericError& x) {
        status = ChildStatus::Numeric;
        message = x.what();
      } catch (const std::exception& x) {
        status = ChildStatus::Other;
        message = x.what();
      }
      Encoder head;
      head.u64(static_cast<std::uint64_t>(status));
      head.strs(warnings);
      head.str(message);
      const bool ok = write_all(fds[1], head.bytes.data(), head.bytes.size()) &&
                      write_all(fds[1], e.bytes.data(), e.bytes.size());
      _exit(ok ? 0 : 7);
    }
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    warn(concat("could not start the guarded read of \"", path, "\" (fork failed); reading it unguarded"));
    return read();
  }
  std::string bytes;
  {
    char buf[1 << 16];
    for (;;) {
      const ssize_t got = ::read(fds[0], buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      bytes.append(buf, static_cast<size_t>(got));
    }
    ::close(fds[0]);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) break;
  const std::string file = concat("cannot read \"", path, "\": ");
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    if (sig == SIGALRM || sig == SIGXCPU || sig == SIGKILL)
      throw FileError(concat(file, "reading it did not finish within ", limits.seconds,
                             " s: its internal structure is damaged (or the file system stalled); "
                             "MRIOTRACE_HDF5_GUARD_SECONDS sets the limit"));
    throw FileError(concat(file, "reading it crashed the HDF5 library (", signal_name(sig),
                           "): its internal structure is damaged"));
  }
  Decoder d(bytes, path);
  const auto child = static_cast<ChildStatus>(d.u64());
  for (const auto& w : d.strs()) warn(w);
  const std::string message = d.str();
  switch (child) {
    case ChildStatus::Ok: break;
    case ChildStatus::File: throw FileError(message);
    case ChildStatus::Input: throw InputError(message);
    case ChildStatus::Numeric: throw NumericError(message);
    case ChildStatus::NoMemory:
      throw FileError(concat(file, "reading it needs more than ", limits.bytes >> 20, " MiB of memory for a file of ",
                             size, " bytes: its internal structure is damaged"));
    default: throw FileError(concat(file, message));
  }
  T value{};
  decode(d, value);
  return value;
}

}  // namespace

void warn(const std::string& message) {
  if (t_warnings) t_warnings->push_back(message);
  else std::cerr << "mriotrace: warning: " << message << std::endl;
}

CollectWarnings::CollectWarnings() : previous_(t_warnings) { t_warnings = &messages_; }
CollectWarnings::~CollectWarnings() { t_warnings = previous_; }

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
SystemInput read_system_input(const Reader& r) {
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
  return in;
}

MrioSystem build_loaded(const std::string& path, SystemInput in) {
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

std::vector<NamedAccounts> load_results_unguarded(const std::string& path) {
  Session session;
  const Reader r(path);
  if (!r.exists("/results")) return {};
  return read_results(r, read_labels(r));
}

FileInfo inspect_unguarded(const std::string& path) {
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
  if (r.exists("/tracing/spa/values")) {
    const Dims d = r.dims("/tracing/spa/values");
    info.spa_paths = d.size() == 1 ? static_cast<Index>(d[0]) : 0;
  }
  return info;
}
}  // namespace

// Every public read goes through the guard (above).
MrioSystem load_system(const std::string& path) {
  return build_loaded(path, guarded<SystemInput>(path, [&] {
                        Session session;
                        const Reader r(path);
                        return read_system_input(r);
                      }));
}

// An image compiled into the program (the demo system) is our own bytes:
// read in this process, without the guard.
MrioSystem load_system_image(const void* image, size_t size, const std::string& name) {
  SystemInput in;
  {
    Session session;
    const Reader r(image, size, name);
    in = read_system_input(r);
  }
  return build_loaded(name, std::move(in));
}

std::vector<NamedAccounts> load_results(const std::string& path) {
  return guarded<std::vector<NamedAccounts>>(path, [&] { return load_results_unguarded(path); });
}

FileInfo inspect(const std::string& path) {
  return guarded<FileInfo>(path, [&] { return inspect_unguarded(path); });
}

std::string file_format(const std::string& path) {
  return guarded<std::string>(path, [&] {
    Session session;
    const Reader r(path, false);
    return r.has_attr("/", "format") ? r.attr_string("/", "format") : std::string();
  });
}

}  // namespace mriotrace::io
