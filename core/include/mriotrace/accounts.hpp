// Environmentally-extended accounts, computed inverse-free.
//
// Definitions follow pymrio's calc_accounts / calc_system (see docs/methods.md);
// no account builds an n x n matrix. With y_r = region r's final demand summed
// over its categories (n x R block Yr), X_r = (I - A)^-1 y_r (R solves) and
// M = S (I - A)^-1 from k transposed solves:
//
//   M         k x n      S L                                   (k transposed solves)
//   D_cba     k x n      col (r,j) = sum_o M[:,(o,j)] Yr[(o,j), r]
//   D_pba     k x n      S o (sum_r X_r)
//   D_imp     k x n      D_cba minus the domestic part sum_o M^(r)[:,(o,j)] Yr[(o,j), r],
//                        M^(r) = S^(r) L, S^(r) = S with only region r's columns (R*k transposed solves)
//   D_exp     k x n      S o (x - sum_r mask_r X_r)
//   Q         k x R*R    col p*R + r: emitted in region p, caused by final demand of region r
//                        = sum_{i in p} S[:,(p,i)] X_r[(p,i)]
//   D_cba_reg k x R      per-region sums of D_cba + F_Y summed per region  (= sum_p Q[:,p,r] + F_Y_r)
//   D_pba_reg k x R      per-region sums of D_pba + F_Y summed per region  (= sum_r Q[:,p,r] + F_Y_p)
//   D_imp_reg k x R      per-region sums of D_imp                          (= sum_{p != r} Q[:,p,r])
//   D_exp_reg k x R      per-region sums of D_exp                          (= sum_{r != p} Q[:,p,r])
// Regional accounts and Q need only the R solves X_r.
#pragma once

#include <utility>
#include <vector>

#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"
#include "mriotrace/types.hpp"

namespace mriotrace {

/// How the sector-level D_cba and D_imp are computed (docs/solvers.md, "Sector-level accounts"):
///   Multipliers  R*k transposed solves: M^(-r) = S^(-r) L for every region r
///                (right-hand sides S^T with region r's rows zeroed), then
///                D_imp[:, (r,j)] = sum_o M^(-r)[:, (o,j)] Yr[(o,j), r]; D_cba from M.
///   Demand       n forward solves, region by region: column (r,j) of pymrio's
///                x_diag = L y_(r,j), y_(r,j) = region r's demand for product j from
///                every origin; D_cba = S x_diag, D_imp = S x_diag with the
///                consuming region's rows zeroed. No n x n matrix is held.
///   Auto         Demand when it needs fewer solves: R*k > n + 2k + R/2 (the
///                products of Demand cost about 2k + R/2 solves' flops).
enum class SectorPath { Auto, Multipliers, Demand };

struct AccountsOptions {
  bool sector_level = true;         ///< M, D_cba, D_pba, D_imp, D_exp (k x n)
  bool regional = true;             ///< D_*_reg (k x R) and Q
  std::vector<Index> stressors;     ///< rows of S to use; empty = all
  SectorPath sector_path = SectorPath::Auto;
};

/// The path Auto takes for n sectors, R regions and k stressor rows.
SectorPath choose_sector_path(Index n, Index R, Index k);

struct Accounts {
  std::vector<Index> stressors;     ///< stressor indices (into the system's stressors) of the rows
  Vector x;                         ///< n, gross output recomputed as (I - A)^-1 sum_r y_r
  Matrix M;                         ///< k x n, or empty when !sector_level
  Matrix D_cba, D_pba, D_imp, D_exp;                  ///< k x n, or empty
  Matrix D_cba_reg, D_pba_reg, D_imp_reg, D_exp_reg;  ///< k x R, or empty when !regional
  Matrix Q;                         ///< k x R*R, column p*R + r, or empty when !regional
  bool sector_level = false;        ///< the k x n members are filled
  bool regional = false;            ///< the k x R members and Q are filled
  SectorPath sector_path = SectorPath::Auto;  ///< path that computed D_cba and D_imp (sector level)
};

/// Regional accounts from the outputs each region's final demand induces.
///   S:      k x n intensities
///   X:      n x R, column r = (I - A)^-1 y_r
///   F_Y_r:  k x R stressors of final demand per region, or empty (none)
/// Fills acc.Q (k x R*R, column p*R + r: emitted in p for final demand of r),
/// D_cba_reg and D_pba_reg (k x R, with F_Y_r added as pymrio does), D_imp_reg
/// and D_exp_reg (k x R, without F_Y), and sets acc.regional. The R block
/// products run on up to `threads` threads; results do not depend on it.
void regional_accounts(const Eigen::Ref<const Matrix>& S, const Eigen::Ref<const Matrix>& X,
                       const Eigen::Ref<const Matrix>& F_Y_r, Index R, int threads, Accounts& acc);

/// Total multipliers M = S (I - A)^-1 (k x n) from k transposed solves.
Matrix calc_M(const LeontiefSolver& solver, const Eigen::Ref<const Matrix>& S);

/// Accounts for an arbitrary extension.
///   S:      k x n intensities
///   Yr:     n x R final demand per region (categories summed)
///   F_Y_r:  k x R stressors of final demand per region, or empty
Accounts calc_accounts(const LeontiefSolver& solver, const Eigen::Ref<const Matrix>& S,
                       const Eigen::Ref<const Matrix>& Yr, const Eigen::Ref<const Matrix>& F_Y_r,
                       Index R, const AccountsOptions& options = {});

/// Accounts for the system's stressors (S, Y, F_Y), per options.stressors.
Accounts calc_accounts(const MrioSystem& system, const LeontiefSolver& solver,
                       const AccountsOptions& options = {});

/// Accounts for value added as a one-row extension (v / x). Throws InputError
/// if the system has no value added.
Accounts calc_value_added_accounts(const MrioSystem& system, const LeontiefSolver& solver,
                                   const AccountsOptions& options = {});

/// The system's stressor accounts (per options.stressors) and its value-added
/// accounts from one set of solves: v / x is appended to S as one more row,
/// so X = (I - A)^-1 Y_r (and, at sector level, the transposed solves) serve
/// both. Same values as calc_accounts and calc_value_added_accounts called one
/// after the other (to the solver's tolerance), at the cost of one. Throws
/// InputError if the system has no value added.
std::pair<Accounts, Accounts> calc_accounts_with_value_added(const MrioSystem& system, const LeontiefSolver& solver,
                                                             const AccountsOptions& options = {});

/// Footprint of one demand vector y (n), the USEEIO way:
///   final  = M o y^T        (k x n: impacts of each product's final demand, N diag(y))
///   direct = S o (L y)^T    (k x n: impacts where they are emitted, D diag(L y))
struct DemandFootprint {
  Matrix final_;   ///< k x n
  Matrix direct;   ///< k x n
  Vector x;        ///< n, L y
};
DemandFootprint calc_demand_footprint(const LeontiefSolver& solver, const Eigen::Ref<const Matrix>& S,
                                      const Eigen::Ref<const Matrix>& M, const Eigen::Ref<const Vector>& y);

}  // namespace mriotrace
