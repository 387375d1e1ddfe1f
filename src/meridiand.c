/* meridiand.c -- the authoritative server: loads the config and zones, starts the workers, and runs
 * the control loop (reload on SIGHUP, stop on SIGTERM/SIGINT). */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ev.h>

#include "meridian/conf.h"
#include "meridian/server.h"
#include "meridian/snapshot.h"
#include "meridian/zone.h"

#define MERIDIAN_VERSION "0.1.0"

static const char *config_path;
static struct server *server;

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", gmtime_r(&now, &tm));
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s meridiand: ", stamp);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void log_diag(const char *prefix, const struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		log_line("%s%s%s", prefix, d->entries[i].level == DIAG_WARNING ? "warning: " : "", d->entries[i].text);
}

/* Loads every zone of conf. With all_or_nothing (reload, --check) any failure fails the whole load;
 * otherwise (start-up) a zone that fails is reported and left out so the others still serve. */
static struct zone_set *load_zones(const struct conf *conf, bool all_or_nothing, struct diag *d)
{
	struct zone **zones = calloc(conf->zone_count ? conf->zone_count : 1, sizeof(*zones));
	if (!zones)
		abort();
	size_t loaded = 0;
	bool failed = false;
	for (size_t i = 0; i < conf->zone_count; i++) {
		struct zone *z = zone_load(conf->zones[i].name, conf->zones[i].file, d);
		if (z)
			zones[loaded++] = z;
		else
			failed = true;
	}
	struct zone_set *set = failed && all_or_nothing ? NULL : zone_set_new(zones, loaded);
	for (size_t i = 0; i < loaded; i++)
		zone_unref(zones[i]);
	free(zones);
	return set;
}

static void log_zones(const struct zone_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		log_line("zone %s: serial %u, %zu records", set->zones[i]->name_text, set->zones[i]->serial,
			 set->zones[i]->rr_count);
}

static int check_only(void)
{
	struct diag d;
	diag_init(&d);
	struct conf *conf = conf_load(config_path, &d);
	struct zone_set *set = conf ? load_zones(conf, true, &d) : NULL;
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s%s\n", d.entries[i].level == DIAG_WARNING ? "warning: " : "", d.entries[i].text);
	int status = d.errors ? 1 : 0;
	if (!status)
		printf("%s: configuration and %zu zone(s) OK\n", config_path, set->count);
	zone_set_free(set);
	conf_free(conf);
	diag_free(&d);
	return status;
}

/* SIGHUP: a new config and new zones, published together or not at all. */
static void reload(void)
{
	struct diag d;
	diag_init(&d);
	struct conf *conf = conf_load(config_path, &d);
	struct zone_set *set = NULL;
	const struct snapshot *running = snapshot_latest();
	/* A config older than the running one is stale (pushed from an old checkout, say): refuse it.
	 * An equal serial reloads the zones under the same config. */
	if (conf && conf->serial < running->conf->serial)
		diag_error(&d, config_path, 0, "stale config: serial %llu is older than the running serial %llu",
			   (unsigned long long)conf->serial, (unsigned long long)running->conf->serial);
	else if (conf && !server_same_sockets(running->conf, conf))
		diag_error(&d, config_path, 0,
			   "listen, workers, tcp_clients and tcp_idle_timeout can only change with a restart");
	else if (conf)
		set = load_zones(conf, true, &d);
	if (!set) {
		log_diag("reload: failed: ", &d);
		log_line("reload: failed: the running configuration (serial %llu) keeps serving",
			 (unsigned long long)running->conf->serial);
		conf_free(conf);
		diag_free(&d);
		return;
	}
	log_diag("reload: ", &d);
	diag_free(&d);
	uint64_t serial = conf->serial;
	struct snapshot *snap = snapshot_new(conf, set);
	snapshot_publish(snap);
	log_zones(set);
	log_line("reload: ok (serial %llu, generation %llu, %zu zones)", (unsigned long long)serial,
		 (unsigned long long)snap->generation, set->count);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (w->signum == SIGHUP) {
		reload();
		return;
	}
	log_line("stopping (signal %d)", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static int serve(void)
{
	struct diag d;
	diag_init(&d);
	struct conf *conf = conf_load(config_path, &d);
	if (!conf) {
		log_diag("", &d);
		diag_free(&d);
		return 1;
	}
	struct zone_set *set = load_zones(conf, false, &d);
	log_diag("", &d);
	diag_free(&d);
	if (set->count < conf->zone_count)
		log_line("%zu of %zu zones failed to load and are not served", conf->zone_count - set->count,
			 conf->zone_count);
	log_zones(set);
	snapshot_publish(snapshot_new(conf, set));

	/* Workers inherit a mask that blocks the control signals, so only this thread handles them. */
	sigset_t control, old;
	sigemptyset(&control);
	sigaddset(&control, SIGHUP);
	sigaddset(&control, SIGTERM);
	sigaddset(&control, SIGINT);
	pthread_sigmask(SIG_BLOCK, &control, &old);
	server = server_start(conf, &d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!server) {
		log_diag("", &d);
		diag_free(&d);
		return 1;
	}
	struct ev_loop *loop = EV_DEFAULT;
	ev_signal sighup, sigterm, sigint;
	ev_signal_init(&sighup, on_signal, SIGHUP);
	ev_signal_init(&sigterm, on_signal, SIGTERM);
	ev_signal_init(&sigint, on_signal, SIGINT);
	ev_signal_start(loop, &sighup);
	ev_signal_start(loop, &sigterm);
	ev_signal_start(loop, &sigint);
	const struct conf *c = snapshot_latest()->conf;
	for (size_t i = 0; i < c->listen_count; i++)
		log_line("listening on %s (udp, tcp)", c->listen[i].text);
	log_line("ready: serial %llu, %zu zones, %u workers", (unsigned long long)c->serial, set->count, c->workers);
	ev_run(loop, 0);

	server_stop(server);
	snapshot_free(snapshot_latest());
	log_line("stopped");
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: meridiand -c CONFIG [--check]\n"
		     "  -c, --config FILE  the config file (Lua; see README.md)\n"
		     "      --check        validate the config and every zone, print every error, exit 0 or 1\n"
		     "  -V, --version      print the version\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	bool check = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("meridiand %s\n", MERIDIAN_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!config_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	return check ? check_only() : serve();
}
