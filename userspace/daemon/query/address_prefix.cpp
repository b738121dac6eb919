#include "daemon/query/request.h"

#include "daemon/query/digits.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace rstwatch::query
{

namespace
{

bool address_bits_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8;
	if (std::memcmp(a, b, whole) != 0)
		return false;
	unsigned rest = bits % 8;
	if (rest == 0)
		return true;
	uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

// An address or prefix without brackets or port.
std::optional<AddressPrefix> parse_bare_prefix(std::string_view text)
{
	std::string address(text);
	std::optional<unsigned> bits;
	if (size_t slash = address.find('/'); slash != std::string::npos) {
		bits = parse_digits<unsigned>(std::string_view(address).substr(slash + 1));
		if (!bits)
			return std::nullopt;
		address.resize(slash);
	}
	AddressPrefix prefix;
	if (inet_pton(AF_INET, address.c_str(), prefix.bytes.data()) == 1) {
		prefix.v4 = true;
		prefix.prefix_bits = bits.value_or(32);
		if (prefix.prefix_bits > 32)
			return std::nullopt;
		return prefix;
	}
	if (inet_pton(AF_INET6, address.c_str(), prefix.bytes.data()) == 1) {
		prefix.prefix_bits = bits.value_or(128);
		if (prefix.prefix_bits > 128)
			return std::nullopt;
		// A v4-mapped address is the IPv4 host it maps.
		if (is_v4_mapped(prefix.bytes.data()) && prefix.prefix_bits >= 96) {
			std::array<uint8_t, 16> v4{};
			std::memcpy(v4.data(), prefix.bytes.data() + 12, 4);
			prefix.bytes = v4;
			prefix.prefix_bits -= 96;
			prefix.v4 = true;
			return prefix;
		}
		prefix.v4 = false;
		return prefix;
	}
	return std::nullopt;
}

} // namespace

std::optional<AddressPrefix> AddressPrefix::parse(std::string_view text)
{
	// The longest is "[" + an IPv6 address + "/128]:65535".
	if (text.size() > INET6_ADDRSTRLEN + 11)
		return std::nullopt;
	std::string_view address = text;
	std::optional<uint16_t> port;
	std::string_view port_text;
	bool has_port = false;
	if (!address.empty() && address.front() == '[') {
		size_t close = address.find(']');
		if (close == std::string_view::npos)
			return std::nullopt;
		std::string_view after = address.substr(close + 1);
		address = address.substr(1, close - 1);
		// Brackets are for IPv6, whose colons would otherwise swallow a port.
		if (address.find(':') == std::string_view::npos)
			return std::nullopt;
		if (!after.empty()) {
			if (after.front() != ':')
				return std::nullopt;
			has_port = true;
			port_text = after.substr(1);
		}
	} else if (size_t colon = address.find(':');
	           colon != std::string_view::npos &&
	           address.find(':', colon + 1) == std::string_view::npos) {
		// One colon is IPv4 and a port: IPv6 has at least two.
		has_port = true;
		port_text = address.substr(colon + 1);
		address = address.substr(0, colon);
	}
	if (has_port) {
		port = parse_digits<uint16_t>(port_text);
		if (!port)
			return std::nullopt;
	}
	std::optional<AddressPrefix> prefix = parse_bare_prefix(address);
	if (prefix)
		prefix->port = port;
	return prefix;
}

bool AddressPrefix::matches(const rstwatch_event &event, bool local) const
{
	const uint8_t *address = local ? event.local_addr : event.remote_addr;
	bool event_v4 = event.family == RSTWATCH_AF_INET || is_v4_mapped(address);
	if (event_v4 != v4)
		return false;
	if (port && (local ? event.local_port : event.remote_port) != *port)
		return false;
	if (event_v4 && event.family == RSTWATCH_AF_INET6)
		address += 12;
	return address_bits_match(address, bytes.data(), prefix_bits);
}

} // namespace rstwatch::query
