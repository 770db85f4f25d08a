// The streaming layer shared by the global-database readers (io/src/table_stream):
// libcsv records across chunk boundaries, numbers, sparse rows in any order,
// flat extension names; and a small OECD ICIO table with split regions.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "mriotrace/error.hpp"
#include "mriotrace/io/oecd_icio.hpp"
#include "table_stream.hpp"

namespace fs = std::filesystem;
using namespace mriotrace;
using namespace mriotrace::io::detail;

namespace {

/// Hands out a string a few bytes at a time (1, 2, ..., 7, 1, ...), so that
/// records and quoted fields straddle the reads.
class TrickleSource final : public ByteSource {
 public:
  explicit TrickleSource(std::string text) : text_(std::move(text)) {}
  size_t read(char* buf, size_t n) override {
    const size_t take = std::min({n, text_.size() - pos_, step_ % 7 + 1});
    ++step_;
    std::memcpy(buf, text_.data() + pos_, take);
    pos_ += take;
    return take;
  }

 private:
  std::string text_;
  size_t pos_ = 0, step_ = 0;
};

std::vector<std::vector<std::string>> records(const std::string& text) {
  CsvReader csv(std::make_unique<TrickleSource>(text), "t.csv");
  std::vector<std::vector<std::string>> out;
  std::vector<std::string_view> cells;
  while (csv.next(cells)) out.emplace_back(cells.begin(), cells.end());
  return out;
}

}  // namespace

TEST(TableStream, CsvRecordsWithQuotesAcrossReads) {
  const auto r = records(
      "\"rowLabels\",\"AR_A01\",\"a, b\"\r\n"
      "\"AR_A01\",1.5,\"say \"\"hi\"\"\"\r\n"
      "\n"  // blank lines are skipped
      "\"two\nlines\",0,  2e-3  \n"
      "last,,-4");  // no final newline; an empty field
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0], (std::vector<std::string>{"rowLabels", "AR_A01", "a, b"}));
  EXPECT_EQ(r[1], (std::vector<std::string>{"AR_A01", "1.5", "say \"hi\""}));
  EXPECT_EQ(r[2], (std::vector<std::string>{"two\nlines", "0", "2e-3"}));  // blanks around unquoted fields trimmed
  EXPECT_EQ(r[3], (std::vector<std::string>{"last", "", "-4"}));
}

TEST(TableStream, CsvMalformedQuotesAreNamed) {
  try {
    records("a,b\n\"open,1\n");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("\"t.csv\" row 2: a quoted field is not closed"), std::string::npos) << e.what();
  }
  EXPECT_THROW(records("a,b\nx\"y\"z,1\n"), InputError);  // a quote inside an unquoted field (strict mode)
}

TEST(TableStream, Numbers) {
  double v = -1;
  EXPECT_TRUE(parse_number("0", v) && v == 0.0);
  EXPECT_TRUE(parse_number("0.0", v) && v == 0.0);
  EXPECT_TRUE(parse_number("1.25E-05", v) && v == 1.25e-05);
  EXPECT_TRUE(parse_number("+3", v) && v == 3.0);
  EXPECT_FALSE(parse_number("1,5", v));
  EXPECT_FALSE(parse_number("", v));
  EXPECT_TRUE(parse_number("", v, /*empty_is_zero=*/true) && v == 0.0);
  EXPECT_FALSE(parse_number("12..5", v));
}

TEST(TableStream, SparseRowsInAnyOrderAreSummed) {
  SparseRowBuilder b(3, 4);
  const double r2[] = {0, 1, 0, 2}, r0[] = {5, 0, 0, 0}, r2b[] = {0, 3, 0, -2}, r1[] = {0, 0, 7, 0};
  b.add_row(2, r2);
  b.add_row(0, r0);
  b.add_row(2, r2b);  // repeated: summed, and 2 + (-2) = 0 is not stored
  b.add_row(1, r1);
  const SparseMatrix m = b.finish();
  Matrix want(3, 4);
  want << 5, 0, 0, 0, 0, 0, 7, 0, 0, 4, 0, 0;
  EXPECT_EQ(Matrix(m), want);
  EXPECT_EQ(m.nonZeros(), 3);
  for (Index j = 0; j < m.outerSize(); ++j)  // rows ascending in every column (valid CSC)
    for (Index e = m.outerIndexPtr()[j] + 1; e < m.outerIndexPtr()[j + 1]; ++e)
      EXPECT_LT(m.innerIndexPtr()[e - 1], m.innerIndexPtr()[e]);
}

TEST(TableStream, FlatNamesAsThePythonLayer) {
  EXPECT_EQ(flat_name("Q", {"stressor", "category"}, {"CO2/fossil", "Emissions"}),
            "Q[stressor,category]::CO2%2Ffossil/Emissions");
  EXPECT_EQ(flat_name("x", {"stressor", "compartment"}, {"a", "b"}), "x::a/b");  // pymrio's default names
  EXPECT_EQ(flat_name("factor_inputs", {"inputtype"}, {"VA"}), "factor_inputs[inputtype]::VA");
}

TEST(OecdIcio, SplitRegionsAddIntoTheirCountry) {
  // Two countries and China's split CN1, CN2 (no final demand of their own), one sector each.
  const fs::path file = fs::temp_directory_path() / ("mriotrace_icio_" + std::to_string(::getpid()) + ".csv");
  std::ofstream(file) << "\"V1\",\"CHN_A\",\"USA_A\",\"CN1_A\",\"CN2_A\",\"CHN_HFCE\",\"USA_HFCE\",\"OUT\"\n"
                         "\"CHN_A\",0,0,0,0,0,0,0\n"
                         "\"USA_A\",1,2,3,4,10,20,40\n"
                         "\"CN1_A\",0.5,1,0.25,0,5,6,12.75\n"
                         "\"CN2_A\",0,2,0,1,7,8,18\n"
                         "\"TLS\",0.1,0.2,0.3,0.4,1,2,0\n"
                         "\"VA\",9,30,8,12,,,0\n"  // empty cells read as 0
                         "\"OUT\",1,1,1,1,1,1,1\n";
  const io::OecdIcioTable t = io::read_oecd_icio(file.string());
  const MrioSystem& s = *t.system;
  EXPECT_EQ(s.labels().regions, (std::vector<std::string>{"CHN", "USA"}));
  EXPECT_EQ(t.merged, (std::vector<std::string>{"CN1 -> CHN", "CN2 -> CHN"}));
  const Matrix Z = Matrix(s.Z());
  // CHN row = CN1 + CN2 rows, CHN column = CHN + CN1 + CN2 columns.
  EXPECT_NEAR(Z(0, 0), 0.5 + 0.25 + 0 + 0 + 0 + 1, 1e-12);
  EXPECT_NEAR(Z(0, 1), 1 + 2, 1e-12);
  EXPECT_NEAR(Z(1, 0), 1 + 3 + 4, 1e-12);
  EXPECT_DOUBLE_EQ(s.Y()(0, 0), 5 + 7);
  EXPECT_DOUBLE_EQ(s.x()[0], 0.5 + 1 + 0.25 + 5 + 6 + 2 + 1 + 7 + 8);
  EXPECT_EQ(s.labels().stressors, (std::vector<std::string>{"factor_inputs[inputtype]::TLS", "factor_inputs[inputtype]::VA"}));
  EXPECT_NEAR(s.F()(1, 0), 9 + 8 + 12, 1e-12);
  EXPECT_DOUBLE_EQ(s.F_Y()(0, 1), 2);
  fs::remove(file);
}
