/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who a reset belongs to, decided at the reset and paid for per reset: the
 * task holding the socket lock when there is one; the recorded closer for an
 * orphan or the TIME_WAIT socket that replaced it; otherwise the socket's
 * inode, which rstwatchd resolves to the processes holding it (and, should
 * they close it before it looks, the note the destroy hook sends).
 *
 * The only per-connection write is the closer, at close() (lifecycle.bpf.c).
 */
#ifndef RSTWATCH_OWNER_BPF_H
#define RSTWATCH_OWNER_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include "compat.bpf.h"
#include "defs.bpf.h"
#include "kernel_read.bpf.h"
#include "maps.bpf.h"
#include "sock_fill.bpf.h"

/* How long a closer is worth keeping: orphans finish within a minute or two
 * (FIN_WAIT2 and TIME_WAIT last 60 s by default). */
#define RSTWATCH_CLOSER_KEEP_NS (120ull * 1000000000ull)

/*
 * The socket lock is owned only by a task inside a socket call (or by the
 * owner draining the backlog in release_sock): softirq and timer paths defer
 * to the owner instead of running. So when it is owned, the current task is
 * the one acting on the socket. Listeners are processed without the lock, so
 * their owned flag says nothing about the current task.
 */
static __always_inline bool current_holds_socket(const struct sock *sk, __u8 state, bool btf)
{
	if (!is_full_socket(state) || state == TCP_LISTEN)
		return false;
	return KREAD(btf, sk, sk_lock.owned) != 0;
}

static __always_inline void owner_from_current(struct rstwatch_owner *owner, bool btf)
{
	const struct task_struct *task = current_task(btf);
	__u64 pid_tgid = current_pid_tgid(task, btf);

	owner->recorded_ns = bpf_ktime_get_ns();
	owner->pid = pid_tgid >> 32;
	owner->tid = (__u32)pid_tgid;
	owner->exit_code = KREAD(btf, task, exit_code);
	owner->exiting = (KREAD(btf, task, flags) & RSTWATCH_PF_EXITING) != 0;
	current_comm(task, owner->comm, btf);
}

/* The same key from a closing socket and, later, from an event on the orphan
 * or the TIME_WAIT mini socket of the same connection. */
static __always_inline void flow_key_from_event(const struct rstwatch_event *event,
                                                struct rstwatch_flow_key *key)
{
	__builtin_memcpy(key->local_addr, event->local_addr, sizeof(key->local_addr));
	__builtin_memcpy(key->remote_addr, event->remote_addr, sizeof(key->remote_addr));
	key->netns = event->netns;
	key->local_port = event->local_port;
	key->remote_port = event->remote_port;
}

/* Multiplicative hashing over the ten words of the 4-tuple (with netns). */
static __always_inline struct rstwatch_closer_slot *
closer_slot(const struct rstwatch_flow_key *flow)
{
	const __u32 *words = (const __u32 *)flow;
	__u32 hash = 0;
	__u32 index;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*flow) / sizeof(__u32)); i++)
		hash = (hash ^ words[i]) * 0x9e3779b1u;
	index = (hash ^ (hash >> 16)) & closer_slot_mask;
	return bpf_map_lookup_elem(&closers, &index);
}

static __always_inline bool same_flow(const struct rstwatch_flow_key *a,
                                      const struct rstwatch_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*a) / sizeof(__u64)); i++)
		if (x[i] != y[i])
			return false;
	return true;
}

/* The current task closes a connection it holds: remembered by 4-tuple, for a
 * reset its orphan sends later from softirq or a timer. */
static __always_inline void record_closer(const struct sock *sk, bool btf)
{
	struct rstwatch_event tuple = {};
	struct rstwatch_flow_key flow = {};
	struct rstwatch_closer_slot *slot;
	__u64 previous_ns;
	bool other_flow;

	fill_from_sock_common(&tuple, sk, btf);
	flow_key_from_event(&tuple, &flow);
	slot = closer_slot(&flow);
	if (!slot)
		return;
	previous_ns = slot->closer.recorded_ns;
	other_flow = previous_ns && !same_flow(&slot->flow, &flow);
	/* The owner first, then the key a reader checks. */
	owner_from_current(&slot->closer, btf);
	slot->closer.source = RSTWATCH_OWNER_CLOSER;
	slot->closer.socket_created_ns = tuple.socket_created_ns;
	slot->flow = flow;
	/* A recent closer of another connection lost its slot: counted, as a
	 * sign the table is too small for the rate of closes. */
	if (other_flow && slot->closer.recorded_ns - previous_ns < RSTWATCH_CLOSER_KEEP_NS)
		count(RSTWATCH_CNT_OWNER_MAP_FULL);
}

static __always_inline const struct rstwatch_owner *
find_closer(const struct rstwatch_flow_key *flow)
{
	struct rstwatch_closer_slot *slot = closer_slot(flow);

	if (!slot || !same_flow(&slot->flow, flow))
		return NULL;
	return &slot->closer;
}

static __always_inline void record_listener(const struct sock *sk, bool btf)
{
	struct rstwatch_listener_key key = {
	    .netns = KREAD(btf, sk, __sk_common.skc_net.net, ns.inum),
	    .port = KREAD(btf, sk, __sk_common.skc_num),
	};
	struct rstwatch_owner owner = {};

	owner_from_current(&owner, btf);
	owner.source = RSTWATCH_OWNER_LISTENER;
	if (bpf_map_update_elem(&listeners, &key, &owner, BPF_ANY))
		count(RSTWATCH_CNT_OWNER_MAP_FULL);
}

static __always_inline void forget_listener(const struct sock *sk, bool btf)
{
	struct rstwatch_listener_key key = {
	    .netns = KREAD(btf, sk, __sk_common.skc_net.net, ns.inum),
	    .port = KREAD(btf, sk, __sk_common.skc_num),
	};

	bpf_map_delete_elem(&listeners, &key);
}

/* Whether the event's local port is a listener's: the service side of the
 * connection, what metrics label by instead of ephemeral ports. */
static __always_inline void mark_local_listener(struct rstwatch_event *event)
{
	struct rstwatch_listener_key key = {
	    .netns = event->netns,
	    .port = event->local_port,
	};

	if (event->state == TCP_LISTEN || event->state == TCP_SYN_SENT)
		return;
	if (bpf_map_lookup_elem(&listeners, &key))
		event->flags |= RSTWATCH_F_LOCAL_LISTENING;
}

/* See pending_owners in maps.bpf.h. `sk` is a full socket. */
static __always_inline void mark_owner_pending(const struct sock *sk, __u64 timestamp_ns, bool btf)
{
	__u64 *mark;

	/* A mark not made (no memory for it) is counted with the owner
	 * tables' overflows: that socket's close, should it come first, goes
	 * unnoted. */
	if (!btf) {
		__u64 key = (__u64)sk;

		if (bpf_map_update_elem(&pending_owners, &key, &timestamp_ns, BPF_ANY))
			count(RSTWATCH_CNT_OWNER_MAP_FULL);
		return;
	}
	/* The initial value is on the stack: before 6.2 a map value may not
	 * point into a ring buffer record. */
	mark = bpf_sk_storage_get(&pending_owner_marks, (struct sock *)sk, &timestamp_ns,
	                          BPF_SK_STORAGE_GET_F_CREATE);
	if (mark)
		*mark = timestamp_ns;
	else
		count(RSTWATCH_CNT_OWNER_MAP_FULL);
}

/* Whether a reset left the owner of `sk` pending; the mark is removed. */
static __always_inline bool take_owner_pending(const struct sock *sk, bool btf)
{
	if (!btf) {
		__u64 key = (__u64)sk;

		if (!bpf_map_lookup_elem(&pending_owners, &key))
			return false;
		bpf_map_delete_elem(&pending_owners, &key);
		return true;
	}
	if (!bpf_sk_storage_get(&pending_owner_marks, (struct sock *)sk, NULL, 0))
		return false;
	bpf_sk_storage_delete(&pending_owner_marks, (struct sock *)sk);
	return true;
}

static __always_inline void copy_owner(struct rstwatch_event *event,
                                       const struct rstwatch_owner *owner)
{
	event->owner_source = owner->source;
	event->owner_pid = owner->pid;
	event->owner_tid = owner->tid;
	event->owner_exit_code = owner->exit_code;
	event->owner_recorded_ns = owner->recorded_ns;
	__builtin_memcpy(event->owner_comm, owner->comm, sizeof(event->owner_comm));
	if (owner->exiting)
		event->flags |= RSTWATCH_F_OWNER_EXITING;
}

/* After fill_from_sock_common() (and, for full sockets, the flags). */
static __always_inline void fill_owner(struct rstwatch_event *event, const struct sock *sk,
                                       bool btf)
{
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
	/* Orphans and TIME_WAIT mini sockets: the application closed them,
	 * and the closer was recorded then. */
	if ((event->flags & RSTWATCH_F_ORPHAN) || event->state == TCP_TIME_WAIT) {
		struct rstwatch_flow_key flow = {};
		const struct rstwatch_owner *closer;

		flow_key_from_event(event, &flow);
		closer = find_closer(&flow);
		if (closer) {
			copy_owner(event, closer);
			if (!event->socket_created_ns)
				event->socket_created_ns = closer->socket_created_ns;
		} else {
			/* No process to look up: rstwatchd can still name the
			 * owner of the listener of a server's orphan. */
			event->flags |= RSTWATCH_F_OWNER_PENDING;
		}
		return;
	}
	/* A socket a process still holds (a listener's holders say nothing
	 * about the connection): rstwatchd resolves its inode, and the destroy
	 * hook sends a note if the holder closes it first. */
	if (event->socket_inode && event->state != TCP_LISTEN) {
		event->flags |= RSTWATCH_F_OWNER_PENDING;
		mark_owner_pending(sk, event->timestamp_ns, btf);
	}
}

#endif /* RSTWATCH_OWNER_BPF_H */
