/*
 * console: case lines and the summary, by the same outcome rule as every report.
 */
#include "runner/report/console.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/report/common.h"

/* The word and ANSI colour of each outcome; the word is what scripts grep for ("^FAIL "). */
static const char *const outcome_word[OUTCOME_COUNT] = {
	[OUTCOME_PASS] = "PASS", [OUTCOME_FAIL] = "FAIL",   [OUTCOME_WARN] = "WARN",       [OUTCOME_ERROR] = "ERROR",
	[OUTCOME_SKIP] = "SKIP", [OUTCOME_FLAKY] = "FLAKY", [OUTCOME_BLOCKED] = "BLOCKED", [OUTCOME_INFO] = "INFO",
};
static const char *const outcome_colour[OUTCOME_COUNT] = {
	[OUTCOME_PASS] = "32", [OUTCOME_FAIL] = "31",  [OUTCOME_WARN] = "33",    [OUTCOME_ERROR] = "1;31",
	[OUTCOME_SKIP] = "36", [OUTCOME_FLAKY] = "35", [OUTCOME_BLOCKED] = "34", [OUTCOME_INFO] = "36",
};

static void print_indented(FILE *out, const char *text)
{
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, "\n");
		fprintf(out, "      %.*s\n", (int)len, p);
		p += len;
		if (*p)
			p++;
	}
}

int console_colour(enum console_when when, FILE *out)
{
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
	if (when != CONSOLE_AUTO)
		return when == CONSOLE_ALWAYS;
	return isatty(fileno(out)) && !(no_color && *no_color) && !(term && strcmp(term, "dumb") == 0);
}

/* ---- the counter ------------------------------------------------------------------------ */

/*
 * counter_lock guards these: console_case (under the executor's lock) and
 * console_note (the signal thread) both write around the counter.
 */
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *counter_tty;          /* where it is shown while it is on, else NULL */
static size_t counter_done, counter_total;
static int counter_shown;          /* characters of it on the screen now: what to erase */

static void counter_erase(void)
{
	if (!counter_tty || !counter_shown)
		return;
	fprintf(counter_tty, "\r%*s\r", counter_shown, "");
	fflush(counter_tty);
	counter_shown = 0;
}

static void counter_draw(void)
{
	if (!counter_tty)
		return;
	int n = fprintf(counter_tty, "%zu/%zu", counter_done, counter_total);
	fflush(counter_tty);
	counter_shown = n > 0 ? n : 0;
}

void console_counter_start(FILE *tty, size_t total)
{
	const char *term = getenv("TERM");
	if (!isatty(fileno(tty)) || (term && strcmp(term, "dumb") == 0))
		return;
	pthread_mutex_lock(&counter_lock);
	counter_tty = tty;
	counter_done = 0;
	counter_total = total;
	counter_draw();
	pthread_mutex_unlock(&counter_lock);
}

void console_counter_stop(void)
{
	pthread_mutex_lock(&counter_lock);
	counter_erase();
	counter_tty = NULL;
	pthread_mutex_unlock(&counter_lock);
}

void console_note(FILE *out, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&counter_lock);
	counter_erase();
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
	counter_draw();
	pthread_mutex_unlock(&counter_lock);
}

/* ---- a case ------------------------------------------------------------------------------ */

static void print_case(FILE *out, const struct case_result *cr, const struct console_style *style)
{
	const struct tcase *c = cr->tcase;
	enum report_outcome o = report_outcome(cr, style->strict);
	const char *msg = cr->message ? cr->message : "";

	if (style->colour)
		fprintf(out, "\033[%sm%-7s\033[0m ", outcome_colour[o], outcome_word[o]);
	else
		fprintf(out, "%-7s ", outcome_word[o]);
	switch (o) {
	case OUTCOME_SKIP:
		/* One line: why it did not run. */
		fprintf(out, "%s  %s (%s)\n", c->id, c->title, *msg ? msg : "skipped");
		break;
	case OUTCOME_BLOCKED:
	case OUTCOME_INFO:
		/* The message says it all: "precondition not met: ...", "observed: ...". */
		fprintf(out, "%s  %s (%.0f ms)\n", c->id, c->title, cr->time_ms);
		print_indented(out, msg);
		break;
	default:
		fprintf(out, "%s  %s (%.0f ms)\n", c->id, c->title, cr->time_ms);
		if (o == OUTCOME_ERROR)
			print_indented(out, msg);
		for (size_t i = 0; i < cr->nattempts; i++) {
			const struct case_attempt *a = &cr->attempts[i];
			fprintf(out, "      attempt %zu: %s (%.0f ms): %s\n", i + 1, verdict_name(a->verdict),
				a->time_ms, a->message ? a->message : "");
		}
		if (cr->diff.len)
			print_indented(out, buf_str(&cr->diff));
		break;
	}
	if (style->verbose && (o == OUTCOME_FAIL || o == OUTCOME_ERROR || o == OUTCOME_BLOCKED) &&
	    cr->transcript.len)
		print_indented(out, buf_str(&cr->transcript));
	fflush(out);
}

void console_case(FILE *out, const struct case_result *cr, const struct console_style *style)
{
	pthread_mutex_lock(&counter_lock);
	counter_erase();
	print_case(out, cr, style);
	counter_done++;
	counter_draw();
	pthread_mutex_unlock(&counter_lock);
}

/* ---- the summary ------------------------------------------------------------------------ */

struct tally {
	const char *api;
	size_t count[OUTCOME_COUNT];
	size_t must_pass, must_ran, should_pass, should_ran;
};

static void tally_add(struct tally *t, const struct case_result *cr, int strict)
{
	enum report_outcome o = report_outcome(cr, strict);
	t->count[o]++;
	/* Skipped and blocked cases never reached their clause: they count in neither ratio. */
	if (o == OUTCOME_SKIP || o == OUTCOME_BLOCKED)
		return;
	/* A flaky case met the clause in the end: it counts as passed, and is counted as flaky too. */
	int met = o == OUTCOME_PASS || o == OUTCOME_FLAKY;
	if (cr->tcase->level == LEVEL_MUST) {
		t->must_ran++;
		t->must_pass += met;
	} else if (cr->tcase->level == LEVEL_SHOULD) {
		t->should_ran++;
		t->should_pass += met;
	}
}

static void tally_print(FILE *out, const struct tally *t)
{
	const size_t *n = t->count;
	fprintf(out, "%s: %zu passed, %zu failed, %zu errors, %zu skipped", t->api, n[OUTCOME_PASS],
		n[OUTCOME_FAIL], n[OUTCOME_ERROR], n[OUTCOME_SKIP]);
	if (n[OUTCOME_BLOCKED])
		fprintf(out, ", %zu blocked", n[OUTCOME_BLOCKED]);
	if (n[OUTCOME_WARN])
		fprintf(out, ", %zu warning%s", n[OUTCOME_WARN], n[OUTCOME_WARN] == 1 ? "" : "s");
	if (n[OUTCOME_INFO])
		fprintf(out, ", %zu observed", n[OUTCOME_INFO]);
	if (n[OUTCOME_FLAKY])
		fprintf(out, ", %zu flaky", n[OUTCOME_FLAKY]);
	fprintf(out, " (MUST %zu/%zu, SHOULD %zu/%zu)\n", t->must_pass, t->must_ran, t->should_pass,
		t->should_ran);
}

void console_summary(FILE *out, const struct run_result *rr)
{
	struct tally total = { .api = "total" };
	/* One line per API, in the order the APIs first appear; O(n * APIs), a handful of APIs. */
	for (size_t i = 0; i < rr->ncases; i++) {
		if (!report_first_of_api(rr, i))
			continue;
		const char *api = rr->cases[i].tcase->suite->name;
		struct tally t = { .api = api };
		for (size_t j = i; j < rr->ncases; j++)
			if (strcmp(rr->cases[j].tcase->suite->name, api) == 0)
				tally_add(&t, &rr->cases[j], rr->strict);
		tally_print(out, &t);
	}
	for (size_t i = 0; i < rr->ncases; i++)
		tally_add(&total, &rr->cases[i], rr->strict);
	tally_print(out, &total);
	/* The closing line CI reads: every case that fails the run (a blocked one does when strict). */
	size_t *n = total.count, failed = run_result_failures(rr);
	if (n[OUTCOME_FLAKY])
		fprintf(out, "%zu passed, %zu failed, %zu flaky\n", n[OUTCOME_PASS], failed, n[OUTCOME_FLAKY]);
	else
		fprintf(out, "%zu passed, %zu failed\n", n[OUTCOME_PASS], failed);
	fflush(out);
}
