// SPDX-License-Identifier: GPL-2.0
/*
 * Anonymous pages a process of a tree shares copy-on-write with its parent
 * since a fork stay shared across checkpoint(pid, fd, CR_CHECKPOINT_TREE)
 * and restart(0, fd, CR_RESTART_TREE): CR_VMA_INHERIT areas and
 * CR_HDR_COW_PAGES records.
 *
 * A scenario (struct scen) says which areas the root maps at fixed
 * addresses and fills, which pages each task rewrites before and after it
 * forks its children, what every page of every task holds (a per-page
 * pattern, zero, or not mapped), and whether it is the very physical page
 * (PFN of /proc/PID/pagemap) the parent has at that address.  The test
 * checks the sharing on the original stopped tree from outside, then the
 * checkpointed and restarted tasks check from the inside their memory
 * and its sharing with their parent (whose PFNs the parent writes to a
 * file of the test directory: /proc of a new pid namespace is not ours).
 *
 * After the restart, the tasks go on in an order: a child checks its
 * pages and stops; its parent, once all its children are stopped, writes
 * a page it shares with them and continues them; they check they still
 * have their content, write a page they share with it, and exit; the
 * parent checks its memory has none of their writes.
 */

#include "tree_harness.h"

#define MAXT		8
#define MAXA		8
#define BASE		0x100000000000UL	/* the first area */
#define AREA_STEP	0x10000000UL		/* between areas */
#define SEED_ALL	1			/* the root's first pattern */
#define NOT_MAPPED	-1			/* seed of an area not mapped */

/* What a page is to its parent's, by the PFNs (ABSENT: none, or the zero page) */
enum share { ANY, SAME, DIFF, ABSENT };

struct scen {
	const char *name;
	int nt;
	int parent[MAXT];	/* at the checkpoint */
	bool creators;		/* @creator says who forks each task */
	int creator[MAXT];
	int gone;		/* a task that exits after its forks, or 0 */
	int na;
	size_t npages[MAXA];
	/* Setup of task @i, before (@after false) and after its forks */
	void (*setup)(int i, bool after);
	/* Content seed of page @p of area @a in task @i, 0 for zero */
	int (*seed)(int i, int a, size_t p);
	/* How page @p of area @a of task @i is to its parent's */
	enum share (*share)(int i, int a, size_t p, bool restarted);
	/* The page each task writes after the restart, or -1 */
	long (*post_write)(int i);
	/* More checks of task @i after the restart */
	void (*extra)(int i);
};

static const struct scen *S;
static char g_dir[64];
static int me = -1;
static bool wrote;		/* after the restart: post_write() done */

static inline char *area(int a)
{
	return (char *)(BASE + a * AREA_STEP);
}

static void page_fill(int a, size_t p, int seed)
{
	uint64_t *w = (uint64_t *)(area(a) + p * pg());
	uint64_t v = mix64(seed * 0x100000001b3ULL + p);
	size_t j;

	for (j = 0; j < pg() / 8; j++)
		w[j] = v + j;
}

static bool page_ok(int a, size_t p, int seed)
{
	const uint64_t *w = (const uint64_t *)(area(a) + p * pg());
	uint64_t v = mix64(seed * 0x100000001b3ULL + p);
	size_t j;

	for (j = 0; j < pg() / 8; j++)
		if (w[j] != (seed ? v + j : 0))
			return false;
	return true;
}

/* Fill the pages @p of area @a with p % 64 == @k (-1: all) */
static void fill_class(int a, int k, int seed)
{
	size_t p;

	for (p = 0; p < S->npages[a]; p++)
		if (k < 0 || (int)(p % 64) == k)
			page_fill(a, p, seed);
}

static void map_area(int a, int prot, int seed)
{
	void *m = mmap(area(a), S->npages[a] * pg(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (m != area(a))
		setup_fail("mmap");
	if (seed)
		fill_class(a, -1, seed);
	if (prot != (PROT_READ | PROT_WRITE) &&
	    mprotect(area(a), S->npages[a] * pg(), prot))
		setup_fail("mprotect");
}

/* The expected seed, with the page the task wrote after the restart */
static int seed_of(int i, int a, size_t p)
{
	if (wrote && !a && S->post_write && (long)p == S->post_write(i))
		return 200 + i;
	return S->seed(i, a, p);
}

/* Content of every page of every area, from the inside */
static void check_content(const char *when)
{
	int a, seed, bad;
	size_t p, first;

	for (a = 0; a < S->na; a++) {
		if (S->seed(me, a, 0) == NOT_MAPPED) {
			CHECKF(probe_read(area(a)) == 0,
			       "%s: area %d is mapped", when, a);
			continue;
		}
		bad = 0;
		first = 0;
		for (p = 0; p < S->npages[a]; p++) {
			seed = seed_of(me, a, p);
			if (!page_ok(a, p, seed) && !bad++)
				first = p;
		}
		CHECKF(!bad, "%s: area %d: %d pages of %zu wrong, the first %zu (seed %d expected)",
		       when, a, bad, S->npages[a], first, seed_of(me, a, first));
	}
}

/* Pagemap entries of @pid (0: self) for area @a into @e; false on error */
static bool read_pagemap(pid_t pid, int a, uint64_t *e)
{
	char path[64];
	size_t len = S->npages[a] * 8;
	ssize_t n;
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/pagemap");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = pread(fd, e, len, (BASE + a * AREA_STEP) / pg() * 8);
	close(fd);
	return n == (ssize_t)len;
}

#define PM_PRESENT	0x8000000000000000ULL	/* bit 63 */
#define PM_PFN		0x007fffffffffffffULL	/* bits 0-54 */

/* The PFN of the zero page, which a read of a page never written maps */
static uint64_t zero_pfn(void)
{
	static uint64_t pfn = PM_PFN + 1;
	uint64_t e = 0;
	char path[64];
	char *m;
	int fd;

	if (pfn <= PM_PFN)
		return pfn;
	m = mmap(NULL, pg(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return pfn;
	snprintf(path, sizeof(path), "/proc/self/pagemap");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!m[0] && fd >= 0 &&
	    pread(fd, &e, 8, (uintptr_t)m / pg() * 8) == 8 &&
	    (e & PM_PRESENT))
		pfn = e & PM_PFN;
	if (fd >= 0)
		close(fd);
	munmap(m, pg());
	return pfn;
}

/*
 * The pages of area @a of task @i (entries @c) against its parent's (@pa):
 * the number of mismatches, the first described in @msg
 */
static int compare(int i, int a, const uint64_t *c, const uint64_t *pa,
		   bool restarted, char *msg, size_t len)
{
	int bad = 0;
	size_t p;

	for (p = 0; p < S->npages[a]; p++) {
		enum share sh = S->share(i, a, p, restarted);
		bool cp = c[p] & PM_PRESENT, pp = pa[p] & PM_PRESENT;
		bool ok;

		if (wrote && !a && S->post_write && (long)p == S->post_write(i))
			sh = DIFF;
		switch (sh) {
		case SAME:
			ok = cp && pp && (c[p] & PM_PFN) == (pa[p] & PM_PFN) &&
			     (c[p] & PM_PFN);
			break;
		case DIFF:
			ok = cp && (!pp || (c[p] & PM_PFN) != (pa[p] & PM_PFN));
			break;
		case ABSENT:
			/* Or the zero page, once read */
			ok = !cp || (c[p] & PM_PFN) == zero_pfn();
			break;
		default:
			ok = true;
		}
		if (!ok && !bad++)
			snprintf(msg, len,
				 "t%d area %d page %zu: expected %s, entries %#llx (parent %#llx)",
				 i, a, p, sh == SAME ? "the parent's page" :
				 sh == DIFF ? "a page of its own" : "no page",
				 (unsigned long long)c[p],
				 (unsigned long long)pa[p]);
	}
	return bad;
}

/* The tree's tasks */

static void pfn_path(int i, char *buf, size_t len)
{
	snprintf(buf, len, "%s/pfn%d", g_dir, i);
}

/* Publish our pagemap entries, whole or not at all */
static void publish_pfns(void)
{
	static uint64_t e[8192];
	char path[96], tmp[100];
	int a, fd;

	pfn_path(me, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!CHECKF(fd >= 0, "%s: %s", tmp, strerror(errno)))
		return;
	for (a = 0; a < S->na; a++) {
		memset(e, 0, S->npages[a] * 8);
		if (S->seed(me, a, 0) != NOT_MAPPED)
			CHECK(read_pagemap(0, a, e));
		CHECK(write(fd, e, S->npages[a] * 8) ==
		      (ssize_t)(S->npages[a] * 8));
	}
	CHECK(close(fd) == 0);
	CHECK(rename(tmp, path) == 0);
}

/* Compare our pages with those the parent published */
static void check_sharing(void)
{
	static uint64_t c[8192], pa[8192];
	char path[96], msg[256];
	int a, fd, ms, bad;
	size_t len;

	pfn_path(S->parent[me], path, sizeof(path));
	for (ms = 0; ms < CHILD_TIMEOUT_MS && access(path, F_OK); ms += 5)
		usleep(5000);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!CHECKF(fd >= 0, "%s: %s", path, strerror(errno)))
		return;
	for (a = 0; a < S->na; a++) {
		len = S->npages[a] * 8;
		if (!CHECK(read(fd, pa, len) == (ssize_t)len))
			break;
		if (S->seed(me, a, 0) == NOT_MAPPED)
			continue;
		if (!CHECK(read_pagemap(0, a, c)))
			continue;
		bad = compare(me, a, c, pa, true, msg, sizeof(msg));
		CHECKF(!bad, "%d pages shared wrongly: %s", bad, msg);
	}
	close(fd);
}

static int nr_children(int i)
{
	int c, n = 0;

	for (c = 0; c < S->nt; c++)
		n += c && c != S->gone && S->parent[c] == i;
	return n;
}

/* The page of area 0 the task writes after the restart */
static void write_own(void)
{
	static uint64_t before[8192], after[8192];
	long p = S->post_write ? S->post_write(me) : -1;

	if (p < 0)
		return;
	CHECK(read_pagemap(0, 0, before));
	page_fill(0, p, 200 + me);
	wrote = true;
	CHECK(read_pagemap(0, 0, after));
	CHECKF(page_ok(0, p, 200 + me), "page %ld: not what we wrote", p);
	/* It was shared, with the parent or the children: copied now */
	CHECKF((before[p] & PM_PFN) != (after[p] & PM_PFN),
	       "page %ld: the same page %#llx after the write", p,
	       (unsigned long long)(after[p] & PM_PFN));
}

/* g_twice: the first restart stops again, to be checkpointed again */
static bool g_twice;
static int restarts;

/* After the restart: see the comment at the top */
static void __noreturn go_on(void)
{
	pid_t stopped[MAXT], pid;
	int n = nr_children(me), k, status;

	cr_phase = "restarted";
	if (g_twice && !restarts++) {
		check_content("first restart");
		tree_ready(g_dir, 's', me);
		raise(SIGSTOP);
		cr_phase = "restarted twice";
	}
	check_content("restarted");
	if (S->extra)
		S->extra(me);
	publish_pfns();
	if (me) {
		check_sharing();
		raise(SIGSTOP);
		/* The parent wrote a page it shares with us: not ours */
		check_content("after the parent's write");
	}
	for (k = 0; k < n; k++) {
		do {
			pid = waitpid(-1, &status, WUNTRACED);
		} while (pid < 0 && errno == EINTR);
		stopped[k] = pid;
		if (!CHECKF(pid > 0 && WIFSTOPPED(status),
			    "child %d: wait status %#x", pid, status))
			cr_exit(EXIT_RESTARTED);
	}
	write_own();
	for (k = 0; k < n; k++)
		CHECK(kill(stopped[k], SIGCONT) == 0);
	for (k = 0; k < n; k++) {
		do {
			pid = waitpid(-1, &status, 0);
		} while (pid < 0 && errno == EINTR);
		CHECKF(pid > 0 && WIFEXITED(status) &&
		       WEXITSTATUS(status) == EXIT_RESTARTED,
		       "child %d: wait status %#x", pid, status);
	}
	/* The children wrote pages they shared with us: not ours */
	check_content("after the children's writes");
	cr_exit(EXIT_RESTARTED);
}

static void __noreturn task_main(int i)
{
	char name[16];
	pid_t pid;
	int c;

	me = i;
	cr_phase = "task";
	snprintf(name, sizeof(name), "c%d", i);
	prctl(PR_SET_NAME, name);
	if (!i)
		cr_prepare(-1);
	S->setup(i, false);
	for (c = i + 1; c < S->nt; c++) {
		if ((S->creators ? S->creator[c] : S->parent[c]) != i)
			continue;
		pid = tree_fork();
		if (!pid)
			task_main(c);
	}
	if (i && i == S->gone)
		_exit(0);
	S->setup(i, true);
	tree_ready(g_dir, 'r', me);
	raise(SIGSTOP);
	go_on();
}

/* The test's side */

struct tree {
	pid_t pids[MAXT];
	pid_t root;
};

/* Wait until every task said it is ready (file @letter<i>) and stopped */
static void wait_tree(struct __test_metadata *_metadata, struct tree *t,
		      char letter)
{
	char path[96];
	int i;

	for (i = 0; i < S->nt; i++) {
		if (i && i == S->gone)
			continue;
		snprintf(path, sizeof(path), "%s/%c%d", g_dir, letter, i);
		t->pids[i] = wait_ready_file(_metadata, path, 0);
		ASSERT_LT(0, t->pids[i]);
		wait_state(_metadata, t->pids[i], 'T');
	}
}

static void tree_start(struct __test_metadata *_metadata, struct cr_dir *d,
		       struct tree *t)
{
	pid_t pid;

	memset(t, 0, sizeof(*t));
	snprintf(g_dir, sizeof(g_dir), "%s", d->dir);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		task_main(0);
	kid_add(pid);
	t->root = pid;
	wait_tree(_metadata, t, 'r');
	ASSERT_EQ(pid, t->pids[0]);
}

/* The sharing of the original tree, seen from outside */
static void check_tree_sharing(struct __test_metadata *_metadata,
			       const struct tree *t)
{
	static uint64_t c[8192], pa[8192];
	char msg[256];
	int i, a, bad;

	for (i = 1; i < S->nt; i++) {
		for (a = 0; a < S->na && i != S->gone; a++) {
			if (S->seed(i, a, 0) == NOT_MAPPED)
				continue;
			ASSERT_TRUE(read_pagemap(t->pids[i], a, c));
			ASSERT_TRUE(read_pagemap(t->pids[S->parent[i]], a, pa));
			bad = compare(i, a, c, pa, false, msg, sizeof(msg));
			EXPECT_EQ(0, bad) TH_LOG("original tree: %s", msg);
		}
	}
}

static void tree_kill(struct __test_metadata *_metadata, struct tree *t)
{
	kill_reap(t->pids, S->nt);
	kid_del(t->root);
	t->root = 0;
}

/*
 * Fork a restarter of the tree in @img, whose root is @img_root: without
 * CR_RESTART_NEW_PIDS in a new pid namespace, under a pid 1 that reaps
 */
static pid_t spawn_restart(struct __test_metadata *_metadata, const char *img,
			   unsigned long flags, pid_t img_root)
{
	const struct tree_restart r = {
		.flags = flags | CR_RESTART_TREE,
		.img_root = img_root,
	};
	char path[96];
	int i;

	/* What the original tree did not publish: nothing, but be sure */
	for (i = 0; i < MAXT; i++) {
		pfn_path(i, path, sizeof(path));
		unlink(path);
	}
	return spawn_tree_restarter(_metadata, img, &r);
}

/* Time for the tasks to check 32 MiB each under emulation */
#define RESTART_TIMEOUT_MS	(5 * CHILD_TIMEOUT_MS)

static void restart_ok(struct __test_metadata *_metadata, struct cr_dir *d,
		       unsigned long flags, pid_t img_root)
{
	pid_t pid = spawn_restart(_metadata, d->img, flags, img_root);

	expect_exit_ms(_metadata, pid, EXIT_RESTARTED, "restarted tree's root",
		       RESTART_TIMEOUT_MS);
}

/* Fork the tree of @scen, check its sharing, checkpoint it and kill it */
static void tree_save(struct __test_metadata *_metadata, struct cr_dir *d,
		      const struct scen *scen, struct tree *t)
{
	S = scen;
	tree_start(_metadata, d, t);
	check_tree_sharing(_metadata, t);
	tree_checkpoint_to(_metadata, t->root, d->imgfd);
	tree_kill(_metadata, t);
}

/* The records of an image */

/* Count the records of @type, and the addresses they list */
static void count_recs(const unsigned char *buf, size_t len, __u32 type,
		       long *nr, long *pages)
{
	struct cr_hdr_pages ph;
	size_t off = 0;

	*nr = *pages = 0;
	while (off + sizeof(ph) <= len) {
		memcpy(&ph, buf + off, sizeof(ph));
		if (ph.h.len < sizeof(ph.h))
			break;
		if (ph.h.type == type) {
			(*nr)++;
			*pages += ph.nr_pages;
		}
		if (ph.h.type == CR_HDR_TAIL)
			break;
		off += CR_ALIGN8(ph.h.len);
	}
}

FIXTURE(tree_cow) {
	struct cr_dir d;
};

FIXTURE_SETUP(tree_cow)
{
	REQUIRE_CHECKPOINT();
	if (geteuid())
		SKIP(return, "needs root: PFNs in /proc/PID/pagemap, pid namespaces");
	if (access("/proc/self/pagemap", R_OK))
		SKIP(return, "no /proc/self/pagemap (CONFIG_PROC_PAGE_MONITOR)");
	cr_dir_setup(_metadata, &self->d);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
}

FIXTURE_TEARDOWN_PARENT(tree_cow)
{
	cr_dir_teardown(_metadata, &self->d);
}

/*
 * Shared: the root t0 maps 32 MiB and fills it, forks t1-t4; t1 forks
 * t5.  By p % 64 = k: t0 rewrites k = 0 after its forks, t1-t4 k = 1-4,
 * t1 k = 6 after forking t5, t5 k = 5.  After the restart t<i> writes
 * page 64 * (10 + i) + 40.
 */
#define SHARE_PAGES	8192

static void share_setup(int i, bool after)
{
	if (!i && !after)
		map_area(0, PROT_READ | PROT_WRITE, SEED_ALL);
	else if (!i)
		fill_class(0, 0, 100);
	else if (!after)
		fill_class(0, i, 100 + i);
	else if (i == 1)
		fill_class(0, 6, 106);
}

static int share_seed(int i, int a, size_t p)
{
	int k = p % 64;

	if (k == 0 && !i)
		return 100;
	if (k == i && i)
		return 100 + i;
	if (k == 6 && i == 1)
		return 106;
	if (k == 1 && i == 5)
		return 101;
	return SEED_ALL;
}

static enum share share_share(int i, int a, size_t p, bool restarted)
{
	int k = p % 64;

	if (i == 5)
		return k == 5 || k == 6 ? DIFF : SAME;
	return k == 0 || k == i || (i == 1 && k == 6) ? DIFF : SAME;
}

static long share_write(int i)
{
	return 64 * (10 + i) + 40;
}

static const struct scen share_scen = {
	.name = "shared",
	.nt = 6,
	.parent = { -1, 0, 0, 0, 0, 1 },
	.na = 1,
	.npages = { SHARE_PAGES },
	.setup = share_setup,
	.seed = share_seed,
	.share = share_share,
	.post_write = share_write,
};

static void run_shared(struct __test_metadata *_metadata, struct cr_dir *d,
		       unsigned long flags)
{
	size_t len, region = SHARE_PAGES * pg();
	long nr, cow, nrp, pages;
	unsigned char *buf;
	struct tree t;

	tree_save(_metadata, d, &share_scen, &t);
	buf = img_load(_metadata, d->img, &len, 0);
	count_recs(buf, len, CR_HDR_COW_PAGES, &nr, &cow);
	count_recs(buf, len, CR_HDR_PAGES, &nrp, &pages);
	free(buf);
	TH_LOG("image of %zu bytes: %ld pages in %ld records, %ld shared in %ld",
	       len, pages, nrp, cow, nr);
	/* Without sharing: 6 x 32 MiB */
	EXPECT_GT(2 * region, len);
	/* t1-t4 share all but 2 or 3 pages of 64 with t0, t5 all but 2 */
	EXPECT_LE(4 * (SHARE_PAGES / 64) * 61 + (SHARE_PAGES / 64) * 62, cow);
	restart_ok(_metadata, d, flags, t.pids[0]);
}

/* In a new pid namespace, with the pids of the image */
TEST_F_TIMEOUT(tree_cow, shared_same_pids, 300)
{
	run_shared(_metadata, &self->d, 0);
}

TEST_F_TIMEOUT(tree_cow, shared_new_pids, 300)
{
	run_shared(_metadata, &self->d, CR_RESTART_NEW_PIDS);
}

/*
 * The restarted tree shares its pages as the original did: checkpointed
 * and restarted again, it still does
 */
TEST_F_TIMEOUT(tree_cow, twice, 400)
{
	struct tree t;
	struct stat st;
	char img2[96];
	pid_t r;
	int fd;

	S = &share_scen;
	g_twice = true;
	tree_start(_metadata, &self->d, &t);
	tree_checkpoint_to(_metadata, t.root, self->d.imgfd);
	tree_kill(_metadata, &t);
	r = spawn_restart(_metadata, self->d.img, CR_RESTART_NEW_PIDS, 0);
	wait_tree(_metadata, &t, 's');
	t.root = t.pids[0];
	/* From outside: the restored tree shares as the original did */
	check_tree_sharing(_metadata, &t);
	cr_path(&self->d, "image2", img2, sizeof(img2));
	fd = open(img2, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	tree_checkpoint_to(_metadata, t.root, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	close(fd);
	EXPECT_GT(2 * SHARE_PAGES * pg(), (size_t)st.st_size);
	tree_kill(_metadata, &t);
	kid_del(r);
	r = spawn_restart(_metadata, img2, 0, t.pids[0]);
	expect_exit_ms(_metadata, r, EXIT_RESTARTED, "tree restarted twice",
		       RESTART_TIMEOUT_MS);
}

/*
 * An orphan: the root t0, a subreaper, forks t1, which rewrites the pages
 * p % 8 = 1, forks t2 and exits; t0 reaps it, rewrites p % 8 = 0.  t2,
 * now t0's child, rewrites p % 8 = 2: it shares the others with t0, from
 * before t1 was forked, and is restarted as t0's child.
 */
#define ORPHAN_PAGES	64

static void orphan_setup(int i, bool after)
{
	size_t p;

	if (!i && !after) {
		if (prctl(PR_SET_CHILD_SUBREAPER, 1))
			setup_fail("subreaper");
		map_area(0, PROT_READ | PROT_WRITE, SEED_ALL);
	} else if (!i) {
		if (wait(NULL) < 0)
			setup_fail("reaping t1");
		for (p = 0; p < ORPHAN_PAGES; p += 8)
			page_fill(0, p, 100);
	} else if (!after) {
		for (p = i; p < ORPHAN_PAGES; p += 8)
			page_fill(0, p, 100 + i);
	}
}

static int orphan_seed(int i, int a, size_t p)
{
	int k = p % 8;

	if (!i)
		return k ? SEED_ALL : 100;
	return k == 1 || k == 2 ? 100 + k : SEED_ALL;
}

static enum share orphan_share(int i, int a, size_t p, bool restarted)
{
	return p % 8 <= 2 ? DIFF : SAME;
}

static long orphan_write(int i)
{
	return 8 * (2 + i) + 3;
}

static const struct scen orphan_scen = {
	.name = "orphan",
	.nt = 3,
	.parent = { -1, 0, 0 },
	.creators = true,
	.creator = { -1, 0, 1 },
	.gone = 1,
	.na = 1,
	.npages = { ORPHAN_PAGES },
	.setup = orphan_setup,
	.seed = orphan_seed,
	.share = orphan_share,
	.post_write = orphan_write,
};

TEST_F_TIMEOUT(tree_cow, orphan, 300)
{
	struct tree t;

	tree_save(_metadata, &self->d, &orphan_scen, &t);
	restart_ok(_metadata, &self->d, 0, t.pids[0]);
}

/*
 * Areas not inherited.  The root t0 maps: 0, 64 pages; 1 (D) and 2 (W),
 * MADV_DONTFORK and MADV_WIPEONFORK after its forks; 3 (W2) and 4 (D2),
 * MADV_WIPEONFORK and MADV_DONTFORK before; 5, read-only.  t1 unmaps
 * pages 16-31 of area 0, maps them again and writes pages 16-23; t2 makes
 * pages 8-15 read-only; t3 writes W2, maps an area of its own at D2 and
 * drops pages of area 0 (MADV_DONTNEED), which it still inherits; t1
 * writes a page of area 5 between two mprotect(), inherited still.
 */
#define NI_PAGES	64
#define NI_SMALL	8

static void ni_setup(int i, bool after)
{
	char *r = area(0);
	size_t p;

	if (!i && !after) {
		map_area(0, PROT_READ | PROT_WRITE, SEED_ALL);
		map_area(1, PROT_READ | PROT_WRITE, 11);
		map_area(2, PROT_READ | PROT_WRITE, 12);
		map_area(3, PROT_READ | PROT_WRITE, 13);
		map_area(4, PROT_READ | PROT_WRITE, 14);
		map_area(5, PROT_READ, 15);
		if (madvise(area(3), NI_SMALL * pg(), MADV_WIPEONFORK) ||
		    madvise(area(4), NI_SMALL * pg(), MADV_DONTFORK))
			setup_fail("madvise");
	} else if (!i) {
		if (madvise(area(1), NI_SMALL * pg(), MADV_DONTFORK) ||
		    madvise(area(2), NI_SMALL * pg(), MADV_WIPEONFORK))
			setup_fail("madvise");
	} else if (i == 1 && !after) {
		if (munmap(r + 16 * pg(), 16 * pg()) ||
		    mmap(r + 16 * pg(), 16 * pg(), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
		    r + 16 * pg())
			setup_fail("mmap again");
		for (p = 16; p < 24; p++)
			page_fill(0, p, 301);
		/* A page of its own in the read-only area, inherited still */
		if (mprotect(area(5), NI_SMALL * pg(), PROT_READ | PROT_WRITE))
			setup_fail("mprotect");
		page_fill(5, 3, 305);
		if (mprotect(area(5), NI_SMALL * pg(), PROT_READ))
			setup_fail("mprotect");
	} else if (i == 2 && !after) {
		if (mprotect(r + 8 * pg(), 8 * pg(), PROT_READ))
			setup_fail("mprotect");
	} else if (i == 3 && !after) {
		fill_class(3, -1, 303);
		if (mmap(area(4), NI_SMALL * pg(), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 -1, 0) != area(4))
			setup_fail("mmap at D2");
		fill_class(4, -1, 313);
		/* Pages dropped in an area still inherited: zero after */
		if (madvise(r, 4 * pg(), MADV_DONTNEED) ||
		    madvise(r + 40 * pg(), 8 * pg(), MADV_DONTNEED) ||
		    madvise(r + 60 * pg(), 4 * pg(), MADV_DONTNEED))
			setup_fail("MADV_DONTNEED");
	}
}

/* Pages t3 dropped from area 0 */
static bool dropped(int i, size_t p)
{
	return i == 3 && (p < 4 || (p >= 40 && p < 48) || p >= 60);
}

static int ni_seed(int i, int a, size_t p)
{
	switch (a) {
	case 0:
		if (i == 1 && p >= 16 && p < 32)
			return p < 24 ? 301 : 0;
		return dropped(i, p) ? 0 : SEED_ALL;
	case 3:
		return !i ? 13 : i == 3 ? 303 : 0;
	case 4:
		return !i ? 14 : i == 3 ? 313 : NOT_MAPPED;
	default:
		return a == 5 && i == 1 && p == 3 ? 305 : 10 + a;
	}
}

static enum share ni_share(int i, int a, size_t p, bool restarted)
{
	switch (a) {
	case 0:
		if (i == 1)
			return p < 16 || p >= 32 ? (restarted ? ANY : SAME) :
			       p < 24 ? DIFF : ABSENT;
		if (i == 2)
			return restarted ? DIFF : SAME;
		return dropped(i, p) ? ABSENT : SAME;
	case 1:
	case 2:
		return restarted ? DIFF : SAME;
	case 3:
		return i == 3 ? DIFF : ABSENT;
	case 4:
		return DIFF;
	default:
		return i == 1 && p == 3 ? DIFF : SAME;
	}
}

/* Read-only where it was, writable elsewhere */
static void ni_extra(int i)
{
	char *r = area(0);

	CHECK(probe_write(area(5)) == 0);
	if (i != 2)
		return;
	CHECK(probe_write(r + 8 * pg()) == 0);
	CHECK(probe_write(r + 15 * pg()) == 0);
	CHECK(probe_write(r + 7 * pg()) == 1);
	CHECK(probe_write(r + 16 * pg()) == 1);
}

static const struct scen ni_scen = {
	.name = "not inherited",
	.nt = 4,
	.parent = { -1, 0, 0, 0 },
	.na = 6,
	.npages = { NI_PAGES, NI_SMALL, NI_SMALL, NI_SMALL, NI_SMALL, NI_SMALL },
	.setup = ni_setup,
	.seed = ni_seed,
	.share = ni_share,
	.extra = ni_extra,
};

TEST_F_TIMEOUT(tree_cow, not_inherited, 300)
{
	struct tree t;

	tree_save(_metadata, &self->d, &ni_scen, &t);
	restart_ok(_metadata, &self->d, 0, t.pids[0]);
}

/*
 * Bad images.  t0 maps 16 pages at BASE, forks t1, rewrites page 10;
 * t1 rewrites pages 4 and 5.  t1's section lists pages 0-3 of the area
 * as shared, 4-5 as its own, 6-9 shared, 10 its own, 11-15 shared.
 */
#define V_PAGES		16
#define PA(n)		(BASE + (n) * 4096UL)

static void v_setup(int i, bool after)
{
	if (!i && !after) {
		map_area(0, PROT_READ | PROT_WRITE, SEED_ALL);
	} else if (!i) {
		page_fill(0, 10, 110);
	} else if (!after) {
		page_fill(0, 4, 104);
		page_fill(0, 5, 104);
	}
}

static int v_seed(int i, int a, size_t p)
{
	if (!i && p == 10)
		return 110;
	if (i && (p == 4 || p == 5))
		return 104;
	return SEED_ALL;
}

static enum share v_share(int i, int a, size_t p, bool restarted)
{
	return p == 4 || p == 5 || p == 10 ? DIFF : SAME;
}

static const struct scen v_scen = {
	.name = "validate",
	.nt = 2,
	.parent = { -1, 0 },
	.na = 1,
	.npages = { V_PAGES },
	.setup = v_setup,
	.seed = v_seed,
	.share = v_share,
};

/* Where the edit is */
enum where {
	NONE,
	VMA_ROOT,	/* the area's record in t0's section */
	VMA_CHILD,	/* in t1's */
	VMA_FILE,	/* t1's first record of a file area */
	VMA_CHILD_ALL,	/* every area record of t1 */
	COW_AT,		/* the COW_PAGES record listing page @page */
	PAGES_AT,	/* the PAGES record of t1 listing page @page */
	SINGLE,		/* the area in an image of t1 alone */
};

struct edit {
	enum where where;
	int page;	/* PA(page), for COW_AT and PAGES_AT */
	int field;	/* offset in the record, -1: the address of @page */
	int size;	/* 4 or 8 */
	int op;		/* enum edit_op */
	__s64 val;
};

/* Fields of an area record: the addresses are 8 bytes, the rest 4 */
#define VF(w, f, o, v)	{ w, 0, offsetof(struct cr_hdr_vma, f), 4, o, v }
#define VA(w, f, o, v)	{ w, 0, offsetof(struct cr_hdr_vma, f), 8, o, v }
#define PGF(w, n, f, o, v) { w, n, offsetof(struct cr_hdr_pages, f), 4, o, v }
#define ADDR(w, n, o, v) { w, n, -1, 8, o, v }

/* The area record of BASE in the section starting at @sec */
static long vma_at(const unsigned char *buf, size_t len, long sec, __u32 kind)
{
	long end = rec_find(buf, len, sec + 8, CR_HDR_TASK, 0, NULL, 0);
	struct cr_hdr_vma v;
	long at;
	int n;

	for (n = 0; (at = rec_find(buf, len, sec, CR_HDR_VMA, n, NULL, 0)) >= 0; n++) {
		if (end >= 0 && at > end)
			break;
		memcpy(&v, buf + at, sizeof(v));
		if (kind ? v.kind == kind : v.start == BASE)
			return at;
	}
	return -1;
}

/* The record of @type from @sec listing PA(@page), its index in *@idx */
static long rec_of(const unsigned char *buf, size_t len, long sec,
		   __u32 type, int page, int *idx)
{
	struct cr_hdr_pages ph;
	long at;
	__u64 a;
	int n;
	__u32 i;

	for (n = 0; (at = rec_find(buf, len, sec, type, n, NULL, 0)) >= 0; n++) {
		memcpy(&ph, buf + at, sizeof(ph));
		for (i = 0; i < ph.nr_pages && i < CR_PAGES_MAX; i++) {
			memcpy(&a, buf + at + sizeof(ph) + i * 8, 8);
			if (a == PA(page)) {
				*idx = i;
				return at;
			}
		}
	}
	return -1;
}

static bool apply(struct __test_metadata *_metadata, unsigned char *buf,
		  size_t len, const struct edit *e)
{
	long s0 = rec_find(buf, len, 0, CR_HDR_TASK, 0, NULL, 0);
	long s1 = rec_find(buf, len, 0, CR_HDR_TASK, 1, NULL, 0);
	long at = -1, off;
	int idx = 0, n;

	switch (e->where) {
	case VMA_ROOT:
		at = vma_at(buf, len, s0, 0);
		break;
	case VMA_CHILD:
		at = s1 < 0 ? -1 : vma_at(buf, len, s1, 0);
		break;
	case SINGLE:
		at = vma_at(buf, len, s0, 0);
		break;
	case VMA_FILE:
		at = vma_at(buf, len, s1, CR_VMA_FILE);
		break;
	case VMA_CHILD_ALL:
		for (n = 0; (at = rec_find(buf, len, s1, CR_HDR_VMA, n, NULL, 0)) >= 0;
		     n++) {
			struct cr_hdr_vma vh;

			memcpy(&vh, buf + at, sizeof(vh));
			vh.flags &= ~CR_VMA_INHERIT;
			memcpy(buf + at, &vh, sizeof(vh));
		}
		return n > 0;
	case COW_AT:
		at = rec_of(buf, len, s1, CR_HDR_COW_PAGES, e->page, &idx);
		break;
	case PAGES_AT:
		at = rec_of(buf, len, s1, CR_HDR_PAGES, e->page, &idx);
		break;
	default:
		return true;
	}
	if (at < 0 || s0 < 0) {
		TH_LOG("no record to edit (where %d, page %d)", e->where,
		       e->page);
		return false;
	}
	off = e->field >= 0 ? at + e->field :
	      at + (long)sizeof(struct cr_hdr_pages) + idx * 8;
	edit_field(buf + off, e->size, e->op, e->val);
	return true;
}

/* The restarter of a variant, a subreaper: it reports what restart did */
static void reporter(void *arg, int fd, int out)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		report_setup(out);
	restart_report(fd, *(unsigned long *)arg, 0, out);
}

FIXTURE(tree_cow_validate) {
	struct cr_dir d;
};

FIXTURE_VARIANT(tree_cow_validate) {
	int err;
	const char *why;
	struct edit edit[2];
};

FIXTURE_SETUP(tree_cow_validate)
{
	REQUIRE_CHECKPOINT();
	if (geteuid())
		SKIP(return, "needs root: PFNs in /proc/PID/pagemap");
	cr_dir_setup(_metadata, &self->d);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
}

FIXTURE_TEARDOWN_PARENT(tree_cow_validate)
{
	cr_dir_teardown(_metadata, &self->d);
}

#define NO_PARENT	"no parent of the image creates the task"
#define CANNOT		"cannot be inherited"
#define NOT_PARENTS	"is not the parent's"
#define BAD_ADDR	"bad page address"
#define ORDER		"out of order"
#define BAD_REC		"bad pages record"

FIXTURE_VARIANT_ADD(tree_cow_validate, unedited) {
	.err = 0,
};

/* Where nobody creates the process from its parent */
FIXTURE_VARIANT_ADD(tree_cow_validate, single_process) {
	.err = EINVAL, .why = NO_PARENT,
	.edit = { VF(SINGLE, flags, OR, CR_VMA_INHERIT) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, root_section) {
	.err = EINVAL, .why = NO_PARENT,
	.edit = { VF(VMA_ROOT, flags, OR, CR_VMA_INHERIT) },
};

/* What cannot be inherited */
FIXTURE_VARIANT_ADD(tree_cow_validate, file_area) {
	.err = EINVAL, .why = CANNOT,
	.edit = { VF(VMA_FILE, flags, OR, CR_VMA_INHERIT) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, locked) {
	.err = EINVAL, .why = CANNOT,
	.edit = { VF(VMA_CHILD, flags, OR, CR_VMA_LOCKED) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, lockonfault) {
	.err = EINVAL, .why = CANNOT,
	.edit = { VF(VMA_CHILD, flags, OR,
		     CR_VMA_LOCKED | CR_VMA_LOCKONFAULT) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, dontfork) {
	.err = EINVAL, .why = CANNOT,
	.edit = { VF(VMA_CHILD, flags, OR, CR_VMA_DONTFORK) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, wipeonfork) {
	.err = EINVAL, .why = CANNOT,
	.edit = { VF(VMA_CHILD, flags, OR, CR_VMA_WIPEONFORK) },
};

/* An anonymous area cannot be shared: refused as a bad kind first */
FIXTURE_VARIANT_ADD(tree_cow_validate, shared) {
	.err = EINVAL, .why = "bad kind 1 or fields",
	.edit = { VF(VMA_CHILD, flags, OR, CR_VMA_SHARED) },
};

/* The parent's area is not the one the child's record describes */
FIXTURE_VARIANT_ADD(tree_cow_validate, child_prot) {
	.err = EINVAL, .why = NOT_PARENTS,
	.edit = { VF(VMA_CHILD, prot, SET, PROT_READ) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, child_flags) {
	.err = EINVAL, .why = NOT_PARENTS,
	.edit = { VF(VMA_CHILD, flags, OR, CR_VMA_DONTDUMP) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, child_end_beyond) {
	.err = EINVAL, .why = NOT_PARENTS,
	.edit = { VA(VMA_CHILD, end, ADD, 4 * 4096) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, child_start_before) {
	.err = EINVAL, .why = NOT_PARENTS,
	.edit = { VA(VMA_CHILD, start, ADD, -4 * 4096) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, parent_prot) {
	.err = EINVAL, .why = NOT_PARENTS,
	.edit = { VF(VMA_ROOT, prot, SET, PROT_READ) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, parent_dontdump) {
	.err = EINVAL, .why = NOT_PARENTS,
	.edit = { VF(VMA_ROOT, flags, OR, CR_VMA_DONTDUMP) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, parent_dontfork) {
	.err = EINVAL, .why = NOT_PARENTS,
	.edit = { VF(VMA_ROOT, flags, OR, CR_VMA_DONTFORK) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, parent_wipeonfork) {
	.err = EINVAL, .why = NOT_PARENTS,
	.edit = { VF(VMA_ROOT, flags, OR, CR_VMA_WIPEONFORK) },
};

/* Copy-on-write pages records */
FIXTURE_VARIANT_ADD(tree_cow_validate, cow_without_inherited_areas) {
	.err = EINVAL,
	.why = "copy-on-write pages record without inherited memory areas",
	.edit = { { VMA_CHILD_ALL } },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, cow_not_aligned) {
	.err = EINVAL, .why = BAD_ADDR,
	.edit = { ADDR(COW_AT, 7, ADD, 8) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, cow_not_in_inherited_area) {
	.err = EINVAL, .why = BAD_ADDR,
	.edit = { VF(VMA_CHILD, flags, ANDN, CR_VMA_INHERIT) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, cow_in_a_hole) {
	.err = EINVAL, .why = BAD_ADDR,
	.edit = { ADDR(COW_AT, 15, ADD, 64 * 4096) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, cow_not_increasing) {
	.err = EINVAL, .why = BAD_ADDR,
	.edit = { ADDR(COW_AT, 8, SET, PA(7)) },
};

/* The first shared page after pages 4-5 of the child's own */
FIXTURE_VARIANT_ADD(tree_cow_validate, cow_below_pages) {
	.err = EINVAL, .why = ORDER,
	.edit = { ADDR(COW_AT, 6, SET, PA(5)) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, pages_below_cow) {
	.err = EINVAL, .why = ORDER,
	.edit = { ADDR(PAGES_AT, 4, SET, PA(3)) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, cow_nr_zero) {
	.err = EINVAL, .why = BAD_REC,
	.edit = { PGF(COW_AT, 7, nr_pages, SET, 0) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, cow_nr_above_max) {
	.err = EINVAL, .why = BAD_REC,
	.edit = { PGF(COW_AT, 7, nr_pages, SET, CR_PAGES_MAX + 1) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, cow_reserved) {
	.err = EINVAL, .why = BAD_REC,
	.edit = { PGF(COW_AT, 7, reserved, SET, 1) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, cow_nr_more) {
	.err = EINVAL, .why = BAD_REC,
	.edit = { PGF(COW_AT, 7, nr_pages, ADD, 1) },
};

FIXTURE_VARIANT_ADD(tree_cow_validate, cow_nr_less) {
	.err = EINVAL, .why = BAD_REC,
	.edit = { PGF(COW_AT, 7, nr_pages, ADD, -1) },
};

TEST_F_TIMEOUT(tree_cow_validate, restart, 120)
{
	bool single = variant->edit[0].where == SINGLE;
	unsigned long flags = single ? 0 : CR_RESTART_TREE | CR_RESTART_NEW_PIDS;
	struct tree_result r;
	unsigned char *buf;
	char path[128];
	struct tree t;
	size_t len;
	int i;

	S = &v_scen;
	tree_start(_metadata, &self->d, &t);
	check_tree_sharing(_metadata, &t);
	if (single) {
		ASSERT_EQ(0, ftruncate(self->d.imgfd, 0));
		ASSERT_LT(0, sys_checkpoint(t.pids[1], self->d.imgfd,
					    CR_LOGFD(2)));
	} else {
		tree_checkpoint_to(_metadata, t.root, self->d.imgfd);
	}
	tree_kill(_metadata, &t);

	buf = img_load(_metadata, self->d.img, &len, 0);
	for (i = 0; i < (int)ARRAY_SIZE(variant->edit) &&
	     variant->edit[i].where; i++)
		ASSERT_TRUE(apply(_metadata, buf, len, &variant->edit[i]));
	cr_reseal(buf, len);
	cr_path(&self->d, "edited", path, sizeof(path));
	ASSERT_EQ(0, write_file(path, buf, len));
	free(buf);

	run_reporter(_metadata, open(path, O_RDONLY | O_CLOEXEC), reporter,
		     &flags, &r);
	check_report(_metadata, &r, variant->err, variant->why);
}

TEST_HARNESS_MAIN
