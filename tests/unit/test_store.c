/* The conversation store: ids, lookups, messages, deletion. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "mockd/store.h"
#include "unit.h"

static void fresh(void)
{
	store_reset();
}

TestSuite(store, .init = fresh, .fini = fresh);

Test(store, create_get_lookup_delete)
{
	struct conversation *c = store_create("widget", "c1", "", "session-a");
	cr_assert(not(eq(ptr, c, NULL)));
	cr_assert(eq(ptr, store_get("widget", "c1"), c));
	cr_assert(eq(ptr, store_lookup("widget", "session-a"), c));
	cr_assert(eq(ptr, store_get("botchat", "c1"), NULL), "ids are per API");
	cr_assert(eq(ptr, store_create("widget", "c1", "", NULL), NULL), "an id is taken once");
	store_delete(c);
	cr_assert(eq(ptr, store_get("widget", "c1"), NULL));
	cr_assert(eq(ptr, store_lookup("widget", "session-a"), NULL));
	cr_assert(eq(sz, store_count(), 0));
}

Test(store, messages_in_order_and_clear)
{
	struct conversation *c = store_create("botchat", "c", "u", NULL);
	store_add_message(c, "user", "hi", 10, NULL);
	store_add_message(c, "assistant", "hello", 20, NULL);
	cr_assert(eq(sz, c->nmessages, 2));
	cr_assert(eq(str, c->first->content, STR("hi")));
	cr_assert(eq(str, c->last->content, STR("hello")));
	cr_assert(eq(i64, c->updated_ms, 20));
	store_clear(c);
	cr_assert(eq(sz, c->nmessages, 0));
	cr_assert(eq(ptr, store_get("botchat", "c"), c), "clearing keeps the conversation");
}

Test(store, bounded_messages)
{
	struct conversation *c = store_create("x", "c", "", NULL);
	for (int i = 0; i < STORE_MAX_MESSAGES + 10; i++)
		store_add_message(c, "user", i == STORE_MAX_MESSAGES + 9 ? "last" : "m", i, NULL);
	cr_assert(eq(sz, c->nmessages, STORE_MAX_MESSAGES));
	cr_assert(eq(str, c->last->content, STR("last")));
}
