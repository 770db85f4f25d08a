// CSV export tests: exact headers, labels with commas and quotes quoted,
// numbers at full precision, row order, the value-added row name, and errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mriotrace/error.hpp"
#include "mriotrace/io/csv.hpp"

using namespace mriotrace;
namespace fs = std::filesystem;

namespace {

Labels csv_labels() {
  Labels l;
  l.regions = {"north", "south, coast"};
  l.sectors = {"energy", "goods \"misc\""};
  l.stressors = {"CO2", "CH4"};
  l.stressor_units = {"kt", "t"};
  l.monetary_unit = "M.EUR";
  return l;
}

/// Accounts for stressor 1 only (k = 1, R = 2, n = 4) with recognisable values.
Accounts csv_accounts() {
  Accounts a;
  a.stressors = {1};
  a.regional = a.sector_level = true;
  a.D_cba_reg = (Matrix(1, 2) << 1.0 / 3, 2).finished();
  a.D_pba_reg = (Matrix(1, 2) << 3, 4).finished();
  a.D_imp_reg = (Matrix(1, 2) << 5, 6).finished();
  a.D_exp_reg = (Matrix(1, 2) << 7, 1e-300).finished();
  a.M = (Matrix(1, 4) << 0.1, 0.2, 0.3, 0.4).finished();
  a.D_cba = (Matrix(1, 4) << 1, 2, 3, 4).finished();
  a.D_pba = (Matrix(1, 4) << 5, 6, 7, 8).finished();
  a.D_imp = (Matrix(1, 4) << 9, 10, 11, 12).finished();
  a.D_exp = (Matrix(1, 4) << 13, 14, 15, -16.5).finished();
  return a;
}

std::string temp_csv(const char* name) {
  return (fs::temp_directory_path() / ("mriotrace-csv-" + std::to_string(::getpid()) + "-" + name)).string();
}

using CsvWriter = void (*)(const std::string&, const Labels&, const Accounts&);

/// Write `accounts` with `writer` to a temporary file and return its lines.
std::vector<std::string> written_lines(CsvWriter writer, const Accounts& accounts) {
  const auto path = temp_csv("table.csv");
  writer(path, csv_labels(), accounts);
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  fs::remove(path);
  return lines;
}

}  // namespace

TEST(CsvTest, RegionalTableHasHeaderQuotedLabelsAndFullPrecision) {
  const auto lines = written_lines(&io::write_regional_csv, csv_accounts());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "stressor,unit,region,D_cba_reg,D_pba_reg,D_imp_reg,D_exp_reg");
  EXPECT_EQ(lines[1], "CH4,t,north,0.33333333333333331,3,5,7");
  EXPECT_EQ(lines[2], "CH4,t,\"south, coast\",2,4,6,1e-300");
  EXPECT_EQ(std::stod("0.33333333333333331"), 1.0 / 3);  // round-trips exactly
}

TEST(CsvTest, SectorTableHasOneRowPerStressorRegionSector) {
  const auto lines = written_lines(&io::write_sector_csv, csv_accounts());
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "stressor,unit,region,sector,M,D_cba,D_pba,D_imp,D_exp");
  EXPECT_EQ(lines[1], "CH4,t,north,energy,0.10000000000000001,1,5,9,13");
  EXPECT_EQ(lines[2], "CH4,t,north,\"goods \"\"misc\"\"\",0.20000000000000001,2,6,10,14");
  EXPECT_EQ(lines[4], "CH4,t,\"south, coast\",\"goods \"\"misc\"\"\",0.40000000000000002,4,8,12,-16.5");
  // No temporary file left beside the output.
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))
    EXPECT_EQ(e.path().filename().string().find(".mriotrace-csv-" + std::to_string(::getpid())), std::string::npos);
}

TEST(CsvTest, ValueAddedRowIsNamedWithMonetaryUnit) {
  Accounts a = csv_accounts();
  a.stressors.clear();  // value-added accounts: one row, no stressor index
  const auto lines = written_lines(&io::write_regional_csv, a);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].rfind("value added,M.EUR,north,", 0), 0u) << lines[1];
}

TEST(CsvTest, MissingResultsAndBadDirectoryAreErrors) {
  Accounts a = csv_accounts();
  a.regional = false;
  EXPECT_THROW(io::write_regional_csv(temp_csv("x.csv"), csv_labels(), a), InputError);
  a = csv_accounts();
  a.stressors = {0, 1};  // two indices for one row
  EXPECT_THROW(io::write_sector_csv(temp_csv("x.csv"), csv_labels(), a), InputError);
  const std::string nowhere = temp_csv("no-such-dir") + "/out.csv";
  try {
    io::write_regional_csv(nowhere, csv_labels(), csv_accounts());
    ADD_FAILURE() << "no exception";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find(nowhere), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(temp_csv("x.csv")));
}
