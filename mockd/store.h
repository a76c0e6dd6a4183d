/*
 * store: conversations and their messages, for every API.
 *
 * A conversation belongs to one API and one owner (a user id, a session, a
 * (userId, groupId) pair: whatever the API scopes it by) and may be found by
 * its id or by a lookup key the API chooses (the widget's sessionId).  The
 * store is bounded: past STORE_MAX_CONVERSATIONS the least recently updated
 * conversation is dropped, past STORE_MAX_MESSAGES a conversation drops its
 * oldest message.
 *
 * Cost: every operation but iteration, filtering and clearing is O(1)
 * (expected, for the hash lookups), full store or not.  Conversations sit on
 * two intrusive lists: prev/next in creation order, for the APIs' listings,
 * and lru_prev/lru_next in update order, which store_create, store_add_message
 * and store_touch move them to the back of, so eviction takes the front
 * without a scan.  "Least recently updated" thus means updated the longest
 * ago in the order of those calls; that is the order of updated_ms unless
 * mockd's clock was set back or a message was added with an earlier at_ms.
 * Messages are a singly linked list, oldest first: appending and dropping the
 * oldest are O(1).  Memory: one struct conversation (128 bytes on 64-bit) plus
 * its strings and two map entries per conversation.
 *
 * Bytes: every conversation and message counts what it holds (store_cost: its
 * strings, its meta as cJSON nodes and strings, the node itself, and
 * STORE_ALLOC_OVERHEAD an allocation), and the store keeps the sum under
 * --max-store-bytes (store_set_max_bytes): past it the least recently updated
 * conversations go, then, when the one being written is alone over the cap,
 * its oldest messages.  Each eviction frees what an earlier write counted, so
 * a write stays O(1) amortized.  A message that could not fit even alone in
 * its conversation is refused (NULL): with STORE_MIN_MAX_BYTES as the floor,
 * nothing mockd accepts (a 2 MiB body, a 4 MiB rules file) is that large.
 *
 * Who may be freed: store_create, store_add_message and store_set_meta may
 * evict any conversation but the one they are given or create.  A caller
 * therefore holds at most the one conversation it writes across these calls;
 * an answer that ends later keeps the id and looks it up again (every API
 * does), since by then it may be gone.
 */
#ifndef CC_MOCKD_STORE_H
#define CC_MOCKD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define STORE_MAX_CONVERSATIONS 50000
#define STORE_MAX_MESSAGES      5000
#define STORE_DEFAULT_MAX_BYTES (64ull * 1024 * 1024)  /* --max-store-bytes */
#define STORE_MIN_MAX_BYTES     (8ull * 1024 * 1024)   /* the least it takes: the largest message fits with room */
#define STORE_MAX_MAX_BYTES     (1ull << 40)            /* the most it takes (1 TiB): a typo, not a budget */
#define STORE_ALLOC_OVERHEAD    16                     /* what malloc adds to an allocation, counted with it */

struct message {
	char *role;              /* "user", "assistant" */
	char *content;
	int64_t at_ms;           /* mockd's clock */
	cJSON *meta;             /* API-specific (model, tokens, sources), or NULL; owned */
	size_t bytes;            /* store-private: what it counts toward --max-store-bytes */
	struct message *next;
};

struct conversation {
	char *id;
	char *api;
	char *owner;             /* "" when the API has no owners */
	char *lookup;            /* the API's lookup key, or NULL */
	char *group;             /* a second scope (botchat's groupId), or NULL */
	int64_t created_ms;
	int64_t updated_ms;
	struct message *first, *last;
	size_t nmessages;
	cJSON *meta;             /* API-specific, or NULL; owned; set it with store_set_meta */
	size_t bytes;            /* store-private: itself and its messages, toward --max-store-bytes */
	struct conversation *prev, *next;  /* the store's list, oldest created first */
	struct conversation *lru_prev, *lru_next;  /* store-private: least recently updated first */
};

/* The conversation of api with this id, or NULL. */
struct conversation *store_get(const char *api, const char *id);
/* The conversation of api with this lookup key, or NULL. */
struct conversation *store_lookup(const char *api, const char *lookup);
/* A new conversation, evicting the least recently updated when full (by count or bytes); lookup may be
 * NULL. NULL when the id is taken or memory is short. O(1) amortized. */
struct conversation *store_create(const char *api, const char *id, const char *owner, const char *lookup);
/* Remove and free a conversation. O(1) plus its messages. */
void store_delete(struct conversation *c);
/* Append a message (takes ownership of meta); updated_ms becomes at_ms, as store_touch. Evicts other
 * conversations, then c's oldest messages, past the byte cap; never c. NULL when memory is short or the
 * message could never fit (meta freed). O(1) amortized, plus walking meta to count it. */
struct message *store_add_message(struct conversation *c, const char *role, const char *content,
				  int64_t at_ms, cJSON *meta);
/* Replace c's meta (takes ownership; NULL clears it), counting its bytes; may evict others, never c. */
void store_set_meta(struct conversation *c, cJSON *meta);
/* Mark a conversation updated at at_ms: it becomes the last to be evicted. O(1). */
void store_touch(struct conversation *c, int64_t at_ms);
/* Remove the messages for which keep() is false; returns how many were removed. */
size_t store_filter_messages(struct conversation *c, bool (*keep)(const struct message *m, void *arg),
			     void *arg);
/* Drop every message of a conversation, keeping it. */
void store_clear(struct conversation *c);
/* The first conversation (oldest created) and the next one, for iteration; the API filters by c->api. */
struct conversation *store_first(void);
/* Number of conversations held, all APIs. */
size_t store_count(void);
/* Number of messages held, all conversations. */
size_t store_message_count(void);
/* The bytes counted toward the cap, and the cap. */
size_t store_bytes(void);
size_t store_max_bytes(void);
/* Set the cap (--max-store-bytes), evicting down to it; n from STORE_MIN_MAX_BYTES to STORE_MAX_MAX_BYTES. */
void store_set_max_bytes(size_t n);
/* What a string or a JSON value counts: its bytes, its nodes, an allocation overhead each. O(size). */
size_t store_cost_str(const char *s);
size_t store_cost_json(const cJSON *v);
/* Drop everything. */
void store_reset(void);

#endif
