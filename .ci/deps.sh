#!/bin/sh
# Installs everything vhdunlock needs to build and test on Debian 12 (root).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends \
	build-essential autoconf automake libtool pkg-config \
	libvhdi-utils libfsntfs-dev \
	libfsxfs-dev libbfio-dev libext2fs-dev libcryptsetup-dev libssl-dev \
	libcurl4-openssl-dev libjson-c-dev libfuse3-dev fuse3 libcmocka-dev \
	clang libclang-rt-14-dev \
	qemu-utils gdisk fdisk util-linux e2fsprogs xfsprogs ntfs-3g dosfstools \
	mtools jq strace attr openssl cryptsetup-bin lvm2 dislocker libbde-utils xz-utils hyperfine \
	python3 python3-cryptography curl sleuthkit mdadm \
	>/dev/null
# Azurite, the Azure Storage emulator, for the tests that read page blobs
# over HTTP (tests/integration/blob-lib.sh).  Node.js and npm come with the
# machine; Debian's own are the fallback.  Pinned: its messages and API
# versions are what the tests expect.
AZURITE_VERSION=3.37.0
if [ "$(azurite-blob --version 2>/dev/null || true)" != "$AZURITE_VERSION" ]; then
	command -v npm >/dev/null 2>&1 ||
		apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
	npm install -g --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null
fi
