# SPDX-License-Identifier: GPL-2.0
# Shared settings of the build scripts; sourced, not run.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
DEBUG=${DEBUG:-0}
KSRC=${KSRC:-}
BASE_TARBALL=${BASE_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
JOBS=${JOBS:-$(nproc)}

if [ "$DEBUG" = 1 ]; then
	VARIANT=debug
else
	VARIANT=default
fi

# The patched kernel source: a copy of the base with the overlay on top
SRC=$BUILD/linux
# Kernel objects, one directory per configuration
OBJ=$BUILD/obj-$VARIANT
# What goes into the guest
KSFT=$BUILD/kselftest-$VARIANT
TOOLS_OUT=$BUILD/tools-$VARIANT
ROOTFS=$BUILD/rootfs-$VARIANT
INITRAMFS=$BUILD/initramfs-$VARIANT.cpio
BZIMAGE=$OBJ/arch/x86/boot/bzImage

# Paths of the repository that are copied into the kernel tree as they are
OVERLAY_DIRS="checkpoint include arch Documentation tools"

say() { printf '  %-8s %s\n' "$1" "$2"; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }
