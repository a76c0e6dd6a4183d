/*
 * The command line of bin/chatconform, end to end:
 * - each COMMAND --help names its own options and no other command's, and
 *   `chatconform help COMMAND` prints the same bytes;
 * - a mistyped option is one line on stderr (the option, the closest one, where
 *   the help is), nothing on stdout, exit 2; so is an unknown command;
 * - --color=never writes no ESC, --color=always does, an invalid value is one line;
 * - off a terminal no \r counter is written; on one (a pseudo-terminal) the
 *   N/M counter runs on stderr and is erased at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/buf.h"
#include "harness.h"
#include "../unit/unit.h"

#define OUT_MAX (4u << 20)
/* Two cases of one small suite: a run of a second or so, against a mockd the runner starts. */
#define TWO_CASES "suites/widget/auth.json --filter 'widget.auth.wrong_*key'"

static char cc[512];

static void setup(void)
{
	workdir_make("cc-cli");
	bin_path("chatconform", cc, sizeof(cc));
}

static void teardown(void)
{
	workdir_remove();
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 120);

/* Run chatconform with args (shell words); its exit status, stdout and stderr (free both). */
static int cc_run(const char *args, char **out, char **err)
{
	int code = workdir_sh("out", "err", "%s %s", cc, args);
	*out = slurp_file(workdir_path("out"), OUT_MAX);
	*err = slurp_file(workdir_path("err"), OUT_MAX);
	return code;
}

static size_t count_lines(const char *text)
{
	size_t n = 0;
	for (; *text; text++)
		n += *text == '\n';
	return n;
}

struct help_case {
	const char *cmd;
	const char *own[8];       /* must be in its help */
	const char *foreign[8];   /* options of other commands: must not be */
};

static const struct help_case helps[] = {
	{ "run", { "--target", "--strict", "--junit FILE", "--retries", "--color WHEN", "-h, --help", "Exit status: 0" },
	  { "--out", "--baseline", "--current", "--version" } },
	{ "list", { "--filter GLOB", "--tag", "--exclude-tag", "--shard", "Exit status: 0" },
	  { "--target", "--strict", "--junit", "--out", "--color", "--baseline", "--jobs" } },
	{ "record", { "--out DIR", "--target", "--junit FILE", "--filter", "Exit status: 0" },
	  { "--baseline", "--current", "--version" } },
	{ "compare", { "--baseline FILE", "--current FILE", "BASELINE.json CURRENT.json", "Exit status: 0" },
	  { "--target", "--filter", "--strict", "--junit", "--out", "--color" } },
	{ "help", { "[COMMAND]", "-h, --help" }, { "--target", "--baseline", "--version" } },
};

Test(cli, each_command_help_shows_its_own_options_only)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		const struct help_case *h = &helps[i];
		char args[64], *out, *err;
		snprintf(args, sizeof(args), "%s --help", h->cmd);
		cr_expect(eq(int, cc_run(args, &out, &err), 0), "%s: %s", args, err);
		cr_expect(eq(str, err, STR("")), "%s wrote on stderr", args);
		char usage[64];
		snprintf(usage, sizeof(usage), "Usage: chatconform %s ", h->cmd);
		cr_expect(strncmp(out, usage, strlen(usage)) == 0, "%s begins:\n%.200s", args, out);
		for (size_t j = 0; j < 8 && h->own[j]; j++)
			cr_expect(strstr(out, h->own[j]) != NULL, "%s does not name %s:\n%s", args, h->own[j], out);
		for (size_t j = 0; j < 8 && h->foreign[j]; j++)
			cr_expect(strstr(out, h->foreign[j]) == NULL, "%s names %s:\n%s", args, h->foreign[j], out);
		/* Short enough to read: no line wider than 100 columns. */
		for (const char *p = out; *p;) {
			size_t len = strcspn(p, "\n");
			cr_expect(len <= 100, "%s: a line of %zu columns: %.*s", args, len, (int)len, p);
			p += len + (p[len] != '\0');
		}
		free(out);
		free(err);
	}
}

Test(cli, help_command_prints_the_same_as_command_help)
{
	static const char *const cmds[] = { "run", "list", "record", "compare", "help" };
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char args[64], *a, *b, *err;
		snprintf(args, sizeof(args), "%s --help", cmds[i]);
		cr_assert(eq(int, cc_run(args, &a, &err), 0));
		free(err);
		snprintf(args, sizeof(args), "help %s", cmds[i]);
		cr_expect(eq(int, cc_run(args, &b, &err), 0), "%s: %s", args, err);
		cr_expect(eq(str, a, b), "chatconform help %s differs from chatconform %s --help", cmds[i], cmds[i]);
		free(a);
		free(b);
		free(err);
	}
	char *global, *bare, *err;
	cr_assert(eq(int, cc_run("--help", &global, &err), 0));
	free(err);
	cr_expect(eq(int, cc_run("help", &bare, &err), 0));
	cr_expect(eq(str, global, bare), "chatconform help differs from chatconform --help");
	/* The global help is short: the commands, not their options. */
	assert_contains(global, "Commands:\n");
	assert_contains(global, "  compare ");
	cr_expect(strstr(global, "--strict") == NULL && strstr(global, "--baseline") == NULL, "%s", global);
	cr_expect(count_lines(global) < 25, "chatconform --help is %zu lines", count_lines(global));
	free(global);
	free(bare);
	free(err);
}

/* args fails with exit 2, nothing on stdout, and one line on stderr holding every NULL-terminated needle. */
static void expect_one_line(const char *args, ...)
{
	char *out, *err;
	va_list ap;
	cr_expect(eq(int, cc_run(args, &out, &err), 2), "chatconform %s", args);
	cr_expect(eq(str, out, STR("")), "chatconform %s wrote on stdout:\n%s", args, out);
	cr_expect(eq(sz, count_lines(err), 1), "chatconform %s: not one line:\n%s", args, err);
	va_start(ap, args);
	for (const char *needle; (needle = va_arg(ap, const char *));)
		assert_contains(err, needle);
	va_end(ap);
	free(out);
	free(err);
}

Test(cli, a_mistyped_option_is_one_line_and_exit_2)
{
	expect_one_line("run --strictt",
			"chatconform run: unknown option --strictt (did you mean --strict?); try 'chatconform run --help'\n",
			NULL);
	expect_one_line("run suites/widget --jbos 4", "unknown option --jbos (did you mean --jobs?)", NULL);
	expect_one_line("run --retr 1", "unknown option --retr (did you mean --retries?)", NULL);   /* no abbreviation */
	expect_one_line("run --targ x", "(did you mean --target or --targets?)", NULL);
	expect_one_line("list --junit x.xml", "chatconform list: unknown option --junit (an option of chatconform run)",
			"try 'chatconform list --help'", NULL);
	expect_one_line("run --out dir", "unknown option --out (an option of chatconform record)", NULL);
	expect_one_line("compare --baseln a.json", "(did you mean --baseline?); try 'chatconform compare --help'", NULL);
	expect_one_line("run --zzzzzz", "chatconform run: unknown option --zzzzzz; try 'chatconform run --help'\n", NULL);
	expect_one_line("run --target", "chatconform run: option --target needs a value (mock|URL)", NULL);
	expect_one_line("--hlep", "chatconform: unknown option --hlep (did you mean --help?); try 'chatconform --help'",
			NULL);
	expect_one_line("rnu", "chatconform: unknown command rnu (did you mean run?); the commands are run, list, "
			"record, compare and help", NULL);
	expect_one_line("help nothing", "chatconform: unknown command nothing; the commands are", NULL);
	expect_one_line("run --color=sometimes", "cannot use --color sometimes: give auto, always or never", NULL);
}

Test(cli, color_never_and_always)
{
	char *out, *err, args[256];
	snprintf(args, sizeof(args), "run " TWO_CASES " --junit '%s' --color=never", workdir_path("j.xml"));
	cr_assert(eq(int, cc_run(args, &out, &err), 0), "%s", err);
	assert_contains(out, "PASS    widget.auth.wrong_key ");
	cr_expect(strchr(out, '\033') == NULL && strchr(err, '\033') == NULL, "an ESC with --color=never:\n%s", out);
	/* Neither stdout nor stderr is a terminal here: no counter, no \r. */
	cr_expect(strchr(out, '\r') == NULL && strchr(err, '\r') == NULL, "a \\r off a terminal:\n%s\n%s", out, err);
	free(out);
	free(err);

	snprintf(args, sizeof(args), "run " TWO_CASES " --junit '%s' --color always", workdir_path("j.xml"));
	cr_assert(eq(int, cc_run(args, &out, &err), 0), "%s", err);
	assert_contains(out, "\033[32mPASS   \033[0m widget.auth.wrong_key ");
	cr_expect(strchr(out, '\r') == NULL && strchr(err, '\r') == NULL, "a \\r off a terminal:\n%s\n%s", out, err);
	free(out);
	free(err);

	/* auto, off a terminal: none, even with FORCE_COLOR-like settings absent. */
	snprintf(args, sizeof(args), "run " TWO_CASES " --junit '%s'", workdir_path("j.xml"));
	cr_assert(eq(int, cc_run(args, &out, &err), 0), "%s", err);
	cr_expect(strchr(out, '\033') == NULL, "an ESC with --color=auto into a file:\n%s", out);
	free(out);
	free(err);
}

/*
 * Run chatconform with args (NULL-terminated, after the program) on a fresh
 * pseudo-terminal as its stdout and stderr, with TERM and NO_COLOR set as given
 * (NULL: unset); what the terminal received, and the exit status in *code.
 */
static char *run_on_pty(const char *const *args, const char *term, const char *no_color, int *code)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert(master >= 0, "posix_openpt: %s", strerror(errno));
	cr_assert(grantpt(master) == 0 && unlockpt(master) == 0);
	const char *slave_name = ptsname(master);
	cr_assert(slave_name != NULL);
	char slave_path[128];
	snprintf(slave_path, sizeof(slave_path), "%s", slave_name);

	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		const char *argv[32] = { cc };
		size_t n = 1;
		for (; args[n - 1] && n < 31; n++)
			argv[n] = args[n - 1];
		argv[n] = NULL;
		setsid();
		int slave = open(slave_path, O_RDWR);
		int devnull = open("/dev/null", O_RDONLY);
		if (slave < 0 || devnull < 0)
			_exit(126);
		dup2(devnull, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		close(master);
		if (term)
			setenv("TERM", term, 1);
		else
			unsetenv("TERM");
		if (no_color)
			setenv("NO_COLOR", no_color, 1);
		else
			unsetenv("NO_COLOR");
		execv(cc, (char *const *)argv);
		_exit(127);
	}
	struct buf got;
	buf_init(&got, OUT_MAX);
	for (;;) {
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		if (poll(&pfd, 1, 60000) <= 0)
			break;
		char chunk[4096];
		ssize_t r = read(master, chunk, sizeof(chunk));
		if (r <= 0)   /* EIO once the last writer of the terminal has gone */
			break;
		buf_add(&got, chunk, (size_t)r);
	}
	int st;
	cr_assert(waitpid(pid, &st, 0) == pid);
	close(master);
	*code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (!got.data)
		buf_adds(&got, "");
	return buf_detach(&got, NULL);
}

Test(cli, on_a_terminal_the_counter_runs_and_is_erased)
{
	const char *const args[] = { "run", "suites/widget/auth.json", "--filter", "widget.auth.wrong_*key", "--junit",
				     workdir_path("j.xml"), "-j", "1", NULL };
	int code;
	char *tty = run_on_pty(args, "xterm", NULL, &code);
	cr_assert(eq(int, code, 0), "%s", tty);
	/* The counter before each case line, "N/M" then erased ("\r    \r"), the last one erased too. */
	assert_contains(tty, "0/2\r   \r");
	assert_contains(tty, "1/2\r   \r");
	assert_contains(tty, "2/2\r   \r");
	/* Nothing drawn after the last erasure: every later \r is a line end's (the terminal writes \r\n). */
	const char *last = NULL;
	for (const char *p = tty; (p = strstr(p, "\r   \r")); p++)
		last = p;
	for (const char *p = last + 5; *p; p++)
		cr_expect(p[0] != '\r' || p[1] == '\n', "a counter left after the last erasure:\n%s", last);
	assert_contains(tty, "\033[32mPASS");   /* auto: a terminal, TERM=xterm, no NO_COLOR */
	free(tty);

	/* NO_COLOR: no colour with auto, the counter still runs. */
	tty = run_on_pty(args, "xterm", "1", &code);
	cr_assert(eq(int, code, 0), "%s", tty);
	cr_expect(strchr(tty, '\033') == NULL, "an ESC with NO_COLOR=1:\n%s", tty);
	assert_contains(tty, "2/2\r");
	free(tty);

	/* TERM=dumb: neither. */
	tty = run_on_pty(args, "dumb", NULL, &code);
	cr_assert(eq(int, code, 0), "%s", tty);
	cr_expect(strchr(tty, '\033') == NULL, "an ESC with TERM=dumb:\n%s", tty);
	cr_expect(strstr(tty, "1/2") == NULL, "a counter with TERM=dumb:\n%s", tty);
	free(tty);
}
