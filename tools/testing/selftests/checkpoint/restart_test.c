// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint and restart of a single process: memory, registers and
 * xstate, task state.  The pattern every test follows is described in
 * cr_harness.h.
 */

#include <sys/ioctl.h>

#include <asm/ldt.h>
#include <linux/futex.h>
#include <linux/userfaultfd.h>

#include "cr_harness.h"

#include <sys/mount.h>

/*
 * 1. Memory
 */

#define MEM_HEAP_LEN		(4UL << 20)
#define MEM_BRK_LEN		(256UL << 10)
#define MEM_RW_LEN		(1UL << 20)
#define MEM_RO_LEN		(256UL << 10)
#define MEM_GUARD_LEN		(64UL << 10)
#define MEM_UNTOUCHED_LEN	(8UL << 20)
#define MEM_STACK_LEN		(16UL << 10)
#define MEM_FILE_PAGES		4	/* full pages of the mapped file */
#define MEM_FILE_TAIL		100	/* and bytes in a fifth one */
#define MEM_COW_OFF		100	/* bytes written in page 1 of it */
#define MEM_COW_LEN		200
#define MARKER_ADDR		((void *)0x200000000000UL)

enum {
	SEED_HEAP = 1, SEED_BRK, SEED_RW, SEED_RO, SEED_DATA, SEED_BSS,
	SEED_STACK, SEED_FILE, SEED_COW1, SEED_COW3, SEED_SIMPLE, SEED_TARGET,
	SEED_XMM, SEED_YMM, SEED_GPR, SEED_TLS, SEED_LIST, SEED_MADV,
	SEED_REFUSE, SEED_RESTARTER,
};

#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif

static unsigned char mem_data[3 * 4096 + 123] = { 1 };	/* .data */
static unsigned char mem_bss[64 << 10];			/* .bss */
static char maps_before[1 << 16], maps_after[1 << 16];
static volatile unsigned char mem_sink;

static struct {
	char file[128];
	unsigned char *heap, *brk_area, *rw, *ro, *guard, *untouched;
	unsigned char *fmap, *fmap_ro, *stack;
	unsigned long brk_end;
	uint64_t csum;
	ssize_t maps_len;
} mem;

static uint64_t mem_csum(void)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = csum_add(h, mem.heap, MEM_HEAP_LEN);
	h = csum_add(h, mem.brk_area, MEM_BRK_LEN);
	h = csum_add(h, mem.rw, MEM_RW_LEN);
	h = csum_add(h, mem.ro, MEM_RO_LEN);
	h = csum_add(h, mem_data, sizeof(mem_data));
	h = csum_add(h, mem_bss, sizeof(mem_bss));
	h = csum_add(h, mem.stack, MEM_STACK_LEN);
	h = csum_add(h, mem.fmap, (MEM_FILE_PAGES + 1) * pg());
	return h;
}

static void mem_check_file_mapping(void)
{
	size_t ps = pg(), flen = MEM_FILE_PAGES * ps + MEM_FILE_TAIL;
	unsigned char *f = mem.fmap, *buf;
	ssize_t n;
	int fd;

	/* Pages 0 and 2 were read, not written: the file */
	CHECK_PAT(f, ps, SEED_FILE, 0);
	CHECK_PAT(f + 2 * ps, ps, SEED_FILE, 2 * ps);
	/* Page 1 was written in part: a private copy */
	CHECK_PAT(f + ps, MEM_COW_OFF, SEED_FILE, ps);
	CHECK_PAT(f + ps + MEM_COW_OFF, MEM_COW_LEN, SEED_COW1, 0);
	CHECK_PAT(f + ps + MEM_COW_OFF + MEM_COW_LEN,
		  ps - MEM_COW_OFF - MEM_COW_LEN, SEED_FILE,
		  ps + MEM_COW_OFF + MEM_COW_LEN);
	/* Page 3 was written whole */
	CHECK_PAT(f + 3 * ps, ps, SEED_COW3, 0);
	/* Page 4 ends the file: zeroes after its last byte */
	CHECK_PAT(f + 4 * ps, MEM_FILE_TAIL, SEED_FILE, 4 * ps);
	CHECK(all_zero(f + 4 * ps + MEM_FILE_TAIL, ps - MEM_FILE_TAIL));
	/* The read-only mapping of pages 1 to 3 */
	CHECK_PAT(mem.fmap_ro, 3 * ps, SEED_FILE, ps);

	/* The file was not written through the private mapping */
	buf = malloc(flen + 1);
	if (!CHECK(buf))
		return;
	fd = open(mem.file, O_RDONLY | O_CLOEXEC);
	if (CHECKF(fd >= 0, "open %s: %s", mem.file, strerror(errno))) {
		n = read(fd, buf, flen + 1);
		CHECKF(n == (ssize_t)flen, "the file has %zd bytes instead of %zu",
		       n, flen);
		if (n == (ssize_t)flen)
			CHECK_PAT(buf, flen, SEED_FILE, 0);
		close(fd);
	}
	free(buf);
}

static void mem_verify(bool restarted)
{
	static unsigned char vec[MEM_UNTOUCHED_LEN / 4096];
	size_t ps = pg(), i, resident = 0;
	unsigned long cur;
	void *p;

	/* First, before anything can change the mappings */
	if (mem.maps_len >= 0) {
		ssize_t n = read_file("/proc/self/maps", maps_after,
				      sizeof(maps_after));

		if (CHECKF(n >= 0, "/proc/self/maps: %s", strerror(errno)))
			check_same_maps(maps_before, maps_after);
	}

	/* The untouched region is still untouched */
	if (CHECK(mincore(mem.untouched, MEM_UNTOUCHED_LEN, vec) == 0)) {
		for (i = 0; i < MEM_UNTOUCHED_LEN / ps; i++)
			resident += vec[i] & 1;
		CHECKF(resident == 0,
		       "%zu pages of the untouched region are resident",
		       resident);
	}
	CHECK(all_zero(mem.untouched, MEM_UNTOUCHED_LEN));

	CHECK_PAT(mem.heap, MEM_HEAP_LEN, SEED_HEAP, 0);
	CHECK_PAT(mem.brk_area, MEM_BRK_LEN, SEED_BRK, 0);
	CHECK_PAT(mem.rw, MEM_RW_LEN, SEED_RW, 0);
	CHECK_PAT(mem.ro, MEM_RO_LEN, SEED_RO, 0);
	CHECK_PAT(mem_data, sizeof(mem_data), SEED_DATA, 0);
	CHECK_PAT(mem_bss, sizeof(mem_bss), SEED_BSS, 0);
	CHECK_PAT(mem.stack, MEM_STACK_LEN, SEED_STACK, 0);
	mem_check_file_mapping();
	CHECKF(mem_csum() == mem.csum, "memory checksum differs");

	/* Protections, without /proc */
	CHECK(probe_read(mem.rw) == 1);
	CHECK(probe_write(mem.rw + MEM_RW_LEN - 1) == 1);
	CHECK(probe_read(mem.ro) == 1);
	CHECK(probe_write(mem.ro) == 0);
	CHECK(probe_write(mem.ro + MEM_RO_LEN - 1) == 0);
	CHECK(probe_read(mem.guard) == 0);
	CHECK(probe_read(mem.guard + MEM_GUARD_LEN - 1) == 0);
	CHECK(probe_read(mem.fmap_ro) == 1);
	CHECK(probe_write(mem.fmap_ro) == 0);

	/* The break: where it was, and it can still move */
	cur = syscall(SYS_brk, 0);
	CHECKF(cur == mem.brk_end, "brk %#lx, was %#lx", cur, mem.brk_end);
	cur = syscall(SYS_brk, mem.brk_end + 4 * ps);
	if (CHECKF(cur == mem.brk_end + 4 * ps, "brk(+4 pages) gave %#lx",
		   cur)) {
		CHECK(all_zero((void *)mem.brk_end, 4 * ps));
		memset((void *)mem.brk_end, 0x5a, 4 * ps);
		CHECK(syscall(SYS_brk, mem.brk_end) == (long)mem.brk_end);
	}

	/* malloc still works */
	for (i = 0; i < 64; i++) {
		p = malloc(1000 + i * 5000);
		if (!CHECK(p))
			break;
		memset(p, i, 1000 + i * 5000);
		free(p);
	}

	/* Nothing of the restarter's memory is left */
	if (restarted)
		CHECK(mincore(MARKER_ADDR, ps, vec) == -1 && errno == ENOMEM);
}

static void mem_body(void *arg, int imgfd)
{
	volatile unsigned char stack[MEM_STACK_LEN];
	size_t ps = pg(), flen = MEM_FILE_PAGES * ps + MEM_FILE_TAIL;
	unsigned char *buf;
	long r;
	int fd, err;

	snprintf(mem.file, sizeof(mem.file), "%s", (const char *)arg);

	/* A file mapped privately, and written through the mapping */
	buf = malloc(flen);
	if (!buf)
		_exit(EXIT_SETUP);
	pat_fill(buf, flen, SEED_FILE, 0);
	if (write_file(mem.file, buf, flen))
		_exit(EXIT_SETUP);
	free(buf);
	fd = open(mem.file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(EXIT_SETUP);
	mem.fmap = mmap(NULL, (MEM_FILE_PAGES + 1) * ps, PROT_READ | PROT_WRITE,
			MAP_PRIVATE, fd, 0);
	mem.fmap_ro = mmap(NULL, 3 * ps, PROT_READ, MAP_PRIVATE, fd, ps);
	close(fd);
	if (mem.fmap == MAP_FAILED || mem.fmap_ro == MAP_FAILED)
		_exit(EXIT_SETUP);
	mem_sink += mem.fmap[0] + mem.fmap[2 * ps] + mem.fmap[4 * ps] +
		mem.fmap_ro[0] + mem.fmap_ro[2 * ps];
	pat_fill(mem.fmap + ps + MEM_COW_OFF, MEM_COW_LEN, SEED_COW1, 0);
	pat_fill(mem.fmap + 3 * ps, ps, SEED_COW3, 0);

	/* malloc'ed: large enough to be an anonymous mapping */
	mem.heap = malloc(MEM_HEAP_LEN);
	if (!mem.heap)
		_exit(EXIT_SETUP);
	pat_fill(mem.heap, MEM_HEAP_LEN, SEED_HEAP, 0);

	/* The heap proper, grown with sbrk() */
	mem.brk_area = sbrk(MEM_BRK_LEN);
	if (mem.brk_area == (void *)-1)
		_exit(EXIT_SETUP);
	pat_fill(mem.brk_area, MEM_BRK_LEN, SEED_BRK, 0);
	mem.brk_end = syscall(SYS_brk, 0);
	if (mem.brk_end != (unsigned long)mem.brk_area + MEM_BRK_LEN)
		_exit(EXIT_SETUP);

	mem.rw = mmap(NULL, MEM_RW_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem.ro = mmap(NULL, MEM_RO_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem.guard = mmap(NULL, MEM_GUARD_LEN, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem.untouched = mmap(NULL, MEM_UNTOUCHED_LEN, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem.rw == MAP_FAILED || mem.ro == MAP_FAILED ||
	    mem.guard == MAP_FAILED || mem.untouched == MAP_FAILED)
		_exit(EXIT_SETUP);
	pat_fill(mem.rw, MEM_RW_LEN, SEED_RW, 0);
	pat_fill(mem.ro, MEM_RO_LEN, SEED_RO, 0);
	if (mprotect(mem.ro, MEM_RO_LEN, PROT_READ))
		_exit(EXIT_SETUP);

	pat_fill(mem_data, sizeof(mem_data), SEED_DATA, 0);
	pat_fill(mem_bss, sizeof(mem_bss), SEED_BSS, 0);
	mem.stack = (unsigned char *)stack;
	pat_fill(mem.stack, MEM_STACK_LEN, SEED_STACK, 0);

	cr_prepare(imgfd);
	mem.maps_len = read_file("/proc/self/maps", maps_before,
				 sizeof(maps_before));
	if (mem.maps_len < 0)
		cr_log("no /proc/self/maps (%s): not comparing the mappings",
		       strerror(errno));
	mem.csum = mem_csum();

	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, mem_verify);
}

/* In the restarter: memory that must not survive the restart */
static void mem_pre(void *arg)
{
	void *p;

	p = mmap(MARKER_ADDR, pg(), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != MARKER_ADDR) {
		cr_log("mmap at %p: %s", MARKER_ADDR, strerror(errno));
		_exit(EXIT_SETUP);
	}
	memset(p, 0xee, pg());
}

/*
 * 2. Registers
 */

struct cr_regs {
	uint64_t gpr[9];	/* rbx, rbp, r12, r13, r14, r15, r8, r9, r10 */
	uint64_t arg[3];	/* rdi, rsi, rdx after the system call */
	uint64_t rsp;		/* at the system call */
	uint64_t rflags;	/* in: before the system call, out: after */
	uint8_t xmm[16][16];
	uint8_t ymmh[16][16];	/* upper halves of ymm0-15 */
};

#define REGS_ARG	72
#define REGS_RSP	96
#define REGS_RFLAGS	104
#define REGS_XMM	112
#define REGS_YMMH	368
#define __STR(x)	#x
#define STR(x)		__STR(x)

_Static_assert(offsetof(struct cr_regs, arg) == REGS_ARG, "arg");
_Static_assert(offsetof(struct cr_regs, rsp) == REGS_RSP, "rsp");
_Static_assert(offsetof(struct cr_regs, rflags) == REGS_RFLAGS, "rflags");
_Static_assert(offsetof(struct cr_regs, xmm) == REGS_XMM, "xmm");
_Static_assert(offsetof(struct cr_regs, ymmh) == REGS_YMMH, "ymmh");

/*
 * long cr_regs_syscall(long nr, long fd, struct cr_regs *in,
 *			struct cr_regs *out, long avx);
 *
 * Loads the registers of @in (ymm upper halves if @avx), sets the
 * direction flag, makes system call @nr with arguments 0, @fd, 0, and
 * stores the registers into @out right after it.  Returns what the system
 * call returned (a negative errno on failure).
 */
__asm__(
"	.pushsection .text\n"
"	.p2align 4\n"
"	.globl cr_regs_syscall\n"
"	.hidden cr_regs_syscall\n"
"	.type cr_regs_syscall, @function\n"
"cr_regs_syscall:\n"
"	push %rbp\n"
"	push %rbx\n"
"	push %r12\n"
"	push %r13\n"
"	push %r14\n"
"	push %r15\n"
"	push %rcx\n"			/* out: 16(%rsp) */
"	push %r8\n"			/* avx: 8(%rsp) */
"	push %rdi\n"			/* nr: 0(%rsp) */
"	mov %rdx, %rax\n"		/* in */
"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
"	movdqu " STR(REGS_XMM) "+16*\\i(%rax), %xmm\\i\n"
"	.endr\n"
"	test %r8, %r8\n"
"	jz 1f\n"
"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
"	vinsertf128 $1, " STR(REGS_YMMH) "+16*\\i(%rax), %ymm\\i, %ymm\\i\n"
"	.endr\n"
"1:\n"
"	mov 0(%rax), %rbx\n"
"	mov 8(%rax), %rbp\n"
"	mov 16(%rax), %r12\n"
"	mov 24(%rax), %r13\n"
"	mov 32(%rax), %r14\n"
"	mov 40(%rax), %r15\n"
"	mov 48(%rax), %r8\n"
"	mov 56(%rax), %r9\n"
"	mov 64(%rax), %r10\n"
"	mov %rsp, " STR(REGS_RSP) "(%rax)\n"
"	mov 0(%rsp), %rcx\n"
"	xor %edi, %edi\n"
"	xor %edx, %edx\n"
"	std\n"
"	pushfq\n"
"	pop %r11\n"
"	mov %r11, " STR(REGS_RFLAGS) "(%rax)\n"
"	mov %rcx, %rax\n"
"	syscall\n"
"	pushfq\n"
"	cld\n"
"	mov 24(%rsp), %r11\n"		/* out */
"	pop %rcx\n"
"	mov %rcx, " STR(REGS_RFLAGS) "(%r11)\n"
"	mov %rsp, " STR(REGS_RSP) "(%r11)\n"
"	mov %rbx, 0(%r11)\n"
"	mov %rbp, 8(%r11)\n"
"	mov %r12, 16(%r11)\n"
"	mov %r13, 24(%r11)\n"
"	mov %r14, 32(%r11)\n"
"	mov %r15, 40(%r11)\n"
"	mov %r8, 48(%r11)\n"
"	mov %r9, 56(%r11)\n"
"	mov %r10, 64(%r11)\n"
"	mov %rdi, " STR(REGS_ARG) "(%r11)\n"
"	mov %rsi, " STR(REGS_ARG) "+8(%r11)\n"
"	mov %rdx, " STR(REGS_ARG) "+16(%r11)\n"
"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
"	movdqu %xmm\\i, " STR(REGS_XMM) "+16*\\i(%r11)\n"
"	.endr\n"
"	cmpq $0, 8(%rsp)\n"
"	je 2f\n"
"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
"	vextractf128 $1, %ymm\\i, " STR(REGS_YMMH) "+16*\\i(%r11)\n"
"	.endr\n"
"	vzeroupper\n"
"2:\n"
"	add $24, %rsp\n"
"	pop %r15\n"
"	pop %r14\n"
"	pop %r13\n"
"	pop %r12\n"
"	pop %rbx\n"
"	pop %rbp\n"
"	ret\n"
"	.size cr_regs_syscall, .-cr_regs_syscall\n"
"	.popsection\n");

extern long cr_regs_syscall(long nr, long fd, struct cr_regs *in,
			    struct cr_regs *out, long avx)
	__attribute__((visibility("hidden")));

/* CF, PF, AF, ZF, SF, DF, OF */
#define X86_FLAGS_USER	0xcd5UL
#define X86_FLAGS_DF	0x400UL

/* MXCSR: all exceptions masked, rounding up, flush to zero */
#define TEST_MXCSR	0xdf80U
/* x87: all exceptions masked, double precision, rounding up */
#define TEST_FCW	0x0a7fU
/* 1.0 / 3.0 rounded up, and to nearest */
#define THIRD_UP	0x3fd5555555555556ULL
#define THIRD_NEAREST	0x3fd5555555555555ULL

static __thread uint64_t tls_value;

static struct {
	struct cr_regs in, out;
	bool avx;
	int fd;
	uint64_t *tls_addr, fsbase, gsbase;
	uint32_t mxcsr;
	uint16_t fcw;
} regs;

static uint32_t get_mxcsr(void)
{
	uint32_t v;

	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void set_mxcsr(uint32_t v)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(v));
}

static uint16_t get_fcw(void)
{
	uint16_t v;

	__asm__ volatile("fnstcw %0" : "=m"(v));
	return v;
}

static void set_fcw(uint16_t v)
{
	__asm__ volatile("fldcw %0" : : "m"(v));
}

static uint64_t third(void)
{
	volatile double one = 1.0, three = 3.0;
	double q = one / three;
	uint64_t bits;

	memcpy(&bits, &q, sizeof(bits));
	return bits;
}

static void regs_verify(bool restarted)
{
	/* Read first: the checks below must not change them */
	uint32_t mxcsr = get_mxcsr();
	uint16_t fcw = get_fcw();
	static const char * const names[] = {
		"rbx", "rbp", "r12", "r13", "r14", "r15", "r8", "r9", "r10",
	};
	uint64_t base = 0;
	int i;

	CHECKF(mxcsr == regs.mxcsr, "MXCSR %#x, was %#x", mxcsr, regs.mxcsr);
	CHECKF(fcw == regs.fcw, "x87 control word %#x, was %#x", fcw,
	       regs.fcw);
	CHECKF(third() == THIRD_UP, "1/3 is %#" PRIx64 " instead of %#llx (rounded up)",
	       third(), THIRD_UP);

	for (i = 0; i < 9; i++)
		CHECKF(regs.out.gpr[i] == regs.in.gpr[i],
		       "%s %#" PRIx64 ", was %#" PRIx64, names[i],
		       regs.out.gpr[i], regs.in.gpr[i]);
	CHECKF(regs.out.arg[0] == 0, "rdi %#" PRIx64 ", was 0", regs.out.arg[0]);
	CHECKF(regs.out.arg[1] == (uint64_t)regs.fd, "rsi %#" PRIx64 ", was %d",
	       regs.out.arg[1], regs.fd);
	CHECKF(regs.out.arg[2] == 0, "rdx %#" PRIx64 ", was 0", regs.out.arg[2]);
	CHECKF(regs.out.rsp == regs.in.rsp, "rsp %#" PRIx64 ", was %#" PRIx64,
	       regs.out.rsp, regs.in.rsp);
	CHECK(regs.in.rflags & X86_FLAGS_DF);
	CHECKF((regs.out.rflags & X86_FLAGS_USER) ==
	       (regs.in.rflags & X86_FLAGS_USER),
	       "rflags %#" PRIx64 ", was %#" PRIx64 " (compared: %#lx)",
	       regs.out.rflags, regs.in.rflags, X86_FLAGS_USER);
	for (i = 0; i < 16; i++)
		CHECKF(!memcmp(regs.out.xmm[i], regs.in.xmm[i], 16),
		       "xmm%d differs", i);
	if (regs.avx)
		for (i = 0; i < 16; i++)
			CHECKF(!memcmp(regs.out.ymmh[i], regs.in.ymmh[i], 16),
			       "upper half of ymm%d differs", i);

	/* fs base, that is TLS, and gs base */
	CHECKF(&tls_value == regs.tls_addr, "TLS variable at %p, was at %p",
	       (void *)&tls_value, (void *)regs.tls_addr);
	CHECKF(tls_value == mix64(SEED_TLS), "TLS variable %#" PRIx64,
	       tls_value);
	if (CHECK(syscall(SYS_arch_prctl, ARCH_GET_FS, &base) == 0))
		CHECKF(base == regs.fsbase, "fs base %#" PRIx64 ", was %#" PRIx64,
		       base, regs.fsbase);
	if (CHECK(syscall(SYS_arch_prctl, ARCH_GET_GS, &base) == 0))
		CHECKF(base == regs.gsbase, "gs base %#" PRIx64 ", was %#" PRIx64,
		       base, regs.gsbase);
}

static void regs_body(void *arg, int imgfd)
{
	long r;
	int i;

	regs.avx = *(bool *)arg;
	regs.fd = imgfd;
	for (i = 0; i < 9; i++)
		regs.in.gpr[i] = mix64(SEED_GPR + i);
	pat_fill(regs.in.xmm, sizeof(regs.in.xmm), SEED_XMM, 0);
	pat_fill(regs.in.ymmh, sizeof(regs.in.ymmh), SEED_YMM, 0);
	memset(&regs.out, 0, sizeof(regs.out));

	tls_value = mix64(SEED_TLS);
	regs.tls_addr = &tls_value;
	regs.gsbase = 0x12345678000ULL;
	if (syscall(SYS_arch_prctl, ARCH_GET_FS, &regs.fsbase) ||
	    syscall(SYS_arch_prctl, ARCH_SET_GS, regs.gsbase)) {
		cr_log("arch_prctl: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}

	cr_prepare(imgfd);

	set_mxcsr(TEST_MXCSR);
	set_fcw(TEST_FCW);
	if (third() != THIRD_UP) {
		cr_log("rounding up does not work: 1/3 is %#" PRIx64, third());
		_exit(EXIT_SETUP);
	}
	regs.mxcsr = get_mxcsr();
	regs.fcw = get_fcw();

	r = cr_regs_syscall(__NR_checkpoint, imgfd, &regs.in, &regs.out,
			    regs.avx);
	cr_finish(r < 0 ? -1 : r, r < 0 ? -r : 0, regs_verify);
}

/*
 * 3. Return values and pids
 */

static pid_t pid_orig, ppid_orig;

static void pid_body(void *arg, int imgfd)
{
	char buf[128];
	long r;
	int err, n;

	if (dup2(*(int *)arg, 1) != 1)
		_exit(EXIT_SETUP);
	pid_orig = getpid();
	ppid_orig = getppid();
	cr_prepare(imgfd);

	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	if (r > 0) {
		cr_phase = "original";
		CHECK(getpid() == pid_orig);
		n = snprintf(buf, sizeof(buf), "checkpointed %ld %d\n", r,
			     getpid());
		CHECK(write(1, buf, n) == n);
	} else if (r == 0) {
		cr_phase = "restarted";
		/* Phase 1 does not restore pids: this is the restarter's */
		CHECKF(getpid() != pid_orig, "pid %d is the checkpointed one",
		       getpid());
		CHECK(syscall(SYS_getpid) == getpid());
		CHECK(syscall(SYS_gettid) == getpid());
		CHECKF(getppid() == ppid_orig, "parent %d, was %d", getppid(),
		       ppid_orig);
		n = snprintf(buf, sizeof(buf), "restarted %d %d\n", getpid(),
			     getppid());
		CHECK(write(1, buf, n) == n);
	}
	cr_finish(r, err, NULL);
}

/*
 * 4. Signals
 */

static volatile int usr1_count, usr1_ok, urg_count;

static struct {
	struct sigaction act[_NSIG];
	bool have[_NSIG];
	sigset_t blocked;
} sigs;

static void usr1_handler(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;

	usr1_count++;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr1_ok = sig == SIGUSR1 && si->si_signo == SIGUSR1 &&
		  si->si_code == SI_USER && si->si_pid == getpid() &&
		  sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGHUP) &&
		  sigismember(&cur, SIGUSR2) && sigismember(&cur, SIGTERM) &&
		  !sigismember(&cur, SIGURG);
}

static void urg_handler(int sig)
{
	urg_count++;
}

static bool same_sigset(const sigset_t *a, const sigset_t *b)
{
	int s;

	for (s = 1; s < _NSIG; s++)
		if (sigismember(a, s) != sigismember(b, s))
			return false;
	return true;
}

static void signals_verify(bool restarted)
{
	struct sigaction act;
	sigset_t set;
	int s;

	for (s = 1; s < _NSIG; s++) {
		bool have = sigaction(s, NULL, &act) == 0;

		if (!CHECKF(have == sigs.have[s], "sigaction(%d) %s", s,
			    have ? "works now" : "fails now"))
			continue;
		if (!have)
			continue;
		CHECKF(act.sa_handler == sigs.act[s].sa_handler,
		       "signal %d: handler %p, was %p", s,
		       (void *)act.sa_handler, (void *)sigs.act[s].sa_handler);
		CHECKF(act.sa_flags == sigs.act[s].sa_flags,
		       "signal %d: flags %#x, were %#x", s, act.sa_flags,
		       sigs.act[s].sa_flags);
		CHECKF(act.sa_restorer == sigs.act[s].sa_restorer,
		       "signal %d: restorer %p, was %p", s,
		       (void *)act.sa_restorer, (void *)sigs.act[s].sa_restorer);
		CHECKF(same_sigset(&act.sa_mask, &sigs.act[s].sa_mask),
		       "signal %d: handler mask differs", s);
	}
	CHECK(sigs.act[SIGUSR1].sa_flags & SA_SIGINFO);
	CHECK(sigs.act[SIGUSR2].sa_handler == SIG_IGN);

	CHECK(sigprocmask(SIG_BLOCK, NULL, &set) == 0);
	CHECK(same_sigset(&set, &sigs.blocked));
	CHECK(sigpending(&set) == 0);
	CHECK(sigisemptyset(&set));

	/* The handler runs, with its mask */
	CHECK(kill(getpid(), SIGUSR1) == 0);
	CHECKF(usr1_count == 1, "SIGUSR1 handler ran %d times", usr1_count);
	CHECK(usr1_ok);

	/* SA_RESETHAND: once only */
	CHECK(kill(getpid(), SIGURG) == 0);
	CHECK(urg_count == 1);
	CHECK(sigaction(SIGURG, NULL, &act) == 0 && act.sa_handler == SIG_DFL);

	/* Blocked signals stay pending */
	CHECK(kill(getpid(), SIGTERM) == 0);
	CHECK(kill(getpid(), SIGUSR2) == 0);
	CHECK(sigpending(&set) == 0);
	CHECK(sigismember(&set, SIGTERM) && sigismember(&set, SIGUSR2));

	/* Unblocked, the ignored SIGUSR2 is discarded: no death */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0);
	CHECK(sigpending(&set) == 0);
	CHECK(!sigismember(&set, SIGUSR2) && sigismember(&set, SIGTERM));
}

static void signals_body(void *arg, int imgfd)
{
	struct sigaction sa;
	long r;
	int s, err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = usr1_handler;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGHUP);
	if (sigaction(SIGUSR1, &sa, NULL))
		_exit(EXIT_SETUP);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGUSR2, &sa, NULL))
		_exit(EXIT_SETUP);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = urg_handler;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	if (sigaction(SIGURG, &sa, NULL))
		_exit(EXIT_SETUP);

	sigemptyset(&sigs.blocked);
	sigaddset(&sigs.blocked, SIGUSR2);
	sigaddset(&sigs.blocked, SIGTERM);
	if (sigprocmask(SIG_SETMASK, &sigs.blocked, NULL))
		_exit(EXIT_SETUP);

	cr_prepare(imgfd);
	for (s = 1; s < _NSIG; s++)
		sigs.have[s] = sigaction(s, NULL, &sigs.act[s]) == 0;

	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, signals_verify);
}

/*
 * 5. Task state
 */

static struct {
	char comm[16];
	char cwd[PATH_MAX];
	mode_t umask;
	struct rlimit rlim[RLIM_NLIMITS];
	int personality;
	dev_t cwd_dev;
	ino_t cwd_ino;
	char exe[PATH_MAX];
	char auxv[4096], cmdline[1 << 16], environ[1 << 16], stat[4096];
	ssize_t auxv_len, cmdline_len, environ_len;
} task;

/* Fields of /proc/self/stat that come from the mm, space separated */
static int stat_mm_fields(char *out, size_t len)
{
	static const int fields[] = { 26, 27, 28, 45, 46, 47, 48, 49, 50, 51 };
	char buf[4096], *p, *tok, *save;
	unsigned int i = 0;
	size_t n = 0;
	int field = 3;

	if (read_file("/proc/self/stat", buf, sizeof(buf)) < 0)
		return -1;
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	out[0] = 0;
	for (tok = strtok_r(p + 2, " \n", &save); tok && i < ARRAY_SIZE(fields);
	     tok = strtok_r(NULL, " \n", &save), field++) {
		if (field != fields[i])
			continue;
		n += snprintf(out + n, len - n, "%s%s", i ? " " : "", tok);
		i++;
	}
	return i == ARRAY_SIZE(fields) ? 0 : -1;
}

static void task_verify(bool restarted)
{
	char comm[16] = "", cwd[PATH_MAX], exe[PATH_MAX];
	static char buf[1 << 16];
	struct rlimit rl;
	struct stat st;
	mode_t mask;
	ssize_t n;
	int i, pers;

	CHECK(prctl(PR_GET_NAME, comm) == 0);
	CHECKF(!strcmp(comm, task.comm), "comm \"%s\", was \"%s\"", comm,
	       task.comm);
	n = read_file("/proc/self/comm", buf, sizeof(buf));
	CHECKF(n > 0 && !strncmp(buf, task.comm, strlen(task.comm)) &&
	       buf[strlen(task.comm)] == '\n',
	       "/proc/self/comm \"%s\"", n > 0 ? buf : "");

	mask = umask(0);
	umask(mask);
	CHECKF(mask == task.umask, "umask %#o, was %#o", mask, task.umask);

	for (i = 0; i < RLIM_NLIMITS; i++) {
		if (!CHECK(getrlimit(i, &rl) == 0))
			continue;
		CHECKF(rl.rlim_cur == task.rlim[i].rlim_cur &&
		       rl.rlim_max == task.rlim[i].rlim_max,
		       "rlimit %d: %llu/%llu, was %llu/%llu", i,
		       (unsigned long long)rl.rlim_cur,
		       (unsigned long long)rl.rlim_max,
		       (unsigned long long)task.rlim[i].rlim_cur,
		       (unsigned long long)task.rlim[i].rlim_max);
	}

	pers = personality(0xffffffff);
	CHECKF(pers == task.personality, "personality %#x, was %#x", pers,
	       task.personality);

	if (CHECKF(getcwd(cwd, sizeof(cwd)), "getcwd: %s", strerror(errno)))
		CHECKF(!strcmp(cwd, task.cwd), "cwd \"%s\", was \"%s\"", cwd,
		       task.cwd);
	if (CHECK(stat(".", &st) == 0))
		CHECK(st.st_dev == task.cwd_dev && st.st_ino == task.cwd_ino);

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (CHECKF(n > 0, "readlink /proc/self/exe: %s", strerror(errno))) {
		exe[n] = 0;
		CHECKF(!strcmp(exe, task.exe), "exe \"%s\", was \"%s\"", exe,
		       task.exe);
	}

	n = read_file("/proc/self/auxv", buf, sizeof(buf));
	check_same_blob("/proc/self/auxv", task.auxv, task.auxv_len, buf, n);
	n = read_file("/proc/self/cmdline", buf, sizeof(buf));
	check_same_blob("/proc/self/cmdline", task.cmdline, task.cmdline_len,
			buf, n);
	n = read_file("/proc/self/environ", buf, sizeof(buf));
	check_same_blob("/proc/self/environ", task.environ, task.environ_len,
			buf, n);
	if (CHECK(stat_mm_fields(buf, sizeof(buf)) == 0))
		CHECKF(!strcmp(buf, task.stat),
		       "code, stack, data, brk, arg and env addresses in /proc/self/stat: %s, were %s",
		       buf, task.stat);
}

static void task_body(void *arg, int imgfd)
{
	const char *dir = arg;
	struct rlimit rl;
	struct stat st;
	ssize_t n;
	long r;
	int i, err;

	strcpy(task.comm, "cr_taskstate");
	if (prctl(PR_SET_NAME, task.comm))
		_exit(EXIT_SETUP);
	task.umask = 027;
	umask(task.umask);

	if (getrlimit(RLIMIT_NOFILE, &rl))
		_exit(EXIT_SETUP);
	rl.rlim_cur = 64;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		_exit(EXIT_SETUP);
	if (getrlimit(RLIMIT_CORE, &rl))
		_exit(EXIT_SETUP);
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (2 << 20))
		rl.rlim_max = 2 << 20;
	rl.rlim_cur = rl.rlim_max / 2;
	if (setrlimit(RLIMIT_CORE, &rl))
		_exit(EXIT_SETUP);
	for (i = 0; i < RLIM_NLIMITS; i++)
		if (getrlimit(i, &task.rlim[i]))
			_exit(EXIT_SETUP);

	task.personality = personality(0xffffffff) | ADDR_NO_RANDOMIZE;
	if (personality(task.personality) == -1 ||
	    personality(0xffffffff) != task.personality)
		_exit(EXIT_SETUP);

	snprintf(task.cwd, sizeof(task.cwd), "%s/cwd", dir);
	if (mkdir(task.cwd, 0700))
		_exit(EXIT_SETUP);
	snprintf(task.cwd, sizeof(task.cwd), "%s/cwd/sub dir", dir);
	if (mkdir(task.cwd, 0700) || chdir(task.cwd) || stat(".", &st))
		_exit(EXIT_SETUP);
	task.cwd_dev = st.st_dev;
	task.cwd_ino = st.st_ino;

	cr_prepare(imgfd);
	n = readlink("/proc/self/exe", task.exe, sizeof(task.exe) - 1);
	if (n <= 0)
		_exit(EXIT_SETUP);
	task.exe[n] = 0;
	task.auxv_len = read_file("/proc/self/auxv", task.auxv,
				  sizeof(task.auxv));
	task.cmdline_len = read_file("/proc/self/cmdline", task.cmdline,
				     sizeof(task.cmdline));
	task.environ_len = read_file("/proc/self/environ", task.environ,
				     sizeof(task.environ));
	if (task.auxv_len <= 0 || task.cmdline_len <= 0 ||
	    task.environ_len < 0 ||
	    stat_mm_fields(task.stat, sizeof(task.stat))) {
		cr_log("reading /proc/self: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}

	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, task_verify);
}

/* The restarter's task state differs from the image's */
static void task_pre(void *arg)
{
	struct rlimit rl;

	umask(0);
	if (chdir("/") || personality(PER_LINUX) == -1 ||
	    getrlimit(RLIMIT_NOFILE, &rl))
		_exit(EXIT_SETUP);
	rl.rlim_cur = rl.rlim_max < 200 ? rl.rlim_max : 200;
	if (setrlimit(RLIMIT_NOFILE, &rl) || getrlimit(RLIMIT_CORE, &rl))
		_exit(EXIT_SETUP);
	rl.rlim_cur = 0;
	if (setrlimit(RLIMIT_CORE, &rl))
		_exit(EXIT_SETUP);
}

/*
 * 6. C library state
 */

#define RSEQ_SIG	0x53053053
#define LIST_LEN	1000
#define ERRNO_VALUE	4242

struct node {
	struct node *next;
	unsigned int len;
	unsigned char data[];
};

static char stdout_buf[4096];

static struct {
	struct node *list;
	time_t time;
	struct timespec mono, real;
	pid_t pid, ppid;
	void *robust_head;
	size_t robust_len;
	void *rseq;
	unsigned int rseq_len;
	int err;
} libc;

static void *thread_pointer(void)
{
	void *p;

	__asm__("mov %%fs:0, %0" : "=r"(p));
	return p;
}

/* The length glibc registered its rseq area with, or 0 */
static unsigned int rseq_registered_len(void *area)
{
	unsigned int lens[] = { 32, 20, 0 };
	unsigned int i;

	lens[2] = __rseq_size;
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		if (!lens[i])
			continue;
		if (syscall(__NR_rseq, area, lens[i], 0, RSEQ_SIG) == 0) {
			/* Nothing was registered: the probe did, undo it */
			syscall(__NR_rseq, area, lens[i], 1, RSEQ_SIG);
			return 0;
		}
		if (errno == EBUSY)
			return lens[i];
	}
	return 0;
}

static void libc_verify(bool restarted)
{
	struct timespec ts;
	struct node *n;
	void *head = NULL;
	size_t len = 0;
	char buf[64], path[64];
	unsigned int i;
	time_t t;

	/* Saved by the body right after the system call */
	CHECKF(libc.err == ERRNO_VALUE, "errno %d, was %d", libc.err,
	       ERRNO_VALUE);

	for (n = libc.list, i = 0; n; n = n->next, i++) {
		if (!CHECKF(n->len == 16 + i % 200, "node %u: length %u", i,
			    n->len))
			break;
		CHECK_PAT(n->data, n->len, SEED_LIST, i * 256);
	}
	CHECKF(i == LIST_LEN, "list of %u nodes, was %u", i, LIST_LEN);
	while (libc.list) {
		n = libc.list->next;
		free(libc.list);
		libc.list = n;
	}
	for (i = 0; i < 100; i++) {
		void *p = malloc(i * 1000 + 1);

		if (!CHECK(p))
			break;
		memset(p, 0xa5, i * 1000 + 1);
		free(p);
	}

	snprintf(buf, sizeof(buf), "%d-%s-%x-%05.1f", 42, "abc", 0xbeef, 2.5);
	CHECKF(!strcmp(buf, "42-abc-beef-002.5"), "snprintf gave \"%s\"", buf);

	/* The clocks, through the vDSO */
	t = time(NULL);
	CHECKF(t >= libc.time && t < libc.time + 3600, "time %lld, was %lld",
	       (long long)t, (long long)libc.time);
	CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	CHECK(ts.tv_sec > libc.mono.tv_sec ||
	      (ts.tv_sec == libc.mono.tv_sec && ts.tv_nsec >= libc.mono.tv_nsec));
	CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0);
	CHECK(ts.tv_sec >= libc.real.tv_sec && ts.tv_sec < libc.real.tv_sec + 3600);
	CHECKF(sched_getcpu() >= 0, "sched_getcpu: %s", strerror(errno));

	CHECK(getpid() == syscall(SYS_getpid));
	CHECK(getppid() == libc.ppid);
	if (restarted)
		CHECK(getpid() != libc.pid);
	else
		CHECK(getpid() == libc.pid);
	snprintf(path, sizeof(path), "%d", getpid());
	i = readlink("/proc/self", buf, sizeof(buf) - 1);
	if (CHECK(i > 0 && i < sizeof(buf))) {
		buf[i] = 0;
		CHECKF(!strcmp(buf, path), "/proc/self is %s", buf);
	}

	/* The robust futex list and the rseq area glibc registered */
	CHECK(syscall(SYS_get_robust_list, 0, &head, &len) == 0);
	CHECKF(head == libc.robust_head && len == libc.robust_len,
	       "robust list %p/%zu, was %p/%zu", head, len, libc.robust_head,
	       libc.robust_len);
	if (libc.rseq_len) {
		CHECKF(rseq_registered_len(libc.rseq) == libc.rseq_len,
		       "the rseq area is not registered as it was");
		CHECKF(((volatile int32_t *)libc.rseq)[1] >= 0,
		       "rseq cpu_id %d", ((volatile int32_t *)libc.rseq)[1]);
	}

	/* The buffered "hello " goes to the restarter's standard output */
	if (restarted) {
		printf("world %d\n", getpid());
		CHECK(fflush(stdout) == 0);
	}
}

static void libc_body(void *arg, int imgfd)
{
	struct node **tail = &libc.list;
	unsigned int i;
	long r;

	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	printf("hello ");

	for (i = 0; i < LIST_LEN; i++) {
		struct node *n = malloc(sizeof(*n) + 16 + i % 200);

		if (!n)
			_exit(EXIT_SETUP);
		n->next = NULL;
		n->len = 16 + i % 200;
		pat_fill(n->data, n->len, SEED_LIST, i * 256);
		*tail = n;
		tail = &n->next;
	}

	libc.pid = getpid();
	libc.ppid = getppid();
	if (syscall(SYS_get_robust_list, 0, &libc.robust_head, &libc.robust_len))
		_exit(EXIT_SETUP);
	if (__rseq_size) {
		libc.rseq = (char *)thread_pointer() + __rseq_offset;
		libc.rseq_len = rseq_registered_len(libc.rseq);
	}
	if (!libc.rseq_len)
		cr_log("no rseq area registered by the C library: not checked");

	cr_prepare(imgfd);
	libc.time = time(NULL);
	if (clock_gettime(CLOCK_MONOTONIC, &libc.mono) ||
	    clock_gettime(CLOCK_REALTIME, &libc.real))
		_exit(EXIT_SETUP);

	errno = ERRNO_VALUE;
	r = sys_checkpoint(0, imgfd, 0);
	libc.err = errno;
	cr_finish(r, libc.err, libc_verify);
}

/*
 * madvise() flags and MAP_NORESERVE
 */

#define MADV_LEN	(64UL << 10)

static struct {
	unsigned char *dd, *wf, *dc, *nr;
	char flags[4][128];
} madv;

/* The VmFlags that the image keeps, of the mapping holding @addr */
static int vma_flags(const void *addr, char *out, size_t len)
{
	static const char * const keep[] = {
		"rd", "wr", "ex", "sh", "gd", "dc", "dd", "wf", "nr",
	};
	static char buf[1 << 18];
	unsigned long a = (unsigned long)addr, start, end;
	char *line, *next, *p;
	bool in = false;
	size_t n = 0;
	unsigned int i;

	if (read_file("/proc/self/smaps", buf, sizeof(buf)) < 0)
		return -1;
	for (line = buf; *line; line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			*next++ = 0;
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = start <= a && a < end;
			continue;
		}
		if (!in || strncmp(line, "VmFlags:", 8))
			continue;
		out[0] = 0;
		for (i = 0; i < ARRAY_SIZE(keep); i++) {
			for (p = line + 8; (p = strstr(p, keep[i])); p += 2) {
				if (p[-1] == ' ' && (p[2] == ' ' || !p[2])) {
					n += snprintf(out + n, len - n, "%s ",
						      keep[i]);
					break;
				}
			}
		}
		return 0;
	}
	return -1;
}

static void madv_verify(bool restarted)
{
	unsigned char *regions[4] = { madv.dd, madv.wf, madv.dc, madv.nr };
	unsigned char vec;
	char flags[128];
	int i, status;
	pid_t pid;

	for (i = 0; i < 4; i++)
		if (CHECK(vma_flags(regions[i], flags, sizeof(flags)) == 0))
			CHECKF(!strcmp(flags, madv.flags[i]),
			       "region %d: VmFlags \"%s\", were \"%s\"", i,
			       flags, madv.flags[i]);
	for (i = 0; i < 4; i++)
		CHECK_PAT(regions[i], MADV_LEN, SEED_MADV + i, 0);

	/* And they still work */
	pid = fork();
	if (!CHECK(pid >= 0))
		return;
	if (pid == 0) {
		cr_phase = "fork of the checked process";
		CHECK_PAT(madv.dd, MADV_LEN, SEED_MADV, 0);
		CHECK(all_zero(madv.wf, MADV_LEN));
		CHECK(mincore(madv.dc, pg(), &vec) == -1 && errno == ENOMEM);
		cr_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "forked child: wait status %#x", status);
}

static void madv_body(void *arg, int imgfd)
{
	unsigned char *regions[4];
	long r;
	int i, err;

	for (i = 0; i < 4; i++) {
		regions[i] = mmap(NULL, MADV_LEN, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS |
				  (i == 3 ? MAP_NORESERVE : 0), -1, 0);
		if (regions[i] == MAP_FAILED)
			_exit(EXIT_SETUP);
		pat_fill(regions[i], MADV_LEN, SEED_MADV + i, 0);
	}
	madv.dd = regions[0];
	madv.wf = regions[1];
	madv.dc = regions[2];
	madv.nr = regions[3];
	if (madvise(madv.dd, MADV_LEN, MADV_DONTDUMP) ||
	    madvise(madv.wf, MADV_LEN, MADV_WIPEONFORK) ||
	    madvise(madv.dc, MADV_LEN, MADV_DONTFORK)) {
		cr_log("madvise: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}

	cr_prepare(imgfd);
	for (i = 0; i < 4; i++) {
		if (vma_flags(regions[i], madv.flags[i], sizeof(madv.flags[i]))) {
			cr_log("no /proc/self/smaps entry for %p",
			       (void *)regions[i]);
			_exit(EXIT_SETUP);
		}
	}
	if (!strstr(madv.flags[0], "dd ") || !strstr(madv.flags[1], "wf ") ||
	    !strstr(madv.flags[2], "dc ")) {
		cr_log("madvise() flags not in VmFlags: \"%s\" \"%s\" \"%s\"",
		       madv.flags[0], madv.flags[1], madv.flags[2]);
		_exit(EXIT_SETUP);
	}

	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, madv_verify);
}

/*
 * A simple process: some memory, optionally a private file mapping
 */

#define SIMPLE_LEN	(2UL << 20)

struct simple_args {
	const char *file;	/* file to map, or NULL */
	const char *img2;	/* for chain_body */
};

static struct {
	unsigned char *mem, *fmap;
} simple;

static void simple_verify(bool restarted)
{
	CHECK_PAT(simple.mem, SIMPLE_LEN, SEED_SIMPLE, 0);
	CHECK_PAT(mem_bss, sizeof(mem_bss), SEED_BSS, 0);
	if (simple.fmap)
		CHECK_PAT(simple.fmap, 2 * pg(), SEED_FILE, 0);
}

static void simple_setup(const struct simple_args *a)
{
	unsigned char buf[2 * 4096];
	int fd;

	simple.mem = mmap(NULL, SIMPLE_LEN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (simple.mem == MAP_FAILED)
		_exit(EXIT_SETUP);
	pat_fill(simple.mem, SIMPLE_LEN, SEED_SIMPLE, 0);
	pat_fill(mem_bss, sizeof(mem_bss), SEED_BSS, 0);

	if (a && a->file) {
		pat_fill(buf, sizeof(buf), SEED_FILE, 0);
		if (write_file(a->file, buf, sizeof(buf)))
			_exit(EXIT_SETUP);
		fd = open(a->file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(EXIT_SETUP);
		simple.fmap = mmap(NULL, 2 * pg(), PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (simple.fmap == MAP_FAILED)
			_exit(EXIT_SETUP);
	}
}

static void simple_body(void *arg, int imgfd)
{
	long r;
	int err;

	simple_setup(arg);
	cr_prepare(imgfd);
	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, simple_verify);
}

/* Checkpoint, restart, and checkpoint the restarted process again */
static int chain_gen;

static void chain_body(void *arg, int imgfd)
{
	const struct simple_args *a = arg;
	long r;
	int err, fd;

	simple_setup(NULL);
	cr_prepare(imgfd);
	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	if (r != 0)
		cr_finish(r, err, simple_verify);

	/* Restarted once */
	cr_phase = "restarted";
	simple_verify(true);
	CHECK(chain_gen == 0);
	if (cr_fail_line)
		cr_exit(0);
	chain_gen = 1;
	fd = open(a->img2, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!CHECKF(fd >= 0, "open %s: %s", a->img2, strerror(errno)))
		cr_exit(0);
	cr_prepare(fd);
	r = sys_checkpoint(0, fd, 0);
	err = errno;
	if (r < 0) {
		cr_log("checkpoint of the restarted process: %s", strerror(err));
		_exit(EXIT_CHECKPOINT_FAILED);
	}
	cr_phase = r > 0 ? "restarted, checkpointed" : "restarted twice";
	simple_verify(r == 0);
	CHECK(chain_gen == 1);
	cr_exit(r > 0 ? EXIT_CHECKPOINTED_AGAIN : EXIT_RESTARTED);
}

/*
 * Other tasks
 */

static unsigned char *tgt_mem;
static pid_t tgt_pid;
static volatile unsigned long tgt_spin;

static void target_handler(int sig)
{
	cr_phase = getpid() == tgt_pid ? "target" : "restarted target";
	CHECK(sig == SIGUSR1);
	CHECK_PAT(tgt_mem, SIMPLE_LEN, SEED_TARGET, 0);
	CHECK_PAT(mem_bss, sizeof(mem_bss), SEED_BSS, 0);
	cr_exit(EXIT_RESTARTED);
}

/* What the target does until SIGUSR1 */
enum tgt_mode { TGT_PAUSE, TGT_SPIN, TGT_EBADF };

/*
 * A task that fills its memory, tells it is ready through @ready, then
 * waits for SIGUSR1 in pause(), spinning or failing read(2) calls
 * (@mode).
 */
static void __attribute__((noreturn)) target_main(int ready, int mode)
{
	struct sigaction sa;

	cr_phase = "target";
	tgt_pid = getpid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = target_handler;
	if (sigaction(SIGUSR1, &sa, NULL) || prctl(PR_SET_NAME, "cr_target"))
		_exit(EXIT_SETUP);
	tgt_mem = mmap(NULL, SIMPLE_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tgt_mem == MAP_FAILED)
		_exit(EXIT_SETUP);
	pat_fill(tgt_mem, SIMPLE_LEN, SEED_TARGET, 0);
	pat_fill(mem_bss, sizeof(mem_bss), SEED_BSS, 0);

	cr_prepare(ready);
	if (write(ready, "r", 1) != 1)
		_exit(EXIT_SETUP);
	close(ready);
	if (mode == TGT_SPIN)
		for (;;)
			tgt_spin++;
	/* A system call that fails: stopped, its ax is -EBADF */
	if (mode == TGT_EBADF)
		for (;;)
			syscall(SYS_read, -1, NULL, 0);
	for (;;)
		syscall(SYS_pause);
}

static pid_t start_target_mode(struct __test_metadata *_metadata, int mode)
{
	char c;
	pid_t pid;
	int p[2];

	ASSERT_EQ(0, pipe(p));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		target_main(p[1], mode);
	kid_add(pid);
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	/* The target closed every other descriptor */
	ASSERT_EQ(0, read(p[0], &c, 1));
	close(p[0]);
	return pid;
}

static pid_t start_target(struct __test_metadata *_metadata, bool spin)
{
	return start_target_mode(_metadata, spin ? TGT_SPIN : TGT_PAUSE);
}

/*
 * Refusals
 */

struct refuse_ctx {
	const char *dir;
	int arg;
	int fds[2];
	unsigned char *mem;
};

struct refuse_args {
	char dir[32];
	int err;
	int arg;
	int (*setup)(struct refuse_ctx *c);
	int (*still)(struct refuse_ctx *c);
	int (*undo)(struct refuse_ctx *c);
};

#define REFUSE_LEN	(64UL << 10)

static int fd_setup(struct refuse_ctx *c)
{
	return pipe(c->fds);
}

static int fd_still(struct refuse_ctx *c)
{
	char ch = 0;

	if (write(c->fds[1], "x", 1) != 1 || read(c->fds[0], &ch, 1) != 1)
		return -1;
	return ch == 'x' ? 0 : -1;
}

static int fd_undo(struct refuse_ctx *c)
{
	return close(c->fds[0]) | close(c->fds[1]);
}

static int thread_setup(struct refuse_ctx *c)
{
	return thr_start() ? -1 : thr_alive();
}

static int thread_still(struct refuse_ctx *c)
{
	return thr_alive();
}

static int thread_undo(struct refuse_ctx *c)
{
	return thr_stop_join();
}

/* c->arg: 1 for a child that exits and is left a zombie, 0 for a live one */
static int child_setup(struct refuse_ctx *c)
{
	siginfo_t si;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (c->arg)
			_exit(0);
		for (;;)
			pause();
	}
	c->fds[0] = pid;
	/* A zombie: wait until it exited, without reaping it */
	if (c->arg)
		return waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
	return 0;
}

static int child_still(struct refuse_ctx *c)
{
	siginfo_t si = { 0 };

	if (c->arg)
		return waitid(P_PID, c->fds[0], &si, WEXITED | WNOWAIT) ||
		       si.si_pid != c->fds[0] ? -1 : 0;
	return kill(c->fds[0], 0);
}

static int child_undo(struct refuse_ctx *c)
{
	if (!c->arg && kill(c->fds[0], SIGKILL))
		return -1;
	return waitpid(c->fds[0], NULL, 0) == c->fds[0] ? 0 : -1;
}

static int shared_still(struct refuse_ctx *c)
{
	return pat_check(c->mem, REFUSE_LEN, SEED_REFUSE + 1, 0) < 0 ? 0 : -1;
}

static int munmap_undo(struct refuse_ctx *c)
{
	return munmap(c->mem, REFUSE_LEN);
}

static int shared_deleted_setup(struct refuse_ctx *c)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/shared", c->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, REFUSE_LEN)) {
		close(fd);
		return -1;
	}
	c->mem = mmap(NULL, REFUSE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	close(fd);
	/* A shared mapping of a deleted file is refused */
	if (c->mem != MAP_FAILED && unlink(path))
		return -1;
	if (c->mem == MAP_FAILED)
		return -1;
	pat_fill(c->mem, REFUSE_LEN, SEED_REFUSE + 1, 0);
	return 0;
}

static void refuse_body(void *arg, int imgfd)
{
	const struct refuse_args *a = arg;
	struct refuse_ctx c = { .dir = a->dir, .arg = a->arg };
	volatile unsigned char stack[4096];
	unsigned char *m;
	long r;
	int err;

	m = mmap(NULL, SIMPLE_LEN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(EXIT_SETUP);
	pat_fill(m, SIMPLE_LEN, SEED_REFUSE, 0);
	pat_fill((void *)stack, sizeof(stack), SEED_STACK, 0);

	cr_prepare(imgfd);
	if (a->setup(&c)) {
		cr_log("setting up the refused state: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}

	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_phase = "refused";
	if (r == 0) {
		cr_log("checkpoint returned 0");
		_exit(EXIT_CHECK);
	}
	CHECKF(r == -1 && err == a->err,
	       "checkpoint returned %ld, errno %d (%s); expected -1, errno %d (%s)",
	       r, r < 0 ? err : 0, r < 0 ? strerror(err) : "-", a->err,
	       strerror(a->err));

	/* Nothing changed */
	CHECK_PAT(m, SIMPLE_LEN, SEED_REFUSE, 0);
	CHECK_PAT((void *)stack, sizeof(stack), SEED_STACK, 0);
	CHECKF(a->still(&c) == 0, "the refused state changed: %s",
	       strerror(errno));

	/* Without it, checkpoint works */
	if (!CHECKF(a->undo(&c) == 0, "undoing the refused state: %s",
		    strerror(errno)))
		cr_exit(0);
	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	if (r == 0) {
		cr_log("checkpoint returned 0");
		_exit(EXIT_CHECK);
	}
	CHECKF(r > 0, "checkpoint failed once the refused state was undone: %s",
	       strerror(err));
	CHECK_PAT(m, SIMPLE_LEN, SEED_REFUSE, 0);
	cr_exit(0);
}

/*
 * The tests
 */

FIXTURE(restart) {
	struct cr_dir d;
};

FIXTURE_SETUP(restart)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(restart)
{
	cr_dir_teardown(_metadata, &self->d);
}

/*
 * The heap, brk, anonymous mappings read-write, read-only and
 * inaccessible, an untouched region, the stack, .data and .bss, a private
 * file mapping written to; /proc/self/maps unchanged.
 */
TEST_F_TIMEOUT(restart, memory, TEST_TIMEOUT)
{
	char file[128];

	cr_path(&self->d, "mapped", file, sizeof(file));
	checkpoint_restart(_metadata, &self->d, mem_body, file, mem_pre, NULL);
}

static void registers(struct __test_metadata *_metadata, struct cr_dir *d,
		      bool avx)
{
	checkpoint_restart(_metadata, d, regs_body, &avx, NULL, NULL);
}

/* rbx, rbp, r12-r15, r8-r10, rdi, rsi, rdx, rsp, flags, xmm0-15, fs, gs */
TEST_F_TIMEOUT(restart, registers_sse, TEST_TIMEOUT)
{
	registers(_metadata, &self->d, false);
}

/* Same, with the upper halves of ymm0-15 */
TEST_F_TIMEOUT(restart, registers_avx, TEST_TIMEOUT)
{
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx"))
		SKIP(return, "no AVX");
	registers(_metadata, &self->d, true);
}

/*
 * checkpoint returns the crid of the header in the original, 0 in the
 * restarted process, which runs with the restarter's pid and standard
 * output.
 */
TEST_F_TIMEOUT(restart, return_value_and_pid, TEST_TIMEOUT)
{
	char buf[256];
	int out[2], crid, pid, ppid;
	long got;
	pid_t child;

	ASSERT_EQ(0, pipe(out));
	child = spawn_body(_metadata, pid_body, &out[1], self->d.imgfd);
	close(out[1]);
	expect_exit(_metadata, child, EXIT_CHECKPOINTED, "checkpointing child");
	ASSERT_LT(0, read_all(out[0], buf, sizeof(buf)));
	close(out[0]);
	ASSERT_EQ(2, sscanf(buf, "checkpointed %ld %d", &got, &pid))
		TH_LOG("the checkpointed child wrote \"%s\"", buf);
	ASSERT_EQ(child, pid);
	crid = image_crid(_metadata, self->d.imgfd);
	ASSERT_EQ(crid, got);

	ASSERT_EQ(0, pipe(out));
	child = spawn_restarter(_metadata, &self->d, crid, pre_stdout, &out[1]);
	close(out[1]);
	expect_exit(_metadata, child, EXIT_RESTARTED, "restarted process");
	ASSERT_LT(0, read_all(out[0], buf, sizeof(buf)));
	close(out[0]);
	ASSERT_EQ(2, sscanf(buf, "restarted %d %d", &pid, &ppid))
		TH_LOG("the restarted process wrote \"%s\"", buf);
	EXPECT_EQ(child, pid);
	EXPECT_EQ(getpid(), ppid);
}

/* Handlers, flags, handler masks, SIG_IGN, the blocked mask */
TEST_F_TIMEOUT(restart, signals, TEST_TIMEOUT)
{
	checkpoint_restart(_metadata, &self->d, signals_body, NULL, NULL, NULL);
}

/*
 * comm, umask, rlimits, personality, cwd, exe, auxv, command line,
 * environment, and the addresses of the mm
 */
TEST_F_TIMEOUT(restart, task_state, TEST_TIMEOUT)
{
	char dir[sizeof(self->d.dir)];

	strcpy(dir, self->d.dir);
	checkpoint_restart(_metadata, &self->d, task_body, dir, task_pre, NULL);
}

/*
 * errno, malloc'ed data and malloc itself, stdio buffers, the vDSO clocks,
 * getpid(), the robust list and rseq area registered by the C library
 */
TEST_F_TIMEOUT(restart, libc_state, TEST_TIMEOUT)
{
	char buf[256], expected[64];
	int out[2];
	pid_t pid;

	checkpoint_child(_metadata, &self->d, libc_body, NULL);
	ASSERT_EQ(0, pipe(out));
	pid = spawn_restarter(_metadata, &self->d, 0, pre_stdout, &out[1]);
	close(out[1]);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
	ASSERT_LE(0, read_all(out[0], buf, sizeof(buf)));
	close(out[0]);
	snprintf(expected, sizeof(expected), "hello world %d\n", pid);
	ASSERT_STREQ(expected, buf);
}

/* MADV_DONTDUMP, MADV_WIPEONFORK, MADV_DONTFORK, MAP_NORESERVE */
TEST_F_TIMEOUT(restart, madvise_flags, TEST_TIMEOUT)
{
	checkpoint_restart(_metadata, &self->d, madv_body, NULL, NULL, NULL);
}

/* Another task, running or asleep: EBUSY, and it goes on */
static void other_task_busy(struct __test_metadata *_metadata,
			    struct cr_dir *d, bool spin)
{
	pid_t pid;

	pid = start_target(_metadata, spin);
	if (!spin)
		expect_in_syscall(_metadata, pid, __NR_pause, "target");
	ASSERT_EQ(-1, sys_checkpoint(pid, d->imgfd, 0));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_NE('T', proc_state(pid));
	if (!spin)
		expect_in_syscall(_metadata, pid, __NR_pause, "target");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "target");
}

TEST_F_TIMEOUT(restart, other_task_sleeping, TEST_TIMEOUT)
{
	other_task_busy(_metadata, &self->d, false);
}

TEST_F_TIMEOUT(restart, other_task_running, TEST_TIMEOUT)
{
	other_task_busy(_metadata, &self->d, true);
}

/*
 * A task stopped in pause() by SIGSTOP: checkpointed and left stopped.
 * Continued, it goes on; restarted, it waits in pause() for SIGUSR1.
 */
TEST_F_TIMEOUT(restart, other_task_stopped, TEST_TIMEOUT)
{
	int status;
	long crid;
	pid_t pid;

	pid = start_target(_metadata, false);
	expect_in_syscall(_metadata, pid, __NR_pause, "target");
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);

	crid = sys_checkpoint(pid, self->d.imgfd, 0);
	ASSERT_LT(0, crid)
		TH_LOG("checkpoint of a stopped task: %s", strerror(errno));
	ASSERT_EQ(crid, image_crid(_metadata, self->d.imgfd));

	/* Still stopped, and nothing else happened to it */
	EXPECT_EQ('T', proc_state(pid));
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG | WUNTRACED | WCONTINUED));

	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(pid, waitpid(pid, &status, WCONTINUED));
	ASSERT_TRUE(WIFCONTINUED(status));
	expect_in_syscall(_metadata, pid, __NR_pause, "continued target");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "continued target");

	pid = spawn_restarter(_metadata, &self->d, crid, NULL, NULL);
	expect_in_syscall(_metadata, pid, __NR_pause, "restarted target");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted target");
}

/* A task stopped in read(2) on a terminal */

static char tty_path[64];
static pid_t tty_pid;

/* Blocks in read(2) on the terminal at fd 0; exits 0, or restarted, 42 */
static void tty_reader(void *arg, int imgfd)
{
	char c = 0;
	ssize_t n;
	int fd;

	tty_pid = getpid();
	fd = open(tty_path, O_RDWR | O_NOCTTY);
	if (fd < 0 || dup2(fd, 0) != 0)
		_exit(EXIT_SETUP);
	cr_prepare(-1);
	n = read(0, &c, 1);
	cr_phase = getpid() == tty_pid ? "reader" : "restarted reader";
	CHECKF(n == 1 && c == 'x', "read: %zd, '%c' (%s)", n, c,
	       n < 0 ? strerror(errno) : "-");
	cr_exit(getpid() == tty_pid ? 0 : EXIT_RESTARTED);
}

/* The restarter's fd 0: the same terminal */
static void tty_stdin(void *arg)
{
	int fd = open(tty_path, O_RDWR | O_NOCTTY);

	if (fd < 0 || dup2(fd, 0) != 0) {
		cr_log("%s: %s", tty_path, strerror(errno));
		_exit(EXIT_SETUP);
	}
	close(fd);
}

/*
 * read(2) on a terminal, stopped by SIGSTOP: after restart the call is
 * made again, on the restarter's terminal, and returns what is typed.
 */
TEST_F_TIMEOUT(restart, read_on_tty, TEST_TIMEOUT)
{
	int master, status;
	pid_t pid;

	if (access("/dev/pts/ptmx", F_OK)) {
		mkdir("/dev/pts", 0755);
		if (mount("devpts", "/dev/pts", "devpts", 0, "ptmxmode=666"))
			SKIP(return, "no devpts: %s", strerror(errno));
	}
	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, master);
	ASSERT_EQ(0, grantpt(master));
	ASSERT_EQ(0, unlockpt(master));
	ASSERT_EQ(0, ptsname_r(master, tty_path, sizeof(tty_path)));

	pid = spawn_body(_metadata, tty_reader, NULL, self->d.imgfd);
	expect_in_syscall(_metadata, pid, __NR_read, "reader");
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_LT(0, sys_checkpoint(pid, self->d.imgfd, 0))
		TH_LOG("checkpoint: %s", strerror(errno));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	kid_del(pid);

	pid = spawn_restarter(_metadata, &self->d, 0, tty_stdin, NULL);
	expect_in_syscall(_metadata, pid, __NR_read, "restarted reader");
	ASSERT_EQ(2, write(master, "x\n", 2));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted reader");
	close(master);
}

/* Restart with a log descriptor, a file of the test's */
static void log_restarter(void *arg, int fd)
{
	const char *log = arg;
	long r;
	int lfd;

	cr_prepare(fd);
	lfd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (lfd < 0) {
		cr_log("log %s: %s", log, strerror(errno));
		_exit(EXIT_SETUP);
	}
	r = sys_restart(0, fd, CR_LOGFD(lfd));
	cr_log("restart failed: %ld, %s", r, strerror(errno));
	_exit(EXIT_RESTART_RETURNED);
}

/*
 * A task stopped after a failed system call has a negative ax, which
 * restart returns to it: that is not an error of restart, and nothing may
 * be written to the log descriptor (on a pipe whose reader is gone, that
 * would also send SIGPIPE to the restored task).
 */
TEST_F_TIMEOUT(restart, negative_ax_not_logged, TEST_TIMEOUT)
{
	char log[PATH_MAX], proc[64], comm[32];
	struct stat st;
	int status, i;
	pid_t pid;

	cr_path(&self->d, "log", log, sizeof(log));
	ASSERT_EQ(0, write_file(log, "", 0));
	pid = start_target_mode(_metadata, TGT_EBADF);
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_LT(0, sys_checkpoint(pid, self->d.imgfd, 0));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	kid_del(pid);

	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 log_restarter, log);
	/* Once it is the target again, SIGUSR1 makes it check its memory */
	snprintf(proc, sizeof(proc), "/proc/%d/comm", pid);
	for (i = 0; i < 400; i++) {
		if (read_file(proc, comm, sizeof(comm)) > 0 &&
		    !strcmp(comm, "cr_target\n"))
			break;
		usleep(50 * 1000);
	}
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted target");
	ASSERT_EQ(0, stat(log, &st));
	EXPECT_EQ(0, st.st_size) TH_LOG("restart logged a success");
}

/*
 * A stopped task continued and stopped again while checkpoint writes it:
 * the image would mix two moments, so checkpoint fails with EBUSY (and
 * writes no tail).  Checkpoint writes to a pipe nobody reads until the
 * target has run.
 */
TEST_F_TIMEOUT(restart, other_task_ran_meanwhile, TEST_TIMEOUT)
{
	int p[2], status, queued = 0, i;
	static char buf[65536];
	pid_t pid, cp;
	ssize_t n;

	pid = start_target(_metadata, false);
	expect_in_syscall(_metadata, pid, __NR_pause, "target");
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));

	ASSERT_EQ(0, pipe(p));
	fflush(stdout);
	fflush(stderr);
	cp = fork();
	ASSERT_LE(0, cp);
	if (cp == 0) {
		close(p[0]);
		_exit(sys_checkpoint(pid, p[1], 0) > 0 ? 0 : errno);
	}
	kid_add(cp);
	close(p[1]);

	/*
	 * Until checkpoint has written part of the image and waits for room
	 * in the pipe: the image is larger than the pipe.
	 */
	for (i = 0; i < CHILD_TIMEOUT_MS / 10; i++) {
		ASSERT_EQ(0, ioctl(p[0], FIONREAD, &queued));
		if (queued > 0 && proc_state(cp) == 'S')
			break;
		usleep(10000);
	}
	ASSERT_LT(0, queued);
	ASSERT_EQ('S', proc_state(cp));

	/* The target runs (back into pause()), and is stopped again */
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(pid, waitpid(pid, &status, WCONTINUED));
	expect_in_syscall(_metadata, pid, __NR_pause, "continued target");
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));

	/* Let checkpoint finish: it must notice */
	do
		n = read(p[0], buf, sizeof(buf));
	while (n > 0);
	ASSERT_EQ(0, n);
	close(p[0]);
	expect_exit(_metadata, cp, EBUSY, "checkpointer");

	ASSERT_EQ(0, kill(pid, SIGCONT));
	expect_in_syscall(_metadata, pid, __NR_pause, "continued target");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "target");
}

/*
 * A stopped task with a signal to handle pending, in a system call the
 * signal interrupted: syscalls_test.c, "intr".
 */

/*
 * A task stopped in sigsuspend(): its own signal mask, not the temporary
 * one of the call, is what it has once the call returns after restart.
 */
static volatile sig_atomic_t susp_got;

static void susp_handler(int sig)
{
	susp_got = sig;
}

static void __attribute__((noreturn)) susp_main(void)
{
	struct sigaction sa = { .sa_handler = susp_handler };
	sigset_t both, temp, now;

	cr_phase = "target";
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	sigemptyset(&temp);
	sigaddset(&temp, SIGUSR2);
	if (sigaction(SIGUSR1, &sa, NULL) ||
	    sigprocmask(SIG_SETMASK, &both, NULL))
		_exit(EXIT_SETUP);
	cr_prepare(-1);
	while (!susp_got)
		sigsuspend(&temp);	/* SIGUSR1 let in, SIGUSR2 not */
	cr_phase = "restarted target";
	if (!CHECK(sigprocmask(SIG_SETMASK, NULL, &now) == 0))
		cr_exit(0);
	CHECKF(sigismember(&now, SIGUSR1) && sigismember(&now, SIGUSR2),
	       "after sigsuspend: SIGUSR1 %sblocked, SIGUSR2 %sblocked",
	       sigismember(&now, SIGUSR1) ? "" : "not ",
	       sigismember(&now, SIGUSR2) ? "" : "not ");
	cr_exit(EXIT_RESTARTED);
}

TEST_F_TIMEOUT(restart, other_task_in_sigsuspend, TEST_TIMEOUT)
{
	int status;
	long crid;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		susp_main();
	kid_add(pid);
	expect_in_syscall(_metadata, pid, __NR_rt_sigsuspend, "target");
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	crid = sys_checkpoint(pid, self->d.imgfd, 0);
	ASSERT_LT(0, crid) TH_LOG("checkpoint: %s", strerror(errno));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	kid_del(pid);

	pid = spawn_restarter(_metadata, &self->d, crid, NULL, NULL);
	expect_in_syscall(_metadata, pid, __NR_rt_sigsuspend,
			  "restarted target");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted target");
}

/*
 * A task stopped in a futex wait without a timeout (-ERESTARTSYS): the
 * restarted task waits again; a handler that changes the word ends it.
 */
static volatile int fut_word;

static void fut_handler(int sig)
{
	fut_word = 1;
}

static void __attribute__((noreturn)) fut_main(void)
{
	struct sigaction sa = { .sa_handler = fut_handler,
				.sa_flags = SA_RESTART };

	cr_phase = "target";
	if (sigaction(SIGUSR1, &sa, NULL))
		_exit(EXIT_SETUP);
	cr_prepare(-1);
	while (!fut_word)
		syscall(__NR_futex, &fut_word, FUTEX_WAIT_PRIVATE, 0, NULL,
			NULL, 0);
	cr_exit(EXIT_RESTARTED);
}

TEST_F_TIMEOUT(restart, other_task_in_futex_wait, TEST_TIMEOUT)
{
	int status;
	long crid;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		fut_main();
	kid_add(pid);
	expect_in_syscall(_metadata, pid, __NR_futex, "target");
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	crid = sys_checkpoint(pid, self->d.imgfd, 0);
	ASSERT_LT(0, crid) TH_LOG("checkpoint: %s", strerror(errno));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	kid_del(pid);

	pid = spawn_restarter(_metadata, &self->d, crid, NULL, NULL);
	expect_in_syscall(_metadata, pid, __NR_futex, "restarted target");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted target");
}

/* Restart reads the image from a pipe while checkpoint writes it */
TEST_F_TIMEOUT(restart, from_pipe, TEST_TIMEOUT)
{
	pid_t writer, reader;
	int p[2];

	ASSERT_EQ(0, pipe(p));
	writer = spawn_body(_metadata, simple_body, NULL, p[1]);
	fflush(stdout);
	fflush(stderr);
	reader = fork();
	ASSERT_LE(0, reader);
	if (reader == 0) {
		cr_phase = "restarter";
		restarter_run(p[0], 0);
	}
	kid_add(reader);
	close(p[0]);
	close(p[1]);
	expect_exit(_metadata, writer, EXIT_CHECKPOINTED, "checkpointing child");
	expect_exit(_metadata, reader, EXIT_RESTARTED, "restarted process");
}

/* Two processes restarted at once from one image file */
TEST_F_TIMEOUT(restart, twice_from_one_image, TEST_TIMEOUT)
{
	pid_t a, b;

	checkpoint_child(_metadata, &self->d, simple_body, NULL);
	a = spawn_restarter(_metadata, &self->d, 0, NULL, NULL);
	b = spawn_restarter(_metadata, &self->d, 0, NULL, NULL);
	expect_exit(_metadata, a, EXIT_RESTARTED, "first restarted process");
	expect_exit(_metadata, b, EXIT_RESTARTED, "second restarted process");
}

/* A restarted process checkpoints itself, and that image restarts */
TEST_F_TIMEOUT(restart, checkpoint_restarted, TEST_TIMEOUT)
{
	struct simple_args a = { 0 };
	char img2[128];
	pid_t pid;

	cr_path(&self->d, "image2", img2, sizeof(img2));
	a.img2 = img2;
	checkpoint_child(_metadata, &self->d, chain_body, &a);
	pid = spawn_restarter(_metadata, &self->d, 0, NULL, NULL);
	expect_exit(_metadata, pid, EXIT_CHECKPOINTED_AGAIN,
		    "restarted process");
	pid = spawn_restarter_fn(_metadata, img2, 0, NULL, NULL, NULL);
	expect_exit(_metadata, pid, EXIT_RESTARTED,
		    "process restarted from the second image");
}

/* In a restarter: fail with the wrong crid, then restart with the right one */
static void wrong_crid_restarter(void *arg, int fd)
{
	int crid = *(int *)arg;
	int wrong = crid == INT_MAX ? crid - 1 : crid + 1;
	long r;

	cr_prepare(fd);
	r = sys_restart(wrong, fd, 0);
	if (!CHECKF(r == -1 && errno == EINVAL,
		    "restart with crid %d instead of %d: %ld, errno %d", wrong,
		    crid, r, r ? errno : 0))
		cr_exit(0);
	if (!CHECK(lseek(fd, 0, SEEK_SET) == 0))
		cr_exit(0);
	restarter_run(fd, crid);
}

TEST_F_TIMEOUT(restart, wrong_crid, TEST_TIMEOUT)
{
	pid_t pid;
	int crid;

	checkpoint_child(_metadata, &self->d, simple_body, NULL);
	crid = image_crid(_metadata, self->d.imgfd);
	pid = spawn_restarter_fn(_metadata, self->d.img, crid, NULL,
				 wrong_crid_restarter, &crid);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
}

/* In a restarter: fail with a second thread, then restart without it */
static void threaded_restarter(void *arg, int fd)
{
	long r;

	pat_fill(mem_bss, sizeof(mem_bss), SEED_RESTARTER, 0);
	cr_prepare(fd);
	if (thr_start() || thr_alive()) {
		cr_log("thread: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
	r = sys_restart(0, fd, 0);
	if (!CHECKF(r == -1 && errno == EBUSY,
		    "restart by a multithreaded process: %ld, errno %d", r,
		    r ? errno : 0))
		cr_exit(0);
	CHECK_PAT(mem_bss, sizeof(mem_bss), SEED_RESTARTER, 0);
	CHECK(thr_alive() == 0);
	if (!CHECKF(thr_stop_join() == 0, "stopping the thread: %s",
		    strerror(errno)))
		cr_exit(0);
	if (!CHECK(lseek(fd, 0, SEEK_SET) == 0))
		cr_exit(0);
	restarter_run(fd, 0);
}

/*
 * The restarter's TLS descriptors (set_thread_area) are not the restored
 * task's: like execve, restart clears them.  64-bit tasks can only set them
 * through the 32-bit system call entry (int $0x80), which needs a kernel
 * with CONFIG_IA32_EMULATION.
 */
#define TLS_ENTRY_MIN		12	/* GDT_ENTRY_TLS_MIN of x86_64 */
#define TLS_ENTRIES		3
#define TLS_BASE		0x12345000U
#define NR32_SET_THREAD_AREA	243
#define NR32_GET_THREAD_AREA	244

/* A 32-bit system call taking a pointer, which must be below 4 GiB */
static long int80(long nr, void *arg)
{
	long ret;

	asm volatile ("int $0x80" : "=a" (ret) : "0" (nr), "b" (arg)
		      : "memory");
	return ret;
}

static struct user_desc *tls_desc(void)
{
	static struct user_desc *d;

	if (!d) {
		d = mmap(NULL, pg(), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		if (d == MAP_FAILED)
			d = NULL;
	}
	return d;
}

static void tls_verify(bool restarted)
{
	struct user_desc *d = tls_desc();
	long r;
	int i;

	if (!CHECK(d))
		return;
	for (i = 0; i < TLS_ENTRIES; i++) {
		memset(d, 0, sizeof(*d));
		d->entry_number = TLS_ENTRY_MIN + i;
		r = int80(NR32_GET_THREAD_AREA, d);
		if (!CHECKF(r == 0, "get_thread_area(%d): %ld",
			    TLS_ENTRY_MIN + i, r))
			continue;
		CHECKF(d->base_addr == 0 && d->limit == 0,
		       "TLS entry %u: base %#x limit %#x", d->entry_number,
		       d->base_addr, d->limit);
	}
}

static void tls_body(void *arg, int imgfd)
{
	long r;
	int err;

	cr_prepare(imgfd);
	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, tls_verify);
}

static void tls_pre(void *arg)
{
	struct user_desc *d = tls_desc();

	if (!CHECK(d))
		cr_exit(0);
	memset(d, 0, sizeof(*d));
	d->entry_number = -1;
	d->base_addr = TLS_BASE;
	d->limit = 0xfff;
	d->seg_32bit = 1;
	d->useable = 1;
	if (!CHECK(int80(NR32_SET_THREAD_AREA, d) == 0))
		cr_exit(0);
	d->base_addr = 0;
	if (!CHECK(int80(NR32_GET_THREAD_AREA, d) == 0) ||
	    !CHECK(d->base_addr == TLS_BASE))
		cr_exit(0);
}

/* Whether int $0x80 works: it kills a task of a kernel without it */
static bool have_int80(void)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		struct user_desc *d = tls_desc();

		if (!d)
			_exit(1);
		d->entry_number = TLS_ENTRY_MIN;
		_exit(int80(NR32_GET_THREAD_AREA, d) == 0 ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST_F_TIMEOUT(restart, restarter_tls_cleared, TEST_TIMEOUT)
{
	if (!have_int80())
		SKIP(return, "no 32-bit system calls (CONFIG_IA32_EMULATION)");
	checkpoint_restart(_metadata, &self->d, tls_body, NULL, tls_pre, NULL);
}

TEST_F_TIMEOUT(restart, multithreaded_restarter, TEST_TIMEOUT)
{
	pid_t pid;

	checkpoint_child(_metadata, &self->d, simple_body, NULL);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 threaded_restarter, NULL);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
}

/*
 * In a restarter: with an alarm armed, then with a signal pending, restart
 * fails with EBUSY (the task of the image had neither); without them it
 * restarts.
 */
static void busy_caller_restarter(void *arg, int fd)
{
	sigset_t usr1, old;
	long r;

	pat_fill(mem_bss, sizeof(mem_bss), SEED_RESTARTER, 0);
	cr_prepare(fd);
	alarm(1000);
	r = sys_restart(0, fd, 0);
	if (!CHECKF(r == -1 && errno == EBUSY,
		    "restart with an alarm armed: %ld, errno %d", r,
		    r ? errno : 0))
		cr_exit(0);
	alarm(0);
	if (!CHECK(lseek(fd, 0, SEEK_SET) == 0))
		cr_exit(0);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (!CHECK(sigprocmask(SIG_BLOCK, &usr1, &old) == 0) ||
	    !CHECK(kill(getpid(), SIGUSR1) == 0))
		cr_exit(0);
	r = sys_restart(0, fd, 0);
	if (!CHECKF(r == -1 && errno == EBUSY,
		    "restart with a signal pending: %ld, errno %d", r,
		    r ? errno : 0))
		cr_exit(0);
	CHECK_PAT(mem_bss, sizeof(mem_bss), SEED_RESTARTER, 0);
	signal(SIGUSR1, SIG_IGN);
	if (!CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0) ||
	    !CHECK(lseek(fd, 0, SEEK_SET) == 0))
		cr_exit(0);
	signal(SIGUSR1, SIG_DFL);
	restarter_run(fd, 0);
}

TEST_F_TIMEOUT(restart, busy_restarter, TEST_TIMEOUT)
{
	pid_t pid;

	checkpoint_child(_metadata, &self->d, simple_body, NULL);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 busy_caller_restarter, NULL);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
}

/* In a restarter: restart fails with ENOENT, the restarter goes on */
static void enoent_restarter(void *arg, int fd)
{
	long r;

	pat_fill(mem_bss, sizeof(mem_bss), SEED_RESTARTER, 0);
	cr_prepare(fd);
	r = sys_restart(0, fd, 0);
	CHECKF(r == -1 && errno == ENOENT,
	       "restart without the mapped file: %ld, errno %d (%s)", r,
	       r ? errno : 0, r ? strerror(errno) : "-");
	CHECK_PAT(mem_bss, sizeof(mem_bss), SEED_RESTARTER, 0);
	CHECK(getppid() == *(pid_t *)arg);
	cr_exit(0);
}

TEST_F_TIMEOUT(restart, deleted_mapped_file, TEST_TIMEOUT)
{
	struct simple_args a = { 0 };
	char file[128];
	pid_t pid, self_pid = getpid();

	cr_path(&self->d, "mapped", file, sizeof(file));
	a.file = file;
	checkpoint_child(_metadata, &self->d, simple_body, &a);

	/* The image is good */
	pid = spawn_restarter(_metadata, &self->d, 0, NULL, NULL);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");

	ASSERT_EQ(0, unlink(file));
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 enoent_restarter, &self_pid);
	expect_exit(_metadata, pid, 0, "restarter");
}

/*
 * Address spaces: shared with another process (CLONE_VM), refused; held
 * for a while by a /proc reader, not shared; registered with userfaultfd,
 * refused until the registration is gone.
 */

/* Empty the log of checkpoint or restart (CR_LOGFD) for the next call */
static void log_reset(int log)
{
	if (ftruncate(log, 0) || lseek(log, 0, SEEK_SET))
		cr_log("log: %s", strerror(errno));
}

static int log_open(struct __test_metadata *_metadata, struct cr_dir *d)
{
	char path[96];
	int log;

	cr_path(d, "log", path, sizeof(path));
	log = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, log);
	return log;
}

static int uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether userfaultfd(2) works here (errno says why not) */
static bool have_uffd(void)
{
	int u = uffd_open();

	if (u < 0)
		return false;
	close(u);
	return true;
}

/* A page of new memory, registered with @uffd for missing pages */
static void *uffd_page(int uffd)
{
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	void *p = mmap(NULL, pg(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	reg.range.start = (unsigned long)p;
	reg.range.len = pg();
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		munmap(p, pg());
		return NULL;
	}
	return p;
}

/*
 * A reader of /proc/PID/mem holding the address space of PID: read(2)
 * takes a reference to it (mm_users), copies a page of it and writes it
 * to a page registered with userfaultfd, where it waits until released.
 */
struct mm_holder {
	int mem, uffd;
	void *buf;
	const void *addr;
	pthread_t thr;
	ssize_t got;
	int err;
	bool done;
};

static void *holder_fn(void *arg)
{
	struct mm_holder *h = arg;

	h->got = pread(h->mem, h->buf, pg(), (off_t)(unsigned long)h->addr);
	h->err = errno;
	__atomic_store_n(&h->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Hold the address space of @pid; the reader reads its page at @addr */
static void hold_mm(struct __test_metadata *_metadata, struct mm_holder *h,
		    pid_t pid, const void *addr)
{
	struct pollfd pfd;
	struct uffd_msg m;
	char path[64];
	int i;

	memset(h, 0, sizeof(*h));
	h->uffd = uffd_open();
	ASSERT_LE(0, h->uffd) TH_LOG("userfaultfd: %s", strerror(errno));
	h->buf = uffd_page(h->uffd);
	ASSERT_NE(NULL, h->buf);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	h->mem = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, h->mem) TH_LOG("%s: %s", path, strerror(errno));
	h->addr = addr;
	ASSERT_EQ(0, pthread_create(&h->thr, NULL, holder_fn, h));
	/* The reader faults on its page: it holds the address space */
	pfd.fd = h->uffd;
	pfd.events = POLLIN;
	for (i = 0; i < CHILD_TIMEOUT_MS / 10; i++)
		if (poll(&pfd, 1, 10) == 1 ||
		    __atomic_load_n(&h->done, __ATOMIC_ACQUIRE))
			break;
	ASSERT_FALSE(__atomic_load_n(&h->done, __ATOMIC_ACQUIRE))
		TH_LOG("read of %s: %zd, %s", path, h->got, strerror(h->err));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(sizeof(m), read(h->uffd, &m, sizeof(m)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, m.event);
	ASSERT_EQ((unsigned long)h->buf,
		  m.arg.pagefault.address & ~(pg() - 1));
}

/* Let the reader go: it read a page; its copy is in h->buf */
static void release_mm(struct __test_metadata *_metadata, struct mm_holder *h)
{
	struct uffdio_copy c = { .len = pg() };
	void *src = calloc(1, pg());

	ASSERT_NE(NULL, src);
	c.dst = (unsigned long)h->buf;
	c.src = (unsigned long)src;
	/* Fill the page: the reader then copies into it and returns */
	ASSERT_EQ(0, ioctl(h->uffd, UFFDIO_COPY, &c));
	ASSERT_EQ(0, pthread_join(h->thr, NULL));
	free(src);
	close(h->mem);
	close(h->uffd);
	ASSERT_EQ((ssize_t)pg(), h->got) TH_LOG("read: %s", strerror(h->err));
}

/* Wait for the name of @pid to become @comm (restart restores it) */
static void expect_comm(struct __test_metadata *_metadata, pid_t pid,
			const char *comm, const char *what)
{
	char path[64], buf[32] = "", desc[128];
	int i, status;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	for (i = 0; i < CHILD_TIMEOUT_MS / 10; i++) {
		if (read_file(path, buf, sizeof(buf)) > 0 &&
		    !strcmp(buf, comm))
			return;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			kid_del(pid);
			describe_status(status, desc, sizeof(desc));
			ASSERT_TRUE(false) TH_LOG("%s, pid %d: %s", what, pid,
						  desc);
		}
		usleep(10000);
	}
	ASSERT_STREQ(comm, buf) TH_LOG("%s, pid %d", what, pid);
}

/*
 * A task whose address space a /proc reader holds shares it with nobody:
 * it is checkpointed, alone and as a tree, and both images restart.
 */
TEST_F_TIMEOUT(restart, mm_held_by_reader, TEST_TIMEOUT)
{
	struct mm_holder h;
	long crid, tcrid;
	char msg[512];
	pid_t pid, root;
	int log, tfd;
	char timg[96];

	if (!have_uffd())
		SKIP(return, "userfaultfd: %s", strerror(errno));
	cr_path(&self->d, "tree.img", timg, sizeof(timg));
	tfd = open(timg, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, tfd);
	log = log_open(_metadata, &self->d);
	pid = start_target(_metadata, false);
	expect_in_syscall(_metadata, pid, __NR_pause, "target");
	stop_child(_metadata, pid);
	hold_mm(_metadata, &h, pid, mem_bss);

	crid = sys_checkpoint(pid, self->d.imgfd, CR_LOGFD(log));
	cr_read_log(log, msg, sizeof(msg));
	EXPECT_LT(0, crid) TH_LOG("checkpoint: %s: %s", strerror(errno), msg);
	log_reset(log);
	tcrid = sys_checkpoint(pid, tfd, CR_CHECKPOINT_TREE | CR_LOGFD(log));
	cr_read_log(log, msg, sizeof(msg));
	EXPECT_LT(0, tcrid) TH_LOG("checkpoint of the tree: %s: %s",
				   strerror(errno), msg);

	release_mm(_metadata, &h);
	/* What the reader read: the target's .bss */
	EXPECT_EQ(-1, pat_check(h.buf, pg(), SEED_BSS, 0));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "target");
	ASSERT_LT(0, crid);
	ASSERT_LT(0, tcrid);

	pid = spawn_restarter(_metadata, &self->d, crid, NULL, NULL);
	expect_in_syscall(_metadata, pid, __NR_pause, "restarted target");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted target");

	ASSERT_EQ(0, lseek(tfd, 0, SEEK_SET));
	root = sys_restart(tcrid, tfd, CR_RESTART_TREE | CR_RESTART_NEW_PIDS);
	ASSERT_LT(0, root) TH_LOG("restart of the tree: %s", strerror(errno));
	kid_add(root);
	expect_in_syscall(_metadata, root, __NR_pause, "restarted tree");
	ASSERT_EQ(0, kill(root, SIGUSR1));
	expect_exit(_metadata, root, EXIT_RESTARTED, "restarted tree");
	close(tfd);
	close(log);
}

/* In a restarter: wait for SIGUSR2 (taken, not left pending), restart */
static void held_restarter(void *arg, int fd)
{
	sigset_t usr2;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &usr2, NULL))
		_exit(EXIT_SETUP);
	cr_prepare(fd);
	while (sigwaitinfo(&usr2, NULL) != SIGUSR2)
		;
	if (sigprocmask(SIG_UNBLOCK, &usr2, NULL))
		_exit(EXIT_SETUP);
	restarter_run(fd, 0);
}

/* The caller of restart, its address space held by a /proc reader */
TEST_F_TIMEOUT(restart, mm_held_restarter, TEST_TIMEOUT)
{
	struct mm_holder h;
	long crid;
	pid_t pid;

	if (!have_uffd())
		SKIP(return, "userfaultfd: %s", strerror(errno));
	pid = start_target(_metadata, false);
	expect_in_syscall(_metadata, pid, __NR_pause, "target");
	stop_child(_metadata, pid);
	crid = sys_checkpoint(pid, self->d.imgfd, 0);
	ASSERT_LT(0, crid) TH_LOG("checkpoint: %s", strerror(errno));
	kill_child(_metadata, pid);

	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 held_restarter, NULL);
	expect_in_syscall(_metadata, pid, __NR_rt_sigtimedwait, "restarter");
	hold_mm(_metadata, &h, pid, mem_bss);
	ASSERT_EQ(0, kill(pid, SIGUSR2));
	/* Restarted while the reader holds it, or exited on a failure */
	expect_comm(_metadata, pid, "cr_target\n", "restarted target");
	expect_in_syscall(_metadata, pid, __NR_pause, "restarted target");
	release_mm(_metadata, &h);
	/* The reader copied the restarter's .bss, zero, before restart */
	EXPECT_TRUE(all_zero(h.buf, pg()));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted target");
}

/* A process that shares its address space with its parent (CLONE_VM) */

static int vm_child_fn(void *arg)
{
	for (;;)
		syscall(SYS_pause);
	return 0;
}

#define VM_STACK_LEN	(64 << 10)

/* Clone a CLONE_VM child running @fn(@arg) on a stack of its own */
static pid_t clone_vm(int (*fn)(void *), void *arg)
{
	char *stack = mmap(NULL, VM_STACK_LEN, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (stack == MAP_FAILED)
		return -1;
	return clone(fn, stack + VM_STACK_LEN, CLONE_VM | SIGCHLD, arg);
}

/* A parent whose CLONE_VM child writes its pid in @ready, then waits */
static void vm_parent_main(int ready)
{
	pid_t t = clone_vm(vm_child_fn, NULL);

	if (t < 0 || write(ready, &t, sizeof(t)) != sizeof(t))
		_exit(EXIT_SETUP);
	close(ready);
	for (;;)
		syscall(SYS_pause);
}

/* A task that shares its address space with its parent: EBUSY */
TEST_F_TIMEOUT(restart, clone_vm_target, TEST_TIMEOUT)
{
	char msg[512];
	pid_t parent, t;
	int p[2], log;
	long r;

	log = log_open(_metadata, &self->d);
	ASSERT_EQ(0, pipe(p));
	fflush(stdout);
	fflush(stderr);
	parent = fork();
	ASSERT_LE(0, parent);
	if (parent == 0) {
		close(p[0]);
		vm_parent_main(p[1]);
	}
	kid_add(parent);
	close(p[1]);
	ASSERT_EQ(sizeof(t), read(p[0], &t, sizeof(t)));
	close(p[0]);
	expect_in_syscall(_metadata, t, __NR_pause, "CLONE_VM child");
	ASSERT_EQ(0, kill(t, SIGSTOP));
	for (r = 0; r < CHILD_TIMEOUT_MS / 10 && proc_state(t) != 'T'; r++)
		usleep(10000);
	ASSERT_EQ('T', proc_state(t));

	r = sys_checkpoint(t, self->d.imgfd, CR_LOGFD(log));
	cr_read_log(log, msg, sizeof(msg));
	EXPECT_EQ(-1, r);
	EXPECT_EQ(EBUSY, errno);
	EXPECT_NE(NULL, strstr(msg, "shares its address space"))
		TH_LOG("reason: %s", msg);
	/* Not harmed: continued, it goes on */
	ASSERT_EQ(0, kill(t, SIGCONT));
	expect_in_syscall(_metadata, t, __NR_pause, "continued child");
	kill(t, SIGKILL);
	kill_child(_metadata, parent);
	close(log);
}

struct vm_restart {
	int fd, log;
};

/* A CLONE_VM child of a restarter: restart; exits with the errno */
static int vm_restart_fn(void *arg)
{
	struct vm_restart *v = arg;
	long r = syscall(__NR_restart, 0, v->fd, CR_LOGFD(v->log));

	return r == -1 ? errno : 0;
}

/*
 * In a restarter: its CLONE_VM child cannot restart (EBUSY); once the
 * child is gone the restarter can.
 */
static void vm_restarter(void *arg, int fd)
{
	struct vm_restart v = { .fd = fd };
	char msg[512] = "";
	int p[2], status;
	pid_t c;

	cr_prepare(fd);
	if (!CHECK(pipe2(p, O_NONBLOCK) == 0))
		cr_exit(0);
	v.log = p[1];
	c = clone_vm(vm_restart_fn, &v);
	if (!CHECK(c > 0) || !CHECK(waitpid(c, &status, 0) == c))
		cr_exit(0);
	cr_read_log(p[0], msg, sizeof(msg));
	if (!CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == EBUSY,
		    "restart by a CLONE_VM child: status %#x", status) ||
	    !CHECKF(strstr(msg, "the caller shares its address space"),
		    "reason: %s", msg) ||
	    !CHECK(lseek(fd, 0, SEEK_SET) == 0))
		cr_exit(0);
	restarter_run(fd, 0);
}

TEST_F_TIMEOUT(restart, clone_vm_restarter, TEST_TIMEOUT)
{
	pid_t pid;

	checkpoint_child(_metadata, &self->d, simple_body, NULL);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 vm_restarter, NULL);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
}

/* Memory registered with userfaultfd */

/*
 * A target with a page registered with userfaultfd: it sends the number
 * of its userfaultfd descriptor through @ready, waits for a byte on @go,
 * closes every descriptor and waits in pause() for SIGUSR1.
 */
static void uffd_target_main(int ready, int go)
{
	struct sigaction sa = { .sa_handler = target_handler };
	char c;
	int u;

	cr_phase = "target";
	tgt_pid = getpid();
	tgt_mem = mmap(NULL, SIMPLE_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u = uffd_open();
	if (tgt_mem == MAP_FAILED || u < 0 || !uffd_page(u) ||
	    sigaction(SIGUSR1, &sa, NULL))
		_exit(EXIT_SETUP);
	pat_fill(tgt_mem, SIMPLE_LEN, SEED_TARGET, 0);
	pat_fill(mem_bss, sizeof(mem_bss), SEED_BSS, 0);
	if (write(ready, &u, sizeof(u)) != sizeof(u) ||
	    read(go, &c, 1) != 1)
		_exit(EXIT_SETUP);
	cr_prepare(-1);
	for (;;)
		syscall(SYS_pause);
}

/*
 * Its userfaultfd held by another process, the target's registered page
 * is refused (EOPNOTSUPP); once that descriptor is closed, the page is
 * ordinary memory and the target is checkpointed and restarted.
 */
TEST_F_TIMEOUT(restart, userfaultfd_target, TEST_TIMEOUT)
{
	int ready[2], go[2], log, u, pidfd, mine;
	char msg[512];
	long crid;
	pid_t pid;

	if (!have_uffd())
		SKIP(return, "userfaultfd: %s", strerror(errno));
	log = log_open(_metadata, &self->d);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		uffd_target_main(ready[1], go[0]);
	}
	kid_add(pid);
	close(ready[1]);
	close(go[0]);
	ASSERT_EQ(sizeof(u), read(ready[0], &u, sizeof(u)));
	pidfd = syscall(__NR_pidfd_open, pid, 0);
	ASSERT_LE(0, pidfd);
	mine = syscall(__NR_pidfd_getfd, pidfd, u, 0);
	ASSERT_LE(0, mine) TH_LOG("pidfd_getfd: %s", strerror(errno));
	close(pidfd);
	ASSERT_EQ(1, write(go[1], "g", 1));
	close(go[1]);
	close(ready[0]);
	expect_in_syscall(_metadata, pid, __NR_pause, "target");
	stop_child(_metadata, pid);

	crid = sys_checkpoint(pid, self->d.imgfd, CR_LOGFD(log));
	cr_read_log(log, msg, sizeof(msg));
	EXPECT_EQ(-1, crid);
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_NE(NULL, strstr(msg, "userfaultfd mapping"))
		TH_LOG("reason: %s", msg);

	/* The last reference to the userfaultfd: the registration goes */
	close(mine);
	log_reset(log);
	ASSERT_EQ(0, ftruncate(self->d.imgfd, 0));
	ASSERT_EQ(0, lseek(self->d.imgfd, 0, SEEK_SET));
	crid = sys_checkpoint(pid, self->d.imgfd, CR_LOGFD(log));
	cr_read_log(log, msg, sizeof(msg));
	ASSERT_LT(0, crid) TH_LOG("checkpoint: %s: %s", strerror(errno), msg);
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "target");

	pid = spawn_restarter(_metadata, &self->d, crid, NULL, NULL);
	expect_in_syscall(_metadata, pid, __NR_pause, "restarted target");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted target");
	close(log);
}

/*
 * In a restarter with a page registered with userfaultfd: EBUSY; once
 * its userfaultfd is closed, the restart works.
 */
static void uffd_restarter(void *arg, int fd)
{
	char msg[512] = "";
	int u, p[2];
	long r;

	cr_prepare(fd);
	u = uffd_open();
	if (!CHECK(u >= 0) || !CHECK(uffd_page(u)) ||
	    !CHECK(pipe2(p, O_NONBLOCK) == 0))
		cr_exit(0);
	r = sys_restart(0, fd, CR_LOGFD(p[1]));
	cr_read_log(p[0], msg, sizeof(msg));
	if (!CHECKF(r == -1 && errno == EBUSY,
		    "restart with userfaultfd memory: %ld, errno %d", r,
		    r ? errno : 0) ||
	    !CHECKF(strstr(msg, "the caller has userfaultfd memory"),
		    "reason: %s", msg) ||
	    !CHECK(close(u) == 0) || !CHECK(lseek(fd, 0, SEEK_SET) == 0))
		cr_exit(0);
	restarter_run(fd, 0);
}

TEST_F_TIMEOUT(restart, userfaultfd_restarter, TEST_TIMEOUT)
{
	pid_t pid;

	if (!have_uffd())
		SKIP(return, "userfaultfd: %s", strerror(errno));
	checkpoint_child(_metadata, &self->d, simple_body, NULL);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 uffd_restarter, NULL);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
}

/* Each state phase 1 refuses to checkpoint */

FIXTURE(refuse) {
	struct cr_dir d;
};

FIXTURE_VARIANT(refuse) {
	int err;
	int arg;
	int (*setup)(struct refuse_ctx *c);
	int (*still)(struct refuse_ctx *c);
	int (*undo)(struct refuse_ctx *c);
};

FIXTURE_VARIANT_ADD(refuse, open_fd) {
	.err = EOPNOTSUPP,
	.setup = fd_setup, .still = fd_still, .undo = fd_undo,
};

FIXTURE_VARIANT_ADD(refuse, thread) {
	.err = EBUSY,
	.setup = thread_setup, .still = thread_still, .undo = thread_undo,
};

FIXTURE_VARIANT_ADD(refuse, child) {
	.err = EBUSY,
	.setup = child_setup, .still = child_still, .undo = child_undo,
};

FIXTURE_VARIANT_ADD(refuse, zombie_child) {
	.err = EBUSY, .arg = 1,
	.setup = child_setup, .still = child_still, .undo = child_undo,
};

FIXTURE_VARIANT_ADD(refuse, shared_deleted_file) {
	.err = EOPNOTSUPP,
	.setup = shared_deleted_setup, .still = shared_still,
	.undo = munmap_undo,
};

FIXTURE_SETUP(refuse)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(refuse)
{
	cr_dir_teardown(_metadata, &self->d);
}

/*
 * checkpoint fails with the variant's errno; the process is unharmed, the
 * refused state is still there, and once it is undone checkpoint works.
 */
TEST_F_TIMEOUT(refuse, checkpoint, TEST_TIMEOUT)
{
	struct refuse_args a = {
		.err = variant->err, .arg = variant->arg,
		.setup = variant->setup, .still = variant->still,
		.undo = variant->undo,
	};
	pid_t pid;

	strcpy(a.dir, self->d.dir);
	pid = spawn_body(_metadata, refuse_body, &a, self->d.imgfd);
	expect_exit(_metadata, pid, 0, "checkpointing child");
}

/* Restart by a caller whose credentials differ from the image's */

struct creds_ctx {
	gid_t groups[256];
	int ngroups;
	uid_t uid;
	gid_t gid;
	struct __user_cap_header_struct caph;
	struct __user_cap_data_struct caps[2];
};

static int groups_change(struct creds_ctx *c)
{
	gid_t g = 4242;

	c->ngroups = getgroups(ARRAY_SIZE(c->groups), c->groups);
	if (c->ngroups < 0)
		return -1;
	if (c->ngroups == 1 && c->groups[0] == g)
		g++;
	return setgroups(1, &g);
}

static int groups_undo(struct creds_ctx *c)
{
	return setgroups(c->ngroups, c->groups);
}

static int gid_change(struct creds_ctx *c)
{
	c->gid = getgid();
	return setresgid(c->gid == 4242 ? 4243 : 4242, -1, -1);
}

static int gid_undo(struct creds_ctx *c)
{
	return setresgid(c->gid, -1, -1);
}

static int uid_change(struct creds_ctx *c)
{
	c->uid = getuid();
	return setresuid(c->uid == 4242 ? 4243 : 4242, -1, -1);
}

static int uid_undo(struct creds_ctx *c)
{
	return setresuid(c->uid, -1, -1);
}

static int caps_change(struct creds_ctx *c)
{
	struct __user_cap_data_struct caps[2];
	int cap;

	c->caph.version = _LINUX_CAPABILITY_VERSION_3;
	c->caph.pid = 0;
	if (syscall(SYS_capget, &c->caph, c->caps))
		return -1;
	memcpy(caps, c->caps, sizeof(caps));
	/* Drop the first effective capability from the effective set */
	for (cap = 0; cap < 64; cap++) {
		if (caps[cap / 32].effective & (1U << (cap % 32))) {
			caps[cap / 32].effective &= ~(1U << (cap % 32));
			return syscall(SYS_capset, &c->caph, caps);
		}
	}
	errno = EPERM;
	return -1;
}

static int caps_undo(struct creds_ctx *c)
{
	return syscall(SYS_capset, &c->caph, c->caps);
}

FIXTURE(creds) {
	struct cr_dir d;
};

FIXTURE_VARIANT(creds) {
	int (*change)(struct creds_ctx *c);
	int (*undo)(struct creds_ctx *c);
};

FIXTURE_VARIANT_ADD(creds, groups) {
	.change = groups_change, .undo = groups_undo,
};

FIXTURE_VARIANT_ADD(creds, gid) {
	.change = gid_change, .undo = gid_undo,
};

FIXTURE_VARIANT_ADD(creds, uid) {
	.change = uid_change, .undo = uid_undo,
};

FIXTURE_VARIANT_ADD(creds, capabilities) {
	.change = caps_change, .undo = caps_undo,
};

FIXTURE_SETUP(creds)
{
	REQUIRE_CHECKPOINT();
	if (geteuid())
		SKIP(return, "changing credentials needs root");
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(creds)
{
	cr_dir_teardown(_metadata, &self->d);
}

/*
 * In a restarter, as root, with other credentials: root may set the
 * image's, so the restart works (creds_test checks the ids restored).
 */
static void creds_restarter(void *arg, int fd)
{
	const FIXTURE_VARIANT(creds) *v = arg;
	struct creds_ctx c;

	cr_prepare(fd);
	if (v->change(&c)) {
		cr_log("changing credentials: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
	restarter_run(fd, 0);
}

TEST_F_TIMEOUT(creds, mismatch, TEST_TIMEOUT)
{
	pid_t pid;

	checkpoint_child(_metadata, &self->d, simple_body, NULL);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 creds_restarter, (void *)variant);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
}

TEST_HARNESS_MAIN
