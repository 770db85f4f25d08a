// One wide, labelled region-by-sector CSV table straight into an MrioSystem:
// the layout shared by OECD ICIO (ICIO2023_<year>.csv) and FIGARO
// (matrix_eu-ic-io_<ind-by-ind|prod-by-prod>_<ed>_<year>.csv). Private to io/.
//
//   header: corner cell, then column labels REGION_SECTOR (the intermediate
//           block), REGION_CODE with CODE a final-demand code (Y), and totals
//           to drop (OUT)
//   rows:   REGION_SECTOR (the n rows of Z and Y, labels those of the Z
//           columns), then other labels (value added, taxes: one extension of
//           flows F over the Z columns and F_Y over the Y columns), and totals
//           to drop (OUT)
// The label is split at its first "_" (sector codes may hold more: OECD
// "A01_02", FIGARO "CPA_A01"). Sectors must be the same in every region.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "table_stream.hpp"

namespace mriotrace::io::detail {

struct WideLayout {
  std::string what;                    ///< database and file, for messages ("OECD ICIO \"2019.csv\"")
  std::set<std::string> fd_codes;      ///< final-demand codes (after "REGION_")
  std::set<std::string> drop_columns;  ///< whole column labels left out (totals)
  std::set<std::string> drop_rows;     ///< whole row labels left out (totals)
  /// Region merged into another (OECD: "CN1" -> "CHN"); "" keeps it. A merge
  /// whose target is not in the table keeps the region as it is.
  std::function<std::string(const std::string&)> merge_region;
  bool empty_is_zero = true;           ///< an empty cell is 0 (pandas' fillna(0), as pymrio reads them)
  std::string extension;               ///< extension of the other rows ("factor_inputs")
  std::string extension_index_name;    ///< its index name ("inputtype")
  std::string monetary_unit;           ///< of Z, Y, x and the extension rows
};

struct WideTable {
  std::shared_ptr<MrioSystem> system;
  std::vector<std::string> merged;     ///< regions merged into others ("CN1 -> CHN")
  std::vector<std::string> dropped;    ///< row / column labels left out
};

/// Reads `csv` (header first). InputError for a wrong header, a non-numeric
/// cell (naming file, row, column and its label) or a row of the wrong
/// length; FileError when rows of the intermediate block are missing.
WideTable read_wide_table(CsvReader& csv, const WideLayout& layout, int threads);

/// A wide table's csv opened for reading: the csv itself, a folder or zip of
/// csv files (one per year: pick with `year`), or a zip of such zips (OECD
/// ICIO since 2024). `filter` (may be empty) narrows the csv files by base
/// name (FIGARO: ind-by-ind or prod-by-prod). The archives stay open as long
/// as the reader.
struct WideSource {
  std::unique_ptr<Archive> outer, inner;
  std::unique_ptr<CsvReader> csv;
  std::string file_name;  ///< base name of the csv
};
WideSource open_wide_csv(const std::string& path, const std::string& what, const std::string& year,
                         const std::function<bool(const std::string&)>& filter = {});

/// The 4-digit year in a file name ("ICIO2023_2019.csv" -> "2019": the last one), else "".
std::string year_in_name(const std::string& name);

}  // namespace mriotrace::io::detail
