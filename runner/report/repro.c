/*
 * repro: the failed step from a transcript, and curl to send it again.
 *
 * The transcript's request lines (runner/http.c transcript_request):
 *   --- step N[ (admin)|(ws)][, request R/T]
 *   > METHOD URL
 *   > name: value          (one per header the runner set; credentials redacted)
 *   >                      (then the body, when there is one)
 *   BODY LINES
 *   ...(S of N bytes shown)   (when the body was cut)
 *   < HTTP/1.1 200 OK ...  (the response) or "! ..." (a transport error)
 */
#include "runner/report/repro.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The line at p (up to end): its length without the '\n'. */
static size_t line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? (size_t)(nl - p) : (size_t)(end - p);
}

static int starts(const char *p, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(p, prefix, n) == 0;
}

void repro_last_step(const char *t, size_t n, struct repro_step *st)
{
	const char *end = t + n, *last = NULL;
	memset(st, 0, sizeof(*st));
	for (const char *p = t; p < end;) {
		size_t len = line_len(p, end);
		if (starts(p, len, "--- step "))
			last = p;
		p += len + 1;
	}
	if (!last)
		return;
	size_t len = line_len(last, end);
	char head[128];
	snprintf(head, sizeof(head), "%.*s", (int)(len < sizeof(head) - 1 ? len : sizeof(head) - 1), last);
	st->step = strtoul(head + strlen("--- step "), NULL, 10);
	st->kind = strstr(head, "(ws)") ? REPRO_WS : strstr(head, "(admin)") ? REPRO_ADMIN : REPRO_HTTP;
	st->block = last + len + (last + len < end);
	st->len = (size_t)(end - st->block);
}

/* The request line "> METHOD URL" of the step: method and URL as pointers into the block. */
static int request_line(const struct repro_step *st, const char **method, size_t *mlen, const char **url,
			size_t *ulen)
{
	if (st->kind == REPRO_NONE || !st->block)
		return -1;
	const char *end = st->block + st->len;
	for (const char *p = st->block; p < end;) {
		size_t len = line_len(p, end);
		if (starts(p, len, "> ")) {
			const char *sp = memchr(p + 2, ' ', len - 2);
			if (!sp)
				return -1;
			*method = p + 2;
			*mlen = (size_t)(sp - p - 2);
			*url = sp + 1;
			*ulen = len - (size_t)(sp + 1 - p);
			return 0;
		}
		p += len + 1;
	}
	return -1;
}

void repro_endpoint(struct buf *out, const struct repro_step *st)
{
	const char *method, *url;
	size_t mlen, ulen;
	if (request_line(st, &method, &mlen, &url, &ulen) != 0)
		return;
	/* The path: after "scheme://host", up to '?' or '#'. */
	const char *u = url, *uend = url + ulen;
	const char *scheme = ulen > 3 ? strstr(url, "://") : NULL;
	if (scheme && scheme < uend) {
		u = memchr(scheme + 3, '/', (size_t)(uend - scheme - 3));
		if (!u)
			u = uend;
	}
	size_t plen = strcspn(u, "?#\n");
	if (u + plen > uend)
		plen = (size_t)(uend - u);
	if (st->kind == REPRO_WS)
		buf_adds(out, "WebSocket ");
	else
		buf_printf(out, "%.*s ", (int)mlen, method);
	if (plen)
		buf_add(out, u, plen);
	else
		buf_addc(out, '/');
}

/* Append s[0..n) as one POSIX shell word in single quotes ('\'' for a quote). */
static void sh_quote(struct buf *out, const char *s, size_t n)
{
	buf_addc(out, '\'');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'')
			buf_adds(out, "'\\''");
		else
			buf_addc(out, s[i]);
	}
	buf_addc(out, '\'');
}

int repro_curl(struct buf *out, const struct repro_step *st)
{
	const char *method, *url;
	size_t mlen, ulen;
	if ((st->kind != REPRO_HTTP && st->kind != REPRO_ADMIN) ||
	    request_line(st, &method, &mlen, &url, &ulen) != 0)
		return -1;
	const char *end = st->block + st->len;
	const char *p = url + ulen + (url + ulen < end);
	struct buf cmd;
	const char *body = NULL, *cut = NULL;
	size_t body_len = 0, cut_len = 0;

	buf_init(&cmd, 1u << 20);
	buf_adds(&cmd, "curl -i -N");
	if (!(mlen == 3 && memcmp(method, "GET", 3) == 0)) {
		buf_adds(&cmd, " -X ");
		sh_quote(&cmd, method, mlen);
	}
	buf_adds(&cmd, " ");
	sh_quote(&cmd, url, ulen);
	while (p < end) {
		size_t len = line_len(p, end);
		if (len == 1 && p[0] == '>') {
			/* The body: every line up to the response, a transport error or the "cut" note. */
			body = p + 2 < end ? p + 2 : end;
			const char *q = body;
			while (q < end) {
				size_t l = line_len(q, end);
				if (starts(q, l, "< ") || (l == 1 && q[0] == '<') || starts(q, l, "! ") ||
				    starts(q, l, "...(")) {
					if (starts(q, l, "...(")) {
						cut = q;
						cut_len = l;
					}
					break;
				}
				q += l + 1;
			}
			body_len = (size_t)((q > end ? end : q) - body);
			if (body_len && body[body_len - 1] == '\n')
				body_len--;   /* the transcript ends a body with a line break of its own */
			break;
		}
		if (!starts(p, len, "> "))
			break;
		const char *colon = memchr(p + 2, ':', len - 2);
		if (colon) {
			size_t vstart = (size_t)(colon - p) + 1;
			while (vstart < len && p[vstart] == ' ')
				vstart++;
			buf_adds(&cmd, " \\\n  -H ");
			/* "name: value"; curl drops a header given as "name:" alone, "name;" sends it empty. */
			struct buf h;
			buf_init(&h, len + 8);
			buf_add(&h, p + 2, (size_t)(colon - p - 2));
			if (vstart < len) {
				buf_adds(&h, ": ");
				buf_add(&h, p + vstart, len - vstart);
			} else {
				buf_addc(&h, ';');
			}
			sh_quote(&cmd, h.data, h.len);
			buf_release(&h);
		}
		p += len + 1;
	}
	if (body) {
		buf_adds(&cmd, " \\\n  --data-binary ");
		sh_quote(&cmd, body, body_len);
	}
	if (cut) {
		buf_adds(out, "# the body is cut as the transcript kept it: ");
		buf_add(out, cut + 3, cut_len - 3);
		buf_addc(out, '\n');
	}
	buf_add(out, cmd.data ? cmd.data : "", cmd.len);
	buf_addc(out, '\n');
	buf_release(&cmd);
	return 0;
}

void repro_strip_labels(struct buf *out, const char *s, size_t n)
{
	const char *end = s + n;
	for (const char *p = s; p < end;) {
		size_t len = line_len(p, end);
		size_t skip = 0;
		if (starts(p, len, "step ")) {
			/* "step N: " or "step N, request R/T: " */
			size_t i = 5;
			while (i < len && p[i] >= '0' && p[i] <= '9')
				i++;
			if (i > 5 && i + 1 < len && p[i] == ':' && p[i + 1] == ' ')
				skip = i + 2;
			else if (i > 5 && starts(p + i, len - i, ", request ")) {
				const char *colon = memchr(p + i, ':', len - i);
				if (colon && (size_t)(colon - p) + 1 < len && colon[1] == ' ')
					skip = (size_t)(colon - p) + 2;
			}
		}
		buf_add(out, p + skip, len - skip);
		if (p + len < end)
			buf_addc(out, '\n');
		p += len + 1;
	}
}
