#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

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

	if (log_fmt == LOG_TEXT) {
		if (level == LOG_INFO)
			fprintf(stderr, "%s: %s\n", log_prog, msg);
		else
			fprintf(stderr, "%s: %s: %s\n", log_prog, level_names[level], msg);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[40];
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ts", when);
	cJSON_AddStringToObject(o, "level", level_names[level]);
	cJSON_AddStringToObject(o, "prog", log_prog);
	cJSON_AddStringToObject(o, "msg", msg);
	char *line = cJSON_PrintUnformatted(o);
	if (line)
		fprintf(stderr, "%s\n", line);
	cJSON_free(line);
	cJSON_Delete(o);
}
