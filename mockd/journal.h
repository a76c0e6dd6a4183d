/*
 * journal: the last requests mockd received, for GET /__admin/journal.
 *
 * A ring of fixed records, allocated once by journal_init: recording a request
 * copies a few bounded fields and at most JOURNAL_BODY_CAP bytes of its body
 * (O(1), no allocation, no parse); JSON is built only when the journal is read.
 * Memory is bounded by N * sizeof(struct journal_rec), about 5 KiB a record,
 * and N by JOURNAL_MAX; calloc leaves the pages of records never written
 * untouched, so an idle ring costs address space, not RSS.
 */
#ifndef CC_MOCKD_JOURNAL_H
#define CC_MOCKD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>

#include "mockd/http.h"

#define JOURNAL_DEFAULT   1000       /* records when --journal is not given */
#define JOURNAL_MAX       100000     /* the most --journal takes: 5,248-byte records, 525 MB */
#define JOURNAL_BODY_CAP  4096       /* body bytes kept; the rest is counted, not kept */
#define JOURNAL_PATH_CAP  512
#define JOURNAL_QUERY_CAP 512
#define JOURNAL_PEER_CAP  64
#define JOURNAL_PAGE_DEFAULT 100     /* entries a read returns without ?limit */
#define JOURNAL_PAGE_MAX     1000    /* the most one read returns */

enum {
	JOURNAL_BODY_CUT  = 1 << 0,  /* body_kept < body_bytes */
	JOURNAL_PATH_CUT  = 1 << 1,
	JOURNAL_QUERY_CUT = 1 << 2,
};

/* One request as it was answered; every string is a bounded copy. */
struct journal_rec {
	uint64_t seq;
	int64_t at_ms;             /* mockd's clock (mockd/clock.h) when the request came in */
	int64_t duration_us;       /* until the handler returned: a stream's start, not its end */
	const char *method;        /* static strings, kept by pointer */
	const char *api;           /* the path's owner's name (static); "" when no one owns the path */
	int status;
	unsigned flags;            /* JOURNAL_*_CUT */
	size_t body_bytes;         /* the body's length as received */
	size_t body_kept;          /* bytes of it in body[] */
	char peer[JOURNAL_PEER_CAP];
	char path[JOURNAL_PATH_CAP];
	char query[JOURNAL_QUERY_CAP];
	char body[JOURNAL_BODY_CAP];
};

/* Make room for n records (0 turns the journal off); -1 when n > JOURNAL_MAX or out of memory. */
int journal_init(size_t n);
/* Free the ring; the journal is off until journal_init. */
void journal_release(void);
/* Record a request with the status it was answered. O(1). */
void journal_record(const struct mreq *r);
/*
 * Append one page to out, oldest first:
 *   {"entries": [...], "next": SEQ, "more": BOOL[, "missed": N]}
 * since < 0: the newest `limit` records; else the first `limit` records whose
 * seq is above since (paging forward: pass "next" back as since while "more").
 * limit <= 0 reads as JOURNAL_PAGE_DEFAULT, above JOURNAL_PAGE_MAX as that.
 * "next" is the last entry's seq (the newest seq recorded when the page is
 * empty); "more" says newer records are held; "missed" counts the records
 * after since that were overwritten before this read. Each entry's JSON is
 * built and freed in turn, and a page holds at most JOURNAL_PAGE_MAX entries
 * (about 5 KiB of JSON each, 30 KiB at worst), so one read is bounded however
 * large --journal is; -1 when out of memory.
 */
int journal_write(struct evbuffer *out, int64_t since, int limit);
/* {entries, max, bytes, max_bytes, record_bytes, last_seq}: what the ring holds and may hold; NULL when out of memory. */
cJSON *journal_usage_json(void);
/* Forget every record (the ring is kept; seq goes on counting). */
void journal_reset(void);

#endif
