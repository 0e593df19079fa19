// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loads bare.bpf.c, attaches every program it can (tp_btf programs need a
 * link, which bpftool cannot hold for us), prints "bare: attached N programs"
 * on stderr and waits for SIGINT/SIGTERM. Hooks this kernel lacks are skipped
 * and named. On exit prints {"hits":[...]} (per-slot totals) on stdout.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bare.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
	signal(sig, SIG_DFL);
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	(void)fmt;
	(void)args;
	return 0;
}

int main(void)
{
	struct bpf_link *links[16] = { 0 };
	struct bare_bpf *skel;
	struct bpf_program *prog;
	struct sigaction sa = { .sa_handler = on_signal };
	int n_links = 0, ncpu, ret = 1;

	libbpf_set_print(quiet_print);
	skel = bare_bpf__open();
	if (!skel) {
		fprintf(stderr, "bare: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	/* A hook missing here (syscall tracepoints without tracefs) must not stop the others. */
	bpf_object__for_each_program(prog, skel->obj)
	{
		const char *sec = bpf_program__section_name(prog);

		if (strncmp(sec, "tracepoint/", 11) == 0) {
			char path[256];

			snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/id", sec + 11);
			if (access(path, R_OK) != 0) {
				bpf_program__set_autoload(prog, false);
				fprintf(stderr, "bare: skipping %s (no %s)\n", bpf_program__name(prog), path);
			}
		}
	}
	if (bare_bpf__load(skel)) {
		fprintf(stderr, "bare: cannot load the BPF programs: %s (run as root)\n", strerror(errno));
		goto out;
	}
	bpf_object__for_each_program(prog, skel->obj)
	{
		struct bpf_link *link;

		if (!bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach(prog);
		if (!link) {
			fprintf(stderr, "bare: cannot attach %s: %s\n", bpf_program__name(prog),
				strerror(errno));
			continue;
		}
		if (n_links < 16)
			links[n_links++] = link;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "bare: attached %d programs\n", n_links);
	while (!stop)
		pause();

	ncpu = libbpf_num_possible_cpus();
	printf("{\"hits\":[");
	for (__u32 slot = 0; slot < 16 && ncpu > 0 && ncpu <= 1024; slot++) {
		__u64 per_cpu[1024], sum = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.hits), &slot, per_cpu) == 0)
			for (int c = 0; c < ncpu; c++)
				sum += per_cpu[c];
		printf("%s%llu", slot ? "," : "", (unsigned long long)sum);
	}
	printf("]}\n");
	ret = 0;
out:
	for (int i = 0; i < n_links; i++)
		bpf_link__destroy(links[i]);
	bare_bpf__destroy(skel);
	return ret;
}
