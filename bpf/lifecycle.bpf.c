// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Socket lifecycle hooks that keep the "owners" map: who connected a socket
 * and who closed it, recorded while that task is in process context, so that
 * resets sent later from softirq or timers (where the current task is
 * unrelated) can still be attributed. Entries go when the socket is destroyed.
 *
 * Accepted sockets are recorded at the exit of accept()/accept4(): TCP has no
 * tracepoint of its own there, and the syscall tracepoints exist only in the
 * classic form, so those two hooks have a single entry point.
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
	__u8 source;

	/* A connection that never got established (a refused connect, an
	 * aborted handshake) has no closer worth remembering, and skipping it
	 * keeps reset storms of that kind off the maps. */
	if (newstate == TCP_SYN_SENT)
		source = RSTWATCH_OWNER_SOCKET;
	else if ((newstate == TCP_CLOSE || newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK) &&
	         oldstate != TCP_SYN_SENT && oldstate != TCP_SYN_RECV && oldstate != TCP_CLOSE)
		source = RSTWATCH_OWNER_CLOSER;
	else
		return;
	if (sock_protocol(sk, btf) != RSTWATCH_IPPROTO_TCP)
		return;
	/* Only a task holding the socket lock is the one acting on it; the same
	 * transitions made from softirq (a reset arriving) name nobody. */
	if (!current_holds_socket(sk, (__u8)oldstate, btf))
		return;
	record_owner(sk, source, btf);
}

static __always_inline void handle_destroy(const struct sock *sk)
{
	__u64 key = (__u64)sk;

	bpf_map_delete_elem(&owners, &key);
}

static __always_inline void handle_accept_exit(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;
	struct socket *sock;
	const struct sock *sk;

	if (fd < 0 || !fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return;
	/* accept() returned this descriptor, so it is a socket file and its
	 * private_data is the struct socket. */
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || sock_protocol(sk, false) != RSTWATCH_IPPROTO_TCP)
		return;
	record_owner(sk, RSTWATCH_OWNER_SOCKET, false);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit_tp(struct trace_event_raw_sys_exit *ctx)
{
	handle_accept_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit_tp(struct trace_event_raw_sys_exit *ctx)
{
	handle_accept_exit(ctx->ret);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state_btf, const struct sock *sk, int oldstate, int newstate)
{
	handle_set_state(sk, oldstate, newstate, true);
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(set_state_raw, const struct sock *sk, int oldstate, int newstate)
{
	handle_set_state(sk, oldstate, newstate, false);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int set_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	handle_set_state(ctx->skaddr, ctx->oldstate, ctx->newstate, false);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(destroy_sock_btf, const struct sock *sk)
{
	handle_destroy(sk);
	return 0;
}

SEC("raw_tp/tcp_destroy_sock")
int BPF_PROG(destroy_sock_raw, const struct sock *sk)
{
	handle_destroy(sk);
	return 0;
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int destroy_sock_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	handle_destroy(ctx->skaddr);
	return 0;
}
