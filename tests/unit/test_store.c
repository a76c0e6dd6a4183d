/* The conversation store: ids, lookups, messages, deletion. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mockd/clock.h"
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

static struct conversation *get_i(const char *api, long i)
{
	char id[32];
	snprintf(id, sizeof(id), "c%ld", i);
	return store_get(api, id);
}

static struct conversation *create_i(const char *api, long i)
{
	char id[32], lookup[32];
	snprintf(id, sizeof(id), "c%ld", i);
	snprintf(lookup, sizeof(lookup), "l%ld", i);
	return store_create(api, id, "", lookup);
}

Test(store, eviction_takes_the_least_recently_updated)
{
	long cap = STORE_MAX_CONVERSATIONS;
	for (long i = 0; i < cap; i++)
		cr_assert(not(eq(ptr, create_i("x", i), NULL)));
	cr_assert(eq(sz, store_count(), (size_t)cap));
	/* The two oldest are updated: a message, a touch. Each moves to the back. */
	store_add_message(get_i("x", 0), "user", "hi", clock_now_ms(), NULL);
	store_touch(get_i("x", 1), clock_now_ms());

	cr_assert(not(eq(ptr, create_i("y", 0), NULL)));
	cr_assert(eq(ptr, get_i("x", 2), NULL), "the least recently updated goes first");
	cr_assert(not(eq(ptr, get_i("x", 0), NULL)), "a message moved it to the back");
	cr_assert(not(eq(ptr, get_i("x", 1), NULL)), "a touch moved it to the back");
	cr_assert(eq(sz, store_count(), (size_t)cap));
	cr_assert(not(eq(ptr, create_i("y", 1), NULL)));
	cr_assert(eq(ptr, get_i("x", 3), NULL));

	/* Every other x goes before 0 and 1 do, then they go in the order of their updates. */
	for (long i = 2; i < cap - 2; i++)
		cr_assert(not(eq(ptr, create_i("y", i), NULL)));
	cr_assert(eq(ptr, get_i("x", cap - 1), NULL));
	cr_assert(not(eq(ptr, get_i("x", 0), NULL)));
	cr_assert(not(eq(ptr, get_i("x", 1), NULL)));
	cr_assert(not(eq(ptr, create_i("y", cap - 2), NULL)));
	cr_assert(eq(ptr, get_i("x", 0), NULL));
	cr_assert(not(eq(ptr, get_i("x", 1), NULL)));
	cr_assert(not(eq(ptr, create_i("y", cap - 1), NULL)));
	cr_assert(eq(ptr, get_i("x", 1), NULL));
	cr_assert(not(eq(ptr, get_i("y", 0), NULL)), "then the oldest created of those never updated");
	cr_assert(eq(sz, store_count(), (size_t)cap));
}

Test(store, message_trimming_keeps_the_newest_in_order)
{
	struct conversation *c = store_create("x", "c", "", NULL);
	char text[32];
	for (int i = 0; i < STORE_MAX_MESSAGES + 10; i++) {
		snprintf(text, sizeof(text), "m%d", i);
		cr_assert(not(eq(ptr, store_add_message(c, "user", text, i, NULL), NULL)));
	}
	cr_assert(eq(sz, c->nmessages, STORE_MAX_MESSAGES));
	cr_assert(eq(str, c->first->content, STR("m10")), "the ten oldest are gone");
	size_t n = 0;
	const struct message *last = NULL;
	for (const struct message *m = c->first; m; m = m->next, n++) {
		snprintf(text, sizeof(text), "m%zu", n + 10);
		cr_assert(eq(str, m->content, text));
		last = m;
	}
	cr_assert(eq(sz, n, STORE_MAX_MESSAGES));
	cr_assert(eq(ptr, (void *)c->last, (void *)last));
	cr_assert(eq(i64, c->updated_ms, STORE_MAX_MESSAGES + 9));
}

/* xorshift64: a fixed sequence, so a failure repeats. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A reference for the eviction order that shares nothing with the store's: every
 * update takes the next sequence number; the one to evict is the live id whose
 * latest number is the smallest, found by a cursor over the numbers that skips
 * those an id has since left.
 */
struct model {
	long *seq_of;  /* id -> its latest sequence number */
	long *id_at;   /* sequence number -> id */
	bool *gone;    /* id -> deleted or evicted */
	long seq, cursor, live;
};

static void model_update(struct model *m, long id)
{
	m->seq_of[id] = ++m->seq;
	m->id_at[m->seq] = id;
}

static long model_evict(struct model *m)
{
	for (;; m->cursor++) {
		long id = m->id_at[m->cursor];
		if (m->cursor > 0 && !m->gone[id] && m->seq_of[id] == m->cursor)
			break;
	}
	long id = m->id_at[m->cursor];
	m->gone[id] = true;
	m->live--;
	return id;
}

static const char *api_of(long i)
{
	return i % 3 ? "widget" : "botchat";
}

/* Every id created so far is found by id and lookup iff the model holds it; the creation list is whole. */
static void check_all(const struct model *m, long created)
{
	char lookup[32];
	for (long j = 0; j < created; j++) {
		struct conversation *c = get_i(api_of(j), j);
		snprintf(lookup, sizeof(lookup), "l%ld", j);
		cr_assert(eq(int, c != NULL, !m->gone[j]), "c%ld", j);
		cr_assert(eq(ptr, store_lookup(api_of(j), lookup), c), "l%ld", j);
	}
	long n = 0, prev = -1;
	for (struct conversation *c = store_first(); c; c = c->next, n++) {
		long id = atol(c->id + 1);
		cr_assert(gt(long, id, prev), "store_first() lists in creation order");
		prev = id;
	}
	cr_assert(eq(long, n, m->live));
	cr_assert(eq(sz, store_count(), (size_t)m->live));
}

Test(store, fill_past_the_cap_many_times)
{
	const long cap = STORE_MAX_CONVERSATIONS, steps = 4 * STORE_MAX_CONVERSATIONS + 1234;
	struct model m = {
		.seq_of = calloc((size_t)steps, sizeof(long)),
		.id_at = calloc((size_t)steps * 3 + 1, sizeof(long)),
		.gone = calloc((size_t)steps, sizeof(bool)),
	};
	cr_assert(m.seq_of && m.id_at && m.gone);
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	for (long i = 0; i < steps; i++) {
		long evicted = m.live == cap ? model_evict(&m) : -1;
		cr_assert(not(eq(ptr, create_i(api_of(i), i), NULL)), "c%ld", i);
		model_update(&m, i);
		m.live++;
		cr_assert(le(sz, store_count(), (size_t)cap));
		cr_assert(eq(sz, store_count(), (size_t)m.live));
		if (evicted >= 0)
			cr_assert(eq(ptr, get_i(api_of(evicted), evicted), NULL), "c%ld should be evicted", evicted);

		/* Update one of the recent ones (a message or a touch) two steps in three, delete one in fifty. */
		uint64_t r = rng_next(&rng);
		long j = i - (long)(r % (uint64_t)(2 * cap));
		if (j < 0)
			j = i;
		struct conversation *c = get_i(api_of(j), j);
		cr_assert(eq(int, c != NULL, !m.gone[j]), "c%ld", j);
		if (c && r % 3 != 0) {
			if (r % 2)
				store_add_message(c, "user", "m", clock_now_ms(), NULL);
			else
				store_touch(c, clock_now_ms());
			model_update(&m, j);
		} else if (c && (r >> 32) % 50 == 0) {
			store_delete(c);
			m.gone[j] = true;
			m.live--;
		}
		if (i % 25000 == 0)
			check_all(&m, i + 1);
	}
	check_all(&m, steps);
	free(m.seq_of);
	free(m.id_at);
	free(m.gone);
}

/* A string of n bytes of 'x'; the caller frees it. */
static char *text_of(size_t n)
{
	char *s = malloc(n + 1);
	cr_assert(s != NULL);
	memset(s, 'x', n);
	s[n] = '\0';
	return s;
}

Test(store, bytes_are_counted_and_given_back)
{
	cr_assert(eq(sz, store_bytes(), 0));
	struct conversation *c = store_create("botchat", "c", "u", "look");
	size_t empty = store_bytes();
	cr_assert(gt(sz, empty, sizeof(*c)));
	store_add_message(c, "user", "hello", 1, NULL);
	size_t one = store_bytes();
	cr_assert(ge(sz, one - empty, sizeof(struct message) + 6 + 5));
	cJSON *meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "userId", "someone");
	store_set_meta(c, meta);
	cr_assert(gt(sz, store_bytes(), one), "meta counts");
	cr_assert(eq(sz, store_message_count(), 1));
	store_clear(c);
	cr_assert(eq(sz, store_message_count(), 0));
	store_delete(c);
	cr_assert(eq(sz, store_bytes(), 0), "everything counted is given back");
}

Test(store, the_byte_cap_evicts_the_least_recently_updated_never_the_writer)
{
	store_set_max_bytes(STORE_MIN_MAX_BYTES);
	char *big = text_of(1024 * 1024);
	/* 20 conversations of 1 MiB each into 8 MiB: the oldest go, the one written stays. */
	for (long i = 0; i < 20; i++) {
		char id[32];
		snprintf(id, sizeof(id), "c%ld", i);
		struct conversation *c = store_create("botchat", id, "", NULL);
		cr_assert(c != NULL);
		cr_assert(store_add_message(c, "user", big, i, NULL) != NULL);
		cr_assert(eq(ptr, store_get("botchat", id), c), "the writer's conversation stays");
		cr_assert(le(sz, store_bytes(), store_max_bytes()));
	}
	cr_assert(eq(ptr, get_i("botchat", 0), NULL));
	cr_assert(not(eq(ptr, get_i("botchat", 19), NULL)));
	cr_assert(le(sz, store_count(), 8));
	/* One conversation alone past the cap: its oldest messages go, its newest stays. */
	struct conversation *c = get_i("botchat", 19);
	for (int i = 0; i < 20; i++)
		store_add_message(c, "user", big, 100 + i, NULL);
	cr_assert(eq(sz, store_count(), 1), "everything else went first");
	cr_assert(eq(i64, c->last->at_ms, 119));
	cr_assert(le(sz, store_bytes(), store_max_bytes()));
	free(big);
	/* What could never fit is refused, and nothing is lost for it. */
	size_t before = store_bytes();
	char *huge = text_of(STORE_MIN_MAX_BYTES);
	cr_assert(eq(ptr, store_add_message(c, "user", huge, 200, NULL), NULL));
	cr_assert(eq(sz, store_bytes(), before));
	free(huge);
	store_set_max_bytes(STORE_DEFAULT_MAX_BYTES);
}
