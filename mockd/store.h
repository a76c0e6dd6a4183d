/*
 * store: conversations and their messages, for every API.
 *
 * A conversation belongs to one API and one owner (a user id, a session, a
 * (userId, groupId) pair: whatever the API scopes it by) and may be found by
 * its id or by a lookup key the API chooses (the widget's sessionId).  The
 * store is bounded: past STORE_MAX_CONVERSATIONS the least recently updated
 * conversation is dropped, past STORE_MAX_MESSAGES a conversation drops its
 * oldest message.
 */
#ifndef CC_MOCKD_STORE_H
#define CC_MOCKD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define STORE_MAX_CONVERSATIONS 50000
#define STORE_MAX_MESSAGES      5000

struct message {
	char *role;              /* "user", "assistant" */
	char *content;
	int64_t at_ms;           /* mockd's clock */
	cJSON *meta;             /* API-specific (model, tokens, sources), or NULL; owned */
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
	cJSON *meta;             /* API-specific, or NULL; owned */
	struct conversation *prev, *next;  /* the store's list, oldest created first */
};

/* The conversation of api with this id, or NULL. */
struct conversation *store_get(const char *api, const char *id);
/* The conversation of api with this lookup key, or NULL. */
struct conversation *store_lookup(const char *api, const char *lookup);
/* A new conversation; lookup may be NULL. NULL when the id is taken or memory is short. */
struct conversation *store_create(const char *api, const char *id, const char *owner, const char *lookup);
/* Remove and free a conversation. */
void store_delete(struct conversation *c);
/* Append a message (takes ownership of meta); the conversation's updated_ms becomes at_ms. */
struct message *store_add_message(struct conversation *c, const char *role, const char *content,
				  int64_t at_ms, cJSON *meta);
/* Remove the messages for which keep() is false; returns how many were removed. */
size_t store_filter_messages(struct conversation *c, bool (*keep)(const struct message *m, void *arg),
			     void *arg);
/* Drop every message of a conversation, keeping it. */
void store_clear(struct conversation *c);
/* The first conversation (oldest created) and the next one, for iteration; the API filters by c->api. */
struct conversation *store_first(void);
/* Number of conversations held, all APIs. */
size_t store_count(void);
/* Drop everything. */
void store_reset(void);

#endif
