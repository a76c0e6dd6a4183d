/*
 * wsstep: the "ws" step of a suite (docs/fixture-format.md, "WebSocket steps").
 *
 * A ws step names its connections and runs a script of items in order:
 * connect, send, expect (a frame, no frame, a close), collect (frames checked
 * as a stream), close and sleep.  The first item that fails ends the step
 * with one diff line naming the item ("ws item 3 (expect a): frame /type:
 * expected \"content\", got \"error\"").  Connections still open at the end
 * are closed with 1000.
 *
 * wsstep_validate runs at load time and checks everything that can be known
 * before a run, including the order of the script (no send before connect,
 * nothing after a close); wsstep_run runs an item's templates expanded with
 * the case's variables just before the item, so a capture feeds later items.
 */
#ifndef CC_RUNNER_WSSTEP_H
#define CC_RUNNER_WSSTEP_H

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "runner/timing.h"
#include "runner/vars.h"

#define WSSTEP_MAX_CONNECTIONS 16
#define WSSTEP_MAX_ITEMS       10000
#define WSSTEP_MAX_FRAGMENTS   10000
#define WSSTEP_MAX_WAIT        3600     /* seconds of any one timeout, sleep or no_frame_within */
#define WSSTEP_DEFAULT_WAIT    5.0      /* seconds an expect or collect waits, without its own timeout */
#define WSSTEP_CLOSE_WAIT_MS   2000     /* after our close, how long we wait for the server's */

enum wsstep_result {
	WSSTEP_PASS,
	WSSTEP_FAIL,    /* the target did something the script forbids: diff says what */
	WSSTEP_ERROR,   /* the step could not be carried out: err says why */
};

struct wsstep_env {
	const char *target;              /* base URL, http:// or https:// (made ws:// or wss://) */
	const cJSON *default_headers;    /* the suite's default headers, expanded, or NULL */
	double connect_timeout;          /* seconds: TCP and TLS */
	double handshake_timeout;        /* seconds: from the upgrade request to the answer */
	double wait;                     /* seconds an item waits without its own timeout */
	double total;                    /* seconds the whole step may take */
	struct vars *scope;              /* the case's variables; captures are stored here */
	struct buf *diff;                /* one line on failure */
	struct buf *err;                 /* the reason of an error */
	struct buf *transcript;          /* frames sent and received, credentials redacted; may be NULL */
	const char *ca_file;             /* PEM certificates to trust for wss://, or NULL */
	int *precondition_failed;        /* set to 1 when the item that failed is marked "precondition"; may be NULL */
	struct timing_list *timings;     /* each collect's frame times are added here (runner/timing.h); may be NULL */
	size_t step;                     /* the step's number in its case, from 1, for timings */
};

/* Run a ws step (the template as loaded). */
enum wsstep_result wsstep_run(const cJSON *ws, const struct wsstep_env *env);
/* Validate a ws step at load time; 0, or -1 with "path: what" lines appended to err. */
int wsstep_validate(const cJSON *ws, const char *path, struct buf *err);

#endif
