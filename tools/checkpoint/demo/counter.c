// SPDX-License-Identifier: GPL-2.0
/*
 * counter: the program of the checkpoint/restart demo (scripts/demo).
 *
 * It fills some memory with a pattern, then every half second prints a
 * count and a checksum of that memory, computed again each time.  The
 * pattern does not change, so neither does the checksum: a restarted
 * counter must carry on with the next count and the same checksum.  Each
 * word of the pattern depends on its index, so a page restored at the
 * wrong place changes the checksum too.
 *
 * It holds only what the kernel can save today: one thread, private
 * memory, file descriptors 0-2 (it closes the others it inherits), no
 * timer, no signal handler.  And it does not sleep in nanosleep() or
 * poll(), which a signal interrupts with a restart block that checkpoint
 * does not save yet: it waits on clock_gettime() (the vDSO) and
 * sched_yield(), or with -s in select(), which a stop interrupts with a
 * plain restart.
 *
 * With -c N it forks N children once its memory is filled, which count
 * too, each its own count ("child K: count N, ..."): a tree for
 * checkpoint --tree and restart --tree.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_close_range
#define __NR_close_range	436
#endif

#define INTERVAL_NS	500000000LL
#define NSEC_PER_SEC	1000000000LL

static const char usage_text[] =
"Usage: counter [-m MIB] [-s] [-c N]\n"
"\n"
"Fill MIB MiB of memory with a pattern (default 4), then every 0.5 s print\n"
"\"count N, memory checksum 0x...\" to standard output.  The checksum of the\n"
"pattern never changes: counter exits with status 1 if it does.\n"
"\n"
"  -m MIB  memory to fill and check, 1 to 4096 MiB\n"
"  -s      wait in select(2) rather than spinning on clock_gettime(2) and\n"
"          sched_yield(2): a stop interrupts select() and it is restarted\n"
"  -c N    fork N children (0 to 16), which count too, each printing\n"
"          \"child K: count N, memory checksum 0x...\" (K from 1 to N)\n"
"  -h      show this help\n";

static void print_help(FILE *f)
{
	fputs(usage_text, f);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* The word at @i: its index mixed in, so that every page differs */
static uint64_t pattern(size_t i)
{
	return ((uint64_t)i + 1) * 0x9e3779b97f4a7c15ULL ^ 0x5a5a5a5a5a5a5a5aULL;
}

/* FNV-1a over 64-bit words */
static uint64_t checksum(const uint64_t *mem, size_t words)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < words; i++)
		h = (h ^ mem[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * Wait until @deadline on the monotonic clock.  A deadline further than
 * one interval away means the clock is not the one it was computed with
 * (restarted after a reboot): wait one interval from now instead.
 */
static void wait_until(int64_t *deadline, bool use_select)
{
	struct timeval tv;
	int64_t now, left;

	for (;;) {
		now = now_ns();
		left = *deadline - now;
		if (left <= 0)
			return;
		if (left > INTERVAL_NS) {
			*deadline = now + INTERVAL_NS;
			left = INTERVAL_NS;
		}
		if (!use_select) {
			sched_yield();
			continue;
		}
		tv.tv_sec = left / NSEC_PER_SEC;
		tv.tv_usec = (left % NSEC_PER_SEC + 999) / 1000;
		if (select(0, NULL, NULL, NULL, &tv) < 0 && errno != EINTR) {
			perror("counter: select");
			exit(EXIT_FAILURE);
		}
	}
}

int main(int argc, char **argv)
{
	bool use_select = false;
	uint64_t *mem, sum, first;
	unsigned long long count;
	int64_t deadline;
	long mib = 4, children = 0, who = 0;
	size_t words, i;
	char *end, tag[32] = "";
	int c;

	while ((c = getopt(argc, argv, "m:sc:h")) != -1) {
		switch (c) {
		case 'm':
			errno = 0;
			mib = strtol(optarg, &end, 10);
			if (errno || *end || !*optarg || mib < 1 || mib > 4096) {
				fprintf(stderr, "counter: -m takes 1 to 4096 (MiB), not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			use_select = true;
			break;
		case 'c':
			errno = 0;
			children = strtol(optarg, &end, 10);
			if (errno || *end || !*optarg || children < 0 ||
			    children > 16) {
				fprintf(stderr, "counter: -c takes 0 to 16, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			print_help(stdout);
			return 0;
		default:
			print_help(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		print_help(stderr);
		return 2;
	}

	/* Descriptors inherited above 2 would make checkpoint refuse it */
	syscall(__NR_close_range, 3U, ~0U, 0U);

	words = (size_t)mib * 1024 * 1024 / sizeof(*mem);
	mem = mmap(NULL, words * sizeof(*mem), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("counter: mmap");
		return 1;
	}
	for (i = 0; i < words; i++)
		mem[i] = pattern(i);
	first = checksum(mem, words);
	printf("counter: pid %d, %ld MiB at %p, checksum 0x%016llx\n",
	       (int)getpid(), mib, (void *)mem, (unsigned long long)first);
	fflush(stdout);
	for (who = 1; who <= children; who++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("counter: fork");
			return 1;
		}
		if (!pid) {
			snprintf(tag, sizeof(tag), "child %ld: ", who);
			break;
		}
	}

	deadline = now_ns();
	for (count = 0;; count++) {
		sum = checksum(mem, words);
		printf("%scount %llu, memory checksum 0x%016llx\n", tag, count,
		       (unsigned long long)sum);
		if (fflush(stdout)) {
			perror("counter: stdout");
			return 1;
		}
		if (sum != first) {
			fprintf(stderr, "counter: the checksum was 0x%016llx: memory changed\n",
				(unsigned long long)first);
			return 1;
		}
		/* Late (stopped, say): start a new beat rather than catch up */
		deadline += INTERVAL_NS;
		if (deadline < now_ns())
			deadline = now_ns() + INTERVAL_NS;
		wait_until(&deadline, use_select);
	}
}
