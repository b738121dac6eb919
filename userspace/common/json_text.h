// Writing JSON text directly into a reused buffer: the hot path of every
// surface that prints events (stdout, recent, follow), where building a
// nlohmann::json tree per event costs more than everything else together.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rstwatch
{

// A JSON string literal; invalid UTF-8 is replaced, never thrown on.
void append_json_string(std::string &out, std::string_view text);
// The same without the surrounding quotes, to build one string from parts.
void append_json_string_contents(std::string &out, std::string_view text);

// Appends JSON text to a string through a cursor into spare room made in
// large steps: one bounds check per piece instead of std::string's
// bookkeeping for each of the ~150 small appends an event takes. The string
// is cut to what was written by finish() or when the writer goes away.
class JsonAppender
{
public:
	explicit JsonAppender(std::string &out) : out_(out), used_(out.size()) {}
	// Writes from the start of `buffer` over what it held and leaves its
	// size alone (the text is the first size() bytes): a buffer reused
	// batch after batch is then not zero-filled again each time.
	struct Reuse {
	};
	JsonAppender(std::string &buffer, Reuse) : out_(buffer), used_(0), trim_(false) {}
	~JsonAppender() { finish(); }
	JsonAppender(const JsonAppender &) = delete;
	JsonAppender &operator=(const JsonAppender &) = delete;

	void finish()
	{
		if (trim_)
			out_.resize(used_);
	}
	// Bytes in the string so far, written ones only.
	size_t size() const { return used_; }
	// Starts over at the beginning of the string (after its text was used).
	void rewind() { used_ = 0; }

	void raw(std::string_view text)
	{
		std::memcpy(room(text.size()), text.data(), text.size());
		used_ += text.size();
	}
	void raw(char c)
	{
		*room(1) = c;
		used_++;
	}
	template <typename Integer> void integer(Integer value)
	{
		char *at = room(24);
		used_ = static_cast<size_t>(std::to_chars(at, at + 24, value).ptr - out_.data());
	}
	// `{"name":` for the first member of an object, `,"name":` after it;
	// `name` must need no escaping.
	void key(std::string_view name, bool first)
	{
		char *at = room(name.size() + 4);
		*at++ = first ? '{' : ',';
		*at++ = '"';
		std::memcpy(at, name.data(), name.size());
		at += name.size();
		*at++ = '"';
		*at = ':';
		used_ += name.size() + 4;
	}
	// The contents of a JSON string literal, without the quotes.
	void string_contents(std::string_view text);
	// A string literal for text known to need no escaping (names and
	// numbers this program wrote itself), copied without a look.
	void plain_string(std::string_view text)
	{
		char *at = room(text.size() + 2);
		*at++ = '"';
		std::memcpy(at, text.data(), text.size());
		at[text.size()] = '"';
		used_ += text.size() + 2;
	}
	void string(std::string_view text)
	{
		raw('"');
		string_contents(text);
		raw('"');
	}

private:
	char *room(size_t bytes)
	{
		if (out_.size() - used_ < bytes) [[unlikely]]
			grow(bytes);
		return out_.data() + used_;
	}
	void grow(size_t bytes);

	std::string &out_;
	size_t used_;
	bool trim_ = true;
};

// The elements of the array held by member `key` of a top-level JSON
// object, as text, found without parsing them: a client that passes events
// on as they came needs no tree of a megabyte-long answer. `rest` is the
// object with that array emptied ("[]"), small enough to parse. nullopt
// when there is no such member; the text is assumed to be valid JSON.
struct ArrayMember {
	std::vector<std::string_view> elements;
	std::string rest;
};
std::optional<ArrayMember> split_array_member(std::string_view text, std::string_view key);

} // namespace rstwatch
