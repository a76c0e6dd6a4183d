/* Unit tests for mockd's WebSocket inbox (mockd/ws.c): the messages a connection holds behind a reply. */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "mockd/ws.h"

/* wslay hands an empty text message as NULL: found by fuzz/fuzz_mockd_ws (memcpy from NULL under UBSan). */
Test(ws_inbox, an_empty_message_given_as_null_is_kept_as_empty)
{
	struct ws_inbox q = { .max = 2 };
	cr_assert(eq(int, ws_inbox_push(&q, NULL, 0), 0));
	cr_assert(eq(int, ws_inbox_push(&q, "ab", 2), 0));
	cr_expect(eq(int, ws_inbox_push(&q, "c", 1), -1), "the inbox takes more than its max");
	struct ws_msg *msg = ws_inbox_pop(&q);
	cr_assert(ne(ptr, msg, NULL));
	cr_expect(eq(sz, msg->len, 0));
	cr_expect(eq(int, strcmp(msg->text, ""), 0));
	ws_msg_free(msg);
	msg = ws_inbox_pop(&q);
	cr_assert(ne(ptr, msg, NULL));
	cr_expect(eq(int, strcmp(msg->text, "ab"), 0));
	ws_msg_free(msg);
	cr_expect(eq(ptr, (void *)ws_inbox_pop(&q), NULL));
	ws_inbox_release(&q);
}
