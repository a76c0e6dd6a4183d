#include "mockd/clock.h"

#include "common/timeutil.h"

static int64_t clock_offset;

int64_t clock_now_ms(void)
{
	return wall_ms() + clock_offset;
}

void clock_advance(int64_t ms)
{
	if (ms > 0)
		clock_offset += ms;
}

void clock_set(int64_t epoch_ms)
{
	clock_offset = epoch_ms - wall_ms();
}

int64_t clock_offset_ms(void)
{
	return clock_offset;
}

void clock_reset(void)
{
	clock_offset = 0;
}
