#include "utf8.h"

/* Length of the sequence at s (1..4) when it is well-formed, else 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	if (c < 0xC2 || c > 0xF4)
		return 0;
	size_t len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if (c == 0xE0 && s[1] < 0xA0)
		return 0; /* overlong */
	if (c == 0xED && s[1] > 0x9F)
		return 0; /* surrogate */
	if (c == 0xF0 && s[1] < 0x90)
		return 0; /* overlong */
	if (c == 0xF4 && s[1] > 0x8F)
		return 0; /* above U+10FFFF */
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		size_t k = utf8_seq(p + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

size_t utf8_count(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, count = 0;
	while (i < n) {
		size_t k = utf8_seq(p + i, n - i);
		i += k ? k : 1;
		count++;
	}
	return count;
}

size_t utf8_truncate(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t i = max;
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}
