/*
 * fuzz_suite: the suite loader (runner/suite.c) on arbitrary files.
 *
 * The input is written to a memfd and loaded through /proc/self/fd/N, the
 * path a user would give, so the loader is exercised as it is used with no
 * change to its API.  Whatever the bytes, suite_load must return a suite or
 * NULL with at least one problem in err, and never crash or leak.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/buf.h"
#include "fuzz/fuzz.h"
#include "runner/suite.h"

static int fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct buf err;

	if (size > 1024 * 1024)
		return 0;
	if (fd < 0) {
		fd = memfd_create("fuzz-suite.json", 0);
		FUZZ_CHECK(fd >= 0, "memfd_create failed");
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0, "ftruncate failed");
	FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size, "pwrite failed");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	buf_init(&err, 1u << 20);
	struct suite *s = suite_load(path, &err);
	if (s) {
		FUZZ_CHECK(s->ncases > 0, "a loaded suite has no cases");
		for (size_t i = 0; i < s->ncases; i++) {
			FUZZ_CHECK(s->cases[i].id && s->cases[i].nsteps > 0, "case %zu has no id or no steps", i);
			(void)level_name(s->cases[i].level);
			(void)tcase_has_tag(&s->cases[i], "mock-only");
		}
		suite_free(s);
	} else {
		FUZZ_CHECK(err.len > 0, "suite_load failed and said nothing");
	}
	buf_release(&err);
	return 0;
}
