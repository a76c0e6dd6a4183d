/*
 * docmap: sections and clauses located in their document.  Each look-up is a
 * scan of the document, O(size), and a report makes one per section and per
 * case: a few hundred scans of documents of tens of kilobytes.
 */
#include "runner/report/docmap.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int markdown_char(unsigned char c)
{
	return c && strchr("`*_#>|", c) != NULL;
}

/* Normalise s (trim: no leading or trailing space); at, when not NULL, gets the source offsets. */
static char *normalise(const char *s, size_t n, size_t **at, int trim)
{
	char *out = malloc(n + 1);
	size_t *pos = at ? malloc((n + 1) * sizeof(size_t)) : NULL;
	if (!out || (at && !pos)) {
		free(out);
		free(pos);
		return NULL;
	}
	size_t o = 0, space_at = 0;
	int space = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (markdown_char(c))
			continue;
		if (isspace(c)) {
			if (!space)
				space_at = i;
			space = 1;
			continue;
		}
		if (space && (o > 0 || !trim)) {
			if (pos)
				pos[o] = space_at;
			out[o++] = ' ';
		}
		space = 0;
		if (pos)
			pos[o] = i;
		out[o++] = (char)c;
	}
	if (space && !trim) {
		if (pos)
			pos[o] = space_at;
		out[o++] = ' ';
	}
	out[o] = '\0';
	if (at)
		*at = pos;
	return out;
}

static int index_lines(struct docmap *d);

int docmap_load(struct docmap *d, const char *path)
{
	FILE *f = NULL;
	memset(d, 0, sizeof(*d));
	if (!path || !(f = fopen(path, "rb")))
		return -1;
	struct buf b;
	buf_init(&b, DOCMAP_MAX);
	char chunk[16384];
	size_t n;
	int ok = 1;
	while (ok && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ok = buf_add(&b, chunk, n) == BUF_OK;
	ok = ok && !ferror(f);
	fclose(f);
	if (!ok || buf_addc(&b, '\0') != BUF_OK) {
		buf_release(&b);
		return -1;
	}
	d->raw = buf_detach(&b, &d->len);
	buf_release(&b);
	if (!d->raw)
		return -1;
	d->len--;   /* the NUL added above */
	d->norm = normalise(d->raw, d->len, &d->at, 0);
	if (!d->norm || index_lines(d) != 0) {
		docmap_release(d);
		return -1;
	}
	return 0;
}

void docmap_release(struct docmap *d)
{
	free(d->raw);
	free(d->norm);
	free(d->at);
	free(d->lines);
	memset(d, 0, sizeof(*d));
}

/* The heading of the line at p[0..len): its text without '#' marks and spaces, and its level. */
static void heading_text(const char *p, size_t len, const char **text, size_t *tlen, int *level)
{
	size_t i = 0;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	int lv = 0;
	while (i < len && p[i] == '#') {
		lv++;
		i++;
	}
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	size_t e = len;
	while (e > i && isspace((unsigned char)p[e - 1]))
		e--;
	*text = p + i;
	*tlen = e - i;
	*level = lv;
}

/* The lines outside fenced code ("```" opens and closes one), for headings. */
static int index_lines(struct docmap *d)
{
	size_t cap = 0;
	int fenced = 0;
	for (const char *p = d->raw, *end = d->raw + d->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *t = p;
		while (t < p + len && (*t == ' ' || *t == '\t'))
			t++;
		if ((size_t)(p + len - t) >= 3 && memcmp(t, "```", 3) == 0) {
			fenced = !fenced;
		} else if (!fenced) {
			if (d->nlines == cap) {
				cap = cap ? 2 * cap : 256;
				struct docmap_line *grown = realloc(d->lines, cap * sizeof(*grown));
				if (!grown)
					return -1;
				d->lines = grown;
			}
			struct docmap_line *l = &d->lines[d->nlines++];
			l->off = (size_t)(p - d->raw);
			heading_text(p, len, &l->text, &l->tlen, &l->level);
		}
		p += len + 1;
	}
	return 0;
}

long docmap_heading(const struct docmap *d, const char *section)
{
	size_t slen = strlen(section);
	for (size_t i = 0; slen && i < d->nlines; i++)
		if (d->lines[i].tlen == slen && memcmp(d->lines[i].text, section, slen) == 0)
			return (long)d->lines[i].off;
	return -1;
}

long docmap_quote(const struct docmap *d, const char *clause)
{
	if (!d->norm || !clause)
		return -1;
	char *c = normalise(clause, strlen(clause), NULL, 1);
	long off = -1;
	const char *hit = c && *c ? strstr(d->norm, c) : NULL;
	if (hit)
		off = (long)d->at[hit - d->norm];
	free(c);
	return off;
}

void docmap_parents(const struct docmap *d, long off, const char *sep, struct buf *out)
{
	size_t i = 0;
	while (i < d->nlines && (long)d->lines[i].off != off)
		i++;
	if (i == d->nlines || d->lines[i].level <= 1)
		return;
	/* Walk back, keeping each heading of a smaller level than the last one kept. */
	size_t found[8];
	int n = 0, want = d->lines[i].level;
	while (i-- > 0 && want > 1 && n < 8) {
		const struct docmap_line *l = &d->lines[i];
		if (l->level && l->level < want && l->tlen) {
			found[n++] = i;
			want = l->level;
		}
	}
	while (n-- > 0) {
		buf_add(out, d->lines[found[n]].text, d->lines[found[n]].tlen);
		buf_adds(out, sep);
	}
}
