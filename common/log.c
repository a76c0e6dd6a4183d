#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/timeutil.h"

static const char *log_prog = "chatconform";
static enum log_format log_fmt = LOG_TEXT;
static enum log_level log_min = LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warning", "error" };

void log_setup(const char *prog, enum log_format fmt, enum log_level min)
{
	log_prog = prog;
	log_fmt = fmt;
	log_min = min;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level < log_min)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_str(level, msg);
}

/*
 * Held lines (log_hold): gathered here and written together by log_flush, so
 * that a program writing a line a request (mockd's access log) makes one
 * write a loop turn, not one a line. Lines keep their order: a line that does
 * not wait (a warning, an error, any line when nothing holds) is written after
 * what is held.
 */
#define HELD_MAX (64u * 1024)
static struct buf held = { .max = HELD_MAX };
static struct buf line = { .max = SIZE_MAX / 2 };  /* the line being made, for every line */
static void (*held_wake)(void);

void log_flush(void)
{
	if (held.len)
		fwrite(held.data, 1, held.len, stderr);
	buf_reset(&held);
}

void log_hold(void (*wake)(void))
{
	log_flush();
	held_wake = wake;
	if (!wake)
		buf_release(&held);
}

/* Write text (a whole line and its newline), or hold it. */
static void put_line(const char *text, size_t len, bool now)
{
	if (held_wake && !now) {
		if (held.len + len > HELD_MAX)
			log_flush();
		bool first = held.len == 0;
		if (buf_add(&held, text, len) == BUF_OK) {
			if (first)
				held_wake();
			return;
		}
	}
	log_flush();
	fwrite(text, 1, len, stderr);
}

void log_line(const char *text)
{
	buf_reset(&line);
	if (buf_adds(&line, text) == BUF_OK && buf_addc(&line, '\n') == BUF_OK) {
		put_line(line.data, line.len, false);
		return;
	}
	log_flush();  /* no memory for the line: written as it is, after what is held */
	fprintf(stderr, "%s\n", text);
}

void log_str(enum log_level level, const char *msg)
{
	if (level < log_min)
		return;
	bool now = level >= LOG_WARN;
	if (log_fmt == LOG_TEXT) {
		buf_reset(&line);
		bool info = level == LOG_INFO;
		if (buf_adds(&line, log_prog) == BUF_OK && buf_add(&line, ": ", 2) == BUF_OK &&
		    (info || (buf_adds(&line, level_names[level]) == BUF_OK && buf_add(&line, ": ", 2) == BUF_OK)) &&
		    buf_adds(&line, msg) == BUF_OK && buf_addc(&line, '\n') == BUF_OK) {
			put_line(line.data, line.len, now);
			return;
		}
		log_flush();  /* no memory for the line: written as it is, after what is held */
		fprintf(stderr, "%s: %s%s%s\n", log_prog, info ? "" : level_names[level], info ? "" : ": ", msg);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char when[40];
	iso8601_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, when, sizeof(when));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ts", when);
	cJSON_AddStringToObject(o, "level", level_names[level]);
	cJSON_AddStringToObject(o, "prog", log_prog);
	cJSON_AddStringToObject(o, "msg", msg);
	char *text = cJSON_PrintUnformatted(o);
	if (text) {
		size_t n = strlen(text);
		text[n] = '\n';  /* over its NUL: put_line takes a length */
		put_line(text, n + 1, now);
	}
	cJSON_free(text);
	cJSON_Delete(o);
}
