// Seed corpus generator: `mriotrace_fuzz_seeds OUT_DIR` writes OUT_DIR/<target>/
// for every target from the same base inputs the targets use (harness.cpp), so
// no binary corpus is committed. Run by tests/fuzz/run.py before fuzzing.
#include <cstdio>
#include <exception>

#include "harness.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    for (const auto& t : mriotrace::fuzz::targets()) {
      const int n = mriotrace::fuzz::write_seeds(t.name, std::string(argv[1]) + "/" + t.name, MRIOTRACE_SOURCE_DIR);
      std::printf("%-18s %3d seeds\n", t.name, n);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mriotrace_fuzz_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
