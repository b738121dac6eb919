// rstwatch-docgen: writes rstwatchd(8), rstwatch(1) and both bash completions
// from the CLI11 definitions the two programs parse their command lines with,
// at build time, so the documentation cannot drift from the options.
//
//   rstwatch-docgen OUTDIR   # OUTDIR/rstwatchd.8, rstwatch.1,
//                            # completions/rstwatchd, completions/rstwatch
#include "cli/commands.h"
#include "daemon/config.h"
#include "docgen/bash_completion.h"
#include "docgen/man_page.h"
#include "docgen/pages.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

namespace
{

void write_file(const std::filesystem::path &path, const std::string &text)
{
	std::filesystem::create_directories(path.parent_path());
	std::ofstream out(path, std::ios::binary | std::ios::trunc);
	out << text;
	out.close();
	if (!out)
		throw std::runtime_error("cannot write " + path.string());
}

} // namespace

int main(int argc, char **argv)
{
	using namespace rstwatch::docgen;
	if (argc != 2) {
		std::fprintf(stderr, "usage: rstwatch-docgen OUTDIR\n");
		return 2;
	}
	const std::filesystem::path out = argv[1];
	try {
		rstwatch::DaemonConfig config;
		CLI::App daemon;
		rstwatch::define_command_line(daemon, config);
		rstwatch::cli::CommandLine client;

		write_file(out / "rstwatchd.8", man_page(daemon, daemon_page(RSTWATCH_VERSION)));
		write_file(out / "rstwatch.1",
		           man_page(client.app(), client_page(RSTWATCH_VERSION)));
		write_file(out / "completions" / "rstwatchd", bash_completion(daemon, "rstwatchd"));
		write_file(out / "completions" / "rstwatch",
		           bash_completion(client.app(), "rstwatch"));
	} catch (const std::exception &e) {
		std::fprintf(stderr, "rstwatch-docgen: %s\n", e.what());
		return 1;
	}
	return 0;
}
