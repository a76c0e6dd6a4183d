/*
 * Every MUST case quotes its document: the case's `clause` must appear in the file its suite's `spec`
 * names (docs/fixture-format.md: "MUST: the document states it").
 *
 * Both sides are normalised the same way before a case-sensitive substring search: the markdown
 * characters ` * _ # > | are dropped, then every run of whitespace becomes one space (and the clause
 * loses a leading and a trailing space).
 *
 * No exception is kept: every offender is listed in one failure message, with its clause, and the
 * fix is to quote the document word for word or to make the case a SHOULD quoting docs/spec-notes.md.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "common/buf.h"
#include "runner/suite.h"
#include "tests/unit/unit.h"

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

	size_t musts = 0, offenders = 0;
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
			if (!*clause || !strstr(doc, clause)) {
				offenders++;
				buf_printf(&msg, "  %s: \"%s\"\n", c->id, c->clause);
			}
			free(clause);
		}
		free(doc);
	}
	cr_expect(musts > 100, "only %zu MUST cases were found", musts);
	cr_expect(offenders == 0, "%zu of %zu MUST clauses are not in their suite's document (quote the document "
		  "word for word, or make the case a SHOULD quoting docs/spec-notes.md):\n%s", offenders, musts,
		  buf_str(&msg));
	suite_set_release(&set);
	buf_release(&err);
	buf_release(&msg);
}
