/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * When the reset programs wake rstwatchd: shared with the unit tests, which
 * check it against every record size the ring carries.
 */
#ifndef RSTWATCH_RING_H
#define RSTWATCH_RING_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "rstwatch/inline.h"

/* Each record in a BPF ring buffer is preceded by an 8-byte header and its
 * length is rounded up to 8 (BPF_RINGBUF_HDR_SZ, kernel/bpf/ringbuf.c). */
#define RSTWATCH_RING_HEADER_BYTES 8

RSTWATCH_INLINE __u64 rstwatch_ring_step(__u32 record_bytes)
{
	return ((record_bytes + 7ull) & ~7ull) + RSTWATCH_RING_HEADER_BYTES;
}

/* Whether the record just submitted, of `record_bytes`, is the one that
 * made the data waiting in the ring (`avail`, which counts it) reach
 * `threshold`: the reader is woken once per crossing, with that record, and
 * a window narrower than the record's step would be stepped over. */
RSTWATCH_INLINE int rstwatch_ring_crossed(__u64 avail, __u64 threshold, __u32 record_bytes)
{
	return avail >= threshold && avail < threshold + rstwatch_ring_step(record_bytes);
}

#endif /* RSTWATCH_RING_H */
