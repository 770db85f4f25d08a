// HDF5 storage tests: bit-exact round trips of a system and of results, the
// on-disk layout (row-major, CSC, 3-D Q, UTF-8 labels) read back with raw HDF5
// calls as h5py would see it, atomic writes, and every bad-file path
// (missing, not HDF5, truncated, foreign, newer version, damaged contents).
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "mriotrace/accounts.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"
#include "test_util.hpp"

using namespace mriotrace;
namespace fs = std::filesystem;

namespace {

/// 2 regions x 2 sectors, 2 final-demand categories, 2 stressors, 1 indicator,
/// with F_Y and v. Values like 1/3 make any lossy round trip visible.
MrioSystem hand_built_system() {
  SystemInput in;
  Labels& l = in.labels;
  l.regions = {"north", "süd"};  // non-ASCII: labels are UTF-8
  l.sectors = {"energy", "goods, other"};
  l.fd_categories = {"households", "government"};
  l.stressors = {"CO2", "CH4"};
  l.stressor_units = {"kt", "t"};
  l.indicators = {"GWP100"};
  l.indicator_units = {"kt CO2eq"};
  l.monetary_unit = "M.EUR";
  Matrix Z(4, 4);
  Z << 10, 5, 2, 1.0 / 3, 3, 20, 1, 0, 2, 1, 15, 4, 0, 2, 3, 12;
  in.Z = Z.sparseView();
  in.Y.resize(4, 4);
  in.Y << 50, 1, 5, 0.25, 40, 2, 3, 0, 4, 0, 60, 7, 2, 1, 45, 2.0 / 7;
  in.F.resize(2, 4);
  in.F << 7, 1, 3, 2, 0.1, 0.2, 1.0 / 3, 0;
  in.F_Y.resize(2, 4);
  in.F_Y << 1.5, 0, 2.5, 0.125, 0, 0.01, 0, 0.02;
  in.v.resize(4);
  in.v << 40, 30, 50, 1.0 / 9;
  in.C.resize(1, 2);
  in.C << 1, 28;
  return MrioSystem::build(std::move(in));
}

void expect_same_labels(const Labels& a, const Labels& b) {
  EXPECT_EQ(a.regions, b.regions);
  EXPECT_EQ(a.sectors, b.sectors);
  EXPECT_EQ(a.fd_categories, b.fd_categories);
  EXPECT_EQ(a.stressors, b.stressors);
  EXPECT_EQ(a.stressor_units, b.stressor_units);
  EXPECT_EQ(a.indicators, b.indicators);
  EXPECT_EQ(a.indicator_units, b.indicator_units);
  EXPECT_EQ(a.monetary_unit, b.monetary_unit);
}

/// Exact equality including shape (Eigen's == needs equal shapes).
::testing::AssertionResult same(const Matrix& a, const Matrix& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols())
    return ::testing::AssertionFailure() << "shape " << a.rows() << "x" << a.cols() << " vs " << b.rows() << "x"
                                         << b.cols();
  if (a != b) return ::testing::AssertionFailure() << "values differ, max |diff| " << (a - b).cwiseAbs().maxCoeff();
  return ::testing::AssertionSuccess();
}

void expect_same_accounts(const Accounts& a, const Accounts& b) {
  EXPECT_EQ(a.stressors, b.stressors);
  EXPECT_EQ(a.sector_level, b.sector_level);
  EXPECT_EQ(a.regional, b.regional);
  EXPECT_TRUE(same(a.x, b.x));
  for (auto m : {&Accounts::M, &Accounts::D_cba, &Accounts::D_pba, &Accounts::D_imp, &Accounts::D_exp,
                 &Accounts::D_cba_reg, &Accounts::D_pba_reg, &Accounts::D_imp_reg, &Accounts::D_exp_reg,
                 &Accounts::Q})
    EXPECT_TRUE(same(a.*m, b.*m));
}

/// A raw HDF5 dataset as h5py would read it: shape and row-major values.
struct RawDataset {
  std::vector<hsize_t> dims;
  std::vector<double> values;
};
RawDataset raw_read(const std::string& file, const char* path) {
  RawDataset out;
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
  const hid_t space = H5Dget_space(ds);
  out.dims.resize(static_cast<size_t>(H5Sget_simple_extent_ndims(space)));
  H5Sget_simple_extent_dims(space, out.dims.data(), nullptr);
  out.values.resize(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
  H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data());
  H5Sclose(space);
  H5Dclose(ds);
  H5Fclose(f);
  return out;
}

/// Write the float64 dataset [1, 2, 3] at `path` with raw HDF5 calls.
void write_raw_3_vector(hid_t file, const char* path) {
  const hsize_t dims[1] = {3};
  const double values[3] = {1, 2, 3};
  const hid_t space = H5Screate_simple(1, dims, nullptr);
  const hid_t ds = H5Dcreate2(file, path, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
  H5Dclose(ds);
  H5Sclose(space);
}

/// Open objects of all files: must be 0 whenever no call is in progress.
ssize_t open_hdf5_objects() { return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL); }

/// Expect `body` to throw E with a message containing every one of `parts`.
template <class E, class Body>
void expect_error(Body&& body, std::initializer_list<std::string> parts) {
  try {
    body();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class Hdf5Test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mriotrace-io-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    EXPECT_EQ(open_hdf5_objects(), 0) << "HDF5 handles leaked";
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> dir_entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  /// Save the hand-built system and return the file's path.
  std::string saved_system(const std::string& name = "system.h5") const {
    const auto p = path(name);
    io::save(p, hand_built_system());
    return p;
  }
  fs::path dir_;
};

/// Results of the hand-built system: full accounts, value added (one row, no
/// stressor index), and regional-only accounts for stressor 1. Named so that
/// alphabetical order differs from write order.
std::vector<io::NamedAccounts> hand_built_results(const MrioSystem& s) {
  LeontiefSolver solver(s.A());
  AccountsOptions regional_only;
  regional_only.sector_level = false;
  regional_only.stressors = {1};
  return {{"stressors", calc_accounts(s, solver)},
          {"value_added", calc_value_added_accounts(s, solver)},
          {"a_methane", calc_accounts(s, solver, regional_only)}};
}

}  // namespace

TEST_F(Hdf5Test, SystemRoundTripIsBitExact) {
  const MrioSystem s = hand_built_system();
  ASSERT_TRUE(s.has_F_Y() && s.has_value_added() && s.has_indicators());
  const auto p = path("system.h5");
  io::save(p, s);
  const MrioSystem t = io::load_system(p);
  expect_same_labels(s.labels(), t.labels());
  EXPECT_TRUE(same(Matrix(s.A()), Matrix(t.A())));
  EXPECT_EQ(s.A().nonZeros(), t.A().nonZeros());
  EXPECT_TRUE(same(s.x(), t.x()));
  EXPECT_TRUE(same(s.Y(), t.Y()));
  EXPECT_TRUE(same(s.S(), t.S()));
  EXPECT_TRUE(same(s.F_Y(), t.F_Y()));
  EXPECT_TRUE(same(s.v(), t.v()));
  EXPECT_TRUE(same(s.C(), t.C()));
  EXPECT_EQ(s.labels().sectors[1], "goods, other");
  EXPECT_EQ(t.labels().regions[1], "süd");
}

TEST_F(Hdf5Test, OptionalMembersAreAbsentAndStayAbsent) {
  Labels l;
  l.regions = {"r"};
  l.sectors = {"a", "b"};
  l.fd_categories = {"fd"};
  Matrix Z(2, 2), Y(2, 1);
  Z << 1, 2, 3, 4;
  Y << 10, 20;
  const MrioSystem s = MrioSystem::from_Z(l, Z.sparseView(), Y, Matrix());  // no stressors, F_Y, v, C
  const auto p = path("bare.h5");
  io::save(p, s);
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  for (const char* name : {"/system/F_Y", "/system/v", "/system/C", "/results"})
    EXPECT_EQ(H5Lexists(f, name, H5P_DEFAULT), 0) << name;
  EXPECT_GT(H5Lexists(f, "/system/S", H5P_DEFAULT), 0);
  H5Fclose(f);
  const MrioSystem t = io::load_system(p);
  EXPECT_FALSE(t.has_F_Y() || t.has_value_added() || t.has_indicators());
  EXPECT_EQ(t.k(), 0);
  EXPECT_TRUE(same(s.x(), t.x()));
  EXPECT_TRUE(same(Matrix(s.A()), Matrix(t.A())));
}

TEST_F(Hdf5Test, LayoutIsRowMajorCscAndUtf8AsDocumented) {
  const MrioSystem s = hand_built_system();
  const auto results = hand_built_results(s);
  const auto p = path("layout.h5");
  io::save(p, s, results);

  // Y as the user sees it (n x R*c), row-major: value [i][j] at i*cols + j.
  const auto Y = raw_read(p, "/system/Y");
  ASSERT_EQ(Y.dims, (std::vector<hsize_t>{4, 4}));
  EXPECT_EQ(Y.values[0 * 4 + 3], 0.25);  // Y(0, 3)
  EXPECT_EQ(Y.values[3 * 4 + 3], 2.0 / 7);
  EXPECT_EQ(Y.values[1 * 4 + 0], 40.0);
  const auto S = raw_read(p, "/system/S");
  ASSERT_EQ(S.dims, (std::vector<hsize_t>{2, 4}));
  EXPECT_EQ(S.values[1 * 4 + 2], s.S()(1, 2));

  // A: scipy CSC arrays.
  const auto indptr = raw_read(p, "/system/A/indptr");
  const auto indices = raw_read(p, "/system/A/indices");
  const auto data = raw_read(p, "/system/A/data");
  ASSERT_EQ(indptr.dims, (std::vector<hsize_t>{5}));
  ASSERT_EQ(data.dims, (std::vector<hsize_t>{static_cast<hsize_t>(s.A().nonZeros())}));
  const Matrix A = s.A();
  for (Index j = 0; j < 4; ++j)
    for (auto q = static_cast<size_t>(indptr.values[j]); q < indptr.values[j + 1]; ++q)
      EXPECT_EQ(data.values[q], A(static_cast<Index>(indices.values[q]), j));
  EXPECT_DOUBLE_EQ(A(3, 2), 3.0 / s.x()[2]);  // a known entry of Z / x, checked through the file above

  // Q as k x R x R with Q[s, p, r] = emitted in p for final demand of r.
  const Accounts& acc = results[0].accounts;
  const auto Q = raw_read(p, "/results/stressors/Q");
  ASSERT_EQ(Q.dims, (std::vector<hsize_t>{2, 2, 2}));
  for (Index st = 0; st < 2; ++st)
    for (Index pr = 0; pr < 2; ++pr)
      for (Index r = 0; r < 2; ++r) EXPECT_EQ(Q.values[st * 4 + pr * 2 + r], acc.Q(st, pr * 2 + r));
  EXPECT_NE(acc.Q(0, 0 * 2 + 1), acc.Q(0, 1 * 2 + 0));  // the test can tell p from r

  // Labels: fixed-length, null-padded UTF-8 strings (format 2: chunk data
  // under Fletcher32, unlike variable-length strings in the global heap);
  // root attributes; the 1.10 file format (superblock version 3, checksummed).
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t ds = H5Dopen2(f, "/system/labels/regions", H5P_DEFAULT);
  const hid_t type = H5Dget_type(ds);
  EXPECT_EQ(H5Tis_variable_str(type), 0);
  EXPECT_EQ(H5Tget_cset(type), H5T_CSET_UTF8);
  EXPECT_EQ(H5Tget_strpad(type), H5T_STR_NULLPAD);
  H5Tclose(type);
  H5Dclose(ds);
  const hid_t attr = H5Aopen(f, "format_version", H5P_DEFAULT);
  long long version = 0;
  H5Aread(attr, H5T_NATIVE_LLONG, &version);
  EXPECT_EQ(version, 2);
  H5Aclose(attr);
  H5F_info2_t finfo;
  ASSERT_GE(H5Fget_info2(f, &finfo), 0);
  EXPECT_EQ(finfo.super.version, 3u);
  // Every non-empty dataset is chunked with a Fletcher32 checksum; tiny ones
  // are not compressed.
  for (const char* name : {"/system/Y", "/system/labels/regions", "/system/A/data", "/results/stressors/Q"}) {
    const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    const hid_t dcpl = H5Dget_create_plist(d);
    EXPECT_EQ(H5Pget_layout(dcpl), H5D_CHUNKED) << name;
    bool fletcher = false, deflate = false;
    for (int i = 0; i < H5Pget_nfilters(dcpl); ++i) {
      unsigned flags = 0;
      size_t nelem = 0;
      const H5Z_filter_t id = H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &nelem, nullptr, 0, nullptr, nullptr);
      fletcher = fletcher || id == H5Z_FILTER_FLETCHER32;
      deflate = deflate || id == H5Z_FILTER_DEFLATE;
    }
    EXPECT_TRUE(fletcher) << name;
    EXPECT_FALSE(deflate) << name;
    H5Pclose(dcpl);
    H5Dclose(d);
  }
  H5Fclose(f);
}

TEST_F(Hdf5Test, LargeMatricesAreCompressedAndRoundTrip) {
  // 3 regions x 40 sectors: Y (120 x 6) is small, S with 50 rows (6000 entries) is chunked.
  Labels l;
  l.regions = {"a", "b", "c"};
  for (int i = 0; i < 40; ++i) l.sectors.push_back("s" + std::to_string(i));
  l.fd_categories = {"hh", "gov"};
  for (int i = 0; i < 50; ++i) l.stressors.push_back("e" + std::to_string(i));
  const Index n = 120;
  Matrix Z(n, n), Y(n, 6), F(50, n);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) Z(i, j) = (i * 7 + j * 3) % 5 == 0 ? 1.0 + 0.01 * static_cast<double>(i + j) : 0.0;
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < 6; ++j) Y(i, j) = 100.0 + static_cast<double>(i) / 3.0 + static_cast<double>(j);
  for (Index i = 0; i < 50; ++i)
    for (Index j = 0; j < n; ++j) F(i, j) = static_cast<double>((i + 1) * (j + 2)) / 7.0;
  const MrioSystem s = MrioSystem::from_Z(l, Z.sparseView(), Y, F);
  const auto p = path("large.h5");
  io::save(p, s);
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t ds = H5Dopen2(f, "/system/S", H5P_DEFAULT);
  const hid_t dcpl = H5Dget_create_plist(ds);
  EXPECT_EQ(H5Pget_layout(dcpl), H5D_CHUNKED);
  bool has_gzip = false;
  for (int i = 0; i < H5Pget_nfilters(dcpl); ++i) {
    unsigned flags = 0, level = 0;
    size_t nelem = 1;
    has_gzip = has_gzip ||
               (H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &nelem, &level, 0, nullptr, nullptr) ==
                    H5Z_FILTER_DEFLATE &&
                level == 4);
  }
  EXPECT_TRUE(has_gzip);
  H5Pclose(dcpl);
  H5Dclose(ds);
  H5Fclose(f);
  const MrioSystem t = io::load_system(p);
  EXPECT_TRUE(same(s.S(), t.S()));
  EXPECT_TRUE(same(s.Y(), t.Y()));
  EXPECT_TRUE(same(Matrix(s.A()), Matrix(t.A())));
}

TEST_F(Hdf5Test, ResultsRoundTripIsBitExactInWriteOrder) {
  const MrioSystem s = hand_built_system();
  const auto results = hand_built_results(s);
  ASSERT_TRUE(results[1].accounts.stressors.empty());
  const auto p = path("with_results.h5");
  io::save(p, s, results);
  const auto back = io::load_results(p);
  ASSERT_EQ(back.size(), 3u);
  for (size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].name, results[i].name);
    expect_same_accounts(results[i].accounts, back[i].accounts);
  }
  EXPECT_FALSE(back[2].accounts.sector_level);
  EXPECT_EQ(back[2].accounts.M.size(), 0);
  EXPECT_EQ(back[2].accounts.stressors, (std::vector<Index>{1}));
  EXPECT_EQ(back[1].accounts.D_cba.rows(), 1);
  // The system stored beside the results is unaffected.
  EXPECT_TRUE(same(io::load_system(p).Y(), s.Y()));
}

TEST_F(Hdf5Test, ResultsOnlyFileHasLabelsButNoSystem) {
  const MrioSystem s = hand_built_system();
  const auto p = path("results.h5");
  io::save_results(p, s.labels(), hand_built_results(s));
  const io::FileInfo info = io::inspect(p);
  EXPECT_FALSE(info.has_system);
  EXPECT_EQ(info.nnz_A, 0);
  expect_same_labels(info.labels, s.labels());
  EXPECT_EQ(info.result_names, (std::vector<std::string>{"stressors", "value_added", "a_methane"}));
  expect_same_accounts(io::load_results(p)[0].accounts, hand_built_results(s)[0].accounts);
  expect_error<FileError>([&] { io::load_system(p); }, {p, "results only"});
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_EQ(H5Lexists(f, "/system/x", H5P_DEFAULT), 0);
  H5Fclose(f);
}

TEST_F(Hdf5Test, FileFormatReportsTheRootFormatOfAnyHdf5File) {
  // What tells a batch results file (its own format name) from systems and
  // results before a reader checks the version.
  const MrioSystem s = hand_built_system();
  const auto p = path("system.h5");
  io::save(p, s);
  EXPECT_EQ(io::file_format(p), "mriotrace");
  EXPECT_EQ(io::inspect(p).spa_paths, -1);  // no /tracing/spa
  const auto other = path("other.h5");
  hid_t f = H5Fcreate(other.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, 15);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attr = H5Acreate2(f, "format", type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, type, "mriotrace-batch");
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
  H5Fclose(f);
  EXPECT_EQ(io::file_format(other), "mriotrace-batch");
  expect_error<FileError>([&] { io::inspect(other); }, {other, "foreign HDF5 file"});
  const auto bare = path("bare.h5");
  H5Fclose(H5Fcreate(bare.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  EXPECT_EQ(io::file_format(bare), "");
  std::ofstream(path("text.h5")) << "not hdf5\n";
  expect_error<FileError>([&] { io::file_format(path("text.h5")); }, {"text.h5", "not an HDF5 file"});
  expect_error<FileError>([&] { io::file_format(path("missing.h5")); }, {"missing.h5", "no such file"});
}

TEST_F(Hdf5Test, InspectReadsSummaryWithoutMatrices) {
  const MrioSystem s = hand_built_system();
  const auto p = path("inspect.h5");
  io::save(p, s, hand_built_results(s));
  const io::FileInfo info = io::inspect(p);
  EXPECT_EQ(info.format_version, io::kFormatVersion);
  EXPECT_EQ(info.created_by.rfind("mriotrace ", 0), 0u) << info.created_by;
  EXPECT_GT(info.created_by.size(), std::string("mriotrace ").size());
  EXPECT_TRUE(info.has_system);
  EXPECT_EQ(info.nnz_A, s.A().nonZeros());
  EXPECT_EQ(info.nnz_A, 14);  // Z has two zeros
  expect_same_labels(info.labels, s.labels());
  EXPECT_EQ(info.result_names, (std::vector<std::string>{"stressors", "value_added", "a_methane"}));
  EXPECT_TRUE(io::load_results(saved_system()).empty());
}

TEST_F(Hdf5Test, SuccessfulWriteLeavesNoTemporaryFile) {
  const auto p = saved_system("out.h5");
  io::save(p, hand_built_system());  // overwrite an existing file
  EXPECT_EQ(dir_entries(), (std::vector<std::string>{"out.h5"}));
}

TEST_F(Hdf5Test, FailedWriteLeavesOldFileUntouched) {
  const auto p = saved_system("keep.h5");
  const std::string before = file_bytes(p);
  const MrioSystem s = hand_built_system();
  // Fails half-way through the write (Q with the wrong number of columns is
  // found while the temporary file is open).
  auto bad = hand_built_results(s);
  bad[0].accounts.Q.conservativeResize(Eigen::NoChange, 3);
  expect_error<InputError>([&] { io::save(p, s, bad); }, {"\"stressors\"", "Q is 2 x 3; expected 2 x 4"});
  EXPECT_EQ(file_bytes(p), before);
  EXPECT_EQ(dir_entries(), (std::vector<std::string>{"keep.h5"}));
  // Into a directory that does not exist: FileError naming the path; nothing created.
  const auto nowhere = path("no/such/dir/x.h5");
  expect_error<FileError>([&] { io::save(nowhere, s); }, {nowhere, "does not exist"});
  expect_error<InputError>([&] { io::save(p, s, {{"a/b", bad[1].accounts}}); }, {"a/b"});
  EXPECT_EQ(file_bytes(p), before);
  EXPECT_EQ(dir_entries(), (std::vector<std::string>{"keep.h5"}));
}

TEST_F(Hdf5Test, MissingFileIsFileError) {
  const auto p = path("absent.h5");
  expect_error<FileError>([&] { io::load_system(p); }, {p, "no such file"});
  expect_error<FileError>([&] { io::inspect(p); }, {p, "no such file"});
}

TEST_F(Hdf5Test, TextFileIsNotHdf5) {
  const auto p = path("notes.h5");
  std::ofstream(p) << "region,sector,value\nnorth,energy,1\n";
  expect_error<FileError>([&] { io::load_system(p); }, {p, "not an HDF5 file"});
  expect_error<FileError>([&] { io::load_results(p); }, {p, "not an HDF5 file"});
}

TEST_F(Hdf5Test, TruncatedFileIsFileError) {
  const auto good = saved_system();
  const std::string bytes = file_bytes(good);
  const auto p = path("truncated.h5");
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  expect_error<FileError>([&] { io::load_system(p); }, {p, "truncated"});
  expect_error<FileError>([&] { io::inspect(p); }, {p, "truncated"});
}

TEST_F(Hdf5Test, ForeignHdf5FileIsRejected) {
  const auto p = path("foreign.h5");
  const hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  write_raw_3_vector(f, "/data");
  H5Fclose(f);
  expect_error<FileError>([&] { io::load_system(p); }, {p, "not an mriotrace file", "foreign", "\"format\""});
  expect_error<FileError>([&] { io::inspect(p); }, {p, "foreign"});
}

namespace {
/// Rewrite a root attribute of an existing file (a scalar int64 or string).
void set_root_attr(const std::string& file, const char* name, const void* value, hid_t file_type, hid_t mem_type) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Adelete(f, name);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(f, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, mem_type, value);
  H5Aclose(a);
  H5Sclose(space);
  H5Fclose(f);
}
}  // namespace

TEST_F(Hdf5Test, OtherFormatNameIsForeign) {
  const auto p = saved_system();
  const hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, H5T_VARIABLE);
  const char* other = "pymrio";
  set_root_attr(p, "format", &other, str, str);
  H5Tclose(str);
  expect_error<FileError>([&] { io::load_system(p); }, {p, "foreign", "\"pymrio\""});
}

TEST_F(Hdf5Test, NewerFormatVersionIsRejected) {
  const auto p = saved_system();
  const std::int64_t v99 = 99;
  set_root_attr(p, "format_version", &v99, H5T_STD_I64LE, H5T_NATIVE_INT64);
  expect_error<FileError>([&] { io::load_system(p); }, {p, "format version 99", "upgrade"});
  expect_error<FileError>([&] { io::inspect(p); }, {p, "99"});
  expect_error<FileError>([&] { io::load_results(p); }, {p, "99"});
}

TEST_F(Hdf5Test, MissingDatasetOrWrongShapeIsFileError) {
  const auto p = saved_system();
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Ldelete(f, "/system/S", H5P_DEFAULT);
  H5Ldelete(f, "/system/x", H5P_DEFAULT);
  write_raw_3_vector(f, "/system/x");  // n = 4
  H5Fclose(f);
  expect_error<FileError>([&] { io::load_system(p); }, {p, "/system/x has shape 3; expected 4"});
  const auto q = saved_system("other.h5");
  const hid_t g = H5Fopen(q.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Ldelete(g, "/system/S", H5P_DEFAULT);
  H5Fclose(g);
  expect_error<FileError>([&] { io::load_system(q); }, {q, "/system/S is missing"});
}

TEST_F(Hdf5Test, InvalidStoredSystemIsRevalidated) {
  const auto p = saved_system();
  // Negative gross output passes the shape checks; MrioSystem::build must catch it.
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  const hid_t ds = H5Dopen2(f, "/system/x", H5P_DEFAULT);
  const double x[4] = {1, -2, 3, 4};
  H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
  H5Dclose(ds);
  H5Fclose(f);
  expect_error<InputError>([&] { io::load_system(p); }, {p, "negative"});
}

TEST_F(Hdf5Test, FileImageReadsLikeTheFile) {
  const MrioSystem s = hand_built_system();
  const std::string bytes = file_bytes(saved_system());
  const MrioSystem t = io::load_system_image(bytes.data(), bytes.size(), "in-memory copy");
  expect_same_labels(s.labels(), t.labels());
  EXPECT_TRUE(same(Matrix(s.A()), Matrix(t.A())));
  EXPECT_TRUE(same(s.x(), t.x()));
  EXPECT_TRUE(same(s.Y(), t.Y()));
  EXPECT_TRUE(same(s.S(), t.S()));
  EXPECT_TRUE(same(s.F_Y(), t.F_Y()));
  EXPECT_TRUE(same(s.v(), t.v()));
}

TEST_F(Hdf5Test, BadFileImageIsFileErrorNamingIt) {
  const std::string bytes = file_bytes(saved_system());
  const std::string garbage(4096, 'x');
  for (const std::string& image : {garbage, bytes.substr(0, bytes.size() / 3)}) {
    try {
      io::load_system_image(image.data(), image.size(), "the image");
      ADD_FAILURE() << "no error for a bad image of " << image.size() << " bytes";
    } catch (const FileError& e) {
      EXPECT_NE(std::string(e.what()).find("\"the image\""), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(io::load_system_image(nullptr, 0, "empty"), FileError);
}
