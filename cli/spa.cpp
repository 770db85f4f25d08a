// `mriotrace spa | layers | extract | linkages`: supply-chain tracing of a
// system stored in HDF5 (tracing.hpp). Results on stdout, progress on stderr,
// every path streamed to -o (.csv or .h5) for spa.
#include "spa.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <numeric>

#include "mriotrace/error.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/io/path_writer.hpp"
#include "mriotrace/spa_report.hpp"
#include "mriotrace/tracing.hpp"
#include "util.hpp"

namespace mriotrace::cli {
namespace {

/// Options shared by the four commands.
struct Common {
  std::string file;
  std::vector<std::string> stressors;
  std::string region;  // consuming region ("" = all)
  int threads = 0;
  std::string solver = "auto";
  std::string output;
};

struct SpaCli : Common {
  std::string product;
  double tau = 1e-4;
  bool absolute = false;
  int max_depth = 8;
  long long max_paths = 10'000'000;
  double time_budget = 0;
  int top = 20;
};

struct LayersCli : Common {
  int tiers = 5;
};

struct ExtractCli : Common {
  std::vector<std::string> sectors;
  std::string mode = "full";
  std::string method = "auto";
};

struct LinkagesCli : Common {
  int top = 10;
};

void require(bool ok, const std::string& message) {
  if (!ok) throw UsageError(message);
}

std::string extension_of(const std::string& path) {
  const auto dot = path.find_last_of('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

void add_common(CLI::App* cmd, Common& c, bool region = true) {
  cmd->add_option("FILE", c.file, "HDF5 file holding a system (mriotrace generate / save)")->required();
  if (region)
    cmd->add_option("--region", c.region, "Consuming region whose final demand is traced (default: all regions)");
  cmd->add_option("--threads", c.threads, "Threads (0 = all cores); same results for any count (dense LU: last bits)");
  cmd->add_option("--solver", c.solver, "Linear solver")
      ->check(CLI::IsMember({"auto", "dense", "umfpack"}))
      ->capture_default_str();
}

struct Loaded {
  MrioSystem system;
  LeontiefSolver solver;
};

Loaded load(const Common& c) {
  require(c.threads >= 0, "--threads " + std::to_string(c.threads) + ": expected 0 (all cores) or a thread count");
  const SolverKind kind = solver_kind_from_string(c.solver);
  progress("loading " + c.file);
  MrioSystem system = io::load_system(c.file);
  progress(format("factorising I - A (n = %s, %s nonzeros)", thousands(system.n()).c_str(),
                  thousands(system.A().nonZeros()).c_str()));
  LeontiefSolver solver(system.A(), SolverOptions{kind, c.threads});
  return {std::move(system), std::move(solver)};
}

/// "REGION/SECTOR" -> system index; the region is matched as a prefix so sector names may contain '/'.
Index parse_product(const MrioSystem& sys, const std::string& text) {
  const Labels& l = sys.labels();
  for (Index r = 0; r < l.R(); ++r) {
    const std::string& name = l.regions[static_cast<size_t>(r)];
    if (text.size() > name.size() && text.compare(0, name.size(), name) == 0 && text[name.size()] == '/') {
      const std::string sector = text.substr(name.size() + 1);
      const auto it = std::find(l.sectors.begin(), l.sectors.end(), sector);
      if (it == l.sectors.end())
        throw InputError("unknown sector \"" + sector + "\" in \"" + text + "\"; expected one of the system's " +
                         std::to_string(l.N()) + " sectors (see mriotrace info)");
      return r * l.N() + (it - l.sectors.begin());
    }
  }
  throw InputError("\"" + text + "\" does not start with a known region followed by '/'; expected REGION/SECTOR");
}

Index region_or_all(const MrioSystem& sys, const std::string& region) {
  return region.empty() ? -1 : sys.region_index(region);
}

std::string demand_name(const std::string& region) {
  return "final demand of " + (region.empty() ? std::string("all regions") : region);
}

/// Stressor rows (default: all) and their names.
std::vector<Index> stressor_rows(const MrioSystem& sys, const std::vector<std::string>& names) {
  std::vector<Index> rows = named_stressors(sys, names);
  if (rows.empty())
    for (Index i = 0; i < sys.k(); ++i) rows.push_back(i);
  if (rows.empty()) throw InputError("the system has no stressors; expected at least one to trace");
  return rows;
}

Matrix rows_of(const Matrix& S, const std::vector<Index>& rows) {
  Matrix out(static_cast<Index>(rows.size()), S.cols());
  for (size_t i = 0; i < rows.size(); ++i) out.row(static_cast<Index>(i)) = S.row(rows[i]);
  return out;
}

std::string unit_of(const Labels& l, Index s) {
  return static_cast<size_t>(s) < l.stressor_units.size() ? l.stressor_units[static_cast<size_t>(s)] : "";
}

// --- spa ----------------------------------------------------------------------------

void run_spa(const SpaCli& o) {
  require(o.stressors.size() == 1, "spa traces one stressor: give --stressor NAME");
  require(o.top >= 0, "--top " + std::to_string(o.top) + ": expected a count >= 0");
  require(o.max_paths >= 0, "--max-paths " + std::to_string(o.max_paths) + ": expected >= 0 (0 = no limit)");
  SpaOptions so;
  so.tau = o.tau;
  so.absolute = o.absolute;
  so.max_depth = o.max_depth;
  so.max_paths = o.max_paths;
  so.keep = o.top;
  so.time_budget = o.time_budget;
  so.threads = o.threads;
  try {
    check_spa_options(so);  // before loading or factoring anything
  } catch (const InputError& e) {
    throw UsageError(e.what());
  }
  const std::string ext = o.output.empty() ? "" : extension_of(o.output);
  require(o.output.empty() || ext == ".csv" || ext == ".h5" || ext == ".hdf5",
          "-o " + o.output + ": expected a file name ending in .csv, .h5 or .hdf5");
  refuse_overwriting_inputs(o.output, {o.file});
  Stopwatch clock;
  Loaded in = load(o);
  const MrioSystem& sys = in.system;
  const Labels& l = sys.labels();
  // A stressor, or an indicator (row C S, e.g. USEEIO's GWP).
  const std::string& target = o.stressors[0];
  const auto ind = std::find(l.indicators.begin(), l.indicators.end(), target);
  const bool indicator = ind != l.indicators.end() && sys.has_indicators();
  const Index row = indicator ? static_cast<Index>(ind - l.indicators.begin()) : sys.stressor_index(target);
  const Vector s = indicator ? Vector((sys.C().row(row) * sys.S()).transpose()) : Vector(sys.S().row(row).transpose());
  const std::string unit =
      indicator ? (static_cast<size_t>(row) < l.indicator_units.size() ? l.indicator_units[static_cast<size_t>(row)]
                                                                        : std::string())
                : unit_of(l, row);
  const Index product = o.product.empty() ? -1 : parse_product(sys, o.product);
  const Vector y = target_demand(sys, region_or_all(sys, o.region), product);
  const std::string what = demand_name(o.region) + (o.product.empty() ? "" : " for " + o.product);
  progress(format("searching paths of %s (%s), tau %g%s, depth %s", target.c_str(),
                  what.c_str(), o.tau, o.absolute ? " (absolute)" : " x total",
                  o.max_depth < 0 ? "unlimited" : ("<= " + std::to_string(o.max_depth)).c_str()));
  std::unique_ptr<io::CsvPathWriter> csv;
  std::unique_ptr<io::Hdf5PathWriter> h5;
  PathSink* sink = nullptr;
  if (ext == ".csv") sink = (csv = std::make_unique<io::CsvPathWriter>(o.output, l, sys.A(), s)).get();
  if (ext == ".h5" || ext == ".hdf5")
    sink = (h5 = std::make_unique<io::Hdf5PathWriter>(
                o.output, l, io::SpaRunInfo{target, unit, what, so}))
               .get();
  SpaResult r = spa(sys.A(), in.solver, s, y, so, sink);
  if (csv) csv->finish();
  if (h5) h5->finish(r);

  // The one formatter (core/src/spa_report.cpp), also SPAResult.report() in Python.
  std::cout << spa_report(l, r, target, unit, what, r.paths.size());
  std::cerr << format("mriotrace: %s nodes expanded in %.3f s (%.3g nodes/s), setup %.3f s, total %.2f s%s\n",
                      thousands(r.nodes_expanded).c_str(), r.search_seconds,
                      r.search_seconds > 0 ? static_cast<double>(r.nodes_expanded) / r.search_seconds : 0.0,
                      r.setup_seconds, clock.seconds(), o.output.empty() ? "" : (" -> " + o.output).c_str());
}

// --- layers ---------------------------------------------------------------------------

void run_layers(const LayersCli& o) {
  require(o.tiers >= 0 && o.tiers <= kSpaMaxDepth,
          "--tiers " + std::to_string(o.tiers) + ": expected 0.." + std::to_string(kSpaMaxDepth));
  require(o.output.empty() || extension_of(o.output) == ".csv", "-o " + o.output + ": expected a .csv file name");
  refuse_overwriting_inputs(o.output, {o.file});
  Loaded in = load(o);
  const MrioSystem& sys = in.system;
  const Labels& l = sys.labels();
  const auto rows = stressor_rows(sys, o.stressors);
  const Vector y = target_demand(sys, region_or_all(sys, o.region));
  const ProductionLayers pl = production_layers(sys.A(), in.solver, rows_of(sys.S(), rows), y, o.tiers, sys.R());
  const Index cols = o.tiers + 2;
  auto tier_name = [&](Index t) { return t == o.tiers + 1 ? std::string("remainder") : std::to_string(t); };
  for (size_t i = 0; i < rows.size(); ++i) {
    const Index s = static_cast<Index>(i);
    std::cout << format("%s of %s by production tier (%s)\n", l.stressors[static_cast<size_t>(rows[i])].c_str(),
                        demand_name(o.region).c_str(), unit_of(l, rows[i]).c_str())
              << format("%10s %14s %8s\n", "tier", "emitted", "share");
    for (Index t = 0; t < cols; ++t)
      std::cout << format("%10s %14.6g %7.2f%%\n", tier_name(t).c_str(), pl.totals(s, t),
                          100 * pl.totals(s, t) / pl.total[s]);
    std::cout << format("%10s %14.6g %7.2f%%\n\n", "total", pl.total[s], 100.0);
  }
  if (!o.output.empty()) {
    std::string csv = "stressor,unit,tier,region,emitted\n";
    for (size_t i = 0; i < rows.size(); ++i)
      for (Index t = 0; t < cols; ++t)
        for (Index r = 0; r < sys.R(); ++r)
          csv += io::csv_quote(l.stressors[static_cast<size_t>(rows[i])]) + ',' + io::csv_quote(unit_of(l, rows[i])) +
                 ',' + tier_name(t) + ',' + io::csv_quote(l.regions[static_cast<size_t>(r)]) + ',' +
                 format("%.17g", pl.emissions(static_cast<Index>(i) * cols + t, r)) + '\n';
    io::write_file_atomically(o.output, csv);
    progress("wrote " + o.output);
  }
}

// --- extract --------------------------------------------------------------------------

void run_extract(const ExtractCli& o) {
  require(!o.sectors.empty(), "extract needs at least one --sector REGION/SECTOR");
  const ExtractionMode mode = extraction_mode_from_string(o.mode);
  const ExtractionMethod method = extraction_method_from_string(o.method);
  Loaded in = load(o);
  const MrioSystem& sys = in.system;
  const Labels& l = sys.labels();
  std::vector<Index> set;
  for (const auto& text : o.sectors) set.push_back(parse_product(sys, text));
  const auto rows = stressor_rows(sys, o.stressors);
  const Vector y = target_demand(sys, region_or_all(sys, o.region));
  const Matrix S = rows_of(sys.S(), rows);
  const ExtractionResult r = hypothetical_extraction(sys.A(), in.solver, S, y, {set}, mode, method).front();
  std::cout << format("%s extraction of %zu sector%s (%s; %s)\n", to_string(mode).c_str(), r.sectors.size(),
                      r.sectors.size() == 1 ? "" : "s", demand_name(o.region).c_str(),
                      r.woodbury ? "low-rank update of the base solve" : "refactored");
  for (Index j : r.sectors) std::cout << "  " << node_name(l, j) << '\n';
  std::cout << format("%-24s %14s %14s %14s %8s\n", "stressor", "base", "extracted", "loss", "share");
  const Vector base = S * r.x;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Index s = static_cast<Index>(i);
    std::cout << format("%-24s %14.6g %14.6g %14.6g %7.2f%%\n",
                        clip(l.stressors[static_cast<size_t>(rows[i])] + " [" + unit_of(l, rows[i]) + "]", 24).c_str(),
                        base[s], base[s] - r.delta_total[s], r.delta_total[s],
                        base[s] != 0 ? 100 * r.delta_total[s] / base[s] : 0.0);
  }
}

// --- linkages -------------------------------------------------------------------------

void run_linkages(const LinkagesCli& o) {
  require(o.top >= 0, "--top " + std::to_string(o.top) + ": expected a count >= 0");
  require(o.output.empty() || extension_of(o.output) == ".csv", "-o " + o.output + ": expected a .csv file name");
  refuse_overwriting_inputs(o.output, {o.file});
  Loaded in = load(o);
  const MrioSystem& sys = in.system;
  const Labels& l = sys.labels();
  const auto rows = stressor_rows(sys, o.stressors);
  const Matrix S = rows_of(sys.S(), rows);
  const Linkages lk = linkages(in.solver, S, sys.x());
  const Matrix M_down = ghosh_M_down(in.solver, S, sys.x());  // Ghosh supply side: k solves
  auto show = [&](const char* title, const Vector& v) {
    std::vector<Index> order(static_cast<size_t>(v.size()));
    std::iota(order.begin(), order.end(), Index{0});
    const size_t top = std::min(order.size(), static_cast<size_t>(o.top));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                      [&](Index a, Index b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
    std::cout << title << '\n';
    for (size_t i = 0; i < top; ++i)
      std::cout << format("  %10.4g  %s\n", v[order[i]], clip(node_name(l, order[i]), 80).c_str());
    std::cout << '\n';
  };
  show("Backward linkages (Rasmussen, 1'L / mean), strongest:", lk.backward);
  show("Forward linkages (Ghosh, G1 / mean), strongest:", lk.forward);
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string name = l.stressors[static_cast<size_t>(rows[i])], unit = unit_of(l, rows[i]);
    show(("Environmental backward linkages of " + name + " (M / mean M):").c_str(),
         lk.environmental.row(static_cast<Index>(i)).transpose());
    show(("Downstream multipliers of " + name + " (Ghosh M_down = S G^T, " + unit + " per unit of primary input):")
             .c_str(),
         M_down.row(static_cast<Index>(i)).transpose());
  }
  if (!o.output.empty()) {
    std::string csv = "region,sector,backward,forward,backward_total,forward_total";
    for (Index s : rows) csv += ',' + io::csv_quote("env_" + l.stressors[static_cast<size_t>(s)]);
    for (Index s : rows) csv += ',' + io::csv_quote("M_down_" + l.stressors[static_cast<size_t>(s)]);
    csv += '\n';
    auto num = [](double v) { return format(",%.17g", v); };
    for (Index j = 0; j < sys.n(); ++j) {
      csv += io::csv_quote(l.regions[static_cast<size_t>(j / l.N())]) + ',' +
             io::csv_quote(l.sectors[static_cast<size_t>(j % l.N())]) + num(lk.backward[j]) + num(lk.forward[j]) +
             num(lk.backward_total[j]) + num(lk.forward_total[j]);
      for (size_t i = 0; i < rows.size(); ++i) csv += num(lk.environmental(static_cast<Index>(i), j));
      for (size_t i = 0; i < rows.size(); ++i) csv += num(M_down(static_cast<Index>(i), j));
      csv += '\n';
    }
    io::write_file_atomically(o.output, csv);
    progress("wrote " + o.output);
  }
}

}  // namespace

TracingCommands add_tracing_commands(CLI::App& app) {
  auto spa_o = std::make_shared<SpaCli>();
  auto* spa_cmd = app.add_subcommand(
      "spa", "Structural path analysis: every supply-chain path above a threshold (exact)");
  add_common(spa_cmd, *spa_o);
  spa_cmd->add_option("--stressor", spa_o->stressors, "Stressor or indicator to trace (e.g. CO2)")
      ->required()
      ->expected(1);
  spa_cmd->add_option("--product", spa_o->product, "Trace only this product's final demand: REGION/SECTOR");
  spa_cmd->add_option("--tau", spa_o->tau, "Threshold: fraction of the total (or absolute with --absolute)")
      ->capture_default_str();
  spa_cmd->add_flag("--absolute", spa_o->absolute, "--tau is in the stressor's unit, not a fraction of the total");
  spa_cmd->add_option("--max-depth", spa_o->max_depth, "Longest path in supply steps (0..100; -1 = unlimited)")
      ->capture_default_str();
  spa_cmd->add_option("--max-paths", spa_o->max_paths, "Stop (flagged as truncated) after this many paths; 0 = no limit")
      ->capture_default_str();
  spa_cmd->add_option("--time-budget", spa_o->time_budget, "Stop (flagged) after this many seconds; 0 = no limit");
  spa_cmd->add_option("--top", spa_o->top, "Paths to print, best first")->capture_default_str();
  spa_cmd->add_option("-o,--output", spa_o->output, "Stream every path to a .csv or .h5 file");

  auto lay_o = std::make_shared<LayersCli>();
  auto* lay_cmd = app.add_subcommand("layers", "Production layers: a footprint split into supply tiers s A^t y");
  add_common(lay_cmd, *lay_o);
  lay_cmd->add_option("--stressor", lay_o->stressors, "Stressor(s) (repeatable, or comma-separated); default: all");
  lay_cmd->add_option("--tiers", lay_o->tiers, "Tiers 0..T before the remainder")->capture_default_str();
  lay_cmd->add_option("-o,--output", lay_o->output, "CSV: stressor, unit, tier, region of emission, emitted");

  auto ext_o = std::make_shared<ExtractCli>();
  auto* ext_cmd =
      app.add_subcommand("extract", "Hypothetical extraction: emissions lost when sectors are removed");
  add_common(ext_cmd, *ext_o);
  ext_cmd->add_option("--sector", ext_o->sectors, "Sector to extract, REGION/SECTOR (repeatable)")->required();
  ext_cmd->add_option("--stressor", ext_o->stressors, "Stressor(s) (repeatable, or comma-separated); default: all");
  ext_cmd->add_option("--mode", ext_o->mode, "full, backward (no purchases) or forward (no sales as input)")
      ->check(CLI::IsMember({"full", "backward", "forward"}))
      ->capture_default_str();
  ext_cmd->add_option("--method", ext_o->method, "auto, woodbury (low-rank update) or refactor")
      ->check(CLI::IsMember({"auto", "woodbury", "refactor"}))
      ->capture_default_str();

  auto lnk_o = std::make_shared<LinkagesCli>();
  auto* lnk_cmd = app.add_subcommand(
      "linkages", "Backward, forward, environmental linkages and Ghosh downstream multipliers");
  add_common(lnk_cmd, *lnk_o, false);
  lnk_cmd->add_option("--stressor", lnk_o->stressors, "Stressor(s) (repeatable, or comma-separated); default: all");
  lnk_cmd->add_option("--top", lnk_o->top, "Sectors to print per ranking")->capture_default_str();
  lnk_cmd->add_option("-o,--output", lnk_o->output, "CSV with every sector's linkages");

  return {[=] {
    if (spa_cmd->parsed()) run_spa(*spa_o);
    if (lay_cmd->parsed()) run_layers(*lay_o);
    if (ext_cmd->parsed()) run_extract(*ext_o);
    if (lnk_cmd->parsed()) run_linkages(*lnk_o);
  }};
}

}  // namespace mriotrace::cli
