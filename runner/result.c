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
	}
	return "?";
}

int case_result_fails_run(const struct case_result *r, int strict)
{
	if (r->verdict == VERDICT_ERROR)
		return 1;
	if (r->verdict != VERDICT_FAIL)
		return 0;
	/* INFO cases never reach VERDICT_FAIL (the executor reports them as observations). */
	return r->tcase->level == LEVEL_MUST || (strict && r->tcase->level == LEVEL_SHOULD);
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
		free(rr->cases[i].message);
		buf_release(&rr->cases[i].diff);
		buf_release(&rr->cases[i].transcript);
	}
	free(rr->cases);
	rr->cases = NULL;
	rr->ncases = 0;
}
