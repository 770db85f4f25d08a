// Reader for the US EPA USEEIO "API" JSON model format.
//
// A model folder holds sectors.json, flows.json, indicators.json,
// demands.json, matrix/{A,B,C,...}.json (row-major lists of lists) and
// demands/<id>.json (lists of {sector, amount}). Sector ids are "code/location";
// the location becomes the region (USEEIO: one region "US"; state models such
// as GAEEIO: two regions), the code the sector.
#pragma once

#include <string>
#include <vector>

#include "mriotrace/system.hpp"

namespace mriotrace::io {

struct UseeioModel {
  /// R regions (locations) x N sector codes; S = B (flows x n, per USD),
  /// C = indicators x flows; Y = one category "final demand" per region
  /// (the model's Consumption/Complete demand for that location when present,
  /// else zero); x = commodity output from matrix/q.json, else matrix/x.json
  /// when it has n entries, else L * (sum of the Production/Complete demands)
  /// (see useeio.cpp for why not L * sum(Y)).
  MrioSystem system;
  std::vector<std::string> demand_ids;  ///< ids from demands.json, in file order
  Matrix demands;                       ///< n x d, column j = demand vector demand_ids[j] (USD)
  std::vector<std::string> sector_ids;  ///< the n original "code/location" ids, in system order
  std::vector<std::string> sector_names;///< the n descriptive names
};

/// Read a USEEIO model folder. Throws FileError for a missing/unparsable file,
/// InputError for inconsistent contents (naming the file and the mismatch).
UseeioModel read_useeio(const std::string& dir, int threads = 0);

/// Read one row-major JSON matrix file (list of lists) into a dense matrix.
Matrix read_json_matrix(const std::string& path);

}  // namespace mriotrace::io
