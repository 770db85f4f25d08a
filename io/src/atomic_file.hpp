// Atomic replacement of an output file (private to mriotrace_io).
//
// Writers create a temporary file beside the target (same directory, so the
// final rename stays on one file system and is atomic), write and close it,
// then call commit(): fsync the data, rename over the target, fsync the
// directory. HDF5 writers build the file in memory and hand its image to
// write(): a failing disk write (full disk, quota) then fails here, with the
// system's reason, instead of inside HDF5, whose failed close leaves the
// library in a state that crashes at exit. Until commit() succeeds the destructor removes the temporary
// file, so an exception anywhere in the writer leaves the old target intact
// and no debris behind.
#pragma once

#include <cstddef>
#include <string>

namespace mriotrace::io::detail {

class AtomicFile {
 public:
  /// Plans a temporary `<dir>/.<name>.tmp-<pid>` for `target`. Throws FileError
  /// naming `target` when its directory does not exist.
  explicit AtomicFile(std::string target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Path of the temporary file to write (the writer creates and closes it).
  const std::string& temp_path() const { return temp_; }
  const std::string& target() const { return target_; }

  /// Write `size` bytes as the temporary file's whole content (created or
  /// truncated). Throws FileError naming the target and the system's reason
  /// (e.g. "No space left on device"); the old target stays intact.
  void write(const void* data, std::size_t size);

  /// fsync the closed temporary file, rename it over the target, fsync the
  /// directory. Throws FileError naming the target on failure.
  void commit();

 private:
  std::string target_;
  std::string temp_;
  bool committed_ = false;
};

}  // namespace mriotrace::io::detail
