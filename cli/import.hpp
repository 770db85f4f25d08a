// `mriotrace import ...`: the readers of published data are Python
// (mriotrace.readers); this command runs them with the interpreter installed
// beside the program (cli/import.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace mriotrace::cli {

/// Registers `import` on `app`; the returned function runs it when it was given
/// (replacing this process by the Python importer) and is a no-op otherwise.
std::function<void()> add_import_command(CLI::App& app);

/// Registers `datasets` (fetch, list: python -m mriotrace.downloads) the same way.
std::function<void()> add_datasets_command(CLI::App& app);

/// Replaces this process by `python -c ...` calling module.function(arguments)
/// (its return value is the exit code), with the interpreter beside this
/// program ($MRIOTRACE_PYTHON overrides). `command` names the CLI command in
/// messages. Throws std::runtime_error when no interpreter can be run.
[[noreturn]] void exec_python(const std::string& module, const std::string& function, const std::string& command,
                              const std::vector<std::string>& arguments);

}  // namespace mriotrace::cli
