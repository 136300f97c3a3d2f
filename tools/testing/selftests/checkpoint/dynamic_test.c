// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint and restart of a dynamically linked glibc program: ld.so and
 * libc.so mapped from their files, TLS reached through fs_base, the rseq
 * area glibc registered, lazy PLT binding, malloc and stdio.
 *
 * This test is static like the others; the program it checkpoints,
 * dyn_target, is dynamically linked and needs the C library's shared
 * objects at the same paths as on the build host (the VM's initramfs has
 * them, see scripts/mkinitramfs).  Without them the test is skipped.
 * dyn_target checkpoints itself and checks its state from the inside, as
 * the original and as the restarted process: see dyn_target.c.
 */

#include "cr_harness.h"
#include "dyn_target.h"

#include <libgen.h>

/* The path of dyn_target, next to this program */
static int target_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	if (snprintf(buf, len, "%s/%s", dirname(self), DYN_TARGET) >= (int)len)
		return -1;
	return 0;
}

/* Exec dyn_target with @arg, keeping only 0-2 and @keep open */
static void __noreturn exec_target(const char *path, const char *arg,
				   int keep)
{
	char *argv[3];

	argv[0] = DYN_TARGET;
	argv[1] = (char *)arg;
	argv[2] = NULL;
	if (keep >= 0 && fcntl(keep, F_SETFD, 0))
		_exit(EXIT_SETUP);
	if (close_fds_except(keep))
		_exit(EXIT_SETUP);
	execv(path, argv);
	cr_log("exec %s: %s", path, strerror(errno));
	_exit(DYN_EXIT_NO_EXEC);
}

/*
 * Run "dyn_target probe": NULL if it runs with rseq registered, else why
 * not, for SKIP().
 */
static const char *probe_target(const char *path)
{
	static char why[PATH_MAX + 128];
	int status;
	pid_t pid;

	if (access(path, X_OK)) {
		snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
		return why;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return "fork failed";
	if (!pid)
		exec_target(path, "probe", -1);
	status = wait_child(pid, CHILD_TIMEOUT_MS);
	if (status != -1 && WIFEXITED(status)) {
		switch (WEXITSTATUS(status)) {
		case 0:
			return NULL;
		case DYN_EXIT_NO_EXEC:
			return "cannot exec dyn_target: no ld.so here?";
		case 127:
			return "ld.so cannot load the libraries of dyn_target";
		case DYN_EXIT_NO_RSEQ:
			return "glibc registered no rseq area (too old, or glibc.pthread.rseq=0)";
		}
	}
	snprintf(why, sizeof(why), "dyn_target probe failed, wait status %#x",
		 status);
	return why;
}

FIXTURE(dynamic) {
	struct cr_dir d;
	char target[PATH_MAX];
};

FIXTURE_SETUP(dynamic)
{
	const char *why;

	REQUIRE_CHECKPOINT();
	ASSERT_EQ(0, target_path(self->target, sizeof(self->target)));
	why = probe_target(self->target);
	if (why)
		SKIP(return, "%.900s", why);
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(dynamic)
{
	cr_dir_teardown(_metadata, &self->d);
}

/* Start dyn_target on the image file; it checkpoints itself */
static void checkpoint_target(struct __test_metadata *_metadata,
			      struct cr_dir *d, const char *target)
{
	char fdstr[16];
	pid_t pid;

	ASSERT_EQ(0, ftruncate(d->imgfd, 0));
	ASSERT_EQ(0, lseek(d->imgfd, 0, SEEK_SET));
	snprintf(fdstr, sizeof(fdstr), "%d", d->imgfd);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		exec_target(target, fdstr, d->imgfd);
	kid_add(pid);
	expect_exit(_metadata, pid, EXIT_CHECKPOINTED, "dyn_target");
	ASSERT_LT(0, lseek(d->imgfd, 0, SEEK_END));
}

/*
 * Memory from malloc() (brk heap and mmap), TLS and fs_base, ld.so's
 * place, rseq still registered and cpu_id kept up to date, malloc, free,
 * realloc and printf working, lazy PLT binding after the restart.
 */
TEST_F_TIMEOUT(dynamic, glibc_program, TEST_TIMEOUT)
{
	pid_t pid;

	checkpoint_target(_metadata, &self->d, self->target);
	pid = spawn_restarter(_metadata, &self->d, 0, NULL, NULL);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted dyn_target");
}

/* Twice from one image: the first restart changed no file it maps */
TEST_F_TIMEOUT(dynamic, glibc_program_twice, TEST_TIMEOUT)
{
	int i;

	checkpoint_target(_metadata, &self->d, self->target);
	for (i = 0; i < 2; i++) {
		pid_t pid = spawn_restarter(_metadata, &self->d, 0, NULL, NULL);

		expect_exit(_metadata, pid, EXIT_RESTARTED,
			    "restarted dyn_target");
	}
}

TEST_HARNESS_MAIN
