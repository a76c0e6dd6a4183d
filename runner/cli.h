/*
 * cli: the command line of chatconform, from one table per command.
 *
 * A command's table of options is what both getopt_long and its --help are
 * made from, so the help can never name an option the parser does not take,
 * nor miss one it does.  A mistyped option is one line: the option, the
 * closest one the command knows (or the command it belongs to), and where the
 * help is; options are taken spelt out only, so a new option never changes
 * what an abbreviation on an old command line meant.
 */
#ifndef CC_RUNNER_CLI_H
#define CC_RUNNER_CLI_H

#include <getopt.h>
#include <stdio.h>

#define CLI_MAX_OPTIONS 64     /* options of one command; cli_parser_init refuses a longer table */
#define CLI_KEY 256            /* the first key of a long-only option (a short one's key is its letter) */
#define CLI_END (-1)           /* cli_next: no option is left; the operands are argv[cli_operand(p)...] */
#define CLI_BAD (-2)           /* cli_next: a usage error, said in one line on stderr */

struct cli_option {
	const char *name;      /* the long name without "--"; NULL ends a table */
	int key;               /* what cli_next returns: the short letter ('t' is also -t), or CLI_KEY + n */
	const char *arg;       /* the value's placeholder in the help ("FILE"), or NULL: a flag */
	const char *help;      /* one line: what it does, and its default */
};

struct cli_group {
	const char *title;                  /* the heading in the help, or NULL to go on under the one before */
	const struct cli_option *options;   /* NULL ends a command's groups */
};

struct cli_command {
	const char *name;                   /* "run", or the program's name; NULL ends a table of commands */
	const char *synopsis;               /* what follows "chatconform run" on a usage line; '\n' between forms */
	const char *summary;                /* one line: what it does */
	const struct cli_group *groups;
	const struct cli_command *commands; /* the program's commands (only the program has them), or NULL */
	const char *notes;                  /* after the options: operands, defaults, exit status; or NULL */
};

struct cli_parser {
	const struct cli_command *cmd;
	const struct cli_command *program;  /* to say which command a misplaced option belongs to */
	struct option longopts[CLI_MAX_OPTIONS + 1];
	const struct cli_option *entry[CLI_MAX_OPTIONS];   /* longopts[i] came from entry[i] */
	size_t n;
	char shortopts[2 + 2 * CLI_MAX_OPTIONS + 1];
};

/* Print the help of cmd, a command of program or program itself: usage, summary, options, notes. */
void cli_help(FILE *out, const struct cli_command *program, const struct cli_command *cmd);
/* The command of program named name, or NULL. */
const struct cli_command *cli_find_command(const struct cli_command *program, const char *name);
/*
 * Say in one line on stderr that name is not a command of program: the closest
 * one, and every one.
 */
void cli_unknown_command(const struct cli_command *program, const char *name);

/* Make the getopt_long tables of cmd; 0, or -1 when cmd has more than CLI_MAX_OPTIONS options. */
int cli_parser_init(struct cli_parser *p, const struct cli_command *program, const struct cli_command *cmd);
/*
 * The next option of argv (argv[0] is the command's name): its key, and *value
 * its value (pointing into argv) or NULL; CLI_END; or CLI_BAD after one line
 * on stderr.  Uses getopt_long, so not thread-safe; operands may come between
 * options, and "--" ends them.
 */
int cli_next(struct cli_parser *p, int argc, char **argv, const char **value);
/* After CLI_END: the index of the first operand in argv. */
int cli_operand(const struct cli_parser *p);

#endif
