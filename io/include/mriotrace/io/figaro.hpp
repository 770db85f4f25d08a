// Reader for FIGARO, Eurostat's EU inter-country supply, use and input-output
// tables (https://ec.europa.eu/eurostat/web/esa-supply-use-input-tables/database),
// the input-output tables in csv "matrix" format, straight into an MrioSystem.
//
// Layout (one wide comma-separated table per year and kind, docs/global-databases.md):
//   matrix_eu-ic-io_ind-by-ind_<ed>_<year>.csv     industry by industry (64 NACE industries)
//   matrix_eu-ic-io_prod-by-prod_<ed>_<year>.csv   product by product (64 CPA products)
//   header  "rowLabels", then AR_A01 ... (region x industry: 46 regions, ISO
//           2-letter codes and FIGW1 for the rest of the world; products
//           AR_CPA_A01 ...), then AR_P3_S13, AR_P3_S14, AR_P3_S15, AR_P51G, AR_P5M
//           ... (region x final-demand category: government, households,
//           NPISH consumption, gross fixed capital formation, changes in
//           inventories and valuables)
//   rows    the region x industry rows, then the value-added and tax rows
//           (e.g. W2_D1 compensation of employees, W2_B2A3G operating surplus,
//           W2_D21X31 taxes less subsidies on products)
// Values in million euro (M.EUR), current prices.
//
// What is read: Z (sparse) and Y; every other row as the extension
// "factor_inputs" (index name "inputtype", F over the industry columns, F_Y
// over the final-demand columns), each with its label as written. FIGARO
// publishes no environmental extension with these tables. x = Z1 + Y1.
#pragma once

#include <memory>
#include <string>

#include "mriotrace/system.hpp"

namespace mriotrace::io {

struct FigaroOptions {
  std::string year;  ///< "" = the only year present (a folder or zip may hold several)
  std::string kind;  ///< "ixi" (ind-by-ind), "pxp" (prod-by-prod), "" = the only one present
  int threads = 0;
};

struct FigaroTable {
  std::shared_ptr<MrioSystem> system;  ///< 46 regions x 64 industries (or products), 5 categories; M.EUR
  std::string file;                    ///< the csv read
  std::string year;                    ///< from the file name
  std::string kind;                    ///< "ixi" or "pxp", from the file name
};

/// Read a FIGARO input-output table: the csv, or a folder or zip holding
/// them. Throws FileError (missing, truncated file) and InputError (a wrong
/// header, a non-numeric cell: naming file, row and column).
FigaroTable read_figaro(const std::string& path, const FigaroOptions& options = {});

}  // namespace mriotrace::io
