// Reader for EXIOBASE 3 (https://doi.org/10.5281/zenodo.5589597): the
// published zip (IOT_<year>_ixi.zip / IOT_<year>_pxp.zip) or its unpacked
// folder, straight into an MrioSystem.
//
// Layout (tab-separated text, written by pandas; see docs/global-databases.md):
//   <root>/Z.txt  n x n    2 header rows (region, sector), 2 index columns   M.EUR
//   <root>/A.txt  n x n    same layout; read only when Z.txt is absent       M.EUR / M.EUR
//   <root>/Y.txt  n x R*c  2 header rows (region, category), 2 index columns M.EUR
//   <root>/x.txt  n x 1    1 header row ("indout"), 2 index columns          M.EUR
//   <root>/unit.txt        region, sector, unit                              ("M.EUR")
//   <root>/<ext>/F.txt     k x n  (else S.txt, k x n per M.EUR) 2 header rows, 1 index column
//   <root>/<ext>/F_Y.txt   k x R*c (legacy name F_hh.txt); S_Y.txt is not needed
//   <root>/<ext>/unit.txt  stressor, unit
// for <ext> = satellite and impacts (each only if present). After the header
// rows an "index names" row (index names, every other cell empty) may follow,
// as pandas writes it. <root> is the folder itself or its single subfolder
// (the zip holds IOT_<year>_<ixi|pxp>/...). file_parameters.json, where the
// release carries it, gives nr_index_col / nr_header of each file and wins
// over the defaults above.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mriotrace/system.hpp"

namespace mriotrace::io {

struct ExiobaseOptions {
  bool satellite = true;  ///< read <root>/satellite/ when present
  bool impacts = true;    ///< read <root>/impacts/ when present
  int threads = 0;        ///< 1: all on this thread; else zip members are decompressed on a second
                          ///< thread; also for computing x from A when x.txt is absent
};

struct ExiobaseTable {
  /// R regions x N sectors (ixi: industries, pxp: products), c categories;
  /// stressors of both extensions stacked (satellite rows first), named
  /// "<ext>::<label>" (or "<ext>[<index name>]::<label>" when the file's index
  /// name is not "stressor"), as the Python layer's extensions encode them
  /// (python/mriotrace/_names.py). monetary_unit from unit.txt ("M.EUR").
  /// Shared, so that it reaches its owner (e.g. Python) without a copy: Eigen
  /// 3.4's SparseMatrix has no move constructor, so moving a system copies A.
  std::shared_ptr<MrioSystem> system;
  std::string root;                     ///< folder (or folder inside the zip) holding Y.txt
  std::string kind;                     ///< "ixi", "pxp" (from the file name), else ""
  std::string year;                     ///< "2011" from IOT_2011_ixi, else ""
  std::vector<std::string> extensions;  ///< extension folders read, in stacking order
  std::vector<Index> extension_rows;    ///< number of stressor rows of each
};

/// Read an EXIOBASE 3 zip or folder. Throws FileError for a missing,
/// truncated or unreadable file (naming it), InputError for a wrong header,
/// a non-numeric cell or inconsistent labels (naming file, line and column).
ExiobaseTable read_exiobase3(const std::string& path, const ExiobaseOptions& options = {});

/// The flat stressor name of `label` in extension `ext` (see ExiobaseTable).
std::string flat_stressor_name(const std::string& ext, const std::string& index_name, const std::string& label);

}  // namespace mriotrace::io
