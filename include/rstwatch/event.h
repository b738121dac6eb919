/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one record the BPF programs write into the ring buffer and rstwatchd
 * reads back. Shared verbatim by both sides, so it uses only fixed-width
 * types, orders fields largest first and pads explicitly: the layout must not
 * depend on which compiler (clang -target bpf or g++) lays it out.
 */
#ifndef RSTWATCH_EVENT_H
#define RSTWATCH_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define RSTWATCH_EVENT_VERSION 4
#define RSTWATCH_COMM_LEN      16

/* kernel_reason when the tracepoint carries no reason (kernels before 6.10). */
#define RSTWATCH_REASON_UNAVAILABLE 0xffffffffu

/* Size of the in-kernel per-reason counter table; reasons at or above it are
 * counted in the last slot. */
#define RSTWATCH_MAX_REASONS 64
/* Size of the per-state received counter table (TCP states are 1..12). */
#define RSTWATCH_MAX_STATES 16

enum rstwatch_direction {
	RSTWATCH_DIR_SENT = 1,
	RSTWATCH_DIR_RECEIVED = 2,
};

/* Who the owner_* fields name and how it was learned. The kernel decides
 * NONE, CURRENT and CLOSER; rstwatchd resolves the others after the event,
 * from the socket's inode (docs/design.md, "Attribution"). */
enum rstwatch_owner_source {
	RSTWATCH_OWNER_NONE = 0,
	/* The current task held the socket lock: it is acting on the socket. */
	RSTWATCH_OWNER_CURRENT = 1,
	/* A process holding the socket: found holding its descriptor, or
	 * closing it (in process context) right after the reset. */
	RSTWATCH_OWNER_SOCKET = 2,
	/* Recorded when a task closed the socket, now an orphan. */
	RSTWATCH_OWNER_CLOSER = 3,
	/* The socket's own holder was not found; the process that put its
	 * listener in LISTEN, which accepted sockets come from. */
	RSTWATCH_OWNER_LISTENER = 4,
	/* The holder closed the socket while exiting (a crash, a kill) before
	 * rstwatchd looked: pid and comm are that exiting process. */
	RSTWATCH_OWNER_EXITED = 5,
	/* The socket had a holder at the reset, and none was found when
	 * rstwatchd looked. */
	RSTWATCH_OWNER_UNRESOLVED = 6,
};

enum rstwatch_event_flags {
	RSTWATCH_F_HAS_SOCKET = 1u << 0,   /* sk was not NULL */
	RSTWATCH_F_HAS_SKB = 1u << 1,      /* reply to a segment (skb not NULL) */
	RSTWATCH_F_REPLY_TO_SYN = 1u << 2, /* the segment answered was a SYN */
	RSTWATCH_F_FULL_SOCKET = 1u << 3,  /* tcp_sock fields below are valid */
	RSTWATCH_F_CURRENT_IS_OWNER = 1u << 4,
	RSTWATCH_F_CURRENT_EXITING = 1u << 5, /* PF_EXITING on the current task */
	RSTWATCH_F_LINGER_ON = 1u << 6,
	RSTWATCH_F_KEEPALIVE_ON = 1u << 7,
	RSTWATCH_F_ORPHAN = 1u << 8,        /* SOCK_DEAD: the application closed it */
	RSTWATCH_F_OWNER_EXITING = 1u << 9, /* owner was exiting when recorded */
	RSTWATCH_F_HZ_KNOWN = 1u << 10,     /* jiffies-based fields were converted */
	/* A TIME_WAIT mini socket standing in for a FIN_WAIT2 orphan: the
	 * application closed and the kernel already freed the full socket. */
	RSTWATCH_F_TW_FIN_WAIT2 = 1u << 11,
	/* The kernel could not name the owner; rstwatchd resolves it from
	 * socket_inode (a full socket still held by a file), or, with no
	 * inode (an orphan whose closer is not known), from its listener. */
	RSTWATCH_F_OWNER_PENDING = 1u << 12,
	/* A listener holds the local port in this namespace: the local port is
	 * the service's (an accepted connection), not an ephemeral one. */
	RSTWATCH_F_LOCAL_LISTENING = 1u << 13,
};

/* Address family values as the kernel uses them (AF_INET, AF_INET6). */
#define RSTWATCH_AF_INET  2
#define RSTWATCH_AF_INET6 10

/*
 * Two parts. The first RSTWATCH_EVENT_CORE_SIZE bytes are what every reset
 * has: a reset for no socket (a refused connect, a stray segment) is
 * submitted as that prefix alone, two cache lines of ring memory instead of
 * four, and rstwatchd reads the rest as zeros. The socket part follows.
 */
struct rstwatch_event {
	/* The core: 8-byte fields */
	__u64 timestamp_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 socket_id;    /* kernel socket address, only to correlate events */
	/* 16-byte arrays (4-byte aligned content) */
	__u8 local_addr[16]; /* IPv4 in the first 4 bytes */
	__u8 remote_addr[16];
	/* 4-byte fields */
	__u32 version;       /* RSTWATCH_EVENT_VERSION */
	__u32 kernel_reason; /* enum sk_rst_reason value or UNAVAILABLE */
	__u32 flags;         /* enum rstwatch_event_flags */
	__u32 netns;         /* network namespace inode number */
	__u32 current_pid;   /* tgid of the task on the CPU */
	__u32 current_tid;
	__u32 current_exit_code; /* task_struct.exit_code of the current task */
	/* 2-byte fields */
	__u16 local_port; /* host byte order */
	__u16 remote_port;
	__u16 family; /* RSTWATCH_AF_INET or RSTWATCH_AF_INET6 */
	/* 1-byte fields */
	__u8 direction;   /* enum rstwatch_direction */
	__u8 state;       /* TCP state (TCP_ESTABLISHED = 1 ...), 0 if no socket */
	__u8 segment_ttl; /* TTL / hop limit of the segment answered, 0 if none */
	__u8 cause;       /* enum rstwatch_cause, decided in the kernel */
	__u8 reserved0[2];
	char current_comm[RSTWATCH_COMM_LEN];

	/* The socket part: 8-byte fields */
	__u64 cgroup_id; /* the socket's cgroup v2 id, 0 if none */
	__u64 bytes_sent;
	__u64 bytes_received;
	__u64 owner_recorded_ns; /* when the owner below was recorded */
	__u64 socket_inode;      /* the socket file's inode (sockfs), 0 if none */
	__u64 socket_created_ns; /* the socket file's ctime, CLOCK_REALTIME; 0 if none */
	/* 4-byte fields */
	__u32 owner_pid; /* tgid, valid when owner_source != NONE */
	__u32 owner_tid;
	__u32 unread_bytes;  /* rcv_nxt - copied_seq */
	__u32 unsent_bytes;  /* write_seq - snd_nxt */
	__u32 unacked_bytes; /* snd_nxt - snd_una */
	__u32 linger_seconds;
	__u32 keepalive_idle_seconds;
	__u32 keepalive_interval_seconds;
	__u32 user_timeout_ms; /* TCP_USER_TIMEOUT, 0 if unset */
	__u32 owner_exit_code;
	__u32 socket_uid;            /* sk_uid: the uid that created the socket */
	__u32 idle_since_send_ms;    /* since the last segment sent (lsndtime) */
	__u32 idle_since_receive_ms; /* since the last segment received */
	/* 1-byte fields */
	__u8 owner_source; /* enum rstwatch_owner_source */
	__u8 keepalive_count;
	__u8 rst_ttl;  /* TTL / hop limit of a received RST, 0 if not seen */
	__u8 peer_ttl; /* TTL the peer's own segments had on this flow, 0 if not seen */
	char owner_comm[RSTWATCH_COMM_LEN];
};

#define RSTWATCH_EVENT_SIZE      224
#define RSTWATCH_EVENT_CORE_SIZE 104

#ifdef __cplusplus
static_assert(sizeof(struct rstwatch_event) == RSTWATCH_EVENT_SIZE,
              "rstwatch_event layout changed: bump RSTWATCH_EVENT_VERSION");
static_assert(__builtin_offsetof(struct rstwatch_event, cgroup_id) == RSTWATCH_EVENT_CORE_SIZE,
              "the socket part starts where the core ends");
#else
_Static_assert(sizeof(struct rstwatch_event) == RSTWATCH_EVENT_SIZE,
               "rstwatch_event layout changed: bump RSTWATCH_EVENT_VERSION");
_Static_assert(__builtin_offsetof(struct rstwatch_event, cgroup_id) == RSTWATCH_EVENT_CORE_SIZE,
               "the socket part starts where the core ends");
#endif

/* A second kind of ring buffer record, told apart by its size: a task that
 * destroyed, in process context, a socket whose reset event left the owner
 * pending (an application closing the socket the reset broke). */
struct rstwatch_owner_note {
	__u64 timestamp_ns;
	__u64 socket_id; /* as rstwatch_event.socket_id */
	__u32 version;   /* RSTWATCH_EVENT_VERSION */
	__u32 pid;
	__u32 tid;
	__u32 exit_code;
	__u8 exiting;
	__u8 reserved[7];
	char comm[RSTWATCH_COMM_LEN];
};

#define RSTWATCH_OWNER_NOTE_SIZE 56

#ifdef __cplusplus
static_assert(sizeof(struct rstwatch_owner_note) == RSTWATCH_OWNER_NOTE_SIZE,
              "rstwatch_owner_note layout changed: bump RSTWATCH_EVENT_VERSION");
#else
_Static_assert(sizeof(struct rstwatch_owner_note) == RSTWATCH_OWNER_NOTE_SIZE,
               "rstwatch_owner_note layout changed: bump RSTWATCH_EVENT_VERSION");
#endif

/* The task that closed a socket (in a "closers" slot), and the owner of a
 * listener (value of "listeners"). */
struct rstwatch_owner {
	__u64 recorded_ns;
	__u64 socket_created_ns; /* as rstwatch_event.socket_created_ns */
	__u32 pid;
	__u32 tid;
	__u32 exit_code;
	__u8 source; /* enum rstwatch_owner_source */
	__u8 exiting;
	__u8 reserved[2];
	char comm[RSTWATCH_COMM_LEN];
};

/* Key of the "listeners" map: a listening port in a network namespace. */
struct rstwatch_listener_key {
	__u32 netns;
	__u16 port;
	__u16 reserved;
};

/* A closed connection's 4-tuple, what a "closers" slot is chosen by and
 * keeps, so the closer is found from the orphan and from the TIME_WAIT mini
 * socket that may replace it (a different object). Addresses as in
 * rstwatch_event. */
struct rstwatch_flow_key {
	__u8 local_addr[16];
	__u8 remote_addr[16];
	__u32 netns;
	__u16 local_port;
	__u16 remote_port;
};

/* Indexes of the per-CPU counter array (map "counters"). */
enum rstwatch_counter {
	RSTWATCH_CNT_LOST_EVENTS = 0, /* ring buffer reserve failed */
	RSTWATCH_CNT_SENT = 1,
	RSTWATCH_CNT_RECEIVED = 2,
	/* a recent closer overwritten, or a listener or a pending-owner mark
	 * not stored */
	RSTWATCH_CNT_OWNER_MAP_FULL = 3,
	RSTWATCH_CNT_MAX = 4,
};

/*
 * Why a reset happened (docs/design.md). Decided by rstwatch_classify() in
 * rstwatch/classify.h, in the kernel for the exact per-cause counters and
 * again in userspace for the evidence. The numbers are internal; names are
 * the stable identifiers.
 */
enum rstwatch_cause {
	RSTWATCH_CAUSE_UNKNOWN = 0,
	RSTWATCH_CAUSE_CLOSE_WITH_UNREAD_DATA,
	RSTWATCH_CAUSE_LINGER_ZERO_CLOSE,
	RSTWATCH_CAUSE_PROCESS_EXIT,
	RSTWATCH_CAUSE_DATA_AFTER_CLOSE,
	RSTWATCH_CAUSE_NO_SOCKET,
	RSTWATCH_CAUSE_REFUSED,
	RSTWATCH_CAUSE_KEEPALIVE_TIMEOUT,
	RSTWATCH_CAUSE_MEMORY_PRESSURE,
	RSTWATCH_CAUSE_DISCONNECT,
	RSTWATCH_CAUSE_TIMEWAIT,
	RSTWATCH_CAUSE_PROTOCOL,
	RSTWATCH_CAUSE_PEER_REFUSED,
	RSTWATCH_CAUSE_STALE_CONNECTION_REUSE,
	RSTWATCH_CAUSE_PEER_IDLE_TIMEOUT,
	RSTWATCH_CAUSE_MIDDLEBOX_INJECTED,
	RSTWATCH_CAUSE_PEER_RESET,
	RSTWATCH_CAUSE_COUNT,
};

#endif /* RSTWATCH_EVENT_H */
