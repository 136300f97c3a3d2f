// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart of shared mappings and locked memory: shared
 * anonymous memory (one object mapped by several areas), MAP_SHARED file
 * mappings, mlock(), mlock2(MLOCK_ONFAULT) and mlockall(MCL_FUTURE); the
 * refusals, and restart's checks of edited images.
 */

#include "cr_harness.h"

#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/shm.h>

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

#define SEED_A		0x5101
#define SEED_Z		0x5102
#define SEED_S		0x5103
#define SEED_O		0x5104
#define SEED_F		0x5105
#define SEED_F2		0x5106
#define SEED_L		0x5107
#define SEED_RST	0x5108

static unsigned char rst_bss[8192];

/* Helpers of the children */

/* Number of resident pages of [@addr, @addr + @n pages) */
static int resident(void *addr, size_t n)
{
	unsigned char vec[64];
	size_t i;
	int nr = 0;

	if (n > sizeof(vec) || mincore(addr, n * pg(), vec))
		return -1;
	for (i = 0; i < n; i++)
		nr += vec[i] & 1;
	return nr;
}

/* "Locked:" in kB and the VmFlags of the area at @addr, from smaps */
static int smaps_of(const void *addr, long *locked, char *flags, size_t len)
{
	static char buf[1 << 18];
	char *p, *end;
	unsigned long start, stop;

	if (read_file("/proc/self/smaps", buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; *p; p = end) {
		end = strchrnul(p, '\n');
		if (*end)
			end++;
		if (sscanf(p, "%lx-%lx ", &start, &stop) != 2 ||
		    strchr(p, ':') < strchr(p, ' '))
			continue;
		if ((unsigned long)addr < start || (unsigned long)addr >= stop)
			continue;
		p = strstr(end, "\nLocked:");
		if (!p)
			return -1;
		*locked = atol(p + 8);
		p = strstr(p, "\nVmFlags:");
		if (!p)
			return -1;
		p += 9;
		end = strchrnul(p, '\n');
		snprintf(flags, len, "%.*s ", (int)(end - p), p);
		return 0;
	}
	return -1;
}

static bool has_flag(const char *flags, const char *f)
{
	char want[8];

	snprintf(want, sizeof(want), " %s ", f);
	return strstr(flags, want);
}

/* VmLck of /proc/self/status, in kB */
static long vm_locked(void)
{
	char buf[4096], *p;

	if (read_file("/proc/self/status", buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nVmLck:");
	return p ? atol(p + 7) : -1;
}

/* Reserve @n pages at an address nothing else uses */
static void *reserve(size_t n)
{
	void *p = mmap(NULL, n * pg(), PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(EXIT_SETUP);
	return p;
}

static void *map_shared_anon(size_t n)
{
	void *p = mmap(NULL, n * pg(), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(EXIT_SETUP);
	return p;
}

/*
 * Shared anonymous memory with a hole never touched, pages of the object
 * that no area maps any longer, and a shared mapping of /dev/zero.
 */

static struct {
	unsigned char *a;
	unsigned char *z;
} sa;

#define P(addr, n) ((unsigned char *)(addr) + (n) * pg())

static void shared_anon_verify(bool restarted)
{
	char line[512];
	unsigned char *b;

	/* The hole is still a hole: nothing was allocated for it */
	CHECKF(resident(P(sa.a, 6), 4) == 0, "%d pages of the hole resident",
	       resident(P(sa.a, 6), 4));
	CHECKF(resident(sa.a, 6) == 6, "%d of 6 pages resident",
	       resident(sa.a, 6));
	CHECK_PAT(sa.a, 6 * pg(), SEED_A, 0);
	/* Reading the hole allocates it */
	CHECK(all_zero(P(sa.a, 6), 4 * pg()));
	CHECK_PAT(P(sa.a, 10), 2 * pg(), SEED_A, 10 * pg());
	CHECK(maps_line(sa.a, line, sizeof(line)) == 0 &&
	      strstr(line, " rw-s ") && strstr(line, "/dev/zero (deleted)"));
	CHECK_PAT(sa.z, 2 * pg(), SEED_Z, 0);
	CHECK(all_zero(P(sa.z, 2), 2 * pg()));
	CHECK(maps_line(sa.z, line, sizeof(line)) == 0 &&
	      strstr(line, " rw-s "));

	/* The pages no area mapped are back when the area grows again */
	b = mremap(sa.a, 12 * pg(), 16 * pg(), MREMAP_MAYMOVE);
	if (!CHECK(b != MAP_FAILED))
		return;
	CHECK_PAT(P(b, 12), 4 * pg(), SEED_A, 12 * pg());
	CHECK_PAT(b, 6 * pg(), SEED_A, 0);
}

static void shared_anon_body(void *arg, int imgfd)
{
	int fd;
	long r;
	int err;

	cr_prepare(imgfd);
	sa.a = map_shared_anon(16);
	pat_fill(sa.a, 6 * pg(), SEED_A, 0);
	pat_fill(P(sa.a, 10), 6 * pg(), SEED_A, 10 * pg());
	if (munmap(P(sa.a, 12), 4 * pg()))
		_exit(EXIT_SETUP);
	fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		_exit(EXIT_SETUP);
	sa.z = mmap(NULL, 4 * pg(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (sa.z == MAP_FAILED)
		_exit(EXIT_SETUP);
	pat_fill(sa.z, 2 * pg(), SEED_Z, 0);

	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, shared_anon_verify);
}

/*
 * One object in several areas: split by mprotect(), a partial munmap(),
 * an area moved by mremap(), and an alias mremap(old_size 0) made; and a
 * second object.
 */

static struct {
	unsigned char *s;
	unsigned char *moved;
	unsigned char *alias;
	unsigned char *o;
} sp;

static void split_verify(bool restarted)
{
	char line[512];

	CHECK_PAT(sp.s, 2 * pg(), SEED_S, 0);
	CHECK_PAT(P(sp.s, 2), 2 * pg(), SEED_S, 2 * pg());
	CHECK(probe_write(P(sp.s, 2)) == 0);
	CHECK(probe_read(P(sp.s, 4)) == 0);
	CHECK_PAT(P(sp.s, 5), pg(), SEED_S, 5 * pg());
	CHECK_PAT(sp.moved, 2 * pg(), SEED_S, 6 * pg());
	CHECK_PAT(sp.alias, 2 * pg(), SEED_S, 0);
	CHECK_PAT(sp.o, 2 * pg(), SEED_O, 0);
	CHECK(maps_line(sp.moved, line, sizeof(line)) == 0 &&
	      strstr(line, " rw-s "));

	/* One object: a write through one area shows through the other */
	sp.s[100] ^= 0xff;
	CHECK(sp.alias[100] == sp.s[100]);
	sp.alias[pg() + 7] ^= 0xff;
	CHECK(sp.s[pg() + 7] == sp.alias[pg() + 7]);
	/* The other object is not it */
	CHECK_PAT(sp.o, 2 * pg(), SEED_O, 0);
	/* The object's page 4, no longer mapped, is still there */
	sp.s = mremap(sp.s, 2 * pg(), 6 * pg(), MREMAP_MAYMOVE);
	if (CHECK(sp.s != MAP_FAILED))
		CHECK_PAT(P(sp.s, 4), pg(), SEED_S, 4 * pg());
}

static void split_body(void *arg, int imgfd)
{
	void *at;
	long r;
	int err;

	cr_prepare(imgfd);
	sp.s = map_shared_anon(8);
	pat_fill(sp.s, 8 * pg(), SEED_S, 0);
	at = reserve(2);
	if (mprotect(P(sp.s, 2), 2 * pg(), PROT_READ) ||
	    munmap(P(sp.s, 4), pg()))
		_exit(EXIT_SETUP);
	sp.moved = mremap(P(sp.s, 6), 2 * pg(), 2 * pg(),
			  MREMAP_MAYMOVE | MREMAP_FIXED, at);
	sp.alias = mremap(sp.s, 0, 2 * pg(), MREMAP_MAYMOVE);
	if (sp.moved == MAP_FAILED || sp.alias == MAP_FAILED)
		_exit(EXIT_SETUP);
	sp.o = map_shared_anon(2);
	pat_fill(sp.o, 2 * pg(), SEED_O, 0);

	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, split_verify);
}

/* MAP_SHARED file mappings, writable and read-only */

static struct {
	char path[128];
	unsigned char *w;
	unsigned char *r;
} sf;

static void shared_file_verify(bool restarted)
{
	unsigned char *at = P(sf.w, 3) + 5, was = *at;
	char line[512], c = 0;
	int fd;

	CHECK_PAT(sf.w, pg(), SEED_F2, 0);
	CHECK_PAT(P(sf.w, 1), 3 * pg(), SEED_F, pg());
	CHECK_PAT(sf.r, 2 * pg(), SEED_F, 2 * pg());
	CHECK(maps_line(sf.w, line, sizeof(line)) == 0 &&
	      strstr(line, " rw-s ") && strstr(line, sf.path));
	CHECK(maps_line(sf.r, line, sizeof(line)) == 0 &&
	      strstr(line, " r--s ") && strstr(line, sf.path));
	/* The read-only one maps a file opened read-only */
	CHECK(mprotect(sf.r, 2 * pg(), PROT_READ | PROT_WRITE) == -1 &&
	      errno == EACCES);

	/* Both map the file: a write shows through the other, and in it */
	*at = restarted ? 'R' : 'O';
	CHECK(sf.r[pg() + 5] == sf.w[3 * pg() + 5]);
	CHECK(msync(sf.w, 4 * pg(), MS_SYNC) == 0);
	fd = open(sf.path, O_RDONLY | O_CLOEXEC);
	if (!CHECK(fd >= 0))
		return;
	CHECK(pread(fd, &c, 1, 3 * pg() + 5) == 1);
	CHECKF(c == (restarted ? 'R' : 'O'), "the file has %c", c);
	close(fd);
	/* The file as it was, for the restarted process */
	*at = was;
	CHECK(msync(sf.w, 4 * pg(), MS_SYNC) == 0);
}

static void shared_file_body(void *arg, int imgfd)
{
	unsigned char buf[4 * 4096];
	int fd, rfd;
	long r;
	int err;

	if (pg() != 4096)
		_exit(EXIT_SETUP);
	snprintf(sf.path, sizeof(sf.path), "%s", (const char *)arg);
	pat_fill(buf, sizeof(buf), SEED_F, 0);
	if (write_file(sf.path, buf, sizeof(buf)))
		_exit(EXIT_SETUP);
	cr_prepare(imgfd);
	fd = open(sf.path, O_RDWR | O_CLOEXEC);
	rfd = open(sf.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || rfd < 0)
		_exit(EXIT_SETUP);
	sf.w = mmap(NULL, 4 * pg(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	sf.r = mmap(NULL, 2 * pg(), PROT_READ, MAP_SHARED, rfd, 2 * pg());
	close(fd);
	close(rfd);
	if (sf.w == MAP_FAILED || sf.r == MAP_FAILED)
		_exit(EXIT_SETUP);
	pat_fill(sf.w, pg(), SEED_F2, 0);

	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, shared_file_verify);
}

/* mlock(), mlock2(MLOCK_ONFAULT), mlockall(MCL_FUTURE [| MCL_ONFAULT]) */

static struct {
	int future;		/* the mlockall() flags, or 0 */
	unsigned char *l;
	unsigned char *f;
	long vmlck;
} ml;

static void mlock_verify(bool restarted)
{
	char flags[256];
	long locked = -1;
	unsigned char *n;

	CHECK_PAT(ml.l, 8 * pg(), SEED_L, 0);
	CHECK_PAT(ml.f, 2 * pg(), SEED_L, 8 * pg());
	CHECKF(vm_locked() == ml.vmlck, "VmLck %ld kB, was %ld kB",
	       vm_locked(), ml.vmlck);
	if (ml.future & MCL_CURRENT) {
		/* Everything locked, the stack too, and filled */
		CHECK(smaps_of(&locked, &locked, flags, sizeof(flags)) == 0 &&
		      has_flag(flags, "lo") && locked > 0);
		CHECK(smaps_of(ml.f, &locked, flags, sizeof(flags)) == 0 &&
		      has_flag(flags, "lo") && !has_flag(flags, "lf"));
		CHECK(resident(ml.f, 8) == 8);
		return;
	}
	if (CHECK(smaps_of(ml.l, &locked, flags, sizeof(flags)) == 0)) {
		CHECKF(locked == (long)(8 * pg() >> 10), "Locked: %ld kB",
		       locked);
		CHECKF(has_flag(flags, "lo") && !has_flag(flags, "lf"),
		       "VmFlags:%s", flags);
	}
	if (CHECK(smaps_of(ml.f, &locked, flags, sizeof(flags)) == 0)) {
		/* On fault: only the two pages touched */
		CHECKF(locked == (long)(2 * pg() >> 10), "Locked: %ld kB",
		       locked);
		CHECKF(has_flag(flags, "lo") && has_flag(flags, "lf"),
		       "VmFlags:%s", flags);
	}
	CHECK(resident(ml.f, 8) == 2);

	/* mlockall(MCL_FUTURE) locks what is mapped from now on */
	/* Not merged with the areas around it */
	n = mmap(NULL, 4 * pg(), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!CHECK(n != MAP_FAILED) ||
	    !CHECK(smaps_of(n, &locked, flags, sizeof(flags)) == 0))
		return;
	if (!ml.future) {
		CHECKF(!has_flag(flags, "lo") && !locked, "VmFlags:%s", flags);
	} else if (ml.future & MCL_ONFAULT) {
		CHECKF(has_flag(flags, "lo") && has_flag(flags, "lf") &&
		       !locked, "VmFlags:%s, Locked: %ld kB", flags, locked);
	} else {
		CHECKF(has_flag(flags, "lo") && !has_flag(flags, "lf") &&
		       locked == (long)(4 * pg() >> 10),
		       "VmFlags:%s, Locked: %ld kB", flags, locked);
	}
}

static void mlock_body(void *arg, int imgfd)
{
	long r;
	int err;

	ml.future = *(const int *)arg;
	cr_prepare(imgfd);
	ml.l = mmap(NULL, 8 * pg(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ml.f = mmap(NULL, 8 * pg(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ml.l == MAP_FAILED || ml.f == MAP_FAILED)
		_exit(EXIT_SETUP);
	pat_fill(ml.l, 8 * pg(), SEED_L, 0);
	if (mlock(ml.l, 8 * pg()) ||
	    syscall(__NR_mlock2, ml.f, 8 * pg(), MLOCK_ONFAULT))
		_exit(EXIT_SETUP);
	pat_fill(ml.f, 2 * pg(), SEED_L, 8 * pg());
	if (ml.future && mlockall(ml.future))
		_exit(EXIT_SETUP);
	ml.vmlck = vm_locked();
	if (ml.vmlck < (long)(10 * pg() >> 10))
		_exit(EXIT_SETUP);

	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, mlock_verify);
}

/* A restarter that may not lock that much memory fails and survives */

static int set_ipc_lock(bool on)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	if (on)
		d[0].effective |= 1U << CAP_IPC_LOCK;
	else
		d[0].effective &= ~(1U << CAP_IPC_LOCK);
	return syscall(SYS_capset, &h, d);
}

static int set_memlock(rlim_t cur)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl))
		return -1;
	rl.rlim_cur = cur;
	return setrlimit(RLIMIT_MEMLOCK, &rl);
}

/* restart(2) on @fd from its start fails with @err; nothing changed */
static bool restart_fails(int fd, int err)
{
	long r;

	if (!CHECK(lseek(fd, 0, SEEK_SET) == 0))
		return false;
	r = sys_restart(0, fd, 0);
	if (!CHECKF(r == -1 && errno == err,
		    "restart: %ld, errno %d (%s); expected errno %d (%s)", r,
		    r ? errno : 0, r ? strerror(errno) : "-", err,
		    strerror(err)))
		return false;
	CHECK_PAT(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	return !cr_fail_line;
}

static void memlock_restarter(void *arg, int fd)
{
	struct rlimit rl;

	pat_fill(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	if (close_fds_except(fd) || getrlimit(RLIMIT_MEMLOCK, &rl) ||
	    set_ipc_lock(false))
		_exit(EXIT_SETUP);
	/* mlock() would fail with EPERM, then ENOMEM */
	if (set_memlock(0) || !restart_fails(fd, EPERM))
		cr_exit(0);
	if (set_memlock(pg()) || !restart_fails(fd, ENOMEM))
		cr_exit(0);
	/* With the limit back, it works */
	if (!CHECK(set_memlock(rl.rlim_cur) == 0) ||
	    !CHECK(set_ipc_lock(true) == 0) ||
	    !CHECK(lseek(fd, 0, SEEK_SET) == 0))
		cr_exit(0);
	restarter_run(fd, 0);
}

/*
 * An address space larger than the caller's RLIMIT_AS: ENOMEM before the
 * point of no return (mapping it would fail after), the caller intact;
 * with the limit back, it works.
 */
static void as_restarter(void *arg, int fd)
{
	struct rlimit rl, low;

	pat_fill(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	if (close_fds_except(fd) || getrlimit(RLIMIT_AS, &rl))
		_exit(EXIT_SETUP);
	low = rl;
	low.rlim_cur = 1 << 20;
	if (!CHECK(setrlimit(RLIMIT_AS, &low) == 0) ||
	    !restart_fails(fd, ENOMEM))
		cr_exit(0);
	if (!CHECK(setrlimit(RLIMIT_AS, &rl) == 0) ||
	    !CHECK(lseek(fd, 0, SEEK_SET) == 0))
		cr_exit(0);
	restarter_run(fd, 0);
}

/*
 * vm.overcommit_memory 2 with a commit limit the private writable area of
 * the image does not fit in: ENOMEM before the point of no return (mapping
 * it would fail after), the caller intact; with the policy back, it works.
 */
#define COMMIT_MB	64
#define OVERCOMMIT	"/proc/sys/vm/overcommit_memory"
#define OVERCOMMIT_KB	"/proc/sys/vm/overcommit_kbytes"
#define OVERCOMMIT_RATIO "/proc/sys/vm/overcommit_ratio"

static unsigned char *commit_area;
/* The policy and limit of the system before the test, to put back */
static char oc_mode[16], oc_kb[32], oc_ratio[16];

static void commit_verify(bool restarted)
{
	CHECK_PAT(commit_area, pg(), SEED_A, 0);
}

static void commit_body(void *arg, int imgfd)
{
	long r;
	int err;

	cr_prepare(imgfd);
	commit_area = mmap(NULL, COMMIT_MB << 20, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (commit_area == MAP_FAILED)
		_exit(EXIT_SETUP);
	pat_fill(commit_area, pg(), SEED_A, 0);
	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, commit_verify);
}

/* Setting one of overcommit_kbytes and overcommit_ratio zeroes the other */
static int restore_overcommit(void)
{
	const char *limit = atol(oc_kb) ? OVERCOMMIT_KB : OVERCOMMIT_RATIO;
	const char *val = atol(oc_kb) ? oc_kb : oc_ratio;

	return write_file(OVERCOMMIT, oc_mode, strlen(oc_mode)) |
	       write_file(limit, val, strlen(val));
}

/* Field @name ("Committed_AS:") of /proc/meminfo, in kB, or -1 */
static long meminfo_kb(const char *name)
{
	static char buf[8192];
	char *p;

	if (read_file("/proc/meminfo", buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, name);
	return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

static void commit_restarter(void *arg, int fd)
{
	char limit[32];
	bool refused;
	long kb;

	pat_fill(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	if (close_fds_except(fd))
		_exit(EXIT_SETUP);
	/*
	 * Room for half of the area of the image beyond what is committed;
	 * the limit is overcommit_kbytes plus the swap
	 */
	kb = meminfo_kb("Committed_AS:") + (COMMIT_MB << 10) / 2 -
	     meminfo_kb("SwapTotal:");
	if (kb <= 0)
		_exit(EXIT_SETUP);
	snprintf(limit, sizeof(limit), "%ld", kb);
	if (write_file(OVERCOMMIT_KB, limit, strlen(limit)) ||
	    write_file(OVERCOMMIT, "2", 1)) {
		restore_overcommit();
		_exit(EXIT_SETUP);
	}
	refused = restart_fails(fd, ENOMEM);
	if (!CHECK(restore_overcommit() == 0) || !refused ||
	    !CHECK(lseek(fd, 0, SEEK_SET) == 0))
		cr_exit(0);
	restarter_run(fd, 0);
}

/*
 * More private writable memory than the caller's RLIMIT_DATA: ENOMEM
 * before the point of no return (mmap(2) would refuse it after), the
 * caller intact.  A soft limit of 0 means the hard one, as for mmap(2)
 * (what Valgrind relies on): with it, it works.
 */
static void data_restarter(void *arg, int fd)
{
	struct rlimit rl, low;

	pat_fill(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	if (close_fds_except(fd) || getrlimit(RLIMIT_DATA, &rl))
		_exit(EXIT_SETUP);
	low = rl;
	low.rlim_cur = (COMMIT_MB << 20) / 2;
	if (!CHECK(setrlimit(RLIMIT_DATA, &low) == 0) ||
	    !restart_fails(fd, ENOMEM))
		cr_exit(0);
	low.rlim_cur = 0;
	if (!CHECK(setrlimit(RLIMIT_DATA, &low) == 0) ||
	    !CHECK(lseek(fd, 0, SEEK_SET) == 0))
		cr_exit(0);
	restarter_run(fd, 0);
}

/*
 * More memory areas than vm.max_map_count allows: ENOMEM before the point
 * of no return (mmap(2) would refuse the last ones after), the caller
 * intact; with the limit back, it works.
 */
#define MAX_MAP_COUNT	"/proc/sys/vm/max_map_count"

/* The limit of the system before the test, to put back */
static char map_count[32];

static int restore_map_count(void)
{
	return write_file(MAX_MAP_COUNT, map_count, strlen(map_count));
}

static void map_count_restarter(void *arg, int fd)
{
	bool refused;

	pat_fill(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	if (close_fds_except(fd))
		_exit(EXIT_SETUP);
	/* Fewer than any process has: the text, data, stack, vDSO... */
	if (write_file(MAX_MAP_COUNT, "5", 1)) {
		restore_map_count();
		_exit(EXIT_SETUP);
	}
	refused = restart_fails(fd, ENOMEM);
	if (!CHECK(restore_map_count() == 0) || !refused ||
	    !CHECK(lseek(fd, 0, SEEK_SET) == 0))
		cr_exit(0);
	restarter_run(fd, 0);
}

/* Shared anonymous memory shared with a child: EBUSY, unharmed */

static void ebusy_body(void *arg, int imgfd)
{
	unsigned char *a;
	pid_t child;
	long r;
	int err, status;

	cr_prepare(imgfd);
	a = map_shared_anon(4);
	pat_fill(a, 4 * pg(), SEED_A, 0);
	child = fork();
	if (child < 0)
		_exit(EXIT_SETUP);
	if (child == 0) {
		for (;;)
			pause();
	}
	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_phase = "refused";
	CHECKF(r == -1 && err == EBUSY, "checkpoint: %ld, errno %d (%s)", r,
	       r < 0 ? err : 0, r < 0 ? strerror(err) : "-");
	CHECK_PAT(a, 4 * pg(), SEED_A, 0);
	/* The child still sees the memory it shares */
	a[0] ^= 0xff;
	CHECK(kill(child, 0) == 0);
	kill(child, SIGKILL);
	CHECK(waitpid(child, &status, 0) == child);
	a[0] ^= 0xff;
	/* Mapped by the process alone, it is saved */
	CHECK(ftruncate(imgfd, 0) == 0 && lseek(imgfd, 0, SEEK_SET) == 0);
	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	if (r == 0)
		_exit(EXIT_RESTARTED);
	CHECKF(r > 0, "checkpoint once alone: %s", strerror(err));
	CHECK_PAT(a, 4 * pg(), SEED_A, 0);
	cr_exit(0);
}

/* Shared memory checkpoint refuses, the process unharmed */

static void *memfd_setup(void)
{
	void *p;
	int fd;

	fd = syscall(__NR_memfd_create, "cr_memfd", 0);
	if (fd < 0 || ftruncate(fd, 4 * pg()))
		return MAP_FAILED;
	p = mmap(NULL, 4 * pg(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p;
}

static void *sysv_setup(void)
{
	int id = shmget(IPC_PRIVATE, 4 * pg(), IPC_CREAT | 0600);
	void *p;

	if (id < 0)
		return MAP_FAILED;
	p = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL);
	return p == (void *)-1 ? MAP_FAILED : p;
}

static void refuse_body(void *arg, int imgfd)
{
	void *(*setup)(void) = arg;
	unsigned char *m;
	long r;
	int err;

	cr_prepare(imgfd);
	m = setup();
	if (m == MAP_FAILED)
		_exit(EXIT_SETUP);
	pat_fill(m, 4 * pg(), SEED_A, 0);
	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_phase = "refused";
	CHECKF(r == -1 && err == EOPNOTSUPP, "checkpoint: %ld, errno %d (%s)",
	       r, r < 0 ? err : 0, r < 0 ? strerror(err) : "-");
	CHECK_PAT(m, 4 * pg(), SEED_A, 0);
	cr_exit(0);
}

/*
 * Areas checkpoint cannot save yet, in a task checkpointed from outside:
 * EOPNOTSUPP and the kind of area in the reason, the task unharmed.
 */

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE	0x08
#endif
#ifndef MAP_HUGETLB
#define MAP_HUGETLB	0x40000
#endif
#ifndef __NR_mseal
#define __NR_mseal	462
#endif
#define HUGE_LEN	(2UL << 20)

/* Each makes its area and a 4-page ordinary one, returned, to check */
static void *hugetlb_setup(void)
{
	/* No huge page is taken: none is reserved, none touched */
	void *h = mmap(NULL, HUGE_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
		       MAP_NORESERVE, -1, 0);

	if (h == MAP_FAILED)
		return MAP_FAILED;
	return mmap(NULL, 4 * pg(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void *sealed_setup(void)
{
	void *p = mmap(NULL, 4 * pg(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || syscall(__NR_mseal, p, 4 * pg(), 0))
		return MAP_FAILED;
	return p;
}

static void *droppable_setup(void)
{
	return mmap(NULL, 4 * pg(), PROT_READ | PROT_WRITE,
		    MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
}

static void *(*odd_setup)(void);
static unsigned char *odd_mem;

/* start_child(): make the area, fill the ordinary one, wait */
static void odd_main(int ready)
{
	odd_mem = odd_setup();
	if (odd_mem == MAP_FAILED)
		_exit(EXIT_SETUP);
	pat_fill(odd_mem, 4 * pg(), SEED_A, 0);
	cr_prepare(ready);
	if (write(ready, "r", 1) != 1)
		_exit(EXIT_SETUP);
	close(ready);
	for (;;)
		syscall(SYS_pause);
}

static void odd_usr1(int sig)
{
	cr_phase = "refused";
	CHECK_PAT(odd_mem, 4 * pg(), SEED_A, 0);
	cr_exit(0);
}

static void odd_refused(struct __test_metadata *_metadata, struct cr_dir *d,
			void *(*setup)(void), const char *what)
{
	struct sigaction sa = { .sa_handler = odd_usr1 };
	char path[96], msg[512];
	int log, status;
	void *p;
	pid_t pid;
	long r;

	/* What this kernel or machine cannot make is skipped */
	p = setup();
	if (p == MAP_FAILED)
		SKIP(return, "%s: %s", what, strerror(errno));
	cr_path(d, "log", path, sizeof(path));
	log = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, log);
	odd_setup = setup;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	pid = start_child(_metadata, odd_main);
	stop_child(_metadata, pid);

	r = sys_checkpoint(pid, d->imgfd, CR_LOGFD(log));
	cr_read_log(log, msg, sizeof(msg));
	EXPECT_EQ(-1, r);
	EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("checkpoint: %s", strerror(errno));
	EXPECT_NE(NULL, strstr(msg, what)) TH_LOG("reason: %s", msg);

	/* Left stopped; continued, its memory is as it was */
	ASSERT_EQ('T', proc_state(pid));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	kid_del(pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("refused task: status %#x", status);
	close(log);
}

/* Edited images: the image in memory, records located by type */

struct image {
	unsigned char *buf;
	size_t len;
};

#define REC_ALIGN(len) (((size_t)(len) + CR_HDR_ALIGN - 1) & ~(size_t)(CR_HDR_ALIGN - 1))

/* The @nth (from 0) record of @type for which @pick says yes, or NULL */
static struct cr_hdr *find_rec(struct image *img, __u32 type, int nth,
			       bool (*pick)(const struct cr_hdr *h))
{
	size_t off = 0;
	struct cr_hdr *h;

	while (off + sizeof(*h) <= img->len) {
		h = (struct cr_hdr *)(img->buf + off);
		if (h->type == type && (!pick || pick(h)) && nth-- == 0)
			return h;
		if (h->type == CR_HDR_TAIL || !h->len)
			break;
		off += REC_ALIGN(h->len);
	}
	return NULL;
}

/* Recompute the tail's checksum */
static void image_seal(struct image *img)
{
	struct cr_hdr_tail *t;

	t = (struct cr_hdr_tail *)find_rec(img, CR_HDR_TAIL, 0, NULL);
	if (t)
		t->csum = crc32_zlib(img->buf, (unsigned char *)t - img->buf);
}

static bool is_shmem(const struct cr_hdr *h)
{
	return ((const struct cr_hdr_vma *)h)->kind == CR_VMA_SHMEM;
}

static bool is_anon(const struct cr_hdr *h)
{
	return ((const struct cr_hdr_vma *)h)->kind == CR_VMA_ANON;
}

static bool is_shared_file(const struct cr_hdr *h)
{
	const struct cr_hdr_vma *v = (const void *)h;

	return v->kind == CR_VMA_FILE && (v->flags & CR_VMA_SHARED);
}

static bool is_locked(const struct cr_hdr *h)
{
	return ((const struct cr_hdr_vma *)h)->flags & CR_VMA_LOCKED;
}

#define VMA(img, pick, n) \
	((struct cr_hdr_vma *)find_rec(img, CR_HDR_VMA, n, pick))
#define SHMEM(img, n) \
	((struct cr_hdr_shmem *)find_rec(img, CR_HDR_SHMEM, n, NULL))
#define SPAGES(img) \
	((struct cr_hdr_pages *)find_rec(img, CR_HDR_SHMEM_PAGES, 0, NULL))
#define OFFS(ph) ((__u64 *)((ph) + 1))

/*
 * The image edit_body() writes: a shared anonymous object of 8 pages,
 * split in two areas, 3 pages of it saved; another object; a shared file
 * mapping; a locked area.
 */
static void edit_body(void *arg, int imgfd)
{
	unsigned char *s, *o, *w, *l;
	int fd;
	long r;

	cr_prepare(imgfd);
	/* Mapped top-down: s, the first object, below o */
	o = map_shared_anon(2);
	s = map_shared_anon(8);
	pat_fill(s, 3 * pg(), SEED_S, 0);
	pat_fill(o, pg(), SEED_O, 0);
	if (mprotect(P(s, 4), 4 * pg(), PROT_READ))
		_exit(EXIT_SETUP);
	fd = open((const char *)arg, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0600);
	if (fd < 0 || ftruncate(fd, 2 * pg()))
		_exit(EXIT_SETUP);
	w = mmap(NULL, 2 * pg(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	l = mmap(NULL, 2 * pg(), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w == MAP_FAILED || l == MAP_FAILED || mlock(l, 2 * pg()))
		_exit(EXIT_SETUP);
	pat_fill(w, 2 * pg(), SEED_F, 0);
	pat_fill(l, 2 * pg(), SEED_L, 0);
	r = sys_checkpoint(0, imgfd, 0);
	if (r < 0)
		_exit(EXIT_CHECKPOINT_FAILED);
	if (r == 0 && (pat_check(s, 3 * pg(), SEED_S, 0) >= 0 ||
		       pat_check(w, 2 * pg(), SEED_F, 0) >= 0 ||
		       pat_check(l, 2 * pg(), SEED_L, 0) >= 0))
		_exit(EXIT_CHECK);
	_exit(r ? EXIT_CHECKPOINTED : EXIT_RESTARTED);
}

/* The edits; each returns false if the image is not as expected */

static bool e_none(struct image *img)
{
	return true;
}

static bool e_kind(struct image *img)
{
	struct cr_hdr_vma *v = VMA(img, is_shmem, 0);

	return v && (v->kind = 99);
}

static bool e_flag(struct image *img)
{
	struct cr_hdr_vma *v = VMA(img, is_shmem, 0);

	return v && (v->flags |= 1U << 20);
}

static bool e_onfault(struct image *img)
{
	struct cr_hdr_vma *v = VMA(img, is_locked, 0);

	return v && (v->flags = (v->flags & ~CR_VMA_LOCKED) |
			       CR_VMA_LOCKONFAULT);
}

static bool e_anon_shared(struct image *img)
{
	struct cr_hdr_vma *v = VMA(img, is_anon, 0);

	return v && (v->flags |= CR_VMA_SHARED);
}

static bool e_maywrite_private(struct image *img)
{
	struct cr_hdr_vma *v = VMA(img, is_shared_file, 0);

	return v && (v->flags &= ~CR_VMA_SHARED);
}

static bool e_write_no_maywrite(struct image *img)
{
	struct cr_hdr_vma *v = VMA(img, is_shared_file, 0);

	return v && (v->prot & PROT_WRITE) && (v->flags &= ~CR_VMA_MAYWRITE);
}

static bool e_shmem_wipe(struct image *img)
{
	struct cr_hdr_vma *v = VMA(img, is_shmem, 0);

	return v && (v->flags |= CR_VMA_WIPEONFORK);
}

static bool e_shmem_file_size(struct image *img)
{
	struct cr_hdr_vma *v = VMA(img, is_shmem, 0);

	return v && (v->file_size = pg());
}

/* The second area of the first object: pgoff 4, 4 pages, object 8 */
static bool e_pgoff(struct image *img)
{
	struct cr_hdr_vma *v = VMA(img, is_shmem, 1);

	return v && v->pgoff == 4 && (v->pgoff = 5);
}

/* An object id is for an image of a tree */
static bool e_shmem_obj(struct image *img)
{
	struct cr_hdr_shmem *s = SHMEM(img, 0);

	return s && (s->obj = 1);
}

static bool e_size_unaligned(struct image *img)
{
	struct cr_hdr_shmem *s = SHMEM(img, 0);

	return s && (s->size += 1);
}

static bool e_size_zero(struct image *img)
{
	struct cr_hdr_shmem *s = SHMEM(img, 0);

	return s && !(s->size = 0);
}

static bool e_objref_zero(struct image *img)
{
	struct cr_hdr_shmem *s = SHMEM(img, 0);

	return s && !(s->objref = 0);
}

static bool e_objref_skip(struct image *img)
{
	struct cr_hdr_shmem *s = SHMEM(img, 0);

	return s && (s->objref = 2);
}

/* Object 1 again, of another size */
static bool e_size_mismatch(struct image *img)
{
	struct cr_hdr_shmem *s = SHMEM(img, 1);

	return s && s->objref == 1 && (s->size += pg());
}

static bool e_second_pages(struct image *img)
{
	struct cr_hdr_shmem *s = SHMEM(img, 1);

	return s && s->objref == 1 && (s->nr_pages = 1);
}

static bool e_nr_above_size(struct image *img)
{
	struct cr_hdr_shmem *s = SHMEM(img, 0);

	return s && (s->nr_pages = s->size / pg() + 1);
}

static bool e_nr_more(struct image *img)
{
	struct cr_hdr_shmem *s = SHMEM(img, 0);

	return s && s->nr_pages == 3 && (s->nr_pages = 4);
}

static bool e_nr_less(struct image *img)
{
	struct cr_hdr_shmem *s = SHMEM(img, 0);

	return s && s->nr_pages == 3 && (s->nr_pages = 2);
}

static bool e_off_unaligned(struct image *img)
{
	struct cr_hdr_pages *ph = SPAGES(img);

	return ph && ph->nr_pages == 3 && (OFFS(ph)[1] += 8);
}

static bool e_off_order(struct image *img)
{
	struct cr_hdr_pages *ph = SPAGES(img);

	return ph && ph->nr_pages == 3 && (OFFS(ph)[2] = OFFS(ph)[1]);
}

static bool e_off_beyond(struct image *img)
{
	struct cr_hdr_pages *ph = SPAGES(img);

	return ph && ph->nr_pages == 3 && (OFFS(ph)[2] = 8 * pg());
}

static bool e_pages_reserved(struct image *img)
{
	struct cr_hdr_pages *ph = SPAGES(img);

	return ph && (ph->reserved = 1);
}

static bool e_pages_type(struct image *img)
{
	struct cr_hdr_pages *ph = SPAGES(img);

	return ph && (ph->h.type = CR_HDR_PAGES);
}

static bool e_mm_flags(struct image *img)
{
	struct cr_hdr_mm *m = (void *)find_rec(img, CR_HDR_MM, 0, NULL);

	return m && (m->flags = 1U << 7);
}

static bool e_mm_onfault(struct image *img)
{
	struct cr_hdr_mm *m = (void *)find_rec(img, CR_HDR_MM, 0, NULL);

	return m && (m->flags = CR_MM_LOCK_ONFAULT);
}

/* The first shared anonymous area made the second: an area overlaps */
static bool e_overlap(struct image *img)
{
	struct cr_hdr_vma *a = VMA(img, is_shmem, 0);
	struct cr_hdr_vma *b = VMA(img, is_shmem, 1);

	if (!a || !b || a->end != b->start)
		return false;
	b->start -= pg();
	b->pgoff -= 1;
	return true;
}

/* A page record in a shared area: found by the look ahead (restart.c) */
static bool e_page_in_shared(struct image *img)
{
	struct cr_hdr_vma *v = VMA(img, is_shmem, 0);
	struct cr_hdr_pages *ph;
	__u32 i;
	int n;

	if (!v)
		return false;
	for (n = 0; (ph = (void *)find_rec(img, CR_HDR_PAGES, n, NULL)); n++) {
		for (i = 0; i < ph->nr_pages; i++) {
			if ((!i || OFFS(ph)[i - 1] < v->start) &&
			    (i + 1 == ph->nr_pages ||
			     OFFS(ph)[i + 1] > v->start)) {
				OFFS(ph)[i] = v->start;
				return true;
			}
		}
	}
	return false;
}

/* Image helpers of the parent */

static void image_load(struct __test_metadata *_metadata, const char *path,
		       struct image *img)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	img->len = st.st_size;
	img->buf = malloc(img->len);
	ASSERT_NE(NULL, img->buf);
	ASSERT_EQ((ssize_t)img->len, pread(fd, img->buf, img->len, 0));
	close(fd);
}

static void image_store(struct __test_metadata *_metadata, const char *path,
			struct image *img)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)img->len, pwrite(fd, img->buf, img->len, 0));
	close(fd);
}

static void errno_restarter(void *arg, int fd)
{
	int err = *(const int *)arg;

	pat_fill(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	if (close_fds_except(fd))
		_exit(EXIT_SETUP);
	restart_fails(fd, err);
	cr_exit(0);
}

/*
 * The tests
 */

FIXTURE(mapping) {
	struct cr_dir d;
};

FIXTURE_SETUP(mapping)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(mapping)
{
	cr_dir_teardown(_metadata, &self->d);
}

TEST_F_TIMEOUT(mapping, shared_anon_hole, TEST_TIMEOUT)
{
	checkpoint_restart(_metadata, &self->d, shared_anon_body, NULL, NULL,
			   NULL);
}

TEST_F_TIMEOUT(mapping, shared_anon_split_object, TEST_TIMEOUT)
{
	checkpoint_restart(_metadata, &self->d, split_body, NULL, NULL, NULL);
}

TEST_F_TIMEOUT(mapping, shared_file, TEST_TIMEOUT)
{
	char file[128];

	cr_path(&self->d, "shared", file, sizeof(file));
	checkpoint_restart(_metadata, &self->d, shared_file_body, file, NULL,
			   NULL);
}

TEST_F_TIMEOUT(mapping, mlock, TEST_TIMEOUT)
{
	int future = 0;

	checkpoint_restart(_metadata, &self->d, mlock_body, &future, NULL,
			   NULL);
}

TEST_F_TIMEOUT(mapping, mlockall_future, TEST_TIMEOUT)
{
	int future = MCL_FUTURE;

	checkpoint_restart(_metadata, &self->d, mlock_body, &future, NULL,
			   NULL);
}

TEST_F_TIMEOUT(mapping, mlockall_future_onfault, TEST_TIMEOUT)
{
	int future = MCL_FUTURE | MCL_ONFAULT;

	checkpoint_restart(_metadata, &self->d, mlock_body, &future, NULL,
			   NULL);
}

/* Every area locked: the stack, the heap, the file mappings */
TEST_F_TIMEOUT(mapping, mlockall_current, TEST_TIMEOUT)
{
	int future = MCL_CURRENT | MCL_FUTURE;

	checkpoint_restart(_metadata, &self->d, mlock_body, &future, NULL,
			   NULL);
}

/* RLIMIT_MEMLOCK lowered, no CAP_IPC_LOCK: EPERM, ENOMEM, then it works */
TEST_F_TIMEOUT(mapping, mlock_over_limit, TEST_TIMEOUT)
{
	int future = MCL_FUTURE;
	pid_t pid;

	if (geteuid())
		SKIP(return, "dropping CAP_IPC_LOCK needs root");
	checkpoint_child(_metadata, &self->d, mlock_body, &future);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 memlock_restarter, NULL);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
}

TEST_F_TIMEOUT(mapping, address_space_over_limit, TEST_TIMEOUT)
{
	pid_t pid;

	checkpoint_child(_metadata, &self->d, split_body, NULL);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 as_restarter, NULL);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
}

/*
 * Wait for the restarter of a test that changed a setting of the system,
 * put the setting back whatever became of it, then expect the restored
 * process to have passed its checks
 */
static void expect_restored_put_back(struct __test_metadata *_metadata,
				     pid_t pid, int (*put_back)(void))
{
	int status = wait_child(pid, CHILD_TIMEOUT_MS);
	char desc[128];

	ASSERT_EQ(0, put_back());
	describe_status(status, desc, sizeof(desc));
	ASSERT_TRUE(status != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == EXIT_RESTARTED)
		TH_LOG("restarter: %s; expected exit status %d", desc,
		       EXIT_RESTARTED);
}

TEST_F_TIMEOUT(mapping, commit_limit, TEST_TIMEOUT)
{
	pid_t pid;

	if (geteuid())
		SKIP(return, "setting vm.overcommit_memory needs root");
	ASSERT_LT(0, read_file(OVERCOMMIT, oc_mode, sizeof(oc_mode)));
	ASSERT_LT(0, read_file(OVERCOMMIT_KB, oc_kb, sizeof(oc_kb)));
	ASSERT_LT(0, read_file(OVERCOMMIT_RATIO, oc_ratio, sizeof(oc_ratio)));
	checkpoint_child(_metadata, &self->d, commit_body, NULL);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 commit_restarter, NULL);
	expect_restored_put_back(_metadata, pid, restore_overcommit);
}

TEST_F_TIMEOUT(mapping, data_over_limit, TEST_TIMEOUT)
{
	pid_t pid;

	checkpoint_child(_metadata, &self->d, commit_body, NULL);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 data_restarter, NULL);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
}

TEST_F_TIMEOUT(mapping, map_count_over_limit, TEST_TIMEOUT)
{
	pid_t pid;

	if (geteuid())
		SKIP(return, "setting vm.max_map_count needs root");
	ASSERT_LT(0, read_file(MAX_MAP_COUNT, map_count, sizeof(map_count)));
	checkpoint_child(_metadata, &self->d, split_body, NULL);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 map_count_restarter, NULL);
	expect_restored_put_back(_metadata, pid, restore_map_count);
}

TEST_F_TIMEOUT(mapping, shared_with_child_ebusy, TEST_TIMEOUT)
{
	pid_t pid = spawn_body(_metadata, ebusy_body, NULL, self->d.imgfd);

	expect_exit(_metadata, pid, 0, "checkpointing child");
}

TEST_F_TIMEOUT(mapping, memfd_refused, TEST_TIMEOUT)
{
	pid_t pid = spawn_body(_metadata, refuse_body, memfd_setup,
			       self->d.imgfd);

	expect_exit(_metadata, pid, 0, "checkpointing child");
}

TEST_F_TIMEOUT(mapping, sysv_shm_refused, TEST_TIMEOUT)
{
	pid_t pid = spawn_body(_metadata, refuse_body, sysv_setup,
			       self->d.imgfd);

	expect_exit(_metadata, pid, 0, "checkpointing child");
}

TEST_F_TIMEOUT(mapping, hugetlb_refused, TEST_TIMEOUT)
{
	odd_refused(_metadata, &self->d, hugetlb_setup, "hugetlb mapping");
}

TEST_F_TIMEOUT(mapping, sealed_refused, TEST_TIMEOUT)
{
	odd_refused(_metadata, &self->d, sealed_setup, "sealed mapping");
}

TEST_F_TIMEOUT(mapping, droppable_refused, TEST_TIMEOUT)
{
	odd_refused(_metadata, &self->d, droppable_setup, "droppable mapping");
}

/*
 * A restarter with sealed memory: EPERM (restart could not unmap it), the
 * restarter as it was.
 */
static void sealed_restarter(void *arg, int fd)
{
	pat_fill(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	if (close_fds_except(fd) || sealed_setup() == MAP_FAILED)
		_exit(EXIT_SETUP);
	restart_fails(fd, EPERM);
	cr_exit(0);
}

TEST_F_TIMEOUT(mapping, sealed_restarter, TEST_TIMEOUT)
{
	pid_t pid;

	checkpoint_child(_metadata, &self->d, commit_body, NULL);
	/* Made after the checkpoint: the restarter, forked, has it too */
	if (sealed_setup() == MAP_FAILED)
		SKIP(return, "mseal: %s", strerror(errno));
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 sealed_restarter, NULL);
	expect_exit(_metadata, pid, 0, "restarter");
}

/*
 * A private mapping of a file which, at restart, is on hugetlbfs (a
 * hugetlbfs mounted where its directory was): EOPNOTSUPP before the point
 * of no return, where mapping it would fail.
 */
static void hfile_body(void *arg, int imgfd)
{
	const char *path = arg;
	unsigned char *m;
	long r;
	int fd;

	cr_prepare(imgfd);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 2 * pg()))
		_exit(EXIT_SETUP);
	m = mmap(NULL, 2 * pg(), PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		_exit(EXIT_SETUP);
	r = sys_checkpoint(0, imgfd, 0);
	cr_finish(r, errno, NULL);
}

static void hfile_restarter(void *arg, int fd)
{
	char msg[512] = "";
	int p[2];
	long r;

	pat_fill(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	if (close_fds_except(fd) || pipe2(p, O_NONBLOCK))
		_exit(EXIT_SETUP);
	r = sys_restart(0, fd, CR_LOGFD(p[1]));
	cr_read_log(p[0], msg, sizeof(msg));
	CHECKF(r == -1 && errno == EOPNOTSUPP,
	       "restart: %ld, errno %d (%s)", r, r ? errno : 0,
	       r ? strerror(errno) : "-");
	CHECKF(strstr(msg, "is on hugetlbfs"), "reason: %s", msg);
	CHECK_PAT(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	cr_exit(0);
}

TEST_F_TIMEOUT(mapping, hugetlbfs_file_refused, TEST_TIMEOUT)
{
	char dir[96], file[128];
	pid_t pid;
	int fd;

	if (geteuid())
		SKIP(return, "mounting hugetlbfs needs root");
	cr_path(&self->d, "huge", dir, sizeof(dir));
	ASSERT_EQ(0, mkdir(dir, 0700));
	snprintf(file, sizeof(file), "%s/f", dir);
	checkpoint_child(_metadata, &self->d, hfile_body, file);

	if (mount("none", dir, "hugetlbfs", 0, NULL))
		SKIP(return, "hugetlbfs: %s", strerror(errno));
	fd = open(file, O_RDWR | O_CREAT, 0600);
	EXPECT_LE(0, fd) TH_LOG("%s: %s", file, strerror(errno));
	if (fd >= 0) {
		EXPECT_EQ(0, ftruncate(fd, HUGE_LEN));
		close(fd);
		pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
					 hfile_restarter, NULL);
		expect_exit(_metadata, pid, 0, "restarter");
	}
	EXPECT_EQ(0, umount2(dir, MNT_DETACH));
}

/* Edited images: restart fails before the point of no return */

FIXTURE(edit) {
	struct cr_dir d;
};

FIXTURE_VARIANT(edit) {
	bool (*edit)(struct image *img);
	int err;		/* 0: restart works */
};

FIXTURE_VARIANT_ADD(edit, unedited) {
	.edit = e_none, .err = 0,
};

FIXTURE_VARIANT_ADD(edit, vma_bad_kind) {
	.edit = e_kind, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, vma_unknown_flag) {
	.edit = e_flag, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, vma_lockonfault_unlocked) {
	.edit = e_onfault, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, anon_shared_flag) {
	.edit = e_anon_shared, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, file_maywrite_not_shared) {
	.edit = e_maywrite_private, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, file_shared_write_not_maywrite) {
	.edit = e_write_no_maywrite, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_wipeonfork) {
	.edit = e_shmem_wipe, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_file_size) {
	.edit = e_shmem_file_size, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_pgoff_beyond_object) {
	.edit = e_pgoff, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_obj) {
	.edit = e_shmem_obj, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_size_unaligned) {
	.edit = e_size_unaligned, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_size_zero) {
	.edit = e_size_zero, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_objref_zero) {
	.edit = e_objref_zero, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_objref_skipped) {
	.edit = e_objref_skip, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_object_size_mismatch) {
	.edit = e_size_mismatch, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_pages_in_second_area) {
	.edit = e_second_pages, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_nr_pages_above_size) {
	.edit = e_nr_above_size, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_nr_pages_more) {
	.edit = e_nr_more, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_nr_pages_less) {
	.edit = e_nr_less, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_offset_unaligned) {
	.edit = e_off_unaligned, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_offset_order) {
	.edit = e_off_order, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_offset_beyond_object) {
	.edit = e_off_beyond, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_pages_reserved) {
	.edit = e_pages_reserved, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_pages_wrong_type) {
	.edit = e_pages_type, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, mm_unknown_flags) {
	.edit = e_mm_flags, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, mm_onfault_without_future) {
	.edit = e_mm_onfault, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, shmem_areas_overlap) {
	.edit = e_overlap, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, page_in_shared_area) {
	.edit = e_page_in_shared, .err = EINVAL,
};

FIXTURE_SETUP(edit)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(edit)
{
	cr_dir_teardown(_metadata, &self->d);
}

TEST_F_TIMEOUT(edit, restart, TEST_TIMEOUT)
{
	char file[128], edited[128];
	struct image img;
	int err = variant->err;
	pid_t pid;

	cr_path(&self->d, "shared", file, sizeof(file));
	cr_path(&self->d, "edited", edited, sizeof(edited));
	checkpoint_child(_metadata, &self->d, edit_body, file);
	image_load(_metadata, self->d.img, &img);
	ASSERT_TRUE(variant->edit(&img))
		TH_LOG("the image is not as the edit expects");
	image_seal(&img);
	image_store(_metadata, edited, &img);
	free(img.buf);

	if (!err) {
		pid = spawn_restarter_fn(_metadata, edited, 0, NULL, NULL, NULL);
		expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
		return;
	}
	pid = spawn_restarter_fn(_metadata, edited, 0, NULL, errno_restarter,
				 &err);
	expect_exit(_metadata, pid, 0, "restarter");
}

TEST_HARNESS_MAIN
