# SPDX-License-Identifier: GPL-2.0
#
# In-kernel checkpoint/restart for Linux 6.12: build a patched kernel, boot
# it under QEMU and run the tests.  See README.md.
#
#   make check            build everything, run the kselftests in the VM,
#                         then again under the debug kernel
#   make check-debug      only that second pass, under the debug kernel
#   make demo             checkpoint a running counter in the VM, restart it
#   make bench            time checkpoint and restart in the VM (a few min)
#   make fuzz [ITER=N]    fuzz restart with N mutated images (debug kernel)
#   make vm               build the kernel, the tests and the initramfs
#   make patchset         export the work as a git format-patch series
#   make checkpatch       run checkpatch.pl --strict over that series
#
# Variables: KSRC=/path/to/linux-6.12.y builds against another tree than
# Debian's linux-source-6.12; DEBUG=1 builds and tests the debug kernel
# only (all the tests); KVM=1 uses KVM instead of TCG; BUILD=dir puts the
# build elsewhere.  make check also builds the debug kernel (KASAN, UBSAN,
# KFENCE, lockdep, kmemleak) and runs under it every kselftest and 1000
# fuzzed images (CHECK_DEBUG_TESTS, CHECK_DEBUG_FUZZ_ITER), unless
# CHECK_DEBUG=0.
# make fuzz takes ITER (20000), FUZZ_SEED (the time), FUZZ_JOBS (4) and
# FUZZ_FIRST (0: the first image of the seed), and runs the debug kernel
# unless DEBUG=0.

SHELL := /bin/bash
BUILD ?= $(CURDIR)/build
export BUILD KSRC DEBUG KVM JOBS

S := $(CURDIR)/scripts

.PHONY: all vm deps tree kernel selftests tools initramfs check check-debug run-tests demo \
	bench fuzz \
	patchset checkpatch checkpatch-errors clean distclean help

all: vm

help:
	@sed -n '3,25p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@$(S)/install-deps

tree: deps
	@$(S)/prepare-tree

kernel: tree
	@$(S)/build-kernel

selftests: kernel
	@$(S)/build-selftests

tools: kernel
	@$(S)/build-tools

initramfs: selftests tools
	@$(S)/mkinitramfs

vm: initramfs

# The kselftests in the VM; the patch series must be free of checkpatch
# errors too.  With the default kernel, a second pass under the debug
# kernel unless CHECK_DEBUG=0 (scripts/run-check says what it runs).  The
# last line says how many tests passed and failed in both.
CHECK_DEBUG ?= 1
ifeq ($(DEBUG),1)
override CHECK_DEBUG := 0
endif
export CHECK_DEBUG

check: checkpatch-errors vm
ifneq ($(CHECK_DEBUG),0)
	@$(MAKE) --no-print-directory DEBUG=1 vm
endif
	@$(S)/run-check

# Only the pass of make check under the debug kernel
check-debug: checkpatch-errors
	@$(MAKE) --no-print-directory DEBUG=1 vm
	@$(S)/run-check --debug-pass

run-tests:
	@$(S)/run-check

demo: vm
	@$(S)/demo

bench: vm
	@$(S)/bench

# The fuzzer of restart, under the debug kernel unless DEBUG=0
ITER ?= 20000
FUZZ_DEBUG := $(if $(DEBUG),$(DEBUG),1)
fuzz:
	@$(MAKE) --no-print-directory DEBUG=$(FUZZ_DEBUG) vm
	@DEBUG=$(FUZZ_DEBUG) FUZZ_FIRST=$(FUZZ_FIRST) $(S)/fuzz $(ITER) $(FUZZ_SEED) $(FUZZ_JOBS)

patchset: tree
	@$(S)/make-patchset

checkpatch: patchset
	@$(S)/checkpatch

checkpatch-errors: patchset
	@$(S)/checkpatch --errors-only

clean:
	rm -rf $(BUILD)/obj-* $(BUILD)/kselftest-* $(BUILD)/rootfs-* \
		$(BUILD)/initramfs-* $(BUILD)/tools-* $(BUILD)/patchset \
		$(BUILD)/check-*

distclean:
	rm -rf $(BUILD)
