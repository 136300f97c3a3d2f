// SPDX-License-Identifier: GPL-2.0
/*
 * The errno of each validation branch restart takes on an edited image.
 *
 * One table: a record of a real image (its type, and which one of that
 * type), fields to change in it (set, add or xor a value at an offset of
 * the record), and the errno restart(2) must return.  The checksum in the
 * tail is resealed, so each edit reaches the parser.  The records and
 * branches the other tests already edit (the header and tail in
 * framing_test, files in files_test, signals in signals_test, shared
 * memory in mapping_test, credentials in creds_test) are not repeated:
 * this covers the task, credentials length, working directory, signal
 * dispositions, registers, extended state, address space, executable,
 * memory areas, mapped files and pages records.
 *
 * The pages records and the tail are read after the point of no return.
 * In an image in a regular file restart checks them ahead, before it, and
 * a bad one gives an errno; from a pipe (LATE in the table: the test
 * restarts from a pipe too) it kills the caller with SIGKILL.  The
 * checksum is only checked after: a damaged byte of a page kills (KILLED).
 */

#include "cr_harness.h"

#include <stddef.h>

#define KADDR		0xffff880000000000ULL	/* a kernel address */
#define NONCANON	0x8000000000000000ULL	/* not canonical */
#define HIGH_END	0x0100000000000000ULL	/* beyond 56 bits */
#define KILLED		(-1)		/* killed after the point of no return */
#define SEED_MEM	0x7a1d

/* Offset of register @i in struct cr_hdr_cpu (user_regs_struct order) */
#define REG(i)		(offsetof(struct cr_hdr_cpu, regs) + 8 * (i))
#define R_ORIG_AX	15
#define R_IP		16
#define R_CS		17
#define R_SP		19
#define R_SS		20
#define R_FS_BASE	21
#define R_GS_BASE	22
#define R_DS		23
#define R_FS		25

/* In struct cr_hdr_xstate: the xsave area follows the record */
#define XAREA(off)	(sizeof(struct cr_hdr_xstate) + (off))
#define XA_MXCSR	24
#define XA_XSTATE_BV	512
#define XA_XCOMP_BV	520

#define ACTION(sig, f)	(offsetof(struct cr_hdr_sighand, action) +	\
			 32 * ((sig) - 1) + offsetof(struct cr_sigaction, f))
#define RLIM(i, f)	(offsetof(struct cr_hdr_task, rlim) +		\
			 16 * (i) + offsetof(struct cr_rlimit, f))
#define AUXV(i)		(offsetof(struct cr_hdr_mm, auxv) + 8 * (i))
#define FIELD(s, f)	offsetof(struct s, f)
#define LAST_BYTE	(-1)	/* offset from the end of the record */
#define PAGE_ADDR0	(sizeof(struct cr_hdr_pages))

enum op { SET, ADD, XOR };

struct field_edit {
	int off;		/* in the record; < 0: from its end */
	int size;		/* 1, 2, 4 or 8 bytes; 0 ends the list */
	enum op op;
	__u64 val;
};

/* Which record of a type to edit */
enum pick {
	ANY,		/* the nth of its type */
	VMA_ANON,	/* the nth anonymous memory area */
	VMA_VDSO,	/* the vDSO text area */
	VMA_MINE,	/* the area mapping the test's file "mapped0" */
	PATH_MINE,	/* the path record of "mapped0" */
};

/* Edits the field edits do not express */
enum special {
	NO_SPECIAL,
	STALE_CSUM,	/* the checksum of the tail left as it was */
	CUT_PAGE,	/* the record loses the data of its last page */
	EXTRA_TAIL,	/* a second tail follows the first */
};

/* The body maps DIR/mapped0, has DIR/cwd0 as cwd and DIR/open0 open */
#define MINE_MAPPED	"mapped0"

static void body_verify(bool restarted)
{
}

static unsigned char *body_mem;

static void val_body(void *arg, int imgfd)
{
	char dir[64], path[128];
	sigset_t set;
	void *m;
	long r;
	int fd;

	snprintf(dir, sizeof(dir), "%s", (const char *)arg);
	cr_prepare(imgfd);
	snprintf(path, sizeof(path), "%s/" MINE_MAPPED, dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		_exit(EXIT_SETUP);
	m = mmap(NULL, 2 * pg(), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	/* A private page of the file area: a pages record holds it */
	if (m != MAP_FAILED)
		((char *)m)[0] = 1;
	snprintf(path, sizeof(path), "%s/open0", dir);
	fd = open(path, O_RDWR);
	body_mem = mmap(NULL, 4 * pg(), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	snprintf(path, sizeof(path), "%s/cwd0", dir);
	if (m == MAP_FAILED || fd < 0 || body_mem == MAP_FAILED ||
	    lseek(fd, 5, SEEK_SET) != 5 || chdir(path))
		_exit(EXIT_SETUP);
	pat_fill(body_mem, 4 * pg(), SEED_MEM, 0);
	/* A pending signal, blocked */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || raise(SIGUSR2))
		_exit(EXIT_SETUP);
	r = sys_checkpoint(0, imgfd, 0);
	if (r >= 0)
		CHECK_PAT(body_mem, 4 * pg(), SEED_MEM, 0);
	cr_finish(r, errno, body_verify);
}

/* Records of an image */

#define ALIGN8(x)	(((size_t)(x) + 7) & ~(size_t)7)

static bool ends_with(const unsigned char *rec, const char *s)
{
	struct cr_hdr h;
	size_t n = strlen(s);

	memcpy(&h, rec, sizeof(h));
	return h.len >= sizeof(h) + n + 1 && rec[h.len - n - 1] == '/' &&
	       !memcmp(rec + h.len - n, s, n);
}

static bool picked(const unsigned char *rec, const unsigned char *next,
		   enum pick pick)
{
	const struct cr_hdr_vma *v = (const void *)rec;

	switch (pick) {
	case VMA_ANON:
		return v->kind == CR_VMA_ANON;
	case VMA_VDSO:
		return v->kind == CR_VMA_VDSO;
	case VMA_MINE:
		return v->kind == CR_VMA_FILE && next &&
		       ((const struct cr_hdr *)next)->type == CR_HDR_VMA_PATH &&
		       ends_with(next, MINE_MAPPED);
	case PATH_MINE:
		return ends_with(rec, MINE_MAPPED);
	default:
		return true;
	}
}

/* Offset of the @nth record of @type that @pick selects, or -1 */
static long find_rec(const unsigned char *buf, size_t len, __u32 type,
		     int nth, enum pick pick)
{
	size_t off = 0, next;
	struct cr_hdr h;

	while (off + sizeof(h) <= len) {
		memcpy(&h, buf + off, sizeof(h));
		if (h.len < sizeof(h))
			break;
		next = off + ALIGN8(h.len);
		if (h.type == type &&
		    picked(buf + off, next < len ? buf + next : NULL, pick) &&
		    nth-- == 0)
			return off;
		if (h.type == CR_HDR_TAIL)
			break;
		off = next;
	}
	return -1;
}

static void apply(unsigned char *rec, const struct field_edit *e)
{
	struct cr_hdr h;
	__u64 v = 0;
	int off;

	memcpy(&h, rec, sizeof(h));
	off = e->off < 0 ? (int)h.len + e->off : e->off;
	memcpy(&v, rec + off, e->size);
	switch (e->op) {
	case SET:
		v = e->val;
		break;
	case ADD:
		v += e->val;
		break;
	case XOR:
		v ^= e->val;
		break;
	}
	memcpy(rec + off, &v, e->size);
}

/*
 * Restart, say why it failed (the kernel's log line), exit with its errno;
 * with 0 if @arg is a string the line does not hold.
 */
static void errno_restarter(void *arg, int fd)
{
	const char *msg = arg;
	char why[512];
	int log[2], err;
	ssize_t n;
	long r;

	if (close_fds_except(fd) || pipe(log))
		_exit(EXIT_SETUP);
	r = sys_restart(0, fd, CR_LOGFD(log[1]));
	err = errno;
	close(log[1]);
	n = read(log[0], why, sizeof(why) - 1);
	why[n > 0 ? n - 1 : 0] = 0;
	cr_log("%s", why);
	if (r < 0 && msg && !strstr(why, msg)) {
		cr_log("expected the log to say \"%s\"", msg);
		_exit(0);
	}
	_exit(r < 0 ? err : EXIT_RESTART_RETURNED);
}

/*
 * Restart from a pipe that a child fills with the image in @fd: nothing
 * of the image can be looked ahead at.
 */
static void pipe_restarter(void *arg, int fd)
{
	static char buf[1 << 16];
	int p[2];
	ssize_t n;
	pid_t pid;

	if (pipe(p))
		_exit(EXIT_SETUP);
	pid = fork();
	if (pid < 0)
		_exit(EXIT_SETUP);
	if (!pid) {
		close(p[0]);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write(p[1], buf, n) != n)
				_exit(1);
		_exit(n ? 1 : 0);
	}
	close(p[1]);
	if (dup2(p[0], fd) != fd)
		_exit(EXIT_SETUP);
	close(p[0]);
	errno_restarter(arg, fd);
}

/* The restarter must have been killed after the point of no return */
static void expect_killed(struct __test_metadata *_metadata, pid_t pid)
{
	char desc[128];
	int status;

	status = wait_child(pid, CHILD_TIMEOUT_MS);
	describe_status(status, desc, sizeof(desc));
	ASSERT_TRUE(status != -1 && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL)
		TH_LOG("restarter: %s, expected SIGKILL", desc);
}

/*
 * Cut the data of the last page of the last pages record of the image of
 * @len bytes in @buf: the record still counts it.  The tail, moved up,
 * describes the image again.  Returns the new length.
 */
static size_t cut_last_page(struct __test_metadata *_metadata,
			    unsigned char *buf, size_t len)
{
	struct cr_hdr_tail t;
	long off, last = -1;
	struct cr_hdr h;
	size_t end;
	int n;

	for (n = 0; (off = find_rec(buf, len, CR_HDR_PAGES, n, ANY)) >= 0; n++)
		last = off;
	ASSERT_LE(0, last);
	memcpy(&h, buf + last, sizeof(h));
	end = last + ALIGN8(h.len);
	memmove(buf + end - pg(), buf + end, len - end);
	len -= pg();
	memcpy(&t, buf + len - sizeof(t), sizeof(t));
	ASSERT_EQ(CR_HDR_TAIL, t.h.type);
	t.length = len - sizeof(t);
	t.csum = crc32_zlib(buf, t.length);
	memcpy(buf + len - sizeof(t), &t, sizeof(t));
	return len;
}

FIXTURE(validate) {
	struct cr_dir d;
};

FIXTURE_VARIANT(validate) {
	__u32 type;
	int nth;
	enum pick pick;
	int err;		/* errno, 0 for a restart, or KILLED */
	bool late;		/* from a pipe too: killed after the PONR */
	enum special special;
	struct field_edit edit[3];
	const char *msg;	/* what the kernel's log line must say */
};

FIXTURE_SETUP(validate)
{
	static char data[2 << 12];
	char path[128];

	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
	cr_path(&self->d, MINE_MAPPED, path, sizeof(path));
	ASSERT_EQ(0, write_file(path, data, sizeof(data)));
	/* mapped1 is a directory, mapped2 nothing */
	cr_path(&self->d, "mapped1", path, sizeof(path));
	ASSERT_EQ(0, mkdir(path, 0700));
	cr_path(&self->d, "open0", path, sizeof(path));
	ASSERT_EQ(0, write_file(path, "0123456789", 10));
	cr_path(&self->d, "cwd0", path, sizeof(path));
	ASSERT_EQ(0, mkdir(path, 0700));
	/* cwd1 is a regular file, cwd2 nothing */
	cr_path(&self->d, "cwd1", path, sizeof(path));
	ASSERT_EQ(0, write_file(path, "", 0));
}

FIXTURE_TEARDOWN_PARENT(validate)
{
	cr_dir_teardown(_metadata, &self->d);
}

/* An unedited image restarts: the errnos below are those of the edits */
FIXTURE_VARIANT_ADD(validate, unedited) {
	.type = CR_HDR_TASK, .err = 0, .late = true,
};

/* Task */
FIXTURE_VARIANT_ADD(validate, task_comm_unterminated) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = {
		{ FIELD(cr_hdr_task, comm), 8, SET, 0x4141414141414141ULL },
		{ FIELD(cr_hdr_task, comm) + 8, 8, SET, 0x4141414141414141ULL },
	},
};

FIXTURE_VARIANT_ADD(validate, task_reserved0) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_task, reserved), 1, SET, 1 } },
};

FIXTURE_VARIANT_ADD(validate, task_reserved1) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_task, reserved) + 2, 1, SET, 0x80 } },
};

FIXTURE_VARIANT_ADD(validate, task_robust_list_kernel) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = {
		{ FIELD(cr_hdr_task, robust_list), 8, SET, KADDR },
		{ FIELD(cr_hdr_task, robust_list_len), 8, SET, 24 },
	},
};

FIXTURE_VARIANT_ADD(validate, task_robust_list_len) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = {
		{ FIELD(cr_hdr_task, robust_list), 8, SET, 0x10000 },
		{ FIELD(cr_hdr_task, robust_list_len), 8, SET, 23 },
	},
};

FIXTURE_VARIANT_ADD(validate, task_robust_len_without_list) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = {
		{ FIELD(cr_hdr_task, robust_list), 8, SET, 0 },
		{ FIELD(cr_hdr_task, robust_list_len), 8, SET, 24 },
	},
};

FIXTURE_VARIANT_ADD(validate, task_clear_child_tid_kernel) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_task, clear_child_tid), 8, SET, KADDR } },
};

FIXTURE_VARIANT_ADD(validate, task_umask) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_task, umask), 4, SET, 01000 } },
};

FIXTURE_VARIANT_ADD(validate, task_rseq_len_without_rseq) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = {
		{ FIELD(cr_hdr_task, rseq), 8, SET, 0 },
		{ FIELD(cr_hdr_task, rseq_len), 4, SET, 32 },
		{ FIELD(cr_hdr_task, rseq_sig), 4, SET, 0 },
	},
};

FIXTURE_VARIANT_ADD(validate, task_rseq_unaligned) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = {
		{ FIELD(cr_hdr_task, rseq), 8, SET, 0x10010 },
		{ FIELD(cr_hdr_task, rseq_len), 4, SET, 32 },
	},
};

FIXTURE_VARIANT_ADD(validate, task_rseq_short) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = {
		{ FIELD(cr_hdr_task, rseq), 8, SET, 0x10000 },
		{ FIELD(cr_hdr_task, rseq_len), 4, SET, 16 },
	},
};

FIXTURE_VARIANT_ADD(validate, task_rseq_kernel) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = {
		{ FIELD(cr_hdr_task, rseq), 8, SET, KADDR },
		{ FIELD(cr_hdr_task, rseq_len), 4, SET, 32 },
	},
};

FIXTURE_VARIANT_ADD(validate, task_rlimit_soft_above_hard) {
	.type = CR_HDR_TASK, .err = EINVAL,
	.edit = {
		{ RLIM(RLIMIT_CORE, cur), 8, SET, 2 },
		{ RLIM(RLIMIT_CORE, max), 8, SET, 1 },
	},
};

FIXTURE_VARIANT_ADD(validate, task_rlimit_nofile_above_nr_open) {
	.type = CR_HDR_TASK, .err = EPERM,
	.edit = {
		{ RLIM(RLIMIT_NOFILE, cur), 8, SET, 1ULL << 31 },
		{ RLIM(RLIMIT_NOFILE, max), 8, SET, 1ULL << 31 },
	},
};

/* Credentials: the groups that follow must be as many as it says */
FIXTURE_VARIANT_ADD(validate, creds_ngroups) {
	.type = CR_HDR_CREDS, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_creds, ngroups), 4, ADD, 1 } },
};

FIXTURE_VARIANT_ADD(validate, creds_len) {
	.type = CR_HDR_CREDS, .err = EINVAL,
	.edit = { { FIELD(cr_hdr, len), 4, ADD, 4 } },
};

/* Working directory */
FIXTURE_VARIANT_ADD(validate, cwd_relative) {
	.type = CR_HDR_CWD, .err = EINVAL,
	.edit = { { sizeof(struct cr_hdr), 1, SET, 'x' } },
};

FIXTURE_VARIANT_ADD(validate, cwd_not_a_directory) {
	.type = CR_HDR_CWD, .err = ENOTDIR,
	.edit = { { LAST_BYTE, 1, SET, '1' } },
};

FIXTURE_VARIANT_ADD(validate, cwd_missing) {
	.type = CR_HDR_CWD, .err = ENOENT,
	.edit = { { LAST_BYTE, 1, SET, '2' } },
};

FIXTURE_VARIANT_ADD(validate, cwd_holds_nul) {
	.type = CR_HDR_CWD, .err = EINVAL,
	.edit = { { LAST_BYTE, 1, SET, 0 } },
};

/* Signal dispositions */
FIXTURE_VARIANT_ADD(validate, sighand_handler_kernel) {
	.type = CR_HDR_SIGHAND, .err = EINVAL,
	.edit = { { ACTION(SIGUSR1, handler), 8, SET, KADDR } },
};

FIXTURE_VARIANT_ADD(validate, sighand_restorer_kernel) {
	.type = CR_HDR_SIGHAND, .err = EINVAL,
	.edit = { { ACTION(SIGUSR1, restorer), 8, SET, KADDR } },
};

FIXTURE_VARIANT_ADD(validate, sighand_last_signal_kernel) {
	.type = CR_HDR_SIGHAND, .err = EINVAL,
	.edit = { { ACTION(64, handler), 8, SET, KADDR } },
};

FIXTURE_VARIANT_ADD(validate, sighand_sigkill_caught) {
	.type = CR_HDR_SIGHAND, .err = EINVAL,
	.edit = { { ACTION(SIGKILL, handler), 8, SET, 0x401000 } },
};

FIXTURE_VARIANT_ADD(validate, sighand_sigstop_ignored) {
	.type = CR_HDR_SIGHAND, .err = EINVAL,
	.edit = { { ACTION(SIGSTOP, handler), 8, SET, 1 } },
};

/* Registers */
FIXTURE_VARIANT_ADD(validate, cpu_reserved) {
	.type = CR_HDR_CPU, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_cpu, reserved), 8, SET, 1 } },
};

FIXTURE_VARIANT_ADD(validate, cpu_cs_32bit) {
	.type = CR_HDR_CPU, .err = EINVAL,
	.edit = { { REG(R_CS), 8, SET, 0x23 } },
};

FIXTURE_VARIANT_ADD(validate, cpu_ss_zero) {
	.type = CR_HDR_CPU, .err = EINVAL,
	.edit = { { REG(R_SS), 8, SET, 0 } },
};

FIXTURE_VARIANT_ADD(validate, cpu_ds_set) {
	.type = CR_HDR_CPU, .err = EINVAL,
	.edit = { { REG(R_DS), 8, SET, 0x2b } },
};

FIXTURE_VARIANT_ADD(validate, cpu_fs_set) {
	.type = CR_HDR_CPU, .err = EINVAL,
	.edit = { { REG(R_FS), 8, SET, 0x63 } },
};

FIXTURE_VARIANT_ADD(validate, cpu_orig_ax) {
	.type = CR_HDR_CPU, .err = EINVAL,
	.edit = { { REG(R_ORIG_AX), 8, SET, 0 } },
};

FIXTURE_VARIANT_ADD(validate, cpu_ip_kernel) {
	.type = CR_HDR_CPU, .err = EINVAL,
	.edit = { { REG(R_IP), 8, SET, KADDR } },
};

FIXTURE_VARIANT_ADD(validate, cpu_sp_noncanonical) {
	.type = CR_HDR_CPU, .err = EINVAL,
	.edit = { { REG(R_SP), 8, SET, NONCANON } },
};

FIXTURE_VARIANT_ADD(validate, cpu_fs_base_kernel) {
	.type = CR_HDR_CPU, .err = EINVAL,
	.edit = { { REG(R_FS_BASE), 8, SET, KADDR } },
};

FIXTURE_VARIANT_ADD(validate, cpu_gs_base_kernel) {
	.type = CR_HDR_CPU, .err = EINVAL,
	.edit = { { REG(R_GS_BASE), 8, SET, KADDR } },
};

/* Extended state */
FIXTURE_VARIANT_ADD(validate, xstate_reserved) {
	.type = CR_HDR_XSTATE, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_xstate, reserved), 4, SET, 1 } },
};

FIXTURE_VARIANT_ADD(validate, xstate_size_not_len) {
	.type = CR_HDR_XSTATE, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_xstate, size), 4, ADD, 64 } },
};

FIXTURE_VARIANT_ADD(validate, xstate_other_size) {
	.type = CR_HDR_XSTATE, .err = EOPNOTSUPP,
	.edit = {
		{ FIELD(cr_hdr_xstate, size), 4, ADD, -8 },
		{ FIELD(cr_hdr, len), 4, ADD, -8 },
	},
};

FIXTURE_VARIANT_ADD(validate, xstate_unknown_feature) {
	.type = CR_HDR_XSTATE, .err = EOPNOTSUPP,
	.edit = { { FIELD(cr_hdr_xstate, xfeatures), 8, XOR, 1ULL << 62 } },
};

FIXTURE_VARIANT_ADD(validate, xstate_header_features) {
	.type = CR_HDR_XSTATE, .err = EINVAL,
	.edit = { { XAREA(XA_XSTATE_BV), 8, XOR, 1 } },
};

FIXTURE_VARIANT_ADD(validate, xstate_compacted) {
	.type = CR_HDR_XSTATE, .err = EINVAL,
	.edit = { { XAREA(XA_XCOMP_BV), 8, SET, 1ULL << 63 } },
};

FIXTURE_VARIANT_ADD(validate, xstate_mxcsr) {
	.type = CR_HDR_XSTATE, .err = EOPNOTSUPP,
	.edit = { { XAREA(XA_MXCSR), 4, XOR, 1U << 31 } },
};

/* Address space */
FIXTURE_VARIANT_ADD(validate, mm_start_code_kernel) {
	.type = CR_HDR_MM, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_mm, start_code), 8, SET, KADDR } },
};

FIXTURE_VARIANT_ADD(validate, mm_env_end_kernel) {
	.type = CR_HDR_MM, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_mm, env_end), 8, SET, KADDR } },
};

FIXTURE_VARIANT_ADD(validate, mm_code_order) {
	.type = CR_HDR_MM, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_mm, end_code), 8, SET, 1 } },
};

FIXTURE_VARIANT_ADD(validate, mm_brk_order) {
	.type = CR_HDR_MM, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_mm, brk), 8, SET, 0 } },
};

FIXTURE_VARIANT_ADD(validate, mm_nr_vmas_zero) {
	.type = CR_HDR_MM, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_mm, nr_vmas), 4, SET, 0 } },
};

FIXTURE_VARIANT_ADD(validate, mm_nr_vmas_huge) {
	.type = CR_HDR_MM, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_mm, nr_vmas), 4, SET, 0xffffffff } },
};

/* Refused before room for the areas is taken, not when the records end */
FIXTURE_VARIANT_ADD(validate, mm_nr_vmas_beyond_image) {
	.type = CR_HDR_MM, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_mm, nr_vmas), 4, SET, 65536 } },
	.msg = "too short for its memory areas",
};

FIXTURE_VARIANT_ADD(validate, mm_nr_vmas_one_more) {
	.type = CR_HDR_MM, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_mm, nr_vmas), 4, ADD, 1 } },
};

FIXTURE_VARIANT_ADD(validate, mm_vdso_address) {
	.type = CR_HDR_MM, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_mm, vdso), 8, ADD, 4096 } },
};

FIXTURE_VARIANT_ADD(validate, mm_auxv_after_null) {
	.type = CR_HDR_MM, .err = EINVAL,
	.edit = { { AUXV(CR_AUXV_WORDS - 1), 8, SET, 1 } },
};

/* Executable */
FIXTURE_VARIANT_ADD(validate, exe_relative) {
	.type = CR_HDR_EXE, .err = EINVAL,
	.edit = { { sizeof(struct cr_hdr), 1, SET, 'x' } },
};

FIXTURE_VARIANT_ADD(validate, exe_missing) {
	.type = CR_HDR_EXE, .err = ENOENT,
	.edit = { { LAST_BYTE, 1, SET, '~' } },
};

/* Memory areas */
FIXTURE_VARIANT_ADD(validate, vma_reserved) {
	.type = CR_HDR_VMA, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, reserved), 4, SET, 1 } },
};

FIXTURE_VARIANT_ADD(validate, vma_start_unaligned) {
	.type = CR_HDR_VMA, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, start), 8, ADD, 1 } },
};

FIXTURE_VARIANT_ADD(validate, vma_end_unaligned) {
	.type = CR_HDR_VMA, .nth = 2, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, end), 8, ADD, 1 } },
};

FIXTURE_VARIANT_ADD(validate, vma_empty) {
	.type = CR_HDR_VMA, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, start), 8, SET, 0x7ffffffff000ULL } },
};

FIXTURE_VARIANT_ADD(validate, vma_overlap) {
	.type = CR_HDR_VMA, .nth = 1, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, start), 8, SET, 0x1000 } },
};

FIXTURE_VARIANT_ADD(validate, vma_beyond_task_size) {
	.type = CR_HDR_VMA, .err = EOPNOTSUPP,
	.edit = { { FIELD(cr_hdr_vma, end), 8, SET, HIGH_END } },
};

FIXTURE_VARIANT_ADD(validate, vma_unknown_prot) {
	.type = CR_HDR_VMA, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, prot), 4, XOR, 8 } },
};

FIXTURE_VARIANT_ADD(validate, vma_unknown_kind) {
	.type = CR_HDR_VMA, .pick = VMA_ANON, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, kind), 4, SET, 99 } },
};

FIXTURE_VARIANT_ADD(validate, vma_anon_pgoff) {
	.type = CR_HDR_VMA, .pick = VMA_ANON, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, pgoff), 8, SET, 1 } },
};

FIXTURE_VARIANT_ADD(validate, vma_anon_file_size) {
	.type = CR_HDR_VMA, .pick = VMA_ANON, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, file_size), 8, SET, 4096 } },
};

FIXTURE_VARIANT_ADD(validate, vma_file_growsdown) {
	.type = CR_HDR_VMA, .pick = VMA_MINE, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, flags), 4, XOR, CR_VMA_GROWSDOWN } },
};

FIXTURE_VARIANT_ADD(validate, vma_file_pgoff_huge) {
	.type = CR_HDR_VMA, .pick = VMA_MINE, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, pgoff), 8, SET, 1ULL << 62 } },
};

FIXTURE_VARIANT_ADD(validate, vma_file_size_changed) {
	.type = CR_HDR_VMA, .pick = VMA_MINE, .err = ESTALE,
	.edit = { { FIELD(cr_hdr_vma, file_size), 8, ADD, 1 } },
};

FIXTURE_VARIANT_ADD(validate, vma_vdso_prot) {
	.type = CR_HDR_VMA, .pick = VMA_VDSO, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, prot), 4, XOR, PROT_WRITE } },
};

FIXTURE_VARIANT_ADD(validate, vma_vdso_flags) {
	.type = CR_HDR_VMA, .pick = VMA_VDSO, .err = EINVAL,
	.edit = { { FIELD(cr_hdr_vma, flags), 4, XOR, CR_VMA_DONTDUMP } },
};

FIXTURE_VARIANT_ADD(validate, vma_two_vdso) {
	.type = CR_HDR_VMA, .pick = VMA_ANON, .err = EINVAL,
	.edit = {
		{ FIELD(cr_hdr_vma, kind), 4, SET, CR_VMA_VDSO },
		{ FIELD(cr_hdr_vma, prot), 4, SET, PROT_READ | PROT_EXEC },
		{ FIELD(cr_hdr_vma, flags), 4, SET, 0 },
	},
};

/* Paths of mapped files */
FIXTURE_VARIANT_ADD(validate, vma_path_relative) {
	.type = CR_HDR_VMA_PATH, .pick = PATH_MINE, .err = EINVAL,
	.edit = { { sizeof(struct cr_hdr), 1, SET, 'x' } },
};

FIXTURE_VARIANT_ADD(validate, vma_path_directory) {
	.type = CR_HDR_VMA_PATH, .pick = PATH_MINE, .err = EINVAL,
	.edit = { { LAST_BYTE, 1, SET, '1' } },
};

FIXTURE_VARIANT_ADD(validate, vma_path_missing) {
	.type = CR_HDR_VMA_PATH, .pick = PATH_MINE, .err = ENOENT,
	.edit = { { LAST_BYTE, 1, SET, '2' } },
};

/* The last byte of the path becomes padding, which must be zero */
FIXTURE_VARIANT_ADD(validate, vma_path_padding) {
	.type = CR_HDR_VMA_PATH, .pick = PATH_MINE, .err = EINVAL,
	.edit = { { FIELD(cr_hdr, len), 4, ADD, -1 } },
};

/* Pages and tail: checked ahead in a file, after the PONR from a pipe */
FIXTURE_VARIANT_ADD(validate, pages_reserved) {
	.type = CR_HDR_PAGES, .err = EINVAL, .late = true,
	.edit = { { FIELD(cr_hdr_pages, reserved), 4, SET, 1 } },
};

FIXTURE_VARIANT_ADD(validate, pages_nr_zero) {
	.type = CR_HDR_PAGES, .err = EINVAL, .late = true,
	.edit = { { FIELD(cr_hdr_pages, nr_pages), 4, SET, 0 } },
};

FIXTURE_VARIANT_ADD(validate, pages_nr_above_len) {
	.type = CR_HDR_PAGES, .err = EINVAL, .late = true,
	.edit = { { FIELD(cr_hdr_pages, nr_pages), 4, ADD, 1 } },
};

FIXTURE_VARIANT_ADD(validate, pages_address_unaligned) {
	.type = CR_HDR_PAGES, .err = EINVAL, .late = true,
	.edit = { { PAGE_ADDR0, 8, ADD, 1 } },
};

FIXTURE_VARIANT_ADD(validate, pages_address_unmapped) {
	.type = CR_HDR_PAGES, .err = EINVAL, .late = true,
	.edit = { { PAGE_ADDR0, 8, SET, 0x1000 } },
};

/* The file has 2 pages: its private page is now its third, past its end */
FIXTURE_VARIANT_ADD(validate, pages_beyond_file_end) {
	.type = CR_HDR_VMA, .pick = VMA_MINE, .err = EINVAL, .late = true,
	.edit = { { FIELD(cr_hdr_vma, pgoff), 8, SET, 2 } },
};

/* The last page of the last pages record cut: the record runs past the end */
FIXTURE_VARIANT_ADD(validate, pages_data_cut) {
	.type = CR_HDR_PAGES, .err = EINVAL, .late = true,
	.special = CUT_PAGE,
};

/* After the pages, a record that is neither pages nor the tail */
FIXTURE_VARIANT_ADD(validate, pages_then_wrong_record) {
	.type = CR_HDR_PAGES, .err = EINVAL, .late = true,
	.edit = { { FIELD(cr_hdr, type), 4, SET, CR_HDR_SHMEM_PAGES } },
};

FIXTURE_VARIANT_ADD(validate, tail_nr_records) {
	.type = CR_HDR_TAIL, .err = EINVAL, .late = true,
	.edit = { { FIELD(cr_hdr_tail, nr_records), 8, ADD, 1 } },
};

FIXTURE_VARIANT_ADD(validate, tail_magic) {
	.type = CR_HDR_TAIL, .err = EINVAL, .late = true,
	.edit = { { FIELD(cr_hdr_tail, magic), 4, XOR, 1 } },
};

/* Data after the tail: a second tail, describing the image up to it */
FIXTURE_VARIANT_ADD(validate, tail_then_data) {
	.type = CR_HDR_TAIL, .err = EINVAL, .late = true,
	.special = EXTRA_TAIL,
};

/* A byte of a page changed, the checksum not: found only after the PONR */
FIXTURE_VARIANT_ADD(validate, pages_data_checksum) {
	.type = CR_HDR_PAGES, .err = KILLED, .special = STALE_CSUM,
	.edit = { { LAST_BYTE, 1, XOR, 0xff } },
};

/*
 * Append to the image of @len bytes in @buf a copy of its tail that
 * describes all before it, as restart looks for at the end of a file.
 * Returns the new length.
 */
static size_t add_tail(unsigned char *buf, size_t len)
{
	struct cr_hdr_tail t;

	memcpy(&t, buf + len - sizeof(t), sizeof(t));
	t.length = len;
	t.nr_records++;
	t.csum = crc32_zlib(buf, len);
	memcpy(buf + len, &t, sizeof(t));
	return len + sizeof(t);
}

TEST_F_TIMEOUT(validate, restart, TEST_TIMEOUT)
{
	static unsigned char buf[16 << 20];
	char path[128], dir[sizeof(self->d.dir)];
	int i;
	ssize_t len;
	long off;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s", self->d.dir);
	checkpoint_child(_metadata, &self->d, val_body, dir);
	len = pread(self->d.imgfd, buf, sizeof(buf), 0);
	ASSERT_LT(0, len);
	ASSERT_GT((ssize_t)sizeof(buf), len);
	off = find_rec(buf, len, variant->type, variant->nth, variant->pick);
	ASSERT_LE(0, off)
		TH_LOG("no record of type %u (pick %d, nth %d) in the image",
		       variant->type, variant->pick, variant->nth);
	for (i = 0; i < (int)ARRAY_SIZE(variant->edit) && variant->edit[i].size;
	     i++)
		apply(buf + off, &variant->edit[i]);
	if (variant->special == CUT_PAGE)
		len = cut_last_page(_metadata, buf, len);
	else if (variant->special != STALE_CSUM)
		cr_reseal(buf, len);
	if (variant->special == EXTRA_TAIL)
		len = add_tail(buf, len);
	cr_path(&self->d, "edited", path, sizeof(path));
	ASSERT_EQ(0, write_file(path, buf, len));

	pid = spawn_restarter_fn(_metadata, path, 0, NULL, errno_restarter,
				 (void *)variant->msg);
	if (!variant->err) {
		expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
		if (!variant->late)
			return;
		pid = spawn_restarter_fn(_metadata, path, 0, NULL,
					 pipe_restarter, NULL);
		expect_exit(_metadata, pid, EXIT_RESTARTED,
			    "process restarted from a pipe");
		return;
	}
	if (variant->err != KILLED) {
		expect_exit(_metadata, pid, variant->err, "restarter");
		if (!variant->late)
			return;
		/* A pipe cannot be looked ahead in */
		pid = spawn_restarter_fn(_metadata, path, 0, NULL,
					 pipe_restarter, NULL);
	}
	expect_killed(_metadata, pid);
}

TEST_HARNESS_MAIN
