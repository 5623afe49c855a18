/* Managed identity through the instance metadata service:
 * GET {169.254.169.254 | AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/
 * identity/oauth2/token?api-version=2018-02-01&resource=R[&client_id=ID]
 * with "Metadata: true"; plain HTTP (the service has no TLS), retried on
 * 404 and 410 too (the service starting up, as its documentation says). */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "akv/auth.h"
#include "core/error.h"

static void imds_host(char *out, size_t size)
{
	const char *h = getenv("AZURE_POD_IDENTITY_AUTHORITY_HOST");
	size_t n;

	if (!h || !*h)
		h = "http://169.254.169.254";
	n = strlen(h);
	while (n && h[n - 1] == '/')
		n--;
	snprintf(out, size, "%.*s", (int)n, h);
}

int akv_imds_reachable(const struct akv_http_opts *http)
{
	char host[512];
	CURL *h = curl_easy_init();
	CURLcode c;

	(void)http;
	if (!h)
		return 0;
	imds_host(host, sizeof(host));
	curl_easy_setopt(h, CURLOPT_URL, host);
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c = curl_easy_perform(h);
	curl_easy_cleanup(h);
	return c == CURLE_OK;
}

int akv_auth_imds(const struct akv_http_opts *http, const char *resource,
		  struct akv_token *t)
{
	const char *client = getenv("AZURE_CLIENT_ID");
	struct akv_http_opts o = *http;
	struct akv_response resp;
	char host[512], url[2048], why[512], *res, *cid = NULL;
	int r;

	o.allow_http = 1;
	o.retry_also = 404;
	o.retry_also2 = 410;
	imds_host(host, sizeof(host));
	res = curl_easy_escape(NULL, resource, 0);
	if (client && *client)
		cid = curl_easy_escape(NULL, client, 0);
	if (!res || (client && *client && !cid)) {
		curl_free(res);
		return vu_fail(-ENOMEM, "out of memory");
	}
	snprintf(url, sizeof(url), "%s/metadata/identity/oauth2/token?"
		 "api-version=2018-02-01&resource=%s%s%s", host, res,
		 cid ? "&client_id=" : "", cid ? cid : "");
	curl_free(res);
	curl_free(cid);
	r = akv_http(&o, "GET", url, NULL,
		     (const char *const[]){ "Metadata: true", NULL }, NULL,
		     &resp);
	if (r < 0)
		return vu_fail(r, "managed identity: the instance metadata "
			       "service at %s does not answer (not an Azure "
			       "VM? set AZURE_CLIENT_ID and a secret or "
			       "certificate, or use --auth azure-cli)", host);
	if (resp.status != 200) {
		akv_entra_error(&resp, why, sizeof(why));
		r = vu_fail(-EACCES, "managed identity%s%s: the metadata "
			    "service refused: %s", cid || client ? " " : "",
			    client ? client : "", why);
	} else {
		r = akv_token_parse(resp.body, "instance metadata service", t);
	}
	akv_response_free(&resp);
	return r;
}
