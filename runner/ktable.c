/*
 * ktable: open addressing over an FNV-1a hash of the key, grown to keep it at
 * most half full.  See ktable.h for the rules of use.
 */
#include "runner/ktable.h"

#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* The slot holding key, or the empty slot where it would go; caller holds the lock, n > 0. */
static struct ktable_entry *slot_for(struct ktable_entry *v, size_t n, const char *key, uint64_t h)
{
	for (size_t i = (size_t)h & (n - 1);; i = (i + 1) & (n - 1))
		if (!v[i].key || (v[i].hash == h && strcmp(v[i].key, key) == 0))
			return &v[i];
}

void *ktable_get(struct ktable *t, const char *key)
{
	uint64_t h = fnv1a(key);
	void *value = NULL;
	pthread_rwlock_rdlock(&t->lock);
	if (t->cap) {
		struct ktable_entry *e = slot_for(t->slots, t->cap, key, h);
		value = e->key ? e->value : NULL;
	}
	pthread_rwlock_unlock(&t->lock);
	return value;
}

/* Double the table (or make the first one); -1 when memory runs out. Caller holds the write lock. */
static int grow(struct ktable *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64;
	struct ktable_entry *v = calloc(ncap, sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].key)
			*slot_for(v, ncap, t->slots[i].key, t->slots[i].hash) = t->slots[i];
	free(t->slots);
	t->slots = v;
	t->cap = ncap;
	return 0;
}

void *ktable_put(struct ktable *t, const char *key, void *value)
{
	uint64_t h = fnv1a(key);
	void *kept = NULL;
	pthread_rwlock_wrlock(&t->lock);
	if (t->used >= t->max || ((t->used + 1) * 2 > t->cap && grow(t) < 0))
		goto drop;
	struct ktable_entry *e = slot_for(t->slots, t->cap, key, h);
	if (e->key) {
		kept = e->value;   /* another thread kept it first */
		goto drop;
	}
	if (!(e->key = strdup(key)))
		goto drop;
	e->hash = h;
	e->value = value;
	t->used++;
	pthread_rwlock_unlock(&t->lock);
	return value;
drop:
	pthread_rwlock_unlock(&t->lock);
	t->free_value(value);
	return kept;
}

void ktable_release(struct ktable *t)
{
	pthread_rwlock_wrlock(&t->lock);
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slots[i].key)
			continue;
		t->free_value(t->slots[i].value);
		free(t->slots[i].key);
	}
	free(t->slots);
	t->slots = NULL;
	t->cap = t->used = 0;
	pthread_rwlock_unlock(&t->lock);
}
