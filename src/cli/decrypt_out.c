/* decrypt's output file (decrypt_out.h). */
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/decrypt_out.h"
#include "cli/export_pool.h"
#include "cli/output.h"
#include "cli/cli.h"
#include "cli/vhd_footer.h"
#include "container/vhdx_write.h"
#include "core/error.h"

/* The temporary file a signal must not leave behind.  Set before the
 * handlers go in and cleared after they are gone. */
static char *volatile pending;

static void on_signal(int sig)
{
	char *p = pending;

	if (p)
		unlink(p);	/* async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int caught[] = { SIGINT, SIGTERM, SIGHUP };

static void catch_signals(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++) {
		sigaction(caught[i], &sa, &old[i]);
		/* a signal ignored (nohup, a background job's SIGINT) stays
		 * ignored: it would not have ended the program */
		if (old[i].sa_handler == SIG_IGN)
			sigaction(caught[i], &old[i], NULL);
	}
}

static void restore_signals(const struct sigaction *old)
{
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		sigaction(caught[i], &old[i], NULL);
}

/* OUT may be created, or replaced with force; never one of the images. */
static int check_out(const struct vu_disk *d, const char *out, int force)
{
	struct stat st;

	if (stat(out, &st) < 0)
		return 0;
	if (!force)
		return vu_fail(-EEXIST, "%s: already exists; use --force to "
			       "overwrite it", out);
	if (!S_ISREG(st.st_mode))
		return vu_fail(-EINVAL, "%s: not a regular file; decrypt "
			       "replaces OUT by renaming a new file over it",
			       out);
	return cli_check_not_image(d, &st, out);
}

static int write_footer(int fd, uint64_t size, const char *out)
{
	uint8_t f[VHD_FOOTER_SIZE], id[16];

	if (getrandom(id, sizeof(id), 0) != sizeof(id))
		return vu_fail(-EIO, "%s: no random bytes for the VHD's "
			       "unique id: %s", out, strerror(errno));
	vhd_footer_fixed(f, size, time(NULL), id);
	if (lseek(fd, (off_t)size, SEEK_SET) < 0)
		return vu_fail(-EIO, "%s: seek failed: %s", out,
			       strerror(errno));
	return cli_write_all(fd, f, sizeof(f), out);
}

/* The rename is only durable once the directory is on disk too. */
static void sync_dir(const char *out)
{
	char *copy = strdup(out);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* export_pool's sink into the VHDX writer, with progress */
struct vhdx_sink {
	struct vu_vhdx_writer *w;
	struct cli_progress pr;
};

static int vhdx_put(void *arg, const uint8_t *buf, size_t n, uint64_t off)
{
	struct vhdx_sink *s = arg;
	int r = vu_vhdx_writer_put(s->w, buf, n, off);

	if (r == 0)
		cli_progress_update(&s->pr, off + n);
	return r;
}

static int fill_vhdx(int fd, struct vu_blk *b, const char *out,
		     unsigned threads)
{
	struct vhdx_sink s = { 0 };
	int r = vu_vhdx_writer_open(fd, out, b->size, b->sector_size, &s.w);

	if (r < 0)
		return r;
	cli_progress_start(&s.pr, "decrypt", b->size);
	r = export_pool_run(b, threads, vhdx_put, &s);
	cli_progress_end(&s.pr);
	if (r == 0)
		r = vu_vhdx_writer_finish(s.w);
	vu_vhdx_writer_free(s.w);
	return r;
}

static int fill(int fd, struct vu_blk *b, const char *out,
		enum decrypt_format fmt, unsigned threads)
{
	int r;

	if (fmt == DECRYPT_VHDX)
		r = fill_vhdx(fd, b, out, threads);
	else
		r = cli_copy_blk(b, "decrypt", fd, 1, out, threads);
	if (r == 0 && fmt == DECRYPT_VHD)
		r = write_footer(fd, b->size, out);
	if (r == 0 && fsync(fd) < 0)
		r = vu_fail(-EIO, "%s: %s", out, strerror(errno));
	return r;
}

int decrypt_out_write(const struct vu_disk *d, struct vu_blk *b,
		      const char *out, int force, enum decrypt_format fmt,
		      unsigned threads, decrypt_check_fn check, void *arg)
{
	struct sigaction old[sizeof(caught) / sizeof(caught[0])];
	char *tmp;
	int fd, r;

	r = check_out(d, out, force);
	if (r < 0)
		return r;
	if (asprintf(&tmp, "%s.vhdunlock-XXXXXX", out) < 0)
		return vu_fail(-ENOMEM, "out of memory");
	/* set first: a signal between the two finds the file already */
	pending = tmp;
	catch_signals(old);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = vu_fail(-EIO, "%s: cannot create: %s", tmp,
			    strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0644) < 0)
		r = vu_fail(-EIO, "%s: %s", tmp, strerror(errno));
	if (r == 0)
		r = fill(fd, b, out, fmt, threads);
	if (close(fd) < 0 && r == 0)
		r = vu_fail(-EIO, "%s: %s", tmp, strerror(errno));
	if (r == 0 && check)
		r = check(tmp, arg);
	if (r == 0 && rename(tmp, out) < 0)
		r = vu_fail(-EIO, "%s: cannot rename %s to it: %s", out, tmp,
			    strerror(errno));
	if (r < 0)
		unlink(tmp);
	else
		sync_dir(out);
out:
	restore_signals(old);
	pending = NULL;
	free(tmp);
	return r;
}
