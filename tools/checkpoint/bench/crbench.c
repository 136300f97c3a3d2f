// SPDX-License-Identifier: GPL-2.0
/*
 * crbench: how fast checkpoint(2) and restart(2) are, next to plain file
 * I/O of the same number of bytes (make bench runs it in the VM).
 *
 * For each size, a target process fills that much anonymous memory with a
 * pattern and blocks in read(2) on its standard input; it is stopped with
 * SIGSTOP and checkpointed into a file of DIR (tmpfs), then killed.  A
 * forked restarter calls restart(2) on the image with a byte waiting in the
 * pipe that is its standard input, which the restarted target inherits:
 * the target's read(2) is made again and returns, the target writes a byte
 * to its standard output (the restarter's, a pipe to crbench) - "running" -
 * checks its whole memory against the pattern and writes a second byte -
 * "verified".  Next to that, crbench times write(2) of a buffer of the same
 * size, already touched, to a file of DIR, and read(2) of that file into
 * fresh (never touched) memory.  Each figure is the median of several
 * repetitions, all in the same boot, after a warm-up that touches the
 * memory the measurements will use (the first touch of guest RAM is slow).
 *
 * It is a benchmark: it fails only if checkpoint or restart fail, or if a
 * restarted target finds its memory changed, never on timings.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../cr-tools.h"

#define PROG		"crbench"
#define MIB		(1024UL * 1024UL)
#define MAX_SIZES	16
#define MAX_REPS	101
#define TINY_BYTES	(4 * 4096UL)	/* the process of the fixed cost */
#define TMPFS_MAGIC_NR	0x01021994

#ifndef __NR_close_range
#define __NR_close_range	436
#endif

/* Exit statuses of the target */
#define T_EXIT_OK	0
#define T_EXIT_IO	3	/* its pipes failed */
#define T_EXIT_MEM	4	/* its memory differs from the pattern */
#define T_EXIT_NOMEM	5	/* mmap failed */
#define R_EXIT_RETURNED	6	/* restart(2) returned to the restarter */

static const char usage_text[] =
"Usage: crbench [-d DIR] [-r REPS] [-b REPS] [-t REPS] [-w MIB] [-T N] [-H N]\n"
"               [-k REPS] [-o] [MIB...]\n"
"\n"
"Time checkpoint(2) and restart(2) of a process with MIB MiB of touched\n"
"anonymous memory (default: 64 256 1024), next to write(2) and read(2) of\n"
"as many bytes to and from a file, and the fixed cost of both calls for a\n"
"process of a few pages; then of a tree of processes and of a process of\n"
"several threads, each task with a few pages, per task and next to\n"
"write(2) and read(2) of the image.  Prints medians; fails only if\n"
"checkpoint or restart fail, or a restarted task finds itself changed.\n"
"\n"
"  -d DIR   where the images and the data file go (default /tmp, tmpfs)\n"
"  -r REPS  repetitions per size (default 5)\n"
"  -b REPS  repetitions for sizes of 1024 MiB and more (default 3)\n"
"  -t REPS  repetitions for the fixed cost (default 20)\n"
"  -w MIB   memory to touch before measuring (default: 3 times the largest\n"
"           size plus 256, at most the free memory less 256)\n"
"  -T N     processes of the tree (default 100, 0: no tree)\n"
"  -H N     threads of the threaded process (default 16, 0: none)\n"
"  -k REPS  repetitions for the tree and the threads (default 5)\n"
"  -o       only the tree and the threads, no process of MIB MiB\n"
"  -h       show this help\n";

static const char *dir = "/tmp";
static char img_path[512], data_path[512];

static void __printf(1, 2) __noreturn fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	unlink(img_path);
	unlink(data_path);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Word @i of the pattern of @seed: every word and every page differs */
static inline uint64_t pat(size_t i, uint64_t seed)
{
	return ((uint64_t)i + 1) * 0x9e3779b97f4a7c15ULL ^ seed;
}

static void fill(uint64_t *mem, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len / 8; i++)
		mem[i] = pat(i, seed);
}

static bool verify(const uint64_t *mem, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (mem[i] != pat(i, seed))
			return false;
	return true;
}

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fatal("mmap of %zu MiB: %s", len / MIB, strerror(errno));
	return p;
}

static void close_from(int fd)
{
	if (syscall(__NR_close_range, (unsigned int)fd, ~0U, 0U))
		fatal("close_range: %s", strerror(errno));
}

static int open_file(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd < 0)
		fatal("%s: %s", path, strerror(errno));
	return fd;
}

static void xpipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC))
		fatal("pipe: %s", strerror(errno));
}

/* Read one byte from @fd: the byte, or -1 at the end of the file */
static int get_byte(int fd)
{
	unsigned char c;
	ssize_t n;

	do {
		n = read(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		fatal("read from a pipe: %s", strerror(errno));
	return n ? c : -1;
}

static void put_byte(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		fatal("write to a pipe: %s", strerror(errno));
}

static void describe(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else
		snprintf(buf, len, "wait status %#x", status);
}

/*
 * The target, in the child: standard input @in, standard output @out,
 * nothing else open.  The restarted target goes on from its read().
 */
static void __noreturn target(size_t len, uint64_t seed)
{
	uint64_t *mem;
	int c;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		_exit(T_EXIT_NOMEM);
	fill(mem, len, seed);
	if (write(1, "R", 1) != 1)
		_exit(T_EXIT_IO);
	do {
		c = 0;
		if (read(0, &c, 1) == 1)
			break;
	} while (errno == EINTR);
	if (c != 'G' || write(1, "A", 1) != 1)
		_exit(T_EXIT_IO);
	if (!verify(mem, len, seed)) {
		if (write(1, "X", 1) != 1)
			_exit(T_EXIT_IO);
		_exit(T_EXIT_MEM);
	}
	if (write(1, "V", 1) != 1)
		_exit(T_EXIT_IO);
	_exit(T_EXIT_OK);
}

struct ckpt {
	double secs;		/* the checkpoint(2) call */
	off_t image;		/* bytes of the image */
};

/* Start a target of @len bytes, stop it, checkpoint it to img_path, kill it */
static struct ckpt do_checkpoint(size_t len, uint64_t seed)
{
	int go[2], ready[2], status, fd;
	struct ckpt res;
	struct stat st;
	double t0;
	pid_t pid;
	long crid;
	char desc[64];

	xpipe(go);
	xpipe(ready);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (!pid) {
		if (dup2(go[0], 0) != 0 || dup2(ready[1], 1) != 1)
			_exit(T_EXIT_IO);
		close_from(3);
		target(len, seed);
	}
	close(go[0]);
	close(ready[1]);
	if (get_byte(ready[0]) != 'R') {
		waitpid(pid, &status, 0);
		describe(status, desc, sizeof(desc));
		fatal("the target of %zu bytes did not start: %s", len, desc);
	}
	if (kill(pid, SIGSTOP) || waitpid(pid, &status, WUNTRACED) != pid ||
	    !WIFSTOPPED(status))
		fatal("cannot stop the target %d", pid);

	fd = open_file(img_path, O_RDWR | O_CREAT | O_TRUNC);
	t0 = now();
	crid = sys_checkpoint(pid, fd, 0);
	res.secs = now() - t0;
	if (crid <= 0)
		fatal("checkpoint(%d) of a process of %zu bytes: %s", pid, len,
		      strerror(errno));
	if (fstat(fd, &st))
		fatal("%s: %s", img_path, strerror(errno));
	res.image = st.st_size;
	close(fd);

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(go[1]);
	close(ready[0]);
	return res;
}

struct rst {
	double running;		/* restart(2) until the target runs */
	double verified;	/* and until it has checked its memory */
};

/* A page shared with the restarter, for the times it takes */
static void *shared_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fatal("mmap: %s", strerror(errno));
	memset(p, 0, 4096);
	return p;
}

/*
 * Fork a restarter: the image of img_path on its descriptor 3, on 0 the
 * pipe @go holding @ngo bytes 'G', on 1 the pipe @out to the caller.
 * Returns 0 in the restarter, its pid in the caller.
 */
static pid_t fork_restarter(int go[2], int out[2], int ngo)
{
	int fd, i;
	pid_t pid;

	xpipe(go);
	xpipe(out);
	for (i = 0; i < ngo; i++)
		put_byte(go[1], 'G');
	fd = open_file(img_path, O_RDONLY);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (!pid) {
		if (dup2(go[0], 0) != 0 || dup2(out[1], 1) != 1 ||
		    dup2(fd, 3) != 3)
			_exit(R_EXIT_RETURNED);
		close_from(4);
		return 0;
	}
	close(fd);
	close(go[0]);
	close(out[1]);
	return pid;
}

/* Restart the image of img_path in a forked restarter */
static struct rst do_restart(size_t len)
{
	double *t0 = shared_page();
	int go[2], out[2], status, c;
	struct rst res;
	double t1, t2;
	char desc[64];
	pid_t pid;

	pid = fork_restarter(go, out, 1);
	if (!pid) {
		*t0 = now();
		sys_restart(0, 3, 0);
		fprintf(stderr, PROG ": restart: %s\n", strerror(errno));
		_exit(R_EXIT_RETURNED);
	}
	c = get_byte(out[0]);
	t1 = now();
	if (c == 'A')
		c = get_byte(out[0]);
	t2 = now();
	waitpid(pid, &status, 0);
	describe(status, desc, sizeof(desc));
	if (c != 'V' || !WIFEXITED(status) || WEXITSTATUS(status)) {
		if (c == 'X')
			fatal("the restarted target of %zu bytes found its memory changed (%s)",
			      len, desc);
		fatal("restart of a process of %zu bytes failed: %s%s", len,
		      desc, WIFEXITED(status) &&
		      WEXITSTATUS(status) == R_EXIT_RETURNED ?
		      " (restart(2) returned)" : "");
	}
	res.running = t1 - *t0;
	res.verified = t2 - *t0;
	munmap((void *)t0, 4096);
	close(go[1]);
	close(out[0]);
	return res;
}

struct io {
	double wr;		/* write(2) of a touched buffer */
	double rd;		/* read(2) into fresh memory */
};

static void write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fatal("write to %s: %s", data_path,
			      n ? strerror(errno) : "no progress");
		buf += n;
		len -= n;
	}
}

static void read_all(int fd, char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fatal("read from %s: %s", data_path,
			      n ? strerror(errno) : "short file");
		buf += n;
		len -= n;
	}
}

static struct io do_io(size_t len, uint64_t seed)
{
	struct io res;
	char *buf;
	double t0;
	int fd;

	buf = map(len);
	fill((uint64_t *)buf, len, seed);
	fd = open_file(data_path, O_RDWR | O_CREAT | O_TRUNC);
	t0 = now();
	write_all(fd, buf, len);
	res.wr = now() - t0;
	close(fd);
	munmap(buf, len);

	buf = map(len);
	fd = open_file(data_path, O_RDONLY);
	t0 = now();
	read_all(fd, buf, len);
	res.rd = now() - t0;
	close(fd);
	if (!verify((uint64_t *)buf, len, seed))
		fatal("%s does not read back what was written", data_path);
	munmap(buf, len);
	unlink(data_path);
	return res;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Touch @mib MiB once, so that no measurement pays the first touch */
static void warm_up(unsigned long mib)
{
	size_t len = mib * MIB, i;
	double t0 = now();
	char *p;

	if (!mib)
		return;
	p = map(len);
	for (i = 0; i < len; i += 4096)
		p[i] = 1;
	munmap(p, len);
	printf("warm-up: touched %lu MiB in %.2f s\n", mib, now() - t0);
	fflush(stdout);
}

/* Round @i of the fixed cost: one process of TINY_BYTES, in @ck and @rs */
static struct ckpt tiny_round(int i, double *ck, double *rs)
{
	struct ckpt c = do_checkpoint(TINY_BYTES, 0x1234 + i);
	struct rst r = do_restart(TINY_BYTES);

	ck[i] = c.secs;
	rs[i] = r.running;
	return c;
}

static void fixed_cost(int reps)
{
	double ck[MAX_REPS], rs[MAX_REPS];
	struct ckpt c = { 0 };
	int i;

	for (i = 0; i < reps; i++)
		c = tiny_round(i, ck, rs);
	unlink(img_path);
	printf("fixed cost: process with %lu KiB of memory, image %.1f KiB, median of %d:\n",
	       TINY_BYTES / 1024, c.image / 1024.0, reps);
	printf("  checkpoint %.2f ms, restart %.2f ms (until it runs)\n",
	       median(ck, reps) * 1e3, median(rs, reps) * 1e3);
	fflush(stdout);
}

struct row {
	unsigned long mib;
	int reps;
	double ck, rs, vf, wr, rd;
	off_t image;
};

static struct row measure(unsigned long mib, int reps)
{
	double ck[MAX_REPS], rs[MAX_REPS], vf[MAX_REPS];
	double wr[MAX_REPS], rd[MAX_REPS];
	size_t len = mib * MIB;
	struct row row = { .mib = mib, .reps = reps };
	struct ckpt c;
	struct rst r;
	struct io io;
	int i;

	for (i = 0; i < reps; i++) {
		io = do_io(len, 0xabcd0000 + i);
		c = do_checkpoint(len, 0x5eed0000 + i);
		r = do_restart(len);
		unlink(img_path);
		wr[i] = io.wr;
		rd[i] = io.rd;
		ck[i] = c.secs;
		rs[i] = r.running;
		vf[i] = r.verified;
		row.image = c.image;
		fprintf(stderr, "  %lu MiB #%d: write %.3f read %.3f s, ", mib,
			i + 1, io.wr, io.rd);
		fprintf(stderr, "checkpoint %.3f restart %.3f (+verify %.3f) s\n",
			c.secs, r.running, r.verified);
	}
	row.ck = median(ck, reps);
	row.rs = median(rs, reps);
	row.vf = median(vf, reps);
	row.wr = median(wr, reps);
	row.rd = median(rd, reps);
	return row;
}

static void print_table(const struct row *rows, int n)
{
	const struct row *r;
	int i;

	printf("\n%6s | %9s %7s %6s | %9s %7s %6s | %9s | %9s | %8s %8s | %4s\n",
	       "MiB", "ckpt s", "MiB/s", "/write", "restart s", "MiB/s",
	       "/read", "+verify s", "image MiB", "write s", "read s", "reps");
	for (i = 0; i < n; i++) {
		r = &rows[i];
		printf("%6lu | %9.3f %7.0f %6.2f ", r->mib, r->ck,
		       r->mib / r->ck, r->ck / r->wr);
		printf("| %9.3f %7.0f %6.2f | %9.3f ", r->rs, r->mib / r->rs,
		       r->rs / r->rd, r->vf);
		printf("| %9.1f | %8.3f %8.3f | %4d\n", r->image / (double)MIB,
		       r->wr, r->rd, r->reps);
	}
	fflush(stdout);
}

/*
 * Process trees and threads.  Every task of the tree (or every thread of
 * the threaded process) fills TINY_BYTES of memory of its own with a
 * pattern of its index, writes a note "ready" with its pid to its standard
 * output, and blocks in read(2) on its standard input.  crbench stops each
 * process with SIGSTOP, waits until every task is stopped, times
 * checkpoint(CR_CHECKPOINT_TREE) of the root, and kills the tree.  A
 * restarter with as many bytes waiting in the pipe of its standard input
 * calls restart(CR_RESTART_TREE), with the image's pids in a new pid
 * namespace (as the pid 1 of it) or with CR_RESTART_NEW_PIDS: each
 * restored task reads its byte, checks its memory, its pid and its
 * parent's, and writes a note "verified"; each process reaps its
 * children, and exits with 0 only if they all did; the root's exit status
 * comes back through the restarter.  A restart counts only if every task
 * sent its note with everything right and the root exited with 0.
 */

#define TREE_BRANCHES	10	/* children of the root, each a chain */
#define MAX_TASKS	1024
#define MAX_THREADS	256
#define T_EXIT_CHILD	7	/* a child failed, or is missing */
#define T_EXIT_FORK	8	/* fork or pthread_create failed */
#define R_EXIT_WAIT	9	/* the restarter lost the root */

/* What a task of the tree says, in one atomic write to a pipe */
struct note {
	char kind;		/* 'R' ready, 'V' verified */
	uint8_t flags;		/* NOTE_* */
	uint16_t idx;		/* its index in the tree */
	int32_t pid;		/* its pid (thread id) as it sees it */
};

#define NOTE_MEM	1	/* its memory holds its pattern */
#define NOTE_PID	2	/* its pid is the one it had */
#define NOTE_PPID	4	/* its parent's pid is the one it had */

/* Processes of each chain under the root of a tree of @n */
static int tree_chain_len(int n)
{
	int b = n - 1 < TREE_BRANCHES ? n - 1 : TREE_BRANCHES;

	return b ? (n - 1 + b - 1) / b : 0;
}

/* Parent of task @i of a tree of @n: the root fans out to chains */
static int tree_parent(int i, int n)
{
	if (!i)
		return -1;
	return (i - 1) % tree_chain_len(n) ? i - 1 : 0;
}

static void send_note(char kind, int idx, int flags, pid_t pid)
{
	struct note nt = { .kind = kind, .flags = flags, .idx = idx,
			   .pid = pid };

	if (write(1, &nt, sizeof(nt)) != sizeof(nt))
		_exit(T_EXIT_IO);
}

/* Wait for the byte that says go on standard input */
static void wait_go(void)
{
	char c = 0;

	while (read(0, &c, 1) != 1)
		if (errno != EINTR)
			_exit(T_EXIT_IO);
	if (c != 'G')
		_exit(T_EXIT_IO);
}

/* Fill memory, say ready, wait, check: the flags of the note "verified" */
static int task_body(int idx, pid_t pid, pid_t ppid, uint64_t seed)
{
	uint64_t *mem;
	int flags = 0;

	mem = mmap(NULL, TINY_BYTES, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		_exit(T_EXIT_NOMEM);
	fill(mem, TINY_BYTES, seed + idx);
	send_note('R', idx, 0, pid);
	wait_go();
	if (verify(mem, TINY_BYTES, seed + idx))
		flags |= NOTE_MEM;
	if (gettid() == pid)
		flags |= NOTE_PID;
	if (getppid() == ppid)
		flags |= NOTE_PPID;
	return flags;
}

static void __noreturn tree_task(int idx, int n, uint64_t seed)
{
	pid_t pid = getpid(), ppid = getppid();
	int j, kids = 0, status, flags, ret;

	for (j = idx + 1; j < n; j++) {
		if (tree_parent(j, n) != idx)
			continue;
		ret = fork();
		if (ret < 0)
			_exit(T_EXIT_FORK);
		if (!ret)
			tree_task(j, n, seed);
		kids++;
	}
	flags = task_body(idx, pid, ppid, seed);
	send_note('V', idx, flags, getpid());
	ret = flags & NOTE_MEM ? T_EXIT_OK : T_EXIT_MEM;
	/* New pids or not, a process reaps as many children as it had */
	for (; kids; kids--) {
		if (waitpid(-1, &status, 0) < 0)
			_exit(T_EXIT_CHILD);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			ret = T_EXIT_CHILD;
	}
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
		ret = T_EXIT_CHILD;
	_exit(ret);
}

struct thread_arg {
	pthread_t th;
	int idx;
	int flags;
	uint64_t seed;
	pid_t tgid;
};

static void *thread_fn(void *p)
{
	struct thread_arg *a = p;
	pid_t tid = gettid();

	a->flags = task_body(a->idx, tid, getppid(), a->seed);
	if (getpid() != a->tgid)
		a->flags &= ~NOTE_PID;
	send_note('V', a->idx, a->flags, tid);
	return NULL;
}

/* The threaded process: @n threads, the first one the main thread */
static void __noreturn threads_task(int n, uint64_t seed)
{
	static struct thread_arg args[MAX_THREADS];
	int i, ret = T_EXIT_OK;

	for (i = 0; i < n; i++) {
		args[i].idx = i;
		args[i].seed = seed;
		args[i].tgid = getpid();
	}
	for (i = 1; i < n; i++)
		if (pthread_create(&args[i].th, NULL, thread_fn, &args[i]))
			_exit(T_EXIT_FORK);
	thread_fn(&args[0]);
	for (i = 1; i < n; i++)
		if (pthread_join(args[i].th, NULL))
			ret = T_EXIT_CHILD;
	for (i = 0; i < n; i++)
		if (!(args[i].flags & NOTE_MEM))
			ret = T_EXIT_MEM;
	_exit(ret);
}

struct group {
	const char *what;	/* "tree" or "threaded process" */
	bool threads;		/* one process of @n threads, not a tree */
	int n;			/* tasks */
	pid_t root;
	pid_t pids[MAX_TASKS];	/* of each task, from its note */
};

/* Read one note from @fd; false at the end of the file */
static bool get_note(int fd, struct note *nt)
{
	ssize_t n;

	do {
		n = read(fd, nt, sizeof(*nt));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		fatal("read from a pipe: %s", strerror(errno));
	if (n && n != sizeof(*nt))
		fatal("a short note (%zd bytes)", n);
	return n;
}

/* The state letter of /proc/@pid/task/@tid/stat, or 0 */
static char task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Stop every process of @g, and wait until every task is stopped */
static void stop_group(struct group *g)
{
	bool threads = g->threads;
	double t0 = now();
	int i;

	for (i = 0; i < g->n; i++)
		if ((!threads || !i) && kill(g->pids[i], SIGSTOP))
			fatal("kill(%d, SIGSTOP): %s", g->pids[i],
			      strerror(errno));
	for (i = 0; i < g->n; i++) {
		while (task_state(threads ? g->root : g->pids[i],
				  g->pids[i]) != 'T') {
			if (now() - t0 > 60)
				fatal("task %d of the %s did not stop",
				      g->pids[i], g->what);
			usleep(1000);
		}
	}
}

/* Kill what is left of @g and reap it (crbench is a subreaper) */
static void kill_group(struct group *g)
{
	bool threads = g->threads;
	int i, status;

	for (i = 0; i < g->n; i++)
		if (!threads || !i)
			kill(g->pids[i], SIGKILL);
	while (waitpid(-1, &status, 0) > 0 || errno == EINTR)
		;
}

/*
 * Start a tree of @g->n processes (or a process of as many threads), wait
 * for their notes, stop them all, checkpoint the tree to img_path, kill it
 */
static struct ckpt group_checkpoint(struct group *g, uint64_t seed)
{
	int go[2], ready[2], fd, got = 0;
	unsigned long flags;
	struct cr_log log;
	struct ckpt res;
	struct note nt;
	struct stat st;
	double t0;
	long crid;

	xpipe(go);
	xpipe(ready);
	fflush(NULL);
	g->root = fork();
	if (g->root < 0)
		fatal("fork: %s", strerror(errno));
	if (!g->root) {
		if (dup2(go[0], 0) != 0 || dup2(ready[1], 1) != 1)
			_exit(T_EXIT_IO);
		close_from(3);
		if (g->threads)
			threads_task(g->n, seed);
		tree_task(0, g->n, seed);
	}
	close(go[0]);
	close(ready[1]);
	while (got < g->n && get_note(ready[0], &nt)) {
		if (nt.kind != 'R' || nt.idx >= g->n || g->pids[nt.idx])
			fatal("a bad note from the %s", g->what);
		g->pids[nt.idx] = nt.pid;
		got++;
	}
	if (got < g->n)
		fatal("the %s of %d tasks did not start: %d ready", g->what,
		      g->n, got);
	stop_group(g);

	fd = open_file(img_path, O_RDWR | O_CREAT | O_TRUNC);
	flags = cr_log_open(&log);
	t0 = now();
	crid = sys_checkpoint(g->root, fd, CR_CHECKPOINT_TREE | flags);
	res.secs = now() - t0;
	if (crid <= 0) {
		cr_log_show(PROG, &log);
		fatal("checkpoint(%d, CR_CHECKPOINT_TREE) of the %s of %d tasks: %s",
		      g->root, g->what, g->n, strerror(errno));
	}
	if (log.rfd >= 0) {
		close(log.rfd);
		close(log.wfd);
	}
	if (fstat(fd, &st))
		fatal("%s: %s", img_path, strerror(errno));
	res.image = st.st_size;
	close(fd);

	kill_group(g);
	close(go[1]);
	close(ready[0]);
	return res;
}

/* Times of a tree restart, in memory shared with the restarter */
struct tree_times {
	double t0;		/* before restart(2) */
	double t1;		/* restart(2) returned */
	int err;		/* its errno if it failed */
	char log[512];		/* and the kernel's reason */
};

/* In the restarter (the pid 1 of a new namespace, or not): restart, reap */
static void __noreturn tree_restarter(struct tree_times *tt,
				      unsigned long flags, bool init)
{
	struct cr_log log;
	unsigned long lf;
	int status, ret;
	ssize_t n;
	long root;

	lf = cr_log_open(&log);
	tt->t0 = now();
	root = sys_restart(0, 3, CR_RESTART_TREE | flags | lf);
	tt->t1 = now();
	if (root <= 0) {
		tt->err = root < 0 ? errno : 0;
		if (log.rfd >= 0) {
			n = read(log.rfd, tt->log, sizeof(tt->log) - 1);
			if (n > 0)
				tt->log[n] = '\0';
		}
		_exit(R_EXIT_RETURNED);
	}
	close(0);
	close(1);
	close(3);
	if (waitpid(root, &status, 0) != root)
		_exit(R_EXIT_WAIT);
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	/* The pid 1 reaps what was orphaned, if anything */
	while (init && (waitpid(-1, &status, 0) > 0 || errno == EINTR))
		ret = ret ? ret : T_EXIT_CHILD;
	_exit(ret);
}

struct rst_tree {
	double restart;		/* restart(2) until it returned */
	double verified;	/* until every task said it verified */
};

/* Restart the tree of img_path: new pids, or the image's in a new pid ns */
static struct rst_tree group_restart(struct group *g, bool new_pids)
{
	struct tree_times *tt = shared_page();
	int go[2], out[2], status, got = 0, bad = 0;
	bool seen[MAX_TASKS] = { false };
	struct rst_tree res;
	char desc[64];
	struct note nt;
	double t2 = 0;
	pid_t pid;

	pid = fork_restarter(go, out, g->n);
	if (!pid) {
		if (new_pids)
			tree_restarter(tt, CR_RESTART_NEW_PIDS, false);
		if (unshare(CLONE_NEWPID))
			_exit(R_EXIT_RETURNED);
		pid = fork();
		if (pid < 0)
			_exit(R_EXIT_RETURNED);
		if (!pid)
			tree_restarter(tt, 0, true);
		close(0);
		close(1);
		close(3);
		if (waitpid(pid, &status, 0) != pid)
			_exit(R_EXIT_WAIT);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : R_EXIT_WAIT);
	}
	while (got < g->n && get_note(out[0], &nt)) {
		if (nt.kind != 'V' || nt.idx >= g->n || seen[nt.idx])
			fatal("a bad note from the restarted %s", g->what);
		seen[nt.idx] = true;
		if (!(nt.flags & NOTE_MEM) ||
		    (!new_pids && (nt.pid != g->pids[nt.idx] ||
				   !(nt.flags & NOTE_PID))) ||
		    (!new_pids && !g->threads && nt.idx &&
		     !(nt.flags & NOTE_PPID))) {
			fprintf(stderr, PROG ": restarted task %d (pid %d, was %d): flags %#x\n",
				nt.idx, nt.pid, g->pids[nt.idx], nt.flags);
			bad++;
		}
		got++;
	}
	t2 = now();
	waitpid(pid, &status, 0);
	describe(status, desc, sizeof(desc));
	if (tt->err || (WIFEXITED(status) &&
			WEXITSTATUS(status) == R_EXIT_RETURNED)) {
		fprintf(stderr, PROG ": kernel: %s", tt->log);
		fatal("restart(CR_RESTART_TREE%s) of the %s of %d tasks: %s",
		      new_pids ? " | CR_RESTART_NEW_PIDS" : "", g->what, g->n,
		      strerror(tt->err));
	}
	if (got < g->n || bad || !WIFEXITED(status) || WEXITSTATUS(status))
		fatal("restart of the %s of %d tasks%s failed: %d verified, %d wrong, restarter %s",
		      g->what, g->n, new_pids ? " with new pids" : "", got,
		      bad, desc);
	res.restart = tt->t1 - tt->t0;
	res.verified = t2 - tt->t0;
	munmap(tt, 4096);
	close(go[1]);
	close(out[0]);
	return res;
}

struct group_row {
	int n, reps;
	double ck, rs, vf, rs_new, vf_new, wr, rd;
	double one_ck, one_rs;	/* one process of TINY_BYTES */
	off_t image;
};

/* Checkpoint and restart (both ways) @reps times a tree or threads */
static struct group_row measure_group(bool threads, int n, int reps,
				      bool count)
{
	double ck[MAX_REPS], rs[MAX_REPS], vf[MAX_REPS], rsn[MAX_REPS];
	double vfn[MAX_REPS], wr[MAX_REPS], rd[MAX_REPS];
	double one_ck[MAX_REPS], one_rs[MAX_REPS];
	struct group_row row = { .n = n, .reps = reps };
	struct rst_tree r, rn;
	static struct group g;
	struct ckpt c;
	struct io io;
	int i;

	for (i = 0; i < reps; i++) {
		memset(&g, 0, sizeof(g));
		g.n = n;
		g.threads = threads;
		g.what = threads ? "threaded process" : "tree";
		c = group_checkpoint(&g, 0x7ee00000 + i * 4096);
		r = group_restart(&g, false);
		rn = group_restart(&g, true);
		/* One process, as for the fixed cost, in the same round */
		tiny_round(i, one_ck, one_rs);
		unlink(img_path);
		io = do_io((c.image + 4095) & ~4095UL, 0xabcd0000 + i);
		ck[i] = c.secs;
		rs[i] = r.restart;
		vf[i] = r.verified;
		rsn[i] = rn.restart;
		vfn[i] = rn.verified;
		wr[i] = io.wr;
		rd[i] = io.rd;
		row.image = c.image;
		if (!count)
			continue;
		fprintf(stderr, "  %d %s #%d: checkpoint %.3f restart %.3f (+verify %.3f) ",
			n, threads ? "threads" : "processes", i + 1, c.secs,
			r.restart, r.verified);
		fprintf(stderr, "new pids %.3f (+verify %.3f) write %.3f read %.3f s\n",
			rn.restart, rn.verified, io.wr, io.rd);
	}
	row.ck = median(ck, reps);
	row.rs = median(rs, reps);
	row.vf = median(vf, reps);
	row.rs_new = median(rsn, reps);
	row.vf_new = median(vfn, reps);
	row.wr = median(wr, reps);
	row.rd = median(rd, reps);
	row.one_ck = median(one_ck, reps);
	row.one_rs = median(one_rs, reps);
	return row;
}

/* A line: total, per task, over @ref (write or read) and over one process */
static void print_group_line(const char *what, double secs, int n,
			     double ref, double one)
{
	printf("  %-22s %8.3f %9.2f", what, secs, secs * 1e3 / n);
	if (ref > 0)
		printf(" %8.2f", secs / ref);
	if (one > 0)
		printf(" %10.2f", secs / n / one);
	printf("\n");
}

static void print_group(const struct group_row *r, bool threads)
{
	if (threads)
		printf("\nprocess of %d threads, %lu KiB touched by each, ",
		       r->n, TINY_BYTES / 1024);
	else
		printf("\ntree of %d processes (a root, %d chains under it), %lu KiB %s\n",
		       r->n, r->n > 1 ? (r->n - 2) / tree_chain_len(r->n) + 1 :
		       0, TINY_BYTES / 1024, "touched by each,");
	printf("image %.2f MiB (%.1f KiB a task), median of %d:\n",
	       r->image / (double)MIB, r->image / 1024.0 / r->n, r->reps);
	printf("  %-22s %8s %9s %8s %10s\n", "", "total s", "ms/task",
	       "/io", "/1 process");
	print_group_line("checkpoint", r->ck, r->n, r->wr, r->one_ck);
	print_group_line("restart, same pids", r->rs, r->n, r->rd, r->one_rs);
	print_group_line("  +all verified", r->vf, r->n, 0, 0);
	print_group_line("restart, new pids", r->rs_new, r->n, r->rd,
			 r->one_rs);
	print_group_line("  +all verified", r->vf_new, r->n, 0, 0);
	print_group_line("write(2) of the image", r->wr, r->n, 0, 0);
	print_group_line("read(2) of the image", r->rd, r->n, 0, 0);
	print_group_line("one process of 16 KiB", r->one_ck, 1, 0, 0);
	print_group_line("  restart", r->one_rs, 1, 0, 0);
	fflush(stdout);
}

static void print_notes(void)
{
	printf("\nckpt s: checkpoint(2) of the stopped process into a file; /write: its\n"
	       "time over write(2) of as many bytes of touched memory.  restart s: restart(2)\n"
	       "in a forked process until the restored process runs; /read: its time over\n"
	       "read(2) of as many bytes into fresh memory.  +verify s: until the restored\n"
	       "process has also checked all its memory.  Medians; MiB/s counts the process's\n"
	       "memory.\n");
}

static void print_group_notes(void)
{
	printf("\ncheckpoint: checkpoint(CR_CHECKPOINT_TREE) of the root, every task\n"
	       "stopped by SIGSTOP; /io: its time over write(2) of as many bytes as the\n"
	       "image.  restart: restart(CR_RESTART_TREE) until it returns, every task\n"
	       "restored and running, with the same pids (as the pid 1 of a new pid\n"
	       "namespace) or new ones (CR_RESTART_NEW_PIDS); /io: its time over read(2)\n"
	       "of the image into fresh memory.  +all verified: until every task has\n"
	       "checked its memory and pids.  ms/task: the total over the tasks;\n"
	       "/1 process: the time per task over that of one process of 16 KiB\n"
	       "(checkpoint, restart until it runs), timed in the same rounds.  Medians.\n"
	       );
}

static int parse(const char *s, long min, long max, const char *what)
{
	long v;

	if (cr_parse_int(s, min, max, &v))
		cr_usage_error(PROG, "%s takes %ld to %ld, not '%s'", what, min,
			       max, s);
	return v;
}

int main(int argc, char **argv)
{
	int reps = 5, big_reps = 3, tiny_reps = 20, n = 0, c, i;
	int tree_n = 100, threads_n = 16, group_reps = 5;
	struct group_row tree_row, threads_row;
	bool only_groups = false;
	unsigned long sizes[MAX_SIZES], max = 0;
	struct row rows[MAX_SIZES];
	long warm = -1;
	struct sysinfo si;
	struct statfs sfs;
	double t0 = now();

	while ((c = getopt(argc, argv, "d:r:b:t:w:T:H:k:oh")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'r':
			reps = parse(optarg, 1, MAX_REPS, "-r");
			break;
		case 'b':
			big_reps = parse(optarg, 1, MAX_REPS, "-b");
			break;
		case 't':
			tiny_reps = parse(optarg, 1, MAX_REPS, "-t");
			break;
		case 'w':
			warm = parse(optarg, 0, 1 << 20, "-w");
			break;
		case 'T':
			tree_n = parse(optarg, 0, MAX_TASKS, "-T");
			break;
		case 'H':
			threads_n = parse(optarg, 0, MAX_THREADS, "-H");
			break;
		case 'k':
			group_reps = parse(optarg, 1, MAX_REPS, "-k");
			break;
		case 'o':
			only_groups = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	for (; optind < argc; optind++) {
		if (n == MAX_SIZES)
			cr_usage_error(PROG, "at most %d sizes", MAX_SIZES);
		sizes[n] = parse(argv[optind], 1, 1 << 16, "a size");
		if (sizes[n] > max)
			max = sizes[n];
		n++;
	}
	if (!n) {
		sizes[n++] = 64;
		sizes[n++] = 256;
		sizes[n++] = 1024;
		max = 1024;
	}
	snprintf(img_path, sizeof(img_path), "%s/crbench.img", dir);
	snprintf(data_path, sizeof(data_path), "%s/crbench.data", dir);
	close_from(3);

	if (sysinfo(&si))
		fatal("sysinfo: %s", strerror(errno));
	if (warm < 0) {
		unsigned long avail = si.freeram * (unsigned long)si.mem_unit / MIB;

		warm = only_groups ? 256 : 3 * max + 256;
		if (avail < 512)
			warm = 0;
		else if ((unsigned long)warm > avail - 256)
			warm = avail - 256;
	}
	printf("crbench: %d CPUs, %lu MiB of RAM, files in %s%s\n",
	       get_nprocs(), si.totalram * (unsigned long)si.mem_unit / MIB,
	       dir, !statfs(dir, &sfs) && sfs.f_type == TMPFS_MAGIC_NR ?
	       " (tmpfs)" : " (not tmpfs)");
	fflush(stdout);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L))
		fatal("prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
	warm_up(warm);
	/* A first round of each kind, not counted */
	do_io(16 * MIB, 1);
	if (!only_groups) {
		do_checkpoint(16 * MIB, 2);
		do_restart(16 * MIB);
		fixed_cost(tiny_reps);
		for (i = 0; i < n; i++)
			rows[i] = measure(sizes[i], sizes[i] >= 1024 ?
					  big_reps : reps);
		unlink(img_path);
		print_table(rows, n);
		print_notes();
		fflush(stdout);
	}
	if (tree_n) {
		measure_group(false, tree_n, 1, false);
		tree_row = measure_group(false, tree_n, group_reps, true);
		print_group(&tree_row, false);
	}
	if (threads_n) {
		measure_group(true, threads_n, 1, false);
		threads_row = measure_group(true, threads_n, group_reps, true);
		print_group(&threads_row, true);
	}
	if (tree_n || threads_n)
		print_group_notes();
	printf("crbench: done in %.0f s\n", now() - t0);
	return 0;
}
