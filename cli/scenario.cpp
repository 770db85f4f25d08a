// `mriotrace scenario run FILE`: parse a scenario file (io::read_scenarios),
// factor the base once, run every scenario (low-rank updates where they pay),
// print a report per scenario and write the results.
//
// Output files:
//   -o OUT.csv  one tidy table: scenario,metric,stressor,unit,region,partner,value
//   -o OUT.h5   base and scenario accounts (x, D_*_reg, Q) as result sets "base" and
//               "scenario <name>" (io::save_results), plus the tidy table as OUT_report.csv
#include "scenario.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>

#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/io/scenario_toml.hpp"
#include "mriotrace/scenario.hpp"
#include "mriotrace/scenario_report.hpp"
#include "util.hpp"

namespace mriotrace::cli {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

/// Accounts of one result set (regional only) for io::save_results.
Accounts as_accounts(const Vector& x, const Matrix& pba, const Matrix& cba, const Matrix& Q, Index R) {
  Accounts a;
  a.regional = true;
  a.x = x;
  a.D_pba_reg = pba;
  a.D_cba_reg = cba;
  a.Q = Q;
  const Index k = pba.rows();
  a.D_imp_reg = Matrix::Zero(k, R);
  a.D_exp_reg = Matrix::Zero(k, R);
  for (Index p = 0; p < R; ++p)
    for (Index r = 0; r < R; ++r)
      if (p != r) {
        a.D_imp_reg.col(r) += Q.col(p * R + r);
        a.D_exp_reg.col(p) += Q.col(p * R + r);
      }
  for (Index s = 0; s < k; ++s) a.stressors.push_back(s);
  return a;
}

void write_report_csv(const std::string& path, const MrioSystem& sys, const BaseResults& base,
                      const std::vector<ScenarioResult>& results) {
  std::ofstream out(path);
  if (!out) throw FileError("cannot write " + path);
  const Labels& l = sys.labels();
  const Index R = sys.R(), k = sys.k(), N = sys.N();
  out.precision(17);
  out << "scenario,metric,stressor,unit,region,partner,value\n";
  auto row = [&](const std::string& sc, const char* metric, Index s, const std::string& unit, const std::string& region,
                 const std::string& partner, double value) {
    out << csv_field(sc) << ',' << metric << ',' << (s >= 0 ? csv_field(l.stressors[static_cast<size_t>(s)]) : "")
        << ',' << csv_field(unit) << ',' << csv_field(region) << ',' << csv_field(partner) << ',' << value << '\n';
  };
  auto region_name = [&](Index r) { return r == R ? std::string("all") : l.regions[static_cast<size_t>(r)]; };
  for (const auto& res : results) {
    for (Index s = 0; s < k; ++s) {
      const std::string& unit = l.stressor_units.empty() ? std::string() : l.stressor_units[static_cast<size_t>(s)];
      for (Index r = 0; r <= R; ++r) {
        const auto pick = [&](const Matrix& m) { return r == R ? m.row(s).sum() : m(s, r); };
        row(res.name, "pba_base", s, unit, region_name(r), "", pick(base.pba));
        row(res.name, "pba", s, unit, region_name(r), "", pick(res.pba));
        row(res.name, "dpba", s, unit, region_name(r), "", pick(res.dpba));
        row(res.name, "cba_base", s, unit, region_name(r), "", pick(base.cba));
        row(res.name, "cba", s, unit, region_name(r), "", pick(res.cba));
        row(res.name, "dcba", s, unit, region_name(r), "", pick(res.dcba));
        if (res.intensity.size() > 0) {
          const std::string iu = unit + " per " + l.monetary_unit + " industrial VA";
          row(res.name, "intensity_base", s, iu, region_name(r), "", base.intensity(s, r));
          row(res.name, "intensity", s, iu, region_name(r), "", res.intensity(s, r));
          row(res.name, "lmdi_structure", s, iu, region_name(r), "", res.lmdi_structure(s, r));
          row(res.name, "lmdi_intensity", s, iu, region_name(r), "", res.lmdi_intensity(s, r));
        }
      }
      for (Index p = 0; p < R; ++p)
        for (Index r = 0; r < R; ++r)
          if (res.dQ(s, p * R + r) != 0) row(res.name, "dQ", s, unit, region_name(p), region_name(r), res.dQ(s, p * R + r));
      if (!std::isnan(res.leakage[s])) row(res.name, "leakage", s, "", "", "", res.leakage[s]);
    }
    const Index N1 = static_cast<Index>(res.sectors.size());  // N, or more when the scenario splits a sector off
    if (res.va.size() > 0)
      for (Index r = 0; r <= R; ++r) {
        double d = 0;
        for (Index t = (r == R ? 0 : r); t < (r == R ? R : r + 1); ++t)
          d += res.va.segment(t * N1, N1).sum() - base.va.segment(t * N, N).sum();
        row(res.name, "dva", -1, l.monetary_unit, region_name(r), "", d);
      }
    // A sector split off (integrate, split = ...): its output, value added and
    // direct stressors where it produces (partner = its label; 0 in the base).
    for (Index i = N; i < N1; ++i)
      for (Index r = 0; r < R; ++r) {
        const Index c = r * N1 + i;
        if (res.x[c] == 0) continue;
        const std::string& label = res.sectors[static_cast<size_t>(i)];
        row(res.name, "new_sector_x", -1, l.monetary_unit, region_name(r), label, res.x[c]);
        if (res.va.size() > 0) row(res.name, "new_sector_va", -1, l.monetary_unit, region_name(r), label, res.va[c]);
        for (Index s = 0; s < k; ++s)
          row(res.name, "new_sector_F", s, l.stressor_units.empty() ? std::string() : l.stressor_units[static_cast<size_t>(s)],
              region_name(r), label, res.dF(s, c));
      }
    for (const auto& t : res.targets) {
      const std::string region = t.target.region.empty() ? "all" : t.target.region;
      row(res.name, "target_required", t.stressor, "relative change", region, t.target.indicator, t.target.change);
      row(res.name, "target_change", t.stressor, "relative change", region, t.target.indicator, t.change);
      row(res.name, "target_baseline", t.stressor, "relative change", region, t.target.indicator, t.baseline);
      row(res.name, "target_contribution", t.stressor, "relative change", region, t.target.indicator, t.contribution);
      row(res.name, "target_total", t.stressor, "relative change", region, t.target.indicator, t.total);
      row(res.name, "target_share", t.stressor, "fraction of the target", region, t.target.indicator, t.share);
      row(res.name, "target_met", t.stressor, "1 = met", region, t.target.indicator, t.met ? 1.0 : 0.0);
      const std::string& unit = l.stressor_units.empty() ? std::string() : l.stressor_units[static_cast<size_t>(t.stressor)];
      row(res.name, "target_gap", t.stressor, unit, region, t.target.indicator, t.gap);
    }
  }
  out.close();
  if (!out) throw FileError("error while writing " + path);
}

}  // namespace

void print_report(const MrioSystem& sys, const BaseResults& base, const Scenario& sc, const ScenarioResult& res,
                  const std::string& extra) {
  // The one formatter (core/src/scenario_report.cpp, also ScenarioResult.report()
  // in Python), the caller's lines after it, every line wrapped at 100 columns.
  std::string text = scenario_report(sys, base, sc, res);  // wrapped at 100 columns
  if (!extra.empty()) {
    while (!text.empty() && text.back() == '\n') text.pop_back();
    text += "\n" + wrap_lines(extra) + "\n\n";
  }
  std::cout << text;
}

const char* const kDemoBaseDescription =
    "the demo system: China 2018, national, NBS 153 sectors, CEADs Scope-1 CO2 (REAL data)";
const char* const kSyntheticBaseDescription =
    "the synthetic China system (31 provinces x 42 sectors, real names, SYNTHETIC numbers)";

MrioSystem load_base(const std::string& name, std::string* description) {
  if (name == "demo") {
    if (description) *description = kDemoBaseDescription;
    return datasets::china_demo();
  }
  if (name == "synthetic") {
    if (description) *description = kSyntheticBaseDescription;
    return datasets::china_synthetic();
  }
  if (description) *description = name;
  return io::load_system(name);
}


CLI::App* add_scenario_command(CLI::App& app, ScenarioRunOptions& o, CLI::App** run,
                               const CLI::Validator& threads_check) {
  auto* cmd = app.add_subcommand("scenario", "Run scenario files: relocation, coupling, green power, targets");
  cmd->require_subcommand(1);
  auto* r = cmd->add_subcommand("run", "Run the scenarios of a TOML file against a base system and report the changes");
  r->add_option("FILE", o.file, "Scenario file (TOML)")->required();
  auto* sys = r->add_option("--system", o.system, "Base system (.h5); default: the file's [base] system");
  auto* demo = r->add_flag("--demo", o.demo, "Base = the demo system (China 2018, national, 153 sectors, REAL data)")
                   ->excludes(sys);
  r->add_flag("--synthetic", o.synthetic,
              "Base = the synthetic China system (31 provinces x 42 sectors, SYNTHETIC numbers)")
      ->excludes(sys)
      ->excludes(demo);
  r->add_option("--scenario", o.only, "Run only the named scenario(s) (repeatable)");
  r->add_option("--method", o.method, "auto: low-rank update when the edit's rank is small; lowrank; full")
      ->check(CLI::IsMember({"auto", "lowrank", "full"}))
      ->capture_default_str();
  r->add_option("--threads", o.threads, "Threads (0 = OMP_NUM_THREADS or all cores); no effect on results")
      ->check(threads_check);
  r->add_option("-o,--output", o.output,
                "Results: .csv (tidy report) or .h5 (accounts of base and scenarios, plus OUT_report.csv)");
  *run = r;
  return cmd;
}

void run_scenario_command(const ScenarioRunOptions& o) {
  const std::string ext = lower_extension(o.output);
  if (!o.output.empty() && ext != ".csv" && ext != ".h5" && ext != ".hdf5")
    throw UsageError("-o " + o.output + ": expected a file name ending in .csv, .h5 or .hdf5");
  refuse_overwriting_inputs(o.output, {o.file, o.system});
  Stopwatch total;
  ScenarioSet set = io::read_scenarios(o.file);
  std::string base_name = o.demo        ? "demo"
                          : o.synthetic ? "synthetic"
                          : !o.system.empty() ? o.system
                                              : set.base_system;
  if (base_name.empty())
    throw UsageError("no base system: give --system FILE.h5, --demo or --synthetic, or set [base] system in " +
                     o.file);
  if (!o.only.empty()) {
    std::vector<Scenario> keep;
    for (const auto& name : o.only) {
      auto it = std::find_if(set.scenarios.begin(), set.scenarios.end(), [&](const Scenario& s) { return s.name == name; });
      if (it == set.scenarios.end()) {
        std::string known;
        for (const auto& s : set.scenarios) known += (known.empty() ? "\"" : ", \"") + s.name + "\"";
        throw InputError("--scenario \"" + name + "\" is not in " + o.file + "; it has " + known);
      }
      keep.push_back(*it);
    }
    set.scenarios = std::move(keep);
  }
  std::string base_what;
  const MrioSystem sys = load_base(base_name, &base_what);
  progress("base: " + base_what);
  check_declared_units(sys, set.monetary_unit, set.stressor_units, o.file + " [base]");
  // Every report on the synthetic system says so, on stdout beside the numbers.
  if (base_name == "synthetic")
    std::cout << "*** SYNTHETIC DATA: 31 provinces x 42 sectors, real names, generated numbers; do not cite ***\n\n";
  ScenarioOptions so;
  so.method = o.method;
  so.threads = o.threads;
  so.industry = set.industry;
  progress(format("factorising I - A of the base (n = %s) and solving the base", thousands(sys.n()).c_str()));
  const LeontiefSolver solver(sys.A(), SolverOptions{SolverKind::Auto, o.threads});
  const BaseResults base = compute_base(sys, solver, so);
  progress(format("running %zu scenario%s", set.scenarios.size(), set.scenarios.size() == 1 ? "" : "s"));
  const std::vector<ScenarioResult> results = run_scenarios(sys, solver, base, set.scenarios, so);
  // One formatter for the CLI and Python's ScenarioResult.report() (core/src/scenario_report.cpp).
  std::cout << industry_report(sys, so);
  for (size_t i = 0; i < results.size(); ++i) print_report(sys, base, set.scenarios[i], results[i]);
  if (!o.output.empty()) {
    std::string csv = o.output;
    if (ext != ".csv") {
      // One sector list for every result set: the base's, then each sector a
      // scenario splits off; x of a set without one of them holds 0 there.
      Labels labels = sys.labels();
      for (const auto& r : results)
        for (const auto& name : r.sectors)
          if (std::find(labels.sectors.begin(), labels.sectors.end(), name) == labels.sectors.end())
            labels.sectors.push_back(name);
      const Index R = sys.R(), NU = labels.N();
      auto widen = [&](const Vector& x, const std::vector<std::string>& sectors) {
        if (static_cast<Index>(sectors.size()) == NU) return x;
        const Index N1 = static_cast<Index>(sectors.size());
        Vector out = Vector::Zero(R * NU);
        for (Index i = 0; i < N1; ++i) {
          const Index at = std::find(labels.sectors.begin(), labels.sectors.end(), sectors[static_cast<size_t>(i)]) -
                           labels.sectors.begin();
          for (Index r = 0; r < R; ++r) out[r * NU + at] = x[r * N1 + i];
        }
        return out;
      };
      std::vector<io::NamedAccounts> sets{
          {"base", as_accounts(widen(base.x, sys.labels().sectors), base.pba, base.cba, base.Q, R)}};
      for (const auto& r : results)
        sets.push_back({"scenario " + r.name, as_accounts(widen(r.x, r.sectors), r.pba, r.cba, base.Q + r.dQ, R)});
      progress("writing " + o.output);
      io::save_results(o.output, labels, sets);
      const std::filesystem::path p(o.output);
      csv = (p.parent_path() / (p.stem().string() + "_report.csv")).string();
    }
    progress("writing " + csv);
    write_report_csv(csv, sys, base, results);
  }
  progress(format("done in %.2f s", total.seconds()));
}

}  // namespace mriotrace::cli
