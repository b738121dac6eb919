// The request parser against hostile input: random bytes, mutated valid
// requests and random JSON objects built from the protocol's own field names.
// Deterministic (fixed seed), so a failure names an input that reproduces.
#include "daemon/query/request.h"
#include "daemon/query/response.h"
#include "support/event_builder.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <variant>
#include <vector>

namespace rstwatch::query
{
namespace
{

using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000'000'000'000;

const std::vector<std::string> kValidRequests = {
    R"({"command":"recent"})",
    R"({"command":"recent","limit":50,"since":"5m","direction":"sent","cause":"refused"})",
    R"({"command":"recent","pid":42,"comm":"nginx","local_port":80,"remote_port":5555})",
    R"({"command":"recent","address":"10.0.0.0/8","after_id":99})",
    R"({"command":"recent","since":"2026-11-23T20:25:00.123Z"})",
    R"({"command":"top","by":"remote_address","limit":5})",
    R"({"command":"top","by":"cause","address":"fd00::/8"})",
    R"({"command":"stats"})",
    R"({"command":"follow","direction":"received"})",
    R"({"command":"explain","id":123456})",
};

const std::vector<std::string> kFieldNames = {
    "command", "limit", "since",      "after_id",    "direction", "cause",
    "pid",     "comm",  "local_port", "remote_port", "address",   "by",
    "id",      "",      "Command",    "limit\u0000"};

struct Outcome {
	size_t requests = 0;
	size_t errors = 0;
};

// Checks one input; returns false (after recording a failure) when a
// property does not hold.
bool check(const std::string &input, Outcome &outcome)
{
	ParseResult result;
	try {
		result = parse_request(input, kNow);
	} catch (const std::exception &e) {
		ADD_FAILURE() << "parse_request threw " << e.what() << " for "
		              << json(input).dump(-1, ' ', false, json::error_handler_t::replace);
		return false;
	}
	if (const auto *error = std::get_if<RequestError>(&result)) {
		outcome.errors++;
		if (error->message.empty()) {
			ADD_FAILURE() << "empty error message";
			return false;
		}
		std::string line = error_line(*error);
		json parsed = json::parse(line, nullptr, false);
		if (parsed.is_discarded() || parsed["ok"] != false || line.back() != '\n' ||
		    std::count(line.begin(), line.end(), '\n') != 1) {
			ADD_FAILURE() << "error line is not one JSON line: " << line;
			return false;
		}
		return true;
	}
	outcome.requests++;
	const Request &request = std::get<Request>(result);
	size_t max = request.command == Command::Top ? kMaxTopLimit : kMaxRecentLimit;
	bool ok = request.limit >= 1 && request.limit <= max;
	if (request.command == Command::Explain)
		ok = ok && request.id >= 1;
	if (request.filter.comm)
		ok = ok && !request.filter.comm->empty() && request.filter.comm->size() < 16;
	if (request.filter.address)
		ok = ok && request.filter.address->prefix_bits <=
		               (request.filter.address->v4 ? 32u : 128u);
	if (!ok) {
		ADD_FAILURE() << "request out of bounds from " << input;
		return false;
	}
	// The filter is usable on any event.
	ResetEvent event = test::refused_connect_event({});
	(void)request.filter.matches(event, make_classify_config({}, 1000));
	return true;
}

std::string random_bytes(std::mt19937_64 &random, size_t max_length)
{
	std::string bytes(random() % (max_length + 1), '\0');
	for (char &c : bytes)
		c = static_cast<char>(random() % 256);
	return bytes;
}

std::string mutate(std::string input, std::mt19937_64 &random)
{
	static const std::string kInteresting =
	    "{}[]\":,\\-.0123456789eE+ \t\nnulltruefalse\xff\xc3";
	int edits = 1 + static_cast<int>(random() % 4);
	for (int i = 0; i < edits && !input.empty(); i++) {
		size_t at = random() % input.size();
		switch (random() % 5) {
		case 0: // flip a byte
			input[at] = static_cast<char>(input[at] ^ (1 << (random() % 8)));
			break;
		case 1: // insert a structural character
			input.insert(at, 1, kInteresting[random() % kInteresting.size()]);
			break;
		case 2: // delete a span
			input.erase(at, 1 + random() % 8);
			break;
		case 3: // duplicate a span
			input.insert(at, input.substr(at, 1 + random() % 16));
			break;
		case 4: // splice a digit run that overflows every integer type
			input.insert(at, "184467440737095516160");
			break;
		}
	}
	return input;
}

json random_value(std::mt19937_64 &random, int depth)
{
	switch (random() % 11) {
	case 0:
		return nullptr;
	case 1:
		return random() % 2 == 0;
	case 2:
		return static_cast<int64_t>(random()) >> (random() % 64);
	case 3:
		return random() >> (random() % 64);
	case 4:
		return static_cast<double>(random() % 100000) / 7.0;
	case 5:
		return std::to_string(random() % 100) + "m";
	case 6: {
		static const char *kWords[] = {
		    "recent", "top",      "stats",      "follow",     "explain",
		    "sent",   "received", "refused",    "peer_reset", "process",
		    "cause",  "::1",      "10.0.0.0/8", "nginx",      "2026-11-23T20:25:00Z"};
		return kWords[random() % std::size(kWords)];
	}
	case 7:
		return json(random_bytes(random, 40))
		    .dump(-1, ' ', false, json::error_handler_t::replace);
	case 8:
		if (depth < 4) {
			json array = json::array();
			for (int i = static_cast<int>(random() % 4); i > 0; i--)
				array.push_back(random_value(random, depth + 1));
			return array;
		}
		return json::array();
	default:
		if (depth < 4) {
			json object = json::object();
			for (int i = static_cast<int>(random() % 4); i > 0; i--)
				object[kFieldNames[random() % kFieldNames.size()]] =
				    random_value(random, depth + 1);
			return object;
		}
		return json::object();
	}
}

TEST(QueryFuzz, RandomBytesNeverCrashTheParser)
{
	std::mt19937_64 random(0x5eed0001);
	Outcome outcome;
	for (int i = 0; i < 30000; i++) {
		if (!check(random_bytes(random, 300), outcome))
			return;
	}
	EXPECT_EQ(outcome.requests, 0u);
}

TEST(QueryFuzz, MutatedRequestsParseOrFailCleanly)
{
	std::mt19937_64 random(0x5eed0002);
	Outcome outcome;
	for (int i = 0; i < 100000; i++) {
		const std::string &seed = kValidRequests[random() % kValidRequests.size()];
		if (!check(mutate(seed, random), outcome))
			return;
	}
	// Both paths were taken: some mutations stay valid, most do not.
	EXPECT_GT(outcome.requests, 500u);
	EXPECT_GT(outcome.errors, 10000u);
}

TEST(QueryFuzz, RandomObjectsFromProtocolFieldsParseOrFailCleanly)
{
	std::mt19937_64 random(0x5eed0003);
	Outcome outcome;
	for (int i = 0; i < 50000; i++) {
		json request = json::object();
		if (random() % 8 != 0) {
			static const char *kCommands[] = {"recent", "top",     "stats",
			                                  "follow", "explain", "bogus"};
			request["command"] = kCommands[random() % std::size(kCommands)];
		}
		for (int fields = static_cast<int>(random() % 4); fields > 0; fields--)
			request[kFieldNames[random() % kFieldNames.size()]] =
			    random_value(random, 0);
		if (!check(request.dump(), outcome))
			return;
	}
	EXPECT_GT(outcome.requests, 1000u);
	EXPECT_GT(outcome.errors, 1000u);
}

TEST(QueryFuzz, DeepNestingAndHugeInputAreRejected)
{
	Outcome outcome;
	check(std::string(100000, '['), outcome);
	check(std::string(100000, '{'), outcome);
	check(R"({"command":"recent","since":")" + std::string(100000, '9') + "m\"}", outcome);
	check(R"({"command":"recent","comm":")" + std::string(100000, '\xff') + "\"}", outcome);
	EXPECT_EQ(outcome.errors, 4u);
}

} // namespace
} // namespace rstwatch::query
