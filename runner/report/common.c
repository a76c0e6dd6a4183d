/*
 * report/common: text cleaning, times, outcomes and atomic files for every writer.
 */
#include "runner/report/common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/utf8.h"

/* ---- text -------------------------------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at s[0..n) (lead byte >= 0x80), or 0. */
static size_t utf8_len(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (!len || len > n || !utf8_valid(s, len))
		return 0;
	return len;
}

static uint32_t utf8_decode(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp = len == 2 ? p[0] & 0x1f : len == 3 ? p[0] & 0x0f : p[0] & 0x07;
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (p[i] & 0x3f);
	return cp;
}

static int is_nonchar(uint32_t cp)
{
	return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

/* Whether a non-ASCII code point is kept as it is (else dropped, or escaped in JSON). */
static int keep_wide(uint32_t cp, enum report_esc mode)
{
	switch (mode) {
	case ESC_XML_ATTR:
	case ESC_XML_TEXT:
	case ESC_XML_CDATA:
		return cp != 0xfffe && cp != 0xffff;    /* what XML 1.0 forbids */
	case ESC_HTML:
	case ESC_LINE:
	case ESC_TAP_LINE:
	case ESC_JSON:
		/* C1 controls and noncharacters: parse errors in HTML, unprintable in YAML. */
		return !(cp >= 0x80 && cp <= 0x9f) && !is_nonchar(cp);
	}
	return 1;
}

static void json_ascii(struct buf *out, unsigned char c)
{
	switch (c) {
	case '"': buf_adds(out, "\\\""); break;
	case '\\': buf_adds(out, "\\\\"); break;
	case '\n': buf_adds(out, "\\n"); break;
	case '\t': buf_adds(out, "\\t"); break;
	case '\r': buf_adds(out, "\\r"); break;
	default:
		if (c < 0x20 || c == 0x7f)
			buf_printf(out, "\\u%04x", c);
		else
			buf_addc(out, (char)c);
		break;
	}
}

static void markup_ascii(struct buf *out, unsigned char c, enum report_esc mode)
{
	switch (c) {
	case '&': buf_adds(out, "&amp;"); return;
	case '<': buf_adds(out, "&lt;"); return;
	case '>': buf_adds(out, "&gt;"); return;
	case '"': buf_adds(out, "&quot;"); return;
	case '\'': buf_adds(out, mode == ESC_HTML ? "&#39;" : "&apos;"); return;
	default: break;
	}
	if (mode == ESC_HTML) {
		/* Tab and LF stay; CR (of CRLF) and every other control is a parse error or noise. */
		if (c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7f))
			buf_addc(out, (char)c);
		return;
	}
	/* XML: in attributes, as references, so attribute-value normalisation keeps them. */
	switch (c) {
	case '\t': buf_adds(out, mode == ESC_XML_ATTR ? "&#9;" : "\t"); break;
	case '\n': buf_adds(out, mode == ESC_XML_ATTR ? "&#10;" : "\n"); break;
	case '\r': buf_adds(out, "&#13;"); break;
	default:
		if (c >= 0x20)
			buf_addc(out, (char)c);
		break;
	}
}

void report_escape(struct buf *out, const char *s, size_t n, enum report_esc mode)
{
	char prev[2] = { 0, 0 };   /* the last two bytes emitted, to catch "]]>" in CDATA */
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			size_t len = utf8_len(s + i, n - i);
			if (!len) {
				buf_adds(out, "\xef\xbf\xbd");
				i++;
			} else {
				uint32_t cp = utf8_decode(s + i, len);
				if (keep_wide(cp, mode))
					buf_add(out, s + i, len);
				else if (mode == ESC_JSON && cp <= 0xffff)
					buf_printf(out, "\\u%04x", (unsigned)cp);
				else if (mode == ESC_JSON)   /* a noncharacter above the BMP, as a surrogate pair */
					buf_printf(out, "\\u%04x\\u%04x", (unsigned)(0xd800 + ((cp - 0x10000) >> 10)),
						   (unsigned)(0xdc00 + ((cp - 0x10000) & 0x3ff)));
				i += len;
			}
			prev[0] = prev[1] = 0;
			continue;
		}
		i++;
		switch (mode) {
		case ESC_JSON:
			json_ascii(out, c);
			break;
		case ESC_LINE:
		case ESC_TAP_LINE:
			if (mode == ESC_TAP_LINE && (c == '#' || c == '\\'))
				buf_addc(out, '\\');
			if (c == '\n' || c == '\t' || c == '\r')
				buf_addc(out, ' ');
			else if (c >= 0x20 && c != 0x7f)
				buf_addc(out, (char)c);
			break;
		case ESC_XML_CDATA:
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				break;
			if (c == '>' && prev[0] == ']' && prev[1] == ']')
				buf_adds(out, "]]><![CDATA[");
			buf_addc(out, (char)c);
			prev[0] = prev[1];
			prev[1] = (char)c;
			break;
		case ESC_XML_ATTR:
		case ESC_XML_TEXT:
		case ESC_HTML:
			markup_ascii(out, c, mode);
			break;
		}
	}
}

void report_json_string(struct buf *out, const char *s)
{
	buf_addc(out, '"');
	if (s)
		report_escape(out, s, strlen(s), ESC_JSON);
	buf_addc(out, '"');
}

void report_seconds(double ms, char *out, size_t size)
{
	long long total = ms > 0 ? llround(ms) : 0;
	snprintf(out, size, "%lld.%03lld", total / 1000, total % 1000);
}

void report_millis(double ms, char *out, size_t size)
{
	long long total = ms > 0 && ms < 1e15 ? llround(ms * 1000) : 0;
	snprintf(out, size, "%lld.%03lld", total / 1000, total % 1000);
}

/* ---- outcomes ---------------------------------------------------------------------------- */

enum report_outcome report_outcome(const struct case_result *cr, int strict)
{
	switch (cr->verdict) {
	case VERDICT_FAIL:
		return case_result_fails_run(cr, strict) ? OUTCOME_FAIL : OUTCOME_WARN;
	case VERDICT_ERROR:
		return OUTCOME_ERROR;
	case VERDICT_SKIP:
		return OUTCOME_SKIP;
	case VERDICT_FLAKY:
		return OUTCOME_FLAKY;
	case VERDICT_BLOCKED:
		return OUTCOME_BLOCKED;
	case VERDICT_OBSERVED:
		return OUTCOME_INFO;
	case VERDICT_PASS:
		break;
	}
	return OUTCOME_PASS;
}

int report_first_of_api(const struct run_result *rr, size_t i)
{
	/* O(i): a report has a handful of APIs, so the writers' O(n * APIs) loops stay cheap. */
	const char *api = rr->cases[i].tcase->suite->name;
	for (size_t j = 0; j < i; j++)
		if (strcmp(rr->cases[j].tcase->suite->name, api) == 0)
			return 0;
	return 1;
}

const char *report_outcome_name(enum report_outcome o)
{
	static const char *const names[OUTCOME_COUNT] = { "pass", "fail", "warn", "error", "skip", "flaky",
							      "blocked", "info" };
	return (unsigned)o < OUTCOME_COUNT ? names[o] : "?";
}

/* ---- files ------------------------------------------------------------------------------- */

#define REPORT_PATH_MAX 4096   /* a report path, and each link followed on the way */
#define REPORT_LINKS_MAX 40    /* symbolic links followed before giving up, as the kernel's ELOOP */

/* The temporary file being written, for report_file_unlink_temp in a signal handler. */
static char live_tmp[REPORT_PATH_MAX + 16];
static volatile sig_atomic_t live_tmp_set;

/*
 * Follow the symbolic links from path to the file they name, into out.
 * 1 when it exists (st filled, never a link), 0 when it does not (its folder
 * may not either), -1 with the reason in err.
 */
static int follow_links(const char *path, char *out, size_t size, struct stat *st, struct buf *err)
{
	char link[REPORT_PATH_MAX];
	if (snprintf(out, size, "%s", path) >= (int)size) {
		buf_printf(err, "cannot write %s: the path is too long", path);
		return -1;
	}
	for (int hops = 0;; hops++) {
		if (lstat(out, st) != 0) {
			if (errno == ENOENT)
				return 0;
			buf_printf(err, "cannot write %s: %s", path, strerror(errno));
			return -1;
		}
		if (!S_ISLNK(st->st_mode))
			return 1;
		ssize_t n = hops < REPORT_LINKS_MAX ? readlink(out, link, sizeof(link) - 1) : -1;
		if (n < 0 || (size_t)n >= sizeof(link) - 1) {
			buf_printf(err, "cannot write %s: %s", path,
				   hops >= REPORT_LINKS_MAX ? "too many symbolic links" :
				   n < 0 ? strerror(errno) : "a symbolic link is too long");
			return -1;
		}
		link[n] = '\0';
		/* A relative link is relative to the folder that holds it. */
		char *slash = strrchr(out, '/');
		size_t keep = link[0] == '/' || !slash ? 0 : (size_t)(slash - out) + 1;
		if (keep + (size_t)n >= size) {
			buf_printf(err, "cannot write %s: the path is too long", path);
			return -1;
		}
		memcpy(out + keep, link, (size_t)n + 1);
	}
}

/* Open dest, which exists and is no regular file, folder or link, for writing where it is. */
static int open_in_place(struct report_file *rf, const struct stat *st, struct buf *err)
{
	int fd = -1;
	if (S_ISSOCK(st->st_mode)) {
		/* open() cannot write to a socket file: connect to it, as a shell's tools would. */
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (strlen(rf->dest) >= sizeof(sa.sun_path)) {
			buf_printf(err, "cannot write %s: the socket's path is too long", rf->path);
			return -1;
		}
		memcpy(sa.sun_path, rf->dest, strlen(rf->dest) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			close(fd);
			fd = -1;
		}
	} else {
		/* No O_TRUNC: a device or FIFO has nothing to truncate, and this is not a regular file. */
		fd = open(rf->dest, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	}
	if (fd < 0 || !(rf->f = fdopen(fd, "w"))) {
		buf_printf(err, "cannot write %s: %s", rf->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rf->kind = REPORT_FILE_IN_PLACE;
	return 0;
}

/* Create a temporary file beside dest, with dest's mode when it exists (st), else 0666 less the umask. */
static int open_temp(struct report_file *rf, const struct stat *st, struct buf *err)
{
	int fd = -1;
	if (asprintf(&rf->tmp, "%s.tmp.XXXXXX", rf->dest) < 0) {
		rf->tmp = NULL;
		buf_printf(err, "cannot write %s: out of memory", rf->path);
		return -1;
	}
	fd = mkostemp(rf->tmp, O_CLOEXEC);
	if (fd < 0) {
		buf_printf(err, "cannot write %s: %s", rf->path, strerror(errno));
		free(rf->tmp);
		rf->tmp = NULL;
		return -1;
	}
	/* From here a second signal's handler may remove it (a few instructions of window before this). */
	if (strlen(rf->tmp) < sizeof(live_tmp)) {
		memcpy(live_tmp, rf->tmp, strlen(rf->tmp) + 1);
		live_tmp_set = 1;
	}
	mode_t mode;
	if (st) {
		mode = st->st_mode & 07777;
	} else {
		/* umask can only be read by setting it; no other thread creates files while reports are written. */
		mode_t mask = umask(022);
		umask(mask);
		mode = 0666 & ~mask;
	}
	(void)fchmod(fd, mode);   /* mkostemp made it 0600; a filesystem without modes may refuse, harmlessly */
	if (!(rf->f = fdopen(fd, "w"))) {
		buf_printf(err, "cannot write %s: %s", rf->path, strerror(errno));
		close(fd);
		return -1;   /* the caller's abort removes the temporary */
	}
	rf->kind = REPORT_FILE_REPLACE;
	return 0;
}

int report_file_open(struct report_file *rf, const char *path, struct buf *err)
{
	struct stat st;
	memset(rf, 0, sizeof(*rf));
	rf->path = path;
	if (strcmp(path, "-") == 0) {
		rf->f = stdout;
		rf->kind = REPORT_FILE_STDOUT;
		return 0;
	}
	if (!(rf->dest = malloc(REPORT_PATH_MAX))) {
		buf_printf(err, "cannot write %s: out of memory", path);
		return -1;
	}
	int exists = follow_links(path, rf->dest, REPORT_PATH_MAX, &st, err);
	if (exists < 0)
		goto fail;
	if (exists && S_ISDIR(st.st_mode)) {
		buf_printf(err, "cannot write %s: it is a folder", path);
		goto fail;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		if (open_in_place(rf, &st, err) != 0)
			goto fail;
		return 0;
	}
	if (open_temp(rf, exists ? &st : NULL, err) != 0)
		goto fail;
	return 0;
fail:
	report_file_abort(rf);
	return -1;
}

int report_file_flush(struct report_file *rf, struct buf *b, struct buf *err)
{
	int ok = fwrite(buf_str(b), 1, b->len, rf->f) == b->len;
	buf_reset(b);
	if (!ok)
		buf_printf(err, "cannot write %s: %s", rf->path, strerror(errno));
	return ok ? 0 : -1;
}

int report_file_commit(struct report_file *rf, struct buf *err)
{
	FILE *f = rf->f;
	rf->f = NULL;
	if (rf->kind == REPORT_FILE_STDOUT) {
		if (fflush(f) != 0) {
			buf_printf(err, "cannot write the report to standard output: %s", strerror(errno));
			goto fail;
		}
		return 0;
	}
	if (fclose(f) != 0) {
		buf_printf(err, "cannot write %s: %s", rf->path, strerror(errno));
		goto fail;
	}
	if (rf->kind == REPORT_FILE_REPLACE && rename(rf->tmp, rf->dest) != 0) {
		buf_printf(err, "cannot write %s: rename: %s", rf->path, strerror(errno));
		goto fail;
	}
	live_tmp_set = 0;   /* after the rename: a handler unlinking a name gone is harmless */
	free(rf->tmp);
	rf->tmp = NULL;
	free(rf->dest);
	rf->dest = NULL;
	return 0;
fail:
	report_file_abort(rf);
	return -1;
}

void report_file_abort(struct report_file *rf)
{
	if (rf->f && rf->kind != REPORT_FILE_STDOUT)
		fclose(rf->f);
	rf->f = NULL;
	if (rf->tmp) {
		unlink(rf->tmp);
		live_tmp_set = 0;
	}
	free(rf->tmp);
	rf->tmp = NULL;
	free(rf->dest);
	rf->dest = NULL;
}

void report_file_unlink_temp(void)
{
	if (live_tmp_set)
		unlink(live_tmp);
}

/* ---- cases that never ran ------------------------------------------------------------------ */

int report_mark_not_run(struct run_result *rr, const char *reason)
{
	double stopped = rr->started_at_ms + rr->time_ms;
	for (size_t i = 0; i < rr->ncases; i++) {
		struct case_result *cr = &rr->cases[i];
		if (cr->started_at_ms != 0)
			continue;
		char *msg = strdup(reason);
		if (!msg)
			return -1;
		free(cr->message);
		cr->message = msg;
		cr->verdict = VERDICT_ERROR;
		cr->started_at_ms = stopped > 0 ? stopped : 1;
		cr->time_ms = 0;
	}
	return 0;
}

void report_count_outcomes(const struct run_result *rr, size_t *count)
{
	for (int o = 0; o < OUTCOME_COUNT; o++)
		count[o] = 0;
	for (size_t i = 0; i < rr->ncases; i++)
		count[report_outcome(&rr->cases[i], rr->strict)]++;
}
