#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int rw_verbose;

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];

	char out[4 * sizeof(buf)];
	size_t o = 0;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* One line, and nothing a terminal would obey, whatever it quotes
	 * (names from the program's DWARF, a report file, argv): a newline
	 * becomes a blank, any other unsafe byte \xNN. */
	for (const unsigned char *p = (const unsigned char *)buf; *p; p++) {
		if (*p == '\n')
			out[o++] = ' ';
		else if (rw_unsafe_byte(*p))
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
	fprintf(stderr, "racewatch: %s%s\n", prefix, out);
}

void rw_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void rw_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

int rw_quiet;

void rw_note(const char *fmt, ...)
{
	va_list ap;

	if (rw_quiet)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void rw_debug(const char *fmt, ...)
{
	va_list ap;

	if (!rw_verbose)
		return;
	va_start(ap, fmt);
	vmsg("debug: ", fmt, ap);
	va_end(ap);
}

static int hw_silent = -1;

static int debug_has(const char *word)
{
	const char *v = getenv("RACEWATCH_DEBUG");
	size_t n = strlen(word);

	while (v && *v) {
		size_t len = strcspn(v, ",");

		if (len == n && !strncmp(v, word, n))
			return 1;
		v += len + (v[len] == ',');
	}
	return 0;
}

void rw_debug_init(void)
{
	if (debug_has("trace") || debug_has("1"))
		rw_verbose = 1;
	hw_silent = debug_has("hw-silent");
}

int rw_hw_silent(void)
{
	if (hw_silent < 0)
		hw_silent = debug_has("hw-silent");
	return hw_silent;
}

int rw_hw_trust(void)
{
	static int trust = -1;

	if (trust < 0)
		trust = debug_has("hw-trust");
	return trust;
}

static void oom(void)
{
	fputs("racewatch: out of memory\n", stderr);
	abort();
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xnonnull(void *p)
{
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		oom();
	return p;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void rw_escape(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0;

	if (!dstlen)
		return;
	for (; src && *src; src++) {
		unsigned char c = (unsigned char)*src;
		char tmp[5];
		size_t n;

		if (rw_unsafe_byte(c) || c == '\\') {
			if (c == '\\')
				n = (size_t)snprintf(tmp, sizeof(tmp), "\\\\");
			else
				n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		} else {
			tmp[0] = (char)c;
			n = 1;
		}
		if (o + n >= dstlen)
			break;
		memcpy(dst + o, tmp, n);
		o += n;
	}
	dst[o] = '\0';
}

static uint64_t rand_state = 0x9e3779b97f4a7c15ull;

void rand_seed(uint64_t seed)
{
	rand_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint64_t rand_next(void)
{
	uint64_t x = rand_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rand_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint64_t rand_range(uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + rand_next() % (hi - lo + 1);
}

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}
