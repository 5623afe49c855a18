/* What every libcurl user of vhdunlock shares: one global initialisation,
 * the trusted CA certificates (the system's bundle plus --ca-file), the
 * protocols allowed, and libcurl's errors told apart (DNS, connection,
 * TLS, time-out) in messages that name the host and path of a URL but
 * never its query string (a SAS signature is a secret). */
#ifndef VU_CURL_COMMON_H
#define VU_CURL_COMMON_H

#include <curl/curl.h>
#include <stddef.h>

/* curl_global_init, once per process, from any thread. */
void vu_curl_init(void);

/* The system's CA bundle followed by extra (--ca-file; may be NULL) as one
 * malloc'd PEM blob: CAINFO alone would replace the system's trust instead
 * of adding to it.  -ENOENT naming extra when it cannot be read. */
int vu_curl_ca_blob(const char *extra, char **out, size_t *len);

/* Certificates verified, protocols limited to https (and http when
 * allow_http), no signals, the CA blob when given (NULL: libcurl's own),
 * the error buffer and the user agent. */
void vu_curl_setup(CURL *h, int allow_http, const char *ca, size_t calen,
		   char *errbuf);

/* "scheme://host[:port]/path" of url, without query or fragment. */
void vu_url_for_message(const char *url, char *out, size_t size);
/* "host[:port]" of url. */
void vu_url_host(const char *url, char *out, size_t size);

/* The seconds a Retry-After header value asks for: delta-seconds (at
 * most an hour) or an HTTP date; -1 when empty or unreadable. */
long vu_retry_after_seconds(const char *value);
/* The longest wait between tries: VHDUNLOCK_RETRY_MAX_WAIT seconds (30). */
unsigned vu_retry_max_wait(void);

/* A libcurl failure as -EHOSTUNREACH, -ETIMEDOUT, -EACCES (TLS) or -EIO
 * with a message naming the host (detail: libcurl's error buffer). */
int vu_curl_error(CURLcode c, const char *url, const char *detail);

#endif
