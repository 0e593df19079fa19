// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "metrics.h"
#include "options.h"
#include "rcatrace.h"
#include "signals.h"

const char options_main_usage[] =
	"Usage: rcatrace COMMAND [OPTIONS]\n"
	"\n"
	"Flight recorder for slowly dying servers: per unit (systemd unit, container,\n"
	"cgroup) respawn storms and process exits, traced with eBPF, kept on disk.\n"
	"\n"
	"Commands:\n"
	"  run      attach to the kernel and trace until Ctrl-C (needs root)\n"
	"  dump     print the per-unit statistics kept in the store\n"
	"  timeline the story in time order: findings, OOM kills, kills, boots\n"
	"  history  each unit's memory, starts and exits over time (a sparkline)\n"
	"  report   one self-contained HTML page of it all, to copy off the machine\n"
	"  help     this text; `rcatrace COMMAND --help` for a command's options\n"
	"  version  print the version\n"
	"\n"
	"Exit status: 0 success, 1 runtime error, 2 bad usage.\n";

const char options_run_usage[] =
	"Usage: rcatrace run [OPTIONS]\n"
	"\n"
	"Attach to fork/exec/exit, memory, OOM and signal tracepoints; count per unit;\n"
	"report respawn storms, leak suspects, OOM kills, kills across units and fork\n"
	"storms; keep the store (an SQLite database) current. Prints \"rcatrace: attached ...\" on stderr once tracing.\n"
	"Ctrl-C or SIGTERM detaches and prints a per-unit summary.\n"
	"\n"
	"Options:\n"
	"  -j, --json              JSON lines on stdout: one object per exec/exit, plus\n"
	"                          \"stats\" and \"finding\" lines (see README)\n"
	"  -d, --duration SECS     stop after SECS (also 90s, 10m, 2h); default: forever\n"
	"  -i, --interval SECS     refresh the table and stats every SECS (default 1)\n"
	"  -u, --unit GLOB         only show units matching GLOB, e.g. 'serial-getty@*'\n"
	"                          (repeatable; counting and the store are not filtered)\n"
	"  -s, --state PATH        the store, an SQLite database (default " RCATRACE_DEFAULT_STATE ")\n"
	"      --no-state          keep no store\n"
	"      --state-interval SECS  write the totals and fsync the store every SECS (default 10);\n"
	"                          findings and OOM kills are fsynced at once\n"
	"      --max-db-size BYTES the store's size cap, also 64M, 1G (default 256M); the\n"
	"                          oldest history goes first, counted\n"
	"      --retain DURATION   history older than this goes (default 90d)\n"
	"      --ringbuf-size BYTES   ring buffer size, a power of two (default 524288)\n"
	"      --max-units N       units tracked in the kernel (default 4096)\n"
	"      --kill-signals LIST signals recorded as kills (default\n"
	"                          HUP,INT,QUIT,ILL,ABRT,BUS,FPE,KILL,SEGV,TERM,XCPU,XFSZ,SYS)\n"
	"      --growth-window SECS  memory growth fit window (default 300; 1h for slow leaks)\n"
	"      --metrics-listen ADDR:PORT  serve Prometheus metrics at /metrics;\n"
	"                          9464 or :9464 means 127.0.0.1:9464, [::1]:9464 for\n"
	"                          IPv6, 0.0.0.0:9464 for every interface (default: off)\n"
	"      --textfile DIR      write DIR/rcatrace.prom each interval, for\n"
	"                          node_exporter's textfile collector\n"
	"      --metrics-max-units N  units named in the metrics; the rest are summed\n"
	"                          into unit=\"other\" (default 500)\n"
	"  -v, --verbose           libbpf and loader diagnostics on stderr\n"
	"  -h, --help              this text\n"
	"\n"
	"Examples:\n"
	"  sudo rcatrace run                         live per-unit table\n"
	"  sudo rcatrace run --metrics-listen :9464  and scrape http://127.0.0.1:9464/metrics\n"
	"  sudo rcatrace run --json | jq -c 'select(.type==\"exit\")'\n"
	"  sudo rcatrace run --unit 'serial-getty@*' --duration 10m\n";

const char options_dump_usage[] =
	"Usage: rcatrace dump [OPTIONS]\n"
	"\n"
	"Print per-unit respawn statistics from the store, of a run that is\n"
	"still going or of one that died with its machine (earlier boots included).\n"
	"\n"
	"Options:\n"
	"  -j, --json              one JSON document (see README for the keys)\n"
	"  -u, --unit GLOB         only units matching GLOB (repeatable)\n"
	"  -n, --top N             only the N units with the most starts\n"
	"      --since WHEN        only units seen since WHEN: a duration back from now\n"
	"                          (30m, 2h, 7d) or a UTC date (2026-11-23T10:00)\n"
	"  -s, --state PATH        the store (default " RCATRACE_DEFAULT_STATE ")\n"
	"  -h, --help              this text\n"
	"\n"
	"Examples:\n"
	"  sudo rcatrace dump --top 10\n"
	"  sudo rcatrace dump --json --unit 'serial-getty@*' | jq '.units[0].starts'\n";

static const char timeline_usage[] =
	"Usage: rcatrace timeline [OPTIONS]\n"
	"\n"
	"The story the store holds, in time order: boots, findings starting and ending\n"
	"(respawn, crash and fork storms, leak suspects) with their figures, OOM kills\n"
	"and kills across units; then every finding as an interval. Works on the store\n"
	"of a live run and on one whose machine died.\n"
	"\n"
	"Options:\n"
	"  -j, --json              one JSON document: {\"events\": [...], \"findings\": [...]}\n"
	"  -u, --unit GLOB         only what happened to units matching GLOB (repeatable)\n"
	"      --since WHEN        from WHEN: a duration back from now (30m, 2h, 7d) or a\n"
	"                          UTC date (2026-11-23T10:00); default: all it holds\n"
	"      --until WHEN        up to WHEN (same forms); default: now\n"
	"  -s, --state PATH        the store (default " RCATRACE_DEFAULT_STATE ")\n"
	"  -h, --help              this text\n"
	"\n"
	"Examples:\n"
	"  sudo rcatrace timeline --since 2h\n"
	"  sudo rcatrace timeline --json | jq -c '.events[] | select(.kind==\"oom_kill\")'\n";

static const char history_usage[] =
	"Usage: rcatrace history [OPTIONS]\n"
	"\n"
	"Each unit's series from the store: resident memory, starts, execs, exits,\n"
	"failures and forks over time (every sample for 24 h, then 1-minute and\n"
	"10-minute buckets). In a terminal: one line per unit and boot with a\n"
	"sparkline of its memory and of its starts.\n"
	"\n"
	"Options:\n"
	"  -u, --unit GLOB         units matching GLOB (repeatable; default: all)\n"
	"  -j, --json              one JSON document: {\"units\": [{\"unit\", \"series\": [...]}]}\n"
	"      --since WHEN        from WHEN (2h, 7d, 2026-11-23T10:00); default: all\n"
	"      --until WHEN        up to WHEN; default: now\n"
	"  -s, --state PATH        the store (default " RCATRACE_DEFAULT_STATE ")\n"
	"  -h, --help              this text\n"
	"\n"
	"Examples:\n"
	"  sudo rcatrace history --unit 'nginx*' --since 6h\n"
	"  sudo rcatrace history --json --unit leaky.service | jq '.units[0].series[-1]'\n";

static const char report_usage[] =
	"Usage: rcatrace report --html FILE [OPTIONS]\n"
	"\n"
	"Write one self-contained HTML page (inline SVG and CSS, no script, nothing\n"
	"fetched) to copy off the machine and open anywhere: the machine's memory,\n"
	"then for each unit with a finding and the top units by memory, resident\n"
	"memory and starts per minute on one time axis, findings shaded, OOM kills\n"
	"and kills marked.\n"
	"\n"
	"Options:\n"
	"      --html FILE         where to write the page (required; - for stdout)\n"
	"  -u, --unit GLOB         only units matching GLOB (repeatable)\n"
	"  -n, --top N             units drawn beside those with findings, by peak\n"
	"                          memory (default 8)\n"
	"      --since WHEN        from WHEN (2h, 7d, 2026-11-23T10:00); default: all\n"
	"      --until WHEN        up to WHEN; default: now\n"
	"  -s, --state PATH        the store (default " RCATRACE_DEFAULT_STATE ")\n"
	"  -h, --help              this text\n"
	"\n"
	"Example:\n"
	"  sudo rcatrace report --html /tmp/rcatrace.html --since 1d\n";

const char *options_read_usage(enum read_command cmd)
{
	return cmd == READ_TIMELINE ? timeline_usage : cmd == READ_HISTORY ? history_usage : report_usage;
}

static enum options_result fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return OPTIONS_ERROR;
}

/* getopt's ':' (a missing value) and '?' (an unknown option), said the same way by every command. */
static enum options_result bad_option(int c, char **argv, char *err, size_t errlen)
{
	if (c == ':')
		return fail(err, errlen, "option '%s' needs a value", argv[optind - 1]);
	/* In a cluster (-jx) argv names the cluster: name the letter. */
	if (optopt > 0 && optopt < 256)
		return fail(err, errlen, "unknown option '-%c'", optopt);
	return fail(err, errlen, "unknown option '%s'", argv[optind - 1]);
}

/* --unit GLOB, repeatable. 0, or OPTIONS_ERROR with err set. */
static int add_unit_glob(const char **globs, int *n, const char *glob, char *err, size_t errlen)
{
	if (*n >= OPTIONS_MAX_UNIT_GLOBS)
		return fail(err, errlen, "--unit: at most %d patterns", OPTIONS_MAX_UNIT_GLOBS);
	if (!*glob)
		return fail(err, errlen, "--unit: the pattern is empty");
	globs[(*n)++] = glob;
	return 0;
}

/* The smallest ring buffer: one page, and no less than 4096 bytes. */
static unsigned long ringbuf_min_bytes(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 4096 ? (unsigned long)page : 4096;
}

int options_parse_size(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if (shift && (*end == 'b' || *end == 'B'))
		end++;
	if (*end || (shift && v > (~0ull >> shift)))
		return -EINVAL;
	*ret = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int options_unit_matches(const char *const *globs, int n, const char *name)
{
	if (n == 0)
		return 1;
	for (int i = 0; i < n; i++)
		if (fnmatch(globs[i], name, 0) == 0)
			return 1;
	return 0;
}

enum {
	OPT_NO_STATE = 256,
	OPT_STATE_INTERVAL,
	OPT_RINGBUF_SIZE,
	OPT_MAX_UNITS,
	OPT_SINCE,
	OPT_KILL_SIGNALS,
	OPT_GROWTH_WINDOW,
	OPT_METRICS_LISTEN,
	OPT_TEXTFILE,
	OPT_METRICS_MAX_UNITS,
	OPT_MAX_DB_SIZE,
	OPT_RETAIN,
	OPT_UNTIL,
	OPT_HTML,
};

int options_parse_listen(const char *arg, struct listen_address *ret)
{
	struct listen_address l = { .family = AF_INET };
	unsigned char bin[16];
	const char *port, *colon;
	char host[sizeof(l.host)];
	size_t hlen;
	uint64_t v;

	if (!arg || !*arg)
		return -EINVAL;
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - arg - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, arg + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, bin) != 1)
			return -EINVAL;
		l.family = AF_INET6;
		port = close + 2;
	} else if (!(colon = strchr(arg, ':'))) {
		snprintf(host, sizeof(host), "127.0.0.1");
		port = arg;
	} else {
		/* A second colon: an IPv6 address without its brackets. */
		if (strchr(colon + 1, ':'))
			return -EINVAL;
		hlen = (size_t)(colon - arg);
		if (hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, arg, hlen);
		host[hlen] = '\0';
		if (hlen == 0 || strcmp(host, "localhost") == 0)
			snprintf(host, sizeof(host), "127.0.0.1");
		else if (inet_pton(AF_INET, host, bin) != 1)
			return -EINVAL;
		port = colon + 1;
	}
	/* Digits only: strtoull would let " 9464" and "+9464" through. */
	if (*port < '0' || *port > '9' || parse_uint(port, 65535, &v))
		return -EINVAL;
	snprintf(l.host, sizeof(l.host), "%s", host);
	l.port = (uint16_t)v;
	*ret = l;
	return 0;
}

int options_parse_signals(const char *list, uint64_t *ret_mask)
{
	char buf[256], *save = NULL, *tok;
	uint64_t mask = 0;

	if (!list || strlen(list) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *number = strncasecmp(tok, "SIG", 3) == 0 ? tok + 3 : tok;
		uint64_t v;
		int sig;

		/* The kernel side keeps one bit per signal in a u64: 63 is the last. */
		if (parse_uint(number, 63, &v) == 0)
			sig = (int)v;
		else
			sig = signals_number(tok);
		/* SIGCHLD, SIGCONT, SIGSTOP... do not end a process: asking for them is a mistake. */
		if (sig <= 0 || !signals_default_fatal(sig))
			return -EINVAL;
		mask |= 1ULL << sig;
	}
	if (!mask)
		return -EINVAL;
	*ret_mask = mask;
	return 0;
}

enum options_result options_parse_run(int argc, char **argv, struct run_options *ret,
				      char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "unit", required_argument, NULL, 'u' },
		{ "state", required_argument, NULL, 's' },
		{ "no-state", no_argument, NULL, OPT_NO_STATE },
		{ "state-interval", required_argument, NULL, OPT_STATE_INTERVAL },
		{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF_SIZE },
		{ "max-units", required_argument, NULL, OPT_MAX_UNITS },
		{ "kill-signals", required_argument, NULL, OPT_KILL_SIGNALS },
		{ "growth-window", required_argument, NULL, OPT_GROWTH_WINDOW },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
		{ "textfile", required_argument, NULL, OPT_TEXTFILE },
		{ "metrics-max-units", required_argument, NULL, OPT_METRICS_MAX_UNITS },
		{ "max-db-size", required_argument, NULL, OPT_MAX_DB_SIZE },
		{ "retain", required_argument, NULL, OPT_RETAIN },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int c;

	memset(ret, 0, sizeof(*ret));
	ret->interval_ms = 1000;
	ret->state_interval_ms = 10000;
	ret->max_db_bytes = 256ull << 20;
	ret->retain_ms = 90LL * 86400000;
	ret->state_path = RCATRACE_DEFAULT_STATE;
	ret->ringbuf_bytes = RCA_DEFAULT_RINGBUF_BYTES;
	ret->max_units = RCA_DEFAULT_MAX_UNITS;
	ret->growth_window_ms = 300000;
	ret->metrics_max_units = METRICS_DEFAULT_MAX_UNITS;
	optind = 0; /* GNU: full reset, so tests can parse again */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jd:i:u:s:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ret->json = 1;
			break;
		case 'v':
			ret->verbose = 1;
			break;
		case 'h':
			return OPTIONS_HELP;
		case 'd':
			if (clock_parse_duration_ms(optarg, &ret->duration_ms) || ret->duration_ms <= 0)
				return fail(err, errlen, "--duration: '%s' is not a positive duration (e.g. 30, 10m, 2h)", optarg);
			break;
		case 'i':
			if (clock_parse_duration_ms(optarg, &ret->interval_ms) ||
			    ret->interval_ms < 100 || ret->interval_ms > 3600000)
				return fail(err, errlen, "--interval: '%s' must be between 0.1 and 3600 seconds", optarg);
			break;
		case OPT_STATE_INTERVAL:
			if (clock_parse_duration_ms(optarg, &ret->state_interval_ms) ||
			    ret->state_interval_ms < 100 || ret->state_interval_ms > 3600000)
				return fail(err, errlen, "--state-interval: '%s' must be between 0.1 and 3600 seconds", optarg);
			break;
		case 'u':
			if (add_unit_glob(ret->unit_globs, &ret->n_unit_globs, optarg, err, errlen))
				return OPTIONS_ERROR;
			break;
		case 's':
			if (!*optarg)
				return fail(err, errlen, "--state: the path is empty");
			ret->state_path = optarg;
			break;
		case OPT_NO_STATE:
			ret->no_state = 1;
			break;
		case OPT_RINGBUF_SIZE:
			/* The kernel wants whole pages: 4096 here, 16 or 64 KiB on some arm64 and ppc64. */
			if (parse_uint(optarg, 1u << 30, &v) || v < ringbuf_min_bytes() || (v & (v - 1)))
				return fail(err, errlen, "--ringbuf-size: '%s' must be a power of two from %lu to 1073741824", optarg, ringbuf_min_bytes());
			ret->ringbuf_bytes = (uint32_t)v;
			break;
		case OPT_MAX_UNITS:
			if (parse_uint(optarg, 1u << 20, &v) || v < 16)
				return fail(err, errlen, "--max-units: '%s' must be a number from 16 to 1048576", optarg);
			ret->max_units = (uint32_t)v;
			break;
		case OPT_KILL_SIGNALS:
			if (options_parse_signals(optarg, &ret->kill_signals))
				return fail(err, errlen, "--kill-signals: '%s' is not a list of fatal signals (e.g. TERM,KILL,SEGV)", optarg);
			break;
		case OPT_GROWTH_WINDOW:
			if (clock_parse_duration_ms(optarg, &ret->growth_window_ms) ||
			    ret->growth_window_ms < 10000 || ret->growth_window_ms > 7 * 86400000LL)
				return fail(err, errlen, "--growth-window: '%s' must be between 10 s and 7 days", optarg);
			break;
		case OPT_METRICS_LISTEN:
			if (options_parse_listen(optarg, &ret->metrics_addr))
				return fail(err, errlen, "--metrics-listen: '%s' is not ADDR:PORT with a numeric "
					    "address and a port up to 65535 (e.g. 9464, 127.0.0.1:9464, [::1]:9464)", optarg);
			ret->metrics_listen = optarg;
			break;
		case OPT_TEXTFILE:
			if (!*optarg)
				return fail(err, errlen, "--textfile: the directory is empty");
			ret->textfile_dir = optarg;
			break;
		case OPT_METRICS_MAX_UNITS:
			if (parse_uint(optarg, 1u << 20, &v) || v == 0)
				return fail(err, errlen, "--metrics-max-units: '%s' must be a number from 1 to 1048576", optarg);
			ret->metrics_max_units = (uint32_t)v;
			break;
		case OPT_MAX_DB_SIZE:
			/* Under 1 MiB the totals of a busy boot alone would not fit. */
			if (options_parse_size(optarg, &ret->max_db_bytes) ||
			    ret->max_db_bytes < (1ull << 20) || ret->max_db_bytes > (1ull << 40))
				return fail(err, errlen, "--max-db-size: '%s' must be a size from 1M to 1T (e.g. 64M, 1G)", optarg);
			break;
		case OPT_RETAIN:
			if (clock_parse_duration_ms(optarg, &ret->retain_ms) ||
			    ret->retain_ms < 60000 || ret->retain_ms > 3650LL * 86400000)
				return fail(err, errlen, "--retain: '%s' must be between 1 minute and 3650 days (e.g. 7d, 90d)", optarg);
			break;
		default:
			return bad_option(c, argv, err, errlen);
		}
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s'", argv[optind]);
	if (ret->no_state)
		ret->state_path = NULL;
	return OPTIONS_OK;
}

enum options_result options_parse_dump(int argc, char **argv, int64_t now_ms,
				       struct dump_options *ret, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "unit", required_argument, NULL, 'u' },
		{ "top", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "state", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int c;

	memset(ret, 0, sizeof(*ret));
	ret->state_path = RCATRACE_DEFAULT_STATE;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ju:n:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ret->json = 1;
			break;
		case 'h':
			return OPTIONS_HELP;
		case 'u':
			if (add_unit_glob(ret->unit_globs, &ret->n_unit_globs, optarg, err, errlen))
				return OPTIONS_ERROR;
			break;
		case 'n':
			if (parse_uint(optarg, INT32_MAX, &v) || v == 0)
				return fail(err, errlen, "--top: '%s' is not a positive number", optarg);
			ret->top = (int)v;
			break;
		case OPT_SINCE:
			if (clock_parse_since(optarg, now_ms, &ret->since_ms))
				return fail(err, errlen, "--since: '%s' is neither a duration (2h) nor a date (2026-11-23T10:00)", optarg);
			ret->since_arg = optarg;
			break;
		case 's':
			if (!*optarg)
				return fail(err, errlen, "--state: the path is empty");
			ret->state_path = optarg;
			break;
		default:
			return bad_option(c, argv, err, errlen);
		}
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s'", argv[optind]);
	return OPTIONS_OK;
}

enum options_result options_parse_read(enum read_command cmd, int argc, char **argv,
				       int64_t now_ms, struct read_options *ret, char *err,
				       size_t errlen)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "unit", required_argument, NULL, 'u' },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "state", required_argument, NULL, 's' },
		{ "html", required_argument, NULL, OPT_HTML },
		{ "top", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int c;

	memset(ret, 0, sizeof(*ret));
	ret->state_path = RCATRACE_DEFAULT_STATE;
	ret->top = 8;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ju:n:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (cmd == READ_REPORT)
				return fail(err, errlen, "--json: a report is HTML; use timeline or history --json");
			ret->json = 1;
			break;
		case 'h':
			return OPTIONS_HELP;
		case 'u':
			if (add_unit_glob(ret->unit_globs, &ret->n_unit_globs, optarg, err, errlen))
				return OPTIONS_ERROR;
			break;
		case 'n':
			/* Named as written: "--top 3", "--top=3", "-n 3" or "-n3". */
			if (cmd != READ_REPORT)
				return fail(err, errlen, "unknown option '%s'",
					    strncmp(argv[optarg == argv[optind - 1] ? optind - 2 : optind - 1],
						    "--", 2) == 0 ? "--top" : "-n");
			if (parse_uint(optarg, 1000, &v) || v == 0)
				return fail(err, errlen, "--top: '%s' is not a number from 1 to 1000", optarg);
			ret->top = (int)v;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (clock_parse_since(optarg, now_ms, c == OPT_SINCE ? &ret->since_ms : &ret->until_ms))
				return fail(err, errlen, "%s: '%s' is neither a duration (2h) nor a date (2026-11-23T10:00)",
					    c == OPT_SINCE ? "--since" : "--until", optarg);
			break;
		case OPT_HTML:
			if (cmd != READ_REPORT)
				return fail(err, errlen, "--html: only for 'rcatrace report'");
			if (!*optarg)
				return fail(err, errlen, "--html: the path is empty");
			ret->html_path = optarg;
			break;
		case 's':
			if (!*optarg)
				return fail(err, errlen, "--state: the path is empty");
			ret->state_path = optarg;
			break;
		default:
			return bad_option(c, argv, err, errlen);
		}
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s'", argv[optind]);
	if (cmd == READ_REPORT && !ret->html_path)
		return fail(err, errlen, "--html FILE is required: where to write the page");
	if (ret->since_ms && ret->until_ms && ret->until_ms < ret->since_ms)
		return fail(err, errlen, "--until is before --since");
	return OPTIONS_OK;
}
