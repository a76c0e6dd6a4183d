/*
 * Every MUST case quotes its document: the case's `clause` must appear in the file its suite's `spec`
 * names (docs/fixture-format.md: "MUST: the document states it").
 *
 * Both sides are normalised the same way before a case-sensitive substring search: the markdown
 * characters ` * _ # > | are dropped, then every run of whitespace becomes one space (and the clause
 * loses a leading and a trailing space).
 *
 * Offenders known today are listed in tests/data/clauses-pending.txt (one id a line, each with a
 * `# reason`). The test fails on an offender that is not listed, and on a listed id that no longer
 * offends or no longer exists, so the list can only shrink; it must end empty.
 *
 *   UPDATE_CLAUSES=1 build/unit-tests --filter 'clauses/every*'   (tests/README.md)
 *
 * rewrites the list from the offenders of the suites as they are: reasons of ids still there are kept,
 * new ids get `# TODO reason`.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "common/buf.h"
#include "runner/suite.h"
#include "tests/unit/unit.h"

#define PENDING "tests/data/clauses-pending.txt"

static const char pending_header[] =
	"# MUST cases whose `clause` does not appear in their suite's document (tests/unit/test_clauses.c).\n"
	"#\n"
	"# TEMPORARY. This list must end EMPTY: a MUST case quotes its document, word for word (markdown\n"
	"# characters ` * _ # > | and whitespace runs aside). Fix a case by quoting the document exactly,\n"
	"# or by making it a SHOULD that quotes docs/spec-notes.md, then delete its line here.\n"
	"# The test fails on an offender missing from this list AND on a listed id that no longer offends\n"
	"# or no longer exists, so the list only shrinks. Never add a line by hand to make the test pass.\n"
	"#\n"
	"# Regenerate (keeps the reasons of ids still listed; new ids get `# TODO reason`):\n"
	"#   make build/unit-tests && UPDATE_CLAUSES=1 build/unit-tests --filter 'clauses/*'\n"
	"#\n"
	"# case.id  # why its clause is not in the document\n";

/* Drop the markdown characters, then collapse whitespace runs to one space. A new string. */
static char *normalise(const char *s, bool trim)
{
	size_t n = strlen(s);
	char *out = malloc(n + 1);
	cr_assert(out != NULL);
	size_t o = 0;
	bool space = false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (strchr("`*_#>|", c))
			continue;
		if (isspace(c)) {
			space = true;
			continue;
		}
		if (space && (o > 0 || !trim))
			out[o++] = ' ';
		space = false;
		out[o++] = (char)c;
	}
	if (space && !trim)
		out[o++] = ' ';
	out[o] = '\0';
	return out;
}

struct entry {
	char *id;
	char *text;     /* the clause (offenders) or the reason with its '#' (pending) */
	bool seen;
};

struct list {
	struct entry *v;
	size_t n, cap;
};

static void list_add(struct list *l, const char *id, const char *text)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		cr_assert(l->v != NULL);
	}
	l->v[l->n++] = (struct entry){ strdup(id), strdup(text ? text : ""), false };
}

static struct entry *list_find(struct list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].id, id))
			return &l->v[i];
	return NULL;
}

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].text);
	}
	free(l->v);
}

/* The pending list: "id  # reason" lines; '#' lines and blank lines are comments. */
static void read_pending(struct list *l)
{
	FILE *f = fopen(PENDING, "r");
	if (!f)
		return;
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		char *hash = strchr(p, '#');
		char *end = hash ? hash : p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		char id[512];
		snprintf(id, sizeof(id), "%.*s", (int)(end - p), p);
		list_add(l, id, hash ? hash : "");
	}
	fclose(f);
}

static void write_pending(const struct list *offenders, struct list *pending)
{
	FILE *f = fopen(PENDING ".tmp", "w");
	cr_assert(f != NULL, "cannot write %s.tmp", PENDING);
	fputs(pending_header, f);
	for (size_t i = 0; i < offenders->n; i++) {
		const struct entry *old = list_find(pending, offenders->v[i].id);
		fprintf(f, "%s  %s\n", offenders->v[i].id, old && *old->text ? old->text : "# TODO reason");
	}
	cr_assert(fclose(f) == 0);
	cr_assert(rename(PENDING ".tmp", PENDING) == 0);
}

/* The whole file, NUL-terminated; asserts when it cannot be read. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f != NULL, "cannot open %s", path);
	struct buf b;
	buf_init(&b, 1 << 26);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	buf_adds(&b, "");
	return buf_detach(&b, NULL);
}

TestSuite(clauses, .timeout = 60);

Test(clauses, every_must_clause_is_in_its_document)
{
	struct suite_set set;
	struct buf err, msg;
	buf_init(&err, 1 << 20);
	buf_init(&msg, 1 << 20);
	const char *paths[] = { "suites" };
	int rc = suite_set_load(&set, paths, 1, &err);
	cr_assert(rc == 0, "the suites do not load:\n%s", buf_str(&err));
	cr_assert(set.n > 0, "no suite under suites/");

	struct list offenders = { 0 }, pending = { 0 };
	size_t musts = 0;
	for (size_t i = 0; i < set.n; i++) {
		const struct suite *s = set.v[i];
		cr_assert(s->spec_path != NULL, "%s: its document %s was not found", s->path, s->spec);
		char *doc_raw = slurp(s->spec_path);
		char *doc = normalise(doc_raw, false);
		free(doc_raw);
		for (size_t k = 0; k < s->ncases; k++) {
			const struct tcase *c = &s->cases[k];
			if (c->level != LEVEL_MUST)
				continue;
			musts++;
			char *clause = normalise(c->clause, true);
			if (!*clause || !strstr(doc, clause))
				list_add(&offenders, c->id, c->clause);
			free(clause);
		}
		free(doc);
	}
	read_pending(&pending);

	if (getenv("UPDATE_CLAUSES") && !strcmp(getenv("UPDATE_CLAUSES"), "1")) {
		write_pending(&offenders, &pending);
		cr_log_info("%s rewritten: %zu of %zu MUST clauses are not in their documents", PENDING, offenders.n,
			    musts);
	} else {
		size_t unlisted = 0, stale = 0;
		for (size_t i = 0; i < offenders.n; i++) {
			struct entry *p = list_find(&pending, offenders.v[i].id);
			if (p) {
				p->seen = true;
				continue;
			}
			if (!unlisted++)
				buf_adds(&msg, "MUST clauses that are not in their suite's document (quote the document "
					       "word for word, or make the case a SHOULD quoting docs/spec-notes.md):\n");
			buf_printf(&msg, "  %s: \"%s\"\n", offenders.v[i].id, offenders.v[i].text);
		}
		for (size_t i = 0; i < pending.n; i++) {
			if (pending.v[i].seen)
				continue;
			if (!stale++)
				buf_adds(&msg, "listed in " PENDING " but no longer an offending MUST case (delete the "
					       "line: the list only shrinks):\n");
			buf_printf(&msg, "  %s\n", pending.v[i].id);
		}
		cr_expect(unlisted == 0 && stale == 0, "%zu of %zu MUST clauses are not in their documents "
			  "(%zu listed as pending); %zu unlisted, %zu stale:\n%s", offenders.n, musts,
			  offenders.n - unlisted, unlisted, stale, buf_str(&msg));
	}
	list_free(&offenders);
	list_free(&pending);
	suite_set_release(&set);
	buf_release(&err);
	buf_release(&msg);
}
