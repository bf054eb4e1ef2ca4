/*
 * addrspace — the modules mapped into one traced process, each with its
 * load bias, so a run-time pc or address can be turned into a module and a
 * link-time address for struct symtab.  Built from /proc/PID/maps; modules
 * are opened lazily the first time a pc falls into them.
 */
#ifndef RACEWATCH_ADDRSPACE_H
#define RACEWATCH_ADDRSPACE_H

#include <sys/types.h>
#include "symbols.h"

struct addrspace;

/*
 * Map the process pid.  exe_path is the executable (usually
 * /proc/PID/exe); the main module is opened at once and errors (not ELF,
 * unreadable) come back in err with NULL.  Precondition: the process has
 * completed exec (its maps show the executable).
 */
struct addrspace *as_open(pid_t pid, const char *exe_path, char *err, size_t errlen);
void as_close(struct addrspace *as);

/* Re-read /proc/PID/maps (after dlopen, or when a pc is in no module). */
void as_refresh(struct addrspace *as);

/* The main executable and its load bias (0 for non-PIE). */
struct symtab *as_exe(struct addrspace *as, uint64_t *bias);

/*
 * The module containing run-time address addr: sets *bias (run-time minus
 * link-time) and returns its symtab, opening it if needed; refreshes the
 * maps once if addr is in no known module.  NULL if none.
 */
struct symtab *as_module_at(struct addrspace *as, uint64_t addr, uint64_t *bias);

/* Function containing run-time pc; *start is run-time.  NULL if unknown. */
const char *as_func_at(struct addrspace *as, uint64_t pc, uint64_t *start, uint64_t *size);

/* sym_frames_at() for a run-time pc; falls back to the ELF symbol name. */
int as_frames_at(struct addrspace *as, uint64_t pc, struct sym_frame *out, int max);

/*
 * The file-backed modules as last read from the maps, the main executable
 * first (index 0), then the others in address order.  as_module() opens
 * module i if needed and returns its symtab with *bias, or NULL if it is
 * not an ELF file or cannot be read.  Used to search every module for a
 * variable (watchexpr.c).
 */
int as_module_count(const struct addrspace *as);
/* The process mapped. */
pid_t as_pid(const struct addrspace *as);

/*
 * Read len bytes at run-time address addr of the process (the thread need
 * not be stopped: a racy read of a pointer is what the user asked for).
 * 0, or -1 with errno set.
 */
int as_read(struct addrspace *as, uint64_t addr, void *buf, size_t len);

/* 1 if every byte of [addr, addr + len) is mapped in the process (any
 * permission), per /proc/PID/maps; 0 if not or the maps are unreadable. */
int as_mapped(struct addrspace *as, uint64_t addr, uint64_t len);

/*
 * The fixed-address variable whose bytes hold run-time address addr, in
 * whichever module maps it: 0 and *out (out->addr link-time), or -1.
 */
int as_var_at(struct addrspace *as, uint64_t addr, struct sym_var *out);
struct symtab *as_module(struct addrspace *as, int i, uint64_t *bias);
/* Module i's path as the maps show it, without opening it; NULL past the end. */
const char *as_module_path(const struct addrspace *as, int i);

#endif
