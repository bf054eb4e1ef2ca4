/*
 * symbols_ptr — what symbols_ptr.c (the query and its per-module state)
 * and symbols_ptr_slots.c (one function's pointer variables, read from
 * their DW_AT_location) share.  Private to them.
 */
#ifndef RACEWATCH_SYMBOLS_PTR_H
#define RACEWATCH_SYMBOLS_PTR_H

#include "symbols_int.h"

/* A pointer variable in DWARF register reg over pcs [lo, hi): its value is
 * the register's plus bias; toff is the DIE of the type it points to. */
struct ptr_slot {
	uint64_t lo, hi;
	int64_t bias;
	Dwarf_Off toff;
	int reg;
};

/* One top-level subprogram with code, and its slots once read. */
struct ptr_fn {
	Dwarf_Off die;
	Dwarf_Half version;	/* of its unit: how DW_AT_ranges is encoded */
	uint64_t cubase;	/* its unit's DW_AT_low_pc (DWARF 4 ranges) */
	int built;		/* slots read (possibly none) */
	struct ptr_slot *slots;	/* in DIE pre-order: nested scopes after outer */
	size_t nslots, capslots;
};

/*
 * Read f's slots: every variable and formal parameter of pointer type
 * under its DIE (lexical blocks and inlined subroutines included) over the
 * pcs where its location is a register.  Sets f->built.  Returns -1 if
 * memory ran out (the slots read so far stay), else 0.
 */
int symi_ptr_slots(Dwarf_Debug dbg, struct ptr_fn *f);

#endif
