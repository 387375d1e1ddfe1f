/* daemon.h -- the running server: the control thread that owns the published snapshot.
 *
 * It loads the config and zones, starts the workers, the health monitor and the control socket, and
 * runs one libev loop (EV_DEFAULT) on the calling thread: signals (SIGHUP reload, SIGTERM/SIGINT
 * stop), health checks, operator commands. Every change (a reload, a health transition, a forced
 * state, a drain deadline) becomes a new snapshot built here and published with one pointer swap;
 * the workers never wait for any of it. */
#ifndef MERIDIAN_DAEMON_H
#define MERIDIAN_DAEMON_H

/* Runs until SIGTERM or SIGINT. Returns the process exit status: 0 after a clean stop, 1 when the
 * start failed (the reasons are logged to stderr). */
int daemon_serve(const char *config_path);

#endif
