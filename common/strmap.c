#include "strmap.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a: simple, and good enough for keys we generate or bound. */
static size_t strmap_hash(const char *s)
{
	size_t h = (size_t)14695981039346656037ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= (size_t)1099511628211ULL;
	}
	return h;
}

void strmap_init(struct strmap *m)
{
	m->slots = NULL;
	m->nslots = 0;
	m->count = 0;
}

void strmap_release(struct strmap *m)
{
	for (size_t i = 0; i < m->nslots; i++) {
		struct strmap_entry *e = m->slots[i];
		while (e) {
			struct strmap_entry *next = e->next;
			free(e->key);
			free(e);
			e = next;
		}
	}
	free(m->slots);
	strmap_init(m);
}

static struct strmap_entry **strmap_find(const struct strmap *m, const char *key, size_t h)
{
	if (!m->nslots)
		return NULL;
	struct strmap_entry **pp = &m->slots[h & (m->nslots - 1)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
			return pp;
	return pp;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_entry **pp = strmap_find(m, key, strmap_hash(key));
	return pp && *pp ? (*pp)->value : NULL;
}

static int strmap_grow(struct strmap *m)
{
	size_t n = m->nslots ? m->nslots * 2 : 16;
	struct strmap_entry **slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < m->nslots; i++) {
		struct strmap_entry *e = m->slots[i];
		while (e) {
			struct strmap_entry *next = e->next;
			e->next = slots[e->hash & (n - 1)];
			slots[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = n;
	return 0;
}

int strmap_put(struct strmap *m, const char *key, void *value, void **old)
{
	size_t h = strmap_hash(key);
	if (old)
		*old = NULL;
	struct strmap_entry **pp = strmap_find(m, key, h);
	if (pp && *pp) {
		if (old)
			*old = (*pp)->value;
		(*pp)->value = value;
		return 0;
	}
	if (m->count >= m->nslots && strmap_grow(m) < 0)
		return -1;
	struct strmap_entry *e = malloc(sizeof(*e));
	char *k = strdup(key);
	if (!e || !k) {
		free(e);
		free(k);
		return -1;
	}
	e->key = k;
	e->value = value;
	e->hash = h;
	e->next = m->slots[h & (m->nslots - 1)];
	m->slots[h & (m->nslots - 1)] = e;
	m->count++;
	return 0;
}

void *strmap_remove(struct strmap *m, const char *key)
{
	struct strmap_entry **pp = strmap_find(m, key, strmap_hash(key));
	if (!pp || !*pp)
		return NULL;
	struct strmap_entry *e = *pp;
	void *v = e->value;
	*pp = e->next;
	free(e->key);
	free(e);
	m->count--;
	return v;
}

void strmap_each(struct strmap *m, int (*fn)(void *arg, const char *key, void *value), void *arg)
{
	for (size_t i = 0; i < m->nslots; i++) {
		struct strmap_entry **pp = &m->slots[i];
		while (*pp) {
			struct strmap_entry *e = *pp;
			if (fn(arg, e->key, e->value)) {
				*pp = e->next;
				free(e->key);
				free(e);
				m->count--;
			} else {
				pp = &e->next;
			}
		}
	}
}
