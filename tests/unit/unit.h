/* Shared helpers of the unit tests. */
#ifndef CC_TESTS_UNIT_H
#define CC_TESTS_UNIT_H

/*
 * Criterion's "str" type is char *, and -Wwrite-strings makes literals const:
 * STR() casts for eq(str, ...) comparisons.
 */
#define STR(s) ((char *)(s))

/* Assert that text contains needle, showing the whole text when it does not. */
#define assert_contains(text, needle) \
	cr_assert(strstr((text), (needle)) != NULL, "expected to find\n  %s\nin\n%s", (needle), (text))

#endif
