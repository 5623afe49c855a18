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
	python3 python3-cryptography curl \
	>/dev/null
