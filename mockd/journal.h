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

#include <event2/buffer.h>

#include "mockd/http.h"

#define JOURNAL_DEFAULT   1000       /* records when --journal is not given */
#define JOURNAL_MAX       100000     /* the most --journal takes: 5,248-byte records, 525 MB */
#define JOURNAL_BODY_CAP  4096       /* body bytes kept; the rest is counted, not kept */
#define JOURNAL_PATH_CAP  512
#define JOURNAL_QUERY_CAP 512
#define JOURNAL_PEER_CAP  64

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
 * Append {"entries": [...]} to out: the newest `limit` records (all when
 * limit <= 0), oldest first. Each entry's JSON is built and freed in turn, so a
 * read holds one entry's tree at a time; -1 when out of memory.
 */
int journal_write(struct evbuffer *out, int limit);
/* Forget every record (the ring is kept; seq goes on counting). */
void journal_reset(void);

#endif
