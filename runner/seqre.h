/*
 * seqre: regular expressions over a list of event types, for "sequence".
 *
 * Syntax: names ([A-Za-z_][A-Za-z0-9_.-]*) separated by spaces are a
 * concatenation; "." is any one event; postfix "*", "+", "?"; "|" between
 * alternatives; parentheses group.  The whole list must match.  Example:
 * "start token* (done | error)".
 */
#ifndef CC_RUNNER_SEQRE_H
#define CC_RUNNER_SEQRE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

struct seqre;

/* Compile a pattern; NULL with "column N: what" in err (which may be NULL) when it is malformed. */
struct seqre *seqre_compile(const char *pattern, struct buf *err);
void seqre_free(struct seqre *re);
#define SEQRE_TABLE_MAX 16384u   /* sequences kept compiled; past it, each check compiles its own */

/*
 * Compile pattern once and keep it for seqre_kept (the loader does this for
 * every sequence it validates).  0, or -1 with the reason in err.  Thread-safe.
 */
int seqre_register(const char *pattern, struct buf *err);
/* The kept compilation of pattern, or NULL when it was never registered.  Thread-safe. */
const struct seqre *seqre_kept(const char *pattern);
/* How many times a pattern was compiled since the process started (tests count them). */
unsigned long seqre_compilations(void);
/* True when the whole list of types matches. Linear in n times the pattern size. */
bool seqre_match(const struct seqre *re, const char *const *types, size_t n);
/* Length of the longest prefix of types that some match could still extend (for "went wrong at event N"). */
size_t seqre_prefix(const struct seqre *re, const char *const *types, size_t n);

#endif
