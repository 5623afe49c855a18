/* See arm_parse.h.  json-c does the parsing; this file only walks the
 * documented shapes and copies with bounds.  A member that is absent or
 * null is "not given"; one that is present with another type is refused,
 * so a changed API shows up as an error naming the field instead of as a
 * disk that silently has no encryption settings. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "akv/arm_parse.h"
#include "core/error.h"
#include "crypto/crypto.h"

#ifndef EPROTO
#define EPROTO 71
#endif

/* json-c takes the length as an int. */
#define JSON_MAX_LEN ((size_t)INT32_MAX)

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The json-c tokener keeps the text of the last string it read in its
 * print buffer; wipe that before freeing it when the body holds a SAS.
 * json-c 0.16 still declares the struct publicly (deprecated). */
static void tokener_free(json_tokener *tok, int wipe)
{
	if (wipe && tok->pb)
		vu_cleanse(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
}

/* *out = the body as a JSON object.  strict: only white space (or NUL
 * bytes: a caller may count a C string's terminator) may follow the
 * object, and a refusal is -EPROTO with a message; otherwise *out is
 * simply NULL. */
static int parse_object(const char *body, size_t len, const char *what,
			int strict, int wipe, json_object **out)
{
	json_tokener *tok;
	json_object *o = NULL;

	*out = NULL;
	if (len > JSON_MAX_LEN || (!body && len))
		return strict ? vu_fail(-EPROTO, "Resource Manager: %s is too "
					"large", what) : -EPROTO;
	tok = json_tokener_new();
	if (!tok)
		return strict ? vu_fail(-ENOMEM, "out of memory") : -ENOMEM;
	if (len)
		o = json_tokener_parse_ex(tok, body, (int)len);
	if (o && strict)
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
			if (!is_space(body[i]) && body[i]) {
				json_object_put(o);
				o = NULL;
				break;
			}
	tokener_free(tok, wipe);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	if (!o)
		return strict ? vu_fail(-EPROTO, "Resource Manager: %s is not "
					"a JSON object", what) : -EPROTO;
	*out = o;
	return 0;
}

/* "where.key: expected what" (where "" is the top level) */
static int wrong(const char *where, const char *key, const char *what)
{
	return vu_fail(-EPROTO, "Resource Manager: %s%s%s: expected %s", where,
		       where[0] ? "." : "", key, what);
}

/* *out = o.key when it has type t; NULL when o is NULL or key is absent or
 * null; -EPROTO naming the field when it has another type. */
static int field(json_object *o, const char *key, json_type t,
		 const char *where, json_object **out)
{
	json_object *v;

	*out = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, t))
		return wrong(where, key, t == json_type_object ? "an object"
				 : t == json_type_array	 ? "an array"
				 : t == json_type_boolean ? "true or false"
				 : t == json_type_int	 ? "an integer"
							 : "a string");
	*out = v;
	return 0;
}

/* Copy string member key of o into out ("" when not given, which is
 * -EPROTO when required). */
static int copy(json_object *o, const char *key, char *out, size_t size,
		int required, const char *where)
{
	json_object *v;
	size_t n;
	int r;

	out[0] = 0;
	if ((r = field(o, key, json_type_string, where, &v)) < 0)
		return r;
	if (!v)
		return required ? wrong(where, key, "a string") : 0;
	n = (size_t)json_object_get_string_len(v);
	if (strlen(json_object_get_string(v)) != n)
		return wrong(where, key, "a string without NUL characters");
	if (n >= size) {
		char what[64];
		snprintf(what, sizeof(what), "at most %zu bytes", size - 1);
		return wrong(where, key, what);
	}
	memcpy(out, json_object_get_string(v), n + 1);
	return 0;
}

/* sourceVault.id of a key reference (optional). */
static int vault_id(json_object *ref, char *out, size_t size,
		    const char *where)
{
	char path[128];
	json_object *vault;
	int r;

	out[0] = 0;
	if ((r = field(ref, "sourceVault", json_type_object, where, &vault)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s.sourceVault", where);
	return copy(vault, "id", out, size, 0, path);
}

static int setting(json_object *s, struct arm_encryption_setting *e,
		   size_t i)
{
	char where[128], dek_at[160], kek_at[160];
	json_object *dek, *kek;
	int r;

	memset(e, 0, sizeof(*e));
	snprintf(where, sizeof(where), "properties.encryptionSettings"
		 "Collection.encryptionSettings[%zu]", i);
	if (!json_object_is_type(s, json_type_object))
		return vu_fail(-EPROTO, "Resource Manager: %s: expected an "
			       "object", where);
	snprintf(dek_at, sizeof(dek_at), "%s.diskEncryptionKey", where);
	snprintf(kek_at, sizeof(kek_at), "%s.keyEncryptionKey", where);
	if ((r = field(s, "diskEncryptionKey", json_type_object, where,
		       &dek)) < 0 ||
	    (r = field(s, "keyEncryptionKey", json_type_object, where,
		       &kek)) < 0)
		return r;
	if (!dek)
		return wrong(where, "diskEncryptionKey", "an object");
	if ((r = copy(dek, "secretUrl", e->secret_url, sizeof(e->secret_url),
		      1, dek_at)) < 0 ||
	    (r = vault_id(dek, e->secret_vault, sizeof(e->secret_vault),
			  dek_at)) < 0)
		return r;
	if (!kek)
		return 0; /* the secret is not wrapped */
	if ((r = copy(kek, "keyUrl", e->key_url, sizeof(e->key_url), 1,
		      kek_at)) < 0)
		return r;
	return vault_id(kek, e->key_vault, sizeof(e->key_vault), kek_at);
}

static int encryption(json_object *props, struct arm_disk *d)
{
	static const char at[] = "properties.encryptionSettingsCollection";
	json_object *c, *list, *on;
	size_t n;
	int r;

	if ((r = field(props, "encryptionSettingsCollection",
		       json_type_object, "properties", &c)) < 0)
		return r;
	if (!c)
		return 0; /* never encrypted with ADE */
	if ((r = field(c, "enabled", json_type_boolean, at, &on)) < 0 ||
	    (r = copy(c, "encryptionSettingsVersion", d->encryption_version,
		      sizeof(d->encryption_version), 0, at)) < 0 ||
	    (r = field(c, "encryptionSettings", json_type_array, at,
		       &list)) < 0)
		return r;
	d->encryption_enabled = on && json_object_get_boolean(on);
	n = list ? json_object_array_length(list) : 0;
	if (n > ARM_MAX_SETTINGS)
		return vu_fail(-EPROTO, "Resource Manager: %s.encryptionSettings"
			       ": %zu entries, expected at most %d", at, n,
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

static int disk_size(json_object *props, struct arm_disk *d)
{
	json_object *v;
	int r;

	if ((r = field(props, "diskSizeBytes", json_type_int, "properties",
		       &v)) < 0)
		return r;
	if (!v)
		return 0;
	/* json-c keeps values above INT64_MAX as unsigned; negative ones
	 * read as 0 through get_uint64, so ask get_int64 for the sign */
	if (json_object_get_int64(v) < 0)
		return wrong("properties", "diskSizeBytes", "a size >= 0");
	d->size_bytes = json_object_get_uint64(v);
	return 0;
}

static int disk(json_object *o, struct arm_disk *d)
{
	json_object *props;
	int r;

	if ((r = copy(o, "name", d->name, sizeof(d->name), 1, "")) < 0 ||
	    (r = copy(o, "type", d->type, sizeof(d->type), 0, "")) < 0 ||
	    (r = copy(o, "managedBy", d->managed_by, sizeof(d->managed_by), 0,
		      "")) < 0 ||
	    (r = field(o, "properties", json_type_object, "", &props)) < 0)
		return r;
	if (!props)
		return wrong("", "properties", "an object");
	if ((r = copy(props, "diskState", d->disk_state,
		      sizeof(d->disk_state), 0, "properties")) < 0 ||
	    (r = copy(props, "dataAccessAuthMode", d->access_mode,
		      sizeof(d->access_mode), 0, "properties")) < 0 ||
	    (r = disk_size(props, d)) < 0)
		return r;
	return encryption(props, d);
}

int arm_disk_parse(const char *body, size_t len, struct arm_disk *d)
{
	json_object *o;
	int r;

	memset(d, 0, sizeof(*d));
	if ((r = parse_object(body, len, "the disk or snapshot", 1, 0,
			      &o)) < 0)
		return r;
	r = disk(o, d);
	json_object_put(o);
	if (r < 0)
		memset(d, 0, sizeof(*d));
	return r;
}

/* "code: message" of {"error": {...}}, one line; "" when there is none. */
static void error_of(json_object *o, char *out, size_t size)
{
	json_object *e, *c, *m;

	if (!size)
		return;
	out[0] = 0;
	if (!json_object_object_get_ex(o, "error", &e) ||
	    !json_object_is_type(e, json_type_object))
		return;
	if (!json_object_object_get_ex(e, "code", &c) ||
	    !json_object_is_type(c, json_type_string))
		c = NULL;
	if (!json_object_object_get_ex(e, "message", &m) ||
	    !json_object_is_type(m, json_type_string))
		m = NULL;
	snprintf(out, size, "%s%s%s", c ? json_object_get_string(c) : "",
		 c && m ? ": " : "", m ? json_object_get_string(m) : "");
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* A SAS is a URL handed to the URL source, which checks its scheme and
 * host; here it only has to look like one and hold no bytes that would
 * break a request line. */
static int take_sas(json_object *v, const char *where, char **sas,
		    size_t *size)
{
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);

	if (strncmp(s, "https://", strlen("https://")) &&
	    strncmp(s, "http://", strlen("http://")))
		return wrong(where, "accessSAS", "an http(s) URL");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return wrong(where, "accessSAS", "a URL without white "
				     "space or control characters");
	*sas = vu_secret_alloc(n + 1);
	if (!*sas)
		return vu_fail(-ENOMEM, "out of memory");
	memcpy(*sas, s, n + 1);
	*size = n + 1;
	return 0;
}

static enum arm_op_status status_of(const char *s)
{
	if (!strcasecmp(s, "Succeeded"))
		return ARM_OP_SUCCEEDED;
	if (!strcasecmp(s, "Failed") || !strcasecmp(s, "Canceled"))
		return ARM_OP_FAILED;
	return ARM_OP_IN_PROGRESS; /* InProgress, Accepted, Running, ... */
}

/* Find the SAS (top level or properties.output) and the status. */
static int access_answer(json_object *o, enum arm_op_status *st,
			 json_object **v, const char **where)
{
	json_object *status, *props, *output, *err;
	int r;

	*where = "";
	if ((r = field(o, "status", json_type_string, "", &status)) < 0 ||
	    (r = field(o, "accessSAS", json_type_string, "", v)) < 0 ||
	    (r = field(o, "properties", json_type_object, "", &props)) < 0 ||
	    (r = field(props, "output", json_type_object, "properties",
		       &output)) < 0)
		return r;
	if (!*v) {
		*where = "properties.output";
		if ((r = field(output, "accessSAS", json_type_string, *where,
			       v)) < 0)
			return r;
	}
	if (status)
		*st = status_of(json_object_get_string(status));
	else if (*v)
		*st = ARM_OP_SUCCEEDED; /* the Location result */
	else if (json_object_object_get_ex(o, "error", &err) &&
		 json_object_is_type(err, json_type_object))
		*st = ARM_OP_FAILED;
	else
		*st = ARM_OP_IN_PROGRESS;
	return 0;
}

int arm_access_parse(const char *body, size_t len, enum arm_op_status *st,
		     char **sas, size_t *sas_size, char *err, size_t err_size)
{
	const char *where;
	json_object *o, *v = NULL;
	int r;

	*sas = NULL;
	*sas_size = 0;
	*st = ARM_OP_IN_PROGRESS;
	if (err_size)
		err[0] = 0;
	if ((r = parse_object(body, len, "the access operation's answer", 1,
			      1, &o)) < 0)
		return r;
	r = access_answer(o, st, &v, &where);
	if (r == 0 && *st == ARM_OP_FAILED)
		error_of(o, err, err_size);
	else if (r == 0 && *st == ARM_OP_SUCCEEDED && !v)
		r = vu_fail(-EPROTO, "Resource Manager: the access operation "
			    "succeeded without an accessSAS");
	else if (r == 0 && *st == ARM_OP_SUCCEEDED)
		r = take_sas(v, where, sas, sas_size);
	/* json-c's copy of the SAS: wipe it before it is freed */
	if (v)
		vu_cleanse((void *)json_object_get_string(v),
			   (size_t)json_object_get_string_len(v));
	json_object_put(o);
	return r;
}

void arm_error_text(const char *body, size_t len, char *out, size_t size)
{
	json_object *o;

	if (size)
		out[0] = 0;
	/* lenient: whatever follows the object does not matter here */
	if (parse_object(body, len, "the error", 0, 0, &o) == 0) {
		error_of(o, out, size);
		json_object_put(o);
	}
}
