/* Key Vault's JSON answers and its 401 challenge, parsed with json-c (no
 * hand-written JSON).  Anything malformed is -EPROTO with a message. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "akv/keyvault.h"
#include "core/error.h"
#include "crypto/crypto.h"

#ifndef EPROTO
#define EPROTO 71
#endif

static char *dup_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

static int fill(json_object *o, struct akv_secret *s, int with_value)
{
	json_object *attrs, *tags, *v;

	memset(s, 0, sizeof(s[0]));
	s->enabled = 1;
	s->id = dup_str(o, "id");
	if (!s->id)
		return vu_fail(-EPROTO, "key vault: a secret without an id");
	s->content_type = dup_str(o, "contentType");
	if (json_object_object_get_ex(o, "attributes", &attrs) &&
	    json_object_is_type(attrs, json_type_object)) {
		if (json_object_object_get_ex(attrs, "enabled", &v))
			s->enabled = json_object_get_boolean(v);
		if (json_object_object_get_ex(attrs, "created", &v))
			s->created = (time_t)json_object_get_int64(v);
		if (json_object_object_get_ex(attrs, "updated", &v))
			s->updated = (time_t)json_object_get_int64(v);
	}
	if (json_object_object_get_ex(o, "tags", &tags) &&
	    json_object_is_type(tags, json_type_object)) {
		size_t n = (size_t)json_object_object_length(tags), k = 0;
		s->tags = calloc(n ? n : 1, sizeof(*s->tags));
		if (!s->tags)
			return vu_fail(-ENOMEM, "out of memory");
		json_object_object_foreach(tags, key, val) {
			if (!json_object_is_type(val, json_type_string))
				continue;
			s->tags[k].name = strdup(key);
			s->tags[k].value = strdup(json_object_get_string(val));
			if (!s->tags[k].name || !s->tags[k].value) {
				s->ntags = k + 1;
				return vu_fail(-ENOMEM, "out of memory");
			}
			k++;
		}
		s->ntags = k;
	}
	if (with_value) {
		if (!json_object_object_get_ex(o, "value", &v) ||
		    !json_object_is_type(v, json_type_string))
			return vu_fail(-EPROTO, "key vault: secret %s has no "
				       "value", s->id);
		s->value_cap = (size_t)json_object_get_string_len(v) + 1;
		s->value = vu_secret_alloc(s->value_cap);
		if (!s->value)
			return vu_fail(-ENOMEM, "out of memory");
		memcpy(s->value, json_object_get_string(v), s->value_cap - 1);
	}
	return 0;
}

int akv_parse_secret(const char *body, struct akv_secret *s)
{
	json_object *o = body ? json_tokener_parse(body) : NULL;
	int r;

	memset(s, 0, sizeof(*s));
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return vu_fail(-EPROTO, "key vault: the answer is not a JSON "
			       "object");
	}
	r = fill(o, s, 1);
	json_object_put(o);
	if (r < 0)
		akv_secret_clear(s);
	return r;
}

int akv_parse_list(const char *body, struct akv_secret **list, size_t *n,
		   char **next)
{
	json_object *o = body ? json_tokener_parse(body) : NULL, *items, *nl;
	int r = 0;

	*next = NULL;
	if (!o || !json_object_object_get_ex(o, "value", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		json_object_put(o);
		return vu_fail(-EPROTO, "key vault: a list answer without a "
			       "value array");
	}
	for (size_t i = 0; i < json_object_array_length(items) && !r; i++) {
		json_object *it = json_object_array_get_idx(items, i);
		struct akv_secret *l = realloc(*list, (*n + 1) * sizeof(**list));
		if (!l) {
			r = vu_fail(-ENOMEM, "out of memory");
			break;
		}
		*list = l;
		if (!json_object_is_type(it, json_type_object))
			continue;
		r = fill(it, &l[*n], 0);
		(*n)++; /* counted even when half filled: freed by the caller */
	}
	if (!r && json_object_object_get_ex(o, "nextLink", &nl) &&
	    json_object_is_type(nl, json_type_string) &&
	    json_object_get_string_len(nl)) {
		*next = strdup(json_object_get_string(nl));
		if (!*next)
			r = vu_fail(-ENOMEM, "out of memory");
	}
	json_object_put(o);
	return r;
}

/* A quoted parameter of a Bearer challenge: key="value". */
static int param(const char *h, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key);

	for (const char *p = h; (p = strstr(p, key)); p += kl) {
		const char *v, *end;
		if (p > h && p[-1] != ' ' && p[-1] != ',')
			continue;
		v = p + kl;
		if (v[0] != '=' || v[1] != '"')
			continue;
		v += 2;
		end = strchr(v, '"');
		if (!end || (size_t)(end - v) >= size)
			return -1;
		memcpy(out, v, (size_t)(end - v));
		out[end - v] = '\0';
		return 0;
	}
	return -1;
}

int akv_parse_challenge(const char *header, char *tenant, size_t tsize,
			char *resource, size_t rsize)
{
	char auth[512];
	const char *t;

	tenant[0] = resource[0] = '\0';
	if (strncasecmp(header, "Bearer ", 7) ||
	    (param(header, "authorization", auth, sizeof(auth)) < 0 &&
	     param(header, "authorization_uri", auth, sizeof(auth)) < 0))
		return vu_fail(-EPROTO, "key vault: a 401 without a Bearer "
			       "challenge naming the tenant");
	/* https://login.microsoftonline.com/<tenant>[/...] */
	t = strstr(auth, "://");
	t = t ? strchr(t + 3, '/') : NULL;
	if (!t || !t[1])
		return vu_fail(-EPROTO, "key vault: the challenge names no "
			       "tenant");
	snprintf(tenant, tsize, "%.*s", (int)strcspn(t + 1, "/?"), t + 1);
	if (param(header, "resource", resource, rsize) < 0 &&
	    param(header, "scope", resource, rsize) < 0)
		resource[0] = '\0';
	/* a scope ends in /.default: the resource is what precedes it */
	if (strlen(resource) > 9 &&
	    !strcmp(resource + strlen(resource) - 9, "/.default"))
		resource[strlen(resource) - 9] = '\0';
	return 0;
}

const char *akv_secret_tag(const struct akv_secret *s, const char *name)
{
	for (size_t i = 0; i < s->ntags; i++)
		if (s->tags[i].name && !strcmp(s->tags[i].name, name))
			return s->tags[i].value;
	return NULL;
}

void akv_secret_clear(struct akv_secret *s)
{
	free(s->id);
	free(s->content_type);
	for (size_t i = 0; i < s->ntags; i++) {
		free(s->tags[i].name);
		free(s->tags[i].value);
	}
	free(s->tags);
	vu_secret_free(s->value, s->value_cap);
	memset(s, 0, sizeof(*s));
}

void akv_secrets_free(struct akv_secret *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		akv_secret_clear(&list[i]);
	free(list);
}
