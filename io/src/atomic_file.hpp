// Atomic replacement of an output file (private to mriotrace_io).
//
// Writers create a temporary file beside the target (same directory, so the
// final rename stays on one file system and is atomic), write and close it,
// then call commit(): fsync the data, rename over the target, fsync the
// directory. Until commit() succeeds the destructor removes the temporary
// file, so an exception anywhere in the writer leaves the old target intact
// and no debris behind.
#pragma once

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

  /// fsync the closed temporary file, rename it over the target, fsync the
  /// directory. Throws FileError naming the target on failure.
  void commit();

 private:
  std::string target_;
  std::string temp_;
  bool committed_ = false;
};

}  // namespace mriotrace::io::detail
