/*
 * oauth2-http.c: the HTTP client of the OAuth2 code: one POST of a form
 * to an authorization server's endpoint, its JSON reply read with json-c.
 * libcurl (GnuTLS build) verifies the chain against oauth2_ca_file or the
 * system store and the host name; only https, or http to a loopback host
 * (conf checked the URL); no redirects followed, the reply capped at
 * OAUTH2_MAX_REPLY bytes, connect and whole-request timeouts.  Nothing
 * sent or received is logged: both hold secrets.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "agent/log.h"
#include "agent/oauth2-private.h"
#include "agent/util.h"
#include "conf/conf.h"

#define OAUTH2_MAX_REPLY	(256 * 1024)

struct oauth2_json {
	struct json_object *o;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void
curl_start(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

struct reply {
	char	*p;
	size_t	 len;
	int	 over;
};

static size_t
on_data(char *d, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t	 k = size * n;

	if (r->len + k > OAUTH2_MAX_REPLY) {
		r->over = 1;
		return 0;		/* curl stops: CURLE_WRITE_ERROR */
	}
	r->p = xrealloc(r->p, r->len + k + 1);
	memcpy(r->p + r->len, d, k);
	r->len += k;
	r->p[r->len] = '\0';
	return k;
}

char *
oauth2_escape(const char *s)
{
	char	*e, *out;

	pthread_once(&curl_once, curl_start);
	e = curl_easy_escape(NULL, s, 0);
	if (e == NULL)
		fatalx("out of memory");
	out = xstrdup(e);
	curl_free(e);
	return out;
}

int
oauth2_post(const struct conf_account *a, const char *url, const char *form,
    struct oauth2_json **j_r, long *status_r, char *err, size_t errlen)
{
	char	 ebuf[CURL_ERROR_SIZE] = "";
	struct reply r = { NULL, 0, 0 };
	struct curl_slist *h = NULL;
	enum json_tokener_error je;
	struct json_tokener *tok;
	struct json_object *o;
	long	 t = a->timeout > 0 ? (long)a->timeout : 60;
	CURLcode c;
	CURL	*cu;

	*j_r = NULL;
	*status_r = 0;
	pthread_once(&curl_once, curl_start);
	if (!curl_ok || (cu = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "libcurl did not start");
		return OAUTH2_TEMP;
	}
	h = curl_slist_append(h, "Accept: application/json");
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(cu, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(cu, CURLOPT_SSL_VERIFYHOST, 2L);
	if (a->oauth2.ca_file != NULL)
		curl_easy_setopt(cu, CURLOPT_CAINFO, a->oauth2.ca_file);
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, t < 30 ? t : 30L);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT, t);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_USERAGENT, "imapsift");
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(cu, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, ebuf);
	c = curl_easy_perform(cu);
	curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, status_r);
	curl_easy_cleanup(cu);
	curl_slist_free_all(h);
	if (c != CURLE_OK) {
		free(r.p);
		if (r.over)
			snprintf(err, errlen, "%s: reply over %d bytes", url,
			    OAUTH2_MAX_REPLY);
		else
			snprintf(err, errlen, "%s: %s", url, ebuf[0] != '\0' ?
			    ebuf : curl_easy_strerror(c));
		/* A refused certificate will not get better by waiting. */
		return c == CURLE_PEER_FAILED_VERIFICATION ||
		    c == CURLE_SSL_CACERT_BADFILE || c == CURLE_SSL_CERTPROBLEM ?
		    OAUTH2_TLS : OAUTH2_TEMP;
	}
	tok = json_tokener_new();
	if (tok == NULL)
		fatalx("out of memory");
	o = r.p == NULL ? NULL : json_tokener_parse_ex(tok, r.p, (int)r.len);
	je = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (r.p != NULL)
		explicit_bzero(r.p, r.len);
	free(r.p);
	if (o == NULL || je != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		snprintf(err, errlen, "%s: HTTP %ld, not a JSON object", url,
		    *status_r);
		return *status_r >= 500 || *status_r == 429 ? OAUTH2_TEMP :
		    OAUTH2_FAIL;
	}
	*j_r = xcalloc(1, sizeof(**j_r));
	(*j_r)->o = o;
	return OAUTH2_OK;
}

const char *
oauth2_json_str(const struct oauth2_json *j, const char *key)
{
	struct json_object *v;

	if (j == NULL || !json_object_object_get_ex(j->o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

long long
oauth2_json_int(const struct oauth2_json *j, const char *key, long long def)
{
	struct json_object *v;
	const char *s;
	char	*end;
	long long n;

	if (j == NULL || !json_object_object_get_ex(j->o, key, &v))
		return def;
	if (json_object_is_type(v, json_type_int))
		return (long long)json_object_get_int64(v);
	if (json_object_is_type(v, json_type_string)) {	/* some send "3599" */
		s = json_object_get_string(v);
		n = strtoll(s, &end, 10);
		if (end != s && *end == '\0')
			return n;
	}
	return def;
}

void
oauth2_json_free(struct oauth2_json **j)
{
	if (*j == NULL)
		return;
	json_object_put((*j)->o);
	free(*j);
	*j = NULL;
}

char *
oauth2_base64(const void *data, size_t n, int url)
{
	static const char std[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char urlsafe[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *al = url ? urlsafe : std;
	const unsigned char *p = data;
	char	*out = xmalloc(n / 3 * 4 + 5), *o = out;
	unsigned v;
	size_t	 i;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		*o++ = al[v >> 18 & 63];
		*o++ = al[v >> 12 & 63];
		*o++ = al[v >> 6 & 63];
		*o++ = al[v & 63];
	}
	if (i < n) {
		v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
		*o++ = al[v >> 18 & 63];
		*o++ = al[v >> 12 & 63];
		if (i + 1 < n)
			*o++ = al[v >> 6 & 63];
		else if (!url)
			*o++ = '=';
		if (!url)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}
