// A man page (roff, man macros) for a program, written from the CLI::App it
// parses its command line with: name and description from the app's
// description, every option with its value type, choices, range, default and
// environment variable, every subcommand with its own. The prose that no
// option holds (exit status, files, signals) comes with it as sections.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace rstwatch::docgen
{

// A term in bold and its explanation, or a plain paragraph when term is "".
struct ManEntry {
	std::string term;
	std::string text;
};

struct ManSection {
	std::string title;
	std::vector<ManEntry> entries;
};

struct ManPageText {
	std::string name;                     // the program, as typed
	int section = 1;                      // 1 for commands, 8 for daemons
	std::string source;                   // "rstwatch 0.1.0"
	std::string manual;                   // "User Commands", "System Administration"
	std::vector<std::string> description; // paragraphs after the app's own
	// Written after OPTIONS (and COMMANDS). A section titled ENVIRONMENT
	// starts with one entry per option read from the environment; options
	// read from the environment without such a section are an error.
	std::vector<ManSection> sections;
};

// Throws std::invalid_argument for text a man page cannot carry (control
// characters), so a bad definition fails the build.
std::string man_page(const CLI::App &app, const ManPageText &text);

// Text for a roff text line: backslashes, hyphens (typed as options) and a
// leading control character escaped.
std::string roff_escape(std::string_view text);

} // namespace rstwatch::docgen
