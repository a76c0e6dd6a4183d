/*
 * journal: the last requests mockd received, for GET /__admin/journal.
 *
 * A ring of JOURNAL_MAX entries; bodies are kept up to JOURNAL_MAX_BODY bytes.
 */
#ifndef CC_MOCKD_JOURNAL_H
#define CC_MOCKD_JOURNAL_H

#include <cjson/cJSON.h>

#include "mockd/http.h"

#define JOURNAL_MAX      1000
#define JOURNAL_MAX_BODY (16u * 1024)

/* Record a request with the status it was answered. */
void journal_record(const struct mreq *r);
/* The newest `limit` entries, oldest first (newest last). */
cJSON *journal_json(int limit);
/* Forget every entry. */
void journal_reset(void);

#endif
