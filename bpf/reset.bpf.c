// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reset hooks: tcp_send_reset and tcp_receive_reset. Each has three entry
 * points (tp_btf, raw_tp, classic tracepoint); rstwatchd keeps one per hook
 * with bpf_program__set_autoload, and all three call the same handler.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "event_fill.bpf.h"
#include "segment.bpf.h"

/*
 * Events are built in the ring buffer when there is room, and otherwise in a
 * per-CPU scratch record: the cause is decided and counted either way, so
 * the per-cause totals stay exact when detailed events are lost. `size` is
 * RSTWATCH_EVENT_SIZE, or RSTWATCH_EVENT_CORE_SIZE for an event whose socket
 * part is never written: the cache lines a record is written to are most of
 * its price in the ring (docs/benchmarks.md, "Where a reset's time goes").
 */
static __always_inline struct rstwatch_event *begin_event(__u32 size, __u8 direction,
                                                          bool *reserved, bool btf)
{
	struct rstwatch_event *event = bpf_ringbuf_reserve(&events, size, 0);
	__u32 zero = 0;

	*reserved = ringbuf_record_reserved(event);
	if (!*reserved) {
		count(RSTWATCH_CNT_LOST_EVENTS);
		event = bpf_map_lookup_elem(&scratch_event, &zero);
		if (!event)
			return NULL;
	}
	__builtin_memset(event, 0, size);
	event->version = RSTWATCH_EVENT_VERSION;
	event->direction = direction;
	event->timestamp_ns = bpf_ktime_get_ns();
	fill_current_task(event, btf);
	return event;
}

/* The event's cause is decided; `size` is the one begin_event() had. */
static __always_inline void finish_event(struct rstwatch_event *event, __u32 size, bool reserved)
{
	count_in(&resets_by_cause, (event->direction - 1) * RSTWATCH_CAUSE_COUNT + event->cause);
	if (reserved)
		submit_record(event, size);
}

static __always_inline void fill_from_sock(struct rstwatch_event *event, const struct sock *sk,
                                           bool btf)
{
	const struct tcp_sock *tp;

	event->socket_id = (__u64)sk;
	event->flags |= RSTWATCH_F_HAS_SOCKET;
	tp = fill_from_sock_common(event, sk, btf);
	if (tp) {
		fill_from_tcp_sock(event, sk, tp, btf);
		if (current_holds_socket(sk, event->state, btf))
			event->flags |= RSTWATCH_F_CURRENT_IS_OWNER;
	}
	fill_owner(event, sk, btf);
	mark_local_listener(event);
}

/* A reset for no socket: the segment it answers is all there is, so the
 * event is the core alone. */
static __always_inline void send_socketless_reset(const struct sk_buff *skb, __u32 reason, bool btf)
{
	struct rstwatch_event *event;
	bool reserved;

	event = begin_event(RSTWATCH_EVENT_CORE_SIZE, RSTWATCH_DIR_SENT, &reserved, btf);
	if (!event)
		return;
	event->kernel_reason = reason;
	if (skb)
		fill_from_segment(event, skb, true, btf);
	event->cause = rstwatch_classify_socketless(event);
	finish_event(event, RSTWATCH_EVENT_CORE_SIZE, reserved);
}

/* `btf` is true only in the tp_btf entry points, where sk and skb are BTF
 * pointers (see kernel_read.bpf.h). */
static __always_inline void handle_send_reset(const struct sock *sk, const struct sk_buff *skb,
                                              __u32 reason, bool btf)
{
	struct rstwatch_event *event;
	bool reserved;
	__u32 reason_slot = reason < RSTWATCH_MAX_REASONS ? reason : RSTWATCH_MAX_REASONS - 1;

	count(RSTWATCH_CNT_SENT);
	count_in(&sent_by_reason, reason_slot);
	if (!sk) {
		send_socketless_reset(skb, reason, btf);
		return;
	}

	event = begin_event(RSTWATCH_EVENT_SIZE, RSTWATCH_DIR_SENT, &reserved, btf);
	if (!event)
		return;
	event->kernel_reason = reason;
	fill_from_sock(event, sk, btf);
	/* A listener has no remote end: the segment it refused has the tuple. */
	if (skb)
		fill_from_segment(event, skb, event->state == TCP_LISTEN, btf);
	event->cause = rstwatch_classify(event, &classify_config);
	finish_event(event, RSTWATCH_EVENT_SIZE, reserved);
}

/* Socket-local storage may be read only through a BTF socket pointer. */
static __always_inline void handle_receive_reset(const struct sock *sk, bool btf)
{
	struct rstwatch_event *event;
	bool reserved;
	__u8 state;

	if (!sk)
		return;
	state = KREAD(btf, sk, __sk_common.skc_state);
	count(RSTWATCH_CNT_RECEIVED);
	count_in(&received_by_state, state < RSTWATCH_MAX_STATES ? state : 0);

	event = begin_event(RSTWATCH_EVENT_SIZE, RSTWATCH_DIR_RECEIVED, &reserved, btf);
	if (!event)
		return;
	event->kernel_reason = RSTWATCH_REASON_UNAVAILABLE;
	fill_from_sock(event, sk, btf);
	if (btf) {
		struct rstwatch_flow_ttl *flow =
		    bpf_sk_storage_get(&flow_ttls, (struct sock *)sk, NULL, 0);

		if (flow) {
			event->rst_ttl = flow->rst_ttl;
			event->peer_ttl = flow->peer_ttl;
		}
	}
	event->cause = rstwatch_classify(event, &classify_config);
	finish_event(event, RSTWATCH_EVENT_SIZE, reserved);
}

/* The reason argument exists only on kernels that have it (see
 * send_reset_has_reason); on others the branch is pruned before the verifier
 * would reject the out-of-range context access. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(rstw_send_reset_btf, const struct sock *sk, const struct sk_buff *skb)
{
	__u32 reason = RSTWATCH_REASON_UNAVAILABLE;

	if (send_reset_has_reason)
		reason = (__u32)ctx[2];
	handle_send_reset(sk, skb, reason, true);
	return 0;
}

SEC("raw_tp/tcp_send_reset")
int BPF_PROG(rstw_send_reset_raw, const struct sock *sk, const struct sk_buff *skb)
{
	__u32 reason = RSTWATCH_REASON_UNAVAILABLE;

	if (send_reset_has_reason)
		reason = (__u32)ctx[2];
	handle_send_reset(sk, skb, reason, false);
	return 0;
}

SEC("tracepoint/tcp/tcp_send_reset")
int rstw_send_reset_tp(struct trace_event_raw_tcp_send_reset *ctx)
{
	handle_send_reset(send_reset_tp_sock(ctx), send_reset_tp_skb(ctx),
	                  send_reset_tp_reason(ctx), false);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(rstw_receive_reset_btf, const struct sock *sk)
{
	handle_receive_reset(sk, true);
	return 0;
}

SEC("raw_tp/tcp_receive_reset")
int BPF_PROG(rstw_receive_reset_raw, const struct sock *sk)
{
	handle_receive_reset(sk, false);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int rstw_receive_reset_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	handle_receive_reset(ctx->skaddr, false);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
