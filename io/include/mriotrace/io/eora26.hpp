// Reader for Eora26 (https://worldmrio.com/eora26/), the simplified 26-sector
// Eora MRIO, as distributed: Eora26_<year>_<bp|pp>.zip (or its unpacked
// folder), straight into an MrioSystem.
//
// Layout (tab-separated text without header rows, docs/global-databases.md):
//   Eora26_<year>_<price>_T.txt    n' x n'   intermediate flows
//   Eora26_<year>_<price>_FD.txt   n' x R'*c final demand
//   Eora26_<year>_<price>_VA.txt   v x n'    value added
//   Eora26_<year>_<price>_Q.txt    k x n'    satellites
//   Eora26_<year>_<price>_QY.txt   k x R'*c  satellites of final demand
//   labels_T.txt, labels_FD.txt    country, code, table, sector / category
//   labels_Q.txt, labels_VA.txt    name, source (Q: "name (unit)")
// The labels are in the zip or in indices.zip beside it (pymrio's layout).
// n' = 189 countries x 26 sectors + 1 (ROW, the rest of the world, one row
// "TOTAL"); ROW is left out (as pymrio's parse_eora26 does).
//
// Units: **thousand US dollars** (current prices, k.USD), as the Eora FAQ
// documents; money_unit "M.USD" divides Z, Y and VA by 1000. Satellites in
// the units written in their labels ("(Gg)", "(TJ)").
// Extensions (pymrio's names): "Q" (index stressor, source; F_Y = QY) and
// "VA" (index inputtype, category).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mriotrace/system.hpp"

namespace mriotrace::io {

struct Eora26Options {
  std::string year;              ///< "" = the only year present
  std::string price = "bp";      ///< "bp" (basic prices) or "pp" (purchasers' prices)
  std::string money_unit = "k.USD";  ///< "k.USD" (as published) or "M.USD" (divided by 1000)
  bool satellites = true;        ///< read Q / QY
  bool value_added = true;       ///< read VA
  int threads = 0;
};

struct Eora26Table {
  std::shared_ptr<MrioSystem> system;  ///< 189 regions x 26 sectors, 6 categories (ROW left out)
  std::string year, price;
  std::vector<std::string> dropped;    ///< regions left out ("ROW")
  double dropped_flows = 0;            ///< sum of T over the rows and columns left out (k.USD)
};

/// Read Eora26. Throws FileError (missing or truncated file, naming it) and
/// InputError (labels and tables of different sizes, a non-numeric cell:
/// naming file, row and column).
Eora26Table read_eora26(const std::string& path, const Eora26Options& options = {});

}  // namespace mriotrace::io
