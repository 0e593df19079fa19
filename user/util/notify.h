/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Tells the service manager a state ("READY=1") through $NOTIFY_SOCKET, as
 * sd_notify(3) does, without linking libsystemd: one datagram to a unix
 * socket (an abstract one when the name starts with '@').
 */
#ifndef RCATRACE_NOTIFY_H
#define RCATRACE_NOTIFY_H

/* 1 sent, 0 no $NOTIFY_SOCKET (not run by systemd with Type=notify), -errno on failure. */
int notify_service_manager(const char *state);

#endif
