/* HTTPS for Entra ID and Key Vault (libcurl): one request at a time,
 * certificates always verified, plain HTTP only where the caller allows it
 * (the instance metadata service), 429 and 5xx retried with backoff that
 * honours Retry-After, response bodies in secret memory, and libcurl's
 * errors told apart (DNS, connection, TLS, time-out) in messages that name
 * the host and path but never a query string, header or body. */
#ifndef VU_AKV_HTTP_H
#define VU_AKV_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct akv_http_opts {
	const char *ca_file;	/* --ca-file: trusted besides the system's */
	int allow_http;		/* the metadata service only */
	int retry_also;		/* another status to retry (IMDS: 404, 410) */
	int retry_also2;
};

struct akv_response {
	long status;
	char *body;		/* secret memory, NUL-terminated */
	size_t len, cap;
	char www_authenticate[1024];
	char retry_after[64];
	/* a long-running operation's (Resource Manager): where to poll */
	char location[2048];
	char async_operation[2048];
};

/* method "GET" or "POST"; headers NULL-terminated (may be NULL); bearer
 * (may be NULL) is sent as "Authorization: Bearer ..." from secret memory;
 * body may be NULL.  0 with resp filled for any HTTP status (after the
 * retries), or -EHOSTUNREACH, -EACCES (TLS), -ETIMEDOUT, -EINVAL (not
 * https), -EIO with a message. */
int akv_http(const struct akv_http_opts *o, const char *method,
	     const char *url, const char *bearer, const char *const *headers,
	     const char *body, struct akv_response *resp);
void akv_response_free(struct akv_response *r);
/* "https://host/path" of url, without query or fragment, for messages. */
void akv_url_for_message(const char *url, char *out, size_t size);

#endif
