// SPDX-License-Identifier: GPL-2.0
/*
 * State of the tasks of a process tree across checkpoint(pid, fd,
 * CR_CHECKPOINT_TREE) and restart(0, fd, CR_RESTART_TREE |
 * CR_RESTART_NEW_PIDS), checked from inside the restarted tasks:
 *
 *  - pipeline: producer | filter | consumer, both pipes full at the
 *    checkpoint; the consumer checks every byte of the whole stream and
 *    its checksum;
 *  - relay: parent <-> child <-> grandchild through four pipes, bytes in
 *    flight in each, the stream checked end to end by the parent;
 *  - threads: eight threads with their own vector, x87 and MXCSR state and
 *    TLS, four blocked in FUTEX_WAIT, woken after restart by the others;
 *  - sigstop_not_kept, sigstop_frozen_kept: what becomes of a task its
 *    parent stopped with SIGSTOP (documented: it runs, no notification,
 *    when the tree was stopped with SIGSTOP; it stays stopped when the
 *    tree was frozen);
 *  - prctl: PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER and an exit signal,
 *    read back and at work;
 *  - shared_file: one open file of two processes, one offset;
 *  - parent_cycle: images whose parent links make a cycle, EINVAL.
 *
 * Each test forks a root (a child of the test, which is a subreaper), the
 * root makes its tree; each task writes its pid to the file r<idx> of the
 * test directory and stops itself (or the test stops it).  The test
 * checkpoints the stopped tree, kills it, restarts it in a restarter
 * child, and expects the root's exit status EXIT_RESTARTED: each task
 * checks its state when it goes on, reaps its children expecting
 * EXIT_RESTARTED, and exits with EXIT_RESTARTED or EXIT_CHECK + line.
 */

#include "tree_harness.h"

#include <cpuid.h>
#include <linux/futex.h>
#include <sys/ioctl.h>

#define MAXT		8
static char g_dir[64];		/* the test directory */

/*
 * Task side
 */

static void name_task(const char *name)
{
	cr_phase = name;
	prctl(PR_SET_NAME, name);
}

/* Reap one child, which must exit with EXIT_RESTARTED; its pid */
static pid_t reap_one(const char *what)
{
	int status;
	pid_t r;

	do {
		r = waitpid(-1, &status, __WALL);
	} while (r < 0 && errno == EINTR);
	if (!CHECKF(r > 0, "waitpid for %s: %s", what, strerror(errno)))
		return r;
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_RESTARTED,
	       "%s (pid %d) ended with wait status %#x", what, r, status);
	return r;
}

/*
 * Streams through pipes.  Byte @pos of the stream is the pattern of
 * SEED_STREAM at @pos, changed by each hop it goes through: a hop's change
 * depends on the position, so that a byte lost, doubled or moved is seen
 * by the next reader.
 */
#define SEED_STREAM	0x57a7e
#define CHUNK		4096

static unsigned char hop(int h, unsigned char b, unsigned long pos)
{
	return (b ^ (unsigned char)(pos * (2 * h + 1) + (pos >> 9) + h)) +
	       17 * h;
}

/* Bytes @pos... of the stream after hops 1 to @nhops */
static void stream_fill(unsigned char *buf, size_t len, unsigned long pos,
			int nhops)
{
	size_t i;
	int h;

	pat_fill(buf, len, SEED_STREAM, pos);
	for (h = 1; h <= nhops; h++)
		for (i = 0; i < len; i++)
			buf[i] = hop(h, buf[i], pos + i);
}

/*
 * One direction of a stream in a task: read from @in (or generate the
 * stream if -1) and check each byte read is that of the stream after
 * @nhops hops, apply hop @hop (0: none), write to @out (or checksum the
 * bytes if -1: a sink).
 */
struct flow {
	const char *name;
	int in, out;
	int hop, nhops;
	unsigned long total;		/* bytes of the whole stream */
	unsigned long done_in;	/* read (or generated) so far */
	unsigned long done_out;	/* written (or checked) so far */
	bool eof, closed, bad;
	unsigned long csum;		/* sink: of the bytes checked */
	size_t len, off;	/* bytes in @buf, and written of them */
	unsigned char buf[CHUNK];
};

static void flow_init(struct flow *f, const char *name, int in, int out,
		      int h, int nhops, unsigned long total)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->in = in;
	f->out = out;
	f->hop = h;
	f->nhops = nhops;
	f->total = total;
	f->csum = 0xcbf29ce484222325ULL;
}

/* The @n bytes just read: the stream after @nhops hops */
static bool check_in(struct flow *f, size_t n)
{
	unsigned char exp[CHUNK];
	size_t i;

	stream_fill(exp, n, f->done_in, f->nhops);
	for (i = 0; i < n; i++) {
		if (f->buf[i] == exp[i])
			continue;
		CHECKF(false, "%s: byte %lu of the stream is %#x, not %#x",
		       f->name, f->done_in + i, f->buf[i], exp[i]);
		f->bad = true;
		return false;
	}
	return true;
}

/* Fill the buffer, up to @stop bytes of the stream; false on error */
static bool flow_read(struct flow *f, unsigned long stop)
{
	size_t want = CHUNK;
	ssize_t n;
	size_t i;

	if (stop - f->done_in < want)
		want = stop - f->done_in;
	if (f->in < 0) {
		stream_fill(f->buf, want, f->done_in, 0);
		n = want;
	} else {
		/* Past the end: one byte more would be one byte too many */
		n = read(f->in, f->buf, f->done_in < f->total ? want : 1);
		if (n < 0 && errno == EINTR)
			return true;
		if (!CHECKF(n >= 0, "%s: read: %s", f->name, strerror(errno)))
			return false;
		if (!n) {
			CHECKF(f->done_in == f->total,
			       "%s: end of the stream after %lu bytes, not %lu",
			       f->name, f->done_in, f->total);
			f->eof = true;
			return f->done_in == f->total;
		}
		if (!CHECKF(f->done_in + n <= f->total,
			    "%s: %zd bytes more than the %lu of the stream",
			    f->name, n, f->total))
			return false;
		if (!check_in(f, n))
			return false;
	}
	if (f->hop)
		for (i = 0; i < (size_t)n; i++)
			f->buf[i] = hop(f->hop, f->buf[i], f->done_in + i);
	f->len = n;
	f->off = 0;
	f->done_in += n;
	return true;
}

/* Write (or check) what the buffer holds; false on error */
static bool flow_write(struct flow *f)
{
	size_t len = f->len - f->off;
	ssize_t n;

	if (f->out < 0) {
		f->csum = csum_add(f->csum, f->buf + f->off, len);
		n = len;
	} else {
		n = write(f->out, f->buf + f->off, len);
		if (n < 0 && errno == EINTR)
			return true;
		if (!CHECKF(n > 0, "%s: write: %s", f->name, strerror(errno)))
			return false;
	}
	f->off += n;
	f->done_out += n;
	if (f->off == f->len) {
		f->len = 0;
		f->off = 0;
	}
	return !f->bad;
}

/* All of the stream is through and the input at its end */
static bool flow_done(struct flow *f, unsigned long stop)
{
	if (f->len || f->done_in < stop)
		return false;
	if (stop < f->total)
		return true;
	if (f->out >= 0 && !f->closed) {
		close(f->out);
		f->closed = true;
	}
	return f->in < 0 || f->eof;
}

/*
 * Run one flow up to @stop bytes with blocking reads and writes: a task
 * whose pipe is full waits in write(2), an empty one in read(2).
 */
static bool flow_run(struct flow *f, unsigned long stop)
{
	while (!flow_done(f, stop)) {
		if (!f->len) {
			if (!flow_read(f, stop))
				return false;
		} else if (!flow_write(f)) {
			return false;
		}
	}
	return true;
}

/* Run flows to their end together, with poll(2) */
static bool flows_run(struct flow *fl, int n)
{
	struct pollfd p[8];
	int i, k, r, left;

	for (;;) {
		left = 0;
		for (i = k = 0; i < n; i++) {
			struct flow *f = &fl[i];

			if (flow_done(f, f->total))
				continue;
			left++;
			if (!f->len && f->in < 0 && !flow_read(f, f->total))
				return false;
			if (f->len && f->out < 0 && !flow_write(f))
				return false;
			if (!f->len && f->in >= 0)
				p[k++] = (struct pollfd){ .fd = f->in, .events = POLLIN };
			else if (f->len && f->out >= 0)
				p[k++] = (struct pollfd){ .fd = f->out, .events = POLLOUT };
		}
		if (!left)
			return true;
		if (!k)
			continue;
		r = poll(p, k, 30000);
		if (r < 0 && errno == EINTR)
			continue;
		if (!CHECKF(r > 0, "poll: %s", r ? strerror(errno) : "30 s without progress"))
			return false;
		for (i = 0; i < n; i++) {
			struct flow *f = &fl[i];
			int j;

			for (j = 0; j < k; j++) {
				if (!p[j].revents)
					continue;
				/* Writes of up to a page do not block after POLLOUT */
				if (p[j].fd == f->in && !f->len &&
				    !flow_read(f, f->total))
					return false;
				if (p[j].fd == f->out && f->len &&
				    !flow_write(f))
					return false;
			}
		}
	}
}

/* The checksum the sink of @f must have at the end */
static unsigned long stream_csum(const struct flow *f)
{
	unsigned char buf[CHUNK];
	unsigned long h = 0xcbf29ce484222325ULL, pos;
	size_t len;

	for (pos = 0; pos < f->total; pos += len) {
		len = f->total - pos < CHUNK ? f->total - pos : CHUNK;
		stream_fill(buf, len, pos, f->nhops);
		h = csum_add(h, buf, len);
	}
	return h;
}

static void check_sink(struct flow *f)
{
	unsigned long exp = stream_csum(f);

	CHECKF(f->done_out == f->total, "%s: %lu bytes checked, not %lu",
	       f->name, f->done_out, f->total);
	CHECKF(f->csum == exp, "%s: checksum %#lx, not %#lx",
	       f->name, f->csum, exp);
}

/* Bytes waiting in the pipe @fd */
static int in_pipe(int fd)
{
	int n = -1;

	if (ioctl(fd, FIONREAD, &n))
		return -1;
	return n;
}

/*
 * Test side
 */

struct tree {
	pid_t pids[MAXT];
	int n;
};

FIXTURE(tree_state) {
	struct cr_dir d;
};

FIXTURE_SETUP(tree_state)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
	snprintf(g_dir, sizeof(g_dir), "%s", self->d.dir);
	/* Orphans of killed trees come back to be reaped */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
}

FIXTURE_TEARDOWN_PARENT(tree_state)
{
	cr_dir_teardown(_metadata, &self->d);
}

/* Fork the root running @fn; wait until tasks 0 to @n - 1 are ready */
static void tree_start(struct __test_metadata *_metadata, struct tree *t,
		       int n, void (*fn)(void))
{
	char path[96];
	pid_t pid;
	int i;

	memset(t, 0, sizeof(*t));
	t->n = n;
	for (i = 0; i < MAXT; i++) {
		snprintf(path, sizeof(path), "%s/r%d", g_dir, i);
		unlink(path);
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The harness's mappings and descriptors cannot be saved */
		cr_prepare(-1);
		fn();
		_exit(EXIT_SETUP);
	}
	kid_add(pid);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/r%d", g_dir, i);
		t->pids[i] = wait_ready_file(_metadata, path, pid);
	}
	ASSERT_EQ(pid, t->pids[0]);
}

/* Wait until @pid blocks in system call @nr, then stop it */
static void stop_in(struct __test_metadata *_metadata, pid_t pid, int nr)
{
	expect_in_syscall(_metadata, pid, nr, "task of the tree");
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	wait_state(_metadata, pid, 'T');
}

static void tree_checkpoint(struct __test_metadata *_metadata,
			    struct cr_dir *d, struct tree *t)
{
	tree_checkpoint_to(_metadata, t->pids[0], d->imgfd);
}

/* Kill the tree and reap it all: we are the subreaper of its orphans */
static void tree_kill(struct __test_metadata *_metadata, struct tree *t)
{
	kill_reap(t->pids, t->n);
	kid_del(t->pids[0]);
}

/* Restart the image with new pids in a restarter that is a subreaper */
static void restart_ok(struct __test_metadata *_metadata, struct cr_dir *d)
{
	static const struct tree_restart r = {
		.flags = CR_RESTART_TREE | CR_RESTART_NEW_PIDS,
		.subreaper = true,
	};

	tree_restart(_metadata, d->img, &r, EXIT_RESTARTED,
		     "restarted tree's root");
}

/* The bytes each pipe of the image held, sorted, in @bytes; how many */
static int img_pipe_bytes(struct __test_metadata *_metadata, const char *img,
			  unsigned int *bytes, int max)
{
	struct cr_hdr_pipe p;
	unsigned char *buf;
	int i, j, n = 0;
	size_t len;
	long off;

	buf = img_load(_metadata, img, &len, 0);
	for (i = 0; (off = cr_find_rec(buf, len, CR_HDR_PIPE, i)) >= 0; i++) {
		memcpy(&p, buf + off, sizeof(p));
		if (!p.nr_bytes)
			continue;
		for (j = n; j > 0 && bytes[j - 1] > p.nr_bytes; j--)
			if (j < max)
				bytes[j] = bytes[j - 1];
		if (j < max)
			bytes[j] = p.nr_bytes;
		n++;
	}
	free(buf);
	return n;
}

/*
 * 1. producer | filter | consumer
 *
 * The root, a shell, forks the three and waits for them.  The consumer
 * reads PL_BEFORE bytes and stops; the producer and the filter go on until
 * both pipes are full and they wait in write(2), where the test stops
 * them.  After restart the stream goes on to its end: the filter checks
 * each byte it reads, the consumer each byte and the checksum of the
 * whole stream, before and after the checkpoint.
 */
#define PL_TOTAL	(1024 * 1024)
#define PL_BEFORE	100000
#define PL_PIPE_SIZE	65536

static void __noreturn pl_producer(int out)
{
	struct flow f;

	name_task("st_producer");
	tree_ready(g_dir, 'r', 1);
	flow_init(&f, "producer", -1, out, 0, 0, PL_TOTAL);
	flow_run(&f, PL_TOTAL);
	cr_exit(EXIT_RESTARTED);
}

static void __noreturn pl_filter(int in, int out)
{
	struct flow f;

	name_task("st_filter");
	tree_ready(g_dir, 'r', 2);
	flow_init(&f, "filter", in, out, 1, 0, PL_TOTAL);
	flow_run(&f, PL_TOTAL);
	cr_exit(EXIT_RESTARTED);
}

static void __noreturn pl_consumer(int in)
{
	struct flow f;
	int n;

	name_task("st_consumer");
	flow_init(&f, "consumer", in, -1, 0, 1, PL_TOTAL);
	if (!flow_run(&f, PL_BEFORE))
		cr_exit(EXIT_SETUP);
	tree_ready(g_dir, 'r', 3);
	raise(SIGSTOP);

	cr_phase = "restarted consumer";
	/* The filter had filled the pipe: it holds bytes yet */
	n = in_pipe(in);
	CHECKF(n > 0, "%d bytes in the pipe after restart", n);
	CHECKF(f.done_out == PL_BEFORE, "%lu bytes read before, not %d",
	       f.done_out, PL_BEFORE);
	flow_run(&f, PL_TOTAL);
	check_sink(&f);
	cr_exit(EXIT_RESTARTED);
}

static void pipeline_root(void)
{
	int a[2], b[2], i;

	name_task("st_shell");
	tree_ready(g_dir, 'r', 0);
	if (pipe(a) || pipe(b))
		setup_fail("pipe");
	if (fcntl(a[1], F_GETPIPE_SZ) != PL_PIPE_SIZE)
		setup_fail("pipe size");
	if (!tree_fork()) {
		close(a[0]);
		close(b[0]);
		close(b[1]);
		pl_producer(a[1]);
	}
	if (!tree_fork()) {
		close(a[1]);
		close(b[0]);
		pl_filter(a[0], b[1]);
	}
	if (!tree_fork()) {
		close(a[0]);
		close(a[1]);
		close(b[1]);
		pl_consumer(b[0]);
	}
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	/* The test stops us in wait4() */
	for (i = 0; i < 3; i++)
		reap_one("a process of the pipeline");
	CHECKF(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD,
	       "a fourth child");
	cr_exit(EXIT_RESTARTED);
}

TEST_F_TIMEOUT(tree_state, pipeline, TEST_TIMEOUT)
{
	unsigned int bytes[4] = {};
	struct tree t;

	tree_start(_metadata, &t, 4, pipeline_root);
	wait_state(_metadata, t.pids[3], 'T');
	/* Both pipes full: the filter and the producer wait in write() */
	stop_in(_metadata, t.pids[2], __NR_write);
	stop_in(_metadata, t.pids[1], __NR_write);
	stop_in(_metadata, t.pids[0], __NR_wait4);
	tree_checkpoint(_metadata, &self->d, &t);
	ASSERT_EQ(2, img_pipe_bytes(_metadata, self->d.img, bytes, 4));
	/* Full, but for a partly read page of the consumer's */
	EXPECT_LT(PL_PIPE_SIZE - CHUNK, bytes[0]);
	EXPECT_LE(bytes[1], PL_PIPE_SIZE);
	TH_LOG("in flight: %u and %u bytes", bytes[0], bytes[1]);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, &self->d);
}

/*
 * 2. A relay through three levels: P sends a stream down to C, which
 * passes it on to G (hop 1), which sends it back up to C (hop 2), which
 * passes it back to P (hop 3).  Before the checkpoint each moves a known
 * part of it so that each of the four pipes holds bytes; after restart
 * they go on with poll(2), and P checks the stream that comes back, each
 * byte and the checksum, end to end.
 */
#define RL_TOTAL	(512 * 1024)
#define RL_PC		40000	/* P wrote to C */
#define RL_CG		20000	/* C took and passed to G */
#define RL_GC		10000	/* G took and passed back to C */
#define RL_CP		5000	/* C took and passed back to P */

static void __noreturn relay_g(int in, int out)
{
	struct flow f;

	name_task("st_g");
	flow_init(&f, "G, C to C", in, out, 2, 1, RL_TOTAL);
	if (!flow_run(&f, RL_GC))
		cr_exit(EXIT_SETUP);
	tree_ready(g_dir, 'r', 2);
	raise(SIGSTOP);

	cr_phase = "restarted G";
	CHECKF(in_pipe(in) >= RL_CG - RL_GC, "%d bytes from C", in_pipe(in));
	flow_run(&f, RL_TOTAL);
	cr_exit(EXIT_RESTARTED);
}

static void __noreturn relay_c(int pin, int pout)
{
	struct flow fl[2];
	int d[2], u[2];

	name_task("st_c");
	if (pipe(d) || pipe(u))
		setup_fail("pipe");
	if (!tree_fork()) {
		close(pin);
		close(pout);
		close(d[1]);
		close(u[0]);
		relay_g(d[0], u[1]);
	}
	close(d[0]);
	close(u[1]);
	flow_init(&fl[0], "C, P to G", pin, d[1], 1, 0, RL_TOTAL);
	flow_init(&fl[1], "C, G to P", u[0], pout, 3, 2, RL_TOTAL);
	if (!flow_run(&fl[0], RL_CG) || !flow_run(&fl[1], RL_CP))
		cr_exit(EXIT_SETUP);
	tree_ready(g_dir, 'r', 1);
	raise(SIGSTOP);

	cr_phase = "restarted C";
	CHECKF(in_pipe(pin) >= RL_PC - RL_CG, "%d bytes from P", in_pipe(pin));
	flows_run(fl, 2);
	reap_one("G");
	cr_exit(EXIT_RESTARTED);
}

static void relay_root(void)
{
	int d[2], u[2];
	struct flow fl[2];

	name_task("st_p");
	if (pipe(d) || pipe(u))
		setup_fail("pipe");
	if (!tree_fork()) {
		close(d[1]);
		close(u[0]);
		relay_c(d[0], u[1]);
	}
	close(d[0]);
	close(u[1]);
	flow_init(&fl[0], "P, to C", -1, d[1], 0, 0, RL_TOTAL);
	flow_init(&fl[1], "P, from C", u[0], -1, 0, 3, RL_TOTAL);
	if (!flow_run(&fl[0], RL_PC))
		cr_exit(EXIT_SETUP);
	tree_ready(g_dir, 'r', 0);
	raise(SIGSTOP);

	cr_phase = "restarted P";
	CHECKF(fl[1].done_in == 0, "%lu bytes read from C before",
	       fl[1].done_in);
	flows_run(fl, 2);
	check_sink(&fl[1]);
	reap_one("C");
	cr_exit(EXIT_RESTARTED);
}

TEST_F_TIMEOUT(tree_state, relay, TEST_TIMEOUT)
{
	unsigned int bytes[8] = {};
	struct tree t;
	int i;

	tree_start(_metadata, &t, 3, relay_root);
	for (i = 0; i < 3; i++)
		wait_state(_metadata, t.pids[i], 'T');
	tree_checkpoint(_metadata, &self->d, &t);
	ASSERT_EQ(4, img_pipe_bytes(_metadata, self->d.img, bytes, 8));
	EXPECT_EQ(RL_CP, bytes[0]);
	EXPECT_EQ(RL_GC - RL_CP, bytes[1]);
	EXPECT_EQ(RL_CG - RL_GC, bytes[2]);
	EXPECT_EQ(RL_PC - RL_CG, bytes[3]);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, &self->d);
}

/*
 * 3. Eight threads, each with its own xmm/ymm registers 8 to 15, x87 top
 * of stack and control word, MXCSR and TLS; threads 0 to 3 wait in
 * FUTEX_WAIT on words of their own, threads 4 to 7 sleep in nanosleep(2)
 * until the main thread says go after restart, then each wakes one
 * waiter with FUTEX_WAKE.  Every register is compared after each system
 * call, made with the registers loaded, in one asm statement.
 */
#define NTHR		8
#define NWAIT		4

static bool have_avx;
static uint32_t futex_word[NWAIT];
static int thr_go;
static int thr_ok[NTHR];
static int thr_started[NTHR];
static __thread unsigned long tls_word;

struct vstate {
	unsigned char v[8][32];		/* ymm8..15 (xmm: 16 bytes each) */
	unsigned char st0[16];		/* 10 bytes of an 80-bit float */
};

static long sys_avx(long nr, long a1, long a2, long a3, long a4,
		    const struct vstate *in, struct vstate *out)
{
	register long r10 asm("r10") = a4;
	long ret = nr;

	asm volatile("vmovdqu 0(%[in]), %%ymm8\n\t"
		     "vmovdqu 32(%[in]), %%ymm9\n\t"
		     "vmovdqu 64(%[in]), %%ymm10\n\t"
		     "vmovdqu 96(%[in]), %%ymm11\n\t"
		     "vmovdqu 128(%[in]), %%ymm12\n\t"
		     "vmovdqu 160(%[in]), %%ymm13\n\t"
		     "vmovdqu 192(%[in]), %%ymm14\n\t"
		     "vmovdqu 224(%[in]), %%ymm15\n\t"
		     "fldt 256(%[in])\n\t"
		     "syscall\n\t"
		     "fstpt 256(%[out])\n\t"
		     "vmovdqu %%ymm8, 0(%[out])\n\t"
		     "vmovdqu %%ymm9, 32(%[out])\n\t"
		     "vmovdqu %%ymm10, 64(%[out])\n\t"
		     "vmovdqu %%ymm11, 96(%[out])\n\t"
		     "vmovdqu %%ymm12, 128(%[out])\n\t"
		     "vmovdqu %%ymm13, 160(%[out])\n\t"
		     "vmovdqu %%ymm14, 192(%[out])\n\t"
		     "vmovdqu %%ymm15, 224(%[out])\n\t"
		     "vzeroupper\n\t"
		     : "+a"(ret), "+r"(r10)
		     : "D"(a1), "S"(a2), "d"(a3), [in] "r"(in), [out] "r"(out)
		     : "rcx", "r11", "memory", "xmm8", "xmm9", "xmm10", "xmm11",
		       "xmm12", "xmm13", "xmm14", "xmm15");
	return ret;
}

static long sys_sse(long nr, long a1, long a2, long a3, long a4,
		    const struct vstate *in, struct vstate *out)
{
	register long r10 asm("r10") = a4;
	long ret = nr;

	asm volatile("movdqu 0(%[in]), %%xmm8\n\t"
		     "movdqu 32(%[in]), %%xmm9\n\t"
		     "movdqu 64(%[in]), %%xmm10\n\t"
		     "movdqu 96(%[in]), %%xmm11\n\t"
		     "movdqu 128(%[in]), %%xmm12\n\t"
		     "movdqu 160(%[in]), %%xmm13\n\t"
		     "movdqu 192(%[in]), %%xmm14\n\t"
		     "movdqu 224(%[in]), %%xmm15\n\t"
		     "fldt 256(%[in])\n\t"
		     "syscall\n\t"
		     "fstpt 256(%[out])\n\t"
		     "movdqu %%xmm8, 0(%[out])\n\t"
		     "movdqu %%xmm9, 32(%[out])\n\t"
		     "movdqu %%xmm10, 64(%[out])\n\t"
		     "movdqu %%xmm11, 96(%[out])\n\t"
		     "movdqu %%xmm12, 128(%[out])\n\t"
		     "movdqu %%xmm13, 160(%[out])\n\t"
		     "movdqu %%xmm14, 192(%[out])\n\t"
		     "movdqu %%xmm15, 224(%[out])\n\t"
		     : "+a"(ret), "+r"(r10)
		     : "D"(a1), "S"(a2), "d"(a3), [in] "r"(in), [out] "r"(out)
		     : "rcx", "r11", "memory", "xmm8", "xmm9", "xmm10", "xmm11",
		       "xmm12", "xmm13", "xmm14", "xmm15");
	return ret;
}

static bool avx_usable(void)
{
	unsigned int a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_AVX) ||
	    !(c & bit_OSXSAVE))
		return false;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

static uint32_t get_mxcsr(void)
{
	uint32_t v;

	asm volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static uint16_t get_fpucw(void)
{
	uint16_t v;

	asm volatile("fnstcw %0" : "=m"(v));
	return v;
}

static unsigned long get_fs(void)
{
	unsigned long fs = 0;

	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	return fs;
}

struct thr_state {
	int i;
	struct vstate in;
	uint32_t mxcsr;
	uint16_t fpucw;
	unsigned long fs;
	unsigned long calls;
};

static void thr_set(struct thr_state *s)
{
	long double ld = -1.25L * (s->i + 3);
	int i = s->i;

	pat_fill(&s->in, sizeof(s->in), 0x7e9 + i, 0);
	memset(s->in.st0, 0, sizeof(s->in.st0));
	memcpy(s->in.st0, &ld, 10);
	/* Rounding mode and flush-to-zero: distinct for each thread */
	s->mxcsr = 0x1f80 | (i & 3) << 13 | (i & 4 ? 0x8000 : 0);
	/* Rounding and precision control */
	s->fpucw = 0x007f | (i & 3) << 10 | (i & 4 ? 0x200 : 0x300);
	asm volatile("ldmxcsr %0" : : "m"(s->mxcsr));
	asm volatile("fldcw %0" : : "m"(s->fpucw));
	tls_word = 0x715000000000ULL + i * 0x10101ULL;
	s->fs = get_fs();
}

/* One system call with the thread's registers; compare them after it */
static long thr_call(struct thr_state *s, long nr, long a1, long a2, long a3)
{
	struct vstate out;
	size_t vlen = have_avx ? 32 : 16;
	long ret;
	int k;

	memset(&out, 0, sizeof(out));
	if (have_avx)
		ret = sys_avx(nr, a1, a2, a3, 0, &s->in, &out);
	else
		ret = sys_sse(nr, a1, a2, a3, 0, &s->in, &out);
	s->calls++;
	for (k = 0; k < 8; k++)
		CHECKF(!memcmp(s->in.v[k], out.v[k], vlen),
		       "thread %d: %smm%d differs after system call %ld (call %lu)",
		       s->i, have_avx ? "y" : "x", 8 + k, nr, s->calls);
	CHECKF(!memcmp(s->in.st0, out.st0, 10),
	       "thread %d: st(0) differs after system call %ld", s->i, nr);
	CHECKF(get_mxcsr() == s->mxcsr, "thread %d: MXCSR %#x, not %#x", s->i,
	       get_mxcsr(), s->mxcsr);
	CHECKF(get_fpucw() == s->fpucw, "thread %d: x87 control word %#x, not %#x",
	       s->i, get_fpucw(), s->fpucw);
	return ret;
}

static void thr_check_tls(struct thr_state *s)
{
	CHECKF(tls_word == 0x715000000000ULL + s->i * 0x10101ULL,
	       "thread %d: TLS word %#lx", s->i, tls_word);
	CHECKF(get_fs() == s->fs, "thread %d: fs base %#lx, not %#lx", s->i,
	       get_fs(), s->fs);
	CHECKF((unsigned long)pthread_self() == s->fs,
	       "thread %d: pthread_self() %#lx, fs base %#lx", s->i,
	       (unsigned long)pthread_self(), s->fs);
}

/*
 * A thread blocked in futex(2) on the word of waiter @i, as /proc tells
 * (by its system call: thread ids change with CR_RESTART_NEW_PIDS)
 */
static bool thr_in_futex(int i)
{
	char path[300], buf[256];
	unsigned long nr, addr;
	struct dirent *e;
	bool found = false;
	DIR *d;

	d = opendir("/proc/self/task");
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/syscall",
			 e->d_name);
		found = read_file(path, buf, sizeof(buf)) > 0 &&
			sscanf(buf, "%lu %lx", &nr, &addr) == 2 &&
			nr == SYS_futex &&
			addr == (unsigned long)&futex_word[i];
	}
	closedir(d);
	return found;
}

static void *thr_main(void *arg)
{
	struct thr_state s = { .i = (long)arg };
	struct timespec ts = { 0, 2000000 };
	unsigned long woken = 0;
	int i = s.i, w, ms;
	long r;

	thr_set(&s);
	__atomic_store_n(&thr_started[i], 1, __ATOMIC_RELEASE);
	if (i < NWAIT) {
		while (!__atomic_load_n(&futex_word[i], __ATOMIC_ACQUIRE)) {
			r = thr_call(&s, SYS_futex, (long)&futex_word[i],
				     FUTEX_WAIT_PRIVATE, 0);
			if (!r)
				woken++;
		}
		CHECKF(woken >= 1, "thread %d: not woken by FUTEX_WAKE", i);
	} else {
		while (!__atomic_load_n(&thr_go, __ATOMIC_ACQUIRE))
			thr_call(&s, SYS_nanosleep, (long)&ts, 0, 0);
		/* Wake waiter w once it is back in its FUTEX_WAIT */
		w = i - NWAIT;
		for (ms = 0; ms < 20000 && !thr_in_futex(w); ms += 10)
			usleep(10000);
		CHECKF(thr_in_futex(w), "thread %d: not in FUTEX_WAIT", w);
		__atomic_store_n(&futex_word[w], 1, __ATOMIC_RELEASE);
		r = thr_call(&s, SYS_futex, (long)&futex_word[w],
			     FUTEX_WAKE_PRIVATE, 1);
		CHECKF(r == 1, "thread %d: FUTEX_WAKE of thread %d woke %ld",
		       i, w, r);
	}
	thr_check_tls(&s);
	thr_ok[i] = 1;
	return NULL;
}

static void threads_root(void)
{
	pthread_t th[NTHR];
	int i, ms;

	name_task("st_threads");
	have_avx = avx_usable();
	for (i = 0; i < NTHR; i++) {
		errno = pthread_create(&th[i], NULL, thr_main, (void *)(long)i);
		if (errno)
			setup_fail("pthread_create");
	}
	for (i = 0; i < NTHR; i++)
		while (!__atomic_load_n(&thr_started[i], __ATOMIC_ACQUIRE))
			usleep(1000);
	for (i = 0; i < NWAIT; i++) {
		for (ms = 0; ms < 20000 && !thr_in_futex(i); ms += 10)
			usleep(10000);
		if (!thr_in_futex(i))
			setup_fail("a thread not in FUTEX_WAIT");
	}
	tree_ready(g_dir, 'r', 0);
	raise(SIGSTOP);

	cr_phase = "restarted threads";
	CHECKF(nr_threads() == NTHR + 1, "%d threads, not %d", nr_threads(),
	       NTHR + 1);
	__atomic_store_n(&thr_go, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NTHR; i++) {
		errno = pthread_join(th[i], NULL);
		CHECKF(!errno, "joining thread %d: %s", i, strerror(errno));
		CHECKF(thr_ok[i], "thread %d did not finish", i);
	}
	if (!have_avx)
		cr_log("no AVX: xmm registers checked, not ymm");
	cr_exit(EXIT_RESTARTED);
}

TEST_F_TIMEOUT(tree_state, threads, TEST_TIMEOUT)
{
	char path[96], buf[256];
	struct dirent *e;
	struct tree t;
	int n = 0;
	DIR *d;

	tree_start(_metadata, &t, 1, threads_root);
	wait_state(_metadata, t.pids[0], 'T');
	/* The waiters stopped in their FUTEX_WAIT */
	snprintf(path, sizeof(path), "/proc/%d/task", t.pids[0]);
	d = opendir(path);
	ASSERT_NE(NULL, d);
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall",
			 t.pids[0], atoi(e->d_name));
		if (e->d_name[0] != '.' &&
		    read_file(path, buf, sizeof(buf)) > 0 &&
		    atoi(buf) == SYS_futex)
			n++;
	}
	closedir(d);
	ASSERT_EQ(NWAIT, n);
	tree_checkpoint(_metadata, &self->d, &t);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, &self->d);
}

/*
 * 4. A task its parent stopped with SIGSTOP, as a shell's job control
 * does (the parent saw the stop with WUNTRACED), before the tree is
 * stopped for the checkpoint.  The kernel cannot tell that stop from the
 * one of the checkpoint: every task of the tree is in a group stop, and
 * every task restarts running, with no SIGCONT and no notification to its
 * parent (Documentation/checkpoint/usage.rst).  This pins that (for a
 * frozen tree, see sigstop_frozen_kept): the restarted task is not stopped, its parent has nothing to wait for with
 * WSTOPPED or WCONTINUED, it has no stop signal nor SIGCONT pending, and
 * it goes on with its memory intact.
 */
#define SS_PAGES	4
static unsigned char ss_mem[SS_PAGES * 4096];

static void __noreturn ss_child(int in)
{
	sigset_t set;
	char c;

	name_task("st_stopped");
	pat_fill(ss_mem, sizeof(ss_mem), 0x5705, 0);
	tree_ready(g_dir, 'r', 1);
	/* Stopped by the parent in here; then told to go on */
	while (read(in, &c, 1) < 0 && errno == EINTR)
		;

	cr_phase = "restarted stopped child";
	CHECKF(c == 'g', "read %#x from the parent", c);
	CHECK_PAT(ss_mem, sizeof(ss_mem), 0x5705, 0);
	CHECK(sigpending(&set) == 0);
	CHECKF(!sigismember(&set, SIGSTOP) && !sigismember(&set, SIGCONT),
	       "SIGSTOP %d, SIGCONT %d pending", sigismember(&set, SIGSTOP),
	       sigismember(&set, SIGCONT));
	cr_exit(EXIT_RESTARTED);
}

static char g_cgroup[PATH_MAX];	/* the cgroup the root moves to, or "" */

static void sigstop_root(void)
{
	int p[2], status, ms, stopped = 0;
	siginfo_t si;
	pid_t s;

	name_task("st_parent");
	if (g_cgroup[0] && cg_write(g_cgroup, "cgroup.procs", "0"))
		setup_fail("cgroup.procs");
	if (pipe(p))
		setup_fail("pipe");
	s = tree_fork();
	if (!s) {
		close(p[1]);
		ss_child(p[0]);
	}
	close(p[0]);
	/* Wait until it is in its read(), then stop it: it is stopped */
	for (ms = 0; ms < 20000 && proc_syscall(s) != __NR_read; ms++)
		usleep(1000);
	if (kill(s, SIGSTOP) || waitpid(s, &status, WUNTRACED) != s ||
	    !WIFSTOPPED(status))
		setup_fail("stopping the child");
	tree_ready(g_dir, 'r', 0);
	if (g_cgroup[0]) {
		/* Frozen by the test in here */
		while (!tree_have_go(g_dir))
			usleep(2000);
	} else {
		raise(SIGSTOP);
	}

	cr_phase = "restarted parent";
	s = find_child("st_stopped");
	if (!CHECKF(s > 0, "no child st_stopped"))
		cr_exit(EXIT_SETUP);
	if (g_cgroup[0]) {
		/*
		 * Stopped while frozen: its own stop, kept.  Stopped again,
		 * the stop already collected, until SIGCONT.
		 */
		for (ms = 0; ms < 3000 && proc_state(s) != 'T'; ms += 10)
			usleep(10000);
		usleep(300000);
		CHECKF(proc_state(s) == 'T', "child %d: state %c, not stopped",
		       s, proc_state(s));
		memset(&si, 0, sizeof(si));
		CHECK(waitid(P_PID, s, &si, WSTOPPED | WNOHANG | WNOWAIT) == 0);
		CHECKF(si.si_pid == 0,
		       "waitid reports the stop again: code %d, status %d",
		       si.si_code, si.si_status);
		CHECK(kill(s, SIGCONT) == 0);
		memset(&si, 0, sizeof(si));
		CHECK(waitid(P_PID, s, &si, WCONTINUED) == 0);
		CHECKF(si.si_pid == s && si.si_code == CLD_CONTINUED,
		       "waitid(WCONTINUED): pid %d code %d", si.si_pid,
		       si.si_code);
	} else {
		/* Back in its read(), sleeping, never stopped */
		for (ms = 0; ms < 2000; ms += 10) {
			stopped += proc_state(s) == 'T';
			usleep(10000);
		}
		CHECKF(proc_state(s) == 'S' && !stopped,
		       "child %d: state %c, seen stopped %d times in 2 s", s,
		       proc_state(s), stopped);
		memset(&si, 0, sizeof(si));
		CHECK(waitid(P_PID, s, &si,
			     WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT) == 0);
		CHECKF(si.si_pid == 0,
		       "waitid reports the child: code %d, status %d",
		       si.si_code, si.si_status);
	}
	CHECK(write(p[1], "g", 1) == 1);
	reap_one("the stopped child");
	cr_exit(EXIT_RESTARTED);
}

TEST_F_TIMEOUT(tree_state, sigstop_not_kept, TEST_TIMEOUT)
{
	struct tree t;

	tree_start(_metadata, &t, 2, sigstop_root);
	wait_state(_metadata, t.pids[1], 'T');
	wait_state(_metadata, t.pids[0], 'T');
	tree_checkpoint(_metadata, &self->d, &t);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, &self->d);
}

/*
 * The same, the tree frozen by the cgroup freezer, the parent running:
 * only the child is in a group stop, which the kernel tells from the
 * freezing of the checkpoint.  It is kept: the child restarts stopped,
 * the stop already collected by its parent, and goes on at SIGCONT.
 */
TEST_F_TIMEOUT(tree_state, sigstop_frozen_kept, TEST_TIMEOUT)
{
	struct tree t;

	if (!cg_make(g_cgroup, sizeof(g_cgroup), "cr_tree_state"))
		SKIP(return, "no cgroup v2 at %s to make a cgroup in",
		     CGROUP_ROOT);
	tree_start(_metadata, &t, 2, sigstop_root);
	wait_state(_metadata, t.pids[1], 'T');
	cg_freeze(_metadata, g_cgroup);
	EXPECT_EQ('T', proc_state(t.pids[1]));
	tree_checkpoint(_metadata, &self->d, &t);
	cg_kill(_metadata, g_cgroup);
	tree_kill(_metadata, &t);
	cg_remove(_metadata, g_cgroup);
	tree_release(_metadata, g_dir);
	restart_ok(_metadata, &self->d);
}

/*
 * 5. PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER and the exit signal: R, a
 * subreaper; its child A, made with exit signal SIGUSR2, a subreaper
 * too, with a parent death signal; A's child B, whose parent death signal
 * is SIGUSR1.  After restart each reads its settings back; then A exits:
 * R gets SIGUSR2, B gets SIGUSR1 and becomes R's child.
 */
#define PD_R		SIGURG
#define PD_A		SIGWINCH
#define PD_B		SIGUSR1

static int pd_usr1, pd_usr2;

static void on_usr1(int sig)
{
	__atomic_add_fetch(&pd_usr1, 1, __ATOMIC_RELAXED);
}

static void on_usr2(int sig)
{
	__atomic_add_fetch(&pd_usr2, 1, __ATOMIC_RELAXED);
}

static void check_prctl(int pdeath, int subreaper)
{
	int v = -1;

	CHECK(prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0) == 0);
	CHECKF(v == pdeath, "parent death signal %d, not %d", v, pdeath);
	v = -1;
	CHECK(prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0) == 0);
	CHECKF(v == subreaper, "child subreaper %d, not %d", v, subreaper);
}

static void __noreturn pd_b(void)
{
	char c[64];
	int ms, n;

	name_task("st_b");
	signal(PD_B, on_usr1);
	if (prctl(PR_SET_PDEATHSIG, PD_B, 0, 0, 0))
		setup_fail("PR_SET_PDEATHSIG");
	tree_ready(g_dir, 'r', 2);
	raise(SIGSTOP);

	cr_phase = "restarted B";
	check_prctl(PD_B, 0);
	/* A exits: its parent death signal, and R, the subreaper, adopts us */
	for (ms = 0; ms < 20000 && !__atomic_load_n(&pd_usr1, __ATOMIC_RELAXED);
	     ms += 5)
		usleep(5000);
	n = __atomic_load_n(&pd_usr1, __ATOMIC_RELAXED);
	CHECKF(n == 1, "%d parent death signals", n);
	for (ms = 0; ms < 2000; ms += 5) {
		comm_of(getppid(), c, sizeof(c));
		if (!strcmp(c, "st_r"))
			break;
		usleep(5000);
	}
	CHECKF(!strcmp(c, "st_r"), "adopted by %d (%s), not the subreaper",
	       getppid(), c);
	cr_exit(EXIT_RESTARTED);
}

static int pd_a(void *arg)
{
	name_task("st_a");
	if (prctl(PR_SET_PDEATHSIG, PD_A, 0, 0, 0) ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		setup_fail("prctl");
	if (!tree_fork())
		pd_b();
	tree_ready(g_dir, 'r', 1);
	raise(SIGSTOP);

	cr_phase = "restarted A";
	check_prctl(PD_A, 1);
	/* B is left to R */
	cr_exit(EXIT_RESTARTED);
}

static void pd_root(void)
{
	static char stack[256 * 1024];
	int status, n;
	pid_t a, r;

	name_task("st_r");
	signal(SIGUSR2, on_usr2);
	if (prctl(PR_SET_PDEATHSIG, PD_R, 0, 0, 0) ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		setup_fail("prctl");
	fflush(stderr);
	a = clone(pd_a, stack + sizeof(stack), SIGUSR2, NULL);
	if (a < 0)
		setup_fail("clone");
	tree_ready(g_dir, 'r', 0);
	raise(SIGSTOP);

	cr_phase = "restarted R";
	check_prctl(PD_R, 1);
	a = find_child("st_a");
	CHECKF(a > 0, "no child st_a");
	/* A's exit signal: SIGUSR2, and no SIGCHLD makes waitpid() see it */
	do {
		r = waitpid(a, &status, __WCLONE);
	} while (r < 0 && errno == EINTR);
	CHECKF(r == a && WIFEXITED(status) &&
	       WEXITSTATUS(status) == EXIT_RESTARTED,
	       "waitpid(%d, __WCLONE): %d, status %#x", a, r, status);
	n = __atomic_load_n(&pd_usr2, __ATOMIC_RELAXED);
	CHECKF(n == 1, "%d SIGUSR2 from the exit of A, not 1", n);
	/* B, adopted */
	reap_one("B, adopted");
	CHECKF(waitpid(-1, NULL, WNOHANG | __WALL) < 0 && errno == ECHILD,
	       "another child");
	cr_exit(EXIT_RESTARTED);
}

TEST_F_TIMEOUT(tree_state, prctl, TEST_TIMEOUT)
{
	unsigned char *buf;
	struct tree t;
	size_t len;
	int i;

	tree_start(_metadata, &t, 3, pd_root);
	for (i = 0; i < 3; i++)
		wait_state(_metadata, t.pids[i], 'T');
	tree_checkpoint(_metadata, &self->d, &t);
	/* The exit signals in the records: R, A, B */
	buf = img_load(_metadata, self->d.img, &len, 0);
	for (i = 0; i < 3; i++) {
		struct cr_hdr_proc *p = img_rec(_metadata, buf, len,
						CR_HDR_PROC, i);

		EXPECT_EQ(t.pids[i], p->pid);
		EXPECT_EQ(i == 1 ? SIGUSR2 : SIGCHLD, p->exit_signal);
	}
	free(buf);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, &self->d);
}

/*
 * 6. A file opened before fork, one struct file of R and A with one
 * offset, and a file each opened after: after restart a read, a write and
 * an lseek() in one move the offset the other sees, and only that one.
 */
#define SF_SIZE		64
#define SF_POS		10
#define SF_OWN_POS	20

static void __noreturn sf_child(int fd, int own, int in, int out)
{
	int flags;
	char c;

	name_task("st_sf_a");
	/* O_RDWR, and the O_LARGEFILE the kernel adds */
	flags = fcntl(fd, F_GETFL);
	if (lseek(own, SF_OWN_POS + 1, SEEK_SET) != SF_OWN_POS + 1 ||
	    (flags & O_ACCMODE) != O_RDWR)
		setup_fail("lseek");
	tree_ready(g_dir, 'r', 1);
	raise(SIGSTOP);

	cr_phase = "restarted A";
	CHECK(read(in, &c, 1) == 1);
	/* R read 5 bytes */
	CHECKF(lseek(fd, 0, SEEK_CUR) == SF_POS + 5, "offset %ld, not %d",
	       (long)lseek(fd, 0, SEEK_CUR), SF_POS + 5);
	CHECK(write(fd, "XYZ", 3) == 3);
	CHECK(lseek(fd, 40, SEEK_SET) == 40);
	CHECKF(lseek(own, 0, SEEK_CUR) == SF_OWN_POS + 1,
	       "own file's offset %ld", (long)lseek(own, 0, SEEK_CUR));
	CHECKF(fcntl(fd, F_GETFL) == flags, "shared file's flags %#x, not %#x",
	       fcntl(fd, F_GETFL), flags);
	CHECK(write(out, "b", 1) == 1);
	cr_exit(EXIT_RESTARTED);
}

static void sf_root(void)
{
	char path[96], buf[SF_SIZE];
	int fd, own, a[2], b[2];
	char c;

	name_task("st_sf_r");
	snprintf(path, sizeof(path), "%s/shared", g_dir);
	fd = open(path, O_RDWR);
	if (fd < 0 || lseek(fd, SF_POS, SEEK_SET) != SF_POS || pipe(a) ||
	    pipe(b))
		setup_fail("shared file");
	if (!tree_fork()) {
		own = open(path, O_RDONLY);
		if (own < 0)
			setup_fail("open");
		close(a[1]);
		close(b[0]);
		sf_child(fd, own, a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	own = open(path, O_RDONLY);
	if (own < 0 || lseek(own, SF_OWN_POS, SEEK_SET) != SF_OWN_POS)
		setup_fail("open");
	tree_ready(g_dir, 'r', 0);
	raise(SIGSTOP);

	cr_phase = "restarted R";
	CHECKF(lseek(fd, 0, SEEK_CUR) == SF_POS, "offset %ld, not %d",
	       (long)lseek(fd, 0, SEEK_CUR), SF_POS);
	CHECK(read(fd, buf, 5) == 5);
	CHECK(!memcmp(buf, "abcde", 5));
	CHECK(write(a[1], "a", 1) == 1);
	CHECK(read(b[0], &c, 1) == 1);
	/* A wrote 3 bytes and moved the offset to 40 */
	CHECKF(lseek(fd, 0, SEEK_CUR) == 40, "offset %ld, not 40",
	       (long)lseek(fd, 0, SEEK_CUR));
	CHECK(pread(own, buf, 3, SF_POS + 5) == 3);
	CHECK(!memcmp(buf, "XYZ", 3));
	CHECKF(lseek(own, 0, SEEK_CUR) == SF_OWN_POS,
	       "own file's offset %ld", (long)lseek(own, 0, SEEK_CUR));
	reap_one("A");
	cr_exit(EXIT_RESTARTED);
}

TEST_F_TIMEOUT(tree_state, shared_file, TEST_TIMEOUT)
{
	char path[128], data[2 * SF_SIZE];
	struct tree t;
	int i;

	for (i = 0; i < SF_SIZE; i++)
		data[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[i % 36];
	cr_path(&self->d, "shared", path, sizeof(path));
	ASSERT_EQ(0, write_file(path, data, SF_SIZE));
	tree_start(_metadata, &t, 2, sf_root);
	for (i = 0; i < 2; i++)
		wait_state(_metadata, t.pids[i], 'T');
	tree_checkpoint(_metadata, &self->d, &t);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, &self->d);
	/* What A wrote, in the file */
	ASSERT_EQ(SF_SIZE, read_file(path, data, sizeof(data)));
	EXPECT_EQ(0, memcmp(data + SF_POS + 5, "XYZ", 3));
}

/*
 * 7. Parent links that make a cycle: R -> A -> B, edited.  The other bad
 * images the issue lists are in tree_validate_test.c (pid_twice,
 * thread_of_nobody, file_ref_undefined, file_ref_a_pipe, ...).
 */
static void __noreturn cy_b(void)
{
	name_task("st_cy_b");
	tree_ready(g_dir, 'r', 2);
	raise(SIGSTOP);
	cr_exit(EXIT_RESTARTED);
}

static void cy_root(void)
{
	name_task("st_cy_r");
	if (!tree_fork()) {
		name_task("st_cy_a");
		if (!tree_fork())
			cy_b();
		tree_ready(g_dir, 'r', 1);
		raise(SIGSTOP);
		reap_one("B");
		cr_exit(EXIT_RESTARTED);
	}
	tree_ready(g_dir, 'r', 0);
	raise(SIGSTOP);
	reap_one("A");
	cr_exit(EXIT_RESTARTED);
}

/* Restart @img in a subreaper child: EINVAL, and no child left */
static void restart_einval(struct __test_metadata *_metadata, const char *img,
			   const char *what)
{
	const struct tree_restart r = {
		.flags = CR_RESTART_TREE | CR_RESTART_NEW_PIDS,
		.err = EINVAL,
		.subreaper = true,
		.what = what,
	};

	tree_restart(_metadata, img, &r, 0, what);
}

TEST_F_TIMEOUT(tree_state, parent_cycle, TEST_TIMEOUT)
{
	static const struct {
		const char *what;
		int r, a, b;	/* the parent of each: index, or -1 for none */
	} cases[] = {
		{ "A its own parent", -1, 1, 1 },
		{ "A and B each other's parent", -1, 2, 1 },
		{ "R, A and B in a ring", 2, 0, 1 },
		{ "B its own parent", -1, 0, 2 },
	};
	struct cr_hdr_proc *p[3];
	unsigned char *orig, *buf;
	char img[128];
	struct tree t;
	size_t len;
	unsigned int c;
	int i;

	tree_start(_metadata, &t, 3, cy_root);
	for (i = 0; i < 3; i++)
		wait_state(_metadata, t.pids[i], 'T');
	tree_checkpoint(_metadata, &self->d, &t);
	tree_kill(_metadata, &t);
	orig = img_load(_metadata, self->d.img, &len, 0);
	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	cr_path(&self->d, "bad", img, sizeof(img));
	/* The unedited image restarts */
	restart_ok(_metadata, &self->d);
	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		int par[3] = { cases[c].r, cases[c].a, cases[c].b };

		memcpy(buf, orig, len);
		for (i = 0; i < 3; i++)
			p[i] = img_rec(_metadata, buf, len, CR_HDR_PROC, i);
		for (i = 0; i < 3; i++)
			p[i]->ppid = par[i] < 0 ? 0 : p[par[i]]->pid;
		cr_reseal(buf, len);
		ASSERT_EQ(0, write_file(img, buf, len));
		restart_einval(_metadata, img, cases[c].what);
	}
	free(buf);
	free(orig);
}

TEST_HARNESS_MAIN
