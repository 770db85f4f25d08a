// `mriotrace scenario run FILE`: scenario files against a base system.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace mriotrace::cli {

struct ScenarioRunOptions {
  std::string file;                   ///< TOML scenario file
  std::string system;                 ///< --system FILE.h5 (overrides the file's [base] system)
  bool demo = false;                  ///< --demo: the China default system
  std::vector<std::string> only;      ///< --scenario NAME (repeatable): run only these
  std::string method = "auto";        ///< auto | lowrank | full
  int threads = 0;
  std::string output;                 ///< .h5 (accounts + OUT_report.csv) or .csv (report); "" = print only
};

/// Register `scenario run` under `app`; returns the `scenario` subcommand and
/// sets *run to its `run` subcommand. `threads_check` validates --threads.
CLI::App* add_scenario_command(CLI::App& app, ScenarioRunOptions& o, CLI::App** run,
                               const CLI::Validator& threads_check);

/// Run it: a readable report per scenario on stdout, files per -o.
void run_scenario_command(const ScenarioRunOptions& o);

}  // namespace mriotrace::cli
