/* privileges.h -- running as the configured account (conf "user") rather than root.
 *
 * meridiand started as root switches to the account right after reading its config, before it reads
 * a zone, opens its state folder or starts a thread, so start-up and every reload read the same files
 * with the same rights. It keeps one capability, CAP_NET_BIND_SERVICE, to bind port 53, and gives it
 * up once its sockets are bound (listen addresses only change with a restart). Without "user" nothing
 * changes: meridiand runs as it was started (systemd's User= and AmbientCapabilities= do the same
 * from outside). */
#ifndef MERIDIAN_PRIVILEGES_H
#define MERIDIAN_PRIVILEGES_H

#include <stdbool.h>

#include "meridian/conf.h"
#include "meridian/diag.h"

/* Becomes u (its uid, gid and the user's supplementary groups), keeping CAP_NET_BIND_SERVICE. Call it
 * while the process has one thread. Not root: fine when already u, else an error; u->text NULL: a
 * no-op. false with the reason in d (file: the config). */
bool privileges_drop(const struct conf_user *u, const char *file, struct diag *d);
/* The sockets are bound: drops every capability left (a no-op when none is held). false with the
 * reason in d. */
bool privileges_bound(struct diag *d);

#endif
