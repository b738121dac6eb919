/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Filling an rstwatch_event at a reset: the socket (sock_fill.bpf.h), the
 * owner (owner.bpf.h) and the task on the CPU. */
#ifndef RSTWATCH_EVENT_FILL_BPF_H
#define RSTWATCH_EVENT_FILL_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "compat.bpf.h"
#include "defs.bpf.h"
#include "kernel_read.bpf.h"
#include "maps.bpf.h"
#include "owner.bpf.h"
#include "sock_fill.bpf.h"

static __always_inline void fill_current_task(struct rstwatch_event *event, bool btf)
{
	const struct task_struct *task = current_task(btf);
	__u64 pid_tgid = current_pid_tgid(task, btf);

	event->current_pid = pid_tgid >> 32;
	event->current_tid = (__u32)pid_tgid;
	current_comm(task, event->current_comm, btf);
	if (KREAD(btf, task, flags) & RSTWATCH_PF_EXITING)
		event->flags |= RSTWATCH_F_CURRENT_EXITING;
	event->current_exit_code = KREAD(btf, task, exit_code);
}

#endif /* RSTWATCH_EVENT_FILL_BPF_H */
