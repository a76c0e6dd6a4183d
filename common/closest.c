/*
 * closest: the names a mistyped word may have meant, for "did you mean" hints
 * (the command line of chatconform, the config files of mockd).
 */
#include "common/closest.h"

#include <string.h>

size_t closest_distance(const char *a, size_t na, const char *b, size_t nb)
{
	/* Optimal string alignment over three rows: O(na * nb), both short. */
	size_t rows[3][65];
	size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];
	if (na > 64 || nb > 64)
		return (size_t)-1;
	for (size_t j = 0; j <= nb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= na; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (prev[j - 1] + cost < d)
				d = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < d)
				d = pp[j - 2] + 1;
			cur[j] = d;
		}
		size_t *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[nb];
}

size_t closest_names(const char *word, size_t len, const char *const *names, size_t n, const char **near)
{
	const char *best = NULL;
	size_t nprefixed = 0, best_d = (size_t)-1, nbest = 0;
	size_t limit = len >= 5 ? 2 : len >= 3 ? 1 : 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) > len && strncmp(names[i], word, len) == 0 && nprefixed++ < CLOSEST_MAX)
			near[nprefixed - 1] = names[i];
	if (nprefixed > 0 && nprefixed <= CLOSEST_MAX)
		return nprefixed;
	if (nprefixed)
		return 0;   /* it begins many: too short to tell */
	for (size_t i = 0; i < n; i++) {
		size_t d = closest_distance(word, len, names[i], strlen(names[i]));
		if (d < best_d) {
			best_d = d;
			best = names[i];
			nbest = 1;
		} else if (d == best_d) {
			nbest++;
		}
	}
	if (nbest != 1 || best_d > limit)
		return 0;
	near[0] = best;
	return 1;
}
