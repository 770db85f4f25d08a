// info, footprint and generate: thin wrappers over mriotrace::io, the solver
// and the accounts.
#include "commands.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>

#include "mriotrace/accounts.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/csv.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/solver.hpp"
#include "util.hpp"

namespace mriotrace::cli {
namespace {

bool is_hdf5_name(const std::string& path) {
  const std::string ext = lower_extension(path);
  return ext == ".h5" || ext == ".hdf5";
}

/// OUT.csv -> OUT_sectors.csv (same folder).
std::string sector_csv_path(const std::string& path) {
  const std::filesystem::path p(path);
  return (p.parent_path() / (p.stem().string() + "_sectors" + p.extension().string())).string();
}

}  // namespace

void run_info(const InfoOptions& o) {
  const io::FileInfo info = io::inspect(o.file);
  const Labels& l = info.labels;
  auto row = [](const char* key, const std::string& value) {
    std::cout << format("%-16s", key) << value << '\n';
  };
  constexpr size_t kIndent = 16;
  row("file", o.file);
  row("format version", std::to_string(info.format_version));
  row("created by", info.created_by.empty() ? "(not recorded)" : info.created_by);
  row("regions", name_list(l.regions, kIndent));
  row("sectors", name_list(l.sectors, kIndent));
  row("fd categories", name_list(l.fd_categories, kIndent));
  row("stressors", name_list(l.stressors, kIndent, 100, &l.stressor_units));
  if (l.m() > 0) row("indicators", name_list(l.indicators, kIndent, 100, &l.indicator_units));
  if (!l.monetary_unit.empty()) row("monetary unit", l.monetary_unit);
  if (info.has_system) {
    const double n = static_cast<double>(l.n());
    const double density = n > 0 ? static_cast<double>(info.nnz_A) / (n * n) : 0.0;
    row("system", format("n = %s (regions x sectors)", thousands(l.n()).c_str()));
    row("A", format("%s nonzeros, density %.4g %%", thousands(info.nnz_A).c_str(), 100.0 * density));
  } else {
    row("system", "none (a results file: labels and accounts only)");
  }
  std::string results;
  for (const auto& name : info.result_names) results += (results.empty() ? "" : ", ") + name;
  row("results", info.result_names.empty() ? "none" : results);
  if (info.spa_paths >= 0) row("paths", thousands(info.spa_paths) + " (structural path analysis, /tracing/spa)");
}

void run_footprint(const FootprintOptions& o) {
  // Check what can be checked before any expensive step.
  const std::string ext = lower_extension(o.output);
  const bool to_hdf5 = is_hdf5_name(o.output);
  if (!to_hdf5 && ext != ".csv")
    throw UsageError("-o " + o.output + ": expected a file name ending in .h5, .hdf5 or .csv");
  refuse_overwriting_inputs(o.output, {o.file});
  if (!to_hdf5 && o.sector_level) refuse_overwriting_inputs(sector_csv_path(o.output), {o.file}, "-o (its sector file)");
  const SolverKind kind = solver_kind_from_string(o.solver);

  Stopwatch total;
  progress("loading " + o.file);
  const MrioSystem system = io::load_system(o.file);
  if (system.k() == 0) throw InputError(o.file + " has no stressors; expected at least one to compute footprints of");
  if (system.Y().cols() == 0)
    throw InputError(o.file + " has no final demand Y; expected one to compute consumption-based accounts");

  AccountsOptions ao;
  ao.regional = true;
  ao.sector_level = o.sector_level;
  ao.stressors = named_stressors(system, o.stressors);

  progress(format("factorising I - A (n = %s, %s nonzeros, solver %s)", thousands(system.n()).c_str(),
                  thousands(system.A().nonZeros()).c_str(), o.solver.c_str()));
  const LeontiefSolver solver = make_solver(system, SolverOptions{kind, o.threads});
  const Index k = ao.stressors.empty() ? system.k() : static_cast<Index>(ao.stressors.size());
  progress(format("solving: regional accounts (%lld right-hand sides)%s", static_cast<long long>(system.R()),
                  o.sector_level ? format(" and sector level (%lld transposed)",
                                          static_cast<long long>(k + system.R() * k)).c_str()
                                 : ""));
  const Accounts accounts = calc_accounts(system, solver, ao);

  if (to_hdf5) {
    progress("writing " + o.output);
    io::save_results(o.output, system.labels(), {io::NamedAccounts{"stressors", accounts}});
  } else {
    progress("writing " + o.output);
    io::write_regional_csv(o.output, system.labels(), accounts);
    if (o.sector_level) {
      const std::string sectors = sector_csv_path(o.output);
      progress("writing " + sectors);
      io::write_sector_csv(sectors, system.labels(), accounts);
    }
  }
  std::cerr << solver_summary(solver.diagnostics(), "mriotrace: ") << '\n'
            << format("mriotrace: done in %.2f s: %lld stressor%s x %lld regions%s -> %s", total.seconds(),
                      static_cast<long long>(k), k == 1 ? "" : "s", static_cast<long long>(system.R()),
                      o.sector_level ? " (+ sector level)" : "", o.output.c_str())
            << std::endl;
}

void run_generate(const GenerateOptions& o) {
  if (!is_hdf5_name(o.output))
    throw UsageError("-o " + o.output + ": expected a file name ending in .h5 or .hdf5");
  Stopwatch total;
  MrioSystem system = [&] {
    if (o.china) {
      progress("building the synthetic China system: 31 provinces x 42 sectors (SYNTHETIC numbers)");
      return o.seed_given ? datasets::china_synthetic(o.generator.seed) : datasets::china_synthetic();
    }
    const auto& g = o.generator;
    progress(format("generating a synthetic system: %lld regions x %lld sectors, domestic density %g, "
                    "trade density %g, seed %llu",
                    static_cast<long long>(g.regions), static_cast<long long>(g.sectors), g.domestic_density,
                    g.trade_density, static_cast<unsigned long long>(g.seed)));
    return datasets::generate(g);
  }();
  const double built = total.seconds();
  progress(format("built in %.2f s: n = %s, A has %s nonzeros (density %.4g %%)", built,
                  thousands(system.n()).c_str(), thousands(system.A().nonZeros()).c_str(),
                  100.0 * system.density()));
  progress("writing " + o.output);
  io::save(o.output, system);
  progress(format("done in %.2f s -> %s", total.seconds(), o.output.c_str()));
}

}  // namespace mriotrace::cli
