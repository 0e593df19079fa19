/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Facts about the running system that commands check before they start. */
#ifndef RCATRACE_SYSTEM_H
#define RCATRACE_SYSTEM_H

#include <stddef.h>

/* The kernel's boot id (36 chars). 0 or -errno. */
int system_boot_id(char *dst, size_t size);
/* 1 if this process may load and attach tracing programs (root, or CAP_BPF+CAP_PERFMON). */
int system_can_trace(void);
/* 1 if the kernel exposes its BTF (needed for CO-RE and tp_btf). */
int system_has_btf(void);

#endif
