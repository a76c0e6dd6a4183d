/* Unit tests for common/buf.c's str_copy: what snprintf(dst, size, "%s", src) gives, without printf. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/buf.h"
#include "tests/unit/unit.h"

Test(buf, str_copy_is_snprintf_percent_s)
{
	static const char *const srcs[] = { "", "a", "abc", "abcd", "abcdefgh", "h\xc3\xa9llo" };
	for (size_t size = 1; size <= 6; size++) {
		for (size_t i = 0; i < sizeof(srcs) / sizeof(*srcs); i++) {
			char got[8], want[8];
			memset(got, 'x', sizeof(got));
			size_t n = str_copy(got, size, srcs[i]);
			snprintf(want, size, "%s", srcs[i]);
			cr_expect(eq(str, got, want), "size %zu, \"%s\"", size, srcs[i]);
			cr_expect(eq(sz, n, strlen(want)));
			cr_expect(eq(chr, got[size], 'x'), "nothing written past size %zu", size);
		}
	}
}

Test(buf, str_copy_of_null_is_empty)
{
	char out[4] = "abc";
	cr_expect(eq(sz, str_copy(out, sizeof(out), NULL), 0));
	cr_expect(eq(int, out[0], 0));
}
