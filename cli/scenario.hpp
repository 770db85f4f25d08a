// `mriotrace scenario run FILE`: scenario files against a base system.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "mriotrace/scenario.hpp"

namespace mriotrace::cli {

struct ScenarioRunOptions {
  std::string file;                   ///< TOML scenario file
  std::string system;                 ///< --system FILE.h5 (overrides the file's [base] system)
  bool demo = false;                  ///< --demo: the real demo system (datasets::china_demo)
  bool synthetic = false;             ///< --synthetic: the synthetic China system (datasets::china_synthetic)
  std::vector<std::string> only;      ///< --scenario NAME (repeatable): run only these
  std::string method = "auto";        ///< auto | lowrank | full
  int threads = 0;
  std::string output;                 ///< .h5 (accounts + OUT_report.csv) or .csv (report); "" = print only
};

/// Register `scenario run` under `app`; returns the `scenario` subcommand and
/// sets *run to its `run` subcommand. `threads_check` validates --threads.
CLI::App* add_scenario_command(CLI::App& app, ScenarioRunOptions& o, CLI::App** run,
                               const CLI::Validator& threads_check);

/// The system a base name stands for: "demo" (datasets::china_demo, REAL data),
/// "synthetic" (datasets::china_synthetic), else an .h5 file. `description`
/// (if given) receives one line saying which, for progress messages.
MrioSystem load_base(const std::string& name, std::string* description = nullptr);

/// The readable report of one scenario against its base (stdout, 100 columns);
/// `extra` (lines of the caller's) goes at its end.
void print_report(const MrioSystem& sys, const BaseResults& base, const Scenario& sc, const ScenarioResult& res,
                  const std::string& extra = "");

/// Run it: a readable report per scenario on stdout, files per -o.
void run_scenario_command(const ScenarioRunOptions& o);

}  // namespace mriotrace::cli
