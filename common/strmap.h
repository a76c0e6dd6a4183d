/*
 * strmap: a string-keyed hash map with chaining.
 *
 * The map copies keys and stores values as opaque pointers; it never frees a
 * value (the owner does, usually through strmap_each before strmap_release).
 * O(1) expected per operation; the table doubles when the load passes 1.
 */
#ifndef CC_STRMAP_H
#define CC_STRMAP_H

#include <stddef.h>

struct strmap_entry {
	char *key;
	void *value;
	size_t hash;
	struct strmap_entry *next;
};

struct strmap {
	struct strmap_entry **slots;
	size_t nslots;
	size_t count;
};

void strmap_init(struct strmap *m);
/* Free the table and the keys (not the values). */
void strmap_release(struct strmap *m);
/* The value stored under key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
/* Store value under key, replacing (and returning) any previous value; -1 on allocation failure. */
int strmap_put(struct strmap *m, const char *key, void *value, void **old);
/* Remove key; returns its value, or NULL when absent. */
void *strmap_remove(struct strmap *m, const char *key);
/* Call fn for each entry; fn returns non-zero to remove the entry (after it has dealt with the value). */
void strmap_each(struct strmap *m, int (*fn)(void *arg, const char *key, void *value), void *arg);

#endif
