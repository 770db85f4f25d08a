// Reader for the WIOD 2016 release (https://doi.org/10.34894/PJ2M1C): the
// world input-output table workbook WIOT<year>_Nov16_ROW.xlsx, straight into
// an MrioSystem, with the environmental accounts (JRC, one workbook per
// account, one sheet per country) as stressors.
//
// WIOT sheet layout (docs/global-databases.md), R = 44 (43 countries + ROW),
// N = 56 sectors, c = 5 final-demand categories, n = R N, millions of US$:
//   rows 1-6  header; column A rows 1-4 carry the title (ending in the year)
//             and "(millions of US$)"; from column E:
//     row 3   codes:        A01 .. U (per country), CONS_h CONS_np CONS_g GFCF INVEN (per country), TOT
//     row 4   descriptions
//     row 5   country:      AUS .. ROW, (TOT column: any)
//     row 6   column codes  c1 .. c61 (not read)
//   rows 7 .. 6+n   one per (country, sector), region-major: A code, B description,
//                   C country, D row code; then n columns Z, R*c columns Y, TOT
//   then rows       II_fob TXSP EXP_adj PURR PURNR VA IntTTM GO (column A), any order,
//                   GO required; under the sector and final-demand columns.
// Environmental account workbook: a sheet per country (named by its code);
// row 1: column A a label, columns B.. the years (2000 ..); rows 2..: column
// A the sector code, one value per year; a households row (HH, FC_HH,
// Households) goes to final demand (CONS_h); total rows (Total, TOT, secTOT)
// are skipped.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mriotrace/system.hpp"

namespace mriotrace::io {

/// One environmental account: one stressor row named `name` in `unit`.
struct WiodEnvAccount {
  std::string path;  ///< the account's workbook (.xlsx), a sheet per country
  std::string name;  ///< stressor label, e.g. "CO2"
  std::string unit;  ///< e.g. "kt"; the workbooks carry none
};

struct WiodOptions {
  std::string sheet;                ///< WIOT sheet; default: the one named by the year, else the first
  std::vector<WiodEnvAccount> env;  ///< environmental accounts, in stressor order
};

struct WiodTable {
  /// Z, Y, x (GO row) in the table's unit; v = GO - column sums of Z (the rows
  /// TXSP .. IntTTM together). Stressors: extension "factor_inputs" (the rows
  /// TXSP .. IntTTM present, unit = monetary unit; their final-demand cells in
  /// F_Y), then extension "env" (one row per WiodEnvAccount).
  /// Labels: regions = country codes, sectors = sector codes (A01 ..),
  /// categories = final-demand codes (CONS_h ..).
  std::shared_ptr<MrioSystem> system;
  std::string year;   ///< from the title cell or the file name, else ""
  std::string sheet;  ///< sheet read
  std::vector<std::string> sector_names;    ///< N descriptions (row 4)
  std::vector<std::string> category_names;  ///< c descriptions
  std::vector<std::string> factor_rows;     ///< codes of the factor-input rows read
  /// Largest relative imbalance of the table's identities (row: Z1 + Y1 vs
  /// TOT; column: Z'1 + factor rows vs GO; II_fob vs Z'1; TOT vs GO) and which.
  double max_imbalance = 0.0;
  std::string imbalance;
};

/// Read a WIOT workbook. Throws FileError (missing, truncated or non-xlsx
/// file, missing sheet) and InputError (wrong header, non-numeric cell,
/// labels out of order), each naming file, sheet, cell (row and column).
WiodTable read_wiod2016(const std::string& path, const WiodOptions& options = {});

}  // namespace mriotrace::io
