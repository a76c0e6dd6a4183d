/*
 * fuzz_file: the input as a file a loader opens by name, the way fuzz_suite does it.
 *
 * Each target keeps one memfd for the whole run; every input is written over
 * it and given to the loader as /proc/self/fd/N, so the loaders are driven
 * through their real API (a path) without touching the disk.
 */
#ifndef CC_FUZZ_FILE_H
#define CC_FUZZ_FILE_H

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/fuzz.h"

struct fuzz_file {
	int fd;                  /* 0 (a static struct) until first used */
	char path[64];
};

/* Write data[0..size) to f's memfd (made on first use, named name) and set f->path to open it by. */
static inline const char *fuzz_file_put(struct fuzz_file *f, const char *name, const void *data, size_t size)
{
	if (f->fd <= 0) {
		f->fd = memfd_create(name, 0);
		FUZZ_CHECK(f->fd >= 0, "memfd_create failed");
		snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
	}
	FUZZ_CHECK(ftruncate(f->fd, 0) == 0, "ftruncate failed");
	FUZZ_CHECK(size == 0 || pwrite(f->fd, data, size, 0) == (ssize_t)size, "pwrite failed");
	return f->path;
}

#endif
