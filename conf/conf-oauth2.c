/*
 * conf-oauth2.c: the oauth2_* and token_command keys of an account
 * (auth = "oauth2"): the checks between them.  The provider presets'
 * endpoints and scopes are the agent's (agent/oauth2.c): here a preset
 * only means that the endpoints may be left out.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

const char *const conf_oauth2_providers[] = { "generic", "google",
	"microsoft", NULL };
const char *const conf_oauth2_flows[] = { "code", "device", NULL };
const char *const conf_oauth2_mechs[] = { "xoauth2", "oauthbearer", NULL };

/* An endpoint must be https, or http to a loopback host. */
static int
url_ok(const char *u)
{
	const char *h;

	if (strncasecmp(u, "https://", 8) == 0)
		return u[8] != '\0' && u[8] != '/';
	if (strncasecmp(u, "http://", 7) != 0)
		return 0;
	h = u + 7;
	return (strncmp(h, "127.", 4) == 0 || strncmp(h, "[::1]", 5) == 0 ||
	    (strncasecmp(h, "localhost", 9) == 0 &&
	    strchr(":/", h[9]) != NULL));
}

static void
check_url(struct conf_loader *L, const struct conf_account *a,
    enum conf_key k, const char *u)
{
	if (u != NULL && !url_ok(u))
		conf_lerr(L, a->lines[k], "%s: \"%s\" is not an https:// URL "
		    "(http:// only to a loopback host)", conf_key_name(k), u);
}

void
conf_oauth2_check(struct conf_loader *L, const struct conf_account *a,
    const char *who)
{
	const struct conf_oauth2 *o = &a->oauth2;
	const unsigned *ln = a->lines;
	enum conf_key k;

	if (a->auth != CONF_AUTH_OAUTH2) {
		for (k = CONF_OAUTH2_PROVIDER; k <= CONF_TOKEN_COMMAND; k++)
			if (ln[k] != 0) {
				conf_lerr(L, ln[k], "%s: needs auth = "
				    "\"oauth2\"", conf_key_name(k));
				break;
			}
		return;
	}
	if (ln[CONF_PASSWORD] != 0 || ln[CONF_PASSWORD_COMMAND] != 0)
		conf_lerr(L, ln[CONF_PASSWORD] != 0 ? ln[CONF_PASSWORD] :
		    ln[CONF_PASSWORD_COMMAND], "%s: auth = \"oauth2\" takes no "
		    "password (imapsift login keeps the token)", who);
	if (ln[CONF_OAUTH2_CLIENT_ID] == 0)
		conf_lerr(L, ln[CONF_AUTH], "%s: auth = \"oauth2\" needs "
		    "oauth2_client_id (the provider registers it)", who);
	check_url(L, a, CONF_OAUTH2_AUTHORIZATION_ENDPOINT,
	    o->authorization_endpoint);
	check_url(L, a, CONF_OAUTH2_TOKEN_ENDPOINT, o->token_endpoint);
	check_url(L, a, CONF_OAUTH2_DEVICE_ENDPOINT, o->device_endpoint);
	if (o->provider != CONF_OAUTH2_GENERIC)
		return;
	if (o->token_endpoint == NULL)
		conf_lerr(L, ln[CONF_AUTH], "%s: oauth2_provider \"generic\" "
		    "needs oauth2_token_endpoint", who);
	if (o->flow == CONF_OAUTH2_FLOW_DEVICE && o->device_endpoint == NULL)
		conf_lerr(L, ln[CONF_OAUTH2_FLOW], "oauth2_flow: \"device\" "
		    "needs oauth2_device_endpoint");
	else if (o->flow == CONF_OAUTH2_FLOW_CODE &&
	    o->authorization_endpoint == NULL)
		conf_lerr(L, ln[CONF_OAUTH2_FLOW], "oauth2_flow: \"code\" "
		    "needs oauth2_authorization_endpoint");
	else if (o->device_endpoint == NULL &&
	    o->authorization_endpoint == NULL)
		conf_lerr(L, ln[CONF_AUTH], "%s: oauth2_provider \"generic\" "
		    "needs oauth2_authorization_endpoint or "
		    "oauth2_device_endpoint", who);
}

void
conf_oauth2_free(struct conf_oauth2 *o)
{
	if (o->client_secret != NULL) {
		explicit_bzero(o->client_secret, strlen(o->client_secret));
		free(o->client_secret);
	}
	if (o->token_command != NULL) {
		explicit_bzero(o->token_command, strlen(o->token_command));
		free(o->token_command);
	}
	free(o->client_id);
	conf_list_free(&o->scopes);
	free(o->authorization_endpoint);
	free(o->token_endpoint);
	free(o->device_endpoint);
	free(o->ca_file);
}
