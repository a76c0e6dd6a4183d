/*
 * ktable: compiled things kept by the text they were compiled from.
 *
 * The loader compiles each regex and sequence of a suite once and keeps it
 * here; the workers find it by its text and never compile it again.  A table
 * is filled while suites load and only read while workers run; a read-write
 * lock keeps it correct if both ever overlap.  Entries are never removed
 * while the process runs (only ktable_release frees them), so a value found
 * under the read lock stays valid after the lock is dropped: values must be
 * safe to use from several threads at once.
 */
#ifndef CC_RUNNER_KTABLE_H
#define CC_RUNNER_KTABLE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct ktable_entry {
	char *key;               /* NULL: an empty slot */
	uint64_t hash;
	void *value;
};

struct ktable {
	pthread_rwlock_t lock;
	struct ktable_entry *slots;   /* cap slots, cap a power of two (or 0) */
	size_t cap, used;
	size_t max;                   /* entries kept at most; past it, ktable_put frees what it is given */
	void (*free_value)(void *);
};

#define KTABLE_INIT(max_entries, free_fn) { PTHREAD_RWLOCK_INITIALIZER, NULL, 0, 0, (max_entries), (free_fn) }

/* The value kept under key, or NULL. */
void *ktable_get(struct ktable *t, const char *key);
/*
 * Keep value under key; takes ownership of value.  Returns the value now kept
 * under key: value itself, or the one another thread kept first (then value is
 * freed); NULL when the table is full or memory ran out (value is freed).
 */
void *ktable_put(struct ktable *t, const char *key, void *value);
/* Free every entry; only when no thread can be using the table. */
void ktable_release(struct ktable *t);

#endif
