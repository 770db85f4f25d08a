// The subcommands of the mriotrace program. Each takes its parsed options,
// writes results on stdout and progress on stderr, and throws on error
// (main() turns exceptions into one-line messages and exit codes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mriotrace/datasets.hpp"

namespace mriotrace::cli {

struct InfoOptions {
  std::string file;
};
/// `mriotrace info FILE`: what a file holds, without reading the matrices.
void run_info(const InfoOptions& o);

struct FootprintOptions {
  std::string file;
  std::vector<std::string> stressors;  ///< empty = all
  int threads = 0;
  std::string solver = "auto";
  bool sector_level = false;
  std::string output;  ///< .h5 / .hdf5 or .csv
};
/// `mriotrace footprint FILE -o OUT`: consumption- and production-based accounts.
void run_footprint(const FootprintOptions& o);

struct GenerateOptions {
  bool china = false;
  bool seed_given = false;
  datasets::GeneratorOptions generator;
  std::string output;
};
/// `mriotrace generate ... -o OUT.h5`: a synthetic system (or the synthetic China system).
void run_generate(const GenerateOptions& o);

struct DemoOptions {
  std::string output = "mriotrace-demo-results.h5";
  int threads = 0;
  bool synthetic = false;  ///< --synthetic: the 31-province synthetic system's multi-regional report
};
/// `mriotrace demo`: the shipped real system (China 2018, national, 153 sectors), a readable report;
/// with --synthetic the 31-province synthetic system (SYNTHETIC numbers).
void run_demo(const DemoOptions& o);

}  // namespace mriotrace::cli
