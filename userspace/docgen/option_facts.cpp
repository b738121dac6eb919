#include "docgen/option_facts.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace rstwatch::docgen
{

namespace
{

std::vector<std::string> split(const std::string &text, char separator)
{
	std::vector<std::string> parts;
	std::istringstream in(text);
	for (std::string part; std::getline(in, part, separator);)
		parts.push_back(part);
	return parts;
}

// CLI11 shows a check in the type name, after a colon: "{auto,raw_tp}" for
// IsMember, "UINT in [1 - 4096]" for Range. A check without a description
// (a plain function) leaves nothing to read.
void read_checks(const std::string &type_name, OptionFacts &facts)
{
	std::vector<std::string> parts = split(type_name, ':');
	if (parts.empty())
		return;
	facts.value_type = parts.front();
	for (size_t i = 1; i < parts.size(); ++i) {
		const std::string &check = parts[i];
		if (check.size() >= 2 && check.front() == '{' && check.back() == '}') {
			facts.choices = split(check.substr(1, check.size() - 2), ',');
			continue;
		}
		size_t open = check.find(" in [");
		size_t dash = check.find(" - ", open);
		if (open != std::string::npos && dash != std::string::npos && check.back() == ']')
			facts.range = check.substr(open + 5, dash - open - 5) + " to " +
			              check.substr(dash + 3, check.size() - dash - 4);
	}
}

} // namespace

std::string upper_case(std::string text)
{
	std::transform(text.begin(), text.end(), text.begin(),
	               [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
	return text;
}

std::vector<OptionFacts> option_facts(const CLI::App &app)
{
	std::vector<OptionFacts> all;
	for (const CLI::Option *option : app.get_options()) {
		OptionFacts facts;
		for (const std::string &name : option->get_snames())
			facts.names.push_back("-" + name);
		for (const std::string &name : option->get_lnames())
			facts.names.push_back("--" + name);
		if (facts.names.empty())
			facts.positional = upper_case(option->get_name(true, false));
		// A flag expects no value (CLI11 sets expected(0)); its type size is still 1.
		facts.takes_value = option->get_expected_max() != 0;
		read_checks(option->get_type_name(), facts);
		if (facts.takes_value) {
			facts.default_value = option->get_default_str();
			if (facts.value_type.empty())
				facts.value_type = "FILE"; // the config file option has no type
		}
		facts.env = option->get_envname();
		facts.description = option->get_description();
		facts.takes_path = facts.takes_value && !facts.default_value.empty() &&
		                   facts.default_value.front() == '/';
		facts.is_help = option == app.get_help_ptr();
		all.push_back(std::move(facts));
	}
	return all;
}

std::vector<const CLI::App *> subcommands(const CLI::App &app)
{
	return app.get_subcommands([](const CLI::App *) { return true; });
}

AppSummary app_summary(const CLI::App &app, const std::string &name)
{
	AppSummary summary;
	std::vector<std::string> lines = split(app.get_description(), '\n');
	if (lines.empty())
		return summary;
	summary.summary = lines.front();
	const std::string prefix = name + ": ";
	if (summary.summary.rfind(prefix, 0) == 0)
		summary.summary.erase(0, prefix.size());
	if (!summary.summary.empty() && summary.summary.back() == '.')
		summary.summary.pop_back();
	summary.paragraphs.assign(lines.begin() + 1, lines.end());
	return summary;
}

} // namespace rstwatch::docgen
