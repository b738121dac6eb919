// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Socket lifecycle hooks, kept off the cost of healthy connections: each
 * returns before any helper call or map access for the transitions that do
 * not matter, and the one write per connection is the closer, at close().
 *
 *  - inet_sock_set_state: a task closing a connection it holds (the closer,
 *    for resets its orphan sends later); a socket entering or leaving
 *    LISTEN (the fallback owner of the sockets accepted from it).
 *  - tcp_destroy_sock: a task destroying, inside close() or its exit, a
 *    socket whose reset left the owner pending: the note that names it when
 *    it closes the socket before rstwatchd has looked. In process context a
 *    socket is destroyed there only when it was already closed by a reset.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "defs.bpf.h"
#include "event_fill.bpf.h"

/* `btf` is true only in the tp_btf entry point (see kernel_read.bpf.h). */
static __always_inline void handle_set_state(const struct sock *sk, int oldstate, int newstate,
                                             bool btf)
{
	/* The application's close() (or shutdown()) of an established
	 * connection: the socket lives on as an orphan, and what it sends
	 * later (data after close) must name the closer. A passive close
	 * (LAST_ACK) and an abort (CLOSE) leave nothing that resets later
	 * without its own context: not recorded, half the writes. */
	bool closing = newstate == TCP_FIN_WAIT1 && oldstate == TCP_ESTABLISHED;
	/* A listener's own close; a child cloned from a listener also goes
	 * from LISTEN (the copied state) to SYN_RECV, which is not one. */
	bool unlistening = oldstate == TCP_LISTEN && newstate == TCP_CLOSE;

	if (!closing && !unlistening && newstate != TCP_LISTEN)
		return;
	if (sock_protocol(sk, btf) != RSTWATCH_IPPROTO_TCP)
		return;
	if (newstate == TCP_LISTEN) {
		record_listener(sk, btf);
		return;
	}
	if (unlistening) {
		forget_listener(sk, btf);
		return;
	}
	/* Only a task holding the socket lock is the one acting on it; the same
	 * transitions made from softirq (a reset arriving) name nobody. */
	if (current_holds_socket(sk, (__u8)oldstate, btf))
		record_closer(sk, btf);
}

static __always_inline void handle_destroy(const struct sock *sk, bool btf)
{
	struct rstwatch_owner_note *note;
	struct rstwatch_owner owner = {};
	__u64 key = (__u64)sk;

	if (!KREAD(btf, sk, sk_lock.owned))
		return;
	if (!take_owner_pending(sk, btf))
		return;
	note = bpf_ringbuf_reserve(&events, sizeof(*note), 0);
	if (!ringbuf_record_reserved(note)) {
		count(RSTWATCH_CNT_LOST_EVENTS);
		return;
	}
	owner_from_current(&owner, btf);
	note->timestamp_ns = owner.recorded_ns;
	note->socket_id = key;
	note->version = RSTWATCH_EVENT_VERSION;
	note->pid = owner.pid;
	note->tid = owner.tid;
	note->exit_code = owner.exit_code;
	note->exiting = owner.exiting;
	__builtin_memset(note->reserved, 0, sizeof(note->reserved));
	__builtin_memcpy(note->comm, owner.comm, sizeof(note->comm));
	submit_record(note, sizeof(*note));
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(rstw_set_state_btf, const struct sock *sk, int oldstate, int newstate)
{
	handle_set_state(sk, oldstate, newstate, true);
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(rstw_set_state_raw, const struct sock *sk, int oldstate, int newstate)
{
	handle_set_state(sk, oldstate, newstate, false);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int rstw_set_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	handle_set_state(ctx->skaddr, ctx->oldstate, ctx->newstate, false);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(rstw_destroy_sock_btf, const struct sock *sk)
{
	handle_destroy(sk, true);
	return 0;
}

SEC("raw_tp/tcp_destroy_sock")
int BPF_PROG(rstw_destroy_sock_raw, const struct sock *sk)
{
	handle_destroy(sk, false);
	return 0;
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int rstw_destroy_sock_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	handle_destroy(ctx->skaddr, false);
	return 0;
}
