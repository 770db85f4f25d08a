// HDF5 storage of systems and results: the layout is docs/file-format.md.
//
// Everything goes through the one HDF5 layer (mriotrace/io/h5.hpp: the lock,
// owning handles, checksums on every dataset, checked and guarded reads) with
// absolute object paths ("/system/A/data") so messages can name the object
// that is wrong. Dense matrices are stored row-major with the shape the user
// sees (what h5py and NumPy expect), so Eigen's column-major data is
// transposed on the way in and out.
#include "mriotrace/io/hdf5.hpp"

#include <set>
#include <utility>

#include "mriotrace/error.hpp"
#include "mriotrace/io/h5.hpp"
#include "system_file.hpp"

namespace mriotrace::io {
namespace {

using ::mriotrace::detail::concat;
using h5::Dims;
using h5::Reader;
using h5::RowMajor;
using h5::Writer;

constexpr h5::Format kFormat{"mriotrace", kFormatVersion, "an mriotrace file"};

/// The stored k x n and k x R members of Accounts, in file order.
struct AccountMember {
  const char* name;
  Matrix Accounts::*member;
  bool regional;  ///< k x R (else k x n)
};
constexpr AccountMember kAccountMembers[] = {
    {"M", &Accounts::M, false},
    {"D_cba", &Accounts::D_cba, false},
    {"D_pba", &Accounts::D_pba, false},
    {"D_imp", &Accounts::D_imp, false},
    {"D_exp", &Accounts::D_exp, false},
    {"D_cba_reg", &Accounts::D_cba_reg, true},
    {"D_pba_reg", &Accounts::D_pba_reg, true},
    {"D_imp_reg", &Accounts::D_imp_reg, true},
    {"D_exp_reg", &Accounts::D_exp_reg, true},
};

const char* const kLabelSets[] = {"regions",    "sectors",         "fd_categories",  "stressors",
                                  "stressor_units", "indicators", "indicator_units"};

/// The label vector called `name` (one of kLabelSets); const-ness follows `l`.
template <class L>
auto* label_set(L& l, const std::string& name) {
  if (name == "regions") return &l.regions;
  if (name == "sectors") return &l.sectors;
  if (name == "fd_categories") return &l.fd_categories;
  if (name == "stressors") return &l.stressors;
  if (name == "stressor_units") return &l.stressor_units;
  if (name == "indicators") return &l.indicators;
  return &l.indicator_units;
}

void write_labels(const Writer& w, const Labels& labels) {
  w.group("/system/labels");
  for (const char* name : kLabelSets) w.strings(std::string("/system/labels/") + name, *label_set(labels, name));
  w.attr_string("/system/labels", "monetary_unit", labels.monetary_unit);
}

void write_system(const Writer& w, const MrioSystem& s) {
  // Eigen's arrays are scipy's CSC arrays only when compressed (the system
  // keeps A compressed; copy only if not).
  SparseMatrix compressed;
  const SparseMatrix* A = &s.A();
  if (!A->isCompressed()) {
    compressed = *A;
    compressed.makeCompressed();
    A = &compressed;
  }
  w.group("/system/A");
  w.attr_ints("/system/A", "shape", {A->rows(), A->cols()}, false);
  const auto nnz = static_cast<hsize_t>(A->nonZeros());
  w.doubles("/system/A/data", A->valuePtr(), {nnz});
  w.int64s("/system/A/indices", A->innerIndexPtr(), nnz);
  w.int64s("/system/A/indptr", A->outerIndexPtr(), static_cast<hsize_t>(A->outerSize()) + 1);
  w.vector("/system/x", s.x());
  w.matrix("/system/Y", s.Y());
  w.matrix("/system/S", s.S());
  if (s.has_F_Y()) w.matrix("/system/F_Y", s.F_Y());
  if (s.has_value_added()) w.vector("/system/v", s.v());
  if (s.has_indicators()) w.matrix("/system/C", s.C());
}

void check_result_names(const std::vector<NamedAccounts>& results) {
  std::set<std::string> seen;
  for (const auto& r : results) {
    MRIOTRACE_CHECK(!r.name.empty() && r.name != "." && r.name.find('/') == std::string::npos,
                    "result set name \"", r.name, "\" is not usable as an HDF5 group name; expected a non-empty "
                    "name without '/'");
    MRIOTRACE_CHECK(seen.insert(r.name).second, "result set name \"", r.name, "\" appears twice; expected unique names");
  }
}

/// Shapes of `acc` against the labels, checked before writing so that every
/// written file can be read back (the reader checks the same shapes).
void check_accounts(const std::string& name, const Accounts& acc, const Labels& labels) {
  const Index n = labels.n(), R = labels.R();
  MRIOTRACE_CHECK(acc.x.size() == 0 || acc.x.size() == n, "results \"", name, "\": x has ", acc.x.size(),
                  " entries; expected n = ", n);
  Index k = acc.stressors.empty() ? -1 : static_cast<Index>(acc.stressors.size());
  for (Index s : acc.stressors)
    MRIOTRACE_CHECK(s >= 0 && s < labels.k(), "results \"", name, "\": stressor index ", s, " is outside the ",
                    labels.k(), " stressors of the labels");
  for (const auto& m : kAccountMembers) {
    if (!(m.regional ? acc.regional : acc.sector_level)) continue;
    const Matrix& v = acc.*m.member;
    if (k < 0) k = v.rows();
    MRIOTRACE_CHECK(v.rows() == k && v.cols() == (m.regional ? R : n), "results \"", name, "\": ", m.name, " is ",
                    v.rows(), " x ", v.cols(), "; expected ", k, " x ", m.regional ? R : n,
                    m.regional ? " (stressors x regions)" : " (stressors x n)");
  }
  if (acc.regional)
    MRIOTRACE_CHECK(acc.Q.rows() == k && acc.Q.cols() == R * R, "results \"", name, "\": Q is ", acc.Q.rows(),
                    " x ", acc.Q.cols(), "; expected ", k, " x ", R * R, " (stressors x R*R)");
}

void write_results(const Writer& w, const Labels& labels, const std::vector<NamedAccounts>& results) {
  if (results.empty()) return;
  w.group("/results", true);
  const Index R = labels.R();
  for (const auto& [name, acc] : results) {
    const std::string g = "/results/" + name;
    check_accounts(name, acc, labels);
    w.group(g);
    w.attr_ints(g, "sector_level", {acc.sector_level ? 1 : 0}, true);
    w.attr_ints(g, "regional", {acc.regional ? 1 : 0}, true);
    w.int64s(g + "/stressors", acc.stressors.data(), acc.stressors.size());
    if (acc.x.size() > 0) w.vector(g + "/x", acc.x);
    for (const auto& m : kAccountMembers)
      if (m.regional ? acc.regional : acc.sector_level) w.matrix(g + "/" + m.name, acc.*m.member);
    if (acc.regional)
      w.matrix(g + "/Q", acc.Q,
               {static_cast<hsize_t>(acc.Q.rows()), static_cast<hsize_t>(R), static_cast<hsize_t>(R)});
  }
}

Labels read_labels(const Reader& r) {
  r.require("/system/labels", "the axis labels");
  Labels l;
  for (const char* name : kLabelSets) *label_set(l, name) = r.strings(std::string("/system/labels/") + name);
  l.monetary_unit = r.attr_string("/system/labels", "monetary_unit");
  return l;
}

SparseMatrix read_A(const Reader& r, Index n) {
  const auto& ctx = r.ctx();
  const auto shape = r.attr_ints("/system/A", "shape");
  if (shape != std::vector<std::int64_t>{n, n})
    ctx.fail(concat("/system/A@shape is not [", n, ", ", n, "] (n = regions x sectors from the labels)"));
  auto indptr = r.numbers<std::int64_t>("/system/A/indptr", {static_cast<hsize_t>(n) + 1}, "n + 1 column pointers");
  const Dims data_dims = r.dims("/system/A/data");
  if (data_dims.size() != 1) ctx.fail("/system/A/data is not 1-D");
  const hsize_t nnz = data_dims[0];
  auto data = r.numbers<double>("/system/A/data", {nnz}, "nonzero values");
  auto indices = r.numbers<std::int64_t>("/system/A/indices", {nnz}, "row index of each nonzero, as data");

  // Validate the CSC structure before Eigen trusts it.
  if (indptr[0] != 0 || indptr[static_cast<size_t>(n)] != static_cast<std::int64_t>(nnz))
    ctx.fail(concat("/system/A/indptr must start at 0 and end at nnz = ", nnz));
  bool sorted = true;
  for (Index j = 0; j < n; ++j) {
    const auto b = indptr[static_cast<size_t>(j)], e = indptr[static_cast<size_t>(j) + 1];
    if (e < b) ctx.fail(concat("/system/A/indptr decreases at column ", j));
    for (auto p = b; p < e; ++p) {
      const auto i = indices[static_cast<size_t>(p)];
      if (i < 0 || i >= n) ctx.fail(concat("/system/A/indices holds row ", i, " outside [0, ", n, ")"));
      sorted = sorted && (p == b || indices[static_cast<size_t>(p) - 1] < i);
    }
  }
  if (sorted)  // our files: Eigen's own layout, copied as is
    return Eigen::Map<const SparseMatrix>(n, n, static_cast<Index>(nnz), indptr.data(), indices.data(), data.data());
  // Files written by other tools may have unsorted or duplicate row indices
  // (valid for scipy, which sums duplicates): rebuild via triplets.
  std::vector<Eigen::Triplet<double, Index>> triplets;
  triplets.reserve(nnz);
  for (Index j = 0; j < n; ++j)
    for (auto p = indptr[static_cast<size_t>(j)]; p < indptr[static_cast<size_t>(j) + 1]; ++p)
      triplets.emplace_back(indices[static_cast<size_t>(p)], j, data[static_cast<size_t>(p)]);
  SparseMatrix A(n, n);
  A.setFromTriplets(triplets.begin(), triplets.end());
  return A;
}

Accounts read_accounts(const Reader& r, const std::string& g, const Labels& labels) {
  const auto& ctx = r.ctx();
  const Index n = labels.n(), R = labels.R();
  Accounts acc;
  auto flag = [&](const char* name) {
    const auto v = r.attr_ints(g, name);
    if (v.size() != 1) ctx.fail(concat(g, "@", name, " is not a scalar"));
    return v[0] != 0;
  };
  acc.sector_level = flag("sector_level");
  acc.regional = flag("regional");
  const Dims sdims = r.dims(g + "/stressors");
  if (sdims.size() != 1) ctx.fail(g + "/stressors is not 1-D");
  acc.stressors = r.numbers<std::int64_t>(g + "/stressors", sdims, "stressor indices");
  for (Index s : acc.stressors)
    if (s < 0 || s >= labels.k())
      ctx.fail(concat(g, "/stressors holds index ", s, " outside the ", labels.k(), " stressors of the labels"));
  if (r.exists(g + "/x")) acc.x = r.vector(g + "/x", n, "gross output, n");

  // k rows: one per stored stressor index; value-added accounts store one row and no index.
  Index k = acc.stressors.empty() ? -1 : static_cast<Index>(acc.stressors.size());
  for (const auto& m : kAccountMembers) {
    if (!(m.regional ? acc.regional : acc.sector_level)) continue;
    const std::string path = g + "/" + m.name;
    if (k < 0) {
      const Dims d = r.dims(path);
      if (d.size() != 2) ctx.fail(path + " is not 2-D");
      k = static_cast<Index>(d[0]);
    }
    acc.*m.member = r.matrix(path, k, m.regional ? R : n, m.regional ? "stressors x regions" : "stressors x n");
  }
  if (acc.regional) {
    const auto q = r.numbers<double>(g + "/Q", {static_cast<hsize_t>(k), static_cast<hsize_t>(R), static_cast<hsize_t>(R)},
                                     "stressors x emitting region x consuming region");
    acc.Q = Eigen::Map<const RowMajor>(q.data(), k, R * R);
  }
  return acc;
}

std::vector<NamedAccounts> read_results(const Reader& r, const Labels& labels) {
  std::vector<NamedAccounts> out;
  if (!r.exists("/results")) return out;
  for (auto& name : r.children("/results")) {
    Accounts acc = read_accounts(r, "/results/" + name, labels);
    out.push_back({std::move(name), std::move(acc)});
  }
  return out;
}


// ---------------------------------------------------------------------------
// What a guarded read hands back (h5::guarded)

void encode(h5::Encoder& e, const SparseMatrix& a) {
  SparseMatrix c = a;
  c.makeCompressed();
  e.u64(static_cast<std::uint64_t>(c.rows()));
  e.u64(static_cast<std::uint64_t>(c.cols()));
  e.u64(static_cast<std::uint64_t>(c.nonZeros()));
  e.raw(c.outerIndexPtr(), static_cast<size_t>(c.outerSize() + 1) * sizeof(Index));
  e.raw(c.innerIndexPtr(), static_cast<size_t>(c.nonZeros()) * sizeof(Index));
  e.raw(c.valuePtr(), static_cast<size_t>(c.nonZeros()) * sizeof(double));
}
SparseMatrix decode_sparse(h5::Decoder& d) {
  const std::uint64_t r = d.u64(), c = d.u64(), nnz = d.u64();
  if (c + 1 > d.left() / sizeof(Index) || nnz > d.left() / 16) d.damaged();
  std::vector<Index> outer(static_cast<size_t>(c) + 1), inner(static_cast<size_t>(nnz));
  std::vector<double> values(static_cast<size_t>(nnz));
  d.raw(outer.data(), outer.size() * sizeof(Index));
  d.raw(inner.data(), inner.size() * sizeof(Index));
  d.raw(values.data(), values.size() * sizeof(double));
  return Eigen::Map<const SparseMatrix>(static_cast<Index>(r), static_cast<Index>(c), static_cast<Index>(nnz),
                                        outer.data(), inner.data(), values.data());
}

void encode(h5::Encoder& e, const Labels& l) {
  for (const char* name : kLabelSets) e.strs(*label_set(l, name));
  e.str(l.monetary_unit);
}
Labels decode_labels(h5::Decoder& d) {
  Labels l;
  for (const char* name : kLabelSets) *label_set(l, name) = d.strs();
  l.monetary_unit = d.str();
  return l;
}

void encode(h5::Encoder& e, const Accounts& a) {
  e.array(a.stressors);
  e.u64(a.sector_level);
  e.u64(a.regional);
  e.vector(a.x);
  for (const Matrix* m : {&a.M, &a.D_cba, &a.D_pba, &a.D_imp, &a.D_exp, &a.D_cba_reg, &a.D_pba_reg, &a.D_imp_reg,
                          &a.D_exp_reg, &a.Q})
    e.matrix(*m);
}
Accounts decode_accounts(h5::Decoder& d) {
  Accounts a;
  a.stressors = d.array<Index>();
  a.sector_level = d.u64() != 0;
  a.regional = d.u64() != 0;
  a.x = d.vector();
  for (Matrix* m : {&a.M, &a.D_cba, &a.D_pba, &a.D_imp, &a.D_exp, &a.D_cba_reg, &a.D_pba_reg, &a.D_imp_reg,
                    &a.D_exp_reg, &a.Q})
    *m = d.matrix();
  return a;
}

void encode(h5::Encoder& e, const SystemInput& in) {
  encode(e, in.labels);
  encode(e, in.A);
  e.vector(in.x);
  e.matrix(in.Y);
  e.matrix(in.S);
  e.matrix(in.F_Y);
  e.vector(in.v);
  e.matrix(in.C);
}
SystemInput decode_system_input(h5::Decoder& d) {
  SystemInput in;
  in.labels = decode_labels(d);
  in.A = decode_sparse(d);
  in.x = d.vector();
  in.Y = d.matrix();
  in.S = d.matrix();
  in.F_Y = d.matrix();
  in.v = d.vector();
  in.C = d.matrix();
  return in;
}

void encode(h5::Encoder& e, const std::vector<NamedAccounts>& v) {
  e.u64(v.size());
  for (const auto& [name, acc] : v) {
    e.str(name);
    encode(e, acc);
  }
}
std::vector<NamedAccounts> decode_results(h5::Decoder& d) {
  std::vector<NamedAccounts> v;
  const std::uint64_t n = d.count(8);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string name = d.str();
    Accounts acc = decode_accounts(d);
    v.push_back({std::move(name), std::move(acc)});
  }
  return v;
}

void encode(h5::Encoder& e, const FileInfo& f) {
  e.u64(static_cast<std::uint64_t>(f.format_version));
  e.str(f.created_by);
  e.u64(f.has_system);
  encode(e, f.labels);
  e.u64(static_cast<std::uint64_t>(f.nnz_A));
  e.strs(f.result_names);
  e.u64(static_cast<std::uint64_t>(f.spa_paths));
}
FileInfo decode_info(h5::Decoder& d) {
  FileInfo f;
  f.format_version = static_cast<int>(d.u64());
  f.created_by = d.str();
  f.has_system = d.u64() != 0;
  f.labels = decode_labels(d);
  f.nnz_A = static_cast<Index>(d.u64());
  f.result_names = d.strs();
  f.spa_paths = static_cast<Index>(d.u64());
  return f;
}

/// Open `path` (or an image) as an mriotrace file of this build's format;
/// format-1 files, without checksums, open with a warning.
int check_format(Reader& r) {
  return r.check_format(kFormat, 2,
                        "before files carried checksums: damage to it would go unnoticed; save it again to add them");
}

SystemInput read_system_input(const Reader& r) {
  if (!r.exists("/system")) r.ctx().fail("no /system group: not an mriotrace system file");
  if (!r.exists("/system/A"))
    r.ctx().fail("/system/A is missing: the file holds results only, no system (written by save_results?)");
  SystemInput in;
  in.labels = read_labels(r);
  const Labels& l = in.labels;
  const Index n = l.n(), k = l.k(), fd = l.R() * l.c();
  in.A = read_A(r, n);
  in.x = r.vector("/system/x", n, "gross output, n");
  in.Y = r.matrix("/system/Y", n, fd, "n x regions*fd_categories");
  in.S = r.matrix("/system/S", k, n, "stressors x n");
  if (r.exists("/system/F_Y")) in.F_Y = r.matrix("/system/F_Y", k, fd, "stressors x regions*fd_categories");
  if (r.exists("/system/v")) in.v = r.vector("/system/v", n, "value added, n");
  if (r.exists("/system/C")) in.C = r.matrix("/system/C", l.m(), k, "indicators x stressors");
  return in;
}

MrioSystem build_loaded(const std::string& path, SystemInput in) {
  // Rebuild through the validating constructor: a file edited by hand must
  // not yield a system that breaks the engine's invariants.
  try {
    return MrioSystem::build(std::move(in));
  } catch (const InputError& e) {
    throw InputError(concat("\"", path, "\" holds an invalid system: ", e.what()));
  } catch (const NumericError& e) {
    throw NumericError(concat("\"", path, "\" holds an invalid system: ", e.what()));
  }
}

}  // namespace

void save(const std::string& path, const MrioSystem& system, const std::vector<NamedAccounts>& results) {
  check_result_names(results);
  h5::write_atomically(path, kFormat, [&](const Writer& w) {
    w.group("/system");
    write_labels(w, system.labels());
    write_system(w, system);
    write_results(w, system.labels(), results);
  });
}

void save_results(const std::string& path, const Labels& labels, const std::vector<NamedAccounts>& results) {
  check_result_names(results);
  h5::write_atomically(path, kFormat, [&](const Writer& w) {
    w.group("/system");
    write_labels(w, labels);
    write_results(w, labels, results);
  });
}

// Every public read of a file goes through the guard (h5::guarded).
MrioSystem load_system(const std::string& path) {
  const std::string bytes = h5::guarded(path, [&](h5::Encoder& e) {
    h5::Session session;
    Reader r(path);
    check_format(r);
    encode(e, read_system_input(r));
  });
  h5::Decoder d(bytes, path);
  return build_loaded(path, decode_system_input(d));
}

// An image compiled into the program (the demo system) is our own bytes:
// read in this process, without the guard.
MrioSystem load_system_image(const void* image, size_t size, const std::string& name) {
  SystemInput in;
  {
    h5::Session session;
    Reader r(image, size, name);
    check_format(r);
    in = read_system_input(r);
  }
  return build_loaded(name, std::move(in));
}

std::vector<NamedAccounts> load_results(const std::string& path) {
  const std::string bytes = h5::guarded(path, [&](h5::Encoder& e) {
    h5::Session session;
    Reader r(path);
    check_format(r);
    encode(e, r.exists("/results") ? read_results(r, read_labels(r)) : std::vector<NamedAccounts>{});
  });
  h5::Decoder d(bytes, path);
  return decode_results(d);
}

FileInfo inspect(const std::string& path) {
  const std::string bytes = h5::guarded(path, [&](h5::Encoder& e) {
    h5::Session session;
    Reader r(path);
    FileInfo info;
    info.format_version = check_format(r);
    if (r.has_attr("/", "created_by")) info.created_by = r.attr_string("/", "created_by");
    info.labels = read_labels(r);
    info.has_system = r.exists("/system/A");
    if (info.has_system) {
      const Dims d = r.dims("/system/A/data");
      info.nnz_A = d.size() == 1 ? static_cast<Index>(d[0]) : 0;
    }
    if (r.exists("/results")) info.result_names = r.children("/results");
    if (r.exists("/tracing/spa/values")) {
      const Dims d = r.dims("/tracing/spa/values");
      info.spa_paths = d.size() == 1 ? static_cast<Index>(d[0]) : 0;
    }
    encode(e, info);
  });
  h5::Decoder d(bytes, path);
  return decode_info(d);
}

std::string file_format(const std::string& path) {
  const std::string bytes = h5::guarded(path, [&](h5::Encoder& e) {
    h5::Session session;
    const Reader r(path);  // opens only: the root is reported, not checked
    e.str(r.has_attr("/", "format") ? r.attr_string("/", "format") : std::string());
  });
  h5::Decoder d(bytes, path);
  return d.str();
}

const h5::Format& system_format() { return kFormat; }

void write_labels_group(const h5::Writer& w, const Labels& labels) {
  w.group("/system");
  write_labels(w, labels);
}

Labels read_labels_group(const h5::Reader& r) { return read_labels(r); }

int check_system_format(h5::Reader& r) { return check_format(r); }

void encode_labels(h5::Encoder& e, const Labels& labels) { encode(e, labels); }

Labels decode_labels_from(h5::Decoder& d) { return decode_labels(d); }

}  // namespace mriotrace::io
