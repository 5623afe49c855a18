/* Read-ahead of the mount.  The kernel gives every FUSE mount a read-ahead
 * window of 128 KiB (its default for a new backing device) and lets the
 * file system only lower it, so buffered reads reach the daemon as 128 or
 * 256 KiB requests although a request may carry 1 MiB (max_pages).  Each
 * request costs a round trip through /dev/fuse, a read of the image and a
 * decryption call, and fewer, larger ones in flight together are most of
 * the difference between reading a large file at 1.3 GB/s and at 2 GB/s.
 * Root may widen the window through sysfs, as blockdev --setra does for
 * disks; for anyone else the write fails and the mount keeps the kernel's
 * window. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "fuse/fuse_int.h"

/* Two full requests (256 pages of 4 KiB each) in flight, so that two daemon
 * threads decrypt at once: on 2 cores a cold 1 GiB read went from 1.3 GB/s
 * (128 KiB) to 1.9 GB/s with 1 MiB and 2.1 GB/s with 2 MiB; 4 MiB gained
 * nothing more. */
#define READAHEAD_KB 2048

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
					(s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* The "major:minor" of the newest mount at mountpoint, from mountinfo
 * rather than stat(): the daemon must not send its own mount a request
 * before it serves any. */
static int mount_device(const char *mountpoint, char dev[32])
{
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *fp = fopen("/proc/self/mountinfo", "re");

	if (!fp)
		return 0;
	while (getline(&line, &cap, fp) > 0) {
		char mdev[32], mpath[4096];

		/* id parent major:minor root mountpoint ... */
		if (sscanf(line, "%*s %*s %31s %*s %4095s", mdev, mpath) != 2)
			continue;
		unescape(mpath);
		if (!strcmp(mpath, mountpoint)) {
			memcpy(dev, mdev, sizeof(mdev));
			found = 1; /* keep going: a later line is newer */
		}
	}
	free(line);
	fclose(fp);
	return found;
}

void fuse_raise_readahead(const char *mountpoint)
{
	char dev[32], path[96], cur[32] = "", want[16];
	ssize_t n;
	int fd, len;

	if (!mount_device(mountpoint, dev))
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		vu_log(VU_LOG_DEBUG, "%s: read-ahead stays as the kernel set "
		       "it (%s: %s)", mountpoint, path, strerror(errno));
		return;
	}
	n = read(fd, cur, sizeof(cur) - 1);
	len = snprintf(want, sizeof(want), "%d\n", READAHEAD_KB);
	if (n > 0 && atoi(cur) < READAHEAD_KB &&
	    pwrite(fd, want, (size_t)len, 0) != len)
		vu_log(VU_LOG_DEBUG, "%s: cannot widen read-ahead (%s: %s)",
		       mountpoint, path, strerror(errno));
	close(fd);
}
