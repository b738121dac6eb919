/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The cause decision, as one pure function compiled twice: into the BPF
 * programs, so per-cause totals are exact even when the ring buffer drops
 * events, and into rstwatchd, which explains the same decision. Kernel reason
 * numbers shift between kernels, so they come in as a table resolved by name
 * from the running kernel's BTF.
 */
#ifndef RSTWATCH_CLASSIFY_H
#define RSTWATCH_CLASSIFY_H

#include "rstwatch/event.h"
#include "rstwatch/inline.h"

/* include/net/tcp_states.h (kernel ABI). */
#define RSTWATCH_TCP_ESTABLISHED 1
#define RSTWATCH_TCP_SYN_SENT    2
#define RSTWATCH_TCP_TIME_WAIT   6
#define RSTWATCH_TCP_CLOSE       7
#define RSTWATCH_TCP_CLOSE_WAIT  8
#define RSTWATCH_TCP_LISTEN      10

/* What the rules depend on besides the event. The reason fields hold the
 * value of that enum sk_rst_reason member on the running kernel, or
 * RSTWATCH_REASON_UNAVAILABLE when it has no such member. The BPF side reads
 * it from rodata through a volatile pointer, so the values rstwatchd writes
 * before load are used instead of the compiler folding the zero initializer. */
struct rstwatch_classify_config {
	__u32 not_specified;
	__u32 no_socket;
	__u32 abort_on_close;
	__u32 abort_on_data;
	__u32 abort_on_memory;
	__u32 tcp_state;
	__u32 keepalive_timeout;
	__u32 disconnect_with_data;
	__u32 timewait_socket;
	/* A received reset after this much silence is an idle timeout. */
	__u32 idle_threshold_ms;
};

RSTWATCH_INLINE int rstwatch_flag(const struct rstwatch_event *e, __u32 flag)
{
	return (e->flags & flag) != 0;
}

/* A kernel without enum sk_rst_reason (before 6.10) gives every config
 * value as RSTWATCH_REASON_UNAVAILABLE, and every event the same: equal, but
 * no evidence of anything. */
RSTWATCH_INLINE int rstwatch_reason_is(__u32 reason, __u32 wanted)
{
	return reason != RSTWATCH_REASON_UNAVAILABLE && reason == wanted;
}

/* A sent reset with no socket, from the event's core alone (the socket part
 * of such an event is never written: see RSTWATCH_EVENT_CORE_SIZE). */
RSTWATCH_INLINE __u8 rstwatch_classify_socketless(const struct rstwatch_event *e)
{
	return rstwatch_flag(e, RSTWATCH_F_REPLY_TO_SYN) ? RSTWATCH_CAUSE_REFUSED
	                                                 : RSTWATCH_CAUSE_NO_SOCKET;
}

RSTWATCH_INLINE __u8 rstwatch_classify_sent(const struct rstwatch_event *e,
                                            const volatile struct rstwatch_classify_config *config)
{
	__u32 reason = e->kernel_reason;
	int owner_acting = rstwatch_flag(e, RSTWATCH_F_CURRENT_IS_OWNER);
	int owner_exiting = rstwatch_flag(e, RSTWATCH_F_OWNER_EXITING);
	int linger_zero = rstwatch_flag(e, RSTWATCH_F_LINGER_ON) && e->linger_seconds == 0;
	/* Kernels before 6.10 say nothing; NOT_SPECIFIED says as little. */
	int no_reason = reason == RSTWATCH_REASON_UNAVAILABLE || reason == config->not_specified;

	if (!rstwatch_flag(e, RSTWATCH_F_HAS_SOCKET))
		return rstwatch_classify_socketless(e);
	/* A non-SYN segment that only a listener could take: the peer still
	 * has a connection this host does not (the tuple came from the segment). */
	if (e->state == RSTWATCH_TCP_LISTEN && rstwatch_flag(e, RSTWATCH_F_HAS_SKB) &&
	    !rstwatch_flag(e, RSTWATCH_F_REPLY_TO_SYN))
		return RSTWATCH_CAUSE_NO_SOCKET;
	/* Data for a FIN_WAIT2 orphan that the kernel keeps as a TIME_WAIT
	 * mini socket: the application had already closed. */
	if (rstwatch_flag(e, RSTWATCH_F_TW_FIN_WAIT2) && rstwatch_flag(e, RSTWATCH_F_HAS_SKB))
		return RSTWATCH_CAUSE_DATA_AFTER_CLOSE;
	if (e->state == RSTWATCH_TCP_TIME_WAIT ||
	    rstwatch_reason_is(reason, config->timewait_socket))
		return RSTWATCH_CAUSE_TIMEWAIT;

	/* The application's own close(): the kernel checks unread data before
	 * linger, and so do we. An exiting owner is the more specific cause. */
	if (rstwatch_reason_is(reason, config->abort_on_close) ||
	    (no_reason && owner_acting && e->unread_bytes > 0 && e->state == RSTWATCH_TCP_CLOSE))
		return owner_exiting ? RSTWATCH_CAUSE_PROCESS_EXIT
		                     : RSTWATCH_CAUSE_CLOSE_WITH_UNREAD_DATA;
	if (linger_zero && owner_acting &&
	    (no_reason || rstwatch_reason_is(reason, config->tcp_state)))
		return owner_exiting ? RSTWATCH_CAUSE_PROCESS_EXIT
		                     : RSTWATCH_CAUSE_LINGER_ZERO_CLOSE;

	if (rstwatch_reason_is(reason, config->abort_on_data))
		return RSTWATCH_CAUSE_DATA_AFTER_CLOSE;
	if (rstwatch_reason_is(reason, config->keepalive_timeout))
		return RSTWATCH_CAUSE_KEEPALIVE_TIMEOUT;
	if (rstwatch_reason_is(reason, config->abort_on_memory))
		return RSTWATCH_CAUSE_MEMORY_PRESSURE;
	if (rstwatch_reason_is(reason, config->disconnect_with_data) ||
	    rstwatch_reason_is(reason, config->tcp_state))
		return RSTWATCH_CAUSE_DISCONNECT;
	if (!no_reason)
		return RSTWATCH_CAUSE_PROTOCOL;

	/* No reason from the kernel: decide from the context of the reset. */
	if (rstwatch_flag(e, RSTWATCH_F_ORPHAN) && rstwatch_flag(e, RSTWATCH_F_HAS_SKB))
		return RSTWATCH_CAUSE_DATA_AFTER_CLOSE;
	if (!rstwatch_flag(e, RSTWATCH_F_HAS_SKB) && !owner_acting &&
	    rstwatch_flag(e, RSTWATCH_F_KEEPALIVE_ON))
		return RSTWATCH_CAUSE_KEEPALIVE_TIMEOUT;
	if (owner_acting && !rstwatch_flag(e, RSTWATCH_F_HAS_SKB))
		return RSTWATCH_CAUSE_DISCONNECT;
	if (rstwatch_flag(e, RSTWATCH_F_HAS_SKB))
		return RSTWATCH_CAUSE_PROTOCOL;
	return RSTWATCH_CAUSE_UNKNOWN;
}

RSTWATCH_INLINE __u8 rstwatch_classify_received(const struct rstwatch_event *e,
                                                __u32 idle_threshold_ms)
{
	if (e->state == RSTWATCH_TCP_SYN_SENT)
		return RSTWATCH_CAUSE_PEER_REFUSED;
	if (e->rst_ttl && e->peer_ttl && e->rst_ttl != e->peer_ttl)
		return RSTWATCH_CAUSE_MIDDLEBOX_INJECTED;
	if (!rstwatch_flag(e, RSTWATCH_F_FULL_SOCKET))
		return RSTWATCH_CAUSE_PEER_RESET;
	if (e->state == RSTWATCH_TCP_CLOSE_WAIT) {
		/* The peer's FIN had arrived and we wrote anyway. */
		if (e->unacked_bytes > 0)
			return RSTWATCH_CAUSE_STALE_CONNECTION_REUSE;
		/* The peer shut down an idle connection (a FIN then a reset, as
		 * proxies do on timeout): its FIN is the last thing received,
		 * so only our silence counts. */
		if (e->idle_since_send_ms >= idle_threshold_ms)
			return RSTWATCH_CAUSE_PEER_IDLE_TIMEOUT;
		return RSTWATCH_CAUSE_PEER_RESET;
	}
	/* We sent after hearing nothing for a long time: the peer had dropped
	 * the connection (pooled connection reuse). */
	if (e->unacked_bytes > 0 && e->idle_since_receive_ms >= idle_threshold_ms)
		return RSTWATCH_CAUSE_STALE_CONNECTION_REUSE;
	/* Nothing of ours in flight and silence both ways: something with a
	 * shorter idle timeout gave up on the connection. */
	if (e->unacked_bytes == 0 && e->idle_since_send_ms >= idle_threshold_ms &&
	    e->idle_since_receive_ms >= idle_threshold_ms)
		return RSTWATCH_CAUSE_PEER_IDLE_TIMEOUT;
	return RSTWATCH_CAUSE_PEER_RESET;
}

RSTWATCH_INLINE __u8 rstwatch_classify(const struct rstwatch_event *e,
                                       const volatile struct rstwatch_classify_config *config)
{
	if (e->direction == RSTWATCH_DIR_SENT)
		return rstwatch_classify_sent(e, config);
	if (e->direction == RSTWATCH_DIR_RECEIVED)
		return rstwatch_classify_received(e, config->idle_threshold_ms);
	return RSTWATCH_CAUSE_UNKNOWN;
}

#endif /* RSTWATCH_CLASSIFY_H */
