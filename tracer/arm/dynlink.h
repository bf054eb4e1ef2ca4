/*
 * dynlink — learn about dlopen and dlclose through the dynamic linker's
 * rendezvous breakpoint (see dynlink.c).
 */
#ifndef RACEWATCH_DYNLINK_H
#define RACEWATCH_DYNLINK_H

#include "tracee.h"

/* Plant the breakpoint in p (its ld.so must be mapped: after exec).
 * 0, or -1 if the program has no dynamic linker we can follow. */
int dynlink_plant(struct proc *p);

/* t (in a SIGTRAP stop) hit it?  Then the ret is emulated and 1 returned:
 * the caller looks at the maps and resumes t. */
int dynlink_hit(struct thread *t);

/* Put the ret back: in p itself (memfd -1), or in the memory of a child we
 * do not follow (its /proc/PID/mem open as memfd; p keeps its breakpoint). */
void dynlink_unplant(struct proc *p, int memfd);

#endif
