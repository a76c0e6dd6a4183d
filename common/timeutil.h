/* timeutil: monotonic and wall clocks in milliseconds, ISO 8601 formatting and parsing. */
#ifndef CC_TIMEUTIL_H
#define CC_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t mono_ms(void);
/* Microseconds of CLOCK_MONOTONIC. */
int64_t mono_us(void);
/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t wall_ms(void);
/* "2024-01-15T10:30:00Z" (with ".mmm" when millis is non-zero); out must hold 32 bytes. */
void iso8601_format(int64_t epoch_ms, char *out, size_t size);
/*
 * Parse "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS[.fff]]" with "Z" or "+HH:MM"/"-HH:MM"
 * (none means UTC) into epoch milliseconds; 0 on success, -1 when it is not one.
 */
int iso8601_parse(const char *s, int64_t *epoch_ms);

#endif
