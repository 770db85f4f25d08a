// Work items of a batch job and their results (the job file, runner and
// store: the batch library, batch/include/mriotrace/batch/; the guide:
// docs/hpc.md).
//
// A job is a grid of systems (years) x scenarios x draw slots, followed by
// the job's SDA comparisons. Slot 0 is the unperturbed ("deterministic") run,
// slots 1..D are Monte Carlo draws 0..D-1. Item ids are dense and stable:
//   grid item  id = (system * scenarios + scenario) * (D + 1) + slot
//   SDA item   id = systems * scenarios * (D + 1) + sda index
// so an id names the same work on every rank, shard and re-run.
//
// An item's result is a list of named arrays (e.g. "D_cba_reg", k x R) plus
// its status; it is serialised to a self-checking byte record (length,
// payload, 64-bit checksum) for the checkpoint journal and for MPI messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mriotrace/types.hpp"

namespace mriotrace {

/// The shape of a job's item space.
struct ItemGrid {
  Index systems = 1;     ///< S systems (years)
  Index scenarios = 1;   ///< C scenarios, index 0 = base
  Index draws = 0;       ///< D Monte Carlo draws (0: deterministic runs only)
  Index sda = 0;         ///< SDA comparisons after the grid

  Index slots() const { return draws + 1; }
  Index grid_items() const { return systems * scenarios * slots(); }
  Index total() const { return grid_items() + sda; }
};

/// Coordinates of one item.
struct ItemKey {
  Index id = 0;
  Index system = -1;     ///< -1 for SDA items
  Index scenario = -1;   ///< -1 for SDA items
  Index draw = -1;       ///< -1: unperturbed (slot 0); else the Monte Carlo draw
  Index sda = -1;        ///< SDA index, or -1 for grid items
};

/// id -> coordinates. Throws InputError when id is outside [0, total).
ItemKey item_key(const ItemGrid& grid, Index id);
/// Coordinates -> id of a grid item (draw -1 = unperturbed). Throws InputError when out of range.
Index item_id(const ItemGrid& grid, Index system, Index scenario, Index draw);

/// One named result array: rows x cols, column-major doubles.
struct ResultArray {
  std::string name;
  Matrix values;
};

enum class ItemStatus : std::int8_t { Ok = 1, Failed = 2 };

/// The result of one item.
struct ItemResult {
  Index id = 0;
  ItemStatus status = ItemStatus::Ok;
  std::string message;          ///< reason of a failure (empty when Ok)
  double seconds = 0;           ///< wall time of the computation
  double cpu_seconds = 0;       ///< CPU time of the computing thread (robust to a busy machine)
  std::int32_t iterations = 0;  ///< warm-start iterations (most over the item's solves)
  bool refactored = false;      ///< a draw fell back to a fresh factorisation
  std::vector<ResultArray> arrays;
  /// The array called `name`, or nullptr.
  const Matrix* find(const std::string& name) const;
};

/// Serialise to a record: 'MTIR' tag, u64 payload length, payload, u64 checksum of the payload.
std::vector<char> encode(const ItemResult& result);
/// Parse a record at the start of [data, data + size). Returns the result and
/// sets `used` to the record's length, or std::nullopt (used = 0) for a
/// truncated or damaged record (bad tag, length beyond the data, checksum mismatch).
std::optional<ItemResult> decode(const char* data, std::size_t size, std::size_t& used);

/// 64-bit FNV-1a hash of bytes (job-file fingerprints, record checksums).
std::uint64_t fnv1a64(const void* data, std::size_t size, std::uint64_t h = 0xcbf29ce484222325ULL);
/// The hash as 16 lower-case hex digits.
std::string hex64(std::uint64_t h);

}  // namespace mriotrace
