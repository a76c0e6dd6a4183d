/*
 * ref_server: the floor for bench/run.sh, an evhttp server with no logic.
 *
 * It answers the shapes mockd answers, with the same libevent and the same
 * socket options, but every body is fixed and prepared at start: what is left
 * is what evhttp itself costs to parse a request and write a response.  A
 * benchmark reports mockd as a ratio against it, measured in the same run, so
 * the number says how much mockd adds, whatever the machine.
 *
 *   POST /v1/chat/stream   with the widget dev key: a chunked NDJSON stream, one chunk a line;
 *                          without it: 401 {"error":"Unauthorized"}
 *   POST /chat/stream      with the deepwiki dev key: a chunked SSE stream, one chunk an event;
 *                          without it: 401 in deepwiki's envelope
 *   GET  /__admin/health   a fixed JSON object of the size of mockd's
 *
 * --ndjson FILE and --sse FILE replace the built-in streams with a body mockd
 * sent (run.sh captures one), so both servers write the same lines and bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#define MAX_BODY_FILE (1024 * 1024)
#define MAX_CHUNKS    4096

static const char usage_text[] =
	"usage: ref_server [--port-file F] [--ndjson FILE] [--sse FILE]\n"
	"\n"
	"Listen on 127.0.0.1 (a free port) and answer mockd's shapes with fixed bodies: the\n"
	"reference bench/run.sh measures mockd against.\n"
	"\n"
	"options:\n"
	"      --port-file F   write 127.0.0.1:PORT and a newline there once listening\n"
	"      --ndjson FILE   the widget stream body to send, one chunk per line\n"
	"      --sse FILE      the deepwiki stream body to send, one chunk per event\n"
	"  -h, --help          print this help and exit\n";

static const char widget_key[] = "widget-dev-key-0123456789abcdef";
static const char deepwiki_auth[] = "Bearer dw-dev-key";

static const char widget_401[] = "{\"error\":\"Unauthorized\"}";
static const char deepwiki_401[] =
	"{\"error\":{\"code\":\"UNAUTHORIZED\",\"message\":\"Invalid API key\"}}";
static const char health_body[] =
	"{\"status\":\"ok\",\"version\":\"0.1.0\",\"apis\":[\"deepwiki\",\"widget\"],\"breaks\":[],"
	"\"open_streams\":0,\"conversations\":2,\"time_scale\":0,\"now\":\"2026-01-01T00:00:00.000Z\","
	"\"now_ms\":1767225600000,\"offset_ms\":0}";

/* A stream body cut into the chunks it is sent in. */
struct stream_body {
	char *data;
	size_t len;
	size_t cut[MAX_CHUNKS + 1];   /* chunk i is data[cut[i] .. cut[i + 1]) */
	size_t nchunks;
};

static struct stream_body ndjson_body;
static struct stream_body sse_body;

/* ---- bodies -------------------------------------------------------------------------------- */

/* Cut b after every occurrence of sep (the last chunk takes any rest); -1 past MAX_CHUNKS. */
static int cut_body(struct stream_body *b, const char *sep)
{
	size_t seplen = strlen(sep);
	size_t at = 0;
	b->nchunks = 0;
	b->cut[0] = 0;
	while (at < b->len) {
		const char *hit = memmem(b->data + at, b->len - at, sep, seplen);
		size_t end = hit ? (size_t)(hit - b->data) + seplen : b->len;
		if (b->nchunks == MAX_CHUNKS)
			return -1;
		b->cut[++b->nchunks] = end;
		at = end;
	}
	return 0;
}

static int load_body(struct stream_body *b, const char *path, const char *sep)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "ref_server: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	b->data = malloc(MAX_BODY_FILE + 1);
	if (!b->data)
		goto fail;
	b->len = fread(b->data, 1, MAX_BODY_FILE + 1, f);
	if (b->len == 0 || b->len > MAX_BODY_FILE) {
		fprintf(stderr, "ref_server: %s: expected 1 to %d bytes\n", path, MAX_BODY_FILE);
		goto fail;
	}
	if (cut_body(b, sep)) {
		fprintf(stderr, "ref_server: %s: more than %d chunks\n", path, MAX_CHUNKS);
		goto fail;
	}
	fclose(f);
	return 0;
fail:
	fclose(f);
	free(b->data);
	b->data = NULL;
	return -1;
}

/* The built-in streams: the shape and size of a default mockd answer of 24 tokens. */
static int default_bodies(void)
{
	static const char *const words[] = { "One", " behaviour", " conversation", " build", " runs", " with",
					     " against", " the", " history", " documented", " its", " when" };
	const size_t nwords = sizeof(words) / sizeof(words[0]);
	char text[1024] = "";
	size_t cap = 16384;

	ndjson_body.data = malloc(cap);
	sse_body.data = malloc(cap);
	if (!ndjson_body.data || !sse_body.data)
		return -1;
	for (size_t i = 0; i < 24; i++)
		strcat(text, words[i % nwords]);

	size_t n = (size_t)snprintf(ndjson_body.data, cap,
				    "{\"type\":\"start\",\"conversationId\":\"fh4lv6jvak78ukex13cakm7615nltoqs\"}\n");
	for (size_t i = 0; i < 24; i++)
		n += (size_t)snprintf(ndjson_body.data + n, cap - n, "{\"type\":\"token\",\"token\":\"%s\"}\n",
				      words[i % nwords]);
	n += (size_t)snprintf(ndjson_body.data + n, cap - n,
			      "{\"type\":\"done\",\"message\":\"%s\",\"conversationId\":\"fh4lv6jvak78ukex13cakm7615nltoqs\"}\n",
			      text);
	ndjson_body.len = n;

	n = (size_t)snprintf(sse_body.data, cap,
			     "data: {\"type\":\"start\",\"conversation_id\":\"conv_b6pu3vuq0dhoz2sc\","
			     "\"timestamp\":\"2026-01-01T00:00:00.000Z\"}\n\n");
	for (size_t i = 0; i < 13; i++)
		n += (size_t)snprintf(sse_body.data + n, cap - n, "data: {\"type\":\"content\",\"content\":\"%s\"}\n\n",
				      words[i % nwords]);
	n += (size_t)snprintf(sse_body.data + n, cap - n,
			      "data: {\"type\":\"end\",\"conversation_id\":\"conv_b6pu3vuq0dhoz2sc\",\"total_tokens\":13}\n\n");
	sse_body.len = n;
	return cut_body(&ndjson_body, "\n") || cut_body(&sse_body, "\n\n") ? -1 : 0;
}

/* ---- handlers ------------------------------------------------------------------------------ */

static void send_fixed(struct evhttp_request *req, int status, const char *reason, const char *type,
		       const char *body)
{
	struct evbuffer *out = evbuffer_new();
	if (!out) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evbuffer_add_reference(out, body, strlen(body), NULL, NULL);
	evhttp_send_reply(req, status, reason, out);
	evbuffer_free(out);
}

/* The whole stream at once, one chunk per line or event, as mockd writes it at --time-scale 0. */
static void send_stream(struct evhttp_request *req, const struct stream_body *b, const char *type,
			const char *cache)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *chunk = evbuffer_new();
	if (!chunk) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_add_header(h, "Cache-Control", cache);
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	evhttp_add_header(h, "Content-Type", type);
	evhttp_send_reply_start(req, 200, "OK");
	for (size_t i = 0; i < b->nchunks; i++) {
		evbuffer_add_reference(chunk, b->data + b->cut[i], b->cut[i + 1] - b->cut[i], NULL, NULL);
		evhttp_send_reply_chunk(req, chunk);
	}
	evhttp_send_reply_end(req);
	evbuffer_free(chunk);
}

static const char *header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

static void widget_cb(struct evhttp_request *req, void *arg)
{
	const char *key = header(req, "x-api-key");
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST)
		evhttp_send_error(req, 405, NULL);
	else if (key && strcmp(key, widget_key) == 0)
		send_stream(req, &ndjson_body, "application/x-ndjson; charset=utf-8", "no-store, no-transform");
	else
		send_fixed(req, 401, "Unauthorized", "application/json; charset=utf-8", widget_401);
}

static void deepwiki_cb(struct evhttp_request *req, void *arg)
{
	const char *auth = header(req, "Authorization");
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST)
		evhttp_send_error(req, 405, NULL);
	else if (auth && strcmp(auth, deepwiki_auth) == 0)
		send_stream(req, &sse_body, "text/event-stream", "no-cache");
	else
		send_fixed(req, 401, "Unauthorized", "application/json", deepwiki_401);
}

static void health_cb(struct evhttp_request *req, void *arg)
{
	send_fixed(req, 200, "OK", "application/json; charset=utf-8", health_body);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopexit(arg, NULL);
}

/* ---- main ---------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port-file", required_argument, NULL, 'p' },
		{ "ndjson",    required_argument, NULL, 'n' },
		{ "sse",       required_argument, NULL, 's' },
		{ "help",      no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *port_file = NULL, *ndjson_file = NULL, *sse_file = NULL;
	struct event_base *base = NULL;
	struct evhttp *http = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	int rc = 1, ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': port_file = optarg; break;
		case 'n': ndjson_file = optarg; break;
		case 's': sse_file = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind != argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (default_bodies())
		goto fail;
	if (ndjson_file) {
		free(ndjson_body.data);
		ndjson_body.data = NULL;
		if (load_body(&ndjson_body, ndjson_file, "\n"))
			goto fail;
	}
	if (sse_file) {
		free(sse_body.data);
		sse_body.data = NULL;
		if (load_body(&sse_body, sse_file, "\n\n"))
			goto fail;
	}

	base = event_base_new();
	http = base ? evhttp_new(base) : NULL;
	if (!http)
		goto fail;
	evhttp_set_cb(http, "/v1/chat/stream", widget_cb, NULL);
	evhttp_set_cb(http, "/chat/stream", deepwiki_cb, NULL);
	evhttp_set_cb(http, "/__admin/health", health_cb, NULL);
	struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	if (!bound) {
		fprintf(stderr, "ref_server: cannot listen on 127.0.0.1\n");
		goto fail;
	}
	/* As mockd does: accepted sockets inherit TCP_NODELAY, so a chunk never waits on Nagle. */
	int one = 1;
	evutil_socket_t fd = evhttp_bound_socket_get_fd(bound);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	if (getsockname(fd, (struct sockaddr *)&sin, &slen) != 0)
		goto fail;
	if (port_file) {
		FILE *pf = fopen(port_file, "w");
		if (!pf) {
			fprintf(stderr, "ref_server: cannot write %s: %s\n", port_file, strerror(errno));
			goto fail;
		}
		fprintf(pf, "127.0.0.1:%d\n", ntohs(sin.sin_port));
		fclose(pf);
	}
	sigint = evsignal_new(base, SIGINT, signal_cb, base);
	sigterm = evsignal_new(base, SIGTERM, signal_cb, base);
	if (!sigint || !sigterm || event_add(sigint, NULL) || event_add(sigterm, NULL))
		goto fail;
	event_base_dispatch(base);
	rc = 0;

fail:
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (http)
		evhttp_free(http);
	if (base)
		event_base_free(base);
	free(sse_body.data);
	free(ndjson_body.data);
	return rc;
}
