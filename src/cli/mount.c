/* vhdunlock mount / umount: the FUSE front end started from the CLI.
 * Everything that can fail is checked while the terminal is still there:
 * the daemon detaches only once the file system is mounted. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "disk/disk.h"
#include "fuse/mount.h"


static const char mount_help[] =
	"Usage: vhdunlock mount IMAGE MOUNTPOINT [KEYS] [-f] [-o OPTS]\n"
	"Mount the volumes of IMAGE read-only at MOUNTPOINT: MOUNTPOINT/<id>/ holds\n"
	"the files of each volume whose file system can be read (NTFS streams as\n"
	"FILE:STREAM, listed in the attribute user.vhdunlock.streams);\n"
	"MOUNTPOINT/<id>.img is each volume's raw content, decrypted where a key\n"
	"unlocked it.  Runs in the background; 'vhdunlock umount MOUNTPOINT' ends it.\n"
	"\n"
	"  -f, --foreground  stay in the foreground (log to standard error);\n"
	"                    SIGINT or SIGTERM unmounts\n"
	"  -o OPTS           FUSE mount options, e.g. allow_other (repeatable;\n"
	"                    ro is always added; with allow_other the files' own\n"
	"                    owners and modes apply to other users, without it\n"
	"                    only you reach the mount, and read every file)\n"
	"  -h, --help        show this help\n";

/* "a,b" + "c" = "a,b,c" */
static int append_opts(char **all, const char *more)
{
	size_t n = *all ? strlen(*all) : 0;
	char *p = realloc(*all, n + strlen(more) + 2);

	if (!p)
		return -ENOMEM;
	if (n)
		p[n++] = ',';
	strcpy(p + n, more);
	*all = p;
	return 0;
}

/* "vhdunlock:IMAGE", without a URL's query string: a SAS signature must
 * not be shown in /proc/mounts to every user. */
static char *make_fsname(const char *image)
{
	char *abs = NULL, *s;
	size_t n;

	if (!strncmp(image, "http://", 7) || !strncmp(image, "https://", 8)) {
		n = strcspn(image, "?#");
	} else {
		abs = realpath(image, NULL); /* /proc/mounts shows it */
		if (abs)
			image = abs;
		n = strlen(image);
	}
	s = malloc(n + 11);
	if (s)
		snprintf(s, n + 11, "vhdunlock:%.*s", (int)n, image);
	free(abs);
	return s;
}

static const struct cli_command mount_command = {
	CLI_COMMAND("mount", mount_help, "IMAGE MOUNTPOINT", 2, 2, "hfo:"),
	.longopts = {
		{ "foreground", no_argument, NULL, 'f' },
		CLI_COMMON_OPTIONS,
	},
};

/* Open image with the keys into f.  Keys were given for a reason: a volume
 * they leave locked is an error (3), not an encrypted .img; without keys
 * each encrypted volume is served as its ciphertext, with a warning. */
static int open_volumes(const char *image, struct cli_frame *f)
{
	int r = cli_open_disk(image, &f->keys, &f->d);

	if (r < 0)
		return cli_fail(r);
	for (size_t i = 0; i < f->d->nvolumes; i++) {
		struct vu_volume *v = &f->d->volumes[i];

		if (v->lock_error && f->keys.given)
			return cli_locked_fail(v);
		if (vu_volume_encrypted(v) && !v->unlocked)
			vu_log(VU_LOG_WARN, "%s is encrypted (%s) and no key was "
			       "given: %s.img is its encrypted content", v->id,
			       vu_kind_name(v->probe.kind), v->id);
	}
	/* The keys have done their work; the unlocked volumes hold what
	 * they need.  Wipe them before serving anything (the images stay
	 * open: they are revoked at unmount). */
	f->keys.hold_images = 1;
	cli_keys_free(&f->keys);
	f->keys.hold_images = 0;
	return EXIT_OK;
}

/* libfuse unmounts by the path it was given, after the daemon has changed
 * to /: *mp is arg made absolute (for the caller to free), a directory. */
static int mount_point(const char *arg, char **mp)
{
	struct stat st;

	*mp = realpath(arg, NULL);
	if (!*mp)
		return cli_fail(vu_fail(-ENOENT, "%s: mount point: %s", arg,
					strerror(errno)));
	if (stat(*mp, &st) < 0 || !S_ISDIR(st.st_mode))
		return cli_fail(vu_fail(-ENOTDIR, "%s: mount point is not a "
					"directory", arg));
	return EXIT_OK;
}

int cmd_mount(int argc, char **argv)
{
	struct cli_frame f = { 0 };
	struct vu_fuse *fuse = NULL;
	struct vu_fuse_opts fo = { 0 };
	char *options = NULL, *mp = NULL, *fsname = NULL;
	int c, r, status = EXIT_FAIL;

	while ((c = cli_next_option(&mount_command, argc, argv, &f.keys,
				    &status)) > 0) {
		switch (c) {
		case 'f':
			fo.foreground = 1;
			break;
		case 'o':
			if (append_opts(&options, optarg) < 0) {
				status = cli_fail(vu_fail(-ENOMEM,
							  "out of memory"));
				goto out;
			}
			break;
		}
	}
	if (c < 0)
		goto out;
	status = open_volumes(argv[optind], &f);
	if (status != EXIT_OK)
		goto out;
	status = mount_point(argv[optind + 1], &mp);
	if (status != EXIT_OK)
		goto out;
	fsname = make_fsname(f.d->images[0].path);
	if (!fsname) {
		status = cli_fail(vu_fail(-ENOMEM, "out of memory"));
		goto out;
	}
	fo.mountpoint = mp;
	fo.fsname = fsname;
	fo.options = options;
	r = vu_fuse_mount(f.d, &fo, &fuse);
	if (r < 0) {
		status = r == -EINVAL ? cli_usage("mount: %s", vu_errmsg(r))
				      : cli_fail(r);
		vu_err_clear();
		goto out;
	}
	vu_log(VU_LOG_INFO, "%s mounted at %s", f.d->images[0].path, mp);
	r = vu_fuse_run(fuse);
	status = r < 0 ? cli_fail(r) : EXIT_OK;
out:
	vu_fuse_free(fuse); /* unmounts when still mounted */
	cli_frame_close(&f);
	free(options);
	free(fsname);
	free(mp);
	return status;
}

/* 1 when path (absolute, resolved) is a mount point of a FUSE file system,
 * 0 when it is not a mount point, -1 when it is another kind of mount;
 * *fstype gets the type. */
static int fuse_mounted(const char *path, char *fstype, size_t size)
{
	FILE *fp = fopen("/proc/self/mountinfo", "re");
	char line[8192], mnt[PATH_MAX + 1];
	int found = 0;

	if (!fp)
		return 1; /* cannot tell: let fusermount3 decide */
	while (!found && fgets(line, sizeof(line), fp)) {
		char *p = line, *sep, *o;
		/* fields: id parent maj:min root MOUNTPOINT ... - TYPE ... */
		for (int i = 0; i < 4 && p; i++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (!p)
			continue;
		/* unescape \ooo (spaces and tabs in paths) */
		for (o = mnt; *p && *p != ' ' && o < mnt + PATH_MAX; o++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' &&
			    p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
			    p[3] <= '7') {
				*o = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 +
					    (p[3] - '0'));
				p += 4;
			} else {
				*o = *p++;
			}
		}
		*o = 0;
		if (strcmp(mnt, path))
			continue;
		sep = strstr(p, " - ");
		if (!sep)
			continue;
		snprintf(fstype, size, "%.*s", (int)strcspn(sep + 3, " \n"),
			 sep + 3);
		found = 1; /* the last match is the visible mount */
	}
	fclose(fp);
	if (!found)
		return 0;
	return !strncmp(fstype, "fuse", 4) ? 1 : -1;
}

int cmd_umount(int argc, char **argv)
{
	char *mp, fstype[64] = "";
	pid_t pid;
	int st, m;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs("Usage: vhdunlock umount MOUNTPOINT\n"
		      "Unmount a file system mounted by 'vhdunlock mount' "
		      "(runs fusermount3 -u).\n", stdout);
		return EXIT_OK;
	}
	if (argc != 2)
		return cli_usage("umount: expected MOUNTPOINT");
	mp = realpath(argv[1], NULL);
	if (!mp) {
		fprintf(stderr, "%s: %s: %s\n", vu_prog, argv[1],
			strerror(errno));
		return EXIT_FAIL;
	}
	m = fuse_mounted(mp, fstype, sizeof(fstype));
	if (m <= 0) {
		if (m == 0)
			fprintf(stderr, "%s: %s: not mounted\n", vu_prog,
				argv[1]);
		else
			fprintf(stderr, "%s: %s: not a vhdunlock (FUSE) mount "
				"but %s\n", vu_prog, argv[1], fstype);
		free(mp);
		return EXIT_FAIL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", vu_prog, strerror(errno));
		free(mp);
		return EXIT_FAIL;
	}
	if (pid == 0) {
		char *const args[] = { "fusermount3", "-u", "--", mp, NULL };
		execvp(args[0], args);
		fprintf(stderr, "%s: cannot run fusermount3: %s\n", vu_prog,
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: waitpid: %s\n", vu_prog,
				strerror(errno));
			free(mp);
			return EXIT_FAIL;
		}
	}
	free(mp);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return EXIT_OK;
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 127))
		fprintf(stderr, "%s: %s: fusermount3 -u failed\n", vu_prog,
			argv[1]);
	return EXIT_FAIL;
}
