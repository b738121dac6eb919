/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Functions the BPF programs and rstwatchd both compile: the verifier wants
 * them inlined into each program. */
#ifndef RSTWATCH_INLINE_H
#define RSTWATCH_INLINE_H

#ifdef __bpf__
#define RSTWATCH_INLINE static __always_inline
#else
#define RSTWATCH_INLINE static inline
#endif

#endif /* RSTWATCH_INLINE_H */
