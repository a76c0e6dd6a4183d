/*
 * chatconform: run conformance suites against a chat API (or the bundled mockd)
 * and write reports (JUnit, JSON, TAP, HTML); compare two runs' JSON reports.
 * main() reads like the run: options, suites, target, cases, reports, exit status.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "runner/cli.h"
#include "runner/exec.h"
#include "runner/http.h"
#include "runner/mockproc.h"
#include "runner/record.h"
#include "runner/report/common.h"
#include "runner/report/compare.h"
#include "runner/report/console.h"
#include "runner/report/html.h"
#include "runner/report/json.h"
#include "runner/report/junit.h"
#include "runner/report/tap.h"
#include "runner/suite.h"
#include "runner/targets.h"

#ifndef CHATCONFORM_VERSION
#define CHATCONFORM_VERSION "0.0.0"
#endif

enum exit_code {
	EXIT_PASS = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3,
	EXIT_SIGINT = 128 + SIGINT,    /* 130: interrupted, as a shell shows a program SIGINT ended */
	EXIT_SIGTERM = 128 + SIGTERM,  /* 143 */
};

#define OPTIONS_DONE (-1)         /* parse_options: --help answered, exit 0 */
#define MAX_LIST 256              /* repeatable options: --var, --header, --tag, --exclude-tag, --mockd-arg */
#define PROBE_TIMEOUT_MS 5000

/* ---- the command line: one table per command, which both getopt_long and --help are made from ---- */

enum {
	OPT_VAR = CLI_KEY, OPT_MOCKD, OPT_MOCKD_ARG, OPT_ADMIN_TOKEN, OPT_JUNIT, OPT_FILTER, OPT_TAG,
	OPT_EXCLUDE_TAG, OPT_TIMEOUT, OPT_STRICT, OPT_JSON, OPT_TAP, OPT_HTML, OPT_OUT, OPT_TARGETS, OPT_CACERT,
	OPT_SHARD, OPT_RETRIES, OPT_COLOR,
};

static const struct cli_option target_options[] = {
	{ "target",      't',             "mock|URL",   "the API under test (default: mock, a mockd started on a free port)" },
	{ "targets",     OPT_TARGETS,     "FILE",       "a URL and credentials per API, from a file (docs/ci.md); not with --target" },
	{ "key",         'k',             "KEY",        "the API key: the same as --var KEY=KEY" },
	{ "var",         OPT_VAR,         "NAME=VALUE", "set a variable of every suite (repeatable)" },
	{ "header",      'H',             "'N: V'",     "add header N to every request and handshake (repeatable; V is never shown)" },
	{ "cacert",      OPT_CACERT,      "FILE",       "trust FILE's PEM certificates for https:// and wss://, not the system's" },
	{ "mockd",       OPT_MOCKD,       "PATH",       "the mockd to start (default: the one next to chatconform)" },
	{ "mockd-arg",   OPT_MOCKD_ARG,   "ARG",        "pass ARG to mockd (repeatable)" },
	{ "admin-token", OPT_ADMIN_TOKEN, "T",          "the bearer token of mockd's admin API (default: none)" },
	{ NULL },
};

static const struct cli_option select_options[] = {
	{ "filter",      OPT_FILTER,      "GLOB",       "only the cases whose id matches GLOB ('widget.auth.*')" },
	{ "tag",         OPT_TAG,         "T",          "only the cases tagged T (repeatable)" },
	{ "exclude-tag", OPT_EXCLUDE_TAG, "T",          "leave out the cases tagged T (repeatable)" },
	{ "shard",       OPT_SHARD,       "K/N|auto",   "only shard K of N (N <= 1000); auto: CI_NODE_INDEX of CI_NODE_TOTAL" },
	{ NULL },
};

static const struct cli_option running_options[] = {
	{ "jobs",        'j',             "N",          "cases run at once, 1 to 256 (default: 8; most of a case is waiting)" },
	{ "retries",     OPT_RETRIES,     "N",          "rerun a failed case up to N (0-5) times (default: 0); a later pass is FLAKY" },
	{ "timeout",     OPT_TIMEOUT,     "S",          "the total time of each request, in seconds (default: 30)" },
	{ "strict",      OPT_STRICT,      NULL,         "SHOULD failures and blocked cases fail the run too" },
	{ NULL },
};

static const struct cli_option run_report_options[] = {
	{ "junit",       OPT_JUNIT,       "FILE",       "JUnit XML (default: reports/junit.xml)" },
	{ NULL },
};

static const struct cli_option record_report_options[] = {
	{ "junit",       OPT_JUNIT,       "FILE",       "JUnit XML (default: none; a recording writes scripts)" },
	{ NULL },
};

static const struct cli_option report_options[] = {
	{ "json",        OPT_JSON,        "FILE",       "the whole result as JSON: what compare reads (docs/reports.md)" },
	{ "html",        OPT_HTML,        "FILE",       "a self-contained HTML report: a matrix per API and section" },
	{ "tap",         OPT_TAP,         NULL,         "TAP version 13 on stdout (the case lines go to stderr)" },
	{ NULL },
};

static const struct cli_option console_options[] = {
	{ "verbose",     'v',             NULL,         "print the exchanges of the cases that fail" },
	{ "color",       OPT_COLOR,       "WHEN",       "color the case lines: auto, always or never (default: auto)" },
	{ NULL },
};

static const struct cli_option help_options[] = {
	{ "help",        'h',             NULL,         "this text" },
	{ NULL },
};

static const struct cli_option record_options[] = {
	{ "out",         OPT_OUT,         "DIR",        "the folder of the scripts, one DIR/<api>.json per API (required)" },
	{ NULL },
};

static const struct cli_option compare_options[] = {
	{ "baseline",    'b',             "FILE",       "a JSON report of the earlier run (repeatable: the shards of one run)" },
	{ "current",     'c',             "FILE",       "a JSON report of the run to judge (repeatable)" },
	{ NULL },
};

static const struct cli_option program_options[] = {
	{ "help",        'h',             NULL,         "this text" },
	{ "version",     'V',             NULL,         "the version" },
	{ NULL },
};

static const struct cli_group run_groups[] = {
	{ "Target", target_options },
	{ "Cases", select_options },
	{ "Running", running_options },
	{ "Reports (a FILE of - is stdout)", run_report_options },
	{ NULL, report_options },
	{ "Console", console_options },
	{ NULL, help_options },
	{ NULL, NULL },
};

static const struct cli_group record_groups[] = {
	{ "Recording", record_options },
	{ "Target", target_options },
	{ "Cases", select_options },
	{ "Running", running_options },
	{ "Reports (a FILE of - is stdout)", record_report_options },
	{ NULL, report_options },
	{ "Console", console_options },
	{ NULL, help_options },
	{ NULL, NULL },
};

static const struct cli_group list_groups[] = {
	{ NULL, select_options },
	{ NULL, help_options },
	{ NULL, NULL },
};

static const struct cli_group compare_groups[] = {
	{ NULL, compare_options },
	{ NULL, help_options },
	{ NULL, NULL },
};

static const struct cli_group help_groups[] = {
	{ NULL, help_options },
	{ NULL, NULL },
};

static const struct cli_group program_groups[] = {
	{ NULL, program_options },
	{ NULL, NULL },
};

static const char run_notes[] =
	"With no SUITE_PATH, every suite under suites/. A report FILE of - is stdout (one report at most,\n"
	"not with --tap); a symbolic link is followed; a FIFO or device is written in place. Against a real\n"
	"target, mock-only cases are skipped and rate-limit cases run only with --tag rate-limit.\n"
	"--color auto colors when the console is a terminal, NO_COLOR is unset and TERM is not dumb. On a\n"
	"terminal, stderr counts the cases done (N/M) while they run.\n"
	"\n"
	"Exit status: 0 every MUST case passed; 1 a case failed; 2 bad usage, an invalid suite or targets\n"
	"file, a report not written, or nothing tested (every selected case skipped); 3 the target could\n"
	"not be reached; 130 interrupted by SIGINT, 143 by SIGTERM (the cases in flight finish; a second\n"
	"signal stops at once). With 0, 1, 3, 130 and 143 the reports are written: a case not run is an\n"
	"error saying why.\n";

static const char record_notes[] =
	"Runs the cases' requests and writes what the target answered (tokens, pacing, errors) as mockd\n"
	"scripts, DIR/<api>.json: replay them with mockd --scripts DIR. No request header or query\n"
	"parameter is written, so no credential reaches a script. With no SUITE_PATH, every suite.\n"
	"\n"
	"Exit status: 0 the scripts were written, whatever the cases' verdicts; 2 bad usage, or the\n"
	"scripts could not be written; 3 the target could not be reached; 130 or 143 interrupted.\n";

static const char list_notes[] =
	"Prints id, level, tags and title of each case, one a line. With no SUITE_PATH, every suite.\n"
	"\n"
	"Exit status: 0 listed; 2 bad usage or an invalid suite file.\n";

static const char compare_notes[] =
	"Lists regressions, new SHOULD warnings, fixes, added and removed cases; the reports are those of\n"
	"run --json (docs/reports.md).\n"
	"\n"
	"Exit status: 0 no regression; 1 a regression; 2 bad usage, or a report that cannot be read or is\n"
	"not valid.\n";

static const char program_notes[] =
	"'chatconform COMMAND --help' (or 'chatconform help COMMAND') shows the options of a command.\n"
	"Exit status: 0 pass, 1 a case failed, 2 bad usage, 3 the target could not be reached.\n";

enum { CMD_RUN, CMD_LIST, CMD_RECORD, CMD_COMPARE, CMD_HELP };

static const struct cli_command commands[] = {
	[CMD_RUN] = {
		"run", "[SUITE_PATH...] [options]",
		"Run the suites' cases against a target (a mockd of its own by default) and write reports.",
		run_groups, NULL, run_notes,
	},
	[CMD_LIST] = {
		"list", "[SUITE_PATH...] [options]",
		"Print the cases a run with the same options would select.",
		list_groups, NULL, list_notes,
	},
	[CMD_RECORD] = {
		"record", "[SUITE_PATH...] --target URL --out DIR [options]",
		"Record what a deployment answers to the cases, as mockd scripts.",
		record_groups, NULL, record_notes,
	},
	[CMD_COMPARE] = {
		"compare", "BASELINE.json CURRENT.json\n--baseline FILE... --current FILE...",
		"Compare two runs' JSON reports: what regressed, what was fixed.",
		compare_groups, NULL, compare_notes,
	},
	[CMD_HELP] = {
		"help", "[COMMAND]",
		"Show the help of a command, or this one.",
		help_groups, NULL, NULL,
	},
	{ NULL },
};

static const struct cli_command program = {
	"chatconform", "COMMAND [options]\n--help | --version",
	"Check chat APIs against their documents, with the bundled mockd or against a deployment.",
	program_groups, commands, program_notes,
};

struct config {
	const char *target;
	int target_given;               /* --target was on the command line */
	const char *targets;            /* --targets FILE, or NULL */
	unsigned shard_index;           /* 1-based; with shard_count 0: every case */
	unsigned shard_count;
	int retries;
	const char *mockd;
	const char *admin_token;
	const char *junit;
	const char *json;               /* --json FILE, or NULL */
	const char *html;               /* --html FILE, or NULL */
	int tap;                        /* TAP on stdout */
	const char *record_dir;         /* record --out DIR, or NULL */
	const char *ca_file;            /* --cacert FILE, or NULL for the system's certificates */
	const char *filter;
	const char *vars[MAX_LIST];
	size_t nvars;
	struct http_header_kv headers[MAX_LIST];   /* --header, split; name and value point into header_text */
	char *header_text[MAX_LIST];               /* owned copies of the arguments: secrets */
	size_t nheaders;
	char *owned[MAX_LIST];          /* the "KEY=..." strings made for --key */
	size_t nowned;
	const char *tags[MAX_LIST];
	size_t ntags;
	const char *exclude[MAX_LIST];
	size_t nexclude;
	const char *mockd_args[MAX_LIST];
	size_t nmockd_args;
	const char *paths[MAX_LIST];
	size_t npaths;
	char default_suites[4096];
	int jobs;
	double timeout;
	int strict;
	int verbose;
	enum console_when color;
};

static int push(const char **list, size_t *n, const char *v, const char *what)
{
	if (*n >= MAX_LIST) {
		fprintf(stderr, "chatconform: cannot take more than %d %s options\n", MAX_LIST, what);
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

/* A whole decimal number in [lo, hi] from s; 0, or -1. */
static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	errno = 0;
	if (!s || *s < '0' || *s > '9')
		return -1;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/*
 * --shard K/N, or --shard auto: GitLab's parallel jobs set CI_NODE_INDEX
 * (1-based: 1..CI_NODE_TOTAL) and CI_NODE_TOTAL; without either the job is
 * the only one (every case), said on stderr.  0, or -1 after saying what is wrong.
 */
static int parse_shard(struct config *cfg, const char *arg)
{
	unsigned k, n;
	if (strcmp(arg, "auto") == 0) {
		const char *idx = getenv("CI_NODE_INDEX"), *total = getenv("CI_NODE_TOTAL");
		if ((!idx || !*idx) && (!total || !*total)) {
			fprintf(stderr, "chatconform: --shard auto: CI_NODE_INDEX and CI_NODE_TOTAL are not set; "
				"running every case\n");
			cfg->shard_index = cfg->shard_count = 0;
			return 0;
		}
		if (parse_uint(total, 1, EXEC_MAX_SHARDS, &n) != 0) {
			fprintf(stderr, "chatconform: cannot use --shard auto: CI_NODE_TOTAL=%s is not a number "
				"from 1 to %d\n", total ? total : "(unset)", EXEC_MAX_SHARDS);
			return -1;
		}
		if (parse_uint(idx, 1, n, &k) != 0) {
			fprintf(stderr, "chatconform: cannot use --shard auto: CI_NODE_INDEX=%s is not a number "
				"from 1 to CI_NODE_TOTAL=%u (it counts from 1, as GitLab's parallel: sets it)\n",
				idx ? idx : "(unset)", n);
			return -1;
		}
	} else {
		const char *slash = strchr(arg, '/');
		char kbuf[16];
		int ok = slash && (size_t)(slash - arg) < sizeof(kbuf);
		if (ok) {
			memcpy(kbuf, arg, (size_t)(slash - arg));
			kbuf[slash - arg] = '\0';
			ok = parse_uint(slash + 1, 1, EXEC_MAX_SHARDS, &n) == 0 && parse_uint(kbuf, 1, n, &k) == 0;
		}
		if (!ok) {
			fprintf(stderr, "chatconform: cannot use --shard %s: give K/N (1 <= K <= N <= %d) or auto\n", arg,
				EXEC_MAX_SHARDS);
			return -1;
		}
	}
	cfg->shard_index = k;
	cfg->shard_count = n;
	return 0;
}

/*
 * --header 'Name: value': the value without the blanks around it, checked by
 * the rules of a targets file's headers.  0, or -1 after saying what is wrong;
 * the argument is never echoed, since the value is a secret.
 */
static int parse_header(struct config *cfg, const char *arg)
{
	const char *colon = strchr(arg, ':');
	struct buf why;
	char *text;
	int rc = -1;

	if (cfg->nheaders >= MAX_LIST) {
		fprintf(stderr, "chatconform: cannot take more than %d --header options\n", MAX_LIST);
		return -1;
	}
	if (!colon) {
		fprintf(stderr, "chatconform: cannot use --header: give 'Name: value' (there is no ':'; the argument "
			"is not shown, it may hold a secret)\n");
		return -1;
	}
	if (!(text = strdup(arg))) {
		fprintf(stderr, "chatconform: cannot use --header: out of memory\n");
		return -1;
	}
	buf_init(&why, 1024);
	char *value = text + (colon - arg);
	*value++ = '\0';
	value += strspn(value, " \t");
	size_t len = strlen(value);
	while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		value[--len] = '\0';
	if (targets_check_header(text, value, &why) != 0) {
		fprintf(stderr, "chatconform: cannot use --header: %s\n", buf_str(&why));
		explicit_bzero(value, len);
		free(text);
		goto out;
	}
	cfg->header_text[cfg->nheaders] = text;   /* freed by main, cleared first */
	cfg->headers[cfg->nheaders].name = text;
	cfg->headers[cfg->nheaders].value = value;
	cfg->nheaders++;
	rc = 0;
out:
	buf_release(&why);
	return rc;
}

/* Parse argv (argv[0] is the command) by the table of cmd; 0, OPTIONS_DONE, or an exit code for main. */
static int parse_options(struct config *cfg, const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_parser parser;
	const char *arg;   /* the value of the option, in argv */
	int ch;
	char *end;
	if (cli_parser_init(&parser, &program, cmd) != 0)
		return EXIT_USAGE;
	while ((ch = cli_next(&parser, argc, argv, &arg)) != CLI_END) {
		switch (ch) {
		case 't':
			cfg->target = arg;
			cfg->target_given = 1;
			break;
		case OPT_TARGETS:
			cfg->targets = arg;
			break;
		case OPT_SHARD:
			if (parse_shard(cfg, arg) != 0)
				return EXIT_USAGE;
			break;
		case OPT_RETRIES: {
			long n = strtol(arg, &end, 10);
			if (*end || end == arg || n < 0 || n > EXEC_MAX_RETRIES) {
				fprintf(stderr, "chatconform: cannot use --retries %s: give a number from 0 to %d\n",
					arg, EXEC_MAX_RETRIES);
				return EXIT_USAGE;
			}
			cfg->retries = (int)n;
			break;
		}
		case 'k': {
			char *kv = NULL;
			if (cfg->nowned >= MAX_LIST || asprintf(&kv, "KEY=%s", arg) < 0)
				return EXIT_USAGE;
			cfg->owned[cfg->nowned++] = kv;
			if (push(cfg->vars, &cfg->nvars, kv, "--var/--key") != 0)
				return EXIT_USAGE;
			break;
		}
		case OPT_VAR:
			if (!strchr(arg, '=') || arg[0] == '=') {
				fprintf(stderr, "chatconform: cannot use --var %s: it must be NAME=VALUE\n", arg);
				return EXIT_USAGE;
			}
			if (push(cfg->vars, &cfg->nvars, arg, "--var/--key") != 0)
				return EXIT_USAGE;
			break;
		case 'H':
			if (parse_header(cfg, arg) != 0)
				return EXIT_USAGE;
			break;
		case OPT_MOCKD:
			cfg->mockd = arg;
			break;
		case OPT_MOCKD_ARG:
			if (push(cfg->mockd_args, &cfg->nmockd_args, arg, "--mockd-arg") != 0)
				return EXIT_USAGE;
			break;
		case OPT_ADMIN_TOKEN:
			cfg->admin_token = arg;
			break;
		case OPT_JUNIT:
			cfg->junit = arg;
			break;
		case OPT_JSON:
			cfg->json = arg;
			break;
		case OPT_TAP:
			cfg->tap = 1;
			break;
		case OPT_HTML:
			cfg->html = arg;
			break;
		case OPT_CACERT:
			if (access(arg, R_OK) != 0) {
				fprintf(stderr, "chatconform: cannot read --cacert %s: %s\n", arg, strerror(errno));
				return EXIT_USAGE;
			}
			cfg->ca_file = arg;
			break;
		case OPT_OUT:
			cfg->record_dir = arg;
			break;
		case 'j': {
			long j = strtol(arg, &end, 10);
			if (*end || end == arg || j < 1 || j > 256) {
				fprintf(stderr, "chatconform: cannot use -j %s: give a number from 1 to 256\n", arg);
				return EXIT_USAGE;
			}
			cfg->jobs = (int)j;
			break;
		}
		case OPT_FILTER:
			cfg->filter = arg;
			break;
		case OPT_TAG:
			if (push(cfg->tags, &cfg->ntags, arg, "--tag") != 0)
				return EXIT_USAGE;
			break;
		case OPT_EXCLUDE_TAG:
			if (push(cfg->exclude, &cfg->nexclude, arg, "--exclude-tag") != 0)
				return EXIT_USAGE;
			break;
		case OPT_TIMEOUT:
			cfg->timeout = strtod(arg, &end);
			if (*end || end == arg || !(cfg->timeout > 0) || cfg->timeout > 86400) {
				fprintf(stderr, "chatconform: cannot use --timeout %s: give seconds, more than 0\n",
					arg);
				return EXIT_USAGE;
			}
			break;
		case OPT_STRICT:
			cfg->strict = 1;
			break;
		case 'v':
			cfg->verbose = 1;
			break;
		case OPT_COLOR:
			if (strcmp(arg, "auto") == 0)
				cfg->color = CONSOLE_AUTO;
			else if (strcmp(arg, "always") == 0)
				cfg->color = CONSOLE_ALWAYS;
			else if (strcmp(arg, "never") == 0)
				cfg->color = CONSOLE_NEVER;
			else {
				fprintf(stderr, "chatconform: cannot use --color %s: give auto, always or never\n", arg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			cli_help(stdout, &program, cmd);
			return OPTIONS_DONE;
		case CLI_BAD:
			return EXIT_USAGE;
		default:   /* a key of the table with no case here: a defect, said as one */
			fprintf(stderr, "chatconform: option %d of %s is not handled\n", ch, cmd->name);
			return EXIT_USAGE;
		}
	}
	for (int i = cli_operand(&parser); i < argc; i++)
		if (push(cfg->paths, &cfg->npaths, argv[i], "SUITE_PATH") != 0)
			return EXIT_USAGE;
	return 0;
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * With no SUITE_PATH: suites/ in the current folder, else ../suites beside the
 * executable (bin/ of a checkout), else the installed suites under the data
 * folder compiled in (make install: PREFIX/share/chatconform/suites).
 */
static int default_paths(struct config *cfg)
{
	if (is_dir("suites")) {
		snprintf(cfg->default_suites, sizeof(cfg->default_suites), "suites");
	} else {
		char exe[4000], beside[sizeof(cfg->default_suites)];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
		if (slash)
			*slash = '\0';
		snprintf(cfg->default_suites, sizeof(cfg->default_suites), "%s/../suites", slash ? exe : ".");
		memcpy(beside, cfg->default_suites, sizeof(beside));
#ifdef CHATCONFORM_DATADIR
		if (!is_dir(cfg->default_suites))
			snprintf(cfg->default_suites, sizeof(cfg->default_suites), "%s", CHATCONFORM_DATADIR "/suites");
#endif
		if (!is_dir(cfg->default_suites)) {
			fprintf(stderr, "chatconform: cannot find suites: no suites/ here nor at %s"
#ifdef CHATCONFORM_DATADIR
				" nor at " CHATCONFORM_DATADIR "/suites"
#endif
				" (give SUITE_PATH)\n", beside);
			return -1;
		}
	}
	cfg->paths[cfg->npaths++] = cfg->default_suites;
	return 0;
}

/* Create every missing folder above file (mkdir -p of its dirname). */
static int make_parent_dirs(const char *file)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s", file) >= (int)sizeof(path))
		return -1;
	char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return 0;
	*slash = '\0';
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* Print each loader problem on its own line. */
static void print_lines(FILE *out, const char *text)
{
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, "\n");
		if (len)
			fprintf(out, "%.*s\n", (int)len, p);
		p += len;
		if (*p)
			p++;
	}
}

/* The options that select cases (--filter, --tag, --exclude-tag, --shard), as exec_selected takes them. */
static struct exec_options selection(const struct config *cfg)
{
	return (struct exec_options){
		.filter = cfg->filter, .tags = cfg->tags, .ntags = cfg->ntags,
		.exclude_tags = cfg->exclude, .nexclude = cfg->nexclude,
		.shard_index = cfg->shard_index, .shard_count = cfg->shard_count,
	};
}

/* How many cases of set the run selects: the M of the N/M counter. */
static size_t count_selected(const struct config *cfg, const struct suite_set *set)
{
	struct exec_options sel = selection(cfg);
	size_t n = 0;
	for (size_t s = 0; s < set->n; s++)
		for (size_t i = 0; i < set->v[s]->ncases; i++)
			n += exec_selected(&set->v[s]->cases[i], &sel);
	return n;
}

static int command_list(const struct config *cfg, const struct suite_set *set)
{
	struct exec_options sel = selection(cfg);
	for (size_t s = 0; s < set->n; s++) {
		for (size_t i = 0; i < set->v[s]->ncases; i++) {
			const struct tcase *c = &set->v[s]->cases[i];
			if (!exec_selected(c, &sel))
				continue;
			struct buf tags;
			buf_init(&tags, 4096);
			for (size_t t = 0; t < c->ntags; t++)
				buf_printf(&tags, "%s%s", t ? "," : "", c->tags[t]);
			printf("%-40s %-6s %-20s %s\n", c->id, level_name(c->level), tags.len ? tags.data : "-",
			       c->title);
			buf_release(&tags);
		}
	}
	return EXIT_PASS;
}

/* ---- interruption ------------------------------------------------------------------------ */

static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

/* The signal that interrupted the run (SIGINT or SIGTERM), or 0; written by the signal thread only. */
static volatile sig_atomic_t interrupted;
static sigset_t interrupt_signals;
static pthread_t signal_thread;
static int signal_thread_running;
static volatile sig_atomic_t signal_thread_quit;   /* release_interrupts: the next signal ends the thread */

/*
 * The signal thread.  SIGINT and SIGTERM are blocked in every thread and taken
 * here with sigwait, so no code runs in a signal handler and no system call of
 * a worker is interrupted.  The first stops the run: the workers take no
 * further case, the cases in flight finish, command_run writes the reports.  A
 * second ends the process at once, of that signal, after stopping mockd and
 * removing a report's temporary file.
 */
static void *signal_main(void *arg)
{
	for (;;) {
		int sig;
		if (sigwait(&interrupt_signals, &sig) != 0)
			continue;
		if (signal_thread_quit)
			return NULL;
		if (!interrupted) {
			interrupted = sig;
			exec_request_stop();
			/* Through the console: a counter on the same terminal is erased first. */
			console_note(stderr, "chatconform: interrupted (%s): the cases in flight finish, then the reports "
				     "are written (%s again to stop at once, without reports)", signal_name(sig),
				     signal_name(sig));
			continue;
		}
		report_file_unlink_temp();
		mockproc_kill_running();
		sigset_t one;
		sigemptyset(&one);
		sigaddset(&one, sig);
		signal(sig, SIG_DFL);
		raise(sig);   /* pending on this thread until the unblock below, which ends the process */
		pthread_sigmask(SIG_UNBLOCK, &one, NULL);
		_exit(128 + sig);
	}
	return NULL;
}

/*
 * From here on, take SIGINT and SIGTERM in a thread of their own (those not
 * ignored: a background job of a shell ignores SIGINT, and so do we then).
 * Called before any other thread starts, so every thread inherits the mask.
 */
static void catch_interrupts(void)
{
	static const int sigs[] = { SIGINT, SIGTERM };
	int any = 0;
	sigemptyset(&interrupt_signals);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaddset(&interrupt_signals, sigs[i]);
		any = 1;
	}
	if (!any || pthread_sigmask(SIG_BLOCK, &interrupt_signals, NULL) != 0)
		return;
	if (pthread_create(&signal_thread, NULL, signal_main, NULL) != 0) {
		/* Without the thread, the signals keep their default: the run ends without reports, as before. */
		pthread_sigmask(SIG_UNBLOCK, &interrupt_signals, NULL);
		return;
	}
	signal_thread_running = 1;
}

/*
 * End the signal thread with a signal of its set sent to it alone (pthread_cancel
 * would do, but sanitizers trip over its unwinding); a signal from now on stays
 * pending until exit.
 */
static void release_interrupts(void)
{
	if (!signal_thread_running)
		return;
	signal_thread_quit = 1;
	int sig = sigismember(&interrupt_signals, SIGTERM) ? SIGTERM : SIGINT;
	if (pthread_kill(signal_thread, sig) == 0)
		pthread_join(signal_thread, NULL);
	signal_thread_running = 0;
}

/* ---- reports ------------------------------------------------------------------------------ */

/* Write one report file, creating its folder; 0, or -1 after saying why on stderr. */
static int write_report(const struct run_result *rr, const char *path,
			int (*write)(const struct run_result *, const char *, struct buf *), struct buf *err)
{
	if (!path)
		return 0;
	buf_reset(err);
	if (strcmp(path, "-") != 0 && make_parent_dirs(path) != 0) {
		fprintf(stderr, "chatconform: cannot create the folder of %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (write(rr, path, err) != 0) {
		fprintf(stderr, "chatconform: %s\n", buf_str(err));
		return -1;
	}
	return 0;
}

/*
 * Write every report asked for (TAP too unless tap_done: it bailed out already).
 * Every one is attempted, so one unwritable path does not cost the others; 0, or -1.
 */
static int write_reports(const struct config *cfg, const struct run_result *rr, int tap_done, struct buf *err)
{
	int rc = 0;
	if (write_report(rr, cfg->junit, junit_write, err) != 0)
		rc = -1;
	if (write_report(rr, cfg->json, json_report_write, err) != 0)
		rc = -1;
	if (write_report(rr, cfg->html, html_report_write, err) != 0)
		rc = -1;
	if (cfg->tap && !tap_done && tap_write(rr, stdout) != 0) {
		fprintf(stderr, "chatconform: cannot write TAP to stdout: %s\n", strerror(errno));
		rc = -1;
	}
	return rc;
}

/* A report of "-" is stdout: at most one, and not with --tap; 0, or -1 after saying why. */
static int check_report_paths(const struct config *cfg)
{
	const char *names[] = { "--junit", "--json", "--html" };
	const char *paths[] = { cfg->junit, cfg->json, cfg->html };
	const char *first = NULL;
	for (size_t i = 0; i < 3; i++) {
		if (!paths[i] || strcmp(paths[i], "-") != 0)
			continue;
		if (cfg->tap) {
			fprintf(stderr, "chatconform: cannot write %s - with --tap: TAP is on stdout already\n", names[i]);
			return -1;
		}
		if (first) {
			fprintf(stderr, "chatconform: cannot write both %s - and %s - to stdout: give one a FILE\n", first,
				names[i]);
			return -1;
		}
		first = names[i];
	}
	return 0;
}

/* A report or TAP takes stdout: the case lines and the summary go to stderr then. */
static int stdout_taken(const struct config *cfg)
{
	return cfg->tap || (cfg->junit && strcmp(cfg->junit, "-") == 0) || (cfg->json && strcmp(cfg->json, "-") == 0) ||
	       (cfg->html && strcmp(cfg->html, "-") == 0);
}

/* ---- run ---------------------------------------------------------------------------------- */

/* Reach the URL of every API of the targets file that a selected case uses; -1 with why it could not. */
static int probe_targets(const struct config *cfg, const struct suite_set *set, const struct targets *t,
			 struct buf *why)
{
	struct exec_options sel = selection(cfg);
	struct buf err;
	buf_init(&err, 4096);
	for (size_t a = 0; a < t->n; a++) {
		int used = 0;
		for (size_t s = 0; s < set->n && !used; s++)
			for (size_t i = 0; i < set->v[s]->ncases && !used; i++)
				used = strcmp(set->v[s]->name, t->v[a].api) == 0 && exec_selected(&set->v[s]->cases[i], &sel);
		if (!used)
			continue;
		buf_reset(&err);
		if (http_probe(t->v[a].url, PROBE_TIMEOUT_MS, cfg->ca_file, &err) != 0) {
			struct buf shown;
			buf_init(&shown, 4096);
			targets_display_url(&shown, t->v[a].url);
			buf_printf(why, "cannot reach %s (%s in %s): %s", buf_str(&shown), t->v[a].api, t->path,
				   buf_str(&err));
			if (cfg->tap) {
				char reason[4200];
				snprintf(reason, sizeof(reason), "cannot reach %s", buf_str(&shown));
				tap_bail_out(stdout, reason);
			}
			buf_release(&shown);
			buf_release(&err);
			return -1;
		}
	}
	buf_release(&err);
	return 0;
}

/*
 * Load the targets file, whose APIs must be documented ones or those of the
 * loaded suites (test suites have their own names): a misspelt API is an
 * error, not an API whose cases all skip.  NULL after printing why.
 */
static struct targets *load_targets(const char *path, const struct suite_set *set, struct buf *err)
{
	static const char *const documented[] = { "botchat", "deepwiki", "threads", "widget" };
	size_t ndoc = sizeof(documented) / sizeof(documented[0]);
	const char **known = calloc(ndoc + set->n, sizeof(*known));
	struct targets *t = NULL;

	if (!known) {
		fprintf(stderr, "chatconform: cannot load %s: out of memory\n", path);
		return NULL;
	}
	memcpy(known, documented, sizeof(documented));
	for (size_t i = 0; i < set->n; i++)
		known[ndoc + i] = set->v[i]->name;
	if (!(t = targets_load(path, known, ndoc + set->n, err))) {
		print_lines(stderr, buf_str(err));
		fprintf(stderr, "chatconform: cannot run: the targets file %s is invalid\n", path);
	}
	free(known);
	return t;
}

static int command_run(const struct config *cfg, const struct suite_set *set)
{
	struct mockproc mock;
	struct run_result rr;
	struct buf err, why;
	const char *target = cfg->target;
	const char *mock_args[MAX_LIST + 2];
	/* With --tap or a report on stdout, stdout carries that alone: the case lines and the summary go to stderr. */
	FILE *console = stdout_taken(cfg) ? stderr : stdout;
	struct recorder *recorder = NULL;
	struct targets *targets = NULL;
	int code = EXIT_USAGE, tap_done = 0;

	memset(&mock, 0, sizeof(mock));
	memset(&rr, 0, sizeof(rr));
	mock.pid = -1;
	buf_init(&err, 64u << 10);
	buf_init(&why, 64u << 10);   /* why the target could not be reached */
	struct exec_options opt = {
		.ca_file = cfg->ca_file,
		.admin_token = cfg->admin_token,
		.filter = cfg->filter,
		.tags = cfg->tags, .ntags = cfg->ntags,
		.exclude_tags = cfg->exclude, .nexclude = cfg->nexclude,
		.vars = cfg->vars, .nvars = cfg->nvars,
		.headers = cfg->headers, .nheaders = cfg->nheaders,
		.timeouts = { .connect = 5, .first_byte = 10, .idle = 10, .total = cfg->timeout },
		.shard_index = cfg->shard_index, .shard_count = cfg->shard_count,
		.retries = cfg->retries,
		.jobs = cfg->jobs,
		.strict = cfg->strict,
		.verbose = cfg->verbose,
		.out = console,
		.colour = console_colour(cfg->color, console),
	};
	if (cfg->targets) {
		if (cfg->target_given) {
			fprintf(stderr, "chatconform: cannot use --target with --targets: the targets file names "
				"each API's URL\n");
			goto out;
		}
		if (!(targets = load_targets(cfg->targets, set, &err)))
			goto out;
		target = NULL;
		opt.targets = targets;
	}
	int is_mock = !targets && strcmp(target, "mock") == 0;
	if (targets) {
		struct buf desc;
		buf_init(&desc, sizeof(rr.target) - 1);
		targets_describe(targets, &desc);
		snprintf(rr.target, sizeof(rr.target), "%s", buf_str(&desc));
		buf_release(&desc);
		if (probe_targets(cfg, set, targets, &why) != 0) {
			tap_done = cfg->tap;
			goto unreachable;
		}
	} else if (!is_mock && strncmp(target, "http://", 7) != 0 && strncmp(target, "https://", 8) != 0) {
		fprintf(stderr, "chatconform: cannot use --target %s: give mock or an http(s):// URL\n", target);
		goto out;
	}
	if (is_mock) {
		char path[4096];
		snprintf(rr.target, sizeof(rr.target), "mock (mockd did not start)");
		if (!cfg->mockd && mockproc_default_path(path, sizeof(path)) != 0) {
			buf_adds(&why, "cannot find mockd next to chatconform (give --mockd PATH)");
			goto unreachable;
		}
		size_t n = 0;
		for (size_t i = 0; i < cfg->nmockd_args; i++)
			mock_args[n++] = cfg->mockd_args[i];
		if (cfg->admin_token) {
			mock_args[n++] = "--admin-token";
			mock_args[n++] = cfg->admin_token;
		}
		if (mockproc_start(&mock, cfg->mockd ? cfg->mockd : path, mock_args, n, &why) != 0) {
			if (cfg->tap)
				tap_bail_out(stdout, "cannot start mockd");
			tap_done = cfg->tap;
			goto unreachable;
		}
		target = mock.base_url;
		opt.mock_url = mock.base_url;
		snprintf(rr.target, sizeof(rr.target), "mock (mockd on %s)", mock.base_url + 7);
	} else if (!targets) {
		struct buf shown;
		buf_init(&shown, sizeof(rr.target) - 1);
		targets_display_url(&shown, target);
		snprintf(rr.target, sizeof(rr.target), "%s", buf_str(&shown));
		buf_release(&shown);
	}
	opt.target = target;
	if (!targets && http_probe(target, PROBE_TIMEOUT_MS, cfg->ca_file, &err) != 0) {
		buf_printf(&why, "cannot reach %s: %s", target, buf_str(&err));
		if (cfg->tap) {
			char reason[1024];
			snprintf(reason, sizeof(reason), "cannot reach %s", target);
			tap_bail_out(stdout, reason);
		}
		tap_done = cfg->tap;
		goto unreachable;
	}

	if (cfg->record_dir) {
		if (!(recorder = recorder_new(cfg->record_dir, &err))) {
			fprintf(stderr, "chatconform: %s\n", buf_str(&err));
			goto out;
		}
		opt.on_exchange = recorder_exchange;
		opt.on_exchange_arg = recorder;
	}
	console_counter_start(stderr, count_selected(cfg, set));
	int ran_ok = exec_run(set, &opt, &rr, &err) == 0;
	console_counter_stop();
	if (!ran_ok) {
		fprintf(stderr, "chatconform: %s\n", buf_str(&err));
		goto out;
	}
	/* Read once: the signal thread may set it at any moment, and what follows must agree. */
	int sig = interrupted;
	if (sig) {
		char reason[128];
		size_t ran = 0;
		for (size_t i = 0; i < rr.ncases; i++)
			ran += rr.cases[i].started_at_ms != 0;
		snprintf(reason, sizeof(reason), "not run: the run was interrupted (%s)", signal_name(sig));
		if (report_mark_not_run(&rr, reason) != 0) {
			fprintf(stderr, "chatconform: cannot write the reports: out of memory\n");
			goto out;
		}
		fprintf(stderr, "chatconform: interrupted (%s) after %zu of %zu cases; the others are reported as "
			"not run\n", signal_name(sig), ran, rr.ncases);
	}
	if (recorder) {
		/* A recording is judged by the scripts it wrote, not by the cases' verdicts. */
		int rules = recorder_finish(recorder, &err);
		mockproc_stop(&mock);
		console_summary(console, &rr);
		if (rules < 0) {
			fprintf(stderr, "chatconform: %s\n", buf_str(&err));
			code = EXIT_USAGE;
		} else {
			fprintf(stderr, "chatconform: recorded %d rule%s into %s (replay with mockd --scripts %s)\n",
				rules, rules == 1 ? "" : "s", cfg->record_dir, cfg->record_dir);
			code = EXIT_PASS;
		}
		if (sig)
			code = sig == SIGINT ? EXIT_SIGINT : EXIT_SIGTERM;
		goto out;
	}
	if (rr.ncases == 0 && !cfg->shard_count) {
		fprintf(stderr, "chatconform: cannot run: no case matches --filter, --tag and --exclude-tag\n");
		goto out;
	}
	if (rr.ncases == 0)   /* a shard may hold no case of a small selection: empty reports, exit 0 */
		fprintf(stderr, "chatconform: shard %s holds no selected case\n", rr.shard);
	if (is_mock && mockproc_check(&mock, &err) != 0)
		fprintf(stderr, "chatconform: %s; the cases after that could not reach it\n", buf_str(&err));
	/* Stopped before the summary, so its goodbye on stderr never follows the "N passed" line. */
	int mock_exit = mockproc_stop(&mock);
	console_summary(console, &rr);
	code = EXIT_PASS;
	if (is_mock && mock_exit != 0) {
		/* A bundled mock that cannot stop cleanly (a crash, a sanitizer report) is a defect too. */
		fprintf(stderr, "chatconform: mockd did not stop cleanly (%s %d)\n",
			mock_exit < 0 ? "killed, status" : "exit status", mock_exit);
		code = EXIT_FAILED;
	}
	for (size_t i = 0; i < rr.ncases; i++)
		if (case_result_fails_run(&rr.cases[i], rr.strict))
			code = EXIT_FAILED;
	/* A run that checked nothing is not a pass: every selected case skipped (no API of theirs in the
	 * targets file, mock-only against a real target...) is a usage problem, said as such. */
	size_t skipped = 0;
	for (size_t i = 0; i < rr.ncases; i++)
		skipped += rr.cases[i].verdict == VERDICT_SKIP;
	if (rr.ncases && skipped == rr.ncases && code == EXIT_PASS) {
		fprintf(stderr, "chatconform: nothing was tested: all %zu selected cases were skipped (first: %s: %s)\n",
			rr.ncases, rr.cases[0].tcase->id, rr.cases[0].message ? rr.cases[0].message : "skipped");
		code = EXIT_USAGE;
	}
	if (write_reports(cfg, &rr, 0, &err) != 0)
		code = EXIT_USAGE;
	if (sig)   /* last: a run that was interrupted says so, whatever else went wrong */
		code = sig == SIGINT ? EXIT_SIGINT : EXIT_SIGTERM;
	goto out;

unreachable:
	/* No case can run: the selection is made as for a run, and each selected case is an error saying why. */
	fprintf(stderr, "chatconform: %s\n", buf_str(&why));
	code = EXIT_UNREACHABLE;
	if (!cfg->record_dir) {   /* a recording writes no report */
		char *reason = NULL;
		exec_request_stop();
		opt.on_exchange = NULL;
		if (exec_run(set, &opt, &rr, &err) != 0) {
			fprintf(stderr, "chatconform: %s\n", buf_str(&err));
			goto out;
		}
		if (asprintf(&reason, "not run: the target could not be reached: %s", buf_str(&why)) < 0 ||
		    report_mark_not_run(&rr, reason) != 0) {
			fprintf(stderr, "chatconform: cannot write the reports: out of memory\n");
			free(reason);
			goto out;
		}
		free(reason);
		write_reports(cfg, &rr, tap_done, &err);   /* each failure is said; the status stays 3 */
	}
	if (interrupted)
		code = interrupted == SIGINT ? EXIT_SIGINT : EXIT_SIGTERM;
out:
	targets_free(targets);
	recorder_free(recorder);
	mockproc_stop(&mock);
	run_result_release(&rr);
	buf_release(&why);
	buf_release(&err);
	return code;
}

/* compare BASELINE.json CURRENT.json, or with --baseline and --current (repeatable: shards). */
static int command_compare(int argc, char **argv)
{
	static const char *base[MAX_LIST], *cur[MAX_LIST];
	const struct cli_command *cmd = &commands[CMD_COMPARE];
	struct cli_parser parser;
	const char *arg;
	size_t nbase = 0, ncur = 0;
	int ch;
	if (cli_parser_init(&parser, &program, cmd) != 0)
		return EXIT_USAGE;
	while ((ch = cli_next(&parser, argc, argv, &arg)) != CLI_END) {
		switch (ch) {
		case 'b':
			if (push(base, &nbase, arg, "--baseline") != 0)
				return EXIT_USAGE;
			break;
		case 'c':
			if (push(cur, &ncur, arg, "--current") != 0)
				return EXIT_USAGE;
			break;
		case 'h':
			cli_help(stdout, &program, cmd);
			return EXIT_PASS;
		default:
			return EXIT_USAGE;
		}
	}
	int first = cli_operand(&parser), npos = argc - first;
	if (!nbase && !ncur && npos == 2) {
		base[nbase++] = argv[first];
		cur[ncur++] = argv[first + 1];
	} else if (npos != 0 || !nbase || !ncur) {
		fprintf(stderr, "chatconform: cannot compare: give BASELINE.json CURRENT.json, or --baseline FILE "
			"and --current FILE (each repeatable), not both\n");
		return EXIT_USAGE;
	}
	return (int)compare_files(base, nbase, cur, ncur, stdout, stderr);
}

/* chatconform --help, --version: the program's own options, before any command. */
static int command_program(int argc, char **argv)
{
	struct cli_parser parser;
	const char *arg;
	int ch;
	if (cli_parser_init(&parser, &program, &program) != 0)
		return EXIT_USAGE;
	while ((ch = cli_next(&parser, argc, argv, &arg)) != CLI_END) {
		switch (ch) {
		case 'h':
			cli_help(stdout, &program, &program);
			return EXIT_PASS;
		case 'V':
			printf("chatconform %s\n", CHATCONFORM_VERSION);
			return EXIT_PASS;
		default:
			return EXIT_USAGE;
		}
	}
	fprintf(stderr, "chatconform: give a command first; try 'chatconform --help'\n");
	return EXIT_USAGE;
}

/* chatconform help [COMMAND]: the same text as chatconform [COMMAND] --help. */
static int command_help(int argc, char **argv)
{
	const struct cli_command *cmd = &commands[CMD_HELP];
	struct cli_parser parser;
	const char *arg;
	int ch;
	if (cli_parser_init(&parser, &program, cmd) != 0)
		return EXIT_USAGE;
	while ((ch = cli_next(&parser, argc, argv, &arg)) != CLI_END) {
		if (ch != 'h')
			return EXIT_USAGE;
		cli_help(stdout, &program, cmd);
		return EXIT_PASS;
	}
	int first = cli_operand(&parser);
	if (argc - first > 1) {
		fprintf(stderr, "chatconform help: give one command; try 'chatconform help --help'\n");
		return EXIT_USAGE;
	}
	if (argc - first == 0) {
		cli_help(stdout, &program, &program);
		return EXIT_PASS;
	}
	const struct cli_command *topic = cli_find_command(&program, argv[first]);
	if (!topic) {
		cli_unknown_command(&program, argv[first]);
		return EXIT_USAGE;
	}
	cli_help(stdout, &program, topic);
	return EXIT_PASS;
}

int main(int argc, char **argv)
{
	static struct config cfg;   /* static: its arrays are large for a stack */
	struct suite_set set = { 0 };
	struct buf err;
	int code = EXIT_USAGE;

	buf_init(&err, 4u << 20);
	cfg.target = "mock";
	cfg.jobs = 8;   /* cases mostly wait on the target: more than the cores, and make run stays fast */
	cfg.timeout = 30;
	if (argc < 2) {
		cli_help(stderr, &program, &program);
		goto out;
	}
	if (argv[1][0] == '-') {
		code = command_program(argc, argv);
		goto out;
	}
	const struct cli_command *cmd = cli_find_command(&program, argv[1]);
	if (!cmd) {
		cli_unknown_command(&program, argv[1]);
		goto out;
	}
	if (cmd == &commands[CMD_HELP]) {
		code = command_help(argc - 1, argv + 1);
		goto out;
	}
	if (cmd == &commands[CMD_COMPARE]) {
		code = command_compare(argc - 1, argv + 1);
		goto out;
	}
	const char *name = cmd->name;
	int recording = cmd == &commands[CMD_RECORD];
	int r = parse_options(&cfg, cmd, argc - 1, argv + 1);
	if (r != 0) {
		code = r == OPTIONS_DONE ? EXIT_PASS : r;
		goto out;
	}
	if (recording && !cfg.record_dir) {
		fprintf(stderr, "chatconform: cannot record: give the folder for the scripts with --out DIR\n");
		goto out;
	}
	if (!cfg.junit && !recording)
		cfg.junit = "reports/junit.xml"; /* a recording writes scripts; reports only when asked */
	if (check_report_paths(&cfg) != 0)
		goto out;
	if (!cfg.npaths && default_paths(&cfg) != 0)
		goto out;
	if (suite_set_load(&set, cfg.paths, cfg.npaths, &err) != 0) {
		print_lines(stderr, buf_str(&err));
		fprintf(stderr, "chatconform: cannot %s: the suite files above are invalid\n", name);
		goto out;
	}
	if (cmd == &commands[CMD_LIST]) {
		code = command_list(&cfg, &set);
		goto out;
	}
	/* Once, before any worker thread; writes to a closed connection must not kill the run. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "chatconform: cannot initialise libcurl\n");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	catch_interrupts();
	code = command_run(&cfg, &set);
	release_interrupts();
	curl_global_cleanup();
out:
	suite_set_release(&set);
	for (size_t i = 0; i < cfg.nowned; i++)
		free(cfg.owned[i]);
	for (size_t i = 0; i < cfg.nheaders; i++) {
		/* name\0value: a secret, cleared before the memory goes back. */
		explicit_bzero((char *)cfg.headers[i].value, strlen(cfg.headers[i].value));
		free(cfg.header_text[i]);
	}
	buf_release(&err);
	return code;
}
