#include "core/reset_event.h"
#include "support/event_builder.h"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace rstwatch
{
namespace
{

// A record as the ring buffer would hand it over: every byte set to a
// distinct pattern, with the version field overwritten.
std::array<uint8_t, sizeof(rstwatch_event)> make_record(uint32_t version)
{
	std::array<uint8_t, sizeof(rstwatch_event)> record{};
	for (size_t i = 0; i < record.size(); i++)
		record[i] = static_cast<uint8_t>(i * 7 + 3);
	std::memcpy(record.data() + offsetof(rstwatch_event, version), &version, sizeof(version));
	return record;
}

rstwatch_event make_ipv4_event()
{
	return test::EventBuilder().local("127.0.0.1", 8080).remote("192.168.10.254", 51234).raw();
}

rstwatch_event make_ipv6_event()
{
	return test::EventBuilder().local("::1", 8080).remote("2001:db8::42", 443).raw();
}

rstwatch_event make_v4_mapped_event()
{
	return test::EventBuilder()
	    .local("::ffff:10.1.2.3", 8080)
	    .remote("::ffff:172.16.0.9", 40000)
	    .raw();
}

int64_t clock_ns(clockid_t clock)
{
	timespec now{};
	clock_gettime(clock, &now);
	return static_cast<int64_t>(now.tv_sec) * 1'000'000'000LL + now.tv_nsec;
}

TEST(DecodeEvent, CorrectRecordDecodesAndCopiesEveryByte)
{
	const auto record = make_record(RSTWATCH_EVENT_VERSION);
	rstwatch_event out{};
	ASSERT_EQ(decode_event(record.data(), record.size(), out), DecodeStatus::Ok);
	EXPECT_EQ(out.version, static_cast<uint32_t>(RSTWATCH_EVENT_VERSION));
	EXPECT_EQ(std::memcmp(&out, record.data(), sizeof(out)), 0);
	// Spot checks of fields at both ends of the struct.
	EXPECT_EQ(reinterpret_cast<const uint8_t *>(&out.timestamp_ns)[0], record[0]);
	EXPECT_EQ(out.owner_comm[RSTWATCH_COMM_LEN - 1],
	          static_cast<char>(record[sizeof(rstwatch_event) - 1]));
}

TEST(DecodeEvent, CoreOnlyRecordReadsItsSocketPartAsZeros)
{
	const auto record = make_record(RSTWATCH_EVENT_VERSION);
	rstwatch_event out;
	std::memset(&out, 0xa5, sizeof(out));
	ASSERT_EQ(decode_event(record.data(), RSTWATCH_EVENT_CORE_SIZE, out), DecodeStatus::Ok);
	EXPECT_EQ(std::memcmp(&out, record.data(), RSTWATCH_EVENT_CORE_SIZE), 0);
	EXPECT_EQ(out.current_comm[RSTWATCH_COMM_LEN - 1],
	          static_cast<char>(record[RSTWATCH_EVENT_CORE_SIZE - 1]));
	const auto *socket_part =
	    reinterpret_cast<const uint8_t *>(&out) + RSTWATCH_EVENT_CORE_SIZE;
	for (size_t i = 0; i < sizeof(out) - RSTWATCH_EVENT_CORE_SIZE; i++)
		ASSERT_EQ(socket_part[i], 0) << "byte " << RSTWATCH_EVENT_CORE_SIZE + i;
	EXPECT_EQ(out.owner_source, RSTWATCH_OWNER_NONE);
	EXPECT_EQ(out.owner_comm[0], '\0');

	const auto newer = make_record(RSTWATCH_EVENT_VERSION + 1);
	EXPECT_EQ(decode_event(newer.data(), RSTWATCH_EVENT_CORE_SIZE, out),
	          DecodeStatus::WrongVersion);
}

TEST(DecodeEvent, ShortRecordIsWrongSize)
{
	const auto record = make_record(RSTWATCH_EVENT_VERSION);
	rstwatch_event out{};
	EXPECT_EQ(decode_event(record.data(), record.size() - 1, out), DecodeStatus::WrongSize);
	EXPECT_EQ(decode_event(record.data(), 8, out), DecodeStatus::WrongSize);
	EXPECT_EQ(decode_event(record.data(), RSTWATCH_EVENT_CORE_SIZE - 8, out),
	          DecodeStatus::WrongSize);
	EXPECT_EQ(decode_event(record.data(), RSTWATCH_EVENT_CORE_SIZE + 8, out),
	          DecodeStatus::WrongSize);
	EXPECT_EQ(decode_event(record.data(), 0, out), DecodeStatus::WrongSize);
}

TEST(DecodeEvent, LongRecordIsWrongSize)
{
	const auto exact = make_record(RSTWATCH_EVENT_VERSION);
	std::vector<uint8_t> record(exact.begin(), exact.end());
	record.resize(record.size() + 8);
	rstwatch_event out{};
	EXPECT_EQ(decode_event(record.data(), record.size(), out), DecodeStatus::WrongSize);
}

TEST(DecodeEvent, WrongVersionIsRejected)
{
	rstwatch_event out{};
	const auto newer = make_record(RSTWATCH_EVENT_VERSION + 1);
	EXPECT_EQ(decode_event(newer.data(), newer.size(), out), DecodeStatus::WrongVersion);
	const auto zero = make_record(0);
	EXPECT_EQ(decode_event(zero.data(), zero.size(), out), DecodeStatus::WrongVersion);
}

TEST(DecodeEvent, StatusNames)
{
	EXPECT_EQ(decode_status_name(DecodeStatus::Ok), "ok");
	EXPECT_EQ(decode_status_name(DecodeStatus::WrongSize), "wrong_size");
	EXPECT_EQ(decode_status_name(DecodeStatus::WrongVersion), "wrong_version");
}

TEST(Names, Direction)
{
	EXPECT_EQ(direction_name(RSTWATCH_DIR_SENT), "sent");
	EXPECT_EQ(direction_name(RSTWATCH_DIR_RECEIVED), "received");
	EXPECT_EQ(direction_name(0), "unknown");
	EXPECT_EQ(direction_name(3), "unknown");
	EXPECT_EQ(direction_name(255), "unknown");
}

TEST(Names, TcpState)
{
	// include/net/tcp_states.h
	EXPECT_EQ(tcp_state_name(0), "NONE");
	EXPECT_EQ(tcp_state_name(1), "ESTABLISHED");
	EXPECT_EQ(tcp_state_name(2), "SYN_SENT");
	EXPECT_EQ(tcp_state_name(3), "SYN_RECV");
	EXPECT_EQ(tcp_state_name(4), "FIN_WAIT1");
	EXPECT_EQ(tcp_state_name(5), "FIN_WAIT2");
	EXPECT_EQ(tcp_state_name(6), "TIME_WAIT");
	EXPECT_EQ(tcp_state_name(7), "CLOSE");
	EXPECT_EQ(tcp_state_name(8), "CLOSE_WAIT");
	EXPECT_EQ(tcp_state_name(9), "LAST_ACK");
	EXPECT_EQ(tcp_state_name(10), "LISTEN");
	EXPECT_EQ(tcp_state_name(11), "CLOSING");
	EXPECT_EQ(tcp_state_name(12), "NEW_SYN_RECV");
	EXPECT_EQ(tcp_state_name(13), "BOUND_INACTIVE");
	EXPECT_EQ(tcp_state_name(14), "UNKNOWN");
	EXPECT_EQ(tcp_state_name(255), "UNKNOWN");
}

TEST(Names, OwnerSource)
{
	EXPECT_EQ(owner_source_name(RSTWATCH_OWNER_NONE), "none");
	EXPECT_EQ(owner_source_name(RSTWATCH_OWNER_CURRENT), "current");
	EXPECT_EQ(owner_source_name(RSTWATCH_OWNER_SOCKET), "socket_owner");
	EXPECT_EQ(owner_source_name(RSTWATCH_OWNER_CLOSER), "closer");
}

TEST(Addresses, Ipv4)
{
	const rstwatch_event event = make_ipv4_event();
	EXPECT_EQ(family_name(event), "ipv4");
	EXPECT_FALSE(is_v4_mapped(event.local_addr));
	EXPECT_EQ(format_address(event, true), "127.0.0.1");
	EXPECT_EQ(format_address(event, false), "192.168.10.254");
	EXPECT_EQ(format_endpoint(event, true), "127.0.0.1:8080");
	EXPECT_EQ(format_endpoint(event, false), "192.168.10.254:51234");
}

TEST(Addresses, Ipv6)
{
	const rstwatch_event event = make_ipv6_event();
	EXPECT_EQ(family_name(event), "ipv6");
	EXPECT_FALSE(is_v4_mapped(event.local_addr));
	EXPECT_FALSE(is_v4_mapped(event.remote_addr));
	EXPECT_EQ(format_address(event, true), "::1");
	EXPECT_EQ(format_address(event, false), "2001:db8::42");
	EXPECT_EQ(format_endpoint(event, true), "[::1]:8080");
	EXPECT_EQ(format_endpoint(event, false), "[2001:db8::42]:443");
}

TEST(Addresses, V4MappedIpv6IsShownAsIpv4)
{
	const rstwatch_event event = make_v4_mapped_event();
	EXPECT_TRUE(is_v4_mapped(event.local_addr));
	EXPECT_TRUE(is_v4_mapped(event.remote_addr));
	EXPECT_EQ(family_name(event), "ipv4");
	EXPECT_EQ(format_address(event, true), "10.1.2.3");
	EXPECT_EQ(format_address(event, false), "172.16.0.9");
	EXPECT_EQ(format_endpoint(event, true), "10.1.2.3:8080");
	EXPECT_EQ(format_endpoint(event, false), "172.16.0.9:40000");
}

TEST(Addresses, IsV4MappedNeedsTheFullPrefix)
{
	const uint8_t any[16] = {};
	EXPECT_FALSE(is_v4_mapped(any));
	// ::fffe:a.b.c.d and ::ff:ff00:... are not v4-mapped.
	const uint8_t almost[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 10, 1, 2, 3};
	EXPECT_FALSE(is_v4_mapped(almost));
	const uint8_t nonzero[16] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
	EXPECT_FALSE(is_v4_mapped(nonzero));
}

TEST(ReasonNamesTest, KnownIndexGivesItsName)
{
	const ReasonNames reasons(
	    std::vector<std::string>{"NOT_SPECIFIED", "NO_SOCKET", "", "TCP_INVALID_ACK_SEQUENCE"});
	EXPECT_EQ(reasons.name(0), "NOT_SPECIFIED");
	EXPECT_EQ(reasons.name(1), "NO_SOCKET");
	EXPECT_EQ(reasons.name(3), "TCP_INVALID_ACK_SEQUENCE");
}

TEST(ReasonNamesTest, UnavailableReason)
{
	const ReasonNames reasons(std::vector<std::string>{"NOT_SPECIFIED", "NO_SOCKET"});
	EXPECT_EQ(reasons.name(RSTWATCH_REASON_UNAVAILABLE), "unavailable");
	EXPECT_EQ(ReasonNames().name(RSTWATCH_REASON_UNAVAILABLE), "unavailable");
}

TEST(ReasonNamesTest, UnknownValueIsNumbered)
{
	const ReasonNames reasons(std::vector<std::string>{"NOT_SPECIFIED", "NO_SOCKET"});
	EXPECT_EQ(reasons.name(40), "REASON_40");
	EXPECT_EQ(reasons.name(2), "REASON_2");
	EXPECT_EQ(ReasonNames().name(0), "REASON_0");
}

TEST(ReasonNamesTest, EmptySlotIsNumbered)
{
	const ReasonNames reasons(
	    std::vector<std::string>{"NOT_SPECIFIED", "NO_SOCKET", "", "TCP_INVALID_ACK_SEQUENCE"});
	EXPECT_EQ(reasons.name(2), "REASON_2");
}

TEST(FormatTimestamp, Epoch)
{
	EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000000000Z");
}

TEST(FormatTimestamp, KeepsAllNanoseconds)
{
	EXPECT_EQ(format_timestamp(1700000000123456789LL), "2023-11-14T22:13:20.123456789Z");
	EXPECT_EQ(format_timestamp(1700000000000000001LL), "2023-11-14T22:13:20.000000001Z");
	EXPECT_EQ(format_timestamp(1000000000LL), "1970-01-01T00:00:01.000000000Z");
}

TEST(MonotonicToRealtimeTest, ConvertsNowToWallClockNow)
{
	const MonotonicToRealtime clock;
	const int64_t monotonic = clock_ns(CLOCK_MONOTONIC);
	const int64_t converted = clock.convert(static_cast<uint64_t>(monotonic));
	const int64_t realtime = clock_ns(CLOCK_REALTIME);
	EXPECT_LT(std::llabs(converted - realtime), 1'000'000'000LL)
	    << "converted " << converted << " realtime " << realtime;
}

TEST(MonotonicToRealtimeTest, ResyncKeepsTheConversion)
{
	MonotonicToRealtime clock;
	clock.resync();
	const int64_t monotonic = clock_ns(CLOCK_MONOTONIC);
	const int64_t converted = clock.convert(static_cast<uint64_t>(monotonic));
	const int64_t realtime = clock_ns(CLOCK_REALTIME);
	EXPECT_LT(std::llabs(converted - realtime), 1'000'000'000LL)
	    << "converted " << converted << " realtime " << realtime;
	// A later monotonic stamp converts to a later wall-clock time.
	EXPECT_EQ(clock.convert(static_cast<uint64_t>(monotonic) + 5) - converted, 5);
}

} // namespace
} // namespace rstwatch
