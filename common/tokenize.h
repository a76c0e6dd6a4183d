/*
 * tokenize: the one definition of a "token" in chatconform.
 *
 * mockd paces streams token by token and counts usage in tokens; both use this.
 * A token is a run of whitespace followed by a run of non-whitespace ("We",
 * " are", " a"), the shape chat APIs stream in.  Whitespace left at the end of
 * a text is a token of its own, so concatenating the tokens always gives back
 * the text exactly.  Only ASCII whitespace splits, so UTF-8 is never cut.
 */
#ifndef CC_TOKENIZE_H
#define CC_TOKENIZE_H

#include <stddef.h>

/* Length of the token that starts at p (within n bytes); 0 only when n is 0. */
size_t token_len(const char *p, size_t n);
/* Number of tokens in s[0..n). */
size_t token_count(const char *s, size_t n);
/* Byte length of the first max_tokens tokens of s[0..n) (n when it has fewer). */
size_t token_prefix(const char *s, size_t n, size_t max_tokens);

#endif
