/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The subcommands; each returns the process exit status (0, 1 runtime error, 2 usage). */
#ifndef RCATRACE_COMMANDS_H
#define RCATRACE_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_timeline(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
