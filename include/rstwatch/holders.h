/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the socket-holders iterator (bpf/holders.bpf.c) writes per socket
 * descriptor: one fixed-size record, read by rstwatchd's SocketHolders.
 */
#ifndef RSTWATCH_HOLDERS_H
#define RSTWATCH_HOLDERS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define RSTWATCH_MAX_WANTED_INODES 8192

struct rstwatch_holder {
	__u64 inode;
	__u32 pid; /* tgid */
	__u32 fd;
	__u8 exiting;
	__u8 reserved[7];
	char comm[16];
};

#endif /* RSTWATCH_HOLDERS_H */
