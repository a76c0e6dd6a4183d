/*
 * timing: when the events of a stream arrived, as the figures the "timing"
 * stream check and the reports use (first event, gaps, spread, total).
 *
 * Every time is in milliseconds, with fractions, read from CLOCK_MONOTONIC,
 * and counted from the stream's reference: for an HTTP stream, the moment the
 * request began to go out (after connect and TLS); for a WebSocket collect,
 * the start of the last send item on that connection before the collect (the
 * end of the opening handshake when nothing was sent).  An event's at_ms holds
 * its time since that reference when these functions read it.
 */
#ifndef CC_RUNNER_TIMING_H
#define CC_RUNNER_TIMING_H

#include <stddef.h>

#include "runner/response.h"

#define TIMING_BURST_MS    5.0    /* two or more events all within this: "arrived in one burst" */
#define TIMING_MAX_TICKS   512    /* arrival times a stream keeps for the report's timeline */
#define TIMING_MAX_STREAMS 64     /* streams a case keeps figures for; the rest are counted only */

struct stream_timing {
	size_t step;             /* the case's step, from 1 */
	size_t item;             /* the ws script item of the collect, from 1; 0 for an HTTP stream */
	char conn[33];           /* the ws connection's name; "" for an HTTP stream */
	const char *kind;        /* "ndjson", "sse" or "ws" (a static string) */
	size_t count;            /* events */
	double first_ms;         /* arrival of the first event; -1 without events */
	double last_ms;          /* arrival of the last event; -1 without events */
	double gap_p50_ms;       /* gaps between consecutive events (nearest rank); -1 with fewer than two */
	double gap_p99_ms;
	double gap_max_ms;
	size_t gap_max_at;       /* the event (from 1) that ended the largest gap; 0 with fewer than two */
	double spread_ms;        /* last_ms - first_ms; -1 with fewer than two events */
	double total_ms;         /* to the end of the stream: HTTP, the end of the response; ws, the end of
				    the collect (the frame matching until, the max-th frame, or the timeout) */
	double *ticks;           /* arrival times for a timeline (every event, or TIMING_MAX_TICKS of them
				    evenly spread over the stream); NULL unless asked for */
	size_t nticks;
};

/* The streams of one case, in the order they ran. */
struct timing_list {
	struct stream_timing *v;
	size_t n;
	size_t dropped;          /* streams past TIMING_MAX_STREAMS, not kept */
};

/*
 * Fill the figures of out (count to spread; total_ms is the caller's) from n
 * events, whose at_ms are since the reference.  With ticks, also keep their
 * arrival times for a timeline.  0, or -1 when out of memory (the figures are
 * then those of no event).
 */
int timing_compute(const struct event *ev, size_t n, int ticks, struct stream_timing *out);
/* Free what t holds (its ticks). */
void timing_release(struct stream_timing *t);
/* Append t to l, which takes its ticks; past TIMING_MAX_STREAMS (or out of memory) t is freed and counted. */
void timing_list_add(struct timing_list *l, struct stream_timing *t);
/* Free every stream of l and empty it. */
void timing_list_release(struct timing_list *l);
/* The nearest-rank p-th percentile (0 < p <= 100) of n sorted values; -1 when n is 0. */
double timing_percentile(const double *sorted, size_t n, double p);
/* The median of n values (sorted in place; the mean of the middle two when n is even); -1 when n is 0. */
double timing_median(double *v, size_t n);

#endif
