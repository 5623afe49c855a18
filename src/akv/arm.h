/* Azure Resource Manager for an image given as the resource ID of a
 * managed disk or snapshot: the resource read (its ADE secret and KEK from
 * the encryption settings), read access asked for (beginGetAccess, the
 * long-running operation polled until the SAS arrives), renewed before it
 * expires, and revoked at the end (endGetAccess).  Sign-in is the Key
 * Vault chain's, for the Resource Manager scope. */
#ifndef VU_AKV_ARM_H
#define VU_AKV_ARM_H

#include <stdint.h>

#include "akv/arm_parse.h"
#include "akv/auth.h"
#include "akv/http.h"

#define ARM_DEFAULT_URL "https://management.azure.com"
#define ARM_API_VERSION "2023-10-02"
#define ARM_DEFAULT_ACCESS_SECONDS 3600

struct arm_opts {
	const char *arm_url;	/* --arm-url / VHDUNLOCK_ARM_URL, or NULL */
	unsigned access_seconds; /* --access-seconds; 0: 3600 */
	enum akv_method method;	/* --auth */
	const char *token_file;	/* --access-token-file */
	struct akv_http_opts http; /* --ca-file */
};

struct arm_access;

/* Whether s has the shape of a disk or snapshot resource ID:
 * /subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/
 * {disks|snapshots}/N (case-insensitive, as ARM treats it). */
int arm_is_resource_id(const char *s);

/* GET the resource and ask for read access: *out holds the SAS.  An
 * attached disk, a refused permission and a missing resource each get
 * their own message. */
int arm_open(const char *id, const struct arm_opts *o,
	     struct arm_access **out);
const struct arm_disk *arm_access_disk(const struct arm_access *a);
/* The SAS URL (a secret, owned by a). */
const char *arm_access_sas(const struct arm_access *a);
/* When the access ends (seconds since the epoch). */
int64_t arm_access_expires(const struct arm_access *a);
/* Ask for access again: a new SAS (malloc'd copy, for the URL source). */
int arm_renew(struct arm_access *a, char **url, int64_t *expires);
/* endGetAccess.  0, or <0 with a message. */
int arm_end(struct arm_access *a);
void arm_free(struct arm_access *a);

#endif
