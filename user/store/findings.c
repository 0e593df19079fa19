// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A finding of the model into the store: the figures it is told by, and the one its peak is judged by. */
#include <errno.h>
#include <string.h>

#include "db.h"
#include "findings.h"
#include "unit_name.h"

/*
 * A finding into the store: started or ended (fsynced), or still open (its
 * peak figures kept, with the sample's commit): its figures by name, and the one figure
 * its peak is judged by (window starts of a respawn storm, the fork rate of a
 * fork storm, resident KiB of a leak, window crashes of a crash storm).
 */
int store_finding(struct db *db, const char *boot_id, const struct unit_table_finding *f,
		  int64_t now_ms)
{
	static const char *const kinds[] = { [FINDING_RESPAWN_STORM] = "respawn_storm",
					     [FINDING_FORK_STORM] = "fork_storm",
					     [FINDING_LEAK_SUSPECT] = "leak_suspect",
					     [FINDING_CRASH_STORM] = "crash_storm",
					     [FINDING_CHURN_GROWTH] = "churn_growth" };
	const struct fig_unit *u = f->unit;
	const struct fig_memory *m = &u->mem;
	struct db_figure fig[DB_FINDING_MAX_FIGURES];
	struct db_finding_key k = { .boot_id = boot_id, .unit = u->name, .subject = "" };
	char machine[FIG_UNIT_NAME_MAX] = "", storm_machine[FIG_UNIT_NAME_MAX] = "";
	double peak = 0;
	uint32_t n = 0;
	int err;

#define FIG_NUM(nm, v) fig[n++] = (struct db_figure){ .name = (nm), .value = (double)(v) }
#define FIG_TEXT(nm, t) fig[n++] = (struct db_figure){ .name = (nm), .text = (t) }
	if (!db || f->kind < FINDING_RESPAWN_STORM || f->kind > FINDING_CHURN_GROWTH)
		return 0;
	k.kind = kinds[f->kind];
	unit_name_machine(u->name, machine, sizeof(machine));
	k.machine = machine;
	switch (f->kind) {
	case FINDING_RESPAWN_STORM:
		k.subject = f->exe ? f->exe->path : "";
		FIG_TEXT("executable", k.subject);
		FIG_NUM("starts", f->exe ? f->exe->starts : 0);
		FIG_NUM("window_starts", f->fig.window_starts);
		FIG_NUM("window_failed", f->fig.window_failed);
		FIG_NUM("period_ms", f->fig.period_ms);
		FIG_NUM("lifetime_ms", f->fig.lifetime_ms);
		peak = (double)f->fig.window_starts;
		break;
	case FINDING_FORK_STORM:
		FIG_NUM("fork_rate_per_s", u->fork_rate_per_s);
		FIG_NUM("window_fork_rate_per_s", f->fork.fork_rate_per_s);
		FIG_NUM("exec_rate_per_s", f->fork.exec_rate_per_s);
		FIG_NUM("window_forks", f->fork.window_forks);
		FIG_NUM("window_failed", f->fork.window_failed);
		FIG_NUM("forks_failed", u->forks_failed);
		FIG_NUM("pids_current", u->pids_current);
		FIG_NUM("pids_max", u->pids_max);
		peak = f->fork.fork_rate_per_s;
		break;
	case FINDING_LEAK_SUSPECT:
		FIG_NUM("rss_kib", m->rss_anon_kib + m->rss_file_kib + m->rss_shmem_kib);
		FIG_NUM("growth_kib_per_s", m->growth_kib_per_s);
		FIG_NUM("growth_fit_r2", m->growth_fit_r2);
		FIG_NUM("window_s", m->growth_window_s);
		FIG_NUM("exhaustion_eta_s", m->exhaustion_eta_s);
		/* At its end: 1 when its processes exited, 0 when the growth stopped. */
		FIG_NUM("processes_gone", m->gone);
		peak = (double)(m->rss_anon_kib + m->rss_file_kib + m->rss_shmem_kib);
		break;
	case FINDING_CRASH_STORM:
		FIG_NUM("window_crashes", f->crash.window_crashes);
		FIG_NUM("crashes", f->crash.crashes);
		FIG_NUM("signal", f->crash.signal);
		if (f->crash.exe) {
			FIG_TEXT("executable", f->crash.exe->path);
			FIG_TEXT("comm", f->crash.exe->crash_comm);
			FIG_NUM("parent_pid", f->crash.exe->crash_ppid);
			FIG_TEXT("parent_comm", f->crash.exe->crash_parent_comm);
		}
		peak = (double)f->crash.window_crashes;
		break;
	case FINDING_CHURN_GROWTH:
		/* One finding per (growing unit, storm unit) pair: the storm is its subject. */
		k.subject = f->storm_unit;
		FIG_TEXT("storm_unit", unit_name_machine(f->storm_unit, storm_machine, sizeof(storm_machine)));
		FIG_TEXT("storm_machine", storm_machine);
		FIG_NUM("kib_per_start", f->churn.kib_per_start);
		FIG_NUM("kib_per_s", f->churn.kib_per_s);
		FIG_NUM("r2", f->churn.r2);
		FIG_NUM("starts", f->churn.starts);
		FIG_NUM("growth_kib", f->churn.growth_kib);
		if (f->ambiguous_with)
			FIG_TEXT("ambiguous_with", f->ambiguous_with);
		peak = f->churn.growth_kib;
		break;
	}
#undef FIG_NUM
#undef FIG_TEXT
	if (f->ongoing)
		err = db__finding_peak(db, &k, fig, n, peak);
	else if (f->started)
		err = db__finding_started(db, &k, now_ms, fig, n, peak);
	else
		err = db__finding_ended(db, &k, now_ms, fig, n, peak);
	/* -ENOENT: no open finding to close or raise (the store was full at its start). */
	return err == -ENOENT ? 0 : err;
}

