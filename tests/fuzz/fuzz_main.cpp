// One libFuzzer binary per target (tests/fuzz/CMakeLists.txt compiles this
// file once per target with MRIOTRACE_FUZZ_TARGET set to its name).
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "harness.hpp"

#ifndef MRIOTRACE_FUZZ_TARGET
#error "MRIOTRACE_FUZZ_TARGET must name a target"
#endif

namespace {

const mriotrace::fuzz::TargetInfo* g_target = nullptr;
std::string g_child_report;

void print_tally() {
  const auto& t = mriotrace::fuzz::tally();
  std::fprintf(stderr,
               "mriotrace-fuzz: %s: accepted %llu, refused %llu (HDF5 read guard contained: %llu crashes, "
               "%llu time limits, %llu memory limits)\n",
               g_target->name, static_cast<unsigned long long>(t.accepted), static_cast<unsigned long long>(t.refused),
               static_cast<unsigned long long>(t.guard_crash), static_cast<unsigned long long>(t.guard_timeout),
               static_cast<unsigned long long>(t.guard_memory));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_target = &mriotrace::fuzz::target(MRIOTRACE_FUZZ_TARGET);
  // The HDF5 read guard's child process (io/src/hdf5.cpp) silences its stderr;
  // sanitizer reports of a child go to files under $MRIOTRACE_FUZZ_LOG_DIR
  // instead, where the runner (tests/fuzz/run.py) finds and classifies them.
  if (const char* dir = std::getenv("MRIOTRACE_FUZZ_LOG_DIR"); dir && *dir) {
    g_child_report = std::string(dir) + "/guard-child";
    pthread_atfork(nullptr, nullptr, [] { __sanitizer_set_report_path(g_child_report.c_str()); });
  }
  // A child that a sanitizer stops must not run libFuzzer's death callback,
  // inherited from this process: it would save the input as a crash of the
  // target, although the guard contains it (the parent sees a clean FileError).
  pthread_atfork(nullptr, nullptr, [] { __sanitizer_set_death_callback([] {}); });
  const auto first = g_target->run(nullptr, 0);
  if (g_target->base_must_read && !first.accepted) {
    std::fprintf(stderr, "mriotrace-fuzz: %s: the base input does not read: %s\n", g_target->name, first.error.c_str());
    std::abort();
  }
  std::atexit(print_tally);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto outcome = g_target->run(data, size);
  // MRIOTRACE_FUZZ_VERBOSE=1: each input's outcome (to triage inputs run by name).
  static const bool verbose = [] {
    const char* v = std::getenv("MRIOTRACE_FUZZ_VERBOSE");
    return v && std::string(v) == "1";
  }();
  if (verbose) std::fprintf(stderr, "mriotrace-fuzz: %s\n", outcome.accepted ? "accepted" : ("refused: " + outcome.error).c_str());
  return 0;
}
