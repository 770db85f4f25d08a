// Scenario engine: validated edits of A, Y, S (value added follows), solved
// against a base system and reported as changes (docs/scenarios.md,
// ../shared/docs/METHODS.md "Scenarios", "Intensity indicators and targets").
//
//   base:      x0 = (I - A)^-1 y,  X0 (n x R) = (I - A)^-1 Yr
//   scenario:  A' = A + dA, Y' = Y + dY, S' = S + dS
//              X' = (I - A')^-1 Y'r
//
// Fast path (chosen automatically): dA is written as U V^T of rank p (a cover
// of its nonzeros by p rows and columns), and by Sherman-Morrison-Woodbury
//   X' = Z + W (I_p - V^T W)^-1 V^T Z,   Z = X0 + L dYr,  W = L U,
// where every product with L is a solve with the base factorisation (p
// solves; L itself is never formed). When p is large the engine refactors
// I - A' instead. ScenarioResult::path says which was used.
//
// Operations are data: a kind and named parameters (the same names as in the
// TOML files and the Python builder), so one validator serves C++, Python and
// the CLI. Every operation of a scenario is checked before any is applied,
// and the result is built on copies: nothing is ever half-applied. Errors are
// InputError naming the scenario, the operation (1-based position and kind)
// and the parameter.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"
#include "mriotrace/types.hpp"

namespace mriotrace {

/// A parameter value: flag, number, label, list of labels, or a table
/// label -> number (e.g. emission factors per stressor, a column per sector).
using ParamValue = std::variant<bool, double, std::string, std::vector<std::string>, std::map<std::string, double>>;

/// One edit. kind is one of
///   "relocate", "couple_byproduct", "integrate", "green_power", "electrify", "scale", "set".
/// The parameters of each kind, their units and checks are listed by
/// operation_parameters(kind) and in docs/scenarios.md.
struct Operation {
  std::string kind;
  std::map<std::string, ParamValue> params;
};

/// An intensity target as planners state it: indicator "<stressor>/VA"
/// (stressor per unit of value added on `basis`), region name or "" for all
/// regions together, change = required relative change of the intensity from
/// base_year to target_year (e.g. -0.20: at least 20 % lower).
///
/// Baseline path (optional): what happens to the intensity by target_year
/// without the scenario. Either `baseline_change` (given directly), or annual
/// rates: `va_growth` (value-added growth) and `intensity_trend` (change of
/// each sector's stressor per VA), keyed by sector name, region name or "*"
/// (every other; absent = 0), compounded over target_year - base_year years:
///   I_T = sum_c E_c h_c g_c / sum_c VA_c g_c,  g_c = (1 + growth_c)^T, h_c = (1 + trend_c)^T.
/// No baseline: the static comparison (baseline change 0, T = 0).
/// Met when baseline + scenario contribution <= change (docs/scenarios.md).
struct Target {
  std::string indicator;
  std::string region;
  double change = 0;
  /// "industrial value added" (or ""; the industrial sectors), "GDP" (all
  /// sectors) or a sector name (that sector alone).
  std::string basis;
  int base_year = 0, target_year = 0;             ///< both 0 (not given) or base_year < target_year
  double baseline_change = NAN;                   ///< the baseline's relative intensity change, when given directly
  std::map<std::string, double> va_growth;        ///< annual VA growth (0.05 = 5 %/yr) by sector / region / "*"
  std::map<std::string, double> intensity_trend;  ///< annual change of stressor per VA (-0.02 = -2 %/yr), same keys
  bool has_baseline() const { return !std::isnan(baseline_change) || !va_growth.empty() || !intensity_trend.empty(); }
};

struct Scenario {
  std::string name;
  std::string description;
  std::vector<Operation> operations;  ///< applied in order
  std::vector<Target> targets;        ///< checked on the result
  /// A portfolio of measures: also run every operation alone and report each
  /// one's contribution and the interaction (ScenarioResult::measures).
  bool portfolio = false;
};

/// Description of one parameter of an operation kind (for validation,
/// reports and documentation).
struct ParamSpec {
  std::string name;
  std::string type;      ///< "share", "number", "positive", "label", "labels", "table", "flag", "choice"
  std::string unit;      ///< "" when dimensionless
  bool required = false;
  std::string help;
};
/// The parameters of an operation kind. Throws InputError on an unknown kind.
const std::vector<ParamSpec>& operation_parameters(const std::string& kind);
/// All operation kinds, in documentation order.
const std::vector<std::string>& operation_kinds();

struct ScenarioOptions {
  std::string method = "auto";  ///< "auto", "lowrank" (always SMW), "full" (always refactor); a scenario that
                                ///< splits a sector off always refactors ("lowrank" is an error for it)
  Index max_rank = 0;           ///< auto: SMW when rank p <= max_rank; 0 = min(256, n/2)
  /// Industrial sectors for the intensity indicators (sector names). Empty =
  /// default_industry_sectors(labels).
  std::vector<std::string> industry;
  int threads = 0;              ///< 0 = environment; results do not depend on it
};

/// The default industrial set: sectors whose names start with an NBS code
/// 02..26 (mining, manufacturing, utilities: "02 Mining and washing of coal"
/// .. "26 Production and supply of water"); when no sector name carries such a
/// code, all sectors.
std::vector<std::string> default_industry_sectors(const Labels& labels);

/// Base quantities every scenario is compared with; compute once per base.
/// k = all stressors of the system, R regions.
struct BaseResults {
  Matrix X;            ///< n x R, (I - A)^-1 Yr: output induced by each region's final demand
  Vector x;            ///< n, row sums of X
  Vector va;           ///< n, value added (v, or empty when the system has none)
  Matrix pba, cba;     ///< k x R, D_pba_reg, D_cba_reg (incl. F_Y)
  Matrix Q;            ///< k x R*R, column p*R + r: emitted in p for final demand of r
  std::vector<Index> industry;  ///< sector indices (0..N-1) of the industrial set
  Matrix intensity;    ///< k x (R+1): stressor per industrial VA per region; last column all regions
};

/// Base results of a system with its factorisation (R solves).
BaseResults compute_base(const MrioSystem& base, const LeontiefSolver& solver, const ScenarioOptions& options = {});

/// Outcome of one target check. Changes are relative to I_base, so
/// baseline + contribution = total.
struct TargetCheck {
  Target target;
  Index stressor = -1;       ///< row of the indicator's stressor
  std::string basis;         ///< "industrial value added", "GDP" or the sector's name
  double base = 0;           ///< I_base (stressor unit per monetary unit of VA on the basis), base year
  double scenario = 0;       ///< I_scen, the scenario on the base-year economy
  double change = 0;         ///< I_scen / I_base - 1 (static)
  double lmdi_structure = 0; ///< LMDI-I split of I_scen - I_base (indicator units): VA mix
  double lmdi_intensity = 0; ///< sector intensities; structure + intensity = I_scen - I_base
  double baseline = 0;       ///< baseline change by the target year (0 without a baseline path)
  double contribution = 0;   ///< the scenario's contribution by the target year
  double total = 0;          ///< baseline + contribution
  double share = NAN;        ///< contribution / target.change: share of the required change the scenario delivers
  double total_share = NAN;  ///< total / target.change (NaN when target.change = 0)
  bool met = false;          ///< total <= target.change
  /// Stressor above what the target allows in the target year (stressor unit;
  /// > 0: short of target): E_T - (1 + change) I_base VA_T, E_T and VA_T the
  /// scenario's along the baseline path (without one: E_scen, VA_scen).
  double gap = 0;
};

/// One measure of a portfolio (an operation run alone), or the interaction.
struct MeasureEffect {
  std::string label;                        ///< "2 relocate" (position and kind) or "interaction"
  Vector dpba;                              ///< k, global dPBA
  std::vector<double> target_contribution;  ///< per target: contribution to the total change (TargetCheck)
};

/// A green-power park's own consumption-based footprint: the stressors
/// embodied in its output, sum_j (S L)_j x_j over the park's cells, before
/// and after (the scenario's S', L', x'), with its output.
struct ParkFootprint {
  std::string label;         ///< "Jilin: 14 ..., 12 ..."
  std::vector<Index> cells;  ///< positions in the scenario's layout
  Vector base, scenario;     ///< k: embodied stressor (stressor units)
  double base_output = 0, scenario_output = 0;  ///< monetary unit
};

/// Everything reported for one scenario. Deltas are scenario minus base.
struct ScenarioResult {
  std::string name;
  std::string path;          ///< "lowrank" (SMW update of the base solve) or "full" (refactorised; always
                             ///< when the scenario splits a sector off)
  /// The scenario's N' sector labels: the base's, then any sector split off by
  /// `integrate` (split = "..."). x, va and dF are R·N' long, region-major;
  /// their base parts count the new sector as present with zero.
  std::vector<std::string> sectors;
  Index rank = 0;            ///< p, rank of the cover of dA (0 when A is unchanged)
  Index changed_coefficients = 0;  ///< nonzeros of dA
  Vector x;                  ///< n', scenario gross output
  Vector va;                 ///< n', scenario value added v' = x' (v/x - column sums of dA); empty without v
  Matrix pba, cba;           ///< k x R scenario D_pba_reg, D_cba_reg
  Matrix dpba, dcba;         ///< k x R changes
  Matrix dQ;                 ///< k x R*R change of Q (column p*R + r)
  Matrix dF;                 ///< k x n' change of direct emissions S' o x' - S o x0 per (region, sector)
  Vector leakage;            ///< k, dPBA outside the relocations' origins / (-dPBA of the origins); NaN when undefined
  Matrix intensity;          ///< k x (R+1) scenario intensity per industrial VA (last column: all regions)
  Matrix lmdi_structure;     ///< k x (R+1) LMDI-I structure effect (industrial VA mix) on the intensity change
  Matrix lmdi_intensity;     ///< k x (R+1) LMDI-I sector-intensity effect; structure + intensity = change
  std::vector<TargetCheck> targets;
  /// Portfolios only: one entry per operation run alone, then "interaction"
  /// (all together minus the sum of the measures alone); empty otherwise.
  std::vector<MeasureEffect> measures;
  std::vector<ParkFootprint> parks;  ///< one per green_power operation (a refactorisation of I - A' each scenario)
  std::vector<std::string> notes;  ///< one line per operation with the parameters used (with units), warnings
  double seconds = 0;
};

/// Labels of the sectors a scenario adds (`integrate` with `split`), in order;
/// empty when it keeps the base's shape. Reads the parameters only (no checks).
std::vector<std::string> split_sectors(const Scenario& scenario);

/// The edited system of a scenario (validated, all-or-nothing); with a split,
/// it has the extra sector in every region (zero outside its own). Throws
/// InputError naming scenario, operation and parameter on bad input.
MrioSystem apply_scenario(const MrioSystem& base, const Scenario& scenario, int threads = 0);

/// Run one scenario against a base (solver = base factorisation, base_results =
/// compute_base(base, solver)).
ScenarioResult run_scenario(const MrioSystem& base, const LeontiefSolver& solver, const BaseResults& base_results,
                            const Scenario& scenario, const ScenarioOptions& options = {});

/// Run many scenarios against one base. Equal to calling run_scenario on each;
/// faster, because the base solves the low-rank updates need are gathered and
/// done in blocks, and scenarios run in parallel. Every scenario is validated
/// before any is solved (one bad scenario fails the call, naming it).
std::vector<ScenarioResult> run_scenarios(const MrioSystem& base, const LeontiefSolver& solver,
                                          const BaseResults& base_results, const std::vector<Scenario>& scenarios,
                                          const ScenarioOptions& options = {});

/// A scenario file: a base reference, shared settings and many scenarios.
struct ScenarioSet {
  std::string base_system;            ///< "demo" (datasets::china_demo), "synthetic" (datasets::china_synthetic)
                                      ///< or a path to an .h5 system; "" = not given
  std::vector<std::string> industry;  ///< industrial sectors (empty = default)
  std::vector<Target> targets;        ///< file-wide targets (the parser also puts them first in every scenario's targets)
  std::vector<Scenario> scenarios;
  /// Units the file's numbers are stated in ([base] monetary_unit, stressor_units):
  /// prices in monetary_unit per physical unit, emission factors in the
  /// stressor's unit. "" / absent = not declared (not checked).
  std::string monetary_unit;
  std::map<std::string, std::string> stressor_units;
};

/// Throws InputError naming both units (and the factor between them when
/// they are multiples of one unit) when a declared unit differs from the
/// system's; units are equal up to a trailing note such as "(synthetic)".
/// `where` names the declaration (e.g. the file).
void check_declared_units(const MrioSystem& system, const std::string& monetary_unit,
                          const std::map<std::string, std::string>& stressor_units, const std::string& where);

}  // namespace mriotrace
