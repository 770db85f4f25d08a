// Temporary-file-plus-rename writes shared by the HDF5 and CSV writers.
#include "atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "mriotrace/error.hpp"

namespace fs = std::filesystem;

namespace mriotrace::io::detail {
namespace {

using ::mriotrace::detail::concat;

/// fsync a file or directory by path. Directories are opened read-only, which
/// POSIX allows for fsync; some file systems refuse it (EINVAL), which only
/// weakens durability after a crash, never atomicity, so that is ignored.
bool fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0 || (directory && errno == EINVAL);
  ::close(fd);
  return ok;
}

}  // namespace

AtomicFile::AtomicFile(std::string target) : target_(std::move(target)) {
  const fs::path p(target_);
  if (p.filename().empty())
    throw FileError(concat("cannot write \"", target_, "\": the path names a directory, expected a file name"));
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw FileError(concat("cannot write \"", target_, "\": directory \"", dir.string(), "\" does not exist"));
  // Appended piecewise: `"." + std::string` trips a GCC 12 -Wrestrict false positive.
  std::string name = ".";
  name += p.filename().string();
  name += ".tmp-";
  name += std::to_string(::getpid());
  temp_ = (dir / name).string();
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    std::error_code ec;  // best effort: the writer's own error is the one to report
    fs::remove(temp_, ec);
  }
}

void AtomicFile::write(const void* data, std::size_t size) {
  const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw FileError(concat("cannot write \"", target_, "\": creating the temporary file \"", temp_,
                           "\" failed: ", std::strerror(errno)));
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      throw FileError(concat("cannot write \"", target_, "\": writing the temporary file \"", temp_,
                             "\" failed: ", std::strerror(err)));
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0)
    throw FileError(concat("cannot write \"", target_, "\": closing the temporary file \"", temp_,
                           "\" failed: ", std::strerror(errno)));
}

void AtomicFile::commit() {
  if (!fsync_path(temp_, false))
    throw FileError(concat("cannot write \"", target_, "\": flushing the temporary file \"", temp_,
                           "\" failed: ", std::strerror(errno)));
  std::error_code ec;
  fs::rename(temp_, target_, ec);
  if (ec)
    throw FileError(concat("cannot write \"", target_, "\": renaming the temporary file \"", temp_,
                           "\" over it failed: ", ec.message()));
  committed_ = true;
  const fs::path p(target_);
  fsync_path(p.has_parent_path() ? p.parent_path().string() : ".", true);
}

}  // namespace mriotrace::io::detail
