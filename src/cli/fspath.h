/* What ls, cat and extract share: the VOLUME:PATH[:STREAM] argument, the
 * file system of the volume it names (opened through the disk model, with
 * the documented exit statuses for locked and unreadable volumes), and
 * error messages that name the image, the volume and the path. */
#ifndef VU_CLI_FSPATH_H
#define VU_CLI_FSPATH_H

#include <stdint.h>

#include "cli/cli.h"
#include "fs/fs.h"

/* "p2:/docs/a.txt:Zone.Identifier" as parsed, before the file system is
 * asked anything. */
struct cli_fspath {
	char vol[32];	/* volume id: "p2", "d1p2", "rootvg-rootlv" */
	char *path;	/* "/docs/a.txt:Zone.Identifier": absolute */
	/* A ':' in the last component may start an NTFS stream name, or be
	 * part of the file name (legal on ext and XFS): base is the path
	 * before the last ':' of the last component and stream what follows,
	 * or both NULL when that component has no such ':'.  Which reading
	 * holds is decided by cli_fs_resolve. */
	char *base;
	char *stream;
};

/* Parse arg; -EINVAL with the message recorded for a malformed argument
 * (the caller reports it as wrong usage, exit status 2). */
int cli_fspath_parse(const char *arg, struct cli_fspath *p);
/* The VOLUME:PATH operand of command cmd ("cat"): EXIT_OK, or EXIT_USAGE
 * after the usage error was printed. */
int cli_fspath_operand(const char *cmd, const char *arg,
		       struct cli_fspath *p);
void cli_fspath_free(struct cli_fspath *p);

/* An image's volume with its file system open. */
struct cli_fsvol {
	const char *image;	/* as given, for messages */
	struct vu_disk *d;	/* borrowed */
	struct vu_volume *v;
	struct vu_fs *fs;
};

/* Find volume id on d and open its file system.  Returns EXIT_OK, or the
 * exit status to end with after the message was printed: 3 for a volume
 * that is encrypted and locked (naming the key options it needs, or what
 * the keys given did not open), 1 for an unknown id, a volume without a
 * file system vhdunlock reads, or a damaged one. */
int cli_fsvol_open(struct cli_fsvol *c, struct vu_disk *d, const char *image,
		   const char *id, int keys_given);
void cli_fsvol_close(struct cli_fsvol *c);

/* What ls, cat and extract hold while they run: the KEYS and the image,
 * the VOLUME:PATH operand and the volume's file system. */
struct cli_fscmd {
	struct cli_frame frame;
	struct cli_fspath path;
	struct cli_fsvol c;
};

/* Open image with the keys and then the file system of the volume the
 * path names, as cli_fsvol_open: EXIT_OK, or the exit status after the
 * message. */
int cli_fscmd_open(struct cli_fscmd *f, const char *image);
/* Close what is open and free the rest, the keys last; for a
 * zero-initialised f too. */
void cli_fscmd_close(struct cli_fscmd *f);

/* Whether v's files can be listed: "readable", "locked", "no file system",
 * "not supported" (a file system vhdunlock does not read). */
const char *cli_fs_state(const struct vu_volume *v);

/* What a VOLUME:PATH names, once found in the file system. */
struct cli_fsnode {
	uint64_t ino;
	const char *stream;	/* the stream split off the path, or NULL */
	struct vu_fs_stat st;	/* the attributes of ino */
};

/* The inode p names.  The whole last component is tried as a name first;
 * only when that does not exist (-ENOENT) and it has a ':' is the part
 * after the last ':' taken as a stream of the file before it (n->stream
 * set, else NULL).  follow: a symbolic link at the end is followed (up to
 * 40 links; targets resolved inside the volume).  Errors are recorded
 * naming image, volume and path. */
int cli_fs_resolve(struct cli_fsvol *c, const struct cli_fspath *p,
		   int follow, struct cli_fsnode *n);

/* Open the data of what cli_fs_resolve found: the main data, or the
 * stream it split off (a missing stream is named with its file). */
int cli_fs_open_data(struct cli_fsvol *c, const struct cli_fspath *p,
		     const struct cli_fsnode *n, struct vu_fs_file **f);

/* Re-record the failure err of a file-system call on path so that the
 * message names the image and volume (and says plainly what a user error
 * such as a missing entry is); returns err. */
int cli_fs_fail(const struct cli_fsvol *c, const char *path, int err);

/* "2024-05-01T12:00:00Z"; with nanoseconds
 * "2024-05-01T12:00:00.000000001Z". */
void cli_iso_time(const struct timespec *ts, int nanos, char *out,
		  size_t size);

#endif
