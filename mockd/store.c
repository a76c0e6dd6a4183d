#include "mockd/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "mockd/clock.h"

static struct strmap by_id;      /* "api|id" -> conversation */
static struct strmap by_lookup;  /* "api|lookup" -> conversation */
static struct conversation *conv_head, *conv_tail;  /* creation order, for store_first() */
static struct conversation *lru_head, *lru_tail;    /* update order: lru_head is evicted first */
static size_t conv_count;
static size_t msg_count;
static size_t bytes_used;         /* the sum of every conversation's bytes */
static size_t bytes_max = STORE_DEFAULT_MAX_BYTES;

static char *map_key(const char *api, const char *k)
{
	size_t na = strlen(api), nk = strlen(k);
	char *s = malloc(na + nk + 2);
	if (s) {
		memcpy(s, api, na);
		s[na] = '|';
		memcpy(s + na + 1, k, nk + 1);
	}
	return s;
}

/* ---- counting bytes ------------------------------------------------------------------------- */

size_t store_cost_str(const char *s)
{
	return s ? strlen(s) + 1 + STORE_ALLOC_OVERHEAD : 0;
}

size_t store_cost_json(const cJSON *v)
{
	/* Recursion as deep as the value: cJSON's parser stops at CJSON_NESTING_LIMIT (1000). */
	size_t n = 0;
	for (; v; v = v->next) {
		n += sizeof(*v) + STORE_ALLOC_OVERHEAD + store_cost_str(v->string);
		if (cJSON_IsString(v) || cJSON_IsRaw(v))
			n += store_cost_str(v->valuestring);
		n += store_cost_json(v->child);
	}
	return n;
}

/* A map entry of "api|key": the entry, its copy of the key, its share of the slot table. */
static size_t map_entry_cost(const char *api, const char *key)
{
	return key ? sizeof(struct strmap_entry) + STORE_ALLOC_OVERHEAD + strlen(api) + strlen(key) + 2 +
			     STORE_ALLOC_OVERHEAD + sizeof(void *) : 0;
}

/* What a conversation counts without its messages. */
static size_t conversation_cost(const struct conversation *c)
{
	return sizeof(*c) + STORE_ALLOC_OVERHEAD + store_cost_str(c->id) + store_cost_str(c->api) +
	       store_cost_str(c->owner) + store_cost_str(c->lookup) + store_cost_str(c->group) +
	       store_cost_json(c->meta) + map_entry_cost(c->api, c->id) + map_entry_cost(c->api, c->lookup);
}

static void message_free(struct message *m)
{
	free(m->role);
	free(m->content);
	cJSON_Delete(m->meta);
	free(m);
}

struct conversation *store_get(const char *api, const char *id)
{
	char *k = map_key(api, id);
	struct conversation *c = k ? strmap_get(&by_id, k) : NULL;
	free(k);
	return c;
}

struct conversation *store_lookup(const char *api, const char *lookup)
{
	char *k = map_key(api, lookup);
	struct conversation *c = k ? strmap_get(&by_lookup, k) : NULL;
	free(k);
	return c;
}

/* Unlink c from the update-order list. O(1). */
static void lru_unlink(struct conversation *c)
{
	if (c->lru_prev)
		c->lru_prev->lru_next = c->lru_next;
	else
		lru_head = c->lru_next;
	if (c->lru_next)
		c->lru_next->lru_prev = c->lru_prev;
	else
		lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
}

/* Put c at the back of the update-order list, the last to be evicted. O(1). */
static void lru_append(struct conversation *c)
{
	c->lru_next = NULL;
	c->lru_prev = lru_tail;
	if (lru_tail)
		lru_tail->lru_next = c;
	else
		lru_head = c;
	lru_tail = c;
}

/* Drop c's oldest message. O(1). */
static void drop_oldest(struct conversation *c)
{
	struct message *old = c->first;
	c->first = old->next;
	if (!c->first)
		c->last = NULL;
	c->bytes -= old->bytes;
	bytes_used -= old->bytes;
	c->nmessages--;
	msg_count--;
	message_free(old);
}

/*
 * Evict down to the byte cap, sparing keep (which the caller holds, and which
 * was just moved to the back of the update order): the least recently updated
 * conversations first, then keep's oldest messages but its newest. Each step
 * frees what an earlier write counted: O(1) amortized.
 */
static void store_fit(struct conversation *keep)
{
	while (bytes_used > bytes_max && lru_head && lru_head != keep)
		store_delete(lru_head);
	while (bytes_used > bytes_max && keep && keep->first != keep->last)
		drop_oldest(keep);
}

struct conversation *store_create(const char *api, const char *id, const char *owner, const char *lookup)
{
	if (store_get(api, id))
		return NULL;
	if (conv_count >= STORE_MAX_CONVERSATIONS)
		store_delete(lru_head);
	struct conversation *c = calloc(1, sizeof(*c));
	char *kid = map_key(api, id);
	char *klook = lookup ? map_key(api, lookup) : NULL;
	if (!c || !kid || (lookup && !klook))
		goto fail;
	c->id = strdup(id);
	c->api = strdup(api);
	c->owner = strdup(owner ? owner : "");
	c->lookup = lookup ? strdup(lookup) : NULL;
	if (!c->id || !c->api || !c->owner || (lookup && !c->lookup))
		goto fail;
	if (strmap_put(&by_id, kid, c, NULL) < 0)
		goto fail;
	if (klook && strmap_put(&by_lookup, klook, c, NULL) < 0) {
		strmap_remove(&by_id, kid);
		goto fail;
	}
	c->created_ms = c->updated_ms = clock_now_ms();
	c->prev = conv_tail;
	if (conv_tail)
		conv_tail->next = c;
	else
		conv_head = c;
	conv_tail = c;
	lru_append(c);
	conv_count++;
	c->bytes = conversation_cost(c);
	bytes_used += c->bytes;
	store_fit(c);
	free(kid);
	free(klook);
	return c;
fail:
	if (c) {
		free(c->id);
		free(c->api);
		free(c->owner);
		free(c->lookup);
		free(c);
	}
	free(kid);
	free(klook);
	return NULL;
}

void store_clear(struct conversation *c)
{
	struct message *m = c->first;
	while (m) {
		struct message *next = m->next;
		message_free(m);
		m = next;
	}
	c->first = c->last = NULL;
	msg_count -= c->nmessages;
	c->nmessages = 0;
	bytes_used -= c->bytes;
	c->bytes = conversation_cost(c);
	bytes_used += c->bytes;
}

size_t store_filter_messages(struct conversation *c, bool (*keep)(const struct message *m, void *arg),
			     void *arg)
{
	size_t removed = 0;
	struct message **pp = &c->first;
	c->last = NULL;
	while (*pp) {
		struct message *m = *pp;
		if (keep(m, arg)) {
			c->last = m;
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		c->bytes -= m->bytes;
		bytes_used -= m->bytes;
		message_free(m);
		removed++;
	}
	c->nmessages -= removed;
	msg_count -= removed;
	return removed;
}

void store_delete(struct conversation *c)
{
	if (!c)
		return;
	char *k = map_key(c->api, c->id);
	if (k)
		strmap_remove(&by_id, k);
	free(k);
	if (c->lookup) {
		k = map_key(c->api, c->lookup);
		/* Only unmap the lookup if it still points here (a newer conversation may have taken it). */
		if (k && strmap_get(&by_lookup, k) == c)
			strmap_remove(&by_lookup, k);
		free(k);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		conv_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		conv_tail = c->prev;
	lru_unlink(c);
	conv_count--;
	store_clear(c);
	bytes_used -= c->bytes;
	cJSON_Delete(c->meta);
	free(c->id);
	free(c->api);
	free(c->owner);
	free(c->lookup);
	free(c->group);
	free(c);
}

struct message *store_add_message(struct conversation *c, const char *role, const char *content,
				  int64_t at_ms, cJSON *meta)
{
	size_t cost = sizeof(struct message) + STORE_ALLOC_OVERHEAD + store_cost_str(role) +
		      store_cost_str(content) + store_cost_json(meta);
	/* Could never fit, even with everything else gone: refused rather than kept over the cap. */
	if (cost > bytes_max || conversation_cost(c) > bytes_max - cost) {
		cJSON_Delete(meta);
		return NULL;
	}
	struct message *m = calloc(1, sizeof(*m));
	if (!m) {
		cJSON_Delete(meta);
		return NULL;
	}
	m->role = strdup(role);
	m->content = strdup(content);
	m->at_ms = at_ms;
	m->meta = meta;
	m->bytes = cost;
	if (!m->role || !m->content) {
		message_free(m);
		return NULL;
	}
	if (c->nmessages >= STORE_MAX_MESSAGES)
		drop_oldest(c);
	if (c->last)
		c->last->next = m;
	else
		c->first = m;
	c->last = m;
	c->nmessages++;
	msg_count++;
	c->bytes += cost;
	bytes_used += cost;
	store_touch(c, at_ms);
	store_fit(c);
	return m;
}

void store_set_meta(struct conversation *c, cJSON *meta)
{
	size_t before = store_cost_json(c->meta), after = store_cost_json(meta);
	cJSON_Delete(c->meta);
	c->meta = meta;
	c->bytes = c->bytes - before + after;
	bytes_used = bytes_used - before + after;
	store_fit(c);
}

void store_touch(struct conversation *c, int64_t at_ms)
{
	c->updated_ms = at_ms;
	if (c != lru_tail) {
		lru_unlink(c);
		lru_append(c);
	}
}

struct conversation *store_first(void)
{
	return conv_head;
}

size_t store_count(void)
{
	return conv_count;
}

size_t store_message_count(void)
{
	return msg_count;
}

size_t store_bytes(void)
{
	return bytes_used;
}

size_t store_max_bytes(void)
{
	return bytes_max;
}

void store_set_max_bytes(size_t n)
{
	bytes_max = n;
	store_fit(NULL);
}

void store_reset(void)
{
	while (conv_head)
		store_delete(conv_head);
	strmap_release(&by_id);
	strmap_release(&by_lookup);
}
