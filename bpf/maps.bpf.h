/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps and load-time configuration shared by every program. The objects are
 * linked into one with `bpftool gen object`; the definitions are __weak so
 * that each translation unit may include them and the linker keeps one.
 */
#ifndef RSTWATCH_MAPS_BPF_H
#define RSTWATCH_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "rstwatch/classify.h"
#include "rstwatch/event.h"
#include "rstwatch/ring.h"

/* Set by rstwatchd before load (rodata): the verifier prunes branches on
 * them, which is how one object serves kernels with different tracepoint
 * signatures. */
const volatile bool send_reset_has_reason __weak = false;
/* Submissions wake the reader only once this much is waiting: waking it for
 * every event costs far more than the program itself. */
const volatile __u64 wakeup_bytes __weak = 64 * 1024;
/* Keep the TTL of every segment, not only of the SYN-ACK and RSTs: a
 * baseline for accepted sockets too, at a per-packet cost. */
const volatile bool ttl_every_segment __weak = false;
/* Kernel reason values and thresholds the cause rules use. */
const volatile struct rstwatch_classify_config classify_config __weak = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} events SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RSTWATCH_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps") __weak;

/* Kept in the kernel so they stay exact when the ring buffer overflows. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RSTWATCH_MAX_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} sent_by_reason SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RSTWATCH_MAX_STATES);
	__type(key, __u32);
	__type(value, __u64);
} received_by_state SEC(".maps") __weak;

/* Where an event is built when the ring buffer has no room for it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rstwatch_event);
} scratch_event SEC(".maps") __weak;

/* Index (direction - 1) * RSTWATCH_CAUSE_COUNT + cause. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * RSTWATCH_CAUSE_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} resets_by_cause SEC(".maps") __weak;

/* Closers by 4-tuple: the task that closed a connection, for the resets its
 * orphan (or the TIME_WAIT mini socket that replaces it) sends later. The one
 * write per connection, so a direct-mapped table: the slot is a hash of the
 * 4-tuple, found without a lookup (the verifier inlines array access), and a
 * colliding connection simply takes it over. The slot keeps the 4-tuple, and
 * a reader that finds another one finds no closer, never a wrong one. */
struct rstwatch_closer_slot {
	struct rstwatch_owner closer;
	struct rstwatch_flow_key flow;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct rstwatch_closer_slot);
} closers SEC(".maps") __weak;

/* max_entries of "closers" - 1, set with it (a power of two). */
const volatile __u32 closer_slot_mask __weak = 65535;

/* Who put each listening port in LISTEN: the fallback owner of sockets
 * accepted from it. Written and removed with the listener (rare). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct rstwatch_listener_key);
	__type(value, struct rstwatch_owner);
} listeners SEC(".maps") __weak;

/* Sockets whose reset left the owner to rstwatchd (value: the event's
 * timestamp): if the holder destroys one before rstwatchd has looked, the
 * destroy hook sends a note naming it. Written per such reset only.
 *
 * The tp_btf programs keep the mark in socket-local storage instead: it is
 * freed with the socket, and the destroy hook of a socket that has none (all
 * but these few) finds that out in one helper call, where a hash lookup cost
 * every socket closed after a reset about 100 ns (docs/design.md). The other
 * hook variants may not use socket storage and keep the hash. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} pending_owners SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} pending_owner_marks SEC(".maps") __weak;

/* Per-socket TTL evidence written by the cgroup_skb hook (flow_ttl.bpf.c). */
struct rstwatch_flow_ttl {
	__u8 peer_ttl; /* the peer's last non-RST segment */
	__u8 rst_ttl;  /* the last RST */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct rstwatch_flow_ttl);
} flow_ttls SEC(".maps") __weak;

static __always_inline void count(__u32 index)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &index);

	if (value)
		*value += 1;
}

static __always_inline void count_in(void *map, __u32 index)
{
	__u64 *value = bpf_map_lookup_elem(map, &index);

	if (value)
		*value += 1;
}

/*
 * Every record goes into the ring through here, so that whichever record
 * makes the ring cross the threshold wakes the reader, once; it drains on a
 * timer otherwise. Waking it for every record above the threshold costs an
 * interrupt per reset (a VM exit on virtual machines) exactly when the
 * reader is already behind. `size` is what was reserved for `record`.
 */
static __always_inline void submit_record(void *record, __u32 size)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(record, rstwatch_ring_crossed(avail, wakeup_bytes, size)
	                               ? BPF_RB_FORCE_WAKEUP
	                               : BPF_RB_NO_WAKEUP);
}

#endif /* RSTWATCH_MAPS_BPF_H */
