/* supervisor.h -- telling the service manager how meridiand is doing (systemd's sd_notify protocol):
 * ready once every socket is bound and the first snapshot serves, reloading while a reload or apply
 * loads, ready again when it has ended (accepted or not), stopping; each with a one-line status that
 * `systemctl status` shows. Without NOTIFY_SOCKET in the environment every call is a no-op. Control
 * thread only. */
#ifndef MERIDIAN_SUPERVISOR_H
#define MERIDIAN_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* Serving config serial with zones zones; last_failed: the last reload was refused or failed. */
void supervisor_ready(uint64_t serial, size_t zones, bool last_failed);
/* A reload (or apply) of config started loading. */
void supervisor_reloading(const char *config);
void supervisor_stopping(void);

#endif
