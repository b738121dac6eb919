// rstwatchd's messages on stderr: one line each, "rstwatchd: ...". When
// stderr is the systemd journal (JOURNAL_STREAM names it), each line starts
// with its sd-daemon priority ("<4>" for a warning), so `journalctl -p
// warning` finds warnings; on a terminal or a pipe the lines are plain.
#pragma once

#include <string_view>

namespace rstwatch::log
{

enum class Level { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

// The name every line starts with; "rstwatchd" unless set.
void set_program(std::string_view name);
// Whether lines carry sd-daemon priority prefixes; decided from
// JOURNAL_STREAM at the first message unless set.
void set_journal(bool journal);

// "<program>: <label><message>", one write per line; the message is escaped
// (common/text_escape.h), so it never spans two.
void write(Level level, std::string_view label, std::string_view message);

inline void error(std::string_view message)
{
	write(Level::Error, "error: ", message);
}
inline void warning(std::string_view message)
{
	write(Level::Warning, "warning: ", message);
}
inline void notice(std::string_view message)
{
	write(Level::Notice, "note: ", message);
}
inline void info(std::string_view message)
{
	write(Level::Info, "", message);
}

} // namespace rstwatch::log
