// A bash completion script for a program, written from the CLI::App it
// parses its command line with: its options and subcommands, the choices an
// option's check allows, file names for options that take a path, and
// nothing for other values. It needs bash alone, not the bash-completion
// package's helpers.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace rstwatch::docgen
{

// Throws std::invalid_argument for a name or choice that is not a plain word
// (letters, digits, "-", "_", ".", "/", ":"), which the script would have to
// quote.
std::string bash_completion(const CLI::App &app, const std::string &name);

} // namespace rstwatch::docgen
