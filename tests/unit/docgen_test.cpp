// The man page and bash completion writers, on a command line of the test's
// own with every kind of option the programs use; and the programs' own
// command lines, whose every option must reach both.
#include "cli/commands.h"
#include "daemon/config.h"
#include "docgen/bash_completion.h"
#include "docgen/man_page.h"
#include "docgen/option_facts.h"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace rstwatch::docgen
{
namespace
{

struct Sample {
	bool quiet = false;
	bool tracking = false;
	std::string variant = "auto";
	unsigned slots = 64;
	std::string socket = "/run/sample.sock";
	unsigned id = 0;
	std::string since;
};

void define_sample(CLI::App &app, Sample &s)
{
	app.description("sample: counts things.\nA second paragraph.");
	app.add_flag("--quiet", s.quiet, "Say less");
	app.add_flag("--tracking,!--no-tracking", s.tracking, "Track it");
	app.add_option("--variant", s.variant, "Which one")
	    ->check(CLI::IsMember({"auto", "fast"}))
	    ->capture_default_str();
	app.add_option("--slots", s.slots, "How many")
	    ->check(CLI::Range(16u, 4096u))
	    ->capture_default_str();
	app.add_option("--socket", s.socket, ".leading dot and a \\backslash")
	    ->envname("SAMPLE_SOCKET")
	    ->capture_default_str();
	app.fallthrough();
	CLI::App *list = app.add_subcommand("list", "List them");
	list->add_option("--since", s.since, "Only since");
	CLI::App *watch = app.add_subcommand("watch", "Watch them");
	watch->add_option("--since", s.since, "Only since");
	CLI::App *show = app.add_subcommand("show", "Show one");
	show->add_option("id", s.id, "Its id")->required();
}

ManPageText sample_text()
{
	ManPageText text;
	text.name = "sample";
	text.section = 1;
	text.source = "sample 1.0";
	text.manual = "User Commands";
	text.sections = {{"Exit status", {{"0", "Fine."}}}, {"Environment", {}}};
	return text;
}

TEST(DocgenFacts, ReadsChecksDefaultsAndEnvironment)
{
	CLI::App app;
	Sample s;
	define_sample(app, s);
	std::vector<OptionFacts> facts = option_facts(app);
	ASSERT_EQ(facts.size(), 6u); // help, quiet, tracking, variant, slots, socket
	EXPECT_TRUE(facts[0].is_help);
	EXPECT_EQ(facts[2].names, (std::vector<std::string>{"--tracking", "--no-tracking"}));
	EXPECT_FALSE(facts[2].takes_value);
	EXPECT_EQ(facts[3].choices, (std::vector<std::string>{"auto", "fast"}));
	EXPECT_EQ(facts[3].default_value, "auto");
	EXPECT_EQ(facts[4].range, "16 to 4096");
	EXPECT_EQ(facts[4].value_type, "UINT");
	EXPECT_EQ(facts[5].env, "SAMPLE_SOCKET");
	EXPECT_TRUE(facts[5].takes_path);
	EXPECT_FALSE(facts[3].takes_path);
	std::vector<OptionFacts> show = option_facts(*subcommands(app)[2]);
	ASSERT_EQ(show.size(), 2u);
	EXPECT_EQ(show[1].positional, "ID");
}

TEST(DocgenManPage, WritesEveryOptionWithItsFacts)
{
	CLI::App app;
	Sample s;
	define_sample(app, s);
	std::string page = man_page(app, sample_text());
	EXPECT_NE(page.find(".TH \"SAMPLE\" 1 \"\" \"sample 1.0\" \"User Commands\"\n"),
	          std::string::npos)
	    << page;
	EXPECT_NE(page.find(".SH NAME\nsample \\- counts things\n"), std::string::npos) << page;
	EXPECT_NE(page.find(".SH DESCRIPTION\nA second paragraph.\n"), std::string::npos) << page;
	EXPECT_NE(
	    page.find(".TP\n\\fB\\-\\-tracking\\fR, \\fB\\-\\-no\\-tracking\\fR\nTrack it.\n"),
	    std::string::npos)
	    << page;
	EXPECT_NE(page.find(".TP\n\\fB\\-\\-variant\\fR \\fITEXT\\fR\nWhich one. One of: auto, "
	                    "fast. Default: auto.\n"),
	          std::string::npos)
	    << page;
	EXPECT_NE(page.find("How many. From 16 to 4096. Default: 64.\n"), std::string::npos)
	    << page;
	// A description starting with a dot would be a roff request.
	EXPECT_NE(page.find("\n\\&.leading dot and a \\ebackslash. Default: /run/sample.sock. "
	                    "Read from $SAMPLE_SOCKET when not given.\n"),
	          std::string::npos)
	    << page;
	EXPECT_NE(page.find(".SH ENVIRONMENT\n.TP\n\\fBSAMPLE_SOCKET\\fR\n"), std::string::npos)
	    << page;
	EXPECT_NE(page.find(".SH EXIT STATUS\n.TP\n\\fB0\\fR\nFine.\n"), std::string::npos) << page;
}

TEST(DocgenManPage, ListsAnOptionSharedByCommandsOnce)
{
	CLI::App app;
	Sample s;
	define_sample(app, s);
	std::string page = man_page(app, sample_text());
	EXPECT_NE(page.find(".SS \"list [OPTIONS]\"\nList them.\n.PP\nIt takes the options of list "
	                    "and watch too (below).\n"),
	          std::string::npos)
	    << page;
	EXPECT_NE(page.find(".SS \"show ID\"\nShow one.\n.TP\n\\fIID\\fR\nIts id.\n"),
	          std::string::npos)
	    << page;
	const std::string since = "\\fB\\-\\-since\\fR \\fITEXT\\fR";
	size_t first = page.find(since);
	ASSERT_NE(first, std::string::npos);
	EXPECT_EQ(page.find(since, first + 1), std::string::npos) << page;
	EXPECT_LT(page.find(".SS \"Options of list and watch\""), first);
}

TEST(DocgenManPage, RefusesWhatItCannotCarry)
{
	EXPECT_THROW(roff_escape("a\x1b[31m"), std::invalid_argument);
	EXPECT_EQ(roff_escape("'quoted\n.dot -x"), "\\&'quoted\n\\&.dot \\-x");
	CLI::App app;
	Sample s;
	define_sample(app, s);
	ManPageText text = sample_text();
	text.sections.pop_back(); // no ENVIRONMENT, though --socket reads one
	EXPECT_THROW(man_page(app, text), std::invalid_argument);
}

TEST(DocgenCompletion, OffersOptionsCommandsAndValues)
{
	CLI::App app;
	Sample s;
	define_sample(app, s);
	std::string script = bash_completion(app, "sample");
	EXPECT_NE(script.find("\t\"\")\n\t\toffer='-h --help --quiet --tracking --no-tracking "
	                      "--variant --slots --socket list watch show'\n"),
	          std::string::npos)
	    << script;
	// The program's options count after a command too (fallthrough).
	EXPECT_NE(script.find("\tlist)\n\t\toffer='-h --help --since --quiet --tracking "
	                      "--no-tracking --variant --slots --socket'\n"),
	          std::string::npos)
	    << script;
	EXPECT_NE(script.find("\t*\" --variant\")\n\t\tCOMPREPLY=($(compgen -W 'auto fast' -- "
	                      "\"$cur\"))\n\t\treturn\n"),
	          std::string::npos)
	    << script;
	EXPECT_NE(script.find("\t*\" --socket\")\n\t\tcompopt -o filenames"), std::string::npos)
	    << script;
	EXPECT_NE(script.find("\t\"watch --since\")\n\t\treturn\n"), std::string::npos) << script;
	EXPECT_NE(script.find("complete -F _sample sample\n"), std::string::npos) << script;

	CLI::App odd;
	std::string value;
	odd.add_option("--mode", value)->check(CLI::IsMember({"a b"}));
	EXPECT_THROW(bash_completion(odd, "odd"), std::invalid_argument);
}

// Every long option of the real programs reaches their man page and
// completion: both are written from the very definitions they parse.
void expect_documented(const CLI::App &app, const std::string &page, const std::string &script)
{
	for (const OptionFacts &option : option_facts(app)) {
		for (const std::string &name : option.names) {
			EXPECT_NE(page.find("\\fB" + roff_escape(name) + "\\fR"), std::string::npos)
			    << name;
			// A word of an offer list: after its opening quote or a space.
			bool offered = script.find(" " + name) != std::string::npos ||
			               script.find("'" + name) != std::string::npos;
			EXPECT_TRUE(offered) << name;
		}
	}
}

TEST(DocgenPrograms, EveryOptionIsDocumented)
{
	DaemonConfig config;
	CLI::App daemon;
	define_command_line(daemon, config);
	ManPageText daemon_text = sample_text();
	daemon_text.name = "rstwatchd";
	std::string daemon_page = man_page(daemon, daemon_text);
	std::string daemon_script = bash_completion(daemon, "rstwatchd");
	expect_documented(daemon, daemon_page, daemon_script);
	EXPECT_NE(daemon_page.find("rstwatchd \\- tells who sent each TCP reset"),
	          std::string::npos);
	EXPECT_NE(daemon_script.find("'auto tp_btf raw_tp tracepoint'"), std::string::npos);

	cli::CommandLine client;
	ManPageText client_text = sample_text();
	client_text.name = "rstwatch";
	std::string client_page = man_page(client.app(), client_text);
	std::string client_script = bash_completion(client.app(), "rstwatch");
	expect_documented(client.app(), client_page, client_script);
	for (const CLI::App *command : subcommands(client.app())) {
		EXPECT_NE(client_page.find(".SS \"" + command->get_name()), std::string::npos);
		expect_documented(*command, client_page, client_script);
	}
}

} // namespace
} // namespace rstwatch::docgen
