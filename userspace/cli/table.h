// Aligned text tables for rstwatch's answers, and the text of the daemon's
// JSON values in their cells.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace rstwatch::cli
{

// An answer as it came, one JSON object on a line of stdout (--json).
int print_json(const nlohmann::json &response);
// A cell: strings as they are, null as "-", anything else as JSON.
std::string text(const nlohmann::json &value);
// "2026-11-23T20:25:00.123456789Z" -> "2026-11-23T20:25:00.123Z"
std::string short_time(const nlohmann::json &timestamp);

class Table
{
public:
	Table() = default;
	explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
	void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

	// Per column of the first row, the widest cell in it over all rows,
	// in characters as shown (escaped, see format_row()).
	std::vector<size_t> column_widths() const;
	// Every row on stdout, aligned to column_widths().
	void print() const;

	// One line, no newline: each cell escaped (common/text_escape.h), and
	// each but the last padded to its width and two spaces more; a cell
	// wider than its column still gets the two.
	static std::string format_row(const std::vector<std::string> &row,
	                              const std::vector<size_t> &widths);
	static void print_row(const std::vector<std::string> &row,
	                      const std::vector<size_t> &widths);

private:
	std::vector<std::vector<std::string>> rows_;
};

} // namespace rstwatch::cli
