/* utf8: validation and counting of UTF-8 text (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
#ifndef CC_UTF8_H
#define CC_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is well-formed UTF-8. */
bool utf8_valid(const char *s, size_t n);
/* Number of code points in well-formed s[0..n); invalid bytes count one each. */
size_t utf8_count(const char *s, size_t n);
/* Length in bytes of the longest prefix of s[0..n) that is at most max bytes and ends on a character boundary. */
size_t utf8_truncate(const char *s, size_t n, size_t max);

#endif
