// mriotrace: the command-line program (CLI11 front end).
//
// Exit codes: 0 success, 1 a failure while running (bad file, unknown
// stressor, numerical failure), 2 a wrong command line. Every error is one
// line on stderr, "mriotrace: error: <message>"; no exception escapes main.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "batch_commands.hpp"
#include "commands.hpp"
#include "import.hpp"
#include "footprint_split.hpp"
#include "import_db.hpp"
#include "scenario.hpp"
#include "spa.hpp"
#include "util.hpp"

extern "C" char* openblas_get_corename(void);  // OpenBLAS's own API (libopenblas)

#ifndef MRIOTRACE_VERSION
#define MRIOTRACE_VERSION "unknown"
#endif

namespace {

/// Messages must stay on one line, whatever a library put into them.
std::string one_line(std::string s) {
  for (char& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

/// Whole number >= min (CLI11 2.1's own range checks print DBL_MAX in full).
CLI::Validator whole_at_least(long long min, const std::string& meaning) {
  return CLI::Validator(
      [min, meaning](std::string& text) -> std::string {
        size_t used = 0;
        long long value = 0;
        try {
          value = std::stoll(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size()) return "\"" + text + "\" is not a whole number; expected " + meaning;
        if (value < min) return "got " + text + "; expected " + meaning;
        return "";
      },
      min == 0 ? "INT>=0" : "INT>=" + std::to_string(min));
}

/// A fraction in (0, 1].
CLI::Validator fraction() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        size_t used = 0;
        double value = 0;
        try {
          value = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size()) return "\"" + text + "\" is not a number; expected a fraction in (0, 1]";
        if (!(value > 0 && value <= 1)) return "got " + text + "; expected a fraction in (0, 1]";
        return "";
      },
      "(0,1]");
}

/// OpenBLAS 0.3.21 (Debian 12) picks its kernels from the CPU model when it
/// loads, and falls back to SSE3 "Prescott" kernels on CPUs missing from its
/// table (virtual CPUs reporting a generic "Intel Xeon Processor"), even with
/// AVX2 or AVX-512: dense LU then runs ~4x slower. The kernels cannot change
/// after loading, so in that one case the program restarts itself once with
/// OPENBLAS_CORETYPE set (never overriding a user's value). The Python
/// package does the same before loading the engine (python/mriotrace/_blas.py).
void keep_openblas_off_its_fallback(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const char* core = openblas_get_corename();
  if (core == nullptr || std::string(core) != "Prescott") return;
  __builtin_cpu_init();
  const char* better = nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512cd"))
    better = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    better = "Haswell";
  if (better == nullptr || setenv("OPENBLAS_CORETYPE", better, 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: go on with the fallback kernels
  unsetenv("OPENBLAS_CORETYPE");
}

int fail(const std::string& message, int code) {
  std::cerr << "mriotrace: error: " << one_line(message) << std::endl;
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mriotrace::cli;
  CLI::App app{"mriotrace: environmentally-extended multi-regional input-output analysis", "mriotrace"};
  keep_openblas_off_its_fallback(argv);
  app.set_version_flag("--version", std::string("mriotrace ") + MRIOTRACE_VERSION + " (OpenBLAS kernels: " +
                                         openblas_get_corename() + ")");
  app.require_subcommand(1);

  InfoOptions info;
  auto* cmd_info = app.add_subcommand("info", "Describe an mriotrace HDF5 file (labels, sizes, result sets)");
  cmd_info->add_option("FILE", info.file, "HDF5 file written by mriotrace")->required();

  FootprintOptions fp;
  auto* cmd_fp = app.add_subcommand(
      "footprint", "Consumption- and production-based accounts of a system (D_cba, D_pba, Q, ...)");
  cmd_fp->add_option("FILE", fp.file, "HDF5 file holding a system")->required();
  cmd_fp->add_option("--stressor", fp.stressors,
                     "Stressor(s) to account for (repeatable, or comma-separated); default: all")
      ->take_all();
  cmd_fp->add_option("--threads", fp.threads, "Threads (0 = OMP_NUM_THREADS or all cores)")
      ->check(whole_at_least(0, "0 (all cores) or a thread count"));
  cmd_fp->add_option("--solver", fp.solver, "Linear solver (mixed: single-precision LU refined in double; gmres, power: iterative)")
      ->check(CLI::IsMember({"auto", "dense", "mixed", "umfpack", "klu", "gmres", "power"}))
      ->capture_default_str();
  cmd_fp->add_flag("--sector-level", fp.sector_level,
                   "Also compute sector-level accounts (M, D_cba, ...); to CSV as OUT_sectors.csv");
  cmd_fp->add_option("-o,--output", fp.output, "Output file: .h5 (results) or .csv (regional table)")->required();

  GenerateOptions gen;
  auto& g = gen.generator;
  auto* cmd_gen = app.add_subcommand("generate", "Write a synthetic MRIO system (or the synthetic China system) to HDF5");
  const CLI::Validator positive = whole_at_least(1, "a count of at least 1");
  cmd_gen->add_flag("--china", gen.china,
                    "The synthetic China system: 31 provinces x 42 sectors, SYNTHETIC numbers");
  auto* opt_regions = cmd_gen->add_option("--regions", g.regions, "Number of regions R")->check(positive);
  auto* opt_sectors =
      cmd_gen->add_option("--sectors", g.sectors, "Number of sectors N per region")->check(positive);
  // The options that shape a random system; the --china system has fixed shapes.
  std::vector<CLI::Option*> shape_options{opt_regions, opt_sectors};
  auto shape = [&](const char* name, auto& value, const char* help) {
    CLI::Option* opt = cmd_gen->add_option(name, value, help)->capture_default_str();
    shape_options.push_back(opt);
    return opt;
  };
  shape("--categories", g.fd_categories, "Final-demand categories per region")->check(positive);
  shape("--stressors", g.stressors, "Number of stressors")->check(positive);
  shape("--domestic-density", g.domestic_density, "Fraction of nonzeros in the domestic blocks of A")->check(fraction());
  shape("--trade-density", g.trade_density, "Fraction of nonzeros in the trade blocks of A")->check(fraction());
  shape("--domestic-share", g.domestic_share, "Mean column sum of the domestic blocks of A");
  shape("--trade-share", g.trade_share, "Mean column sum of all trade blocks of A together");
  auto* opt_seed = cmd_gen->add_option("--seed", g.seed, "Random seed (default 42; 2017 with --china)");
  cmd_gen->add_option("--threads", g.threads, "Threads (0 = OMP_NUM_THREADS or all cores); no effect on results")
      ->check(whole_at_least(0, "0 (all cores) or a thread count"));
  cmd_gen->add_option("-o,--output", gen.output, "Output HDF5 file (.h5)")->required();

  DemoOptions demo;
  auto* cmd_demo =
      app.add_subcommand("demo", "China 2018 (REAL data, 153 sectors): CO2 by sector, exports, supply chains, scenarios");
  cmd_demo->add_option("-o,--output", demo.output, "Where to write system and results")->capture_default_str();
  cmd_demo->add_flag("--synthetic", demo.synthetic,
                     "The multi-regional report on the 31-province synthetic system (SYNTHETIC numbers)");
  cmd_demo->add_option("--threads", demo.threads, "Threads (0 = OMP_NUM_THREADS or all cores)")
      ->check(whole_at_least(0, "0 (all cores) or a thread count"));

  const TracingCommands tracing = add_tracing_commands(app);  // spa, layers, extract, linkages

  const BatchCommands batch = add_batch_commands(app);  // batch run, batch merge, sda

  const auto run_import = add_import_command(app);  // import china-national | ceads-mrio (Python readers)
  const ImportDbCommand import_db = add_import_db_command(app);  // import-db exiobase3 | wiod2016
  const auto run_datasets = add_datasets_command(app);  // datasets fetch | list (Python downloader)
  const FootprintSplitCommand footprint_split = add_footprint_split_command(app);

  ScenarioRunOptions scen;
  CLI::App* cmd_scen_run = nullptr;
  add_scenario_command(app, scen, &cmd_scen_run, whole_at_least(0, "0 (all cores) or a thread count"));

  // CLI11 reports an unknown first word as "A subcommand is required"; say
  // what it is. The list comes from the registered subcommands, so a new
  // command needs no edit here.
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    commands.push_back(sub->get_name());
  if (argc > 1 && argv[1][0] != '-' && std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
    std::string known;
    for (const auto& c : commands) known += (known.empty() ? "" : ", ") + c;
    return fail(std::string("unknown command \"") + argv[1] + "\"; expected one of " + known +
                    " (see mriotrace --help)",
                2);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints multi-line help on errors; we keep to one line and point to --help.
    return fail(std::string(e.what()) + " (see mriotrace --help)", 2);
  }

  try {
    if (cmd_info->parsed()) run_info(info);
    if (cmd_fp->parsed()) run_footprint(fp);
    if (cmd_gen->parsed()) {
      if (gen.china)
        for (const CLI::Option* opt : shape_options)
          if (opt->count() > 0)
            throw UsageError(opt->get_name() + " cannot be combined with --china (its shapes are fixed)");
      if (!gen.china && (opt_regions->count() == 0 || opt_sectors->count() == 0))
        throw UsageError("generate needs --regions and --sectors, or --china (see mriotrace generate --help)");
      gen.seed_given = opt_seed->count() > 0;
      run_generate(gen);
    }
    if (cmd_demo->parsed()) run_demo(demo);
    tracing.run();
    if (cmd_scen_run->parsed()) run_scenario_command(scen);
    batch.run();
    run_import();
    run_datasets();
    import_db.run();
    footprint_split.run();
  } catch (const UsageError& e) {
    return fail(e.what(), 2);
  } catch (const std::exception& e) {
    return fail(e.what(), 1);
  } catch (...) {
    return fail("unexpected internal error (not a standard exception)", 1);
  }
  return 0;
}
