#include "cli/table.h"

#include "cli/connection.h"
#include "common/text_escape.h"

#include <algorithm>
#include <cstdio>

namespace rstwatch::cli
{

using nlohmann::json;

namespace
{

// Columns a shown cell takes: one per character, not per byte, so a name in
// UTF-8 lines up with the rest.
size_t shown_width(std::string_view shown)
{
	return static_cast<size_t>(std::count_if(shown.begin(), shown.end(), [](char c) {
		return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
	}));
}

} // namespace

int print_json(const json &response)
{
	std::puts(response.dump().c_str());
	return kSuccess;
}

std::string text(const json &value)
{
	if (value.is_null())
		return "-";
	if (value.is_string())
		return value.get<std::string>();
	return value.dump();
}

std::string short_time(const json &timestamp)
{
	std::string value = text(timestamp);
	if (value.size() > 24 && value.back() == 'Z')
		return value.substr(0, 23) + "Z";
	return value;
}

std::vector<size_t> Table::column_widths() const
{
	if (rows_.empty())
		return {};
	std::vector<size_t> widths(rows_.front().size(), 0);
	for (const auto &row : rows_) {
		for (size_t i = 0; i < row.size() && i < widths.size(); i++)
			widths[i] = std::max(widths[i], shown_width(escaped_text(row[i])));
	}
	return widths;
}

void Table::print() const
{
	std::vector<size_t> widths = column_widths();
	for (const auto &row : rows_)
		print_row(row, widths);
}

std::string Table::format_row(const std::vector<std::string> &row,
                              const std::vector<size_t> &widths)
{
	std::string line;
	for (size_t i = 0; i < row.size(); i++) {
		// Cells hold what the daemon reported, process names among
		// them: escaped, they cannot reach the terminal as controls.
		const std::string cell = escaped_text(row[i]);
		line += cell;
		const size_t width = shown_width(cell);
		if (i + 1 < row.size())
			line.append(widths[i] > width ? widths[i] - width + 2 : 2, ' ');
	}
	return line;
}

void Table::print_row(const std::vector<std::string> &row, const std::vector<size_t> &widths)
{
	std::puts(format_row(row, widths).c_str());
}

} // namespace rstwatch::cli
