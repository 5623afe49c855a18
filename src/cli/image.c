/* IMAGE as CLI.md allows it: a path, an https:// URL (http:// on
 * loopback), @FILE holding the URL, or the resource ID of a managed disk
 * or snapshot.  URLs become URL sources registered under their URL without
 * query, the only name the rest of the program sees; a resource ID also
 * gives the disk's ADE secret URLs, and its read access is revoked when
 * the command ends (cli_images_end). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "akv/arm.h"
#include "cli/cli.h"
#include "core/log.h"
#include "source/source.h"
#include "source/url.h"

/* A SAS URL is short; anything longer in an @FILE is not one. */
#define MAX_URL_LINE 16384

struct cli_image {
	char *name;		/* what the disk layer is given */
	struct vu_blk *blk;	/* a URL source, or NULL for a path */
	struct arm_access *arm;	/* for a resource ID */
};

struct cli_images {
	struct cli_image *v;
	size_t n;
	char **secret_urls;	/* from the resources' encryption settings */
	size_t nsecret_urls;
};

/* "256M", "1G", "4096": bytes. */
int cli_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'B' || *end == 'b') && end[1] == 0)
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* The first line of FILE ("-": standard input), which must be a URL. */
static int read_url_file(const char *file, char **url)
{
	FILE *fp = strcmp(file, "-") ? fopen(file, "re") : stdin;
	char *line;
	size_t n;

	*url = NULL;
	if (!fp)
		return vu_fail(-ENOENT, "@%s: cannot open: %s", file,
			       strerror(errno));
	line = calloc(1, MAX_URL_LINE + 2);
	if (!line) {
		if (fp != stdin)
			fclose(fp);
		return vu_fail(-ENOMEM, "out of memory");
	}
	if (!fgets(line, MAX_URL_LINE + 2, fp))
		line[0] = 0;
	if (fp != stdin)
		fclose(fp);
	n = strcspn(line, "\r\n");
	if (n > MAX_URL_LINE) {
		explicit_bzero(line, MAX_URL_LINE + 2);
		free(line);
		return vu_fail(-EINVAL, "@%s: first line longer than %d bytes, "
			       "expected a URL", file, MAX_URL_LINE);
	}
	line[n] = 0;
	if (!n) {
		free(line);
		return vu_fail(-EINVAL, "@%s: empty, expected a URL on its "
			       "first line", file);
	}
	*url = line;
	return 0;
}

static void url_opts(const struct cli_keys *k, struct vu_url_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ca_file = k->ca_file;
	o->cache_size = k->cache_size;
	o->cache_dir = k->cache_dir;
}

static int add_image(struct cli_keys *k, struct cli_image **out)
{
	struct cli_images *s = k->images;
	struct cli_image *v;

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return vu_fail(-ENOMEM, "out of memory");
		k->images = s;
	}
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return vu_fail(-ENOMEM, "out of memory");
	s->v = v;
	*out = &v[s->n++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

/* Open url as a source and register it; the image's name is the URL
 * without its query. */
static int open_url(struct cli_keys *k, struct cli_image *im,
		    const char *url)
{
	struct vu_url_opts o;
	struct vu_url_info in;
	int r;

	url_opts(k, &o);
	r = vu_url_open(url, &o, &im->blk);
	if (r < 0)
		return r;
	vu_url_info(im->blk, &in);
	im->name = strdup(in.display);
	if (!im->name)
		return vu_fail(-ENOMEM, "out of memory");
	return vu_source_register(im->name, im->blk);
}

static int renew_access(void *arg, char **url, int64_t *expires)
{
	return arm_renew(arg, url, expires);
}

/* The resource's ADE secrets become --secret-url keys of this command. */
static int take_secrets(struct cli_keys *k, const struct arm_disk *disk)
{
	struct cli_images *s = k->images;

	for (size_t i = 0; i < disk->nsettings; i++) {
		const char *u = disk->settings[i].secret_url;
		char **v = realloc(s->secret_urls,
				   (s->nsecret_urls + 1) * sizeof(*v));
		const char **w;
		if (!v)
			return vu_fail(-ENOMEM, "out of memory");
		s->secret_urls = v;
		v[s->nsecret_urls] = strdup(u);
		if (!v[s->nsecret_urls])
			return vu_fail(-ENOMEM, "out of memory");
		w = realloc(k->secret_urls, (k->nsecret_urls + 1) * sizeof(*w));
		if (!w)
			return vu_fail(-ENOMEM, "out of memory");
		k->secret_urls = w;
		w[k->nsecret_urls++] = v[s->nsecret_urls++];
		vu_log(VU_LOG_INFO, "%s: ADE secret %s%s%s", disk->name, u,
		       disk->settings[i].key_url[0] ? ", wrapped by " : "",
		       disk->settings[i].key_url);
	}
	return 0;
}

static int open_resource(struct cli_keys *k, struct cli_image *im,
			 const char *id)
{
	struct arm_opts o = { .arm_url = k->arm_url,
			      .access_seconds = k->access_seconds,
			      .token_file = k->token_file,
			      .http = { .ca_file = k->ca_file } };
	int r;

	if (k->auth && (r = akv_method_parse(k->auth, &o.method)) < 0)
		return r;
	r = arm_open(id, &o, &im->arm);
	if (r < 0)
		return r;
	r = take_secrets(k, arm_access_disk(im->arm));
	if (r == 0)
		r = open_url(k, im, arm_access_sas(im->arm));
	if (r == 0)
		vu_url_set_renew(im->blk, renew_access, im->arm,
				 arm_access_expires(im->arm));
	return r;
}

/* A URL given on the command line: its query (the SAS) wiped in argv
 * itself, so that messages that name the argument, and the process list
 * from now on, show the URL without it. */
static void scrub_argument(char *spec)
{
	size_t n = strcspn(spec, "?#");

	if (spec[n])
		explicit_bzero(spec + n, strlen(spec + n));
}

int cli_image_resolve(struct cli_keys *k, char *spec, const char **name)
{
	struct cli_image *im = NULL;
	char *url = NULL;
	int r, loopback;

	*name = spec;
	if (spec[0] != '@' && !arm_is_resource_id(spec) &&
	    strncasecmp(spec, "https://", 8) && strncasecmp(spec, "http://", 7))
		return 0; /* a path */
	r = add_image(k, &im);
	if (r < 0)
		return r;
	if (spec[0] == '@') {
		r = read_url_file(spec + 1, &url);
		if (r < 0)
			return r;
		if (!vu_url_scheme_ok(url, &loopback) &&
		    strncasecmp(url, "http://", 7)) {
			explicit_bzero(url, strlen(url));
			free(url);
			return vu_fail(-EINVAL, "%s: the first line is not an "
				       "https:// URL", spec);
		}
		r = open_url(k, im, url);
		explicit_bzero(url, strlen(url));
		free(url);
	} else if (arm_is_resource_id(spec)) {
		r = open_resource(k, im, spec);
	} else {
		r = open_url(k, im, spec);
		scrub_argument(spec);
	}
	if (r == 0)
		*name = im->name;
	return r;
}

static void print_stats(const struct cli_image *im)
{
	struct vu_url_stats st;
	struct vu_url_info in;
	char bytes[32], size[32], zeros[32];

	vu_url_stats(im->blk, &st);
	vu_url_info(im->blk, &in);
	vu_human_size(st.bytes, bytes, sizeof(bytes));
	vu_human_size(in.size, size, sizeof(size));
	vu_human_size(st.zero_bytes, zeros, sizeof(zeros));
	fprintf(stderr, "%s: stats: %s: %" PRIu64 " requests, %" PRIu64
		" bytes transferred (%s of %s), %" PRIu64 " cache hits, %"
		PRIu64 " blocks from the cache directory, %" PRIu64
		" bytes read as zeros without a request (%s, page map), %"
		PRIu64 " retries\n", vu_prog, in.display, st.requests,
		st.bytes, bytes, size, st.cache_hits, st.disk_hits,
		st.zero_bytes, zeros, st.retries);
}

int cli_images_end(struct cli_keys *k)
{
	struct cli_images *s = k->images;
	int r = 0;

	if (!s)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		struct cli_image *im = &s->v[i];

		if (im->blk && k->stats) {
			fflush(stdout);
			print_stats(im);
		}
		if (im->arm && !k->keep_access) {
			int e = arm_end(im->arm);
			if (e < 0) {
				vu_log(VU_LOG_WARN, "%s: could not revoke the "
				       "read access: %s; revoke it with az "
				       "snapshot/disk revoke-access",
				       arm_access_disk(im->arm)->name,
				       vu_errmsg(e));
				vu_err_clear();
				r = e;
			}
		} else if (im->arm) {
			vu_log(VU_LOG_WARN, "%s: read access kept (--keep-access):"
			       " the VM cannot start until it is revoked",
			       arm_access_disk(im->arm)->name);
		}
		arm_free(im->arm);
		vu_blk_unref(im->blk);
		free(im->name);
	}
	vu_source_clear();
	for (size_t i = 0; i < s->nsecret_urls; i++)
		free(s->secret_urls[i]);
	free(s->secret_urls);
	free(s->v);
	free(s);
	k->images = NULL;
	return r;
}

/* For info: the URL source behind an image name, or NULL. */
struct vu_blk *cli_image_source(const char *name)
{
	struct vu_blk *b = vu_source_find(name);

	return b && vu_url_is(b) ? b : NULL;
}
