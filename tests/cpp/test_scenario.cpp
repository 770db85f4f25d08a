// Scenario engine tests: every operation on a hand-sized system (3 regions x
// 4 sectors) against the edit written out by hand, the relocation identities
// (theta = 0 is the base, theta = 1 empties the origin, identical technology
// keeps global emissions), the low-rank path against a full re-solve on random
// scenarios, target checks with a known answer, LMDI adding up, thread-count
// determinism and every bad-input case (naming scenario, operation, parameter).
#include <gtest/gtest.h>

#include <cmath>

#include "mriotrace/accounts.hpp"
#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/scenario.hpp"
#include "mriotrace/solver.hpp"

using namespace mriotrace;

namespace {

const std::string kCoal = "02 Coal", kRef = "11 Refining and coking", kChem = "12 Chemicals", kPower = "24 Power";

/// A generated 3 x 4 system with readable labels: R0 = "North", R1 = "East", R2 = "West".
MrioSystem hand_system() {
  datasets::GeneratorOptions g;
  g.regions = 3;
  g.sectors = 4;
  g.domestic_density = 1.0;
  g.trade_density = 1.0;
  g.seed = 7;
  const MrioSystem s = datasets::generate(g);
  Labels l = s.labels();
  l.regions = {"North", "East", "West"};
  l.sectors = {kCoal, kRef, kChem, kPower};
  l.stressors = {"CO2", "Energy"};
  l.stressor_units = {"Mt CO2", "Mtce"};
  return MrioSystem::from_A_x(l, s.A(), s.x(), s.Y(), s.S(), s.F_Y(), s.v());
}

Index pos(Index r, Index i) { return r * 4 + i; }

Operation op(std::string kind, std::map<std::string, ParamValue> params) { return {std::move(kind), std::move(params)}; }

Scenario scenario(std::string name, std::vector<Operation> ops, std::vector<Target> targets = {}) {
  return {std::move(name), "", std::move(ops), std::move(targets)};
}

double rel(const Matrix& a, const Matrix& b) {
  EXPECT_EQ(a.rows(), b.rows());
  EXPECT_EQ(a.cols(), b.cols());
  return (a - b).cwiseAbs().maxCoeff() / std::max(b.cwiseAbs().maxCoeff(), 1e-300);
}

struct Fixture {
  MrioSystem sys = hand_system();
  LeontiefSolver solver{sys.A()};
  BaseResults base = compute_base(sys, solver);
  ScenarioResult run(const Scenario& sc, const std::string& method = "auto") {
    ScenarioOptions o;
    o.method = method;
    return run_scenario(sys, solver, base, sc, o);
  }
};

/// Reference: refactor the edited system and compute its accounts with calc_accounts.
Accounts reference(const MrioSystem& base, const Scenario& sc) {
  const MrioSystem edited = apply_scenario(base, sc);
  LeontiefSolver s(edited.A());
  AccountsOptions o;
  o.sector_level = false;
  return calc_accounts(edited, s, o);
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected an InputError mentioning " << parts.front();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    for (const auto& part : parts) EXPECT_NE(msg.find(part), std::string::npos) << "message: " << msg;
  }
}

}  // namespace

TEST(ScenarioOps, RelocateEditsRowsAndFinalDemandByHand) {
  const MrioSystem s = hand_system();
  const double theta = 0.3;
  const MrioSystem e = apply_scenario(
      s, scenario("move", {op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "East"}, {"share", theta}})}));
  const Index ri = pos(0, 2), si = pos(1, 2);
  const Matrix A0 = Matrix(s.A()), A1 = Matrix(e.A());
  for (Index c = 0; c < 12; ++c) {
    EXPECT_NEAR(A1(si, c), A0(si, c) + theta * A0(ri, c), 1e-15);
    EXPECT_NEAR(A1(ri, c), (1 - theta) * A0(ri, c), 1e-15);
  }
  Matrix A0rest = A0, A1rest = A1;
  A0rest.row(ri).setZero(), A0rest.row(si).setZero(), A1rest.row(ri).setZero(), A1rest.row(si).setZero();
  EXPECT_EQ(A0rest, A1rest);
  EXPECT_TRUE(e.Y().row(si).isApprox(s.Y().row(si) + theta * s.Y().row(ri), 1e-15));
  EXPECT_TRUE(e.Y().row(ri).isApprox((1 - theta) * s.Y().row(ri), 1e-15));
  EXPECT_EQ(e.S(), s.S());
}

TEST(ScenarioOps, RelocateThetaZeroIsBaseAndThetaOneEmptiesOrigin) {
  Fixture f;
  const auto r0 = f.run(scenario("zero", {op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "West"},
                                                             {"share", 0.0}})}));
  EXPECT_EQ(r0.dpba.cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(r0.dcba.cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(r0.rank, 0);
  const auto r1 = f.run(scenario("all", {op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "West"},
                                                            {"share", 1.0}})}));
  EXPECT_EQ(r1.path, "lowrank");
  EXPECT_EQ(r1.rank, 1);  // rows (North, chem) and (West, chem) change proportionally: one term
  EXPECT_LE(std::abs(r1.x[pos(0, 2)]), 1e-12 * f.base.x.maxCoeff());
  EXPECT_GT(r1.x[pos(2, 2)], f.base.x[pos(2, 2)]);
}

TEST(ScenarioOps, RelocateBetweenIdenticalTechnologiesKeepsGlobalEmissions) {
  // Make (East, chem) a copy of (North, chem): same column, same intensities.
  const MrioSystem s0 = hand_system();
  Matrix A = Matrix(s0.A());
  Matrix S = s0.S();
  A.col(pos(1, 2)) = A.col(pos(0, 2));
  S.col(pos(1, 2)) = S.col(pos(0, 2));
  const MrioSystem s =
      MrioSystem::from_A_Y(s0.labels(), A.sparseView(), s0.Y(), S, s0.F_Y(), Vector(s0.v()));
  LeontiefSolver solver(s.A());
  const BaseResults base = compute_base(s, solver);
  for (double theta : {0.25, 1.0}) {
    const auto r = run_scenario(
        s, solver, base,
        scenario("twin", {op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "East"}, {"share", theta}})}));
    for (Index k = 0; k < 2; ++k) {
      EXPECT_NEAR(r.dpba.row(k).sum(), 0.0, 1e-11 * base.pba.row(k).sum()) << "theta " << theta;
      EXPECT_NEAR(r.dcba.row(k).sum(), 0.0, 1e-11 * base.cba.row(k).sum());
      // Leakage: everything North loses, East gains: lambda = 1.
      EXPECT_NEAR(r.leakage[k], 1.0, 1e-9);
    }
  }
}

TEST(ScenarioOps, RelocateByQuantityAndNewCapacity) {
  const MrioSystem s = hand_system();
  const Index ri = pos(0, 2), si = pos(1, 2);
  const double q = 0.2 * s.x()[ri] / 50.0, price = 50.0;  // q * price = 20 % of the origin's output
  const Scenario sc = scenario(
      "new", {op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "East"}, {"quantity", q}, {"price", price},
                              {"technology", std::string("new")},
                              {"new_column", std::map<std::string, double>{{kPower, 0.05}}},
                              {"new_intensity", std::map<std::string, double>{{"CO2", 0.0}}}})});
  const MrioSystem e = apply_scenario(s, sc);
  const Matrix A0 = Matrix(s.A()), A1 = Matrix(e.A());
  const double theta = 0.2, w = theta * s.x()[ri] / (s.x()[si] + theta * s.x()[ri]);
  // The destination's column: rows first relocated, then mixed with the new capacity.
  Vector col = A0.col(si);
  col[si] += theta * A0(ri, si);
  col[ri] *= 1 - theta;
  Vector power(12);
  power.setZero();
  double total = 0;
  for (Index t = 0; t < 3; ++t) total += col[pos(t, 3)];
  for (Index t = 0; t < 3; ++t) power[pos(t, 3)] = 0.05 * col[pos(t, 3)] / total;
  const Vector expect = (1 - w) * col + w * power;
  EXPECT_LE((A1.col(si) - expect).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_NEAR(e.S()(0, si), (1 - w) * s.S()(0, si), 1e-15);
  EXPECT_EQ(e.S()(1, si), s.S()(1, si));  // Energy not given: destination's intensity
}

TEST(ScenarioOps, ElectrifyByHand) {
  const MrioSystem s = hand_system();
  const double alpha = 0.4, eta_c = 0.8, eta_e = 0.95, pc = 2.0, pe = 5.0, ef = 2.6;
  const MrioSystem e = apply_scenario(
      s, scenario("el", {op("electrify", {{"region", "West"}, {"sector", kChem}, {"share", alpha}, {"coal", kCoal},
                                          {"electricity", kPower}, {"eta_coal", eta_c}, {"eta_el", eta_e},
                                          {"coal_price", pc}, {"electricity_price", pe},
                                          {"coal_ef", std::map<std::string, double>{{"CO2", ef}}}})}));
  const Index c = pos(2, 2);
  const Matrix A0 = Matrix(s.A()), A1 = Matrix(e.A());
  const double xc = s.x()[c];
  double spend = 0;
  for (Index t = 0; t < 3; ++t) spend += A0(pos(t, 0), c) * xc;
  const double E_coal = spend / pc, E_el = alpha * E_coal * eta_c / eta_e;
  for (Index t = 0; t < 3; ++t) EXPECT_NEAR(A1(pos(t, 0), c), (1 - alpha) * A0(pos(t, 0), c), 1e-15);
  EXPECT_NEAR(A1(pos(2, 3), c), A0(pos(2, 3), c) + E_el * pe / xc, 1e-15);
  EXPECT_NEAR(e.S()(0, c), s.S()(0, c) - alpha * E_coal * ef / xc, 1e-15);
  EXPECT_EQ(e.S()(1, c), s.S()(1, c));
}

TEST(ScenarioOps, CoupleByproductByHand) {
  const MrioSystem s = hand_system();
  const Index sup = pos(1, 1), rec = pos(1, 2);
  const double qg = 0.01 * s.x()[rec], pg = 0.5, pd = 0.8, qrep = 0.004 * s.x()[sup], prep = 1.5;
  const MrioSystem e = apply_scenario(
      s, scenario("couple", {op("couple_byproduct",
                                {{"region", "East"}, {"supplier", kRef}, {"receiver", kChem},
                                 {"displaced_fuel", kCoal}, {"gas_quantity", qg}, {"gas_price", pg},
                                 {"displaced_price", pd}, {"replacement_fuel", kPower},
                                 {"replacement_quantity", qrep}, {"replacement_price", prep},
                                 {"gas_ef", std::map<std::string, double>{{"CO2", 0.03}}},
                                 {"displaced_ef", std::map<std::string, double>{{"CO2", 0.02}}},
                                 {"replacement_ef", std::map<std::string, double>{{"CO2", 0.01}}}})}));
  const Matrix A0 = Matrix(s.A()), A1 = Matrix(e.A());
  EXPECT_NEAR(A1(sup, rec), A0(sup, rec) + qg * pg / s.x()[rec], 1e-15);
  double coal = 0;
  for (Index t = 0; t < 3; ++t) coal += A0(pos(t, 0), rec) * s.x()[rec];
  const double keep = 1 - qg * pd / coal;  // displaced_quantity defaults to gas_quantity
  for (Index t = 0; t < 3; ++t) EXPECT_NEAR(A1(pos(t, 0), rec), keep * A0(pos(t, 0), rec), 1e-15);
  EXPECT_NEAR(A1(pos(1, 3), sup), A0(pos(1, 3), sup) + qrep * prep / s.x()[sup], 1e-15);
  EXPECT_NEAR(e.S()(0, sup), s.S()(0, sup) + (-qg * 0.03 + qrep * 0.01) / s.x()[sup], 1e-15);
  EXPECT_NEAR(e.S()(0, rec), s.S()(0, rec) - qg * 0.02 / s.x()[rec], 1e-15);
}

TEST(ScenarioOps, IntegrateByHand) {
  const MrioSystem s = hand_system();
  const double sigma = 0.5, eps = 0.1;
  const MrioSystem e = apply_scenario(
      s, scenario("integ", {op("integrate", {{"region", "North"}, {"chemical", kChem}, {"refining", kRef},
                                             {"feedstock_shift", sigma}, {"efficiency", eps},
                                             {"utilities", std::vector<std::string>{kCoal, kPower}},
                                             {"stressors", std::vector<std::string>{"CO2"}}})}));
  const Matrix A0 = Matrix(s.A()), A1 = Matrix(e.A());
  const Index cc = pos(0, 2), cr = pos(0, 1);
  const double moved = sigma * (A0(pos(1, 1), cc) + A0(pos(2, 1), cc));
  EXPECT_NEAR(A1(pos(0, 1), cc), A0(pos(0, 1), cc) + moved, 1e-15);
  EXPECT_NEAR(A1(pos(1, 1), cc), (1 - sigma) * A0(pos(1, 1), cc), 1e-15);
  for (Index c : {cc, cr})
    for (Index t = 0; t < 3; ++t)
      for (Index u : {0, 3}) EXPECT_NEAR(A1(pos(t, u), c), (1 - eps) * A0(pos(t, u), c), 1e-15);
  EXPECT_EQ(A1(pos(1, 2), cr), A0(pos(1, 2), cr));
  EXPECT_NEAR(e.S()(0, cc), (1 - eps) * s.S()(0, cc), 1e-15);
  EXPECT_EQ(e.S()(1, cc), s.S()(1, cc));
}

// ------------------------------------------------ integrate with split

namespace {

const std::string kComplex = "Integrated refining-chemical";

/// integrate in North with chem = 12 Chemicals, ref = 11 Refining, utilities coal and power.
Operation integrate_op(double sigma, double eps, std::map<std::string, ParamValue> extra = {}) {
  std::map<std::string, ParamValue> p{{"region", "North"}, {"chemical", kChem}, {"refining", kRef},
                                      {"feedstock_shift", sigma}, {"efficiency", eps},
                                      {"utilities", std::vector<std::string>{kCoal, kPower}}};
  for (auto& [key, value] : extra) p[key] = value;
  return op("integrate", p);
}

/// Value added per region from per-(region, sector) values with N sectors per region.
Vector per_region(const Vector& va, Index R) {
  const Index N = va.size() / R;
  Vector out(R);
  for (Index r = 0; r < R; ++r) out[r] = va.segment(r * N, N).sum();
  return out;
}

/// The split with sigma = eps = emission_reduction = 0 moves production between
/// (r, chem), (r, ref) and the new sector without changing any regional account.
void expect_neutral_split(const MrioSystem& sys, const LeontiefSolver& solver, const BaseResults& base,
                          const std::vector<Operation>& before, Index region, Index chem, Index ref, double share) {
  const Labels& l = sys.labels();
  const Index N = sys.N(), N1 = N + 1, R = sys.R();
  std::vector<Operation> ops = before;
  ops.push_back(op("integrate", {{"region", l.regions[static_cast<size_t>(region)]},
                                 {"chemical", l.sectors[static_cast<size_t>(chem)]},
                                 {"refining", l.sectors[static_cast<size_t>(ref)]}, {"feedstock_shift", 0.0},
                                 {"efficiency", 0.0}, {"utilities", std::vector<std::string>{l.sectors[0]}},
                                 {"split", kComplex}, {"split_share", share}}));
  const std::string what = detail::concat("region ", region, ", chem ", chem, ", ref ", ref, ", s ", share,
                                          ", operations before ", before.size());
  // Reference: the same operations without the split (the base itself when there are none).
  const ScenarioResult ref_res = run_scenario(sys, solver, base, scenario("plain", before));
  const ScenarioResult res = run_scenario(sys, solver, base, scenario("split", ops));
  EXPECT_EQ(res.path, "full") << what;
  ASSERT_EQ(res.sectors.size(), static_cast<size_t>(N1)) << what;
  EXPECT_EQ(res.sectors.back(), kComplex);
  ASSERT_EQ(res.x.size(), R * N1);
  EXPECT_LE(rel(res.pba, ref_res.pba), 1e-10) << what;
  EXPECT_LE(rel(res.cba, ref_res.cba), 1e-10) << what;
  EXPECT_LE(rel(base.Q + res.dQ, base.Q + ref_res.dQ), 1e-10) << what;
  EXPECT_LE(rel(per_region(res.va, R), per_region(ref_res.va, R)), 1e-10) << what;
  EXPECT_LE(rel(res.intensity, ref_res.intensity), 1e-10) << what;
  // Sector level: x'(r, chem) = (1 - s) x(r, chem); x'(r, ref) = x(r, ref) - a x'(r, N_c) with a the
  // chemical column's purchase from the local refinery; every other sector as without the split.
  const MrioSystem plain = before.empty() ? sys : apply_scenario(sys, scenario("plain", before));
  const double a = plain.A().coeff(region * N + ref, region * N + chem);
  const Index cc = region * N1 + chem, cr = region * N1 + ref, cn = region * N1 + N;
  const double scale = ref_res.x.maxCoeff();
  EXPECT_NEAR(res.x[cc], (1 - share) * ref_res.x[region * N + chem], 1e-10 * scale) << what;
  EXPECT_NEAR(res.x[cr], ref_res.x[region * N + ref] - a * res.x[cn], 1e-10 * scale) << what;
  EXPECT_NEAR(res.x[cn], share * ref_res.x[region * N + chem], 1e-10 * scale) << what;
  for (Index t = 0; t < R; ++t) {
    if (t != region) EXPECT_EQ(res.x[t * N1 + N], 0.0) << what;  // the new sector only exists in its region
    for (Index i = 0; i < N; ++i)
      if (t != region || (i != chem && i != ref))
        EXPECT_NEAR(res.x[t * N1 + i], ref_res.x[t * N + i], 1e-10 * scale) << what << " at " << t << ", " << i;
  }
  if (share == 1.0) EXPECT_EQ(res.x[cc], 0.0) << what;
  // Direct emissions move between the three and add up per region.
  for (Index r = 0; r < R; ++r)
    EXPECT_NEAR(res.dF.middleCols(r * N1, N1).rowwise().sum()(0), res.dpba(0, r),
                1e-10 * base.pba.cwiseAbs().maxCoeff()) << what;
}

}  // namespace

TEST(ScenarioSplit, NeutralSplitKeepsEveryRegionalAccountOnTheHandSystem) {
  Fixture f;
  for (double share : {0.3, 1.0}) expect_neutral_split(f.sys, f.solver, f.base, {}, 0, 2, 1, share);
  // Another region and the shape of the edited system itself.
  expect_neutral_split(f.sys, f.solver, f.base, {}, 2, 2, 1, 0.5);
  const MrioSystem e = apply_scenario(f.sys, scenario("s", {integrate_op(0, 0, {{"split", kComplex}})}));
  EXPECT_EQ(e.N(), 5);
  EXPECT_EQ(e.labels().sectors.back(), kComplex);
  EXPECT_EQ(e.x()[1 * 5 + 4], 0.0);  // East has no complex: zero row, column and output
  EXPECT_EQ(Matrix(e.A()).row(1 * 5 + 4).cwiseAbs().sum() + Matrix(e.A()).col(1 * 5 + 4).cwiseAbs().sum(), 0.0);
  EXPECT_EQ(e.S().col(1 * 5 + 4).cwiseAbs().sum(), 0.0);
  EXPECT_EQ(e.Y().row(1 * 5 + 4).cwiseAbs().sum(), 0.0);
}

TEST(ScenarioSplit, NeutralSplitKeepsEveryRegionalAccountOnRandomSystems) {
  for (std::uint64_t seed : {3u, 17u, 29u}) {
    datasets::GeneratorOptions g;
    g.regions = 4;
    g.sectors = 6;
    g.seed = seed;
    g.domestic_density = 0.8;
    g.trade_density = 0.4;
    const MrioSystem s = datasets::generate(g);
    LeontiefSolver solver(s.A());
    const BaseResults base = compute_base(s, solver);
    const Index region = static_cast<Index>(seed % 4), chem = static_cast<Index>(seed % 6),
                ref = static_cast<Index>((seed + 1) % 6);
    const auto& L = s.labels();
    for (double share : {0.3, 1.0}) {
      expect_neutral_split(s, solver, base, {}, region, chem, ref, share);
      // On top of other edits (applied first): neutral against the scenario without the split.
      expect_neutral_split(s, solver, base,
                           {op("relocate", {{"product", L.sectors[static_cast<size_t>(chem)]},
                                            {"from", L.regions[static_cast<size_t>((region + 1) % 4)]},
                                            {"to", L.regions[static_cast<size_t>(region)]}, {"share", 0.4}}),
                            op("scale", {{"matrix", std::string("A")}, {"factor", 0.8},
                                         {"col_regions", std::vector<std::string>{L.regions[static_cast<size_t>(region)]}},
                                         {"col_sectors", std::vector<std::string>{L.sectors[static_cast<size_t>(ref)]}}})},
                           region, chem, ref, share);
    }
  }
}

TEST(ScenarioSplit, ByHandWithEfficiency) {
  // Expected numbers from an independent NumPy computation of the design on the
  // same system (mriotrace.datasets.generate(3, 4, domestic_density=1.0,
  // trade_density=1.0, seed=7); North = 0, 11 Refining = 1, 12 Chemicals = 2):
  //   c = A[:, 2].copy()                                  # the complex starts from (North, chem)
  //   c[[5, 9]] *= 1 - sig; c[1] += sig * (A[5, 2] + A[9, 2])   # feedstock shift sigma = 0.5
  //   a = c[1]; c[1] = 0; c += a * A[:, 1]                # internalise the refining stage
  //   before = c.sum(); c[[0, 3, 4, 7, 8, 11]] *= 1 - eps    # utilities (coal, power), eps = 0.1
  //   s_new = S[:, 2] + a * S[:, 1]; s_new[0] *= 1 - eps      # emission_reduction = eps, CO2 only
  //   vc_new = v[2] / x[2] + a * v[1] / x[1] + before - c.sum()
  //   P = 15 x 12 0/1 matrix, base position (t, i) -> t * 5 + i
  //   A1 = P A P^T; A1[:, 4] = P c; Y1 = P Y; S1 = S P^T; S1[:, 4] = s_new
  //   for M in (A1, Y1): M[4] = s * M[2]; M[2] *= 1 - s    # s = 0.4: sales of (North, chem) split
  //   x1 = solve(I - A1, Y1 1); dPBA = per-region S1 x1 - S x0
  const double sigma = 0.5, eps = 0.1, share = 0.4;
  Fixture f;
  const Scenario sc = scenario("complex", {integrate_op(sigma, eps, {{"stressors", std::vector<std::string>{"CO2"}},
                                                                     {"split", kComplex}, {"split_share", share}})});
  const MrioSystem e = apply_scenario(f.sys, sc);
  const Matrix A1 = Matrix(e.A());
  const Index cn = 4;  // (North, complex)
  const double a = 0.13358272087635376;
  EXPECT_NEAR(A1.col(cn).sum(), 0.579520172469523, 1e-14);
  EXPECT_NEAR(A1(0, cn), 0.09333128827097745, 1e-15);                // coal from North: (1 - eps) (chem + a ref)
  EXPECT_NEAR(A1(1 * 5 + 1, cn), 0.009264201681425582, 1e-15);       // refined products from East, halved
  EXPECT_NEAR(A1(2, cn) + A1(4, cn), 0.2512960626729802, 1e-15);     // chemicals, from North's two sellers
  EXPECT_NEAR(A1(4, cn) / (A1(2, cn) + A1(4, cn)), share, 1e-14);
  EXPECT_NEAR(A1(1, cn), a * f.sys.A().coeff(1, 1), 1e-15);           // only what the refining stage buys itself
  EXPECT_NEAR(e.S()(0, cn), 1.036918338061476, 1e-13);
  EXPECT_NEAR(e.S()(1, cn), 8.352332582123267, 1e-13);               // Energy not reduced (stressors = CO2)
  EXPECT_NEAR(e.x()[cn], 328.64316722559954, 1e-9);
  EXPECT_NEAR(e.v()[cn] / e.x()[cn], 0.42047982753047697, 1e-13);
  // The rest of the chemical sector and the refinery keep their base technology.
  EXPECT_EQ(e.S()(0, 2), f.sys.S()(0, 2));
  for (Index row = 0; row < 12; ++row) {
    const Index r1 = row / 4 * 5 + row % 4;
    if (row == 2) continue;  // (North, chem)'s sales are split
    EXPECT_EQ(A1(r1, 1), f.sys.A().coeff(row, 1)) << row;
    EXPECT_EQ(A1(r1, 2), f.sys.A().coeff(row, 2)) << row;
  }
  const auto r = f.run(sc);
  EXPECT_EQ(r.path, "full");
  EXPECT_NEAR(r.x[cn], 328.64316722559954, 1e-9);
  EXPECT_NEAR(r.x[2], 492.96475083839925, 1e-9);
  EXPECT_NEAR(r.x[1], 667.4350037531344, 1e-9);
  const double dpba[2][3] = {{-24.648831946973587, -26.87391552936242, -22.221433306325707},
                             {-9.133056610888161, -35.78297017127261, -19.825067292662425}};
  for (Index k = 0; k < 2; ++k)
    for (Index reg = 0; reg < 3; ++reg) EXPECT_NEAR(r.dpba(k, reg), dpba[k][reg], 1e-9) << k << ", " << reg;
  // LMDI still adds up with the new sector (absent in the base: all structure).
  for (Index reg = 0; reg <= 3; ++reg)
    for (Index k = 0; k < 2; ++k) {
      EXPECT_TRUE(std::isfinite(r.lmdi_structure(k, reg)));
      EXPECT_NEAR(r.lmdi_structure(k, reg) + r.lmdi_intensity(k, reg), r.intensity(k, reg) - f.base.intensity(k, reg),
                  1e-10 * f.base.intensity(k, reg));
    }
  // Every sector counts as industrial in this system: the complex too (target sums include it).
  const auto t = f.run(scenario("complex", sc.operations, {{"CO2/VA", "North", -0.05}}));
  double E = 0, V = 0;
  for (Index i = 0; i < 5; ++i) {
    E += e.S()(0, i) * t.x[i];
    V += t.va[i];
  }
  ASSERT_EQ(t.targets.size(), 1u);
  EXPECT_NEAR(t.targets[0].scenario, E / V, 1e-12 * E / V);
}

TEST(ScenarioSplit, WithoutSplitIsUnchangedAndRunsLowRank) {
  Fixture f;
  const auto r = f.run(scenario("plain", {integrate_op(0.5, 0.1)}));
  EXPECT_EQ(r.path, "lowrank");
  EXPECT_EQ(r.sectors, f.sys.labels().sectors);
  EXPECT_EQ(r.x.size(), 12);
  EXPECT_TRUE(split_sectors(scenario("plain", {integrate_op(0.5, 0.1)})).empty());
  EXPECT_EQ(split_sectors(scenario("s", {integrate_op(0.5, 0.1, {{"split", kComplex}})})),
            std::vector<std::string>{kComplex});
}

TEST(ScenarioSplit, BadInputNamesScenarioOperationParameter) {
  Fixture f;
  auto run = [&](const Scenario& sc, const std::string& method = "auto") { return [&f, sc, method] { f.run(sc, method); }; };
  auto one = [](std::map<std::string, ParamValue> extra) { return scenario("bad split", {integrate_op(0.5, 0.1, extra)}); };
  expect_error(run(one({{"split", kChem}})),
               {"scenario \"bad split\"", "operation 1 (integrate)", "\"split\"", "already a sector"});
  expect_error(run(one({{"split", std::string("")}})), {"operation 1 (integrate)", "\"split\"", "empty"});
  expect_error(run(one({{"split", kComplex}, {"split_share", 0.0}})),
               {"operation 1 (integrate)", "\"split_share\"", "(0, 1]"});
  expect_error(run(one({{"split", kComplex}, {"split_share", 1.5}})),
               {"operation 1 (integrate)", "\"split_share\"", "[0, 1]"});
  expect_error(run(one({{"split_share", 0.5}})), {"operation 1 (integrate)", "\"split_share\"", "without split"});
  Scenario later = one({{"split", kComplex}});
  later.operations.push_back(op("scale", {{"matrix", std::string("Y")}, {"factor", 1.1}}));
  expect_error(run(later), {"operation 1 (integrate)", "\"split\"", "operation 2 (scale) follows", "last operation"});
  expect_error(run(one({{"split", kComplex}}), "lowrank"),
               {"scenario \"bad split\"", "splits a sector off", "\"lowrank\"", "\"full\""});
  // A column sum reaching 1: the refining column sums to 1.4 (the system is productive all the same),
  // the chemical column to 0.9 with 0.3 of refined products: 0.9 - 0.3 + 0.3 * 1.4 = 1.02.
  Matrix A = Matrix(f.sys.A());
  A.row(1) *= 0.1;
  A.col(2) *= 0.6 / (A.col(2).sum() - A(1, 2));
  A(1, 2) = 0.3;
  A.col(1) *= 1.4 / A.col(1).sum();
  const MrioSystem s = MrioSystem::from_A_Y(f.sys.labels(), A.sparseView(), f.sys.Y(), f.sys.S());
  LeontiefSolver solver(s.A());
  const BaseResults base = compute_base(s, solver);
  expect_error([&] { run_scenario(s, solver, base, scenario("bad split", {integrate_op(0, 0, {{"split", kComplex}})})); },
               {"scenario \"bad split\"", "operation 1 (integrate)", "\"split\"", "summing to 1.02", "< 1"});
  // Nothing is half-applied: the same system without the split runs.
  EXPECT_EQ(run_scenario(s, solver, base, scenario("fine", {integrate_op(0, 0)})).path, "lowrank");
}

TEST(ScenarioOps, GreenPowerExistingSupplierAndNotAdditional) {
  Fixture f;
  const double phi = 0.6;
  const Scenario sc = scenario(
      "park", {op("green_power", {{"region", "North"}, {"sectors", std::vector<std::string>{kChem, kRef}},
                                  {"share", phi}, {"electricity", kPower}, {"supplier_region", "West"}})});
  const MrioSystem e = apply_scenario(f.sys, sc);
  const Matrix A0 = Matrix(f.sys.A()), A1 = Matrix(e.A());
  for (Index j : {1, 2}) {
    const Index c = pos(0, j);
    EXPECT_NEAR(A1(pos(0, 3), c), (1 - phi) * A0(pos(0, 3), c), 1e-15);
    EXPECT_NEAR(A1(pos(1, 3), c), (1 - phi) * A0(pos(1, 3), c), 1e-15);
    EXPECT_NEAR(A1(pos(2, 3), c), A0(pos(2, 3), c) + phi * (A0(pos(0, 3), c) + A0(pos(1, 3), c)), 1e-15);
  }
  auto not_add = sc;
  not_add.operations[0].params["additional"] = false;
  const auto r = f.run(not_add);
  EXPECT_EQ(r.dpba.cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(r.changed_coefficients, 0);
}

TEST(ScenarioOps, GreenPowerNewCapacityLowersLocalPowerIntensity) {
  Fixture f;
  const Index el = pos(1, 3);
  auto park = [&](std::map<std::string, double> intensity) {
    std::map<std::string, ParamValue> p{{"region", "East"}, {"sectors", std::vector<std::string>{kChem}},
                                        {"share", 0.5}, {"electricity", kPower}};
    if (!intensity.empty()) p["intensity"] = intensity;
    return scenario("park", {op("green_power", p)});
  };
  const MrioSystem e = apply_scenario(f.sys, park({}));
  EXPECT_LT(e.S()(0, el), f.sys.S()(0, el));
  // Green (intensity 0, the default) against the same purchases at the grid's intensity:
  // identical flows, so the difference is the green supply alone, all of it in East.
  const auto green = f.run(park({}));
  const auto grey = f.run(park({{"CO2", f.sys.S()(0, el)}, {"Energy", f.sys.S()(1, el)}}));
  EXPECT_LE(rel(green.x, grey.x), 1e-14);
  EXPECT_LT(green.pba(0, 1), grey.pba(0, 1));
  EXPECT_NEAR(green.pba(0, 0), grey.pba(0, 0), 1e-12 * grey.pba(0, 0));
}

TEST(ScenarioOps, ScaleAndSetByLabelSelection) {
  const MrioSystem s = hand_system();
  const MrioSystem e = apply_scenario(
      s, scenario("edits", {op("scale", {{"matrix", std::string("A")}, {"factor", 0.5},
                                         {"row_sectors", std::vector<std::string>{kCoal}},
                                         {"col_regions", std::vector<std::string>{"West"}}}),
                            op("set", {{"matrix", std::string("S")}, {"value", 0.0},
                                       {"stressors", std::vector<std::string>{"CO2"}},
                                       {"col_regions", std::vector<std::string>{"North"}},
                                       {"col_sectors", std::vector<std::string>{kPower}}}),
                            op("scale", {{"matrix", std::string("Y")}, {"factor", 2.0},
                                         {"row_regions", std::vector<std::string>{"East"}},
                                         {"fd_regions", std::vector<std::string>{"East"}}})}));
  const Matrix A0 = Matrix(s.A()), A1 = Matrix(e.A());
  for (Index r = 0; r < 3; ++r)
    for (Index c = 0; c < 12; ++c)
      EXPECT_EQ(A1(pos(r, 0), c), c >= 8 ? 0.5 * A0(pos(r, 0), c) : A0(pos(r, 0), c));
  EXPECT_EQ(e.S()(0, pos(0, 3)), 0.0);
  EXPECT_EQ(e.S()(1, pos(0, 3)), s.S()(1, pos(0, 3)));
  const Index c = s.c();
  EXPECT_TRUE(e.Y().block(4, c, 4, c).isApprox(2 * s.Y().block(4, c, 4, c), 1e-15));
  EXPECT_EQ(e.Y().block(4, 0, 4, c), s.Y().block(4, 0, 4, c));
}

TEST(ScenarioSolve, LowRankEqualsFullResolveOnRandomScenarios) {
  datasets::GeneratorOptions g;
  g.regions = 5;
  g.sectors = 6;
  g.seed = 11;
  const MrioSystem s = datasets::generate(g);
  LeontiefSolver solver(s.A());
  const BaseResults base = compute_base(s, solver);
  std::uint64_t state = 12345;
  auto next = [&](Index m) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<Index>((state >> 33) % static_cast<std::uint64_t>(m));
  };
  const auto& L = s.labels();
  std::vector<Scenario> scs;
  for (int t = 0; t < 12; ++t) {
    Index r = next(5), q = next(5);
    if (q == r) q = (r + 1) % 5;
    std::vector<Operation> ops{op("relocate", {{"product", L.sectors[next(6)]}, {"from", L.regions[r]},
                                               {"to", L.regions[q]}, {"share", 0.1 + 0.08 * t}})};
    if (t % 3 == 1)
      ops.push_back(op("scale", {{"matrix", std::string("A")}, {"factor", 0.9},
                                 {"col_regions", std::vector<std::string>{L.regions[next(5)]}},
                                 {"col_sectors", std::vector<std::string>{L.sectors[next(6)]}}}));
    if (t % 3 == 2)
      ops.push_back(op("scale", {{"matrix", std::string("Y")}, {"factor", 1.3},
                                 {"row_sectors", std::vector<std::string>{L.sectors[next(6)]}}}));
    scs.push_back(scenario("random " + std::to_string(t), ops));
  }
  ScenarioOptions low, full;
  low.method = "lowrank";
  full.method = "full";
  const auto a = run_scenarios(s, solver, base, scs, low);
  const auto b = run_scenarios(s, solver, base, scs, full);
  for (size_t t = 0; t < scs.size(); ++t) {
    EXPECT_EQ(a[t].path, "lowrank");
    EXPECT_EQ(b[t].path, "full");
    EXPECT_LE(rel(a[t].x, b[t].x), 1e-9) << scs[t].name;
    EXPECT_LE(rel(a[t].pba, b[t].pba), 1e-9) << scs[t].name;
    EXPECT_LE(rel(a[t].cba, b[t].cba), 1e-9) << scs[t].name;
    EXPECT_LE(rel(a[t].dQ, b[t].dQ), 1e-9 * 1e3) << scs[t].name;  // deltas: relative to their own (small) size
    // And the accounts of the refactorised edited system (calc_accounts).
    const Accounts ref = reference(s, scs[t]);
    EXPECT_LE(rel(a[t].cba, ref.D_cba_reg), 1e-9) << scs[t].name;
    EXPECT_LE(rel(a[t].pba, ref.D_pba_reg), 1e-9) << scs[t].name;
  }
}

TEST(ScenarioSolve, AutoPicksFullPathWhenRankIsLarge) {
  Fixture f;
  ScenarioOptions o;
  o.max_rank = 1;
  const Scenario sc = scenario("wide", {op("scale", {{"matrix", std::string("A")}, {"factor", 0.95}})});
  const auto r = run_scenario(f.sys, f.solver, f.base, sc, o);
  EXPECT_EQ(r.path, "full");
  EXPECT_GT(r.rank, 1);
  o.method = "lowrank";
  const auto l = run_scenario(f.sys, f.solver, f.base, sc, o);
  EXPECT_EQ(l.path, "lowrank");
  EXPECT_LE(rel(l.cba, r.cba), 1e-9);
}

TEST(ScenarioSolve, ResultsDoNotDependOnThreads) {
  Fixture f;
  std::vector<Scenario> scs;
  for (Index t = 0; t < 6; ++t)
    scs.push_back(scenario("s" + std::to_string(t),
                           {op("relocate", {{"product", f.sys.labels().sectors[t % 4]}, {"from", "North"},
                                            {"to", t % 2 ? "East" : "West"}, {"share", 0.1 * (t + 1)}})}));
  ScenarioOptions one, two;
  one.threads = 1;
  two.threads = 2;
  const auto a = run_scenarios(f.sys, f.solver, f.base, scs, one);
  const auto b = run_scenarios(f.sys, f.solver, f.base, scs, two);
  for (size_t t = 0; t < scs.size(); ++t) {
    EXPECT_EQ(a[t].cba, b[t].cba);
    EXPECT_EQ(a[t].dQ, b[t].dQ);
    EXPECT_EQ(a[t].x, b[t].x);
  }
}

TEST(ScenarioTargets, KnownAnswerAndLmdiAddsUp) {
  Fixture f;
  // CO2 intensities 25 % lower everywhere: x and VA unchanged, I falls by exactly 25 %.
  const Scenario sc = scenario(
      "cleaner", {op("scale", {{"matrix", std::string("S")}, {"factor", 0.75}, {"stressors", std::vector<std::string>{"CO2"}}})},
      {{"CO2/VA", "East", -0.20}, {"CO2/VA", "", -0.30}, {"Energy/VA", "West", 0.0}});
  const auto r = f.run(sc);
  ASSERT_EQ(r.targets.size(), 3u);
  EXPECT_NEAR(r.targets[0].change, -0.25, 1e-12);
  EXPECT_TRUE(r.targets[0].met);
  EXPECT_FALSE(r.targets[1].met);
  EXPECT_TRUE(r.targets[2].met);  // unchanged meets "no increase"
  // gap = E_scen - (1 + target) I_base VA = 0.75 E0 - (1 + target) E0.
  double E0 = 0;
  for (Index i = 0; i < 4; ++i) E0 += f.sys.S()(0, pos(1, i)) * f.base.x[pos(1, i)];
  EXPECT_NEAR(r.targets[0].gap, -0.05 * E0, 1e-10 * E0);
  // LMDI: no structure change, all intensity, and the two add up to the change.
  EXPECT_NEAR(r.lmdi_structure(0, 1), 0.0, 1e-12 * f.base.intensity(0, 1));
  for (Index reg = 0; reg <= 3; ++reg)
    for (Index k = 0; k < 2; ++k)
      EXPECT_NEAR(r.lmdi_structure(k, reg) + r.lmdi_intensity(k, reg), r.intensity(k, reg) - f.base.intensity(k, reg),
                  1e-10 * f.base.intensity(k, reg));
  // A relocation changes the structure too; the split still adds up.
  const auto m = f.run(scenario("move", {op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "East"},
                                                            {"share", 0.5}})}));
  for (Index reg = 0; reg <= 3; ++reg)
    EXPECT_NEAR(m.lmdi_structure(0, reg) + m.lmdi_intensity(0, reg), m.intensity(0, reg) - f.base.intensity(0, reg),
                1e-9 * f.base.intensity(0, reg));
}

TEST(ScenarioErrors, BadInputNamesScenarioOperationParameter) {
  Fixture f;
  auto reloc = [](std::map<std::string, ParamValue> extra) {
    std::map<std::string, ParamValue> p{{"product", kChem}, {"from", "North"}, {"to", "East"}, {"share", 0.5}};
    for (auto& [key, v] : extra) p[key] = v;
    return scenario("bad one", {op("relocate", {}), op("relocate", p)});
  };
  auto run = [&](const Scenario& sc) { return [&f, sc] { f.run(sc); }; };
  // The first operation is fine; the second one is bad (unless stated otherwise).
  Scenario sc = reloc({{"share", 1.5}});
  sc.operations[0] = op("relocate", {{"product", kRef}, {"from", "North"}, {"to", "West"}, {"share", 0.1}});
  expect_error(run(sc), {"scenario \"bad one\"", "operation 2 (relocate)", "\"share\"", "[0, 1]"});
  sc = reloc({{"to", std::string("Atlantis")}});
  sc.operations[0] = sc.operations[1];
  sc.operations[0].params["to"] = std::string("West");
  expect_error(run(sc), {"operation 2", "\"to\"", "Atlantis", "known"});
  sc.operations[1] = op("relocate", {{"product", std::string("99 Unicorns")}, {"from", "North"}, {"to", "East"},
                                     {"share", 0.5}});
  expect_error(run(sc), {"\"product\"", "99 Unicorns"});
  sc.operations[1] = op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "East"}, {"shares", 0.5}});
  expect_error(run(sc), {"\"shares\"", "unknown parameter"});
  sc.operations[1] = op("teleport", {});
  expect_error(run(sc), {"operation 2 (teleport)", "unknown operation kind"});
  sc.operations[1] = op("relocate", {{"from", "North"}, {"to", "East"}, {"share", 0.5}});
  expect_error(run(sc), {"\"product\"", "required"});
  sc.operations[1] = op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "North"}, {"share", 0.5}});
  expect_error(run(sc), {"\"to\"", "same region"});
  sc.operations[1] = op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "East"}, {"share", std::string("half")}});
  expect_error(run(sc), {"\"share\"", "expected a number"});
  // Negative coefficient, column sum >= 1, conflicting operations.
  sc.operations[1] = op("set", {{"matrix", std::string("A")}, {"value", -0.1}});
  expect_error(run(sc), {"operation 2 (set)", "\"value\"", ">= 0"});
  sc.operations[1] = op("scale", {{"matrix", std::string("A")}, {"factor", 5.0},
                                  {"col_sectors", std::vector<std::string>{kChem}}});
  expect_error(run(sc), {"operation 2 (scale)", "would sum to", "< 1"});
  sc.operations[1] = op("set", {{"matrix", std::string("A")}, {"value", 0.01},
                                {"row_regions", std::vector<std::string>{"North"}},
                                {"row_sectors", std::vector<std::string>{kChem}}});
  expect_error(run(sc), {"operation 2 (set)", "conflicts with operation 1", "A[(North, 12 Chemicals)"});
  sc.operations[1] = op("electrify", {{"region", "West"}, {"sector", kChem}, {"share", 0.5}, {"coal", kCoal},
                                      {"electricity", kPower}, {"eta_coal", 0.8}, {"eta_el", 0.9},
                                      {"coal_price", 1.0}, {"electricity_price", 1.0},
                                      {"coal_ef", std::map<std::string, double>{{"CO2", 1e9}}}});
  expect_error(run(sc), {"operation 2 (electrify)", "S[\"CO2\", (West, 12 Chemicals)]", ">= 0"});
  sc.operations[1] = op("electrify", {{"region", "West"}, {"sector", kChem}, {"share", 0.5}, {"coal", kCoal},
                                      {"electricity", kPower}, {"eta_coal", 0.8}, {"eta_el", 0.9},
                                      {"coal_price", -1.0}, {"electricity_price", 1.0}});
  expect_error(run(sc), {"\"coal_price\"", "> 0"});
  sc.operations[1] = op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "East"}, {"quantity", 5.0}});
  expect_error(run(sc), {"\"share\"", "quantity and price"});
  sc.operations[1] = op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "East"}, {"share", 0.2},
                                     {"technology", std::string("new")}});
  expect_error(run(sc), {"\"new_column\"", "technology = \"new\""});
  sc.operations[1] = op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "East"}, {"share", 0.2},
                                     {"technology", std::string("alien")}});
  expect_error(run(sc), {"\"technology\"", "\"destination\", \"new\""});
  sc.operations[1] = op("green_power", {{"region", "North"}, {"sectors", std::vector<std::string>{kPower}},
                                        {"share", 0.5}, {"electricity", kPower}});
  expect_error(run(sc), {"operation 2 (green_power)", "\"sectors\"", "electricity sector itself"});
  sc.operations[1] = op("couple_byproduct", {{"region", "North"}, {"supplier", kRef}, {"receiver", kChem},
                                             {"displaced_fuel", kCoal}, {"gas_quantity", 1.0}, {"gas_price", 0.1},
                                             {"displaced_price", 1e12}});
  expect_error(run(sc), {"operation 2 (couple_byproduct)", "\"displaced_quantity\"", "buys only"});
  sc.operations[1] = op("scale", {{"matrix", std::string("S")}, {"factor", 0.5},
                                  {"row_regions", std::vector<std::string>{"North"}}});
  expect_error(run(sc), {"\"row_regions\"", "does not apply to matrix S"});
  sc.operations[1] = op("scale", {{"matrix", std::string("A")}, {"factor", 0.5}, {"col_sectors", std::vector<std::string>{}}});
  expect_error(run(sc), {"\"col_sectors\"", "empty list"});
  // Targets.
  Scenario tg = scenario("targets", {}, {{"CO2/GDP", "", -0.1}});
  expect_error(run(tg), {"scenario \"targets\", target 1", "CO2/GDP", "<stressor>/VA"});
  tg.targets = {{"CO2/VA", "Atlantis", -0.1}};
  expect_error(run(tg), {"target 1", "Atlantis"});
  // A batch with one bad scenario fails naming it; nothing is reported.
  std::vector<Scenario> batch{scenario("good", {}), reloc({{"share", -0.5}})};
  batch[1].operations.erase(batch[1].operations.begin());
  expect_error([&] { run_scenarios(f.sys, f.solver, f.base, batch); }, {"scenario \"bad one\"", "operation 1"});
}

// ------------------------------------------------------------ TOML files

#include "mriotrace/io/scenario_toml.hpp"

#include <filesystem>

TEST(ScenarioToml, ParsesStructureTypesAndFileWideTargets) {
  const ScenarioSet set = io::parse_scenarios(R"(
[base]
system = "systems/base.h5"
industry = ["02 Coal", "12 Chemicals"]

[[targets]]
indicator = "CO2/VA"
change = -0.2

[[scenario]]
name = "a"
description = "two operations"
[[scenario.operation]]
kind = "relocate"
product = "12 Chemicals"
from = "North"
to = "East"
share = 1          # an integer is a number
[[scenario.operation]]
kind = "green_power"
sectors = ["12 Chemicals"]
additional = false
intensity = {CO2 = 0, Energy = 0.5}
[[scenario.target]]
indicator = "Energy/VA"
region = "East"
change = -0.1

[[scenario]]
name = "b"
)",
                                              "test.toml", "/data");
  EXPECT_EQ(set.base_system, "/data/systems/base.h5");
  EXPECT_EQ(set.industry, (std::vector<std::string>{"02 Coal", "12 Chemicals"}));
  ASSERT_EQ(set.scenarios.size(), 2u);
  const Scenario& a = set.scenarios[0];
  EXPECT_EQ(a.description, "two operations");
  ASSERT_EQ(a.operations.size(), 2u);
  EXPECT_EQ(a.operations[0].kind, "relocate");
  EXPECT_EQ(std::get<double>(a.operations[0].params.at("share")), 1.0);
  EXPECT_EQ(std::get<std::string>(a.operations[0].params.at("from")), "North");
  EXPECT_EQ(std::get<std::vector<std::string>>(a.operations[1].params.at("sectors")).size(), 1u);
  EXPECT_EQ(std::get<bool>(a.operations[1].params.at("additional")), false);
  EXPECT_EQ((std::get<std::map<std::string, double>>(a.operations[1].params.at("intensity")).at("Energy")), 0.5);
  ASSERT_EQ(a.targets.size(), 2u);  // file-wide first, then its own
  EXPECT_EQ(a.targets[0].indicator, "CO2/VA");
  EXPECT_EQ(a.targets[1].region, "East");
  EXPECT_DOUBLE_EQ(a.targets[1].change, -0.1);
  EXPECT_EQ(set.scenarios[1].targets.size(), 1u);
  EXPECT_TRUE(set.scenarios[1].operations.empty());
}

TEST(ScenarioToml, ParsedScenarioRunsLikeTheCppOne) {
  Fixture f;
  const ScenarioSet set = io::parse_scenarios(R"(
[[scenario]]
name = "move"
[[scenario.operation]]
kind = "relocate"
product = "12 Chemicals"
from = "North"
to = "East"
share = 0.4
)");
  const auto a = f.run(set.scenarios[0]);
  const auto b = f.run(
      scenario("move", {op("relocate", {{"product", kChem}, {"from", "North"}, {"to", "East"}, {"share", 0.4}})}));
  EXPECT_EQ(a.cba, b.cba);
}

TEST(ScenarioToml, SplitParametersRunLikeTheCppOnes) {
  Fixture f;
  const ScenarioSet set = io::parse_scenarios(R"(
[[scenario]]
name = "complex"
[[scenario.operation]]
kind = "integrate"
region = "North"
chemical = "12 Chemicals"
refining = "11 Refining and coking"
feedstock_shift = 0.5
efficiency = 0.1
utilities = ["02 Coal", "24 Power"]
split = "Integrated refining-chemical"
split_share = 0.5
)");
  ASSERT_EQ(set.scenarios.size(), 1u);
  EXPECT_EQ(std::get<std::string>(set.scenarios[0].operations[0].params.at("split")), kComplex);
  EXPECT_EQ(std::get<double>(set.scenarios[0].operations[0].params.at("split_share")), 0.5);
  const auto a = f.run(set.scenarios[0]);
  const auto b = f.run(scenario("complex", {integrate_op(0.5, 0.1, {{"split", kComplex}, {"split_share", 0.5}})}));
  EXPECT_EQ(a.sectors, b.sectors);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.cba, b.cba);
}

TEST(ScenarioToml, ErrorsNameFileLineScenarioAndParameter) {
  auto expect = [](const std::string& text, const std::vector<std::string>& parts) {
    expect_error([&] { io::parse_scenarios(text, "bad.toml"); }, parts);
  };
  expect("[[scenario]\nname = 1", {"bad.toml:1:", "malformed TOML"});
  expect("[[scenario]]\nname = \"a\"\n[[scenario.operation]]\nkind = \"relocate\"\nshare = [0.1, 0.2]\n",
         {"bad.toml:5:", "scenario \"a\", operation 1 (relocate): parameter \"share\"", "strings"});
  expect("[[scenario]]\nname = \"a\"\n[[scenario.operation]]\nshare = 0.1\n", {"operation 1", "\"kind\" is required"});
  expect("[[scenario]]\nname = \"a\"\n[[scenario]]\nname = \"a\"\n", {"bad.toml:4:", "duplicate scenario name"});
  expect("[[scenario]]\ndescription = \"x\"\n", {"[[scenario]] 1", "\"name\" is required"});
  expect("[[scenario]]\nname = \"a\"\nop = 1\n", {"unknown key \"op\"", "operation"});
  expect("[base]\nsystem = \"demo\"\nseed = 3\n[[scenario]]\nname = \"a\"\n", {"[base]", "unknown key \"seed\""});
  expect("[[targets]]\nindicator = \"CO2/VA\"\n[[scenario]]\nname = \"a\"\n", {"[[targets]] 1", "\"change\" is required"});
  expect("[base]\nsystem = \"demo\"\n", {"no [[scenario]] tables"});
  expect("scenario = 3\n", {"\"scenario\" must be an array of tables"});
  try {
    io::read_scenarios("/nonexistent/folder/scenarios.toml");
    ADD_FAILURE() << "expected FileError";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/folder/scenarios.toml"), std::string::npos);
  }
}

TEST(ScenarioToml, ExampleFilesRunOnTheSyntheticSystem) {
  const auto examples = std::filesystem::path(MRIOTRACE_SOURCE_DIR) / "datasets" / "scenarios";
  const MrioSystem sys = datasets::china_synthetic();
  LeontiefSolver solver(sys.A());
  const BaseResults base = compute_base(sys, solver);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(examples)) {
    if (entry.path().extension() != ".toml") continue;
    ++files;
    const ScenarioSet set = io::read_scenarios(entry.path().string());
    EXPECT_EQ(set.base_system, "synthetic") << entry.path();
    const auto results = run_scenarios(sys, solver, base, set.scenarios);
    for (size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      // A scenario that splits a sector off is refactorised; every other one is a low-rank update.
      EXPECT_EQ(r.path, split_sectors(set.scenarios[i]).empty() ? "lowrank" : "full") << r.name;
      EXPECT_FALSE(r.targets.empty()) << r.name;
      EXPECT_TRUE(r.dpba.allFinite()) << r.name;
    }
  }
  EXPECT_EQ(files, 5);
}

TEST(ScenarioSolve, DirectEmissionChangesAddUpAndMarginalElectricityCounts) {
  Fixture f;
  int rose = 0;
  for (Index dest : {1, 2}) {
    const Scenario plain = scenario("move", {op("relocate", {{"product", kChem}, {"from", "North"},
                                                             {"to", f.sys.labels().regions[dest]}, {"share", 0.5}})});
    Scenario green = plain;
    green.operations[0].params["electricity"] = kPower;
    green.operations[0].params["marginal_intensity"] = std::map<std::string, double>{{"CO2", 0.0}};
    const auto a = f.run(plain), b = f.run(green);
    // dF per region sums to dPBA (F_Y unchanged).
    for (Index r = 0; r < 3; ++r)
      EXPECT_NEAR(a.dF.middleCols(r * 4, 4).rowwise().sum()(0), a.dpba(0, r), 1e-12 * f.base.pba(0, r));
    EXPECT_EQ(a.x, b.x);  // the marginal intensity changes S only
    const Index el = pos(dest, 3);
    const double dx = a.x[el] - f.base.x[el], F0 = f.sys.S()(0, el) * f.base.x[el];
    EXPECT_NEAR(a.dF(0, el), f.sys.S()(0, el) * dx, 1e-12 * F0);
    if (dx > 0) {
      ++rose;  // the extra output emits nothing: the power sector's CO2 stays at its base
      EXPECT_NEAR(b.dF(0, el), 0.0, 1e-12 * F0);
    } else {
      EXPECT_EQ(b.dF(0, el), a.dF(0, el));  // no additional electricity: average intensity
    }
    EXPECT_EQ(b.dF(1, el), a.dF(1, el));  // Energy not given: average intensity
  }
  EXPECT_GE(rose, 1);
}
