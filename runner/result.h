/*
 * result: the outcome of each case, which every report writer reads.
 */
#ifndef CC_RUNNER_RESULT_H
#define CC_RUNNER_RESULT_H

#include <stddef.h>

#include "common/buf.h"
#include "runner/suite.h"
#include "runner/timing.h"

enum verdict {
	VERDICT_PASS,
	VERDICT_FAIL,   /* the target did something the clause forbids */
	VERDICT_ERROR,  /* the case could not be carried out (timeout, refused, unknown variable...) */
	VERDICT_SKIP,
	VERDICT_FLAKY,  /* failed or erred, then passed on a rerun (--retries): does not fail the run */
	VERDICT_BLOCKED,  /* a precondition step failed: the clause was never reached; not a failure of it */
	VERDICT_OBSERVED, /* an INFO claim did not hold: diff says what was seen; never a failure */
};

/* One attempt of a case that did not pass (--retries keeps them all). */
struct case_attempt {
	enum verdict verdict;    /* VERDICT_FAIL or VERDICT_ERROR */
	char *message;
	struct buf diff;
	struct buf transcript;
	double time_ms;
};

struct case_result {
	const struct tcase *tcase;
	enum verdict verdict;
	char *message;           /* one line: the first difference, the error or the skip reason */
	struct buf diff;         /* every difference, one per line */
	struct buf transcript;   /* requests and responses, capped, credentials redacted */
	double time_ms;
	double started_at_ms;    /* wall clock, epoch ms */
	struct case_attempt *attempts;  /* the attempts before the last one, which all failed; oldest first */
	size_t nattempts;        /* 0 unless the case was retried */
	struct timing_list timings;  /* the last attempt's streams (HTTP streams, ws collects), in order */
};

struct run_result {
	struct case_result *cases;  /* in suite order, whatever order they ran in */
	size_t ncases;
	char target[1024];          /* "mock (mockd on 127.0.0.1:PORT)", the URL, or "targets FILE: api URL, ..." */
	char shard[24];             /* "K/N" when the run was one shard (--shard), else "" */
	char run_id[16];            /* RUN_ID of the run: 12 lowercase letters and digits */
	double started_at_ms;       /* wall clock, epoch ms */
	double time_ms;
	int strict;                 /* SHOULD failures count as failures */
};

/* "pass", "fail", "error", "skip", "flaky", "blocked", "observed". */
const char *verdict_name(enum verdict v);
/*
 * True when this result makes the run fail: an error, or a MUST failure (SHOULD
 * failures and blocked cases too when strict).  A flaky case (it passed on a
 * rerun) and an INFO observation never do.
 */
int case_result_fails_run(const struct case_result *r, int strict);
/* How many cases of rr make the run fail (case_result_fails_run with the run's strictness). */
size_t run_result_failures(const struct run_result *rr);
/* Free what an attempt holds. */
void case_attempt_release(struct case_attempt *a);
/* Free the cases of rr (messages, diffs, transcripts, attempts); rr itself is the caller's. */
void run_result_release(struct run_result *rr);

#endif
