// SPDX-License-Identifier: GPL-2.0
/*
 * Credentials on restart: the restored process gets the image's user and
 * group ids, groups, capabilities and securebits where the restarter could
 * have set them itself; elsewhere restart fails with EPERM (EINVAL for a
 * bad value) and the restarter goes on.  Run as root.
 */

#include "cr_harness.h"

#include <sys/fsuid.h>

#include <linux/securebits.h>

#define SEED_RST	0xc4ed

#define NOBODY		65534

static unsigned char rst_bss[8192];

/* The credentials a child takes before it checkpoints itself */
struct ids {
	uid_t uid[3];		/* real, effective, saved */
	gid_t gid[3];
	int ngroups;
	gid_t groups[4];
	bool keep_caps;		/* keep the permitted set across setresuid */
	int bset_drop;		/* a capability to drop from the bounding set */
	__u64 caps;		/* if not 0: the permitted and effective sets */
};

static struct {
	struct ids ids;
	char status[2048];	/* the credential lines of /proc/self/status */
} cr;

/* The lines of /proc/self/status about credentials, in @out */
static int cred_lines(char *out, size_t len)
{
	static const char *const keys[] = {
		"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:",
		"CapBnd:", "CapAmb:", "NoNewPrivs:",
	};
	char buf[4096], *p, *end;
	size_t n = 0, i;

	if (read_file("/proc/self/status", buf, sizeof(buf)) < 0)
		return -1;
	out[0] = 0;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		p = strstr(buf, keys[i]);
		if (!p)
			return -1;
		end = strchrnul(p, '\n');
		n += snprintf(out + n, len - n, "%.*s\n", (int)(end - p), p);
		if (n >= len)
			return -1;
	}
	return 0;
}

/* A capability set of /proc/self/status */
static __u64 cap_set(const char *key)
{
	char buf[4096], *p;

	if (read_file("/proc/self/status", buf, sizeof(buf)) < 0)
		return ~0ULL;
	p = strstr(buf, key);
	return p ? strtoull(p + strlen(key), NULL, 16) : ~0ULL;
}

static int capset_pe(__u64 caps)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2] = {
		{ .permitted = caps, .effective = caps },
		{ .permitted = caps >> 32, .effective = caps >> 32 },
	};

	return syscall(SYS_capset, &h, d);
}

static int take_ids(const struct ids *ids)
{
	if (ids->bset_drop && prctl(PR_CAPBSET_DROP, ids->bset_drop))
		return -1;
	if (setgroups(ids->ngroups, ids->groups) ||
	    setresgid(ids->gid[0], ids->gid[1], ids->gid[2]) ||
	    prctl(PR_SET_KEEPCAPS, ids->keep_caps) ||
	    setresuid(ids->uid[0], ids->uid[1], ids->uid[2]))
		return -1;
	if (ids->caps && capset_pe(ids->caps))
		return -1;
	return 0;
}

static void ids_verify(bool restarted)
{
	const struct ids *ids = &cr.ids;
	uid_t r, e, s;
	gid_t rg, eg, sg, groups[16];
	char now[2048];
	int i, n;

	CHECK(getresuid(&r, &e, &s) == 0 && r == ids->uid[0] &&
	      e == ids->uid[1] && s == ids->uid[2]);
	CHECKF(setfsuid(-1) == (int)ids->uid[1], "fsuid %d", setfsuid(-1));
	CHECK(getresgid(&rg, &eg, &sg) == 0 && rg == ids->gid[0] &&
	      eg == ids->gid[1] && sg == ids->gid[2]);
	n = getgroups(ARRAY_SIZE(groups), groups);
	if (CHECKF(n == ids->ngroups, "%d groups", n)) {
		for (i = 0; i < n; i++)
			CHECKF(groups[i] == ids->groups[i], "group %d: %u", i,
			       groups[i]);
	}
	if (CHECK(cred_lines(now, sizeof(now)) == 0))
		check_same_text("credentials", cr.status, now);
	if (ids->caps) {
		CHECK(cap_set("CapPrm:") == ids->caps);
		CHECK(cap_set("CapEff:") == ids->caps);
	} else if (ids->uid[2]) {
		CHECK(cap_set("CapPrm:") == 0 && cap_set("CapEff:") == 0);
	}
	CHECK(cap_set("CapInh:") == 0 && cap_set("CapAmb:") == 0);
	if (ids->bset_drop)
		CHECK(!(cap_set("CapBnd:") & (1ULL << ids->bset_drop)));
	if (!ids->uid[2] && ids->uid[1]) {
		/* The saved set-user-ID of root gives root back */
		CHECK(cap_set("CapEff:") == 0 && cap_set("CapPrm:") != 0);
		CHECK(seteuid(0) == 0 && geteuid() == 0);
		CHECK(cap_set("CapEff:") == cap_set("CapPrm:"));
		CHECK(seteuid(ids->uid[1]) == 0);
	}
}

static void ids_body(void *arg, int imgfd)
{
	long r;
	int err;

	memcpy(&cr.ids, arg, sizeof(cr.ids));
	cr_prepare(imgfd);
	if (take_ids(&cr.ids) || cred_lines(cr.status, sizeof(cr.status))) {
		cr_log("taking the credentials: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_finish(r, err, ids_verify);
}

/* Restarters */

static const struct ids nobody = {
	.uid = { NOBODY, NOBODY, NOBODY }, .gid = { NOBODY, NOBODY, NOBODY },
	.ngroups = 1, .groups = { NOBODY },
};

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

/* arg: the errno expected, 0 for success */
static void nobody_restarter(void *arg, int fd)
{
	int err = *(const int *)arg;

	pat_fill(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	if (close_fds_except(fd) || take_ids(&nobody))
		_exit(EXIT_SETUP);
	if (!err)
		restarter_run(fd, 0);
	restart_fails(fd, err);
	/* Still the restarter, with its credentials */
	CHECK(getuid() == NOBODY && geteuid() == NOBODY);
	cr_exit(0);
}

/* Root with SECBIT_KEEP_CAPS locked: the image's securebits unlock it */
static void locked_restarter(void *arg, int fd)
{
	pat_fill(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	if (close_fds_except(fd) ||
	    prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS_LOCKED))
		_exit(EXIT_SETUP);
	restart_fails(fd, EPERM);
	cr_exit(0);
}

/* Root without CAP_SYS_BOOT in its bounding set: the image's would grow */
static void bset_restarter(void *arg, int fd)
{
	pat_fill(rst_bss, sizeof(rst_bss), SEED_RST, 0);
	if (close_fds_except(fd) || prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT))
		_exit(EXIT_SETUP);
	restart_fails(fd, EPERM);
	cr_exit(0);
}

/* Edited images */

struct image {
	unsigned char *buf;
	size_t len;
};

static struct cr_hdr *find_rec(struct image *img, __u32 type)
{
	long off = cr_find_rec(img->buf, img->len, type, 0);

	return off < 0 ? NULL : (struct cr_hdr *)(img->buf + off);
}

static void image_edit(struct __test_metadata *_metadata, const char *from,
		       const char *to, void (*edit)(struct cr_hdr_creds *c))
{
	struct cr_hdr_creds *c;
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

	c = (struct cr_hdr_creds *)find_rec(&img, CR_HDR_CREDS);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(NOBODY, c->uid);
	ASSERT_EQ(1, c->ngroups);
	edit(c);
	ASSERT_LE(0, cr_find_rec(img.buf, img.len, CR_HDR_TAIL, 0));
	cr_reseal(img.buf, img.len);

	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)img.len, pwrite(fd, img.buf, img.len, 0));
	close(fd);
	free(img.buf);
}

#define ALL_CAPS	((1ULL << (CAP_LAST_CAP + 1)) - 1)
#define A_CAP		0x400ULL	/* CAP_NET_BIND_SERVICE */

static __u32 *groups_of(struct cr_hdr_creds *c)
{
	return (__u32 *)(c + 1);
}

static void e_none(struct cr_hdr_creds *c)
{
}

static void e_uid(struct cr_hdr_creds *c)
{
	c->uid = 0;
}

static void e_euid(struct cr_hdr_creds *c)
{
	c->euid = 0;
}

static void e_suid(struct cr_hdr_creds *c)
{
	c->suid = 0;
}

static void e_fsuid(struct cr_hdr_creds *c)
{
	c->fsuid = 0;
}

static void e_gid(struct cr_hdr_creds *c)
{
	c->gid = 0;
}

static void e_egid(struct cr_hdr_creds *c)
{
	c->egid = 0;
}

static void e_sgid(struct cr_hdr_creds *c)
{
	c->sgid = 0;
}

static void e_fsgid(struct cr_hdr_creds *c)
{
	c->fsgid = 0;
}

static void e_group(struct cr_hdr_creds *c)
{
	groups_of(c)[0] = 0;
}

static void e_permitted(struct cr_hdr_creds *c)
{
	c->cap_permitted = A_CAP;
}

static void e_inheritable(struct cr_hdr_creds *c)
{
	c->cap_inheritable = A_CAP;
}

static void e_effective(struct cr_hdr_creds *c)
{
	c->cap_effective = A_CAP;
}

static void e_bset(struct cr_hdr_creds *c)
{
	c->cap_bset &= ~A_CAP;
}

static void e_cap_unknown(struct cr_hdr_creds *c)
{
	c->cap_bset |= 1ULL << 63;
}

static void e_ambient(struct cr_hdr_creds *c)
{
	c->cap_ambient = A_CAP;
}

static void e_securebits(struct cr_hdr_creds *c)
{
	c->securebits = SECBIT_KEEP_CAPS;
}

static void e_securebits_unknown(struct cr_hdr_creds *c)
{
	c->securebits = 1U << 20;
}

static void e_uid_unmapped(struct cr_hdr_creds *c)
{
	c->euid = -1;
}

static void e_gid_unmapped(struct cr_hdr_creds *c)
{
	groups_of(c)[0] = -1;
}

static void e_reserved(struct cr_hdr_creds *c)
{
	c->reserved = 1;
}

static void e_root_caps(struct cr_hdr_creds *c)
{
	c->cap_permitted = ALL_CAPS;
	c->cap_effective = ALL_CAPS;
}

static void e_root(struct cr_hdr_creds *c)
{
	c->uid = 0;
	c->euid = 0;
	c->suid = 0;
	c->fsuid = 0;
	e_root_caps(c);
}

/*
 * The tests
 */

FIXTURE(creds) {
	struct cr_dir d;
};

FIXTURE_SETUP(creds)
{
	REQUIRE_CHECKPOINT();
	if (geteuid())
		SKIP(return, "changing credentials needs root");
	cr_dir_setup(_metadata, &self->d);
	/* The restarted processes and restarters of other ids go there */
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
}

FIXTURE_TEARDOWN_PARENT(creds)
{
	cr_dir_teardown(_metadata, &self->d);
}

/* Root restarts the image of a user process: its ids, groups, no caps */
TEST_F_TIMEOUT(creds, root_restores_user, TEST_TIMEOUT)
{
	const struct ids ids = {
		.uid = { 1000, 1000, 1000 }, .gid = { 1000, 1000, 1000 },
		.ngroups = 2, .groups = { 1000, 2000 },
	};

	checkpoint_restart(_metadata, &self->d, ids_body, (void *)&ids, NULL,
			   NULL);
}

/* euid 1000, saved uid 0, a smaller bounding set; seteuid(0) works after */
TEST_F_TIMEOUT(creds, root_restores_saved_uid, TEST_TIMEOUT)
{
	const struct ids ids = {
		.uid = { 1000, 1000, 0 }, .gid = { 1000, 1000, 0 },
		.ngroups = 1, .groups = { 1000 }, .bset_drop = CAP_SYS_BOOT,
	};

	checkpoint_restart(_metadata, &self->d, ids_body, (void *)&ids, NULL,
			   NULL);
}

/* Nobody restarts the image of nobody: the same credentials */
TEST_F_TIMEOUT(creds, nobody_restores_nobody, TEST_TIMEOUT)
{
	int err = 0;
	pid_t pid;

	checkpoint_child(_metadata, &self->d, ids_body, (void *)&nobody);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 nobody_restarter, &err);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
}

/* Nobody may not restart nobody with other groups */
TEST_F_TIMEOUT(creds, nobody_other_groups, TEST_TIMEOUT)
{
	const struct ids ids = {
		.uid = { NOBODY, NOBODY, NOBODY },
		.gid = { NOBODY, NOBODY, NOBODY },
		.ngroups = 1, .groups = { 4242 },
	};
	int err = EPERM;
	pid_t pid;

	checkpoint_child(_metadata, &self->d, ids_body, (void *)&ids);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 nobody_restarter, &err);
	expect_exit(_metadata, pid, 0, "restarter");
}

/* Nobody may not restart nobody holding a capability */
TEST_F_TIMEOUT(creds, nobody_with_capability, TEST_TIMEOUT)
{
	const struct ids ids = {
		.uid = { NOBODY, NOBODY, NOBODY },
		.gid = { NOBODY, NOBODY, NOBODY },
		.ngroups = 1, .groups = { NOBODY },
		.keep_caps = true, .caps = A_CAP,
	};
	int err = EPERM;
	pid_t pid;

	checkpoint_child(_metadata, &self->d, ids_body, (void *)&ids);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 nobody_restarter, &err);
	expect_exit(_metadata, pid, 0, "restarter");
}

/* Root with locked securebits may not unlock them */
TEST_F_TIMEOUT(creds, securebits_locked, TEST_TIMEOUT)
{
	const struct ids root = { .ngroups = 0 };
	pid_t pid;

	checkpoint_child(_metadata, &self->d, ids_body, (void *)&root);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 locked_restarter, NULL);
	expect_exit(_metadata, pid, 0, "restarter");
}

/* The bounding set never grows, even for root */
TEST_F_TIMEOUT(creds, bounding_set_grows, TEST_TIMEOUT)
{
	const struct ids root = { .ngroups = 0 };
	pid_t pid;

	checkpoint_child(_metadata, &self->d, ids_body, (void *)&root);
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 bset_restarter, NULL);
	expect_exit(_metadata, pid, 0, "restarter");
}

/* Images of nobody, edited, restarted by nobody */

FIXTURE(edit) {
	struct cr_dir d;
};

FIXTURE_VARIANT(edit) {
	void (*edit)(struct cr_hdr_creds *c);
	int err;
};

FIXTURE_VARIANT_ADD(edit, unedited) {
	.edit = e_none, .err = 0,
};

FIXTURE_VARIANT_ADD(edit, root_full_caps) {
	.edit = e_root, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, full_caps) {
	.edit = e_root_caps, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, uid) {
	.edit = e_uid, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, euid) {
	.edit = e_euid, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, suid) {
	.edit = e_suid, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, fsuid) {
	.edit = e_fsuid, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, gid) {
	.edit = e_gid, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, egid) {
	.edit = e_egid, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, sgid) {
	.edit = e_sgid, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, fsgid) {
	.edit = e_fsgid, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, groups) {
	.edit = e_group, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, cap_permitted) {
	.edit = e_permitted, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, cap_inheritable) {
	.edit = e_inheritable, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, cap_effective_not_permitted) {
	.edit = e_effective, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, bounding_set_shrinks) {
	.edit = e_bset, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, cap_unknown) {
	.edit = e_cap_unknown, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, ambient_not_permitted) {
	.edit = e_ambient, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, securebits) {
	.edit = e_securebits, .err = EPERM,
};

FIXTURE_VARIANT_ADD(edit, securebits_unknown) {
	.edit = e_securebits_unknown, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, uid_unmapped) {
	.edit = e_uid_unmapped, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, group_unmapped) {
	.edit = e_gid_unmapped, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, reserved) {
	.edit = e_reserved, .err = EINVAL,
};

FIXTURE_SETUP(edit)
{
	REQUIRE_CHECKPOINT();
	if (geteuid())
		SKIP(return, "changing credentials needs root");
	cr_dir_setup(_metadata, &self->d);
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
}

FIXTURE_TEARDOWN_PARENT(edit)
{
	cr_dir_teardown(_metadata, &self->d);
}

TEST_F_TIMEOUT(edit, restart_by_nobody, TEST_TIMEOUT)
{
	char edited[128];
	int err = variant->err;
	pid_t pid;

	cr_path(&self->d, "edited", edited, sizeof(edited));
	checkpoint_child(_metadata, &self->d, ids_body, (void *)&nobody);
	image_edit(_metadata, self->d.img, edited, variant->edit);
	pid = spawn_restarter_fn(_metadata, edited, 0, NULL, nobody_restarter,
				 &err);
	expect_exit(_metadata, pid, err ? 0 : EXIT_RESTARTED, "restarter");
}

TEST_HARNESS_MAIN
