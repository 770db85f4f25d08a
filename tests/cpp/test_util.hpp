// Shared helpers for the C++ tests: reference-data location and small systems.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace mriotrace::testdata {

/// The reference data folder: $MRIOTRACE_DATA, else ../shared/data beside the project.
inline std::filesystem::path data_dir() {
  if (const char* env = std::getenv("MRIOTRACE_DATA"); env && *env) return env;
  return MRIOTRACE_DEFAULT_DATA_DIR;
}

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

}  // namespace mriotrace::testdata

/// Skip the test (or fail it under CI=true) when a reference file is absent.
#define MRIOTRACE_REQUIRE_DATA(relpath)                                              \
  do {                                                                               \
    auto p_ = ::mriotrace::testdata::data_dir() / (relpath);                          \
    if (!std::filesystem::exists(p_)) {                                              \
      if (::mriotrace::testdata::running_in_ci())                                     \
        FAIL() << "reference data missing under CI: " << p_;                         \
      GTEST_SKIP() << "reference data not found: " << p_                             \
                   << " (set MRIOTRACE_DATA or place shared/data beside the project)"; \
    }                                                                                \
  } while (0)
