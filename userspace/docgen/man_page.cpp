#include "docgen/man_page.h"

#include "docgen/option_facts.h"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace rstwatch::docgen
{

std::string roff_escape(std::string_view text)
{
	std::string out;
	bool line_start = true;
	for (char c : text) {
		unsigned char byte = static_cast<unsigned char>(c);
		if ((byte < 0x20 && c != '\n') || byte == 0x7f)
			throw std::invalid_argument("man page text with a control character: " +
			                            std::string(text));
		if (line_start && (c == '.' || c == '\''))
			out += "\\&";
		line_start = c == '\n';
		if (c == '\\')
			out += "\\e";
		else if (c == '-')
			out += "\\-";
		else
			out += c;
	}
	return out;
}

namespace
{

std::string bold(std::string_view text)
{
	return "\\fB" + roff_escape(text) + "\\fR";
}
std::string italic(std::string_view text)
{
	return "\\fI" + roff_escape(text) + "\\fR";
}

std::string sentence(std::string text)
{
	if (!text.empty() && text.back() != '.')
		text += '.';
	return text;
}

std::string join(const std::vector<std::string> &items, const std::string &separator)
{
	std::string out;
	for (const std::string &item : items)
		out += (out.empty() ? "" : separator) + item;
	return out;
}

std::string option_term(const OptionFacts &option)
{
	if (option.names.empty())
		return italic(option.positional);
	std::vector<std::string> names;
	for (const std::string &name : option.names)
		names.push_back(bold(name));
	std::string term = join(names, ", ");
	if (option.takes_value)
		term += " " + italic(option.value_type);
	return term;
}

std::string option_text(const OptionFacts &option)
{
	std::string text = sentence(option.description);
	if (!option.choices.empty())
		text += " One of: " + join(option.choices, ", ") + ".";
	if (!option.range.empty())
		text += " From " + option.range + ".";
	if (!option.default_value.empty())
		text += " Default: " + option.default_value + ".";
	if (!option.env.empty())
		text += " Read from $" + option.env + " when not given.";
	return text;
}

void write_paragraph(std::string &out, std::string_view text)
{
	out += ".PP\n" + roff_escape(text) + "\n";
}

void write_entry(std::string &out, const std::string &term_roff, std::string_view text)
{
	out += ".TP\n" + term_roff + "\n" + roff_escape(text) + "\n";
}

void write_entries(std::string &out, const std::vector<ManEntry> &entries)
{
	for (const ManEntry &entry : entries) {
		if (entry.term.empty())
			write_paragraph(out, entry.text);
		else
			write_entry(out, bold(entry.term), entry.text);
	}
}

void write_options(std::string &out, const std::vector<OptionFacts> &options)
{
	for (const OptionFacts &option : options)
		write_entry(out, option_term(option), option_text(option));
}

// The same option (names, value and description) in several subcommands,
// such as the filters: listed once, under the subcommands that take it.
struct SharedGroup {
	std::vector<std::string> commands;
	std::vector<OptionFacts> options;
};

std::string option_key(const OptionFacts &option)
{
	return join(option.names, ",") + "\n" + option.positional + "\n" + option.value_type +
	       "\n" + join(option.choices, ",") + "\n" + option.description;
}

std::string group_title(const std::vector<std::string> &commands)
{
	std::string title;
	for (size_t i = 0; i < commands.size(); ++i)
		title += (i == 0 ? "" : i + 1 == commands.size() ? " and " : ", ") + commands[i];
	return title;
}

void write_commands(std::string &out, const CLI::App &app)
{
	std::vector<const CLI::App *> commands = subcommands(app);
	std::map<std::string, std::vector<std::string>> users; // option key -> commands
	std::map<const CLI::App *, std::vector<OptionFacts>> own;
	for (const CLI::App *command : commands) {
		for (OptionFacts &option : option_facts(*command)) {
			if (option.is_help)
				continue;
			users[option_key(option)].push_back(command->get_name());
			own[command].push_back(std::move(option));
		}
	}
	std::vector<SharedGroup> groups;
	out += ".SH COMMANDS\n";
	for (const CLI::App *command : commands) {
		std::string synopsis = command->get_name();
		std::string positionals;
		std::vector<OptionFacts> listed;
		std::vector<std::string> shared_with;
		for (OptionFacts &option : own[command]) {
			const std::vector<std::string> &with = users[option_key(option)];
			if (option.names.empty())
				positionals += " " + option.positional;
			else if (synopsis == command->get_name())
				synopsis += " [OPTIONS]";
			if (with.size() < 2) {
				listed.push_back(std::move(option));
				continue;
			}
			auto group =
			    std::find_if(groups.begin(), groups.end(),
			                 [&](const SharedGroup &g) { return g.commands == with; });
			if (group == groups.end()) {
				groups.push_back({with, {}});
				group = std::prev(groups.end());
			}
			if (group->commands.front() == command->get_name())
				group->options.push_back(std::move(option));
			if (std::find(shared_with.begin(), shared_with.end(), group_title(with)) ==
			    shared_with.end())
				shared_with.push_back(group_title(with));
		}
		out += ".SS \"" + roff_escape(synopsis + positionals) + "\"\n";
		out += roff_escape(sentence(command->get_description())) + "\n";
		write_options(out, listed);
		for (const std::string &title : shared_with)
			write_paragraph(out, "It takes the options of " + title + " too (below).");
	}
	for (const SharedGroup &group : groups) {
		out += ".SS \"Options of " + roff_escape(group_title(group.commands)) + "\"\n";
		write_options(out, group.options);
	}
}

void write_environment(std::string &out, const CLI::App &app, const ManSection &section)
{
	std::vector<const CLI::App *> apps = {&app};
	for (const CLI::App *command : subcommands(app))
		apps.push_back(command);
	std::vector<std::string> seen;
	for (const CLI::App *each : apps) {
		for (const OptionFacts &option : option_facts(*each)) {
			if (option.env.empty() ||
			    std::find(seen.begin(), seen.end(), option.env) != seen.end())
				continue;
			seen.push_back(option.env);
			write_entry(out, bold(option.env),
			            "The value of " + option.names.back() +
			                " when it is not given.");
		}
	}
	write_entries(out, section.entries);
}

bool reads_environment(const CLI::App &app)
{
	for (const OptionFacts &option : option_facts(app))
		if (!option.env.empty())
			return true;
	for (const CLI::App *command : subcommands(app))
		if (reads_environment(*command))
			return true;
	return false;
}

} // namespace

std::string man_page(const CLI::App &app, const ManPageText &text)
{
	AppSummary summary = app_summary(app, text.name);
	bool has_commands = !subcommands(app).empty();
	std::string out;
	out += ".\\\" Generated by rstwatch-docgen from " + text.name +
	       "'s option definitions: edit those, not this file.\n";
	out += ".TH \"" + roff_escape(upper_case(text.name)) + "\" " +
	       std::to_string(text.section) + " \"\" \"" + roff_escape(text.source) + "\" \"" +
	       roff_escape(text.manual) + "\"\n";
	out +=
	    ".SH NAME\n" + roff_escape(text.name) + " \\- " + roff_escape(summary.summary) + "\n";
	out += ".SH SYNOPSIS\n" + bold(text.name) + " [" + italic("OPTIONS") + "]";
	if (has_commands)
		out += " " + italic("COMMAND") + " [" + italic("COMMAND OPTIONS") + "]";
	out += "\n.SH DESCRIPTION\n";
	std::vector<std::string> paragraphs = summary.paragraphs;
	paragraphs.insert(paragraphs.end(), text.description.begin(), text.description.end());
	for (size_t i = 0; i < paragraphs.size(); ++i) {
		if (i == 0)
			out += roff_escape(paragraphs[i]) + "\n";
		else
			write_paragraph(out, paragraphs[i]);
	}
	out += ".SH OPTIONS\n";
	write_options(out, option_facts(app));
	if (has_commands)
		write_commands(out, app);
	bool environment_written = false;
	for (const ManSection &section : text.sections) {
		out += ".SH " + roff_escape(upper_case(section.title)) + "\n";
		if (upper_case(section.title) == "ENVIRONMENT") {
			write_environment(out, app, section);
			environment_written = true;
			continue;
		}
		write_entries(out, section.entries);
	}
	if (!environment_written && reads_environment(app))
		throw std::invalid_argument(text.name + " reads options from the environment: its "
		                                        "man page needs an ENVIRONMENT section");
	return out;
}

} // namespace rstwatch::docgen
