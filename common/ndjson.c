#include "ndjson.h"

#include <string.h>

void ndjson_init(struct ndjson_decoder *d, size_t max_line, ndjson_line_cb cb, void *arg)
{
	buf_init(&d->line, max_line);
	d->line_no = 0;
	d->cb = cb;
	d->arg = arg;
}

void ndjson_release(struct ndjson_decoder *d)
{
	buf_release(&d->line);
}

/* Deliver the buffered line (dropping one trailing CR) and empty the buffer. */
static enum ndjson_result ndjson_emit(struct ndjson_decoder *d)
{
	size_t len = d->line.len;
	if (len && d->line.data[len - 1] == '\r')
		len--;
	d->line_no++;
	int stop = 0;
	if (len)
		stop = d->cb(d->arg, d->line.data, len, d->line_no);
	buf_reset(&d->line);
	return stop ? NDJSON_STOPPED : NDJSON_OK;
}

static enum ndjson_result from_buf(enum buf_result r)
{
	return r == BUF_TOO_BIG ? NDJSON_TOO_LONG : r == BUF_NOMEM ? NDJSON_NOMEM : NDJSON_OK;
}

enum ndjson_result ndjson_feed(struct ndjson_decoder *d, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		enum buf_result br = buf_add(&d->line, p, take);
		if (br != BUF_OK)
			return from_buf(br);
		if (!nl)
			return NDJSON_OK;
		enum ndjson_result r = ndjson_emit(d);
		if (r != NDJSON_OK)
			return r;
		p += take + 1;
		n -= take + 1;
	}
	return NDJSON_OK;
}

enum ndjson_result ndjson_finish(struct ndjson_decoder *d)
{
	if (!d->line.len)
		return NDJSON_OK;
	return ndjson_emit(d);
}

enum buf_result ndjson_encode(struct buf *out, const cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v);
	if (!s)
		return BUF_NOMEM;
	enum buf_result r = buf_printf(out, "%s\n", s); /* all or nothing */
	cJSON_free(s);
	return r;
}
