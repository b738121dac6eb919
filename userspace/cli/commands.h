// rstwatch's commands: the command line, the request each command sends and
// how each prints the daemon's answer.
#pragma once

#include "cli/connection.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace rstwatch::cli
{

// The filters recent, top and follow take, as given on the command line.
struct Filters {
	std::optional<std::string> since;
	std::optional<uint64_t> after_id;
	std::optional<std::string> direction;
	std::optional<std::string> cause;
	std::optional<uint32_t> pid;
	std::optional<std::string> comm;
	std::optional<uint16_t> local_port;
	std::optional<uint16_t> remote_port;
	std::optional<std::string> address;
	std::optional<std::string> unit;
	std::optional<std::string> container;
	std::optional<std::string> pod;
	std::optional<std::string> pod_namespace;
	std::optional<uint32_t> netns;
	std::optional<std::string> until;

	// Each filter given, under its protocol name.
	void add_to(nlohmann::json &request) const;
};

// The global options and one command with its own.
class CommandLine
{
public:
	CommandLine();
	CommandLine(const CommandLine &) = delete;
	CommandLine &operator=(const CommandLine &) = delete;

	// Throws CLI::ParseError, --help and --version included; app().exit()
	// prints it and says what the exit code is.
	void parse(int argc, const char *const *argv) { app_.parse(argc, argv); }
	CLI::App &app() { return app_; }

	const std::string &socket_path() const { return socket_path_; }
	int timeout_ms() const { return timeout_ms_; }
	// What the parsed command asks the daemon.
	nlohmann::json request() const;
	// Sends request() and prints the answer. Returns the exit code;
	// throws Failure.
	int run(Connection &connection) const;

private:
	CLI::App app_;
	std::string socket_path_;
	bool as_json_ = false;
	int timeout_ms_ = 10000;
	Filters filters_;
	std::optional<size_t> limit_;
	std::string by_;
	uint64_t id_ = 0;
	CLI::App *recent_ = nullptr;
	CLI::App *top_ = nullptr;
	CLI::App *stats_ = nullptr;
	CLI::App *follow_ = nullptr;
	CLI::App *explain_ = nullptr;
};

} // namespace rstwatch::cli
