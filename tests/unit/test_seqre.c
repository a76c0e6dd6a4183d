/* Unit tests for runner/seqre.c: every operator, errors, prefixes, hostile patterns. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "runner/seqre.h"
#include "tests/unit/unit.h"

#define MAX_TYPES 64

/* Split a space-separated list of types into v (pointing into a static copy). */
static size_t split(const char *list, const char **v)
{
	static char copy[1024];
	size_t n = 0;
	strncpy(copy, list, sizeof(copy) - 1);
	for (char *t = strtok(copy, " "); t && n < MAX_TYPES; t = strtok(NULL, " "))
		v[n++] = t;
	return n;
}

static bool matches(const char *pattern, const char *list)
{
	struct buf err;
	buf_init(&err, 1024);
	struct seqre *re = seqre_compile(pattern, &err);
	cr_assert(re != NULL, "compile \"%s\": %s", pattern, buf_str(&err));
	const char *v[MAX_TYPES];
	size_t n = split(list, v);
	bool r = seqre_match(re, v, n);
	seqre_free(re);
	buf_release(&err);
	return r;
}

static size_t prefix(const char *pattern, const char *list)
{
	struct seqre *re = seqre_compile(pattern, NULL);
	cr_assert(re != NULL);
	const char *v[MAX_TYPES];
	size_t n = split(list, v);
	size_t r = seqre_prefix(re, v, n);
	seqre_free(re);
	return r;
}

/* The error of a pattern that must not compile. */
static char *compile_error(const char *pattern)
{
	static char out[256];
	struct buf err;
	buf_init(&err, 1024);
	struct seqre *re = seqre_compile(pattern, &err);
	cr_assert(re == NULL, "\"%s\" compiled", pattern);
	strncpy(out, buf_str(&err), sizeof(out) - 1);
	buf_release(&err);
	return out;
}

Test(seqre, names_concatenate)
{
	cr_assert(matches("start token done", "start token done"));
	cr_assert(not(matches("start token done", "start token")));
	cr_assert(not(matches("start token done", "start token done done")));
	cr_assert(not(matches("start done", "start token")));
	cr_assert(matches("response.done x-y a_1", "response.done x-y a_1"));
}

Test(seqre, whole_name_only)
{
	cr_assert(not(matches("tok", "token")));
	cr_assert(not(matches("token", "tok")));
}

Test(seqre, dot_is_any_event)
{
	cr_assert(matches("start . done", "start anything done"));
	cr_assert(matches(". .", "? x"));
	cr_assert(not(matches("start . done", "start done")));
}

Test(seqre, star)
{
	cr_assert(matches("start token* done", "start done"));
	cr_assert(matches("start token* done", "start token done"));
	cr_assert(matches("start token* done", "start token token token done"));
	cr_assert(not(matches("start token* done", "start token error")));
}

Test(seqre, plus)
{
	cr_assert(not(matches("start token+ done", "start done")));
	cr_assert(matches("start token+ done", "start token done"));
	cr_assert(matches("start token+ done", "start token token done"));
}

Test(seqre, question)
{
	cr_assert(matches("start sources? done", "start done"));
	cr_assert(matches("start sources? done", "start sources done"));
	cr_assert(not(matches("start sources? done", "start sources sources done")));
}

Test(seqre, alternation_and_groups)
{
	cr_assert(matches("start token* (done | error)", "start token error"));
	cr_assert(matches("start token* (done | error)", "start done"));
	cr_assert(not(matches("start token* (done | error)", "start token")));
	cr_assert(matches("a | b c", "b c"));
	cr_assert(matches("a | b c", "a"));
	cr_assert(not(matches("a | b c", "a c")));
	cr_assert(matches("(a b)+ c", "a b a b c"));
	cr_assert(not(matches("(a b)+ c", "a b a c")));
	cr_assert(matches("((a | b) c?)*", "a b c a"));
}

Test(seqre, empty_list)
{
	cr_assert(matches("a*", ""));
	cr_assert(not(matches("a", "")));
	cr_assert(not(matches("a+", "")));
}

Test(seqre, spaces_are_optional_between_operators)
{
	cr_assert(matches("start(token)*done", "start token done"));
	cr_assert(matches("  start   token *  ( done|error )  ", "start token token error"));
}

Test(seqre, prefix_points_at_divergence)
{
	cr_assert(eq(sz, prefix("start token* done", "start token token error"), 3));
	cr_assert(eq(sz, prefix("start token* done", "token"), 0));
	cr_assert(eq(sz, prefix("start token* done", "start token"), 2));
	cr_assert(eq(sz, prefix("start token* done", "start done"), 2));
	cr_assert(eq(sz, prefix("start token* done", "start done done"), 2));
}

Test(seqre, malformed_patterns_name_the_column)
{
	cr_assert(eq(str, compile_error(""), STR("column 1: empty pattern")));
	cr_assert(eq(str, compile_error("   "), STR("column 4: empty pattern")));
	cr_assert(eq(str, compile_error("start (token"), STR("column 13: missing \")\"")));
	cr_assert(eq(str, compile_error("start token)"), STR("column 12: unbalanced \")\"")));
	cr_assert(eq(str, compile_error("*a"), STR("column 1: nothing to repeat")));
	cr_assert(eq(str, compile_error("a | | b"), STR("column 5: empty expression")));
	cr_assert(eq(str, compile_error("a ()"), STR("column 4: empty expression")));
	cr_assert(eq(str, compile_error("a |"), STR("column 4: expected an event type, \".\" or \"(\" at the end")));
	cr_assert(eq(str, compile_error("a # b"), STR("column 3: unexpected character")));
	cr_assert(eq(str, compile_error("1abc"), STR("column 1: unexpected character")));
}

Test(seqre, error_buffer_is_optional)
{
	cr_assert(seqre_compile("a (", NULL) == NULL);
	cr_assert(seqre_compile("", NULL) == NULL);
}

Test(seqre, limits)
{
	char *long_pattern = malloc(5000);
	memset(long_pattern, 'a', 4999);
	long_pattern[4999] = '\0';
	cr_assert(eq(str, compile_error(long_pattern), STR("pattern longer than 4096 bytes")));
	free(long_pattern);

	char deep[200];
	memset(deep, '(', 70);
	deep[70] = 'a';
	memset(deep + 71, ')', 70);
	deep[141] = '\0';
	cr_assert(eq(str, compile_error(deep), STR("column 65: parentheses nested too deeply")));
	deep[70 - 60] = '\0'; /* 10 parens: fine */
	char ok[64];
	strcpy(ok, "((((((((((a))))))))))");
	cr_assert(matches(ok, "a"));
}

/* Nested stars over many events must finish (linear), both matching and failing at the end. */
Test(seqre, pathological_patterns_stay_linear, .timeout = 20)
{
	enum { N = 10000 };
	const char **v = malloc((N + 1) * sizeof(*v));
	for (size_t i = 0; i < N; i++)
		v[i] = "a";
	const char *patterns[] = { "((a*)*)*", "(a|a)*", "(a*|a)*(a|a*)*", "((a?)*a*)+", "((a a)*|(a a a)*)*" };
	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		struct seqre *re = seqre_compile(patterns[p], NULL);
		cr_assert(re != NULL, "%s", patterns[p]);
		cr_assert(seqre_match(re, v, N), "%s", patterns[p]);
		v[N] = "b";
		cr_assert(not(seqre_match(re, v, N + 1)), "%s", patterns[p]);
		cr_assert(eq(sz, seqre_prefix(re, v, N + 1), N), "%s", patterns[p]);
		seqre_free(re);
	}
	/* a large pattern against a long list: (a? ){200} a{200} */
	char big[4096] = "";
	for (int i = 0; i < 200; i++)
		strcat(big, "a? ");
	for (int i = 0; i < 200; i++)
		strcat(big, "a ");
	struct seqre *re = seqre_compile(big, NULL);
	cr_assert(re != NULL);
	cr_assert(seqre_match(re, v, 200));
	cr_assert(seqre_match(re, v, 400));
	cr_assert(not(seqre_match(re, v, 401)));
	cr_assert(not(seqre_match(re, v, 199)));
	seqre_free(re);
	free(v);
}
