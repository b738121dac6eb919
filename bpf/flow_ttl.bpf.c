// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sender evidence for received resets: the TTL (hop limit) of the peer's own
 * segments on each flow, and of the RST when one arrives. A reset forged by a
 * middlebox usually starts with a different TTL or crosses a different
 * number of hops than the peer's segments did.
 *
 * This is the one per-packet hook: cgroup_skb ingress on the root cgroup,
 * which runs for every segment delivered to a local socket. It reads the
 * headers directly and touches socket-local storage only for the segments
 * it keeps (see ttl_every_segment).
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "defs.bpf.h"
#include "maps.bpf.h"

SEC("cgroup_skb/ingress")
int rstw_flow_ttl(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct rstwatch_flow_ttl *flow;
	struct bpf_sock *sk;
	__u8 ttl, tcp_flags;
	__u8 *tcp;

	/* At cgroup ingress skb->data points at the network header. */
	if (skb->protocol == bpf_htons(RSTWATCH_ETH_P_IP)) {
		struct iphdr *iph = data;

		if ((void *)(iph + 1) > data_end || iph->protocol != RSTWATCH_IPPROTO_TCP)
			return RSTWATCH_CGROUP_SKB_PASS;
		ttl = iph->ttl;
		tcp = data + (iph->ihl & 0xf) * 4;
	} else if (skb->protocol == bpf_htons(RSTWATCH_ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = data;

		if ((void *)(ip6h + 1) > data_end || ip6h->nexthdr != RSTWATCH_IPPROTO_TCP)
			return RSTWATCH_CGROUP_SKB_PASS;
		ttl = ip6h->hop_limit;
		tcp = (__u8 *)(ip6h + 1);
	} else {
		return RSTWATCH_CGROUP_SKB_PASS;
	}
	if ((void *)(tcp + 14) > data_end)
		return RSTWATCH_CGROUP_SKB_PASS;
	tcp_flags = tcp[13];
	/* By default only the handshake reply (SYN-ACK: the peer's own stack
	 * speaking to a connecting socket) and RSTs are looked at, so an
	 * ordinary segment costs a header read and nothing more. */
	if (!ttl_every_segment && !(tcp_flags & (RSTWATCH_TCP_FLAG_RST | RSTWATCH_TCP_FLAG_SYN)))
		return RSTWATCH_CGROUP_SKB_PASS;

	sk = skb->sk;
	if (!sk)
		return RSTWATCH_CGROUP_SKB_PASS;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return RSTWATCH_CGROUP_SKB_PASS;
	/* Storage is created for a baseline only: a RST on a flow with no
	 * baseline proves nothing, and creating storage for every refused
	 * connection would be the costliest thing this hook does. */
	if (tcp_flags & RSTWATCH_TCP_FLAG_RST) {
		flow = bpf_sk_storage_get(&flow_ttls, sk, NULL, 0);
		if (flow)
			flow->rst_ttl = ttl;
		return RSTWATCH_CGROUP_SKB_PASS;
	}
	flow = bpf_sk_storage_get(&flow_ttls, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (flow && flow->peer_ttl != ttl)
		flow->peer_ttl = ttl;
	return RSTWATCH_CGROUP_SKB_PASS;
}
