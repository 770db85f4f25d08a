// mriotrace error types and input-check macros.
//
// Every error is an exception derived from a standard one, so the Python
// bindings map it to the matching Python exception without extra code:
//   InputError  (std::invalid_argument) -> ValueError   bad shapes, values, labels
//   NumericError(std::runtime_error)    -> RuntimeError  singular / non-productive systems
//   FileError   (std::runtime_error)    -> OSError       unreadable, truncated, foreign files
// Messages name the input that is wrong and what was expected.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

#include "mriotrace/types.hpp"

namespace mriotrace {

struct InputError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct NumericError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
}  // namespace detail

/// Throws InputError if any entry of `m` is NaN or +-Inf, naming `what` and the position.
void check_finite(const Eigen::Ref<const Matrix>& m, const char* what);
void check_finite(const SparseMatrix& m, const char* what);

}  // namespace mriotrace

/// Throw mriotrace::InputError with a streamed message when `cond` is false.
/// Usage: MRIOTRACE_CHECK(Y.rows() == n, "Y has ", Y.rows(), " rows; expected n = ", n);
#define MRIOTRACE_CHECK(cond, ...)                                            \
  do {                                                                        \
    if (!(cond)) throw ::mriotrace::InputError(::mriotrace::detail::concat(__VA_ARGS__)); \
  } while (0)
