// The one HDF5 layer of mriotrace (internal to its libraries: io for system,
// results and path files, batch for the batch results store; not used by the
// command line or the Python module directly). Layouts: docs/file-format.md,
// docs/hpc.md; why each rule exists: docs/reliability.md.
//
// Rules every file written through it follows:
//   - one process-wide lock (Debian's libhdf5 is the serial, not thread-safe
//     build): every HDF5 call runs inside a Session, which holds it;
//   - owning handles (Hid): an exception never leaks an identifier;
//   - one storage policy (Writer::dataset): every non-empty dataset is chunked
//     with a Fletcher32 checksum, large numeric ones shuffled and gzip'd;
//     strings are fixed-length (variable-length ones live in the global heap,
//     which has no checksum); object times are not recorded (same content,
//     same bytes); the file is in HDF5's 1.10 format, whose metadata carries
//     checksums;
//   - a format name and version on the root, checked by Reader::check_format;
//   - typed reads with shape checks, and a failed read that HDF5 blames on a
//     checksum is reported as such, naming the file and the dataset;
//   - reads of files that may be hostile run in a forked child (guarded):
//     HDF5 1.10 can crash, loop or allocate without bound on damaged metadata.
// Every failure is a FileError "cannot read|write \"<file>\": <what>".
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "mriotrace/types.hpp"

namespace mriotrace::io::h5 {

using Dims = std::vector<hsize_t>;
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The storage policy (one for every file).
/// Datasets with at least this many elements are also compressed.
inline constexpr hsize_t kCompressMin = 4096;
/// Target elements per chunk (512 KiB of doubles): large enough for gzip,
/// small enough that reading a slice does not inflate the whole array.
inline constexpr hsize_t kChunkElements = 65536;
inline constexpr unsigned kGzipLevel = 4;

/// The process-wide HDF5 lock.
std::mutex& mutex();

/// Holds the lock and switches off HDF5's error-stack printing (errors are
/// reported as FileError instead).
class Session {
 public:
  Session();

 private:
  std::lock_guard<std::mutex> lock_;
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
  bool valid() const { return id_ >= 0; }
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
  [[noreturn]] void fail(const std::string& what) const;
  /// Wrap a new identifier; FileError("<what> failed[: a checksum does not match ...]") if negative.
  Hid own(hid_t id, Hid::Closer close, const std::string& what) const;
  void check(herr_t status, const std::string& what) const;

 private:
  std::string path_;
  bool writing_;
};

/// "reading <what> failed: <reason from HDF5's error stack>".
std::string read_failure(const std::string& what);
/// Whether HDF5's current error stack reports a checksum that did not match.
bool checksum_failed();

/// The root attributes every mriotrace file carries.
struct Format {
  const char* name;           ///< "mriotrace", "mriotrace-batch"
  int version;                ///< written by this build; readers accept <= this
  const char* kind;           ///< "an mriotrace file", in messages about foreign files
};

/// Writes objects into an open file with the storage policy above.
class Writer {
 public:
  Writer(hid_t file, const FileContext& ctx) : file_(file), ctx_(ctx) {}
  hid_t file() const { return file_; }
  const FileContext& ctx() const { return ctx_; }

  /// Root attributes format, format_version, created_by.
  void root(const Format& format) const;
  /// Create a group; `track_order` records link creation order so readers
  /// list the children in the order they were written.
  void group(const std::string& path, bool track_order = false) const;

  void attr_string(const std::string& object, const char* name, const std::string& value) const;
  /// int64 attribute: scalar when `scalar`, else a 1-D array.
  void attr_ints(const std::string& object, const char* name, const std::vector<std::int64_t>& values,
                 bool scalar = true) const;
  void attr_double(const std::string& object, const char* name, double value) const;

  /// 1-D dataset of fixed-length UTF-8 strings (as long as the longest, null-padded).
  void strings(const std::string& path, const std::vector<std::string>& values) const;
  /// float64 dataset of shape `dims` from row-major `data`.
  void doubles(const std::string& path, const double* data, const Dims& dims) const;
  void doubles(const std::string& path, const std::vector<double>& v, const Dims& dims) const {
    doubles(path, v.data(), dims);
  }
  void int64s(const std::string& path, const std::int64_t* data, hsize_t count) const;
  void int64s(const std::string& path, const std::vector<std::int64_t>& v) const {
    int64s(path, v.data(), v.size());
  }
  void vector(const std::string& path, const Vector& v) const {
    doubles(path, v.data(), {static_cast<hsize_t>(v.size())});
  }
  /// Row-major with the user's shape; `dims` overrides the shape with the
  /// same element order (Q: k x R*R written as k x R x R).
  void matrix(const std::string& path, const Matrix& m, Dims dims = {}) const;

  /// Creation property list of a dataset of `dims` under the policy;
  /// `extendible`: 1-D, unlimited, chunks of kChunkElements.
  Hid dataset_plist(const std::string& path, const Dims& dims, bool compress, bool extendible = false) const;

 private:
  Hid create_attr(const std::string& object, const char* name, hid_t type, hid_t space) const;
  void dataset(const std::string& path, hid_t file_type, hid_t mem_type, const void* data, const Dims& dims) const;

  hid_t file_;
  const FileContext& ctx_;
};

/// A 1-D extendible dataset filled by appending (paths streamed to disk):
/// chunked, Fletcher32, shuffle + gzip. push() only buffers (no HDF5 call,
/// no lock) and says when a chunk is full; flush() writes the buffer and must
/// run inside a Session.
class AppendColumn {
 public:
  AppendColumn(const Writer& w, const std::string& path, hid_t file_type, hid_t mem_type, size_t element_size);
  template <class T>
  bool push(T v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    buffer_.insert(buffer_.end(), p, p + sizeof v);
    return buffer_.size() >= kChunkElements * element_size_;
  }
  void flush();
  void close() { ds_.close(); }

 private:
  const FileContext& ctx_;
  std::string path_;
  Hid ds_;
  hid_t mem_type_;
  size_t element_size_;
  hsize_t size_ = 0;
  std::vector<char> buffer_;
};

/// Build a file in memory (core driver, 1.10 format), let `body` fill it,
/// then write its image atomically to `path` (temporary file, fsync, rename):
/// a full disk fails with the system's reason and leaves the old file intact.
/// Holds the lock for the whole write.
void write_atomically(const std::string& path, const Format& format, const std::function<void(const Writer&)>& body);

/// A file on disk written in place (1.10 format, no object times), for
/// content too large to hold in memory (streamed paths). Create it with
/// `create`, or `reopen` an existing file read-write with the same settings.
Hid create_disk_file(const FileContext& ctx, const std::string& path);
Hid reopen_disk_file(const FileContext& ctx, const std::string& path);
/// After a write to a disk file failed (a full disk): send everything HDF5
/// still writes to it to /dev/null, so that closing its objects and the file
/// succeeds and leaves HDF5 in a clean state. Inside a Session.
void discard_further_writes(hid_t file);

/// Reads a file: opens it read-only with checks (exists, HDF5 signature, not
/// truncated, checksums), typed reads with shape checks.
class Reader {
 public:
  explicit Reader(const std::string& path);
  /// A file image (the bytes of an .h5 file in memory); `name` stands for it in messages.
  Reader(const void* image, size_t size, const std::string& name);

  /// Throws unless the root says `format` with a version <= format.version;
  /// returns the version. A version below `first_checksummed` gets the
  /// warning `old_warning` (through io::warn), prefixed by the file's name.
  int check_format(const Format& format, int first_checksummed, const std::string& old_warning);

  const FileContext& ctx() const { return ctx_; }
  hid_t file() const { return file_; }

  /// True if every component of the absolute `path` exists.
  bool exists(const std::string& path) const;
  void require(const std::string& path, const char* meaning) const;
  bool has_attr(const std::string& object, const char* name) const;
  std::string attr_string(const std::string& object, const char* name) const;
  std::vector<std::int64_t> attr_ints(const std::string& object, const char* name) const;
  /// A scalar int64 attribute.
  std::int64_t attr_int(const std::string& object, const char* name) const;
  double attr_double(const std::string& object, const char* name) const;

  /// String dataset (fixed- or variable-length), each checked to be UTF-8 text.
  std::vector<std::string> strings(const std::string& path) const;
  std::vector<std::string> strings(const std::string& path, hsize_t count, const char* meaning) const;
  Dims dims(const std::string& path) const;
  void expect_dims(const std::string& path, const Dims& want, const char* meaning) const;
  /// Numeric dataset of shape `want` (checked), as T (double, int64 or int32).
  template <class T>
  std::vector<T> numbers(const std::string& path, const Dims& want, const char* meaning) const;
  /// Numeric 1-D dataset of any length.
  template <class T>
  std::vector<T> column(const std::string& path) const;
  Matrix matrix(const std::string& path, Index rows, Index cols, const char* meaning) const;
  Vector vector(const std::string& path, Index n, const char* meaning) const;
  /// Names of the links in group `path`, in creation order when the file
  /// tracks it, else alphabetical.
  std::vector<std::string> children(const std::string& path) const;

 private:
  Hid open_dataset(const std::string& path) const;
  Hid open_attr(const std::string& object, const char* name) const;
  std::vector<std::string> read_strings(hid_t obj, bool is_attr, const std::string& what) const;
  void check_not_truncated(const std::string& path) const;

  FileContext ctx_;
  Hid file_;
};

extern template std::vector<double> Reader::numbers<double>(const std::string&, const Dims&, const char*) const;
extern template std::vector<std::int64_t> Reader::numbers<std::int64_t>(const std::string&, const Dims&,
                                                                        const char*) const;
extern template std::vector<std::int32_t> Reader::numbers<std::int32_t>(const std::string&, const Dims&,
                                                                        const char*) const;
extern template std::vector<double> Reader::column<double>(const std::string&) const;
extern template std::vector<std::int64_t> Reader::column<std::int64_t>(const std::string&) const;
extern template std::vector<std::int32_t> Reader::column<std::int32_t>(const std::string&) const;

/// Whether `s` is well-formed UTF-8 (labels are text: anything else is damage).
bool valid_utf8(const std::string& s);

// ---------------------------------------------------------------------------
// Guarded reads

/// Plain-data encoding of what a guarded read returns (native byte order: the
/// bytes only travel through a pipe to the parent process).
class Encoder {
 public:
  std::string bytes;
  void u64(std::uint64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void str(const std::string& s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  void strs(const std::vector<std::string>& v) {
    u64(v.size());
    for (const auto& s : v) str(s);
  }
  template <class T>
  void array(const std::vector<T>& v) {
    u64(v.size());
    raw(v.data(), v.size() * sizeof(T));
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
  void raw(const void* p, size_t n) { bytes.append(static_cast<const char*>(p), n); }
};

/// Reads what Encoder wrote; throws FileError naming `path` when the bytes
/// end early (a child that died mid-write).
class Decoder {
 public:
  Decoder(const std::string& bytes, std::string path)
      : p_(bytes.data()), end_(p_ + bytes.size()), path_(std::move(path)) {}
  std::uint64_t u64() {
    std::uint64_t v;
    raw(&v, sizeof v);
    return v;
  }
  double f64() {
    double v;
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
  template <class T>
  std::vector<T> array() {
    std::vector<T> v(static_cast<size_t>(count(sizeof(T))));
    raw(v.data(), v.size() * sizeof(T));
    return v;
  }
  Matrix matrix() {
    const std::uint64_t r = u64(), c = u64();
    if (r != 0 && c > left() / (8 * r)) damaged();
    Matrix m(static_cast<Index>(r), static_cast<Index>(c));
    raw(m.data(), static_cast<size_t>(m.size()) * sizeof(double));
    return m;
  }
  Vector vector() {
    Vector v(static_cast<Index>(count(sizeof(double))));
    raw(v.data(), static_cast<size_t>(v.size()) * sizeof(double));
    return v;
  }
  /// A count of items of at least `item_bytes` each that can still follow.
  std::uint64_t count(std::uint64_t item_bytes) {
    const std::uint64_t n = u64();
    if (n > left() / item_bytes) damaged();
    return n;
  }
  void raw(void* out, size_t n) {
    if (n > left()) damaged();
    if (n) std::memcpy(out, p_, n);
    p_ += n;
  }
  std::uint64_t left() const { return static_cast<std::uint64_t>(end_ - p_); }
  const char* position() const { return p_; }
  void skip(size_t n) {
    if (n > left()) damaged();
    p_ += n;
  }
  [[noreturn]] void damaged() const;

 private:
  const char* p_;
  const char* end_;
  std::string path_;
};

/// Run `read` (which reads `path` with HDF5 and encodes the result) in a
/// forked child under a time limit and a memory budget, and return the
/// encoded bytes. A child that crashes, loops or runs out of memory becomes a
/// FileError naming `path`; FileError, InputError and NumericError thrown in
/// the child are rethrown here; warnings (io::warn) in the child are
/// re-issued here. MRIOTRACE_HDF5_GUARD=0 runs `read` in this process.
std::string guarded(const std::string& path, const std::function<void(Encoder&)>& read);

}  // namespace mriotrace::io::h5
