/*
 * docmap: where a suite's sections and clauses are in the document it quotes,
 * so that a report can follow the document's order and headings.
 *
 * A section is found by its heading: a line of the document that is the
 * section's name once markdown heading marks ('#') and surrounding spaces are
 * left out, outside fenced code blocks (where "# Request" is a shell comment).  A clause is found as tests/unit/test_clauses.c finds it: both
 * sides lose the markdown characters ` * _ # > | and every run of whitespace
 * becomes one space, then a plain substring search.
 */
#ifndef CC_RUNNER_REPORT_DOCMAP_H
#define CC_RUNNER_REPORT_DOCMAP_H

#include <stddef.h>

#include "common/buf.h"

#define DOCMAP_MAX (8u << 20)   /* the largest document read; a larger one gives no order */

struct docmap_line {
	size_t off;         /* where the line starts in raw */
	const char *text;   /* the heading text in raw, without '#' marks and spaces */
	size_t tlen;
	int level;          /* the count of '#', 0 for a plain line */
};

struct docmap {
	char *raw;          /* the document, NUL-terminated */
	size_t len;
	struct docmap_line *lines;   /* every line outside fenced code, in order */
	size_t nlines;
	char *norm;         /* normalised (above), NUL-terminated */
	size_t *at;         /* at[i]: the offset in raw of norm[i] */
};

/* Read the document at path; 0, or -1 (d is left empty and safe to query and release). */
int docmap_load(struct docmap *d, const char *path);
void docmap_release(struct docmap *d);
/* The offset of the first line (outside fenced code) that names section as a heading, or -1. */
long docmap_heading(const struct docmap *d, const char *section);
/* The offset where clause is quoted (normalised as above), or -1. */
long docmap_quote(const struct docmap *d, const char *clause);
/*
 * Append the markdown headings above the heading at off (as docmap_heading
 * gave it), outermost first, each followed by sep ("POST /chat/stream › ");
 * nothing for a plain line.
 */
void docmap_parents(const struct docmap *d, long off, const char *sep, struct buf *out);

#endif
