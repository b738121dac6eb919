/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Filling an rstwatch_event from the socket, the segment and the tasks. */
#ifndef RSTWATCH_EVENT_FILL_BPF_H
#define RSTWATCH_EVENT_FILL_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "compat.bpf.h"
#include "maps.bpf.h"

/* include/linux/sched.h; unchanged since 2.6. */
#define RSTWATCH_PF_EXITING 0x00000004
#define RSTWATCH_TCPHDR_SYN 0x02

static __always_inline bool sock_flag_set(const struct sock *sk, int bit)
{
	unsigned long flags = BPF_CORE_READ(sk, __sk_common.skc_flags);

	return (flags >> bit) & 1;
}

/* TIME_WAIT and NEW_SYN_RECV "sockets" are mini sockets that share only
 * sock_common with struct sock; nothing beyond it may be read from them. */
static __always_inline bool is_full_socket(__u8 state)
{
	return state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV;
}

/*
 * The socket lock is owned only by a task inside a socket call (or by the
 * owner draining the backlog in release_sock): softirq and timer paths defer
 * to the owner instead of running. So when it is owned, the current task is
 * the one acting on the socket. Listeners are processed without the lock, so
 * their owned flag says nothing about the current task.
 */
static __always_inline bool current_holds_socket(const struct sock *sk, __u8 state)
{
	if (!is_full_socket(state) || state == TCP_LISTEN)
		return false;
	return BPF_CORE_READ(sk, sk_lock.owned) != 0;
}

static __always_inline __u32 jiffies_to_seconds(__u64 jiffies)
{
	return jiffies_per_second ? jiffies / jiffies_per_second : (__u32)jiffies;
}

static __always_inline __u32 jiffies_to_ms(__u64 jiffies)
{
	return jiffies_per_second ? jiffies * 1000 / jiffies_per_second : (__u32)jiffies;
}

/* TCP keeps its timestamps in 32-bit jiffies (tcp_jiffies32). */
static __always_inline __u32 ms_since_jiffies32(__u32 then)
{
	return jiffies_to_ms((__u32)bpf_jiffies64() - then);
}

static __always_inline void fill_current_task(struct rstwatch_event *event)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	event->current_pid = pid_tgid >> 32;
	event->current_tid = (__u32)pid_tgid;
	bpf_get_current_comm(event->current_comm, sizeof(event->current_comm));
	if (BPF_CORE_READ(task, flags) & RSTWATCH_PF_EXITING)
		event->flags |= RSTWATCH_F_CURRENT_EXITING;
	event->current_exit_code = BPF_CORE_READ(task, exit_code);
}

static __always_inline void fill_from_sock_common(struct rstwatch_event *event,
                                                  const struct sock *sk);

/* The same key from a closing socket and, later, from an event on the
 * TIME_WAIT mini socket of the same connection. */
static __always_inline void flow_key_from_event(const struct rstwatch_event *event,
                                                struct rstwatch_flow_key *key)
{
	__builtin_memcpy(key->local_addr, event->local_addr, sizeof(key->local_addr));
	__builtin_memcpy(key->remote_addr, event->remote_addr, sizeof(key->remote_addr));
	key->netns = event->netns;
	key->local_port = event->local_port;
	key->remote_port = event->remote_port;
}

static __always_inline void record_owner(const struct sock *sk, __u8 source)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 key = (__u64)sk;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct rstwatch_owner owner = {}, *previous;

	owner.recorded_ns = bpf_ktime_get_ns();
	/* The connection's start survives a later closer record. */
	previous = bpf_map_lookup_elem(&owners, &key);
	if (source == RSTWATCH_OWNER_SOCKET)
		owner.socket_ns = owner.recorded_ns;
	else if (previous)
		owner.socket_ns = previous->socket_ns;
	owner.pid = pid_tgid >> 32;
	owner.tid = (__u32)pid_tgid;
	owner.source = source;
	owner.exit_code = BPF_CORE_READ(task, exit_code);
	owner.exiting = (BPF_CORE_READ(task, flags) & RSTWATCH_PF_EXITING) != 0;
	bpf_get_current_comm(owner.comm, sizeof(owner.comm));
	if (bpf_map_update_elem(&owners, &key, &owner, BPF_ANY))
		count(RSTWATCH_CNT_OWNER_MAP_FULL);
	if (source == RSTWATCH_OWNER_CLOSER) {
		struct rstwatch_event tuple = {};
		struct rstwatch_flow_key flow = {};

		fill_from_sock_common(&tuple, sk);
		flow_key_from_event(&tuple, &flow);
		bpf_map_update_elem(&closed_flows, &flow, &owner, BPF_ANY);
	}
}

static __always_inline void fill_owner(struct rstwatch_event *event, const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct rstwatch_owner *owner;

	owner = bpf_map_lookup_elem(&owners, &key);
	/* Gone from "owners" when the reset comes after the socket was
	 * destroyed (tcp_done before the reply) or swapped for a TIME_WAIT
	 * mini socket: the closer is still known by the 4-tuple. */
	if (!owner) {
		struct rstwatch_flow_key flow = {};

		flow_key_from_event(event, &flow);
		owner = bpf_map_lookup_elem(&closed_flows, &flow);
	}
	if (owner && owner->socket_ns && event->timestamp_ns > owner->socket_ns)
		event->connection_age_ms = (event->timestamp_ns - owner->socket_ns) / 1000000;
	if (event->flags & RSTWATCH_F_CURRENT_IS_OWNER) {
		event->owner_source = RSTWATCH_OWNER_CURRENT;
		event->owner_pid = event->current_pid;
		event->owner_tid = event->current_tid;
		event->owner_exit_code = event->current_exit_code;
		event->owner_recorded_ns = event->timestamp_ns;
		__builtin_memcpy(event->owner_comm, event->current_comm, sizeof(event->owner_comm));
		if (event->flags & RSTWATCH_F_CURRENT_EXITING)
			event->flags |= RSTWATCH_F_OWNER_EXITING;
		return;
	}
	if (!owner)
		return;
	event->owner_source = owner->source;
	event->owner_pid = owner->pid;
	event->owner_tid = owner->tid;
	event->owner_exit_code = owner->exit_code;
	event->owner_recorded_ns = owner->recorded_ns;
	__builtin_memcpy(event->owner_comm, owner->comm, sizeof(event->owner_comm));
	if (owner->exiting)
		event->flags |= RSTWATCH_F_OWNER_EXITING;
}

static __always_inline void fill_from_sock_common(struct rstwatch_event *event,
                                                  const struct sock *sk)
{
	event->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	event->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	/* tcp_set_state(TCP_CLOSE) releases the bound port and zeroes skc_num
	 * before an abortive close sends its reset; inet_sport survives it but
	 * exists only in full sockets. */
	if (is_full_socket(event->state)) {
		event->local_port = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	} else {
		event->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
		if (event->state == TCP_TIME_WAIT &&
		    BPF_CORE_READ((struct inet_timewait_sock *)sk, tw_substate) == TCP_FIN_WAIT2)
			event->flags |= RSTWATCH_F_TW_FIN_WAIT2;
	}
	event->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	event->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (event->family == RSTWATCH_AF_INET6) {
		BPF_CORE_READ_INTO(&event->local_addr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&event->remote_addr, sk, __sk_common.skc_v6_daddr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)event->local_addr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)event->remote_addr, sk, __sk_common.skc_daddr);
	}
}

static __always_inline void fill_from_tcp_sock(struct rstwatch_event *event, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	const struct inet_connection_sock *icsk = (const struct inet_connection_sock *)sk;
	struct net *net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	__u32 snd_nxt = BPF_CORE_READ(tp, snd_nxt);
	__u32 keepalive;

	event->flags |= RSTWATCH_F_FULL_SOCKET;
	event->unread_bytes = BPF_CORE_READ(tp, rcv_nxt) - BPF_CORE_READ(tp, copied_seq);
	/* A received FIN takes a sequence number but is no data (as tcp_inq()
	 * reckons it). */
	if (event->unread_bytes &&
	    sock_flag_set(sk, bpf_core_enum_value(enum sock_flags, SOCK_DONE)))
		event->unread_bytes--;
	event->unsent_bytes = BPF_CORE_READ(tp, write_seq) - snd_nxt;
	event->unacked_bytes = snd_nxt - BPF_CORE_READ(tp, snd_una);
	event->bytes_sent = BPF_CORE_READ(tp, bytes_sent);
	event->bytes_received = BPF_CORE_READ(tp, bytes_received);
	event->user_timeout_ms = BPF_CORE_READ(icsk, icsk_user_timeout);
	/* Both stamps are first set when the handshake completes. rcv_tstamp
	 * is the last ACK that arrived; a reset being processed has not
	 * updated it. */
	if (event->state != TCP_SYN_SENT && event->state != TCP_SYN_RECV) {
		event->idle_since_send_ms = ms_since_jiffies32(BPF_CORE_READ(tp, lsndtime));
		event->idle_since_receive_ms = ms_since_jiffies32(BPF_CORE_READ(tp, rcv_tstamp));
	}
	if (jiffies_per_second)
		event->flags |= RSTWATCH_F_HZ_KNOWN;
	event->cgroup_id = sock_cgroup_id(sk);

	if (sock_flag_set(sk, bpf_core_enum_value(enum sock_flags, SOCK_DEAD)))
		event->flags |= RSTWATCH_F_ORPHAN;
	if (sock_flag_set(sk, bpf_core_enum_value(enum sock_flags, SOCK_LINGER))) {
		event->flags |= RSTWATCH_F_LINGER_ON;
		event->linger_seconds = jiffies_to_seconds(BPF_CORE_READ(sk, sk_lingertime));
	}
	if (sock_flag_set(sk, bpf_core_enum_value(enum sock_flags, SOCK_KEEPOPEN)))
		event->flags |= RSTWATCH_F_KEEPALIVE_ON;

	/* A zero per-socket value means "use the namespace's sysctl", exactly
	 * as keepalive_time_when() and friends resolve it. */
	keepalive = BPF_CORE_READ(tp, keepalive_time);
	if (!keepalive)
		keepalive = BPF_CORE_READ(net, ipv4.sysctl_tcp_keepalive_time);
	event->keepalive_idle_seconds = jiffies_to_seconds(keepalive);
	keepalive = BPF_CORE_READ(tp, keepalive_intvl);
	if (!keepalive)
		keepalive = BPF_CORE_READ(net, ipv4.sysctl_tcp_keepalive_intvl);
	event->keepalive_interval_seconds = jiffies_to_seconds(keepalive);
	keepalive = BPF_CORE_READ(tp, keepalive_probes);
	if (!keepalive)
		keepalive = BPF_CORE_READ(net, ipv4.sysctl_tcp_keepalive_probes);
	event->keepalive_count = keepalive;
}

/*
 * The segment being answered. With no socket it is the only source of the
 * 4-tuple, which is the segment's own tuple reversed: its destination is our
 * local end.
 */
static __always_inline void fill_from_segment(struct rstwatch_event *event,
                                              const struct sk_buff *skb, bool take_tuple)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 network_offset = BPF_CORE_READ(skb, network_header);
	__u16 transport_offset = BPF_CORE_READ(skb, transport_header);
	__u8 version = 0, tcp_flags = 0;
	struct tcphdr th;

	event->flags |= RSTWATCH_F_HAS_SKB;
	if (bpf_probe_read_kernel(&version, 1, head + network_offset))
		return;
	version >>= 4;
	if (bpf_probe_read_kernel(&th, sizeof(th), head + transport_offset))
		return;
	/* Byte 13 of the TCP header holds the flags; bitfield layouts differ. */
	tcp_flags = ((__u8 *)&th)[13];
	if (tcp_flags & RSTWATCH_TCPHDR_SYN)
		event->flags |= RSTWATCH_F_REPLY_TO_SYN;

	if (version == 4) {
		struct iphdr iph;

		if (bpf_probe_read_kernel(&iph, sizeof(iph), head + network_offset))
			return;
		event->segment_ttl = iph.ttl;
		if (take_tuple) {
			event->family = RSTWATCH_AF_INET;
			__builtin_memcpy(event->local_addr, &iph.daddr, 4);
			__builtin_memcpy(event->remote_addr, &iph.saddr, 4);
		}
	} else if (version == 6) {
		struct ipv6hdr ip6h;

		if (bpf_probe_read_kernel(&ip6h, sizeof(ip6h), head + network_offset))
			return;
		event->segment_ttl = ip6h.hop_limit;
		if (take_tuple) {
			event->family = RSTWATCH_AF_INET6;
			__builtin_memcpy(event->local_addr, &ip6h.daddr, 16);
			__builtin_memcpy(event->remote_addr, &ip6h.saddr, 16);
		}
	} else {
		return;
	}
	if (take_tuple) {
		event->local_port = bpf_ntohs(th.dest);
		event->remote_port = bpf_ntohs(th.source);
		event->netns = BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
	}
}

#endif /* RSTWATCH_EVENT_FILL_BPF_H */
