/*
 * symbols_util — the small containers the symbol index is built from: a
 * bump arena (strings, types), growable arrays, a uint64 -> pointer hash
 * map (DIE offsets), and string interning (so names compare by pointer).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols_int.h"

/* ---- allocation helpers ---------------------------------------------- */

#define ARENA_BLK 65536

struct arena_blk {
	struct arena_blk *next;
	size_t used, size;
	int shared;		/* carved from a guard region (symbols_guard.c):
				 * unmapped with it, never free()d */
	_Alignas(16) char data[];	/* aligned: symi_alloc promises 8 */
};

void *symi_alloc(struct arena *a, size_t n)
{
	struct arena_blk *b = a->head;

	n = (n + 7) & ~(size_t)7;
	if (!b || a->sealed || b->size - b->used < n) {
		size_t sz = n > ARENA_BLK / 4 ? n : ARENA_BLK;

		int shared = symi_region_active();

		b = shared ? symi_region_alloc(sizeof(*b) + sz) : malloc(sizeof(*b) + sz);
		if (!b) {
			a->failed = 1;
			return NULL;
		}
		b->size = sz;
		b->used = 0;
		b->shared = shared;
		/* A big lone object gets its own block behind the current one,
		 * so the current block keeps serving small requests. */
		if (sz > ARENA_BLK && a->head && !a->sealed) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
		a->sealed = 0;
	}
	void *p = b->data + b->used;

	b->used += n;
	memset(p, 0, n);
	return p;
}

void symi_arena_seal(struct arena *a)
{
	/* Not a write to the current block: it may be shared with the
	 * parent (an earlier guard region). */
	a->sealed = 1;
}

void symi_arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_blk *n = a->head->next;

		if (!a->head->shared)
			free(a->head);
		a->head = n;
	}
}

int symi_in_region(const struct symtab *st, const void *p)
{
	for (size_t i = 0; st && i < st->nregions; i++) {
		const char *r = st->regions[i].p;

		if ((const char *)p >= r && (const char *)p < r + st->regions[i].len)
			return 1;
	}
	return 0;
}

void symi_vfree(const struct symtab *st, void *p)
{
	if (!symi_in_region(st, p))
		free(p);
}

void *symi_push(void **v, size_t *cap, size_t n, size_t elsz)
{
	if (n >= *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void *nv;

		while (nc <= n)
			nc *= 2;
		nv = realloc(*v, nc * elsz);
		if (!nv)
			return NULL;
		*v = nv;
		*cap = nc;
	}
	char *p = (char *)*v + n * elsz;

	memset(p, 0, elsz);
	return p;
}

static uint64_t mix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

/* Keys are stored +1 so that 0 can mean "empty slot". */
void *symi_map_get(const struct symi_map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = mix64(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == 0)
			return NULL;
		if (m->keys[i] == key + 1)
			return m->vals[i];
	}
}

int symi_map_put(struct symi_map *m, uint64_t key, void *val)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct symi_map nm = { 0 };

		nm.cap = m->cap ? m->cap * 2 : 256;
		nm.keys = calloc(nm.cap, sizeof(*nm.keys));
		nm.vals = calloc(nm.cap, sizeof(*nm.vals));
		if (!nm.keys || !nm.vals) {
			free(nm.keys);
			free(nm.vals);
			return -1;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i])
				symi_map_put(&nm, m->keys[i] - 1, m->vals[i]);
		free(m->keys);
		free(m->vals);
		*m = nm;
	}
	for (size_t i = mix64(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == 0) {
			m->keys[i] = key + 1;
			m->vals[i] = val;
			m->n++;
			return 0;
		}
		if (m->keys[i] == key + 1) {
			m->vals[i] = val;
			return 0;
		}
	}
}

void symi_map_free(struct symi_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int strset_resize(struct symtab *st, size_t nc)
{
	const char **n = calloc(nc, sizeof(*n));

	if (!n)
		return -1;
	for (size_t i = 0; i < st->strcap; i++) {
		const char *s = st->strs[i];

		if (!s)
			continue;
		size_t j = str_hash(s) & (nc - 1);

		while (n[j])
			j = (j + 1) & (nc - 1);
		n[j] = s;
	}
	symi_vfree(st, st->strs);
	st->strs = n;
	st->strcap = nc;
	return 0;
}

static int strset_grow(struct symtab *st)
{
	return strset_resize(st, st->strcap ? st->strcap * 2 : 1024);
}

int symi_strs_reserve(struct symtab *st, size_t more)
{
	size_t nc = st->strcap ? st->strcap : 1024;

	while ((st->nstrs + more + 1) * 2 > nc)
		nc *= 2;
	return nc == st->strcap ? 0 : strset_resize(st, nc);
}

const char *symi_intern(struct symtab *st, const char *s)
{
	if (!s)
		return NULL;
	if ((st->nstrs + 1) * 2 > st->strcap && strset_grow(st) < 0) {
		st->oom = 1;
		return NULL;
	}
	size_t i = str_hash(s) & (st->strcap - 1);

	for (; st->strs[i]; i = (i + 1) & (st->strcap - 1))
		if (strcmp(st->strs[i], s) == 0)
			return st->strs[i];

	size_t len = strlen(s) + 1;
	char *copy = symi_alloc(&st->arena, len);

	if (!copy) {
		st->oom = 1;
		return NULL;
	}
	memcpy(copy, s, len);
	st->strs[i] = copy;
	st->nstrs++;
	if (st->delta) {
		const char **l = symi_push((void **)&st->strlog, &st->capstrlog, st->nstrlog,
					   sizeof(*l));

		if (!l) {
			st->oom = 1;
			return NULL;
		}
		*l = copy;
		st->nstrlog++;
	}
	return copy;
}

int symi_intern_ptr(struct symtab *st, const char *p)
{
	if ((st->nstrs + 1) * 2 > st->strcap && strset_grow(st) < 0)
		return -1;
	size_t i = str_hash(p) & (st->strcap - 1);

	for (; st->strs[i]; i = (i + 1) & (st->strcap - 1))
		if (strcmp(st->strs[i], p) == 0)
			return 0;
	st->strs[i] = p;
	st->nstrs++;
	return 0;
}

const char *symi_lookup(const struct symtab *st, const char *s)
{
	if (!st->strcap)
		return NULL;
	for (size_t i = str_hash(s) & (st->strcap - 1); st->strs[i];
	     i = (i + 1) & (st->strcap - 1))
		if (strcmp(st->strs[i], s) == 0)
			return st->strs[i];
	return NULL;
}

const char *symi_internf(struct symtab *st, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return symi_intern(st, buf);
}
