/*
 * Reports on every exit, and where they go, end to end with bin/chatconform:
 * - a target nothing listens on (a free 127.0.0.1 port): exit 3, and the
 *   JUnit, JSON and HTML reports hold every selected case as an error saying why;
 * - a run interrupted with SIGINT (SIGTERM) after its first case line (the
 *   slow suite tests/data/suites/slow, whose replies mockd delays 0.7 s):
 *   exit 130 (143), the finished cases keep their results, the others are
 *   errors "not run: the run was interrupted", and mockd was stopped;
 * - a FIFO and a symbolic link as report paths stay what they were and get the
 *   report; --junit - prints it on stdout; two reports on stdout is bad usage.
 * JUnit is checked against the schema (scripts/check-junit.sh), the HTML with
 * html5lib (check_html.py), the JSON by parsing it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "harness.h"
#include "../unit/unit.h"

#define OUT_MAX (16u << 20)

static void make_dir(void)
{
	workdir_make("cc-report-exit");
}

static void remove_dir(void)
{
	workdir_remove();
}

/* A loopback port nothing listens on: bound, then closed. */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, getsockname(fd, (struct sockaddr *)&sa, &len), 0));
	close(fd);
	return ntohs(sa.sin_port);
}

/* scripts/check-junit.sh on path: valid against the schema. */
static void expect_valid_junit(const char *path)
{
	int v = workdir_sh("xsd.out", "xsd.err", "scripts/check-junit.sh '%s'", path);
	char *said = slurp_file(workdir_path("xsd.err"), OUT_MAX);
	cr_expect(eq(int, v, 0), "%s is not valid JUnit:\n%s", path, said);
	free(said);
}

/* check_html.py on path: valid HTML (html5lib, strict), self-contained. */
static void expect_valid_html(const char *path)
{
	if (access("/usr/bin/python3", X_OK) != 0) {
		cr_log_warn("no /usr/bin/python3: %s was not validated", path);
		return;
	}
	int v = workdir_sh("html.out", "html.err", "/usr/bin/python3 tests/integration/check_html.py '%s'", path);
	char *said = slurp_file(workdir_path("html.out"), OUT_MAX);
	if (v == 77)
		cr_log_warn("HTML not validated: %s", said);
	else
		cr_expect(eq(int, v, 0), "%s is not valid HTML:\n%s", path, said);
	free(said);
}

static cJSON *load_json(const char *path)
{
	char *text = slurp_file(path, OUT_MAX);
	cJSON *doc = json_parse_exact(text, strlen(text));
	cr_assert(doc != NULL, "%s does not parse as JSON", path);
	free(text);
	return doc;
}

/* How many cases `chatconform list` selects from the suite files. */
static int count_listed(const char *suites)
{
	char cc[512];
	bin_path("chatconform", cc, sizeof(cc));
	cr_assert(eq(int, workdir_sh("list.out", "list.err", "%s list %s", cc, suites), 0));
	char *text = slurp_file(workdir_path("list.out"), OUT_MAX);
	int n = 0;
	for (char *p = text; *p; p++)
		n += *p == '\n';
	free(text);
	return n;
}

TestSuite(report_exit, .init = make_dir, .fini = remove_dir, .timeout = 120);

Test(report_exit, an_unreachable_target_writes_every_report_and_exits_3)
{
	char cc[512];
	bin_path("chatconform", cc, sizeof(cc));
	int port = free_port();
	int want = count_listed("suites/widget/auth.json");
	cr_assert(want > 0);
	int code = workdir_sh("run.out", "run.err",
			      "%s run suites/widget/auth.json --target http://127.0.0.1:%d --junit '%s' --json '%s' --html '%s'",
			      cc, port, workdir_path("r.xml"), workdir_path("r.json"), workdir_path("r.html"));
	char *err = slurp_file(workdir_path("run.err"), OUT_MAX);
	cr_assert(eq(int, code, 3), "%s", err);
	assert_contains(err, "cannot reach http://127.0.0.1:");
	free(err);

	expect_valid_junit(workdir_path("r.xml"));
	expect_valid_html(workdir_path("r.html"));
	char *xml = slurp_file(workdir_path("r.xml"), OUT_MAX);
	char attr[64];
	snprintf(attr, sizeof(attr), " tests=\"%d\" failures=\"0\" errors=\"%d\"", want, want);
	assert_contains(xml, attr);
	assert_contains(xml, "<error message=\"not run: the target could not be reached: cannot reach http://127.0.0.1:");
	free(xml);
	char *html = slurp_file(workdir_path("r.html"), OUT_MAX);
	assert_contains(html, "not run: the target could not be reached");
	free(html);

	cJSON *doc = load_json(workdir_path("r.json"));
	const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
	cr_expect(eq(int, cJSON_GetArraySize(cases), want));
	const cJSON *summary = cJSON_GetObjectItemCaseSensitive(doc, "summary");
	const cJSON *errors = cJSON_GetObjectItemCaseSensitive(summary, "error");
	cr_expect(cJSON_IsNumber(errors) && errors->valueint == want, "summary.error is not %d", want);
	const cJSON *c;
	cJSON_ArrayForEach(c, cases) {
		cr_expect(eq(str, STR(json_get_string(c, "outcome")), STR("error")), "%s", json_get_string(c, "id"));
		const char *msg = json_get_string(c, "message");
		cr_expect(msg && strstr(msg, "not run: the target could not be reached: cannot reach ") == msg,
			  "%s: %s", json_get_string(c, "id"), msg ? msg : "(no message)");
	}
	cJSON_Delete(doc);
}

Test(report_exit, a_mockd_that_cannot_start_writes_the_reports_and_exits_3)
{
	char cc[512];
	bin_path("chatconform", cc, sizeof(cc));
	/* A file that is not executable stands for a mockd that cannot be started. */
	int code = workdir_sh("run.out", "run.err", "%s run suites/widget/auth.json --mockd suites/widget/auth.json "
			      "--junit '%s' --json '%s'", cc, workdir_path("r.xml"), workdir_path("r.json"));
	cr_assert(eq(int, code, 3));
	expect_valid_junit(workdir_path("r.xml"));
	cJSON *doc = load_json(workdir_path("r.json"));
	const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "cases"), 0);
	cr_assert(first != NULL);
	const char *msg = json_get_string(first, "message");
	cr_expect(msg && strstr(msg, "not run: the target could not be reached: cannot start mockd") == msg, "%s",
		  msg ? msg : "(no message)");
	cJSON_Delete(doc);
}

/*
 * Start chatconform run on the slow suite (stdout a pipe, stderr to run.err), wait for its first
 * case line, send sig, and wait for it; its exit status (128 + signal when a signal ended it).
 */
static int run_and_interrupt(int sig, const char *extra)
{
	char cc[512], mockd[512], cmd[4096];
	bin_path("chatconform", cc, sizeof(cc));
	bin_path("mockd", mockd, sizeof(mockd));
	snprintf(cmd, sizeof(cmd), "exec %s run tests/data/suites/slow -j 2 --mockd %s "
		 "--mockd-arg=--scripts=tests/data/scripts/slow --mockd-arg=--time-scale=1 "
		 "--junit '%s' --json '%s' --html '%s' %s 2>'%s'", cc, mockd, workdir_path("i.xml"),
		 workdir_path("i.json"), workdir_path("i.html"), extra, workdir_path("run.err"));
	int out[2];
	cr_assert(eq(int, pipe(out), 0));
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* A run started in the background of a shell ignores SIGINT; this one must not. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		dup2(out[1], STDOUT_FILENO);
		close(out[0]);
		close(out[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	FILE *f = fdopen(out[0], "r"), *copy = fopen(workdir_path("run.out"), "w");
	cr_assert(f != NULL && copy != NULL);
	char line[4096];
	int sent = 0;
	if (strstr(extra, "--tap")) {
		/* The case lines are on stderr then, and stdout holds TAP alone, at the end. */
		for (int i = 0; i < 3000 && !sent; i++) {
			if (access(workdir_path("run.err"), R_OK) != 0) {   /* the shell has not made it yet */
				usleep(10 * 1000);
				continue;
			}
			char *err = slurp_file(workdir_path("run.err"), OUT_MAX);
			if (strstr(err, "PASS ")) {
				kill(pid, sig);
				sent = 1;
			}
			free(err);
			usleep(10 * 1000);
		}
	}
	while (fgets(line, sizeof(line), f)) {
		fputs(line, copy);
		/* The first case line: the first cases have finished, others are in flight or not started. */
		if (!sent && (strncmp(line, "PASS ", 5) == 0 || strncmp(line, "FAIL ", 5) == 0)) {
			kill(pid, sig);
			sent = 1;
		}
	}
	fclose(copy);
	fclose(f);
	int status;
	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	cr_assert(sent, "no case line came before the run ended");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The reports of an interrupted run: valid, the finished cases kept, the others not run for name. */
static void expect_interrupted_reports(const char *name)
{
	expect_valid_junit(workdir_path("i.xml"));
	expect_valid_html(workdir_path("i.html"));
	cJSON *doc = load_json(workdir_path("i.json"));
	const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
	int want = count_listed("tests/data/suites/slow");
	cr_expect(eq(int, cJSON_GetArraySize(cases), want), "every selected case is in the report");
	char reason[128];
	snprintf(reason, sizeof(reason), "not run: the run was interrupted (%s)", name);
	int passed = 0, not_run = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, cases) {
		const char *outcome = json_get_string(c, "outcome"), *msg = json_get_string(c, "message");
		if (strcmp(outcome, "pass") == 0)
			passed++;
		else if (strcmp(outcome, "error") == 0 && msg && strcmp(msg, reason) == 0)
			not_run++;
		else
			cr_expect(0, "%s: outcome %s, message %s", json_get_string(c, "id"), outcome, msg ? msg : "null");
	}
	cr_expect(passed >= 1, "the case that finished before the signal keeps its pass");
	cr_expect(not_run >= 1, "the run stopped taking cases (%d passed of %d)", passed, want);
	cJSON_Delete(doc);
	char *xml = slurp_file(workdir_path("i.xml"), OUT_MAX);
	assert_contains(xml, reason);
	free(xml);
	/* mockd was stopped by the runner (its goodbye), not left running. */
	char *err = slurp_file(workdir_path("run.err"), OUT_MAX);
	assert_contains(err, "mockd: stopped");
	assert_contains(err, "chatconform: interrupted (");
	free(err);
}

Test(report_exit, sigint_writes_the_reports_and_exits_130)
{
	int code = run_and_interrupt(SIGINT, "");
	char *err = slurp_file(workdir_path("run.err"), OUT_MAX);
	cr_assert(eq(int, code, 130), "%s", err);
	free(err);
	expect_interrupted_reports("SIGINT");
}

Test(report_exit, sigterm_writes_the_reports_and_tap_and_exits_143)
{
	int code = run_and_interrupt(SIGTERM, "--tap");
	char *err = slurp_file(workdir_path("run.err"), OUT_MAX);
	cr_assert(eq(int, code, 143), "%s", err);
	free(err);
	expect_interrupted_reports("SIGTERM");
	/* TAP: the whole plan, the cases not run as "not ok". */
	char *tap = slurp_file(workdir_path("run.out"), OUT_MAX);
	char plan[32];
	snprintf(plan, sizeof(plan), "\n1..%d\n", count_listed("tests/data/suites/slow"));
	assert_contains(tap, plan);
	assert_contains(tap, "\nnot ok ");
	assert_contains(tap, "not run: the run was interrupted (SIGTERM)");
	free(tap);
}

Test(report_exit, a_fifo_and_a_symlink_stay_and_get_the_reports)
{
	char cc[512], mockd[512];
	struct stat st;
	bin_path("chatconform", cc, sizeof(cc));
	bin_path("mockd", mockd, sizeof(mockd));
	cr_assert(eq(int, mkfifo(workdir_path("junit.fifo"), 0600), 0));
	cr_assert(eq(int, mkdir(workdir_path("real"), 0755), 0));
	FILE *f = fopen(workdir_path("real/run.json"), "w");
	cr_assert(f != NULL);
	fputs("old\n", f);
	fclose(f);
	cr_assert(eq(int, symlink("real/run.json", workdir_path("run.json")), 0));
	/* The FIFO's reader: cat in the background, copying into got.xml. */
	int code = workdir_sh("run.out", "run.err",
			      "{ cat '%s' >'%s' & %s run suites/widget/auth.json --mockd %s --junit '%s' --json '%s'; "
			      "rc=$?; wait; exit $rc; }", workdir_path("junit.fifo"), workdir_path("got.xml"), cc, mockd,
			      workdir_path("junit.fifo"), workdir_path("run.json"));
	char *err = slurp_file(workdir_path("run.err"), OUT_MAX);
	cr_assert(eq(int, code, 0), "%s", err);
	free(err);
	cr_assert(eq(int, lstat(workdir_path("junit.fifo"), &st), 0));
	cr_expect(eq(int, (int)(st.st_mode & S_IFMT), S_IFIFO), "the FIFO was replaced");
	cr_assert(eq(int, lstat(workdir_path("run.json"), &st), 0));
	cr_expect(eq(int, (int)(st.st_mode & S_IFMT), S_IFLNK), "the symbolic link was replaced");
	expect_valid_junit(workdir_path("got.xml"));
	cJSON *doc = load_json(workdir_path("real/run.json"));
	cr_expect(eq(str, STR(json_get_string(doc, "format")), STR("chatconform-results/1")));
	cJSON_Delete(doc);
	/* Nothing else in the folder: no temporary file left beside the link or its target. */
	int v = workdir_sh("ls.out", "ls.err", "ls -A '%s' '%s' | grep -c '[.]tmp[.]'", workdir_path(""), workdir_path("real"));
	cr_expect(v != 0, "a temporary file was left behind");
}

Test(report_exit, junit_dash_is_stdout)
{
	char cc[512], mockd[512];
	bin_path("chatconform", cc, sizeof(cc));
	bin_path("mockd", mockd, sizeof(mockd));
	int code = workdir_sh("junit.xml", "run.err", "%s run suites/widget/auth.json --mockd %s --junit -", cc, mockd);
	char *err = slurp_file(workdir_path("run.err"), OUT_MAX);
	cr_assert(eq(int, code, 0), "%s", err);
	assert_contains(err, "PASS ");   /* the case lines moved to stderr */
	free(err);
	char *xml = slurp_file(workdir_path("junit.xml"), OUT_MAX);
	cr_expect(strncmp(xml, "<?xml ", 6) == 0, "stdout is not the JUnit report alone:\n%.300s", xml);
	free(xml);
	expect_valid_junit(workdir_path("junit.xml"));
	cr_expect(access("-", F_OK) != 0, "a file named - was created");

	/* Two reports on stdout, or one with --tap, is bad usage: exit 2, nothing run. */
	code = workdir_sh("run.out", "run.err", "%s run suites/widget/auth.json --mockd %s --junit - --html -", cc, mockd);
	cr_expect(eq(int, code, 2));
	err = slurp_file(workdir_path("run.err"), OUT_MAX);
	assert_contains(err, "cannot write both --junit - and --html - to stdout");
	free(err);
	code = workdir_sh("run.out", "run.err", "%s run suites/widget/auth.json --mockd %s --json - --tap", cc, mockd);
	cr_expect(eq(int, code, 2));
	err = slurp_file(workdir_path("run.err"), OUT_MAX);
	assert_contains(err, "cannot write --json - with --tap");
	free(err);
}
