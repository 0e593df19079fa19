// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stddef.h>
#include <strings.h>

#include "signals.h"

/*
 * Linux's numbering on x86, arm64 and most others (asm-generic/signal.h);
 * alpha, mips, parisc and sparc number some differently and are not
 * supported.
 */
static const char *const names[] = {
    [1] = "HUP",   [2] = "INT",	    [3] = "QUIT",  [4] = "ILL",	    [5] = "TRAP",  [6] = "ABRT",
    [7] = "BUS",   [8] = "FPE",	    [9] = "KILL",  [10] = "USR1",   [11] = "SEGV", [12] = "USR2",
    [13] = "PIPE", [14] = "ALRM",   [15] = "TERM", [16] = "STKFLT", [17] = "CHLD", [18] = "CONT",
    [19] = "STOP", [20] = "TSTP",   [21] = "TTIN", [22] = "TTOU",   [23] = "URG",  [24] = "XCPU",
    [25] = "XFSZ", [26] = "VTALRM", [27] = "PROF", [28] = "WINCH",  [29] = "IO",   [30] = "PWR",
    [31] = "SYS",
};

/* Other names of the same signals, accepted when parsing, never printed. */
static const struct {
	const char *name;
	int sig;
} aliases[] = {{"IOT", 6}, {"POLL", 29}};

#define N_NAMES	  ((int)(sizeof(names) / sizeof(names[0])))
#define N_ALIASES (sizeof(aliases) / sizeof(aliases[0]))

const char *signals_name(int sig)
{
	return sig > 0 && sig < N_NAMES ? names[sig] : NULL;
}

int signals_number(const char *name)
{
	if (!name)
		return -EINVAL;
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (int i = 1; i < N_NAMES; i++)
		if (names[i] && strcasecmp(names[i], name) == 0)
			return i;
	for (size_t i = 0; i < N_ALIASES; i++)
		if (strcasecmp(aliases[i].name, name) == 0)
			return aliases[i].sig;
	return -EINVAL;
}

int signals_default_fatal(int sig)
{
	switch (sig) {
	case 17: /* CHLD: ignored */
	case 18: /* CONT: continues */
	case 19: /* STOP */
	case 20: /* TSTP */
	case 21: /* TTIN */
	case 22: /* TTOU: these four stop */
	case 23: /* URG: ignored */
	case 28: /* WINCH: ignored */
		return 0;
	default:
		return sig >= 1 && sig <= 64;
	}
}
