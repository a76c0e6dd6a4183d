/*
 * Unit tests for runner/cli.c: the getopt_long tables and the help made from
 * one table, the one-line errors with their suggestion, the closest name.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/closest.h"
#include "runner/cli.h"
#include "tests/unit/unit.h"

enum { OPT_BETA = CLI_KEY, OPT_BETAMAX, OPT_GAMMA };

static const struct cli_option alpha_options[] = {
	{ "alpha",   'a',         NULL,   "a flag with a letter" },
	{ "beta",    OPT_BETA,    "B",    "a long option with a value (default: none)" },
	{ "betamax", OPT_BETAMAX, NULL,   "a flag that beta begins" },
	{ NULL },
};
static const struct cli_option other_options[] = {
	{ "gamma",   OPT_GAMMA,   "G",    "an option of the other command" },
	{ NULL },
};
static const struct cli_group alpha_groups[] = { { "Things", alpha_options }, { NULL, NULL } };
static const struct cli_group other_groups[] = { { NULL, other_options }, { NULL, NULL } };
static const struct cli_command test_commands[] = {
	{ "one", "[FILE...] [options]", "The first command.", alpha_groups, NULL, "Exit status: 0.\n" },
	{ "two", "X", "The second command.", other_groups, NULL, NULL },
	{ NULL },
};
static const struct cli_command test_program = {
	"prog", "COMMAND [options]", "A program.", NULL, test_commands, NULL,
};

/* The argv of the last parse: a copy of its args, which getopt_long may reorder. */
static char *argv_copy[16];

/* Run cli_next over args (NULL-terminated, args[0] the command) until it ends; the keys into keys, stderr
 * into err (malloc'd). The last return of cli_next. */
static int parse(const struct cli_command *cmd, const char *const *args, int *keys, size_t nkeys, char **err,
		 int *first)
{
	struct cli_parser p;
	const char *value;
	char **args_copy = argv_copy;
	int argc = 0, ch, saved = dup(2);
	char path[] = "/tmp/cc-cli-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0 && saved >= 0);
	for (int i = 0; argv_copy[i]; i++)  /* the previous call's copy (getopt permutes it, frees nothing) */
		free(argv_copy[i]), argv_copy[i] = NULL;
	for (; args[argc] && argc < 15; argc++)
		argv_copy[argc] = strdup(args[argc]);
	argv_copy[argc] = NULL;
	cr_assert(eq(int, cli_parser_init(&p, &test_program, cmd), 0));
	fflush(stderr);
	dup2(fd, 2);
	size_t n = 0;
	while ((ch = cli_next(&p, argc, args_copy, &value)) >= 0 && n < nkeys)
		keys[n++] = ch;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	*first = cli_operand(&p);
	FILE *f = fdopen(fd, "r");
	rewind(f);
	char buf[4096];
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[len] = '\0';
	fclose(f);
	unlink(path);
	*err = strdup(buf);
	return ch;
}

Test(cli, options_and_operands_in_any_order)
{
	const char *args[] = { "one", "-a", "f1", "--beta", "x", "--betamax", "f2", "--beta=y", NULL };
	int keys[8], first;
	char *err;
	cr_assert(eq(int, parse(&test_commands[0], args, keys, 8, &err, &first), CLI_END));
	cr_expect(eq(str, err, STR("")));
	cr_expect(eq(int, keys[0], 'a'));
	cr_expect(eq(int, keys[1], OPT_BETA));
	cr_expect(eq(int, keys[2], OPT_BETAMAX));
	cr_expect(eq(int, keys[3], OPT_BETA));
	cr_expect(eq(str, argv_copy[first], STR("f1")));   /* getopt_long moved the operands to the end */
	cr_expect(eq(str, argv_copy[first + 1], STR("f2")));
	free(err);
}

/* args gives exactly one line on stderr, holding every NULL-terminated needle. */
static void expect_one_line(const struct cli_command *cmd, const char *const *args, ...)
{
	int keys[8], first;
	char *err;
	va_list ap;
	cr_assert(eq(int, parse(cmd, args, keys, 8, &err, &first), CLI_BAD));
	cr_expect(strchr(err, '\n') == err + strlen(err) - 1, "not one line:\n%s", err);
	va_start(ap, args);
	for (const char *needle; (needle = va_arg(ap, const char *));)
		assert_contains(err, needle);
	va_end(ap);
	free(err);
}

Test(cli, a_mistyped_option_is_one_line_with_the_closest)
{
	const char *typo[] = { "one", "--alpah", NULL };
	expect_one_line(&test_commands[0], typo, "prog one: unknown option --alpah (did you mean --alpha?)",
			"; try 'prog one --help'", NULL);
	const char *value[] = { "one", "--alpah=3", NULL };
	expect_one_line(&test_commands[0], value, "unknown option --alpah (did you mean --alpha?)", NULL);
	const char *single[] = { "one", "-alpha", NULL };
	expect_one_line(&test_commands[0], single, "unknown option -alpha (did you mean --alpha?)", NULL);
	const char *letter[] = { "one", "-x", NULL };
	expect_one_line(&test_commands[0], letter, "prog one: unknown option -x; try 'prog one --help'", NULL);
	const char *other[] = { "one", "--gamma", "1", NULL };
	expect_one_line(&test_commands[0], other, "unknown option --gamma (an option of prog two)", NULL);
	const char *far[] = { "one", "--zzzzzz", NULL };
	expect_one_line(&test_commands[0], far, "prog one: unknown option --zzzzzz; try 'prog one --help'", NULL);
}

Test(cli, abbreviations_are_refused_with_the_full_name)
{
	/* getopt_long would take --alp for --alpha; a later --alpine would change what it means. */
	const char *abbrev[] = { "one", "--alp", NULL };
	expect_one_line(&test_commands[0], abbrev, "unknown option --alp (did you mean --alpha?)", NULL);
	const char *with_value[] = { "one", "--betam", NULL };
	expect_one_line(&test_commands[0], with_value, "unknown option --betam (did you mean --betamax?)", NULL);
	const char *ambiguous[] = { "one", "--bet", "x", NULL };
	expect_one_line(&test_commands[0], ambiguous, "unknown option --bet (did you mean --beta or --betamax?)", NULL);
}

Test(cli, values_missing_or_not_taken)
{
	const char *missing[] = { "one", "--beta", NULL };
	expect_one_line(&test_commands[0], missing, "prog one: option --beta needs a value (B)", NULL);
	const char *extra[] = { "one", "--alpha=1", NULL };
	expect_one_line(&test_commands[0], extra, "prog one: option --alpha takes no value", NULL);
}

Test(cli, the_help_is_made_from_the_table)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	cli_help(out, &test_program, &test_commands[0]);
	fclose(out);
	assert_contains(text, "Usage: prog one [FILE...] [options]\n\nThe first command.\n\nThings:\n");
	assert_contains(text, "  -a, --alpha    a flag with a letter\n");
	assert_contains(text, "      --beta B   a long option with a value (default: none)\n");
	assert_contains(text, "\nExit status: 0.\n");
	cr_expect(strstr(text, "gamma") == NULL, "%s", text);
	free(text);

	out = open_memstream(&text, &len);
	cli_help(out, &test_program, &test_program);
	fclose(out);
	assert_contains(text, "Usage: prog COMMAND [options]\n");
	assert_contains(text, "Commands:\n  one  The first command.\n  two  The second command.\n");
	free(text);
}

Test(cli, closest_name)
{
	static const char *const names[] = { "target", "targets", "tag", "tap", "timeout", "strict", "json" };
	const char *near[CLOSEST_MAX];
	size_t n = sizeof(names) / sizeof(names[0]);
	cr_expect(eq(sz, closest_distance("tga", 3, "tag", 3), 1));   /* a swap is one */
	cr_expect(eq(sz, closest_distance("strictt", 7, "strict", 6), 1));
	cr_expect(eq(sz, closest_distance("", 0, "abc", 3), 3));
	cr_assert(eq(sz, closest_names("strct", 5, names, n, near), 1));
	cr_expect(eq(str, (char *)near[0], STR("strict")));
	cr_assert(eq(sz, closest_names("time", 4, names, n, near), 1));   /* the only one it begins */
	cr_expect(eq(str, (char *)near[0], STR("timeout")));
	cr_assert(eq(sz, closest_names("targ", 4, names, n, near), 2));
	cr_expect(eq(str, (char *)near[1], STR("targets")));
	cr_expect(eq(sz, closest_names("t", 1, names, n, near), 0));      /* begins five: no guess */
	cr_expect(eq(sz, closest_names("zz", 2, names, n, near), 0));
	cr_expect(eq(sz, closest_names("jsno", 4, names, n, near), 1));
	cr_expect(eq(sz, closest_names("xxxxxx", 6, names, n, near), 0));
}
