/* bench: helpers the bench clients share (their options, their percentiles). */
#ifndef CC_BENCH_H
#define CC_BENCH_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

/* s as a whole number in [lo, hi] into *out; -1 (and *out untouched) when it is not one. */
static inline int bench_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* qsort's comparison of doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of n sorted values; 0 for none. */
static inline double bench_percentile(const double *v, size_t n, double q)
{
	if (!n)
		return 0;
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

#endif
