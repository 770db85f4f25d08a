// HDF5 files built in memory and written whole through AtomicFile (private to
// mriotrace_io; why: atomic_file.hpp). Shared by the system writer (hdf5.cpp)
// and the batch results writer (batch_store.cpp).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace mriotrace::io::detail {

/// Make `fapl` (a file-access property list) build files in memory: HDF5's
/// core driver, 1 MB growth steps, no backing store. Negative on failure.
inline herr_t use_memory_file(hid_t fapl) { return H5Pset_fapl_core(fapl, 1 << 20, false); }

/// The bytes of an open in-memory file, flushed first. False on failure.
inline bool memory_file_image(hid_t file, std::vector<char>& image) {
  if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) return false;
  const ssize_t size = H5Fget_file_image(file, nullptr, 0);
  if (size < 0) return false;
  image.resize(static_cast<size_t>(size));
  return H5Fget_file_image(file, image.data(), image.size()) == size;
}

/// An in-memory file in HDF5's 1.10 format (superblock version 3, whose
/// metadata carries checksums), whose bytes are taken after it is closed.
/// (H5Fget_file_image of an open file with a version 2+ superblock gives an
/// image that HDF5 1.10.8 itself cannot open: "incorrect metadata checksum".)
/// The core driver's buffer is captured through the file-image callbacks when
/// the file closes, and cut at the end-of-file address its superblock records.
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
    return H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST);
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

}  // namespace mriotrace::io::detail
