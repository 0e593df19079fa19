// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Writes the seed corpus of fuzz_state_file into the directory given:
 * small valid state files that between them use every part of the format,
 * OOM and kill records, memory gauges and fork figures included.
 *
 *   cc -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser tests/fuzz/make_corpus.c \
 *      user/state_file.c user/figures.c -lz -lm -o make_corpus
 *   ./make_corpus tests/fuzz/corpus
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "state_file.h"

static int write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "make_corpus: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fwrite(buf, 1, len, f) == len;
	ok &= fclose(f) == 0;
	if (!ok)
		fprintf(stderr, "make_corpus: %s: write failed\n", path);
	return ok ? 0 : -1;
}

static int write_state(const char *dir, const char *name, const struct fig_state *s)
{
	void *buf;
	size_t len;
	int r;

	if (state_file_encode(s, &buf, &len)) {
		fprintf(stderr, "make_corpus: %s: out of memory\n", name);
		return -1;
	}
	r = write_file(dir, name, buf, len);
	free(buf);
	return r;
}

static void fill_exe(struct fig_exe *e, uint64_t seed)
{
	e->starts = seed * 3;
	e->exits = seed * 3 - 1;
	e->exits_failed = seed;
	e->first_start_ms = 1700000000000 + (int64_t)seed;
	e->last_start_ms = 1700000060000 + (int64_t)seed;
	e->last_exit_ms = 1700000059000 + (int64_t)seed;
	e->gaps = seed * 3 - 1;
	e->gap_sum_ns = e->gaps * 2000000000ull;
	e->gap_sumsq_ms2 = e->gaps * 4000000ull;
	e->lifetime_sum_us = seed * 1500;
	e->lifetime_hist[0] = 1;
	e->lifetime_hist[11] = seed;
	fig_exe_add_status(e, RCA_STATUS_CODE, 1, seed);
	fig_exe_add_status(e, RCA_STATUS_SIGNAL, 9, 1);
	e->respawn_class = seed % 3;
	e->storm_since_ms = e->respawn_class == RESPAWN_STORM ? e->last_start_ms : 0;
	e->storms = e->respawn_class == RESPAWN_STORM;
}

/* Memory, kill and fork figures as a run that watched a leaking, fork-bombing unit has them. */
static void fill_unit_figures(struct fig_unit *u, uint64_t seed)
{
	u->mem.sampled_ms = 1700000590000 + (int64_t)seed;
	u->mem.rss_anon_kib = 800000 + seed;
	u->mem.rss_file_kib = 20000;
	u->mem.rss_shmem_kib = 64;
	u->mem.rss_peak_kib = 820100 + seed;
	u->mem.growth_kib_per_s = 512.25;
	u->mem.growth_fit_r2 = 0.97;
	u->mem.growth_window_s = 600;
	u->mem.exhaustion_eta_s = 420;
	u->mem.leak_suspect = 1;
	u->mem.memcg_usage_bytes = 840000000;
	u->mem.memcg_limit_bytes = 1073741824;
	u->oom_kills = 1;
	u->kills_sent = 2;
	u->kills_received = 5;
	fig_unit_add_kills(u, "init.scope", 9, 1, 1);
	fig_unit_add_kills(u, "session-3.scope", 15, 0, 4);
	u->forks_failed = 30;
	fig_unit_add_fork_errno(u, 11, 28);
	fig_unit_add_fork_errno(u, 12, 2);
	u->fork_storm = 1;
	u->fork_storm_since_ms = 1700000580000;
	u->fork_rate_per_s = 950.5;
	u->procs_alive = 4096;
	u->pids_current = 4096;
	u->pids_max = 4096;
	u->pids_events_max = 30;
}

static void fill_proc_ref(struct fig_proc_ref *p, uint32_t pid, const char *comm,
			  const char *unit)
{
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	snprintf(p->unit, sizeof(p->unit), "%s", unit);
}

static int add_oom(struct fig_state *s, const char *boot_id, uint64_t seed)
{
	struct fig_oom o;

	memset(&o, 0, sizeof(o));
	o.time_ms = 1700000595000 + (int64_t)seed;
	snprintf(o.boot_id, sizeof(o.boot_id), "%s", boot_id);
	fill_proc_ref(&o.victim, 4242 + (uint32_t)seed, "leaky", "leaky.service");
	snprintf(o.constraint, sizeof(o.constraint), "%s", seed % 2 ? "global" : "memcg");
	if (seed % 2 == 0)
		snprintf(o.memcg, sizeof(o.memcg), "/system.slice/leaky.service");
	o.memcg_limit_bytes = seed % 2 ? -1 : 1073741824;
	o.memcg_usage_bytes = seed % 2 ? -1 : 1073700000;
	o.rss_anon_kib = 1040000;
	o.rss_file_kib = 1200;
	o.rss_shmem_kib = 8;
	o.oom_score_adj = seed % 2 ? -500 : 200;
	fill_proc_ref(&o.trigger, 4243, "leaky-worker", "leaky.service");
	o.n_top_rss = 2 + (uint32_t)(seed % 4);
	for (uint32_t i = 0; i < o.n_top_rss; i++) {
		snprintf(o.top_rss[i].unit, sizeof(o.top_rss[i].unit), "top%u.service", i);
		o.top_rss[i].rss_kib = 1040000 / (i + 1);
		o.top_rss[i].growth_kib_per_s = i ? 0.5 : 2048;
	}
	o.n_top_growth = 1;
	snprintf(o.top_growth[0].unit, sizeof(o.top_growth[0].unit), "leaky.service");
	o.top_growth[0].rss_kib = 1040000;
	o.top_growth[0].growth_kib_per_s = 2048;
	return fig_state_add_oom(s, &o);
}

static int add_kill(struct fig_state *s, const char *boot_id, uint64_t seed)
{
	struct fig_kill k;

	memset(&k, 0, sizeof(k));
	k.time_ms = 1700000596000 + (int64_t)seed;
	snprintf(k.boot_id, sizeof(k.boot_id), "%s", boot_id);
	k.signal = seed % 2 ? 15 : 9;
	k.by_kernel = seed % 3 == 0;
	k.result = seed % 4 == 3 ? 2 : 0;
	fill_proc_ref(&k.sender, 1, "systemd", "init.scope");
	fill_proc_ref(&k.target, 5000 + (uint32_t)seed, "worker", "app.service");
	k.n_lineage = (uint32_t)(seed % (FIG_LINEAGE_MAX + 1));
	for (uint32_t i = 0; i < k.n_lineage; i++)
		fill_proc_ref(&k.lineage[i], 900 - i, i ? "bash" : "sshd", "session-3.scope");
	return fig_state_add_kill(s, &k);
}

/* The state with its payload followed by an extension section, CRC fixed up. */
static int write_with_section(const char *dir, const char *name, const struct fig_state *s)
{
	static const unsigned char section[] = { 0x31, 0x4d, 0x45, 0x4d, 4, 0, 0, 0, 1, 2, 3, 4 };
	unsigned char *buf, *grown;
	size_t len, plen;
	uint32_t crc;
	int r;

	if (state_file_encode(s, (void **)&buf, &len))
		return -1;
	grown = realloc(buf, len + sizeof(section));
	if (!grown) {
		free(buf);
		return -1;
	}
	buf = grown;
	memcpy(buf + len, section, sizeof(section));
	len += sizeof(section);
	plen = len - 32;
	for (int i = 0; i < 8; i++)
		buf[16 + i] = (unsigned char)((uint64_t)plen >> (8 * i));
	crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf + 32, (uInt)plen);
	for (int i = 0; i < 4; i++)
		buf[24 + i] = (unsigned char)(crc >> (8 * i));
	r = write_file(dir, name, buf, len);
	free(buf);
	return r;
}

int main(int argc, char **argv)
{
	struct fig_state s;
	struct fig_boot *b;
	struct fig_unit *u;
	struct fig_exe *e;
	char path[32];
	int r = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: make_corpus DIR\n");
		return 2;
	}

	fig_state_init(&s);
	s.written_ms = 1700000000000;
	s.interval_ms = 30000;
	r |= write_state(argv[1], "empty.state", &s);

	b = fig_state_boot(&s, "0b5e8c6a-2d1f-4c3b-9a8e-7f6d5c4b3a21");
	b->first_ms = 1699990000000;
	b->last_ms = 1700000000000;
	u = fig_boot_unit(b, "crashy.service");
	u->forks = 40;
	u->execs = 30;
	u->exits = 29;
	u->exits_failed = 29;
	u->first_ms = b->first_ms;
	u->last_ms = b->last_ms;
	fill_exe(fig_unit_exe(u, "/usr/bin/crashy"), 10);
	r |= write_state(argv[1], "one_unit.state", &s);

	s.lost[RCA_LOST_RINGBUF_EXEC] = 3;
	s.lost[RCA_LOST_PROCS_FULL] = 1;
	s.units_unnamed = 1;
	s.boots_dropped = 1;
	b = fig_state_boot(&s, "1c6f9d7b-3e2a-4d4c-8b9f-808e6d5c4b32");
	b->first_ms = 1700000000000;
	b->last_ms = 1700000600000;
	b->units_dropped = 2;
	u = fig_boot_unit(b, "cron.service");
	u->forks = 5;
	u->threads = 2;
	fill_exe(fig_unit_exe(u, "/usr/sbin/cron"), 1);
	fill_exe(fig_unit_exe(u, "/bin/sh"), 2);
	u = fig_boot_unit(b, "cgroup:4242");
	e = fig_unit_exe(u, "/opt/app/run");
	fill_exe(e, 5);
	for (uint32_t i = 0; i < FIG_MAX_STATUS + 2; i++)
		fig_exe_add_status(e, RCA_STATUS_CODE, 10 + i, i + 1);
	e->lifetime_hist[RCA_LIFETIME_BUCKETS - 1] = 2;
	r |= write_state(argv[1], "two_boots.state", &s);
	r |= write_with_section(argv[1], "section.state", &s);
	fig_state_free(&s);

	/* A unit at the executable bound, with its "(other)" entry. */
	fig_state_init(&s);
	b = fig_state_boot(&s, "2d7a0e8c-4f3b-4e5d-9c0a-919f7e6d5c43");
	u = fig_boot_unit(b, "build.service");
	for (int i = 0; i <= FIG_MAX_EXES_PER_UNIT; i++) {
		snprintf(path, sizeof(path), "/t/%d", i);
		fig_unit_exe(u, path)->starts = (uint64_t)i + 1;
	}
	r |= write_state(argv[1], "other_exe.state", &s);
	fig_state_free(&s);

	/* A leak that ended in OOM kills, and the signals around it. */
	fig_state_init(&s);
	s.written_ms = 1700000600000;
	s.interval_ms = 30000;
	s.lost[RCA_LOST_RINGBUF_KILL] = 2;
	b = fig_state_boot(&s, "3e8b1f9d-5a4c-4f6e-8d1b-a2a08f7e6d54");
	b->first_ms = 1700000000000;
	b->last_ms = 1700000600000;
	u = fig_boot_unit(b, "leaky.service");
	u->forks = 5000;
	u->execs = 3;
	fill_unit_figures(u, 1);
	fill_exe(fig_unit_exe(u, "/usr/bin/leaky"), 3);
	u = fig_boot_unit(b, "app.service");
	u->exits = 2;
	u->kills_received = 2;
	fig_unit_add_kills(u, "init.scope", 15, 0, 2);
	u->mem.sampled_ms = 1700000590000;
	u->mem.rss_anon_kib = 1000;
	u->mem.gone = 1;
	fig_boot_unit(b, "idle.service"); /* every gauge unknown */
	for (uint64_t i = 0; i < 3; i++)
		r |= add_oom(&s, b->boot_id, i) ? -1 : 0;
	for (uint64_t i = 0; i < 7; i++)
		r |= add_kill(&s, b->boot_id, i) ? -1 : 0;
	s.ooms_dropped = 1;
	s.kills_dropped = 3;
	r |= write_state(argv[1], "oom_kill.state", &s);
	r |= write_with_section(argv[1], "oom_kill_section.state", &s);
	fig_state_free(&s);

	/* Kill counts and fork errnos at their bounds, with overflow. */
	fig_state_init(&s);
	b = fig_state_boot(&s, "4f9c2a0e-6b5d-4a7f-9e2c-b3b19a8f7e65");
	u = fig_boot_unit(b, "target.service");
	for (int i = 0; i < FIG_MAX_KILL_COUNTS + 2; i++) {
		snprintf(path, sizeof(path), "s%d.scope", i);
		fig_unit_add_kills(u, path, (uint32_t)(i % 2 ? 9 : 15), (uint32_t)(i % 3 == 0), 1);
	}
	for (uint32_t i = 0; i < FIG_MAX_ERRNO + 2; i++)
		fig_unit_add_fork_errno(u, i + 1, i + 1);
	u->forks_failed = 65;
	r |= write_state(argv[1], "bounds.state", &s);
	fig_state_free(&s);
	return r ? 1 : 0;
}
