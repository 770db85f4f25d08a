// HDF5 files built in memory and written whole through AtomicFile (private to
// mriotrace_io; why: atomic_file.hpp). Shared by the system writer (hdf5.cpp)
// and the batch results writer (batch_store.cpp).
#pragma once

#include <hdf5.h>

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

}  // namespace mriotrace::io::detail
