// Hostile process names through every writer that shows one: the /metrics
// scrape still parses and every label value is UTF-8, the daemon's text line
// and rstwatch's tables carry no control byte, and the JSON parses back to the
// replaced name.
#include "cli/table.h"
#include "common/json_text.h"
#include "common/text_escape.h"
#include "core/event_format.h"
#include "core/owner.h"
#include "daemon/metrics/metrics.h"
#include "support/event_builder.h"
#include "support/hostile_names.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace rstwatch
{
namespace
{

using nlohmann::json;
using test::shown;
using test::shows_no_control_byte;

// One sample line of the text exposition format (version 0.0.4):
// name{label="value",...} number, label values escaped as \\, \" and \n.
struct Sample {
	std::string name;
	std::map<std::string, std::string> labels;
	double value = 0;
};

std::optional<Sample> parse_sample(const std::string &line, std::string &error)
{
	Sample sample;
	size_t at = line.find_first_of("{ ");
	sample.name = line.substr(0, at);
	if (sample.name.empty() || at == std::string::npos) {
		error = "no metric name";
		return std::nullopt;
	}
	if (line[at] == '{') {
		at++;
		while (at < line.size() && line[at] != '}') {
			size_t equals = line.find("=\"", at);
			if (equals == std::string::npos) {
				error = "label without =\"";
				return std::nullopt;
			}
			std::string label = line.substr(at, equals - at);
			std::string value;
			for (at = equals + 2; at < line.size() && line[at] != '"'; at++) {
				if (line[at] != '\\') {
					value += line[at];
					continue;
				}
				char escaped = ++at < line.size() ? line[at] : '\0';
				if (escaped == 'n')
					value += '\n';
				else if (escaped == '\\' || escaped == '"')
					value += escaped;
				else {
					error = "invalid escape in label value";
					return std::nullopt;
				}
			}
			if (at >= line.size()) {
				error = "unterminated label value";
				return std::nullopt;
			}
			if (!is_valid_utf8(value)) {
				error = "label value is not UTF-8: " + label;
				return std::nullopt;
			}
			sample.labels[label] = value;
			at++;
			if (at < line.size() && line[at] == ',')
				at++;
		}
		if (at >= line.size()) {
			error = "unterminated label set";
			return std::nullopt;
		}
		at++;
	}
	if (at >= line.size() || line[at] != ' ') {
		error = "no space before the value";
		return std::nullopt;
	}
	std::string number = line.substr(at + 1);
	size_t used = 0;
	try {
		sample.value = std::stod(number, &used);
	} catch (const std::exception &) {
		used = 0;
	}
	if (used == 0 || used != number.size()) {
		error = "value is not a number: " + number;
		return std::nullopt;
	}
	return sample;
}

MetricsSources metrics_sources(KernelCounters *counters)
{
	MetricsSources sources;
	sources.version = "1.2.3";
	sources.kernel_counters = [counters] { return *counters; };
	sources.reason_names = {"NOT_SPECIFIED", "NO_SOCKET",
	                        "BAD\n\xff"
	                        "NAME"};
	sources.kernel_has_reasons = true;
	return sources;
}

// The counts of rstwatch_resets_by_process_total{direction="received"} by
// comm, from a scrape that must parse line by line.
std::map<std::string, double> received_by_comm(const std::string &scrape)
{
	std::map<std::string, double> counts;
	std::istringstream lines(scrape);
	for (std::string line; std::getline(lines, line);) {
		EXPECT_TRUE(is_valid_utf8(line)) << shown(line);
		if (line.empty() || line[0] == '#')
			continue;
		std::string error;
		std::optional<Sample> sample = parse_sample(line, error);
		EXPECT_TRUE(sample) << error << " in " << shown(line);
		if (sample && sample->name == "rstwatch_resets_by_process_total" &&
		    sample->labels["direction"] == "received")
			counts[sample->labels["comm"]] += sample->value;
	}
	return counts;
}

ResetEvent event_of(const std::string &name, uint64_t id)
{
	ResetEvent event = test::refused_connect_event(
	    {.id = id, .direction = RSTWATCH_DIR_RECEIVED, .comm = name, .pid = 4242});
	std::memset(event.raw.current_comm, 0, RSTWATCH_COMM_LEN);
	std::memcpy(event.raw.current_comm, name.data(), name.size());
	event.peer.event_id = id + 1;
	event.peer.owner_source = RSTWATCH_OWNER_SOCKET;
	event.peer.pid = 4343;
	std::memcpy(event.peer.comm, name.data(), name.size());
	SocketHolder holder{.pid = 4242};
	std::memcpy(holder.comm, name.data(), name.size());
	event.holders = std::make_shared<std::vector<SocketHolder>>(2, holder);
	return event;
}

TEST(HostileNames, ScrapeParsesAndEveryCommLabelIsTheReplacedName)
{
	KernelCounters counters;
	ResetMetrics metrics(metrics_sources(&counters), 100000);
	std::vector<std::string> names = test::hostile_names();
	// One series per label value: names that replace to the same text
	// (every lone invalid byte is U+FFFD) count together, and a name
	// that reads "other" or "unattributed" counts in that series.
	std::map<std::string, double> expected = {{"other", 0}, {"unattributed", 0}};
	for (size_t i = 0; i < names.size(); i++) {
		metrics.observe(event_of(names[i], i + 1));
		expected[valid_utf8(names[i])]++;
	}
	counters.sent_by_reason[2] = 1;
	std::map<std::string, double> counts = received_by_comm(metrics.serialize());
	EXPECT_EQ(counts, expected);
	EXPECT_GE(counts[std::string(kReplacementCharacter)], 129) << "each lone high byte";
}

// A process named like a series the family keeps for itself shares that
// series while it holds a slot, and giving the slot up leaves it in place:
// it once removed the shared counter and the next count wrote freed memory.
TEST(HostileNames, ANameLikeASharedSeriesNeverRemovesIt)
{
	for (const std::string reserved : {"other", "unattributed"}) {
		SCOPED_TRACE(reserved);
		KernelCounters counters;
		ResetMetrics metrics(metrics_sources(&counters), 1);
		uint64_t id = 1;
		metrics.observe(event_of(reserved, id++));
		// Busy enough to take the only slot from it.
		for (int i = 0; i < 10; i++)
			metrics.observe(event_of("busy", id++));
		metrics.observe(event_of("quiet", id++));
		ResetEvent unattributed = event_of("", id++);
		unattributed.raw.owner_source = RSTWATCH_OWNER_NONE;
		metrics.observe(unattributed);
		std::map<std::string, double> counts = received_by_comm(metrics.serialize());
		ASSERT_TRUE(counts.count("busy")) << "busy never took the slot";
		double total = 0;
		for (const auto &[comm, count] : counts)
			total += count;
		EXPECT_EQ(total, 13);
		EXPECT_GE(counts["other"], 1);
		EXPECT_GE(counts["unattributed"], 1);
	}
}

TEST(HostileNames, TextLineHoldsNoControlByteAndShowsTheNameEscaped)
{
	OutputContext context;
	context.reasons = ReasonNames({"NOT_SPECIFIED", "BAD\n\x1b[2J\xff"});
	for (const std::string &name : test::hostile_names()) {
		ResetEvent event = event_of(name, 1);
		event.raw.kernel_reason = 1;
		std::string line;
		{
			JsonAppender out(line);
			append_event_text(out, event, context);
		}
		EXPECT_TRUE(shows_no_control_byte(line)) << shown(name);
		EXPECT_NE(line.find(" comm=" + escaped_text(name) + " (socket_owner)"),
		          std::string::npos)
		    << shown(name) << " -> " << line;
		EXPECT_NE(line.find(" reason=BAD\\n\\x1b[2J\\xff "), std::string::npos) << line;
	}
}

TEST(HostileNames, JsonParsesBackToTheReplacedName)
{
	OutputContext context;
	for (const std::string &name : test::hostile_names()) {
		SCOPED_TRACE(shown(name));
		ResetEvent event = event_of(name, 1);
		std::string text;
		append_event_json(text, event, context);
		// JSON text escapes every control character (RFC 8259).
		for (char c : text)
			ASSERT_GE(static_cast<unsigned char>(c), 0x20) << text;
		json parsed = json::parse(text);
		const std::string replaced = valid_utf8(name);
		EXPECT_EQ(parsed["comm"], replaced);
		EXPECT_EQ(parsed["current_comm"], replaced);
		EXPECT_EQ(parsed["peer_comm"], replaced);
		EXPECT_EQ(parsed["holders"][1]["comm"], replaced);
		// The tree form (explain's answer) dumps to the same object.
		EXPECT_EQ(json::parse(event_to_json(event, context)
		                          .dump(-1, ' ', false, json::error_handler_t::replace)),
		          parsed);
	}
}

TEST(HostileNames, TableRowsHoldNoControlByteAndStayAligned)
{
	std::vector<std::string> names = test::hostile_names();
	cli::Table table({"ID", "COMM", "PID"});
	for (const std::string &name : names)
		table.add({"1", name, "42"});
	const std::vector<size_t> widths = table.column_widths();
	// Where the last column starts, in characters on the screen.
	auto last_column = [](const std::string &line, size_t last_width) {
		size_t characters = 0;
		for (char c : line)
			characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
		return characters - last_width;
	};
	const size_t pid_column =
	    last_column(cli::Table::format_row({"ID", "COMM", "PID"}, widths), 3);
	for (const std::string &name : names) {
		std::string line = cli::Table::format_row({"1", name, "42"}, widths);
		EXPECT_TRUE(shows_no_control_byte(line)) << shown(name);
		EXPECT_EQ(last_column(line, 2), pid_column) << shown(name) << " -> " << line;
		EXPECT_NE(line.find(escaped_text(name)), std::string::npos);
	}
	EXPECT_EQ(cli::Table::format_row({"7", "a\x1b[2Jb", "1"}, {1, 4, 1}), "7  a\\x1b[2Jb  1");
}

} // namespace
} // namespace rstwatch
