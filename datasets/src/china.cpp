// The demo's default system: China's 31 provinces x the 42 sectors of the 2017
// national input-output table.
//
// REAL: the province names, the sector names and order (NBS 2017 IO table,
// 42-sector version), the final-demand categories.
// SYNTHETIC: every number. The tables below are rounded ballpark figures
// (2017 provincial GDP, national sector output, national CO2 and energy
// intensities by sector, which provinces specialise in what, which grids are
// coal- or hydro-based) used only as *weights* for the random generator of
// generator.cpp; the resulting A, x, Y, S, F_Y are random draws around them and
// must not be cited as data. Totals are calibrated to the right order of
// magnitude (about 10 Gt CO2 and 5 Gtce) so the demo reads plausibly.
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "synth.hpp"

namespace mriotrace::datasets {
namespace {

constexpr Index kR = 31, kN = 42;

// Provinces (region-major order of the system) with approximate 2017 GDP in
// 10^8 CNY (rounded; relative economic size only).
struct Province {
  const char* name;
  double gdp;
  double power_co2;  ///< CO2 intensity factor of power & heat: coal-heavy grids > 1, hydro/nuclear < 1
  bool north;        ///< central heating season: more direct household emissions
};
constexpr std::array<Province, kR> kProvinces{{
    {"Beijing", 28015, 0.80, true},       {"Tianjin", 18549, 1.20, true},
    {"Hebei", 35964, 1.35, true},         {"Shanxi", 15528, 1.45, true},
    {"Inner Mongolia", 16096, 1.45, true}, {"Liaoning", 23409, 1.20, true},
    {"Jilin", 14945, 1.15, true},         {"Heilongjiang", 15903, 1.20, true},
    {"Shanghai", 30633, 1.00, false},     {"Jiangsu", 85901, 1.10, false},
    {"Zhejiang", 51768, 0.95, false},     {"Anhui", 27018, 1.20, false},
    {"Fujian", 32182, 0.80, false},       {"Jiangxi", 20006, 1.05, false},
    {"Shandong", 72634, 1.30, true},      {"Henan", 44553, 1.25, true},
    {"Hubei", 35478, 0.55, false},        {"Hunan", 33903, 0.80, false},
    {"Guangdong", 89705, 0.85, false},    {"Guangxi", 18524, 0.70, false},
    {"Hainan", 4463, 0.80, false},        {"Chongqing", 19425, 0.90, false},
    {"Sichuan", 36980, 0.18, false},      {"Guizhou", 13541, 0.90, false},
    {"Yunnan", 16376, 0.20, false},       {"Tibet", 1311, 0.12, true},
    {"Shaanxi", 21899, 1.25, true},       {"Gansu", 7460, 0.90, true},
    {"Qinghai", 2625, 0.25, true},        {"Ningxia", 3444, 1.45, true},
    {"Xinjiang", 10882, 1.35, true},
}};

// Sectors: name, national gross output (10^12 CNY, rounded), CO2 intensity
// (t CO2 per 10^4 CNY), energy intensity (tce per 10^4 CNY), supplier weight
// (how much of the sector's output is an intermediate input), interprovincial
// tradability (0..1), final-demand split (household, government, capital formation).
struct Sector {
  const char* name;
  double output;
  double co2;
  double energy;
  double supplier;
  double tradable;
  double fd_household, fd_government, fd_capital;
};
constexpr std::array<Sector, kN> kSectors{{
    {"01 Agriculture, forestry, animal husbandry and fishery", 11.5, 0.10, 0.08, 1.5, 1.0, 0.85, 0.01, 0.14},
    {"02 Mining and washing of coal", 2.6, 0.55, 0.35, 3.0, 1.0, 0.20, 0.00, 0.80},
    {"03 Exploitation of petroleum and natural gas", 1.1, 0.35, 0.30, 3.0, 1.0, 0.10, 0.00, 0.90},
    {"04 Mining and processing of metal ores", 1.1, 0.25, 0.20, 3.0, 1.0, 0.05, 0.00, 0.95},
    {"05 Mining and processing of nonmetal and other ores", 1.0, 0.30, 0.25, 3.0, 1.0, 0.05, 0.00, 0.95},
    {"06 Manufacture of foods and tobacco", 10.5, 0.08, 0.06, 1.0, 1.0, 0.92, 0.01, 0.07},
    {"07 Manufacture of textiles", 3.8, 0.12, 0.12, 1.5, 1.0, 0.80, 0.01, 0.19},
    {"08 Manufacture of wearing apparel, leather, fur, feather and related products", 2.6, 0.04, 0.03, 0.8, 1.0,
     0.92, 0.01, 0.07},
    {"09 Processing of timber and furniture", 2.1, 0.06, 0.05, 1.0, 1.0, 0.55, 0.01, 0.44},
    {"10 Manufacture of paper, printing, and articles for culture, education, sports", 2.6, 0.15, 0.12, 1.5, 1.0,
     0.75, 0.05, 0.20},
    {"11 Processing of petroleum, coking, and nuclear fuel", 4.2, 1.30, 0.90, 2.5, 1.0, 0.35, 0.00, 0.65},
    {"12 Manufacture of chemical products", 13.0, 0.60, 0.45, 2.5, 1.0, 0.55, 0.02, 0.43},
    {"13 Manufacture of non-metallic mineral products", 6.3, 1.80, 0.65, 2.5, 1.0, 0.10, 0.00, 0.90},
    {"14 Smelting and processing of metals", 11.0, 2.00, 0.75, 2.5, 1.0, 0.05, 0.00, 0.95},
    {"15 Manufacture of metal products", 3.8, 0.07, 0.06, 1.5, 1.0, 0.20, 0.01, 0.79},
    {"16 Manufacture of general purpose machinery", 4.5, 0.05, 0.04, 1.0, 1.0, 0.05, 0.01, 0.94},
    {"17 Manufacture of special purpose machinery", 3.5, 0.04, 0.03, 1.0, 1.0, 0.05, 0.01, 0.94},
    {"18 Manufacture of transport equipment", 9.6, 0.03, 0.03, 1.0, 1.0, 0.35, 0.01, 0.64},
    {"19 Manufacture of electrical machinery and equipment", 7.0, 0.02, 0.02, 1.0, 1.0, 0.40, 0.01, 0.59},
    {"20 Manufacture of communication equipment, computers and other electronic equipment", 11.0, 0.01, 0.015,
     1.0, 1.0, 0.60, 0.02, 0.38},
    {"21 Manufacture of instruments and meters", 1.0, 0.02, 0.02, 1.0, 1.0, 0.20, 0.05, 0.75},
    {"22 Other manufacturing and waste resources", 0.6, 0.10, 0.08, 1.5, 1.0, 0.60, 0.01, 0.39},
    {"23 Repair of metal products, machinery and equipment", 0.12, 0.05, 0.04, 1.0, 0.3, 0.50, 0.10, 0.40},
    {"24 Production and supply of electric power and heat power", 6.4, 6.50, 1.80, 2.5, 0.5, 0.90, 0.10, 0.00},
    {"25 Production and supply of gas", 0.7, 0.30, 0.25, 1.5, 0.3, 0.95, 0.05, 0.00},
    {"26 Production and supply of water", 0.3, 0.10, 0.10, 1.0, 0.05, 0.90, 0.10, 0.00},
    {"27 Construction", 22.0, 0.03, 0.04, 0.15, 0.05, 0.03, 0.02, 0.95},
    {"28 Wholesale and retail trades", 11.0, 0.04, 0.04, 1.5, 0.6, 0.70, 0.01, 0.29},
    {"29 Transport, storage, and postal services", 8.5, 0.50, 0.45, 1.5, 0.7, 0.85, 0.05, 0.10},
    {"30 Accommodation and catering", 3.8, 0.08, 0.08, 0.6, 0.3, 0.95, 0.05, 0.00},
    {"31 Information transmission, software and information technology services", 5.0, 0.01, 0.02, 1.0, 0.6, 0.60,
     0.05, 0.35},
    {"32 Finance", 10.5, 0.005, 0.005, 1.5, 0.5, 0.95, 0.05, 0.00},
    {"33 Real estate", 8.5, 0.01, 0.01, 0.4, 0.02, 0.75, 0.00, 0.25},
    {"34 Leasing and commercial services", 6.8, 0.015, 0.015, 1.5, 0.5, 0.60, 0.10, 0.30},
    {"35 Research and experimental development", 0.8, 0.02, 0.02, 1.0, 0.5, 0.05, 0.50, 0.45},
    {"36 Technical services", 2.1, 0.015, 0.02, 1.0, 0.5, 0.10, 0.20, 0.70},
    {"37 Management of water conservancy, environment and public facilities", 1.2, 0.05, 0.05, 0.5, 0.1, 0.10,
     0.85, 0.05},
    {"38 Resident, repair and other services", 2.0, 0.07, 0.06, 0.5, 0.1, 0.95, 0.05, 0.00},
    {"39 Education", 4.5, 0.03, 0.04, 0.1, 0.1, 0.35, 0.65, 0.00},
    {"40 Health care and social work", 4.0, 0.03, 0.04, 0.1, 0.1, 0.45, 0.55, 0.00},
    {"41 Culture, sports, and entertainment", 1.1, 0.03, 0.03, 0.4, 0.3, 0.80, 0.15, 0.05},
    {"42 Public administration, social security, and social organizations", 5.0, 0.04, 0.05, 0.05, 0.02, 0.02,
     0.98, 0.00},
}};

// Regional specialisation: multiplies a province's share of a sector's national
// output (then renormalised). Ballpark only: coal in Shanxi/Inner Mongolia/
// Shaanxi, steel in Hebei, electronics in Guangdong, finance in Beijing/Shanghai...
struct Specialisation {
  int sector;     ///< 1-based sector code
  double others;  ///< factor for provinces not listed
  std::vector<std::pair<const char*, double>> listed;
};
const Specialisation kSpecialisations[] = {
    {1, 1.0, {{"Beijing", 0.1}, {"Shanghai", 0.1}, {"Tianjin", 0.3}, {"Henan", 1.5}, {"Heilongjiang", 2.0},
              {"Jilin", 1.5}, {"Sichuan", 1.4}, {"Shandong", 1.3}, {"Hunan", 1.3}, {"Guangxi", 1.5},
              {"Hainan", 2.0}, {"Xinjiang", 1.6}, {"Yunnan", 1.4}, {"Inner Mongolia", 1.4}}},
    {2, 0.6, {{"Shanxi", 8.0}, {"Inner Mongolia", 6.0}, {"Shaanxi", 5.0}, {"Ningxia", 4.0}, {"Xinjiang", 3.0},
              {"Guizhou", 2.5}, {"Anhui", 1.5}, {"Henan", 1.5}, {"Heilongjiang", 1.5}, {"Beijing", 0.05},
              {"Shanghai", 0.02}, {"Tianjin", 0.1}, {"Zhejiang", 0.05}, {"Guangdong", 0.05}, {"Hainan", 0.02},
              {"Tibet", 0.05}, {"Fujian", 0.3}, {"Jiangsu", 0.3}}},
    {3, 0.3, {{"Heilongjiang", 6.0}, {"Xinjiang", 5.0}, {"Shaanxi", 4.0}, {"Tianjin", 4.0}, {"Sichuan", 2.0},
              {"Shandong", 1.5}, {"Qinghai", 2.0}, {"Jilin", 1.5}, {"Guangdong", 1.0}}},
    {11, 1.0, {{"Liaoning", 2.0}, {"Shandong", 2.0}, {"Shanxi", 2.0}, {"Hebei", 1.5}, {"Ningxia", 1.5},
               {"Xinjiang", 1.5}, {"Tibet", 0.05}, {"Beijing", 0.3}}},
    {12, 1.0, {{"Beijing", 0.4}, {"Tibet", 0.1}, {"Jiangsu", 1.4}, {"Shandong", 1.4}}},
    {13, 1.0, {{"Hebei", 1.3}, {"Shandong", 1.3}, {"Henan", 1.4}, {"Anhui", 1.4}, {"Beijing", 0.2},
               {"Shanghai", 0.3}, {"Tibet", 0.6}}},
    {14, 1.0, {{"Hebei", 4.0}, {"Liaoning", 2.0}, {"Jiangsu", 1.5}, {"Shandong", 1.3}, {"Inner Mongolia", 1.8},
               {"Shanxi", 1.5}, {"Gansu", 1.8}, {"Ningxia", 1.8}, {"Qinghai", 1.5}, {"Beijing", 0.1},
               {"Hainan", 0.1}, {"Tibet", 0.1}, {"Shanghai", 0.6}}},
    {20, 1.0, {{"Guangdong", 3.5}, {"Jiangsu", 2.0}, {"Chongqing", 2.0}, {"Sichuan", 1.4}, {"Shanghai", 1.5},
               {"Tibet", 0.1}, {"Qinghai", 0.1}, {"Ningxia", 0.1}, {"Xinjiang", 0.1}, {"Gansu", 0.1},
               {"Inner Mongolia", 0.1}, {"Heilongjiang", 0.1}}},
    {24, 1.0, {{"Inner Mongolia", 2.5}, {"Shanxi", 2.0}, {"Ningxia", 3.0}, {"Xinjiang", 2.0}, {"Yunnan", 1.8},
               {"Sichuan", 1.5}, {"Guizhou", 1.8}, {"Qinghai", 1.8}, {"Beijing", 0.4}, {"Shanghai", 0.6},
               {"Hainan", 0.8}}},
};
// Knowledge-intensive services concentrate in the large coastal cities.
constexpr int kServiceHubSectors[] = {31, 32, 34, 35, 36};
const std::pair<const char*, double> kServiceHubs[] = {
    {"Beijing", 3.0}, {"Shanghai", 2.5}, {"Guangdong", 1.4}, {"Zhejiang", 1.3}};

Index province_index(const char* name) {
  for (Index r = 0; r < kR; ++r)
    if (std::string(kProvinces[static_cast<size_t>(r)].name) == name) return r;
  throw std::logic_error(std::string("china.cpp: unknown province in a table: ") + name);
}

Matrix specialisation_matrix() {
  Matrix aff = Matrix::Ones(kR, kN);
  for (const auto& sp : kSpecialisations) {
    aff.col(sp.sector - 1).setConstant(sp.others);
    for (const auto& [name, f] : sp.listed) aff(province_index(name), sp.sector - 1) = f;
  }
  for (int s : kServiceHubSectors)
    for (const auto& [name, f] : kServiceHubs) aff(province_index(name), s - 1) *= f;
  return aff;
}

}  // namespace

MrioSystem china_synthetic(std::uint64_t seed) {
  using namespace detail;
  constexpr Index n = kR * kN, c = 3;
  constexpr double kTen4CnyPerTrillion = 1e8;  // 10^12 CNY = 10^8 x 10^4 CNY
  constexpr double kMtPerT = 1e-6;             // stressor units are Mt (CO2) and Mt (tce)
  constexpr Index kPowerSector = 23;           // 0-based index of "24 Production and supply of electric power..."

  Blueprint bp;
  bp.R = kR;
  bp.N = kN;
  bp.c = c;
  bp.seed = seed;
  bp.threads = 0;
  // Provincial tables are dense-ish; interprovincial inputs are ~1/4 of inputs.
  bp.domestic_density = 0.75;
  bp.trade_density = 0.3;
  bp.domestic_share = 0.45;
  bp.trade_share = 0.17;
  bp.share_spread = 0.3;
  bp.min_final_share = 0.06;

  std::vector<double> gdp(kR), national_output(kN);
  for (Index r = 0; r < kR; ++r) gdp[static_cast<size_t>(r)] = kProvinces[static_cast<size_t>(r)].gdp;
  bp.category_weight.resize(kN, c);
  for (Index i = 0; i < kN; ++i) {
    const Sector& s = kSectors[static_cast<size_t>(i)];
    national_output[static_cast<size_t>(i)] = s.output * kTen4CnyPerTrillion;
    bp.supplier_weight.push_back(s.supplier);
    bp.tradability.push_back(s.tradable);
    bp.category_weight(i, 0) = s.fd_household;
    bp.category_weight(i, 1) = s.fd_government;
    bp.category_weight(i, 2) = s.fd_capital;
  }
  // x: each sector's national output shared over provinces by GDP x specialisation x noise.
  bp.x = gross_output(gdp, national_output, specialisation_matrix(), 0.25, true, seed);
  bp.region_weight = gdp;

  Economy e = random_economy(bp);

  // Intensities: national sector intensity x province efficiency (all
  // sectors, lognormal sigma 0.2) x grid factor (power only; energy uses its
  // square root: hydro saves less energy than CO2 in this synthetic account)
  // x cell noise (sigma 0.15).
  Matrix S(2, n);
  Rng rng(seed, Stream::Intensities);
  std::vector<double> efficiency(kR);
  for (auto& f : efficiency) f = rng.lognormal(0.0, 0.2);
  for (Index r = 0; r < kR; ++r)
    for (Index i = 0; i < kN; ++i) {
      const Sector& s = kSectors[static_cast<size_t>(i)];
      const double grid = i == kPowerSector ? kProvinces[static_cast<size_t>(r)].power_co2 : 1.0;
      const double base = efficiency[static_cast<size_t>(r)] * kMtPerT;
      S(0, r * kN + i) = s.co2 * grid * base * rng.lognormal(0.0, 0.15);
      S(1, r * kN + i) = s.energy * std::sqrt(grid) * base * rng.lognormal(0.0, 0.15);
    }
  // Calibrate the industrial totals to a 2017-like ballpark (about 9.6 Gt CO2
  // and 4.5 Gtce) with one factor per stressor: the ranking of sectors and
  // provinces is that of the draws above.
  const Matrix produced = regional_production_flows(S, e.x, kR);
  S.row(0) *= 9600.0 / produced.row(0).sum();
  S.row(1) *= 4500.0 / produced.row(1).sum();

  // Households' direct emissions and energy use (cars, heating, cooking): about
  // 400 Mt CO2 and 520 Mtce nationally, shared by household demand, higher in
  // the north (central heating).
  Matrix per_region(2, kR);
  Rng rf(seed, Stream::FinalDemandStressors);
  double total_weight = 0;
  for (Index r = 0; r < kR; ++r) {
    const double household_demand = e.Y.col(r * c).sum();
    const double w = household_demand * (kProvinces[static_cast<size_t>(r)].north ? 1.6 : 1.0) *
                     rf.lognormal(0.0, 0.1);
    per_region(0, r) = w;
    total_weight += w;
  }
  per_region.row(1) = per_region.row(0) * (520.0 / total_weight);
  per_region.row(0) *= 400.0 / total_weight;
  Matrix F_Y = household_stressors(per_region, c);
  Vector v = value_added(e.A, e.x);

  Labels labels;
  for (const auto& p : kProvinces) labels.regions.emplace_back(p.name);
  for (const auto& s : kSectors) labels.sectors.emplace_back(s.name);
  labels.fd_categories = {"Household consumption", "Government consumption", "Gross capital formation"};
  labels.stressors = {"CO2", "Energy"};
  labels.stressor_units = {"Mt CO2 (synthetic)", "Mtce (synthetic)"};
  labels.monetary_unit = "10^4 CNY (synthetic)";
  return MrioSystem::from_A_x(std::move(labels), std::move(e.A), std::move(e.x), std::move(e.Y), std::move(S),
                              std::move(F_Y), std::move(v));
}

}  // namespace mriotrace::datasets
