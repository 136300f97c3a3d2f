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
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
"Usage: crbench [-d DIR] [-r REPS] [-b REPS] [-t REPS] [-w MIB] [MIB...]\n"
"\n"
"Time checkpoint(2) and restart(2) of a process with MIB MiB of touched\n"
"anonymous memory (default: 64 256 1024), next to write(2) and read(2) of\n"
"as many bytes to and from a file, and the fixed cost of both calls for a\n"
"process of a few pages.  Prints medians; fails only if checkpoint or\n"
"restart fail.\n"
"\n"
"  -d DIR   where the images and the data file go (default /tmp, tmpfs)\n"
"  -r REPS  repetitions per size (default 5)\n"
"  -b REPS  repetitions for sizes of 1024 MiB and more (default 3)\n"
"  -t REPS  repetitions for the fixed cost (default 20)\n"
"  -w MIB   memory to touch before measuring (default: 3 times the largest\n"
"           size plus 256, at most the free memory less 256)\n"
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

/* Restart the image of img_path in a forked restarter */
static struct rst do_restart(size_t len)
{
	double *t0;
	int go[2], out[2], fd, status, c;
	struct rst res;
	double t1, t2;
	char desc[64];
	pid_t pid;

	t0 = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t0 == MAP_FAILED)
		fatal("mmap: %s", strerror(errno));
	*t0 = 0;
	xpipe(go);
	xpipe(out);
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
		*t0 = now();
		sys_restart(0, 3, 0);
		fprintf(stderr, PROG ": restart: %s\n", strerror(errno));
		_exit(R_EXIT_RETURNED);
	}
	close(fd);
	close(go[0]);
	close(out[1]);
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

static void fixed_cost(int reps)
{
	double ck[MAX_REPS], rs[MAX_REPS];
	struct ckpt c = { 0 };
	struct rst r;
	int i;

	for (i = 0; i < reps; i++) {
		c = do_checkpoint(TINY_BYTES, 0x1234 + i);
		r = do_restart(TINY_BYTES);
		ck[i] = c.secs;
		rs[i] = r.running;
	}
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
	unsigned long sizes[MAX_SIZES], max = 0;
	struct row rows[MAX_SIZES];
	long warm = -1;
	struct sysinfo si;
	struct statfs sfs;
	double t0 = now();

	while ((c = getopt(argc, argv, "d:r:b:t:w:h")) != -1) {
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

		warm = 3 * max + 256;
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
	warm_up(warm);
	/* A first round of each kind, not counted */
	do_io(16 * MIB, 1);
	do_checkpoint(16 * MIB, 2);
	do_restart(16 * MIB);

	fixed_cost(tiny_reps);
	for (i = 0; i < n; i++)
		rows[i] = measure(sizes[i], sizes[i] >= 1024 ? big_reps : reps);
	unlink(img_path);
	print_table(rows, n);
	printf("\nckpt s: checkpoint(2) of the stopped process into a file; /write: its time over\n"
	       "write(2) of as many bytes of touched memory.  restart s: restart(2) in a forked\n"
	       "process until the restored process runs; /read: its time over read(2) of as\n"
	       "many bytes into fresh memory.  +verify s: until the restored process has also\n"
	       "checked all its memory.  Medians; MiB/s counts the process's memory.\n");
	printf("crbench: done in %.0f s\n", now() - t0);
	return 0;
}
