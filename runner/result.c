#include "runner/result.h"

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
