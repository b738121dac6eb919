/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel-version shims, all in one place. Each names the kernel change it
 * covers (release, commit, subject); everything is decided by CO-RE
 * relocations at load time, never by the kernel version the object was
 * built on.
 */
#ifndef RSTWATCH_COMPAT_BPF_H
#define RSTWATCH_COMPAT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include "rstwatch/event.h"
#include "kernel_read.bpf.h"

/*
 * v5.15, 8520e224f547 ("bpf, cgroups: Fix cgroup v2 fallback on v1/v2 mixed
 * mode") turned sock_cgroup_data into a struct holding the cgroup pointer.
 * Before it, the pointer lived in the union member `val` whenever bit 0 of
 * `is_data` was clear.
 */
struct sock_cgroup_data___old {
	union {
		struct {
			__u8 is_data : 1;
			__u8 no_refcnt : 1;
			__u8 unused : 6;
			__u8 padding;
			__u16 prioidx;
			__u32 classid;
		};
		__u64 val;
	};
} __attribute__((preserve_access_index));

static __always_inline __u64 sock_cgroup_id(const struct sock *sk, bool btf)
{
	struct cgroup *cgroup = NULL;

	if (bpf_core_field_exists(struct sock_cgroup_data, cgroup)) {
		cgroup = KREAD(btf, sk, sk_cgrp_data.cgroup);
	} else {
		/* Probe reads even in tp_btf programs: `val` is a number to
		 * the verifier, not a pointer it could follow. */
		struct sock_cgroup_data___old *old = (void *)&sk->sk_cgrp_data;
		__u64 val = BPF_CORE_READ(old, val);

		if (!(val & 1))
			cgroup = (struct cgroup *)val;
		if (!cgroup)
			return 0;
		return BPF_CORE_READ(cgroup, kn, id);
	}
	if (!cgroup)
		return 0;
	return KREAD(btf, cgroup, kn, id);
}

/*
 * v5.6, bf9765145b85 ("sock: Make sk_protocol a 16-bit value") turned the
 * sk_protocol bitfield into a plain u16; the bitfield reads handle both.
 */
static __always_inline __u16 sock_protocol(const struct sock *sk, bool btf)
{
	if (btf)
		return BPF_CORE_READ_BITFIELD(sk, sk_protocol);
	return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

/*
 * v6.10, 5cb2cb3cb20c ("net: introduce rstreason to detect why the RST is
 * sent") added enum sk_rst_reason, and b533fb9cf4f7 ("rstreason: make it
 * work in trace world") passed it to tcp_send_reset; before them the
 * classic tracepoint record has no such field.
 */
struct trace_event_raw_tcp_send_reset___reason {
	enum sk_rst_reason reason;
} __attribute__((preserve_access_index));

static __always_inline __u32 send_reset_tp_reason(void *ctx)
{
	struct trace_event_raw_tcp_send_reset___reason *rec = ctx;

	if (!bpf_core_field_exists(rec->reason))
		return RSTWATCH_REASON_UNAVAILABLE;
	return (__u32)rec->reason;
}

/*
 * v6.10, 19822a980e19 ("trace: tcp: fully support trace_tcp_send_reset")
 * gave tcp_send_reset a record of its own, struct trace_event_raw_tcp_send_reset. Before it the
 * event was an instance of the tcp_event_sk_skb class, which fires only with
 * a socket (see sent_resets_without_socket_traced in tracer.cpp), and its
 * record was that class's: the same two pointers, elsewhere.
 */
struct trace_event_raw_tcp_event_sk_skb___old {
	const void *skbaddr;
	const void *skaddr;
} __attribute__((preserve_access_index));

/* The old layout is read with a helper: two plain loads, one per layout,
 * would be folded by the compiler into one load at a computed offset, which
 * the verifier refuses for the context ("dereference of modified ctx ptr"). */
static __always_inline const struct sock *send_reset_tp_sock(void *ctx)
{
	struct trace_event_raw_tcp_event_sk_skb___old *old = ctx;

	if (bpf_core_type_exists(struct trace_event_raw_tcp_send_reset))
		return ((struct trace_event_raw_tcp_send_reset *)ctx)->skaddr;
	return BPF_CORE_READ(old, skaddr);
}

static __always_inline const struct sk_buff *send_reset_tp_skb(void *ctx)
{
	struct trace_event_raw_tcp_event_sk_skb___old *old = ctx;

	if (bpf_core_type_exists(struct trace_event_raw_tcp_send_reset))
		return ((struct trace_event_raw_tcp_send_reset *)ctx)->skbaddr;
	return BPF_CORE_READ(old, skbaddr);
}

/*
 * v6.4, d5271c5b1950 ("bpf: mark PTR_TO_MEM as non-null register type"):
 * before it the verifier does not know that a ring buffer record is non-NULL
 * once it has been checked. Where the compiler turns a later "was it reserved?" test
 * into a second test of the record pointer, an older verifier also walks
 * the impossible branch on which the record is never submitted and rejects
 * the program ("Unreleased reference"). The pointer is tested once, here;
 * the answer is a scalar the compiler cannot trace back to the pointer, so
 * every later test is of that scalar, which the verifier knows per path.
 */
static __always_inline bool ringbuf_record_reserved(const void *record)
{
	bool reserved = record != NULL;

	asm volatile("" : "+r"(reserved));
	return reserved;
}

/*
 * The socket file's inode: its number names the socket to rstwatchd, which
 * finds the processes holding it; its ctime is when the socket was created
 * (socket() or accept()), the start of the connection's age.
 *
 * v6.6, 13bc24457850 ("fs: rename i_ctime field to __i_ctime") and v6.11,
 * 3aa63a569c64 ("fs: switch timespec64 fields in inode to discrete
 * integers") moved the ctime twice.
 */
struct inode___ctime_timespec {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

struct inode___ctime_renamed {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

static __always_inline __u64 inode_ctime_ns(const struct inode *inode, bool btf)
{
	if (bpf_core_field_exists(inode->i_ctime_sec))
		return KREAD(btf, inode, i_ctime_sec) * 1000000000ull +
		       KREAD(btf, inode, i_ctime_nsec);
	if (bpf_core_field_exists(struct inode___ctime_renamed, __i_ctime)) {
		const struct inode___ctime_renamed *renamed = (const void *)inode;

		return KREAD(btf, renamed, __i_ctime.tv_sec) * 1000000000ull +
		       KREAD(btf, renamed, __i_ctime.tv_nsec);
	}
	const struct inode___ctime_timespec *old = (const void *)inode;

	return KREAD(btf, old, i_ctime.tv_sec) * 1000000000ull + KREAD(btf, old, i_ctime.tv_nsec);
}

/* Fills socket_inode and socket_created_ns from a full socket that still has
 * a file (sk_socket is cleared when the application closes it). */
static __always_inline void read_socket_file(struct rstwatch_event *event, const struct sock *sk,
                                             bool btf)
{
	const struct socket *sock = KREAD(btf, sk, sk_socket);
	const struct file *file;
	const struct inode *inode;

	if (!sock)
		return;
	file = KREAD(btf, sock, file);
	if (!file)
		return;
	inode = KREAD(btf, file, f_inode);
	if (!inode)
		return;
	event->socket_inode = KREAD(btf, inode, i_ino);
	event->socket_created_ns = inode_ctime_ns(inode, btf);
}

#endif /* RSTWATCH_COMPAT_BPF_H */
