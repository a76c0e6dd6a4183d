/* closest: the names a mistyped word may have meant ("did you mean --strict?"). */
#ifndef CC_CLOSEST_H
#define CC_CLOSEST_H

#include <stddef.h>

#define CLOSEST_MAX 3
/*
 * The names of names[0..n) that word[0..len) may have meant, into near: those
 * it begins, when there are 1 to CLOSEST_MAX of them; else the only one at the
 * least edit distance (a swap of two neighbours counting one) when that is at
 * most 2 (1 for a word of 3 or 4 characters, 0 below).  How many (0 to CLOSEST_MAX).
 */
size_t closest_names(const char *word, size_t len, const char *const *names, size_t n, const char **near);
/* The edit distance of a[0..na) and b[0..nb), adjacent swaps counting one; both at most 64 characters. */
size_t closest_distance(const char *a, size_t na, const char *b, size_t nb);

#endif
