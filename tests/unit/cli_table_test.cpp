// rstwatch's tables: each column as wide as its widest cell, two spaces
// between columns, nothing after the last.
#include "cli/table.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace rstwatch::cli
{
namespace
{

using nlohmann::json;

TEST(CliTable, EachColumnIsAsWideAsItsWidestCell)
{
	Table table({"ID", "COMM", "COUNT"});
	table.add({"7", "nginx", "1"});
	table.add({"12345", "x", "100000"});
	std::vector<size_t> widths = table.column_widths();
	EXPECT_EQ(widths, (std::vector<size_t>{5, 5, 6}));
	EXPECT_EQ(Table::format_row({"ID", "COMM", "COUNT"}, widths), "ID     COMM   COUNT");
	EXPECT_EQ(Table::format_row({"7", "nginx", "1"}, widths), "7      nginx  1");
	EXPECT_EQ(Table::format_row({"12345", "x", "100000"}, widths), "12345  x      100000");
}

TEST(CliTable, WithoutAHeaderTheFirstRowSetsTheColumns)
{
	EXPECT_TRUE(Table().column_widths().empty());
	Table stats;
	stats.add({"version", "0.1.0"});
	stats.add({"resets received", "12"});
	EXPECT_EQ(stats.column_widths(), (std::vector<size_t>{15, 5}));
	// A cell past the first row's columns widens nothing.
	Table narrow({"A"});
	narrow.add({"bbb", "cc"});
	EXPECT_EQ(narrow.column_widths(), (std::vector<size_t>{3}));
}

TEST(CliTable, FixedWidthsStillSeparateOverlongCells)
{
	// follow prints rows as they come, into widths fixed in advance.
	std::vector<size_t> widths = {4, 4, 4};
	EXPECT_EQ(Table::format_row({"1234567", "ab", "c"}, widths), "1234567  ab    c");
	EXPECT_EQ(Table::format_row({"a"}, widths), "a");
}

TEST(CliTable, CellsShowNullAsADashAndTimesToTheMillisecond)
{
	EXPECT_EQ(text(json(nullptr)), "-");
	EXPECT_EQ(text(json("curl")), "curl");
	EXPECT_EQ(text(json(8080)), "8080");
	EXPECT_EQ(text(json(true)), "true");
	EXPECT_EQ(short_time(json("2026-11-23T20:25:00.123456789Z")), "2026-11-23T20:25:00.123Z");
	EXPECT_EQ(short_time(json("2026-11-23T20:25:00Z")), "2026-11-23T20:25:00Z");
	EXPECT_EQ(short_time(json(nullptr)), "-");
}

} // namespace
} // namespace rstwatch::cli
