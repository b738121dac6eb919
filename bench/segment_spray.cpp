#include "segment_spray.h"

#include "loopback_only.h"
#include "storm_error.h"

#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>

#include <cstring>

namespace rstwatch::bench
{

namespace
{

constexpr uint16_t kFirstSourcePort = 1024;

uint16_t fold_checksum(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<uint16_t>(~sum);
}

uint32_t add_words(const void *data, size_t length, uint32_t sum)
{
	const auto *bytes = static_cast<const uint8_t *>(data);
	for (size_t i = 0; i + 1 < length; i += 2)
		sum += static_cast<uint32_t>(bytes[i] << 8 | bytes[i + 1]);
	return sum;
}

// The TCP checksum over the IPv4 pseudo-header: loopback does not vouch for
// raw segments, so the receiver verifies it.
uint16_t tcp_checksum(const iphdr &ip, const tcphdr &tcp)
{
	uint32_t sum = 0;
	sum = add_words(&ip.saddr, 4, sum);
	sum = add_words(&ip.daddr, 4, sum);
	sum += IPPROTO_TCP;
	sum += sizeof(tcphdr);
	sum = add_words(&tcp, sizeof(tcphdr), sum);
	return htons(fold_checksum(sum));
}

} // namespace

SegmentSpray::SegmentSpray(const sockaddr_in &target, SpraySegment kind, unsigned batch,
                           unsigned thread_index)
    : target_(target), kind_(kind), batch_(batch),
      next_port_(static_cast<uint16_t>(kFirstSourcePort + thread_index * 4099u)),
      next_sequence_(0x5eed0000u + thread_index), segments_(batch), iovecs_(batch), messages_(batch)
{
	if (!only_loopback_interfaces())
		throw StormError("spray mode sends raw segments and runs only inside a network "
		                 "namespace with no interface but lo (ip netns add NAME; ip netns "
		                 "exec NAME ...)");
	fd_.reset(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
	if (!fd_)
		fail_errno("raw socket for spray mode (needs CAP_NET_RAW)");
	for (unsigned i = 0; i < batch_; i++) {
		iovecs_[i] = {segments_[i].bytes, sizeof(segments_[i].bytes)};
		messages_[i] = {};
		messages_[i].msg_hdr.msg_name = &target_;
		messages_[i].msg_hdr.msg_namelen = sizeof(target_);
		messages_[i].msg_hdr.msg_iov = &iovecs_[i];
		messages_[i].msg_hdr.msg_iovlen = 1;
	}
}

void SegmentSpray::prepare(Segment &segment)
{
	std::memset(segment.bytes, 0, sizeof(segment.bytes));
	auto *ip = reinterpret_cast<iphdr *>(segment.bytes);
	auto *tcp = reinterpret_cast<tcphdr *>(segment.bytes + sizeof(iphdr));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->tot_len = htons(sizeof(segment.bytes));
	ip->saddr = target_.sin_addr.s_addr;
	ip->daddr = target_.sin_addr.s_addr;
	// The kernel fills in the IP checksum and id for IP_HDRINCL.

	if (next_port_ < kFirstSourcePort)
		next_port_ = kFirstSourcePort;
	tcp->source = htons(next_port_++);
	tcp->dest = target_.sin_port;
	tcp->seq = htonl(next_sequence_);
	next_sequence_ += 7919;
	tcp->doff = 5;
	tcp->window = htons(65535);
	if (kind_ == SpraySegment::Syn) {
		tcp->syn = 1;
	} else {
		tcp->ack = 1;
		tcp->ack_seq = htonl(next_sequence_ ^ 0xa5a5a5a5u);
	}
	tcp->check = tcp_checksum(*ip, *tcp);
}

int SegmentSpray::send(unsigned count)
{
	if (count > batch_)
		count = batch_;
	for (unsigned i = 0; i < count; i++)
		prepare(segments_[i]);
	return sendmmsg(fd_.get(), messages_.data(), count, 0);
}

} // namespace rstwatch::bench
