/* meridianctl.c -- the operator's tool: checks one command locally, sends it to meridiand over the
 * control socket and prints the answer (ok: stdout, exit 0; refused: stderr, 1; error: stderr, 2).
 * One command works offline instead: test-policy runs the operator's policy test files. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ldns/ldns.h>

#include "meridian/conf.h"
#include "meridian/control.h"
#include "meridian/geo.h"
#include "meridian/policy_check.h"
#include "meridian/version.h"

#define DEFAULT_SOCKET	"run/meridian.sock"
#define DEFAULT_TIMEOUT 30.0 /* seconds */
/* reload, plan and apply answer when their load has ended, after the loads queued before them */
#define LOAD_TIMEOUT 600.0
#define EXIT_REFUSED 1
#define EXIT_TROUBLE 2	/* usage errors, meridiand unreachable, or its "error" answer */
#define REQUEST_MAX  16 /* --json, the command, 3 arguments, 2 options with values: 9 at most */

struct command {
	const char *name;
	const char *synopsis;
	const char *help;
	int min_args, max_args;				       /* positional arguments */
	bool if_generation;				       /* accepts --if-generation N */
	bool in;					       /* requires --in SECONDS */
	bool (*check)(const struct command *cmd, char **args); /* the positionals; NULL: no check */
	bool if_serial;					       /* requires --if-serial N */
	bool report;   /* the answer is a report: on stdout whatever the status */
	bool path_arg; /* the positional is a file, sent as an absolute path */
};

static bool check_set(const struct command *cmd, char **args);
static bool check_drain(const struct command *cmd, char **args);
static bool check_explain(const struct command *cmd, char **args);

static const struct command commands[] = {
    {"status", "status", "serial, zones, generation, uptime, counters", 0, 0, false, false, NULL, false,
     false, false},
    {"health", "health [POOL]", "members: observed/forced state, last result", 0, 1, false, false, NULL,
     false, false, false},
    {"set", "set POOL/MEMBER up|down|drain|auto [--if-generation N]",
     "force a state; auto follows the checks", 2, 2, true, false, check_set, false, false, false},
    {"drain", "drain POOL/MEMBER --in SECONDS [--if-generation N]", "degraded TTL now, out after SECONDS", 1,
     1, true, true, check_drain, false, false, false},
    {"explain", "explain NAME TYPE CLIENT[/PREFIX]", "a client's answer and why, live health", 3, 3, false,
     false, check_explain, false, false, false},
    {"reload", "reload", "reload config and zones (like SIGHUP)", 0, 0, false, false, NULL, false, false,
     false},
    {"plan", "plan [CONFIG]", "what loading CONFIG would change; verdict (default: meridiand's config)", 0, 1,
     false, false, NULL, false, true, true},
    {"apply", "apply [CONFIG] --if-serial N", "load CONFIG if serial N still runs and the guard agrees", 0, 1,
     false, false, NULL, true, true, true},
    {"notify", "notify [ZONE]", "send NOTIFY now to the zone's (every zone's) notify servers", 0, 1, false,
     false, NULL, false, false, false},
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: meridianctl [-s SOCKET | -c CONFIG] [--json] [--timeout SECONDS] COMMAND [ARGS]\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-54s %s\n", commands[i].synopsis, commands[i].help);
	fprintf(out, "  %-54s %s\n", "test-policy FILE...",
		"run policy test files offline (no server needed)");
	fprintf(out,
		"options:\n"
		"  -s, --socket PATH    the control socket (default: $MERIDIAN_CONTROL, else " DEFAULT_SOCKET
		")\n"
		"  -c, --config FILE    use the control socket named in meridiand's config\n"
		"      --json           ask for the answer in JSON\n"
		"      --timeout SECS   give up waiting for meridiand after SECS (default 30; 600 for\n"
		"                       reload, plan and apply, which answer when their load has ended)\n"
		"  -h, --help           print this help\n"
		"  -V, --version        print the version\n"
		"Members are named POOL/MEMBER. Exit status: 0 ok, 1 refused, 2 error or usage error.\n");
}

/* Prints "meridianctl: message" and, when cmd is known, its synopsis; the caller exits 2. */
static bool usage_error(const struct command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("meridianctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "usage: meridianctl [options] %s\n", cmd->synopsis);
	else
		fprintf(stderr, "run 'meridianctl --help' for the commands and options\n");
	return false;
}

/* A non-negative decimal number of seconds: digits with at most one '.', nothing else (strtod alone
 * would take "inf", "0x1p3" and leading blanks). */
static bool parse_seconds(const char *s, double *out)
{
	size_t digits = strspn(s, "0123456789");
	const char *p = s + digits;
	if (*p == '.') {
		size_t frac = strspn(p + 1, "0123456789");
		digits += frac;
		p += 1 + frac;
	}
	if (digits == 0 || *p != '\0')
		return false;
	*out = strtod(s, NULL);
	return isfinite(*out);
}

/* A generation or a serial: decimal digits that fit 64 bits. */
static bool parse_counter(const char *s)
{
	if (s[0] == '\0' || s[strspn(s, "0123456789")] != '\0')
		return false;
	errno = 0;
	strtoull(s, NULL, 10);
	return errno == 0;
}

static bool check_member(const struct command *cmd, const char *member)
{
	const char *slash = strchr(member, '/');
	if (!slash || slash == member || slash[1] == '\0')
		return usage_error(
		    cmd, "'%s' is not POOL/MEMBER (member names are unique only within a pool)", member);
	return true;
}

static bool check_set(const struct command *cmd, char **args)
{
	static const char *const states[] = {"up", "down", "drain", "auto"};
	if (!check_member(cmd, args[0]))
		return false;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(args[1], states[i]) == 0)
			return true;
	return usage_error(cmd, "'%s' is not a state: up, down, drain or auto", args[1]);
}

static bool check_drain(const struct command *cmd, char **args)
{
	return check_member(cmd, args[0]);
}

static bool check_explain(const struct command *cmd, char **args)
{
	struct geo_net net;
	if (ldns_get_rr_type_by_name(args[1]) == 0)
		return usage_error(cmd, "'%s' is not a record type", args[1]);
	if (!geo_net_parse(args[2], &net))
		return usage_error(cmd, "'%s' is not an address or ADDRESS/PREFIX", args[2]);
	return true;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* The value of option `name` at argv[*i] ("--name VALUE" or "--name=VALUE"), or NULL when argv[*i] is
 * not that option. *missing is set when the option is there without a value. */
static const char *option_value(const char *name, int argc, char **argv, int *i, bool *missing)
{
	size_t len = strlen(name);
	if (strncmp(argv[*i], name, len) != 0)
		return NULL;
	if (argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (argv[*i][len] != '\0')
		return NULL;
	if (*i + 1 == argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

struct parsed {
	char *args[3]; /* positional */
	int arg_count;
	const char *generation, *in, *serial;
	bool json;
};

/* Reads --if-generation or --in at argv[*i] into p. Returns 1 when it was one of them, 0 when it was
 * not, -1 after a usage error. */
static int parse_option(const struct command *cmd, int argc, char **argv, int *i, struct parsed *p)
{
	bool missing = false;
	double seconds;
	const char *gen =
	    cmd->if_generation ? option_value("--if-generation", argc, argv, i, &missing) : NULL;
	const char *in = cmd->in && !gen && !missing ? option_value("--in", argc, argv, i, &missing) : NULL;
	const char *serial = cmd->if_serial && !gen && !in && !missing
				 ? option_value("--if-serial", argc, argv, i, &missing)
				 : NULL;
	if (missing)
		usage_error(cmd, "%s needs a value", argv[*i]);
	else if (gen && p->generation)
		usage_error(cmd, "--if-generation given twice");
	else if (gen && !parse_counter(gen))
		usage_error(cmd, "--if-generation wants a generation number, not '%s'", gen);
	else if (in && p->in)
		usage_error(cmd, "--in given twice");
	else if (in && !parse_seconds(in, &seconds))
		usage_error(cmd, "--in wants a number of seconds, not '%s'", in);
	else if (serial && p->serial)
		usage_error(cmd, "--if-serial given twice");
	else if (serial && !parse_counter(serial))
		usage_error(cmd, "--if-serial wants the running serial that plan showed, not '%s'", serial);
	else if (!gen && !in && !serial)
		return 0;
	else {
		p->generation = gen ? gen : p->generation;
		p->in = in ? in : p->in;
		p->serial = serial ? serial : p->serial;
		return 1;
	}
	return -1;
}

/* Sorts a command's words into positionals and options; --json may come here too. */
static bool parse_words(const struct command *cmd, int argc, char **argv, struct parsed *p)
{
	for (int i = 0; i < argc; i++) {
		int option = parse_option(cmd, argc, argv, &i, p);
		if (option < 0)
			return false;
		if (option > 0)
			continue;
		if (strcmp(argv[i], "--json") == 0)
			p->json = true;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage_error(cmd, "%s takes no option %s", cmd->name, argv[i]);
		else if (p->arg_count == cmd->max_args)
			return usage_error(cmd, "too many arguments for %s", cmd->name);
		else
			p->args[p->arg_count++] = argv[i];
	}
	if (p->arg_count < cmd->min_args)
		return usage_error(cmd, "too few arguments for %s", cmd->name);
	if (cmd->in && !p->in)
		return usage_error(cmd, "%s needs --in SECONDS", cmd->name);
	if (cmd->if_serial && !p->serial)
		return usage_error(
		    cmd, "%s needs --if-serial N: the running serial `meridianctl plan` showed", cmd->name);
	return !cmd->check || cmd->check(cmd, p->args);
}

/* The request: [--json] COMMAND ARGS [--in S] [--if-generation N], options in the synopsis' order
 * whatever order they were typed in, so the daemon reads them in one fixed order. */
static int build_request(const struct command *cmd, const struct parsed *p, bool json, char **req)
{
	int n = 0;
	if (json || p->json)
		req[n++] = "--json";
	req[n++] = (char *)cmd->name;
	for (int i = 0; i < p->arg_count; i++)
		req[n++] = p->args[i];
	if (p->in) {
		req[n++] = "--in";
		req[n++] = (char *)p->in;
	}
	if (p->generation) {
		req[n++] = "--if-generation";
		req[n++] = (char *)p->generation;
	}
	if (p->serial) {
		req[n++] = "--if-serial";
		req[n++] = (char *)p->serial;
	}
	return n;
}

/* The control socket: -s, else the config's, else $MERIDIAN_CONTROL, else the default. */
static char *socket_path(const char *sock, const char *config)
{
	if (sock)
		return strdup(sock);
	if (config) {
		struct diag d;
		diag_init(&d);
		struct conf *c = conf_load(config, &d);
		for (size_t i = 0; !c && i < d.count; i++)
			fprintf(stderr, "%s\n", d.entries[i].text);
		diag_free(&d);
		if (!c)
			return NULL;
		char *path = c->control ? strdup(c->control) : NULL;
		if (!c->control)
			fprintf(stderr, "meridianctl: %s: the config names no control socket\n", config);
		conf_free(c);
		return path;
	}
	const char *env = getenv("MERIDIAN_CONTROL");
	return strdup(env && *env ? env : DEFAULT_SOCKET);
}

static int print_answer(int status, const char *body, bool report)
{
	FILE *out = status == CONTROL_OK || report ? stdout : stderr;
	size_t len = strlen(body);
	fputs(body, out);
	if (len && body[len - 1] != '\n')
		fputc('\n', out);
	if (!len && status != CONTROL_OK)
		fprintf(stderr, "meridianctl: meridiand answered %s\n",
			status == CONTROL_REFUSED ? "refused" : "error");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("meridianctl: stdout");
		return EXIT_TROUBLE;
	}
	return status == CONTROL_OK ? 0 : status == CONTROL_REFUSED ? EXIT_REFUSED : EXIT_TROUBLE;
}

/* test-policy FILE...: every file's cases, then "N passed, N failed". Exit 0 when all pass, 1 when a
 * case fails, 2 when a file cannot be run (its problems on stderr). */
static int test_policy(int argc, char **argv)
{
	struct policy_test_counts total = {0, 0};
	bool unusable = false;
	if (argc == 0) {
		usage_error(NULL, "test-policy needs at least one test file");
		return EXIT_TROUBLE;
	}
	for (int i = 0; i < argc; i++) {
		struct policy_test_counts counts = {0, 0};
		struct diag d;
		diag_init(&d);
		printf("# %s\n", argv[i]);
		fflush(stdout);
		if (policy_test_file(argv[i], stdout, &counts, &d)) {
			printf("%s: %zu passed, %zu failed\n", argv[i], counts.passed, counts.failed);
		} else {
			for (size_t j = 0; j < d.count; j++)
				if (d.entries[j].level == DIAG_ERROR)
					fprintf(stderr, "%s\n", d.entries[j].text);
			fprintf(stderr, "meridianctl: %s: cannot run its cases\n", argv[i]);
			unusable = true;
		}
		fflush(stdout);
		diag_free(&d);
		total.passed += counts.passed;
		total.failed += counts.failed;
	}
	printf("%zu passed, %zu failed\n", total.passed, total.failed);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("meridianctl: stdout");
		return EXIT_TROUBLE;
	}
	return unusable ? EXIT_TROUBLE : total.failed ? 1 : 0;
}

static bool loads(const struct command *cmd)
{
	return !strcmp(cmd->name, "reload") || !strcmp(cmd->name, "plan") || !strcmp(cmd->name, "apply");
}

/* timeout: --timeout, or 0 for the command's default. */
static int run(const char *sock, const char *config, bool json, double timeout, int argc, char **argv)
{
	if (strcmp(argv[0], "test-policy") == 0)
		return test_policy(argc - 1, argv + 1);
	const struct command *cmd = find_command(argv[0]);
	if (!cmd) {
		usage_error(NULL, "unknown command '%s'", argv[0]);
		return EXIT_TROUBLE;
	}
	struct parsed p = {0};
	char *req[REQUEST_MAX];
	if (!parse_words(cmd, argc - 1, argv + 1, &p))
		return EXIT_TROUBLE;
	/* meridiand resolves paths against its own folder: send the file's absolute path */
	char file[PATH_MAX];
	if (cmd->path_arg && p.arg_count) {
		if (!realpath(p.args[0], file)) {
			fprintf(stderr, "meridianctl: %s: %s\n", p.args[0], strerror(errno));
			return EXIT_TROUBLE;
		}
		p.args[0] = file;
	}
	int req_count = build_request(cmd, &p, json, req);
	char *path = socket_path(sock, config);
	if (!path)
		return EXIT_TROUBLE;
	struct diag d;
	diag_init(&d);
	char *body = NULL;
	if (timeout <= 0)
		timeout = loads(cmd) ? LOAD_TIMEOUT : DEFAULT_TIMEOUT;
	int status = control_request(path, req_count, req, timeout, &body, &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "meridianctl: %s\n", d.entries[i].text);
	if (status < 0 && loads(cmd) && d.count && strstr(d.entries[0].text, "did not answer within"))
		fprintf(stderr,
			"meridianctl: the load goes on in meridiand: 'meridianctl status' shows it\n");
	diag_free(&d);
	free(path);
	int rc = status < 0 ? EXIT_TROUBLE : print_answer(status, body, cmd->report);
	free(body);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *sock = NULL, *config = NULL;
	bool json = false;
	double timeout = 0; /* the command's default */
	int opt;
	/* '+': options stop at the command, whose own words (--in, --if-generation) parse_words reads. */
	while ((opt = getopt_long(argc, argv, "+s:c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 't':
			if (!parse_seconds(optarg, &timeout) || timeout <= 0) {
				usage_error(NULL, "--timeout wants a number of seconds above 0, not '%s'",
					    optarg);
				return EXIT_TROUBLE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("meridianctl %s\n", MERIDIAN_VERSION);
			return 0;
		default: /* getopt said what is wrong */
			fprintf(stderr, "run 'meridianctl --help' for the commands and options\n");
			return EXIT_TROUBLE;
		}
	}
	if (sock && config) {
		usage_error(NULL, "-s and -c exclude each other");
		return EXIT_TROUBLE;
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_TROUBLE;
	}
	return run(sock, config, json, timeout, argc - optind, argv + optind);
}
