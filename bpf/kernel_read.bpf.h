/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How the handlers read kernel memory. Each hook has one handler, shared by
 * its entry points, which pass it `btf`, a compile-time constant:
 *
 *  - true in the tp_btf programs. Their socket and segment arguments, and the
 *    task from bpf_get_current_task_btf(), are BTF pointers: the verifier
 *    knows their type and lets the program load their fields directly
 *    (PROBE_MEM loads, made fault-safe by the kernel's exception table), and
 *    the fields of the structs they point to in turn. A field costs a load.
 *  - false in the raw_tp and classic tracepoint programs, whose pointers are
 *    plain numbers to the verifier: each field is a bpf_probe_read_kernel()
 *    call, an order of magnitude dearer.
 *
 * Both are CO-RE relocated alike, and the branch not taken is compiled out.
 *
 * The verifier checks a direct load against the type it tracks for the
 * register, which a C cast does not change: a struct sock pointer cast to
 * struct tcp_sock is still a struct sock to it, and a load past the end of
 * struct sock is refused. tcp_sock_of() returns a pointer the verifier knows
 * as struct tcp_sock; struct inet_connection_sock and struct inet_sock lie at
 * its start, so C casts of that pointer to them load fine.
 */
#ifndef RSTWATCH_KERNEL_READ_BPF_H
#define RSTWATCH_KERNEL_READ_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include "rstwatch/event.h"

/* KREAD(btf, sk, __sk_common.skc_net.net, ns.inum): the arguments of
 * BPF_CORE_READ, read as sk->__sk_common.skc_net.net->ns.inum when `btf`.
 * (___arrow is bpf_core_read.h's own chain builder, BPF_CORE_READ's too.) */
#define KREAD(btf, src, a, ...)                                                                    \
	((btf) ? ___arrow((src), a, ##__VA_ARGS__) : BPF_CORE_READ((src), a, ##__VA_ARGS__))

/* The current task: a BTF pointer for direct loads, or an address for
 * BPF_CORE_READ. */
static __always_inline const struct task_struct *current_task(bool btf)
{
	if (btf)
		return bpf_get_current_task_btf();
	return (const struct task_struct *)bpf_get_current_task();
}

/* bpf_get_current_pid_tgid(), which computes exactly this from the current
 * task: with a BTF task pointer, two loads instead of a helper call. */
static __always_inline __u64 current_pid_tgid(const struct task_struct *task, bool btf)
{
	if (btf)
		return (__u64)task->tgid << 32 | (__u32)task->pid;
	return bpf_get_current_pid_tgid();
}

/* The current task's name, as bpf_get_current_comm() copies it. With a BTF
 * task pointer, two 8-byte loads instead of a helper call that copies it a
 * byte at a time (strscpy_pad): about 20 ns of a reset program's run here
 * (docs/benchmarks.md). A rename racing with the read may leave it torn or
 * unterminated, which rstwatchd, bounding and escaping every name, reads
 * like any other hostile name. */
_Static_assert(RSTWATCH_COMM_LEN == 2 * sizeof(__u64), "current_comm() copies two words");

static __always_inline void current_comm(const struct task_struct *task, char *comm, bool btf)
{
	if (btf) {
		const __u64 *name = (const __u64 *)&task->comm[0];

		((__u64 *)comm)[0] = name[0];
		((__u64 *)comm)[1] = name[1];
		return;
	}
	bpf_get_current_comm(comm, RSTWATCH_COMM_LEN);
}

/*
 * The socket as a struct tcp_sock, for a full TCP socket (the caller has
 * checked its state). With BTF pointers it takes bpf_skc_to_tcp_sock(), one
 * helper call, whose result the verifier knows as struct tcp_sock; it is NULL
 * only for a socket that is not a full TCP one.
 */
static __always_inline const struct tcp_sock *tcp_sock_of(const struct sock *sk, bool btf)
{
	if (btf)
		return bpf_skc_to_tcp_sock((void *)sk);
	return (const struct tcp_sock *)sk;
}

#endif /* RSTWATCH_KERNEL_READ_BPF_H */
