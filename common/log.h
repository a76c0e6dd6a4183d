/* log: one-line diagnostics to stderr, as text or as JSON objects (mockd --log json). */
#ifndef CC_LOG_H
#define CC_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

/* Set the program name, the format and the lowest level written. */
void log_setup(const char *prog, enum log_format fmt, enum log_level min);
/* Write one line: "prog: level: message" or {"ts":..,"level":..,"msg":..}. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a message already made: no format, and no cut at 2 KiB. */
void log_str(enum log_level level, const char *msg);
/* Write a line the caller made whole (text, without its newline), as the lines above go. */
void log_line(const char *text);
/*
 * Hold the info lines written from now on, to write them together with
 * log_flush; wake is called when the first one is held, to have log_flush
 * called soon (mockd: at the end of the loop turn). A warning or an error
 * is written at once, after what is held. NULL: write every line at once
 * again (after what is held).
 */
void log_hold(void (*wake)(void));
/* Write what is held. */
void log_flush(void);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
