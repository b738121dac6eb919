/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel and wire constants the BPF side needs and vmlinux.h does not carry
 * (they are #defines in the kernel, which BTF does not record). Defined
 * once here for every program.
 */
#ifndef RSTWATCH_DEFS_BPF_H
#define RSTWATCH_DEFS_BPF_H

/* include/uapi/linux/if_ether.h */
#define RSTWATCH_ETH_P_IP   0x0800
#define RSTWATCH_ETH_P_IPV6 0x86DD
/* include/uapi/linux/in.h */
#define RSTWATCH_IPPROTO_TCP 6

/* TCP header flag bits (RFC 9293), as in the 13th byte of the header. */
#define RSTWATCH_TCP_FLAG_SYN 0x02
#define RSTWATCH_TCP_FLAG_RST 0x04

/* Header lengths without options or extension headers. */
#define RSTWATCH_IPV4_HLEN 20
#define RSTWATCH_IPV6_HLEN 40
#define RSTWATCH_TCP_HLEN  20

/* include/uapi/linux/stat.h */
#define RSTWATCH_S_IFMT   00170000
#define RSTWATCH_S_IFSOCK 0140000

/* include/linux/sched.h; unchanged since 2.6. */
#define RSTWATCH_PF_EXITING 0x00000004

/* A cgroup_skb program's verdict that lets the packet through. */
#define RSTWATCH_CGROUP_SKB_PASS 1

#endif /* RSTWATCH_DEFS_BPF_H */
