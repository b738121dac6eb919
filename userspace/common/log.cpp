#include "common/log.h"

#include "common/text_escape.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace rstwatch::log
{

namespace
{

std::string g_program = "rstwatchd";
// -1: not decided yet. Atomic: the audit worker thread logs too, and the
// first line from either thread may be the one that decides.
std::atomic<int> g_journal{-1};

// JOURNAL_STREAM is "<device>:<inode>" of the stream systemd connected; it
// is inherited by children whose stderr may have been redirected since, so
// it counts only when it still names our stderr.
bool stderr_is_journal()
{
	const char *stream = std::getenv("JOURNAL_STREAM");
	if (!stream)
		return false;
	unsigned long long device = 0, inode = 0;
	if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2)
		return false;
	struct stat st = {};
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return st.st_dev == device && st.st_ino == inode;
}

} // namespace

void set_program(std::string_view name)
{
	g_program = name;
}

void set_journal(bool journal)
{
	g_journal = journal ? 1 : 0;
}

void write(Level level, std::string_view label, std::string_view message)
{
	int journal = g_journal.load(std::memory_order_relaxed);
	if (journal < 0) {
		journal = stderr_is_journal() ? 1 : 0;
		g_journal.store(journal, std::memory_order_relaxed);
	}
	std::string line;
	line.reserve(g_program.size() + label.size() + message.size() + 8);
	if (journal) {
		line += '<';
		line += static_cast<char>('0' + static_cast<int>(level));
		line += '>';
	}
	line += g_program;
	line += ": ";
	line += label;
	// Messages quote what came from outside (paths, names, config text):
	// a newline there would start a forged line of its own.
	append_escaped_text(line, message);
	line += '\n';
	// One write per line: lines from the /metrics threads never interleave.
	std::fwrite(line.data(), 1, line.size(), stderr);
	std::fflush(stderr);
}

} // namespace rstwatch::log
