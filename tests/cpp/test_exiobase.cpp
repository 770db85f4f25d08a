// EXIOBASE 3 reader on a hand-written folder in the published layout (2 regions
// x 2 sectors, 1 category, a satellite with 2 stressors). The full comparison
// with pymrio on generated zips is in tests/python/test_exiobase.py; characterize
// (core) is tested here on the same folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "mriotrace/characterize.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/exiobase.hpp"

namespace fs = std::filesystem;
using namespace mriotrace;

namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

fs::path make_release(const std::string& z_cell = "1.5") {
  const fs::path dir = fs::temp_directory_path() / ("mriotrace_exio_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const fs::path root = dir / "IOT_2011_ixi";
  // pandas' layout: header rows, then an index-names row, then data (CRLF on one line on purpose).
  write(root / "Z.txt",
        "region\t\tAT\tAT\tBE\tBE\nsector\t\ts1\ts2\ts1\ts2\nregion\tsector\t\t\t\t\n"
        "AT\ts1\t" + z_cell + "\t2\t0\t0.5\nAT\ts2\t1\t0\t0\t0\r\nBE\ts1\t0\t0\t3\t1E-1\nBE\ts2\t0\t2.5\t1\t0\n");
  write(root / "Y.txt",
        "region\t\tAT\tBE\ncategory\t\thh\thh\nregion\tsector\t\t\nAT\ts1\t5\t1\nAT\ts2\t6\t0\nBE\ts1\t1\t7\nBE\ts2\t0\t8\n");
  write(root / "unit.txt", "region\tsector\tunit\nAT\ts1\tM.EUR\nAT\ts2\tM.EUR\nBE\ts1\tM.EUR\nBE\ts2\tM.EUR\n");
  write(root / "satellite" / "F.txt",
        "region\tAT\tAT\tBE\tBE\nsector\ts1\ts2\ts1\ts2\nstressor\t\t\t\t\nCO2/air\t10\t20\t30\t40\nN2O\t1\t0\t0\t2\n");
  write(root / "satellite" / "F_Y.txt",
        "region\tAT\tBE\ncategory\thh\thh\nstressor\t\t\nCO2/air\t3\t4\nN2O\t0\t0\n");
  write(root / "satellite" / "unit.txt", "stressor\tunit\nCO2/air\tkg\nN2O\tkg\n");
  return dir;
}

}  // namespace

TEST(Exiobase, ReadsLabelsUnitsAndValues) {
  const fs::path dir = make_release();
  const io::ExiobaseTable t = io::read_exiobase3(dir.string());
  const MrioSystem& s = *t.system;
  EXPECT_EQ(t.kind, "ixi");
  EXPECT_EQ(t.year, "2011");
  EXPECT_EQ(s.labels().regions, (std::vector<std::string>{"AT", "BE"}));
  EXPECT_EQ(s.labels().sectors, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(s.labels().fd_categories, (std::vector<std::string>{"hh"}));
  EXPECT_EQ(s.labels().stressors, (std::vector<std::string>{"satellite::CO2%2Fair", "satellite::N2O"}));
  EXPECT_EQ(s.labels().stressor_units, (std::vector<std::string>{"kg", "kg"}));
  EXPECT_EQ(s.labels().monetary_unit, "M.EUR");
  // x = Z1 + Y1 (no x.txt): AT s1 = 1.5 + 2 + 0.5 + 5 + 1 = 10.
  EXPECT_DOUBLE_EQ(s.x()[0], 10.0);
  EXPECT_DOUBLE_EQ(s.x()[2], 3 + 0.1 + 1 + 7);
  const SparseMatrix Z = s.Z();
  EXPECT_DOUBLE_EQ(Z.coeff(0, 0), 1.5);
  EXPECT_DOUBLE_EQ(Z.coeff(2, 3), 0.1);
  EXPECT_DOUBLE_EQ(Z.coeff(3, 1), 2.5);
  EXPECT_EQ(Z.nonZeros(), 8);  // exact zeros are not stored
  EXPECT_DOUBLE_EQ(s.Y()(3, 1), 8.0);
  EXPECT_NEAR(s.F()(0, 3), 40.0, 1e-12);
  EXPECT_DOUBLE_EQ(s.F_Y()(0, 1), 4.0);
  fs::remove_all(dir);
}

TEST(Exiobase, NonNumericCellNamesFileLineColumn) {
  const fs::path dir = make_release("abc");
  try {
    io::read_exiobase3(dir.string());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("Z.txt\" line 4, column 3 (AT, s1): \"abc\" is not a number"), std::string::npos) << msg;
  }
  fs::remove_all(dir);
}

TEST(Exiobase, FlatNamesEscapeAsThePythonLayer) {
  EXPECT_EQ(io::flat_stressor_name("impacts", "impact", "GWP100, a/b: c"), "impacts[impact]::GWP100%2C a%2Fb%3A c");
  EXPECT_EQ(io::flat_stressor_name("satellite", "stressor", "x"), "satellite::x");
  EXPECT_THROW(io::read_exiobase3("/nonexistent/IOT_2011_ixi.zip"), FileError);
}

TEST(Characterize, AppendsImpactRowsLinearInTheStressors) {
  const fs::path dir = make_release();
  const io::ExiobaseTable table = io::read_exiobase3(dir.string());
  const MrioSystem& s = *table.system;
  CharacterisationTable t;
  t.impacts = {"impacts::GWP"};
  t.impact_units = {"kg CO2 eq."};
  t.stressors = {"satellite::N2O", "satellite::CO2%2Fair"};
  t.factors = Matrix{{265.0, 1.0}};
  const MrioSystem c = characterize(s, t);
  ASSERT_EQ(c.k(), 3);
  EXPECT_EQ(c.labels().stressors[2], "impacts::GWP");
  EXPECT_EQ(c.labels().stressor_units[2], "kg CO2 eq.");
  EXPECT_NEAR(c.F()(2, 3), 265.0 * 2 + 40.0, 1e-9);  // BE s2: N2O 2, CO2 40
  EXPECT_DOUBLE_EQ(c.F_Y()(2, 1), 4.0);
  t.stressors[0] = "satellite::CH4";
  EXPECT_THROW(characterize(s, t), InputError);  // not a stressor of the system
  fs::remove_all(dir);
}
