/*
 * timing: the figures of a stream's arrivals (timing.h).
 *
 * Percentiles sort a copy of the gaps: O(n log n) over at most
 * HTTP_MAX_EVENTS events, once per stream check and once per report entry.
 */
#include "runner/timing.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double timing_percentile(const double *sorted, size_t n, double p)
{
	if (!n)
		return -1;
	double rank = ceil(p / 100.0 * (double)n);
	size_t i = rank < 1 ? 0 : (size_t)rank - 1;
	return sorted[i < n ? i : n - 1];
}

double timing_median(double *v, size_t n)
{
	if (!n)
		return -1;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static void no_events(struct stream_timing *out)
{
	out->count = 0;
	out->first_ms = out->last_ms = -1;
	out->gap_p50_ms = out->gap_p99_ms = out->gap_max_ms = -1;
	out->gap_max_at = 0;
	out->spread_ms = -1;
	out->ticks = NULL;
	out->nticks = 0;
}

int timing_compute(const struct event *ev, size_t n, int ticks, struct stream_timing *out)
{
	no_events(out);
	if (!n)
		return 0;
	double *gaps = NULL;
	if (n > 1 && !(gaps = malloc((n - 1) * sizeof(*gaps))))
		return -1;
	size_t nt = n < TIMING_MAX_TICKS ? n : TIMING_MAX_TICKS;
	if (ticks && !(out->ticks = malloc(nt * sizeof(*out->ticks)))) {
		free(gaps);
		return -1;
	}
	out->count = n;
	out->first_ms = ev[0].at_ms;
	out->last_ms = ev[n - 1].at_ms;
	for (size_t i = 1; i < n; i++) {
		gaps[i - 1] = ev[i].at_ms - ev[i - 1].at_ms;
		if (out->gap_max_at == 0 || gaps[i - 1] > out->gap_max_ms) {
			out->gap_max_ms = gaps[i - 1];
			out->gap_max_at = i + 1;
		}
	}
	if (n > 1) {
		qsort(gaps, n - 1, sizeof(*gaps), cmp_double);
		out->gap_p50_ms = timing_percentile(gaps, n - 1, 50);
		out->gap_p99_ms = timing_percentile(gaps, n - 1, 99);
		out->spread_ms = out->last_ms - out->first_ms;
	}
	if (out->ticks) {
		/* Evenly by index, first and last always: the density of the ticks stays that of the events. */
		for (size_t k = 0; k < nt; k++) {
			size_t i = nt > 1 ? k * (n - 1) / (nt - 1) : 0;
			out->ticks[k] = ev[i].at_ms;
		}
		out->nticks = nt;
	}
	free(gaps);
	return 0;
}

void timing_release(struct stream_timing *t)
{
	free(t->ticks);
	t->ticks = NULL;
	t->nticks = 0;
}

void timing_list_add(struct timing_list *l, struct stream_timing *t)
{
	struct stream_timing *v = NULL;
	if (l->n < TIMING_MAX_STREAMS)
		v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v) {
		timing_release(t);
		l->dropped++;
		return;
	}
	l->v = v;
	l->v[l->n++] = *t;
	t->ticks = NULL;   /* the list owns them now */
	t->nticks = 0;
}

void timing_list_release(struct timing_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		timing_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
