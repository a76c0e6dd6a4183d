#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

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

void log_str(enum log_level level, const char *msg)
{
	if (level < log_min)
		return;
	if (log_fmt == LOG_TEXT) {
		if (level == LOG_INFO)
			fprintf(stderr, "%s: %s\n", log_prog, msg);
		else
			fprintf(stderr, "%s: %s: %s\n", log_prog, level_names[level], msg);
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
	char *line = cJSON_PrintUnformatted(o);
	if (line)
		fprintf(stderr, "%s\n", line);
	cJSON_free(line);
	cJSON_Delete(o);
}
