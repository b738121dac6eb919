/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Filling an rstwatch_event from the segment a sent reset answers. */
#ifndef RSTWATCH_SEGMENT_BPF_H
#define RSTWATCH_SEGMENT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "defs.bpf.h"
#include "kernel_read.bpf.h"
#include "rstwatch/event.h"

/*
 * The segment being answered. With no socket it is the only source of the
 * 4-tuple, which is the segment's own tuple reversed: its destination is our
 * local end.
 *
 * The headers are probe reads even with a BTF skb: the verifier has no type
 * for the bytes `head` points to. One read takes the IP header and, when
 * there are no IP options or IPv6 extension headers, the TCP header after it.
 * The TCP stack has pulled both headers into the linear area before it
 * answers a segment, and the head buffer ends with struct skb_shared_info,
 * so the bytes read past a short segment's end are still the buffer's.
 */
static __always_inline void fill_from_segment(struct rstwatch_event *event,
                                              const struct sk_buff *skb, bool take_tuple, bool btf)
{
	unsigned char *head = KREAD(btf, skb, head);
	__u16 network_offset = KREAD(btf, skb, network_header);
	__u16 transport_offset = KREAD(btf, skb, transport_header);
	__u16 ip_header_len = transport_offset - network_offset;
	__u8 headers[RSTWATCH_IPV6_HLEN + RSTWATCH_TCP_HLEN] __attribute__((aligned(8)));
	const struct iphdr *iph = (const void *)headers;
	const struct ipv6hdr *ip6h = (const void *)headers;
	struct tcphdr th;
	__u8 version, tcp_flags;

	event->flags |= RSTWATCH_F_HAS_SKB;
	if (bpf_probe_read_kernel(headers, sizeof(headers), head + network_offset))
		return;
	version = headers[0] >> 4;
	if (ip_header_len == RSTWATCH_IPV4_HLEN)
		__builtin_memcpy(&th, headers + RSTWATCH_IPV4_HLEN, sizeof(th));
	else if (ip_header_len == RSTWATCH_IPV6_HLEN)
		__builtin_memcpy(&th, headers + RSTWATCH_IPV6_HLEN, sizeof(th));
	else if (bpf_probe_read_kernel(&th, sizeof(th), head + transport_offset))
		return;
	/* Byte 13 of the TCP header holds the flags; bitfield layouts differ. */
	tcp_flags = ((__u8 *)&th)[13];
	if (tcp_flags & RSTWATCH_TCP_FLAG_SYN)
		event->flags |= RSTWATCH_F_REPLY_TO_SYN;

	if (version == 4) {
		event->segment_ttl = iph->ttl;
		if (take_tuple) {
			event->family = RSTWATCH_AF_INET;
			__builtin_memcpy(event->local_addr, &iph->daddr, 4);
			__builtin_memcpy(event->remote_addr, &iph->saddr, 4);
		}
	} else if (version == 6) {
		event->segment_ttl = ip6h->hop_limit;
		if (take_tuple) {
			event->family = RSTWATCH_AF_INET6;
			__builtin_memcpy(event->local_addr, &ip6h->daddr, 16);
			__builtin_memcpy(event->remote_addr, &ip6h->saddr, 16);
		}
	} else {
		return;
	}
	if (take_tuple) {
		event->local_port = bpf_ntohs(th.dest);
		event->remote_port = bpf_ntohs(th.source);
		event->netns = KREAD(btf, skb, dev, nd_net.net, ns.inum);
	}
}

#endif /* RSTWATCH_SEGMENT_BPF_H */
