/*
 * Unit tests for the static site finder (tracer/sites.h).
 *
 * 1. sites_classify() on a table of instruction bytes, each row its own
 *    cmocka test named after its assembly.  Encodings from GNU as
 *    (.intel_syntax noprefix), checked with objdump.  Every row sits at
 *    PC = 0x1000, so a RIP-relative operand [rip+0x100] of an instruction
 *    of length L is at 0x1100 + L.
 * 2. sites_find() and sites_watchable() on samples the Makefile builds:
 *      $O/samples/basic/race_rw-O2        one int `foo`, read and written
 *      $O/samples/basic/six_globals-O2    six racy globals
 *    (O=build unless the environment says otherwise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch.h"
#include "sites.h"
#include "symbols.h"

#define R	ACCESS_READ
#define W	ACCESS_WRITE
#define RMW	ACCESS_RMW
#define PC	0x1000ull
#define RIP(len) (PC + (len) + 0x100)	/* [rip+0x100] of an instruction of len bytes */

/* Bytes and their count, for table rows. */
#define B(...)	{ __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ })

struct row {
	const char *text;	/* assembly, and the test's name */
	uint8_t bytes[15];
	unsigned n;
	int nonpie;		/* classify as in a non-PIE file */
	int type, size, atomic, riprel, disp_off, flow, addr_taken;
	uint64_t ea, imm;
	int stack, tls, string, indexed, sampleable;
};

static const struct row rows[] = {
	/* RIP-relative accesses: the static sites of a PIE */
	{ "mov eax, [rip+0x100]", B(0x8b, 0x05, 0x00, 0x01, 0x00, 0x00),
	  .type = R, .size = 4, .riprel = 1, .disp_off = 2, .ea = RIP(6), .sampleable = 1 },
	{ "mov [rip+0x100], eax", B(0x89, 0x05, 0x00, 0x01, 0x00, 0x00),
	  .type = W, .size = 4, .riprel = 1, .disp_off = 2, .ea = RIP(6), .sampleable = 1 },
	{ "add dword ptr [rip+0x100], 1", B(0x83, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01),
	  .type = RMW, .size = 4, .riprel = 1, .disp_off = 2, .ea = RIP(7), .sampleable = 1 },
	{ "lock xadd [rip+0x100], eax", B(0xf0, 0x0f, 0xc1, 0x05, 0x00, 0x01, 0x00, 0x00),
	  .type = RMW, .size = 4, .atomic = 1, .riprel = 1, .disp_off = 4, .ea = RIP(8),
	  .sampleable = 1 },
	{ "lock cmpxchg [rip+0x100], ecx", B(0xf0, 0x0f, 0xb1, 0x0d, 0x00, 0x01, 0x00, 0x00),
	  .type = RMW, .size = 4, .atomic = 1, .riprel = 1, .disp_off = 4, .ea = RIP(8),
	  .sampleable = 1 },
	{ "xchg [rip+0x100], eax (atomic without lock)", B(0x87, 0x05, 0x00, 0x01, 0x00, 0x00),
	  .type = RMW, .size = 4, .atomic = 1, .riprel = 1, .disp_off = 2, .ea = RIP(6),
	  .sampleable = 1 },
	{ "movups [rip+0x100], xmm0 (16-byte store)", B(0x0f, 0x11, 0x05, 0x00, 0x01, 0x00, 0x00),
	  .type = W, .size = 16, .riprel = 1, .disp_off = 3, .ea = RIP(7), .sampleable = 1 },
	{ "push qword ptr [rip+0x100] (the variable, not the stack slot)",
	  B(0xff, 0x35, 0x00, 0x01, 0x00, 0x00),
	  .type = R, .size = 8, .riprel = 1, .disp_off = 2, .ea = RIP(6), .sampleable = 1 },

	/* addresses computed, not accessed */
	{ "lea rax, [rip+0x100]", B(0x48, 0x8d, 0x05, 0x00, 0x01, 0x00, 0x00),
	  .riprel = 1, .disp_off = 3, .addr_taken = 1, .ea = RIP(7) },
	{ "lea rax, [rsp+8] (no static address)", B(0x48, 0x8d, 0x44, 0x24, 0x08), .nonpie = 0 },
	{ "mov edi, 0x404040 (non-PIE address)", B(0xbf, 0x40, 0x40, 0x40, 0x00), .nonpie = 1,
	  .addr_taken = 1, .ea = 0x404040, .imm = 0x404040 },
	{ "mov edi, 0x404040 (PIE: just a number)", B(0xbf, 0x40, 0x40, 0x40, 0x00), .nonpie = 0 },
	{ "mov eax, 5 (too small for an address)", B(0xb8, 0x05, 0x00, 0x00, 0x00), .nonpie = 1 },
	{ "mov qword ptr [rip+0x100], 0x404040 (non-PIE: store of an address)",
	  B(0x48, 0xc7, 0x05, 0x00, 0x01, 0x00, 0x00, 0x40, 0x40, 0x40, 0x00), .nonpie = 1,
	  .type = W, .size = 8, .riprel = 1, .disp_off = 3, .ea = RIP(11), .imm = 0x404040,
	  .sampleable = 1 },

	/* absolute and indexed operands: static only in non-PIE */
	{ "mov eax, [0x404040] (non-PIE)", B(0x8b, 0x04, 0x25, 0x40, 0x40, 0x40, 0x00),
	  .nonpie = 1, .type = R, .size = 4, .ea = 0x404040, .sampleable = 1 },
	{ "movabs eax, [0x404040] (non-PIE, moffs)",
	  B(0xa1, 0x40, 0x40, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00), .nonpie = 1,
	  .type = R, .size = 4, .ea = 0x404040, .sampleable = 1 },
	{ "mov eax, [rax*4+0x404040] (non-PIE, indexed)",
	  B(0x8b, 0x04, 0x85, 0x40, 0x40, 0x40, 0x00), .nonpie = 1,
	  .type = R, .size = 4, .ea = 0x404040, .indexed = 1, .sampleable = 1 },
	{ "mov eax, [rax*4+0x404040] (PIE: not static)",
	  B(0x8b, 0x04, 0x85, 0x40, 0x40, 0x40, 0x00), .type = R, .size = 4, .sampleable = 1 },
	{ "mov rax, [rbx]", B(0x48, 0x8b, 0x03), .type = R, .size = 8, .sampleable = 1 },

	/* accesses SITES_ALL_MEM leaves out */
	{ "mov [rsp+8], eax (stack)", B(0x89, 0x44, 0x24, 0x08),
	  .type = W, .size = 4, .stack = 1 },
	{ "mov [rbp-4], eax (stack)", B(0x89, 0x45, 0xfc), .type = W, .size = 4, .stack = 1 },
	{ "mov eax, fs:[0x10] (TLS)", B(0x64, 0x8b, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00),
	  .nonpie = 1, .type = R, .size = 4, .tls = 1 },
	{ "movsb", B(0xa4), .type = W, .size = 1, .string = 1 },
	{ "rep stosq", B(0xf3, 0x48, 0xab), .type = W, .size = 8, .string = 1 },

	/* control flow: must run in place */
	{ "call qword ptr [rip+0x100]", B(0xff, 0x15, 0x00, 0x01, 0x00, 0x00),
	  .type = R, .size = 8, .riprel = 1, .disp_off = 2, .ea = RIP(6), .flow = 1 },
	{ "jmp rel32", B(0xe9, 0x00, 0x01, 0x00, 0x00), .flow = 1 },
	{ "ret", B(0xc3), .type = R, .size = 8, .stack = 1, .flow = 1 },
	{ "syscall", B(0x0f, 0x05), .flow = 1 },
	{ "int3", B(0xcc), .flow = 1 },

	/* memory operands that are not accesses */
	{ "nop dword ptr [rax+rax]", B(0x0f, 0x1f, 0x04, 0x00), .nonpie = 0 },
	{ "prefetcht0 [rip+0x100]", B(0x0f, 0x18, 0x0d, 0x00, 0x01, 0x00, 0x00), .nonpie = 0 },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void test_row(void **state)
{
	const struct row *r = *state;
	struct site s;

	assert_int_equal(sites_classify(r->bytes, r->n, PC, !r->nonpie, &s), r->n);
	assert_int_equal(s.pc, PC);
	assert_int_equal(s.len, r->n);
	assert_memory_equal(s.bytes, r->bytes, r->n);
	assert_int_equal(s.type, r->type);
	assert_int_equal(s.size, r->size);
	assert_int_equal(s.atomic, r->atomic);
	assert_int_equal(s.riprel, r->riprel);
	assert_int_equal(s.disp_off, r->riprel ? r->disp_off : -1);
	assert_int_equal(s.flow, r->flow);
	assert_int_equal(s.addr_taken, r->addr_taken);
	assert_int_equal(s.ea, r->ea);
	assert_int_equal(s.imm, r->imm);
	assert_int_equal(s.stack, r->stack);
	assert_int_equal(s.tls, r->tls);
	assert_int_equal(s.string, r->string);
	assert_int_equal(s.indexed, r->indexed);
	assert_int_equal(s.sampleable, r->sampleable);
	assert_int_equal(s.range, -1);
	if (r->riprel) {	/* the displacement is where the copy must patch it */
		int32_t d;

		memcpy(&d, s.bytes + s.disp_off, 4);
		assert_int_equal(d, 0x100);
	}
}

/* Undecodable bytes and a truncated instruction give 0; sites_step agrees
 * with sites_classify on every row it chooses to classify. */
static void test_classify_edges(void **state)
{
	static const uint8_t bad[] = { 0x06 };	/* push es: invalid in 64-bit mode */
	static const uint8_t cut[] = { 0x8b, 0x05, 0x00 };	/* riprel mov, 3 of 6 bytes */
	struct site s, t;
	int classified;

	(void)state;
	assert_int_equal(sites_classify(bad, sizeof(bad), PC, 1, &s), 0);
	assert_int_equal(sites_classify(cut, sizeof(cut), PC, 1, &s), 0);
	for (size_t i = 0; i < NROWS; i++) {
		unsigned len = sites_step(rows[i].bytes, rows[i].n, PC, !rows[i].nonpie, 0,
					  &t, &classified);

		assert_int_equal(len, rows[i].n);
		sites_classify(rows[i].bytes, rows[i].n, PC, !rows[i].nonpie, &s);
		if (classified)
			assert_memory_equal(&s, &t, sizeof(s));
		else		/* skipped: it could not have been a site */
			assert_true(!(s.ea && (s.type || s.addr_taken)) && !s.imm);
		len = sites_step(rows[i].bytes, rows[i].n, PC, !rows[i].nonpie, SITES_ALL_MEM,
				 &t, &classified);
		assert_int_equal(len, rows[i].n);
		if (s.sampleable)
			assert_true(classified);
	}
}

static char race_rw[512], six[512];

static int setup(void **state)
{
	const char *o = getenv("O");

	(void)state;
	if (!o || !*o)
		o = "build";
	snprintf(race_rw, sizeof(race_rw), "%s/samples/basic/race_rw-O2", o);
	snprintf(six, sizeof(six), "%s/samples/basic/six_globals-O2", o);
	return 0;
}

/* The file's own bytes at link-time address pc (through the PT_LOADs). */
static void assert_file_bytes(const struct symtab *st, FILE *f, const struct site *s)
{
	const struct sym_segment *seg;
	size_t nseg = sym_segments(st, &seg);
	uint8_t buf[15];

	for (size_t i = 0; i < nseg; i++) {
		if (s->pc < seg[i].vaddr || s->pc - seg[i].vaddr >= seg[i].filesz)
			continue;
		assert_int_equal(fseek(f, (long)(seg[i].offset + s->pc - seg[i].vaddr), SEEK_SET), 0);
		assert_int_equal(fread(buf, 1, s->len, f), s->len);
		assert_memory_equal(buf, s->bytes, s->len);
		return;
	}
	fail_msg("site 0x%llx is in no PT_LOAD", (unsigned long long)s->pc);
}

static void test_find_foo(void **state)
{
	char err[256];
	struct symtab *st = sym_open(race_rw, err, sizeof(err));
	struct site_range r[2] = { { 0, 0 } };
	struct site *s;
	size_t n, reads = 0, writes = 0;
	struct sym_var v;
	FILE *f;

	(void)state;
	assert_non_null(st);
	assert_int_equal(sym_find_var(st, NULL, "foo", &v), 0);
	r[1] = (struct site_range){ v.addr, v.size };	/* index 1: r[0] is empty */
	assert_int_equal(sites_find(race_rw, r, 2, 0, &s, &n, err, sizeof(err)), 0);
	assert_true(n > 0);
	assert_non_null(f = fopen(race_rw, "rb"));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s[i].range, 1);
		assert_true(s[i].riprel);
		assert_int_equal(s[i].addr_taken, 0);
		assert_true(s[i].ea < v.addr + v.size && v.addr < s[i].ea + s[i].size);
		assert_true(!i || s[i - 1].pc < s[i].pc);
		reads += (s[i].type & ACCESS_READ) != 0;
		writes += (s[i].type & ACCESS_WRITE) != 0;
		assert_file_bytes(st, f, &s[i]);
	}
	assert_true(reads > 0);
	assert_true(writes > 0);
	fclose(f);
	free(s);

	/* Every sampleable access of the program, none on the stack. */
	assert_int_equal(sites_find(race_rw, NULL, 0, SITES_ALL_MEM, &s, &n, err, sizeof(err)), 0);
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s[i].range, -1);
		assert_true(s[i].sampleable && s[i].type && !s[i].stack && !s[i].tls &&
			    !s[i].flow && !s[i].string);
	}
	free(s);
	sym_close(st);
}

static void test_find_errors(void **state)
{
	char err[256];
	struct site *s = (struct site *)1;
	size_t n = 1;

	(void)state;
	assert_int_equal(sites_find("/nonexistent/prog", NULL, 0, 0, &s, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));
	assert_null(s);
	assert_int_equal(n, 0);
	assert_int_equal(sites_find("/etc/passwd", NULL, 0, 0, &s, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an ELF file"));
}

/* The six globals are watchable, each with reads and writes; junk is not. */
static void test_watchable_six(void **state)
{
	static const char *const want[] = { "g_count", "g_flags", "g_pos", "g_ratio",
					    "g_state", "g_total" };
	char err[256];
	struct symtab *st = sym_open(six, err, sizeof(err));
	struct sym_var *v;
	struct site_range r[6];
	struct site *s;
	size_t n, ns;
	int found = 0;

	(void)state;
	assert_non_null(st);
	assert_int_equal(sites_watchable(st, &v, &n, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++) {
		assert_true(!i || strcmp(v[i - 1].name, v[i].name) <= 0);
		assert_true(strcmp(v[i].name, "completed.0") && strcmp(v[i].name, "__dso_handle") &&
			    strcmp(v[i].name, "stderr") && strcmp(v[i].name, "_IO_stdin_used") &&
			    strcmp(v[i].name, "racewatch_registry"));
		for (int k = 0; k < 6; k++) {
			if (strcmp(v[i].name, want[k]))
				continue;
			r[k] = (struct site_range){ v[i].addr, v[i].size };
			assert_non_null(strstr(v[i].decl_file, "six_globals.c"));
			assert_true(v[i].decl_line > 0);
			found++;
		}
	}
	assert_int_equal(found, 6);
	assert_int_equal(sites_find(six, r, 6, 0, &s, &ns, err, sizeof(err)), 0);
	for (int k = 0; k < 6; k++) {
		int rd = 0, wr = 0;

		for (size_t i = 0; i < ns; i++) {
			if (s[i].range != k || s[i].addr_taken)
				continue;
			rd |= (s[i].type & ACCESS_READ) != 0;
			wr |= (s[i].type & ACCESS_WRITE) != 0;
		}
		assert_true(rd && wr);
	}
	free(s);
	free(v);
	sym_close(st);
}

int main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_classify_edges),
		cmocka_unit_test(test_find_foo),
		cmocka_unit_test(test_find_errors),
		cmocka_unit_test(test_watchable_six),
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *tests = calloc(NROWS + nfixed, sizeof(*tests));
	int rc;

	if (!tests)
		return 1;
	for (size_t i = 0; i < NROWS; i++) {
		tests[i].name = rows[i].text;
		tests[i].test_func = test_row;
		tests[i].initial_state = (void *)&rows[i];
	}
	memcpy(tests + NROWS, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("sites", tests, NROWS + nfixed, setup, NULL);
	free(tests);
	return rc;
}
