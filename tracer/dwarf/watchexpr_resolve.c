/*
 * watchexpr_resolve — a parsed -w expression to bytes in a process (see
 * watchexpr.h for the language and the contract).
 *
 * The variable is looked up in the main executable first, then in every
 * other module.  Inside one module a name must say which definition it
 * means: a global in one file and a static in another is an error that
 * lists the file.c::NAME spellings, never a silent pick.  Members, indices
 * and pointer steps are walked through the DWARF type; a pointer is read
 * in the process at that moment, and the read is remembered so reports
 * can say where the address came from (wexpr_via).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addrspace.h"
#include "util.h"
#include "watchexpr.h"

#define MAX_CHOICES 8

static void append(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p ? p : "?";
}

/* Why a variable that exists cannot be watched. */
static int refuse(const struct sym_var *v, const char *shown, char *err, size_t errlen)
{
	switch (v->kind) {
	case SYM_TLS:
		snprintf(err, errlen, "'%s' is thread-local: each thread has its "
			 "own copy, so there is nothing shared to watch", shown);
		break;
	case SYM_REGISTER:
		snprintf(err, errlen, "'%s' is a local variable of %s() kept in a "
			 "register: it has no address to watch", shown,
			 v->func ? v->func : "its function");
		break;
	case SYM_STACK:
		snprintf(err, errlen, "'%s' is a stack local of %s(): it has no fixed "
			 "address (watch it at run time with racewatch_watch())", shown,
			 v->func ? v->func : "its function");
		break;
	case SYM_OPTIMIZED_OUT:
		snprintf(err, errlen, "'%s' is optimised out: the debug information "
			 "describes it but the compiler kept no storage for it", shown);
		break;
	default:
		snprintf(err, errlen, "'%s' cannot be watched", shown);
	}
	return -1;
}

/* "unknown variable 'x' (did you mean: a, b?)", the executable's names
 * first; "'x' is a function" when it is one. */
static int unknown(const struct wexpr *e, const char *shown, struct addrspace *as,
		   char *err, size_t errlen)
{
	const char *best[3];
	int nbest = 0;

	for (int i = 0; i < as_module_count(as); i++) {
		const char *mp = as_module_path(as, i);
		struct symtab *st = i == 0 || (mp && sym_file_defines(mp, e->name) != 0) ?
				    as_module(as, i, NULL) : NULL;

		if (st && !e->func[0] && sym_is_function(st, e->name)) {
			snprintf(err, errlen, "'%s' is a function, not a variable (watch "
				 "a variable it uses, or func::NAME for its statics)", shown);
			return -1;
		}
	}
	/* Suggestions from the executable only: opening every library to
	 * find near names would index their DWARF for a typo. */
	for (int i = 0; i < 1 && i < as_module_count(as) && nbest < 3; i++) {
		const char *cand[3];
		struct symtab *st = as_module(as, i, NULL);
		int n = st ? sym_suggest(st, shown, cand, 3) : 0;

		for (int k = 0; k < n && nbest < 3; k++) {
			int dup = 0;

			for (int j = 0; j < nbest; j++)
				dup |= strcmp(best[j], cand[k]) == 0;
			if (!dup)
				best[nbest++] = cand[k];
		}
	}
	snprintf(err, errlen, "unknown variable '%s'", shown);
	if (nbest) {
		append(err, errlen, " (did you mean: ");
		for (int j = 0; j < nbest; j++)
			append(err, errlen, "%s%s", j ? ", " : "", best[j]);
		append(err, errlen, "?)");
	}
	return -1;
}

/* Does a file-scope definition belong to file (as the user wrote it)?  Its
 * unit's name or its declaration's path, whole or as a path suffix. */
static int in_file(const struct sym_var *v, const char *file)
{
	const char *paths[2] = { v->cu, v->decl_file };
	size_t n = strlen(file);

	for (int i = 0; i < 2; i++) {
		const char *p = paths[i];
		size_t k = p ? strlen(p) : 0;

		if (p && (!strcmp(p, file) || (k > n && p[k - n - 1] == '/' &&
					      !strcmp(p + k - n, file))))
			return 1;
	}
	return 0;
}

/* "'x' is ambiguous: a global in a.c (a.c:3) and a file static in b.c
 * (b.c:7); write a.c::x or b.c::x". */
static int ambiguous(const struct sym_var *c, int n, const char *shown, char *err, size_t errlen)
{
	snprintf(err, errlen, "'%s' is ambiguous:", shown);
	for (int i = 0; i < n && i < MAX_CHOICES; i++) {
		append(err, errlen, "%s %s in %s", i ? (i == n - 1 ? " and" : ",") : "",
		       c[i].external ? "a global" : "a file static",
		       base_name(c[i].cu ? c[i].cu : c[i].decl_file));
		if (c[i].decl_file)
			append(err, errlen, " (%s:%d)", base_name(c[i].decl_file), c[i].decl_line);
	}
	append(err, errlen, "; write ");
	for (int i = 0; i < n && i < MAX_CHOICES; i++)
		append(err, errlen, "%s%s::%s", i ? " or " : "",
		       base_name(c[i].cu ? c[i].cu : c[i].decl_file), shown);
	return -1;
}

/*
 * Find the variable e names.  0 with *v and *bias; 1 with *v when it exists
 * but cannot be watched (the caller refuses it); -1 after writing err
 * (ambiguous, not in that file); -2 when nothing of that name exists.
 */
/* Does module path (a file name) answer to "liby.so" (liby.so.1 too)? */
static int module_matches(const char *path, const char *q)
{
	return !strncmp(base_name(path), q, strlen(q));
}

/*
 * Across objects: the executable's definition wins (a library's global the
 * executable also defines or copy-relocates lives there); otherwise the
 * name must be defined by one library only, unless liby.so::NAME picks.
 * *mod gets the index of the object that defines it.
 */
static int lookup_one(const struct wexpr *e, const char *shown, struct addrspace *as,
		      struct sym_var *v, uint64_t *bias, int *mod, char *err, size_t errlen);

static int lookup(const struct wexpr *e, const char *shown, struct addrspace *as,
		  struct sym_var *v, uint64_t *bias, int *mod, char *err, size_t errlen)
{
	struct sym_var v2;
	uint64_t b2;
	int m2, r = lookup_one(e, shown, as, v, bias, mod, err, errlen);

	if (r != 0 || *mod == 0)
		return r;
	/* Found in a library: any other library defining it too? */
	for (int i = *mod + 1; i < as_module_count(as); i++) {
		const char *mp = as_module_path(as, i);
		struct symtab *st, *first;
		struct wexpr only = *e;

		if (mp && sym_file_defines(mp, e->name) == 0)
			continue;	/* not there: not worth indexing to be sure */
		st = as_module(as, i, NULL);
		first = as_module(as, *mod, NULL);
		if (!st || !first)
			continue;
		snprintf(only.module, sizeof(only.module), "%s", base_name(sym_path(st)));
		if (lookup_one(&only, shown, as, &v2, &b2, &m2, err, errlen) == 0 && m2 == i) {
			snprintf(err, errlen, "'%s' is defined in several objects (%s, %s): pick one, "
				 "e.g. %s::%s", shown, base_name(sym_path(first)), base_name(sym_path(st)),
				 base_name(sym_path(first)), e->name);
			return -1;
		}
	}
	return 0;
}

static int lookup_one(const struct wexpr *e, const char *shown, struct addrspace *as,
		      struct sym_var *v, uint64_t *bias, int *mod, char *err, size_t errlen)
{
	const char *func = e->func[0] ? e->func : NULL;
	struct sym_var other, c[MAX_CHOICES];
	int have_other = 0, infile = 0;

	for (int i = 0; i < as_module_count(as); i++) {
		uint64_t b = 0;
		const char *mp = as_module_path(as, i);
		struct symtab *st;
		int n;

		/* A library whose symbol tables lack the name is not opened. */
		if (i > 0 && !func && !e->module[0] && mp && sym_file_defines(mp, e->name) == 0)
			continue;
		st = as_module(as, i, &b);
		if (!st || (e->module[0] && !module_matches(sym_path(st), e->module)))
			continue;
		*mod = i;
		if (!func) {
			n = sym_find_vars(st, e->name, c, MAX_CHOICES);
			if (e->file[0]) {
				int k = 0;

				for (int j = 0; j < n && j < MAX_CHOICES; j++)
					if (in_file(&c[j], e->file))
						c[k++] = c[j];
				infile |= n > 0;
				n = k;
			}
			if (n > 1)
				return ambiguous(c, n, e->name, err, errlen);
			if (n == 1) {
				*v = c[0];
				*bias = b;
				return 0;
			}
			if (e->file[0])
				continue;
		}
		if (sym_find_var(st, func, e->name, v) < 0)
			continue;
		if (v->kind == SYM_STATIC) {
			*bias = b;
			return 0;
		}
		if (!have_other) {
			other = *v;
			have_other = 1;
		}
	}
	if (infile) {
		snprintf(err, errlen, "no variable '%s' is defined in %s", e->name, e->file);
		return -1;
	}
	if (!have_other && !func && !e->file[0] && !e->module[0]) {
		/* A local of the program's own code by its bare name: say whose
		 * (libraries' locals would only make noise: every "count"). */
		struct symtab *st = as_exe(as, NULL);

		if (st && sym_find_local(st, e->name, &other) == 0)
			have_other = 1;
	}
	if (!have_other)
		return -2;
	(void)shown;
	*v = other;
	return 1;
}

/* ---- pointer reads -------------------------------------------------------- */

static struct {
	uint64_t addr, len;
	char via[192];
} notes[64];
static int nnotes;

int wexpr_via(uint64_t addr, char *buf, size_t len)
{
	for (int i = nnotes - 1; i >= 0 && i >= nnotes - (int)ARRAY_SIZE(notes); i--) {
		const typeof(notes[0]) *n = &notes[i % ARRAY_SIZE(notes)];

		if (addr >= n->addr && addr - n->addr < n->len) {
			snprintf(buf, len, "%s", n->via);
			return 1;
		}
	}
	return 0;
}

/*
 * Read the pointer at *addr (of type t, already checked to be a pointer)
 * and step to its target.  Describes the read in via.  0, or -1 with err.
 */
static int follow(struct addrspace *as, const char *shown, uint64_t *addr,
		  char *via, size_t vlen, char *err, size_t errlen)
{
	uint64_t p = 0;

	if (as_read(as, *addr, &p, sizeof(p)) < 0) {
		snprintf(err, errlen, "'%s': cannot read the pointer at 0x%" PRIx64 ": %s",
			 shown, *addr, strerror(errno));
		return -1;
	}
	if (p == 0) {
		snprintf(err, errlen, "'%s' is NULL now: nothing to watch yet (with run, -w "
			 "is resolved when the program starts; add it later from the TUI's "
			 "watch list, or attach)", shown);
		return -1;
	}
	snprintf(via, vlen, "address read from pointer %s (0x%" PRIx64 ") when the "
		 "watch was armed", shown, p);
	*addr = p;
	return 0;
}

/* ---- resolution ----------------------------------------------------------- */

static int resolve_range(const struct wexpr *e, struct addrspace *as,
			 struct watch_target *out, char *err, size_t errlen)
{
	if (!as_mapped(as, e->addr, e->len)) {
		snprintf(err, errlen, "0x%" PRIx64 ":%" PRIu64 " is not mapped in process %d "
			 "(see /proc/%d/maps)", e->addr, e->len, (int)as_pid(as), (int)as_pid(as));
		return -1;
	}
	out->addr = e->addr;
	out->len = e->len;
	snprintf(out->name, sizeof(out->name), "0x%" PRIx64 ":%" PRIu64, e->addr, e->len);
	return 0;
}

int wexpr_resolve(const struct wexpr *e, struct addrspace *as,
		  struct watch_target *out, char *err, size_t errlen)
{
	const struct sym_type *t, *pt;
	struct sym_var v;
	uint64_t bias = 0, addr, size;
	char shown[sizeof(out->name)];
	int r, mod = 0;

	memset(out, 0, sizeof(*out));
	if (e->kind == WEXPR_RANGE)
		return resolve_range(e, as, out, err, errlen);

	shown[0] = 0;
	if (e->module[0])
		append(shown, sizeof(shown), "%s::", e->module);
	if (e->func[0] || e->file[0])
		append(shown, sizeof(shown), "%s::", e->func[0] ? e->func : e->file);
	append(shown, sizeof(shown), "%s", e->name);
	r = lookup(e, shown, as, &v, &bias, &mod, err, errlen);
	if (r == -2)
		return unknown(e, shown, as, err, errlen);
	if (r < 0)
		return -1;
	if (r > 0)
		return refuse(&v, shown, err, errlen);

	t = v.type;
	size = v.size;
	addr = bias + v.addr;
	out->marked = t ? sym_type_is_marked(t) : 0;
	for (int i = 0; i <= e->nsteps; i++) {
		const struct wexpr_step *st = &e->steps[i];
		int last = i == e->nsteps, ptr;
		char why[192];
		uint64_t o;

		if (last && !e->deref)
			break;
		if (!t) {
			snprintf(err, errlen, "'%s' has no type information (built "
				 "without -g): only the whole variable can be watched",
				 shown);
			return -1;
		}
		ptr = sym_type_pointee(t, &pt) == 0;
		if (last || st->kind == WSTEP_ARROW || (st->kind == WSTEP_INDEX && ptr)) {
			/* A pointer read: *p, p->m, p[i]. */
			if (!ptr) {
				snprintf(err, errlen, "'%s' is %s, not a pointer", shown, sym_type_name(t));
				return -1;
			}
			if (!pt || !sym_type_size(pt)) {
				snprintf(err, errlen, "'%s' points to %s: its size is unknown", shown,
					 pt ? sym_type_name(pt) : "void");
				return -1;
			}
			if (follow(as, shown, &addr, out->via, sizeof(out->via), err, errlen) < 0)
				return -1;
			t = pt;
			size = sym_type_size(t);
			if (last) {
				memmove(shown + 1, shown, strnlen(shown, sizeof(shown) - 2) + 1);
				shown[0] = '*';
				break;
			}
			if (st->kind == WSTEP_INDEX) {
				addr += st->index * size;
				append(shown, sizeof(shown), "[%" PRIu64 "]", st->index);
				continue;
			}
		}
		r = st->kind == WSTEP_INDEX ?
			sym_type_index(t, st->index, &o, &pt, why, sizeof(why)) :
			sym_type_member(t, st->member, &o, &pt, why, sizeof(why));
		if (r < 0) {
			snprintf(err, errlen, "'%s': %s", shown, why);
			return -1;
		}
		addr += o;
		t = pt;
		size = sym_type_size(t);
		out->marked |= sym_type_is_marked(t);
		if (st->kind == WSTEP_INDEX)
			append(shown, sizeof(shown), "[%" PRIu64 "]", st->index);
		else
			append(shown, sizeof(shown), "%s%s", st->kind == WSTEP_ARROW ? "->" : ".",
			       st->member);
	}
	if (size == 0) {
		snprintf(err, errlen, "'%s' has an unknown size (%s)", shown,
			 sym_type_name(t));
		return -1;
	}
	out->addr = addr;
	out->len = size;
	/* A library's variable says where it lives, as reports should. */
	if (mod > 0 && !e->module[0]) {
		struct symtab *st = as_module(as, mod, NULL);

		if (st)
			append(shown, sizeof(shown), " (%s)", base_name(sym_path(st)));
	}
	snprintf(out->name, sizeof(out->name), "%s", shown);
	if (out->via[0]) {
		typeof(notes[0]) *n = &notes[nnotes++ % ARRAY_SIZE(notes)];

		n->addr = addr;
		n->len = size;
		snprintf(n->via, sizeof(n->via), "%s", out->via);
	}
	return 0;
}
