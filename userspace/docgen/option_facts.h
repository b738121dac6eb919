// What a man page and a bash completion need to know about each option of a
// CLI11 command line, read from the CLI::App the program itself parses with.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace rstwatch::docgen
{

struct OptionFacts {
	// As typed: "-n", "--limit"; a flag's negation ("--no-ttl-tracking")
	// too. Empty for a positional argument.
	std::vector<std::string> names;
	std::string positional; // a positional argument's name, upper case
	bool takes_value = false;
	std::string value_type;           // CLI11's: TEXT, UINT, INT
	std::vector<std::string> choices; // from an IsMember check
	std::string range;                // "1 to 4096", from a Range check
	std::string default_value;
	std::string env; // the environment variable read when the option is not given
	std::string description;
	// An option whose default is an absolute path takes a path: completed
	// as file names.
	bool takes_path = false;
	bool is_help = false;
};

// Options and positional arguments of `app` alone (not its subcommands), in
// the order they were defined.
std::vector<OptionFacts> option_facts(const CLI::App &app);

// `app`'s subcommands, in the order they were defined.
std::vector<const CLI::App *> subcommands(const CLI::App &app);

// "rstwatchd: tells who..." as its name, summary and the paragraphs after.
struct AppSummary {
	std::string summary;
	std::vector<std::string> paragraphs;
};
AppSummary app_summary(const CLI::App &app, const std::string &name);

std::string upper_case(std::string text);

} // namespace rstwatch::docgen
