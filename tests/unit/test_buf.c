/* Unit tests for common/buf.c's str_copy and int_text: what snprintf gives, without printf. */
#include <inttypes.h>
#include <stdint.h>
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

Test(buf, int_text_is_snprintf_prId64)
{
	static const int64_t values[] = { 0, 1, -1, 9, 10, -10, 99, 100, 123456789, -987654321, 1000000000000000,
					  INT64_MAX, INT64_MIN, INT64_MIN + 1 };
	for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
		char text[INT_TEXT_SIZE], want[32];
		snprintf(want, sizeof(want), "%" PRId64, values[i]);
		cr_expect(eq(str, int_text(text, values[i]), want));
		struct buf b;
		buf_init(&b, 64);
		buf_adds(&b, "n=");
		cr_expect(eq(int, buf_add_int(&b, values[i]), BUF_OK));
		cr_expect(eq(sz, b.len, 2 + strlen(want)));
		cr_expect(eq(str, b.data + 2, want));
		buf_release(&b);
	}
}

Test(buf, add_int_past_the_maximum_adds_nothing)
{
	struct buf b;
	buf_init(&b, 4);
	buf_adds(&b, "ab");
	cr_expect(eq(int, buf_add_int(&b, 123), BUF_TOO_BIG));
	cr_expect(strcmp(b.data, "ab") == 0);
	buf_release(&b);
}

/* The inline append, and the one that grows: nothing from NULL is fine either way (ASan/UBSan run this). */
Test(buf, appends_fit_grow_and_take_nothing_from_null)
{
	struct buf b;
	buf_init(&b, 100);
	cr_expect(eq(int, buf_add(&b, NULL, 0), BUF_OK));  /* no storage yet: the growing path */
	cr_expect(eq(str, (char *)buf_str(&b), (char *)""));
	cr_expect(eq(int, buf_adds(&b, "abc"), BUF_OK));
	cr_expect(eq(int, buf_add(&b, NULL, 0), BUF_OK));  /* storage with room: the inline path */
	cr_expect(eq(int, buf_addc(&b, 'd'), BUF_OK));
	cr_expect(eq(str, b.data, (char *)"abcd"));
	char big[97];
	memset(big, 'x', sizeof(big));
	cr_expect(eq(int, buf_add(&b, big, sizeof(big)), BUF_TOO_BIG));  /* 4 + 97 > 100 */
	cr_expect(eq(int, buf_add(&b, big, 96), BUF_OK));                 /* exactly the maximum */
	cr_expect(eq(sz, b.len, 100));
	cr_expect(eq(int, b.data[100], '\0'));
	cr_expect(eq(int, buf_addc(&b, 'y'), BUF_TOO_BIG));
	buf_release(&b);
}
