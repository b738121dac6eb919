#include "json_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace rstwatch
{

void append_json_string(std::string &out, std::string_view text)
{
	// Plain ASCII needs no escaping and cannot be invalid UTF-8; anything
	// else (a comm can hold any bytes) takes the library's careful path.
	bool plain = std::all_of(text.begin(), text.end(), [](char c) {
		auto byte = static_cast<unsigned char>(c);
		return byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\';
	});
	if (plain) {
		out.push_back('"');
		out.append(text);
		out.push_back('"');
		return;
	}
	out += nlohmann::json(std::string(text))
	           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace rstwatch
