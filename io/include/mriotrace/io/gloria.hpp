// Reader for GLORIA (Global Resource Input-Output Assessment, https://ielab.info/labs/ielab-gloria),
// the MRIO csv files with the label workbook, straight into an MrioSystem.
//
// Layout (docs/global-databases.md): comma-separated numbers without labels,
//   GLORIA_MRIOs_<version>_<year>.zip (or its folder) holding
//     <date>_120secMother_AllCountries_002_T-Results_<year>_0<version>_Markup001(full).csv
//         R*2N x R*2N: the supply-use table; each region's block is its N
//         industries, then its N products (rows and columns alike)
//     ..._Y-Results_<year>_0<version>_Markup001(full).csv   R*2N x R*c final demand
//     ..._V-Results_<year>_0<version>_Markup001(full).csv   R*v x R*2N value added
//   GLORIA_SatelliteAccounts_0<version>_<year>.zip (or folder) holding
//     ..._TQ-Results_<year>_0<version>_Markup001(full).csv  k x R*2N satellites
//     ..._YQ-Results_<year>_0<version>_Markup001(full).csv  k x R*c  satellites of final demand
//   GLORIA_ReadMe_0<version>.xlsx: the labels (read by the caller, GloriaLabels)
// Money in thousand US dollars (k.USD), basic prices (Markup001; Markup005 =
// purchasers' prices for T and Y, price = "pp").
//
// What is read: U (products x industries) and V (industries x products) out
// of T, the product rows of Y, the industry columns of V-Results and TQ,
// and YQ. The industry-by-industry and product-by-product blocks of T are
// empty in GLORIA and are not read. The input-output table built (pymrio's
// parse_gloria constructs, Eurostat manual ch. 11), g = V1, q = U1 + Y1:
//   "B" product by product, industry technology (pymrio's default):
//       A = U diag(g)^-1 V diag(q)^-1, x = q, Y = Y_products,
//       F_Q = TQ_ind diag(g)^-1 V, F_VA = VA_ind diag(g)^-1 V
//   "D" industry by industry, fixed product sales structure:
//       A = V diag(q)^-1 U diag(g)^-1, x = g, Y = V diag(q)^-1 Y_products,
//       F_Q = TQ_ind, F_VA = VA_ind
// Extensions (pymrio's names): "Q" (index stressor = Sat_indicator,
// category = Sat_head_indicator; units Sat_unit; F_Y = YQ) and "VA" (index
// region, inputtype; k.USD). Regions whose rows and columns of T are all zero
// (a country without data in that year) are dropped, as pymrio does.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mriotrace/system.hpp"

namespace mriotrace::io {

/// The labels of the ReadMe workbook (sheets Regions, Sectors, "Value added
/// and final demand", Satellites), in file order.
struct GloriaLabels {
  std::vector<std::string> regions;         ///< R, e.g. acronyms ("AFG")
  std::vector<std::string> sectors;         ///< N (120) sector names
  std::vector<std::string> final_demand;    ///< c (6) final-demand categories
  std::vector<std::string> value_added;     ///< v (6) value-added categories
  std::vector<std::string> sat_indicator;   ///< k satellite rows ...
  std::vector<std::string> sat_head;        ///< ... their head indicator ...
  std::vector<std::string> sat_unit;        ///< ... and unit
};

struct GloriaOptions {
  std::string year;          ///< "2022"; "" = the only year present
  std::string version;       ///< "59"; "" = the only version present
  std::string price = "bp";  ///< "bp" (Markup001) or "pp" (Markup005, for T and Y)
  std::string construct = "B";  ///< "B" (product by product) or "D" (industry by industry)
  bool satellites = true;    ///< read TQ / YQ (needs the satellite path)
  bool value_added = true;   ///< read V-Results as extension VA
  int threads = 0;
};

struct GloriaTable {
  std::shared_ptr<MrioSystem> system;       ///< R' regions (empty ones dropped) x N sectors; k.USD
  std::string year, version, construct;
  std::vector<std::string> dropped_regions; ///< regions without data in T
  std::vector<std::string> files;           ///< the csv files read
};

/// The supply-use form as published (regions without data dropped): U
/// (products x industries) and V (industries x products), n x n sparse; Y the
/// product rows of final demand (n x R*c); VA (R*v x n) and TQ (k x n) over the
/// industry columns; YQ (k x R*c). Matrices not read are empty. Money in k.USD.
struct GloriaSut {
  std::vector<std::string> regions;          ///< kept regions (R')
  SparseMatrix U, V;
  Matrix Y, VA, TQ, YQ;
  std::string year, version;
  std::vector<std::string> dropped_regions;
  std::vector<std::string> files;
};

/// Read GLORIA's supply-use tables (arguments as read_gloria; construct is not used).
GloriaSut read_gloria_sut(const std::string& mrio, const std::string& satellites, const GloriaLabels& labels,
                          const GloriaOptions& options = {});

/// Read GLORIA: `mrio` is GLORIA_MRIOs_<version>_<year>.zip or its folder,
/// `satellites` GLORIA_SatelliteAccounts_0<version>_<year>.zip or its folder
/// ("" = none). (Python's read_gloria finds both and the ReadMe in one folder.)
/// Throws FileError (missing, truncated file, naming it) and InputError (a
/// table of the wrong size for the labels, a non-numeric cell: naming file,
/// row and column).
GloriaTable read_gloria(const std::string& mrio, const std::string& satellites, const GloriaLabels& labels,
                        const GloriaOptions& options = {});

}  // namespace mriotrace::io
