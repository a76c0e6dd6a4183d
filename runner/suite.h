/*
 * suite: the in-memory form of a suite file (docs/fixture-format.md).
 *
 * suite_load checks everything that can be checked before a run: the shape of
 * every case and step, the matcher keywords, the sequence expressions.  A
 * broken file is reported with the file, the case id and the JSON path, so the
 * run can stop with exit 2 before it sends anything.
 *
 * The cJSON trees of requests, expectations and captures are kept as
 * templates: variables are expanded when the step runs.
 */
#ifndef CC_RUNNER_SUITE_H
#define CC_RUNNER_SUITE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "runner/timeouts.h"

enum level { LEVEL_MUST, LEVEL_SHOULD, LEVEL_INFO };

enum step_kind {
	STEP_REQUEST,   /* an HTTP request to the target */
	STEP_ADMIN,     /* an HTTP request to mockd's /__admin/ API (mock only) */
	STEP_WS,        /* WebSocket connections and a script of frames (runner/wsstep.h) */
	STEP_SLEEP,     /* wait, between two steps: for work the target does after an answer */
};

struct step {
	enum step_kind kind;
	char *where;             /* "cases[3].steps[1]", for messages */
	cJSON *request;          /* method, path, query, headers, json | body (templates) */
	cJSON *ws;               /* STEP_WS: connections and script (templates), else NULL */
	cJSON *expect;           /* NULL when the step expects nothing */
	cJSON *capture;          /* object NAME -> source, or NULL */
	int repeat;              /* send the request this many times (>= 1); expect applies to each */
	size_t leave_after;      /* "leave_after": {"events": N}: leave the stream after N events; 0: read it all */
	double sleep;            /* STEP_SLEEP: seconds */
	bool precondition;       /* it establishes the case's precondition: its failure blocks the case */
	struct timeouts timeouts;
};

struct tcase {
	char *id;
	char *title;
	char *section;
	char *clause;
	enum level level;
	char **tags;
	size_t ntags;
	char *skip;              /* a reason to skip it always, or NULL */
	char **needs;            /* variables naming values only a deployment has (a second key), or NULL */
	size_t nneeds;
	cJSON *vars;             /* object of templates, or NULL */
	struct step *steps;
	size_t nsteps;
	bool mock_only;          /* tagged mock-only, or has an admin step */
	bool exclusive;          /* must not run beside other cases (moves mockd's clock, resets state) */
	struct suite *suite;     /* the suite it belongs to */
	size_t index;            /* position in its suite */
};

struct suite {
	char *path;              /* the file it was loaded from */
	char *name;              /* "suite": the API name, e.g. "widget" */
	char *spec;              /* the document it checks, e.g. "003_b326a3eb5b6fef58.txt" */
	char *spec_path;         /* where that document was found (a spec/ folder), or NULL */
	cJSON *vars;             /* object of templates, or NULL */
	cJSON *default_headers;  /* object of header templates sent with every request, or NULL */
	struct timeouts timeouts;
	struct tcase *cases;
	size_t ncases;
};

struct suite_set {
	struct suite **v;
	size_t n;
};

/* Load one suite file; on error returns NULL and appends "file: case id: path: what" lines to err. */
struct suite *suite_load(const char *path, struct buf *err);
void suite_free(struct suite *s);
/*
 * Load every path: a file, or a folder searched recursively for *.json (in name
 * order).  Case ids must be unique across the set.  Returns 0, or -1 with every
 * problem found appended to err (it keeps going, so one run shows them all).
 * set is initialised here and holds the files that did load; release it with
 * suite_set_release whatever the result.
 */
int suite_set_load(struct suite_set *set, const char *const *paths, size_t npaths, struct buf *err);
void suite_set_release(struct suite_set *set);
/*
 * Find the document name in a spec/ folder: in the suite file's folder or one
 * above it, else beside or above the running executable (a checkout's bin/, an
 * installed share/chatconform/), else in the data folder make install compiled
 * in.  A new path, or NULL when no such file exists.
 */
char *suite_find_spec(const char *suite_path, const char *name);
/* True when the case carries the tag. */
bool tcase_has_tag(const struct tcase *c, const char *tag);
/* "MUST", "SHOULD", "INFO". */
const char *level_name(enum level l);

#endif
