/* info's md section: each array assembled, its geometry, state and roles,
 * as text and as JSON. */
#ifndef VU_CLI_INFO_MD_H
#define VU_CLI_INFO_MD_H

#include <json-c/json.h>

#include "disk/disk.h"

void info_md_print(const struct vu_disk *d);
json_object *info_md_json(const struct vu_disk *d);
/* The md array's volume id, or NULL (the array is listed by UUID). */
const char *info_md_volume(const struct vu_disk *d,
			   const struct vu_md_array *a);

#endif
