// Reader for the OECD Inter-Country Input-Output tables, 2023 release
// (https://www.oecd.org/sti/ind/inter-country-input-output-tables.htm), csv
// format, straight into an MrioSystem.
//
// Layout (one wide comma-separated table per year, docs/global-databases.md):
//   header  corner cell ("V1"), then AUS_A01_02 ... (region x industry: 81 x 45
//           in the extended tables, with China and Mexico also split into
//           CN1, CN2, MX1, MX2), AUS_HFCE, AUS_NPISH, AUS_GGFC, AUS_GFCF,
//           AUS_INVNT, AUS_DPABR ... (region x final-demand category), OUT
//   rows    the region x industry rows, then TLS (taxes less subsidies on
//           products), VA (value added), OUT (output)
// Values in million USD, current prices.
//
// What is read: Z (n x n) and Y (n x R*c), with CN1, CN2, ... added into CHN
// and MX1, MX2, ... into MEX (rows and columns; they have no final-demand
// columns of their own, as pymrio's parse_oecd does); TLS and VA as the
// extension "factor_inputs" (index name "inputtype"; F over the industry
// columns, F_Y over the final-demand columns). x = Z1 + Y1 (the OUT row and
// column are not read). Exact zeros are not stored (Z is sparse).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mriotrace/system.hpp"

namespace mriotrace::io {

struct OecdIcioOptions {
  std::string year;  ///< which table of a zip holding several years ("2019"); "" = the only one
  int threads = 0;
};

struct OecdIcioTable {
  /// R regions (ISO3 codes and ROW) x N industries (codes, "A01_02"), 6 final-demand
  /// categories; monetary unit "M.USD". Shared: it reaches Python without a copy.
  std::shared_ptr<MrioSystem> system;
  std::string file;                  ///< the csv read ("ICIO-2016-2020-extended.zip:2019.csv")
  std::string year;                  ///< from the file name, else ""
  std::vector<std::string> merged;   ///< e.g. "CN1 -> CHN"
};

/// Read an ICIO 2023 table: the csv, a zip holding the csv files of several
/// years (pick one with options.year), or a zip of such zips. Throws FileError
/// for a missing, truncated or unreadable file (naming it) and InputError for
/// a wrong header or a non-numeric cell (naming file, row and column).
OecdIcioTable read_oecd_icio(const std::string& path, const OecdIcioOptions& options = {});

}  // namespace mriotrace::io
