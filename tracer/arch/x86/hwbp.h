/*
 * hwbp — x86 debug-register arithmetic, pure and unit tested.
 *
 * Four slots (DR0-DR3).  Each watches 1, 2, 4 or 8 bytes at an address
 * aligned to its length, on write or on read-or-write (x86 has no read-only
 * data breakpoint).  DR7 enables slots and holds their kind and length;
 * DR6 says which slot fired.
 */
#ifndef RACEWATCH_HWBP_H
#define RACEWATCH_HWBP_H

#include <stdint.h>

#define HWBP_SLOTS 4

enum hwbp_kind {
	HWBP_WRITE = 1,		/* R/W bits 01: trap on data writes */
	HWBP_RW    = 3,		/* R/W bits 11: trap on data reads or writes */
};

struct hwbp_slot {
	uint64_t addr;		/* aligned to len */
	unsigned len;		/* 1, 2, 4 or 8 */
	enum hwbp_kind kind;
};

/*
 * Do [a, a+alen) and [b, b+blen) share a byte?  Written with differences,
 * not end addresses, so a range ending at exactly 2^64 does not wrap to 0.
 */
static inline int range_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	if (!alen || !blen)
		return 0;
	return a <= b ? b - a < alen : a - b < blen;
}

/*
 * Cover [addr, addr + len) exactly with the fewest naturally aligned chunks
 * of 1, 2, 4 or 8 bytes, in address order.  Returns the number of chunks
 * written to out, or -1 if more than max would be needed (or len == 0).
 */
static inline int hwbp_split(uint64_t addr, uint64_t len, enum hwbp_kind kind,
			     struct hwbp_slot *out, int max)
{
	int n = 0;

	if (len == 0)
		return -1;
	while (len) {
		unsigned sz = 8;

		while (sz > 1 && ((addr & (sz - 1)) || sz > len))
			sz >>= 1;
		if (n == max)
			return -1;
		out[n].addr = addr;
		out[n].len = sz;
		out[n].kind = kind;
		n++;
		addr += sz;
		len -= sz;
	}
	return n;
}

/* DR7 LEN field encoding: 1 -> 00, 2 -> 01, 8 -> 10, 4 -> 11. */
static inline unsigned hwbp_len_bits(unsigned len)
{
	switch (len) {
	case 1: return 0;
	case 2: return 1;
	case 8: return 2;
	default: return 3;	/* 4 */
	}
}

/*
 * DR7 for slots: slots[i] is armed when enabled & (1 << i).  Uses the local
 * enable bits (L0-L3, bits 0, 2, 4, 6); R/W and LEN of slot i at bits
 * 16 + 4i and 18 + 4i.  Precondition: armed slots are valid (hwbp_valid).
 */
static inline uint64_t hwbp_dr7(const struct hwbp_slot slots[HWBP_SLOTS], unsigned enabled)
{
	uint64_t dr7 = 0;

	for (int i = 0; i < HWBP_SLOTS; i++) {
		if (!(enabled & (1u << i)))
			continue;
		dr7 |= 1ull << (2 * i);
		dr7 |= (uint64_t)(slots[i].kind & 3) << (16 + 4 * i);
		dr7 |= (uint64_t)hwbp_len_bits(slots[i].len) << (18 + 4 * i);
	}
	return dr7;
}

/* Is s something the hardware can watch? */
static inline int hwbp_valid(const struct hwbp_slot *s)
{
	return (s->len == 1 || s->len == 2 || s->len == 4 || s->len == 8) &&
	       (s->addr & (s->len - 1)) == 0 &&
	       (s->kind == HWBP_WRITE || s->kind == HWBP_RW);
}

/* The lowest slot whose B bit is set in dr6 (and in mask), or -1. */
static inline int hwbp_dr6_slot(uint64_t dr6, unsigned mask)
{
	for (int i = 0; i < HWBP_SLOTS; i++)
		if ((dr6 & mask) & (1u << i))
			return i;
	return -1;
}

#endif
