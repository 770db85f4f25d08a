// Streaming machinery shared by the readers of the published global MRIO
// databases (exiobase.cpp, gloria.cpp, eora26.cpp, oecd_icio.cpp, figaro.cpp).
// Private to io/: not installed, not part of the public API.
//
//   ByteSource / DiskSource / ZipSource / PrefetchSource   bytes of a file or a zip member
//   Archive          a zip (also a zip inside a zip) or a folder: members by name, messages naming them
//   LineReader       lines of a byte stream (tab-separated tables without quoting: EXIOBASE, Eora26)
//   CsvReader        records of a comma-separated file, quoted fields (libcsv)
//   parse_number     one cell -> double (std::from_chars), with the "0" / "0.0" fast path
//   SparseRowBuilder rows streamed into compressed rows, then once into the engine's CSC matrix
//   build_shared     SystemInput -> shared MrioSystem without copying the sparse matrix
//
// Why two splitters: EXIOBASE and Eora26 are pandas/MATLAB tab-separated
// text that never quotes (a tab cannot occur in a label), so a memchr line
// splitter is both correct and the fastest thing (EXIOBASE's reader benchmark
// depends on it). The comma-separated databases (OECD ICIO, FIGARO, GLORIA)
// are written by R / MATLAB / Excel, which quote fields holding commas or
// quotes; for those Debian's libcsv (libcsv-dev, a small streaming RFC 4180
// parser in C: chunks in, fields out through callbacks, quoted fields with
// commas, doubled quotes and line breaks handled, strict mode reporting a
// malformed quote) is used rather than another hand-written tokenizer. Numbers
// are parsed by std::from_chars in both cases (locale-free, exact, fast).
#pragma once

#include <zip.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mriotrace/error.hpp"
#include "mriotrace/system.hpp"

struct csv_parser;

namespace mriotrace::io::detail {

// ---------------------------------------------------------------- byte sources

/// A sequential byte stream (a file on disk or a zip member).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Up to n bytes into buf; 0 at the end. Throws FileError on a read error.
  virtual size_t read(char* buf, size_t n) = 0;
};

/// A file on disk; `name` is used in messages.
std::unique_ptr<ByteSource> open_disk(const std::string& path, const std::string& name);

/// A zip (or a folder) holding the files of one database. Member names are
/// relative to root() (a folder inside the zip or the folder, "" or "dir/").
class Archive {
 public:
  /// `what` names the database in messages ("EXIOBASE", "GLORIA"). A folder
  /// or a zip; anything else is a FileError. prefetch: zip members are
  /// decompressed ahead on a second thread.
  Archive(const std::string& path, std::string what, bool prefetch = false);
  /// The zip stored as member `rel` of `outer` (OECD ICIO's zip of zips),
  /// decompressed into memory once and opened from there.
  Archive(const Archive& outer, const std::string& rel);
  ~Archive();
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;

  bool is_zip() const { return is_zip_; }
  const std::string& path() const { return path_; }
  const std::string& what() const { return what_; }
  const std::string& root() const { return root_; }
  void set_root(std::string root) { root_ = std::move(root); }

  bool has(const std::string& rel) const;
  bool has_folder(const std::string& rel) const;
  /// Every file (zip: every member that is not a folder; folder: files up to
  /// two levels down), as paths relative to the top (not to root()).
  std::vector<std::string> files() const;
  /// "IOT_2011_ixi.zip:IOT_2011_ixi/Z.txt" or "folder/Z.txt": for messages.
  std::string name(const std::string& rel) const;
  /// Uncompressed size in bytes (0 if unknown).
  std::uint64_t size(const std::string& rel) const;
  /// Opens member `rel`; FileError naming the archive and the member when absent.
  std::unique_ptr<ByteSource> open(const std::string& rel) const;

 private:
  std::string path_, what_, root_;
  bool prefetch_ = false;
  bool is_zip_ = true;
  zip_t* zip_ = nullptr;
  std::vector<char> memory_;  // the bytes of a zip opened from memory (kept alive for libzip)
  std::map<std::string, zip_uint64_t> entries_;
};

// ---------------------------------------------------------------- lines and records

/// Splits a byte stream into lines; holds one chunk and one line.
class LineReader {
 public:
  explicit LineReader(std::unique_ptr<ByteSource> src);
  /// The next line without its "\n" / "\r\n"; false at the end.
  bool next(std::string& line);
  Index line_number() const { return number_; }

 private:
  std::unique_ptr<ByteSource> src_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  Index number_ = 0;
};

/// Cells of a tab-separated line (views into `line`).
void split_tabs(std::string_view line, std::vector<std::string_view>& cells);

/// Records of a delimited file with quoted fields (libcsv, strict mode): a
/// malformed quote is an InputError naming the file and the record.
class CsvReader {
 public:
  CsvReader(std::unique_ptr<ByteSource> src, std::string name, char delimiter = ',');
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  /// The next record's fields (unquoted); views valid until the next call.
  /// False at the end. Blank lines are skipped.
  bool next(std::vector<std::string_view>& cells);
  /// 1-based number of the record last returned (the line number when no
  /// quoted field holds a line break).
  Index row_number() const { return returned_; }
  const std::string& name() const { return name_; }

 private:
  bool fill();  // parses chunks until a record is complete; false at the end
  static void on_field(void* s, size_t len, void* self);
  static void on_record(int c, void* self);

  std::unique_ptr<ByteSource> src_;
  std::string name_;
  std::unique_ptr<csv_parser> parser_;
  std::vector<char> chunk_;
  std::string arena_;               // bytes of the fields parsed and not yet handed out
  std::vector<size_t> field_ends_;  // end offset of each field in arena_
  std::vector<size_t> record_ends_; // number of fields up to the end of each complete record
  size_t next_record_ = 0;          // first record not yet returned
  bool eof_ = false;
  Index returned_ = 0;
};

// ---------------------------------------------------------------- numbers

/// One cell as a double: std::from_chars, "0" and "0.0" without parsing. An
/// empty cell is 0 when empty_is_zero, else not a number. False when `s` is
/// not a number (the caller names file, row and column).
bool parse_number(std::string_view s, double& out, bool empty_is_zero = false);

/// The InputError for a cell that is not a number.
InputError not_a_number(const std::string& file, Index row, Index column, const std::string& column_label,
                        std::string_view text);

// ---------------------------------------------------------------- sparse matrices

/// Rows streamed into compressed rows (32-bit column indices), then scattered
/// once into the engine's column-major sparse matrix: peak 12 + 16 bytes per
/// nonzero, no dense copy. Rows may come in any order and a row may be added
/// more than once (summed: OECD ICIO's CN1/CN2 rows into CHN), at the cost of a
/// sort per column then.
class SparseRowBuilder {
 public:
  /// `nnz_bound`: an upper bound of the nonzeros (e.g. from the file size) to
  /// reserve address space once (untouched pages cost nothing); 0 = unknown.
  SparseRowBuilder(Index rows, Index cols, std::uint64_t nnz_bound = 0);
  /// Appends row `row` from `values` (cols entries); exact zeros are dropped.
  /// With `scale`, each entry j is multiplied by scale[j] first.
  void add_row(Index row, const double* values, const double* scale = nullptr);
  Index rows() const { return rows_; }
  Index cols() const { return cols_; }
  SparseMatrix finish();

 private:
  Index rows_, cols_;
  std::vector<std::int32_t> col_;
  std::vector<double> val_;
  std::vector<Index> row_start_{0};
  std::vector<Index> row_of_;
  std::vector<Index> col_count_;
  bool ordered_ = true;
};

// ---------------------------------------------------------------- systems

/// MrioSystem::build(in) into a shared pointer, without copying in's sparse
/// matrices (Eigen 3.4's SparseMatrix has no move constructor: std::move(in)
/// would copy A). An InputError from build is rethrown prefixed with `what`
/// ("OECD ICIO \"ICIO2023_2019.csv\" is inconsistent: ...").
std::shared_ptr<MrioSystem> build_shared(SystemInput& in, int threads, const std::string& what);

/// Turns in.Z into in.A = Z diag(x)^-1 in place, with x = Z1 + Y1 computed
/// exactly as MrioSystem::build computes it (same order of sums, 1/0 = 0), so
/// the system is bit-identical to building from Z, without holding Z and A
/// together (build would form A beside Z: 12 bytes more per nonzero).
void flows_to_coefficients(SystemInput& in);

/// Rows collected while streaming (each `cols` long) as one rows.size() x cols matrix.
Matrix stack_rows(const std::vector<std::vector<double>>& rows, Index cols);

/// The flat stressor name (python/mriotrace/_names.py) of row `parts` of
/// extension `ext` whose index levels are `level_names`: the bracket with the
/// names is left out when they are pymrio's defaults ("stressor",
/// "compartment", "level2", ...) or empty.
std::string flat_name(const std::string& ext, const std::vector<std::string>& level_names,
                      const std::vector<std::string>& parts);

}  // namespace mriotrace::io::detail
