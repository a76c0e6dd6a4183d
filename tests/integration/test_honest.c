/*
 * Are the suites' verdicts honest? The runner against servers written for it:
 *
 *   honest/null_server    every suite against a server that answers 404 {} to everything (and refuses
 *                         every WebSocket upgrade with it): a case that passes is vacuous unless
 *                         tests/data/honest/null-pass.txt lists it with its reason.
 *   honest/yes_server     the same against 200 {} to everything, WebSocket upgrades accepted and then
 *                         silent: tests/data/honest/yes-pass.txt.
 *   honest/threads_token  the threads suite against a threads server with one divergence (token frames
 *                         instead of message_received/message): the exact FAIL, WARN, BLOCKED and ERROR
 *                         cases, tests/data/honest/threads-token.expected.
 *   honest/widget_details the widget suite against a widget server whose 400 bodies carry an extra
 *                         member `details`: tests/data/honest/widget-details.expected.
 *
 * The servers are Python (tests/integration/stub_server.py, threads_token_server.py,
 * widget_details_server.py, all on tiny_httpd.py), on 127.0.0.1 port 0, stopping by themselves.
 *
 * The lists are data, to be regenerated when the suites change: the command below (tests/README.md)
 * rewrites them from what the runs saw, keeping each file's header comment and the reason (`# ...`) of
 * every id still present; new ids get `# TODO reason`. Review the diff.
 */
// UPDATE_HONEST=1 CHATCONFORM_BIN=$PWD/bin build/integration-tests --filter 'honest/*' 
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/timeutil.h"
#include "harness.h"

#define PYTHON "/usr/bin/python3"
#define DATA "tests/data/honest/"
#define SERVER_LIFETIME "300"   /* seconds: a server never outlives a crashed test by more */
#define RUN_LIMIT 240           /* seconds: the runner is killed after this */

/* ---- a Python server --------------------------------------------------------------------- */

struct pyserver {
	pid_t pid;
	int port;
	char port_file[128];
	char url[64];
};

/* Start /usr/bin/python3 SCRIPT ARGS... PORTFILE LIFETIME and wait for its port. */
static void py_start(struct pyserver *s, const char *script, const char *arg)
{
	snprintf(s->port_file, sizeof(s->port_file), "/tmp/cc-honest-%d-%ld-%s.port", getpid(), (long)time(NULL),
		 arg ? arg : "x");
	unlink(s->port_file);
	s->pid = fork();
	cr_assert(s->pid >= 0, "fork: %s", strerror(errno));
	if (s->pid == 0) {
		if (arg)
			execl(PYTHON, PYTHON, script, arg, s->port_file, SERVER_LIFETIME, (char *)NULL);
		else
			execl(PYTHON, PYTHON, script, s->port_file, SERVER_LIFETIME, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", PYTHON, strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(s->port_file, "r");
		char line[64] = "";
		if (f) {
			bool done = fgets(line, sizeof(line), f) && strchr(line, '\n');
			fclose(f);
			char *colon = strrchr(line, ':');
			if (done && colon) {
				s->port = atoi(colon + 1);
				snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
				return;
			}
		}
		int st;
		if (waitpid(s->pid, &st, WNOHANG) == s->pid)
			cr_fatal("%s exited before listening (status %d)", script, st);
		usleep(20 * 1000);
	}
	kill(s->pid, SIGKILL);
	cr_fatal("%s did not write its port file within 10 s", script);
}

static void py_stop(struct pyserver *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		int st;
		int i = 0;
		for (; i < 250 && waitpid(s->pid, &st, WNOHANG) != s->pid; i++)
			usleep(20 * 1000);
		if (i == 250) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &st, 0);
		}
		s->pid = 0;
	}
	unlink(s->port_file);
}

/* ---- the runner -------------------------------------------------------------------------- */

/*
 * chatconform run --target URL --json WORKDIR/NAME.json ARGS...; the console output goes to
 * WORKDIR/NAME.out. Returns the exit status; asserts it is 0 or 1 (a verdict, not a usage error or an
 * unreachable target).
 */
static int run_runner(const char *url, const char *name, const char *const *args)
{
	char exe[512], json[256], out[256];
	bin_path("chatconform", exe, sizeof(exe));
	snprintf(json, sizeof(json), "%s", workdir_path(name));
	strncat(json, ".json", sizeof(json) - strlen(json) - 1);
	snprintf(out, sizeof(out), "%s", workdir_path(name));
	strncat(out, ".out", sizeof(out) - strlen(out) - 1);
	const char *argv[48] = { exe, "run", "--target", url, "--json", json, "--junit", workdir_path("junit.xml") };
	int argc = 8;
	for (; *args && argc < 46; args++)
		argv[argc++] = *args;
	argv[argc] = NULL;
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setenv("NO_COLOR", "1", 1);
		alarm(RUN_LIMIT);   /* it must stop by itself */
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (code != 0 && code != 1) {
		char *o = slurp_file(out, 1 << 16);
		cr_fatal("chatconform run against %s exited %d:\n%s", url, code, o);
	}
	return code;
}

/* ---- id lists ------------------------------------------------------------------------------ */

struct item {
	char *id;
	char *outcome;   /* "pass", "fail"... (observed); "FAIL"... (expected files); or "" */
	char *note;      /* the reason, with its '#', or the runner's message; "" when none */
	bool seen;
};

struct items {
	struct item *v;
	size_t n, cap;
	char *header;    /* the leading comment block of a list file, as it is */
};

static void items_add(struct items *l, const char *id, const char *outcome, const char *note)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 128;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		cr_assert(l->v != NULL);
	}
	l->v[l->n++] = (struct item){ strdup(id), strdup(outcome ? outcome : ""), strdup(note ? note : ""), false };
}

static struct item *items_find(struct items *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].id, id))
			return &l->v[i];
	return NULL;
}

static void items_free(struct items *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].outcome);
		free(l->v[i].note);
	}
	free(l->v);
	free(l->header);
	memset(l, 0, sizeof(*l));
}

/*
 * A list file: a header of '#' lines, then one entry a line, "id  # note" (with_outcome false) or
 * "OUTCOME id  # note" (with_outcome true). Later '#' lines and blank lines are comments. A missing
 * file is an empty list.
 */
static void read_list(const char *path, bool with_outcome, struct items *l)
{
	memset(l, 0, sizeof(*l));
	struct buf header;
	buf_init(&header, 1 << 20);
	FILE *f = fopen(path, "r");
	bool in_header = true;
	char line[8192];
	while (f && fgets(line, sizeof(line), f)) {
		if (in_header && line[0] == '#') {
			buf_adds(&header, line);
			continue;
		}
		in_header = false;
		line[strcspn(line, "\n")] = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		char outcome[32] = "";
		if (with_outcome) {
			size_t n = strcspn(p, " \t");
			snprintf(outcome, sizeof(outcome), "%.*s", (int)n, p);
			p += n;
			while (*p == ' ' || *p == '\t')
				p++;
		}
		char *hash = strchr(p, '#');
		char *end = hash ? hash : p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		char id[512];
		snprintf(id, sizeof(id), "%.*s", (int)(end - p), p);
		cr_assert(id[0] != '\0', "%s: an entry without an id: %s", path, line);
		items_add(l, id, outcome, hash ? hash : "");
	}
	if (f)
		fclose(f);
	l->header = buf_detach(&header, NULL);
	if (!l->header)
		l->header = strdup("");
}

/* The cases of a chatconform-results/1 report: id, outcome and message of each. */
static void read_report(const char *path, struct items *l)
{
	memset(l, 0, sizeof(*l));
	char *text = slurp_file(path, 1 << 28);
	cJSON *root = json_parse_exact(text, strlen(text));
	cr_assert(root != NULL, "%s is not JSON", path);
	const char *format = json_get_string(root, "format");
	cr_assert(format && !strcmp(format, "chatconform-results/1"), "%s: format %s", path, format ? format : "(none)");
	const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
	cr_assert(cJSON_IsArray(cases), "%s has no cases", path);
	const cJSON *c;
	cJSON_ArrayForEach(c, cases) {
		const char *id = json_get_string(c, "id"), *outcome = json_get_string(c, "outcome");
		const char *message = json_get_string(c, "message");
		cr_assert(id && outcome, "%s: a case without id or outcome", path);
		items_add(l, id, outcome, message);
	}
	cr_assert(l->n > 0, "%s: no case ran", path);
	cJSON_Delete(root);
	free(text);
}

static bool updating(void)
{
	const char *u = getenv("UPDATE_HONEST");
	return u && !strcmp(u, "1");
}

/* Write path atomically: header, then the lines of body. */
static void write_list(const char *path, const char *header, const char *body)
{
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	cr_assert(f != NULL, "cannot write %s", tmp);
	fputs(header, f);
	fputs(body, f);
	cr_assert(fclose(f) == 0);
	cr_assert(rename(tmp, path) == 0, "cannot rename %s: %s", tmp, strerror(errno));
}

/* The reason an old list gave id, or "# TODO reason". */
static const char *kept_note(struct items *old, const char *id)
{
	const struct item *o = items_find(old, id);
	return o && *o->note ? o->note : "# TODO reason";
}

static void upper(const char *s, char *out, size_t size)
{
	size_t i = 0;
	for (; s[i] && i < size - 1; i++)
		out[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	out[i] = '\0';
}

/* ---- passes against a server that says nothing ------------------------------------------------ */

static const char null_header[] =
	"# Cases that pass against the null server (tests/integration/stub_server.py null): 404 with the body {}\n"
	"# to every HTTP request and to every WebSocket upgrade. A server that says nothing should pass nothing.\n"
	"# Each line: case.id  # why it may pass against this server.  `# VACUOUS: ...` marks a case that passes\n"
	"# without checking anything the server did: a defect of the case, to be fixed in the suite.\n"
	"# tests/integration/test_honest.c fails on a passing case not listed here, and on a listed one that\n"
	"# no longer passes. Regenerate: UPDATE_HONEST=1 CHATCONFORM_BIN=$PWD/bin build/integration-tests --filter 'honest/*'\n";

static const char yes_header[] =
	"# Cases that pass against the yes server (tests/integration/stub_server.py yes): 200 with the body {}\n"
	"# to every HTTP request; every WebSocket upgrade accepted, then nothing ever sent (frames read and\n"
	"# dropped, pings answered, closed when the client closes). It implements nothing of any document.\n"
	"# Each line: case.id  # why it may pass against this server.  `# VACUOUS: ...` marks a case that passes\n"
	"# without checking anything the server did: a defect of the case, to be fixed in the suite.\n"
	"# tests/integration/test_honest.c fails on a passing case not listed here, and on a listed one that\n"
	"# no longer passes. Regenerate: UPDATE_HONEST=1 CHATCONFORM_BIN=$PWD/bin build/integration-tests --filter 'honest/*'\n";

/*
 * Start script (with arg), run the runner against it with args (its report named name), stop the server,
 * and read the report's cases into got; the milliseconds the run took.
 */
static int64_t run_against(const char *script, const char *arg, const char *name, const char *const *args,
			   struct items *got)
{
	struct pyserver s = { 0 };
	workdir_make("cc-honest");
	py_start(&s, script, arg);
	int64_t t0 = mono_ms();
	run_runner(s.url, name, args);
	int64_t took = mono_ms() - t0;
	py_stop(&s);
	char report[256];
	snprintf(report, sizeof(report), "%s", workdir_path(name));
	strncat(report, ".json", sizeof(report) - strlen(report) - 1);
	read_report(report, got);
	return took;
}

static void check_passes(const char *mode, const char *list_path, const char *default_header, const char *what)
{
	const char *args[] = { "-j", "8", "--timeout", "5", "suites", NULL };
	struct items got, listed;
	int64_t took = run_against("tests/integration/stub_server.py", mode, mode, args, &got);
	read_list(list_path, false, &listed);

	struct buf msg, body;
	buf_init(&msg, 1 << 20);
	buf_init(&body, 1 << 20);
	size_t passes = 0, unlisted = 0, stale = 0;
	for (size_t i = 0; i < got.n; i++) {
		if (strcmp(got.v[i].outcome, "pass"))
			continue;
		passes++;
		buf_printf(&body, "%s  %s\n", got.v[i].id, kept_note(&listed, got.v[i].id));
		struct item *l = items_find(&listed, got.v[i].id);
		if (l) {
			l->seen = true;
			continue;
		}
		unlisted++;
		buf_printf(&msg, "  %s passes: a case that passes against %s is vacuous: fix the case or list it "
				 "with its reason in %s\n", got.v[i].id, what, list_path);
	}
	for (size_t i = 0; i < listed.n; i++) {
		if (listed.v[i].seen)
			continue;
		const struct item *g = items_find(&got, listed.v[i].id);
		stale++;
		buf_printf(&msg, "  %s is listed in %s but %s: delete its line (stale list)\n", listed.v[i].id,
			   list_path, g ? g->outcome : "is not in the suites any more");
		if (g)
			buf_printf(&msg, "    (%s: %s)\n", g->outcome, g->note);
	}
	cr_log_info("honest/%s: %zu cases, %zu pass, run took %.1f s", mode, got.n, passes, (double)took / 1000.0);
	if (updating()) {
		write_list(list_path, *listed.header ? listed.header : default_header, buf_str(&body));
		cr_log_info("%s rewritten: %zu ids", list_path, passes);
	} else {
		cr_expect(unlisted == 0 && stale == 0, "against the %s server (%s): %zu cases pass, %zu not listed, "
			  "%zu listed but not passing:\n%s", mode, what, passes, unlisted, stale, buf_str(&msg));
	}
	buf_release(&msg);
	buf_release(&body);
	items_free(&got);
	items_free(&listed);
	workdir_remove();
}

TestSuite(honest, .timeout = 300);

Test(honest, null_server)
{
	check_passes("null", DATA "null-pass.txt", null_header, "a server that answers 404 {} to everything");
}

Test(honest, yes_server)
{
	check_passes("yes", DATA "yes-pass.txt", yes_header,
		     "a server that answers 200 {} to everything and never sends a WebSocket frame");
}

/* ---- one divergence, exactly its cases ---------------------------------------------------------- */

/* Outcomes the expected files hold: every one that is not a pass, a skip or an INFO observation. */
static bool tracked(const char *outcome)
{
	return !strcmp(outcome, "fail") || !strcmp(outcome, "warn") || !strcmp(outcome, "blocked") ||
	       !strcmp(outcome, "error") || !strcmp(outcome, "flaky");
}

static void check_divergence(const char *script, const char *name, const char *suite, const char *expected_path,
			     const char *const *vars)
{
	/* Longer than any wait of a case (10 s), so a frame that never comes is the case's failure, not a timeout. */
	const char *args[40] = { "-j", "8", "--timeout", "15" };
	int n = 4;
	for (; *vars && n < 36; vars++) {
		args[n++] = "--var";
		args[n++] = *vars;
	}
	args[n++] = suite;
	args[n] = NULL;
	struct items got, want;
	int64_t took = run_against(script, NULL, name, args, &got);
	read_list(expected_path, true, &want);

	struct buf msg, body;
	buf_init(&msg, 1 << 20);
	buf_init(&body, 1 << 20);
	size_t count = 0, wrong = 0;
	for (size_t i = 0; i < got.n; i++) {
		const struct item *g = &got.v[i];
		if (!tracked(g->outcome))
			continue;
		char up[32];
		upper(g->outcome, up, sizeof(up));
		count++;
		buf_printf(&body, "%-7s %s  %s\n", up, g->id, kept_note(&want, g->id));
		struct item *w = items_find(&want, g->id);
		if (w)
			w->seen = true;
		if (w && !strcmp(w->outcome, up))
			continue;
		wrong++;
		buf_printf(&msg, "  %-7s %s  (expected %s): %s\n", up, g->id, w ? w->outcome : "it to pass, skip or inform",
			   g->note);
	}
	for (size_t i = 0; i < want.n; i++) {
		if (want.v[i].seen)
			continue;
		const struct item *g = items_find(&got, want.v[i].id);
		wrong++;
		buf_printf(&msg, "  %s expected %s, got %s\n", want.v[i].id, want.v[i].outcome,
			   g ? g->outcome : "no such case");
	}
	cr_log_info("honest/%s: %zu cases, %zu fail/warn/blocked/error, run took %.1f s", name, got.n, count,
		    (double)took / 1000.0);
	if (updating()) {
		write_list(expected_path, want.header, buf_str(&body));
		cr_log_info("%s rewritten: %zu ids", expected_path, count);
	} else {
		cr_expect(wrong == 0, "%s against %s: %zu outcomes differ from %s:\n%s", suite, script, wrong,
			  expected_path, buf_str(&msg));
	}
	buf_release(&msg);
	buf_release(&body);
	items_free(&got);
	items_free(&want);
	workdir_remove();
}

Test(honest, threads_token)
{
	const char *vars[] = { "KEY=00000000-0000-4000-8000-000000000001", "TOKEN=th-dev-token",
			       "TOKEN2=th-dev-token-2", NULL };
	check_divergence("tests/integration/threads_token_server.py", "threads-token", "suites/threads",
			 DATA "threads-token.expected", vars);
}

Test(honest, widget_details)
{
	const char *vars[] = { "KEY=widget-dev-key-0123456789abcdef", NULL };
	check_divergence("tests/integration/widget_details_server.py", "widget-details", "suites/widget",
			 DATA "widget-details.expected", vars);
}
