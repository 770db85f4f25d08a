// GLORIA reader (layout in gloria.hpp and docs/global-databases.md).
//
// T (R*2N x R*2N, 39,360 x 39,360 for 164 regions x 120 sectors) is streamed
// one record at a time through libcsv (table_stream.hpp): each industry row
// gives a row of the supply table V, each product row a row of the use table U,
// straight into compressed sparse rows; the empty industry x industry and
// product x product blocks are never stored, nor is a dense n x n matrix (3.1 GB).
#include "mriotrace/io/gloria.hpp"

#include <algorithm>
#include <regex>

#include "table_stream.hpp"

namespace mriotrace::io {

using ::mriotrace::detail::concat;
using namespace ::mriotrace::io::detail;

namespace {

struct Found {
  std::string member, year, version;
};

/// The member "<anything>_<kind>-Results_<year>_0<version>_Markup00<m>(full).csv".
Found find_table(const Archive& a, const std::string& kind, const std::string& markup, const GloriaOptions& o) {
  const std::regex pattern("(^|/|_)" + kind + R"(-Results_(\d{4})_0(\d+[a-z]?)_Markup00)" + markup +
                           R"(\(full\)\.csv$)");
  std::vector<Found> found;
  for (const auto& f : a.files()) {
    std::smatch m;
    if (!std::regex_search(f, m, pattern)) continue;
    if ((!o.year.empty() && m[2] != o.year) || (!o.version.empty() && m[3] != o.version)) continue;
    found.push_back(Found{f, m[2], m[3]});
  }
  const std::string want = concat("*_", kind, "-Results_", o.year.empty() ? "<year>" : o.year, "_0",
                                  o.version.empty() ? "<version>" : o.version, "_Markup00", markup, "(full).csv");
  if (found.empty())
    throw FileError(concat("GLORIA \"", a.path(), "\" has no ", want, a.is_zip() ? " in the zip" : "",
                           "; expected the published layout (see docs/global-databases.md)"));
  if (found.size() > 1)
    throw InputError(concat("GLORIA \"", a.path(), "\" holds ", found.size(), " files ", want, " (", found[0].member,
                            ", ", found[1].member, "); choose with year= and version="));
  return found[0];
}

/// A headerless table of numbers, row by row: `width` cells per row, `rows` rows.
class NumberTable {
 public:
  NumberTable(const Archive& a, const std::string& member, Index rows, Index width, std::string shape)
      : csv_(a.open(member), a.name(member)), rows_(rows), width_(width), shape_(std::move(shape)), values_(static_cast<size_t>(width)) {}
  /// The next row's values; false after the last expected row (checks that no more follow).
  bool next(const double*& values) {
    if (row_ == rows_) {
      if (csv_.next(cells_))
        throw InputError(concat("\"", csv_.name(), "\" has more than ", rows_, " rows; expected ", shape_,
                                " (are the labels of the same release?)"));
      return false;
    }
    if (!csv_.next(cells_))
      throw FileError(concat("\"", csv_.name(), "\" ends after ", row_, " rows; expected ", rows_, " (", shape_,
                             ") (truncated?)"));
    const Index row = csv_.row_number();
    if (static_cast<Index>(cells_.size()) != width_)
      throw InputError(concat("\"", csv_.name(), "\" row ", row, " has ", cells_.size(), " cells; expected ", width_,
                              " (", shape_, ")", static_cast<Index>(cells_.size()) < width_ ? " (truncated?)" : ""));
    for (Index j = 0; j < width_; ++j)
      if (!parse_number(cells_[static_cast<size_t>(j)], values_[static_cast<size_t>(j)]))
        throw not_a_number(csv_.name(), row, j + 1, "", cells_[static_cast<size_t>(j)]);
    ++row_;
    values = values_.data();
    return true;
  }
  Index row() const { return row_; }

 private:
  CsvReader csv_;
  Index rows_, width_, row_ = 0;
  std::string shape_;
  std::vector<std::string_view> cells_;
  std::vector<double> values_;
};

/// Rows/columns kept after dropping empty regions: old index -> new (or -1).
std::vector<Index> keep_map(const std::vector<char>& keep_region, Index per_region) {
  std::vector<Index> map;
  Index next = 0;
  for (size_t r = 0; r < keep_region.size(); ++r)
    for (Index i = 0; i < per_region; ++i) map.push_back(keep_region[r] ? next++ : -1);
  return map;
}

/// The selection matrix P (kept x all) with P(map[i], i) = 1.
SparseMatrix selection(const std::vector<Index>& map, Index kept) {
  std::vector<Eigen::Triplet<double>> t;
  for (size_t i = 0; i < map.size(); ++i)
    if (map[i] >= 0) t.emplace_back(map[i], static_cast<Index>(i), 1.0);
  SparseMatrix P(kept, static_cast<Index>(map.size()));
  P.setFromTriplets(t.begin(), t.end());
  return P;
}

Matrix select_rows(const Matrix& m, const std::vector<Index>& map, Index kept) {
  Matrix out(kept, m.cols());
  for (size_t i = 0; i < map.size(); ++i)
    if (map[i] >= 0) out.row(map[i]) = m.row(static_cast<Index>(i));
  return out;
}

Matrix select_cols(const Matrix& m, const std::vector<Index>& map, Index kept) {
  Matrix out(m.rows(), kept);
  for (size_t j = 0; j < map.size(); ++j)
    if (map[j] >= 0) out.col(map[j]) = m.col(static_cast<Index>(j));
  return out;
}

Vector safe_inverse(const Vector& v) {
  return v.unaryExpr([](double a) { return a == 0.0 ? 0.0 : 1.0 / a; });
}

}  // namespace

GloriaSut read_gloria_sut(const std::string& mrio, const std::string& satellites, const GloriaLabels& labels,
                          const GloriaOptions& options) {
  const Index R = static_cast<Index>(labels.regions.size()), N = static_cast<Index>(labels.sectors.size());
  const Index c = static_cast<Index>(labels.final_demand.size()), nva = static_cast<Index>(labels.value_added.size());
  const Index k = static_cast<Index>(labels.sat_indicator.size());
  MRIOTRACE_CHECK(R > 0 && N > 0 && c > 0, "GLORIA labels: need regions, sectors and final-demand categories (got ", R,
                  ", ", N, ", ", c, "); read them from GLORIA_ReadMe_0<version>.xlsx");
  MRIOTRACE_CHECK(labels.sat_head.size() == labels.sat_indicator.size() && labels.sat_unit.size() == labels.sat_indicator.size(),
                  "GLORIA labels: sat_indicator, sat_head and sat_unit must have the same length");
  MRIOTRACE_CHECK(options.price == "bp" || options.price == "pp", "GLORIA price must be \"bp\" or \"pp\", not \"",
                  options.price, "\"");
  const std::string markup = options.price == "bp" ? "1" : "5";
  const Index n = R * N, W = 2 * n;  // W: rows and columns of T (industries and products of every region)

  GloriaSut out;
  const Archive archive(mrio, "GLORIA", options.threads != 1);
  const Found t_file = find_table(archive, "T", markup, options);
  GloriaOptions same = options;
  same.year = t_file.year;
  same.version = t_file.version;
  out.year = t_file.year;
  out.version = t_file.version;
  const std::string shape_T = concat(W, " x ", W, " = ", R, " regions x (", N, " industries + ", N, " products)");

  // ---- T -> V (industries x products) and U (products x industries)
  std::vector<char> region_has_data(static_cast<size_t>(R), 0);
  SparseRowBuilder V(n, n, archive.size(t_file.member) / 8 + 1), U(n, n, archive.size(t_file.member) / 2 + 1);
  {
    NumberTable t(archive, t_file.member, W, W, shape_T);
    out.files.push_back(archive.name(t_file.member));
    std::vector<double> part(static_cast<size_t>(n));
    const double* row;
    while (t.next(row)) {
      const Index i = t.row() - 1, rr = i / (2 * N), pos = i % (2 * N);
      const bool industry_row = pos < N;
      // Industry rows sell products (V); product rows are used by industries (U).
      const Index offset = industry_row ? N : 0;
      bool any = false;
      for (Index cc = 0; cc < R; ++cc) {
        const double* block = row + cc * 2 * N;
        for (Index p = 0; p < N; ++p) part[static_cast<size_t>(cc * N + p)] = block[offset + p];
        for (Index p = 0; p < 2 * N; ++p)
          if (block[p] != 0) {
            any = true;
            region_has_data[static_cast<size_t>(cc)] = 1;
            break;
          }
      }
      if (any) region_has_data[static_cast<size_t>(rr)] = 1;
      (industry_row ? V : U).add_row(rr * N + (industry_row ? pos : pos - N), part.data());
    }
  }
  // ---- Y: the product rows
  Matrix Yp(n, R * c);
  {
    const Found f = find_table(archive, "Y", markup, same);
    NumberTable t(archive, f.member, W, R * c, concat(W, " x ", R * c, " = (industries + products) x ", R, " regions x ",
                                                      c, " final-demand categories"));
    out.files.push_back(archive.name(f.member));
    const double* row;
    while (t.next(row)) {
      const Index i = t.row() - 1, pos = i % (2 * N);
      if (pos >= N) Yp.row((i / (2 * N)) * N + pos - N) = Eigen::Map<const Eigen::RowVectorXd>(row, R * c);
    }
  }
  // ---- value added (industry columns)
  Matrix VA;
  if (options.value_added && nva > 0) {
    const Found f = find_table(archive, "V", "1", same);
    NumberTable t(archive, f.member, R * nva, W, concat(R * nva, " x ", W, " = ", R, " regions x ", nva,
                                                        " value-added categories by (industries + products)"));
    out.files.push_back(archive.name(f.member));
    VA.resize(R * nva, n);
    const double* row;
    while (t.next(row))
      for (Index cc = 0; cc < R; ++cc)
        VA.row(t.row() - 1).segment(cc * N, N) = Eigen::Map<const Eigen::RowVectorXd>(row + cc * 2 * N, N);
  }
  // ---- satellites
  Matrix TQ, YQ;
  if (options.satellites && k > 0 && !satellites.empty()) {
    const Archive sat(satellites, "GLORIA satellite accounts", options.threads != 1);
    const Found f = find_table(sat, "TQ", "1", same);
    {
      NumberTable t(sat, f.member, k, W, concat(k, " satellite rows x ", W, " (industries + products)"));
      out.files.push_back(sat.name(f.member));
      TQ.resize(k, n);
      const double* row;
      while (t.next(row))
        for (Index cc = 0; cc < R; ++cc)
          TQ.row(t.row() - 1).segment(cc * N, N) = Eigen::Map<const Eigen::RowVectorXd>(row + cc * 2 * N, N);
    }
    const Found fy = find_table(sat, "YQ", "1", same);
    NumberTable t(sat, fy.member, k, R * c, concat(k, " satellite rows x ", R * c, " final-demand columns"));
    out.files.push_back(sat.name(fy.member));
    YQ.resize(k, R * c);
    const double* row;
    while (t.next(row)) YQ.row(t.row() - 1) = Eigen::Map<const Eigen::RowVectorXd>(row, R * c);
  }

  // ---- drop regions without data (pymrio does the same: their x = 0 would make the table singular)
  SparseMatrix Um = U.finish(), Vm = V.finish();
  std::vector<std::string>& regions = out.regions;
  for (Index r = 0; r < R; ++r) {
    if (region_has_data[static_cast<size_t>(r)])
      regions.push_back(labels.regions[static_cast<size_t>(r)]);
    else
      out.dropped_regions.push_back(labels.regions[static_cast<size_t>(r)]);
  }
  const Index Rk = static_cast<Index>(regions.size()), nk = Rk * N;
  MRIOTRACE_CHECK(Rk > 0, "GLORIA \"", mrio, "\": T is all zeros");
  if (Rk < R) {
    const auto m_n = keep_map(region_has_data, N), m_y = keep_map(region_has_data, c), m_va = keep_map(region_has_data, nva);
    const SparseMatrix P = selection(m_n, nk);
    Um = SparseMatrix(P * Um * P.transpose());
    Vm = SparseMatrix(P * Vm * P.transpose());
    Yp = select_cols(select_rows(Yp, m_n, nk), m_y, Rk * c);
    if (VA.size() > 0) VA = select_cols(select_rows(VA, m_va, Rk * nva), m_n, nk);
    if (TQ.size() > 0) {
      TQ = select_cols(TQ, m_n, nk);
      YQ = select_cols(YQ, m_y, Rk * c);
    }
  }

  out.U = std::move(Um);
  out.V = std::move(Vm);
  out.Y = std::move(Yp);
  out.VA = std::move(VA);
  out.TQ = std::move(TQ);
  out.YQ = std::move(YQ);
  return out;
}

GloriaTable read_gloria(const std::string& mrio, const std::string& satellites, const GloriaLabels& labels,
                        const GloriaOptions& options) {
  MRIOTRACE_CHECK(options.construct == "B" || options.construct == "D", "GLORIA construct must be \"B\" (product by ",
                  "product) or \"D\" (industry by industry), not \"", options.construct, "\"");
  GloriaSut sut = read_gloria_sut(mrio, satellites, labels, options);
  GloriaTable out;
  out.construct = options.construct;
  out.year = sut.year;
  out.version = sut.version;
  out.dropped_regions = sut.dropped_regions;
  out.files = sut.files;
  const std::vector<std::string>& regions = sut.regions;
  const Index N = static_cast<Index>(labels.sectors.size()), c = static_cast<Index>(labels.final_demand.size());
  const Index Rk = static_cast<Index>(regions.size()), nk = Rk * N;
  SparseMatrix& Um = sut.U;
  SparseMatrix& Vm = sut.V;
  Matrix& Yp = sut.Y;
  Matrix& VA = sut.VA;
  Matrix& TQ = sut.TQ;
  Matrix& YQ = sut.YQ;
  // ---- the input-output table
  const Vector g = Vm * Vector::Ones(nk);                       // industry output
  const Vector q = Um * Vector::Ones(nk) + Yp.rowwise().sum();  // product output
  const Vector inv_g = safe_inverse(g), inv_q = safe_inverse(q);
  SystemInput in;
  Matrix F_Q, F_VA;
  if (options.construct == "B") {
    const SparseMatrix T = inv_g.asDiagonal() * Vm;  // industry -> product shares
    in.A = SparseMatrix((Um * T) * inv_q.asDiagonal());
    in.x = q;
    in.Y = std::move(Yp);
    if (TQ.size() > 0) F_Q = TQ * T;
    if (VA.size() > 0) F_VA = VA * T;
  } else {
    const SparseMatrix D = Vm * inv_q.asDiagonal();  // market shares (industries x products)
    in.A = SparseMatrix((D * Um) * inv_g.asDiagonal());
    in.x = g;
    in.Y = D * Yp;
    F_Q = std::move(TQ);
    F_VA = std::move(VA);
  }
  in.A.prune(0.0);
  Labels& l = in.labels;
  l.regions = regions;
  l.sectors = labels.sectors;
  l.fd_categories = labels.final_demand;
  l.monetary_unit = "k.USD";
  const Index kq = F_Q.rows(), kv = F_VA.rows();
  if (kq + kv > 0) {
    in.F.resize(kq + kv, nk);
    if (kq > 0) in.F.topRows(kq) = F_Q;
    if (kv > 0) in.F.bottomRows(kv) = F_VA;
    if (kq > 0) {
      in.F_Y = Matrix::Zero(kq + kv, Rk * c);
      in.F_Y.topRows(kq) = YQ;
    }
    for (Index i = 0; i < kq; ++i) {
      l.stressors.push_back(flat_name("Q", {"stressor", "category"},
                                      {labels.sat_indicator[static_cast<size_t>(i)], labels.sat_head[static_cast<size_t>(i)]}));
      l.stressor_units.push_back(labels.sat_unit[static_cast<size_t>(i)]);
    }
    for (const auto& r : regions)
      for (const auto& v : labels.value_added) {
        l.stressors.push_back(flat_name("VA", {"region", "inputtype"}, {r, v}));
        l.stressor_units.push_back("k.USD");
      }
  }
  out.system = build_shared(in, options.threads, concat("GLORIA \"", mrio, "\""));
  return out;
}

}  // namespace mriotrace::io
