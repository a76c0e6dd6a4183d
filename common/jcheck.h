/*
 * jcheck: check a JSON config document member by member and report every
 * problem at its place, as compilers do:
 *
 *   fixtures/scripts/x.json:4:17: rules[0].match.mesage: unknown member (did you mean message?; ...)
 *
 * cJSON keeps no positions, so a problem's line and column are found by walking
 * the document's text in step with the parsed tree (members and elements come
 * in the same order in both) until the node is reached: O(text) per problem,
 * paid only when there is one.  Lines and columns count from 1; a column counts
 * characters, not bytes.  Paths are spelt by common/jpath ("(root)" for the
 * document itself).
 *
 * The checkers below report and go on, so one load lists every mistake.  They
 * take the object, its path and a member name, and return the member when it is
 * usable.
 */
#ifndef CC_JCHECK_H
#define CC_JCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/buf.h"

#define JCHECK_MAX_LISTED 100   /* problems written out; more are counted ("and 12 more") */
#define JCHECK_PATH_LEN 512     /* bytes of a JSON path in a message */

struct jcheck {
	const char *file;        /* the name in messages ("body" for a request) */
	const char *text;        /* the document, not owned; must outlive the checks */
	size_t len;
	const cJSON *root;       /* set by jcheck_parse */
	struct buf *err;         /* one line per problem */
	unsigned nerr;
};

/* Start checking the document text[0..len), named file in messages; problems go to err. */
void jcheck_init(struct jcheck *c, const char *file, const char *text, size_t len, struct buf *err);
/*
 * Parse the text (UTF-8, one value, no \u0000 escape, nothing after it); the tree
 * (the caller frees it), or NULL with one "FILE:LINE:COLUMN: invalid JSON: ..." problem.
 */
cJSON *jcheck_parse(struct jcheck *c);
/* Report a problem with the value of node at path (NULL node: the file, with no position). */
void jcheck_bad(struct jcheck *c, const cJSON *node, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Report a problem with the member name of node (an unknown or duplicate member). */
void jcheck_bad_name(struct jcheck *c, const cJSON *node, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* After the checks: "and N more problems" when some were not listed; the number of problems. */
unsigned jcheck_finish(struct jcheck *c);

/* Report members of o not in allowed (NULL-terminated), with the close name, and duplicates; how many. */
unsigned jcheck_members(struct jcheck *c, const cJSON *o, const char *path, const char *const *allowed);
/* The object member name of o, or NULL (absent: reported when required; not an object: reported); its members
 * are checked against allowed unless that is NULL. */
const cJSON *jcheck_object(struct jcheck *c, const cJSON *o, const char *path, const char *name, bool required,
			   const char *const *allowed);
/* The array member name of o, or NULL (absent: reported when required; not an array: reported). */
const cJSON *jcheck_array(struct jcheck *c, const cJSON *o, const char *path, const char *name, bool required);
/* The string member name of o, or NULL (absent, reported when required; not a string or empty: reported). */
const char *jcheck_string(struct jcheck *c, const cJSON *o, const char *path, const char *name, bool required);
/* The true/false member name of o into *out (left as it was when absent or wrong); false when not a usable bool. */
bool jcheck_bool(struct jcheck *c, const cJSON *o, const char *path, const char *name, bool *out);
/* A whole number member in [min, max] into *out (left when absent or wrong); false when not usable. */
bool jcheck_count(struct jcheck *c, const cJSON *o, const char *path, const char *name, long min, long max,
		  long *out);
/*
 * The string member name of o as an index into names (NULL-terminated), or -1:
 * absent (reported when required), not a string, or not one of names (reported
 * with the close one and the list, what saying what the names are: "API").
 */
int jcheck_enum(struct jcheck *c, const cJSON *o, const char *path, const char *name, const char *const *names,
		const char *what, bool required);
/* The same for a string v that is not a member (an element of an array). */
int jcheck_enum_value(struct jcheck *c, const cJSON *v, const char *path, const char *const *names,
		      const char *what);

/* Where node starts in the text: its value's byte offset, and its member name's (or the value's). */
bool jcheck_where(const struct jcheck *c, const cJSON *node, size_t *value, size_t *name);
/* The bytes of the text of each element of array (in order) into sizes[0..n); false when not found. */
bool jcheck_sizes(const struct jcheck *c, const cJSON *array, size_t *sizes, size_t n);
/* The line and column (both from 1, the column in characters) of byte off of text. */
void jcheck_line_col(const char *text, size_t off, size_t *line, size_t *col);

#endif
