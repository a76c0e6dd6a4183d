#include "runner/result.h"

#include <stdlib.h>

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS:
		return "pass";
	case VERDICT_FAIL:
		return "fail";
	case VERDICT_ERROR:
		return "error";
	case VERDICT_SKIP:
		return "skip";
	case VERDICT_FLAKY:
		return "flaky";
	case VERDICT_BLOCKED:
		return "blocked";
	case VERDICT_OBSERVED:
		return "observed";
	}
	return "?";
}

int case_result_fails_run(const struct case_result *r, int strict)
{
	if (r->verdict == VERDICT_ERROR)
		return 1;
	/* A strict run asks every case to reach its clause. */
	if (r->verdict == VERDICT_BLOCKED)
		return strict;
	if (r->verdict != VERDICT_FAIL)
		return 0;
	/* INFO cases never reach VERDICT_FAIL (the executor makes them VERDICT_OBSERVED). */
	return r->tcase->level == LEVEL_MUST || (strict && r->tcase->level == LEVEL_SHOULD);
}

size_t run_result_failures(const struct run_result *rr)
{
	size_t n = 0;
	for (size_t i = 0; i < rr->ncases; i++)
		n += case_result_fails_run(&rr->cases[i], rr->strict) != 0;
	return n;
}

void case_attempt_release(struct case_attempt *a)
{
	free(a->message);
	a->message = NULL;
	buf_release(&a->diff);
	buf_release(&a->transcript);
}

void run_result_release(struct run_result *rr)
{
	for (size_t i = 0; i < rr->ncases; i++) {
		for (size_t j = 0; j < rr->cases[i].nattempts; j++)
			case_attempt_release(&rr->cases[i].attempts[j]);
		free(rr->cases[i].attempts);
		timing_list_release(&rr->cases[i].timings);
		free(rr->cases[i].message);
		buf_release(&rr->cases[i].diff);
		buf_release(&rr->cases[i].transcript);
	}
	free(rr->cases);
	rr->cases = NULL;
	rr->ncases = 0;
}
