/*
 * fuzz_report: `chatconform compare`'s report reader (runner/report/compare.c) on arbitrary
 * files, and the JSON report writer's output read back by it.
 *
 * 1. The input is the baseline, a fixed valid report (written once by json_report_write) the
 *    current run; then the input is both sides.  compare_files returns one of its three statuses;
 *    COMPARE_INVALID says why on errout, the others print the summary line; the input is invalid
 *    on both calls or on neither; against itself nothing is added, removed, fixed or newly warned.
 * 2. A run made from the input's bytes (1 to 4 cases: verdicts, levels, strictness; messages,
 *    differences and transcripts holding any bytes) is written by json_report_write and compared
 *    with itself: the writer's output is always a valid report, and a run has no change against
 *    itself (a passing verdict never fails its run).
 * Never a crash or a leak.  Output goes to memory streams, reports to a memfd and a folder in /dev/shm.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "fuzz/fuzz.h"
#include "fuzz/fuzz_file.h"
#include "runner/report/compare.h"
#include "runner/report/json.h"
#include "runner/result.h"

#define MAX_CASES 4

static struct fuzz_file file;
static char dir[] = "/dev/shm/fuzz-report-XXXXXX";
static char fixed_path[64], written_path[64];

struct compared {
	enum compare_status status;
	char *out, *err;
	size_t olen, elen;
};

static struct compared compare(const char *base, const char *cur)
{
	struct compared c = { 0 };
	FILE *out = open_memstream(&c.out, &c.olen), *err = open_memstream(&c.err, &c.elen);
	FUZZ_CHECK(out && err, "open_memstream failed");
	c.status = compare_files(&base, 1, &cur, 1, out, err);
	fclose(out);
	fclose(err);
	FUZZ_CHECK(c.status == COMPARE_SAME || c.status == COMPARE_REGRESSED || c.status == COMPARE_INVALID,
		   "compare_files returned %d", (int)c.status);
	if (c.status == COMPARE_INVALID)
		FUZZ_CHECK(c.elen > 0, "an invalid file and nothing said why");
	else
		FUZZ_CHECK(strstr(c.out, " unchanged, ") && c.elen == 0, "compared without a summary (%s) or with "
			   "problems: %s", c.out, c.err);
	return c;
}

static void compared_free(struct compared *c)
{
	free(c->out);
	free(c->err);
}

/* A run of a few cases made from the bytes (the fixed report is such a run of no input). */
static struct suite suite = { .name = (char *)"widget", .spec = (char *)"003_widget.txt",
			      .path = (char *)"suites/widget/x.json" };
static struct tcase tcases[MAX_CASES];
static char ids[MAX_CASES][48];

static size_t take(const uint8_t **p, const uint8_t *end, size_t n)
{
	size_t left = (size_t)(end - *p);
	return n < left ? n : left;
}

static void write_run(const uint8_t *data, size_t size, const char *path)
{
	static const char *const strict_clause = "Streams end with done.";
	struct case_result results[MAX_CASES];
	struct run_result rr = { 0 };
	static const uint8_t none[1];
	if (!data)
		data = none;
	const uint8_t *p = data, *end = data + size;
	unsigned ctl = size ? data[0] : 0;
	rr.ncases = 1 + ctl % MAX_CASES;
	rr.strict = (ctl >> 2) & 1;
	rr.cases = results;
	snprintf(rr.run_id, sizeof(rr.run_id), "abcdef012345");
	snprintf(rr.target, sizeof(rr.target), "http://127.0.0.1:1");
	rr.started_at_ms = 1700000000000.0;
	rr.time_ms = 12.5;
	if (size)
		p++;
	for (size_t i = 0; i < rr.ncases; i++) {
		struct case_result *cr = &results[i];
		unsigned b = p < end ? *p++ : 0;
		/* Ids come from suite files, which the loader checks: printable, unique. */
		snprintf(ids[i], sizeof(ids[i]), "widget.c%zu.%c", i, 'a' + b % 26);
		tcases[i] = (struct tcase){ .id = ids[i], .title = (char *)"a case", .section = (char *)"S",
					    .clause = (char *)strict_clause, .level = (enum level)((b >> 3) % 3),
					    .suite = &suite, .index = i };
		memset(cr, 0, sizeof(*cr));
		cr->tcase = &tcases[i];
		cr->verdict = (enum verdict)(b % 7);
		cr->time_ms = (double)b;
		cr->started_at_ms = 1700000000000.0 + (double)i;
		buf_init(&cr->diff, 1 << 20);
		buf_init(&cr->transcript, 1 << 20);
		/* Messages, differences and transcripts quote what a target sent: any bytes (a NUL ends a message). */
		size_t n = take(&p, end, p < end ? *p++ : 0);
		cr->message = n ? strndup((const char *)p, n) : NULL;
		p += n;
		n = take(&p, end, p < end ? *p++ : 0);
		buf_add(&cr->diff, p, n);
		p += n;
		/* Now and then past JSON_REPORT_TRANSCRIPT_MAX (the writer cuts it on a character boundary). */
		n = take(&p, end, p < end ? (size_t)*p++ * ((ctl >> 3) & 1 ? 97 : 1) : 0);
		buf_add(&cr->transcript, p, n);
		p += n;
	}
	struct buf err;
	buf_init(&err, 4096);
	FUZZ_CHECK(json_report_write(&rr, path, &err) == 0, "json_report_write: %s", buf_str(&err));
	buf_release(&err);
	for (size_t i = 0; i < rr.ncases; i++) {
		free(results[i].message);
		buf_release(&results[i].diff);
		buf_release(&results[i].transcript);
	}
}

static void remove_dir(void)
{
	unlink(fixed_path);
	unlink(written_path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fixed_path[0]) {
		FUZZ_CHECK(mkdtemp(dir), "mkdtemp failed");
		atexit(remove_dir);
		snprintf(fixed_path, sizeof(fixed_path), "%s/fixed.json", dir);
		snprintf(written_path, sizeof(written_path), "%s/written.json", dir);
		write_run(NULL, 0, fixed_path);
	}
	if (size > 1024 * 1024)
		return 0;
	const char *path = fuzz_file_put(&file, "fuzz-report.json", data, size);

	struct compared a = compare(path, fixed_path);
	struct compared b = compare(path, path);
	FUZZ_CHECK((a.status == COMPARE_INVALID) == (b.status == COMPARE_INVALID),
		   "against a fixed report: status %d (%s); against itself: status %d (%s)", (int)a.status, a.err,
		   (int)b.status, b.err);
	if (b.status != COMPARE_INVALID)
		FUZZ_CHECK(strstr(b.out, " 0 new warnings, 0 fixes, 0 added, 0 removed, "),
			   "a report against itself: %s", b.out);
	compared_free(&a);
	compared_free(&b);

	write_run(data, size, written_path);
	struct compared c = compare(written_path, written_path);
	FUZZ_CHECK(c.status == COMPARE_SAME && strstr(c.out, "\n0 regressions, 0 new warnings, 0 fixes, 0 added, 0 removed, "),
		   "a written report against itself: status %d: %s%s", (int)c.status, c.out, c.err);
	compared_free(&c);
	return 0;
}
