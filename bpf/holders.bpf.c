// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The processes holding sockets: an iter/task_file program that rstwatchd
 * runs on demand (never on a kernel path), to name the owner of a reset it
 * could not attribute in the kernel, and the owners of live sockets.
 *
 * Threads sharing their process's descriptor table are visited once. With
 * only_wanted set, a socket is reported only when its inode is in
 * wanted_inodes; otherwise every socket file is.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "defs.bpf.h"
#include "rstwatch/holders.h"

volatile bool only_wanted = true;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RSTWATCH_MAX_WANTED_INODES);
	__type(key, __u64);
	__type(value, __u8);
} wanted_inodes SEC(".maps");

SEC("iter/task_file")
int rstw_socket_holders(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct rstwatch_holder holder = {};
	struct inode *inode;

	if (!task || !file)
		return 0;
	inode = file->f_inode;
	if (!inode || (inode->i_mode & RSTWATCH_S_IFMT) != RSTWATCH_S_IFSOCK)
		return 0;
	holder.inode = inode->i_ino;
	if (only_wanted && !bpf_map_lookup_elem(&wanted_inodes, &holder.inode))
		return 0;
	holder.pid = task->tgid;
	holder.fd = ctx->fd;
	holder.exiting = (task->flags & RSTWATCH_PF_EXITING) != 0;
	__builtin_memcpy(holder.comm, task->comm, sizeof(holder.comm));
	bpf_seq_write(ctx->meta->seq, &holder, sizeof(holder));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
