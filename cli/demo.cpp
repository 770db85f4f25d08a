// `mriotrace demo`: the shipped REAL system (China 2018, national, NBS 153
// sectors, CEADs Scope-1 CO2; datasets::china_demo) and a report that fits a
// 100-column terminal: production- vs consumption-based CO2 by sector,
// households, exports, the top supply-chain paths of iron and steel and of
// non-ferrous metals, and two scenarios from datasets/scenarios/national.
// `mriotrace demo --synthetic`: the multi-regional report on the 31-province
// synthetic system (real names, SYNTHETIC numbers), as before.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <numeric>

#include "commands.hpp"
#include "mriotrace/accounts.hpp"
#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/io/scenario_toml.hpp"
#include "mriotrace/scenario.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/tracing.hpp"
#include "scenario.hpp"
#include "util.hpp"

namespace mriotrace::cli {

// The text of datasets/scenarios/national/{steel_chemical,refining_chemical}.toml,
// compiled in by cli/CMakeLists.txt.
extern const char* const kDemoScenario_steel_chemical;
extern const char* const kDemoScenario_refining_chemical;

namespace {

constexpr const char* kRule =
    "==================================================================================================";
constexpr const char* kLine =
    "--------------------------------------------------------------------------------------------------";

/// Save the system and its accounts to `path` and say where (`what`: "system", "SYNTHETIC system").
void write_results(const std::string& path, const MrioSystem& sys, const Accounts& acc, const char* what) {
  io::save(path, sys, {io::NamedAccounts{"stressors", acc}});
  std::error_code ec;
  const auto where = std::filesystem::absolute(path, ec);
  std::cout << "\nWrote the " << what << " and its accounts (group /results/stressors) to\n  "
            << (ec ? path : where.string()) << '\n'
            << "Inspect it with `mriotrace info " << path << "` or open it with h5py.\n";
}

// ---------------------------------------------------------------------------
// The real national system

void real_banner() {
  std::cout << kRule << '\n'
            << " mriotrace demo: China's CO2 emissions in 2018, what causes them and through which supply chains\n"
            << "\n"
            << " REAL DATA  National Bureau of Statistics of China, input-output table 2018, 153 sectors\n"
            << "            (10^4 CNY); CEADs CO2 inventory of China 2018, Scope 1 (IPCC sectoral approach,\n"
            << "            Mt CO2; Shan et al. 2018, 2020; Guan et al. 2021). Derived by\n"
            << "            datasets/china_national/build.py; sources: datasets/china_national/PROVENANCE.md.\n"
            << " One region (China). Imports are removed from the table (proportionally), so the CO2 that\n"
            << " China's imports cause abroad is not counted: consumption-based here means emitted in China for\n"
            << " China's domestic final use (households, government, investment), exports shown apart.\n"
            << kRule << "\n\n";
}

/// Sector index by exact name; InputError naming the system if absent.
Index sector_named(const MrioSystem& sys, const std::string& name) {
  const auto& s = sys.labels().sectors;
  const auto it = std::find(s.begin(), s.end(), name);
  if (it == s.end()) throw InputError("the demo system has no sector \"" + name + "\"");
  return static_cast<Index>(it - s.begin());
}

/// Per-sector CO2 accounts of a one-region system (Mt CO2).
struct SectorAccounts {
  Vector pba;       ///< n: direct emissions of each sector, S o x
  Vector cba;       ///< n: m_i y_dom_i, emitted in China for the domestic final use of product i
  Vector exp;       ///< n: m_i ex_i, emitted in China for the exports of product i
  Vector exports;   ///< n: exports (10^4 CNY)
  Vector m;         ///< n: total multipliers (Mt CO2 per 10^4 CNY of final product)
  double households = 0;
};

SectorAccounts sector_accounts(const MrioSystem& sys, const LeontiefSolver& solver, Index co2,
                               Index exports_category) {
  SectorAccounts a;
  const Vector s = sys.S().row(co2).transpose();
  a.m = calc_M(solver, s.transpose()).row(0).transpose();
  a.pba = s.cwiseProduct(sys.x());
  const Vector y = sys.Y().rowwise().sum();
  a.exports = exports_category >= 0 ? Vector(sys.Y().col(exports_category)) : Vector::Zero(sys.n());
  a.exp = a.m.cwiseProduct(a.exports);
  a.cba = a.m.cwiseProduct(y - a.exports);
  a.households = sys.has_F_Y() ? sys.F_Y().row(co2).sum() : 0.0;
  return a;
}

void totals_section(const MrioSystem& sys, const SectorAccounts& a) {
  const double industry = a.pba.sum(), total = industry + a.households;
  const double exp = a.exp.sum(), cba = a.cba.sum() + a.households;
  auto line = [](const char* what, double mt, const std::string& note) {
    std::cout << format("  %-62s %10.1f Mt  %s\n", what, mt, note.c_str());
  };
  std::cout << "1. CO2 totals, China 2018 (Mt CO2)\n" << kLine << '\n';
  line("Production-based: emitted in China (CEADs Scope-1 total)", total, "100.0 %");
  line("  by the 153 industries", industry, format("%5.1f %%", 100 * industry / total));
  line("  directly by households (fuel burned in homes and cars)", a.households,
       format("%5.1f %%", 100 * a.households / total));
  line("Embodied in exports (emitted in China for foreign final demand)", exp,
       format("%5.1f %%", 100 * exp / total));
  line("Consumption-based: for domestic final use, incl. households", cba,
       format("%5.1f %%", 100 * cba / total));
  std::cout << format("  check: production-based - exports - consumption-based = %.2g Mt (footprints close)\n",
                      total - exp - cba)
            << format("  economy: gross output %.1f trillion CNY, exports %.1f trillion CNY, value added %.1f "
                      "trillion CNY\n\n",
                      sys.x().sum() / 1e8, a.exports.sum() / 1e8, sys.v().size() ? sys.v().sum() / 1e8 : 0.0);
}

void sector_table(const MrioSystem& sys, const SectorAccounts& a, bool by_consumption, size_t count) {
  const auto& names = sys.labels().sectors;
  std::vector<Index> order(static_cast<size_t>(sys.n()));
  std::iota(order.begin(), order.end(), Index{0});
  const Vector& key = by_consumption ? a.cba : a.pba;
  std::sort(order.begin(), order.end(), [&](Index p, Index q) { return key[p] > key[q]; });
  count = std::min(count, order.size());
  std::cout << format(" %2s  %-46s %10s %10s %10s %8s\n", "#", "Sector (product)", "PBA Mt", "CBA Mt", "Export Mt",
                      "CBA/PBA")
            << ' ' << std::string(93, '-') << '\n';
  for (size_t rank = 0; rank < count; ++rank) {
    const Index i = order[rank];
    const std::string ratio = a.pba[i] > 1e-9 ? format("%8.2f", a.cba[i] / a.pba[i]) : "       -";
    std::cout << format(" %2zu  %-46s %10.1f %10.1f %10.1f %s\n", rank + 1,
                        clip(names[static_cast<size_t>(i)], 46).c_str(), a.pba[i], a.cba[i], a.exp[i], ratio.c_str());
  }
  std::cout << '\n';
}

void sectors_section(const MrioSystem& sys, const SectorAccounts& a) {
  std::cout << "2. Production- vs consumption-based CO2 by sector (Mt CO2)\n"
            << kLine << '\n'
            << "  PBA     production-based: emitted by the sector itself (CEADs Scope 1)\n"
            << "  CBA     consumption-based: emitted anywhere in China's supply chains for the domestic final\n"
            << "          use of the sector's product (multiplier x domestic final use)\n"
            << "  Export  the same for the product's exports;  PBA, summed over sectors, = CBA + Export\n"
            << "  A CEADs sector that spans several NBS sectors is split over them by gross output, so they share\n"
            << "  one direct intensity: iron and steel (3 sectors), non-ferrous metals (2), refining and coking,\n"
            << "  chemicals (7), ... (datasets/concordances/ceads47_nbs153.csv). Their supply chains are separate.\n"
            << "  A negative CBA: the product's domestic final use is negative (inventories drawn down in 2018).\n\n"
            << "  a) the 12 largest emitters (by PBA)\n";
  sector_table(sys, a, false, 12);
  std::cout << "  b) the 12 largest consumption-based footprints (by CBA)\n";
  sector_table(sys, a, true, 12);
}

void households_section(const MrioSystem& sys, const SectorAccounts& a, Index co2) {
  std::cout << "3. Household direct emissions (Mt CO2; CEADs urban and rural residential energy use)\n" << kLine << '\n';
  const auto& cats = sys.labels().fd_categories;
  for (Index f = 0; f < sys.c(); ++f) {
    const double e = sys.has_F_Y() ? sys.F_Y()(co2, f) : 0.0;
    if (e == 0) continue;
    std::cout << format("  %-40s %10.1f Mt  %5.1f %% of household direct emissions\n",
                        cats[static_cast<size_t>(f)].c_str(), e, 100 * e / a.households);
  }
  std::cout << format("  %-40s %10.1f Mt\n\n", "Total", a.households);
}

void exports_section(const MrioSystem& sys, const SectorAccounts& a) {
  const auto& names = sys.labels().sectors;
  const double total = a.pba.sum() + a.households, exp = a.exp.sum();
  std::cout << "4. CO2 embodied in exports\n"
            << kLine << '\n'
            << format("  %.1f Mt CO2, %.1f %% of China's emissions, for %.1f trillion CNY of exports\n"
                      "  (%.2f t CO2 per 10^4 CNY of exports; t/10^4CNY below: the product's total multiplier)\n\n",
                      exp, 100 * exp / total, a.exports.sum() / 1e8, 1e6 * exp / a.exports.sum());
  std::vector<Index> order(static_cast<size_t>(sys.n()));
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(), [&](Index p, Index q) { return a.exp[p] > a.exp[q]; });
  std::cout << format(" %2s  %-46s %12s %10s %9s %10s\n", "#", "Exported product", "Exports bnCNY", "CO2 Mt",
                      "Share", "t/10^4CNY")
            << ' ' << std::string(94, '-') << '\n';
  for (size_t rank = 0; rank < 8; ++rank) {
    const Index i = order[rank];
    std::cout << format(" %2zu  %-46s %12.1f %10.1f %8.1f%% %10.2f\n", rank + 1,
                        clip(names[static_cast<size_t>(i)], 46).c_str(), a.exports[i] / 1e5, a.exp[i],
                        100 * a.exp[i] / exp, 1e6 * a.m[i]);
  }
  std::cout << '\n';
}

/// One path "emitter > buyer > ... > final product", wrapped at 100 columns.
std::string path_text(const MrioSystem& sys, const SpaPath& p, size_t indent) {
  const auto& names = sys.labels().sectors;
  std::string out;
  size_t col = indent;
  for (size_t t = 0; t < p.nodes.size(); ++t) {
    const std::string name = clip(names[static_cast<size_t>(p.nodes[t]) % names.size()], 44);
    if (t > 0) {
      if (col + 3 + name.size() > 100) {  // break after the ">"
        out += " >\n" + std::string(indent + 2, ' ');
        col = indent + 2;
      } else {
        out += " > ";
        col += 3;
      }
    }
    out += name;
    col += name.size();
  }
  return out;
}

void spa_section(const MrioSystem& sys, const LeontiefSolver& solver, Index co2, const std::string& title,
                 const std::vector<std::string>& group, int threads, const char* number) {
  Vector s = Vector::Zero(sys.n());
  std::string members;
  for (const auto& name : group) {
    const Index i = sector_named(sys, name);
    s[i] = sys.S()(co2, i);
    members += (members.empty() ? "" : ", ") + name;
  }
  const Vector y = target_demand(sys, -1);  // all final demand, exports included
  SpaOptions so;
  so.tau = 1e-4;
  so.max_depth = 8;
  so.keep = 10;
  so.threads = threads;
  const SpaResult r = spa(sys.A(), solver, s, y, so);
  const double shown = std::accumulate(r.paths.begin(), r.paths.end(), 0.0,
                                       [](double acc, const SpaPath& p) { return acc + p.value; });
  std::cout << format("%s. Top supply-chain paths of the CO2 emitted by %s\n", number, title.c_str()) << kLine
            << '\n'
            << "  emitter > the sector buying its output > ... > the final product whose final demand (incl.\n"
            << "  exports) causes the emission (structural path analysis). How the group's CO2 is split among\n"
            << "  its sectors follows their gross output (see the note in section 2).\n"
            << wrap_lines("  Emitters: " + members + ".") << '\n'
            << format("  Their direct emissions: %.1f Mt CO2, the total of all paths. The %zu paths below: %.1f %%;\n"
                      "  all %s paths of at least %.2g Mt CO2 up to %d steps: %.1f %%.\n\n",
                      r.total, r.paths.size(), 100 * shown / r.total, thousands(r.paths_found).c_str(), r.threshold,
                      r.max_depth, 100 * r.coverage);
  std::cout << format(" %2s %9s %7s  %s\n", "#", "CO2 Mt", "Share", "Path (emitter first)") << ' '
            << std::string(93, '-') << '\n';
  for (size_t i = 0; i < r.paths.size(); ++i) {
    const SpaPath& p = r.paths[i];
    std::cout << format(" %2zu %9.2f %6.1f%%  ", i + 1, p.value, 100 * p.value / r.total) << path_text(sys, p, 23)
              << '\n';
  }
  std::cout << '\n';
}

void scenario_section(const MrioSystem& sys, const LeontiefSolver& solver, Index co2, int threads) {
  std::cout << "7. Scenarios on the real separate sectors (datasets/scenarios/national/*.toml)\n"
            << kLine << '\n'
            << "  dPBA, dCBA: change of China's production- and consumption-based CO2 (Mt CO2); targets: CO2\n"
            << "  per unit of value added of all sectors (GDP), the 14th five-year plan's -18 %.\n\n";
  ScenarioOptions so;
  so.threads = threads;
  const BaseResults base = compute_base(sys, solver, so);
  const std::pair<const char*, const char*> files[] = {
      {"steel_chemical.toml", kDemoScenario_steel_chemical},
      {"refining_chemical.toml", kDemoScenario_refining_chemical}};
  for (const auto& [file, text] : files) {
    const ScenarioSet set = io::parse_scenarios(text, std::string("datasets/scenarios/national/") + file);
    const std::vector<ScenarioResult> results = run_scenarios(sys, solver, base, set.scenarios, so);
    for (size_t i = 0; i < results.size(); ++i) {
      // Where the direct emissions change: the sectors with the largest |dF|.
      const ScenarioResult& res = results[i];
      std::vector<Index> order(static_cast<size_t>(res.dF.cols()));
      std::iota(order.begin(), order.end(), Index{0});
      std::sort(order.begin(), order.end(),
                [&](Index p, Index q) { return std::abs(res.dF(co2, p)) > std::abs(res.dF(co2, q)); });
      std::string line = "  largest changes of direct CO2 (Mt CO2):";
      for (size_t k = 0; k < 3 && k < order.size() && res.dF(co2, order[k]) != 0; ++k)
        line += format(" %s %+.2f;", res.sectors[static_cast<size_t>(order[k])].c_str(), res.dF(co2, order[k]));
      print_report(sys, base, set.scenarios[i], res, line);
    }
  }
}

void run_real_demo(const DemoOptions& o) {
  Stopwatch total;
  real_banner();
  std::cout.flush();

  progress("[1/5] loading the shipped system (China 2018, national, 153 sectors, REAL data)");
  const MrioSystem sys = datasets::china_demo();
  const Index co2 = sys.stressor_index("CO2");
  const auto& cats = sys.labels().fd_categories;
  const auto ex = std::find(cats.begin(), cats.end(), "Exports");
  if (ex == cats.end()) throw InputError("the demo system has no final-demand category \"Exports\"");

  progress(format("[2/5] factorising I - A (n = %lld, %s nonzeros)", static_cast<long long>(sys.n()),
                  thousands(sys.A().nonZeros()).c_str()));
  const LeontiefSolver solver(sys.A(), SolverOptions{SolverKind::Auto, o.threads});

  progress("[3/5] accounts: production- and consumption-based CO2 by sector, exports");
  const SectorAccounts a = sector_accounts(sys, solver, co2, static_cast<Index>(ex - cats.begin()));
  std::cout << format("System: %s, %lld sectors, %lld final-demand categories, stressor CO2 [%s], money in %s\n\n",
                      sys.labels().regions[0].c_str(), static_cast<long long>(sys.N()),
                      static_cast<long long>(sys.c()), sys.labels().stressor_units[static_cast<size_t>(co2)].c_str(),
                      sys.labels().monetary_unit.c_str());
  totals_section(sys, a);
  sectors_section(sys, a);
  households_section(sys, a, co2);
  exports_section(sys, a);

  progress("[4/5] structural path analysis: iron and steel, non-ferrous metals");
  spa_section(sys, solver, co2, "iron and steel",
              {"Smelting of steel", "Processing of steel", "Smelting and processing of iron and ferroalloy"},
              o.threads, "5");
  spa_section(sys, solver, co2, "non-ferrous metals",
              {"Smelting of non-ferrous metals and manufacture of alloys", "Processing of non-ferrous metals"},
              o.threads, "6");

  progress("[5/5] scenarios: steel-chemical co-production, refining-chemical integration");
  scenario_section(sys, solver, co2, o.threads);
  std::cout << solver_summary(solver.diagnostics(), "") << '\n'
            << format("time:   %.2f s for the whole report\n", total.seconds());

  AccountsOptions ao;
  ao.regional = true;
  ao.sector_level = true;
  const Accounts acc = calc_accounts(sys, solver, ao);
  write_results(o.output, sys, acc, "system");
  std::cout << "More scenarios on this system: datasets/scenarios/national/*.toml (`mriotrace scenario run FILE`).\n";
}

// ---------------------------------------------------------------------------
// The synthetic 31-province system (--synthetic)

void synthetic_banner() {
  std::cout << kRule << '\n'
            << " mriotrace demo --synthetic: whose consumption causes China's CO2 emissions, and where?\n"
            << "\n"
            << " *** SYNTHETIC DATA ***  The 31 provinces and the 42 sectors of China's 2017 input-output\n"
            << " table are real names; every number (outputs, trade, emissions) is GENERATED by\n"
            << " mriotrace's synthetic-data generator around ballpark weights. Do not cite these results.\n"
            << " For real data run `mriotrace demo` (China 2018, national, 153 sectors).\n"
            << kRule << "\n\n";
}

/// Province table sorted by net emissions embodied in trade (largest net importers first).
void province_table(const MrioSystem& sys, const Accounts& a, Index co2) {
  const Index R = sys.R();
  std::vector<Index> order(static_cast<size_t>(R));
  std::iota(order.begin(), order.end(), Index{0});
  auto net = [&](Index r) { return a.D_cba_reg(co2, r) - a.D_pba_reg(co2, r); };
  std::sort(order.begin(), order.end(), [&](Index p, Index q) { return net(p) > net(q); });

  std::cout << "CO2 by province (Mt CO2, SYNTHETIC), sorted by net emissions embodied in trade\n"
            << "  CBA  consumption-based: emitted anywhere in China for the province's final demand,\n"
            << "       plus its households' direct emissions\n"
            << "  PBA  production-based: emitted inside the province (industry and households)\n"
            << "  Net  CBA - PBA = imported - exported embodied CO2: positive = net importer (its\n"
            << "       consumption causes more CO2 elsewhere than it emits for others), negative = net exporter\n\n";
  std::cout << format(" %2s  %-16s %11s %11s %11s %8s %14s %14s\n", "#", "Province", "CBA (Mt)", "PBA (Mt)",
                      "Net (Mt)", "CBA/PBA", "Imported (Mt)", "Exported (Mt)");
  std::cout << ' ' << std::string(95, '-') << '\n';
  for (size_t rank = 0; rank < order.size(); ++rank) {
    const Index r = order[rank];
    const double cba = a.D_cba_reg(co2, r), pba = a.D_pba_reg(co2, r);
    std::cout << format(" %2zu  %-16s %11.1f %11.1f %+11.1f %8.2f %14.1f %14.1f\n", rank + 1,
                        clip(sys.labels().regions[static_cast<size_t>(r)], 16).c_str(), cba, pba, cba - pba,
                        pba > 0 ? cba / pba : 0.0, a.D_imp_reg(co2, r), a.D_exp_reg(co2, r));
  }
  std::cout << ' ' << std::string(95, '-') << '\n';
  const double cba = a.D_cba_reg.row(co2).sum(), pba = a.D_pba_reg.row(co2).sum();
  // Nationally CBA = PBA: the difference is round-off, shown as 0.0 rather than -0.0.
  const double net_total = std::abs(cba - pba) < 0.05 ? 0.0 : cba - pba;
  std::cout << format("     %-16s %11.1f %11.1f %+11.1f %8.2f %14.1f %14.1f\n\n", "China (total)", cba, pba,
                      net_total, pba > 0 ? cba / pba : 0.0, a.D_imp_reg.row(co2).sum(), a.D_exp_reg.row(co2).sum());
}

/// The largest interprovincial flows Q[p, r], p != r: emitted in p for final demand of r.
void top_flows(const MrioSystem& sys, const Accounts& a, Index co2, size_t count) {
  const Index R = sys.R();
  struct Flow {
    Index from, to;
    double value;
  };
  std::vector<Flow> flows;
  for (Index p = 0; p < R; ++p)
    for (Index r = 0; r < R; ++r)
      if (p != r) flows.push_back({p, r, a.Q(co2, p * R + r)});
  count = std::min(count, flows.size());
  std::partial_sort(flows.begin(), flows.begin() + static_cast<std::ptrdiff_t>(count), flows.end(),
                    [](const Flow& x, const Flow& y) { return x.value > y.value; });
  const double total = a.D_pba_reg.row(co2).sum();  // all emissions in China, incl. households
  std::cout << format("The %zu largest interprovincial flows of embodied CO2 (Mt CO2, SYNTHETIC)\n", count)
            << "  emitted in one province for the final demand of another (from the emission-flow matrix Q)\n\n"
            << format(" %2s  %-16s    %-16s %12s %22s\n", "#", "Emitted in", "For demand of", "CO2 (Mt)",
                      "Share of all emissions")
            << ' ' << std::string(76, '-') << '\n';
  const auto& names = sys.labels().regions;
  for (size_t i = 0; i < count; ++i) {
    const Flow& f = flows[i];
    std::cout << format(" %2zu  %-16s -> %-16s %12.1f %21.2f%%\n", i + 1,
                        clip(names[static_cast<size_t>(f.from)], 16).c_str(),
                        clip(names[static_cast<size_t>(f.to)], 16).c_str(), f.value, 100.0 * f.value / total);
  }
  std::cout << '\n';
}

void run_synthetic_demo(const DemoOptions& o) {
  Stopwatch total;
  synthetic_banner();
  std::cout.flush();

  progress("[1/4] building the synthetic system (China, 31 provinces x 42 sectors, SYNTHETIC numbers)");
  const MrioSystem sys = datasets::china_synthetic();
  const Index co2 = sys.stressor_index("CO2");

  progress(format("[2/4] factorising I - A (n = %s, %s nonzeros)", thousands(sys.n()).c_str(),
                  thousands(sys.A().nonZeros()).c_str()));
  const LeontiefSolver solver(sys.A(), SolverOptions{SolverKind::Auto, o.threads});

  progress("[3/4] solving: regional accounts, emission flows Q and sector-level footprints");
  AccountsOptions ao;
  ao.regional = true;
  ao.sector_level = true;  // n = 1,302: the sector-level solves take milliseconds; stored in the file
  const Accounts acc = calc_accounts(sys, solver, ao);
  const double compute_seconds = total.seconds();

  std::cout << format("System: %lld provinces x %lld sectors (n = %s), %lld final-demand categories,\n",
                      static_cast<long long>(sys.R()), static_cast<long long>(sys.N()), thousands(sys.n()).c_str(),
                      static_cast<long long>(sys.c()))
            << format("        stressors CO2 [%s] and Energy [%s],\n", sys.labels().stressor_units[0].c_str(),
                      sys.labels().stressor_units[1].c_str())
            << format("        monetary unit %s\n\n", sys.labels().monetary_unit.c_str());
  province_table(sys, acc, co2);
  top_flows(sys, acc, co2, 10);
  std::cout << solver_summary(solver.diagnostics(), "") << '\n'
            << format("time:   %.2f s to build the system and compute all accounts\n", compute_seconds);
  std::cout.flush();

  progress("[4/4] writing system and results to " + o.output);
  write_results(o.output, sys, acc, "SYNTHETIC system");
}

}  // namespace

void run_demo(const DemoOptions& o) {
  if (o.synthetic)
    run_synthetic_demo(o);
  else
    run_real_demo(o);
}

}  // namespace mriotrace::cli
