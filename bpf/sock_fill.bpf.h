/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Filling an rstwatch_event from a socket: its 4-tuple, state and the
 * tcp_sock fields the cause rules and the audit read. No maps: the reset
 * programs and the audit iterator (audit.bpf.c, an object of its own) share
 * it.
 */
#ifndef RSTWATCH_SOCK_FILL_BPF_H
#define RSTWATCH_SOCK_FILL_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "compat.bpf.h"
#include "defs.bpf.h"
#include "kernel_read.bpf.h"

/* Set by rstwatchd before load (rodata): CONFIG_HZ, 0 when unknown (times
 * are then reported in jiffies). */
const volatile __u32 jiffies_per_second __weak = 0;

/* TIME_WAIT and NEW_SYN_RECV "sockets" are mini sockets that share only
 * sock_common with struct sock; nothing beyond it may be read from them. */
static __always_inline bool is_full_socket(__u8 state)
{
	return state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV;
}

/* `flags` is sk->sk_flags (__sk_common.skc_flags), read once per event. */
static __always_inline bool sock_flag_set(unsigned long flags, int bit)
{
	return (flags >> bit) & 1;
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

/* Returns the socket as a struct tcp_sock when it is a full one (see
 * tcp_sock_of()), NULL for a mini socket. Every socket these hooks fill from
 * is TCP, so a full one is never NULL here. */
static __always_inline const struct tcp_sock *fill_from_sock_common(struct rstwatch_event *event,
                                                                    const struct sock *sk, bool btf)
{
	const struct tcp_sock *tp = NULL;

	event->family = KREAD(btf, sk, __sk_common.skc_family);
	event->state = KREAD(btf, sk, __sk_common.skc_state);
	/* tcp_set_state(TCP_CLOSE) releases the bound port and zeroes skc_num
	 * before an abortive close sends its reset; inet_sport survives it but
	 * exists only in full sockets. */
	if (is_full_socket(event->state)) {
		tp = tcp_sock_of(sk, btf);
		if (tp)
			event->local_port =
			    bpf_ntohs(KREAD(btf, (const struct inet_sock *)tp, inet_sport));
		read_socket_file(event, sk, btf);
	} else {
		event->local_port = KREAD(btf, sk, __sk_common.skc_num);
		/* A probe read even with BTF pointers: the verifier types a
		 * mini socket as struct inet_timewait_sock only through
		 * bpf_skc_to_tcp_timewait_sock(), which also insists on
		 * tcp_prot or a built-in tcpv6_prot and so could miss some. */
		if (event->state == TCP_TIME_WAIT &&
		    BPF_CORE_READ((struct inet_timewait_sock *)sk, tw_substate) == TCP_FIN_WAIT2)
			event->flags |= RSTWATCH_F_TW_FIN_WAIT2;
	}
	event->remote_port = bpf_ntohs(KREAD(btf, sk, __sk_common.skc_dport));
	event->netns = KREAD(btf, sk, __sk_common.skc_net.net, ns.inum);
	if (event->family == RSTWATCH_AF_INET6) {
		*(struct in6_addr *)event->local_addr =
		    KREAD(btf, sk, __sk_common.skc_v6_rcv_saddr);
		*(struct in6_addr *)event->remote_addr = KREAD(btf, sk, __sk_common.skc_v6_daddr);
	} else {
		*(__be32 *)event->local_addr = KREAD(btf, sk, __sk_common.skc_rcv_saddr);
		*(__be32 *)event->remote_addr = KREAD(btf, sk, __sk_common.skc_daddr);
	}
	return tp;
}

/* `tp` is `sk` as fill_from_sock_common() returned it. */
static __always_inline void fill_from_tcp_sock(struct rstwatch_event *event, const struct sock *sk,
                                               const struct tcp_sock *tp, bool btf)
{
	const struct inet_connection_sock *icsk = (const struct inet_connection_sock *)tp;
	struct net *net = KREAD(btf, sk, __sk_common.skc_net.net);
	unsigned long sk_flags = KREAD(btf, sk, __sk_common.skc_flags);
	__u32 snd_nxt = KREAD(btf, tp, snd_nxt);
	__u32 keepalive;

	event->flags |= RSTWATCH_F_FULL_SOCKET;
	event->unread_bytes = KREAD(btf, tp, rcv_nxt) - KREAD(btf, tp, copied_seq);
	/* A received FIN takes a sequence number but is no data (as tcp_inq()
	 * reckons it). */
	if (event->unread_bytes &&
	    sock_flag_set(sk_flags, bpf_core_enum_value(enum sock_flags, SOCK_DONE)))
		event->unread_bytes--;
	event->unsent_bytes = KREAD(btf, tp, write_seq) - snd_nxt;
	event->unacked_bytes = snd_nxt - KREAD(btf, tp, snd_una);
	event->bytes_sent = KREAD(btf, tp, bytes_sent);
	event->bytes_received = KREAD(btf, tp, bytes_received);
	event->user_timeout_ms = KREAD(btf, icsk, icsk_user_timeout);
	/* Both stamps are first set when the handshake completes. rcv_tstamp
	 * is the last ACK that arrived; a reset being processed has not
	 * updated it. */
	if (event->state != TCP_SYN_SENT && event->state != TCP_SYN_RECV) {
		event->idle_since_send_ms = ms_since_jiffies32(KREAD(btf, tp, lsndtime));
		event->idle_since_receive_ms = ms_since_jiffies32(KREAD(btf, tp, rcv_tstamp));
	}
	if (jiffies_per_second)
		event->flags |= RSTWATCH_F_HZ_KNOWN;
	event->cgroup_id = sock_cgroup_id(sk, btf);
	event->socket_uid = KREAD(btf, sk, sk_uid.val);

	if (sock_flag_set(sk_flags, bpf_core_enum_value(enum sock_flags, SOCK_DEAD)))
		event->flags |= RSTWATCH_F_ORPHAN;
	if (sock_flag_set(sk_flags, bpf_core_enum_value(enum sock_flags, SOCK_LINGER))) {
		event->flags |= RSTWATCH_F_LINGER_ON;
		event->linger_seconds = jiffies_to_seconds(KREAD(btf, sk, sk_lingertime));
	}
	if (sock_flag_set(sk_flags, bpf_core_enum_value(enum sock_flags, SOCK_KEEPOPEN)))
		event->flags |= RSTWATCH_F_KEEPALIVE_ON;

	/* A zero per-socket value means "use the namespace's sysctl", exactly
	 * as keepalive_time_when() and friends resolve it. */
	keepalive = KREAD(btf, tp, keepalive_time);
	if (!keepalive)
		keepalive = KREAD(btf, net, ipv4.sysctl_tcp_keepalive_time);
	event->keepalive_idle_seconds = jiffies_to_seconds(keepalive);
	keepalive = KREAD(btf, tp, keepalive_intvl);
	if (!keepalive)
		keepalive = KREAD(btf, net, ipv4.sysctl_tcp_keepalive_intvl);
	event->keepalive_interval_seconds = jiffies_to_seconds(keepalive);
	keepalive = KREAD(btf, tp, keepalive_probes);
	if (!keepalive)
		keepalive = KREAD(btf, net, ipv4.sysctl_tcp_keepalive_probes);
	event->keepalive_count = keepalive;
}

#endif /* RSTWATCH_SOCK_FILL_BPF_H */
