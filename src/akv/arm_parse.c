/* See arm_parse.h.  json-c does the parsing; this file only walks the
 * documented shapes and copies with bounds. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "akv/arm_parse.h"
#include "core/error.h"
#include "crypto/crypto.h"

#ifndef EPROTO
#define EPROTO 71
#endif

/* The body as a JSON object, or NULL with a message. */
static json_object *parse_object(const char *body, size_t len,
				 const char *what)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	if (!tok) {
		vu_fail(-ENOMEM, "out of memory");
		return NULL;
	}
	o = len > (size_t)INT32_MAX ? NULL
				     : json_tokener_parse_ex(tok, body, (int)len);
	if (o && json_tokener_get_parse_end(tok) < len) {
		/* only white space may follow */
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
			if (!strchr(" \t\r\n", body[i])) {
				json_object_put(o);
				o = NULL;
				break;
			}
	}
	json_tokener_free(tok);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		vu_fail(-EPROTO, "Resource Manager: %s is not a JSON object",
			what);
		return NULL;
	}
	return o;
}

static json_object *member(json_object *o, const char *key, json_type t)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

/* Copy string field key of o (absent: "", unless required). */
static int copy(json_object *o, const char *key, char *out, size_t size,
		int required, const char *where)
{
	json_object *v;
	const char *s;

	out[0] = 0;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null)) {
		if (required)
			return vu_fail(-EPROTO, "Resource Manager: %s%s has no "
				       "%s", where, where[0] ? "" : "", key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return vu_fail(-EPROTO, "Resource Manager: %s.%s: expected a "
			       "string", where, key);
	s = json_object_get_string(v);
	if (strlen(s) >= size)
		return vu_fail(-EPROTO, "Resource Manager: %s.%s: longer than "
			       "%zu bytes", where, key, size - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int setting(json_object *s, struct arm_encryption_setting *e,
		   size_t i)
{
	json_object *dek = member(s, "diskEncryptionKey", json_type_object);
	json_object *kek = member(s, "keyEncryptionKey", json_type_object);
	char where[96];
	int r;

	snprintf(where, sizeof(where), "encryptionSettings[%zu]", i);
	if (!json_object_is_type(s, json_type_object) || !dek)
		return vu_fail(-EPROTO, "Resource Manager: %s: expected an "
			       "object with diskEncryptionKey", where);
	if ((r = copy(dek, "secretUrl", e->secret_url, sizeof(e->secret_url),
		      1, "diskEncryptionKey")) < 0 ||
	    (r = copy(member(dek, "sourceVault", json_type_object), "id",
		      e->secret_vault, sizeof(e->secret_vault), 0,
		      "diskEncryptionKey.sourceVault")) < 0)
		return r;
	if (kek &&
	    ((r = copy(kek, "keyUrl", e->key_url, sizeof(e->key_url), 1,
		       "keyEncryptionKey")) < 0 ||
	     (r = copy(member(kek, "sourceVault", json_type_object), "id",
		       e->key_vault, sizeof(e->key_vault), 0,
		       "keyEncryptionKey.sourceVault")) < 0))
		return r;
	return 0;
}

static int encryption(json_object *props, struct arm_disk *d)
{
	json_object *c = member(props, "encryptionSettingsCollection",
				json_type_object), *list, *v;
	size_t n;
	int r;

	if (!c)
		return 0;
	if (json_object_object_get_ex(c, "enabled", &v))
		d->encryption_enabled = json_object_get_boolean(v);
	if ((r = copy(c, "encryptionSettingsVersion", d->encryption_version,
		      sizeof(d->encryption_version), 0,
		      "encryptionSettingsCollection")) < 0)
		return r;
	list = member(c, "encryptionSettings", json_type_array);
	if (!list)
		return 0;
	n = json_object_array_length(list);
	if (n > ARM_MAX_SETTINGS)
		return vu_fail(-EPROTO, "Resource Manager: %zu encryption "
			       "settings, at most %d expected", n,
			       ARM_MAX_SETTINGS);
	for (size_t i = 0; i < n; i++) {
		r = setting(json_object_array_get_idx(list, i),
			    &d->settings[i], i);
		if (r < 0)
			return r;
		d->nsettings++;
	}
	return 0;
}

int arm_disk_parse(const char *body, size_t len, struct arm_disk *d)
{
	json_object *o, *props, *v;
	int r;

	memset(d, 0, sizeof(*d));
	o = parse_object(body, len, "the disk or snapshot");
	if (!o)
		return -EPROTO;
	props = member(o, "properties", json_type_object);
	r = copy(o, "name", d->name, sizeof(d->name), 1, "the resource");
	if (r == 0)
		r = copy(o, "type", d->type, sizeof(d->type), 0, "the resource");
	if (r == 0)
		r = copy(o, "managedBy", d->managed_by, sizeof(d->managed_by),
			 0, "the resource");
	if (r == 0 && !props)
		r = vu_fail(-EPROTO, "Resource Manager: the resource has no "
			    "properties object");
	if (r == 0)
		r = copy(props, "diskState", d->disk_state,
			 sizeof(d->disk_state), 0, "properties");
	if (r == 0)
		r = copy(props, "dataAccessAuthMode", d->access_mode,
			 sizeof(d->access_mode), 0, "properties");
	if (r == 0 && json_object_object_get_ex(props, "diskSizeBytes", &v)) {
		int64_t n = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || n < 0)
			r = vu_fail(-EPROTO, "Resource Manager: properties."
				    "diskSizeBytes: expected a number >= 0");
		else
			d->size_bytes = (uint64_t)n;
	}
	if (r == 0)
		r = encryption(props, d);
	json_object_put(o);
	return r;
}

static void error_of(json_object *o, char *out, size_t size)
{
	json_object *e = member(o, "error", json_type_object);
	json_object *c = member(e, "code", json_type_string);
	json_object *m = member(e, "message", json_type_string);

	out[0] = 0;
	if (!size || (!c && !m))
		return;
	snprintf(out, size, "%s%s%s", c ? json_object_get_string(c) : "",
		 c && m ? ": " : "", m ? json_object_get_string(m) : "");
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* Copy the SAS into secret memory. */
static int take_sas(json_object *v, char **sas, size_t *size)
{
	const char *s = json_object_get_string(v);
	size_t n = strlen(s) + 1;

	if (n < 9 || strncmp(s, "http", 4))
		return vu_fail(-EPROTO, "Resource Manager: accessSAS: expected "
			       "a URL");
	*sas = vu_secret_alloc(n);
	if (!*sas)
		return vu_fail(-ENOMEM, "out of memory");
	memcpy(*sas, s, n);
	*size = n;
	return 0;
}

int arm_access_parse(const char *body, size_t len, enum arm_op_status *st,
		     char **sas, size_t *sas_size, char *err, size_t err_size)
{
	json_object *o, *status, *v;
	int r = 0;

	*sas = NULL;
	*sas_size = 0;
	if (err_size)
		err[0] = 0;
	o = parse_object(body, len, "the access operation's answer");
	if (!o)
		return -EPROTO;
	status = member(o, "status", json_type_string);
	v = member(o, "accessSAS", json_type_string);
	if (!v)
		v = member(member(member(o, "properties", json_type_object),
				  "output", json_type_object),
			   "accessSAS", json_type_string);
	if (!status) {
		*st = v ? ARM_OP_SUCCEEDED : ARM_OP_IN_PROGRESS;
		if (!v && member(o, "error", json_type_object))
			*st = ARM_OP_FAILED;
	} else {
		const char *s = json_object_get_string(status);
		*st = !strcmp(s, "Succeeded")			       ? ARM_OP_SUCCEEDED
		      : !strcmp(s, "Failed") || !strcmp(s, "Canceled") ? ARM_OP_FAILED
								       : ARM_OP_IN_PROGRESS;
	}
	if (*st == ARM_OP_FAILED)
		error_of(o, err, err_size);
	else if (*st == ARM_OP_SUCCEEDED && !v)
		r = vu_fail(-EPROTO, "Resource Manager: the access operation "
			    "succeeded without an accessSAS");
	else if (*st == ARM_OP_SUCCEEDED)
		r = take_sas(v, sas, sas_size);
	/* json-c's copy of the SAS: wipe it before it is freed */
	if (v)
		vu_cleanse((void *)json_object_get_string(v),
			   (size_t)json_object_get_string_len(v));
	json_object_put(o);
	return r;
}

void arm_error_text(const char *body, size_t len, char *out, size_t size)
{
	json_tokener *tok;
	json_object *o = NULL;

	if (size)
		out[0] = 0;
	if (!body || !len || len > (size_t)INT32_MAX)
		return;
	tok = json_tokener_new();
	if (!tok)
		return;
	o = json_tokener_parse_ex(tok, body, (int)len);
	json_tokener_free(tok);
	if (o && json_object_is_type(o, json_type_object))
		error_of(o, out, size);
	json_object_put(o);
}
