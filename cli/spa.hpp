// Supply-chain tracing commands: spa, layers, extract, linkages (cli/spa.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace mriotrace::cli {

/// Registers the tracing subcommands on `app`. Call run() after parsing: it
/// runs whichever of them was given (no-op otherwise) and throws UsageError /
/// mriotrace errors like the other commands.
struct TracingCommands {
  std::function<void()> run;
};
TracingCommands add_tracing_commands(CLI::App& app);

}  // namespace mriotrace::cli
