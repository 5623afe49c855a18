/* See arm.h.  Resource Manager's long-running operations answer 202 with
 * Azure-AsyncOperation (a status document) and/or Location (the result
 * once ready); both are polled as documented, honouring Retry-After. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "akv/arm.h"
#include "akv/keyvault.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "source/curl_common.h"

/* How long a grant may take before we give up (ARM usually needs a few
 * seconds). */
#define MAX_POLL_SECONDS 600

struct arm_access {
	char id[1024];
	char base[512];		/* https://management.azure.com */
	char resource[256];	/* the token's resource */
	unsigned seconds;
	struct akv_http_opts http;
	struct akv_auth *auth;
	struct arm_disk disk;
	char *sas;		/* secret memory */
	size_t sas_size;
	int64_t expires;
	int granted;
};

int arm_is_resource_id(const char *s)
{
	const char *p = s;
	static const char *const part[] = { "/subscriptions/",
					    "/resourcegroups/",
					    "/providers/microsoft.compute/" };

	for (int i = 0; i < 3; i++) {
		size_t n = strlen(part[i]);
		if (strncasecmp(p, part[i], n))
			return 0;
		p += n;
		if (i < 2) {
			size_t seg = strcspn(p, "/");
			if (!seg)
				return 0;
			p += seg;
		}
	}
	if (!strncasecmp(p, "disks/", 6))
		p += 6;
	else if (!strncasecmp(p, "snapshots/", 10))
		p += 10;
	else
		return 0;
	return *p && !strchr(p, '/') && !strchr(p, '?');
}

/* The token's resource for an endpoint: the sovereign clouds' own, the
 * public cloud's for anything else (the test double among them). */
static void resource_for(const char *base, char *out, size_t size)
{
	static const char *const clouds[] = {
		"management.usgovcloudapi.net", "management.chinacloudapi.cn",
		"management.microsoftazure.de",
	};
	const char *env = getenv("VHDUNLOCK_ARM_RESOURCE");

	if (env && *env) {
		snprintf(out, size, "%s", env);
		return;
	}
	for (size_t i = 0; i < sizeof(clouds) / sizeof(clouds[0]); i++)
		if (strstr(base, clouds[i])) {
			snprintf(out, size, "https://%s", clouds[i]);
			return;
		}
	snprintf(out, size, "%s", ARM_DEFAULT_URL);
}

/* One call with a token for Resource Manager (the tenant from
 * AZURE_TENANT_ID, or what the sign-in method knows itself). */
static int call(struct arm_access *a, const char *method, const char *url,
		const char *body, struct akv_response *resp)
{
	const char *const json_hdr[] = { "Content-Type: application/json",
					 NULL };
	const char *token = NULL;
	int r;

	r = akv_auth_token(a->auth, NULL, a->resource, &token);
	if (r < 0)
		return r;
	return akv_http(&a->http, method, url, token, body ? json_hdr : NULL,
			body, resp);
}

/* "disks" or "snapshots", for the role action a 403 names */
static const char *kind_of(const char *id)
{
	return strcasestr(id, "/snapshots/") ? "snapshots" : "disks";
}

static int refusal(struct arm_access *a, const struct akv_response *r,
		   const char *action)
{
	char text[512];

	arm_error_text(r->body, r->len, text, sizeof(text));
	switch (r->status) {
	case 401:
		return vu_fail(-EACCES, "Resource Manager rejected the token "
			       "of the %s: %s", akv_auth_name(a->auth),
			       text[0] ? text : "401 Unauthorized");
	case 403:
		return vu_fail(-EACCES, "%s: the %s may not do this: it needs "
			       "the role action Microsoft.Compute/%s/%s (for "
			       "example through the role Disk Snapshot "
			       "Contributor or Data Operator for Managed "
			       "Disks): %s", a->id, akv_auth_name(a->auth),
			       kind_of(a->id), action,
			       text[0] ? text : "403 Forbidden");
	case 404:
		return vu_fail(-ENOENT, "%s: no such %s (check the "
			       "subscription, resource group and name): %s",
			       a->id, strcmp(kind_of(a->id), "disks") ?
			       "snapshot" : "managed disk",
			       text[0] ? text : "404 Not Found");
	case 409:
		return vu_fail(-EBUSY, "%s: cannot grant read access: %s. A "
			       "disk attached to a running VM cannot be read "
			       "this way: take a snapshot (az snapshot create "
			       "--source <disk id> ...) and give its ID, or "
			       "deallocate the VM", a->id,
			       text[0] ? text : "409 Conflict");
	default:
		return vu_fail(-EIO, "%s: Resource Manager answered HTTP %ld%s%s",
			       a->id, r->status, text[0] ? ": " : "", text);
	}
}

static void url_of(const struct arm_access *a, const char *suffix,
		   char *out, size_t size)
{
	snprintf(out, size, "%s%s%s?api-version=" ARM_API_VERSION, a->base,
		 a->id, suffix);
}

/* Retry-After (seconds or a date), else a second; at most the cap. */
static void wait_retry_after(const struct akv_response *r)
{
	long s = vu_retry_after_seconds(r->retry_after), cap = vu_retry_max_wait();

	if (s < 0)
		s = 1;
	sleep((unsigned)(s < cap ? s : cap));
}

/* Poll the operation until it says succeeded (SAS in a->sas) or failed. */
static int poll_access(struct arm_access *a, const struct akv_response *start)
{
	char async[2048], loc[2048], err[512];
	time_t t0 = time(NULL);
	struct akv_response last = *start;
	int r;

	snprintf(async, sizeof(async), "%s", start->async_operation);
	snprintf(loc, sizeof(loc), "%s", start->location);
	if (!async[0] && !loc[0])
		return vu_fail(-EPROTO, "%s: beginGetAccess answered 202 "
			       "without Azure-AsyncOperation or Location",
			       a->id);
	for (;;) {
		struct akv_response resp;
		enum arm_op_status st;

		wait_retry_after(&last);
		if (time(NULL) - t0 > MAX_POLL_SECONDS)
			return vu_fail(-ETIMEDOUT, "%s: read access not granted "
				       "after %d s", a->id, MAX_POLL_SECONDS);
		r = call(a, "GET", async[0] ? async : loc, NULL, &resp);
		if (r < 0)
			return r;
		if (resp.status == 202) {
			memset(&last, 0, sizeof(last));
			snprintf(last.retry_after, sizeof(last.retry_after),
				 "%s", resp.retry_after);
			akv_response_free(&resp);
			continue;
		}
		if (resp.status != 200) {
			r = refusal(a, &resp, "beginGetAccess/action");
			akv_response_free(&resp);
			return r;
		}
		r = arm_access_parse(resp.body, resp.len, &st, &a->sas,
				     &a->sas_size, err, sizeof(err));
		memset(&last, 0, sizeof(last));
		snprintf(last.retry_after, sizeof(last.retry_after), "%s",
			 resp.retry_after);
		akv_response_free(&resp);
		if (r < 0)
			return r;
		if (st == ARM_OP_FAILED)
			return vu_fail(-EIO, "%s: granting read access failed: "
				       "%s", a->id, err[0] ? err : "no reason "
				       "given");
		if (st == ARM_OP_SUCCEEDED)
			return 0;
	}
}

static int grant(struct arm_access *a)
{
	char url[2048], body[128];
	struct akv_response resp;
	int r;

	url_of(a, "/beginGetAccess", url, sizeof(url));
	snprintf(body, sizeof(body), "{\"access\":\"Read\","
		 "\"durationInSeconds\":%u}", a->seconds);
	vu_log(VU_LOG_INFO, "%s: asking for read access for %u s", a->id,
	       a->seconds);
	r = call(a, "POST", url, body, &resp);
	if (r < 0)
		return r;
	if (resp.status == 200) {
		enum arm_op_status st;
		char err[512];
		/* answered at once */
		r = arm_access_parse(resp.body, resp.len, &st, &a->sas,
				     &a->sas_size, err, sizeof(err));
		if (r == 0 && st != ARM_OP_SUCCEEDED)
			r = vu_fail(-EIO, "%s: granting read access failed: %s",
				    a->id, err);
	} else if (resp.status == 202) {
		r = poll_access(a, &resp);
	} else {
		r = refusal(a, &resp, "beginGetAccess/action");
	}
	akv_response_free(&resp);
	if (r < 0)
		return r;
	a->granted = 1;
	a->expires = (int64_t)time(NULL) + a->seconds;
	return 0;
}

static int read_resource(struct arm_access *a)
{
	char url[2048];
	struct akv_response resp;
	int r;

	url_of(a, "", url, sizeof(url));
	r = call(a, "GET", url, NULL, &resp);
	if (r < 0)
		return r;
	if (resp.status != 200)
		r = refusal(a, &resp, "read");
	else
		r = arm_disk_parse(resp.body, resp.len, &a->disk);
	akv_response_free(&resp);
	if (r < 0)
		return r;
	if (!strcasecmp(a->disk.disk_state, "Attached") &&
	    a->disk.managed_by[0])
		vu_log(VU_LOG_INFO, "%s is attached to %s", a->id,
		       a->disk.managed_by);
	return 0;
}

int arm_open(const char *id, const struct arm_opts *o,
	     struct arm_access **out)
{
	struct arm_access *a;
	const char *base = o->arm_url;
	int r;

	*out = NULL;
	if (!base)
		base = getenv("VHDUNLOCK_ARM_URL");
	if (!base || !*base)
		base = ARM_DEFAULT_URL;
	if (strncmp(base, "https://", 8))
		return vu_fail(-EINVAL, "--arm-url %.200s: expected an "
			       "https:// URL", base);
	if (strlen(id) >= sizeof(a->id) || strlen(base) >= sizeof(a->base))
		return vu_fail(-EINVAL, "resource ID or --arm-url too long");
	a = calloc(1, sizeof(*a));
	if (!a)
		return vu_fail(-ENOMEM, "out of memory");
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->base, sizeof(a->base), "%s", base);
	while (a->base[0] && a->base[strlen(a->base) - 1] == '/')
		a->base[strlen(a->base) - 1] = 0;
	resource_for(a->base, a->resource, sizeof(a->resource));
	a->seconds = o->access_seconds ? o->access_seconds
				       : ARM_DEFAULT_ACCESS_SECONDS;
	a->http = o->http;
	r = akv_auth_new(o->method, o->token_file, &a->http, &a->auth);
	if (r == 0)
		r = read_resource(a);
	if (r == 0)
		r = grant(a);
	if (r < 0) {
		arm_free(a);
		return r;
	}
	*out = a;
	return 0;
}

const struct arm_disk *arm_access_disk(const struct arm_access *a)
{
	return &a->disk;
}

const char *arm_access_sas(const struct arm_access *a)
{
	return a->sas;
}

int64_t arm_access_expires(const struct arm_access *a)
{
	return a->expires;
}

int arm_renew(struct arm_access *a, char **url, int64_t *expires)
{
	int r;

	vu_secret_free(a->sas, a->sas_size);
	a->sas = NULL;
	a->sas_size = 0;
	r = grant(a);
	if (r < 0)
		return r;
	*url = strdup(a->sas);
	if (!*url)
		return vu_fail(-ENOMEM, "out of memory");
	*expires = a->expires;
	return 0;
}

int arm_end(struct arm_access *a)
{
	char url[2048];
	struct akv_response resp;
	int r;

	if (!a->granted)
		return 0;
	url_of(a, "/endGetAccess", url, sizeof(url));
	r = call(a, "POST", url, "{}", &resp);
	if (r < 0)
		return r;
	if (resp.status == 202 && (resp.location[0] ||
				   resp.async_operation[0])) {
		/* wait briefly for the revocation to complete */
		struct akv_response p;
		for (int i = 0; i < 30; i++) {
			wait_retry_after(&resp);
			if (call(a, "GET", resp.async_operation[0]
					   ? resp.async_operation
					   : resp.location, NULL, &p) < 0)
				break;
			if (p.status != 202) {
				akv_response_free(&p);
				break;
			}
			akv_response_free(&p);
		}
	} else if (resp.status != 200 && resp.status != 202) {
		r = refusal(a, &resp, "endGetAccess/action");
	}
	akv_response_free(&resp);
	if (r == 0) {
		a->granted = 0;
		vu_log(VU_LOG_INFO, "%s: read access revoked", a->id);
	}
	return r;
}

void arm_free(struct arm_access *a)
{
	if (!a)
		return;
	vu_secret_free(a->sas, a->sas_size);
	akv_auth_free(a->auth);
	free(a);
}
