// USEEIO JSON reader tests: the EPA's USEEIO v2.1.20-GHG model reproduced to
// 1e-9 (N = C B L and the final / direct / intermediate results of all four
// demand vectors), the two-region Georgia state model, a small synthetic model
// stored code-major (reordering), and the error paths.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mriotrace/accounts.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/useeio.hpp"
#include "mriotrace/solver.hpp"
#include "test_util.hpp"

using namespace mriotrace;
namespace fs = std::filesystem;

namespace {

const fs::path kUseeio = "useeio/USEEIOv2.1.20-GHG";
const fs::path kGaeeio = "useeio/GAEEIOv1.0-s-20";

nlohmann::json load_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

/// Largest relative difference of each row, relative to that row's largest
/// |reference| entry; returns the maximum over rows.
///
/// Why per-row max scaling and not entrywise: each row is one indicator in one
/// unit, and the error of a backward-stable LU solve (ours) or of EPA's dense
/// inverse is bounded relative to the size of the row, not of each entry; an
/// entry 1e-8 times the row maximum (e.g. a sector with almost no demand) can
/// legitimately carry a large relative round-off error. With the bound at 1e-9
/// every entry must still agree to 1e-9 of its row's largest value, which
/// catches any real mistake (a wrong sector order, a missing term, a
/// transposed matrix all give O(1) differences).
double max_row_rel_diff(const Matrix& ours, const Matrix& ref) {
  EXPECT_EQ(ours.rows(), ref.rows());
  EXPECT_EQ(ours.cols(), ref.cols());
  if (ours.rows() != ref.rows() || ours.cols() != ref.cols()) return INFINITY;
  double worst = 0;
  for (Index i = 0; i < ref.rows(); ++i) {
    const double scale = ref.row(i).cwiseAbs().maxCoeff();
    worst = std::max(worst, (ours.row(i) - ref.row(i)).cwiseAbs().maxCoeff() / (scale > 0 ? scale : 1.0));
  }
  return worst;
}

Matrix json_data(const nlohmann::json& j) {
  Matrix m(static_cast<Index>(j.size()), static_cast<Index>(j[0].size()));
  for (Index i = 0; i < m.rows(); ++i)
    for (Index c = 0; c < m.cols(); ++c) m(i, c) = j[static_cast<size_t>(i)][static_cast<size_t>(c)].get<double>();
  return m;
}

}  // namespace

TEST(UseeioTest, ReadsGhgModelLabelsAndMatrices) {
  MRIOTRACE_REQUIRE_DATA(kUseeio / "matrix/A.json");
  const fs::path dir = mriotrace::testdata::data_dir() / kUseeio;
  const io::UseeioModel model = io::read_useeio(dir.string());
  const MrioSystem& s = model.system;
  EXPECT_EQ(s.n(), 411);
  EXPECT_EQ(s.R(), 1);
  EXPECT_EQ(s.k(), 16);
  EXPECT_EQ(s.labels().m(), 1);
  EXPECT_EQ(s.labels().regions, (std::vector<std::string>{"US"}));
  EXPECT_EQ(s.labels().sectors[0], "1111A0");
  EXPECT_EQ(model.sector_ids[0], "1111A0/US");
  EXPECT_EQ(model.sector_names[0], "Fresh soybeans, canola, flaxseeds, and other oilseeds");
  EXPECT_EQ(s.labels().stressors[0], "Carbon dioxide/emission/air/kg");
  EXPECT_EQ(s.labels().stressor_units[0], "kg");
  EXPECT_EQ(s.labels().indicators[0], "GWP-AR4-100");
  EXPECT_EQ(s.labels().indicator_units[0], "kg CO2 eq");
  EXPECT_EQ(s.labels().fd_categories, (std::vector<std::string>{"final demand"}));

  // Matrices exactly as in the files.
  EXPECT_TRUE(Matrix(s.A()) == io::read_json_matrix((dir / "matrix/A.json").string()));
  EXPECT_TRUE(s.S() == io::read_json_matrix((dir / "matrix/B.json").string()));
  EXPECT_TRUE(s.C() == io::read_json_matrix((dir / "matrix/C.json").string()));
  EXPECT_EQ(s.C()(0, 1), 7390.0);  // CF4, GWP 7390

  // Demands in demands.json order; Y = the US Consumption/Complete demand.
  EXPECT_EQ(model.demand_ids, (std::vector<std::string>{"2012_US_Production_Complete", "2012_US_Production_Domestic",
                                                         "2012_US_Consumption_Complete", "2012_US_Consumption_Domestic"}));
  ASSERT_EQ(model.demands.cols(), 4);
  EXPECT_EQ(model.demands(1, 2), 2227000000.0);  // 1111B0/US in 2012_US_Consumption_Complete.json
  EXPECT_TRUE(s.Y().col(0) == model.demands.col(2));
  EXPECT_LT(s.Y().col(0).minCoeff(), 0.0);  // scrap, used goods, rest-of-world adjustment

  // No q.json: x = L y for the Production/Complete demand (L * Y would be
  // negative for used goods), where only noncomparable imports come out
  // negative by rounding (-3.4e6 USD of ~1e12) and are set to 0.
  const LeontiefSolver solver(s.A());
  const Vector x_prod = solver.solve(model.demands.col(0));
  const double xmax = x_prod.maxCoeff();
  EXPECT_LT(solver.solve(s.Y().col(0)).minCoeff(), -1e9);
  EXPECT_GE(s.x().minCoeff(), 0.0);
  std::vector<std::string> adjusted;
  for (Index j = 0; j < s.n(); ++j)
    if (std::abs(s.x()[j] - x_prod[j]) > 1e-12 * xmax) adjusted.push_back(model.sector_ids[static_cast<size_t>(j)]);
  EXPECT_EQ(adjusted, (std::vector<std::string>{"S00300/US"}));
  const Index nci = std::find(model.sector_ids.begin(), model.sector_ids.end(), "S00300/US") - model.sector_ids.begin();
  EXPECT_EQ(s.x()[nci], 0.0);
  EXPECT_LT(x_prod[nci], 0.0);
  EXPECT_GT(x_prod[nci], -1e-5 * xmax);
}

TEST(UseeioTest, ReproducesEpaMultipliersAndResults) {
  MRIOTRACE_REQUIRE_DATA(kUseeio / "matrix/A.json");
  const fs::path dir = mriotrace::testdata::data_dir() / kUseeio;
  const io::UseeioModel model = io::read_useeio(dir.string());
  const MrioSystem& s = model.system;
  const LeontiefSolver solver(s.A());
  const Matrix M = calc_M(solver, s.S());  // k x n = B L
  const Matrix N = s.C() * M;              // indicators x n = C B L
  const double n_diff = max_row_rel_diff(N, io::read_json_matrix((dir / "matrix/N.json").string()));
  EXPECT_LT(n_diff, 1e-9);
  EXPECT_TRUE(s.C() * s.S() == s.C() * io::read_json_matrix((dir / "matrix/B.json").string()));
  std::cout << "[ USEEIO  ] N = C B L: max row-relative difference " << n_diff << "\n";

  for (Index d = 0; d < model.demands.cols(); ++d) {
    const std::string& id = model.demand_ids[static_cast<size_t>(d)];
    const DemandFootprint fp = calc_demand_footprint(solver, s.S(), M, model.demands.col(d));
    // EPA's three views of the same demand (useeior calculateEEIOModel):
    //   final        N diag(y)      impacts attributed to the final product bought
    //   direct       D diag(L y)    impacts where they are emitted (D = C B)
    //   intermediate N diag(L y)    total intensity times total output of every
    //                               sector: counts upstream impacts once per tier
    //                               they pass through, so its sum exceeds N y
    const Matrix ours_final = s.C() * fp.final_;
    const Matrix ours_direct = s.C() * fp.direct;
    const Matrix ours_intermediate = N * fp.x.asDiagonal();
    const std::string file = "indicator_results_" + id + ".json";
    double worst = 0;
    for (const auto& [view, ours] : {std::pair{"final", &ours_final}, std::pair{"direct", &ours_direct},
                                     std::pair{"intermediate", &ours_intermediate}}) {
      const auto ref = load_json(dir / "results" / view / file);
      ASSERT_EQ(ref["sectors"].get<std::vector<std::string>>(), model.sector_ids) << view << " " << id;
      const double diff = max_row_rel_diff(*ours, json_data(ref["data"]));
      EXPECT_LT(diff, 1e-9) << view << " " << id;
      worst = std::max(worst, diff);
      // "totals" is N y for every view: the demand's whole footprint.
      const double total = ref["totals"][0].get<double>();
      EXPECT_NEAR((N * model.demands.col(d))(0), total, 1e-9 * total) << view << " " << id;
    }
    // Final and direct attribute the same total; intermediate double-counts.
    EXPECT_NEAR(ours_final.sum(), ours_direct.sum(), 1e-9 * ours_final.sum());
    EXPECT_GT(ours_intermediate.sum(), 2 * ours_final.sum());
    std::cout << "[ USEEIO  ] " << id << ": max row-relative difference " << worst << "\n";
  }
}

TEST(UseeioTest, ReadsTwoRegionGeorgiaModel) {
  MRIOTRACE_REQUIRE_DATA(kGaeeio / "matrix/A.json");
  const fs::path dir = mriotrace::testdata::data_dir() / kGaeeio;
  const io::UseeioModel model = io::read_useeio(dir.string());
  const MrioSystem& s = model.system;
  EXPECT_EQ(s.labels().regions, (std::vector<std::string>{"US-GA", "RoUS"}));
  EXPECT_EQ(s.N(), 73);
  EXPECT_EQ(s.n(), 146);
  EXPECT_EQ(s.k(), 1581);
  EXPECT_EQ(s.labels().m(), 16);
  EXPECT_EQ(s.labels().indicators[0], "Acidification Potential");
  EXPECT_EQ(model.sector_ids[0], "111CA/US-GA");
  EXPECT_EQ(model.sector_ids[73], "111CA/RoUS");
  EXPECT_EQ(model.sector_ids[145], "Other/RoUS");
  EXPECT_TRUE(Matrix(s.A()) == io::read_json_matrix((dir / "matrix/A.json").string()));
  // x is the commodity output q.json (146); x.json is industry output (142
  // industries) and does not fit the commodity-by-commodity A.
  const Matrix q = io::read_json_matrix((dir / "matrix/q.json").string());
  ASSERT_EQ(q.rows(), 146);
  EXPECT_TRUE(s.x() == q.col(0));
  EXPECT_EQ(io::read_json_matrix((dir / "matrix/x.json").string()).rows(), 142);

  // Productive, and every column sum of A below 1.
  const RowVector colsum = RowVector::Ones(146) * Matrix(s.A());
  EXPECT_LT(colsum.maxCoeff(), 1.0);
  EXPECT_GT(colsum.minCoeff(), 0.0);

  // Y column r = region r's Consumption/Complete demand (products of both regions).
  auto demand = [&](const std::string& id) {
    const auto it = std::find(model.demand_ids.begin(), model.demand_ids.end(), id);
    EXPECT_NE(it, model.demand_ids.end()) << id;
    return Vector(model.demands.col(it - model.demand_ids.begin()));
  };
  EXPECT_TRUE(s.Y().col(0) == demand("2020_US-GA_Consumption_Complete"));
  EXPECT_TRUE(s.Y().col(1) == demand("2020_RoUS_Consumption_Complete"));
  EXPECT_GT(s.Y().col(0).tail(73).sum(), 0.0);  // Georgia buys from the rest of the US

  // The Production/Complete demands (final demand for each region's own
  // products, exports included) are what the model's output q balances:
  // L (y_GA + y_RoUS) = q up to the rounding of the published files (~3e-6).
  const LeontiefSolver solver(s.A());
  const Vector x = solver.solve(demand("2020_US-GA_Production_Complete") + demand("2020_RoUS_Production_Complete"));
  EXPECT_LT((x - s.x()).cwiseAbs().maxCoeff() / s.x().maxCoeff(), 1e-5);

  // Emissions F = S diag(x): Georgia's CO2 is a small positive share of the US total.
  const Index co2 = s.stressor_index("Carbon dioxide/emission/air/kg");
  const Matrix F = s.F();
  const double ga = F.row(co2).head(73).sum(), rous = F.row(co2).tail(73).sum();
  EXPECT_GT(ga, 0.0);
  EXPECT_GT(ga / (ga + rous), 0.01);
  EXPECT_LT(ga / (ga + rous), 0.1);
}

namespace {

/// A tiny two-region model written code-major ("a/R1", "a/R2", "b/R1", "b/R2"),
/// so the reader has to reorder it to region-major.
class UseeioSyntheticTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mriotrace-useeio-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "matrix");
    fs::create_directories(dir_ / "demands");
    using nlohmann::json;
    json sectors = json::array();
    for (const char* id : {"a/R1", "a/R2", "b/R1", "b/R2"}) sectors.push_back({{"id", id}, {"name", id}});
    write("sectors.json", sectors);
    write("flows.json", json::array({{{"id", "CO2/air/kg"}, {"unit", "kg"}}}));
    write("indicators.json", json::array({{{"id", "GHG/kg CO2 eq"}, {"name", "GWP"}, {"unit", "kg CO2 eq"}}}));
    // File-order A: entry (i, j) = 0.01 * (10 i + j + 1): every entry distinct.
    json A = json::array();
    for (int i = 0; i < 4; ++i) {
      json row = json::array();
      for (int j = 0; j < 4; ++j) row.push_back(0.01 * (10 * i + j + 1));
      A.push_back(row);
    }
    write("matrix/A.json", A);
    write("matrix/B.json", json::array({json::array({1.0, 2.0, 3.0, 4.0})}));
    write("matrix/C.json", json::array({json::array({2.0})}));
    write("matrix/q.json", json::array({json::array({100.0}), json::array({200.0}), json::array({300.0}),
                                        json::array({400.0})}));
    write("demands.json", json::array({{{"id", "d_R2"}, {"type", "Consumption"}, {"system", "Complete"},
                                        {"location", "R2"}}}));
    write("demands/d_R2.json", json::array({{{"sector", "a/R1"}, {"amount", 5.0}}, {{"sector", "b/R2"}, {"amount", 7.0}}}));
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& rel, const nlohmann::json& j) const { std::ofstream(dir_ / rel) << j.dump(); }
  fs::path dir_;
};

}  // namespace

TEST_F(UseeioSyntheticTest, CodeMajorFileIsReorderedToRegionMajor) {
  const io::UseeioModel model = io::read_useeio(dir_.string());
  const MrioSystem& s = model.system;
  EXPECT_EQ(s.labels().regions, (std::vector<std::string>{"R1", "R2"}));
  EXPECT_EQ(s.labels().sectors, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(model.sector_ids, (std::vector<std::string>{"a/R1", "b/R1", "a/R2", "b/R2"}));
  // System position p holds file sector perm[p].
  const Index perm[4] = {0, 2, 1, 3};
  const Matrix A = s.A();
  for (Index i = 0; i < 4; ++i) {
    for (Index j = 0; j < 4; ++j) EXPECT_DOUBLE_EQ(A(i, j), 0.01 * static_cast<double>(10 * perm[i] + perm[j] + 1));
    EXPECT_EQ(s.S()(0, i), static_cast<double>(perm[i] + 1));
    EXPECT_EQ(s.x()[i], 100.0 * static_cast<double>(perm[i] + 1));
  }
  // Demand keyed by sector id: a/R1 -> position 0, b/R2 -> position 3; only R2 has a consumption demand.
  EXPECT_TRUE(model.demands.col(0) == (Vector(4) << 5, 0, 0, 7).finished());
  EXPECT_TRUE(s.Y().col(0).isZero());
  EXPECT_TRUE(s.Y().col(1) == model.demands.col(0));
  EXPECT_EQ(s.labels().indicators, (std::vector<std::string>{"GWP"}));
}

TEST_F(UseeioSyntheticTest, ErrorsNameTheFile) {
  const std::string b = (dir_ / "matrix/B.json").string();
  // The message of the error E that reading the model throws ("" if none).
  auto message = [&]<class E>(E*) -> std::string {
    try {
      io::read_useeio(dir_.string());
    } catch (const E& e) {
      return e.what();
    }
    return "";
  };
  write("matrix/B.json", nlohmann::json::array({nlohmann::json::array({1.0, 2.0, 3.0})}));
  std::string m = message(static_cast<InputError*>(nullptr));
  EXPECT_NE(m.find(b + "\" has shape 1 x 3; expected 1 x 4"), std::string::npos) << m;
  std::ofstream(b) << "[[1, 2,";  // not JSON
  m = message(static_cast<FileError*>(nullptr));
  EXPECT_NE(m.find(b + "\": not valid JSON"), std::string::npos) << m;
  fs::remove(b);
  m = message(static_cast<FileError*>(nullptr));
  EXPECT_NE(m.find(b + "\": no such file"), std::string::npos) << m;
  write("matrix/B.json", nlohmann::json::array({nlohmann::json::array({1.0, 2.0, 3.0, 4.0})}));
  write("demands/d_R2.json", nlohmann::json::array({{{"sector", "c/R9"}, {"amount", 1.0}}}));
  EXPECT_THROW(io::read_useeio(dir_.string()), InputError);
  EXPECT_THROW(io::read_useeio((dir_ / "nope").string()), FileError);
  write("matrix/A.json", nlohmann::json::array({nlohmann::json::array({0.1, 0.2}), nlohmann::json::array({0.3})}));
  EXPECT_THROW(io::read_json_matrix((dir_ / "matrix/A.json").string()), InputError);
}
