/* See http.h.  libcurl never wipes what it is given, so the bearer header
 * is built per request in secret memory and wiped after it, and bodies are
 * received into secret memory. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "akv/http.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "source/curl_common.h"

#define MAX_TRIES 5

void akv_url_for_message(const char *url, char *out, size_t size)
{
	vu_url_for_message(url, out, size);
}

void akv_response_free(struct akv_response *r)
{
	vu_secret_free(r->body, r->cap);
	memset(r, 0, sizeof(*r));
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct akv_response *r = arg;
	size_t add = size * n;

	if (r->len + add + 1 > r->cap) {
		size_t cap = (r->len + add + 1) * 2;
		char *b;
		if (cap > (16u << 20))
			return 0; /* no answer of ours is this large */
		b = vu_secret_alloc(cap);
		if (!b)
			return 0;
		if (r->body)
			memcpy(b, r->body, r->len);
		vu_secret_free(r->body, r->cap);
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, add);
	r->len += add;
	r->body[r->len] = '\0';
	return add;
}

/* Keep the value of the headers we act on. */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct akv_response *r = arg;
	size_t len = size * n;
	static const struct {
		const char *name;
		size_t off, size;
	} keep[] = {
		{ "www-authenticate:", offsetof(struct akv_response,
						www_authenticate),
		  sizeof(((struct akv_response *)0)->www_authenticate) },
		{ "retry-after:", offsetof(struct akv_response, retry_after),
		  sizeof(((struct akv_response *)0)->retry_after) },
		{ "location:", offsetof(struct akv_response, location),
		  sizeof(((struct akv_response *)0)->location) },
		{ "azure-asyncoperation:", offsetof(struct akv_response,
						    async_operation),
		  sizeof(((struct akv_response *)0)->async_operation) },
	};

	for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
		size_t nl = strlen(keep[k].name);
		if (len > nl && !strncasecmp(data, keep[k].name, nl)) {
			const char *v = data + nl;
			size_t vl = len - nl;
			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
				vl--;
			snprintf((char *)r + keep[k].off, keep[k].size, "%.*s",
				 (int)vl, v);
		}
	}
	return len;
}

/* Seconds to wait before try number `tried` + 1: Retry-After (seconds or
 * an HTTP date) or 1, 2, 4, 8 s; at most VHDUNLOCK_RETRY_MAX_WAIT (30). */
static unsigned wait_for(const struct akv_response *r, int tried)
{
	unsigned cap = vu_retry_max_wait(), w = 1u << (tried - 1);
	long s = vu_retry_after_seconds(r->retry_after);

	if (s >= 0)
		w = (unsigned)s;
	return w < cap ? w : cap;
}

static int retryable(const struct akv_http_opts *o, long status)
{
	return status == 429 || status >= 500 ||
	       (o->retry_also && status == o->retry_also) ||
	       (o->retry_also2 && status == o->retry_also2);
}

static int once(const struct akv_http_opts *o, const char *method,
		const char *url, const char *bearer,
		const char *const *headers, const char *body,
		const char *ca, size_t calen, struct akv_response *resp)
{
	char err[CURL_ERROR_SIZE] = "", *auth = NULL;
	size_t authlen = 0;
	struct curl_slist *list = NULL;
	const char *env = getenv("VHDUNLOCK_HTTP_TIMEOUT");
	long timeout = env ? atol(env) : 60;
	CURLcode c;
	CURL *h;
	int r = 0;

	h = curl_easy_init();
	if (!h)
		return vu_fail(-ENOMEM, "out of memory");
	if (bearer) {
		authlen = strlen(bearer) + 32;
		auth = vu_secret_alloc(authlen);
		if (!auth) {
			curl_easy_cleanup(h);
			return vu_fail(-ENOMEM, "out of memory");
		}
		snprintf(auth, authlen, "Authorization: Bearer %s", bearer);
		list = curl_slist_append(list, auth);
	}
	for (size_t i = 0; headers && headers[i]; i++)
		list = curl_slist_append(list, headers[i]);
	curl_easy_setopt(h, CURLOPT_URL, url);
	vu_curl_setup(h, o->allow_http, ca, calen, err);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout : 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	if (!strcmp(method, "POST"))
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
	c = curl_easy_perform(h);
	if (c != CURLE_OK)
		r = vu_curl_error(c, url, err[0] ? err : curl_easy_strerror(c));
	else
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	/* the list holds a copy of the bearer header: wipe it too */
	for (struct curl_slist *l = list; l; l = l->next)
		vu_cleanse(l->data, strlen(l->data));
	curl_slist_free_all(list);
	vu_secret_free(auth, authlen);
	curl_easy_cleanup(h);
	return r;
}

int akv_http(const struct akv_http_opts *o, const char *method,
	     const char *url, const char *bearer, const char *const *headers,
	     const char *body, struct akv_response *resp)
{
	char *ca = NULL, where[512];
	size_t calen = 0;
	int r = 0;

	vu_curl_init();
	memset(resp, 0, sizeof(*resp));
	if (strncmp(url, "https://", 8) &&
	    !(o->allow_http && !strncmp(url, "http://", 7))) {
		akv_url_for_message(url, where, sizeof(where));
		return vu_fail(-EINVAL, "%s: only https:// URLs are used", where);
	}
	if (o->ca_file && (r = vu_curl_ca_blob(o->ca_file, &ca, &calen)) < 0)
		return r;
	for (int tried = 1;; tried++) {
		r = once(o, method, url, bearer, headers, body, ca, calen, resp);
		if (r < 0 || !retryable(o, resp->status) || tried == MAX_TRIES)
			break;
		akv_url_for_message(url, where, sizeof(where));
		vu_log(VU_LOG_INFO, "%s: HTTP %ld, trying again in %u s", where,
		       resp->status, wait_for(resp, tried));
		sleep(wait_for(resp, tried));
		akv_response_free(resp);
	}
	free(ca);
	return r;
}
