/*
 * cli: getopt_long tables and help text made from one table per command.
 */
#include "runner/cli.h"

#include <ctype.h>
#include <string.h>

#include "common/closest.h"

#define SPEC_MAX 64    /* "  -t, --target mock|URL", cut at this length (the tables' longest is 24) */
#define HELP_COLUMN 30 /* the help of an option starts here at most; a longer spec puts it on the next line */

/* Loop with o over every option of cmd, in table order (its groups one after the other). */
#define EACH_OPTION(cmd, o)                                                               \
	for (const struct cli_group *g_ = (cmd)->groups; g_ && g_->options; g_++)         \
		for (const struct cli_option *o = g_->options; o->name; o++)

static int has_short(const struct cli_option *o)
{
	return o->key > 0 && o->key < 128 && isalnum(o->key);
}

/* "  -t, --target mock|URL" into out (size SPEC_MAX); its length. */
static size_t option_spec(const struct cli_option *o, char *out)
{
	int n;
	if (has_short(o))
		n = snprintf(out, SPEC_MAX, "  -%c, --%s%s%s", o->key, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	else
		n = snprintf(out, SPEC_MAX, "      --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	return n < 0 ? 0 : (size_t)n < SPEC_MAX ? (size_t)n : SPEC_MAX - 1;
}

/* "chatconform run", or "chatconform" for the program itself, into out. */
static const char *full_name(const struct cli_command *program, const struct cli_command *cmd, char *out, size_t size)
{
	if (cmd == program)
		snprintf(out, size, "%s", program->name);
	else
		snprintf(out, size, "%s %s", program->name, cmd->name);
	return out;
}

/* " (did you mean --a, --b or --c?)" for the n names of near; prefix is "--" for options. */
static void print_near(FILE *out, const char *prefix, const char *const *near, size_t n)
{
	if (!n)
		return;
	fputs(" (did you mean", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s %s%s", i == 0 ? "" : i + 1 == n ? " or" : ",", prefix, near[i]);
	fputs("?)", out);
}

/* ---- help --------------------------------------------------------------------------------- */

/* "Usage: chatconform run SYNOPSIS", and a line "       chatconform run FORM" for each further form. */
static void print_usage(FILE *out, const char *name, const char *synopsis)
{
	const char *lead = "Usage:";
	for (const char *p = synopsis; *p;) {
		size_t len = strcspn(p, "\n");
		fprintf(out, "%-6s %s %.*s\n", lead, name, (int)len, p);
		lead = "";
		p += len;
		if (*p)
			p++;
	}
}

void cli_help(FILE *out, const struct cli_command *program, const struct cli_command *cmd)
{
	char name[128], spec[SPEC_MAX];
	size_t width = 0;

	full_name(program, cmd, name, sizeof(name));
	print_usage(out, name, cmd->synopsis);
	fprintf(out, "\n%s\n", cmd->summary);
	if (cmd->commands) {
		size_t w = 0;
		for (const struct cli_command *c = cmd->commands; c->name; c++)
			w = strlen(c->name) > w ? strlen(c->name) : w;
		fputs("\nCommands:\n", out);
		for (const struct cli_command *c = cmd->commands; c->name; c++)
			fprintf(out, "  %-*s  %s\n", (int)w, c->name, c->summary);
	}
	/* One column for the help of every option, unless a spec is too long for it. */
	EACH_OPTION(cmd, o) {
		size_t n = option_spec(o, spec) + 2;
		if (n <= HELP_COLUMN && n > width)
			width = n;
	}
	for (const struct cli_group *g = cmd->groups; g && g->options; g++) {
		if (g->title || g == cmd->groups)
			fprintf(out, "\n%s:\n", g->title ? g->title : "Options");
		for (const struct cli_option *o = g->options; o->name; o++) {
			size_t n = option_spec(o, spec);
			if (n + 2 > width)
				fprintf(out, "%s\n%*s%s\n", spec, (int)width, "", o->help);
			else
				fprintf(out, "%-*s%s\n", (int)width, spec, o->help);
		}
	}
	if (cmd->notes)
		fprintf(out, "\n%s", cmd->notes);
}

const struct cli_command *cli_find_command(const struct cli_command *program, const char *name)
{
	for (const struct cli_command *c = program->commands; c && c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void cli_unknown_command(const struct cli_command *program, const char *name)
{
	const char *names[CLI_MAX_OPTIONS] = { 0 }, *near[CLOSEST_MAX];
	size_t n = 0;
	for (const struct cli_command *c = program->commands; c && c->name && n < CLI_MAX_OPTIONS; c++)
		names[n++] = c->name;
	size_t nnear = closest_names(name, strlen(name), names, n, near);
	fprintf(stderr, "%s: unknown command %s", program->name, name);
	print_near(stderr, "", near, nnear);
	fputs("; the commands are", stderr);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s %s", i == 0 ? "" : i + 1 == n ? " and" : ",", names[i]);
	fprintf(stderr, "; try '%s --help'\n", program->name);
}

/* ---- parsing ------------------------------------------------------------------------------ */

int cli_parser_init(struct cli_parser *p, const struct cli_command *program, const struct cli_command *cmd)
{
	char *s;
	memset(p, 0, sizeof(*p));
	s = p->shortopts;
	p->cmd = cmd;
	p->program = program;
	*s++ = ':';   /* a missing value is ':', not '?': said apart from an unknown option */
	EACH_OPTION(cmd, o) {
		if (p->n >= CLI_MAX_OPTIONS)
			return -1;
		p->longopts[p->n] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL, o->key };
		p->entry[p->n++] = o;
		if (has_short(o)) {
			*s++ = (char)o->key;
			if (o->arg)
				*s++ = ':';
		}
	}
	*s = '\0';
	optind = 0;   /* 0, not 1: getopt starts afresh, whatever an earlier parse left behind */
	return 0;
}

static const struct cli_option *entry_of_key(const struct cli_parser *p, int key)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->entry[i]->key == key)
			return p->entry[i];
	return NULL;
}

/* The first of program and its commands with an option spelt word[0..len) (a long name, or one letter); NULL. */
static const struct cli_command *owner_of(const struct cli_command *program, const char *word, size_t len,
					  int is_short)
{
	for (const struct cli_command *c = program; c && c->name; c = c == program ? program->commands : c + 1) {
		EACH_OPTION(c, o) {
			if (is_short ? has_short(o) && len == 1 && o->key == word[0]
				     : strlen(o->name) == len && strncmp(o->name, word, len) == 0)
				return c;
		}
	}
	return NULL;
}

/*
 * The one line for an option the command does not have: shown is what was
 * typed ("--strictt", "-x"), word[0..len) the name to look for ("strictt";
 * "x" when is_short, or "strict" for a typed "-strict").
 */
static void say_unknown(const struct cli_parser *p, const char *shown, const char *word, size_t len, int is_short)
{
	char name[128];
	const char *names[CLI_MAX_OPTIONS] = { 0 }, *near[CLOSEST_MAX];
	const struct cli_command *owner = owner_of(p->program, word, len, is_short);
	size_t nnear = 0;

	for (size_t i = 0; i < p->n; i++)
		names[i] = p->entry[i]->name;
	if (!is_short)
		nnear = closest_names(word, len, names, p->n, near);
	full_name(p->program, p->cmd, name, sizeof(name));
	fprintf(stderr, "%s: unknown option %s", name, shown);
	if (nnear)
		print_near(stderr, "--", near, nnear);
	else if (owner == p->program)
		fprintf(stderr, " (an option of %s itself, before any command)", p->program->name);
	else if (owner)
		fprintf(stderr, " (an option of %s %s)", p->program->name, owner->name);
	fprintf(stderr, "; try '%s --help'\n", name);
}

/* The argv element getopt_long just found an error in: the short cluster holding letter, or the last one read. */
static const char *erring_element(int argc, char **argv, int letter)
{
	/* Inside a cluster ("-vx"), optind still points at it; at its end, past it. */
	if (letter && optind < argc && argv[optind][0] == '-' && argv[optind][1] != '-' &&
	    strchr(argv[optind] + 1, letter))
		return argv[optind];
	return optind > 0 && optind <= argc ? argv[optind - 1] : "";
}

int cli_next(struct cli_parser *p, int argc, char **argv, const char **value)
{
	char name[128];
	int index = -1;
	opterr = 0;   /* every message is ours, in one line */
	int ch = getopt_long(argc, argv, p->shortopts, p->longopts, &index);
	*value = optarg;
	if (ch == -1)
		return CLI_END;
	full_name(p->program, p->cmd, name, sizeof(name));
	const struct cli_option *o = ch == ':' || ch == '?' ? entry_of_key(p, optopt) : NULL;
	if (o && ch == ':') {
		fprintf(stderr, "%s: option --%s needs a value (%s); try '%s --help'\n", name, o->name, o->arg, name);
		return CLI_BAD;
	}
	if (o) {   /* '?' for an option we know: a value given to a flag ("--strict=1") */
		fprintf(stderr, "%s: option --%s takes no value; try '%s --help'\n", name, o->name, name);
		return CLI_BAD;
	}
	if (ch == '?' || ch == ':') {
		const char *text = erring_element(argc, argv, optopt);
		size_t shown = strcspn(text, "=");
		char what[128];
		if (optopt) {
			/* An unknown letter; of "-strict", read as -s -t ..., the whole word is looked up too. */
			const char *names[CLI_MAX_OPTIONS] = { 0 }, *near[CLOSEST_MAX];
			for (size_t i = 0; i < p->n; i++)
				names[i] = p->entry[i]->name;
			if (text[0] == '-' && text[1] != '-' && shown > 2 && closest_names(text + 1, shown - 1, names, p->n, near)) {
				snprintf(what, sizeof(what), "%.*s", (int)shown, text);
				say_unknown(p, what, text + 1, shown - 1, 0);
			} else {
				snprintf(what, sizeof(what), "-%c", optopt);
				say_unknown(p, what, what + 1, 1, 1);
			}
			return CLI_BAD;
		}
		/* An unknown long option, or an abbreviation of several. */
		snprintf(what, sizeof(what), "%.*s", (int)shown, text);
		size_t dashes = strncmp(text, "--", 2) == 0 ? 2 : 0;
		say_unknown(p, what, text + dashes, shown - dashes, 0);
		return CLI_BAD;
	}
	if (index >= 0) {
		/* getopt_long takes a unique abbreviation ("--stri"); we take the names spelt out only. */
		const char *text = optarg && optind >= 2 && optarg == argv[optind - 1] ? argv[optind - 2] : argv[optind - 1];
		size_t dashes = strncmp(text, "--", 2) == 0 ? 2 : 0;
		size_t len = strcspn(text + dashes, "=");
		if (len != strlen(p->longopts[index].name)) {
			const char *near = p->longopts[index].name;
			fprintf(stderr, "%s: unknown option %.*s", name, (int)(dashes + len), text);
			print_near(stderr, "--", &near, 1);
			fprintf(stderr, "; try '%s --help'\n", name);
			return CLI_BAD;
		}
	}
	return ch;
}

int cli_operand(const struct cli_parser *p)
{
	return optind;
}
