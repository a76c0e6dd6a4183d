/*
 * record: turn what a real deployment answered into mockd scripts.
 *
 * `chatconform record` runs the request steps of the chosen cases against a
 * target and hands every exchange to the recorder, which writes one rule per
 * chat message: the tokens the target streamed, their pacing, and the way the
 * stream ended (an error event, a cut connection, a 5xx before the stream).
 * mockd loads the files with --scripts and replays that behaviour.  Requests
 * are never written: no header, no query, so no credential reaches a script.
 */
#ifndef CC_RUNNER_RECORD_H
#define CC_RUNNER_RECORD_H

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "runner/response.h"
#include "runner/suite.h"

#define RECORD_MAX_RULES 1000   /* mockd's own limit on rules */

struct recorder;

/* A recorder that will write into folder dir (created when missing); NULL with err. */
struct recorder *recorder_new(const char *dir, struct buf *err);
/*
 * One exchange of a case: the expanded request (method, path, json) and what
 * came back. Safe to call from several threads.
 */
void recorder_exchange(void *recorder, const struct tcase *c, const cJSON *request,
		       const struct response *resp);
/* Write DIR/<api>.json for each API recorded; the number of rules written, or -1 with err. */
int recorder_finish(struct recorder *r, struct buf *err);
void recorder_free(struct recorder *r);

#endif
