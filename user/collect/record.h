/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Ring-buffer records, checked and decoded into one host-side event. */
#ifndef RCATRACE_RECORD_H
#define RCATRACE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "rcatrace.h"

struct rca_event {
	uint32_t type; /* RCA_REC_* */
	uint32_t pid;
	uint32_t ppid;
	uint64_t cgroup_id;
	uint64_t time_ns; /* CLOCK_BOOTTIME */
	uint64_t exe_id;
	char comm[RCA_COMM_LEN + 1];
	char filename[RCA_FILENAME_LEN + 1]; /* exec only */
	/* exit only: */
	int killed;      /* 1: ended by a signal, exit_code meaningless */
	int exit_code;   /* 0..255 */
	int signal;      /* signal number when killed */
	int core_dumped;
	uint64_t lifetime_ns;
};

/*
 * Decodes one record. Returns 0; -EINVAL when it is shorter than its type
 * says (or than the type field itself); -EPROTO for an unknown type. The
 * kernel's strings are copied NUL-terminated whatever their bytes.
 */
int record_decode(const void *data, size_t size, struct rca_event *ret);

/* The type of a record, or 0 when it is too short to have one. */
uint32_t record_type(const void *data, size_t size);

/*
 * OOM and kill records are used as the kernel wrote them, after a size check
 * and with every string NUL-terminated. 0, or -EINVAL when too short.
 */
int record_decode_oom(const void *data, size_t size, struct rca_oom_record *ret);
int record_decode_kill(const void *data, size_t size, struct rca_kill_record *ret);

#endif
