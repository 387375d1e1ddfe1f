/* server.h -- the workers: per-thread UDP and TCP sockets (SO_REUSEPORT), each thread with its own
 * libev loop, answering from the published snapshot.
 *
 * Sockets are opened and bound by server_start on the calling thread, so a bind failure is reported
 * before anything runs. Each worker is an RCU reader (QSBR): it goes offline while it blocks in the
 * event loop and goes offline (a quiescent state) after every batch, which is what lets snapshot_publish
 * free the old snapshot without locks on the query path. */
#ifndef MERIDIAN_SERVER_H
#define MERIDIAN_SERVER_H

#include "meridian/conf.h"
#include "meridian/diag.h"
#include "meridian/query.h"

struct server;

/* Opens conf->workers sockets per listen address and protocol and starts the worker threads.
 * A snapshot must be published before. Zone transfers the snapshot allows are handed over to the
 * transfer server whose handoff pipe is transfer_fd (transfer.h); -1: none are (the query path
 * refuses them). Returns NULL with the reasons in d. */
struct server *server_start(const struct conf *conf, int transfer_fd, struct diag *d);
/* Stops every worker, closes every socket and connection, frees s. */
void server_stop(struct server *s);
/* Sums the workers' counters (a racy read of single-writer counters: fine for status output). */
void server_stats(const struct server *s, struct query_stats *sum);
/* True when the listeners and worker count of two configs are the same (a reload cannot change them). */
bool server_same_sockets(const struct conf *a, const struct conf *b);

#endif
