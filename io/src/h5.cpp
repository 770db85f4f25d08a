// The one HDF5 layer (h5.hpp): handles, the lock, the storage policy, the
// checked reader, in-memory images written atomically, and the read guard.
#include "mriotrace/io/h5.hpp"

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
#include <filesystem>
#include <iostream>
#include <type_traits>

#include "atomic_file.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/hdf5.hpp"

#ifndef MRIOTRACE_VERSION
#define MRIOTRACE_VERSION "unknown"
#endif

namespace mriotrace::io {
namespace {

/// This thread's warning collector (CollectWarnings), or null: stderr.
thread_local std::vector<std::string>* t_warnings = nullptr;

}  // namespace

void warn(const std::string& message) {
  if (t_warnings) t_warnings->push_back(message);
  else std::cerr << "mriotrace: warning: " << message << std::endl;
}

CollectWarnings::CollectWarnings() : previous_(t_warnings) { t_warnings = &messages_; }
CollectWarnings::~CollectWarnings() { t_warnings = previous_; }

}  // namespace mriotrace::io

namespace mriotrace::io::h5 {
namespace {

using ::mriotrace::detail::concat;

/// Whether HDF5's current error stack says an allocation failed.
bool out_of_memory() {
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

/// The operating system's reason for a failed read or write, from HDF5's
/// error stack ("... error message = 'No space left on device' ..."), or "".
std::string system_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        const std::string d = e->desc ? e->desc : "";
        const auto at = d.find("error message = '");
        auto& out = *static_cast<std::string*>(data);
        if (at != std::string::npos && out.empty()) {
          const auto start = at + 17, end = d.find('\'', start);
          out = d.substr(start, end == std::string::npos ? std::string::npos : end - start);
        }
        return 0;
      },
      &reason);
  return reason;
}

/// ": <system reason>" when HDF5's error stack has one.
std::string reason() {
  const std::string r = system_reason();
  return r.empty() ? "" : ": " + r;
}

/// ": a checksum does not match ..." or ": <system reason>" when HDF5's error stack says so.
std::string damage() {
  if (checksum_failed()) return ": a checksum does not match, the file is damaged (changed since it was written)";
  const std::string reason = system_reason();
  return reason.empty() ? "" : ": " + reason;
}

std::string shape_string(const Dims& d) {
  std::string s;
  for (size_t i = 0; i < d.size(); ++i) s += (i ? " x " : "") + std::to_string(d[i]);
  return d.empty() ? "scalar" : s;
}

hsize_t element_count(const Dims& dims) {
  hsize_t count = 1;
  for (hsize_t d : dims) count *= d;
  return count;
}

Hid variable_string_type(const FileContext& ctx) {
  Hid t = ctx.own(H5Tcopy(H5T_C_S1), H5Tclose, "creating the string type");
  ctx.check(H5Tset_size(t, H5T_VARIABLE), "creating the string type");
  ctx.check(H5Tset_cset(t, H5T_CSET_UTF8), "creating the string type");
  return t;
}

/// Fixed-length UTF-8 strings of `size` bytes (null-padded): variable-length
/// strings live in HDF5's global heap, which carries no checksum, so a
/// damaged label would go unnoticed; fixed-length ones are checksummed data.
Hid fixed_string_type(const FileContext& ctx, size_t size) {
  Hid t = ctx.own(H5Tcopy(H5T_C_S1), H5Tclose, "creating the string type");
  ctx.check(H5Tset_size(t, std::max<size_t>(1, size)), "creating the string type");
  ctx.check(H5Tset_strpad(t, H5T_STR_NULLPAD), "creating the string type");
  ctx.check(H5Tset_cset(t, H5T_CSET_UTF8), "creating the string type");
  return t;
}

/// File-access settings of every file written: the 1.10 format (superblock
/// version 3; object headers, link and chunk indexes with checksums).
herr_t use_v110(hid_t fapl) { return H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST); }

/// An in-memory file in HDF5's 1.10 format whose bytes are taken after it is
/// closed. (H5Fget_file_image of an open file with a version 2+ superblock
/// gives an image that HDF5 1.10.8 itself cannot open: "incorrect metadata
/// checksum".) The core driver's buffer is captured through the file-image
/// callbacks when the file closes, and cut at the end-of-file address its
/// superblock records.
class ClosedMemoryFile {
 public:
  ClosedMemoryFile() = default;
  ClosedMemoryFile(const ClosedMemoryFile&) = delete;
  ClosedMemoryFile& operator=(const ClosedMemoryFile&) = delete;
  ~ClosedMemoryFile() { std::free(buffer_); }

  /// Configure `fapl`: core driver without backing store, the capture
  /// callbacks, the 1.10 format. Negative on failure.
  herr_t configure(hid_t fapl) {
    if (H5Pset_fapl_core(fapl, 1 << 20, false) < 0) return -1;
    H5FD_file_image_callbacks_t cb{&image_malloc, &image_memcpy, &image_realloc, &image_free,
                                   &udata_copy,   &udata_free,   this};
    if (H5Pset_file_image_callbacks(fapl, &cb) < 0) return -1;
    return use_v110(fapl);
  }

  /// The file's bytes, after H5Fclose. False when nothing was captured or the
  /// superblock is not the expected version 2/3 one.
  bool take(std::vector<char>& image) const {
    // Superblock v2/v3: signature (8), version, sizes of offsets and lengths,
    // flags (4), base address, extension address, end-of-file address (8 each).
    static const unsigned char kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (closed_.size() < 48 || std::memcmp(closed_.data(), kSignature, 8) != 0) return false;
    const unsigned version = static_cast<unsigned char>(closed_[8]);
    if ((version != 2 && version != 3) || closed_[9] != 8) return false;
    std::uint64_t eof = 0;
    for (int b = 7; b >= 0; --b) eof = (eof << 8) | static_cast<unsigned char>(closed_[28 + b]);
    if (eof == 0 || eof > closed_.size()) return false;
    image.assign(closed_.begin(), closed_.begin() + static_cast<std::ptrdiff_t>(eof));
    return true;
  }

 private:
  static ClosedMemoryFile* self(void* udata) { return static_cast<ClosedMemoryFile*>(udata); }
  static void* image_malloc(size_t size, H5FD_file_image_op_t, void* udata) {
    auto* s = self(udata);
    std::free(s->buffer_);
    s->buffer_ = std::malloc(size);
    s->size_ = s->buffer_ ? size : 0;
    return s->buffer_;
  }
  static void* image_memcpy(void* dest, const void* src, size_t size, H5FD_file_image_op_t, void*) {
    return std::memcpy(dest, src, size);
  }
  static void* image_realloc(void* ptr, size_t size, H5FD_file_image_op_t, void* udata) {
    auto* s = self(udata);
    void* p = std::realloc(ptr, size);
    if (p) {
      s->buffer_ = p;
      s->size_ = size;
    }
    return p;
  }
  static herr_t image_free(void* ptr, H5FD_file_image_op_t op, void* udata) {
    auto* s = self(udata);
    if (op == H5FD_FILE_IMAGE_OP_FILE_CLOSE && ptr == s->buffer_)
      s->closed_.assign(static_cast<char*>(ptr), static_cast<char*>(ptr) + s->size_);
    if (ptr == s->buffer_) {
      s->buffer_ = nullptr;
      s->size_ = 0;
    }
    std::free(ptr);
    return 0;
  }
  static void* udata_copy(void* udata) { return udata; }
  static herr_t udata_free(void*) { return 0; }

  void* buffer_ = nullptr;
  size_t size_ = 0;
  std::vector<char> closed_;
};

template <class T>
hid_t native_type() {
  if constexpr (std::is_same_v<T, double>) return H5T_NATIVE_DOUBLE;
  else if constexpr (std::is_same_v<T, std::int64_t>) return H5T_NATIVE_INT64;
  else return H5T_NATIVE_INT32;
}

}  // namespace

std::mutex& mutex() {
  static std::mutex m;
  return m;
}

Session::Session() : lock_(mutex()) { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

bool checksum_failed() {
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

std::string read_failure(const std::string& what) {
  if (out_of_memory()) return "reading " + what + " failed: out of memory";
  if (checksum_failed())
    return "reading " + what + " failed: its checksum does not match, the file is damaged (changed since it was written)";
  return "reading " + what + " failed: the file is truncated or damaged";
}

void FileContext::fail(const std::string& what) const {
  throw FileError(concat(writing_ ? "cannot write \"" : "cannot read \"", path_, "\": ", what));
}

// A failed write is the system's (full disk, quota, file-size limit): its
// reason, never a checksum (the filter pipeline fails when its write does).
Hid FileContext::own(hid_t id, Hid::Closer close, const std::string& what) const {
  if (id < 0) fail(what + " failed" + (writing_ ? reason() : damage()));
  return Hid(id, close);
}

void FileContext::check(herr_t status, const std::string& what) const {
  if (status < 0) fail(what + " failed" + (writing_ ? reason() : damage()));
}

// ---------------------------------------------------------------------------
// Writing

void Writer::root(const Format& format) const {
  attr_string("/", "format", format.name);
  attr_ints("/", "format_version", {format.version}, true);
  attr_string("/", "created_by", std::string("mriotrace ") + MRIOTRACE_VERSION);
}

void Writer::group(const std::string& path, bool track_order) const {
  Hid gcpl = ctx_.own(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, "creating a property list");
  ctx_.check(H5Pset_obj_track_times(gcpl, false), "switching off object times");
  if (track_order)
    ctx_.check(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
               "setting link creation order of " + path);
  Hid g = ctx_.own(H5Gcreate2(file_, path.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose, "creating group " + path);
}

Hid Writer::create_attr(const std::string& object, const char* name, hid_t type, hid_t space) const {
  return ctx_.own(H5Acreate_by_name(file_, object.c_str(), name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  H5Aclose, concat("creating attribute ", object, "@", name));
}

void Writer::attr_string(const std::string& object, const char* name, const std::string& value) const {
  // Fixed length: the value lives in the (checksummed) object header.
  Hid type = fixed_string_type(ctx_, value.size());
  Hid space = ctx_.own(H5Screate(H5S_SCALAR), H5Sclose, "creating a dataspace");
  Hid attr = create_attr(object, name, type, space);
  std::vector<char> buf(std::max<size_t>(1, value.size()), '\0');
  std::copy(value.begin(), value.end(), buf.begin());
  ctx_.check(H5Awrite(attr, type, buf.data()), "writing attribute " + object + "@" + name);
}

void Writer::attr_ints(const std::string& object, const char* name, const std::vector<std::int64_t>& values,
                       bool scalar) const {
  const hsize_t count = values.size();
  Hid space = ctx_.own(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr), H5Sclose,
                       "creating a dataspace");
  Hid attr = create_attr(object, name, H5T_STD_I64LE, space);
  ctx_.check(H5Awrite(attr, H5T_NATIVE_INT64, values.data()), "writing attribute " + object + "@" + name);
}

void Writer::attr_double(const std::string& object, const char* name, double value) const {
  Hid space = ctx_.own(H5Screate(H5S_SCALAR), H5Sclose, "creating a dataspace");
  Hid attr = create_attr(object, name, H5T_IEEE_F64LE, space);
  ctx_.check(H5Awrite(attr, H5T_NATIVE_DOUBLE, &value), "writing attribute " + object + "@" + name);
}

void Writer::strings(const std::string& path, const std::vector<std::string>& values) const {
  size_t width = 1;
  for (const auto& s : values) width = std::max(width, s.size());
  std::vector<char> buf(values.size() * width, '\0');
  for (size_t i = 0; i < values.size(); ++i) std::copy(values[i].begin(), values[i].end(), buf.begin() + i * width);
  Hid type = fixed_string_type(ctx_, width);
  dataset(path, type, type, buf.data(), {values.size()});
}

void Writer::doubles(const std::string& path, const double* data, const Dims& dims) const {
  dataset(path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, dims);
}

void Writer::int64s(const std::string& path, const std::int64_t* data, hsize_t count) const {
  dataset(path, H5T_STD_I64LE, H5T_NATIVE_INT64, data, {count});
}

void Writer::matrix(const std::string& path, const Matrix& m, Dims dims) const {
  const RowMajor rm = m;
  if (dims.empty()) dims = {static_cast<hsize_t>(m.rows()), static_cast<hsize_t>(m.cols())};
  doubles(path, rm.data(), dims);
}

Hid Writer::dataset_plist(const std::string& path, const Dims& dims, bool compress, bool extendible) const {
  Hid dcpl = ctx_.own(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "creating a property list");
  ctx_.check(H5Pset_obj_track_times(dcpl, false), "switching off object times");
  if (!extendible && element_count(dims) == 0) return dcpl;  // nothing to checksum: contiguous, empty
  // Chunked, for the Fletcher32 checksum that HDF5 verifies on every read (a
  // damaged byte becomes an error, never a different number). Chunks span
  // whole trailing dimensions where possible (row blocks of a row-major
  // matrix), about kChunkElements each.
  Dims chunk(dims.size());
  hsize_t budget = kChunkElements;
  for (size_t i = dims.size(); i-- > 0;) {
    chunk[i] = extendible ? kChunkElements : std::max<hsize_t>(1, std::min(dims[i], budget));
    budget = std::max<hsize_t>(1, budget / chunk[i]);
  }
  ctx_.check(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "chunking " + path);
  if (compress && (extendible || element_count(dims) >= kCompressMin) && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
    ctx_.check(H5Pset_shuffle(dcpl), "setting the shuffle filter of " + path);
    ctx_.check(H5Pset_deflate(dcpl, kGzipLevel), "setting gzip compression of " + path);
  }
  ctx_.check(H5Pset_fletcher32(dcpl), "setting the Fletcher32 checksum of " + path);
  return dcpl;
}

void Writer::dataset(const std::string& path, hid_t file_type, hid_t mem_type, const void* data,
                     const Dims& dims) const {
  Hid space = ctx_.own(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                       "creating the dataspace of " + path);
  const bool is_string = H5Tget_class(file_type) == H5T_STRING;
  Hid dcpl = dataset_plist(path, dims, !is_string);
  Hid ds = ctx_.own(H5Dcreate2(file_, path.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
                    "creating dataset " + path);
  if (element_count(dims) > 0)
    ctx_.check(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "writing dataset " + path);
}

AppendColumn::AppendColumn(const Writer& w, const std::string& path, hid_t file_type, hid_t mem_type,
                           size_t element_size)
    : ctx_(w.ctx()), path_(path), mem_type_(mem_type), element_size_(element_size) {
  const hsize_t zero = 0, unlimited = H5S_UNLIMITED;
  Hid space = ctx_.own(H5Screate_simple(1, &zero, &unlimited), H5Sclose, "creating the dataspace of " + path);
  Hid dcpl = w.dataset_plist(path, {0}, true, true);
  ds_ = ctx_.own(H5Dcreate2(w.file(), path.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
                 "creating dataset " + path);
  buffer_.reserve(kChunkElements * element_size_);
}

void AppendColumn::flush() {
  if (buffer_.empty()) return;
  const hsize_t start = size_, count = buffer_.size() / element_size_, end = size_ + count;
  ctx_.check(H5Dset_extent(ds_, &end), "extending " + path_);
  Hid fspace = ctx_.own(H5Dget_space(ds_), H5Sclose, "reading the dataspace of " + path_);
  ctx_.check(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, nullptr, &count, nullptr), "selecting in " + path_);
  Hid mspace = ctx_.own(H5Screate_simple(1, &count, nullptr), H5Sclose, "creating a dataspace");
  ctx_.check(H5Dwrite(ds_, mem_type_, mspace, fspace, H5P_DEFAULT, buffer_.data()), "appending to " + path_);
  size_ = end;
  buffer_.clear();
}

void write_atomically(const std::string& path, const Format& format, const std::function<void(const Writer&)>& body) {
  Session session;
  const FileContext ctx(path, true);
  detail::AtomicFile out(path);
  std::vector<char> image;
  {
    // Built in memory (HDF5's core driver, no backing store), then written by
    // AtomicFile: a full disk fails there with its reason (atomic_file.hpp).
    ClosedMemoryFile memory;
    Hid fapl = ctx.own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "creating a property list");
    ctx.check(memory.configure(fapl), "configuring the in-memory file");
    Hid fcpl = ctx.own(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "creating a property list");
    ctx.check(H5Pset_obj_track_times(fcpl, false), "switching off object times");
    Hid file = ctx.own(H5Fcreate(out.temp_path().c_str(), H5F_ACC_TRUNC, fcpl, fapl), H5Fclose,
                       "creating the in-memory file");
    const Writer w(file, ctx);
    w.root(format);
    body(w);
    if (file.close() < 0) ctx.fail("closing the in-memory file failed");
    if (!memory.take(image)) ctx.fail("taking the in-memory file's image failed");
  }
  out.write(image.data(), image.size());
  out.commit();
}

Hid create_disk_file(const FileContext& ctx, const std::string& path) {
  Hid fapl = ctx.own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "creating a property list");
  ctx.check(use_v110(fapl), "selecting the 1.10 file format");
  Hid fcpl = ctx.own(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "creating a property list");
  ctx.check(H5Pset_obj_track_times(fcpl, false), "switching off object times");
  return ctx.own(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, fapl), H5Fclose, "creating the file");
}

Hid reopen_disk_file(const FileContext& ctx, const std::string& path) {
  Hid fapl = ctx.own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "creating a property list");
  // New objects in the 1.10 format too (else they get version 1 object
  // headers, without checksums).
  ctx.check(use_v110(fapl), "selecting the 1.10 file format");
  return ctx.own(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl), H5Fclose, "reopening the file");
}

void discard_further_writes(hid_t file) {
  // HDF5 1.10 keeps a file whose write failed half-closed, with dirty
  // metadata it retries at exit, where it crashes (SIGSEGV). Pointing the
  // file's descriptor at /dev/null (which no full disk or file-size limit
  // refuses) lets every retried write and the close succeed; the partial
  // file on disk is the caller's to remove.
  if (file < 0) return;
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) >= 0 && handle != nullptr) {
    const int fd = *static_cast<int*>(handle);
    const int sink = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (sink >= 0) {
      ::dup2(sink, fd);
      ::close(sink);
    }
  }
}

// ---------------------------------------------------------------------------
// Reading

Reader::Reader(const std::string& path) : ctx_(path, false) {
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
    if (out_of_memory())
      ctx_.fail("HDF5 could not allocate memory to open it (a memory limit such as ulimit -v or the job's "
                "memory request is too small)");
    if (checksum_failed())
      ctx_.fail("the HDF5 file cannot be opened: a metadata checksum does not match, the file is damaged");
    ctx_.fail("the HDF5 file cannot be opened: it is truncated or corrupt");
  }
  file_ = Hid(file, H5Fclose);
}

Reader::Reader(const void* image, size_t size, const std::string& name) : ctx_(name, false) {
  if (image == nullptr || size == 0) ctx_.fail("empty file image");
  Hid fapl = ctx_.own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "creating a property list");
  ctx_.check(H5Pset_fapl_core(fapl, 1 << 20, false), "configuring the in-memory file");
  // HDF5 copies the image into its own buffer: the caller's bytes stay untouched.
  ctx_.check(H5Pset_file_image(fapl, const_cast<void*>(image), size), "setting the file image");
  const hid_t file = H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl);
  if (file < 0) ctx_.fail("the HDF5 file image cannot be opened: it is truncated or corrupt");
  file_ = Hid(file, H5Fclose);
}

int Reader::check_format(const Format& format, int first_checksummed, const std::string& old_warning) {
  if (!has_attr("/", "format"))
    ctx_.fail(concat("not ", format.kind, " (foreign HDF5 file: the root has no \"format\" attribute)"));
  const std::string name = attr_string("/", "format");
  if (name != format.name)
    ctx_.fail(concat("not ", format.kind, " (foreign HDF5 file: format is \"", name, "\", expected \"", format.name,
                     "\")"));
  if (!has_attr("/", "format_version")) ctx_.fail("the root has no \"format_version\" attribute");
  const auto version = attr_ints("/", "format_version");
  if (version.size() != 1 || version[0] < 1) ctx_.fail("the root attribute \"format_version\" is invalid");
  if (version[0] > format.version)
    ctx_.fail(concat("written with format version ", version[0], ", newer than this build of mriotrace reads (",
                     format.version, "); upgrade mriotrace"));
  const int v = static_cast<int>(version[0]);
  if (v < first_checksummed) warn(concat("\"", ctx_.path(), "\" was written with format version ", v, ", ", old_warning));
  return v;
}

void Reader::check_not_truncated(const std::string& path) const {
  // A file shorter than the end-of-file address its superblock records was
  // cut off (an interrupted copy or download): say so before HDF5 reports
  // whatever it trips over first.
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

// An error looking a name up (a damaged group index or object header) is
// damage, never "absent": an absent optional member would silently change
// what the file says.
bool Reader::exists(const std::string& path) const {
  for (size_t pos = path.find('/', 1);; pos = path.find('/', pos + 1)) {
    const std::string prefix = path.substr(0, pos);
    const htri_t found = H5Lexists(file_, prefix.c_str(), H5P_DEFAULT);
    if (found < 0) ctx_.fail("looking up " + prefix + " failed" + damage());
    if (found == 0) return false;
    if (pos == std::string::npos) {
      // The link resolves to an object (a damaged target is an error too).
      const htri_t object = H5Oexists_by_name(file_, path.c_str(), H5P_DEFAULT);
      if (object < 0) ctx_.fail("opening " + path + " failed" + damage());
      return object > 0;
    }
  }
}

void Reader::require(const std::string& path, const char* meaning) const {
  if (!exists(path)) ctx_.fail(concat(path, " is missing (", meaning, ")"));
}

bool Reader::has_attr(const std::string& object, const char* name) const {
  const htri_t found = H5Aexists_by_name(file_, object.c_str(), name, H5P_DEFAULT);
  if (found < 0) ctx_.fail(concat("looking up attribute ", object, "@", name, " failed", damage()));
  return found > 0;
}

std::string Reader::attr_string(const std::string& object, const char* name) const {
  Hid attr = open_attr(object, name);
  auto values = read_strings(attr, true, object + "@" + name);
  if (values.size() != 1) ctx_.fail(concat("attribute ", object, "@", name, " is not a single string"));
  return values[0];
}

std::vector<std::int64_t> Reader::attr_ints(const std::string& object, const char* name) const {
  const std::string what = object + "@" + name;
  Hid attr = open_attr(object, name);
  Hid type = ctx_.own(H5Aget_type(attr), H5Tclose, "reading the type of " + what);
  if (H5Tget_class(type) != H5T_INTEGER) ctx_.fail(what + " is not an integer attribute");
  Hid space = ctx_.own(H5Aget_space(attr), H5Sclose, "reading the dataspace of " + what);
  std::vector<std::int64_t> out(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
  if (!out.empty()) ctx_.check(H5Aread(attr, H5T_NATIVE_INT64, out.data()), "reading " + what);
  return out;
}

std::int64_t Reader::attr_int(const std::string& object, const char* name) const {
  const auto v = attr_ints(object, name);
  if (v.size() != 1) ctx_.fail(concat(object, "@", name, " is not a scalar"));
  return v[0];
}

double Reader::attr_double(const std::string& object, const char* name) const {
  const std::string what = object + "@" + name;
  Hid attr = open_attr(object, name);
  Hid type = ctx_.own(H5Aget_type(attr), H5Tclose, "reading the type of " + what);
  const H5T_class_t cls = H5Tget_class(type);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) ctx_.fail(what + " is not a numeric attribute");
  Hid space = ctx_.own(H5Aget_space(attr), H5Sclose, "reading the dataspace of " + what);
  if (H5Sget_simple_extent_npoints(space) != 1) ctx_.fail(what + " is not a scalar");
  double v = 0;
  ctx_.check(H5Aread(attr, H5T_NATIVE_DOUBLE, &v), "reading " + what);
  return v;
}

std::vector<std::string> Reader::strings(const std::string& path) const {
  Hid ds = open_dataset(path);
  auto out = read_strings(ds, false, path);
  return out;
}

std::vector<std::string> Reader::strings(const std::string& path, hsize_t count, const char* meaning) const {
  expect_dims(path, {count}, meaning);
  return strings(path);
}

Dims Reader::dims(const std::string& path) const {
  Hid ds = open_dataset(path);
  Hid space = ctx_.own(H5Dget_space(ds), H5Sclose, "reading the dataspace of " + path);
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) ctx_.fail("reading the shape of " + path + " failed");
  Dims d(static_cast<size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space, d.data(), nullptr);
  return d;
}

void Reader::expect_dims(const std::string& path, const Dims& want, const char* meaning) const {
  const Dims got = dims(path);
  if (got != want)
    ctx_.fail(concat(path, " has shape ", shape_string(got), "; expected ", shape_string(want), " (", meaning, ")"));
}

template <class T>
std::vector<T> Reader::numbers(const std::string& path, const Dims& want, const char* meaning) const {
  expect_dims(path, want, meaning);
  Hid ds = open_dataset(path);
  Hid type = ctx_.own(H5Dget_type(ds), H5Tclose, "reading the type of " + path);
  const H5T_class_t cls = H5Tget_class(type);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) ctx_.fail(path + " is not numeric");
  std::vector<T> out(element_count(want));
  if (!out.empty() && H5Dread(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    ctx_.fail(read_failure(path));
  return out;
}

template <class T>
std::vector<T> Reader::column(const std::string& path) const {
  const Dims d = dims(path);
  if (d.size() != 1) ctx_.fail(concat(path, " has shape ", shape_string(d), "; expected a 1-D dataset"));
  return numbers<T>(path, d, "1-D");
}

template std::vector<double> Reader::numbers<double>(const std::string&, const Dims&, const char*) const;
template std::vector<std::int64_t> Reader::numbers<std::int64_t>(const std::string&, const Dims&, const char*) const;
template std::vector<std::int32_t> Reader::numbers<std::int32_t>(const std::string&, const Dims&, const char*) const;
template std::vector<double> Reader::column<double>(const std::string&) const;
template std::vector<std::int64_t> Reader::column<std::int64_t>(const std::string&) const;
template std::vector<std::int32_t> Reader::column<std::int32_t>(const std::string&) const;

Matrix Reader::matrix(const std::string& path, Index rows, Index cols, const char* meaning) const {
  const auto data = numbers<double>(path, {static_cast<hsize_t>(rows), static_cast<hsize_t>(cols)}, meaning);
  return Eigen::Map<const RowMajor>(data.data(), rows, cols);
}

Vector Reader::vector(const std::string& path, Index n, const char* meaning) const {
  const auto data = numbers<double>(path, {static_cast<hsize_t>(n)}, meaning);
  return Eigen::Map<const Vector>(data.data(), n);
}

std::vector<std::string> Reader::children(const std::string& path) const {
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

Hid Reader::open_dataset(const std::string& path) const {
  require(path, "dataset");
  return ctx_.own(H5Dopen2(file_, path.c_str(), H5P_DEFAULT), H5Dclose, "opening dataset " + path);
}

Hid Reader::open_attr(const std::string& object, const char* name) const {
  if (!has_attr(object, name)) ctx_.fail(concat("attribute ", object, "@", name, " is missing"));
  return ctx_.own(H5Aopen_by_name(file_, object.c_str(), name, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                  concat("opening attribute ", object, "@", name));
}

/// Strings of a dataset or attribute, fixed-length (ours since format
/// version 2, NumPy "S" arrays) or variable-length (older files, h5py's
/// default), each checked to be UTF-8 text.
std::vector<std::string> Reader::read_strings(hid_t obj, bool is_attr, const std::string& what) const {
  Hid type = ctx_.own(is_attr ? H5Aget_type(obj) : H5Dget_type(obj), H5Tclose, "reading the type of " + what);
  if (H5Tget_class(type) != H5T_STRING) ctx_.fail(what + " is not a string " + (is_attr ? "attribute" : "dataset"));
  Hid space = ctx_.own(is_attr ? H5Aget_space(obj) : H5Dget_space(obj), H5Sclose, "reading the dataspace of " + what);
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
    Hid mem = variable_string_type(ctx_);
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
  for (size_t i = 0; i < out.size(); ++i)
    if (!valid_utf8(out[i]))
      ctx_.fail(is_attr ? concat(what, " is not UTF-8 text: the file is damaged")
                        : concat(what, "[", i, "] is not UTF-8 text: the file is damaged"));
  return out;
}

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

// ---------------------------------------------------------------------------
// The read guard

void Decoder::damaged() const {
  throw FileError(concat("cannot read \"", path_, "\": the guarded read returned incomplete data"));
}

namespace {

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

/// Run `read` here; its warnings go to this thread's collector or stderr.
std::string unguarded(const std::function<void(Encoder&)>& read) {
  Encoder e;
  read(e);
  return std::move(e.bytes);
}

}  // namespace

// The HDF5 library never parses a hostile file in this process: a child
// process (fork) reads it, under a time limit and a memory budget, and sends
// the plain arrays back through a pipe. On damaged metadata that no checksum
// covers (format version 1, files written by other tools) HDF5 1.10 can
// crash (SIGSEGV), corrupt the heap, loop forever or allocate gigabytes: the
// child dies, this process reports it as a FileError and goes on.
std::string guarded(const std::string& path, const std::function<void(Encoder&)>& read) {
  if (const char* env = std::getenv("MRIOTRACE_HDF5_GUARD"); env && std::string(env) == "0") return unguarded(read);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return unguarded(read);  // missing or not a file: the reader's own message
  const GuardLimits limits = guard_limits(size);
  int fds[2];
  if (pipe(fds) != 0) {
    warn(concat("could not start the guarded read of \"", path, "\" (pipe failed); reading it unguarded"));
    return unguarded(read);
  }
  pid_t pid;
  {
    // No other thread is inside HDF5 while the child is made: its copy of
    // the library's state is consistent, and it can take the lock itself.
    std::lock_guard<std::mutex> lock(mutex());
    pid = fork();
    if (pid == 0) {
      mutex().unlock();  // the child's copy of the lock this thread held
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
        read(e);
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
      if (status != ChildStatus::Ok) e.bytes.clear();
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
    return unguarded(read);
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
  return bytes.substr(static_cast<size_t>(d.position() - bytes.data()));
}

}  // namespace mriotrace::io::h5
