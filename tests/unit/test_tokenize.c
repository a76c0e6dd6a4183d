/* Unit tests for common/tokenize.c: tokens put back together give the text; counts and prefixes. */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/tokenize.h"
#include "tests/unit/unit.h"

static const char *const texts[] = {
	"We are a",
	"",
	" ",
	"   ",
	"word",
	"  leading spaces",
	"trailing spaces  ",
	"tabs\tand\nnew\r\nlines",
	"h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac 100",
	"multiple   spaces   between",
	"\xf0\x9f\x98\x80 emoji\xf0\x9f\x98\x80",
};

Test(tokenize, tokens_concatenate_back_to_the_text)
{
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		const char *s = texts[t];
		size_t n = strlen(s), at = 0, count = 0;
		char rebuilt[256] = "";
		while (at < n) {
			size_t k = token_len(s + at, n - at);
			cr_assert(k > 0, "empty token in \"%s\"", s);
			strncat(rebuilt, s + at, k);
			at += k;
			count++;
		}
		cr_assert(eq(str, rebuilt, STR(s)));
		cr_assert(eq(sz, token_count(s, n), count), "\"%s\"", s);
	}
}

Test(tokenize, the_shape_of_tokens)
{
	const char *s = "We are a";
	cr_assert(eq(sz, token_len(s, 8), 2));       /* "We" */
	cr_assert(eq(sz, token_len(s + 2, 6), 4));   /* " are" */
	cr_assert(eq(sz, token_len(s + 6, 2), 2));   /* " a" */
	cr_assert(eq(sz, token_len(s, 0), 0));
	cr_assert(eq(sz, token_len("  \t", 3), 3));  /* trailing whitespace is a token of its own */
}

Test(tokenize, counts)
{
	cr_assert(eq(sz, token_count("We are a", 8), 3));
	cr_assert(eq(sz, token_count("", 0), 0));
	cr_assert(eq(sz, token_count("   ", 3), 1));
	cr_assert(eq(sz, token_count("  leading", 9), 1));
	cr_assert(eq(sz, token_count("trailing  ", 10), 2));
	cr_assert(eq(sz, token_count("a\nb\tc d", 7), 4));
	/* non-ASCII bytes never split */
	cr_assert(eq(sz, token_count("h\xc3\xa9llo\xc2\xa0w", 9), 1));
}

Test(tokenize, prefix)
{
	const char *s = "We are a test";
	size_t n = strlen(s);
	cr_assert(eq(sz, token_prefix(s, n, 0), 0));
	cr_assert(eq(sz, token_prefix(s, n, 1), 2));
	cr_assert(eq(sz, token_prefix(s, n, 2), 6));
	cr_assert(eq(sz, token_prefix(s, n, 4), n));
	cr_assert(eq(sz, token_prefix(s, n, 100), n));
	cr_assert(eq(sz, token_prefix("", 0, 3), 0));
	/* the prefix of k tokens has k tokens */
	for (size_t k = 0; k <= 4; k++)
		cr_assert(eq(sz, token_count(s, token_prefix(s, n, k)), k));
}
