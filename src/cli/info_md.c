/* info's md section (see info_md.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/info_md.h"
#include "core/human.h"

const char *info_md_volume(const struct vu_disk *d,
			   const struct vu_md_array *a)
{
	for (size_t i = 0; i < d->nvolumes; i++)
		if (d->volumes[i].md == a)
			return d->volumes[i].id;
	return NULL;
}

static const char *state(const struct vu_md_info *mi, char *buf,
			 size_t size)
{
	if (mi->error)
		snprintf(buf, size, "cannot be read: %s", mi->error);
	else if (mi->degraded)
		snprintf(buf, size, "degraded: %u of %u members present, "
			 "readable", mi->present, mi->raid_disks);
	else
		snprintf(buf, size, "all %u members present", mi->raid_disks);
	return buf;
}

static void print_array(const struct vu_disk *d, const struct vu_md_array *a)
{
	struct vu_md_info mi;
	char size[32], each[32], chunk[32], st[400];
	const char *id = info_md_volume(d, a), *notes;

	vu_md_array_info(a, &mi);
	vu_human_size(mi.size, size, sizeof(size));
	vu_human_size(mi.member_size, each, sizeof(each));
	vu_human_size(mi.chunk, chunk, sizeof(chunk));
	printf("\n%s: md %s%s%s%s%s, metadata %s, UUID %s\n",
	       id ? id : "md", vu_md_level_name(mi.level),
	       mi.layout[0] ? ", " : "", mi.layout, mi.chunk ? ", chunk " : "",
	       mi.chunk ? chunk : "", mi.metadata, mi.uuid);
	if (mi.name[0] && mi.host[0])
		printf("    name:         %s (host %s)\n", mi.name, mi.host);
	else if (mi.name[0])
		printf("    name:         %s\n", mi.name);
	if (mi.zones > 1)
		printf("    size:         %s (%" PRIu64 " bytes), members of "
		       "different sizes in %u zones\n", size, mi.size,
		       mi.zones);
	else
		printf("    size:         %s (%" PRIu64 " bytes), %s of each "
		       "member\n", size, mi.size, each);
	printf("    state:        %s\n", state(&mi, st, sizeof(st)));
	for (unsigned i = 0; i < mi.raid_disks; i++) {
		const char *label, *head = i ? "" : "members:";
		uint64_t at;
		char off[32];

		if (vu_md_array_role(a, i, &label, &at) < 0)
			break;
		vu_human_size(at, off, sizeof(off));
		if (label)
			printf("    %-13s %s, data at %s\n", head, label, off);
		else
			printf("    %-13s role %u missing\n", head, i);
	}
	for (notes = mi.notes; *notes;) {
		const char *nl = strchr(notes, '\n');
		int len = nl ? (int)(nl - notes) : (int)strlen(notes);

		printf("    left out:     %.*s\n", len, notes);
		notes += len + (nl != NULL);
	}
}

void info_md_print(const struct vu_disk *d)
{
	for (size_t i = 0; i < d->nmds; i++)
		print_array(d, d->mds[i]);
}

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

json_object *info_md_json(const struct vu_disk *d)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < d->nmds; i++) {
		const struct vu_md_array *a = d->mds[i];
		json_object *o = json_object_new_object(), *roles;
		struct vu_md_info mi;
		const char *id = info_md_volume(d, a);

		vu_md_array_info(a, &mi);
		json_object_object_add(o, "id", id ? jstr(id) : NULL);
		json_object_object_add(o, "uuid", jstr(mi.uuid));
		json_object_object_add(o, "name", jstr(mi.name));
		json_object_object_add(o, "host", jstr(mi.host));
		json_object_object_add(o, "metadata", jstr(mi.metadata));
		json_object_object_add(o, "level",
				       jstr(vu_md_level_name(mi.level)));
		json_object_object_add(o, "layout", jstr(mi.layout));
		json_object_object_add(o, "chunk",
				       json_object_new_uint64(mi.chunk));
		json_object_object_add(o, "size",
				       json_object_new_uint64(mi.size));
		json_object_object_add(o, "raid_disks",
				       json_object_new_int((int)mi.raid_disks));
		json_object_object_add(o, "present",
				       json_object_new_int((int)mi.present));
		json_object_object_add(o, "degraded",
				       json_object_new_boolean(mi.degraded));
		json_object_object_add(o, "events",
				       json_object_new_uint64(mi.events));
		if (mi.error)
			json_object_object_add(o, "error", jstr(mi.error));
		roles = json_object_new_array();
		for (unsigned k = 0; k < mi.raid_disks; k++) {
			const char *label;
			uint64_t at;

			if (vu_md_array_role(a, k, &label, &at) < 0)
				break;
			json_object_array_add(roles, label ? jstr(label)
							   : NULL);
		}
		json_object_object_add(o, "members", roles);
		json_object_object_add(o, "left_out", jstr(mi.notes));
		json_object_array_add(arr, o);
	}
	return arr;
}
