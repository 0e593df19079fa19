// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "record.h"

static void copy_str(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int record_decode(const void *data, size_t size, struct rca_event *ret)
{
	uint32_t type;

	if (!data || size < sizeof(type))
		return -EINVAL;
	memcpy(&type, data, sizeof(type));
	switch (type) {
	case RCA_REC_EXEC: {
		struct rca_exec_record r;

		if (size < sizeof(r))
			return -EINVAL;
		memcpy(&r, data, sizeof(r));
		memset(ret, 0, sizeof(*ret));
		ret->type = type;
		ret->pid = r.pid;
		ret->ppid = r.ppid;
		ret->cgroup_id = r.cgroup_id;
		ret->time_ns = r.time_ns;
		ret->exe_id = r.exe_id;
		copy_str(ret->comm, r.comm, sizeof(r.comm));
		copy_str(ret->filename, r.filename, sizeof(r.filename));
		return 0;
	}
	case RCA_REC_EXIT: {
		struct rca_exit_record r;

		if (size < sizeof(r))
			return -EINVAL;
		memcpy(&r, data, sizeof(r));
		memset(ret, 0, sizeof(*ret));
		ret->type = type;
		ret->pid = r.pid;
		ret->ppid = r.ppid;
		ret->cgroup_id = r.cgroup_id;
		ret->time_ns = r.time_ns;
		ret->exe_id = r.exe_id;
		ret->lifetime_ns = r.lifetime_ns;
		copy_str(ret->comm, r.comm, sizeof(r.comm));
		/* wait(2) encoding: low 7 bits signal, bit 7 core dump, bits 8-15 status. */
		ret->signal = (int)(r.exit_code & 0x7f);
		ret->killed = ret->signal != 0;
		ret->core_dumped = (r.exit_code & 0x80) != 0;
		ret->exit_code = ret->killed ? 0 : (int)((r.exit_code >> 8) & 0xff);
		return 0;
	}
	default:
		return -EPROTO;
	}
}

uint32_t record_type(const void *data, size_t size)
{
	uint32_t type;

	if (!data || size < sizeof(type))
		return 0;
	memcpy(&type, data, sizeof(type));
	return type;
}

static void terminate(char *s, size_t n)
{
	s[n - 1] = '\0';
}

static void terminate_ref(struct rca_proc_ref *r)
{
	terminate(r->comm, sizeof(r->comm));
}

int record_decode_oom(const void *data, size_t size, struct rca_oom_record *ret)
{
	if (record_type(data, size) != RCA_REC_OOM || size < sizeof(*ret))
		return -EINVAL;
	memcpy(ret, data, sizeof(*ret));
	terminate_ref(&ret->victim);
	terminate_ref(&ret->trigger);
	terminate(ret->memcg_name, sizeof(ret->memcg_name));
	return 0;
}

int record_decode_kill(const void *data, size_t size, struct rca_kill_record *ret)
{
	if (record_type(data, size) != RCA_REC_KILL || size < sizeof(*ret))
		return -EINVAL;
	memcpy(ret, data, sizeof(*ret));
	terminate_ref(&ret->sender);
	terminate_ref(&ret->target);
	if (ret->n_lineage > RCA_LINEAGE_DEPTH)
		ret->n_lineage = RCA_LINEAGE_DEPTH;
	for (uint32_t i = 0; i < RCA_LINEAGE_DEPTH; i++)
		terminate_ref(&ret->lineage[i]);
	return 0;
}
