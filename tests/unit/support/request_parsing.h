// Query requests parsed for the unit tests: the request a line makes, or the
// error it gets, with a test failure when it is the other one.
#pragma once

#include "daemon/query/request.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <variant>

namespace rstwatch::test
{

inline query::Request parse_ok(const std::string &line, int64_t now_ns)
{
	query::ParseResult result = query::parse_request(line, now_ns);
	if (const auto *error = std::get_if<query::RequestError>(&result)) {
		ADD_FAILURE() << line << " -> " << error->message;
		return {};
	}
	return std::get<query::Request>(result);
}

inline query::RequestError parse_error(const std::string &line, int64_t now_ns)
{
	query::ParseResult result = query::parse_request(line, now_ns);
	if (std::holds_alternative<query::Request>(result)) {
		ADD_FAILURE() << line << " parsed, expected an error";
		return {};
	}
	return std::get<query::RequestError>(result);
}

} // namespace rstwatch::test
