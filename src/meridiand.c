/* meridiand.c -- the authoritative server's command line: serve (daemon.h), or the offline modes
 * --check and --explain. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>

#include "meridian/conf.h"
#include "meridian/daemon.h"
#include "meridian/explain.h"
#include "meridian/loader.h"
#include "meridian/guard.h"
#include "meridian/policy_check.h"
#include "meridian/snapshot.h"
#include "meridian/zone.h"
#include "meridian/version.h"

static const char *config_path;

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

static int check_only(void)
{
	struct diag d;
	diag_init(&d);
	struct snapshot *snap = load_candidate(&d);
	/* Lua policies compiled; now make sure they survive the failures they exist for. */
	if (snap)
		policy_check_scenarios(snap, &d);
	/* and that every intent holds, as a reload's guard would check */
	if (snap)
		guard_check_snapshot(snap, (double)time(NULL), &d);
	print_diag(&d);
	int status = snap && !d.errors ? 0 : 1;
	if (!status)
		printf("%s: configuration, %zu zone(s) and %zu dynamic record(s) OK\n", config_path,
		       snap->zones->count, snap->conf->record_count);
	snapshot_free(snap);
	diag_free(&d);
	return status;
}

/* --explain NAME TYPE CLIENT: builds the snapshot as a start would, answers, explains, exits. */
static int explain_only(char **args)
{
	struct diag d;
	diag_init(&d);
	struct snapshot *snap = load_candidate(&d);
	bool ok = snap && explain_print(snap, args[0], args[1], args[2], NULL, stdout, &d);
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
	return check ? check_only() : daemon_serve(config_path);
}
