/* supervisor.c -- the sd_notify messages (see supervisor.h), sent with libsystemd. */
#include "meridian/supervisor.h"

#include <inttypes.h>
#include <systemd/sd-daemon.h>
#include <time.h>

void supervisor_ready(uint64_t serial, size_t zones, bool last_failed)
{
	sd_notifyf(0, "READY=1\nSTATUS=serving config serial %" PRIu64 ", %zu zones%s", serial, zones,
		   last_failed ? "; the last reload was not accepted (see the log)" : "");
}

void supervisor_reloading(const char *config)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* MONOTONIC_USEC: what Type=notify-reload (systemd 253 and later) requires with RELOADING=1 */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=loading %s",
		   (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u, config);
}

void supervisor_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}
