// Importers of the global MRIO databases as published: import-db (cli/import_db.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace mriotrace::cli {

/// Registers `import-db DATABASE PATH -o OUT.h5` on `app`. Call run() after
/// parsing: it runs the import when the command was given (no-op otherwise).
struct ImportDbCommand {
  std::function<void()> run;
};
ImportDbCommand add_import_db_command(CLI::App& app);

}  // namespace mriotrace::cli
