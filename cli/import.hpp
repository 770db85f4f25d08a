// `mriotrace import ...`: the readers of published data are Python
// (mriotrace.readers); this command runs them with the interpreter installed
// beside the program (cli/import.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace mriotrace::cli {

/// Registers `import` on `app`; the returned function runs it when it was given
/// (replacing this process by the Python importer) and is a no-op otherwise.
std::function<void()> add_import_command(CLI::App& app);

/// Registers `datasets` (fetch, list: python -m mriotrace.downloads) the same way.
std::function<void()> add_datasets_command(CLI::App& app);

}  // namespace mriotrace::cli
