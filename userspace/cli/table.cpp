#include "cli/table.h"

#include <algorithm>
#include <cstdio>

namespace rstwatch::cli
{

using nlohmann::json;

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
			widths[i] = std::max(widths[i], row[i].size());
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
		line += row[i];
		if (i + 1 < row.size())
			line.append(widths[i] > row[i].size() ? widths[i] - row[i].size() + 2 : 2,
			            ' ');
	}
	return line;
}

void Table::print_row(const std::vector<std::string> &row, const std::vector<size_t> &widths)
{
	std::puts(format_row(row, widths).c_str());
}

} // namespace rstwatch::cli
