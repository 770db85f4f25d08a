// `mriotrace batch run|merge` and `mriotrace sda`: registered on the app by
// add_batch_commands; run() executes whichever of them was parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace mriotrace::cli {

struct BatchCommands {
  CLI::App* batch = nullptr;
  CLI::App* run_cmd = nullptr;
  CLI::App* merge_cmd = nullptr;
  CLI::App* sda_cmd = nullptr;
  struct Options;
  std::shared_ptr<Options> options;
  /// Run the parsed command, if it is one of these. Throws on error.
  void run() const;
};

/// Adds `batch` (run, merge) and `sda` to `app`.
BatchCommands add_batch_commands(CLI::App& app);

}  // namespace mriotrace::cli
