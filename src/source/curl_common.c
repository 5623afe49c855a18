/* See curl_common.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "source/curl_common.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void vu_curl_init(void)
{
	pthread_once(&curl_once, curl_init_once);
}

void vu_url_for_message(const char *url, char *out, size_t size)
{
	size_t n = strcspn(url, "?#");

	snprintf(out, size, "%.*s", (int)(n < 400 ? n : 400), url);
}

void vu_url_host(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p ? p + 3 : url;
	n = strcspn(p, "/?#");
	snprintf(out, size, "%.*s", (int)(n < 200 ? n : 200), p);
}

/* The CA bundle libcurl trusts by default: the one it was built with
 * (libcurl 7.84 tells), else where the distributions keep it. */
static const char *system_bundle(void)
{
	static const char *const known[] = {
		"/etc/ssl/certs/ca-certificates.crt", /* Debian, Alpine, Arch */
		"/etc/pki/tls/certs/ca-bundle.crt",   /* Fedora, RHEL */
		"/etc/ssl/ca-bundle.pem",	      /* openSUSE */
		"/etc/ssl/cert.pem",
	};
	static char built[1024];
#if LIBCURL_VERSION_NUM >= 0x075400
	CURL *h = curl_easy_init();
	char *p = NULL;

	if (h && curl_easy_getinfo(h, CURLINFO_CAINFO, &p) == CURLE_OK && p &&
	    access(p, R_OK) == 0 && strlen(p) < sizeof(built)) {
		strcpy(built, p);
		curl_easy_cleanup(h);
		return built;
	}
	curl_easy_cleanup(h);
#endif
	(void)built;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (access(known[i], R_OK) == 0)
			return known[i];
	vu_log(VU_LOG_WARN, "no system CA bundle found: only the --ca-file "
	       "certificates are trusted");
	return NULL;
}

int vu_curl_ca_blob(const char *extra, char **out, size_t *len)
{
	const char *files[] = { system_bundle(), extra };
	char *buf = NULL;
	size_t n = 0;

	for (int i = 0; i < 2; i++) {
		FILE *fp = files[i] ? fopen(files[i], "re") : NULL;
		char chunk[65536];
		size_t got;

		if (!fp) {
			if (i == 1) {
				free(buf);
				return vu_fail(-ENOENT, "%s: cannot open the CA "
					       "file: %s", extra, strerror(errno));
			}
			continue;
		}
		while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
			char *b = realloc(buf, n + got + 2);
			if (!b) {
				fclose(fp);
				free(buf);
				return vu_fail(-ENOMEM, "out of memory");
			}
			buf = b;
			memcpy(buf + n, chunk, got);
			n += got;
		}
		fclose(fp);
		if (buf)
			buf[n++] = '\n';
	}
	*out = buf;
	*len = n;
	return 0;
}

void vu_curl_setup(CURL *h, int allow_http, const char *ca, size_t calen,
		   char *errbuf)
{
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
			 allow_http ? "http,https" : "https");
#else /* libcurl before 7.85 (Ubuntu 22.04: 7.81, RHEL 9: 7.76) */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS,
			 allow_http ? (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)
				    : (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca) {
		struct curl_blob blob = { (void *)ca, calen, CURL_BLOB_NOCOPY };
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "vhdunlock/" PACKAGE_VERSION);
}

int vu_curl_error(CURLcode c, const char *url, const char *detail)
{
	char host[256], where[512];

	vu_url_host(url, host, sizeof(host));
	vu_url_for_message(url, where, sizeof(where));
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return vu_fail(-EHOSTUNREACH, "cannot resolve host %s (DNS): "
			       "check the name and the network", host);
	case CURLE_COULDNT_CONNECT:
		return vu_fail(-EHOSTUNREACH, "cannot connect to %s: %s", host,
			       detail);
	case CURLE_OPERATION_TIMEDOUT:
		return vu_fail(-ETIMEDOUT, "no answer from %s in time (%s)",
			       host, detail);
	case CURLE_PEER_FAILED_VERIFICATION:
		return vu_fail(-EACCES, "TLS: the certificate of %s is not "
			       "trusted (%s); add its CA with --ca-file", host,
			       detail);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return vu_fail(-EACCES, "TLS with %s failed: %s", host, detail);
	default:
		return vu_fail(-EIO, "%s: %s", where, detail);
	}
}

long vu_retry_after_seconds(const char *value)
{
	struct tm tm = { 0 };
	char *end;
	long s;

	if (!value || !value[0])
		return -1;
	s = strtol(value, &end, 10);
	if (end != value && !*end && s >= 0)
		return s > 3600 ? 3600 : s;
	if (strptime(value, "%a, %d %b %Y %H:%M:%S", &tm)) {
		time_t at = timegm(&tm), now = time(NULL);
		return at > now ? (long)(at - now) : 0;
	}
	return -1;
}

unsigned vu_retry_max_wait(void)
{
	const char *env = getenv("VHDUNLOCK_RETRY_MAX_WAIT");

	return env ? (unsigned)atoi(env) : 30;
}
