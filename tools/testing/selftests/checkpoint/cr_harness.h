/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared harness of the checkpoint/restart selftests.
 *
 * Every test follows the same pattern:
 *
 *  - A child sets up some state, closes every file descriptor but 0, 1, 2
 *    and the image file, unmaps the shared mappings it inherited from the
 *    test harness, and calls checkpoint(0, imgfd, 0).  When the call
 *    returns a checkpoint id the child checks its state and exits with
 *    EXIT_CHECKPOINTED.
 *  - A second child, the restarter, calls restart(0, fd, 0) on the image.
 *    On success the restarter is replaced by the checkpointed process,
 *    which returns 0 from its checkpoint call, checks its state from the
 *    inside and exits with EXIT_RESTARTED.  If restart returns, the
 *    restarter exits with EXIT_RESTART_RETURNED.
 *
 * Children never use the harness macros: a failed check prints what failed
 * to stderr, with its line, and the child exits with EXIT_CHECK + the line
 * modulo 192.  The parent logs the exit status it got and what it means.
 *
 * Everything here is static: each test program includes it once.
 */
#ifndef CR_HARNESS_H
#define CR_HARNESS_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <asm/prctl.h>
#include <asm/unistd.h>
#include <linux/capability.h>
#include <linux/checkpoint_hdr.h>

#include "../kselftest_harness.h"

#ifndef __NR_checkpoint
#define __NR_checkpoint 463
#endif
#ifndef __NR_restart
#define __NR_restart 464
#endif
#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_rseq
#define __NR_rseq 334
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

/* Exit statuses of the children */
#define EXIT_CHECKPOINTED	10	/* checkpoint returned a crid, checks passed */
#define EXIT_CHECKPOINTED_AGAIN	11	/* a restarted process checkpointed itself */
#define EXIT_RESTARTED		42	/* restarted, all checks passed */
#define EXIT_RESTART_RETURNED	3	/* restart(2) returned to the restarter */
#define EXIT_CHECKPOINT_FAILED	4	/* checkpoint(2) failed */
#define EXIT_SETUP		5	/* the child could not set up its state */
#define EXIT_CHECK		64	/* 64 + line % 192: a check failed */

/* Seconds per test, and milliseconds to wait for one child */
#define TEST_TIMEOUT		120
#define CHILD_TIMEOUT_MS	40000

static inline long sys_checkpoint(pid_t pid, int fd, unsigned long flags)
{
	return syscall(__NR_checkpoint, pid, fd, flags);
}

static inline long sys_restart(int crid, int fd, unsigned long flags)
{
	return syscall(__NR_restart, crid, fd, flags);
}

static inline const char *checkpoint_unsupported(void)
{
	if (sys_checkpoint(0, -1, 0) == -1 && errno == ENOSYS)
		return "kernel without CONFIG_CHECKPOINT=y";
	return NULL;
}

#define REQUIRE_CHECKPOINT() do {					\
	const char *__why = checkpoint_unsupported();			\
									\
	if (__why)							\
		SKIP(return, "%s", __why);				\
} while (0)

static inline size_t pg(void)
{
	static size_t size;

	if (!size)
		size = sysconf(_SC_PAGESIZE);
	return size;
}

/* zlib's crc32(0, buf, len), the checksum of an image's tail */
static inline uint32_t crc32_zlib(const void *buf, size_t len)
{
	static uint32_t table[256];
	const unsigned char *p = buf;
	uint32_t crc = ~0U, c;
	int i, j;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			c = i;
			for (j = 0; j < 8; j++)
				c = (c >> 1) ^ (0xedb88320U & -(c & 1));
			table[i] = c;
		}
	}
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* Checks in the children */

static const char *cr_phase = "child";
static int cr_fail_line;

static inline void cr_vlog(const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	n = snprintf(buf, sizeof(buf), "# [%s, pid %d] ", cr_phase, getpid());
	if (n < 0 || n >= (int)sizeof(buf) - 2)
		return;
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	n = strlen(buf);
	buf[n++] = '\n';
	if (write(2, buf, n) < 0)
		return;
}

static inline void __attribute__((format(printf, 1, 2)))
cr_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cr_vlog(fmt, ap);
	va_end(ap);
}

static inline bool __attribute__((format(printf, 3, 4)))
cr_check(bool ok, int line, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	if (ok)
		return true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cr_log("%s:%d: check failed: %s", __FILE__, line, msg);
	if (!cr_fail_line)
		cr_fail_line = line;
	return false;
}

#define CHECK(cond)		cr_check(!!(cond), __LINE__, "%s", #cond)
#define CHECKF(cond, fmt, ...)	cr_check(!!(cond), __LINE__, fmt, ##__VA_ARGS__)

static inline void __attribute__((noreturn)) cr_exit(int code)
{
	if (cr_fail_line)
		_exit(EXIT_CHECK + cr_fail_line % 192);
	_exit(code);
}

/*
 * After checkpoint(2) returned @r with errno @err: check the state with
 * @verify, in the original process (r > 0) or in the restarted one (r == 0).
 */
static inline void __attribute__((noreturn))
cr_finish(long r, int err, void (*verify)(bool restarted))
{
	if (r < 0) {
		cr_log("checkpoint(2) failed: %s (errno %d)", strerror(err), err);
		_exit(EXIT_CHECKPOINT_FAILED);
	}
	cr_phase = r > 0 ? "original" : "restarted";
	if (verify)
		verify(r == 0);
	cr_exit(r > 0 ? EXIT_CHECKPOINTED : EXIT_RESTARTED);
}

/* Memory patterns: byte i of stream @seed, position dependent */

static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Fill @len bytes at @buf with the bytes at @off of the stream @seed */
static inline void pat_fill(void *buf, size_t len, uint64_t seed, size_t off)
{
	unsigned char *p = buf;
	size_t i = 0;

	while (i < len) {
		size_t pos = off + i;
		uint64_t w = mix64(seed * 0x100000001b3ULL + (pos >> 3));

		if (!(pos & 7) && len - i >= 8) {
			memcpy(p + i, &w, 8);
			i += 8;
		} else {
			p[i++] = w >> ((pos & 7) * 8);
		}
	}
}

/* Offset of the first byte that differs from the pattern, or -1 */
static inline long pat_check(const void *buf, size_t len, uint64_t seed,
			     size_t off)
{
	const unsigned char *p = buf;
	size_t i = 0;

	while (i < len) {
		size_t pos = off + i;
		uint64_t w = mix64(seed * 0x100000001b3ULL + (pos >> 3));

		if (!(pos & 7) && len - i >= 8) {
			if (memcmp(p + i, &w, 8)) {
				while (p[i] == (unsigned char)w) {
					w >>= 8;
					i++;
				}
				return i;
			}
			i += 8;
		} else {
			if (p[i] != (unsigned char)(w >> ((pos & 7) * 8)))
				return i;
			i++;
		}
	}
	return -1;
}

#define CHECK_PAT(buf, len, seed, off) do {				\
	long __o = pat_check(buf, len, seed, off);			\
									\
	CHECKF(__o < 0, "%s: byte %ld of %zu differs from the pattern",	\
	       #buf, __o, (size_t)(len));				\
} while (0)

static inline uint64_t csum_add(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static inline bool all_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len--)
		if (*p++)
			return false;
	return true;
}

/* Files, descriptors, mappings */

/* Read @path into @buf, NUL-terminated; the length read, or -1 */
static inline ssize_t read_file(const char *path, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (n < size - 1) {
		r = read(fd, buf + n, size - 1 - n);
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	if (r < 0 || n == size - 1)
		return -1;
	buf[n] = 0;
	return n;
}

static inline int write_file(const char *path, const void *buf, size_t len)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, buf, len) != (ssize_t)len)
		ret = -1;
	if (close(fd))
		ret = -1;
	return ret;
}

/* The /proc/self/maps line of @addr, in @out */
static inline int maps_line(const void *addr, char *out, size_t len)
{
	static char buf[1 << 16];
	char *line, *next;

	if (read_file("/proc/self/maps", buf, sizeof(buf)) < 0)
		return -1;
	for (line = buf; *line; line = next) {
		unsigned long start, end;

		next = strchrnul(line, '\n');
		if (*next)
			*next++ = 0;
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 &&
		    (unsigned long)addr >= start && (unsigned long)addr < end) {
			size_t n = strnlen(line, len - 1);

			memcpy(out, line, n);
			out[n] = 0;
			return 0;
		}
	}
	return -1;
}

/* Close every descriptor above 2 but @keep */
static inline int close_fds_except(int keep)
{
	if (keep > 3 && syscall(__NR_close_range, 3, keep - 1, 0))
		return -1;
	if (syscall(__NR_close_range, keep >= 3 ? keep + 1 : 3, ~0U, 0))
		return -1;
	return 0;
}

/*
 * The harness shares its results with the test processes through
 * MAP_SHARED mappings, which checkpoint refuses: unmap them all, but the
 * one at @keep if not NULL.  Nothing of the harness may be used afterwards.
 */
static inline int drop_shared_mappings_but(const void *keep)
{
	static char buf[1 << 16];
	char *line, *next;

	if (read_file("/proc/self/maps", buf, sizeof(buf)) < 0)
		return -1;
	for (line = buf; *line; line = next) {
		unsigned long start, end;
		char perms[5];

		next = strchrnul(line, '\n');
		if (*next)
			next++;
		if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) == 3 &&
		    perms[3] == 's' && (void *)start != keep &&
		    munmap((void *)start, end - start))
			return -1;
	}
	return 0;
}

static inline int drop_shared_mappings(void)
{
	return drop_shared_mappings_but(NULL);
}

/* Leave only what phase 1 accepts: descriptors 0-2 and @imgfd */
static inline void cr_prepare(int imgfd)
{
	if (drop_shared_mappings()) {
		cr_log("unmapping the shared mappings: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
	if (close_fds_except(imgfd)) {
		cr_log("close_range: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
}

/* 1 if the byte at @addr is readable, 0 if not, -1 if that is unknown */
static inline int probe_read(const void *addr)
{
	int p[2];
	ssize_t r;
	int err;

	if (pipe(p))
		return -1;
	r = write(p[1], addr, 1);
	err = errno;
	close(p[0]);
	close(p[1]);
	if (r == 1)
		return 1;
	return r < 0 && err == EFAULT ? 0 : -1;
}

/* Same for writing; the byte, which must be readable, is left as it is */
static inline int probe_write(void *addr)
{
	unsigned char c = *(volatile unsigned char *)addr;
	int p[2];
	ssize_t r;
	int err;

	if (pipe(p))
		return -1;
	if (write(p[1], &c, 1) != 1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	r = read(p[0], addr, 1);
	err = errno;
	close(p[0]);
	close(p[1]);
	if (r == 1)
		return 1;
	return r < 0 && err == EFAULT ? 0 : -1;
}

/* Compare two texts line by line and report the first difference */
static inline void check_same_text(const char *what, const char *a,
				   const char *b)
{
	int line = 1;

	while (*a || *b) {
		const char *ea = strchrnul(a, '\n'), *eb = strchrnul(b, '\n');

		if (ea - a != eb - b || memcmp(a, b, ea - a)) {
			CHECKF(false, "%s differs at line %d:\n#   before: %.*s\n#   after:  %.*s",
			       what, line, (int)(ea - a), a, (int)(eb - b), b);
			return;
		}
		a = *ea ? ea + 1 : ea;
		b = *eb ? eb + 1 : eb;
		line++;
	}
}

/*
 * Copy the lines of /proc/self/maps @in to @out, coalescing adjacent
 * mappings that mmap() would have merged: same protection, file (or none)
 * and name, at contiguous offsets.  Whether such neighbours are one VMA or
 * two is invisible to the process and not kept by restart: in a forked
 * process, a brk() extension is not merged with the inherited heap, while
 * the restored heap is.
 */
static inline int coalesce_maps(const char *in, char *out, size_t len)
{
	unsigned long start, end, off, ino, pstart = 0, pend = 0, poff = 0;
	unsigned long pino = 0;
	char perms[8], dev[16], pperms[8] = "", pdev[16] = "";
	char buf[PATH_MAX + 128], *name, pname[PATH_MAX] = "";
	const char *line, *eol;
	size_t n = 0;
	bool have = false;
	int pos;

	for (line = in; *line; line = *eol ? eol + 1 : eol) {
		eol = strchrnul(line, '\n');
		if (eol - line >= (long)sizeof(buf))
			return -1;
		memcpy(buf, line, eol - line);
		buf[eol - line] = 0;
		pos = 0;
		if (sscanf(buf, "%lx-%lx %7s %lx %15s %lu %n", &start, &end,
			   perms, &off, dev, &ino, &pos) < 6 || !pos)
			return -1;
		name = buf + pos;
		if (have && start == pend && !strcmp(perms, pperms) &&
		    !strcmp(dev, pdev) && ino == pino && !strcmp(name, pname) &&
		    off == (ino ? poff + (pend - pstart) : poff)) {
			pend = end;
			continue;
		}
		if (have)
			n += snprintf(out + n, len - n, "%lx-%lx %s %lx %s %lu %s\n",
				      pstart, pend, pperms, poff, pdev, pino,
				      pname);
		if (n >= len)
			return -1;
		pstart = start;
		pend = end;
		poff = off;
		pino = ino;
		strcpy(pperms, perms);
		strcpy(pdev, dev);
		strcpy(pname, name);
		have = true;
	}
	if (have)
		n += snprintf(out + n, len - n, "%lx-%lx %s %lx %s %lu %s\n",
			      pstart, pend, pperms, poff, pdev, pino, pname);
	return n < len ? 0 : -1;
}

static inline void check_same_maps(const char *before, const char *after)
{
	static char cb[1 << 16], ca[1 << 16];

	if (!CHECK(coalesce_maps(before, cb, sizeof(cb)) == 0 &&
		   coalesce_maps(after, ca, sizeof(ca)) == 0))
		return;
	check_same_text("/proc/self/maps (adjacent mergeable lines coalesced)",
			cb, ca);
	if (strcmp(before, after) && !strcmp(cb, ca))
		cr_log("note: /proc/self/maps differs only in how adjacent mergeable mappings are split");
}

static inline void check_same_blob(const char *what, const void *a,
				   size_t alen, const void *b, size_t blen)
{
	const unsigned char *pa = a, *pb = b;
	size_t i;

	for (i = 0; i < alen && i < blen; i++)
		if (pa[i] != pb[i])
			break;
	CHECKF(alen == blen && i == alen,
	       "%s: %zu bytes before, %zu after, first difference at byte %zu",
	       what, alen, blen, i);
}

/* State of another process, as /proc shows it */

/* State letter of @pid from /proc/PID/stat, or '?' */
static inline char proc_state(pid_t pid)
{
	char path[64], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return '?';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* The system call @pid is blocked in, -1 if it runs, -2 if unknown */
static inline int proc_syscall(pid_t pid)
{
	char path[64], buf[512];

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -2;
	if (!strncmp(buf, "running", 7))
		return -1;
	return atoi(buf);
}

static inline void log_child(pid_t pid)
{
	char path[64], comm[64] = "?";

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_file(path, comm, sizeof(comm)) > 0)
		comm[strcspn(comm, "\n")] = 0;
	fprintf(stderr, "# pid %d (%s): state %c, system call %d\n", pid, comm,
		proc_state(pid), proc_syscall(pid));
}

/* Children of the test, killed by the teardown if still there */

static pid_t kids[32];

static inline void kid_add(pid_t pid)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kids); i++) {
		if (!kids[i]) {
			kids[i] = pid;
			return;
		}
	}
}

static inline void kid_del(pid_t pid)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kids); i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

static inline void kids_kill(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kids); i++) {
		if (kids[i]) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	}
}

/*
 * Wait until @pid exits, at most @timeout_ms milliseconds.  Returns its
 * wait status, or -1 if it had to be killed.
 */
static inline int wait_child(pid_t pid, int timeout_ms)
{
	int status, pfd, r = 1;

	pfd = syscall(__NR_pidfd_open, pid, 0);
	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		do {
			r = poll(&p, 1, timeout_ms);
		} while (r < 0 && errno == EINTR);
		close(pfd);
	}
	if (r == 0) {
		fprintf(stderr, "# pid %d did not exit within %d ms:\n", pid,
			timeout_ms);
		log_child(pid);
		kill(pid, SIGKILL);
	}
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	kid_del(pid);
	return r == 0 ? -1 : status;
}

static inline void describe_status(int status, char *buf, size_t len)
{
	const char *what = "";
	int code;

	if (status == -1) {
		snprintf(buf, len, "did not exit in time, killed");
		return;
	}
	if (WIFSIGNALED(status)) {
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
		return;
	}
	if (!WIFEXITED(status)) {
		snprintf(buf, len, "wait status %#x", status);
		return;
	}
	code = WEXITSTATUS(status);
	switch (code) {
	case 0:
		what = "exited normally";
		break;
	case EXIT_CHECKPOINTED:
		what = "checkpointed, checks passed";
		break;
	case EXIT_CHECKPOINTED_AGAIN:
		what = "restarted, checkpointed itself again, checks passed";
		break;
	case EXIT_RESTARTED:
		what = "restarted, checks passed";
		break;
	case EXIT_RESTART_RETURNED:
		what = "restart(2) returned to the restarter";
		break;
	case EXIT_CHECKPOINT_FAILED:
		what = "checkpoint(2) failed";
		break;
	case EXIT_SETUP:
		what = "the child could not set up its state";
		break;
	default:
		if (code >= EXIT_CHECK)
			what = "a check failed";
	}
	snprintf(buf, len, "exit status %d: %s (messages above)", code, what);
}

/* Wait at most @ms milliseconds for @pid to exit with @code */
static inline void expect_exit_ms(struct __test_metadata *_metadata,
				  pid_t pid, int code, const char *what,
				  int ms)
{
	char desc[128];
	int status;

	status = wait_child(pid, ms);
	describe_status(status, desc, sizeof(desc));
	ASSERT_TRUE(status != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == code)
		TH_LOG("%s, pid %d: %s; expected exit status %d", what, pid,
		       desc, code);
}

static inline void expect_exit(struct __test_metadata *_metadata, pid_t pid,
			       int code, const char *what)
{
	expect_exit_ms(_metadata, pid, code, what, CHILD_TIMEOUT_MS);
}

/* Wait until @pid is blocked in system call @nr */
static inline void expect_in_syscall(struct __test_metadata *_metadata,
				     pid_t pid, int nr, const char *what)
{
	int i, status, cur = -2;
	char desc[128];

	for (i = 0; i < CHILD_TIMEOUT_MS / 10; i++) {
		cur = proc_syscall(pid);
		if (cur == nr)
			return;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			kid_del(pid);
			describe_status(status, desc, sizeof(desc));
			ASSERT_TRUE(false)
				TH_LOG("%s, pid %d: %s, while waiting for it to block in system call %d",
				       what, pid, desc, nr);
		}
		usleep(10000);
	}
	log_child(pid);
	ASSERT_EQ(nr, cur)
		TH_LOG("%s, pid %d, never blocked in system call %d", what,
		       pid, nr);
}

/* The per-test directory and image file */

/* Shared with the test process: no pointer into it may reach a checkpoint */
struct cr_dir {
	char dir[32];
	char img[64];
	int imgfd;
};

static inline void cr_path(const struct cr_dir *d, const char *name,
			   char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", d->dir, name);
}

static inline void cr_dir_setup(struct __test_metadata *_metadata,
				struct cr_dir *d)
{
	char dir[] = "/tmp/cr_restart.XXXXXX";

	d->imgfd = -1;
	ASSERT_NE(NULL, mkdtemp(dir));
	strcpy(d->dir, dir);
	cr_path(d, "image", d->img, sizeof(d->img));
	d->imgfd = open(d->img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, d->imgfd);
}

static inline int rm_entry(const char *path, const struct stat *st, int type,
			   struct FTW *ftw)
{
	return remove(path);
}

/*
 * Kill what is left of the test's process group but the caller and its
 * parent: children of a failed test, which restarted processes may be.
 */
static inline void kill_group_leftovers(void)
{
	pid_t pgrp = getpgrp(), self = getpid(), parent = getppid(), pid;
	char path[64], buf[1024], *p;
	struct dirent *e;
	long pg;
	DIR *dir;

	dir = opendir("/proc");
	if (!dir)
		return;
	while ((e = readdir(dir))) {
		pid = atoi(e->d_name);
		if (pid <= 0 || pid == self || pid == parent)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if (read_file(path, buf, sizeof(buf)) < 0)
			continue;
		p = strrchr(buf, ')');
		if (p && sscanf(p + 1, " %*c %*d %ld", &pg) == 1 && pg == pgrp)
			kill(pid, SIGKILL);
	}
	closedir(dir);
}

/*
 * Run by the test process, after the process running the test ended (see
 * FIXTURE_TEARDOWN_PARENT()): a failed ASSERT may skip the teardown in the
 * process that ran the test, and images of MiBs would be left in /tmp.
 */
static inline void cr_dir_teardown(struct __test_metadata *_metadata,
				   struct cr_dir *d)
{
	kids_kill();
	kill_group_leftovers();
	if (d->dir[0])
		nftw(d->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The crid in the header of the image in @fd */
static inline int image_crid(struct __test_metadata *_metadata, int fd)
{
	struct cr_hdr_header hdr;

	ASSERT_EQ(sizeof(hdr), pread(fd, &hdr, sizeof(hdr), 0));
	ASSERT_EQ((__u32)CR_HDR_HEADER, hdr.h.type);
	ASSERT_EQ((__u32)CR_IMAGE_MAGIC, hdr.magic);
	ASSERT_LT(0, hdr.crid);
	return hdr.crid;
}

/* Checkpointing children and restarters */

typedef void (*cr_body_fn)(void *arg, int imgfd);

/* Fork a child that runs @body, which ends with cr_finish() or _exit() */
static inline pid_t spawn_body(struct __test_metadata *_metadata,
			       cr_body_fn body, void *arg, int imgfd)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		cr_phase = "child";
		body(arg, imgfd);
		cr_log("test body returned");
		_exit(EXIT_SETUP);
	}
	kid_add(pid);
	return pid;
}

/* Checkpoint a child running @body into the image file */
static inline void checkpoint_child(struct __test_metadata *_metadata,
				    struct cr_dir *d, cr_body_fn body,
				    void *arg)
{
	pid_t pid;

	ASSERT_EQ(0, ftruncate(d->imgfd, 0));
	ASSERT_EQ(0, lseek(d->imgfd, 0, SEEK_SET));
	pid = spawn_body(_metadata, body, arg, d->imgfd);
	expect_exit(_metadata, pid, EXIT_CHECKPOINTED, "checkpointing child");
	ASSERT_LT(0, lseek(d->imgfd, 0, SEEK_END));
}

/* Restart from @fd in the caller; returns only if restart fails */
static inline void __attribute__((noreturn)) restarter_run(int fd, int crid)
{
	long r;

	if (close_fds_except(fd)) {
		cr_log("close_range: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
	r = sys_restart(crid, fd, 0);
	if (r == 0)
		cr_log("restart(%d) returned 0 instead of replacing the caller",
		       crid);
	else
		cr_log("restart(%d) failed: %s (errno %d)", crid,
		       strerror(errno), errno);
	_exit(EXIT_RESTART_RETURNED);
}

typedef void (*cr_restarter_fn)(void *arg, int fd);

/*
 * Fork a restarter on a new read-only descriptor of the image file: it runs
 * @pre (if not NULL) then restarts with @crid.  @fn, if not NULL, replaces
 * the whole restarter.
 */
static inline pid_t spawn_restarter_fn(struct __test_metadata *_metadata,
				       const char *img, int crid,
				       void (*pre)(void *arg), cr_restarter_fn fn,
				       void *arg)
{
	pid_t pid;
	int fd;

	fd = open(img, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		cr_phase = "restarter";
		prctl(PR_SET_NAME, "cr_restarter");
		if (fn)
			fn(arg, fd);
		if (pre)
			pre(arg);
		restarter_run(fd, crid);
	}
	kid_add(pid);
	close(fd);
	return pid;
}

static inline pid_t spawn_restarter(struct __test_metadata *_metadata,
				    struct cr_dir *d, int crid,
				    void (*pre)(void *arg), void *arg)
{
	return spawn_restarter_fn(_metadata, d->img, crid, pre, NULL, arg);
}

/* Checkpoint a child running @body, restart it, and expect EXIT_RESTARTED */
static inline void checkpoint_restart(struct __test_metadata *_metadata,
				      struct cr_dir *d, cr_body_fn body,
				      void *arg,
				      void (*pre)(void *arg), void *pre_arg)
{
	pid_t pid;

	checkpoint_child(_metadata, d, body, arg);
	pid = spawn_restarter(_metadata, d, 0, pre, pre_arg);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
}

/*
 * The reason checkpoint(2) or restart(2) logged (CR_LOGFD) to @fd, a file
 * (read from its start) or a pipe: up to @len - 1 bytes, NUL-terminated.
 * errno is left as it was, for the caller to check the call's.
 */
static inline void cr_read_log(int fd, char *buf, size_t len)
{
	int err = errno;
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0 && errno == ESPIPE)
		n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = 0;
	errno = err;
}

/* Read what is left in @fd, up to @len - 1 bytes, NUL-terminated */
static inline ssize_t read_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n < len - 1) {
		r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = 0;
	return n;
}

/* Make @arg, a descriptor, the restarter's standard output */
static inline void pre_stdout(void *arg)
{
	int fd = *(int *)arg;

	if (dup2(fd, 1) != 1) {
		cr_log("dup2: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
}

/* Stopped children */

/*
 * Fork a child running @fn(ready fd), with @in (if not -1) as its standard
 * input; returns once the child closed the ready pipe, after writing one
 * byte to say it is ready.
 */
static inline pid_t start_child_in(struct __test_metadata *_metadata,
				   void (*fn)(int ready), int in)
{
	pid_t pid;
	int p[2];
	char c;

	ASSERT_EQ(0, pipe(p));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(p[0]);
		if (in >= 0 && dup2(in, 0) != 0)
			_exit(EXIT_SETUP);
		fn(p[1]);
		_exit(EXIT_SETUP);
	}
	kid_add(pid);
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	ASSERT_EQ(0, read(p[0], &c, 1));
	close(p[0]);
	return pid;
}

static inline pid_t start_child(struct __test_metadata *_metadata,
				void (*fn)(int ready))
{
	return start_child_in(_metadata, fn, -1);
}

static inline void stop_child(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
}

static inline void kill_child(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	kid_del(pid);
}

/* Records of an image in memory, to edit it */

#define CR_ALIGN8(x)	(((x) + 7) & ~(size_t)7)

/* Offset of the @nth (from 0) record of @type in @buf, or -1 */
static inline long cr_find_rec(const unsigned char *buf, size_t len,
			       __u32 type, int nth)
{
	struct cr_hdr h;
	size_t off = 0;

	while (off + sizeof(h) <= len) {
		memcpy(&h, buf + off, sizeof(h));
		if (h.type == type && nth-- == 0)
			return off;
		if (h.type == CR_HDR_TAIL || h.len < sizeof(h))
			break;
		off += CR_ALIGN8(h.len);
	}
	return -1;
}

/*
 * Recompute the tail's checksum of an edited image, and its length: the
 * edit may have made a record longer
 */
static inline void cr_reseal(unsigned char *buf, size_t len)
{
	long tail = cr_find_rec(buf, len, CR_HDR_TAIL, 0);
	struct cr_hdr_tail t;

	if (tail < 0)
		return;
	memcpy(&t, buf + tail, sizeof(t));
	t.length = tail;
	t.csum = crc32_zlib(buf, tail);
	memcpy(buf + tail, &t, sizeof(t));
}

/* Threads */

static volatile int thr_stop;
static volatile unsigned long thr_count;
static pthread_t thr;

static inline void *thr_fn(void *arg)
{
	while (!thr_stop) {
		thr_count++;
		usleep(5000);
	}
	return NULL;
}

static inline int thr_start(void)
{
	thr_stop = 0;
	errno = pthread_create(&thr, NULL, thr_fn, NULL);
	return errno ? -1 : 0;
}

/* Number of threads of the caller, from /proc/self/status */
static inline int nr_threads(void)
{
	char buf[4096], *p;

	if (read_file("/proc/self/status", buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nThreads:");
	return p ? atoi(p + 9) : -1;
}

/* 0 if the thread is running: its counter moves */
static inline int thr_alive(void)
{
	unsigned long c = thr_count;
	int i;

	for (i = 0; i < 500; i++) {
		if (thr_count != c)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* Stop the thread, and wait until the kernel has let it go */
static inline int thr_stop_join(void)
{
	int i;

	thr_stop = 1;
	errno = pthread_join(thr, NULL);
	if (errno)
		return -1;
	for (i = 0; i < 500; i++) {
		if (nr_threads() == 1)
			return 0;
		usleep(10000);
	}
	errno = EBUSY;
	return -1;
}

#endif /* CR_HARNESS_H */
