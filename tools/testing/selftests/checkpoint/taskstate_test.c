// SPDX-License-Identifier: GPL-2.0
/*
 * Task state on restart: the root directory (chroot) and the working
 * directory in it, no_new_privs, the dumpable state, the prctl() state
 * (timer slack, parent death signal, child subreaper, THP disable,
 * memory-deny-write-execute, I/O flusher, TSC, speculation control), and
 * what restart checks before its point of no return so that queueing the
 * signals and setting the sigaltstack cannot fail after it.  Each restored
 * piece is checked from inside the restarted process, restarted by a
 * restarter with other values; each refusal by its errno, the kernel's
 * message, and a restarter left as it was.  Run as root.
 */

#include "cr_harness.h"

#define NOBODY		65534
#define SEED_RST	0x7a5c
#define SEED_WX		0x7a5d

/* The kernel's MINSIGSTKSZ on x86 (glibc's may be a sysconf() call) */
#define K_MINSIGSTKSZ	2048

static unsigned char rst_bss[8192];

/* prctl() state set by a child, or by a restarter; 0 leaves it alone */
struct pr {
	unsigned long slack;	/* PR_SET_TIMERSLACK */
	int pdeath;		/* PR_SET_PDEATHSIG */
	bool subreaper;		/* PR_SET_CHILD_SUBREAPER */
	bool thp_disable;	/* PR_SET_THP_DISABLE */
	int mdwe;		/* PR_SET_MDWE */
	bool io_flusher;	/* PR_SET_IO_FLUSHER */
	bool tsc_sigsegv;	/* PR_SET_TSC, PR_TSC_SIGSEGV */
	int ssb;		/* PR_SET_SPECULATION_CTRL, store bypass */
	bool sud;		/* PR_SET_SYSCALL_USER_DISPATCH, all allowed */
	bool merge;		/* PR_SET_MEMORY_MERGE */
};

/* Syscall user dispatch's selector: every call allowed */
static char sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;

static int pr_apply(const struct pr *p)
{
	if (p->slack && prctl(PR_SET_TIMERSLACK, p->slack, 0, 0, 0))
		return -1;
	if (p->subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		return -1;
	if (p->thp_disable && prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		return -1;
	if (p->mdwe && prctl(PR_SET_MDWE, p->mdwe, 0, 0, 0))
		return -1;
	if (p->io_flusher && prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0))
		return -1;
	if (p->tsc_sigsegv && prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0))
		return -1;
	if (p->ssb && prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS,
			    p->ssb, 0, 0))
		return -1;
	if (p->sud && prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
			    0, 0, &sud_selector))
		return -1;
	if (p->merge && prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0))
		return -1;
	return 0;
}

/* prctl(PR_GET_SPECULATION_CTRL) of @which lets a task choose */
static bool spec_settable(int which)
{
	int r = prctl(PR_GET_SPECULATION_CTRL, which, 0, 0, 0);

	return r >= 0 && (r & PR_SPEC_PRCTL);
}

/* After any change of credentials, which clears it */
static int set_pdeath(const struct pr *p)
{
	return p->pdeath ? prctl(PR_SET_PDEATHSIG, p->pdeath, 0, 0, 0) : 0;
}

/* What a child sets up before it is checkpointed */
struct setup {
	char root[64];		/* chroot() there, if not empty */
	char cwd[128];		/* then chdir() there, if not empty */
	bool nobody;		/* then become nobody */
	bool nnp;		/* prctl(PR_SET_NO_NEW_PRIVS) */
	bool not_dumpable;	/* prctl(PR_SET_DUMPABLE, 0), else 1 */
	int mce;		/* 1 + a PR_MCE_KILL_* policy to set, or 0 */
	int sig;		/* a signal to block and queue to itself */
	int nsig;		/* how many times */
	bool sigqueue;		/* with sigqueue() (SI_QUEUE), else kill() */
	char expect[128];	/* file overriding expectations, if present */
	bool wx;		/* map a writable, executable page first */
	struct pr pr;		/* prctl() state, set before becoming nobody */
};

/* The child's own copy, and what it saw before the checkpoint */
static struct {
	struct setup s;
	pid_t pid;
	struct stat root_st;
	struct stat cwd_st;
	char cwd[PATH_MAX];
	long slack0;		/* timer slack before the setup: the default */
	int spec[3];		/* PR_GET_SPECULATION_CTRL after the setup */
	unsigned char *wx;	/* the writable, executable page */
} ts;

static int become_nobody(void)
{
	gid_t g = NOBODY;

	return setgroups(1, &g) || setresgid(NOBODY, NOBODY, NOBODY) ||
	       setresuid(NOBODY, NOBODY, NOBODY) ? -1 : 0;
}

static int queue_signals(const struct setup *s)
{
	union sigval v;
	sigset_t set;
	int i;

	sigemptyset(&set);
	sigaddset(&set, s->sig);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	for (i = 0; i < s->nsig; i++) {
		v.sival_int = i + 1;
		if (s->sigqueue ? sigqueue(getpid(), s->sig, v) :
				  kill(getpid(), s->sig))
			return -1;
	}
	return 0;
}

static int apply(const struct setup *s)
{
	int i;

	ts.slack0 = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	/* Before memory-deny-write-execute, which would refuse it */
	if (s->wx) {
		ts.wx = mmap(NULL, pg(), PROT_READ | PROT_WRITE | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ts.wx == MAP_FAILED)
			return -1;
		pat_fill(ts.wx, pg(), SEED_WX, 0);
	}
	if (pr_apply(&s->pr))
		return -1;
	for (i = 0; i < 3; i++)
		ts.spec[i] = prctl(PR_GET_SPECULATION_CTRL, i, 0, 0, 0);
	if (s->pr.ssb && (ts.spec[0] & ~PR_SPEC_PRCTL) != s->pr.ssb) {
		errno = EPROTO;
		return -1;
	}
	if (s->root[0] && chroot(s->root))
		return -1;
	if (s->cwd[0] && chdir(s->cwd))
		return -1;
	if (s->nobody && become_nobody())
		return -1;
	if (set_pdeath(&s->pr))
		return -1;
	if (s->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	if (prctl(PR_SET_DUMPABLE, s->not_dumpable ? 0 : 1, 0, 0, 0))
		return -1;
	if (s->mce && prctl(PR_MCE_KILL, PR_MCE_KILL_SET, s->mce - 1, 0, 0))
		return -1;
	if (s->sig && queue_signals(s))
		return -1;
	ts.pid = getpid();
	if (stat("/", &ts.root_st) || stat(".", &ts.cwd_st))
		return -1;
	/* ENOENT for a cwd outside the root, which checkpoint refuses */
	if (!getcwd(ts.cwd, sizeof(ts.cwd)))
		snprintf(ts.cwd, sizeof(ts.cwd), "(unreachable)");
	return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The signals queued by apply(), in order, then none */
static void check_signals(void)
{
	const struct timespec zero = { 0 };
	siginfo_t si;
	sigset_t set;
	int i;

	sigemptyset(&set);
	sigaddset(&set, ts.s.sig);
	for (i = 0; i < ts.s.nsig; i++) {
		if (!CHECKF(sigtimedwait(&set, &si, &zero) == ts.s.sig,
			    "signal %d, %d of %d: %s", ts.s.sig, i + 1,
			    ts.s.nsig, strerror(errno)))
			return;
		CHECKF(si.si_code == (ts.s.sigqueue ? SI_QUEUE : SI_USER),
		       "si_code %d", si.si_code);
		CHECKF(si.si_pid == ts.pid, "si_pid %d, sent by %d", si.si_pid,
		       ts.pid);
		if (ts.s.sigqueue)
			CHECKF(si.si_value.sival_int == i + 1, "value %d",
			       si.si_value.sival_int);
		if (!ts.s.sigqueue)
			break;
	}
	CHECK(sigtimedwait(&set, &si, &zero) == -1 && errno == EAGAIN);
}

/* PF_MEMALLOC_NOIO | PF_LOCAL_THROTTLE, what PR_SET_IO_FLUSHER sets */
#define PF_IO_FLUSHER	0x00180000UL

/* The task flags, in /proc/self/stat: PR_GET_IO_FLUSHER needs privilege */
static bool io_flusher(void)
{
	unsigned long flags = 0;
	char buf[1024], *p;

	if (read_file("/proc/self/stat", buf, sizeof(buf)) <= 0)
		return false;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return (flags & PF_IO_FLUSHER) == PF_IO_FLUSHER;
}

/* The prctl() state @p set, or the defaults; the timer slack's last */
static void check_prctl(const struct pr *p)
{
	int v = -1, i;
	long r;

	r = prctl(PR_GET_TSC, &v, 0, 0, 0);
	CHECKF(!r && v == (p->tsc_sigsegv ? PR_TSC_SIGSEGV : PR_TSC_ENABLE),
	       "TSC mode %d", v);
	/* Nothing below reads the TSC: the checks go on without it */
	if (v == PR_TSC_SIGSEGV)
		prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0);
	v = -1;
	r = prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0);
	CHECKF(!r && v == p->pdeath, "parent death signal %d, expected %d", v,
	       p->pdeath);
	v = -1;
	r = prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0);
	CHECKF(!r && v == p->subreaper, "child subreaper %d", v);
	r = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	CHECKF(r == p->thp_disable, "THP disable %ld", r);
	r = prctl(PR_GET_MDWE, 0, 0, 0, 0);
	CHECKF(r == p->mdwe, "memory-deny-write-execute %#lx, expected %#x",
	       r, p->mdwe);
	v = io_flusher();
	CHECKF(v == p->io_flusher, "I/O flusher %d", v);
	r = prctl(PR_GET_IO_FLUSHER, 0, 0, 0, 0);
	CHECKF(r == p->io_flusher || (r == -1 && errno == EPERM && geteuid()),
	       "PR_GET_IO_FLUSHER %ld", r);
	for (i = 0; i < 3; i++) {
		r = prctl(PR_GET_SPECULATION_CTRL, i, 0, 0, 0);
		CHECKF(r == ts.spec[i], "speculation control %d: %#lx, expected %#x",
		       i, r, ts.spec[i]);
	}
	r = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	CHECKF(r == (long)(p->slack ?: ts.slack0),
	       "timer slack %ld, expected %lu", r, p->slack ?: ts.slack0);
	/* Back to the default: the boot default, not the restarter's */
	prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0);
	r = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	CHECKF(r == ts.slack0, "default timer slack %ld, expected %ld", r,
	       ts.slack0);
}

static void ts_verify(bool restarted)
{
	int dumpable = ts.s.not_dumpable ? 0 : 1, n;
	char want[PATH_MAX], buf[256], cwd[PATH_MAX];
	struct stat st, up, dot;

	snprintf(want, sizeof(want), "%s", ts.cwd);
	if (restarted && read_file(ts.s.expect, buf, sizeof(buf)) > 0) {
		if (sscanf(buf, "dumpable %d", &n) == 1)
			dumpable = n;
		if (sscanf(buf, "cwd %255s", want) == 1)
			cr_log("expecting the working directory %s", want);
	}
	CHECK(stat("/", &st) == 0 && same_file(&st, &ts.root_st));
	CHECK(stat("/..", &up) == 0 && same_file(&up, &st));
	CHECKF(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, want),
	       "cwd %s, expected %s", cwd, want);
	CHECK(stat(".", &dot) == 0 && stat(want, &st) == 0 &&
	      same_file(&dot, &st));
	if (!strcmp(want, ts.cwd))
		CHECK(same_file(&dot, &ts.cwd_st));
	if (ts.s.root[0]) {
		CHECK(read_file("/marker", buf, sizeof(buf)) > 0 &&
		      !strcmp(buf, "marker\n"));
		/* The tree around the root is out of reach */
		CHECK(access(ts.s.root, F_OK) == -1 && errno == ENOENT);
	}
	CHECKF(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == ts.s.nnp,
	       "no_new_privs %d", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	CHECKF(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == dumpable,
	       "dumpable %d, expected %d", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0),
	       dumpable);
	CHECKF(prctl(PR_MCE_KILL_GET, 0, 0, 0, 0) ==
	       (ts.s.mce ? ts.s.mce - 1 : PR_MCE_KILL_DEFAULT),
	       "machine check policy %d", prctl(PR_MCE_KILL_GET, 0, 0, 0, 0));
	CHECK(geteuid() == (ts.s.nobody ? NOBODY : 0));
	if (ts.s.sig)
		check_signals();
	check_prctl(&ts.s.pr);
	if (ts.s.wx) {
		CHECK(maps_line(ts.wx, buf, sizeof(buf)) == 0 &&
		      strstr(buf, " rwxp "));
		CHECK_PAT(ts.wx, pg(), SEED_WX, 0);
	}
}

/* Checkpoints itself */
static void self_body(void *arg, int imgfd)
{
	long r;
	int err;

	memcpy(&ts.s, arg, sizeof(ts.s));
	cr_prepare(imgfd);
	if (apply(&ts.s)) {
		cr_log("setting up: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, ts_verify);
}

/* Stops, for the test to checkpoint it; only the restarted one goes on */
static void stop_body(void *arg, int imgfd)
{
	memcpy(&ts.s, arg, sizeof(ts.s));
	cr_prepare(-1);
	if (apply(&ts.s)) {
		cr_log("setting up: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
	raise(SIGSTOP);
	cr_phase = "restarted";
	ts_verify(true);
	cr_exit(EXIT_RESTARTED);
}

/* Restarters */

struct rst {
	bool nobody;		/* become nobody first */
	bool nnp;		/* set no_new_privs first */
	int dumpable;		/* 1 + what to prctl(PR_SET_DUMPABLE), or 0 */
	int mce;		/* 1 + a PR_MCE_KILL_* policy to set, or 0 */
	int err;		/* the errno restart must fail with, or 0 */
	char msg[48];		/* what the kernel's message must say */
	struct pr pr;		/* prctl() state, set before becoming nobody */
	unsigned long parent_slack; /* timer slack of its parent: its default */
};

/* restart(2) on @fd fails with @r->err and says why; nothing changed */
static void restart_fails(int fd, const struct rst *r)
{
	char log[512] = "";
	long ret;
	int p[2], err;

	if (!CHECK(pipe(p) == 0))
		return;
	ret = sys_restart(0, fd, CR_LOGFD(p[1]));
	err = errno;
	close(p[1]);
	if (read_all(p[0], log, sizeof(log)) < 0)
		log[0] = 0;
	close(p[0]);
	CHECKF(ret == -1 && err == r->err,
	       "restart: %ld, errno %d (%s); expected errno %d (%s); kernel: %s",
	       ret, ret ? err : 0, ret ? strerror(err) : "-", r->err,
	       strerror(r->err), log);
	CHECKF(!r->msg[0] || strstr(log, r->msg),
	       "kernel said \"%s\", expected \"%s\"", log, r->msg);
	CHECK_PAT(rst_bss, sizeof(rst_bss), SEED_RST, 0);
}

static void restarter(void *arg, int fd)
{
	struct rst *r = arg;
	int i;

	pat_fill(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	if (r->pr.ssb && !spec_settable(PR_SPEC_STORE_BYPASS))
		r->pr.ssb = 0;
	/* Its parent's slack when it was forked */
	ts.slack0 = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (close_fds_except(fd) || pr_apply(&r->pr) ||
	    (r->nobody && become_nobody()) || set_pdeath(&r->pr) ||
	    (r->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) ||
	    (r->dumpable && prctl(PR_SET_DUMPABLE, r->dumpable - 1, 0, 0, 0)) ||
	    (r->mce && prctl(PR_MCE_KILL, PR_MCE_KILL_SET, r->mce - 1, 0, 0)))
		_exit(EXIT_SETUP);
	for (i = 0; i < 3; i++)
		ts.spec[i] = prctl(PR_GET_SPECULATION_CTRL, i, 0, 0, 0);
	if (!r->err)
		restarter_run(fd, 0);
	restart_fails(fd, r);
	/* Still the restarter, as it was */
	CHECK(geteuid() == (r->nobody ? NOBODY : 0));
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == r->nnp);
	check_prctl(&r->pr);
	cr_exit(0);
}

/* Edited images */

struct image {
	unsigned char *buf;
	size_t len;
};

typedef void (*edit_fn)(struct __test_metadata *_metadata,
			struct image *img);

static struct cr_hdr *find_rec(struct image *img, __u32 type)
{
	long off = cr_find_rec(img->buf, img->len, type, 0);

	return off < 0 ? NULL : (struct cr_hdr *)(img->buf + off);
}

/* Copy the image @from to @to through @edit, the tail's checksum resealed */
static void image_edit(struct __test_metadata *_metadata, const char *from,
		       const char *to, edit_fn edit)
{
	struct image img;
	struct stat st;
	int fd;

	fd = open(from, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	img.len = st.st_size;
	img.buf = malloc(img.len);
	ASSERT_NE(NULL, img.buf);
	ASSERT_EQ((ssize_t)img.len, pread(fd, img.buf, img.len, 0));
	close(fd);
	edit(_metadata, &img);
	ASSERT_LE(0, cr_find_rec(img.buf, img.len, CR_HDR_TAIL, 0));
	cr_reseal(img.buf, img.len);
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)img.len, pwrite(fd, img.buf, img.len, 0));
	close(fd);
	free(img.buf);
}

static char *path_rec(struct __test_metadata *_metadata, struct image *img,
		      __u32 type, const char *want)
{
	struct cr_hdr *h = find_rec(img, type);
	char *s;

	if (!h)
		return NULL;
	s = (char *)(h + 1);
	if (want && strcmp(s, want)) {
		TH_LOG("path record %u is \"%s\", expected \"%s\"", type, s,
		       want);
		return NULL;
	}
	return s;
}

static struct cr_hdr_task *task_rec(struct image *img)
{
	return (struct cr_hdr_task *)find_rec(img, CR_HDR_TASK);
}

static void e_root_relative(struct __test_metadata *_metadata,
			    struct image *img)
{
	char *s = path_rec(_metadata, img, CR_HDR_ROOT, "/");

	ASSERT_NE(NULL, s);
	s[0] = 'x';
}

static void e_cwd_relative(struct __test_metadata *_metadata,
			   struct image *img)
{
	char *s = path_rec(_metadata, img, CR_HDR_CWD, NULL);

	ASSERT_NE(NULL, s);
	ASSERT_EQ('/', s[0]);
	s[0] = 'x';
}

/* "/sub" becomes "/../": in the restored root, that is the root */
static void e_cwd_dotdot(struct __test_metadata *_metadata,
			 struct image *img)
{
	char *s = path_rec(_metadata, img, CR_HDR_CWD, "/sub");

	ASSERT_NE(NULL, s);
	memcpy(s, "/../", 4);
}

static void e_flags_unknown(struct __test_metadata *_metadata,
			    struct image *img)
{
	ASSERT_NE(NULL, task_rec(img));
	task_rec(img)->flags |= 1U << 31;
}

static void e_flags_two_dumpable(struct __test_metadata *_metadata,
				 struct image *img)
{
	ASSERT_NE(NULL, task_rec(img));
	ASSERT_TRUE(task_rec(img)->flags & CR_TASK_DUMPABLE);
	task_rec(img)->flags |= CR_TASK_DUMPABLE_ROOT;
}

static void e_flags_two_mce(struct __test_metadata *_metadata,
			    struct image *img)
{
	ASSERT_NE(NULL, task_rec(img));
	task_rec(img)->flags |= CR_TASK_MCE_KILL_LATE | CR_TASK_MCE_KILL_EARLY;
}

static void e_dumpable_root(struct __test_metadata *_metadata,
			    struct image *img)
{
	ASSERT_NE(NULL, task_rec(img));
	ASSERT_TRUE(task_rec(img)->flags & CR_TASK_DUMPABLE);
	task_rec(img)->flags ^= CR_TASK_DUMPABLE | CR_TASK_DUMPABLE_ROOT;
}

static void e_task_reserved(struct __test_metadata *_metadata,
			    struct image *img)
{
	ASSERT_NE(NULL, task_rec(img));
	task_rec(img)->reserved[2] = 1;
}

static void sigpending_limit(struct __test_metadata *_metadata,
			     struct image *img, __u64 limit)
{
	ASSERT_NE(NULL, task_rec(img));
	ASSERT_LE(limit, task_rec(img)->rlim[RLIMIT_SIGPENDING].max);
	task_rec(img)->rlim[RLIMIT_SIGPENDING].cur = limit;
}

static void e_sigpending_0(struct __test_metadata *_metadata,
			   struct image *img)
{
	sigpending_limit(_metadata, img, 0);
}

static void e_sigpending_1(struct __test_metadata *_metadata,
			   struct image *img)
{
	sigpending_limit(_metadata, img, 1);
}

/* A flag sigaction(2) would drop: SA_IMMUTABLE, the kernel's own */
static void e_sa_flags(struct __test_metadata *_metadata, struct image *img)
{
	struct cr_hdr_sighand *sh;

	sh = (struct cr_hdr_sighand *)find_rec(img, CR_HDR_SIGHAND);
	ASSERT_NE(NULL, sh);
	sh->action[SIGUSR2 - 1].flags |= 0x00800000;
}

static void e_altstack_small(struct __test_metadata *_metadata,
			     struct image *img)
{
	struct cr_hdr_signal *hs;

	hs = (struct cr_hdr_signal *)find_rec(img, CR_HDR_SIGNAL);
	ASSERT_NE(NULL, hs);
	hs->ss_sp = 0x100000;
	hs->ss_size = K_MINSIGSTKSZ;
	hs->ss_flags = 0;
}

static void e_pdeath_bad(struct __test_metadata *_metadata,
			 struct image *img)
{
	ASSERT_NE(NULL, task_rec(img));
	ASSERT_EQ(0, task_rec(img)->pdeath_signal);
	task_rec(img)->pdeath_signal = 65;
}

static void e_two_ssb(struct __test_metadata *_metadata, struct image *img)
{
	ASSERT_NE(NULL, task_rec(img));
	task_rec(img)->flags |= CR_TASK_SSB_DISABLE | CR_TASK_SSB_FORCE_DISABLE;
}

static void e_mdwe_no_inherit(struct __test_metadata *_metadata,
			      struct image *img)
{
	ASSERT_NE(NULL, task_rec(img));
	ASSERT_FALSE(task_rec(img)->flags & CR_TASK_MDWE);
	task_rec(img)->flags |= CR_TASK_MDWE_NO_INHERIT;
}

static void e_l1d_flush(struct __test_metadata *_metadata, struct image *img)
{
	ASSERT_NE(NULL, task_rec(img));
	task_rec(img)->flags |= CR_TASK_L1D_FLUSH;
}

/* Both kinds of signal pending, which queueing them cannot give */
static void e_stop_and_cont(struct __test_metadata *_metadata,
			    struct image *img)
{
	struct cr_hdr_signal *hs;

	hs = (struct cr_hdr_signal *)find_rec(img, CR_HDR_SIGNAL);
	ASSERT_NE(NULL, hs);
	hs->pending[CR_SIGQ_PRIVATE] |= 1ULL << (SIGTSTP - 1);
	hs->pending[CR_SIGQ_SHARED] |= 1ULL << (SIGCONT - 1);
}

/*
 * The tests: a tree root/{marker,sub/} in the test directory to chroot to
 */

FIXTURE(ts) {
	struct cr_dir d;
	char root[64];
	char sub[128];
	char edited[64];
};

static void put_file(struct __test_metadata *_metadata, const char *path,
		     const char *text)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(text), write(fd, text, strlen(text)));
	ASSERT_EQ(0, close(fd));
}

FIXTURE_SETUP(ts)
{
	char path[128];

	REQUIRE_CHECKPOINT();
	if (geteuid())
		SKIP(return, "chroot and changing credentials need root");
	cr_dir_setup(_metadata, &self->d);
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
	ASSERT_EQ(0, fchmod(self->d.imgfd, 0644));
	cr_path(&self->d, "root", self->root, sizeof(self->root));
	cr_path(&self->d, "edited", self->edited, sizeof(self->edited));
	snprintf(self->sub, sizeof(self->sub), "%s/sub", self->root);
	ASSERT_EQ(0, mkdir(self->root, 0755));
	ASSERT_EQ(0, mkdir(self->sub, 0755));
	snprintf(path, sizeof(path), "%s/marker", self->root);
	put_file(_metadata, path, "marker\n");
}

FIXTURE_TEARDOWN_PARENT(ts)
{
	cr_dir_teardown(_metadata, &self->d);
}

/* A chrooted child with its cwd in the chroot: /sub */
static void chrooted(const char *root, struct setup *s)
{
	snprintf(s->root, sizeof(s->root), "%s", root);
	snprintf(s->cwd, sizeof(s->cwd), "/sub");
	snprintf(s->expect, sizeof(s->expect), "/expect");
}

/*
 * Checkpoint a stopped child that ran @s, after @meanwhile if not NULL;
 * kill it.  -1 and errno if refused, and the kernel's reason in @log.
 */
static long checkpoint_stopped_log(struct __test_metadata *_metadata,
				   struct cr_dir *d, struct setup *s,
				   void (*meanwhile)(struct setup *s),
				   char *log, size_t len)
{
	int status, err, p[2];
	pid_t pid;
	long crid;

	ASSERT_EQ(0, ftruncate(d->imgfd, 0));
	ASSERT_EQ(0, lseek(d->imgfd, 0, SEEK_SET));
	pid = spawn_body(_metadata, stop_body, s, -1);
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status))
		TH_LOG("child: wait status %#x", status);
	if (meanwhile)
		meanwhile(s);
	ASSERT_EQ(0, pipe(p));
	crid = sys_checkpoint(pid, d->imgfd, CR_LOGFD(p[1]));
	err = errno;
	close(p[1]);
	ASSERT_LE(0, read_all(p[0], log, len));
	close(p[0]);
	/* Left as it was */
	EXPECT_EQ('T', proc_state(pid));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	kid_del(pid);
	errno = err;
	return crid;
}

static long checkpoint_stopped(struct __test_metadata *_metadata,
			       struct cr_dir *d, struct setup *s)
{
	char log[512];

	return checkpoint_stopped_log(_metadata, d, s, NULL, log, sizeof(log));
}

/* Checkpoint refuses @s with EOPNOTSUPP and says @msg */
static void refused(struct __test_metadata *_metadata, struct cr_dir *d,
		    struct setup *s, void (*meanwhile)(struct setup *s),
		    const char *msg)
{
	char log[512];

	ASSERT_EQ(-1, checkpoint_stopped_log(_metadata, d, s, meanwhile, log,
					     sizeof(log)));
	ASSERT_EQ(EOPNOTSUPP, errno);
	ASSERT_NE(NULL, strstr(log, msg))
		TH_LOG("kernel: %s", log);
}

/* Restart @img with @r; expect it restarted, or refused with r->err */
static void restart_with(struct __test_metadata *_metadata, const char *img,
			 struct rst *r)
{
	pid_t pid;

	/* The restarter's default timer slack is this slack */
	if (r->parent_slack)
		ASSERT_EQ(0, prctl(PR_SET_TIMERSLACK, r->parent_slack, 0, 0, 0));
	pid = spawn_restarter_fn(_metadata, img, 0, NULL, restarter, r);
	if (r->parent_slack)
		ASSERT_EQ(0, prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0));
	expect_exit(_metadata, pid, r->err ? 0 : EXIT_RESTARTED, "restarter");
}

static void stopped_restart(struct __test_metadata *_metadata,
			    struct cr_dir *d, struct setup *s, struct rst *r)
{
	ASSERT_LT(0, checkpoint_stopped(_metadata, d, s))
		TH_LOG("checkpoint: %s", strerror(errno));
	restart_with(_metadata, d->img, r);
}

/* Root directory and working directory */

/* Inside: "/marker", "/.." is "/", cwd "/sub" */
TEST_F_TIMEOUT(ts, chroot_restored, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = {};

	chrooted(self->root, &s);
	stopped_restart(_metadata, &self->d, &s, &r);
}

/* The image says / for the root and the cwd */
TEST_F_TIMEOUT(ts, chroot_records, TEST_TIMEOUT)
{
	struct setup s = {};
	char buf[4096];
	struct image img = { (unsigned char *)buf };

	chrooted(self->root, &s);
	ASSERT_LT(0, checkpoint_stopped(_metadata, &self->d, &s));
	img.len = pread(self->d.imgfd, buf, sizeof(buf), 0);
	ASSERT_LT(0, (ssize_t)img.len);
	ASSERT_NE(NULL, path_rec(_metadata, &img, CR_HDR_ROOT, self->root));
	ASSERT_NE(NULL, path_rec(_metadata, &img, CR_HDR_CWD, "/sub"));
}

/* A cwd of "/../" is the restored root, not the directory above */
TEST_F_TIMEOUT(ts, chroot_cwd_dotdot, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = {};
	char path[128];

	chrooted(self->root, &s);
	ASSERT_LT(0, checkpoint_stopped(_metadata, &self->d, &s));
	image_edit(_metadata, self->d.img, self->edited, e_cwd_dotdot);
	snprintf(path, sizeof(path), "%s/expect", self->root);
	put_file(_metadata, path, "cwd /\n");
	restart_with(_metadata, self->edited, &r);
}

/* Nobody without CAP_SYS_CHROOT may not restart it; root may */
TEST_F_TIMEOUT(ts, chroot_needs_cap_sys_chroot, TEST_TIMEOUT)
{
	struct rst r = { .nobody = true, .err = EPERM,
			 .msg = "needs CAP_SYS_CHROOT" };
	struct rst root = {};
	struct setup s = { .nobody = true };

	chrooted(self->root, &s);
	stopped_restart(_metadata, &self->d, &s, &r);
	restart_with(_metadata, self->d.img, &root);
}

/* Nobody restarts nobody in the same root: no capability needed */
TEST_F_TIMEOUT(ts, same_root_unprivileged, TEST_TIMEOUT)
{
	struct rst r = { .nobody = true };
	struct setup s = { .nobody = true };

	snprintf(s.cwd, sizeof(s.cwd), "%s", self->sub);
	stopped_restart(_metadata, &self->d, &s, &r);
}

TEST_F_TIMEOUT(ts, root_missing, TEST_TIMEOUT)
{
	struct rst r = { .err = ENOENT, .msg = "root directory" };
	struct setup s = {};
	char gone[128];

	chrooted(self->root, &s);
	ASSERT_LT(0, checkpoint_stopped(_metadata, &self->d, &s));
	snprintf(gone, sizeof(gone), "%s.gone", self->root);
	ASSERT_EQ(0, rename(self->root, gone));
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, root_not_a_directory, TEST_TIMEOUT)
{
	struct rst r = { .err = ENOTDIR, .msg = "root directory" };
	struct setup s = {};
	char gone[128];

	chrooted(self->root, &s);
	ASSERT_LT(0, checkpoint_stopped(_metadata, &self->d, &s));
	snprintf(gone, sizeof(gone), "%s.gone", self->root);
	ASSERT_EQ(0, rename(self->root, gone));
	put_file(_metadata, self->root, "a file\n");
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, root_not_searchable, TEST_TIMEOUT)
{
	struct rst r = { .nobody = true, .err = EACCES,
			 .msg = "enter the root directory" };
	struct setup s = { .nobody = true };

	chrooted(self->root, &s);
	ASSERT_LT(0, checkpoint_stopped(_metadata, &self->d, &s));
	ASSERT_EQ(0, chmod(self->root, 0600));
	restart_with(_metadata, self->d.img, &r);
}

/* The cwd is looked up in the restored root */
TEST_F_TIMEOUT(ts, cwd_missing, TEST_TIMEOUT)
{
	struct rst r = { .err = ENOENT, .msg = "working directory /sub" };
	struct setup s = {};

	chrooted(self->root, &s);
	ASSERT_LT(0, checkpoint_stopped(_metadata, &self->d, &s));
	ASSERT_EQ(0, rmdir(self->sub));
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, cwd_not_searchable, TEST_TIMEOUT)
{
	struct rst r = { .nobody = true, .err = EACCES,
			 .msg = "enter the working directory" };
	struct setup s = { .nobody = true };

	snprintf(s.cwd, sizeof(s.cwd), "%s", self->sub);
	ASSERT_LT(0, checkpoint_stopped(_metadata, &self->d, &s));
	ASSERT_EQ(0, chmod(self->sub, 0600));
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, root_relative, TEST_TIMEOUT)
{
	struct rst r = { .err = EINVAL, .msg = "root directory" };
	struct setup s = {};

	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_root_relative);
	restart_with(_metadata, self->edited, &r);
}

TEST_F_TIMEOUT(ts, cwd_relative, TEST_TIMEOUT)
{
	struct rst r = { .err = EINVAL, .msg = "working directory" };
	struct setup s = {};

	chrooted(self->root, &s);
	ASSERT_LT(0, checkpoint_stopped(_metadata, &self->d, &s));
	image_edit(_metadata, self->d.img, self->edited, e_cwd_relative);
	restart_with(_metadata, self->edited, &r);
}

TEST_F_TIMEOUT(ts, cwd_not_a_directory, TEST_TIMEOUT)
{
	struct rst r = { .err = ENOTDIR, .msg = "working directory /sub" };
	struct setup s = {};

	chrooted(self->root, &s);
	ASSERT_LT(0, checkpoint_stopped(_metadata, &self->d, &s));
	ASSERT_EQ(0, rmdir(self->sub));
	put_file(_metadata, self->sub, "a file\n");
	restart_with(_metadata, self->d.img, &r);
}

/* chroot() without chdir(): the cwd is outside the root, refused */
TEST_F_TIMEOUT(ts, cwd_outside_root, TEST_TIMEOUT)
{
	struct setup s = {};

	snprintf(s.root, sizeof(s.root), "%s", self->root);
	refused(_metadata, &self->d, &s, NULL,
		"working directory is not under its root directory");
}

static void rmdir_cwd(struct setup *s)
{
	char path[256];

	snprintf(path, sizeof(path), "%s%s", s->root, s->cwd);
	if (rmdir(path))
		perror(path);
}

/* Deleted while the task was stopped in it */
TEST_F_TIMEOUT(ts, cwd_deleted, TEST_TIMEOUT)
{
	struct setup s = {};

	chrooted(self->root, &s);
	refused(_metadata, &self->d, &s, rmdir_cwd,
		"working directory /sub was deleted");
}

/* An empty root, cwd at its top, deleted while the task was stopped */
TEST_F_TIMEOUT(ts, root_deleted, TEST_TIMEOUT)
{
	struct setup s = {};

	snprintf(s.root, sizeof(s.root), "%s/empty", self->d.dir);
	snprintf(s.cwd, sizeof(s.cwd), "/");
	ASSERT_EQ(0, mkdir(s.root, 0755));
	refused(_metadata, &self->d, &s, rmdir_cwd, "its root directory");
	ASSERT_EQ(-1, access(s.root, F_OK));
}

/* A checkpointer chrooted below the task's root may not name it */
TEST_F_TIMEOUT(ts, root_outside_caller, TEST_TIMEOUT)
{
	struct setup s = {};
	int status;
	pid_t pid, cp;
	long crid;

	pid = spawn_body(_metadata, stop_body, &s, -1);
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status));
	cp = fork();
	ASSERT_LE(0, cp);
	if (cp == 0) {
		if (chroot(self->root))
			_exit(EXIT_SETUP);
		crid = sys_checkpoint(pid, self->d.imgfd, CR_LOGFD(2));
		_exit(crid == -1 && errno == EOPNOTSUPP ? 0 : EXIT_CHECK);
	}
	ASSERT_EQ(cp, waitpid(cp, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("chrooted checkpointer: wait status %#x", status);
	EXPECT_EQ('T', proc_state(pid));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	kid_del(pid);
}

/* no_new_privs */

TEST_F_TIMEOUT(ts, nnp_restored, TEST_TIMEOUT)
{
	struct setup s = { .nnp = true };
	struct rst r = {};

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, nnp_restarter_and_image, TEST_TIMEOUT)
{
	struct setup s = { .nnp = true };
	struct rst r = { .nnp = true };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, nnp_not_restored, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = {};

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

/* It cannot be cleared: a restarter with it, an image without */
TEST_F_TIMEOUT(ts, nnp_cannot_be_cleared, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .nnp = true, .err = EPERM, .msg = "no_new_privs" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

/* The task flags */

TEST_F_TIMEOUT(ts, flags_unknown, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .err = EINVAL, .msg = "unknown task flags" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_flags_unknown);
	restart_with(_metadata, self->edited, &r);
}

TEST_F_TIMEOUT(ts, flags_two_dumpable_states, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .err = EINVAL, .msg = "dumpable" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited,
		   e_flags_two_dumpable);
	restart_with(_metadata, self->edited, &r);
}

TEST_F_TIMEOUT(ts, task_reserved, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .err = EINVAL, .msg = "reserved" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_task_reserved);
	restart_with(_metadata, self->edited, &r);
}

/* Dumpable */

/* Not dumpable, restarted by a dumpable restarter */
TEST_F_TIMEOUT(ts, not_dumpable_restored, TEST_TIMEOUT)
{
	struct setup s = { .not_dumpable = true };
	struct rst r = { .dumpable = 1 + 1 };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

/* Dumpable, restarted by a restarter that is not */
TEST_F_TIMEOUT(ts, dumpable_restored, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .dumpable = 1 + 0 };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

/* Root gives nobody its credentials, which makes it not dumpable: the
 * image's dumpable state is set after them
 */
TEST_F_TIMEOUT(ts, dumpable_after_credentials, TEST_TIMEOUT)
{
	struct setup s = { .nobody = true };
	struct rst r = {};

	snprintf(s.cwd, sizeof(s.cwd), "%s", self->sub);
	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, dumpable_as_root, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = {};

	cr_path(&self->d, "expect", s.expect, sizeof(s.expect));
	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_dumpable_root);
	put_file(_metadata, s.expect, "dumpable 2\n");
	restart_with(_metadata, self->edited, &r);
}

/* prctl() cannot make a process dumped as root: nor can an image */
TEST_F_TIMEOUT(ts, dumpable_as_root_unprivileged, TEST_TIMEOUT)
{
	struct setup s = { .nobody = true };
	struct rst r = { .nobody = true, .err = EPERM,
			 .msg = "dumped as root" };

	snprintf(s.cwd, sizeof(s.cwd), "%s", self->sub);
	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_dumpable_root);
	restart_with(_metadata, self->edited, &r);
}

/* The machine check policy of prctl(PR_MCE_KILL), not the restarter's */

TEST_F_TIMEOUT(ts, mce_kill_early_restored, TEST_TIMEOUT)
{
	struct setup s = { .mce = 1 + PR_MCE_KILL_EARLY };
	struct rst r = {};

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, mce_kill_late_restored, TEST_TIMEOUT)
{
	struct setup s = { .mce = 1 + PR_MCE_KILL_LATE };
	struct rst r = { .mce = 1 + PR_MCE_KILL_EARLY };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, mce_kill_default_restored, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .mce = 1 + PR_MCE_KILL_EARLY };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, flags_two_mce_policies, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .err = EINVAL, .msg = "machine check" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_flags_two_mce);
	restart_with(_metadata, self->edited, &r);
}

/* Queued signals and RLIMIT_SIGPENDING, checked before the PONR */

TEST_F_TIMEOUT(ts, rt_signals_restored, TEST_TIMEOUT)
{
	struct setup s = { .sigqueue = true, .nsig = 3 };
	struct rst r = {};

	s.sig = SIGRTMIN + 1;
	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, rt_signals_above_limit, TEST_TIMEOUT)
{
	struct setup s = { .sigqueue = true, .nsig = 2 };
	struct rst r = { .err = EAGAIN, .msg = "RLIMIT_SIGPENDING" };

	s.sig = SIGRTMIN + 1;
	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_sigpending_1);
	restart_with(_metadata, self->edited, &r);
}

/* sigqueue() of a standard signal is charged: its information would go */
TEST_F_TIMEOUT(ts, sigqueue_above_limit, TEST_TIMEOUT)
{
	struct setup s = { .sig = SIGUSR1, .sigqueue = true, .nsig = 1 };
	struct rst r = { .err = EAGAIN, .msg = "RLIMIT_SIGPENDING" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_sigpending_0);
	restart_with(_metadata, self->edited, &r);
}

/* kill() of a standard signal is queued whatever the limit, as the kernel does */
TEST_F_TIMEOUT(ts, kill_above_limit, TEST_TIMEOUT)
{
	struct setup s = { .sig = SIGUSR1, .nsig = 1 };
	struct rst r = {};

	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_sigpending_0);
	restart_with(_metadata, self->edited, &r);
}

TEST_F_TIMEOUT(ts, sa_flags_unknown, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .err = EINVAL, .msg = "unknown flags" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_sa_flags);
	restart_with(_metadata, self->edited, &r);
}

/*
 * What sigaltstack(2) refuses with ENOMEM, when the kernel is strict
 * (CONFIG_STRICT_SIGALTSTACK_SIZE, or booted with strict_sas_size1: the
 * parameter takes no '=')
 */
TEST_F_TIMEOUT(ts, altstack_too_small, TEST_TIMEOUT)
{
	static char area[K_MINSIGSTKSZ];
	stack_t ss = { .ss_sp = area, .ss_size = sizeof(area) };
	stack_t off = { .ss_flags = SS_DISABLE };
	struct rst r = { .err = ENOMEM, .msg = "sigaltstack" };
	struct setup s = {};

	if (sigaltstack(&ss, NULL) == 0) {
		ASSERT_EQ(0, sigaltstack(&off, NULL));
		SKIP(return,
		     "sigaltstack(2) takes %d bytes here (no strict_sigaltstack_size)",
		     K_MINSIGSTKSZ);
	}
	ASSERT_EQ(ENOMEM, errno);
	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_altstack_small);
	restart_with(_metadata, self->edited, &r);
}

/*
 * prctl() state: set in the task, restarted by a restarter with other
 * values, whose default timer slack (its parent's) differs too
 */

TEST_F_TIMEOUT(ts, prctl_restored, TEST_TIMEOUT)
{
	struct setup s = { .pr = {
		.slack = 123456, .pdeath = SIGUSR2, .subreaper = true,
		.thp_disable = true, .mdwe = PR_MDWE_REFUSE_EXEC_GAIN,
		.io_flusher = true, .tsc_sigsegv = true } };
	struct rst r = { .pr = { .slack = 777777, .pdeath = SIGUSR1 },
			 .parent_slack = 999999 };

	if (spec_settable(PR_SPEC_STORE_BYPASS))
		s.pr.ssb = PR_SPEC_DISABLE;
	else
		TH_LOG("store bypass speculation control not settable here");
	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

/* The restarter's own state does not leak into the restarted process */
TEST_F_TIMEOUT(ts, prctl_not_inherited, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .pr = {
		.slack = 777777, .pdeath = SIGUSR1, .subreaper = true,
		.thp_disable = true,
		.mdwe = PR_MDWE_REFUSE_EXEC_GAIN | PR_MDWE_NO_INHERIT,
		.io_flusher = true, .tsc_sigsegv = true,
		.ssb = PR_SPEC_DISABLE }, .parent_slack = 999999 };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

/* Changing the credentials clears it: it is restored after them */
TEST_F_TIMEOUT(ts, pdeath_after_credentials, TEST_TIMEOUT)
{
	struct setup s = { .nobody = true, .pr = { .pdeath = SIGUSR2 } };
	struct rst r = {};

	snprintf(s.cwd, sizeof(s.cwd), "%s", self->sub);
	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, pdeath_bad, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .err = EINVAL, .msg = "parent death signal" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_pdeath_bad);
	restart_with(_metadata, self->edited, &r);
}

/* Inherited from a parent with another slack: the record has no room */
TEST_F_TIMEOUT(ts, timer_slack_default_refused, TEST_TIMEOUT)
{
	struct setup s = {};

	ASSERT_EQ(0, prctl(PR_SET_TIMERSLACK, 999999, 0, 0, 0));
	refused(_metadata, &self->d, &s, NULL, "default timer slack");
	ASSERT_EQ(0, prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0));
}

/* Memory-deny-write-execute */

TEST_F_TIMEOUT(ts, mdwe_kept, TEST_TIMEOUT)
{
	struct setup s = { .pr = { .mdwe = PR_MDWE_REFUSE_EXEC_GAIN } };
	struct rst r = { .pr = { .mdwe = PR_MDWE_REFUSE_EXEC_GAIN } };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, mdwe_no_inherit_restored, TEST_TIMEOUT)
{
	struct setup s = { .pr = {
		.mdwe = PR_MDWE_REFUSE_EXEC_GAIN | PR_MDWE_NO_INHERIT } };
	struct rst r = {};

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

/* It cannot be cleared, as execve(2) would keep it */
TEST_F_TIMEOUT(ts, mdwe_cannot_be_cleared, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .pr = { .mdwe = PR_MDWE_REFUSE_EXEC_GAIN },
			 .err = EPERM, .msg = "memory-deny-write-execute" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

/*
 * A writable and executable area, mapped before memory-deny-write-execute:
 * a restarter that has it (and keeps it, as execve(2) would) cannot map
 * it, which is refused before the point of no return; one without it can,
 * and the process gets its own back.
 */
TEST_F_TIMEOUT(ts, mdwe_refuses_wx_area, TEST_TIMEOUT)
{
	struct setup s = { .wx = true,
			   .pr = { .mdwe = PR_MDWE_REFUSE_EXEC_GAIN } };
	struct rst r = { .pr = { .mdwe = PR_MDWE_REFUSE_EXEC_GAIN },
			 .err = EPERM, .msg = "writable and executable" };
	struct rst ok = {};

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
	restart_with(_metadata, self->d.img, &ok);
}

/* Not inherited: the restarter's goes, the area is mapped */
TEST_F_TIMEOUT(ts, mdwe_no_inherit_wx_area, TEST_TIMEOUT)
{
	struct setup s = { .wx = true };
	struct rst r = { .pr = {
		.mdwe = PR_MDWE_REFUSE_EXEC_GAIN | PR_MDWE_NO_INHERIT } };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, mdwe_no_inherit_alone, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .err = EINVAL, .msg = "memory-deny-write-execute" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_mdwe_no_inherit);
	restart_with(_metadata, self->edited, &r);
}

/* An I/O flusher, nobody: root may restart it, nobody may not */
TEST_F_TIMEOUT(ts, io_flusher_needs_cap_sys_resource, TEST_TIMEOUT)
{
	struct setup s = { .nobody = true, .pr = { .io_flusher = true } };
	struct rst r = { .nobody = true, .err = EPERM,
			 .msg = "CAP_SYS_RESOURCE" };
	struct rst root = {};

	snprintf(s.cwd, sizeof(s.cwd), "%s", self->sub);
	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
	restart_with(_metadata, self->d.img, &root);
}

/* Speculation control */

TEST_F_TIMEOUT(ts, spec_two_choices, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .err = EINVAL, .msg = "speculation control 0" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_two_ssb);
	restart_with(_metadata, self->edited, &r);
}

TEST_F_TIMEOUT(ts, spec_force_disable_restored, TEST_TIMEOUT)
{
	struct setup s = { .pr = { .ssb = PR_SPEC_FORCE_DISABLE } };
	struct rst r = {};

	if (!spec_settable(PR_SPEC_STORE_BYPASS))
		SKIP(return, "store bypass speculation control not settable");
	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

TEST_F_TIMEOUT(ts, spec_noexec_restored, TEST_TIMEOUT)
{
	struct setup s = { .pr = { .ssb = PR_SPEC_DISABLE_NOEXEC } };
	struct rst r = { .pr = { .ssb = PR_SPEC_DISABLE } };

	if (!spec_settable(PR_SPEC_STORE_BYPASS))
		SKIP(return, "store bypass speculation control not settable");
	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

/* The restarter's forced disable cannot be undone */
TEST_F_TIMEOUT(ts, spec_forced_by_restarter, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .pr = { .ssb = PR_SPEC_FORCE_DISABLE },
			 .err = EPERM, .msg = "cannot be undone" };

	if (!spec_settable(PR_SPEC_STORE_BYPASS))
		SKIP(return, "store bypass speculation control not settable");
	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

/* An L1D flush where the system has none (booted without l1d_flush=on) */
TEST_F_TIMEOUT(ts, spec_not_settable, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .err = EOPNOTSUPP, .msg = "cannot be set here" };

	if (spec_settable(PR_SPEC_L1D_FLUSH))
		SKIP(return, "L1D flush is settable here (l1d_flush=on)");
	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_l1d_flush);
	restart_with(_metadata, self->edited, &r);
}

/* Refused: syscall user dispatch and memory merging, task or restarter */

TEST_F_TIMEOUT(ts, sud_refused, TEST_TIMEOUT)
{
	struct setup s = { .pr = { .sud = true } };

	refused(_metadata, &self->d, &s, NULL, "syscall user dispatch");
}

TEST_F_TIMEOUT(ts, sud_restarter_refused, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .pr = { .sud = true }, .err = EBUSY,
			 .msg = "syscall user dispatch" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

/* prctl(PR_SET_MEMORY_MERGE) needs CONFIG_KSM */
static bool ksm_works(void)
{
	return prctl(PR_SET_MEMORY_MERGE, 0, 0, 0, 0) == 0;
}

TEST_F_TIMEOUT(ts, memory_merge_refused, TEST_TIMEOUT)
{
	struct setup s = { .pr = { .merge = true } };

	if (!ksm_works())
		SKIP(return, "prctl(PR_SET_MEMORY_MERGE): %s (CONFIG_KSM)",
		     strerror(errno));
	refused(_metadata, &self->d, &s, NULL, "PR_SET_MEMORY_MERGE");
}

TEST_F_TIMEOUT(ts, memory_merge_restarter_refused, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .pr = { .merge = true }, .err = EBUSY,
			 .msg = "PR_SET_MEMORY_MERGE" };

	if (!ksm_works())
		SKIP(return, "prctl(PR_SET_MEMORY_MERGE): %s (CONFIG_KSM)",
		     strerror(errno));
	checkpoint_child(_metadata, &self->d, self_body, &s);
	restart_with(_metadata, self->d.img, &r);
}

/* A stop signal and SIGCONT: queueing one would discard the other */
TEST_F_TIMEOUT(ts, stop_and_cont_pending, TEST_TIMEOUT)
{
	struct setup s = {};
	struct rst r = { .err = EINVAL, .msg = "stop signal and SIGCONT" };

	checkpoint_child(_metadata, &self->d, self_body, &s);
	image_edit(_metadata, self->d.img, self->edited, e_stop_and_cont);
	restart_with(_metadata, self->edited, &r);
}

TEST_HARNESS_MAIN
