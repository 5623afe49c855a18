/* md arrays from a heap of scanned members: grouped by array UUID, each
 * member placed in its role by the freshest superblock (the highest event
 * count), as mdadm --assemble does.  Members whose superblock is older
 * (they dropped out and missed writes), spares, faulty members and ones
 * only partly rebuilt are left out and named in the array's notes.  What
 * the array then presents is md_map.c's. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "md/md_format.h"
#include "md/md_int.h"

struct vu_md_array {
	char uuid[MD_UUID_STR];
	char name[33], host[33];
	char metadata[5];
	char layout[24];
	int minor;
	struct md_geometry g;
	uint64_t events;
	unsigned present;
	struct vu_md_member **role;	/* [raid_disks]; NULL: missing */
	uint64_t *dev_sizes;		/* RAID0: [raid_disks] */
	struct vu_md_member **all;	/* owned */
	size_t nall;
	char *error;
	char *notes;
	struct vu_blk *blk;		/* the array, when it can be read */
};

const char *vu_md_level_name(int level)
{
	switch (level) {
	case MD_LEVEL_LINEAR: return "linear";
	case MD_LEVEL_MULTIPATH: return "multipath";
	case 0: return "raid0";
	case 1: return "raid1";
	case 4: return "raid4";
	case 5: return "raid5";
	case 6: return "raid6";
	case 10: return "raid10";
	default: return "an unknown level";
	}
}

static void layout_name(struct vu_md_array *a)
{
	static const char *const r5[] = {
		"left-asymmetric", "right-asymmetric", "left-symmetric",
		"right-symmetric", "parity-first", "parity-last",
	};
	uint32_t l = a->g.layout;

	a->layout[0] = '\0';
	if (a->g.level == 5 && l < sizeof(r5) / sizeof(r5[0]))
		snprintf(a->layout, sizeof(a->layout), "%s", r5[l]);
	else if (a->g.level == 5)
		snprintf(a->layout, sizeof(a->layout), "layout %u", l);
	else if (a->g.level == 10 && l & MD_R10_OFFSET)
		snprintf(a->layout, sizeof(a->layout), "offset=%u",
			 MD_R10_FAR(l));
	else if (a->g.level == 10 && MD_R10_FAR(l) > 1)
		snprintf(a->layout, sizeof(a->layout), "far=%u",
			 MD_R10_FAR(l));
	else if (a->g.level == 10)
		snprintf(a->layout, sizeof(a->layout), "near=%u",
			 MD_R10_NEAR(l));
}

/* Append one line to the notes (out of memory: the note is lost, the
 * array still assembles). */
static void note(struct vu_md_array *a, const char *fmt, ...)
{
	char line[200];
	size_t old = a->notes ? strlen(a->notes) : 0;
	char *n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = realloc(a->notes, old + strlen(line) + 2);
	if (!n)
		return;
	memcpy(n + old, line, strlen(line));
	n[old + strlen(line)] = '\n';
	n[old + strlen(line) + 1] = '\0';
	a->notes = n;
	vu_log(VU_LOG_WARN, "md %s: %s", a->name[0] ? a->name : a->uuid, line);
}

static int set_error(struct vu_md_array *a, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(a->error);
	a->error = strdup(msg);
	return a->error ? 0 : vu_fail(-ENOMEM, "out of memory");
}

/* The role this superblock's device plays, by the freshest superblock. */
static void place(struct vu_md_array *a, const struct vu_md_member *fresh,
		  struct vu_md_member *m)
{
	uint16_t role;

	if (m->events < fresh->events) {
		note(a, "%s: stale (event count %" PRIu64 ", the array's %"
		     PRIu64 "): left out", m->label, m->events, fresh->events);
		return;
	}
	role = m->dev_number < fresh->max_dev ? fresh->roles[m->dev_number]
					      : m->roles[m->dev_number];
	if (role == MD_ROLE_SPARE || role == MD_ROLE_JOURNAL ||
	    role == MD_ROLE_FAULTY || role >= a->g.ndev) {
		note(a, "%s: %s: left out", m->label,
		     role == MD_ROLE_SPARE ? "spare" :
		     role == MD_ROLE_JOURNAL ? "journal" :
		     role == MD_ROLE_FAULTY ? "faulty" : "role out of range");
		return;
	}
	if (m->features & MD_FEATURE_RECOVERY_OFFSET &&
	    m->recovery_offset < m->size) {
		note(a, "%s: role %u being rebuilt (%" PRIu64 " of %" PRIu64
		     " sectors): left out", m->label, role,
		     m->recovery_offset, m->size);
		return;
	}
	if (a->role[role]) {
		note(a, "%s: role %u is %s's already: left out", m->label,
		     role, a->role[role]->label);
		return;
	}
	a->role[role] = m;
	a->present++;
}

/* The bytes of each member's data area the array uses: the size the
 * superblock gives, or for RAID0 (whose superblock says 0) each member
 * whole, in chunks: members of different sizes make zones. */
static int member_size(struct vu_md_array *a, const struct vu_md_member *f)
{
	uint64_t least = 0;

	if (a->g.level != 0) {
		a->g.dev_size = f->size * MD_SECTOR;
		return 0;
	}
	a->dev_sizes = calloc(a->g.ndev, sizeof(*a->dev_sizes));
	if (!a->dev_sizes)
		return vu_fail(-ENOMEM, "out of memory");
	for (unsigned i = 0; i < a->g.ndev; i++) {
		const struct vu_md_member *m = a->role[i];
		uint64_t s;

		if (!m)
			continue;
		s = m->data_size * MD_SECTOR;
		s = a->g.chunk ? s / a->g.chunk * a->g.chunk : s;
		a->dev_sizes[i] = s;
		if (!least || s < least)
			least = s;
	}
	a->g.dev_sizes = a->dev_sizes;
	a->g.dev_size = least;
	return 0;
}

static int open_array(struct vu_md_array *a)
{
	struct vu_blk **devs = calloc(a->g.ndev, sizeof(*devs));
	char name[48];
	int r = 0;

	if (!devs)
		return vu_fail(-ENOMEM, "out of memory");
	for (unsigned i = 0; i < a->g.ndev && r == 0; i++) {
		const struct vu_md_member *m = a->role[i];

		if (m)
			r = vu_slice_open(vu_blk_ref(m->blk),
					  m->data_offset * MD_SECTOR,
					  a->dev_sizes ? a->dev_sizes[i]
						       : a->g.dev_size,
					  m->label, &devs[i]);
	}
	snprintf(name, sizeof(name), "md:%s", a->name[0] ? a->name : a->uuid);
	if (r == 0)
		r = md_map_open(&a->g, devs, name, &a->blk);
	for (unsigned i = 0; i < a->g.ndev; i++)
		vu_blk_unref(devs[i]);
	free(devs);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		r = set_error(a, "%s", vu_errmsg(r));
		vu_err_clear();
	}
	return r;
}

/* Assemble one group: members[0..n) share an array UUID. */
static int assemble_one(struct vu_md_member **members, size_t n,
			struct vu_md_array **out)
{
	struct vu_md_array *a = calloc(1, sizeof(*a));
	const struct vu_md_member *f = members[0];
	const char *colon, *why;
	int r;

	if (!a)
		return vu_fail(-ENOMEM, "out of memory");
	a->all = members;
	a->nall = n;
	for (size_t i = 1; i < n; i++)
		if (members[i]->events > f->events)
			f = members[i];
	memcpy(a->uuid, f->uuid_str, sizeof(a->uuid));
	memcpy(a->metadata, f->metadata, sizeof(a->metadata));
	colon = strchr(f->set_name, ':');
	snprintf(a->name, sizeof(a->name), "%s", colon ? colon + 1
						       : f->set_name);
	snprintf(a->host, sizeof(a->host), "%.*s",
		 colon ? (int)(colon - f->set_name) : 0, f->set_name);
	a->minor = f->minor;
	a->events = f->events;
	a->g.level = f->level;
	a->g.layout = f->layout;
	a->g.chunk = f->chunk * MD_SECTOR;
	a->g.ndev = f->raid_disks;
	layout_name(a);
	*out = a;
	if (f->raid_disks == 0 || f->raid_disks > f->max_dev)
		return set_error(a, "raid_disks %u does not fit the role table "
				 "(%u entries)", f->raid_disks, f->max_dev);
	a->role = calloc(f->raid_disks, sizeof(*a->role));
	if (!a->role)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		place(a, f, members[i]);
	if (f->features & MD_FEATURE_RESHAPE_ACTIVE)
		return set_error(a, "not supported: a reshape is under way");
	if (f->features & ~MD_FEATURE_ALL)
		return set_error(a, "not supported: feature bits 0x%x",
				 f->features & ~MD_FEATURE_ALL);
	r = member_size(a, f);
	if (r < 0 || a->error)
		return r;
	why = md_geometry_check(&a->g);
	if (why)
		return set_error(a, "not supported: %s", why);
	return open_array(a);
}

int vu_md_assemble(struct vu_md_member **members, size_t n,
		   struct vu_md_array *const *open, size_t nopen,
		   struct vu_md_assembly *out)
{
	int r = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n && r == 0; i++) {
		struct vu_md_member **group, *m = members[i];
		size_t k = 0;
		int known = 0;

		if (!m)
			continue;
		for (size_t j = 0; j < nopen; j++)
			known |= !strcmp(open[j]->uuid, m->uuid_str);
		group = calloc(n - i, sizeof(*group));
		if (!group) {
			r = vu_fail(-ENOMEM, "out of memory");
			break;
		}
		for (size_t j = i; j < n; j++)
			if (members[j] &&
			    !memcmp(members[j]->uuid, m->uuid, 16)) {
				group[k++] = members[j];
				members[j] = NULL;
			}
		if (known) {
			vu_log(VU_LOG_WARN, "md %s: %s was found after the "
			       "array was assembled; it is not used",
			       m->uuid_str, m->label);
			for (size_t j = 0; j < k; j++)
				vu_md_member_free(group[j]);
			free(group);
			continue;
		}
		struct vu_md_array **arrays = realloc(out->arrays,
					(out->n + 1) * sizeof(*arrays));
		struct vu_md_array *a = NULL;

		if (!arrays) {
			for (size_t j = 0; j < k; j++)
				vu_md_member_free(group[j]);
			free(group);
			r = vu_fail(-ENOMEM, "out of memory");
			break;
		}
		out->arrays = arrays;
		r = assemble_one(group, k, &a);
		if (a)
			out->arrays[out->n++] = a;
		else
			free(group);
	}
	for (size_t i = 0; i < n; i++)
		vu_md_member_free(members[i]);
	if (r < 0)
		vu_md_assembly_free(out);
	return r;
}

void vu_md_assembly_free(struct vu_md_assembly *a)
{
	for (size_t i = 0; i < a->n; i++)
		vu_md_array_free(a->arrays[i]);
	free(a->arrays);
	memset(a, 0, sizeof(*a));
}

void vu_md_array_free(struct vu_md_array *a)
{
	if (!a)
		return;
	vu_blk_unref(a->blk);
	for (size_t i = 0; i < a->nall; i++)
		vu_md_member_free(a->all[i]);
	free(a->all);
	free(a->role);
	free(a->dev_sizes);
	free(a->error);
	free(a->notes);
	free(a);
}

void vu_md_array_info(const struct vu_md_array *a, struct vu_md_info *out)
{
	memset(out, 0, sizeof(*out));
	out->uuid = a->uuid;
	out->name = a->name;
	out->host = a->host;
	out->minor = a->minor;
	out->metadata = a->metadata;
	out->level = a->g.level;
	out->layout = a->layout;
	out->chunk = a->g.level == 1 ? 0 : a->g.chunk;
	out->raid_disks = a->g.ndev;
	out->present = a->present;
	out->size = a->g.size;
	out->member_size = a->g.dev_size;
	out->zones = a->g.zones ? a->g.zones : 1;
	out->events = a->events;
	out->error = a->error;
	out->degraded = !a->error && a->present < a->g.ndev;
	out->notes = a->notes ? a->notes : "";
}

int vu_md_array_role(const struct vu_md_array *a, unsigned i,
		     const char **label, uint64_t *data_offset)
{
	if (!a->role || i >= a->g.ndev)
		return -EINVAL;
	*label = a->role[i] ? a->role[i]->label : NULL;
	*data_offset = a->role[i] ? a->role[i]->data_offset * MD_SECTOR : 0;
	return 0;
}

int vu_md_array_open(struct vu_md_array *a, struct vu_blk **out)
{
	*out = NULL;
	if (!a->blk)
		return vu_fail(a->present ? -ENOTSUP : -ENOENT, "md %s: %s",
			       a->name[0] ? a->name : a->uuid,
			       a->error ? a->error : "cannot be read");
	*out = vu_blk_ref(a->blk);
	return 0;
}
