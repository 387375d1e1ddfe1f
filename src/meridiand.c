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
#include "meridian/explain.h"
#include "meridian/loader.h"
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
		log_line("%s%s%s", prefix, d->entries[i].level == DIAG_WARNING ? "warning: " : "",
			 d->entries[i].text);
}

/* The offline modes (--check, --explain) print problems bare, without the log's time stamp. */
static void print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "%s%s\n", d->entries[i].level == DIAG_WARNING ? "warning: " : "",
			d->entries[i].text);
}

/* The config and everything it names, built as a reload would: NULL with the reasons in d. */
static struct snapshot *load_candidate(struct diag *d)
{
	struct conf *conf = conf_load(config_path, d);
	return conf ? loader_build(conf, LOADER_ALL_OR_NOTHING, d) : NULL;
}

static void log_snapshot(const struct snapshot *s)
{
	const struct zone_set *set = s->zones;
	for (size_t i = 0; i < set->count; i++)
		log_line("zone %s: serial %u, %zu records", set->zones[i]->name_text, set->zones[i]->serial,
			 set->zones[i]->rr_count);
	if (s->geo)
		log_line("geo: %zu regions, %zu map entries", s->conf->geo.region_count,
			 geo_map_entries(s->geo));
}

static int check_only(void)
{
	struct diag d;
	diag_init(&d);
	struct snapshot *snap = load_candidate(&d);
	print_diag(&d);
	int status = snap && !d.errors ? 0 : 1;
	if (!status)
		printf("%s: configuration, %zu zone(s) and %zu dynamic record(s) OK\n", config_path,
		       snap->zones->count, snap->conf->record_count);
	snapshot_free(snap);
	diag_free(&d);
	return status;
}

/* SIGHUP: a new config and new zones, published together or not at all. */
static void reload(void)
{
	struct diag d;
	diag_init(&d);
	struct conf *conf = conf_load(config_path, &d);
	const struct snapshot *running = snapshot_latest();
	/* A config older than the running one is stale (pushed from an old checkout, say): refuse it.
	 * An equal serial reloads the zones under the same config. */
	struct snapshot *snap = NULL;
	if (conf && conf->serial < running->conf->serial)
		diag_error(&d, config_path, 0,
			   "stale config: serial %llu is older than the running serial %llu",
			   (unsigned long long)conf->serial, (unsigned long long)running->conf->serial);
	else if (conf && !server_same_sockets(running->conf, conf))
		diag_error(
		    &d, config_path, 0,
		    "listen, workers, tcp_clients and tcp_idle_timeout can only change with a restart");
	else if (conf)
		snap = loader_build(conf, LOADER_ALL_OR_NOTHING, &d), conf = NULL;
	if (!snap) {
		log_diag("reload: failed: ", &d);
		log_line("reload: failed: the running configuration (serial %llu) keeps serving",
			 (unsigned long long)running->conf->serial);
		conf_free(conf);
		diag_free(&d);
		return;
	}
	log_diag("reload: ", &d);
	diag_free(&d);
	snapshot_publish(snap);
	log_snapshot(snap);
	log_line("reload: ok (serial %llu, generation %llu, %zu zones, %zu dynamic records)",
		 (unsigned long long)snap->conf->serial, (unsigned long long)snap->generation,
		 snap->zones->count, snap->conf->record_count);
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
	size_t zone_count = conf->zone_count;
	struct snapshot *snap = loader_build(conf, LOADER_SKIP_BAD_ZONES, &d);
	log_diag("", &d);
	diag_free(&d);
	if (!snap)
		return 1;
	if (snap->zones->count < zone_count)
		log_line("%zu of %zu zones failed to load and are not served",
			 zone_count - snap->zones->count, zone_count);
	log_snapshot(snap);
	snapshot_publish(snap);
	conf = snap->conf;

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
	log_line("ready: serial %llu, %zu zones, %u workers", (unsigned long long)c->serial,
		 snapshot_latest()->zones->count, c->workers);
	ev_run(loop, 0);

	server_stop(server);
	snapshot_free(snapshot_latest());
	log_line("stopped");
	return 0;
}

/* --explain NAME TYPE CLIENT: builds the snapshot as a start would, answers, explains, exits. */
static int explain_only(char **args)
{
	struct diag d;
	diag_init(&d);
	struct snapshot *snap = load_candidate(&d);
	bool ok = snap && explain_print(snap, args[0], args[1], args[2], stdout, &d);
	print_diag(&d);
	snapshot_free(snap);
	diag_free(&d);
	return ok ? 0 : 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: meridiand -c CONFIG [--check | --explain NAME TYPE CLIENT[/PREFIX]]\n"
		"  -c, --config FILE  the config file (Lua; see README.md)\n"
		"      --check        validate the config and every zone, print every error, exit 0 or 1\n"
		"      --explain      show the region, policy, order, answer, TTL and scope a client gets\n"
		"  -V, --version      print the version\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
	    {"explain", no_argument, NULL, 'e'},      {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
	};
	bool check = false, explain = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'e':
			explain = true;
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
	if (!config_path || optind != argc - (explain ? 3 : 0) || (check && explain)) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (explain)
		return explain_only(argv + optind);
	return check ? check_only() : serve();
}
