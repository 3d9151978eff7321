/*
 * oauth2.h: auth = "oauth2" (oauth2*.c).  oauth2-http.c posts forms to the
 * authorization server (libcurl, verified TLS) and reads its JSON
 * replies (json-c); oauth2.c has the provider presets, the token store
 * (DIR/NAME.oauth2, 0600, or token_command) and the access token for a
 * login; oauth2-login.c is `imapsift login`.  Tokens are never logged.
 * Results: OAUTH2_OK; OAUTH2_TEMP network trouble or a server error, try
 * later; OAUTH2_LOGIN no refresh token, or the server refused it
 * (invalid_grant): the user must run imapsift login; OAUTH2_FAIL the
 * server refused the client or the request, or the store failed;
 * OAUTH2_TLS the server's certificate did not verify.
 * What the oauth2*.c files share is in oauth2-private.h.
 */
#ifndef IMAPSIFT_AGENT_OAUTH2_H
#define IMAPSIFT_AGENT_OAUTH2_H

#include <stddef.h>

#define OAUTH2_OK	0
#define OAUTH2_TEMP	1
#define OAUTH2_LOGIN	2
#define OAUTH2_FAIL	3
#define OAUTH2_TLS	4

struct conf_account;

/* An access token for a (store in dir): the stored one while it has
 * more than a quarter of its lifetime (at most a minute) left, unless
 * force; else a refreshed one, stored with the refresh token the server
 * may have rotated (*fresh_r 1).  OAUTH2_OK with *token_r (malloc'd;
 * wipe and free), else one line in err. */
int	oauth2_access_token(const struct conf_account *a, const char *dir,
	    int force, char **token_r, int *fresh_r, char *err,
	    size_t errlen);
/* 1 while the last refresh of a found no refresh token or got
 * invalid_grant and its token file has not changed since (a
 * token_command store: until the process reloads). */
int	oauth2_login_needed(const struct conf_account *a, const char *dir);
/* Base64 (url: base64url without padding), malloc'd; imap-oauth.c too. */
char	*oauth2_base64(const void *data, size_t n, int url);

#endif
