// Streaming writers for structural-path-analysis results (PathSink, tracing.hpp):
// millions of paths go to disk as the search finds them, never all in memory.
//
// Both writers work on a temporary file beside the target and rename it over
// the target in finish() (atomic, like every mriotrace writer); a writer
// destroyed without finish() leaves the old target untouched and no debris.
//
// CSV (one row per path, search order; header below), numbers with %.17g:
//   depth,value,share,emitter_region,emitter_sector,final_region,final_sector,
//   path,intensities,coefficients
// path lists the nodes emitter first as "region/sector" joined by " > " (each
// node supplies the next); intensities (depth + 1) and coefficients (depth)
// are ';'-joined: s at each node and a(node_t, node_t+1) at each step.
//
// HDF5: a results file (root attributes and /system/labels as in
// docs/file-format.md) with the group /tracing/spa holding chunked, extendible
// datasets values (P), depths (P, int32), offsets (P + 1, int64: path p's
// nodes are nodes[offsets[p]:offsets[p+1]], emitter first) and nodes (int64),
// plus the search summary as attributes (total, threshold, coverage, ...) and
// coverage_by_depth, and spa_format_version (2: every dataset checksummed).
// The file is written on disk as the search runs (not held in memory), in the
// 1.10 format with a Fletcher32 checksum on every chunk; its HDF5 calls take
// the process-wide HDF5 lock (io/h5.hpp) only while they run. One writer is
// fed by one spa() call (not thread-safe itself).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mriotrace/system.hpp"
#include "mriotrace/tracing.hpp"

namespace mriotrace::io {

/// Version of the /tracing/spa group (attribute spa_format_version). 2: every
/// dataset carries a Fletcher32 checksum. Files written before it have no
/// such attribute and open with a warning.
inline constexpr int kSpaFormatVersion = 2;

/// One CSV field, quoted per RFC 4180 when it holds a comma, quote or line break.
std::string csv_quote(const std::string& field);

/// Write `content` to `path` atomically (temporary file beside it, then rename);
/// for small tables (layers, linkages). Throws FileError naming the path.
void write_file_atomically(const std::string& path, const std::string& content);

/// What the path files record about the search (target and limits).
struct SpaRunInfo {
  std::string stressor;  ///< name of the intensity row traced (e.g. "CO2")
  std::string unit;      ///< its unit
  std::string demand;    ///< description of the demand vector (e.g. "final demand of Zhejiang")
  SpaOptions options;
};

/// Streams paths to a CSV file. A: n x n CSC and s (n) give the per-step
/// columns; the total (s L y, from begin()) the shares. A and s must outlive the writer.
class CsvPathWriter : public PathSink {
 public:
  CsvPathWriter(const std::string& path, const Labels& labels, const SparseMatrix& A,
                const Eigen::Ref<const Vector>& s);
  ~CsvPathWriter() override;
  void begin(double total, double threshold) override;
  void write(const std::int32_t* nodes, int depth, double value) override;
  /// Close and rename over the target. Throws FileError on a write failure.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Streams paths to an HDF5 results file (group /tracing/spa).
class Hdf5PathWriter : public PathSink {
 public:
  Hdf5PathWriter(const std::string& path, const Labels& labels, const SpaRunInfo& info);
  ~Hdf5PathWriter() override;
  void write(const std::int32_t* nodes, int depth, double value) override;
  /// Write the summary of `result` as attributes, close, rename over the target.
  void finish(const SpaResult& result);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// An HDF5 path file read back (layout: docs/file-format.md, /tracing/spa).
struct SpaPathFile {
  int spa_format_version = 0;        ///< 1: written before path files carried checksums
  Labels labels;                     ///< regions and sectors name the nodes
  std::vector<double> values;        ///< (P) value of each path, in search order
  std::vector<std::int32_t> depths;  ///< (P) steps through A
  std::vector<std::int64_t> offsets; ///< (P + 1): path p's nodes are nodes[offsets[p] .. offsets[p+1])
  std::vector<std::int64_t> nodes;   ///< system indices r*N + i, emitter first
  std::vector<double> coverage_by_depth;
  std::string stressor, unit, demand, tau_kind, truncation;
  double tau = 0, total = 0, threshold = 0, coverage = 0, max_depth = 0, paths_found = 0, nodes_expanded = 0,
         search_seconds = 0;
};

/// Read a path file written by Hdf5PathWriter, in a guarded child process
/// (io/h5.hpp), verifying every checksum and the structure (offsets against
/// depths, node indices against the labels). Throws FileError naming the
/// file and the dataset. Files written before path files carried checksums
/// open with a warning (io::warn).
SpaPathFile read_spa_paths(const std::string& path);

}  // namespace mriotrace::io
