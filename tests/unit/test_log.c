/*
 * Unit tests for common/log.c's held lines: what log_hold keeps is written by log_flush, in the order
 * the lines were made, and a line that must not wait (a warning) goes out at once, after them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/log.h"
#include "tests/unit/unit.h"

static char path[] = "/tmp/cc-log-XXXXXX";
static int saved = -1;
static int wakes;

static void wake(void)
{
	wakes++;
}

/* stderr into a file of its own for the test. */
static void setup(void)
{
	int fd = mkstemp(path);
	saved = dup(2);
	cr_assert(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	close(fd);
	wakes = 0;
	log_setup("prog", LOG_TEXT, LOG_INFO);
}

static void teardown(void)
{
	log_hold(NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	unlink(path);
}

TestSuite(log, .init = setup, .fini = teardown);

/* What was written to stderr so far (static storage). */
static const char *written(void)
{
	static char text[256 * 1024];
	FILE *f = fopen(path, "r");
	cr_assert(f != NULL);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

Test(log, lines_are_written_at_once_when_nothing_holds)
{
	log_info("one %d", 1);
	log_warn("two");
	cr_assert(eq(str, STR(written()), STR("prog: one 1\nprog: warning: two\n")));
}

Test(log, held_lines_wait_for_the_flush_and_wake_once)
{
	log_hold(wake);
	log_info("one");
	log_str(LOG_INFO, "two");
	log_line("three as it is");
	cr_assert(eq(str, STR(written()), STR("")), "nothing before the flush");
	cr_assert(eq(int, wakes, 1), "woken for the first held line only");
	log_flush();
	cr_assert(eq(str, STR(written()), STR("prog: one\nprog: two\nthree as it is\n")));
	log_info("four");
	cr_assert(eq(int, wakes, 2), "woken again for the first line after a flush");
	log_hold(NULL);
	cr_assert(eq(str, STR(written()), STR("prog: one\nprog: two\nthree as it is\nprog: four\n")),
		  "letting go writes what is held");
	log_info("five");
	cr_assert(eq(str, STR(written()), STR("prog: one\nprog: two\nthree as it is\nprog: four\nprog: five\n")));
}

Test(log, a_warning_goes_at_once_after_what_is_held)
{
	log_hold(wake);
	log_info("held");
	log_error("now");
	cr_assert(eq(str, STR(written()), STR("prog: held\nprog: error: now\n")));
}

Test(log, a_line_past_the_hold_is_written_at_once_in_order)
{
	log_hold(wake);
	log_info("first");
	size_t n = 100 * 1024;
	char *big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	log_str(LOG_INFO, big);
	const char *w = written();
	cr_assert(eq(int, strncmp(w, "prog: first\nprog: xxx", 21), 0), "the held line first, then the long one");
	cr_assert(eq(sz, strlen(w), strlen("prog: first\n") + strlen("prog: ") + n + 1));
	free(big);
}

Test(log, json_lines_are_held_the_same_way)
{
	log_setup("prog", LOG_JSON, LOG_INFO);
	log_hold(wake);
	log_info("one");
	cr_assert(eq(str, STR(written()), STR("")));
	log_flush();
	const char *w = written();
	cr_assert(strstr(w, "\"msg\":\"one\"}\n") != NULL, "%s", w);
	cr_assert(eq(int, w[0], '{'));
}
