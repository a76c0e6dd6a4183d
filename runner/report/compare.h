/*
 * compare: what changed between two runs, read from their JSON reports
 * (runner/report/json.h).  Each side may be several files (the shards of one
 * run); a case is known by its id alone, so runs of different dates, targets
 * or shard counts compare.
 *
 * - regression: passed in the baseline, fails the current run (its record says
 *   "fails_run": a MUST failure, an error, or a SHOULD failure in a strict run)
 * - new warning: passed in the baseline, a SHOULD not met in a current run that
 *   is not strict (listed, not a regression)
 * - fix: failed or erred in the baseline, passes now
 * - added / removed: the id is on one side only
 * A case skipped on either side is none of these.  A flaky case (it passed on
 * a rerun) counts as passing on either side.  docs/reports.md has the rest.
 */
#ifndef CC_RUNNER_REPORT_COMPARE_H
#define CC_RUNNER_REPORT_COMPARE_H

#include <stddef.h>
#include <stdio.h>

#define COMPARE_FILE_MAX (1u << 30)   /* the largest JSON report compare reads */

enum compare_status {
	COMPARE_SAME = 0,       /* no regression */
	COMPARE_REGRESSED = 1,  /* at least one regression */
	COMPARE_INVALID = 2,    /* a file could not be read or is not a valid report; said on errout */
};

/* Compare the baseline files with the current files; the changes go to out, problems to errout. */
enum compare_status compare_files(const char *const *baseline, size_t nbaseline, const char *const *current,
				  size_t ncurrent, FILE *out, FILE *errout);

#endif
