/*
 * oauth2-private.h: shared by oauth2.c (presets, token store),
 * oauth2-http.c (forms, POST, JSON) and oauth2-login.c (imapsift login);
 * callers use oauth2.h.
 */
#ifndef IMAPSIFT_AGENT_OAUTH2_PRIVATE_H
#define IMAPSIFT_AGENT_OAUTH2_PRIVATE_H

#include <stddef.h>

#include "agent/oauth2.h"

struct buf;
struct oauth2_json;

/* An account's endpoints and scopes: the file's, else its preset's. */
struct oauth2_ep {
	const char *auth, *token, *device;	/* NULL: none */
	const char *extra;	/* more authorization URL parameters */
	int	 flow;		/* CONF_OAUTH2_FLOW_CODE or _DEVICE */
	char	*scopes;	/* space-separated, malloc'd */
};
void	oauth2_endpoints(const struct conf_account *a, struct oauth2_ep *e);
void	oauth2_ep_free(struct oauth2_ep *e);
unsigned long long oauth2_store_stamp(const struct conf_account *a,
	    const char *dir);
void	oauth2_token_path(const struct conf_account *a, const char *dir,
	    char *out, size_t outsz);
/* Stores the tokens of a successful token reply j (old_refresh: kept
 * when j has none); OAUTH2_OK or OAUTH2_FAIL with err. */
int	oauth2_take_tokens(const struct conf_account *a, const char *dir,
	    const struct oauth2_json *j, const char *old_refresh, char *err,
	    size_t errlen);
/* The OAUTH2_* for an error reply (RFC 6749 5.2), one line in err. */
int	oauth2_token_error(const struct oauth2_json *j, long status,
	    char *err, size_t errlen);
/* Forms: appends "k=v" URL-encoded (f->p stays a string). */
void	oauth2_form_add(struct buf *f, const char *k, const char *v);
void	oauth2_form_free(struct buf *f);
/* POSTs form to url: OAUTH2_OK with *j_r (any HTTP status with a JSON
 * object; free with oauth2_json_free) and *status_r, else err. */
int	oauth2_post(const struct conf_account *a, const char *url,
	    const char *form, struct oauth2_json **j_r, long *status_r,
	    char *err, size_t errlen);
const char *oauth2_json_str(const struct oauth2_json *j, const char *key);
long long oauth2_json_int(const struct oauth2_json *j, const char *key,
	    long long def);
void	oauth2_json_free(struct oauth2_json **j);
char	*oauth2_escape(const char *s);	/* URL-encoded, malloc'd */

#endif
