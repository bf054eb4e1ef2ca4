/*
 * symbols_debuglink — find the separate debug file of a stripped module,
 * the way gdb does (gdb manual, "Debugging Information in Separate
 * Files"): Debian's -dbg / -dbgsym packages (libc6-dbg) put the DWARF of
 * /lib/x86_64-linux-gnu/libc.so.6 in DEBUGDIR/.build-id/xx/yyyy.debug,
 * named after the module's GNU build id; older packages and hand-made
 * splits (objcopy --only-keep-debug + --add-gnu-debuglink) are found
 * through the module's .gnu_debuglink section: a file name and a CRC-32
 * of the debug file, looked for beside the module, in its .debug/ folder
 * and under DEBUGDIR + the module's folder.
 *
 * DEBUGDIR is /usr/lib/debug, or RACEWATCH_DEBUG_DIR (tests point it at a
 * folder of their own).
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbols_int.h"

static const char *debug_dir(void)
{
	const char *d = getenv("RACEWATCH_DEBUG_DIR");

	return d && *d ? d : "/usr/lib/debug";
}

/* The CRC-32 (IEEE 802.3, the one .gnu_debuglink holds) of the file on fd. */
static uint32_t file_crc32(int fd)
{
	unsigned char buf[65536];
	uint32_t crc = 0xffffffffu;
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			crc ^= buf[i];
			for (int k = 0; k < 8; k++)
				crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
		}
		off += n;
	}
	return ~crc;
}

/* Open path if it is a regular file other than the module itself. */
static int open_candidate(const char *path, const struct stat *self)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    (sb.st_dev == self->st_dev && sb.st_ino == self->st_ino)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The build id from the module's notes, as lowercase hex; 0 or -1. */
static int build_id(Elf *elf, char *hex, size_t len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		if (!(data = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
			const unsigned char *d = (const unsigned char *)data->d_buf + doff;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)data->d_buf + noff, "GNU", 4) ||
			    nh.n_descsz < 2 || nh.n_descsz * 2 + 1 > len)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x", d[i]);
			return 0;
		}
	}
	return -1;
}

/* The .gnu_debuglink file name and CRC; 0 or -1. */
static int debuglink(Elf *elf, char *name, size_t len, uint32_t *crc)
{
	Elf_Scn *scn = NULL;
	size_t shstr;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstr) < 0)
		return -1;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *sname;
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		sname = elf_strptr(elf, shstr, sh.sh_name);
		if (!sname || strcmp(sname, ".gnu_debuglink"))
			continue;
		if (!(data = elf_getdata(scn, NULL)) || !data->d_buf || data->d_size < 8)
			return -1;
		n = strnlen(data->d_buf, data->d_size);
		/* name, NUL, padding to 4, then the CRC (little-endian here). */
		if (n == 0 || n >= len || ((n + 4) & ~(size_t)3) + 4 > data->d_size ||
		    strchr(data->d_buf, '/'))
			return -1;
		memcpy(name, data->d_buf, n + 1);
		memcpy(crc, (const char *)data->d_buf + ((n + 4) & ~(size_t)3), 4);
		return 0;
	}
	return -1;
}

int symi_debug_file(void *elfp, const char *path, char *out, size_t outlen)
{
	Elf *elf = elfp;
	char hex[2 * 64 + 1], name[256], dir[4096], cand[4096 + 512];
	const char *slash;
	struct stat self;
	uint32_t crc;
	int fd;

	if (stat(path, &self) < 0)
		return -1;
	if (build_id(elf, hex, sizeof(hex)) == 0) {
		snprintf(cand, sizeof(cand), "%s/.build-id/%.2s/%s.debug", debug_dir(), hex, hex + 2);
		if ((fd = open_candidate(cand, &self)) >= 0) {
			snprintf(out, outlen, "%s", cand);
			return fd;
		}
	}
	if (debuglink(elf, name, sizeof(name), &crc) < 0)
		return -1;
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	for (int i = 0; i < 3; i++) {
		if (i == 0)
			snprintf(cand, sizeof(cand), "%s/%s", dir, name);
		else if (i == 1)
			snprintf(cand, sizeof(cand), "%s/.debug/%s", dir, name);
		else
			snprintf(cand, sizeof(cand), "%s%s%s/%s", debug_dir(),
				 dir[0] == '/' ? "" : "/", dir, name);
		if ((fd = open_candidate(cand, &self)) < 0)
			continue;
		if (file_crc32(fd) == crc) {
			snprintf(out, outlen, "%s", cand);
			return fd;
		}
		close(fd);	/* a stale copy from another build */
	}
	return -1;
}
