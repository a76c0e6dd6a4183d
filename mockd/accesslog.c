#include "mockd/accesslog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/redact.h"
#include "common/timeutil.h"
#include "mockd/lifecycle.h"
#include "mockd/mockd.h"
#include "mockd/stream.h"
#include "mockd/ws.h"

#define TARGET_MAX 1024  /* the path and query shown, redacted; longer ones are cut */
#define KEY_MAX    64    /* a redacted key: 4 characters and "…(redacted)", or a scheme before them */

static bool enabled;
static enum log_format format;

/*
 * One line's fields; strings are bounded copies, so a stream's line can wait
 * for its end (stream_started keeps it with its target in one allocation of
 * the size it needs: 10,000 open streams would otherwise hold 10 MB of
 * TARGET_MAX buffers).
 */
struct line {
	char client[64];
	const char *method;      /* static */
	const char *api;         /* static; "" when no one owns the path */
	const char *target;      /* the path and query, redacted: in the caller's buffer, or after a kept line */
	char key[KEY_MAX];       /* "" when none was sent */
	int status;              /* 0: none (a WebSocket message) */
	size_t bytes;
	int64_t started_us;
	int64_t duration_us;
	const char *kind;        /* a WebSocket message: "text" or "binary"; else NULL */
	const char *rule;        /* a stream's rule id ("" for the generator), else NULL */
	const char *how;         /* how a stream ended, else NULL */
	unsigned pauses;         /* a stream: times it waited for its client to read */
	int64_t slipped_us;      /* ... and how far its schedule moved for that */
};

/* Copy what fits of b into out[size], NUL-terminated. */
static void copy_out(char *out, size_t size, const struct buf *b)
{
	size_t n = b->len < size - 1 ? b->len : size - 1;
	if (n)
		memcpy(out, b->data, n);
	out[n] = '\0';
}

/* The redacted uri into out[TARGET_MAX], which l->target then names. */
static void set_target(struct line *l, char *out, const char *uri)
{
	struct buf b;
	buf_init(&b, TARGET_MAX * 2);
	redact_url(&b, uri);
	copy_out(out, TARGET_MAX, &b);
	buf_release(&b);
	l->target = out;
}

static void set_key(struct line *l, const char *value)
{
	struct buf b;
	buf_init(&b, 256);
	redact_value(&b, value);
	copy_out(l->key, sizeof(l->key), &b);
	buf_release(&b);
}

/* The first credential in a raw query ("a=1&token=..."), redacted into l->key. */
static void key_from_query(struct line *l, const char *q)
{
	while (q && *q) {
		size_t len = strcspn(q, "&#"), name = strcspn(q, "=&#");
		if (name < len && redact_is_secret_name(q, name)) {
			char value[512];
			snprintf(value, sizeof(value), "%.*s", (int)(len - name - 1), q + name + 1);
			set_key(l, value);
			return;
		}
		q += len;
		if (*q != '&')
			break;
		q++;
	}
}

/* ---- writing ------------------------------------------------------------------------------ */

/* Append s with control bytes as \xNN: a path cannot start a line of its own. */
static void add_escaped(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	for (;;) {
		const char *run = s;
		while ((unsigned char)*s >= 0x20 && *s != 0x7f)
			s++;
		buf_add(b, run, (size_t)(s - run));
		if (!*s)
			return;
		unsigned char c = (unsigned char)*s++;
		char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
		buf_add(b, e, sizeof(e));
	}
}

/* Append microseconds as milliseconds with three decimals ("%.3f" of us / 1000, without printf). */
static void add_ms(struct buf *b, int64_t us)
{
	if (us < 0) {
		buf_addc(b, '-');
		us = -us;
	}
	buf_add_int(b, us / 1000);
	char frac[4] = { '.', (char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10), (char)('0' + us % 10) };
	buf_add(b, frac, sizeof(frac));
}

static void add_field(struct buf *b, const char *name, const char *value)
{
	buf_addc(b, ' ');
	buf_adds(b, name);
	buf_addc(b, '=');
	buf_adds(b, value);
}

/* The line is made without printf, in one buffer kept for every line: it is written for every request. */
static void write_text(const struct line *l)
{
	static struct buf b = { .max = 8 * TARGET_MAX };
	buf_reset(&b);
	buf_adds(&b, "access: ");
	buf_adds(&b, l->client[0] ? l->client : "-");
	buf_addc(&b, ' ');
	buf_adds(&b, l->method);
	buf_addc(&b, ' ');
	add_escaped(&b, l->target);
	buf_addc(&b, ' ');
	if (l->kind)
		buf_adds(&b, l->kind);
	else
		buf_add_int(&b, l->status);
	buf_addc(&b, ' ');
	buf_add_int(&b, (int64_t)l->bytes);
	buf_adds(&b, "B ");
	add_ms(&b, l->duration_us);
	buf_adds(&b, "ms");
	if (l->api[0])
		add_field(&b, "api", l->api);
	if (l->key[0]) {
		buf_adds(&b, " key=");
		add_escaped(&b, l->key);
	}
	if (l->rule)
		add_field(&b, "rule", l->rule[0] ? l->rule : "(default)");
	if (l->how)
		add_field(&b, "end", l->how);
	if (l->pauses) {
		buf_adds(&b, " slipped=");
		add_ms(&b, l->slipped_us);
		buf_adds(&b, "ms pauses=");
		buf_add_int(&b, l->pauses);
	}
	log_str(LOG_INFO, buf_str(&b));
}

static void write_json(const struct line *l)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char when[40];
	iso8601_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, when, sizeof(when));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ts", when);
	cJSON_AddStringToObject(o, "level", "info");
	cJSON_AddStringToObject(o, "prog", "mockd");
	cJSON_AddStringToObject(o, "type", "access");
	cJSON_AddStringToObject(o, "client", l->client);
	cJSON_AddStringToObject(o, "method", l->method);
	cJSON_AddStringToObject(o, "path", l->target);
	if (l->kind)
		cJSON_AddStringToObject(o, "message", l->kind);
	else
		cJSON_AddNumberToObject(o, "status", l->status);
	cJSON_AddNumberToObject(o, "bytes", (double)l->bytes);
	cJSON_AddNumberToObject(o, "duration_ms", (double)l->duration_us / 1000.0);
	if (l->api[0])
		cJSON_AddStringToObject(o, "api", l->api);
	if (l->key[0])
		cJSON_AddStringToObject(o, "key", l->key);
	if (l->rule)
		cJSON_AddStringToObject(o, "rule", l->rule);
	if (l->how)
		cJSON_AddStringToObject(o, "end", l->how);
	if (l->pauses) {
		cJSON_AddNumberToObject(o, "slipped_ms", (double)l->slipped_us / 1000.0);
		cJSON_AddNumberToObject(o, "pauses", l->pauses);
	}
	char *text = cJSON_PrintUnformatted(o);
	if (text)
		log_line(text);
	cJSON_free(text);
	cJSON_Delete(o);
}

static void write_line(const struct line *l)
{
	if (format == LOG_JSON)
		write_json(l);
	else
		write_text(l);
}

/* ---- requests ----------------------------------------------------------------------------- */

/* The fields a request has when its handler returns. */
static void from_request(struct line *l, char *target, const struct mreq *r)
{
	memset(l, 0, sizeof(*l));
	str_copy(l->client, sizeof(l->client), r->peer);
	l->method = r->method;
	l->api = r->owner ? r->owner->name : "";
	const char *uri = evhttp_request_get_uri(r->req);
	set_target(l, target, uri ? uri : (r->path ? r->path : ""));
	l->status = r->status;
	l->started_us = r->started_us;
	struct evkeyval *h;
	TAILQ_FOREACH(h, evhttp_request_get_input_headers(r->req), next) {
		/* Sec-WebSocket-Key ends in "-key" but is a nonce of the handshake, not a credential. */
		if (redact_is_secret_name(h->key, strlen(h->key)) && strcasecmp(h->key, "Sec-WebSocket-Key") != 0) {
			set_key(l, h->value);
			return;
		}
	}
	key_from_query(l, r->query_raw);
}

void accesslog_request(const struct mreq *r, void *arg)
{
	if (!enabled)
		return;
	/* A stream's line comes at its end (stream_ended); a WebSocket's upgrade (101) is logged now. */
	if (r->streaming && r->status != 101)
		return;
	struct line l;
	char target[TARGET_MAX];
	from_request(&l, target, r);
	l.bytes = r->body_sent;
	l.duration_us = mono_us() - r->started_us;
	write_line(&l);
}

/* Keep the request's fields until the stream ends; NULL when memory is short (no line, then). */
static void *stream_started(const struct mreq *r)
{
	struct line l;
	char target[TARGET_MAX];
	from_request(&l, target, r);
	size_t n = strlen(target) + 1;
	struct line *kept = malloc(sizeof(*kept) + n);
	if (kept) {
		*kept = l;
		kept->target = memcpy(kept + 1, target, n);
	}
	return kept;
}

/* Takes the line stream_started made. */
static void stream_ended(void *tag, const struct stream_end *e)
{
	struct line *l = tag;
	l->bytes = e->bytes;
	l->rule = e->rule;
	l->how = e->how;
	l->pauses = e->pauses;
	l->slipped_us = e->slipped_us;
	l->duration_us = mono_us() - l->started_us;
	write_line(l);
	free(l);
}

/* ---- WebSocket messages ------------------------------------------------------------------- */

static void ws_message(const struct ws_conn *c, const char *kind, size_t len, int64_t duration_us)
{
	struct line l;
	memset(&l, 0, sizeof(l));
	snprintf(l.client, sizeof(l.client), "%s", ws_peer(c));
	l.method = "WS";
	l.api = "";
	const char *target = ws_target(c);
	char shown[TARGET_MAX];
	set_target(&l, shown, target);
	const char *q = strchr(target, '?');
	if (q)
		key_from_query(&l, q + 1);
	l.kind = kind;
	l.bytes = len;
	l.duration_us = duration_us;
	write_line(&l);
}

/* ---- writing them together ---------------------------------------------------------------- */

/*
 * A line a request was a write a request (20% of a whole deepwiki stream's
 * time at --time-scale 0): the lines of a loop turn are held (common/log.h)
 * and written together when the turn's other callbacks have run, by an event
 * made active when the first line is held (an active event runs in the same
 * turn, after those already active).
 */
static struct event *flush_ev;

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	log_flush();
}

static void wake(void)
{
	event_active(flush_ev, EV_TIMEOUT, 1);
}

void accesslog_init(enum log_format fmt, bool on)
{
	enabled = on;
	format = fmt;
	stream_observe(on ? stream_started : NULL, on ? stream_ended : NULL);
	ws_observe(on ? ws_message : NULL);
	if (on && mockd_base && !flush_ev && (flush_ev = event_new(mockd_base, -1, 0, flush_cb, NULL)))
		log_hold(wake);
}

static void accesslog_release(void)
{
	log_hold(NULL);  /* what is held is written */
	if (flush_ev)
		event_free(flush_ev);
	flush_ev = NULL;
}

const struct lifecycle accesslog_lifecycle = { .name = "access log", .release = accesslog_release };
