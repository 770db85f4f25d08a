// Shared streaming machinery of the global-database readers (see table_stream.hpp).
#include "table_stream.hpp"

#include <csv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <thread>

namespace mriotrace::io::detail {

using ::mriotrace::detail::concat;
namespace fs = std::filesystem;

// ---------------------------------------------------------------- sources

namespace {

class DiskSource final : public ByteSource {
 public:
  DiskSource(const std::string& path, std::string name) : name_(std::move(name)) {
    f_ = std::fopen(path.c_str(), "rb");
    if (f_ == nullptr) throw FileError(concat("cannot open \"", name_, "\""));
  }
  ~DiskSource() override { std::fclose(f_); }
  size_t read(char* buf, size_t n) override {
    const size_t got = std::fread(buf, 1, n, f_);
    if (got == 0 && std::ferror(f_)) throw FileError(concat("cannot read \"", name_, "\" (I/O error)"));
    return got;
  }

 private:
  std::FILE* f_ = nullptr;
  std::string name_;
};

class ZipSource final : public ByteSource {
 public:
  ZipSource(zip_t* archive, zip_uint64_t index, std::string name) : name_(std::move(name)) {
    f_ = zip_fopen_index(archive, index, 0);
    if (f_ == nullptr)
      throw FileError(concat("cannot open \"", name_, "\" in the zip: ", zip_strerror(archive)));
  }
  /// On an archive handle of its own, for reading on another thread (a libzip
  /// archive must not be used from two threads at once).
  ZipSource(const std::string& zip_path, zip_uint64_t index, std::string name) : name_(std::move(name)) {
    int err = 0;
    own_ = zip_open(zip_path.c_str(), ZIP_RDONLY, &err);
    if (own_ == nullptr) throw FileError(concat("cannot reopen \"", zip_path, "\" to read \"", name_, "\""));
    f_ = zip_fopen_index(own_, index, 0);
    if (f_ == nullptr) {
      const std::string why = zip_strerror(own_);
      zip_discard(own_);
      throw FileError(concat("cannot open \"", name_, "\" in the zip: ", why));
    }
  }
  ~ZipSource() override {
    zip_fclose(f_);
    if (own_ != nullptr) zip_discard(own_);
  }
  size_t read(char* buf, size_t n) override {
    const zip_int64_t got = zip_fread(f_, buf, n);
    // libzip reports a damaged or cut member here (inflate error, CRC mismatch).
    if (got < 0)
      throw FileError(concat("cannot read \"", name_, "\": ", zip_file_strerror(f_),
                             " (truncated or damaged zip?)"));
    return static_cast<size_t>(got);
  }

 private:
  zip_file_t* f_ = nullptr;
  zip_t* own_ = nullptr;
  std::string name_;
};

/// Decompresses ahead on a second thread (up to 4 MiB), so that inflating a
/// zip member and parsing its text overlap.
class PrefetchSource final : public ByteSource {
 public:
  explicit PrefetchSource(std::unique_ptr<ByteSource> inner) : inner_(std::move(inner)), worker_([this] { run(); }) {}
  ~PrefetchSource() override {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  size_t read(char* buf, size_t n) override {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) {
      if (error_) std::rethrow_exception(error_);  // after every byte read before the error
      return 0;
    }
    const std::vector<char>& front = queue_.front();
    const size_t take = std::min(n, front.size() - front_pos_);
    std::memcpy(buf, front.data() + front_pos_, take);
    front_pos_ += take;
    if (front_pos_ == front.size()) {
      queue_.pop_front();
      front_pos_ = 0;
      cv_.notify_all();
    }
    return take;
  }

 private:
  void run() {
    try {
      for (;;) {
        std::vector<char> chunk(size_t{1} << 20);
        chunk.resize(inner_->read(chunk.data(), chunk.size()));
        std::unique_lock<std::mutex> lock(m_);
        if (chunk.empty()) break;
        cv_.wait(lock, [&] { return queue_.size() < 4 || stop_; });
        if (stop_) return;
        queue_.push_back(std::move(chunk));
        cv_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(m_);
      error_ = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(m_);
    done_ = true;
    cv_.notify_all();
  }

  std::unique_ptr<ByteSource> inner_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::vector<char>> queue_;
  size_t front_pos_ = 0;
  bool done_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread worker_;  // last: starts once the members above exist
};

std::string zip_error_text(int code) {
  zip_error_t ze;
  zip_error_init_with_code(&ze, code);
  std::string why = zip_error_strerror(&ze);
  zip_error_fini(&ze);
  return why;
}

}  // namespace

std::unique_ptr<ByteSource> open_disk(const std::string& path, const std::string& name) {
  return std::make_unique<DiskSource>(path, name);
}

Archive::Archive(const std::string& path, std::string what, bool prefetch)
    : path_(path), what_(std::move(what)), prefetch_(prefetch) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    is_zip_ = false;
    return;
  }
  if (!fs::is_regular_file(path, ec))
    throw FileError(concat("cannot read ", what_, " \"", path, "\": no such file or folder"));
  int err = 0;
  zip_ = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (zip_ == nullptr)
    throw FileError(concat("cannot read ", what_, " zip \"", path, "\": ", zip_error_text(err),
                           " (expected the published zip, complete)"));
  const zip_int64_t count = zip_get_num_entries(zip_, 0);
  for (zip_int64_t i = 0; i < count; ++i)
    if (const char* name = zip_get_name(zip_, static_cast<zip_uint64_t>(i), 0))
      entries_.emplace(name, static_cast<zip_uint64_t>(i));
}

Archive::Archive(const Archive& outer, const std::string& rel)
    : path_(outer.name(rel)), what_(outer.what_), prefetch_(false) {
  {
    // The size is what the outer zip's directory claims, not what inflates:
    // reserve it only up to a bound (the vector grows past it if the data
    // really is larger), so a damaged or hostile entry cannot ask for 4 GiB up front.
    const std::uint64_t size = outer.size(rel);
    memory_.reserve(static_cast<size_t>(std::min<std::uint64_t>(size, std::uint64_t{64} << 20)));
    auto src = outer.open(rel);
    std::vector<char> buf(size_t{1} << 20);
    for (size_t got; (got = src->read(buf.data(), buf.size())) > 0;) memory_.insert(memory_.end(), buf.data(), buf.data() + got);
  }
  zip_error_t ze;
  zip_error_init(&ze);
  zip_source_t* src = zip_source_buffer_create(memory_.data(), memory_.size(), 0, &ze);
  if (src != nullptr) zip_ = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
  if (zip_ == nullptr) {
    const std::string why = zip_error_strerror(&ze);
    if (src != nullptr) zip_source_free(src);
    zip_error_fini(&ze);
    throw FileError(concat("cannot read ", what_, " zip \"", path_, "\": ", why, " (expected a complete zip)"));
  }
  zip_error_fini(&ze);
  const zip_int64_t count = zip_get_num_entries(zip_, 0);
  for (zip_int64_t i = 0; i < count; ++i)
    if (const char* name = zip_get_name(zip_, static_cast<zip_uint64_t>(i), 0))
      entries_.emplace(name, static_cast<zip_uint64_t>(i));
}

Archive::~Archive() {
  if (zip_ != nullptr) zip_discard(zip_);  // read-only: nothing to write back
}

bool Archive::has(const std::string& rel) const {
  if (is_zip_) return entries_.count(root_ + rel) > 0;
  std::error_code ec;
  return fs::is_regular_file(fs::path(path_) / root_ / rel, ec);
}

bool Archive::has_folder(const std::string& rel) const {
  if (is_zip_) {
    const std::string prefix = root_ + rel + "/";
    const auto it = entries_.lower_bound(prefix);
    return it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
  }
  std::error_code ec;
  return fs::is_directory(fs::path(path_) / root_ / rel, ec);
}

std::vector<std::string> Archive::files() const {
  std::vector<std::string> out;
  if (is_zip_) {
    for (const auto& [name, index] : entries_)
      if (!name.empty() && name.back() != '/') out.push_back(name);
    return out;
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(path_, ec)) {
    if (e.is_regular_file(ec)) out.push_back(e.path().filename().string());
    if (e.is_directory(ec))
      for (const auto& f : fs::directory_iterator(e.path(), ec))
        if (f.is_regular_file(ec)) out.push_back(e.path().filename().string() + "/" + f.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Archive::name(const std::string& rel) const {
  return is_zip_ ? concat(path_, ":", root_, rel) : (fs::path(path_) / root_ / rel).string();
}

std::uint64_t Archive::size(const std::string& rel) const {
  if (is_zip_) {
    zip_stat_t st;
    zip_stat_init(&st);
    const auto it = entries_.find(root_ + rel);
    if (it == entries_.end() || zip_stat_index(zip_, it->second, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) return 0;
    return st.size;
  }
  std::error_code ec;
  const auto n = fs::file_size(fs::path(path_) / root_ / rel, ec);
  return ec ? 0 : n;
}

std::unique_ptr<ByteSource> Archive::open(const std::string& rel) const {
  if (!has(rel))
    throw FileError(concat(what_, " \"", path_, "\" has no ", root_ + rel, is_zip_ ? " in the zip" : "",
                           "; expected the published layout (see docs/global-databases.md)"));
  if (is_zip_ && prefetch_ && memory_.empty())
    return std::make_unique<PrefetchSource>(std::make_unique<ZipSource>(path_, entries_.at(root_ + rel), name(rel)));
  if (is_zip_) return std::make_unique<ZipSource>(zip_, entries_.at(root_ + rel), name(rel));
  return std::make_unique<DiskSource>((fs::path(path_) / root_ / rel).string(), name(rel));
}

// ---------------------------------------------------------------- lines

LineReader::LineReader(std::unique_ptr<ByteSource> src) : src_(std::move(src)), buf_(1 << 20) {}

bool LineReader::next(std::string& line) {
  line.clear();
  for (;;) {
    if (pos_ == end_) {
      end_ = src_->read(buf_.data(), buf_.size());
      pos_ = 0;
      if (end_ == 0) {
        if (line.empty()) return false;
        break;  // last line without a newline
      }
    }
    const char* start = buf_.data() + pos_;
    const void* nl = std::memchr(start, '\n', end_ - pos_);
    if (nl == nullptr) {
      line.append(start, end_ - pos_);
      pos_ = end_;
      continue;
    }
    const size_t len = static_cast<const char*>(nl) - start;
    line.append(start, len);
    pos_ += len + 1;
    break;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  ++number_;
  return true;
}

void split_tabs(std::string_view line, std::vector<std::string_view>& cells) {
  cells.clear();
  size_t start = 0;
  for (;;) {
    const size_t tab = line.find('\t', start);
    cells.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
    if (tab == std::string_view::npos) return;
    start = tab + 1;
  }
}

// ---------------------------------------------------------------- CSV records (libcsv)

namespace {
// Only blanks are trimmed around unquoted fields (libcsv's default also trims
// tabs, which would be wrong with a tab delimiter).
int is_blank(unsigned char c) { return c == CSV_SPACE ? 1 : 0; }
}  // namespace

CsvReader::CsvReader(std::unique_ptr<ByteSource> src, std::string name, char delimiter)
    : src_(std::move(src)), name_(std::move(name)), parser_(std::make_unique<csv_parser>()), chunk_(size_t{1} << 20) {
  if (csv_init(parser_.get(), CSV_STRICT | CSV_STRICT_FINI) != 0)
    throw FileError(concat("cannot set up the CSV parser for \"", name_, "\""));
  csv_set_delim(parser_.get(), static_cast<unsigned char>(delimiter));
  csv_set_space_func(parser_.get(), is_blank);
}

CsvReader::~CsvReader() { csv_free(parser_.get()); }

void CsvReader::on_field(void* s, size_t len, void* self) {
  auto* r = static_cast<CsvReader*>(self);
  if (len > 0) r->arena_.append(static_cast<const char*>(s), len);
  r->field_ends_.push_back(r->arena_.size());
}

void CsvReader::on_record(int, void* self) {
  auto* r = static_cast<CsvReader*>(self);
  r->record_ends_.push_back(r->field_ends_.size());
}

bool CsvReader::fill() {
  // Drop the records handed out; keep the fields of a record still being parsed.
  if (next_record_ > 0) {
    const size_t fields = record_ends_[next_record_ - 1];
    const size_t bytes = fields == 0 ? 0 : field_ends_[fields - 1];
    arena_.erase(0, bytes);
    field_ends_.erase(field_ends_.begin(), field_ends_.begin() + static_cast<std::ptrdiff_t>(fields));
    for (auto& e : field_ends_) e -= bytes;
    record_ends_.erase(record_ends_.begin(), record_ends_.begin() + static_cast<std::ptrdiff_t>(next_record_));
    for (auto& e : record_ends_) e -= fields;
    next_record_ = 0;
  }
  while (record_ends_.empty() && !eof_) {
    const size_t got = src_->read(chunk_.data(), chunk_.size());
    if (got == 0) {
      eof_ = true;
      if (csv_fini(parser_.get(), on_field, on_record, this) != 0)
        throw InputError(concat("\"", name_, "\" row ", returned_ + 1,
                                ": a quoted field is not closed before the end of the file (truncated?)"));
      break;
    }
    if (csv_parse(parser_.get(), chunk_.data(), got, on_field, on_record, this) != got)
      throw InputError(concat("\"", name_, "\" row ", returned_ + record_ends_.size() + 1, ": ",
                              csv_strerror(csv_error(parser_.get())),
                              " (a quote inside an unquoted field, or text after a closing quote)"));
  }
  return !record_ends_.empty();
}

bool CsvReader::next(std::vector<std::string_view>& cells) {
  if (next_record_ == record_ends_.size() && !fill()) return false;
  const size_t first = next_record_ == 0 ? 0 : record_ends_[next_record_ - 1];
  const size_t last = record_ends_[next_record_];
  cells.clear();
  size_t at = first == 0 ? 0 : field_ends_[first - 1];
  for (size_t f = first; f < last; ++f) {
    cells.emplace_back(arena_.data() + at, field_ends_[f] - at);
    at = field_ends_[f];
  }
  ++next_record_;
  ++returned_;
  return true;
}

// ---------------------------------------------------------------- numbers

bool parse_number(std::string_view s, double& out, bool empty_is_zero) {
  if (s.empty()) {
    out = 0.0;
    return empty_is_zero;
  }
  if ((s.size() == 1 && s[0] == '0') || (s.size() == 3 && s[0] == '0' && s[1] == '.' && s[2] == '0')) {
    out = 0.0;
    return true;
  }
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') ++b;  // Excel and MATLAB do not write it; from_chars would refuse it
  const auto [ptr, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && ptr == e;
}

InputError not_a_number(const std::string& file, Index row, Index column, const std::string& column_label,
                        std::string_view text) {
  return InputError(concat("\"", file, "\" row ", row, ", column ", column,
                           column_label.empty() ? "" : " (" + column_label + ")", ": \"", text,
                           "\" is not a number"));
}

// ---------------------------------------------------------------- sparse matrices

namespace {

/// Capacity for `bound` entries without committing memory: glibc serves an
/// allocation this large with mmap, and untouched pages of it are never
/// resident, so a generous upper bound costs address space only, and the
/// vector never reallocates (a reallocation would copy it and, while it
/// copies, hold both).
template <class T>
void reserve_upper_bound(std::vector<T>& v, std::uint64_t bound) {
  v.reserve(static_cast<size_t>(std::min<std::uint64_t>(bound, std::uint64_t{1} << 34)));
}

/// Hands the whole pages inside [from, to) back to the OS: the caller has read
/// them for the last time. Only for buffers of 64 MiB or more, which glibc
/// maps with mmap of their own (freeing them unmaps; no allocator data lives
/// inside), so that scattering the rows into the column-major matrix does not
/// hold both copies in full.
void release_consumed(const void* buffer_start, size_t buffer_bytes, const void* from, const void* to) {
  if (buffer_bytes < (size_t{64} << 20)) return;
  static const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const std::uintptr_t lo = std::max(reinterpret_cast<std::uintptr_t>(from), reinterpret_cast<std::uintptr_t>(buffer_start));
  const std::uintptr_t a = (lo + page - 1) & ~(page - 1);
  const std::uintptr_t b = reinterpret_cast<std::uintptr_t>(to) & ~(page - 1);
  if (b > a) madvise(reinterpret_cast<void*>(a), b - a, MADV_DONTNEED);
}

}  // namespace

SparseRowBuilder::SparseRowBuilder(Index rows, Index cols, std::uint64_t nnz_bound)
    : rows_(rows), cols_(cols), col_count_(static_cast<size_t>(cols), 0) {
  MRIOTRACE_CHECK(cols < (Index{1} << 31), "a sparse table with ", cols, " columns (more than 2^31) is not supported");
  const std::uint64_t cap = std::min<std::uint64_t>(nnz_bound, static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols));
  reserve_upper_bound(col_, cap);
  reserve_upper_bound(val_, cap);
}

void SparseRowBuilder::add_row(Index row, const double* values, const double* scale) {
  if (!row_of_.empty() && row <= row_of_.back()) ordered_ = false;
  row_of_.push_back(row);
  for (Index j = 0; j < cols_; ++j) {
    const double v = scale ? values[j] * scale[j] : values[j];
    if (v != 0) {
      col_.push_back(static_cast<std::int32_t>(j));
      val_.push_back(v);
      ++col_count_[static_cast<size_t>(j)];
    }
  }
  row_start_.push_back(static_cast<Index>(col_.size()));
}

SparseMatrix SparseRowBuilder::finish() {
  const Index nnz = static_cast<Index>(val_.size());
  SparseMatrix m(rows_, cols_);
  m.resizeNonZeros(nnz);
  Index* outer = m.outerIndexPtr();
  outer[0] = 0;
  for (Index j = 0; j < cols_; ++j) outer[j + 1] = outer[j] + col_count_[static_cast<size_t>(j)];
  std::vector<Index> next(outer, outer + cols_);
  Index released = 0;  // entries of col_/val_ before this one are handed back
  const Index added = static_cast<Index>(row_of_.size());
  for (Index i = 0; i < added; ++i) {
    const Index row = row_of_[static_cast<size_t>(i)];
    for (Index e = row_start_[static_cast<size_t>(i)]; e < row_start_[static_cast<size_t>(i) + 1]; ++e) {
      const Index at = next[static_cast<size_t>(col_[static_cast<size_t>(e)])]++;
      m.innerIndexPtr()[at] = row;  // rows ascending within each column when ordered_
      m.valuePtr()[at] = val_[static_cast<size_t>(e)];
    }
    const Index done = row_start_[static_cast<size_t>(i) + 1];
    if (done - released >= (Index{1} << 20) || i + 1 == added) {
      release_consumed(col_.data(), col_.capacity() * sizeof(std::int32_t), col_.data() + released, col_.data() + done);
      release_consumed(val_.data(), val_.capacity() * sizeof(double), val_.data() + released, val_.data() + done);
      released = done;
    }
  }
  std::vector<std::int32_t>().swap(col_);
  std::vector<double>().swap(val_);
  if (!ordered_) {
    // Rows out of order or repeated: sort each column by row and sum repeats.
    Index write = 0;
    std::vector<std::pair<Index, double>> column;
    for (Index j = 0; j < cols_; ++j) {
      column.clear();
      for (Index e = outer[j]; e < outer[j + 1]; ++e) column.emplace_back(m.innerIndexPtr()[e], m.valuePtr()[e]);
      // Stable: repeats are summed in the order the rows came (CHN, then CN1, CN2).
      std::stable_sort(column.begin(), column.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      outer[j] = write;
      for (size_t e = 0; e < column.size(); ++e) {
        if (e > 0 && column[e].first == column[e - 1].first) {
          m.valuePtr()[write - 1] += column[e].second;
          continue;
        }
        m.innerIndexPtr()[write] = column[e].first;
        m.valuePtr()[write] = column[e].second;
        ++write;
      }
    }
    outer[cols_] = write;
    m.data().resize(write);
    m.prune(0.0);  // repeats that cancel
  }
  return m;
}

// ---------------------------------------------------------------- systems

std::shared_ptr<MrioSystem> build_shared(SystemInput& in, int threads, const std::string& what) {
  // The input is swapped into a prvalue that initialises build's parameter in
  // place, and new T(prvalue) initialises the system in place: never moved.
  auto take_input = [&in]() {
    SystemInput moved;
    moved.labels = std::move(in.labels);
    moved.Z.swap(in.Z);
    moved.A.swap(in.A);
    moved.x = std::move(in.x);
    moved.Y = std::move(in.Y);
    moved.F = std::move(in.F);
    moved.S = std::move(in.S);
    moved.F_Y = std::move(in.F_Y);
    moved.v = std::move(in.v);
    moved.C = std::move(in.C);
    return moved;
  };
  try {
    return std::shared_ptr<MrioSystem>(new MrioSystem(MrioSystem::build(take_input(), threads)));
  } catch (const InputError& e) {
    throw InputError(concat(what, " is inconsistent: ", e.what()));
  }
}

Matrix stack_rows(const std::vector<std::vector<double>>& rows, Index cols) {
  Matrix out(static_cast<Index>(rows.size()), cols);
  for (size_t i = 0; i < rows.size(); ++i) {
    MRIOTRACE_CHECK(static_cast<Index>(rows[i].size()) == cols, "row ", i, " has ", rows[i].size(),
                    " values; expected ", cols);
    out.row(static_cast<Index>(i)) = Eigen::Map<const Eigen::RowVectorXd>(rows[i].data(), cols);
  }
  return out;
}

void flows_to_coefficients(SystemInput& in) {
  SparseMatrix& Z = in.Z;
  in.x = in.Y.rowwise().sum();
  for (Index j = 0; j < Z.outerSize(); ++j)
    for (SparseMatrix::InnerIterator it(Z, j); it; ++it) in.x[it.row()] += it.value();
  // As build: round-off can leave -1e-17 where the output is 0 (a negative x is build's error to report).
  const double tiny = 1e-12 * std::max(1.0, in.x.size() ? in.x.cwiseAbs().maxCoeff() : 0.0);
  for (Index j = 0; j < in.x.size(); ++j)
    if (in.x[j] < 0 && in.x[j] > -tiny) in.x[j] = 0;
  for (Index j = 0; j < Z.outerSize(); ++j) {
    const double r = in.x[j] == 0.0 ? 0.0 : 1.0 / in.x[j];
    for (SparseMatrix::InnerIterator it(Z, j); it; ++it) it.valueRef() *= r;
  }
  in.A.swap(Z);
  Z.resize(0, 0);
  Z.data().squeeze();
}

namespace {
std::string escape_part(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '%': out += "%25"; break;
      case '/': out += "%2F"; break;
      case ':': out += "%3A"; break;
      case '[': out += "%5B"; break;
      case ']': out += "%5D"; break;
      case ',': out += "%2C"; break;
      default: out += ch;
    }
  }
  return out;
}
}  // namespace

std::string flat_name(const std::string& ext, const std::vector<std::string>& level_names,
                      const std::vector<std::string>& parts) {
  // pymrio's default level names (python/mriotrace/_names.py default_level_names).
  bool defaults = level_names.empty();
  if (!defaults && level_names.size() == parts.size()) {
    defaults = true;
    for (size_t i = 0; i < level_names.size(); ++i) {
      const std::string want = i == 0 ? "stressor" : i == 1 ? "compartment" : "level" + std::to_string(i);
      defaults = defaults && level_names[i] == want;
    }
  }
  std::string head = escape_part(ext);
  if (!defaults) {
    head += "[";
    for (size_t i = 0; i < level_names.size(); ++i) head += (i ? "," : "") + escape_part(level_names[i]);
    head += "]";
  }
  std::string tail;
  for (size_t i = 0; i < parts.size(); ++i) tail += (i ? "/" : "") + escape_part(parts[i]);
  return head + "::" + tail;
}

}  // namespace mriotrace::io::detail
