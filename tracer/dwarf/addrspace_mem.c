/*
 * addrspace_mem — what watch resolution and reports ask of a process's
 * memory beyond its modules: read a few bytes (a pointer), say whether a
 * range is mapped at all, and name the variable at an address.  See
 * addrspace.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

#include "addrspace.h"

int as_read(struct addrspace *as, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	char path[64];
	ssize_t n;
	int fd;

	if (process_vm_readv(as_pid(as), &local, 1, &remote, 1, 0) == (ssize_t)len)
		return 0;
	/* process_vm_readv is refused on some kernels (seccomp, no CMA). */
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)as_pid(as));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = pread(fd, buf, len, (off_t)addr);
	close(fd);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		errno = EFAULT;
	return -1;
}

int as_mapped(struct addrspace *as, uint64_t addr, uint64_t len)
{
	char path[64], line[512];
	uint64_t want = addr, end = addr + len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)as_pid(as));
	if (!(f = fopen(path, "re")))
		return 0;
	/* Mappings come sorted: walk them, advancing want while they are
	 * contiguous with it. */
	while (want < end && fgets(line, sizeof(line), f)) {
		uint64_t lo, hi;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &lo, &hi) != 2)
			continue;
		if (lo <= want && want < hi)
			want = hi;
	}
	fclose(f);
	return want >= end;
}

/* Every module is asked, not only the one whose file mapping holds addr:
 * .bss past a module's last file page is an anonymous mapping. */
int as_var_at(struct addrspace *as, uint64_t addr, struct sym_var *out)
{
	for (int i = 0; i < as_module_count(as); i++) {
		uint64_t bias = 0;
		struct symtab *st = as_module(as, i, &bias);

		if (st && addr >= bias && sym_var_at(st, addr - bias, out) == 0)
			return 0;
	}
	return -1;
}
