/*
 * --header and a targets file's "headers", end to end with bin/chatconform
 * against tests/integration/header_server.py, a server that writes down the
 * headers of every HTTP request and WebSocket upgrade it receives (and echoes
 * them back on /echo and in a frame, as a careless target might):
 * - the headers reach the server on request steps and on ws handshakes, in the
 *   documented order (suite defaults < targets file < --header < the step's own);
 * - their values are in no report (JUnit, JSON, HTML, TAP), no console line
 *   (-v prints the transcripts of the failed cases) and no recorded script;
 * - a misspelt API in a targets file and a bad --header are exit 2.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "harness.h"
#include "../unit/unit.h"

#define PYTHON "/usr/bin/python3"
#define SERVER "tests/integration/header_server.py"
#define SUITES "tests/data/suites/header"
#define OUT_MAX (16u << 20)

/* Every secret holds "SECRET"; what a transcript shows of a credential (4 characters) never does. */
#define RUN_SECRET "run-SECRET-0123456789"
#define AUTH_SECRET "Bearer auth-SECRET-abcdefgh"
#define BOT_SECRET "bot-SECRET-qwertyuiop"
#define THREADS_SECRET "thr-SECRET-zxcvbnm"
#define ENV "NO_COLOR=1 CC_HDR_BOT='" BOT_SECRET "' CC_HDR_THREADS='" THREADS_SECRET "' "

static pid_t server_pid = -1;
static char base_url[64];

static void start_server(void)
{
	if (access(PYTHON, X_OK) != 0)
		cr_skip_test("no " PYTHON);
	workdir_make("cc-header");
	const char *port_file = workdir_path("port");
	const char *log_file = workdir_path("headers.log");
	FILE *log = fopen(log_file, "w");   /* empty until a request arrives */
	cr_assert(log != NULL);
	fclose(log);
	server_pid = fork();
	cr_assert(server_pid >= 0, "fork: %s", strerror(errno));
	if (server_pid == 0) {
		execl(PYTHON, PYTHON, SERVER, port_file, log_file, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", PYTHON, strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(port_file, "r");
		int port = 0;
		if (f) {
			if (fscanf(f, "127.0.0.1:%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (port > 0) {
			snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", port);
			return;
		}
		int st;
		if (waitpid(server_pid, &st, WNOHANG) == server_pid)
			cr_fatal("the header server exited before listening (status %d)", st);
		usleep(20 * 1000);
	}
	cr_fatal("the header server did not write its port file within 10 s");
}

static void stop_server(void)
{
	if (server_pid > 0) {
		int st;
		kill(server_pid, SIGTERM);
		for (int i = 0; i < 250 && waitpid(server_pid, &st, WNOHANG) != server_pid; i++)
			usleep(20 * 1000);
		kill(server_pid, SIGKILL);
		waitpid(server_pid, &st, WNOHANG);
		server_pid = -1;
	}
	workdir_remove();
}

TestSuite(header, .init = start_server, .fini = stop_server, .timeout = 120);

/* bin/chatconform CMD with the options, stdout and stderr to run.out and run.err; its exit status. */
static int chatconform(const char *cmd, const char *opts)
{
	char cc[512];
	bin_path("chatconform", cc, sizeof(cc));
	return workdir_sh("run.out", "run.err", ENV "%s %s %s", cc, cmd, opts);
}

/* The headers the server received for the request of case marker (its X-Case) as JSON, or NULL. */
static cJSON *received(const char *marker, int ws)
{
	char *log = slurp_file(workdir_path("headers.log"), OUT_MAX);
	cJSON *found = NULL;
	for (char *save = NULL, *line = strtok_r(log, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		cJSON *e = cJSON_Parse(line);
		cr_assert(e != NULL, "not JSON: %s", line);
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(e, "headers");
		const char *x = json_get_string(h, "x-case");
		if (x && strcmp(x, marker) == 0 && cJSON_IsTrue(cJSON_GetObjectItem(e, "ws")) == ws)
			found = cJSON_DetachItemFromObject(e, "headers");
		cJSON_Delete(e);
	}
	free(log);
	return found;
}

/* Assert the header name (lowercase) of the request marked marker has value, or is absent when value is NULL. */
static void expect_header(const char *marker, int ws, const char *name, const char *value)
{
	cJSON *h = received(marker, ws);
	cr_assert(h != NULL, "the server saw no %s request with X-Case: %s", ws ? "WebSocket" : "HTTP", marker);
	const char *got = json_get_string(h, name);
	if (value)
		cr_expect(got && strcmp(got, value) == 0, "%s (%s): %s is %s, expected %s", marker, ws ? "ws" : "http",
			  name, got ? got : "absent", value);
	else
		cr_expect(got == NULL, "%s: %s is %s, expected absent", marker, name, got);
	cJSON_Delete(h);
}

/* Assert that no secret is in the file name of the work folder (which must exist and not be empty). */
static void no_secret_in(const char *name)
{
	char *text = slurp_file(workdir_path(name), OUT_MAX);
	cr_expect(strlen(text) > 0, "%s is empty", name);
	cr_expect(strstr(text, "SECRET") == NULL, "a secret in %s:\n%s", name, strstr(text, "SECRET"));
	free(text);
}

/* The options of every report, into the work folder. */
static const char *report_opts(void)
{
	static char opts[1024];
	snprintf(opts, sizeof(opts), "-v --tap --junit '%s' --json '%s' --html '%s'", workdir_path("junit.xml"),
		 workdir_path("results.json"), workdir_path("report.html"));
	return opts;
}

Test(header, reaches_requests_and_handshakes_and_no_output)
{
	char opts[2048];
	snprintf(opts, sizeof(opts), SUITES " --target %s -H 'X-Run-Secret: " RUN_SECRET "' "
		 "--header 'Authorization:  " AUTH_SECRET " ' %s", base_url, report_opts());
	/* header.http.echo and header.ws.echo fail on purpose: their transcripts are in every output. */
	cr_assert(eq(int, chatconform("run", opts), 1), "%s", slurp_file(workdir_path("run.err"), OUT_MAX));

	expect_header("plain", 0, "x-run-secret", RUN_SECRET);
	expect_header("plain", 0, "authorization", AUTH_SECRET);     /* the blanks around it dropped */
	expect_header("plain", 0, "x-suite-default", "suite-value");
	expect_header("own", 0, "x-run-secret", "case-own-value");   /* the step's own header wins */
	expect_header("removed", 0, "x-run-secret", NULL);           /* null leaves it out */
	expect_header("removed", 0, "authorization", AUTH_SECRET);
	expect_header("ws-plain", 1, "x-run-secret", RUN_SECRET);
	expect_header("ws-plain", 1, "authorization", AUTH_SECRET);
	expect_header("ws-plain", 1, "x-suite-default", "suite-value");
	expect_header("ws-own", 1, "x-run-secret", "case-own-value");

	/* TAP on stdout, the case lines and -v transcripts on stderr, the three report files. */
	const char *outputs[] = { "run.out", "run.err", "junit.xml", "results.json", "report.html" };
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++)
		no_secret_in(outputs[i]);
	/* Not vacuous: the transcripts with the request headers and the echoes are there, redacted. */
	char *console = slurp_file(workdir_path("run.err"), OUT_MAX);
	assert_contains(console, "> X-Run-Secret: (redacted)");
	assert_contains(console, "\"x-run-secret\": \"(redacted)\", \"authorization\": \"(redacted)\"");
	assert_contains(console, "< a: text {");
	free(console);
	char *json = slurp_file(workdir_path("results.json"), OUT_MAX);
	assert_contains(json, "X-Run-Secret: (redacted)");
	free(json);
}

/* A targets file for both test suites at the server, with a header per API. */
static const char *write_targets(const char *apis_extra)
{
	const char *path = workdir_path("targets.json");
	FILE *f = fopen(path, "w");
	cr_assert(f != NULL);
	fprintf(f, "{\"apis\": {\n"
		"  \"botchat\": {\"url\": \"%s\", \"headers\": {\"X-Bot-Token\": \"${env:CC_HDR_BOT}\"}},\n"
		"  \"threads\": {\"url\": \"%s\", \"headers\": {\"X-Threads-Token\": \"${env:CC_HDR_THREADS}\",\n"
		"                                        \"X-Run-Secret\": \"from-the-file-${env:CC_HDR_BOT}\"}}%s\n"
		"}}\n", base_url, base_url, apis_extra);
	fclose(f);
	return path;
}

Test(header, targets_file_headers_per_api_under_the_command_line)
{
	char opts[2048];
	snprintf(opts, sizeof(opts), SUITES " --targets '%s' -H 'X-Run-Secret: " RUN_SECRET "' %s", write_targets(""),
		 report_opts());
	cr_assert(eq(int, chatconform("run", opts), 1), "%s", slurp_file(workdir_path("run.err"), OUT_MAX));

	expect_header("plain", 0, "x-bot-token", BOT_SECRET);
	expect_header("plain", 0, "x-threads-token", NULL);          /* another API's header stays there */
	expect_header("plain", 0, "x-run-secret", RUN_SECRET);
	expect_header("removed", 0, "x-bot-token", NULL);
	expect_header("ws-plain", 1, "x-threads-token", THREADS_SECRET);
	expect_header("ws-plain", 1, "x-bot-token", NULL);
	expect_header("ws-plain", 1, "x-run-secret", RUN_SECRET);    /* --header wins over the file */
	expect_header("ws-own", 1, "x-run-secret", "case-own-value");
	expect_header("ws-own", 1, "x-threads-token", THREADS_SECRET);

	const char *outputs[] = { "run.out", "run.err", "junit.xml", "results.json", "report.html" };
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++)
		no_secret_in(outputs[i]);
	char *console = slurp_file(workdir_path("run.err"), OUT_MAX);
	assert_contains(console, "\"x-bot-token\": \"(redacted)\"");
	assert_contains(console, "\"x-threads-token\": \"(redacted)\"");
	free(console);
}

Test(header, record_writes_no_header_value)
{
	char opts[2048];
	snprintf(opts, sizeof(opts), SUITES " --targets '%s' -H 'X-Run-Secret: " RUN_SECRET "' -v --out '%s'",
		 write_targets(""), workdir_path("recorded"));
	cr_assert(eq(int, chatconform("record", opts), 0), "%s", slurp_file(workdir_path("run.err"), OUT_MAX));
	expect_header("plain", 0, "x-bot-token", BOT_SECRET);
	expect_header("plain", 0, "x-run-secret", RUN_SECRET);
	char *script = slurp_file(workdir_path("recorded/botchat.json"), OUT_MAX);
	assert_contains(script, "hello from the header server");   /* not vacuous: rules were written */
	free(script);
	no_secret_in("recorded/botchat.json");
	no_secret_in("run.out");
	no_secret_in("run.err");
}

Test(header, a_misspelt_api_in_a_targets_file_is_exit_2)
{
	char opts[2048];
	snprintf(opts, sizeof(opts), SUITES " --targets '%s' -H 'X-Run-Secret: " RUN_SECRET "'",
		 write_targets(",\n  \"widgit\": {\"url\": \"http://127.0.0.1:9\", \"vars\": {\"KEY\": \"${env:CC_HDR_BOT}\"}}"));
	cr_assert(eq(int, chatconform("run", opts), 2));
	char *err = slurp_file(workdir_path("run.err"), OUT_MAX);
	char want[1024];
	snprintf(want, sizeof(want), "%s: apis.widgit: unknown API; known: botchat, deepwiki, threads, widget\n",
		 workdir_path("targets.json"));
	assert_contains(err, want);
	cr_expect(strstr(err, "SECRET") == NULL, "%s", err);
	free(err);
	/* Nothing was sent. */
	char *log = slurp_file(workdir_path("headers.log"), OUT_MAX);
	cr_expect(eq(str, log, STR("")));
	free(log);
}

Test(header, a_bad_header_is_exit_2_and_never_echoed)
{
	static const struct {
		const char *arg, *says;
	} bad[] = {
		{ "Bearer SECRET-no-name", "give 'Name: value' (there is no ':'" },
		{ "X Tenant: SECRET", "the name is not an RFC 7230 token: byte 2" },
		{ ": SECRET", "the name is empty" },
		{ "X-Tenant: SEC\\rRET", "the value of X-Tenant holds a control character (byte 4 is CR)" },
		{ "X-Tenant: SEC\\nRET", "(byte 4 is LF)" },
		{ "Content-Length: 7", "Content-Length is set by chatconform for each request" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char opts[1024];
		snprintf(opts, sizeof(opts), SUITES " --target %s --header \"$(printf '%s')\"%s%s", base_url, bad[i].arg,
			 i % 2 ? " --out " : "", i % 2 ? workdir_path("recorded") : "");
		cr_expect(eq(int, chatconform(i % 2 ? "record" : "run", opts), 2), "%s", bad[i].arg);
		char *err = slurp_file(workdir_path("run.err"), OUT_MAX);
		assert_contains(err, "chatconform: cannot use --header: ");
		assert_contains(err, bad[i].says);
		cr_expect(strstr(err, "SECRET") == NULL && strstr(err, "SEC") == NULL, "%s", err);
		free(err);
	}
	char *log = slurp_file(workdir_path("headers.log"), OUT_MAX);
	cr_expect(eq(str, log, STR("")));
	free(log);
}
