// footprint-split: D_cba by final-demand category or by product (cli/footprint_split.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace mriotrace::cli {

/// Registers `footprint-split`; run() after parsing runs it when given.
struct FootprintSplitCommand {
  std::function<void()> run;
};
FootprintSplitCommand add_footprint_split_command(CLI::App& app);

}  // namespace mriotrace::cli
