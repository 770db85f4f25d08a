// CSV export of accounts: one tidy table per file, labelled on every row.
// Rows are named by labels.stressors[accounts.stressors[i]] and its unit;
// accounts with one row and no stressor index (calc_value_added_accounts) are
// named "value added" in labels.monetary_unit. Fields with commas, quotes or
// line breaks are quoted (RFC 4180); numbers are printed with %.17g.
#pragma once

#include <string>

#include "mriotrace/accounts.hpp"
#include "mriotrace/system.hpp"

namespace mriotrace::io {

/// Write regional accounts as a tidy CSV with header
///   stressor,unit,region,D_cba_reg,D_pba_reg,D_imp_reg,D_exp_reg
/// (one row per stressor x region), atomically. Requires accounts.regional.
void write_regional_csv(const std::string& path, const Labels& labels, const Accounts& accounts);

/// Write sector-level accounts as a tidy CSV with header
///   stressor,unit,region,sector,M,D_cba,D_pba,D_imp,D_exp
/// atomically. Requires accounts.sector_level.
void write_sector_csv(const std::string& path, const Labels& labels, const Accounts& accounts);

/// Write a consumption-based account split finer than by region, atomically:
///   by_category: D is k x R*c, header stressor,unit,region,category,D_cba
///   else (by product): D is k x R*N, header stressor,unit,region,sector,D_cba
/// (region = the consuming region). Rows named by `stressors` (indices into labels).
void write_split_csv(const std::string& path, const Labels& labels, const std::vector<Index>& stressors,
                     const Matrix& D, bool by_category);

}  // namespace mriotrace::io
