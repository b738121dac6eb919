// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The live TCP sockets processes hold, for `rstwatch audit`: an iter/task_file
 * program rstwatchd runs on demand (never on a kernel path), off its event
 * loop. It writes one rstwatch_event per socket and holding process, filled
 * from the socket as at a reset (sock_fill.bpf.h), with the holder as owner.
 *
 * Walking descriptors rather than iter/tcp: the tcp iterator lists only the
 * network namespace of the task that starts it, and reaching the others means
 * setns() into each (CAP_SYS_ADMIN, which the service does not have). Every
 * socket a process holds is reached from its descriptors, whatever namespace
 * it lives in, and its owner comes in the same pass. Sockets no process holds
 * are left out: an orphan's close() has already happened, and a connection
 * not yet accepted has no process to name.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "defs.bpf.h"
#include "sock_fill.bpf.h"

SEC("iter/task_file")
int rstw_audit_sockets(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct rstwatch_event event = {};
	const struct tcp_sock *tp;
	struct socket *sock;
	struct sock *sk;

	if (!task || !file)
		return 0;
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	sk = sock->sk;
	if (!sk)
		return 0;
	/* NULL for anything but a full TCP socket (UDP, unix, MPTCP's
	 * parent socket). */
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	event.version = RSTWATCH_EVENT_VERSION;
	event.timestamp_ns = bpf_ktime_get_ns();
	event.socket_id = (__u64)sk;
	event.flags = RSTWATCH_F_HAS_SOCKET;
	tp = fill_from_sock_common(&event, (const struct sock *)tp, true);
	if (!tp)
		return 0;
	fill_from_tcp_sock(&event, (const struct sock *)tp, tp, true);

	event.owner_source = RSTWATCH_OWNER_SOCKET;
	event.owner_pid = task->tgid;
	event.owner_tid = task->pid;
	event.owner_exit_code = task->exit_code;
	event.owner_recorded_ns = event.timestamp_ns;
	if (task->flags & RSTWATCH_PF_EXITING)
		event.flags |= RSTWATCH_F_OWNER_EXITING;
	__builtin_memcpy(event.owner_comm, task->comm, sizeof(event.owner_comm));
	bpf_seq_write(ctx->meta->seq, &event, sizeof(event));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
