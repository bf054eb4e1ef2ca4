/*
 * Unit tests for tracer/arch/x86/decode.c (arch_decode_one, arch_find_access).
 *
 * Encodings were produced with GNU as (.intel_syntax noprefix) and checked
 * with objdump; the assembly is next to each byte string.  Every table row
 * is its own cmocka test, named after its assembly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch.h"

#define NONE	0		/* "touches no memory": arch_decode_one returns -1 */
#define R	ACCESS_READ
#define W	ACCESS_WRITE
#define RMW	ACCESS_RMW

/* Bytes and their count, for table rows. */
#define B(...)	{ __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ })

struct row {
	const char *text;	/* assembly, and the test's name */
	uint8_t bytes[15];
	unsigned n;
	int type;		/* enum access_type, or NONE */
	unsigned size;
	int atomic;
	int rep;		/* arch_decode_one: REP-prefixed string op */
};

static const struct row rows[] = {
	/* plain loads and stores, 1/2/4/8 bytes */
	{ "mov al, [rbx]",		B(0x8a, 0x03),			R, 1, 0, 0 },
	{ "mov ax, [rbx]",		B(0x66, 0x8b, 0x03),		R, 2, 0, 0 },
	{ "mov eax, [rbx]",		B(0x8b, 0x03),			R, 4, 0, 0 },
	{ "mov rax, [rbx]",		B(0x48, 0x8b, 0x03),		R, 8, 0, 0 },
	{ "mov [rbx], cl",		B(0x88, 0x0b),			W, 1, 0, 0 },
	{ "mov [rbx], cx",		B(0x66, 0x89, 0x0b),		W, 2, 0, 0 },
	{ "mov [rbx], ecx",		B(0x89, 0x0b),			W, 4, 0, 0 },
	{ "mov [rbx], rcx",		B(0x48, 0x89, 0x0b),		W, 8, 0, 0 },
	{ "mov eax, [rip+0x100]",	B(0x8b, 0x05, 0x00, 0x01, 0x00, 0x00), R, 4, 0, 0 },
	{ "mov [rip-0x20], rax",	B(0x48, 0x89, 0x05, 0xe0, 0xff, 0xff, 0xff), W, 8, 0, 0 },
	{ "cmp byte ptr [rbx+rcx*4+0x10], 7", B(0x80, 0x7c, 0x8b, 0x10, 0x07), R, 1, 0, 0 },
	{ "mov eax, fs:[0x10]",		B(0x64, 0x8b, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00), R, 4, 0, 0 },
	{ "mov eax, [ebx]",		B(0x67, 0x8b, 0x03),		R, 4, 0, 0 },
	{ "movabs eax, [0x1122334455667788]",
	  B(0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11),	R, 4, 0, 0 },

	/* read-modify-write */
	{ "add [rbx], eax",		B(0x01, 0x03),			RMW, 4, 0, 0 },
	{ "inc dword ptr [rbx]",	B(0xff, 0x03),			RMW, 4, 0, 0 },
	{ "and dword ptr [rcx], 0xfffffffe", B(0x83, 0x21, 0xfe),	RMW, 4, 0, 0 },
	{ "cmpxchg [rbx], ecx",		B(0x0f, 0xb1, 0x0b),		RMW, 4, 0, 0 },
	{ "bts dword ptr [rbx], 3",	B(0x0f, 0xba, 0x2b, 0x03),	RMW, 4, 0, 0 },
	{ "btr qword ptr [rbx], rax",	B(0x48, 0x0f, 0xb3, 0x03),	RMW, 8, 0, 0 },

	/* atomics: LOCK prefix, or XCHG with memory */
	{ "lock add [rbx], eax",	B(0xf0, 0x01, 0x03),		RMW, 4, 1, 0 },
	{ "lock inc dword ptr [rbx]",	B(0xf0, 0xff, 0x03),		RMW, 4, 1, 0 },
	{ "lock xadd [rbx], eax",	B(0xf0, 0x0f, 0xc1, 0x03),	RMW, 4, 1, 0 },
	{ "lock cmpxchg [rbx], ecx",	B(0xf0, 0x0f, 0xb1, 0x0b),	RMW, 4, 1, 0 },
	{ "lock cmpxchg16b [rbx]",	B(0xf0, 0x48, 0x0f, 0xc7, 0x0b), RMW, 16, 1, 0 },
	{ "xchg [rbx], eax",		B(0x87, 0x03),			RMW, 4, 1, 0 },
	{ "xchg [rbx], al",		B(0x86, 0x03),			RMW, 1, 1, 0 },

	/* widening loads */
	{ "movzx eax, byte ptr [rbx]",	B(0x0f, 0xb6, 0x03),		R, 1, 0, 0 },
	{ "movzx eax, word ptr [rbx]",	B(0x0f, 0xb7, 0x03),		R, 2, 0, 0 },
	{ "movsx rax, word ptr [rbx]",	B(0x48, 0x0f, 0xbf, 0x03),	R, 2, 0, 0 },
	{ "movsxd rax, dword ptr [rbx]", B(0x48, 0x63, 0x03),		R, 4, 0, 0 },

	/* SSE / AVX */
	{ "movss xmm0, [rbx]",		B(0xf3, 0x0f, 0x10, 0x03),	R, 4, 0, 0 },
	{ "movss [rbx], xmm0",		B(0xf3, 0x0f, 0x11, 0x03),	W, 4, 0, 0 },
	{ "movsd xmm0, [rbx]",		B(0xf2, 0x0f, 0x10, 0x03),	R, 8, 0, 0 },
	{ "movsd [rbx], xmm1",		B(0xf2, 0x0f, 0x11, 0x0b),	W, 8, 0, 0 },
	{ "movdqu xmm0, [rbx]",		B(0xf3, 0x0f, 0x6f, 0x03),	R, 16, 0, 0 },
	{ "movdqu [rbx], xmm0",		B(0xf3, 0x0f, 0x7f, 0x03),	W, 16, 0, 0 },
	{ "movaps xmm0, [rbx]",		B(0x0f, 0x28, 0x03),		R, 16, 0, 0 },
	{ "movaps [rbx], xmm0",		B(0x0f, 0x29, 0x03),		W, 16, 0, 0 },
	{ "vmovdqu ymm0, [rbx]",	B(0xc5, 0xfe, 0x6f, 0x03),	R, 32, 0, 0 },
	{ "vmovdqu [rbx], ymm0",	B(0xc5, 0xfe, 0x7f, 0x03),	W, 32, 0, 0 },
	/* gather: one element per access, address not computable (VSIB) */
	{ "vpgatherdd xmm0, [rax+xmm1*4], xmm2",
	  B(0xc4, 0xe2, 0x69, 0x90, 0x04, 0x88),			R, 4, 0, 0 },

	/* stack: explicit operand preferred over the hidden stack slot */
	{ "push qword ptr [rbx]",	B(0xff, 0x33),			R, 8, 0, 0 },
	{ "pop qword ptr [rbx]",	B(0x8f, 0x03),			W, 8, 0, 0 },
	{ "push rax",			B(0x50),			W, 8, 0, 0 },
	{ "pop rax",			B(0x58),			R, 8, 0, 0 },
	{ "call qword ptr [rbx]",	B(0xff, 0x13),			R, 8, 0, 0 },
	{ "ret",			B(0xc3),			R, 8, 0, 0 },
	{ "leave",			B(0xc9),			R, 8, 0, 0 },

	/* string ops: destination [rdi] preferred without a watched range */
	{ "rep movsb",			B(0xf3, 0xa4),			W, 1, 0, 1 },
	{ "rep stosq",			B(0xf3, 0x48, 0xab),		W, 8, 0, 1 },
	{ "movsb",			B(0xa4),			W, 1, 0, 0 },
	{ "lodsd",			B(0xad),			R, 4, 0, 0 },
	{ "repe cmpsb",			B(0xf3, 0xa6),			R, 1, 0, 1 },

	/* conditional and flag-setting accesses */
	{ "cmove eax, [rbx]",		B(0x0f, 0x44, 0x03),		R, 4, 0, 0 },
	{ "sete byte ptr [rbx]",	B(0x0f, 0x94, 0x03),		W, 1, 0, 0 },
	{ "bt qword ptr [rbx], rax",	B(0x48, 0x0f, 0xa3, 0x03),	R, 8, 0, 0 },
	{ "test dword ptr [rbx], 0x10",	B(0xf7, 0x03, 0x10, 0x00, 0x00, 0x00), R, 4, 0, 0 },
	{ "cmp [rbx], eax",		B(0x39, 0x03),			R, 4, 0, 0 },

	/* no memory access */
	{ "lea rax, [rbx+8]",		B(0x48, 0x8d, 0x43, 0x08),	NONE, 0, 0, 0 },
	{ "nop dword ptr [rax+rax]",	B(0x0f, 0x1f, 0x04, 0x00),	NONE, 0, 0, 0 },
	{ "prefetcht0 [rbx]",		B(0x0f, 0x18, 0x0b),		NONE, 0, 0, 0 },
	{ "nop",			B(0x90),			NONE, 0, 0, 0 },
	{ "mov eax, ebx",		B(0x89, 0xd8),			NONE, 0, 0, 0 },
	{ "(truncated) 8b",		B(0x8b),			NONE, 0, 0, 0 },
	{ "(invalid) ff ff",		B(0xff, 0xff),			NONE, 0, 0, 0 },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))
#define PC 0x401000ull

static void test_row(void **state)
{
	const struct row *r = *state;
	struct access_insn a;
	uint8_t buf[32];
	int rc;

	/*
	 * Pad with int3 (0xcc) so the decoder sees more bytes than the
	 * instruction: it must stop at the instruction's own length.  The
	 * truncated/invalid rows get exactly their bytes.
	 */
	memset(buf, 0xcc, sizeof(buf));
	memcpy(buf, r->bytes, r->n);
	rc = arch_decode_one(buf, r->type == NONE ? r->n : sizeof(buf), PC, &a);
	if (r->type == NONE) {
		assert_int_equal(rc, -1);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(a.pc, PC);
	assert_int_equal(a.len, r->n);
	assert_int_equal(a.type, r->type);
	assert_int_equal(a.size, r->size);
	assert_int_equal(a.atomic, r->atomic);
	assert_int_equal(a.rep, r->rep);
	assert_true(a.text[0] != '\0');
}

/* RIP-relative and absolute addresses need no registers. */
static void test_decode_ea(void **state)
{
	/* mov eax, [rip+0x100] */
	static const uint8_t ld[] = { 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00 };
	/* mov [rip-0x20], rax */
	static const uint8_t st[] = { 0x48, 0x89, 0x05, 0xe0, 0xff, 0xff, 0xff };
	/* movabs eax, [0x1122334455667788] */
	static const uint8_t abs[] = { 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
	/* mov eax, [rbx]: needs registers, so no address */
	static const uint8_t reg[] = { 0x8b, 0x03 };
	/* mov eax, fs:[0x10]: needs fs_base */
	static const uint8_t tls[] = { 0x64, 0x8b, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00 };
	struct access_insn a;

	(void)state;
	assert_int_equal(arch_decode_one(ld, sizeof(ld), PC, &a), 0);
	assert_int_equal(a.ea, PC + 6 + 0x100);
	assert_int_equal(arch_decode_one(st, sizeof(st), PC, &a), 0);
	assert_int_equal(a.ea, PC + 7 - 0x20);
	assert_int_equal(arch_decode_one(abs, sizeof(abs), PC, &a), 0);
	assert_int_equal(a.ea, 0x1122334455667788ull);
	assert_int_equal(arch_decode_one(reg, sizeof(reg), PC, &a), 0);
	assert_int_equal(a.ea, 0);
	assert_int_equal(arch_decode_one(tls, sizeof(tls), PC, &a), 0);
	assert_int_equal(a.ea, 0);
}

static void test_decode_text(void **state)
{
	static const uint8_t xadd[] = { 0xf0, 0x0f, 0xc1, 0x03 };	/* lock xadd [rbx], eax */
	struct access_insn a;

	(void)state;
	assert_int_equal(arch_decode_one(xadd, sizeof(xadd), PC, &a), 0);
	assert_string_equal(a.text, "lock xadd [rbx], eax");
	assert_int_equal(arch_decode_one(xadd, 0, PC, &a), -1);
}

/* ---- arch_find_access ------------------------------------------------ */

#define BASE 0x555555554000ull

/* A function body, all memory-accessing instructions. */
static const uint8_t fwd_code[] = {
	0x8b, 0x15, 0x00, 0x20, 0x00, 0x00,		/* 00 mov edx, [rip+0x2000]   */
	0x83, 0x21, 0xfe,				/* 06 and dword [rcx], -2     */
	0x48, 0x89, 0x7d, 0xf8,				/* 09 mov [rbp-8], rdi        */
	0xc7, 0x43, 0x08, 0x00, 0x00, 0x00, 0x00,	/* 0d mov dword [rbx+8], 0    */
	0x48, 0x8b, 0x03,				/* 14 mov rax, [rbx]          */
	0xf0, 0x0f, 0xc1, 0x03,				/* 17 lock xadd [rbx], eax    */
	0x0f, 0xb6, 0x03,				/* 1b movzx eax, byte [rbx]   */
	0xc9,						/* 1e leave                   */
	0xc3,						/* 1f ret                     */
};

static const struct {
	unsigned start, len;
	int type;
	unsigned size;
	int atomic;
} fwd_expect[] = {
	{ 0x00, 6, R, 4, 0 },
	{ 0x06, 3, RMW, 4, 0 },
	{ 0x09, 4, W, 8, 0 },
	{ 0x0d, 7, W, 4, 0 },
	{ 0x14, 3, R, 8, 0 },
	{ 0x17, 4, RMW, 4, 1 },
	{ 0x1b, 3, R, 1, 0 },
	{ 0x1e, 1, R, 8, 0 },
};

static struct user_regs_struct some_regs(void)
{
	struct user_regs_struct r;

	memset(&r, 0, sizeof(r));
	r.rax = 0x5000;
	r.rbx = 0x1000;
	r.rcx = 0x2000;
	r.rbp = 0x7fff0010;
	r.rsp = 0x7fff0000;
	r.eflags = 0x202;
	return r;
}

/* (a) Linear decode from func_start: every boundary names the instruction before it. */
static void test_find_forward(void **state)
{
	struct user_regs_struct regs = some_regs();
	struct access_insn a;

	(void)state;
	for (size_t i = 0; i < sizeof(fwd_expect) / sizeof(fwd_expect[0]); i++) {
		uint64_t trap = BASE + fwd_expect[i].start + fwd_expect[i].len;

		/* watch somewhere nothing touches: only decoding decides */
		assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE, trap, BASE,
						  0xdead0000, 8, &regs, &a), 0);
		assert_int_equal(a.pc, BASE + fwd_expect[i].start);
		assert_int_equal(a.len, fwd_expect[i].len);
		assert_int_equal(a.type, fwd_expect[i].type);
		assert_int_equal(a.size, fwd_expect[i].size);
		assert_int_equal(a.atomic, fwd_expect[i].atomic);
		assert_int_equal(a.rep, 0);
	}

	/* addresses: rip-relative from pc, [rcx], [rbp-8] */
	assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE, BASE + 6, BASE,
					  0, 0, &regs, &a), 0);
	assert_int_equal(a.ea, BASE + 6 + 0x2000);
	assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE, BASE + 9, BASE,
					  0, 0, &regs, &a), 0);
	assert_int_equal(a.ea, 0x2000);
	assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE, BASE + 0x0d, BASE,
					  0, 0, &regs, &a), 0);
	assert_int_equal(a.ea, 0x7fff0008);
	/* leave read [old rbp] = new rsp - 8 */
	assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE, BASE + 0x1f, BASE,
					  0, 0, &regs, &a), 0);
	assert_int_equal(a.ea, 0x7fff0000 - 8);
}

/*
 * "mov dword [rbx+8], 0" ends in "00 00", itself "add [rax], al".  With the
 * watch on [rax] a backward guess would take the suffix; the forward decode
 * knows the boundaries and must not.
 */
static void test_find_forward_beats_evidence(void **state)
{
	struct user_regs_struct regs = some_regs();
	struct access_insn a;

	(void)state;
	assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE, BASE + 0x14, BASE,
					  0x5000, 1, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 0x0d);
	assert_int_equal(a.len, 7);
	/* without func_start the address evidence decides */
	assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE, BASE + 0x14, 0,
					  0x5000, 1, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 0x12);
	assert_int_equal(a.len, 2);
	assert_int_equal(a.type, RMW);
	assert_int_equal(a.ea, 0x5000);
}

/*
 * A func_start whose linear decode lands on trap_pc fixes the boundaries,
 * even when the instruction there touches no memory: no backward guess.
 */
static void test_find_landed_without_memory(void **state)
{
	static const uint8_t sys[] = {
		0x48, 0x8b, 0x03,	/* mov rax, [rbx] */
		0x0f, 0x05,		/* syscall: the kernel touched the watch */
	};
	struct user_regs_struct regs = some_regs();
	struct access_insn a;

	(void)state;
	assert_int_equal(arch_find_access(sys, sizeof(sys), BASE, BASE + 5, BASE,
					  0, 0, &regs, &a), -1);
	/* from BASE+1, "15 00 20 00 00" is adc eax, 0x2000 and lands on BASE+6 */
	assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE, BASE + 6, BASE + 1,
					  BASE + 0x2006, 4, &regs, &a), -1);
	/* a func_start that never lands (BASE+3: "20 00", then "00" straddles) falls back */
	assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE, BASE + 6, BASE + 3,
					  BASE + 0x2006, 4, &regs, &a), 0);
	assert_int_equal(a.pc, BASE);
	assert_int_equal(a.len, 6);
	assert_int_equal(a.ea, BASE + 0x2006);
	/* so does a func_start outside the buffer */
	assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE, BASE + 6, BASE - 64,
					  BASE + 0x2006, 4, &regs, &a), 0);
	assert_int_equal(a.pc, BASE);
}

static const uint8_t amb_code[] = {
	0x48, 0x8b, 0x4c, 0x24, 0x08,			/* 00 mov rcx, [rsp+8]         */
	0x83, 0xc0, 0x01,				/* 05 add eax, 1               */
	0x89, 0xd8,					/* 08 mov eax, ebx             */
	0xc7, 0x43, 0x08, 0x00, 0x00, 0x00, 0x00,	/* 0a mov dword [rbx+8], 0     */
};							/* 11 <- trap; 0f: add [rax], al */

/* (c) Backward: the suffix "add [rax], al" also ends at trap_pc. */
static void test_find_backward_ambiguous(void **state)
{
	struct user_regs_struct regs = some_regs();
	uint64_t trap = BASE + sizeof(amb_code);
	struct access_insn a;

	(void)state;
	/* address evidence for the long one */
	assert_int_equal(arch_find_access(amb_code, sizeof(amb_code), BASE, trap, 0,
					  0x1008, 4, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 0x0a);
	assert_int_equal(a.len, 7);
	assert_int_equal(a.type, W);
	assert_int_equal(a.size, 4);
	assert_int_equal(a.ea, 0x1008);

	/* address evidence for the suffix */
	assert_int_equal(arch_find_access(amb_code, sizeof(amb_code), BASE, trap, 0,
					  0x5000, 1, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 0x0f);
	assert_int_equal(a.len, 2);

	/* no evidence either way (both outside, or no registers): the decode from further back */
	assert_int_equal(arch_find_access(amb_code, sizeof(amb_code), BASE, trap, 0,
					  0x9000, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 0x0a);
	assert_int_equal(arch_find_access(amb_code, sizeof(amb_code), BASE, trap, 0,
					  0x1008, 4, NULL, &a), 0);
	assert_int_equal(a.pc, BASE + 0x0a);
	assert_int_equal(a.ea, 0);
}

/*
 * Reach beats "prefer the longer one": the tail "8b 84" of an immediate
 * plus the true last instruction decode as a longer load that also ends at
 * trap_pc.  Without registers there is no address evidence.
 */
static void test_find_backward_reach(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x4c, 0x24, 0x08,	/* 00 mov rcx, [rsp+8]      */
		0x83, 0xc0, 0x01,		/* 05 add eax, 1            */
		0xb8, 0x00, 0x00, 0x8b, 0x84,	/* 08 mov eax, 0x848b0000   */
		0x48, 0x8b, 0x4c, 0x24, 0x08,	/* 0d mov rcx, [rsp+8]      */
	};	/* 0b: mov eax, [rax+rcx*2+0x8244c8b] also ends at 0x12 */
	struct access_insn a;

	(void)state;
	assert_int_equal(arch_find_access(code, sizeof(code), BASE, BASE + sizeof(code), 0,
					  0, 0, NULL, &a), 0);
	assert_int_equal(a.pc, BASE + 0x0d);
	assert_int_equal(a.len, 5);
	assert_int_equal(a.type, R);
	assert_int_equal(a.size, 8);
}

/* A suffix that is RET cannot end at trap_pc: RIP would be elsewhere. */
static void test_find_backward_implausible(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x4c, 0x24, 0x08,			/* mov rcx, [rsp+8] */
		0x83, 0xc0, 0x01,				/* add eax, 1 */
		0xc7, 0x43, 0x08, 0x00, 0x00, 0x00, 0xc3,	/* mov dword [rbx+8], 0xc3000000 */
	};
	struct user_regs_struct regs = some_regs();
	struct access_insn a;

	(void)state;
	/* ret's stack slot [rsp-8] overlaps the watch; the mov's address does not */
	assert_int_equal(arch_find_access(code, sizeof(code), BASE, BASE + sizeof(code), 0,
					  regs.rsp - 8, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 8);
	assert_int_equal(a.len, 7);
	/* alone it is no answer at all, forward or backward */
	assert_int_equal(arch_find_access(code + 14, 1, BASE + 14, BASE + 15, BASE + 14,
					  regs.rsp - 8, 8, &regs, &a), -1);
	assert_int_equal(arch_find_access(code + 14, 1, BASE + 14, BASE + 15, 0,
					  regs.rsp - 8, 8, &regs, &a), -1);
}

/* A suffix that is an indirect JMP only wins if nothing ordinary ends there. */
static void test_find_backward_indirect(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x4c, 0x24, 0x08,			/* mov rcx, [rsp+8] */
		0x83, 0xc0, 0x01,				/* add eax, 1 */
		0xc7, 0x43, 0x08, 0x00, 0x00, 0xff, 0x23,	/* mov dword [rbx+8], 0x23ff0000 */
	};	/* "ff 23" is jmp [rbx] */
	struct user_regs_struct regs = some_regs();
	struct access_insn a;

	(void)state;
	assert_int_equal(arch_find_access(code, sizeof(code), BASE, BASE + sizeof(code), 0,
					  regs.rbx, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 8);
	assert_int_equal(a.len, 7);
	/* alone, it is taken: a lazy PLT slot jumps to the next instruction */
	assert_int_equal(arch_find_access(code + 13, 2, BASE + 13, BASE + 15, 0,
					  regs.rbx, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 13);
	assert_int_equal(a.type, R);
	assert_int_equal(a.ea, regs.rbx);
}

/* mov rax, [rax] overwrote its own base: address unknown, not a miss. */
static void test_find_backward_clobbered_base(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x4c, 0x24, 0x08,	/* mov rcx, [rsp+8] */
		0x89, 0xd8,			/* mov eax, ebx */
		0x48, 0x8b, 0x00,		/* mov rax, [rax] */
	};
	struct user_regs_struct regs = some_regs();
	struct access_insn a;

	(void)state;
	regs.rax = 0xdeadbeef;		/* the loaded value */
	assert_int_equal(arch_find_access(code, sizeof(code), BASE, BASE + sizeof(code), 0,
					  0x2000, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 7);
	assert_int_equal(a.len, 3);
	assert_int_equal(a.type, R);
	assert_int_equal(a.size, 8);
	assert_int_equal(a.ea, 0);
}

/* (b) REP string op at trap_pc vs the instruction that ends there. */
static const uint8_t rep_code[] = {
	0x48, 0x8b, 0x03,		/* 00 mov rax, [rbx] */
	0xf3, 0x48, 0xab,		/* 03 rep stosq      */
};

static void test_find_rep(void **state)
{
	const uint64_t watch = 0x4000;
	struct user_regs_struct regs = some_regs();
	struct access_insn a;

	(void)state;
	/* mid-loop: one qword stored at watch, RDI moved past it, RCX left */
	regs.rbx = 0x9000;
	regs.rdi = watch + 8;
	regs.rcx = 5;
	assert_int_equal(arch_find_access(rep_code, sizeof(rep_code), BASE, BASE + 3, BASE,
					  watch, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 3);
	assert_int_equal(a.len, 3);
	assert_int_equal(a.rep, 1);
	assert_int_equal(a.type, W);
	assert_int_equal(a.size, 8);
	assert_int_equal(a.ea, watch);

	/* same without func_start */
	assert_int_equal(arch_find_access(rep_code, sizeof(rep_code), BASE, BASE + 3, 0,
					  watch, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 3);
	assert_int_equal(a.rep, 1);

	/* direction flag set: RDI moved down */
	regs.rdi = watch - 8;
	regs.eflags |= 0x400;
	assert_int_equal(arch_find_access(rep_code, sizeof(rep_code), BASE, BASE + 3, BASE,
					  watch, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 3);
	assert_int_equal(a.ea, watch);
	regs.eflags &= ~0x400ull;

	/* the load before it touched the watch instead: the rep has not run yet */
	regs.rbx = watch;
	regs.rdi = 0x9000;
	assert_int_equal(arch_find_access(rep_code, sizeof(rep_code), BASE, BASE + 3, BASE,
					  watch, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE);
	assert_int_equal(a.rep, 0);
	assert_int_equal(a.type, R);
	assert_int_equal(a.ea, watch);

	/*
	 * Both addresses overlap (the load read watch, the rep's previous
	 * element would be watch too): genuinely ambiguous.  The rule is
	 * "forward decode beats the REP guess".
	 */
	regs.rbx = watch;
	regs.rdi = watch + 8;
	assert_int_equal(arch_find_access(rep_code, sizeof(rep_code), BASE, BASE + 3, BASE,
					  watch, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE);
	assert_int_equal(a.rep, 0);
	/* ... and the REP candidate beats a backward guess */
	assert_int_equal(arch_find_access(rep_code, sizeof(rep_code), BASE, BASE + 3, 0,
					  watch, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 3);
	assert_int_equal(a.rep, 1);

	/* the load touched the watch, no func_start: backward guess beats a missing REP */
	regs.rbx = watch;
	regs.rdi = 0x9008;
	assert_int_equal(arch_find_access(rep_code, sizeof(rep_code), BASE, BASE + 3, 0,
					  watch, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE);
	assert_int_equal(a.rep, 0);

	/* RCX == 0: RIP cannot be resting on the rep */
	regs.rbx = 0x9000;
	regs.rdi = watch + 8;
	regs.rcx = 0;
	assert_int_equal(arch_find_access(rep_code, sizeof(rep_code), BASE, BASE + 3, BASE,
					  watch, 8, &regs, &a), 0);
	assert_int_equal(a.pc, BASE);
	assert_int_equal(a.rep, 0);
}

/* rep movsb: pick the operand that overlaps the watch, source or destination. */
static void test_find_rep_movs_operand(void **state)
{
	static const uint8_t code[] = {
		0x89, 0xd8,		/* mov eax, ebx */
		0xf3, 0xa4,		/* rep movsb    */
	};
	struct user_regs_struct regs = some_regs();
	struct access_insn a;

	(void)state;
	regs.rsi = 0x4001;
	regs.rdi = 0x9001;
	regs.rcx = 3;
	assert_int_equal(arch_find_access(code, sizeof(code), BASE, BASE + 2, BASE,
					  0x4000, 1, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 2);
	assert_int_equal(a.rep, 1);
	assert_int_equal(a.type, R);
	assert_int_equal(a.ea, 0x4000);
	assert_int_equal(arch_find_access(code, sizeof(code), BASE, BASE + 2, BASE,
					  0x9000, 1, &regs, &a), 0);
	assert_int_equal(a.type, W);
	assert_int_equal(a.ea, 0x9000);

	/* finished (RCX == 0, RIP past it): found ending at trap_pc, rep = 0 */
	regs.rcx = 0;
	assert_int_equal(arch_find_access(code, sizeof(code), BASE, BASE + 4, 0,
					  0x9000, 1, &regs, &a), 0);
	assert_int_equal(a.pc, BASE + 2);
	assert_int_equal(a.len, 2);
	assert_int_equal(a.rep, 0);
	assert_int_equal(a.type, W);
	assert_int_equal(a.ea, 0x9000);
}

/* Stack operands: registers are post-instruction, RSP has moved. */
static void test_find_stack(void **state)
{
	static const uint8_t push_mem[] = { 0xff, 0x33 };		/* push qword [rbx] */
	static const uint8_t push_rsp[] = { 0xff, 0x74, 0x24, 0x08 };	/* push qword [rsp+8] */
	static const uint8_t pop_rax[] = { 0x58 };			/* pop rax */
	struct user_regs_struct regs = some_regs();
	struct access_insn a;

	(void)state;
	regs.rsp = 0x7ff8;		/* after the push */
	assert_int_equal(arch_find_access(push_mem, 2, BASE, BASE + 2, BASE,
					  0x7ff8, 8, &regs, &a), 0);
	assert_int_equal(a.type, W);
	assert_int_equal(a.ea, 0x7ff8);
	assert_int_equal(arch_find_access(push_mem, 2, BASE, BASE + 2, BASE,
					  regs.rbx, 8, &regs, &a), 0);
	assert_int_equal(a.type, R);
	assert_int_equal(a.ea, regs.rbx);
	/* explicit [rsp+8] is formed from RSP before the push */
	assert_int_equal(arch_find_access(push_rsp, 4, BASE, BASE + 4, BASE,
					  0x8008, 8, &regs, &a), 0);
	assert_int_equal(a.type, R);
	assert_int_equal(a.ea, 0x8008);

	regs.rsp = 0x8000;		/* after the pop */
	assert_int_equal(arch_find_access(pop_rax, 1, BASE, BASE + 1, 0,
					  0x7ff8, 8, &regs, &a), 0);
	assert_int_equal(a.type, R);
	assert_int_equal(a.ea, 0x7ff8);
}

static void test_find_addresses(void **state)
{
	static const uint8_t tls[] = { 0x64, 0x8b, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00 };
	static const uint8_t bt[] = { 0x48, 0x0f, 0xa3, 0x03 };		/* bt [rbx], rax */
	static const uint8_t a32[] = { 0x67, 0x8b, 0x03 };		/* mov eax, [ebx] */
	struct user_regs_struct regs = some_regs();
	struct access_insn a;

	(void)state;
	regs.fs_base = 0x7f0000001000ull;
	assert_int_equal(arch_find_access(tls, sizeof(tls), BASE, BASE + sizeof(tls), BASE,
					  0, 0, &regs, &a), 0);
	assert_int_equal(a.ea, 0x7f0000001010ull);

	/* bit 130 of the string at rbx lives in the qword at rbx + 16 */
	regs.rax = 130;
	assert_int_equal(arch_find_access(bt, sizeof(bt), BASE, BASE + sizeof(bt), BASE,
					  0, 0, &regs, &a), 0);
	assert_int_equal(a.ea, regs.rbx + 16);
	regs.rax = (uint64_t)-1;
	assert_int_equal(arch_find_access(bt, sizeof(bt), BASE, BASE + sizeof(bt), BASE,
					  0, 0, &regs, &a), 0);
	assert_int_equal(a.ea, regs.rbx - 8);

	/* 32-bit addressing truncates */
	regs.rbx = 0xffffffff00001000ull;
	assert_int_equal(arch_find_access(a32, sizeof(a32), BASE, BASE + sizeof(a32), BASE,
					  0, 0, &regs, &a), 0);
	assert_int_equal(a.ea, 0x1000);
}

static void test_find_failures(void **state)
{
	static const uint8_t plain[] = { 0x90, 0x90, 0x90, 0x89, 0xd8 };	/* nops, mov eax, ebx */
	struct user_regs_struct regs = some_regs();
	struct access_insn a;

	(void)state;
	assert_int_equal(arch_find_access(plain, sizeof(plain), BASE, BASE + sizeof(plain), BASE,
					  0, 0, &regs, &a), -1);
	assert_int_equal(arch_find_access(plain, sizeof(plain), BASE, BASE + sizeof(plain), 0,
					  0, 0, &regs, &a), -1);
	assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE, BASE - 1, 0,
					  0, 0, &regs, &a), -1);
	assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE,
					  BASE + sizeof(fwd_code) + 1, 0, 0, 0, &regs, &a), -1);
	assert_int_equal(arch_find_access(fwd_code, sizeof(fwd_code), BASE, BASE, BASE,
					  0, 0, &regs, &a), -1);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_decode_ea),
		cmocka_unit_test(test_decode_text),
		cmocka_unit_test(test_find_forward),
		cmocka_unit_test(test_find_forward_beats_evidence),
		cmocka_unit_test(test_find_landed_without_memory),
		cmocka_unit_test(test_find_backward_ambiguous),
		cmocka_unit_test(test_find_backward_reach),
		cmocka_unit_test(test_find_backward_implausible),
		cmocka_unit_test(test_find_backward_indirect),
		cmocka_unit_test(test_find_backward_clobbered_base),
		cmocka_unit_test(test_find_rep),
		cmocka_unit_test(test_find_rep_movs_operand),
		cmocka_unit_test(test_find_stack),
		cmocka_unit_test(test_find_addresses),
		cmocka_unit_test(test_find_failures),
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
	rc = _cmocka_run_group_tests("decode", tests, NROWS + nfixed, NULL, NULL);
	free(tests);
	return rc;
}
