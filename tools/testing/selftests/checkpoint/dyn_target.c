// SPDX-License-Identifier: GPL-2.0
/*
 * dyn_target: the dynamically linked program of dynamic_test.
 *
 * Unlike the other test programs it is linked with the shared C library,
 * so that its address space has what every ordinary program has: ld.so and
 * libc.so mapped from their files, a TLS block that glibc set up and
 * reaches through fs_base, the rseq area glibc registered, lazily bound
 * PLT entries that ld.so resolves on first call.
 *
 *   dyn_target probe   exit 0 if it runs and glibc registered rseq
 *                      (DYN_EXIT_NO_RSEQ if not)
 *   dyn_target FD      set up its state, checkpoint itself into FD, check
 *                      its state: exit EXIT_CHECKPOINTED as the original,
 *                      EXIT_RESTARTED as the restarted process; a failed
 *                      check exits EXIT_CHECK + line (see cr_harness.h)
 */

/* The harness's runner, not used here */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "cr_harness.h"
#include "dyn_target.h"

#include <gnu/libc-version.h>
#include <sys/auxv.h>

#define BIG_LEN		(6UL << 20)	/* malloc() takes it from mmap() */
#define NR_SMALL	300		/* and these from the brk heap */
#define TLS_LEN		200

enum { SEED_BIG = 101, SEED_SMALL, SEED_TLS };

static __thread uint64_t tls_word = 0x1122334455667788ULL;
static __thread unsigned char tls_buf[TLS_LEN];

static struct {
	unsigned char *big;
	unsigned char *small[NR_SMALL];
	void *tp, *fs_base, *rseq, *ld_base, *printf_addr;
	unsigned int rseq_len;
	uint64_t tls_word;
	int err;
} st;

static char maps_before[1 << 16], maps_after[1 << 16];

static inline size_t small_len(unsigned int i)
{
	return 8 + (i * 37) % 1000;
}

static void *thread_pointer(void)
{
	void *p;

	__asm__("mov %%fs:0, %0" : "=r"(p));
	return p;
}

/*
 * The length glibc registered its rseq area with, or 0: registering it
 * again with the same length fails with EBUSY.  If none is registered the
 * first try succeeds, and it is 0.
 */
static unsigned int rseq_registered_len(void *area)
{
	unsigned int lens[] = { 32, 20, 0 };
	unsigned int i;
	long r;

	lens[2] = __rseq_size;
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		if (!lens[i])
			continue;
		r = syscall(__NR_rseq, area, lens[i], 0, RSEQ_SIG);
		if (r == 0)
			return 0;
		if (errno == EBUSY)
			return lens[i];
	}
	return 0;
}

static void setup(void)
{
	unsigned int i;

	st.big = malloc(BIG_LEN);
	if (!st.big)
		_exit(EXIT_SETUP);
	pat_fill(st.big, BIG_LEN, SEED_BIG, 0);
	for (i = 0; i < NR_SMALL; i++) {
		st.small[i] = malloc(small_len(i));
		if (!st.small[i])
			_exit(EXIT_SETUP);
		pat_fill(st.small[i], small_len(i), SEED_SMALL, i << 12);
	}
	/* Every other one freed: the heap has free chunks in its bins */
	for (i = 0; i < NR_SMALL; i += 2) {
		free(st.small[i]);
		st.small[i] = NULL;
	}
	tls_word = mix64(SEED_TLS);
	st.tls_word = tls_word;
	pat_fill(tls_buf, TLS_LEN, SEED_TLS, 0);

	st.tp = thread_pointer();
	if (syscall(SYS_arch_prctl, ARCH_GET_FS, &st.fs_base))
		_exit(EXIT_SETUP);
	st.ld_base = (void *)getauxval(AT_BASE);
	st.printf_addr = (void *)printf;
	if (__rseq_size) {
		st.rseq = (char *)st.tp + __rseq_offset;
		st.rseq_len = rseq_registered_len(st.rseq);
	}
}

/* The cpu_id field of the rseq area, which the kernel updates */
static int32_t rseq_cpu_id(void)
{
	return __atomic_load_n((int32_t *)st.rseq + 1, __ATOMIC_RELAXED);
}

static void check_rseq(void)
{
	unsigned int cpu = ~0U;
	int32_t id = -1;
	int i;

	CHECKF(rseq_registered_len(st.rseq) == st.rseq_len,
	       "the rseq area at %p is not registered as it was (length %u)",
	       st.rseq, st.rseq_len);
	/* The kernel keeps cpu_id up to date, also across a migration */
	for (i = 0; i < 100; i++) {
		if (syscall(SYS_getcpu, &cpu, NULL, NULL))
			break;
		id = rseq_cpu_id();
		if (id == (int32_t)cpu)
			break;
		sched_yield();
	}
	CHECKF(id >= 0 && id == (int32_t)cpu, "rseq cpu_id %d, getcpu %u", id,
	       cpu);
	CHECKF(sched_getcpu() >= 0, "sched_getcpu: %s", strerror(errno));
}

static void check_heap(void)
{
	unsigned int i;
	unsigned char *p;
	char *q;

	CHECK_PAT(st.big, BIG_LEN, SEED_BIG, 0);
	for (i = 1; i < NR_SMALL; i += 2)
		CHECK_PAT(st.small[i], small_len(i), SEED_SMALL, i << 12);

	/* The allocator's state goes on: reuse, grow, return memory */
	for (i = 0; i < NR_SMALL; i++) {
		free(st.small[i]);
		st.small[i] = NULL;
	}
	for (i = 0; i < 200; i++) {
		p = malloc(i * 997 + 1);
		if (!CHECK(p))
			break;
		memset(p, i, i * 997 + 1);
		free(p);
	}
	p = realloc(st.big, 2 * BIG_LEN);
	if (CHECK(p)) {
		CHECK_PAT(p, BIG_LEN, SEED_BIG, 0);
		memset(p + BIG_LEN, 0x5a, BIG_LEN);
		st.big = p;
	}
	free(st.big);
	st.big = NULL;
	q = calloc(1000, 64);
	if (CHECK(q))
		CHECK(all_zero(q, 1000 * 64));
	free(q);
}

static void check_libc(void)
{
	char buf[64];
	int n;

	/* errno lives in the TLS block too */
	CHECKF(st.err == DYN_ERRNO, "errno %d after checkpoint, was %d",
	       st.err, DYN_ERRNO);
	CHECK(close(-1) == -1 && errno == EBADF);

	snprintf(buf, sizeof(buf), "%s %d %#x %.3f", "dyn", -17, 0xbeefU,
		 3.14159);
	CHECKF(!strcmp(buf, "dyn -17 0xbeef 3.142"), "snprintf gave \"%s\"",
	       buf);
	/* First calls through the PLT: ld.so binds them now */
	CHECK(strverscmp("a9", "a10") < 0);
	CHECK(ffsll(1ULL << 40) == 41);

	n = printf("# dyn_target: printf works in pid %d\n", getpid());
	CHECKF(n > 0, "printf returned %d", n);
	CHECK(fflush(stdout) == 0);
}

static void verify(bool restarted)
{
	void *fs_base = NULL;

	/* First, before the allocator or stdio may map anything */
	if (CHECK(read_file("/proc/self/maps", maps_after,
			    sizeof(maps_after)) > 0))
		check_same_maps(maps_before, maps_after);

	CHECKF(thread_pointer() == st.tp, "thread pointer %p, was %p",
	       thread_pointer(), st.tp);
	CHECK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_base) == 0);
	CHECKF(fs_base == st.fs_base, "fs_base %p, was %p", fs_base,
	       st.fs_base);
	CHECKF(tls_word == st.tls_word, "TLS word %#llx, was %#llx",
	       (unsigned long long)tls_word, (unsigned long long)st.tls_word);
	CHECK_PAT(tls_buf, TLS_LEN, SEED_TLS, 0);
	CHECKF((void *)getauxval(AT_BASE) == st.ld_base,
	       "ld.so at %p, was %p", (void *)getauxval(AT_BASE), st.ld_base);
	CHECK((void *)printf == st.printf_addr);

	check_rseq();
	check_heap();
	check_libc();
	if (restarted && !cr_fail_line)
		cr_log("memory, TLS, rseq, malloc and printf checked");
}

static int probe(void)
{
	setup();
	printf("# dyn_target: glibc %s, rseq %s\n", gnu_get_libc_version(),
	       st.rseq_len ? "registered" : "not registered");
	fflush(stdout);
	return st.rseq_len ? 0 : DYN_EXIT_NO_RSEQ;
}

int main(int argc, char **argv)
{
	long fd, r;
	char *end;
	int err;

	if (argc != 2)
		return EXIT_SETUP;
	if (!strcmp(argv[1], "probe"))
		return probe();
	errno = 0;
	fd = strtol(argv[1], &end, 10);
	if (errno || *end || fd < 3 || fd > INT_MAX)
		return EXIT_SETUP;

	cr_phase = "dyn_target";
	setup();
	if (!st.rseq_len) {
		cr_log("glibc registered no rseq area");
		return EXIT_SETUP;
	}
	printf("# dyn_target: pid %d, ld.so at %p, TLS at %p, rseq at %p\n",
	       getpid(), st.ld_base, st.tp, st.rseq);
	if (fflush(stdout) ||
	    read_file("/proc/self/maps", maps_before, sizeof(maps_before)) <= 0)
		return EXIT_SETUP;

	errno = DYN_ERRNO;
	r = syscall(__NR_checkpoint, 0, (int)fd, 0);
	err = errno;
	st.err = err;
	cr_finish(r, err, verify);
}
