// SPDX-License-Identifier: GPL-2.0
/*
 * crfuzz: feed mutated checkpoint images to restart(2).
 *
 * At start it makes its seeds: valid images of small programs that are
 * functions of this one (a process with open files and file mappings, one
 * with signal handlers, pending and queued signals and interval timers, one
 * with shared and locked memory, one checkpointed while in nanosleep, one
 * of an unprivileged user, an image without a task) and images of
 * process trees (CR_CHECKPOINT_TREE of stopped tasks: a parent with
 * children and a grandchild in their own session and process group, a
 * process of three threads, one in a futex wait, a parent with a pipe
 * holding data to a child, a file they share and a zombie).  Each seed
 * program checkpoints itself (or is checkpointed stopped) and, once
 * restored, exits at once with status EXIT_RESTORED; the tasks of a tree
 * see they were restored by the file "restored" of the work directory,
 * made once all the seeds are, check what they share and exit.
 *
 * Each iteration takes a seed, applies a few mutations - bit flips, byte
 * sets, truncation, records dropped, duplicated, swapped or spliced in
 * from other seeds, and record-aware edits of the header and of every
 * u32/u64 field of a record body (0, all ones, maximum, off by one, page
 * and address boundaries, values of other fields), and edits aware of
 * the records of trees (each field of the tree, process, pipe and zombie
 * records and the object id of a file: 0, maximum, negative, off by one,
 * the pid of another task, the id of another object; process records
 * dropped, duplicated or swapped with the count of tasks kept right; the
 * tree flag of the header) - then recomputes the
 * checksum, length and record count of the tail (most of the time: some
 * images keep a stale tail to exercise the checksum check), and gives the
 * image to restart(2) in a forked child.  The kernel has no backdoor: the
 * re-sealing is done here.  An image whose header has CR_CHECKPOINT_TREE
 * is restarted with CR_RESTART_TREE (sometimes with CR_RESTART_NEW_PIDS;
 * one in 32 with the wrong flags on purpose) by a child that is the init
 * of a pid namespace of its own: it waits for the root restart(2)
 * returned, then kills every task of the namespace and reaps them; a
 * refused tree restart must have left no task behind.
 *
 * The parent records what became of the child (errno, restored program
 * exited or killed, hang), the kernel's reason (CR_LOGFD) and watches
 * /dev/kmsg for kernel reports.  An image that made the kernel report a
 * problem or hang is saved to the findings directory (-o) or printed in
 * base64.  Iteration I of a run is reproducible from the seeds and -s:
 * the mutations are drawn from a generator seeded with (-s, I).
 *
 * Usage: crfuzz [-n ITER] [-s SEED] [-t TIMEOUT_MS] [-T SECONDS] [-o DIR]
 *               [-w WORKDIR] [-i ITER] [-F FIRST] [-j JOBS] [--tap] [-v]
 *        crfuzz -s SEED -i ITER -e ERRNO
 *        crfuzz -x IMAGE [-e ERRNO] [-f FLAGS]
 *
 * -n images to try, -s seed of the mutations, -t time after which a child
 * not done is a hang (in restart) or a restored program killed, -T stop
 * after that many seconds even if fewer images were tried, -o where to
 * save the images of findings, -w where to make the seeds and their files,
 * -i only iteration ITER (with -o its image is saved), -F start at
 * iteration FIRST (to go on with a run of the same seed), -j that many
 * workers (a kernel report is then blamed on the images of every worker
 * that sees it), --tap kselftest output, -v one line per image.  -e: the
 * image must be refused with that errno (EINVAL...), a regression test.
 * -x restarts the image in the file IMAGE, -f with those flags of restart(2)
 * (by default CR_RESTART_TREE if the header has CR_CHECKPOINT_TREE).
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/checkpoint_hdr.h>
#include <linux/futex.h>

#include "../cr-tools.h"

#define PROG		"crfuzz"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Exit status of a restored seed program */
#define EXIT_RESTORED	222
/* Exit status of a fuzz child whose restart(2) returned (see struct slot) */
#define EXIT_RETURNED	223

#define NOBODY		65534
#define MAX_RECS	8192
#define MAX_SEEDS	16
#define MAX_REASONS	1024
#define MAX_OPS		8
#define TAIL_LEN	((uint32_t)sizeof(struct cr_hdr_tail))

/* An image in memory */
struct image {
	uint8_t *b;
	size_t n;
	size_t cap;
};

/* Where a record is in an image, as its header says */
struct rec {
	size_t off;
	uint32_t type;
	uint32_t len;
};

struct seed {
	const char *name;
	const char *what;
	int (*make)(struct seed *s, const char *path);
	void (*prep)(void);
	struct image img;
	struct rec *recs;
	int nrecs;
	/* crc_blk[i]: the checksum of the first i * CRC_BLOCK bytes */
	uint32_t *crc_blk;
	uint32_t crc_all;	/* of the bytes before the tail */
};

/* What a fuzz child writes before exiting, if restart(2) returned */
struct slot {
	uint64_t iter;
	int64_t ret;
	int32_t err;
	int32_t changed;	/* a refused restart changed the caller */
	/* A tree restart (CR_RESTART_TREE), see tree_after() */
	int32_t root;		/* TREE_* */
	int32_t root_status;	/* wait status of the root */
	int32_t left;		/* tasks a refused restart left behind */
	int32_t unkillable;	/* tasks SIGKILL did not end in time */
	uint64_t us_restart;	/* in restart(2), when it returned */
	uint64_t us_tree;	/* in tree_after() */
};

/* What became of the root of a restored tree */
enum { TREE_NONE, TREE_EXITED, TREE_TIMEOUT, TREE_NOT_CHILD };

static struct {
	uint64_t iters;
	uint64_t seed;
	long timeout_ms;
	const char *outdir;
	const char *workdir;
	int64_t only;
	uint64_t first;
	int64_t flags;
	int jobs;
	long max_secs;
	bool tap;
	bool verbose;
} opt = {
	.jobs = 1,
	.iters = 20000, .seed = 1, .timeout_ms = 5000, .workdir = "/tmp/crfuzz",
	.only = -1, .flags = -1,
};

static struct seed seeds[MAX_SEEDS];
static int nseeds;

#define REASON_LEN	120

/* Results of a worker, in memory its parent reads */
struct stats {
	uint64_t tried;
	uint64_t sealed;
	uint64_t errs[512];
	uint64_t returned0;
	uint64_t restored;
	uint64_t restored_exit[256];
	uint64_t restored_sig[65];
	uint64_t killed_in_restart[65];
	uint64_t late_other;		/* killed for another reason than */
					/* the checksum */
	uint64_t timeout_restored;
	uint64_t hangs;
	uint64_t changed;
	uint64_t reports;
	uint64_t findings;
	uint64_t tree_images;		/* restarted with CR_RESTART_TREE */
	uint64_t tree_wrong_flags;	/* flags not those of the header */
	uint64_t tree_new_pids;
	uint64_t tree_restored;		/* restart(2) returned a root */
	uint64_t tree_timeout;		/* the root still ran, killed */
	uint64_t tree_left;		/* refusals that left tasks */
	uint64_t tree_unkillable;
	uint64_t seed_failures;		/* unmodified seeds not restored */
	uint64_t ops[32];
	uint64_t us_prepare;
	uint64_t us_child;
	uint64_t us_after;
	uint64_t us_fork;		/* forking restarters */
	uint64_t us_restart;		/* in restart(2), when it returned */
	uint64_t us_tree;		/* after a tree restart(2) returned */
	uint64_t us_outcome[8];		/* in the child, by enum outcome */
	uint64_t n_outcome[8];
	int nreasons;
	uint64_t reasons_dropped;
	struct {
		char text[REASON_LEN];
		uint64_t count;
	} reasons[MAX_REASONS];
};

static struct stats *stp;
#define st (*stp)

static struct slot *slot;
static int kmsg_fd = -1;
static int log_rfd = -1, log_wfd = -1;
static char oplog[2048];

static void __printf(1, 2) __noreturn die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);
	static char buf[16];

	if (s)
		return s;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/* Random numbers: splitmix64, one stream per iteration */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint32_t n)
{
	return n ? rnd64() % n : 0;
}

static void rng_seed(uint64_t seed, uint64_t iter)
{
	rng_state = seed * 0x2545f4914f6cdd1dULL ^ iter;
	rnd64();
}

/*
 * zlib's crc32(), the checksum of the tail: crc32_update(0, buf, len) is
 * the checksum of @buf, crc32_update(crc32_update(0, a, n), b, m) that of
 * @a followed by @b.  Slicing by 8: eight bytes a step, one table each.
 */
#define CRC_POLY	0xedb88320U

static uint32_t crc_tab[8][256];

static void crc_init(void)
{
	uint32_t c;
	int i, j;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (CRC_POLY & -(c & 1));
		crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_tab[j][i] = (crc_tab[j - 1][i] >> 8) ^
					crc_tab[0][crc_tab[j - 1][i] & 0xff];
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t len)
{
	uint32_t lo, hi;

	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		lo ^= crc;
		crc = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
		      crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
		      crc_tab[3][hi & 0xff] ^ crc_tab[2][(hi >> 8) & 0xff] ^
		      crc_tab[1][(hi >> 16) & 0xff] ^ crc_tab[0][hi >> 24];
	}
	while (len--)
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* @a times @b modulo the polynomial, bit 31 the coefficient of x^0 */
static uint32_t crc_mult(uint32_t a, uint32_t b)
{
	uint32_t m = 1U << 31, p = 0;

	for (; m && a; m >>= 1) {
		if (a & m) {
			p ^= b;
			a &= ~m;
		}
		b = b & 1 ? (b >> 1) ^ CRC_POLY : b >> 1;
	}
	return p;
}

/* x^(8 * @n) modulo the polynomial: appending @n bytes shifts by that */
static uint32_t crc_shift(size_t n)
{
	uint32_t p = 1U << 31, sq = 1U << 23;	/* 1, and x^8 */

	for (; n; n >>= 1) {
		if (n & 1)
			p = crc_mult(sq, p);
		sq = crc_mult(sq, sq);
	}
	return p;
}

/* The checksum of @a followed by @b, from theirs and the length of @b */
static uint32_t crc32_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b)
{
	return crc_mult(crc_shift(len_b), crc_a) ^ crc_b;
}

/* Images */

static void img_reserve(struct image *im, size_t n)
{
	if (n <= im->cap)
		return;
	im->cap = n + n / 2 + 4096;
	im->b = realloc(im->b, im->cap);
	if (!im->b)
		die("out of memory");
}

static void img_copy(struct image *dst, const struct image *src)
{
	img_reserve(dst, src->n);
	memcpy(dst->b, src->b, src->n);
	dst->n = src->n;
}

/* Replace bytes [at, at + del) of @im by @len bytes of @p */
static void img_splice(struct image *im, size_t at, size_t del,
		       const void *p, size_t len)
{
	img_reserve(im, im->n - del + len);
	memmove(im->b + at + len, im->b + at + del, im->n - at - del);
	if (len)
		memcpy(im->b + at, p, len);
	im->n = im->n - del + len;
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static uint32_t get32(const struct image *im, size_t off)
{
	uint32_t v;

	memcpy(&v, im->b + off, 4);
	return v;
}

static uint64_t get64(const struct image *im, size_t off)
{
	uint64_t v;

	memcpy(&v, im->b + off, 8);
	return v;
}

static void put32(struct image *im, size_t off, uint32_t v)
{
	memcpy(im->b + off, &v, 4);
}

static void put64(struct image *im, size_t off, uint64_t v)
{
	memcpy(im->b + off, &v, 8);
}

/* The records of @im, as far as their headers chain */
static int parse(const struct image *im, struct rec *r, int max)
{
	size_t off = 0;
	int n = 0;

	while (n < max && off + sizeof(struct cr_hdr) <= im->n) {
		r[n].off = off;
		r[n].type = get32(im, off);
		r[n].len = get32(im, off + 4);
		if (r[n].len < sizeof(struct cr_hdr) || r[n].len > im->n - off)
			break;
		off += align8(r[n].len);
		n++;
	}
	return n;
}

/* Whether @im ends with a tail record */
static bool has_tail(const struct image *im)
{
	return im->n >= TAIL_LEN && !(im->n % CR_HDR_ALIGN) &&
	       get32(im, im->n - TAIL_LEN) == CR_HDR_TAIL &&
	       get32(im, im->n - TAIL_LEN + 4) == TAIL_LEN;
}

#define CRC_BLOCK	4096

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* How many of the first @max bytes of @a and @b are the same */
static size_t same_head(const uint8_t *a, const uint8_t *b, size_t max)
{
	size_t n = 0, k;

	for (; n < max; n += k) {
		k = min_size(CRC_BLOCK, max - n);
		if (memcmp(a + n, b + n, k))
			break;
	}
	while (n < max && a[n] == b[n])
		n++;
	return n;
}

/* How many of the @max bytes before @a and before @b are the same */
static size_t same_tail(const uint8_t *a, const uint8_t *b, size_t max)
{
	size_t n = 0, k;

	for (; n < max; n += k) {
		k = min_size(CRC_BLOCK, max - n);
		if (memcmp(a - n - k, b - n - k, k))
			break;
	}
	while (n < max && a[-n - 1] == b[-n - 1])
		n++;
	return n;
}

/* The checksum of the first @n bytes of seed @sd */
static uint32_t seed_crc(const struct seed *sd, size_t n)
{
	size_t b = n / CRC_BLOCK;

	return crc32_update(sd->crc_blk[b], sd->img.b + b * CRC_BLOCK,
			    n - b * CRC_BLOCK);
}

/* Remember the checksums of the blocks of seed @sd, which has a tail */
static void seed_crcs(struct seed *sd)
{
	size_t end = sd->img.n - TAIL_LEN, i;

	sd->crc_blk = malloc((end / CRC_BLOCK + 1) * sizeof(*sd->crc_blk));
	if (!sd->crc_blk)
		die("out of memory");
	sd->crc_blk[0] = 0;
	for (i = 1; i <= end / CRC_BLOCK; i++)
		sd->crc_blk[i] = crc32_update(sd->crc_blk[i - 1],
					      sd->img.b + (i - 1) * CRC_BLOCK,
					      CRC_BLOCK);
	sd->crc_all = seed_crc(sd, end);
}

/*
 * The checksum of the first @end bytes of @im, a mutation of seed @sd:
 * only the bytes between what they have the same at the start and at the
 * end are read, the checksums of the others come from the seed's.
 */
static uint32_t image_crc(const struct image *im, size_t end,
			  const struct seed *sd)
{
	size_t send, head, tail;
	uint32_t crc, pre;

	if (!sd || !sd->crc_blk)
		return crc32_update(0, im->b, end);
	send = sd->img.n - TAIL_LEN;
	head = same_head(im->b, sd->img.b, min_size(end, send));
	tail = same_tail(im->b + end, sd->img.b + send,
			 min_size(end, send) - head);
	crc = crc32_update(seed_crc(sd, head), im->b + head, end - head - tail);
	if (!tail)
		return crc;
	/* The seed's last @tail bytes: all of it less what comes before */
	pre = seed_crc(sd, send - tail);
	return crc32_combine(crc, sd->crc_all ^ crc_mult(crc_shift(tail), pre),
			     tail);
}

/* Make the tail of @im, a mutation of seed @sd, describe what precedes it */
static void seal(struct image *im, const struct seed *sd)
{
	size_t end = im->n - TAIL_LEN, off = 0;
	uint64_t nr = 0;
	uint32_t len;

	while (off < end) {
		len = get32(im, off + 4);
		off += align8(len < 8 ? 8 : len);
		nr++;
	}
	put32(im, end + 12, image_crc(im, end, sd));
	put64(im, end + 16, nr);
	put64(im, end + 24, end);
}

/* The bytes of record @r worth mutating: not the contents of pages */
static uint32_t body_len(const struct image *im, const struct rec *r)
{
	uint32_t len = r->len, nr;

	if ((r->type == CR_HDR_PAGES || r->type == CR_HDR_SHMEM_PAGES) &&
	    len >= sizeof(struct cr_hdr_pages)) {
		nr = get32(im, r->off + 8);
		if (nr > CR_PAGES_MAX)
			nr = CR_PAGES_MAX;
		if (sizeof(struct cr_hdr_pages) + 8ULL * nr + 8 < len)
			len = sizeof(struct cr_hdr_pages) + 8 * nr + 8;
	}
	/* Of a pipe, the fixed part and the first bytes it holds */
	if (r->type == CR_HDR_PIPE && len > sizeof(struct cr_hdr_pipe) + 8)
		len = sizeof(struct cr_hdr_pipe) + 8;
	return len;
}

/* Mutations */

enum {
	OP_BITFLIP, OP_BYTESET, OP_FIELD32, OP_FIELD64, OP_ARITH, OP_COPY,
	OP_HDRLEN, OP_HDRTYPE, OP_TRUNCATE, OP_CUT, OP_DROP, OP_DUP, OP_SWAP,
	OP_SPLICE, OP_REPLACE, OP_TREE, OP_ZERO, NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"bitflip", "byteset", "field32", "field64", "arith", "copy", "hdrlen",
	"hdrtype", "truncate", "cut+tail", "drop", "dup", "swap", "splice",
	"replace", "tree", "zero",
};

/* Weights of the operations, out of their sum */
static const uint8_t op_weight[NR_OPS] = {
	10, 6, 16, 16, 8, 6, 6, 3, 2, 3, 4, 3, 3, 5, 6, 14, 6,
};

static const char *type_name(uint32_t t)
{
	static const char *const names[] = {
		[CR_HDR_HEADER] = "header", [CR_HDR_TAIL] = "tail",
		[CR_HDR_TASK] = "task", [CR_HDR_CREDS] = "creds",
		[CR_HDR_CWD] = "cwd", [CR_HDR_SIGHAND] = "sighand",
		[CR_HDR_CPU] = "cpu", [CR_HDR_XSTATE] = "xstate",
		[CR_HDR_MM] = "mm", [CR_HDR_EXE] = "exe",
		[CR_HDR_VMA] = "vma", [CR_HDR_VMA_PATH] = "vma_path",
		[CR_HDR_PAGES] = "pages", [CR_HDR_FILES] = "files",
		[CR_HDR_FD] = "fd", [CR_HDR_FILE] = "file",
		[CR_HDR_FILE_PATH] = "file_path", [CR_HDR_SIGNAL] = "signal",
		[CR_HDR_SIGINFO] = "siginfo",
		[CR_HDR_RESTART_BLOCK] = "restart_block",
		[CR_HDR_SHMEM] = "shmem", [CR_HDR_SHMEM_PAGES] = "shmem_pages",
		[CR_HDR_ROOT] = "root", [CR_HDR_TREE] = "tree",
		[CR_HDR_PROC] = "proc", [CR_HDR_PIPE] = "pipe",
		[CR_HDR_ZOMBIE] = "zombie", [CR_HDR_UTS] = "uts",
		[CR_HDR_SHARES] = "shares", [CR_HDR_SHARE] = "share",
		[CR_HDR_COW_PAGES] = "cow_pages",
	};

	if (t < ARRAY_SIZE(names) && names[t])
		return names[t];
	return "?";
}

#define NR_TYPES	(CR_HDR_COW_PAGES + 1)

static void __printf(1, 2) note(const char *fmt, ...)
{
	size_t n = strlen(oplog);
	va_list ap;

	if (n + 2 >= sizeof(oplog))
		return;
	if (n)
		oplog[n++] = ';', oplog[n++] = ' ', oplog[n] = 0;
	va_start(ap, fmt);
	vsnprintf(oplog + n, sizeof(oplog) - n, fmt, ap);
	va_end(ap);
}

/* A value of another field of @im */
static uint64_t other_field(const struct image *im, const struct rec *r,
			    int nr, int width)
{
	const struct rec *o = &r[rnd(nr)];
	uint32_t len = body_len(im, o);

	if (len < 8 + (uint32_t)width)
		return 0;
	if (width == 8)
		return get64(im, o->off + 8 + 8 * rnd((len - 8) / 8));
	return get32(im, o->off + 8 + 4 * rnd((len - 8) / 4));
}

static uint64_t interesting64(uint64_t old, const struct image *im,
			      const struct rec *r, int nr)
{
	switch (rnd(20)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return ~0ULL;
	case 3:
		return old + 1;
	case 4:
		return old - 1;
	case 5:
		return 0x7fffffffffffffffULL;
	case 6:
		return 0x8000000000000000ULL;
	case 7:
		return 0xffffffffULL;
	case 8:
		return 0x100000000ULL;
	case 9:
		return old + 4096;
	case 10:
		return old - 4096;
	case 11:
		return old ^ (1ULL << rnd(64));
	case 12:
		return 0x00007ffffffff000ULL;
	case 13:
		return 0x0000800000000000ULL;
	case 14:
		return 0xffff800000000000ULL;
	case 15:
	case 16:
		return other_field(im, r, nr, 8);
	case 17:
		return old * 2;
	case 18:
		return (uint64_t)rnd(1 << 20) * 4096;
	default:
		return rnd(130) - 2;
	}
}

static uint32_t interesting32(uint32_t old, const struct image *im,
			      const struct rec *r, int nr)
{
	static const uint32_t vals[] = {
		0, 1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 65, 255, 256, 257,
		1023, 1024, 4095, 4096, 4097, 65535, 65536, 0x7fffffff,
		0x80000000, 0xfffffffe, 0xffffffff,
	};

	switch (rnd(8)) {
	case 0:
		return old + 1;
	case 1:
		return old - 1;
	case 2:
		return old ^ (1U << rnd(32));
	case 3:
		return other_field(im, r, nr, 4);
	case 4:
		return rnd(70);
	default:
		return vals[rnd(ARRAY_SIZE(vals))];
	}
}

static struct rec recs[MAX_RECS];

/* A record of @im, the header and tail less often */
static const struct rec *pick_rec(const struct image *im, int nr)
{
	(void)im;
	return &recs[rnd(nr)];
}

static void mut_bytes(struct image *im, int nr, int op)
{
	static const uint8_t bytes[] = { 0, 1, 0x7f, 0x80, 0xfe, 0xff, 8, 16 };
	const struct rec *r = pick_rec(im, nr);
	uint32_t len = body_len(im, r), at = rnd(len);

	if (op == OP_BITFLIP) {
		int bit = rnd(8);

		im->b[r->off + at] ^= 1 << bit;
		note("bitflip %s@%zu+%u bit %d", type_name(r->type), r->off,
		     at, bit);
	} else {
		uint8_t v = rnd(2) ? bytes[rnd(sizeof(bytes))] : rnd(256);

		im->b[r->off + at] = v;
		note("byteset %s@%zu+%u=%#x", type_name(r->type), r->off, at, v);
	}
}

static void mut_field(struct image *im, int nr, int op)
{
	const struct rec *r = pick_rec(im, nr);
	uint32_t len = body_len(im, r), at;

	if (op == OP_FIELD64 || (op == OP_ARITH && rnd(2))) {
		uint64_t old, v;

		if (len < 16)
			return;
		at = 8 + 8 * rnd((len - 8) / 8);
		old = get64(im, r->off + at);
		if (op == OP_ARITH)
			v = old + (rnd(2) ? 1 : -1) *
				(rnd(2) ? (uint64_t)rnd(17) : 4096ULL * rnd(4));
		else
			v = interesting64(old, im, recs, nr);
		put64(im, r->off + at, v);
		note("%s %s@%zu+%u u64 %#llx->%#llx", op_names[op],
		     type_name(r->type), r->off, at, (unsigned long long)old,
		     (unsigned long long)v);
	} else {
		uint32_t old, v;

		if (len < 12)
			return;
		at = 8 + 4 * rnd((len - 8) / 4);
		old = get32(im, r->off + at);
		if (op == OP_ARITH)
			v = old + (rnd(2) ? 1 : -1) * rnd(17);
		else
			v = interesting32(old, im, recs, nr);
		put32(im, r->off + at, v);
		note("%s %s@%zu+%u u32 %#x->%#x", op_names[op],
		     type_name(r->type), r->off, at, old, v);
	}
}

/*
 * Zero the fields of a record, most often but for one u32 set to a small
 * value: a kind, type or count with nothing else, which checks that look
 * at one field at a time can let through
 */
static void mut_zero(struct image *im, int nr)
{
	const struct rec *r = pick_rec(im, nr);
	uint32_t len = body_len(im, r), at = 0, v = 0;

	if (len < 12)
		return;
	memset(im->b + r->off + 8, 0, len - 8);
	if (rnd(4)) {
		at = 8 + 4 * rnd((len - 8) / 4);
		v = 1 + rnd(8);
		put32(im, r->off + at, v);
	}
	note("zero %s@%zu but +%u=%u", type_name(r->type), r->off, at, v);
}

/* Copy a field of one record to another place */
static void mut_copy(struct image *im, int nr)
{
	const struct rec *a = pick_rec(im, nr), *b = pick_rec(im, nr);
	uint32_t la = body_len(im, a), lb = body_len(im, b), from, to;

	if (la < 16 || lb < 16)
		return;
	from = 8 + 8 * rnd((la - 8) / 8);
	to = 8 + 8 * rnd((lb - 8) / 8);
	memcpy(im->b + b->off + to, im->b + a->off + from, 8);
	note("copy %s@%zu+%u -> %s@%zu+%u", type_name(a->type), a->off, from,
	     type_name(b->type), b->off, to);
}

static void mut_hdr(struct image *im, int nr, int op)
{
	const struct rec *r = pick_rec(im, nr);
	uint32_t v;

	if (op == OP_HDRTYPE) {
		if (rnd(4))
			v = rnd(NR_TYPES + 2);
		else
			v = interesting32(r->type, im, recs, nr);
		put32(im, r->off, v);
		note("hdrtype %s@%zu -> %u", type_name(r->type), r->off, v);
		return;
	}
	switch (rnd(10)) {
	case 0:
		v = 0;
		break;
	case 1:
		v = 8;
		break;
	case 2:
		v = ~0U;
		break;
	case 3:
		v = r->len + 8;
		break;
	case 4:
		v = r->len - 8;
		break;
	case 5:
		v = r->len + 4096;
		break;
	case 6:
		v = r->len + 1;
		break;
	case 7:
		v = r->len - 1;
		break;
	default:
		v = interesting32(r->len, im, recs, nr);
		break;
	}
	put32(im, r->off + 4, v);
	note("hdrlen %s@%zu %u -> %u", type_name(r->type), r->off, r->len, v);
}

/* Structural mutations keep the first record and the tail in place */
static bool mut_struct(struct image *im, int nr, int op, bool *cut)
{
	const struct seed *d;
	const struct rec *r, *r2;
	size_t len, len2, at;
	uint8_t *tmp;
	int i, j;

	if (nr < 3 || !has_tail(im) || recs[nr - 1].off != im->n - TAIL_LEN)
		return false;
	i = 1 + rnd(nr - 2);
	r = &recs[i];
	len = align8(r->len);
	switch (op) {
	case OP_TRUNCATE:
		at = rnd(im->n);
		if (rnd(2))
			at = recs[rnd(nr)].off + rnd(2) * rnd(16);
		im->n = at;
		*cut = true;
		note("truncate at %zu", at);
		return true;
	case OP_CUT:
		img_splice(im, r->off, im->n - TAIL_LEN - r->off, NULL, 0);
		note("cut before %s@%zu, tail kept", type_name(r->type), r->off);
		return true;
	case OP_DROP:
		img_splice(im, r->off, len, NULL, 0);
		note("drop %s@%zu", type_name(r->type), r->off);
		return true;
	case OP_DUP:
		tmp = malloc(len);
		memcpy(tmp, im->b + r->off, len);
		img_splice(im, r->off, 0, tmp, len);
		free(tmp);
		note("dup %s@%zu", type_name(r->type), r->off);
		return true;
	case OP_SWAP:
		if (i + 1 >= nr - 1)
			return false;
		r2 = &recs[i + 1];
		len2 = align8(r2->len);
		tmp = malloc(len + len2);
		memcpy(tmp, im->b + r2->off, len2);
		memcpy(tmp + len2, im->b + r->off, len);
		memcpy(im->b + r->off, tmp, len + len2);
		free(tmp);
		note("swap %s@%zu with %s", type_name(r->type), r->off,
		     type_name(r2->type));
		return true;
	}
	/* A record of another seed, inserted or in place of one of its type */
	d = &seeds[rnd(nseeds)];
	if (d->nrecs < 3)
		return false;
	j = 1 + rnd(d->nrecs - 2);
	if (op == OP_REPLACE) {
		int k, n = 0;

		for (k = 1; k < d->nrecs - 1; k++)
			if (d->recs[k].type == r->type && !rnd(++n))
				j = k;
		if (!n)
			return false;
	}
	r2 = &d->recs[j];
	len2 = align8(r2->len);
	if (r2->off + len2 > d->img.n)
		return false;
	tmp = malloc(len2);
	memcpy(tmp, d->img.b + r2->off, len2);
	img_splice(im, r->off, op == OP_REPLACE ? len : 0, tmp, len2);
	free(tmp);
	note("%s %s@%zu of seed %s %s %s@%zu", op_names[op],
	     type_name(r2->type), r2->off, d->name,
	     op == OP_REPLACE ? "for" : "before", type_name(r->type), r->off);
	return true;
}

/* Record-aware edits of the records of trees */

enum {
	TF_COUNT, TF_PID, TF_SIG, TF_OBJ, TF_SIZE, TF_CODE, TF_KIND, TF_RSVD,
	TF_FLAGS, TF_STR,
};

/* The fields of the records of trees, and the object id of a file */
static const struct tfield {
	uint32_t type;
	uint8_t off;
	uint8_t kind;
	const char *name;
} tfields[] = {
#define TF(t, s, f, k) { t, offsetof(struct s, f), k, #f }
	TF(CR_HDR_TREE, cr_hdr_tree, nr_tasks, TF_COUNT),
	TF(CR_HDR_TREE, cr_hdr_tree, flags, TF_FLAGS),
	TF(CR_HDR_PROC, cr_hdr_proc, pid, TF_PID),
	TF(CR_HDR_PROC, cr_hdr_proc, ppid, TF_PID),
	TF(CR_HDR_PROC, cr_hdr_proc, pgid, TF_PID),
	TF(CR_HDR_PROC, cr_hdr_proc, sid, TF_PID),
	TF(CR_HDR_PROC, cr_hdr_proc, exit_signal, TF_SIG),
	TF(CR_HDR_PROC, cr_hdr_proc, tgid, TF_PID),
	TF(CR_HDR_PIPE, cr_hdr_pipe, obj, TF_OBJ),
	TF(CR_HDR_PIPE, cr_hdr_pipe, size, TF_SIZE),
	TF(CR_HDR_PIPE, cr_hdr_pipe, nr_bytes, TF_SIZE),
	TF(CR_HDR_PIPE, cr_hdr_pipe, reserved, TF_RSVD),
	TF(CR_HDR_ZOMBIE, cr_hdr_zombie, exit_code, TF_CODE),
	TF(CR_HDR_ZOMBIE, cr_hdr_zombie, reserved, TF_RSVD),
	TF(CR_HDR_FILE, cr_hdr_file, kind, TF_KIND),
	TF(CR_HDR_FILE, cr_hdr_file, obj, TF_OBJ),
	TF(CR_HDR_SHMEM, cr_hdr_shmem, obj, TF_OBJ),
	TF(CR_HDR_FILE, cr_hdr_file, reserved, TF_RSVD),
	TF(CR_HDR_UTS, cr_hdr_uts, nodename[CR_UTS_LEN - 4], TF_STR),
	TF(CR_HDR_UTS, cr_hdr_uts, domainname[CR_UTS_LEN - 4], TF_STR),
	TF(CR_HDR_UTS, cr_hdr_uts, pad[2], TF_RSVD),
	TF(CR_HDR_SHARES, cr_hdr_shares, nr, TF_COUNT),
	TF(CR_HDR_SHARES, cr_hdr_shares, reserved, TF_RSVD),
	TF(CR_HDR_SHARE, cr_hdr_share, pid, TF_PID),
	TF(CR_HDR_SHARE, cr_hdr_share, flags, TF_FLAGS),
#undef TF
};

static bool tree_rec(uint32_t type)
{
	return type == CR_HDR_TREE || type == CR_HDR_PROC ||
	       type == CR_HDR_PIPE || type == CR_HDR_ZOMBIE ||
	       type == CR_HDR_FILE || type == CR_HDR_UTS ||
	       type == CR_HDR_SHARES || type == CR_HDR_SHARE;
}

/* The record length a field of @t needs */
static uint32_t tree_rec_len(uint32_t t)
{
	switch (t) {
	case CR_HDR_TREE:
		return sizeof(struct cr_hdr_tree);
	case CR_HDR_PROC:
		return sizeof(struct cr_hdr_proc);
	case CR_HDR_PIPE:
		return sizeof(struct cr_hdr_pipe);
	case CR_HDR_ZOMBIE:
		return sizeof(struct cr_hdr_zombie);
	case CR_HDR_UTS:
		return sizeof(struct cr_hdr_uts);
	case CR_HDR_SHARES:
		return sizeof(struct cr_hdr_shares);
	case CR_HDR_SHARE:
		return sizeof(struct cr_hdr_share);
	default:
		return sizeof(struct cr_hdr_file);
	}
}

/* A value of one of the fields of kind @kind of @im (a pid, an object) */
static uint32_t pool_value(const struct image *im, int nr, int kind)
{
	uint32_t vals[64];
	int n = 0, i;
	size_t k;

	for (i = 0; i < nr && n < (int)ARRAY_SIZE(vals); i++) {
		if (recs[i].len < tree_rec_len(recs[i].type) ||
		    !tree_rec(recs[i].type))
			continue;
		for (k = 0; k < ARRAY_SIZE(tfields) && n < (int)ARRAY_SIZE(vals); k++)
			if (tfields[k].type == recs[i].type &&
			    tfields[k].kind == kind)
				vals[n++] = get32(im, recs[i].off + tfields[k].off);
	}
	return n ? vals[rnd(n)] : 0;
}

static uint32_t tree_value(uint32_t old, int kind, const struct image *im,
			   int nr)
{
	static const uint32_t sizes[] = {
		0, 1, 4095, 4096, 4097, 65536, CR_PIPE_MAX_SIZE,
		CR_PIPE_MAX_SIZE + 1, 1U << 20,
	};
	static const uint32_t codes[] = {
		0, 9, 0x7f, 0x80 | 11, 0xff00, 0x137f, 0xffff, 0x10000,
		0x700, 0x80000000,
	};

	switch (rnd(14)) {
	case 0:
		return 0;
	case 1:
		return ~0U;
	case 2:
		return 0x7fffffff;
	case 3:
		return 0x80000000;
	case 4:
		return old + 1;
	case 5:
		return old - 1;
	case 6:
	case 7:
		/* The same kind of value elsewhere: another pid, object */
		return pool_value(im, nr, kind);
	case 8:
		return pool_value(im, nr, kind == TF_PID ? TF_OBJ : TF_PID);
	}
	switch (kind) {
	case TF_COUNT:
		return rnd(2) ? CR_TREE_MAX_TASKS + rnd(2) : old + rnd(3) - 1;
	case TF_PID:
		return rnd(2) ? 1 + rnd(3) : rnd(2) ? 4194304U : 0U - old;
	case TF_SIG:
		return rnd(2) ? 64 + rnd(2) : rnd(2) ? SIGCHLD : rnd(70);
	case TF_OBJ:
		return rnd(2) ? 1 + rnd(8) : old + 2;
	case TF_SIZE:
		return sizes[rnd(ARRAY_SIZE(sizes))];
	case TF_CODE:
		return codes[rnd(ARRAY_SIZE(codes))];
	case TF_KIND:
		return rnd(2) ? rnd(CR_FILE_FIFO + 2) :
		       rnd(2) ? CR_FILE_OBJ : rnd(2) ? CR_FILE_PIPE : CR_FILE_FIFO;
	case TF_FLAGS:
		/* Of the tree (CR_TREE_*) or of a share record (CR_SHARE_*) */
		return rnd(2) ? rnd(32) : old ^ (1U << rnd(32));
	case TF_STR:
		/* The last bytes of a name: its NUL gone, a slash, a dot */
		return rnd(2) ? 0x61616161 : rnd(2) ? 0x2f : 0x2e2e2f;
	default:
		return 1U << rnd(32);
	}
}

/* The tree record of @im and its number of tasks, by process records */
static const struct rec *tree_of(const struct image *im, int nr)
{
	int i;

	(void)im;
	for (i = 0; i < nr; i++)
		if (recs[i].type == CR_HDR_TREE &&
		    recs[i].len >= sizeof(struct cr_hdr_tree))
			return &recs[i];
	return NULL;
}

/* Drop, duplicate or swap process records; the count follows */
static bool mut_procs(struct image *im, int nr)
{
	const struct rec *t = tree_of(im, nr);
	int procs[64], n = 0, i, a, b;
	size_t cnt, len;
	uint8_t tmp[64];

	for (i = 0; i < nr && n < (int)ARRAY_SIZE(procs); i++)
		if (recs[i].type == CR_HDR_PROC &&
		    recs[i].len == sizeof(struct cr_hdr_proc))
			procs[n++] = i;
	if (!t || !n)
		return false;
	cnt = t->off + offsetof(struct cr_hdr_tree, nr_tasks);
	a = procs[rnd(n)];
	len = align8(recs[a].len);
	switch (rnd(3)) {
	case 0:
		put32(im, cnt, get32(im, cnt) - 1);
		img_splice(im, recs[a].off, len, NULL, 0);
		note("tree: drop proc@%zu, nr_tasks - 1", recs[a].off);
		return true;
	case 1:
		memcpy(tmp, im->b + recs[a].off, len);
		put32(im, cnt, get32(im, cnt) + 1);
		img_splice(im, recs[procs[rnd(n)]].off, 0, tmp, len);
		note("tree: dup proc@%zu, nr_tasks + 1", recs[a].off);
		return true;
	default:
		b = procs[rnd(n)];
		memcpy(tmp, im->b + recs[a].off, len);
		memcpy(im->b + recs[a].off, im->b + recs[b].off, len);
		memcpy(im->b + recs[b].off, tmp, len);
		note("tree: swap proc@%zu and proc@%zu", recs[a].off,
		     recs[b].off);
		return true;
	}
}

static void mut_tree(struct image *im, int nr)
{
	const struct rec *cand[MAX_RECS / 4], *r;
	const struct tfield *f[8];
	int n = 0, nf = 0, i;
	size_t k, at;
	uint32_t old, v;

	if (!rnd(8) && im->n >= sizeof(struct cr_hdr_header)) {
		at = offsetof(struct cr_hdr_header, flags);
		put32(im, at, get32(im, at) ^ CR_CHECKPOINT_TREE);
		note("tree: header flags ^ CR_CHECKPOINT_TREE");
		return;
	}
	if (!rnd(5) && mut_procs(im, nr))
		return;
	for (i = 0; i < nr && n < (int)ARRAY_SIZE(cand); i++)
		if (tree_rec(recs[i].type) &&
		    recs[i].len >= tree_rec_len(recs[i].type))
			cand[n++] = &recs[i];
	if (!n) {
		mut_field(im, nr, OP_FIELD32);
		return;
	}
	r = cand[rnd(n)];
	for (k = 0; k < ARRAY_SIZE(tfields); k++)
		if (tfields[k].type == r->type)
			f[nf++] = &tfields[k];
	k = rnd(nf);
	at = r->off + f[k]->off;
	old = get32(im, at);
	v = tree_value(old, f[k]->kind, im, nr);
	put32(im, at, v);
	note("tree: %s@%zu %s %#x -> %#x", type_name(r->type), r->off,
	     f[k]->name, old, v);
}

static int pick_op(void)
{
	static int sum;
	int i, x;

	if (!sum)
		for (i = 0; i < NR_OPS; i++)
			sum += op_weight[i];
	x = rnd(sum);
	for (i = 0; x >= op_weight[i]; i++)
		x -= op_weight[i];
	return i;
}

/* Mutate @im, drawn from iteration @iter; whether it was sealed */
static bool mutate(struct image *im, uint64_t iter, const struct seed *sd)
{
	int nops, i, op, nr;
	bool cut = false;

	rng_seed(opt.seed, iter);
	oplog[0] = 0;
	nops = 1 + (rnd(2) ? 0 : rnd(4));
	for (i = 0; i < nops && !cut; i++) {
		nr = parse(im, recs, MAX_RECS);
		if (!nr)
			break;
		op = pick_op();
		st.ops[op]++;
		switch (op) {
		case OP_BITFLIP:
		case OP_BYTESET:
			mut_bytes(im, nr, op);
			break;
		case OP_FIELD32:
		case OP_FIELD64:
		case OP_ARITH:
			mut_field(im, nr, op);
			break;
		case OP_COPY:
			mut_copy(im, nr);
			break;
		case OP_HDRLEN:
		case OP_HDRTYPE:
			mut_hdr(im, nr, op);
			break;
		case OP_TREE:
			mut_tree(im, nr);
			break;
		case OP_ZERO:
			mut_zero(im, nr);
			break;
		default:
			mut_struct(im, nr, op, &cut);
		}
	}
	if (cut || !has_tail(im) || rnd(100) < 8)
		return false;
	seal(im, sd);
	return true;
}

/* Whether the header of @im says it is an image of a tree */
static bool hdr_tree(const struct image *im)
{
	size_t at = offsetof(struct cr_hdr_header, flags);

	return im->n >= at + 4 && (get32(im, at) & CR_CHECKPOINT_TREE);
}

/*
 * The flags to restart @im with: CR_RESTART_TREE for an image of a tree,
 * often with CR_RESTART_NEW_PIDS (for nobody, who may not choose pids,
 * one in two); one in 32 not those, on purpose.
 */
static uint32_t pick_flags(const struct image *im, void (*nobody)(void))
{
	uint32_t f = hdr_tree(im) ? CR_RESTART_TREE : 0;

	if (f && !rnd(nobody ? 2 : 4))
		f |= CR_RESTART_NEW_PIDS;
	if (!rnd(32)) {
		f ^= rnd(3) ? CR_RESTART_TREE : CR_RESTART_NEW_PIDS;
		st.tree_wrong_flags++;
		note("wrong flags on purpose");
	}
	if (f & CR_RESTART_NEW_PIDS)
		st.tree_new_pids++;
	if (f)
		note("restart flags %#x", f);
	return f;
}

/* Seed programs */

static void __noreturn checkpoint_self(int fd)
{
	long r = sys_checkpoint(0, fd, CR_LOGFD(2));

	if (r == 0)
		_exit(EXIT_RESTORED);
	if (r < 0) {
		fprintf(stderr, PROG ": seed checkpoint: %s\n", strerror(errno));
		_exit(1);
	}
	_exit(0);
}

static int open_image(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);

	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	fchmod(fd, 0666);
	return fd;
}

static char data_path[256], dir_path[256];

/*
 * What a seed program must not have of the fuzzer: its descriptors (files
 * shared with another process), the result slot (memory shared with
 * another process).  Descriptor @keep stays.
 */
static void seed_child_clean(int keep)
{
	int fd;

	munmap((void *)slot, 4096);
	for (fd = 3; fd < 1024; fd++)
		if (fd != keep)
			close(fd);
}

/* Run @body in a child that checkpoints itself into @path */
static int self_seed(const char *path, void (*body)(void))
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		int fd;

		seed_child_clean(-1);
		fd = open_image(path);
		body();
		checkpoint_self(fd);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

static void plain_body(void)
{
}

static int make_plain(struct seed *s, const char *path)
{
	(void)s;
	return self_seed(path, plain_body);
}

static void files_body(void)
{
	int fd = open(data_path, O_RDWR), ro, d, n, z, u, p;
	char *m;

	if (fd < 0)
		_exit(1);
	lseek(fd, 4321, SEEK_SET);
	ro = open(data_path, O_RDONLY | O_APPEND);
	lseek(ro, 17, SEEK_SET);
	d = open(dir_path, O_RDONLY | O_DIRECTORY);
	n = open("/dev/null", O_WRONLY);
	z = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	u = open("/dev/urandom", O_RDONLY | O_NONBLOCK);
	p = open(data_path, O_PATH);
	if (ro < 0 || d < 0 || n < 0 || z < 0 || u < 0 || p < 0)
		_exit(1);
	dup2(fd, 40);
	dup2(d, 41);
	fcntl(41, F_SETFD, FD_CLOEXEC);
	/* A private mapping written to, a shared read-only and a shared one */
	m = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		_exit(1);
	memset(m + 4096, 0x5a, 100);
	if (mmap(NULL, 8192, PROT_READ, MAP_SHARED, ro, 4096) == MAP_FAILED ||
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) ==
	    MAP_FAILED ||
	    mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, ro, 8192) ==
	    MAP_FAILED)
		_exit(1);
	if (chdir(dir_path))
		_exit(1);
}

static int make_files(struct seed *s, const char *path)
{
	(void)s;
	return self_seed(path, files_body);
}

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
}

static void signals_body(void)
{
	static char altstack[65536];
	struct sigaction sa = { .sa_sigaction = handler };
	struct itimerval it = { { 50, 0 }, { 1000, 0 } };
	struct rlimit rl = { 512, 1024 };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	union sigval sv = { .sival_int = 4242 };
	sigset_t set;
	siginfo_t si;
	int i;

	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGRTMIN + 1, &sa, NULL);
	sa.sa_flags = SA_NODEFER | SA_RESETHAND;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigaltstack(&ss, NULL);
	sigfillset(&set);
	sigdelset(&set, SIGSEGV);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* Private and shared queues, standard and real-time signals */
	raise(SIGUSR1);
	kill(getpid(), SIGHUP);
	for (i = 0; i < 3; i++)
		sigqueue(getpid(), SIGRTMIN + 2, sv);
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGRTMIN + 3;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_ptr = (void *)0x1234567890ULL;
	syscall(SYS_rt_tgsigqueueinfo, getpid(), getpid(), SIGRTMIN + 3, &si);
	setitimer(ITIMER_REAL, &it, NULL);
	setitimer(ITIMER_VIRTUAL, &it, NULL);
	it.it_value.tv_sec = 2000;
	setitimer(ITIMER_PROF, &it, NULL);
	setrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 0;
	setrlimit(RLIMIT_CORE, &rl);
	umask(027);
	prctl(PR_SET_NAME, "crfuzz-signals");
}

static int make_signals(struct seed *s, const char *path)
{
	(void)s;
	return self_seed(path, signals_body);
}

static void memory_body(void)
{
	char *a, *b, *c, *big, *g;
	int i;

	a = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, 16384, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	c = mmap(NULL, 32768, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	/* More pages than one pages record holds */
	big = mmap(NULL, 300 * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g = mmap(NULL, 16384, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	if (a == MAP_FAILED || b == MAP_FAILED || c == MAP_FAILED ||
	    big == MAP_FAILED || g == MAP_FAILED)
		_exit(1);
	for (i = 0; i < 16; i += 3)
		a[i * 4096] = i + 1;
	b[5] = 1;
	mprotect(a + 8192, 8192, PROT_READ);
	for (i = 0; i < 300; i += 1)
		big[i * 4096 + i] = i;
	c[0] = 1;
	mlock(c, 4096);
	madvise(c + 8192, 8192, MADV_DONTFORK);
	madvise(c + 16384, 4096, MADV_DONTDUMP);
	madvise(big, 4096 * 10, MADV_WIPEONFORK);
	g[16383] = 1;
	mprotect(big + 4096 * 100, 4096, PROT_NONE);
}

static int make_memory(struct seed *s, const char *path)
{
	(void)s;
	return self_seed(path, memory_body);
}

/* A child checkpointed, stopped, while it sleeps in nanosleep */
static int make_sleep(struct seed *s, const char *path)
{
	struct timespec ts = { 0, 30 * 1000 * 1000 };
	int p[2], fd, status;
	long r = -1;
	pid_t pid;
	char c;

	(void)s;
	if (pipe(p))
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (!pid) {
		pid_t me = getpid();

		seed_child_clean(p[1]);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		close(p[1]);
		for (;;) {
			nanosleep(&ts, NULL);
			if (getpid() != me)
				_exit(EXIT_RESTORED);
		}
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		return -1;
	close(p[0]);
	usleep(50000);
	fd = open_image(path);
	kill(pid, SIGSTOP);
	if (waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status))
		r = sys_checkpoint(pid, fd, CR_LOGFD(2));
	if (r < 0)
		fprintf(stderr, PROG ": checkpoint of the sleeper: %s\n",
			strerror(errno));
	close(fd);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return r > 0 ? 0 : -1;
}

static void become_nobody(void)
{
	gid_t g = NOBODY;

	if (setgroups(1, &g) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		_exit(1);
}

static void nobody_body(void)
{
	become_nobody();
	if (chdir("/"))
		_exit(1);
}

static int make_nobody(struct seed *s, const char *path)
{
	(void)s;
	return self_seed(path, nobody_body);
}

/* An image without a task: the header and tail of another seed */
static int make_notask(struct seed *s, const char *path)
{
	const struct image *src = &seeds[0].img;
	struct image im = { 0 };
	uint32_t len;
	FILE *f;

	(void)s;
	if (src->n < 2 * TAIL_LEN)
		return -1;
	len = align8(get32(src, 4));
	img_reserve(&im, len + TAIL_LEN);
	memcpy(im.b, src->b, len);
	memcpy(im.b + len, src->b + src->n - TAIL_LEN, TAIL_LEN);
	im.n = len + TAIL_LEN;
	seal(&im, NULL);
	f = fopen(path, "w");
	if (!f || fwrite(im.b, 1, im.n, f) != im.n || fclose(f))
		return -1;
	free(im.b);
	return 0;
}

/*
 * Seeds of trees.  The fuzzer forks the root of the tree, which makes its
 * tasks; each task writes its pid (minus it, for one about to exit and stay
 * a zombie) on the descriptor @wfd and closes it, then waits in a loop for
 * the file restored_path to exist, which it does once all the seeds are
 * made: only a restored task sees it.  The fuzzer stops every task with
 * SIGSTOP and checkpoints the tree.
 */

static char restored_path[256];

static void wait_restored(void)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	while (access(restored_path, F_OK))
		nanosleep(&ts, NULL);
}

static void tell(int wfd, pid_t pid)
{
	if (write(wfd, &pid, sizeof(pid)) != sizeof(pid))
		_exit(1);
}

/* Reap @n children; whether they all exited with EXIT_RESTORED */
static bool reap_restored(int n)
{
	int status, ok = 0, i;

	for (i = 0; i < n; i++)
		if (wait(&status) > 0 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == EXIT_RESTORED)
			ok++;
	return ok == n;
}

#define FAMILY_HOST	"crfuzz-family"

/* Whether this process is in the UTS namespace of the family seed */
static bool family_host(void)
{
	char name[64];

	return !gethostname(name, sizeof(name)) && !strcmp(name, FAMILY_HOST);
}

/*
 * A parent in a UTS namespace of its own (a CR_HDR_UTS record); a child
 * in a session of its own; a child leading a process group with its child.
 * Each checks its session and group once restored, the parent its host
 * name.
 */
static void __noreturn family_root(int wfd)
{
	if (unshare(CLONE_NEWUTS) ||
	    sethostname(FAMILY_HOST, strlen(FAMILY_HOST)))
		_exit(1);
	if (!fork()) {
		if (setsid() < 0)
			_exit(1);
		tell(wfd, getpid());
		close(wfd);
		wait_restored();
		_exit(getsid(0) == getpid() && getpgid(0) == getpid() ?
		      EXIT_RESTORED : 101);
	}
	if (!fork()) {
		if (setpgid(0, 0))
			_exit(1);
		if (!fork()) {
			tell(wfd, getpid());
			close(wfd);
			wait_restored();
			_exit(getpgid(0) == getpgid(getppid()) ?
			      EXIT_RESTORED : 102);
		}
		tell(wfd, getpid());
		close(wfd);
		wait_restored();
		_exit(reap_restored(1) && getpgid(0) == getpid() ?
		      EXIT_RESTORED : 103);
	}
	tell(wfd, getpid());
	close(wfd);
	wait_restored();
	if (!reap_restored(2))
		_exit(104);
	/* Its session was the fuzzer's: once restored, its restarter's */
	_exit(getsid(0) != getpid() && family_host() ? EXIT_RESTORED : 110);
}

static uint32_t futex_word;

static long futex(uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

static void *futex_thread(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&futex_word, __ATOMIC_ACQUIRE))
		futex(&futex_word, FUTEX_WAIT_PRIVATE, 0);
	return (void *)(long)futex_word;
}

static void *sleep_thread(void *arg)
{
	(void)arg;
	wait_restored();
	return (void *)2L;
}

/* Three threads: this one and a sleeper wait for the restart, one a futex */
static void __noreturn threads_root(int wfd)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	pthread_t a, b;
	void *ra, *rb;

	if (pthread_create(&a, NULL, futex_thread, NULL) ||
	    pthread_create(&b, NULL, sleep_thread, NULL))
		_exit(1);
	nanosleep(&ts, NULL);
	tell(wfd, getpid());
	close(wfd);
	wait_restored();
	__atomic_store_n(&futex_word, 7, __ATOMIC_RELEASE);
	futex(&futex_word, FUTEX_WAKE_PRIVATE, 1);
	if (pthread_join(a, &ra) || pthread_join(b, &rb))
		_exit(105);
	_exit(ra == (void *)7L && rb == (void *)2L ? EXIT_RESTORED : 106);
}

static const char pipe_msg[] = "bytes in flight through the pipe";

/*
 * A parent with a file it shares with a child, a pipe to the child with
 * bytes in it, and a child that exited with status 7, not reaped.
 */
static void __noreturn pipes_root(int wfd)
{
	int fd = open(data_path, O_RDWR), p[2], status, ok = 0, i;
	char buf[sizeof(pipe_msg)];

	if (fd < 0 || lseek(fd, 1234, SEEK_SET) != 1234 || pipe(p))
		_exit(1);
	if (!fork()) {
		tell(wfd, -getpid());
		_exit(7);
	}
	if (!fork()) {
		close(p[1]);
		tell(wfd, getpid());
		close(wfd);
		wait_restored();
		/* The offset is the parent's: it sees the 5 bytes read */
		if (lseek(fd, 0, SEEK_CUR) != 1234 || read(fd, buf, 5) != 5)
			_exit(107);
		if (read(p[0], buf, sizeof(buf)) != sizeof(buf) ||
		    memcmp(buf, pipe_msg, sizeof(buf)))
			_exit(108);
		_exit(EXIT_RESTORED);
	}
	close(p[0]);
	if (write(p[1], pipe_msg, sizeof(pipe_msg)) != sizeof(pipe_msg))
		_exit(1);
	tell(wfd, getpid());
	close(wfd);
	wait_restored();
	for (i = 0; i < 2; i++) {
		if (wait(&status) <= 0 || !WIFEXITED(status))
			continue;
		ok += WEXITSTATUS(status) == 7 ? 1 :
		      WEXITSTATUS(status) == EXIT_RESTORED ? 2 : 0;
	}
	_exit(ok == 3 && lseek(fd, 0, SEEK_CUR) == 1239 ? EXIT_RESTORED : 109);
}

/*
 * The share seed: processes that share tables with their parent
 * (CR_HDR_SHARES and CR_HDR_SHARE records).  A child made with
 * CLONE_FILES | CLONE_FS sees the descriptor its parent opened after
 * making it; one made with CLONE_VM | CLONE_SIGHAND sees the word its
 * parent wrote after making it.
 */
#define SHARE_FD	77
static int share_word, share_ready;

/* The descriptors are its parent's: the parent tells its pid */
static int share_files_child(void *arg)
{
	(void)arg;
	wait_restored();
	syscall(SYS_exit, fcntl(SHARE_FD, F_GETFD) >= 0 ? EXIT_RESTORED : 111);
	return 0;
}

static int share_vm_child(void *arg)
{
	close((long)arg);
	__atomic_store_n(&share_ready, 1, __ATOMIC_RELEASE);
	wait_restored();
	syscall(SYS_exit, __atomic_load_n(&share_word, __ATOMIC_ACQUIRE) == 42 ?
		EXIT_RESTORED : 112);
	return 0;
}

static void __noreturn share_root(int wfd)
{
	static char stacks[2][65536];
	pid_t a, b;
	int fd;

	a = clone(share_files_child, stacks[0] + sizeof(stacks[0]),
		  CLONE_FILES | CLONE_FS | SIGCHLD, NULL);
	b = clone(share_vm_child, stacks[1] + sizeof(stacks[1]),
		  CLONE_VM | CLONE_SIGHAND | SIGCHLD, (void *)(long)wfd);
	fd = open("/dev/null", O_RDONLY);
	__atomic_store_n(&share_word, 42, __ATOMIC_RELEASE);
	if (a < 0 || b < 0 || fd < 0 || dup2(fd, SHARE_FD) != SHARE_FD)
		_exit(1);
	close(fd);
	/* Until the child of CLONE_VM closed its copy of @wfd */
	while (!__atomic_load_n(&share_ready, __ATOMIC_ACQUIRE))
		usleep(1000);
	tell(wfd, a);
	tell(wfd, b);
	tell(wfd, getpid());
	close(wfd);
	wait_restored();
	_exit(reap_restored(2) ? EXIT_RESTORED : 113);
}

/* Whether every thread of @pid is in one of @states, within @ms */
static bool in_state(pid_t pid, const char *states, long ms)
{
	double end = now() + ms / 1e3;
	char path[320], buf[512], *p;
	struct dirent *e;
	bool all;
	DIR *d;
	FILE *f;

	do {
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		d = opendir(path);
		if (!d)
			return false;
		all = true;
		while (all && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%s/stat",
				 pid, e->d_name);
			f = fopen(path, "r");
			buf[0] = 0;
			if (f) {
				if (!fgets(buf, sizeof(buf), f))
					buf[0] = 0;
				fclose(f);
			}
			p = strrchr(buf, ')');
			all = p && p[1] == ' ' && strchr(states, p[2]);
		}
		closedir(d);
		if (all)
			return true;
		usleep(1000);
	} while (now() < end);
	return false;
}

#define TREE_MAX	8

/* Make the tree of @root, stop it and checkpoint it into @path */
static int tree_seed(const char *path, void (*root)(int wfd))
{
	pid_t pids[TREE_MAX], pid, top;
	int p[2], fd, n = 0, i, status;
	long r = -1;

	if (pipe(p))
		die("pipe: %s", strerror(errno));
	top = fork();
	if (top < 0)
		die("fork: %s", strerror(errno));
	if (!top) {
		seed_child_clean(p[1]);
		root(p[1]);
	}
	close(p[1]);
	while (n < TREE_MAX && read(p[0], &pid, sizeof(pid)) == sizeof(pid))
		pids[n++] = pid;
	close(p[0]);
	/* In their loops, zombies dead */
	usleep(30000);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGSTOP);
	for (i = 0; i < n; i++)
		if (!in_state(abs(pids[i]), pids[i] > 0 ? "tT" : "Z", 5000)) {
			fprintf(stderr, PROG ": task %d of a seed tree: not %s\n",
				abs(pids[i]), pids[i] > 0 ? "stopped" : "a zombie");
			goto out;
		}
	fd = open_image(path);
	r = sys_checkpoint(top, fd, CR_CHECKPOINT_TREE | CR_LOGFD(2));
	if (r < 0)
		fprintf(stderr, PROG ": checkpoint of a seed tree: %s\n",
			strerror(errno));
	close(fd);
out:
	for (i = 0; i < n; i++)
		kill(abs(pids[i]), SIGKILL);
	kill(top, SIGKILL);
	/* This process is their subreaper (make_seeds()) */
	while (waitpid(-1, &status, __WALL) > 0)
		;
	return r > 0 ? 0 : -1;
}

static int make_family(struct seed *s, const char *path)
{
	(void)s;
	return tree_seed(path, family_root);
}

static int make_threads(struct seed *s, const char *path)
{
	(void)s;
	return tree_seed(path, threads_root);
}

static int make_pipes(struct seed *s, const char *path)
{
	(void)s;
	return tree_seed(path, pipes_root);
}

static int make_share(struct seed *s, const char *path)
{
	(void)s;
	return tree_seed(path, share_root);
}

#define SEED(n, w, m, p) { .name = n, .what = w, .make = m, .prep = p }

static const struct seed seed_table[] = {
	SEED("plain", "a process that checkpoints itself", make_plain, NULL),
	SEED("notask", "an image with only a header and a tail", make_notask,
	     NULL),
	SEED("files", "open files, directory, devices, dup, file mappings, cwd",
	     make_files, NULL),
	SEED("signals",
	     "handlers, pending and queued signals, sigaltstack, itimers, rlimits",
	     make_signals, NULL),
	SEED("memory", "shared, locked, growsdown, protected memory, >256 pages",
	     make_memory, NULL),
	SEED("sleep", "a process stopped in nanosleep (restart block)",
	     make_sleep, NULL),
	SEED("nobody", "an unprivileged process, restarted by nobody",
	     make_nobody, become_nobody),
	SEED("family",
	     "tree: children and a grandchild, a session, a process group",
	     make_family, NULL),
	SEED("threads", "tree: a process of 3 threads, one in a futex wait",
	     make_threads, NULL),
	SEED("pipes",
	     "tree: a pipe with bytes in flight, a shared file, a zombie",
	     make_pipes, NULL),
	SEED("share",
	     "tree: children sharing descriptors and fs, memory and handlers",
	     make_share, NULL),
};

static bool load(const char *path, struct image *im)
{
	struct stat sb;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0 || fstat(fd, &sb))
		return false;
	img_reserve(im, sb.st_size);
	n = read(fd, im->b, sb.st_size);
	close(fd);
	if (n != sb.st_size)
		return false;
	im->n = n;
	return true;
}

static void make_files_of_seeds(void)
{
	char buf[65536];
	int fd, i;

	mkdir(opt.workdir, 0777);
	chmod(opt.workdir, 0777);
	snprintf(data_path, sizeof(data_path), "%s/data", opt.workdir);
	snprintf(dir_path, sizeof(dir_path), "%s/dir", opt.workdir);
	snprintf(restored_path, sizeof(restored_path), "%s/restored",
		 opt.workdir);
	unlink(restored_path);
	mkdir(dir_path, 0755);
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = i * 7;
	fd = open(data_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf))
		die("%s: %s", data_path, strerror(errno));
	close(fd);
}

static void make_seeds(void)
{
	unsigned int seen[NR_TYPES] = { 0 };
	static char path[MAX_SEEDS][512];
	bool made[MAX_SEEDS];
	int i, j, n, missing = 0;
	struct seed *s;

	make_files_of_seeds();
	n = ARRAY_SIZE(seed_table);
	/* The tasks of the seed trees are reaped by this process */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/*
	 * All the seed programs first, forked while this process holds no
	 * image: an image holds the memory of its program.  The image
	 * without a task is made of the first one.
	 */
	for (i = 0; i < n; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/seed-%s.img",
			 opt.workdir, seed_table[i].name);
		made[i] = seed_table[i].make != make_notask &&
			  !seed_table[i].make(&seeds[0], path[i]);
	}
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	/* From now on, a task of a tree that runs was restored */
	i = open(restored_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (i < 0)
		die("%s: %s", restored_path, strerror(errno));
	close(i);
	for (i = 0; i < n; i++) {
		s = &seeds[nseeds];
		*s = seed_table[i];
		if (s->make == make_notask && nseeds)
			made[i] = !make_notask(s, path[i]);
		if (!made[i] || !load(path[i], &s->img)) {
			printf("# seed %s: could not be made, left out\n",
			       s->name);
			continue;
		}
		s->recs = calloc(MAX_RECS, sizeof(*s->recs));
		s->nrecs = parse(&s->img, s->recs, MAX_RECS);
		if (has_tail(&s->img))
			seed_crcs(s);
		for (j = 0; j < s->nrecs; j++)
			if (s->recs[j].type < NR_TYPES)
				seen[s->recs[j].type]++;
		printf("# seed %-8s %7zu bytes %4d records: %s\n", s->name,
		       s->img.n, s->nrecs, s->what);
		nseeds++;
	}
	if (!nseeds)
		die("no seed could be made");
	printf("# records in the seeds:");
	for (i = 1; i < NR_TYPES; i++) {
		if (type_name(i)[0] == '?')
			continue;
		printf(" %s %u", type_name(i), seen[i]);
		missing += !seen[i];
	}
	printf("\n");
	if (missing)
		printf("# %d record types are in no seed\n", missing);
}

/* What happened to an image */

static void count_reason(const char *line)
{
	char norm[REASON_LEN];
	size_t n = 0;
	int i;

	/* Numbers vary from image to image: "#" stands for each */
	while (*line && *line != '\n' && n < sizeof(norm) - 1) {
		if (isdigit((unsigned char)*line) &&
		    !(n && isalpha((unsigned char)norm[n - 1]))) {
			if (line[0] == '0' && line[1] == 'x')
				line += 2;
			while (isxdigit((unsigned char)*line))
				line++;
			norm[n++] = '#';
			continue;
		}
		norm[n++] = *line++;
	}
	norm[n] = 0;
	for (i = 0; i < st.nreasons; i++) {
		if (!strcmp(st.reasons[i].text, norm)) {
			st.reasons[i].count++;
			return;
		}
	}
	if (st.nreasons == MAX_REASONS) {
		st.reasons_dropped++;
		return;
	}
	memcpy(st.reasons[st.nreasons].text, norm, n + 1);
	st.reasons[st.nreasons++].count = 1;
}

/* The kernel's reasons written to the log pipe since the last call */
static void drain_log(char *last, size_t size)
{
	static char buf[8192];
	ssize_t n;
	char *p, *nl;

	if (last)
		*last = 0;
	while ((n = read(log_rfd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = 0;
		for (p = buf; *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (!nl)
				break;
			*nl = 0;
			count_reason(p);
			if (last && size) {
				size_t l = strlen(p) < size - 1 ?
					   strlen(p) : size - 1;

				memcpy(last, p, l);
				last[l] = 0;
			}
		}
	}
}

static const char *const bad_patterns[] = {
	"BUG:", "WARNING:", "KASAN", "UBSAN", "Oops", "kernel BUG",
	"general protection fault", "Call Trace", "RIP: ", "suspected memory leak",
	"INFO: task", "watchdog: ", "hung_task", "Kernel panic", "lockdep",
	"possible recursive locking", "circular locking",
};

#define KMEMLEAK	"/sys/kernel/debug/kmemleak"

/* Whether kmemleak's file is there, debugfs mounted if it was not */
static bool kmemleak_file(void)
{
	if (access(KMEMLEAK, F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	return !access(KMEMLEAK, F_OK);
}

/*
 * kmemleak's periodic scan only says how many objects it suspects; the
 * objects and the backtraces of their allocation are in its debugfs
 * file, until a later scan finds them referenced or they are freed.
 * Print them now, in one write(2).
 */
static void dump_kmemleak(void)
{
	static char buf[65536];
	size_t n = 0, off;
	ssize_t r;
	int fd;

	fd = kmemleak_file() ? open(KMEMLEAK, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0) {
		printf("# kmemleak: %s\n", strerror(errno));
		return;
	}
	n = snprintf(buf, sizeof(buf), "# kmemleak, at its report:\n");
	while (n < sizeof(buf) - 1) {
		r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	buf[n] = 0;
	fflush(stdout);
	for (off = 0; off < n; off += r) {
		r = write(1, buf + off, n - off);
		if (r <= 0)
			break;
	}
}

/* Kernel messages since the last call; whether one reports a problem */
static bool read_kmsg(char *out, size_t size)
{
	static char buf[8192];
	size_t used = 0;
	bool bad = false;
	ssize_t n;
	char *msg;
	unsigned int i;

	if (out)
		*out = 0;
	if (kmsg_fd < 0)
		return false;
	for (;;) {
		n = read(kmsg_fd, buf, sizeof(buf) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		buf[n] = 0;
		msg = strchr(buf, ';');
		msg = msg ? msg + 1 : buf;
		/* A restored program that crashed is no kernel problem */
		if (!strncmp(msg, "traps: ", 7))
			continue;
		for (i = 0; i < ARRAY_SIZE(bad_patterns); i++)
			if (strstr(msg, bad_patterns[i]))
				bad = true;
		if (strstr(msg, "suspected memory leak"))
			dump_kmemleak();
		/* Keep the reports, not the chatter of the refusals */
		if (out && (bad || strstr(msg, "checkpoint")) &&
		    used + strlen(msg) + 1 < size) {
			memcpy(out + used, msg, strlen(msg) + 1);
			used += strlen(msg);
		}
	}
	return bad;
}

/*
 * @im in base64 on the output, between "# begin-base64 644 NAME" and
 * "====" lines, in one write(2): the lines of several workers do not mix.
 */
static void print_base64(const char *kind, uint64_t iter, const struct image *im)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, k, n = 0, size = im->n / 57 * 78 + 256;
	char *out = malloc(size);
	uint32_t v;
	ssize_t w;

	if (!out)
		return;
	n += snprintf(out, size, "# begin-base64 644 %s-%llu-%llu.img\n", kind,
		      (unsigned long long)opt.seed, (unsigned long long)iter);
	for (i = 0; i < im->n; i += 3) {
		k = im->n - i;
		v = im->b[i] << 16;
		v |= (k > 1 ? im->b[i + 1] : 0) << 8;
		v |= k > 2 ? im->b[i + 2] : 0;
		out[n++] = b64[v >> 18];
		out[n++] = b64[(v >> 12) & 63];
		out[n++] = k > 1 ? b64[(v >> 6) & 63] : '=';
		out[n++] = k > 2 ? b64[v & 63] : '=';
		if ((i / 3) % 19 == 18 || k <= 3)
			out[n++] = '\n';
	}
	n += snprintf(out + n, size - n, "====\n");
	fflush(stdout);
	for (i = 0; i < n; i += w) {
		w = write(1, out + i, n - i);
		if (w <= 0)
			break;
	}
	free(out);
}

static void save_finding(const char *kind, uint64_t iter, const char *seed,
			 const struct image *im, bool sealed, const char *info)
{
	char path[512];
	FILE *f;

	st.findings++;
	printf("# FINDING %s: iteration %llu (-s %llu -i %llu), seed %s, %s, %zu bytes\n",
	       kind, (unsigned long long)iter, (unsigned long long)opt.seed,
	       (unsigned long long)iter, seed,
	       sealed ? "sealed" : "not sealed", im->n);
	printf("# mutations: %s\n", oplog);
	printf("# %s\n", info);
	fflush(stdout);
	if (!opt.outdir) {
		print_base64(kind, iter, im);
		return;
	}
	mkdir(opt.outdir, 0777);
	snprintf(path, sizeof(path), "%s/%s-%llu-%llu.img", opt.outdir, kind,
		 (unsigned long long)opt.seed, (unsigned long long)iter);
	f = fopen(path, "w");
	if (f) {
		fwrite(im->b, 1, im->n, f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/%s-%llu-%llu.txt", opt.outdir, kind,
		 (unsigned long long)opt.seed, (unsigned long long)iter);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%s at iteration %llu of crfuzz -s %llu, seed %s, %s\n",
			kind, (unsigned long long)iter,
			(unsigned long long)opt.seed, seed,
			sealed ? "sealed" : "not sealed");
		fprintf(f, "mutations: %s\n\n%s\n", oplog, info);
		fclose(f);
	}
}

/* The system call a task is in, -1 if it runs in user mode */
static long in_syscall(pid_t pid, char *stack, size_t size)
{
	char path[64], buf[256];
	long nr = -1;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && isdigit((unsigned char)buf[0]))
			nr = atol(buf);
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	*stack = 0;
	f = fopen(path, "r");
	if (f) {
		n = fread(stack, 1, size - 1, f);
		stack[n] = 0;
		fclose(f);
	}
	return nr;
}

/* Wait for @pid up to @ms milliseconds; whether it was reaped */
static bool wait_child(pid_t pid, int *status, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 && errno != EINTR)
			die("waitpid: %s", strerror(errno));
		if (sigtimedwait(&set, NULL, &ts) < 0 && errno == EAGAIN)
			return waitpid(pid, status, WNOHANG) == pid;
	}
}

static int null_fd = -1;

/*
 * A restarter is a child that calls restart(2) on each image it is told
 * to: a refused image leaves it as it was, so that it goes on with the
 * next one, after checking that it is indeed unchanged.  An image that is
 * restored replaces it (or kills it, if refused after the point of no
 * return): a new one is forked for the next image.  There is one for root,
 * one for nobody.
 */
struct restarter {
	pid_t pid;
	int cmd;		/* the number of the image to restart */
	int res;		/* the number back once it is done */
	void (*prep)(void);
	bool tree;		/* restarts with CR_RESTART_TREE */
};

/* For root, nobody, root with CR_RESTART_TREE, nobody with it */
static struct restarter restarters[4];

/*
 * Descriptors of a restarter; the images are in IMAGE_FD + n, for seed n
 * (when the image has the size of its seed: only the blocks that differ
 * from the seed are written) and IMAGE_FD + MAX_SEEDS (any other image).
 */
enum { R_LOG = 3, R_CMD, R_RES, R_FIRST_FREE };
#define IMAGE_FD	200

/* What a restarter is told to do */
struct cmd {
	uint64_t iter;
	int32_t fd;
	uint32_t flags;		/* of restart(2), besides CR_LOGFD */
};

#ifndef __NR_close_range
#define __NR_close_range	436
#endif

static uint8_t canary[4096];

/* Whether a refused restart(2) left the caller as it was */
static bool unchanged(uid_t uid, gid_t gid, pid_t pid, const char *cwd)
{
	char buf[512];
	sigset_t set;
	size_t i;

	for (i = 0; i < sizeof(canary); i++)
		if (canary[i] != (uint8_t)(i * 13 + 1))
			return false;
	if (sigprocmask(SIG_SETMASK, NULL, &set) || !sigisemptyset(&set))
		return false;
	return getuid() == uid && getgid() == gid && getpid() == pid &&
	       getcwd(buf, sizeof(buf)) && !strcmp(buf, cwd) &&
	       fcntl(R_RES, F_GETFD) >= 0 &&
	       fcntl(IMAGE_FD + MAX_SEEDS, F_GETFD) >= 0;
}

/* Time a restored tree has to end by itself, in milliseconds */
static long tree_ms(void)
{
	return opt.timeout_ms / 2;
}

/*
 * Kill every task of the pid namespace of this process, its init, and
 * reap them all: 0, or 1 if some are still there after 5 seconds.
 */
static int kill_all(void)
{
	double end = now() + 5;
	int status;
	pid_t p;

	kill(-1, SIGKILL);
	for (;;) {
		p = waitpid(-1, &status, WNOHANG | __WALL);
		if (p < 0 && errno == ECHILD)
			return 0;
		if (p > 0)
			continue;
		if (now() > end)
			return 1;
		kill(-1, SIGKILL);
		usleep(1000);
	}
}

/*
 * After restart(2) with CR_RESTART_TREE: wait for the root it returned
 * (up to tree_ms()), or check that a refusal left no task; then kill and
 * reap every task of the namespace.
 */
static void tree_after(long ret)
{
	double end = now() + tree_ms() / 1e3;
	int status;
	pid_t p;

	if (ret > 0) {
		slot->root = TREE_TIMEOUT;
		for (;;) {
			p = waitpid(ret, &status, WNOHANG | __WALL);
			if (p == ret) {
				slot->root = TREE_EXITED;
				slot->root_status = status;
				break;
			}
			if (p < 0) {
				slot->root = TREE_NOT_CHILD;
				break;
			}
			if (now() > end)
				break;
			usleep(1000);
		}
	} else {
		/* Not even a zombie: the kernel reaps what it created */
		p = waitpid(-1, &status, WNOHANG | __WALL);
		slot->left = !(p < 0 && errno == ECHILD);
	}
	slot->unkillable = kill_all();
}

static void __noreturn restarter_loop(void (*prep)(void), bool tree)
{
	unsigned long flags = CR_LOGFD(R_LOG);
	char cwd[512];
	double t;
	struct cmd c;
	sigset_t none;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	size_t i;

	if (prep)
		prep();
	/* Its tasks die with it, and it with the worker (after prep()) */
	if (tree)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (i = 0; i < sizeof(canary); i++)
		canary[i] = i * 13 + 1;
	uid = getuid();
	gid = getgid();
	pid = getpid();
	if (!getcwd(cwd, sizeof(cwd)))
		_exit(1);
	while (read(R_CMD, &c, sizeof(c)) == sizeof(c)) {
		lseek(c.fd, 0, SEEK_SET);
		slot->root = TREE_NONE;
		slot->left = 0;
		slot->unkillable = 0;
		t = now();
		slot->ret = sys_restart(0, c.fd, flags | c.flags);
		slot->err = errno;
		slot->us_restart = (now() - t) * 1e6;
		t = now();
		if (tree)
			tree_after(slot->ret);
		slot->us_tree = (now() - t) * 1e6;
		slot->changed = !unchanged(uid, gid, pid, cwd);
		slot->iter = c.iter;
		if (write(R_RES, &c.iter, sizeof(c.iter)) != sizeof(c.iter))
			_exit(1);
	}
	_exit(0);
}

/*
 * The restarter of @prep, forked if there is none; for @tree, the init of
 * a new pid namespace.  (A raw clone: nothing of glibc that knows the tid
 * is used in it.)
 */
static struct restarter *restarter(void (*prep)(void), bool tree)
{
	struct restarter *r = &restarters[(prep ? 1 : 0) + (tree ? 2 : 0)];
	int cmd[2], res[2];

	if (r->pid)
		return r;
	if (pipe2(cmd, O_CLOEXEC) || pipe2(res, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	r->prep = prep;
	r->tree = tree;
	if (tree)
		r->pid = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, NULL,
				 NULL, 0);
	else
		r->pid = fork();
	if (r->pid < 0)
		die("%s: %s", tree ? "clone(CLONE_NEWPID)" : "fork",
		    strerror(errno));
	if (!r->pid) {
		if (!opt.verbose) {
			dup2(null_fd, 0);
			dup2(null_fd, 1);
			dup2(null_fd, 2);
		}
		/* Through descriptors out of the way of both */
		if (dup2(log_wfd, 100 + R_LOG) < 0 ||
		    dup2(cmd[0], 100 + R_CMD) < 0 || dup2(res[1], 100 + R_RES) < 0 ||
		    dup2(100 + R_LOG, R_LOG) < 0 ||
		    dup2(100 + R_CMD, R_CMD) < 0 || dup2(100 + R_RES, R_RES) < 0)
			_exit(1);
		syscall(__NR_close_range, R_FIRST_FREE, IMAGE_FD - 1, 0);
		syscall(__NR_close_range, IMAGE_FD + MAX_SEEDS + 1, ~0U, 0);
		restarter_loop(prep, tree);
	}
	close(cmd[0]);
	close(res[1]);
	r->cmd = cmd[1];
	r->res = res[0];
	return r;
}

static void restarter_gone(struct restarter *r)
{
	close(r->cmd);
	close(r->res);
	r->pid = 0;
}

/* Wait up to @ms for @fd to be readable: 1, 0 on timeout */
static int wait_readable(int fd, long ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do {
		n = poll(&p, 1, ms);
	} while (n < 0 && errno == EINTR);
	return n > 0;
}

enum outcome {
	O_ERRNO, O_RETURNED, O_RESTORED, O_KILLED, O_TIMEOUT, O_HANG,
};

static const char *const outcome_names[] = {
	"refused", "returned", "restored", "killed", "timeout", "hang",
};

static char info[16384], reason[512], stack[4096];

/* The errno of the last image, 0 if restart(2) did not fail */
static int last_err;
/* The wait status of the last restored program (of the root of a tree) */
static int last_status;

/* A child that does not end: in restart(2), a hang of the kernel */
static enum outcome timed_out(struct restarter *r, const struct seed *s,
			      uint64_t iter, const struct image *im,
			      bool sealed)
{
	long sc = in_syscall(r->pid, stack, sizeof(stack));
	bool reaped;
	int status;

	kill(r->pid, SIGKILL);
	reaped = wait_child(r->pid, &status, 20000);
	drain_log(reason, sizeof(reason));
	if (sc != __NR_restart && reaped) {
		st.timeout_restored++;
		restarter_gone(r);
		return O_TIMEOUT;
	}
	st.hangs++;
	snprintf(info, sizeof(info),
		 "hang: still in system call %ld after %ld ms%s\nkernel stack:\n%s",
		 sc, opt.timeout_ms,
		 reaped ? "" : ", and SIGKILL did not end it", stack);
	save_finding("hang", iter, s->name, im, sealed, info);
	if (!reaped)
		die("child %d cannot be killed: giving up", r->pid);
	restarter_gone(r);
	return O_HANG;
}

/* The restarter is gone: restored, or killed after the point of no return */
static enum outcome ended(struct restarter *r, const struct seed *s,
			  uint64_t iter, const struct image *im, bool sealed)
{
	int status;

	if (!wait_child(r->pid, &status, opt.timeout_ms))
		return timed_out(r, s, iter, im, sealed);
	restarter_gone(r);
	drain_log(reason, sizeof(reason));
	if (WIFSIGNALED(status) && reason[0]) {
		st.killed_in_restart[WTERMSIG(status) & 63]++;
		/*
		 * The image is in a regular file: restart checks ahead of its
		 * point of no return all but the checksum.
		 */
		if (!strstr(reason, ": image checksum ")) {
			st.late_other++;
			snprintf(info, sizeof(info),
				 "refused after the point of no return, not for its checksum: %s",
				 reason);
			save_finding("late", iter, s->name, im, sealed, info);
		}
		return O_KILLED;
	}
	st.restored++;
	last_status = status;
	if (WIFEXITED(status))
		st.restored_exit[WEXITSTATUS(status)]++;
	else
		st.restored_sig[WTERMSIG(status) & 63]++;
	return O_RESTORED;
}

/* Run one image, already in @fd; record what happened */
/* What became of a tree restarted by @r (restart(2) returned) */
static enum outcome tree_outcome(struct restarter *r, const struct seed *s,
				 uint64_t iter, const struct image *im,
				 bool sealed, enum outcome o)
{
	int status;

	if (slot->left) {
		st.tree_left++;
		snprintf(info, sizeof(info),
			 "restart(2) with CR_RESTART_TREE failed with %s but left tasks behind: %s",
			 errname(slot->err), reason);
		save_finding("left", iter, s->name, im, sealed, info);
	}
	if (slot->ret > 0) {
		st.tree_restored++;
		if (slot->root == TREE_EXITED) {
			st.restored++;
			status = slot->root_status;
			last_status = status;
			if (WIFEXITED(status))
				st.restored_exit[WEXITSTATUS(status)]++;
			else
				st.restored_sig[WTERMSIG(status) & 63]++;
			o = O_RESTORED;
		} else if (slot->root == TREE_TIMEOUT) {
			st.tree_timeout++;
			st.timeout_restored++;
			o = O_TIMEOUT;
		} else {
			snprintf(info, sizeof(info),
				 "restart(2) with CR_RESTART_TREE returned %lld, not a child of the caller",
				 (long long)slot->ret);
			save_finding("root", iter, s->name, im, sealed, info);
			o = O_RESTORED;
		}
	}
	if (!slot->unkillable)
		return o;
	/* Tasks SIGKILL did not end in 5 s: the end of the namespace must */
	st.tree_unkillable++;
	kill(r->pid, SIGKILL);
	if (!wait_child(r->pid, &status, 20000)) {
		st.hangs++;
		snprintf(info, sizeof(info),
			 "tasks of a restored tree survive SIGKILL, and the end of their pid namespace");
		save_finding("hang", iter, s->name, im, sealed, info);
		die("restarter %d cannot be killed: giving up", r->pid);
	}
	restarter_gone(r);
	return o;
}

static enum outcome run_one(int fd, const struct seed *s, void (*prep)(void),
			    uint32_t flags, uint64_t iter,
			    const struct image *im, bool sealed)
{
	struct cmd c = { .iter = iter, .fd = fd, .flags = flags };
	bool tree = flags & CR_RESTART_TREE;
	long ms = opt.timeout_ms + (tree ? tree_ms() + 6000 : 0);
	double t = now();
	struct restarter *r = restarter(prep, tree);
	double t_child;
	enum outcome o;
	uint64_t back;

	st.us_fork += (now() - t) * 1e6;
	t = now();
	slot->iter = ~0ULL;
	st.tree_images += tree;
	if (write(r->cmd, &c, sizeof(c)) != sizeof(c))
		die("restarter: %s", strerror(errno));
	if (!wait_readable(r->res, ms))
		o = timed_out(r, s, iter, im, sealed);
	else if (read(r->res, &back, sizeof(back)) != sizeof(back))
		o = ended(r, s, iter, im, sealed);
	else if (back != iter || slot->iter != iter)
		die("restarter: answer %llu to image %llu",
		    (unsigned long long)back, (unsigned long long)iter);
	else if (slot->ret < 0)
		o = O_ERRNO;
	else
		o = O_RETURNED;
	t_child = now() - t;
	st.us_child += t_child * 1e6;
	st.us_outcome[o] += t_child * 1e6;
	st.n_outcome[o]++;
	if (o == O_ERRNO || o == O_RETURNED) {
		st.us_restart += slot->us_restart;
		st.us_tree += slot->us_tree;
	}
	t = now();
	if (o == O_ERRNO || o == O_RETURNED) {
		drain_log(reason, sizeof(reason));
		if (o == O_ERRNO)
			st.errs[slot->err & 511]++;
		else if (!slot->ret)
			st.returned0++;
		if (slot->changed) {
			st.changed++;
			snprintf(info, sizeof(info),
				 "restart(2) %s%s but changed its caller: %s",
				 o == O_ERRNO ? "failed with " : "returned",
				 o == O_ERRNO ? errname(slot->err) : "",
				 reason);
			save_finding("changed", iter, s->name, im, sealed,
				     info);
		}
		if (tree)
			o = tree_outcome(r, s, iter, im, sealed, o);
	}
	if (read_kmsg(info, sizeof(info))) {
		st.reports++;
		save_finding("report", iter, s->name, im, sealed, info);
	}
	st.us_after += (now() - t) * 1e6;
	if (opt.verbose)
		printf("# %llu %s: %s -> %s%s%s (%.1f ms)\n",
		       (unsigned long long)iter, s->name, oplog,
		       o == O_ERRNO ? errname(slot->err) :
		       o == O_RESTORED ? "restored" : o == O_KILLED ? "killed" :
		       o == O_RETURNED ? "returned 0" : "timeout",
		       reason[0] ? ": " : "", reason, t_child * 1e3);
	last_err = o == O_ERRNO ? slot->err : 0;
	return o;
}

/* End the restarters of this worker */
static void restarters_end(void)
{
	int i, status;

	for (i = 0; i < (int)ARRAY_SIZE(restarters); i++) {
		if (!restarters[i].pid)
			continue;
		close(restarters[i].cmd);
		restarters[i].cmd = -1;
		if (!wait_child(restarters[i].pid, &status, 10000))
			kill(restarters[i].pid, SIGKILL);
		restarter_gone(&restarters[i]);
	}
}

/* The descriptors of the images, at IMAGE_FD and above */
static void image_fds(void)
{
	int i, fd;

	for (i = 0; i <= MAX_SEEDS; i++) {
		fd = memfd_create("crfuzz-image", 0);
		if (fd < 0 || dup2(fd, IMAGE_FD + i) < 0)
			die("memfd_create: %s", strerror(errno));
		close(fd);
	}
}

static void write_at(int fd, const void *buf, size_t len, size_t at)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, (const char *)buf + done, len - done, at + done);
		if (n <= 0)
			die("writing the image: %s", strerror(errno));
		done += n;
	}
}

/* The whole of @im in @fd */
static void write_image(int fd, const struct image *im)
{
	write_at(fd, im->b, im->n, 0);
	if (ftruncate(fd, im->n))
		die("ftruncate: %s", strerror(errno));
}

#define BLOCK		4096
static uint8_t dirty[(64 << 20) / BLOCK];

/*
 * Put @im, a mutation of seed @n, where a restarter reads it; return that
 * descriptor.  An image of the size of its seed has the blocks that differ
 * written over the seed's, put back by put_back().
 */
static int put_image(int n, const struct image *im)
{
	const struct image *sd = &seeds[n].img;
	size_t b, len;

	if (im->n != sd->n || im->n > sizeof(dirty) * BLOCK) {
		write_image(IMAGE_FD + MAX_SEEDS, im);
		return IMAGE_FD + MAX_SEEDS;
	}
	for (b = 0; b < im->n; b += BLOCK) {
		len = im->n - b < BLOCK ? im->n - b : BLOCK;
		dirty[b / BLOCK] = !!memcmp(im->b + b, sd->b + b, len);
		if (dirty[b / BLOCK])
			write_at(IMAGE_FD + n, im->b + b, len, b);
	}
	return IMAGE_FD + n;
}

static void put_back(int n, int fd)
{
	const struct image *sd = &seeds[n].img;
	size_t b, len;

	if (fd != IMAGE_FD + n)
		return;
	for (b = 0; b < sd->n; b += BLOCK) {
		len = sd->n - b < BLOCK ? sd->n - b : BLOCK;
		if (dirty[b / BLOCK])
			write_at(fd, sd->b + b, len, b);
	}
}

/* What the fuzzer and its workers share */
static void setup(void)
{
	sigset_t set;
	int fd;

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		die("/dev/null: %s", strerror(errno));
	/* The kernel's messages about restored programs that crash */
	fd = open("/proc/sys/debug/exception-trace", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "0", 1) != 1)
			printf("# cannot turn debug.exception-trace off\n");
		close(fd);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* What each worker has of its own */
static void setup_worker(void)
{
	int p[2];

	slot = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slot == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		die("pipe: %s", strerror(errno));
	/* The kernel's reason may be long: a full pipe must not block it */
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	log_rfd = p[0];
	log_wfd = p[1];
	fcntl(log_wfd, F_SETFD, 0);
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
	else
		printf("# /dev/kmsg: %s: kernel reports are not watched\n",
		       strerror(errno));
}

static int cmp_reason(const void *a, const void *b)
{
	const typeof(st.reasons[0]) *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/* Ask kmemleak for a scan; whether it found leaks */
static bool kmemleak_scan(void)
{
	char buf[16384];
	bool bad, ok;
	ssize_t n;
	int fd;

	if (!kmemleak_file())
		return false;
	/*
	 * Objects younger than 5 s are not reported, nor those whose
	 * contents changed since the scan before: two scans.
	 */
	sleep(6);
	fd = open(KMEMLEAK, O_WRONLY);
	if (fd < 0)
		return false;
	ok = write(fd, "scan", 4) == 4 && write(fd, "scan", 4) == 4;
	close(fd);
	if (!ok)
		return false;
	bad = read_kmsg(buf, sizeof(buf));
	fd = open(KMEMLEAK, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = 0;
			printf("# kmemleak:\n%s\n", buf);
			bad = true;
		}
		close(fd);
	}
	return bad;
}

static void report(double secs)
{
	uint64_t killed = 0, other = 0;
	int i;

	printf("# crfuzz: %llu images in %.0f s (%.1f images/s), %llu sealed, seeds:",
	       (unsigned long long)st.tried, secs, st.tried / (secs ? secs : 1),
	       (unsigned long long)st.sealed);
	for (i = 0; i < nseeds; i++)
		printf(" %s", seeds[i].name);
	printf("\n# mutations of seed %llu, images from %llu on\n",
	       (unsigned long long)opt.seed, (unsigned long long)opt.first);
	printf("# restart refused, by errno:");
	for (i = 0; i < 512; i++)
		if (st.errs[i])
			printf(" %s %llu", errname(i),
			       (unsigned long long)st.errs[i]);
	printf("\n# restart returned 0 (image without a task): %llu\n",
	       (unsigned long long)st.returned0);
	for (i = 0; i < 65; i++)
		killed += st.killed_in_restart[i];
	printf("# refused after the point of no return (the caller killed): %llu",
	       (unsigned long long)killed);
	printf(", not for the checksum: %llu\n",
	       (unsigned long long)st.late_other);
	for (i = 0; i < 256; i++)
		if (i != EXIT_RESTORED)
			other += st.restored_exit[i];
	printf("# restored: %llu (exited %d: %llu, other exit: %llu, killed by signal:",
	       (unsigned long long)st.restored, EXIT_RESTORED,
	       (unsigned long long)st.restored_exit[EXIT_RESTORED],
	       (unsigned long long)other);
	for (i = 1; i < 65; i++)
		if (st.restored_sig[i] && sigabbrev_np(i))
			printf(" %s %llu", sigabbrev_np(i),
			       (unsigned long long)st.restored_sig[i]);
		else if (st.restored_sig[i])
			printf(" signal %d %llu", i,
			       (unsigned long long)st.restored_sig[i]);
	printf("), still running after %ld ms: %llu\n", opt.timeout_ms,
	       (unsigned long long)st.timeout_restored);
	printf("# with CR_RESTART_TREE: %llu (with CR_RESTART_NEW_PIDS: %llu)\n",
	       (unsigned long long)st.tree_images,
	       (unsigned long long)st.tree_new_pids);
	printf("# wrong restart flags on purpose: %llu\n",
	       (unsigned long long)st.tree_wrong_flags);
	printf("# trees restored: %llu (root still running after %ld ms: %llu)\n",
	       (unsigned long long)st.tree_restored, tree_ms(),
	       (unsigned long long)st.tree_timeout);
	printf("# unmodified seeds not restored: %llu\n",
	       (unsigned long long)st.seed_failures);
	printf("# tree refusals that left tasks: %llu, tasks SIGKILL did not end in 5 s: %llu\n",
	       (unsigned long long)st.tree_left,
	       (unsigned long long)st.tree_unkillable);
	printf("# time per image: %.1f ms to make it, %.1f ms in the child, %.1f ms after\n",
	       st.us_prepare / 1e3 / (st.tried ?: 1),
	       st.us_child / 1e3 / (st.tried ?: 1),
	       st.us_after / 1e3 / (st.tried ?: 1));
	printf("# also %.1f ms forking restarters; ",
	       st.us_fork / 1e3 / (st.tried ?: 1));
	printf("in the child %.1f ms in restart(2) that returned, ",
	       st.us_restart / 1e3 / (st.tried ?: 1));
	printf("%.1f ms after the restart of a tree\n",
	       st.us_tree / 1e3 / (st.tried ?: 1));
	printf("# time in the child by outcome:");
	for (i = 0; i <= O_HANG; i++)
		if (st.n_outcome[i])
			printf(" %s %llu x %.1f ms", outcome_names[i],
			       (unsigned long long)st.n_outcome[i],
			       st.us_outcome[i] / 1e3 / st.n_outcome[i]);
	printf("\n");
	printf("# mutations:");
	for (i = 0; i < NR_OPS; i++)
		printf(" %s %llu", op_names[i], (unsigned long long)st.ops[i]);
	printf("\n# distinct reasons the kernel gave: %d%s\n", st.nreasons,
	       st.reasons_dropped ? " (more not counted)" : "");
	qsort(st.reasons, st.nreasons, sizeof(st.reasons[0]), cmp_reason);
	for (i = 0; i < st.nreasons && (opt.verbose || i < 25); i++)
		printf("#   %8llu %s\n",
		       (unsigned long long)st.reasons[i].count,
		       st.reasons[i].text);
	printf("# kernel reports: %llu, hangs: %llu, ", (unsigned long long)st.reports,
	       (unsigned long long)st.hangs);
	printf("refusals that changed the caller: %llu, findings saved: %llu\n",
	       (unsigned long long)st.changed,
	       (unsigned long long)st.findings);
}

/*
 * Each seed restarted as it is (a tree also with CR_RESTART_NEW_PIDS): it
 * must be restored and exit with EXIT_RESTORED, after the checks of its
 * tasks.
 */
static void check_seeds(void)
{
	const struct seed *s;
	enum outcome o;
	uint32_t flags;
	int n, k;

	for (n = 0; n < nseeds; n++) {
		s = &seeds[n];
		if (s->make == make_notask)
			continue;
		for (k = 0; k < (hdr_tree(&s->img) ? 2 : 1); k++) {
			flags = hdr_tree(&s->img) ? CR_RESTART_TREE : 0;
			if (k)
				flags |= CR_RESTART_NEW_PIDS;
			snprintf(oplog, sizeof(oplog),
				 "seed as it is, restart flags %#x", flags);
			last_status = -1;
			o = run_one(IMAGE_FD + n, s, s->prep, flags,
				    ~0ULL - 1 - n, &s->img, true);
			if (o == O_RESTORED && WIFEXITED(last_status) &&
			    WEXITSTATUS(last_status) == EXIT_RESTORED)
				continue;
			st.seed_failures++;
			printf("# seed %s, restart flags %#x: %s, status %#x\n",
			       s->name, flags,
			       o == O_ERRNO ? errname(last_err) :
			       o == O_RESTORED ? "restored" : "not restored",
			       last_status);
		}
	}
}

/* Iterations @w, @w + jobs, ... */
static void worker(int w)
{
	struct image im = { 0 };
	double t0, last, t;
	uint64_t it, first = opt.first, end = opt.first + opt.iters;
	const struct seed *s;
	void (*prep)(void);
	uint32_t flags;
	bool sealed;
	int fd, n;

	setup_worker();
	image_fds();
	for (n = 0; n < nseeds; n++)
		write_image(IMAGE_FD + n, &seeds[n].img);
	if (!w && opt.only < 0)
		check_seeds();
	if (opt.only >= 0) {
		first = opt.only;
		end = first + 1;
	}
	t0 = now();
	last = t0;
	for (it = first + w; it < end; it += opt.jobs) {
		if (opt.max_secs && now() - t0 > opt.max_secs)
			break;
		rng_seed(opt.seed ^ 0x5eed, it);
		n = rnd(nseeds);
		s = &seeds[n];
		img_copy(&im, &s->img);
		/* One in 16 images of root restarted by nobody */
		t = now();
		prep = s->prep ?: rnd(16) ? NULL : become_nobody;
		sealed = mutate(&im, it, s);
		flags = pick_flags(&im, prep);
		st.sealed += sealed;
		fd = put_image(n, &im);
		st.us_prepare += (now() - t) * 1e6;
		run_one(fd, s, prep, flags, it, &im, sealed);
		put_back(n, fd);
		st.tried++;
		if (!w && now() - last > 60) {
			last = now();
			printf("# progress: %llu images in the first job, %.1f/s\n",
			       (unsigned long long)st.tried,
			       st.tried / (last - t0));
		}
		if (opt.only >= 0 && opt.outdir) {
			/* The image of -i, to look at */
			char path[512];
			FILE *f;

			snprintf(path, sizeof(path), "%s/image-%llu-%llu.img",
				 opt.outdir, (unsigned long long)opt.seed,
				 (unsigned long long)it);
			mkdir(opt.outdir, 0777);
			f = fopen(path, "w");
			if (f) {
				fwrite(im.b, 1, im.n, f);
				fclose(f);
				printf("# image saved to %s\n", path);
			}
		}
	}
	restarters_end();
}

static void add_stats(struct stats *t, const struct stats *w)
{
	const uint64_t *a = (const uint64_t *)w;
	uint64_t *b = (uint64_t *)t;
	size_t i, j;

	/* The counters, up to nreasons */
	for (i = 0; i < offsetof(struct stats, nreasons) / 8; i++)
		b[i] += a[i];
	t->reasons_dropped += w->reasons_dropped;
	for (i = 0; i < (size_t)w->nreasons; i++) {
		for (j = 0; j < (size_t)t->nreasons; j++)
			if (!strcmp(t->reasons[j].text, w->reasons[i].text))
				break;
		if (j == MAX_REASONS) {
			t->reasons_dropped++;
			continue;
		}
		if (j == (size_t)t->nreasons) {
			t->reasons[j] = w->reasons[i];
			t->nreasons++;
		} else {
			t->reasons[j].count += w->reasons[i].count;
		}
	}
}

static int fuzz(void)
{
	struct stats *all;
	double t0;
	int w, status, rc = 0;
	pid_t pid;

	make_seeds();
	if (opt.only >= 0)
		opt.jobs = 1;
	all = mmap(NULL, sizeof(*all) * (opt.jobs + 1),
		   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (all == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	t0 = now();
	if (opt.jobs == 1) {
		stp = &all[0];
		worker(0);
	} else {
		for (w = 0; w < opt.jobs; w++) {
			pid = fork();
			if (pid < 0)
				die("fork: %s", strerror(errno));
			if (!pid) {
				stp = &all[w];
				worker(w);
				_exit(0);
			}
		}
		while ((pid = wait(&status)) > 0)
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				rc = 1;
	}
	stp = &all[opt.jobs];
	for (w = 0; w < opt.jobs; w++)
		add_stats(stp, &all[w]);
	report(now() - t0);
	if (!opt.tap && kmemleak_scan()) {
		st.reports++;
		printf("# kmemleak reported leaks\n");
	}
	if (opt.tap) {
		printf("# %sok 1 crfuzz: %llu images restarted\n",
		       st.tried ? "" : "not ", (unsigned long long)st.tried);
		printf("# %sok 2 crfuzz: no kernel report\n",
		       st.reports ? "not " : "");
		printf("# %sok 3 crfuzz: no hang, no bad refusal (caller changed, task left)\n",
		       st.hangs || st.changed || st.tree_left ? "not " : "");
		printf("# %sok 4 crfuzz: seeds restored unmodified\n",
		       st.restored_exit[EXIT_RESTORED] && !st.seed_failures ?
		       "" : "not ");
		printf("# %sok 5 crfuzz: %s\n", st.late_other ? "not " : "",
		       "nothing but a checksum refused after the point of no return");
	}
	return rc || st.reports || st.hangs || st.changed || st.tree_left ||
	       st.findings || st.seed_failures ? 1 : 0;
}

/* Restart the image in @path in a child: its errno, or 0 */
/* The errno named @name (EINVAL...) */
static int errno_of(const char *name)
{
	int i;

	for (i = 1; i < 512; i++)
		if (strerrorname_np(i) && !strcmp(strerrorname_np(i), name))
			return i;
	die("%s: not an errno name", name);
}

/* Restart the image in @path in a child; whether it failed with @want */
static int replay(const char *path, int want)
{
	static struct seed s = { .name = "replay" };
	enum outcome o;
	uint32_t flags;

	if (!load(path, &s.img))
		die("%s: %s", path, strerror(errno));
	stp = calloc(1, sizeof(*stp));
	setup_worker();
	image_fds();
	write_image(IMAGE_FD + MAX_SEEDS, &s.img);
	oplog[0] = 0;
	if (opt.flags >= 0)
		flags = opt.flags;
	else
		flags = hdr_tree(&s.img) ? CR_RESTART_TREE : 0;
	o = run_one(IMAGE_FD + MAX_SEEDS, &s, NULL, flags, 0, &s.img, true);
	restarters_end();
	printf("%s: %s", path,
	       o == O_ERRNO ? errname(last_err) :
	       o == O_RESTORED ? "restored" : o == O_KILLED ?
	       "killed after the point of no return" :
	       o == O_RETURNED ? "returned 0" : "timeout or hang");
	if (o == O_RESTORED && WIFEXITED(last_status))
		printf(", exit status %d", WEXITSTATUS(last_status));
	else if (o == O_RESTORED)
		printf(", killed by signal %d", WTERMSIG(last_status));
	printf("\n");
	if (st.reports || st.findings)
		return 1;
	return want && last_err != want;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tap", no_argument, NULL, 256 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *replay_path = NULL;
	int want = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, "n:s:t:T:o:w:i:F:j:x:e:f:vh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'n':
			opt.iters = strtoull(optarg, NULL, 0);
			break;
		case 's':
			opt.seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			opt.timeout_ms = strtol(optarg, NULL, 0);
			break;
		case 'o':
			opt.outdir = optarg;
			break;
		case 'w':
			opt.workdir = optarg;
			break;
		case 'i':
			opt.only = strtoll(optarg, NULL, 0);
			break;
		case 'F':
			opt.first = strtoull(optarg, NULL, 0);
			break;
		case 'T':
			opt.max_secs = strtol(optarg, NULL, 0);
			break;
		case 'j':
			opt.jobs = atoi(optarg);
			break;
		case 'x':
			replay_path = optarg;
			break;
		case 'e':
			want = errno_of(optarg);
			break;
		case 'f':
			opt.flags = strtoul(optarg, NULL, 0);
			break;
		case 256:
			opt.tap = true;
			break;
		case 'v':
			opt.verbose = true;
			break;
		default:
			printf("usage: %s [-n ITER] [-s SEED] [-t TIMEOUT_MS] [-T SECONDS]\n"
			       "              [-o DIR] [-w WORKDIR] [-i ITER] [-F FIRST] [-j JOBS]\n"
			       "              [--tap] [-v]\n"
			       "       %s -x IMAGE [-e ERRNO-NAME] [-f FLAGS]\n"
			       "       %s -s SEED -i ITER [-e ERRNO-NAME]\n",
			       PROG, PROG, PROG);
			return c == 'h' ? 0 : 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	crc_init();
	setup();
	if (replay_path)
		return replay(replay_path, want);
	if (opt.jobs < 1 || opt.jobs > 16)
		die("-j takes 1 to 16");
	if (opt.tap)
		printf("# selftests: checkpoint: crfuzz\n# TAP version 13\n# 1..5\n");
	rc = fuzz();
	if (want && opt.only >= 0) {
		printf("# image %lld of seed %llu: %s, expected %s\n",
		       (long long)opt.only, (unsigned long long)opt.seed,
		       last_err ? errname(last_err) : "no errno",
		       errname(want));
		rc = rc || last_err != want;
	}
	if (opt.tap)
		printf("%sok 1 selftests: checkpoint: crfuzz\n", rc ? "not " : "");
	return rc;
}
