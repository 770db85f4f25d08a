// Fuzz targets for the file readers (docs/reliability.md, "Fuzzing").
//
// Every target feeds one input to a public reader (io/include/mriotrace/io/*.hpp)
// and accepts exactly two outcomes: the reader throws one of mriotrace's error
// types (InputError, FileError, NumericError: a clean refusal), or it returns.
// Anything else ends the process with a one-line verdict on stderr:
//   "mriotrace-fuzz: SILENT CHANGE: ..."   an HDF5 read returned results that
//                                          differ from the undamaged file's
//   "mriotrace-fuzz: UNCLEAN ERROR: ..."   an exception of another type
//                                          (std::bad_alloc, json::exception, ...)
// and sanitizers, libFuzzer's timeout and its leak check catch the rest.
//
// The same functions serve the libFuzzer binaries (fuzz_main.cpp), the seed
// generator (make_seeds.cpp) and the regression test
// (tests/cpp/test_fuzz_regressions.cpp), so a found input is re-run exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mriotrace::fuzz {

/// How one input ended (when it did not end the process).
struct Outcome {
  bool accepted = false;  ///< the reader returned (and, for HDF5, gave the base file's results)
  std::string error;      ///< the refusal's message, when !accepted
};

using Target = Outcome (*)(const std::uint8_t* data, std::size_t size);

struct TargetInfo {
  const char* name;     ///< e.g. "h5_system_edits"; names tests/fuzz/<name> corpora and regressions
  Target run;
  std::size_t max_len;  ///< libFuzzer -max_len for this target
  const char* input;    ///< what the bytes of one input mean (printed by the runner)
  bool base_must_read;  ///< the empty input is the undamaged base input, which must read
};

/// All targets, in the order the runner runs them.
const std::vector<TargetInfo>& targets();
const TargetInfo& target(const std::string& name);

/// Write the seed inputs of `name` (valid inputs and a few near-valid ones)
/// into `dir` (created). Returns how many files were written.
int write_seeds(const std::string& name, const std::string& dir, const std::string& source_dir);

/// Counts of this process's outcomes, printed at exit by the fuzz binaries:
/// how many inputs were accepted and refused, and how many refusals came from
/// the HDF5 read guard containing the library (a crash, a time or memory limit).
struct Tally {
  std::uint64_t accepted = 0, refused = 0, guard_crash = 0, guard_timeout = 0, guard_memory = 0;
};
Tally& tally();

}  // namespace mriotrace::fuzz
