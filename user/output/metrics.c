// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prometheus / OpenMetrics rendering of a boot's figures. Each figure becomes
 * a sample (family, label text, value); samples are sorted and those with the
 * same family and labels merged, which is how the units past the cap fold
 * into unit="other" and how two names that escape alike stay one valid
 * series. Then each family is written with its # HELP and # TYPE.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "atomic_file.h"
#include "escape.h"
#include "metrics.h"
#include "unit_name.h"
#include "report.h"

enum family_type {
	FAMILY_COUNTER, /* sample name: name + "_total" */
	FAMILY_GAUGE,
	FAMILY_INFO, /* sample name: name + "_info"; a gauge of 1 in the text format */
};

enum family_merge {
	MERGE_SUM,
	MERGE_MAX,
	MERGE_MIN,
};

struct family {
	const char *name;
	enum family_type type;
	enum family_merge merge;
	int is_float;
	const char *help;
};

enum family_id {
	F_BUILD,
	F_LAST_SAMPLE,
	F_EVENTS_LOST,
	F_UNITS_UNNAMED,
	F_UNITS_DROPPED,
	F_UNITS,
	F_UNITS_FOLDED,
	F_UNIT_STARTS,
	F_UNIT_EXECS,
	F_UNIT_CRASH_STORM,
	F_UNIT_EXITS,
	F_UNIT_EXITS_FAILED,
	F_UNIT_STORM,
	F_UNIT_STORMS,
	F_UNIT_FORKS,
	F_UNIT_THREADS,
	F_UNIT_FORKS_FAILED,
	F_UNIT_FORK_STORM,
	F_UNIT_PROCESSES,
	F_UNIT_PIDS,
	F_UNIT_PIDS_MAX,
	F_UNIT_RESIDENT,
	F_UNIT_GROWTH,
	F_UNIT_LEAK,
	F_UNIT_ETA,
	F_OOM_KILLS,
	F_KILLS,
	F_UNIT_KILLS_SENT,
	F_CHURN_BYTES,
	F_CHURN_COUNT,
	F_UNIT_CHARGED,
	F_UNIT_KERNEL,
	F_UNIT_COUNT,
	F_COUNT,
};

static const struct family families[F_COUNT] = {
	[F_BUILD] = { "rcatrace_build", FAMILY_INFO, MERGE_MAX, 0,
		      "Version of the running rcatrace." },
	[F_LAST_SAMPLE] = { "rcatrace_last_sample_timestamp_seconds", FAMILY_GAUGE, MERGE_MAX, 1,
			    "Unix time of the sample these figures come from." },
	[F_EVENTS_LOST] = { "rcatrace_events_lost", FAMILY_COUNTER, MERGE_SUM, 0,
			    "Events or table entries the kernel side could not keep, by kind, all runs." },
	[F_UNITS_UNNAMED] = { "rcatrace_units_unnamed", FAMILY_COUNTER, MERGE_SUM, 0,
			      "Units that could not be named and show as cgroup:ID, all runs." },
	[F_UNITS_DROPPED] = { "rcatrace_units_dropped", FAMILY_COUNTER, MERGE_SUM, 0,
			      "Units of this boot refused past the table bound; their figures are not kept." },
	[F_UNITS] = { "rcatrace_units", FAMILY_GAUGE, MERGE_SUM, 0,
		      "Units seen this boot." },
	[F_UNITS_FOLDED] = { "rcatrace_metrics_units_folded", FAMILY_GAUGE, MERGE_SUM, 0,
			     "Units past --metrics-max-units whose figures are summed into unit=other." },
	[F_UNIT_STARTS] = { "rcatrace_unit_starts", FAMILY_COUNTER, MERGE_SUM, 0,
			    "Starts of the unit this boot: processes that entered it from outside." },
	[F_UNIT_EXECS] = { "rcatrace_unit_execs", FAMILY_COUNTER, MERGE_SUM, 0,
			   "Execs in the unit this boot, its own work included." },
	[F_UNIT_CRASH_STORM] = { "rcatrace_unit_crash_storm", FAMILY_GAUGE, MERGE_MAX, 0,
				 "1 while processes of the unit die of crash signals again and again." },
	[F_UNIT_EXITS] = { "rcatrace_unit_exits", FAMILY_COUNTER, MERGE_SUM, 0,
			   "Exits of processes started in the unit this boot, by exit code or killing signal." },
	[F_UNIT_EXITS_FAILED] = { "rcatrace_unit_exits_failed", FAMILY_COUNTER, MERGE_SUM, 0,
				  "Exits with a non-zero code or by a signal this boot." },
	[F_UNIT_STORM] = { "rcatrace_unit_storm", FAMILY_GAUGE, MERGE_MAX, 0,
			   "1 while an executable of the unit is in a respawn storm." },
	[F_UNIT_STORMS] = { "rcatrace_unit_respawn_storms", FAMILY_COUNTER, MERGE_SUM, 0,
			    "Respawn storms flagged in the unit this boot." },
	[F_UNIT_FORKS] = { "rcatrace_unit_forks", FAMILY_COUNTER, MERGE_SUM, 0,
			   "Processes forked in the unit this boot." },
	[F_UNIT_THREADS] = { "rcatrace_unit_threads", FAMILY_COUNTER, MERGE_SUM, 0,
			     "Threads created in the unit this boot." },
	[F_UNIT_FORKS_FAILED] = { "rcatrace_unit_forks_failed", FAMILY_COUNTER, MERGE_SUM, 0,
				  "Forks the kernel refused in the unit this boot." },
	[F_UNIT_FORK_STORM] = { "rcatrace_unit_fork_storm", FAMILY_GAUGE, MERGE_MAX, 0,
				"1 while the unit forks far faster than it execs, or fails against its limit." },
	[F_UNIT_PROCESSES] = { "rcatrace_unit_processes", FAMILY_GAUGE, MERGE_SUM, 0,
			       "Processes in the unit at the last controller reading." },
	[F_UNIT_PIDS] = { "rcatrace_unit_pids", FAMILY_GAUGE, MERGE_SUM, 0,
			  "Tasks the pids controller counts in the unit." },
	[F_UNIT_PIDS_MAX] = { "rcatrace_unit_pids_max", FAMILY_GAUGE, MERGE_SUM, 0,
			      "The unit's pids.max limit." },
	[F_UNIT_RESIDENT] = { "rcatrace_unit_resident_bytes", FAMILY_GAUGE, MERGE_SUM, 0,
			      "Resident memory (anon, file and shmem) of the unit's processes." },
	[F_UNIT_GROWTH] = { "rcatrace_unit_growth_bytes_per_second", FAMILY_GAUGE, MERGE_SUM, 1,
			    "Slope of the unit's resident memory over the growth window." },
	[F_UNIT_LEAK] = { "rcatrace_unit_leak_suspect", FAMILY_GAUGE, MERGE_MAX, 0,
			  "1 while the unit's memory grows steadily, as a leak does." },
	[F_UNIT_ETA] = { "rcatrace_unit_memory_exhaustion_eta_seconds", FAMILY_GAUGE, MERGE_MIN, 0,
			 "Seconds until the unit's growth reaches its memory limit or the free memory." },
	[F_OOM_KILLS] = { "rcatrace_oom_kills", FAMILY_COUNTER, MERGE_SUM, 0,
			  "Processes of the unit the OOM killer took this boot, by constraint." },
	[F_KILLS] = { "rcatrace_kills", FAMILY_COUNTER, MERGE_SUM, 0,
		      "Fatal signals processes of the unit received this boot, by sender unit and signal." },
	[F_UNIT_KILLS_SENT] = { "rcatrace_unit_kills_sent", FAMILY_COUNTER, MERGE_SUM, 0,
				"Fatal signals processes of the unit sent to other processes this boot." },
	[F_CHURN_BYTES] = { "rcatrace_churn_growth_bytes_per_start", FAMILY_GAUGE, MERGE_SUM, 1,
			    "Memory growing_unit gains per start of storm_unit, while the link stands." },
	[F_CHURN_COUNT] = { "rcatrace_churn_growth_objects_per_start", FAMILY_GAUGE, MERGE_SUM, 1,
			    "A kernel count (kernel:dying_cgroups) gained per start of storm_unit." },
	[F_UNIT_CHARGED] = { "rcatrace_unit_charged_bytes", FAMILY_GAUGE, MERGE_SUM, 0,
			     "Memory charged to the unit's cgroup (memory.current); a kernel:* pseudo-unit's figure." },
	[F_UNIT_KERNEL] = { "rcatrace_unit_kernel_bytes", FAMILY_GAUGE, MERGE_SUM, 0,
			    "The kernel's part of the unit's charge (slab, stacks, sockets, percpu)." },
	[F_UNIT_COUNT] = { "rcatrace_unit_objects", FAMILY_GAUGE, MERGE_SUM, 0,
			   "A pseudo-unit's count: kernel:dying_cgroups, cgroups removed but not yet freed." },
};

struct sample {
	uint32_t family;
	uint32_t labels_len;
	size_t labels_off; /* into the arena */
	union {
		uint64_t u;
		double d;
	} v;
};

struct metrics {
	struct sample *samples;
	size_t n_samples;
	size_t cap_samples;
	char *arena;
	size_t arena_len;
	size_t arena_cap;
	uint32_t units_folded;
	int nomem;
};

/* ---- small pieces ------------------------------------------------------- */

size_t metrics_escape_label(char *dst, size_t size, const char *src)
{
	static const char fffd[] = "\xef\xbf\xbd";
	const unsigned char *s = (const unsigned char *)src;
	size_t n = strlen(src), i = 0, o = 0;

	if (size == 0)
		return 0;
	while (i < n) {
		const char *piece = (const char *)s + i;
		size_t len = 1, adv = 1;

		if (s[i] == '\\') {
			piece = "\\\\";
			len = 2;
		} else if (s[i] == '"') {
			piece = "\\\"";
			len = 2;
		} else if (s[i] == '\n') {
			piece = "\\n";
			len = 2;
		} else if (s[i] >= 0x80) {
			adv = len = utf8_sequence_len(s + i, n - i < 4 ? n - i : 4);
			if (!len) {
				piece = fffd;
				len = 3;
				adv = 1;
			}
		}
		if (o + len >= size)
			break;
		memcpy(dst + o, piece, len);
		o += len;
		i += adv;
	}
	dst[o] = '\0';
	return o;
}

const char *metrics_content_type(enum metrics_format fmt)
{
	return fmt == METRICS_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
					  : "text/plain; version=0.0.4; charset=utf-8";
}

enum metrics_format metrics_negotiate(const char *accept)
{
	static const char om[] = "application/openmetrics-text";
	const char *p = accept;

	/* Each media range "type/subtype;param=v;q=0.5", comma-separated. */
	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len >= sizeof(om) - 1 && strncasecmp(p, om, sizeof(om) - 1) == 0 &&
		    (len == sizeof(om) - 1 || p[sizeof(om) - 1] == ';' || p[sizeof(om) - 1] == ' ')) {
			/* Only q=0 (and 0.0, 0.00...) refuses it. */
			const char *q = p + sizeof(om) - 1, *stop = p + len;
			int refused = 0;

			for (; q < stop; q++) {
				if (*q != ';')
					continue;
				q++;
				while (q < stop && *q == ' ')
					q++;
				if (stop - q >= 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
					const char *d = q + 2;

					refused = d < stop && *d == '0';
					for (d++; refused && d < stop && *d != ';' && *d != ' '; d++)
						refused = *d == '.' || *d == '0';
				}
			}
			if (!refused)
				return METRICS_OPENMETRICS;
		}
		p = end ? end + 1 : NULL;
	}
	return METRICS_TEXT;
}

/* ---- samples ------------------------------------------------------------ */

/* Label text being built: key="escaped value",... */
struct labels {
	char s[4096];
	size_t n;
};

static void labels_add(struct labels *l, const char *key, const char *raw)
{
	size_t klen = strlen(key);

	/* Room for the comma, key, =", at least the NUL, and the closing quote. */
	if (l->n + klen + 5 > sizeof(l->s))
		return;
	if (l->n)
		l->s[l->n++] = ',';
	memcpy(l->s + l->n, key, klen);
	l->n += klen;
	l->s[l->n++] = '=';
	l->s[l->n++] = '"';
	l->n += metrics_escape_label(l->s + l->n, sizeof(l->s) - l->n - 1, raw);
	l->s[l->n++] = '"';
	l->s[l->n] = '\0';
}

static struct sample *push(struct metrics *m, enum family_id fam, const struct labels *l)
{
	struct sample *s;
	size_t len = l ? l->n : 0;

	if (m->nomem)
		return NULL;
	if (m->n_samples == m->cap_samples) {
		size_t cap = m->cap_samples ? m->cap_samples * 2 : 256;
		struct sample *ns = realloc(m->samples, cap * sizeof(*ns));

		if (!ns)
			goto nomem;
		m->samples = ns;
		m->cap_samples = cap;
	}
	if (m->arena_len + len > m->arena_cap) {
		size_t cap = m->arena_cap ? m->arena_cap : 4096;
		char *na;

		while (cap < m->arena_len + len)
			cap *= 2;
		na = realloc(m->arena, cap);
		if (!na)
			goto nomem;
		m->arena = na;
		m->arena_cap = cap;
	}
	s = &m->samples[m->n_samples++];
	s->family = fam;
	s->labels_off = m->arena_len;
	s->labels_len = (uint32_t)len;
	s->v.u = 0;
	if (len)
		memcpy(m->arena + m->arena_len, l->s, len);
	m->arena_len += len;
	return s;
nomem:
	m->nomem = 1;
	return NULL;
}

static void push_u(struct metrics *m, enum family_id fam, const struct labels *l, uint64_t v)
{
	struct sample *s = push(m, fam, l);

	if (s)
		s->v.u = v;
}

static void push_d(struct metrics *m, enum family_id fam, const struct labels *l, double v)
{
	struct sample *s = push(m, fam, l);

	if (s)
		s->v.d = v;
}

/* unit="...", and machine="..." for a machine's own units ("MACHINE:unit"). */
static struct labels *labels_unit(struct labels *l, const char *name)
{
	char machine[UNIT_NAME_MACHINE_MAX];
	const char *unit = unit_name_machine(name, machine, sizeof(machine));

	l->n = 0;
	l->s[0] = '\0';
	labels_add(l, "unit", unit);
	if (machine[0])
		labels_add(l, "machine", machine);
	return l;
}

/* l = base (a unit="..." escaped once per unit, not once per sample). */
static struct labels *labels_copy(struct labels *l, const struct labels *base)
{
	memcpy(l->s, base->s, base->n + 1);
	l->n = base->n;
	return l;
}

static int sample_cmp(const void *a, const void *b, void *arena)
{
	const struct sample *x = a, *y = b;
	const char *base = arena;
	size_t n = x->labels_len < y->labels_len ? x->labels_len : y->labels_len;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(base + x->labels_off, base + y->labels_off, n);
	if (c)
		return c;
	return x->labels_len < y->labels_len ? -1 : x->labels_len > y->labels_len;
}

static void merge_into(struct sample *dst, const struct sample *src)
{
	const struct family *f = &families[dst->family];

	if (f->is_float) {
		if (f->merge == MERGE_SUM)
			dst->v.d += src->v.d;
		else if (f->merge == MERGE_MAX ? src->v.d > dst->v.d : src->v.d < dst->v.d)
			dst->v.d = src->v.d;
	} else {
		if (f->merge == MERGE_SUM)
			dst->v.u += src->v.u;
		else if (f->merge == MERGE_MAX ? src->v.u > dst->v.u : src->v.u < dst->v.u)
			dst->v.u = src->v.u;
	}
}

/* ---- which units get their own series ----------------------------------- */

struct unit_rank {
	uint32_t index;
	int alarm;
	uint64_t weight;
	const char *name;
};

static int unit_rank_cmp(const void *a, const void *b)
{
	const struct unit_rank *x = a, *y = b;

	/* The units that need attention first, then the busiest, then by name: stable. */
	if (x->alarm != y->alarm)
		return y->alarm - x->alarm;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The label a unit name gets: itself when exported, else "other". */
static const char *unit_label(const char **exported, uint32_t n, const char *name)
{
	if (n && bsearch(&name, exported, n, sizeof(*exported), name_cmp))
		return name;
	return METRICS_OTHER_UNIT;
}

static void collect_unit(struct metrics *m, const struct fig_unit *u, const char *label,
			 const char **exported, uint32_t n_exported)
{
	const struct fig_memory *mem = &u->mem;
	struct labels l, base;
	char sig[16], full[24], value[16];

	labels_unit(&base, label);
	push_u(m, F_UNIT_STARTS, labels_copy(&l, &base), u->starts);
	push_u(m, F_UNIT_EXECS, labels_copy(&l, &base), u->execs);
	push_u(m, F_UNIT_CRASH_STORM, labels_copy(&l, &base), u->crash_storm);
	for (uint32_t e = 0; e < u->n_exes; e++) {
		const struct fig_exe *x = &u->exes[e];

		for (uint32_t j = 0; j < x->n_status && j < FIG_MAX_STATUS; j++) {
			const struct fig_status *st = &x->status[j];

			labels_copy(&l, &base);
			if (st->kind == RCA_STATUS_SIGNAL) {
				snprintf(full, sizeof(full), "SIG%s",
					 report_signal_name(st->value, sig, sizeof(sig)));
				labels_add(&l, "signal", full);
			} else {
				snprintf(value, sizeof(value), "%u", st->value);
				labels_add(&l, "code", value);
			}
			push_u(m, F_UNIT_EXITS, &l, st->count);
		}
		if (x->status_other) {
			/* Exits past the per-executable status bound: counted, code unknown. */
			labels_add(labels_copy(&l, &base), "code", "other");
			push_u(m, F_UNIT_EXITS, &l, x->status_other);
		}
		push_u(m, F_UNIT_STORMS, labels_copy(&l, &base), x->storms);
	}
	push_u(m, F_UNIT_EXITS_FAILED, labels_copy(&l, &base), u->exits_failed);
	push_u(m, F_UNIT_STORM, labels_copy(&l, &base), report_unit_storm(u) ? 1 : 0);
	if (!u->n_exes)
		push_u(m, F_UNIT_STORMS, labels_copy(&l, &base), 0);
	push_u(m, F_UNIT_FORKS, labels_copy(&l, &base), u->forks);
	push_u(m, F_UNIT_THREADS, labels_copy(&l, &base), u->threads);
	push_u(m, F_UNIT_FORKS_FAILED, labels_copy(&l, &base), u->forks_failed);
	push_u(m, F_UNIT_FORK_STORM, labels_copy(&l, &base), u->fork_storm ? 1 : 0);
	if (u->procs_alive >= 0)
		push_u(m, F_UNIT_PROCESSES, labels_copy(&l, &base), (uint64_t)u->procs_alive);
	if (u->pids_current >= 0)
		push_u(m, F_UNIT_PIDS, labels_copy(&l, &base), (uint64_t)u->pids_current);
	if (u->pids_max >= 0)
		push_u(m, F_UNIT_PIDS_MAX, labels_copy(&l, &base), (uint64_t)u->pids_max);
	if (mem->sampled_ms > 0)
		push_u(m, F_UNIT_RESIDENT, labels_copy(&l, &base),
		       (mem->rss_anon_kib + mem->rss_file_kib + mem->rss_shmem_kib) * 1024);
	if (mem->sampled_ms > 0 && mem->memcg_usage_bytes >= 0)
		push_u(m, F_UNIT_CHARGED, labels_copy(&l, &base), (uint64_t)mem->memcg_usage_bytes);
	if (mem->sampled_ms > 0 && mem->kernel_bytes >= 0)
		push_u(m, F_UNIT_KERNEL, labels_copy(&l, &base), (uint64_t)mem->kernel_bytes);
	if (mem->sampled_ms > 0 && mem->count >= 0)
		push_u(m, F_UNIT_COUNT, labels_copy(&l, &base), (uint64_t)mem->count);
	/* A count's growth is per second in its own unit, not bytes. */
	if (isfinite(mem->growth_kib_per_s) && mem->count < 0)
		push_d(m, F_UNIT_GROWTH, labels_copy(&l, &base), mem->growth_kib_per_s * 1024);
	push_u(m, F_UNIT_LEAK, labels_copy(&l, &base), mem->leak_suspect ? 1 : 0);
	if (mem->exhaustion_eta_s >= 0)
		push_u(m, F_UNIT_ETA, labels_copy(&l, &base), (uint64_t)mem->exhaustion_eta_s);
	for (uint32_t k = 0; k < u->n_kill_counts; k++) {
		const struct fig_kill_count *kc = &u->kill_counts[k];

		labels_copy(&l, &base);
		labels_add(&l, "sender_unit", unit_label(exported, n_exported, kc->sender_unit));
		snprintf(full, sizeof(full), "SIG%s", report_signal_name(kc->signal, sig, sizeof(sig)));
		labels_add(&l, "signal", full);
		push_u(m, F_KILLS, &l, kc->count);
	}
	if (u->kill_counts_other) {
		/* Kills past the per-unit sender bound: counted, sender and signal not kept. */
		labels_copy(&l, &base);
		labels_add(&l, "sender_unit", METRICS_OTHER_UNIT);
		labels_add(&l, "signal", "other");
		push_u(m, F_KILLS, &l, u->kill_counts_other);
	}
	push_u(m, F_UNIT_KILLS_SENT, labels_copy(&l, &base), u->kills_sent);
}

/*
 * OOM kills by constraint: the records of this boot say which constraint; the
 * kernel's exact per-unit count (oom_kills) covers the ones whose record was
 * lost or dropped, as constraint="unknown", so the per-unit sum stays exact.
 */
static void collect_ooms(struct metrics *m, const struct metrics_input *in,
			 const char **exported, uint32_t n_exported, uint64_t *recorded)
{
	const struct fig_boot *boot = in->boot;
	const struct fig_state *st = in->state;
	struct labels l;

	for (uint32_t i = 0; st && i < st->n_ooms; i++) {
		const struct fig_oom *o = &st->ooms[i];
		const struct fig_unit *u;

		if (strcmp(o->boot_id, boot->boot_id) != 0)
			continue;
		u = fig_boot_find_unit(boot, o->victim.unit);
		if (u)
			recorded[u - boot->units]++;
		labels_unit(&l, unit_label(exported, n_exported, o->victim.unit));
		labels_add(&l, "constraint", o->constraint[0] ? o->constraint : "unknown");
		push_u(m, F_OOM_KILLS, &l, 1);
	}
	for (uint32_t i = 0; i < boot->n_units; i++) {
		const struct fig_unit *u = &boot->units[i];

		if (u->oom_kills <= recorded[i])
			continue;
		labels_unit(&l, unit_label(exported, n_exported, u->name));
		labels_add(&l, "constraint", "unknown");
		push_u(m, F_OOM_KILLS, &l, u->oom_kills - recorded[i]);
	}
}

static int collect_units(struct metrics *m, const struct metrics_input *in)
{
	const struct fig_boot *boot = in->boot;
	uint32_t n = boot->n_units, cap = in->max_units ? in->max_units : METRICS_DEFAULT_MAX_UNITS;
	uint32_t n_exported = n < cap ? n : cap;
	struct unit_rank *order = malloc((n ? n : 1) * sizeof(*order));
	const char **exported = malloc((n ? n : 1) * sizeof(*exported));
	uint64_t *recorded = calloc(n ? n : 1, sizeof(*recorded));
	int ret = -ENOMEM;

	if (!order || !exported || !recorded)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		const struct fig_unit *u = &boot->units[i];

		order[i] = (struct unit_rank){ .index = i, .alarm = report_unit_alarm(u),
					       .weight = u->starts + u->execs + u->forks, .name = u->name };
	}
	qsort(order, n, sizeof(*order), unit_rank_cmp);
	for (uint32_t i = 0; i < n_exported; i++)
		exported[i] = order[i].name;
	qsort(exported, n_exported, sizeof(*exported), name_cmp);
	for (uint32_t i = 0; i < n; i++)
		collect_unit(m, &boot->units[order[i].index],
			     i < n_exported ? order[i].name : METRICS_OTHER_UNIT, exported, n_exported);
	collect_ooms(m, in, exported, n_exported, recorded);
	m->units_folded = n - n_exported;
	ret = 0;
out:
	free(order);
	free(exported);
	free(recorded);
	return ret;
}

struct metrics *metrics__new(void)
{
	return calloc(1, sizeof(struct metrics));
}

void metrics__free(struct metrics *m)
{
	if (!m)
		return;
	free(m->samples);
	free(m->arena);
	free(m);
}

uint32_t metrics__units_folded(const struct metrics *m)
{
	return m ? m->units_folded : 0;
}

int metrics__collect(struct metrics *m, const struct metrics_input *in)
{
	struct labels l;
	size_t w;

	m->n_samples = 0;
	m->arena_len = 0;
	m->units_folded = 0;
	m->nomem = 0;

	l.n = 0;
	labels_add(&l, "version", in->version ? in->version : "unknown");
	push_u(m, F_BUILD, &l, 1);
	if (in->now_ms > 0)
		push_d(m, F_LAST_SAMPLE, NULL, in->now_ms / 1000.0);
	for (int k = 0; k < RCA_LOST_KIND_MAX; k++) {
		l.n = 0;
		labels_add(&l, "kind", report_lost_key(k));
		push_u(m, F_EVENTS_LOST, &l, in->lost ? in->lost[k] : 0);
	}
	push_u(m, F_UNITS_UNNAMED, NULL, in->units_unnamed);
	push_u(m, F_UNITS_DROPPED, NULL, in->boot ? in->boot->units_dropped : 0);
	push_u(m, F_UNITS, NULL, in->boot ? in->boot->n_units : 0);
	if (in->boot && collect_units(m, in))
		m->nomem = 1;
	/* Few by construction (a link needs a storm): never folded. */
	for (uint32_t i = 0; i < in->n_links; i++) {
		const struct metrics_churn_link *k = &in->links[i];

		l.n = 0;
		labels_add(&l, "storm_unit", k->storm);
		labels_add(&l, "growing_unit", k->growing);
		push_d(m, k->count ? F_CHURN_COUNT : F_CHURN_BYTES, &l,
		       k->count ? k->per_start : k->per_start * 1024.0);
	}
	push_u(m, F_UNITS_FOLDED, NULL, m->units_folded);
	if (m->nomem)
		return -ENOMEM;

	/* Sort by family then labels; merge the samples that are one series. */
	qsort_r(m->samples, m->n_samples, sizeof(*m->samples), sample_cmp, m->arena);
	w = 0;
	for (size_t i = 0; i < m->n_samples; i++) {
		if (w && sample_cmp(&m->samples[w - 1], &m->samples[i], m->arena) == 0)
			merge_into(&m->samples[w - 1], &m->samples[i]);
		else
			m->samples[w++] = m->samples[i];
	}
	m->n_samples = w;
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

struct out {
	char *buf;
	size_t len;
	size_t cap;
	int nomem;
};

static void out_reserve(struct out *o, size_t more)
{
	size_t cap;
	char *nb;

	if (o->nomem || o->len + more + 1 <= o->cap)
		return;
	cap = o->cap ? o->cap : 16384;
	while (cap < o->len + more + 1)
		cap *= 2;
	nb = realloc(o->buf, cap);
	if (!nb) {
		o->nomem = 1;
		return;
	}
	o->buf = nb;
	o->cap = cap;
}

static void out_write(struct out *o, const char *s, size_t n)
{
	out_reserve(o, n);
	if (o->nomem)
		return;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void out_printf(struct out *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		out_write(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void write_u64(struct out *o, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_write(o, p, (size_t)(buf + sizeof(buf) - p));
}

static void write_value(struct out *o, const struct family *f, const struct sample *s)
{
	if (!f->is_float)
		write_u64(o, s->v.u);
	else if (isnan(s->v.d))
		out_printf(o, "NaN");
	else if (isinf(s->v.d))
		out_printf(o, s->v.d > 0 ? "+Inf" : "-Inf");
	else
		out_printf(o, "%.15g", s->v.d);
}

int metrics__render(const struct metrics *m, enum metrics_format fmt, char **ret_buf,
		    size_t *ret_len)
{
	struct out o = { 0 };
	size_t i = 0;

	out_reserve(&o, 0);
	for (int fam = 0; fam < F_COUNT; fam++) {
		const struct family *f = &families[fam];
		const char *suffix = f->type == FAMILY_COUNTER ? "_total"
				     : f->type == FAMILY_INFO  ? "_info"
							       : "";
		const char *type = f->type == FAMILY_COUNTER ? "counter" : "gauge";
		size_t name_len = strlen(f->name), suffix_len = strlen(suffix);
		/* OpenMetrics names the family without the suffix its type implies. */
		const char *meta_suffix = fmt == METRICS_OPENMETRICS ? "" : suffix;

		if (i >= m->n_samples || m->samples[i].family != (uint32_t)fam)
			continue;
		if (fmt == METRICS_OPENMETRICS && f->type == FAMILY_INFO)
			type = "info";
		out_printf(&o, "# HELP %s%s %s\n", f->name, meta_suffix, f->help);
		out_printf(&o, "# TYPE %s%s %s\n", f->name, meta_suffix, type);
		for (; i < m->n_samples && m->samples[i].family == (uint32_t)fam; i++) {
			const struct sample *s = &m->samples[i];

			out_write(&o, f->name, name_len);
			out_write(&o, suffix, suffix_len);
			if (s->labels_len) {
				out_write(&o, "{", 1);
				out_write(&o, m->arena + s->labels_off, s->labels_len);
				out_write(&o, "}", 1);
			}
			out_write(&o, " ", 1);
			write_value(&o, f, s);
			out_write(&o, "\n", 1);
		}
	}
	if (fmt == METRICS_OPENMETRICS)
		out_write(&o, "# EOF\n", 6);
	if (o.nomem) {
		free(o.buf);
		return -ENOMEM;
	}
	*ret_buf = o.buf;
	*ret_len = o.len;
	return 0;
}

/* ---- node_exporter's textfile collector ---------------------------------- */

int metrics_write_textfile(const char *dir, const char *buf, size_t len)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, METRICS_TEXTFILE_NAME) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	/*
	 * The collector reads only *.prom, so it never sees the temporary
	 * rcatrace.prom.tmp. Readable by all: node_exporter runs as its own user.
	 */
	return atomic_file_write(path, buf, len, 0644);
}
