/* Azure Resource Manager's JSON answers for managed disks and snapshots
 * (Microsoft.Compute, api-version 2023-10-02), parsed with json-c.
 * Anything malformed is -EPROTO with a message naming the field and what
 * was expected; nothing here ever prints a SAS. */
#ifndef VU_ARM_PARSE_H
#define VU_ARM_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define ARM_MAX_SETTINGS 8

/* One entry of properties.encryptionSettingsCollection.encryptionSettings */
struct arm_encryption_setting {
	char secret_url[1024];	/* diskEncryptionKey.secretUrl (required) */
	char secret_vault[512];	/* diskEncryptionKey.sourceVault.id, or "" */
	char key_url[1024];	/* keyEncryptionKey.keyUrl, or "" (no KEK) */
	char key_vault[512];	/* keyEncryptionKey.sourceVault.id, or "" */
};

struct arm_disk {
	char name[256];		/* "name" */
	char type[128];		/* "type": Microsoft.Compute/disks|snapshots */
	char disk_state[64];	/* properties.diskState ("Unattached",
				 * "Attached", "ActiveSAS", "Reserved", ...)
				 * or "" (snapshots may lack it) */
	char managed_by[512];	/* "managedBy": the VM it is attached to, or "" */
	char access_mode[64];	/* properties.dataAccessAuthMode, or "" */
	uint64_t size_bytes;	/* properties.diskSizeBytes, or 0 */
	int encryption_enabled;	/* encryptionSettingsCollection.enabled */
	char encryption_version[32]; /* encryptionSettingsVersion ("1.1"),
				      * or "" */
	size_t nsettings;	/* at most ARM_MAX_SETTINGS; more is -EPROTO */
	struct arm_encryption_setting settings[ARM_MAX_SETTINGS];
};

/* GET of a disk or snapshot.  A resource without
 * encryptionSettingsCollection is valid (nsettings 0, not enabled). */
int arm_disk_parse(const char *body, size_t len, struct arm_disk *d);

enum arm_op_status {
	ARM_OP_IN_PROGRESS,	/* "InProgress", "Accepted", "Running", ... */
	ARM_OP_SUCCEEDED,
	ARM_OP_FAILED,		/* "Failed", "Canceled" */
};

/* The answer of a beginGetAccess long-running operation, in either of
 * its documented shapes:
 *  - the Location result: {"accessSAS": "https://..."} (succeeded);
 *  - the Azure-AsyncOperation status: {"status": "InProgress"|"Succeeded"|
 *    "Failed"|"Canceled", "properties": {"output": {"accessSAS": ...}},
 *    "error": {"code","message"}}.
 * *sas is set (NUL-terminated, in secret memory from vu_secret_alloc of
 * *sas_size bytes; free with vu_secret_free(*sas, *sas_size)) only when
 * the status is ARM_OP_SUCCEEDED and a SAS is present; a succeeded status
 * without accessSAS is -EPROTO.  For ARM_OP_FAILED, err receives
 * "code: message" (may be "").  The json-c copy of the body is wiped
 * before it is freed where json-c allows (the SAS is a secret). */
int arm_access_parse(const char *body, size_t len, enum arm_op_status *st,
		     char **sas, size_t *sas_size, char *err,
		     size_t err_size);

/* An ARM error body {"error": {"code": C, "message": M}} as "C: M"
 * (one line, at most size - 1 bytes, control characters replaced by
 * spaces); "" when the body is not one. */
void arm_error_text(const char *body, size_t len, char *out, size_t size);

#endif
