// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "atomic_file.h"
#include "state_file.h"

#define MAGIC "RCATRACE"
#define MAGIC_LEN 8
#define HEADER_LEN 32
/*
 * A newer writer may know more loss kinds; its extra counters are read and
 * ignored rather than refusing the whole file. The bound only stops a hostile
 * count from making us spin.
 */
#define LOST_KINDS_READ_MAX 64

/*
 * Smallest encoding of each record (every string empty, every list empty).
 * A count is checked against count * minimum <= bytes left before anything
 * is allocated. The per-unit records then cost in memory at most 16 times
 * what they take in the file (a kill count: 272 bytes for 18); OOM and kill
 * records cost more per byte but are few (FIG_MAX_OOMS + FIG_MAX_KILLS of
 * them, under 1 MiB in all).
 */
#define STR_MIN 2
#define EXE_MIN (STR_MIN + 10 * 8 + 4 + 4 + 8 + 4 + 8 + 8)
#define MEM_LEN (8 + 4 * 8 + 3 * 8 + 8 + 4 + 4 + 8 + 8)
#define UNIT_MIN                                                                          \
	(STR_MIN + 5 * 8 + 2 * 8 + 8 + MEM_LEN + 6 * 8 + 4 + 8 + 8 + 4 * 8 + 4 + 4 + 4)
#define BOOT_MIN (STR_MIN + 2 * 8 + 8 + 4)
#define STATUS_LEN (4 + 4 + 8)
#define ERRNO_LEN (4 + 8)
#define KILL_COUNT_MIN (STR_MIN + 4 + 4 + 8)
#define PROC_REF_MIN (4 + STR_MIN + STR_MIN)
#define TOP_UNIT_MIN (STR_MIN + 8 + 8)
#define OOM_MIN                                                                           \
	(8 + STR_MIN + PROC_REF_MIN + STR_MIN + STR_MIN + 2 * 8 + 3 * 8 + 4 + PROC_REF_MIN + \
	 4 + 4)
#define KILL_MIN (8 + STR_MIN + 4 + 4 + 4 + PROC_REF_MIN + PROC_REF_MIN + 4)
#define SECTION_HEADER_LEN 8

/* ---- writing ---------------------------------------------------------- */

/* With buf NULL the writer only measures: the same code sizes and fills the buffer. */
struct writer {
	unsigned char *buf;
	size_t len;
};

static void put_le(struct writer *w, uint64_t v, int bytes)
{
	if (w->buf)
		for (int i = 0; i < bytes; i++)
			w->buf[w->len + i] = (unsigned char)(v >> (8 * i));
	w->len += bytes;
}

static void put_u16(struct writer *w, uint16_t v)
{
	put_le(w, v, 2);
}

static void put_u32(struct writer *w, uint32_t v)
{
	put_le(w, v, 4);
}

static void put_u64(struct writer *w, uint64_t v)
{
	put_le(w, v, 8);
}

static void put_i64(struct writer *w, int64_t v)
{
	put_le(w, (uint64_t)v, 8);
}

static void put_i32(struct writer *w, int32_t v)
{
	put_le(w, (uint32_t)v, 4);
}

/* The IEEE-754 bits as they are: a NaN keeps its payload, -0.0 its sign. */
static void put_f64(struct writer *w, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	put_u64(w, bits);
}

static void put_bytes(struct writer *w, const void *p, size_t n)
{
	if (w->buf && n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

/* A field that lost its NUL is cut where the reader would refuse it. */
static void put_str(struct writer *w, const char *field, size_t size)
{
	size_t n = strnlen(field, size - 1);

	put_u16(w, (uint16_t)n);
	put_bytes(w, field, n);
}

static void put_exe(struct writer *w, const struct fig_exe *e)
{
	uint32_t n_hist = RCA_LIFETIME_BUCKETS;

	put_str(w, e->path, sizeof(e->path));
	put_u64(w, e->starts);
	put_u64(w, e->exits);
	put_u64(w, e->exits_failed);
	/* version 2 */
	put_u64(w, e->execs);
	put_u64(w, e->start_exits);
	put_u64(w, e->start_exits_failed);
	put_u64(w, e->start_lifetime_sum_us);
	put_i64(w, e->crash_last_ms);
	put_u32(w, e->crash_signal);
	put_u32(w, e->crash_ppid);
	put_str(w, e->crash_comm, sizeof(e->crash_comm));
	put_str(w, e->crash_parent_comm, sizeof(e->crash_parent_comm));
	put_i64(w, e->first_start_ms);
	put_i64(w, e->last_start_ms);
	put_i64(w, e->last_exit_ms);
	put_u64(w, e->gaps);
	put_u64(w, e->gap_sum_ns);
	put_u64(w, e->gap_sumsq_ms2);
	put_u64(w, e->lifetime_sum_us);
	/* Trailing empty buckets are left out: most programs live in a few. */
	while (n_hist > 0 && !e->lifetime_hist[n_hist - 1])
		n_hist--;
	put_u32(w, n_hist);
	for (uint32_t i = 0; i < n_hist; i++)
		put_u64(w, e->lifetime_hist[i]);
	put_u32(w, e->n_status);
	for (uint32_t i = 0; i < e->n_status; i++) {
		put_u32(w, e->status[i].kind);
		put_u32(w, e->status[i].value);
		put_u64(w, e->status[i].count);
	}
	put_u64(w, e->status_other);
	put_u32(w, e->respawn_class);
	put_i64(w, e->storm_since_ms);
	put_u64(w, e->storms);
}

static void put_memory(struct writer *w, const struct fig_memory *m)
{
	put_i64(w, m->sampled_ms);
	put_u64(w, m->rss_anon_kib);
	put_u64(w, m->rss_file_kib);
	put_u64(w, m->rss_shmem_kib);
	put_u64(w, m->rss_peak_kib);
	put_f64(w, m->growth_kib_per_s);
	put_f64(w, m->growth_fit_r2);
	put_f64(w, m->growth_window_s);
	put_i64(w, m->exhaustion_eta_s);
	put_u32(w, m->leak_suspect);
	put_u32(w, m->gone);
	put_i64(w, m->memcg_usage_bytes);
	put_i64(w, m->memcg_limit_bytes);
}

static void put_unit(struct writer *w, const struct fig_unit *u)
{
	put_str(w, u->name, sizeof(u->name));
	put_u64(w, u->forks);
	put_u64(w, u->threads);
	put_u64(w, u->execs);
	put_u64(w, u->exits);
	put_u64(w, u->exits_failed);
	put_i64(w, u->first_ms);
	put_i64(w, u->last_ms);
	put_u64(w, u->exes_dropped);
	put_memory(w, &u->mem);
	put_u64(w, u->oom_kills);
	put_u64(w, u->kills_sent);
	put_u64(w, u->kills_received);
	put_u64(w, u->kill_counts_other);
	put_u64(w, u->forks_failed);
	put_u64(w, u->fork_errnos_other);
	put_u32(w, u->fork_storm);
	put_i64(w, u->fork_storm_since_ms);
	put_f64(w, u->fork_rate_per_s);
	put_i64(w, u->procs_alive);
	put_i64(w, u->pids_current);
	put_i64(w, u->pids_max);
	put_i64(w, u->pids_events_max);
	/* version 2 */
	put_u64(w, u->starts);
	put_u32(w, u->crash_storm);
	put_i64(w, u->crash_storm_since_ms);
	put_u64(w, u->crash_storms);
	put_u64(w, u->window_crashes);
	put_u32(w, u->n_fork_errnos);
	for (uint32_t i = 0; i < u->n_fork_errnos; i++) {
		put_u32(w, u->fork_errnos[i].err);
		put_u64(w, u->fork_errnos[i].count);
	}
	put_u32(w, u->n_kill_counts);
	for (uint32_t i = 0; i < u->n_kill_counts; i++) {
		const struct fig_kill_count *k = &u->kill_counts[i];

		put_str(w, k->sender_unit, sizeof(k->sender_unit));
		put_u32(w, k->signal);
		put_u32(w, k->by_kernel);
		put_u64(w, k->count);
	}
	put_u32(w, u->n_exes);
	for (uint32_t i = 0; i < u->n_exes; i++)
		put_exe(w, &u->exes[i]);
}

static void put_boot(struct writer *w, const struct fig_boot *b)
{
	put_str(w, b->boot_id, sizeof(b->boot_id));
	put_i64(w, b->first_ms);
	put_i64(w, b->last_ms);
	put_u64(w, b->units_dropped);
	put_u32(w, b->n_units);
	for (uint32_t i = 0; i < b->n_units; i++)
		put_unit(w, &b->units[i]);
}

static void put_proc_ref(struct writer *w, const struct fig_proc_ref *p)
{
	put_u32(w, p->pid);
	put_str(w, p->comm, sizeof(p->comm));
	put_str(w, p->unit, sizeof(p->unit));
}

static void put_top_units(struct writer *w, uint32_t n, const struct fig_top_unit *t)
{
	put_u32(w, n);
	for (uint32_t i = 0; i < n; i++) {
		put_str(w, t[i].unit, sizeof(t[i].unit));
		put_u64(w, t[i].rss_kib);
		put_f64(w, t[i].growth_kib_per_s);
	}
}

static void put_oom(struct writer *w, const struct fig_oom *o)
{
	put_i64(w, o->time_ms);
	put_str(w, o->boot_id, sizeof(o->boot_id));
	put_proc_ref(w, &o->victim);
	put_str(w, o->constraint, sizeof(o->constraint));
	put_str(w, o->memcg, sizeof(o->memcg));
	put_i64(w, o->memcg_limit_bytes);
	put_i64(w, o->memcg_usage_bytes);
	put_u64(w, o->rss_anon_kib);
	put_u64(w, o->rss_file_kib);
	put_u64(w, o->rss_shmem_kib);
	put_i32(w, o->oom_score_adj);
	put_proc_ref(w, &o->trigger);
	put_top_units(w, o->n_top_rss, o->top_rss);
	put_top_units(w, o->n_top_growth, o->top_growth);
}

static void put_kill(struct writer *w, const struct fig_kill *k)
{
	put_i64(w, k->time_ms);
	put_str(w, k->boot_id, sizeof(k->boot_id));
	put_u32(w, k->signal);
	put_u32(w, k->by_kernel);
	put_i32(w, k->result);
	put_proc_ref(w, &k->sender);
	put_proc_ref(w, &k->target);
	put_u32(w, k->n_lineage);
	for (uint32_t i = 0; i < k->n_lineage; i++)
		put_proc_ref(w, &k->lineage[i]);
}

static void put_payload(struct writer *w, const struct fig_state *s)
{
	put_i64(w, s->written_ms);
	put_u32(w, s->interval_ms);
	put_u32(w, RCA_LOST_KIND_MAX);
	for (int i = 0; i < RCA_LOST_KIND_MAX; i++)
		put_u64(w, s->lost[i]);
	put_u64(w, s->units_unnamed);
	put_u64(w, s->boots_dropped);
	put_u32(w, s->n_boots);
	for (uint32_t i = 0; i < s->n_boots; i++)
		put_boot(w, &s->boots[i]);
	put_u64(w, s->ooms_dropped);
	put_u32(w, s->n_ooms);
	for (uint32_t i = 0; i < s->n_ooms; i++)
		put_oom(w, &s->ooms[i]);
	put_u64(w, s->kills_dropped);
	put_u32(w, s->n_kills);
	for (uint32_t i = 0; i < s->n_kills; i++)
		put_kill(w, &s->kills[i]);
}

/* The reader enforces these bounds, so a state breaking them must not be written. */
static int check_bounds(const struct fig_state *s)
{
	if (s->n_boots > FIG_MAX_BOOTS)
		return -EINVAL;
	for (uint32_t i = 0; i < s->n_boots; i++) {
		const struct fig_boot *b = &s->boots[i];

		if (b->n_units > FIG_MAX_UNITS)
			return -EINVAL;
		for (uint32_t j = 0; j < b->n_units; j++) {
			const struct fig_unit *u = &b->units[j];

			if (u->n_exes > FIG_MAX_EXES_PER_UNIT + 1 ||
			    u->n_kill_counts > FIG_MAX_KILL_COUNTS ||
			    u->n_fork_errnos > FIG_MAX_ERRNO)
				return -EINVAL;
			for (uint32_t k = 0; k < u->n_exes; k++)
				if (u->exes[k].n_status > FIG_MAX_STATUS)
					return -EINVAL;
		}
	}
	if (s->n_ooms > FIG_MAX_OOMS || s->n_kills > FIG_MAX_KILLS)
		return -EINVAL;
	for (uint32_t i = 0; i < s->n_ooms; i++)
		if (s->ooms[i].n_top_rss > FIG_OOM_TOP_UNITS ||
		    s->ooms[i].n_top_growth > FIG_OOM_TOP_UNITS)
			return -EINVAL;
	for (uint32_t i = 0; i < s->n_kills; i++)
		if (s->kills[i].n_lineage > FIG_LINEAGE_MAX)
			return -EINVAL;
	return 0;
}

/* zlib's crc32() takes a uInt length; feed it in slices so any size_t works. */
static uint32_t crc32_of(const unsigned char *p, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)crc;
}

int state_file_encode(const struct fig_state *s, void **ret_buf, size_t *ret_len)
{
	struct writer w = { 0 };
	size_t payload_len;
	int r;

	r = check_bounds(s);
	if (r)
		return r;
	put_payload(&w, s);
	payload_len = w.len;
	w.buf = malloc(HEADER_LEN + payload_len);
	if (!w.buf)
		return -ENOMEM;
	w.len = HEADER_LEN;
	put_payload(&w, s);

	w.len = 0;
	put_bytes(&w, MAGIC, MAGIC_LEN);
	put_u32(&w, STATE_FILE_VERSION);
	put_u32(&w, HEADER_LEN);
	put_u64(&w, payload_len);
	put_u32(&w, crc32_of(w.buf + HEADER_LEN, payload_len));
	put_u32(&w, 0);

	*ret_buf = w.buf;
	*ret_len = HEADER_LEN + payload_len;
	return 0;
}

/* ---- reading ---------------------------------------------------------- */

struct reader {
	uint32_t version; /* older versions are read too, their missing fields derived */
	const unsigned char *p;
	size_t len;
	size_t off;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail(struct reader *r, int code,
						       const char *fmt, ...)
{
	va_list ap;

	if (r->err && r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err, r->errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static size_t left(const struct reader *r)
{
	return r->len - r->off;
}

static int get_bytes(struct reader *r, size_t n, const char *what, const unsigned char **ret)
{
	if (n > left(r))
		return fail(r, -EINVAL,
			    "truncated: %s at payload offset %zu needs %zu bytes, %zu left", what,
			    r->off, n, left(r));
	*ret = r->p + r->off;
	r->off += n;
	return 0;
}

static uint64_t le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int get_u16(struct reader *r, const char *what, uint16_t *ret)
{
	const unsigned char *p = NULL;
	int e = get_bytes(r, 2, what, &p);

	if (!e)
		*ret = (uint16_t)le(p, 2);
	return e;
}

static int get_u32(struct reader *r, const char *what, uint32_t *ret)
{
	const unsigned char *p = NULL;
	int e = get_bytes(r, 4, what, &p);

	if (!e)
		*ret = (uint32_t)le(p, 4);
	return e;
}

static int get_u64(struct reader *r, const char *what, uint64_t *ret)
{
	const unsigned char *p = NULL;
	int e = get_bytes(r, 8, what, &p);

	if (!e)
		*ret = le(p, 8);
	return e;
}

static int get_i64(struct reader *r, const char *what, int64_t *ret)
{
	uint64_t v;
	int e = get_u64(r, what, &v);

	if (!e)
		*ret = (int64_t)v;
	return e;
}

static int get_i32(struct reader *r, const char *what, int32_t *ret)
{
	uint32_t v;
	int e = get_u32(r, what, &v);

	if (!e)
		*ret = (int32_t)v;
	return e;
}

static int get_f64(struct reader *r, const char *what, double *ret)
{
	uint64_t bits;
	int e = get_u64(r, what, &bits);

	if (!e)
		memcpy(ret, &bits, sizeof(*ret));
	return e;
}

/* Into a zeroed field of size bytes; must leave room for the NUL and hold none. */
static int get_str(struct reader *r, const char *what, char *dst, size_t size)
{
	const unsigned char *p = NULL;
	uint16_t n;
	int e;

	e = get_u16(r, what, &n);
	if (e)
		return e;
	if (n > size - 1)
		return fail(r, -EINVAL, "%s at payload offset %zu is %u bytes long, limit %zu",
			    what, r->off - 2, n, size - 1);
	e = get_bytes(r, n, what, &p);
	if (e)
		return e;
	if (memchr(p, '\0', n))
		return fail(r, -EINVAL, "%s at payload offset %zu holds a NUL byte", what,
			    r->off - n);
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/*
 * A count of records of at least min_each bytes: bounded by max, and by what
 * the bytes left could possibly hold, before the caller allocates for it.
 */
static int get_count(struct reader *r, const char *what, uint32_t max, size_t min_each,
		     uint32_t *ret)
{
	uint32_t n;
	int e;

	e = get_u32(r, what, &n);
	if (e)
		return e;
	if (n > max)
		return fail(r, -EINVAL, "%u %s at payload offset %zu, limit %u", n, what,
			    r->off - 4, max);
	if ((uint64_t)n * min_each > left(r))
		return fail(r, -EINVAL, "truncated: %u %s cannot fit in the %zu bytes left", n,
			    what, left(r));
	*ret = n;
	return 0;
}

/* Each get_*() below returns nonzero on the first error, already described. */
#define TRY(expr)                    \
	do {                         \
		int e_ = (expr);     \
		if (e_)              \
			return e_;   \
	} while (0)

static int get_exe(struct reader *r, struct fig_exe *e)
{
	uint32_t n;

	TRY(get_str(r, "executable path", e->path, sizeof(e->path)));
	TRY(get_u64(r, "starts", &e->starts));
	TRY(get_u64(r, "exits", &e->exits));
	TRY(get_u64(r, "exits_failed", &e->exits_failed));
	if (r->version >= 2) {
		TRY(get_u64(r, "execs", &e->execs));
		TRY(get_u64(r, "start_exits", &e->start_exits));
		TRY(get_u64(r, "start_exits_failed", &e->start_exits_failed));
		TRY(get_u64(r, "start_lifetime_sum_us", &e->start_lifetime_sum_us));
		TRY(get_i64(r, "crash_last_ms", &e->crash_last_ms));
		TRY(get_u32(r, "crash_signal", &e->crash_signal));
		TRY(get_u32(r, "crash_ppid", &e->crash_ppid));
		TRY(get_str(r, "crash comm", e->crash_comm, sizeof(e->crash_comm)));
		TRY(get_str(r, "crash parent comm", e->crash_parent_comm,
			    sizeof(e->crash_parent_comm)));
	} else {
		/* Version 1 counted every exec as a start. */
		e->execs = e->starts;
		e->start_exits = e->exits;
		e->start_exits_failed = e->exits_failed;
		e->start_lifetime_sum_us = e->lifetime_sum_us;
	}
	TRY(get_i64(r, "first_start_ms", &e->first_start_ms));
	TRY(get_i64(r, "last_start_ms", &e->last_start_ms));
	TRY(get_i64(r, "last_exit_ms", &e->last_exit_ms));
	TRY(get_u64(r, "gaps", &e->gaps));
	TRY(get_u64(r, "gap_sum_ns", &e->gap_sum_ns));
	TRY(get_u64(r, "gap_sumsq_ms2", &e->gap_sumsq_ms2));
	TRY(get_u64(r, "lifetime_sum_us", &e->lifetime_sum_us));
	TRY(get_count(r, "lifetime buckets", RCA_LIFETIME_BUCKETS, 8, &n));
	for (uint32_t i = 0; i < n; i++)
		TRY(get_u64(r, "lifetime bucket", &e->lifetime_hist[i]));
	TRY(get_count(r, "exit statuses", FIG_MAX_STATUS, STATUS_LEN, &e->n_status));
	for (uint32_t i = 0; i < e->n_status; i++) {
		TRY(get_u32(r, "status kind", &e->status[i].kind));
		TRY(get_u32(r, "status value", &e->status[i].value));
		TRY(get_u64(r, "status count", &e->status[i].count));
	}
	TRY(get_u64(r, "status_other", &e->status_other));
	TRY(get_u32(r, "respawn_class", &e->respawn_class));
	TRY(get_i64(r, "storm_since_ms", &e->storm_since_ms));
	TRY(get_u64(r, "storms", &e->storms));
	return 0;
}

static int get_memory(struct reader *r, struct fig_memory *m)
{
	TRY(get_i64(r, "sampled_ms", &m->sampled_ms));
	TRY(get_u64(r, "rss_anon_kib", &m->rss_anon_kib));
	TRY(get_u64(r, "rss_file_kib", &m->rss_file_kib));
	TRY(get_u64(r, "rss_shmem_kib", &m->rss_shmem_kib));
	TRY(get_u64(r, "rss_peak_kib", &m->rss_peak_kib));
	TRY(get_f64(r, "growth_kib_per_s", &m->growth_kib_per_s));
	TRY(get_f64(r, "growth_fit_r2", &m->growth_fit_r2));
	TRY(get_f64(r, "growth_window_s", &m->growth_window_s));
	TRY(get_i64(r, "exhaustion_eta_s", &m->exhaustion_eta_s));
	TRY(get_u32(r, "leak_suspect", &m->leak_suspect));
	TRY(get_u32(r, "gone", &m->gone));
	TRY(get_i64(r, "memcg_usage_bytes", &m->memcg_usage_bytes));
	TRY(get_i64(r, "memcg_limit_bytes", &m->memcg_limit_bytes));
	return 0;
}

static int get_kill_counts(struct reader *r, struct fig_unit *u)
{
	uint32_t n;

	TRY(get_count(r, "kill counts", FIG_MAX_KILL_COUNTS, KILL_COUNT_MIN, &n));
	if (!n)
		return 0;
	u->kill_counts = calloc(n, sizeof(*u->kill_counts));
	if (!u->kill_counts)
		return fail(r, -ENOMEM, "out of memory");
	u->n_kill_counts = n;
	u->cap_kill_counts = n;
	for (uint32_t i = 0; i < n; i++) {
		struct fig_kill_count *k = &u->kill_counts[i];

		TRY(get_str(r, "sender unit", k->sender_unit, sizeof(k->sender_unit)));
		TRY(get_u32(r, "kill signal", &k->signal));
		TRY(get_u32(r, "kill by_kernel", &k->by_kernel));
		TRY(get_u64(r, "kill count", &k->count));
	}
	return 0;
}

static int get_unit(struct reader *r, struct fig_unit *u)
{
	uint32_t n;

	TRY(get_str(r, "unit name", u->name, sizeof(u->name)));
	TRY(get_u64(r, "forks", &u->forks));
	TRY(get_u64(r, "threads", &u->threads));
	TRY(get_u64(r, "execs", &u->execs));
	TRY(get_u64(r, "exits", &u->exits));
	TRY(get_u64(r, "exits_failed", &u->exits_failed));
	TRY(get_i64(r, "first_ms", &u->first_ms));
	TRY(get_i64(r, "last_ms", &u->last_ms));
	TRY(get_u64(r, "exes_dropped", &u->exes_dropped));
	TRY(get_memory(r, &u->mem));
	TRY(get_u64(r, "oom_kills", &u->oom_kills));
	TRY(get_u64(r, "kills_sent", &u->kills_sent));
	TRY(get_u64(r, "kills_received", &u->kills_received));
	TRY(get_u64(r, "kill_counts_other", &u->kill_counts_other));
	TRY(get_u64(r, "forks_failed", &u->forks_failed));
	TRY(get_u64(r, "fork_errnos_other", &u->fork_errnos_other));
	TRY(get_u32(r, "fork_storm", &u->fork_storm));
	TRY(get_i64(r, "fork_storm_since_ms", &u->fork_storm_since_ms));
	TRY(get_f64(r, "fork_rate_per_s", &u->fork_rate_per_s));
	TRY(get_i64(r, "procs_alive", &u->procs_alive));
	TRY(get_i64(r, "pids_current", &u->pids_current));
	TRY(get_i64(r, "pids_max", &u->pids_max));
	TRY(get_i64(r, "pids_events_max", &u->pids_events_max));
	if (r->version >= 2) {
		TRY(get_u64(r, "starts", &u->starts));
		TRY(get_u32(r, "crash_storm", &u->crash_storm));
		TRY(get_i64(r, "crash_storm_since_ms", &u->crash_storm_since_ms));
		TRY(get_u64(r, "crash_storms", &u->crash_storms));
		TRY(get_u64(r, "window_crashes", &u->window_crashes));
	} else {
		u->starts = u->execs; /* version 1 counted every exec as a start */
	}
	TRY(get_count(r, "fork errnos", FIG_MAX_ERRNO, ERRNO_LEN, &u->n_fork_errnos));
	for (uint32_t i = 0; i < u->n_fork_errnos; i++) {
		TRY(get_u32(r, "fork errno", &u->fork_errnos[i].err));
		TRY(get_u64(r, "fork errno count", &u->fork_errnos[i].count));
	}
	TRY(get_kill_counts(r, u));
	/* One more than the bound: the "(other)" entry. */
	TRY(get_count(r, "executables", FIG_MAX_EXES_PER_UNIT + 1, EXE_MIN, &n));
	if (!n)
		return 0;
	u->exes = calloc(n, sizeof(*u->exes));
	if (!u->exes)
		return fail(r, -ENOMEM, "out of memory");
	/* Counted up front: the entries are zeroed, so freeing a half-read unit is safe. */
	u->n_exes = n;
	u->cap_exes = n;
	for (uint32_t i = 0; i < n; i++)
		TRY(get_exe(r, &u->exes[i]));
	return 0;
}

static int get_boot(struct reader *r, struct fig_boot *b)
{
	uint32_t n;

	TRY(get_str(r, "boot id", b->boot_id, sizeof(b->boot_id)));
	TRY(get_i64(r, "boot first_ms", &b->first_ms));
	TRY(get_i64(r, "boot last_ms", &b->last_ms));
	TRY(get_u64(r, "units_dropped", &b->units_dropped));
	TRY(get_count(r, "units", FIG_MAX_UNITS, UNIT_MIN, &n));
	if (!n)
		return 0;
	b->units = calloc(n, sizeof(*b->units));
	if (!b->units)
		return fail(r, -ENOMEM, "out of memory");
	b->n_units = n;
	b->cap_units = n;
	for (uint32_t i = 0; i < n; i++)
		TRY(get_unit(r, &b->units[i]));
	return 0;
}

static int get_proc_ref(struct reader *r, const char *what, struct fig_proc_ref *p)
{
	TRY(get_u32(r, what, &p->pid));
	TRY(get_str(r, what, p->comm, sizeof(p->comm)));
	TRY(get_str(r, what, p->unit, sizeof(p->unit)));
	return 0;
}

static int get_top_units(struct reader *r, const char *what, uint32_t *ret_n,
			 struct fig_top_unit *t)
{
	TRY(get_count(r, what, FIG_OOM_TOP_UNITS, TOP_UNIT_MIN, ret_n));
	for (uint32_t i = 0; i < *ret_n; i++) {
		TRY(get_str(r, what, t[i].unit, sizeof(t[i].unit)));
		TRY(get_u64(r, what, &t[i].rss_kib));
		TRY(get_f64(r, what, &t[i].growth_kib_per_s));
	}
	return 0;
}

static int get_oom(struct reader *r, struct fig_oom *o)
{
	TRY(get_i64(r, "OOM time_ms", &o->time_ms));
	TRY(get_str(r, "OOM boot id", o->boot_id, sizeof(o->boot_id)));
	TRY(get_proc_ref(r, "OOM victim", &o->victim));
	TRY(get_str(r, "OOM constraint", o->constraint, sizeof(o->constraint)));
	TRY(get_str(r, "OOM memcg", o->memcg, sizeof(o->memcg)));
	TRY(get_i64(r, "OOM memcg_limit_bytes", &o->memcg_limit_bytes));
	TRY(get_i64(r, "OOM memcg_usage_bytes", &o->memcg_usage_bytes));
	TRY(get_u64(r, "OOM rss_anon_kib", &o->rss_anon_kib));
	TRY(get_u64(r, "OOM rss_file_kib", &o->rss_file_kib));
	TRY(get_u64(r, "OOM rss_shmem_kib", &o->rss_shmem_kib));
	TRY(get_i32(r, "OOM oom_score_adj", &o->oom_score_adj));
	TRY(get_proc_ref(r, "OOM trigger", &o->trigger));
	TRY(get_top_units(r, "OOM top units by rss", &o->n_top_rss, o->top_rss));
	TRY(get_top_units(r, "OOM top units by growth", &o->n_top_growth, o->top_growth));
	return 0;
}

static int get_kill(struct reader *r, struct fig_kill *k)
{
	TRY(get_i64(r, "kill time_ms", &k->time_ms));
	TRY(get_str(r, "kill boot id", k->boot_id, sizeof(k->boot_id)));
	TRY(get_u32(r, "kill signal", &k->signal));
	TRY(get_u32(r, "kill by_kernel", &k->by_kernel));
	TRY(get_i32(r, "kill result", &k->result));
	TRY(get_proc_ref(r, "kill sender", &k->sender));
	TRY(get_proc_ref(r, "kill target", &k->target));
	TRY(get_count(r, "ancestors of a kill sender", FIG_LINEAGE_MAX, PROC_REF_MIN,
		      &k->n_lineage));
	for (uint32_t i = 0; i < k->n_lineage; i++)
		TRY(get_proc_ref(r, "kill sender ancestor", &k->lineage[i]));
	return 0;
}

static int get_records(struct reader *r, struct fig_state *s)
{
	uint32_t n;

	TRY(get_u64(r, "ooms_dropped", &s->ooms_dropped));
	TRY(get_count(r, "OOM records", FIG_MAX_OOMS, OOM_MIN, &n));
	if (n) {
		s->ooms = calloc(n, sizeof(*s->ooms));
		if (!s->ooms)
			return fail(r, -ENOMEM, "out of memory");
		s->n_ooms = n;
		s->cap_ooms = n;
		for (uint32_t i = 0; i < n; i++)
			TRY(get_oom(r, &s->ooms[i]));
	}
	TRY(get_u64(r, "kills_dropped", &s->kills_dropped));
	TRY(get_count(r, "kill records", FIG_MAX_KILLS, KILL_MIN, &n));
	if (n) {
		s->kills = calloc(n, sizeof(*s->kills));
		if (!s->kills)
			return fail(r, -ENOMEM, "out of memory");
		s->n_kills = n;
		s->cap_kills = n;
		for (uint32_t i = 0; i < n; i++)
			TRY(get_kill(r, &s->kills[i]));
	}
	return 0;
}

static int get_payload(struct reader *r, struct fig_state *s)
{
	uint32_t n;

	TRY(get_i64(r, "written_ms", &s->written_ms));
	TRY(get_u32(r, "interval_ms", &s->interval_ms));
	TRY(get_count(r, "loss kinds", LOST_KINDS_READ_MAX, 8, &n));
	for (uint32_t i = 0; i < n; i++) {
		uint64_t v;

		TRY(get_u64(r, "loss counter", &v));
		if (i < RCA_LOST_KIND_MAX)
			s->lost[i] = v;
	}
	TRY(get_u64(r, "units_unnamed", &s->units_unnamed));
	TRY(get_u64(r, "boots_dropped", &s->boots_dropped));
	TRY(get_count(r, "boots", FIG_MAX_BOOTS, BOOT_MIN, &n));
	if (n) {
		s->boots = calloc(n, sizeof(*s->boots));
		if (!s->boots)
			return fail(r, -ENOMEM, "out of memory");
		s->n_boots = n;
		s->cap_boots = n;
		for (uint32_t i = 0; i < n; i++)
			TRY(get_boot(r, &s->boots[i]));
	}
	TRY(get_records(r, s));
	/* Extension sections: none known yet, all skipped, each must end inside the payload. */
	while (left(r)) {
		const unsigned char *p = NULL;
		uint32_t tag, len;

		if (left(r) < SECTION_HEADER_LEN)
			return fail(r, -EINVAL, "truncated: section header at payload offset %zu",
				    r->off);
		TRY(get_u32(r, "section tag", &tag));
		TRY(get_u32(r, "section length", &len));
		if (len > left(r))
			return fail(r, -EINVAL,
				    "section %#x at payload offset %zu runs %zu bytes past the end",
				    tag, r->off - SECTION_HEADER_LEN, (size_t)len - left(r));
		TRY(get_bytes(r, len, "section", &p));
	}
	return 0;
}

int state_file_decode(const void *buf, size_t len, struct fig_state *ret, char *err, size_t errlen)
{
	struct reader r = { .err = err, .errlen = errlen };
	const unsigned char *h = buf;
	uint32_t version, header_len, crc, reserved;
	uint64_t payload_len;
	struct fig_state st;
	int e;

	fig_state_init(ret);
	if (err && errlen)
		err[0] = '\0';
	if (!buf || !len)
		return fail(&r, -EINVAL, "empty");
	/* A prefix of the magic is a truncated state file; anything else is not one at all. */
	if (len < MAGIC_LEN ? memcmp(h, MAGIC, len) != 0 : memcmp(h, MAGIC, MAGIC_LEN) != 0)
		return fail(&r, -EINVAL, "not an rcatrace state file");
	if (len < HEADER_LEN)
		return fail(&r, -EINVAL, "truncated: %zu bytes, the header alone is %d", len,
			    HEADER_LEN);
	version = (uint32_t)le(h + 8, 4);
	header_len = (uint32_t)le(h + 12, 4);
	payload_len = le(h + 16, 8);
	crc = (uint32_t)le(h + 24, 4);
	reserved = (uint32_t)le(h + 28, 4);
	r.version = version;
	if (version < STATE_FILE_MIN_VERSION || version > STATE_FILE_VERSION)
		return fail(&r, -EPROTONOSUPPORT,
			    "state file version %u, this rcatrace reads versions %d to %d",
			    version, STATE_FILE_MIN_VERSION, STATE_FILE_VERSION);
	if (header_len != HEADER_LEN || reserved != 0)
		return fail(&r, -EINVAL, "malformed header");
	if (payload_len > len - HEADER_LEN)
		return fail(&r, -EINVAL, "truncated: payload is %zu bytes, header says %llu",
			    len - HEADER_LEN, (unsigned long long)payload_len);
	if (payload_len < len - HEADER_LEN)
		return fail(&r, -EINVAL, "%llu bytes of garbage after the payload",
			    (unsigned long long)(len - HEADER_LEN - payload_len));
	if (crc32_of(h + HEADER_LEN, payload_len) != crc)
		return fail(&r, -EBADMSG, "checksum mismatch: the file is corrupt");

	r.p = h + HEADER_LEN;
	r.len = payload_len;
	fig_state_init(&st);
	e = get_payload(&r, &st);
	if (e) {
		fig_state_free(&st);
		return e;
	}
	*ret = st;
	return 0;
}

/* ---- files ------------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen,
							   const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int state_file_load(const char *path, struct fig_state *ret, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t got = 0;
	struct stat st;
	int fd, e;

	fig_state_init(ret);
	set_err(err, errlen, "%s", "");
	/* O_NONBLOCK: a FIFO in its place must not hang us; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		e = -errno;
		set_err(err, errlen, "cannot open: %s", strerror(-e));
		return e;
	}
	if (fstat(fd, &st) < 0) {
		e = -errno;
		set_err(err, errlen, "cannot stat: %s", strerror(-e));
		goto out;
	}
	/* Told apart so the caller does not try to set a directory aside as a corrupt file. */
	if (S_ISDIR(st.st_mode)) {
		e = -EISDIR;
		set_err(err, errlen, "is a directory");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		e = -EINVAL;
		set_err(err, errlen, "not a regular file");
		goto out;
	}
	if (st.st_size > (off_t)STATE_FILE_MAX_BYTES) {
		e = -EFBIG;
		set_err(err, errlen, "%lld bytes, more than the %u MiB a state file may have",
			(long long)st.st_size, STATE_FILE_MAX_BYTES >> 20);
		goto out;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		e = -ENOMEM;
		set_err(err, errlen, "out of memory");
		goto out;
	}
	/* A short read leaves a prefix, which the decoder refuses as truncated. */
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = -errno;
			set_err(err, errlen, "cannot read: %s", strerror(-e));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	e = state_file_decode(buf, got, ret, err, errlen);
out:
	free(buf);
	close(fd);
	return e;
}

/* Creates dir and any missing parent, 0700. */
static int mkdir_parents(char *dir)
{
	char *slash;
	int e;

	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -ENOENT;
	*slash = '\0';
	e = mkdir_parents(dir);
	*slash = '/';
	if (e)
		return e;
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

/* The directory part of path into dir: "." without a slash, "/" for "/x". */
static int parent_dir(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash)
		return snprintf(dir, size, ".") < (int)size ? 0 : -ENAMETOOLONG;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

int state_file_save(const char *path, const struct fig_state *s)
{
	char dir[PATH_MAX];
	void *buf = NULL;
	size_t len;
	int e;

	if (!path || !*path || path[strlen(path) - 1] == '/')
		return -EINVAL;
	/* path.tmp must fit too: atomic_file_write() would refuse it after the work. */
	if (strlen(path) + sizeof(".tmp") > PATH_MAX)
		return -ENAMETOOLONG;
	e = parent_dir(path, dir, sizeof(dir));
	if (e)
		return e;
	e = state_file_encode(s, &buf, &len);
	if (e)
		return e;
	if (len > STATE_FILE_MAX_BYTES) {
		/* Writing it would replace a loadable file with one load refuses. */
		e = -EFBIG;
		goto out;
	}
	e = mkdir_parents(dir);
	if (e)
		goto out;
	/* Whatever the umask, the figures are for the owner only. */
	e = atomic_file_write(path, buf, len, 0600);
out:
	free(buf);
	return e;
}

int state_file_set_aside(const char *path, char *ret_newpath, size_t size)
{
	char newpath[PATH_MAX];
	size_t n;

	if (!path || !*path)
		return -EINVAL;
	n = (size_t)snprintf(newpath, sizeof(newpath), "%s.corrupt", path);
	if (n >= sizeof(newpath) || (ret_newpath && n >= size))
		return -ENAMETOOLONG;
	if (rename(path, newpath) < 0)
		return -errno;
	if (ret_newpath)
		memcpy(ret_newpath, newpath, n + 1);
	return 0;
}
