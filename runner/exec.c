/*
 * exec: run the selected cases of a suite set against a target.
 *
 * Workers (pthreads, one HTTP client each) take the next case from a shared
 * index under a mutex; the same mutex serialises console output, so a case's
 * lines are never interleaved with another's.  Exclusive cases (they reset
 * mockd or move its clock) run afterwards on the main thread, alone.
 */
#include "runner/exec.h"

#include <fnmatch.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "common/timeutil.h"
#include "runner/http.h"
#include "runner/match.h"
#include "runner/report/console.h"
#include "runner/url.h"
#include "runner/vars.h"
#include "runner/wsstep.h"

#define STEP_TRANSCRIPT_MAX (64u << 10)   /* bytes of one exchange's transcript */

struct exec_ctx {
	const struct exec_options *opt;
	struct run_result *rr;
	struct vars *run_vars;      /* RUN_ID, TARGET and the --var overrides; read-only while workers run */
	struct vars **api_vars;     /* with targets: one scope per API of the file (its vars, TARGET), over run_vars */
	cJSON *run_headers;         /* --header as {"name": "value"}, or NULL; read-only while workers run */
	cJSON **api_headers;        /* with targets: per API of the file, its headers then --header (or NULL) */
	uint32_t ip_base;           /* random offset of CLIENT_IP, so two runs do not share addresses */
	int rate_limit_asked;       /* --tag rate-limit was given */
	const size_t *list;         /* indices into rr->cases of the phase being run */
	size_t nlist;
	size_t next;                /* under lock */
	pthread_mutex_t lock;       /* next, and the console */
};

/* A header list being merged: names and values owned. */
struct hlist {
	char **name;
	char **value;
	size_t n;
};

/* ---- helpers ------------------------------------------------------------------------------ */

void exec_run_id(char out[13])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[12];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* No entropy source: time and pid still make two runs differ. */
		uint64_t x = (uint64_t)wall_ms() * 6364136223846793005ull + (uint64_t)getpid();
		for (size_t i = 0; i < sizeof(r); i++) {
			x ^= x >> 29;
			x *= 0xbf58476d1ce4e5b9ull;
			r[i] = (unsigned char)(x >> 56);
		}
	}
	for (size_t i = 0; i < sizeof(r); i++)
		out[i] = alphabet[r[i] % 36];
	out[12] = '\0';
}

void exec_client_ip(uint32_t base, uint64_t seq, char *out, size_t size)
{
	/* 198.18.0.0/15 holds 131072 addresses; skip the first and the last (network, broadcast). */
	uint32_t off = 1 + (uint32_t)(((uint64_t)base + seq) % 131070u);
	uint32_t a = (198u << 24 | 18u << 16) + off;
	snprintf(out, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static int has_any_tag(const struct tcase *c, const char *const *tags, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tcase_has_tag(c, tags[i]))
			return 1;
	return 0;
}

unsigned exec_shard_of(const char *id, unsigned n)
{
	/* FNV-1a, 64 bits: a stable, well-spread hash with no seed, so every shard job agrees. */
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	return n ? 1u + (unsigned)(h % n) : 1u;
}

int exec_selected(const struct tcase *c, const struct exec_options *opt)
{
	if (opt->shard_count > 1 && exec_shard_of(c->id, opt->shard_count) != opt->shard_index)
		return 0;
	if (opt->filter && fnmatch(opt->filter, c->id, 0) != 0)
		return 0;
	if (opt->ntags && !has_any_tag(c, opt->tags, opt->ntags))
		return 0;
	if (has_any_tag(c, opt->exclude_tags, opt->nexclude))
		return 0;
	return 1;
}

/* The value --var NAME=... gives name, or NULL. */
static const char *override_value(const struct exec_options *opt, const char *name)
{
	size_t len = strlen(name);
	const char *v = NULL;
	for (size_t i = 0; i < opt->nvars; i++)
		if (strncmp(opt->vars[i], name, len) == 0 && opt->vars[i][len] == '=')
			v = opt->vars[i] + len + 1;   /* the last one wins, as in exec_run */
	return v;
}

/* True when --var or the targets file sets name: then no suite or case may change it. */
static int is_override(const struct exec_options *opt, const struct target_api *ta, const char *name)
{
	return override_value(opt, name) != NULL || target_api_var(ta, name) != NULL;
}

/* The targets file's entry for the case's API, or NULL (no file, or no entry). */
static const struct target_api *case_api(const struct exec_ctx *ctx, const struct tcase *c)
{
	return targets_find(ctx->opt->targets, c->suite->name);
}

/* The base URL the case's request and ws steps go to. */
static const char *case_target(const struct exec_ctx *ctx, const struct tcase *c)
{
	const struct target_api *ta = case_api(ctx, c);
	return ta ? ta->url : ctx->opt->target;
}

/* The run's headers for the case's API (targets file, then --header), or NULL: secrets, never shown. */
static const cJSON *case_headers(const struct exec_ctx *ctx, const struct tcase *c)
{
	const struct target_api *ta = case_api(ctx, c);
	return ta ? ctx->api_headers[ta - ctx->opt->targets->v] : ctx->run_headers;
}

/* Set name to value in the object h, replacing a member of that name in any case; -1 out of memory. */
static int headers_put(cJSON *h, const char *name, const char *value)
{
	cJSON *v = cJSON_CreateString(value);
	if (!v)
		return -1;
	cJSON_DeleteItemFromObject(h, name);   /* case-insensitive, as header names are */
	cJSON_AddItemToObject(h, name, v);
	return 0;
}

/* The headers of one API: ta's (when not NULL), then --header over them; NULL when none, or out of memory. */
static cJSON *run_headers_new(const struct exec_options *opt, const struct target_api *ta, int *oom)
{
	size_t nta = ta ? ta->nheaders : 0;
	if (!nta && !opt->nheaders)
		return NULL;
	cJSON *h = cJSON_CreateObject();
	int bad = !h;
	for (size_t i = 0; !bad && i < nta; i++)
		bad = headers_put(h, ta->hnames[i], ta->hvalues[i]) != 0;
	for (size_t i = 0; !bad && i < opt->nheaders; i++)
		bad = headers_put(h, opt->headers[i].name, opt->headers[i].value) != 0;
	if (bad) {
		cJSON_Delete(h);
		*oom = 1;
		return NULL;
	}
	return h;
}

/* Free what run_headers_new made, its values (secrets) cleared first. */
static void run_headers_free(cJSON *h)
{
	for (cJSON *it = h ? h->child : NULL; it; it = it->next)
		explicit_bzero(it->valuestring, strlen(it->valuestring));
	cJSON_Delete(h);
}

static double pick(double step, double suite, double run)
{
	return step > 0 ? step : suite > 0 ? suite : run;
}

/* A JSON value as a header or body string; caller frees. */
static char *value_text(const cJSON *v)
{
	if (cJSON_IsString(v))
		return strdup(v->valuestring);
	return cJSON_PrintUnformatted(v);
}

static void hlist_release(struct hlist *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->name[i]);
		free(h->value[i]);
	}
	free(h->name);
	free(h->value);
	memset(h, 0, sizeof(*h));
}

static ssize_t hlist_find(const struct hlist *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(h->name[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Set name to v (a later value wins; JSON null removes the header). 0, or -1 out of memory. */
static int hlist_set(struct hlist *h, const char *name, const cJSON *v)
{
	ssize_t at = hlist_find(h, name);
	if (cJSON_IsNull(v)) {
		if (at >= 0) {
			free(h->name[at]);
			free(h->value[at]);
			h->n--;
			memmove(h->name + at, h->name + at + 1, (h->n - (size_t)at) * sizeof(char *));
			memmove(h->value + at, h->value + at + 1, (h->n - (size_t)at) * sizeof(char *));
		}
		return 0;
	}
	char *value = value_text(v);
	if (!value)
		return -1;
	if (at >= 0) {
		free(h->value[at]);
		h->value[at] = value;
		return 0;
	}
	char **names = realloc(h->name, (h->n + 1) * sizeof(char *));
	if (names)
		h->name = names;
	char **values = realloc(h->value, (h->n + 1) * sizeof(char *));
	if (values)
		h->value = values;
	char *copy = strdup(name);
	if (!names || !values || !copy) {
		free(copy);
		free(value);
		return -1;
	}
	h->name[h->n] = copy;
	h->value[h->n] = value;
	h->n++;
	return 0;
}

static int hlist_merge(struct hlist *h, const cJSON *obj)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
		if (hlist_set(h, it->string, it) != 0)
			return -1;
	return 0;
}

/* Expand each variable of tmpl in order into scope, so later ones may use earlier ones. */
static int set_vars(struct vars *scope, const cJSON *tmpl, const struct exec_options *opt,
		    const struct target_api *ta, struct buf *err)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, tmpl) {
		if (is_override(opt, ta, it->string))
			continue;
		struct buf e;
		buf_init(&e, 1024);
		cJSON *v = vars_expand_json(scope, it, &e);
		if (!v) {
			buf_printf(err, "variable %s: %s", it->string, buf_str(&e));
			buf_release(&e);
			return -1;
		}
		buf_release(&e);
		vars_set(scope, it->string, v);
	}
	return 0;
}

/* ---- one case ----------------------------------------------------------------------------- */

/* "", "step 2: " or "step 2, request 5/30: ", the prefix of a case's messages. */
static void step_label(char *out, size_t size, const struct tcase *c, size_t si, int r, int repeat)
{
	if (repeat > 1)
		snprintf(out, size, "step %zu, request %d/%d: ", si + 1, r + 1, repeat);
	else if (c->nsteps > 1)
		snprintf(out, size, "step %zu: ", si + 1);
	else
		out[0] = '\0';
}

static void set_message(struct case_result *cr, enum verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set the verdict and its one-line message (the first one set is kept). */
static void set_message(struct case_result *cr, enum verdict v, const char *fmt, ...)
{
	cr->verdict = v;
	if (cr->message)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&cr->message, fmt, ap) < 0)
		cr->message = NULL;
	va_end(ap);
	/* One line: a report's message attribute and the console both expect that. */
	if (cr->message)
		cr->message[strcspn(cr->message, "\n")] = '\0';
}

/* Append each line of lines to the case's diff with a prefix. */
static void add_diff(struct case_result *cr, const char *label, const char *lines)
{
	const char *p = lines;
	while (*p) {
		size_t len = strcspn(p, "\n");
		if (len)
			buf_printf(&cr->diff, "%s%.*s\n", label, (int)len, p);
		p += len;
		if (*p)
			p++;
	}
}

/*
 * The step failed a check: a failure of the case's clause, or, when what failed
 * only establishes the precondition, a blocked case that never reached it.
 */
static void step_failed(struct case_result *cr, int precondition, const char *label, const char *lines)
{
	add_diff(cr, label, lines);
	if (precondition)
		set_message(cr, VERDICT_BLOCKED, "precondition not met: %s", buf_str(&cr->diff));
	else
		set_message(cr, VERDICT_FAIL, "%s", buf_str(&cr->diff));
}

/* The HTTP request of a step, built from its expanded template. */
struct built {
	struct buf url;
	struct hlist headers;
	struct http_header_kv *kv;
	char *body;
	size_t body_len;
};

static void built_release(struct built *b)
{
	buf_release(&b->url);
	hlist_release(&b->headers);
	free(b->kv);
	free(b->body);
}

/* Fill b from the expanded request req; 0, or -1 with the reason in err. */
static int build_request(struct built *b, const struct exec_ctx *ctx, const struct tcase *c,
			 const struct step *st, const cJSON *req, const struct vars *scope, struct buf *err)
{
	const struct exec_options *opt = ctx->opt;
	const cJSON *query = cJSON_GetObjectItemCaseSensitive(req, "query");
	const cJSON *json = cJSON_GetObjectItemCaseSensitive(req, "json");
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(req, "body");
	const cJSON *rep = cJSON_GetObjectItemCaseSensitive(req, "body_repeat");
	const char *path = json_get_string(req, "path");
	const char *base = st->kind == STEP_ADMIN ? opt->mock_url : case_target(ctx, c);
	cJSON *defaults = NULL;
	int rc = -1;

	if (url_build(&b->url, base, path ? path : "/", query, err) != 0)
		goto out;
	if (b->url.len >= b->url.max) {
		buf_adds(err, "the URL is too long");
		goto out;
	}
	/* Suite default headers go with request steps only; admin calls talk to mockd itself. */
	if (st->kind == STEP_REQUEST && c->suite->default_headers) {
		defaults = vars_expand_json(scope, c->suite->default_headers, err);
		if (!defaults || hlist_merge(&b->headers, defaults) != 0)
			goto out;
	}
	/* Then the run's (targets file, --header), and the step's own last: a case testing a credential keeps its value. */
	if (st->kind == STEP_REQUEST && hlist_merge(&b->headers, case_headers(ctx, c)) != 0)
		goto out;
	if (hlist_merge(&b->headers, cJSON_GetObjectItemCaseSensitive(req, "headers")) != 0)
		goto out;
	if (st->kind == STEP_ADMIN && opt->admin_token && hlist_find(&b->headers, "authorization") < 0) {
		char *auth = NULL;
		if (asprintf(&auth, "Bearer %s", opt->admin_token) < 0)
			goto out;
		cJSON *v = cJSON_CreateString(auth);
		free(auth);
		int bad = !v || hlist_set(&b->headers, "Authorization", v) != 0;
		cJSON_Delete(v);
		if (bad)
			goto out;
	}
	if (json) {
		b->body = cJSON_PrintUnformatted(json);
		if (!b->body)
			goto out;
		b->body_len = strlen(b->body);
		if (hlist_find(&b->headers, "content-type") < 0) {
			cJSON *v = cJSON_CreateString("application/json");
			int bad = !v || hlist_set(&b->headers, "Content-Type", v) != 0;
			cJSON_Delete(v);
			if (bad)
				goto out;
		}
	} else if (cJSON_IsString(body)) {
		double times = cJSON_IsNumber(rep) ? rep->valuedouble : 1;
		size_t one = strlen(body->valuestring);
		if (times < 1 || (one && times > (double)EXEC_MAX_BODY / (double)one)) {
			buf_printf(err, "body_repeat %g makes a body outside 1..%u bytes", times, EXEC_MAX_BODY);
			goto out;
		}
		size_t n = (size_t)times;
		b->body_len = one * n;
		b->body = malloc(b->body_len + 1);
		if (!b->body)
			goto out;
		for (size_t i = 0; i < n; i++)
			memcpy(b->body + i * one, body->valuestring, one);
		b->body[b->body_len] = '\0';
	}
	b->kv = calloc(b->headers.n + 1, sizeof(*b->kv));
	if (!b->kv)
		goto out;
	for (size_t i = 0; i < b->headers.n; i++) {
		b->kv[i].name = b->headers.name[i];
		b->kv[i].value = b->headers.value[i];
	}
	rc = 0;
out:
	if (rc != 0 && !err->len)
		buf_adds(err, "out of memory building the request");
	cJSON_Delete(defaults);
	return rc;
}

/* Store each capture of the step into scope from resp; 0, or -1 with the reason in err. */
static int do_captures(const struct step *st, const struct response *resp, struct vars *scope,
		       struct buf *err)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, st->capture) {
		if (!cJSON_IsString(it)) {
			buf_printf(err, "capture %s: the source must be a string", it->string);
			return -1;
		}
		struct buf e;
		buf_init(&e, 1024);
		char *src = vars_expand_string(scope, it->valuestring, &e);
		cJSON *v = src ? capture_value(src, resp, &e) : NULL;
		free(src);
		if (!v) {
			buf_printf(err, "capture %s: %s", it->string, buf_str(&e));
			buf_release(&e);
			return -1;
		}
		buf_release(&e);
		vars_set(scope, it->string, v);
	}
	return 0;
}

/* Run the ws step si of the case: its script, its transcript, its verdict. */
static void run_ws_step(const struct exec_ctx *ctx, struct case_result *cr, struct vars *scope, size_t si)
{
	const struct tcase *c = cr->tcase;
	const struct step *st = &c->steps[si];
	const struct exec_options *opt = ctx->opt;
	struct buf err, xt, sdiff;
	cJSON *defaults = NULL;
	char label[64];

	buf_init(&err, 4096);
	buf_init(&xt, STEP_TRANSCRIPT_MAX);
	buf_init(&sdiff, EXEC_MAX_DIFF);
	step_label(label, sizeof(label), c, si, 0, 1);
	/* The suite's default headers, then the run's, go with the upgrade request, as with any request step. */
	if (c->suite->default_headers && !(defaults = vars_expand_json(scope, c->suite->default_headers, &err))) {
		set_message(cr, VERDICT_ERROR, "%s%s", label, buf_str(&err));
		goto out;
	}
	const cJSON *h, *extra = case_headers(ctx, c);
	if (extra && !defaults)
		defaults = cJSON_CreateObject();
	int oom = extra && !defaults;
	for (h = extra && defaults ? extra->child : NULL; h && !oom; h = h->next)
		oom = headers_put(defaults, h->string, h->valuestring) != 0;
	if (oom) {
		set_message(cr, VERDICT_ERROR, "%sout of memory", label);
		goto out;
	}
	/* An item without its own timeout waits the step's or the suite's idle, else 5 s (not the run's 10). */
	double idle = pick(st->timeouts.idle, c->suite->timeouts.idle, 0);
	struct wsstep_env env = {
		.target = case_target(ctx, c),
		.default_headers = defaults,
		.connect_timeout = pick(st->timeouts.connect, c->suite->timeouts.connect, opt->timeouts.connect),
		.handshake_timeout = pick(st->timeouts.first_byte, c->suite->timeouts.first_byte,
					  opt->timeouts.first_byte),
		.wait = idle > 0 ? idle : WSSTEP_DEFAULT_WAIT,
		.total = pick(st->timeouts.total, c->suite->timeouts.total, opt->timeouts.total),
		.scope = scope,
		.diff = &sdiff,
		.err = &err,
		.transcript = &xt,
		.ca_file = opt->ca_file,
	};
	int item_precondition = 0;
	env.precondition_failed = &item_precondition;
	env.timings = &cr->timings;
	env.step = si + 1;
	enum wsstep_result r = wsstep_run(st->ws, &env);
	if (r == WSSTEP_ERROR)
		set_message(cr, VERDICT_ERROR, "%s%s", label, buf_str(&err));
	else if (r == WSSTEP_FAIL)
		step_failed(cr, st->precondition || item_precondition, label, buf_str(&sdiff));
	buf_printf(&cr->transcript, "--- step %zu (ws)\n", si + 1);
	buf_add(&cr->transcript, xt.data ? xt.data : "", xt.len);
out:
	cJSON_Delete(defaults);
	buf_release(&sdiff);
	buf_release(&xt);
	buf_release(&err);
}

/* Sleep step si: wait, so that work the target does after an answer has had its time. */
static void run_sleep_step(struct case_result *cr, size_t si)
{
	double s = cr->tcase->steps[si].sleep;
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) != 0)
		;   /* interrupted by a signal: sleep the rest */
	buf_printf(&cr->transcript, "--- step %zu (sleep)\n* slept %g s\n", si + 1, s);
}

/* Keep the figures of a decoded stream for the reports; replace: it replaces the step's last entry. */
static void record_timing(struct case_result *cr, size_t si, const struct response *resp, int replace)
{
	struct stream_timing t;
	memset(&t, 0, sizeof(t));
	if (timing_compute(resp->events, resp->nevents, 1, &t) != 0)
		return;
	t.step = si + 1;
	t.kind = resp->format == STREAM_SSE ? "sse" : "ndjson";
	t.total_ms = resp->total_ms - resp->sent_ms;
	struct timing_list *l = &cr->timings;
	if (replace && l->n && l->v[l->n - 1].step == t.step) {
		timing_release(&l->v[l->n - 1]);
		l->v[l->n - 1] = t;
		return;
	}
	timing_list_add(l, &t);
}

/* Run step si of the case; leaves the verdict in cr (PASS when the step passed). */
static void run_step(const struct exec_ctx *ctx, struct http_client *client, struct case_result *cr,
		     struct vars *scope, size_t si)
{
	const struct tcase *c = cr->tcase;
	const struct step *st = &c->steps[si];
	const struct exec_options *opt = ctx->opt;
	char label[64];
	struct built b;
	struct buf err, xt, sdiff;
	struct response resp;
	cJSON *req = NULL;
	int omitted = 0;

	memset(&b, 0, sizeof(b));
	buf_init(&b.url, 64u << 10);
	buf_init(&err, 4096);
	buf_init(&xt, STEP_TRANSCRIPT_MAX);
	buf_init(&sdiff, EXEC_MAX_DIFF);
	response_init(&resp);
	step_label(label, sizeof(label), c, si, 0, 1);

	req = vars_expand_json(scope, st->request, &err);
	if (!req || build_request(&b, ctx, c, st, req, scope, &err) != 0) {
		set_message(cr, VERDICT_ERROR, "%s%s", label, buf_str(&err));
		goto out;
	}
	const cJSON *stream = cJSON_GetObjectItemCaseSensitive(st->expect, "stream");
	const char *format = json_get_string(stream, "format");
	struct http_request hr = {
		.ca_file = opt->ca_file,
		.method = json_get_string(req, "method"),
		.url = buf_str(&b.url),
		.headers = b.kv,
		.nheaders = b.headers.n,
		.body = b.body,
		.body_len = b.body_len,
		.stream = !format ? STREAM_NONE : strcmp(format, "ndjson") == 0 ? STREAM_NDJSON :
			  strcmp(format, "sse") == 0 ? STREAM_SSE : STREAM_NONE,
		.leave_after_events = st->leave_after,
		.timeouts = {
			.connect = pick(st->timeouts.connect, c->suite->timeouts.connect, opt->timeouts.connect),
			.first_byte = pick(st->timeouts.first_byte, c->suite->timeouts.first_byte,
					   opt->timeouts.first_byte),
			.idle = pick(st->timeouts.idle, c->suite->timeouts.idle, opt->timeouts.idle),
			.total = pick(st->timeouts.total, c->suite->timeouts.total, opt->timeouts.total),
		},
	};
	int repeat = st->repeat > 0 ? st->repeat : 1;
	for (int r = 0; r < repeat; r++) {
		response_release(&resp);
		buf_reset(&xt);
		buf_reset(&sdiff);
		step_label(label, sizeof(label), c, si, r, repeat);
		int exchanged = http_exchange(client, &hr, &resp, &xt);
		if (opt->on_exchange && st->kind == STEP_REQUEST)
			opt->on_exchange(opt->on_exchange_arg, c, req, &resp);
		/* Of a repeated request, the figures of the last stream (each replaces the one before). */
		if (resp.format != STREAM_NONE)
			record_timing(cr, si, &resp, r > 0);
		if (exchanged != 0) {
			set_message(cr, VERDICT_ERROR, "%s%s", label, resp.transport_error);
		} else if (st->expect && expect_check(st->expect, &resp, scope, &sdiff) > 0) {
			step_failed(cr, st->precondition, label, buf_str(&sdiff));
		}
		/* Of a repeated request, keep the first, the last and the one that went wrong. */
		if (r == 0 || r == repeat - 1 || cr->verdict != VERDICT_PASS) {
			if (omitted)
				buf_printf(&cr->transcript, "(%d more requests like it, not shown)\n", omitted);
			omitted = 0;
			buf_printf(&cr->transcript, "--- step %zu%s", si + 1,
				   st->kind == STEP_ADMIN ? " (admin)" : "");
			if (repeat > 1)
				buf_printf(&cr->transcript, ", request %d/%d", r + 1, repeat);
			buf_addc(&cr->transcript, '\n');
			buf_add(&cr->transcript, xt.data ? xt.data : "", xt.len);
		} else {
			omitted++;
		}
		if (cr->verdict != VERDICT_PASS)
			goto out;
	}
	if (st->capture) {
		buf_reset(&err);
		step_label(label, sizeof(label), c, si, 0, 1);
		/* The response lacks what the case needs from it: the target's doing, so a failure of the
		 * step (a blocked case when the step only sets the scene), not an error of the case. */
		if (do_captures(st, &resp, scope, &err) != 0)
			step_failed(cr, st->precondition, label, buf_str(&err));
	}
out:
	cJSON_Delete(req);
	response_release(&resp);
	built_release(&b);
	buf_release(&sdiff);
	buf_release(&xt);
	buf_release(&err);
}

/*
 * Against a real target, a variable the case needs (a second key) counts as
 * given only when the targets file or --var sets it to something not empty:
 * the suite's own value is mockd's development key.
 */
static const char *missing_need(const struct exec_ctx *ctx, const struct tcase *c)
{
	const struct target_api *ta = case_api(ctx, c);
	for (size_t i = 0; i < c->nneeds; i++) {
		const char *v = override_value(ctx->opt, c->needs[i]);
		if (!v)
			v = target_api_var(ta, c->needs[i]);
		if (!v || !*v)
			return c->needs[i];
	}
	return NULL;
}

/* The reason to skip the case without running it into why; 1 when it is skipped. */
static int skip_reason(const struct exec_ctx *ctx, const struct tcase *c, char *why, size_t size)
{
	const struct exec_options *opt = ctx->opt;
	const char *need = NULL;
	if (c->skip)
		snprintf(why, size, "%s", c->skip);
	else if (opt->targets && !case_api(ctx, c))
		snprintf(why, size, "no target for API %s in %s", c->suite->name, opt->targets->path);
	else if (c->mock_only && !opt->mock_url)
		snprintf(why, size, "mock-only: needs mockd");
	else if (opt->mock_url && tcase_has_tag(c, "real-only"))
		snprintf(why, size, "real-only: needs a deployment's own pacing (mockd paces only scripted replies)");
	else if (!opt->mock_url && tcase_has_tag(c, "rate-limit") && !ctx->rate_limit_asked)
		snprintf(why, size, "rate-limit: against a real target only with --tag rate-limit");
	else if (!opt->mock_url && (need = missing_need(ctx, c)) && opt->targets)
		snprintf(why, size, "needs %s (a value of the deployment): set it in the targets file", need);
	else if (!opt->mock_url && need)
		snprintf(why, size, "needs %s (a value of the deployment): give it with --var %s=VALUE or a targets file", need,
			 need);
	else
		return 0;
	return 1;
}

/* Replace every occurrence of secret in b with "(redacted)". */
static void scrub_buf(struct buf *b, const char *secret)
{
	size_t n = strlen(secret);
	if (!b->data || !n || !memmem(b->data, b->len, secret, n))
		return;
	/* Room for every replacement, so that "(redacted)", longer than a short secret, never drops text. */
	size_t hits = 0;
	for (const char *q = b->data; (q = memmem(q, (size_t)(b->data + b->len - q), secret, n)); q += n)
		hits++;
	struct buf out;
	size_t need = b->len + hits * sizeof("(redacted)");
	buf_init(&out, need > b->max ? need : b->max);
	const char *p = b->data, *end = b->data + b->len, *hit;
	while ((hit = memmem(p, (size_t)(end - p), secret, n))) {
		buf_add(&out, p, (size_t)(hit - p));
		buf_adds(&out, "(redacted)");
		p = hit + n;
	}
	buf_add(&out, p, (size_t)(end - p));
	buf_release(b);
	*b = out;
}

static void scrub_string(char **s, const char *secret)
{
	if (!*s || !*secret || !strstr(*s, secret))
		return;
	struct buf b;
	buf_init(&b, strlen(*s));
	if (buf_adds(&b, *s) != BUF_OK) {
		buf_release(&b);
		return; /* out of memory: the message keeps its text rather than lose it */
	}
	scrub_buf(&b, secret);
	size_t len;
	char *clean = buf_detach(&b, &len);
	if (clean) {
		free(*s);
		*s = clean;
	}
	buf_release(&b);
}

/* Replace secret in every message, diff and transcript of cr, also as a transcript escapes it. */
static void scrub_secret(struct case_result *cr, const char *secret)
{
	struct buf shown;
	/* Values shorter than 4 characters are left: they would blank out the text. */
	if (strlen(secret) < 4)
		return;
	buf_init(&shown, 4 * strlen(secret) + 1);
	http_append_escaped(&shown, secret, strlen(secret), 0);
	for (int pass = 0; pass < 2; pass++) {
		const char *s = pass ? buf_str(&shown) : secret;
		if (pass && strcmp(s, secret) == 0)
			break;   /* a tab or a byte not UTF-8 is written \xNN in a transcript */
		scrub_string(&cr->message, s);
		scrub_buf(&cr->diff, s);
		scrub_buf(&cr->transcript, s);
		for (size_t j = 0; j < cr->nattempts; j++) {
			scrub_string(&cr->attempts[j].message, s);
			scrub_buf(&cr->attempts[j].diff, s);
			scrub_buf(&cr->attempts[j].transcript, s);
		}
	}
	buf_release(&shown);
}

/*
 * A value from the targets file (vars, headers) or of --header never reaches a
 * report, even where the transcript's header redaction cannot see it (a
 * header whose name is no credential's, a body, an echo, a diff).
 */
static void scrub_secrets(const struct exec_ctx *ctx, struct case_result *cr)
{
	const struct target_api *ta = case_api(ctx, cr->tcase);
	for (size_t i = 0; ta && i < ta->nvars; i++)
		scrub_secret(cr, ta->values[i]);
	for (size_t i = 0; ta && i < ta->nheaders; i++)
		scrub_secret(cr, ta->hvalues[i]);
	for (size_t i = 0; i < ctx->opt->nheaders; i++)
		scrub_secret(cr, ctx->opt->headers[i].value);
}

/* One attempt of the case (attempt counts from 0): a fresh scope, every step, the verdict in cr. */
static void run_attempt(const struct exec_ctx *ctx, struct http_client *client, size_t idx, int attempt)
{
	struct case_result *cr = &ctx->rr->cases[idx];
	const struct tcase *c = cr->tcase;
	const struct target_api *ta = case_api(ctx, c);
	struct vars *scope = NULL;
	struct buf err;
	char ip[16];
	/* A rerun gets its own CASE_SEQ and CLIENT_IP: no conversation or rate-limit window of the failed one. */
	uint64_t seq = idx + 1 + (uint64_t)attempt * ctx->rr->ncases;

	buf_init(&err, 4096);
	cr->verdict = VERDICT_PASS;
	timing_list_release(&cr->timings);   /* the case's figures are its last attempt's */
	if (!client) {
		set_message(cr, VERDICT_ERROR, "cannot start an HTTP client (libcurl)");
		goto out;
	}
	scope = vars_new(ta ? ctx->api_vars[ta - ctx->opt->targets->v] : ctx->run_vars);
	if (!scope) {
		set_message(cr, VERDICT_ERROR, "out of memory");
		goto out;
	}
	exec_client_ip(ctx->ip_base, seq, ip, sizeof(ip));
	vars_set_string(scope, "CASE_ID", c->id);
	vars_set(scope, "CASE_SEQ", cJSON_CreateNumber((double)seq));
	vars_set(scope, "ATTEMPT", cJSON_CreateNumber((double)(attempt + 1)));
	vars_set_string(scope, "CLIENT_IP", ip);
	if ((c->suite->vars && set_vars(scope, c->suite->vars, ctx->opt, ta, &err) != 0) ||
	    (c->vars && set_vars(scope, c->vars, ctx->opt, ta, &err) != 0)) {
		set_message(cr, VERDICT_ERROR, "%s", buf_str(&err));
		goto out;
	}
	for (size_t si = 0; si < c->nsteps && cr->verdict == VERDICT_PASS; si++) {
		if (c->steps[si].kind == STEP_WS)
			run_ws_step(ctx, cr, scope, si);
		else if (c->steps[si].kind == STEP_SLEEP)
			run_sleep_step(cr, si);
		else
			run_step(ctx, client, cr, scope, si);
	}
	/* INFO cases only observe: what was seen instead is reported, never as a failure (nor a pass). */
	if (c->level == LEVEL_INFO && cr->verdict == VERDICT_FAIL) {
		char *saw = cr->message;
		cr->message = NULL;
		set_message(cr, VERDICT_OBSERVED, "observed: %s", saw ? saw : "the claim did not hold");
		free(saw);
	}
out:
	vars_free(scope);
	buf_release(&err);
}

/* Move the failed attempt in cr to its list of attempts and clear cr for the next; -1 out of memory. */
static int keep_attempt(struct case_result *cr, double time_ms)
{
	struct case_attempt *grown = realloc(cr->attempts, (cr->nattempts + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	cr->attempts = grown;
	struct case_attempt *a = &cr->attempts[cr->nattempts++];
	a->verdict = cr->verdict;
	a->message = cr->message;   /* the attempt owns the message, diff and transcript now */
	a->diff = cr->diff;
	a->transcript = cr->transcript;
	a->time_ms = time_ms;
	cr->message = NULL;
	buf_init(&cr->diff, EXEC_MAX_DIFF);
	buf_init(&cr->transcript, EXEC_MAX_TRANSCRIPT);
	return 0;
}

static void run_case(const struct exec_ctx *ctx, struct http_client *client, size_t idx)
{
	struct case_result *cr = &ctx->rr->cases[idx];
	char why[1024];
	int64_t t0 = mono_ms();

	cr->started_at_ms = (double)wall_ms();
	cr->verdict = VERDICT_PASS;
	if (skip_reason(ctx, cr->tcase, why, sizeof(why))) {
		set_message(cr, VERDICT_SKIP, "%s", why);
		cr->time_ms = (double)(mono_ms() - t0);
		return;
	}
	/* A failed case is rerun up to --retries times; passing on a rerun makes it flaky, not a pass. */
	for (int attempt = 0;; attempt++) {
		int64_t ta = mono_ms();
		run_attempt(ctx, client, idx, attempt);
		int failed = cr->verdict == VERDICT_FAIL || cr->verdict == VERDICT_ERROR;
		if (!failed) {
			if (attempt > 0) {
				cr->verdict = VERDICT_FLAKY;
				free(cr->message);
				cr->message = NULL;
				if (asprintf(&cr->message, "passed on attempt %d of %d; attempt 1: %s", attempt + 1,
					     ctx->opt->retries + 1,
					     cr->attempts[0].message ? cr->attempts[0].message : "failed") < 0)
					cr->message = NULL;
			}
			break;
		}
		if (attempt >= ctx->opt->retries || keep_attempt(cr, (double)(mono_ms() - ta)) != 0)
			break;
	}
	cr->time_ms = (double)(mono_ms() - t0);
	scrub_secrets(ctx, cr);
}

/* ---- the run ------------------------------------------------------------------------------ */

/* Set by exec_request_stop, maybe in a signal handler: workers take no further case. */
static volatile sig_atomic_t stop_requested;

void exec_request_stop(void)
{
	stop_requested = 1;
}

/* Take cases from ctx->list until none is left, or a stop was requested. */
static void *worker_main(void *arg)
{
	struct exec_ctx *ctx = arg;
	struct http_client *client = http_client_new();
	for (;;) {
		pthread_mutex_lock(&ctx->lock);
		size_t i = ctx->next < ctx->nlist && !stop_requested ? ctx->next++ : ctx->nlist;
		pthread_mutex_unlock(&ctx->lock);
		if (i >= ctx->nlist)
			break;
		size_t idx = ctx->list[i];
		run_case(ctx, client, idx);
		const struct exec_options *opt = ctx->opt;
		struct console_style style = { .strict = opt->strict, .colour = opt->colour, .verbose = opt->verbose };
		pthread_mutex_lock(&ctx->lock);
		console_case(opt->out ? opt->out : stdout, &ctx->rr->cases[idx], &style);
		pthread_mutex_unlock(&ctx->lock);
	}
	http_client_free(client);
	return NULL;
}

/* Run the cases of list with up to jobs threads (the calling thread when jobs is 1). */
static void run_phase(struct exec_ctx *ctx, const size_t *list, size_t n, int jobs)
{
	pthread_t *tids = NULL;
	size_t started = 0;
	ctx->list = list;
	ctx->nlist = n;
	ctx->next = 0;
	if (jobs > 1 && n > 1) {
		size_t want = (size_t)jobs < n ? (size_t)jobs : n;
		tids = calloc(want, sizeof(*tids));
		for (size_t i = 0; tids && i < want; i++) {
			if (pthread_create(&tids[i], NULL, worker_main, ctx) != 0)
				break;
			started++;
		}
	}
	if (!started)
		worker_main(ctx);   /* no threads (jobs 1, or none could start): do the work here */
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
}

int exec_run(const struct suite_set *set, const struct exec_options *opt, struct run_result *rr,
	     struct buf *err)
{
	struct exec_ctx ctx;
	size_t *parallel = NULL, *exclusive = NULL;
	size_t npar = 0, nexc = 0, n = 0;
	char run_id[13];
	int rc = -1;
	int64_t t0 = mono_ms();

	memset(&ctx, 0, sizeof(ctx));
	pthread_mutex_init(&ctx.lock, NULL);
	ctx.opt = opt;
	ctx.rr = rr;
	for (size_t i = 0; i < opt->ntags; i++)
		ctx.rate_limit_asked |= strcmp(opt->tags[i], "rate-limit") == 0;
	rr->cases = NULL;
	rr->ncases = 0;
	rr->strict = opt->strict;
	rr->shard[0] = '\0';
	if (opt->shard_count > 1)
		snprintf(rr->shard, sizeof(rr->shard), "%u/%u", opt->shard_index, opt->shard_count);
	rr->started_at_ms = (double)wall_ms();
	exec_run_id(run_id);
	snprintf(rr->run_id, sizeof(rr->run_id), "%s", run_id);

	for (size_t s = 0; s < set->n; s++)
		for (size_t i = 0; i < set->v[s]->ncases; i++)
			n += exec_selected(&set->v[s]->cases[i], opt);
	rr->cases = calloc(n ? n : 1, sizeof(*rr->cases));
	parallel = calloc(n ? n : 1, sizeof(*parallel));
	exclusive = calloc(n ? n : 1, sizeof(*exclusive));
	ctx.run_vars = vars_new(NULL);
	if (!rr->cases || !parallel || !exclusive || !ctx.run_vars) {
		buf_adds(err, "cannot start the run: out of memory");
		goto out;
	}
	for (size_t s = 0; s < set->n; s++) {
		for (size_t i = 0; i < set->v[s]->ncases; i++) {
			const struct tcase *c = &set->v[s]->cases[i];
			if (!exec_selected(c, opt))
				continue;
			struct case_result *cr = &rr->cases[rr->ncases];
			cr->tcase = c;
			buf_init(&cr->diff, EXEC_MAX_DIFF);
			buf_init(&cr->transcript, EXEC_MAX_TRANSCRIPT);
			if (c->exclusive)
				exclusive[nexc++] = rr->ncases;
			else
				parallel[npar++] = rr->ncases;
			rr->ncases++;
		}
	}

	vars_set_string(ctx.run_vars, "RUN_ID", run_id);
	if (opt->target)
		vars_set_string(ctx.run_vars, "TARGET", opt->target);
	for (size_t i = 0; i < opt->nvars; i++) {
		const char *eq = strchr(opt->vars[i], '=');
		char *name = eq ? strndup(opt->vars[i], (size_t)(eq - opt->vars[i])) : NULL;
		if (!name) {
			buf_printf(err, "cannot use --var %s: it is not NAME=VALUE", opt->vars[i]);
			goto out;
		}
		vars_set_string(ctx.run_vars, name, eq + 1);
		free(name);
	}
	int oom = 0;
	ctx.run_headers = run_headers_new(opt, NULL, &oom);
	if (oom) {
		buf_adds(err, "cannot start the run: out of memory");
		goto out;
	}
	/* Each API of a targets file: a scope with its URL as TARGET and its vars, over the run's; its headers. */
	if (opt->targets) {
		ctx.api_vars = calloc(opt->targets->n + 1, sizeof(*ctx.api_vars));
		if (!ctx.api_vars) {
			buf_adds(err, "cannot start the run: out of memory");
			goto out;
		}
		ctx.api_headers = calloc(opt->targets->n + 1, sizeof(*ctx.api_headers));
		if (!ctx.api_headers) {
			buf_adds(err, "cannot start the run: out of memory");
			goto out;
		}
		for (size_t i = 0; i < opt->targets->n; i++) {
			const struct target_api *ta = &opt->targets->v[i];
			ctx.api_headers[i] = run_headers_new(opt, ta, &oom);
			ctx.api_vars[i] = vars_new(ctx.run_vars);
			if (oom || !ctx.api_vars[i]) {
				buf_adds(err, "cannot start the run: out of memory");
				goto out;
			}
			vars_set_string(ctx.api_vars[i], "TARGET", ta->url);
			for (size_t j = 0; j < ta->nvars; j++)
				if (!override_value(opt, ta->names[j]))   /* --var wins over the file */
					vars_set_string(ctx.api_vars[i], ta->names[j], ta->values[j]);
		}
	}
	if (getrandom(&ctx.ip_base, sizeof(ctx.ip_base), 0) != (ssize_t)sizeof(ctx.ip_base))
		ctx.ip_base = (uint32_t)wall_ms();

	run_phase(&ctx, parallel, npar, opt->jobs);
	run_phase(&ctx, exclusive, nexc, 1);
	rc = 0;
out:
	rr->time_ms = (double)(mono_ms() - t0);
	for (size_t i = 0; ctx.api_vars && i < opt->targets->n; i++)
		vars_free(ctx.api_vars[i]);
	for (size_t i = 0; ctx.api_headers && i < opt->targets->n; i++)
		run_headers_free(ctx.api_headers[i]);
	free(ctx.api_headers);
	free(ctx.api_vars);
	run_headers_free(ctx.run_headers);
	vars_free(ctx.run_vars);
	free(exclusive);
	free(parallel);
	pthread_mutex_destroy(&ctx.lock);
	return rc;
}
