#include "tokenize.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

size_t token_len(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && is_space(p[i]))
		i++;
	while (i < n && !is_space(p[i]))
		i++;
	return i;
}

size_t token_count(const char *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i += token_len(s + i, n - i))
		count++;
	return count;
}

size_t token_prefix(const char *s, size_t n, size_t max_tokens)
{
	size_t i = 0;
	for (size_t k = 0; k < max_tokens && i < n; k++)
		i += token_len(s + i, n - i);
	return i;
}
