/* The manifest extract writes into DEST: one sha256sum line for every file
 * copied, so that 'sha256sum -c' checks the copy.  An extract into a place
 * that has one already updates it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/extract.h"

struct manifest_line {
	char *name; /* as sha256sum writes it (escaped) */
	int escaped;
	char hex[65];
};

int manifest_add(struct manifest *m, const char *rel, const uint8_t hash[32])
{
	struct manifest_line *l;
	char *e;
	size_t k = 0;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		l = realloc(m->lines, cap * sizeof(*l));
		if (!l)
			return vu_fail(-ENOMEM, "out of memory");
		m->lines = l;
		m->cap = cap;
	}
	l = &m->lines[m->n];
	e = malloc(strlen(rel) * 2 + 1);
	if (!e)
		return vu_fail(-ENOMEM, "out of memory");
	/* sha256sum's escaping: a line whose name holds '\\', '\n' or '\r'
	 * starts with '\\' and has them escaped. */
	l->escaped = 0;
	for (const char *p = rel; *p; p++) {
		char esc = *p == '\\' ? '\\'
			 : *p == '\n' ? 'n'
			 : *p == '\r' ? 'r'
				      : 0;

		if (esc) {
			e[k++] = '\\';
			e[k++] = esc;
			l->escaped = 1;
		} else {
			e[k++] = *p;
		}
	}
	e[k] = '\0';
	l->name = e;
	for (int i = 0; i < 32; i++)
		snprintf(l->hex + 2 * i, 3, "%02x", hash[i]);
	m->n++;
	return 0;
}

void manifest_free(struct manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->lines[i].name);
	free(m->lines);
	memset(m, 0, sizeof(*m));
}

static int line_cmp(const void *a, const void *b)
{
	const struct manifest_line *p =
		*(const struct manifest_line *const *)a;
	const struct manifest_line *q =
		*(const struct manifest_line *const *)b;

	return p->escaped != q->escaped ? p->escaped - q->escaped
					: strcmp(p->name, q->name);
}

/* A line of an existing manifest names a file written now: it is
 * replaced by the new line. */
static int superseded(char *line, const struct manifest_line **sorted,
		      size_t n)
{
	struct manifest_line key = { 0 };
	const struct manifest_line *kp = &key;
	char *name;
	size_t len = strlen(line);

	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	key.escaped = line[0] == '\\';
	name = line + key.escaped;
	if (strlen(name) < 66 || strspn(name, "0123456789abcdefABCDEF") != 64 ||
	    name[64] != ' ' || (name[65] != ' ' && name[65] != '*'))
		return 0; /* not ours to judge: kept */
	key.name = name + 66;
	return bsearch(&kp, sorted, n, sizeof(*sorted), line_cmp) != NULL;
}

int manifest_write(const struct manifest *m, int dfd, const char *dir,
		   unsigned int *tmpseq)
{
	const struct manifest_line **sorted = NULL;
	char tmp[64], *line = NULL;
	size_t cap = 0;
	FILE *in = NULL, *out = NULL;
	int fd, r = 0;

	if (!m->n)
		return 0;
	sorted = malloc(m->n * sizeof(*sorted));
	if (!sorted)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < m->n; i++)
		sorted[i] = &m->lines[i];
	qsort(sorted, m->n, sizeof(*sorted), line_cmp);
	fd = openat(dfd, MANIFEST, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		in = fdopen(fd, "r");
	fd = extract_temp_file(tmpseq, dfd, tmp, sizeof(tmp));
	if (fd < 0 || !(out = fdopen(fd, "w"))) {
		r = vu_fail(-EIO, "%s/%s: cannot write: %s", dir, MANIFEST,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	while (in && getline(&line, &cap, in) > 0)
		if (!superseded(line, sorted, m->n))
			fprintf(out, "%s\n", line);
	for (size_t i = 0; i < m->n; i++)
		fprintf(out, "%s%s  %s\n", m->lines[i].escaped ? "\\" : "",
			m->lines[i].hex, m->lines[i].name);
	if (fchmod(fileno(out), 0644) < 0 || ferror(out) || fclose(out) != 0 ||
	    renameat(dfd, tmp, dfd, MANIFEST) < 0) {
		r = vu_fail(-EIO, "%s/%s: cannot write: %s", dir, MANIFEST,
			    strerror(errno));
		unlinkat(dfd, tmp, 0);
	}
	out = NULL;
out:
	if (out)
		fclose(out);
	if (in)
		fclose(in);
	free(line);
	free(sorted);
	return r;
}
