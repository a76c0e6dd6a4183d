/* deepwiki: what the HTTP side (deepwiki.c) shares with the WebSocket side. */
#ifndef CC_MOCKD_DEEPWIKI_H
#define CC_MOCKD_DEEPWIKI_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "mockd/keys.h"
#include "mockd/store.h"

/*
 * The conversation id of the key's user: NULL when it belongs to another user
 * (which looks the same as not existing). A NULL id creates a new one; an
 * unknown id is created when create is set.
 */
struct conversation *deepwiki_conversation(const char *id, const struct api_key *k, bool create);
/* Store a message now, with its id; metadata (may be NULL) is taken. */
void deepwiki_store_message(struct conversation *c, const char *role, const char *content, cJSON *metadata);

#endif
