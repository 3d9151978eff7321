/*
 * conf-feeds.c: the global feeds list, ( { url = "..."; kind = "...";
 * ... }, ... ): subscribed rule lists the agent fetches.  Each group's
 * keys are read here with their own small table; names must be unique
 * because each feed's copy on disk is named after it.
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

static const char *const kind_names[] = { "domains", "hosts-file", "urls",
	"phones", "phrases", NULL };

const char *
conf_feed_kind_name(enum conf_feed_kind kind)
{
	return kind_names[kind];
}

static const char *const sig_kind_names[] = { "none", "minisign",
	"signify", NULL };

const char *
conf_sig_kind_name(enum conf_sig_kind kind)
{
	return sig_kind_names[kind];
}

static int
name_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

/* The default name: the URL's last path segment up to its first dot,
 * other bytes as '_'; "feed" when that leaves nothing. */
static char *
default_name(struct conf_loader *L, const char *url)
{
	const char *p = strrchr(url, '/');
	char	 b[CONF_NAME_MAX + 1];
	size_t	 n = 0;

	p = p != NULL ? p + 1 : url;
	for (; *p != '\0' && *p != '.' && *p != '?' && n < CONF_NAME_MAX; p++)
		b[n++] = name_char((unsigned char)*p) ? *p : '_';
	b[n] = '\0';
	return conf_strdup(L, n > 0 ? b : "feed");
}

static int
get_uint(struct conf_loader *L, config_setting_t *m, const char *key,
    long long min, long long max, unsigned *out)
{
	long long v;

	if (config_setting_type(m) != CONFIG_TYPE_INT &&
	    config_setting_type(m) != CONFIG_TYPE_INT64) {
		conf_lerr(L, conf_line(m), "feed: %s: expected an integer", key);
		return -1;
	}
	v = config_setting_get_int64(m);
	if (v < min || v > max) {
		conf_lerr(L, conf_line(m), "feed: %s: %lld is out of range "
		    "(%lld..%lld)", key, v, min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static char *
get_str(struct conf_loader *L, config_setting_t *m, const char *key)
{
	const char *v;

	if (config_setting_type(m) != CONFIG_TYPE_STRING) {
		conf_lerr(L, conf_line(m), "feed: %s: expected a string", key);
		return NULL;
	}
	v = config_setting_get_string(m);
	if (v[0] == '\0' || strpbrk(v, "\r\n\t ") != NULL) {
		conf_lerr(L, conf_line(m), "feed: %s: must be one word, not "
		    "empty", key);
		return NULL;
	}
	return conf_strdup(L, v);
}

static void
feed_member(struct conf_loader *L, struct conf_feed *f, config_setting_t *m)
{
	const char *k = config_setting_name(m), *v;
	size_t	 i;

	if (strcmp(k, "name") == 0)
		f->name = get_str(L, m, k);
	else if (strcmp(k, "url") == 0)
		f->url = get_str(L, m, k);
	else if (strcmp(k, "sha256") == 0)
		f->sha256 = get_str(L, m, k);
	else if (strcmp(k, "ca_file") == 0)
		f->ca_file = get_str(L, m, k);
	else if (strcmp(k, "signature") == 0)
		f->signature = get_str(L, m, k);
	else if (strcmp(k, "pubkey") == 0)
		f->pubkey = get_str(L, m, k);
	else if (strcmp(k, "signature_kind") == 0) {
		v = config_setting_type(m) == CONFIG_TYPE_STRING ?
		    config_setting_get_string(m) : "";
		if (strcmp(v, "minisign") == 0)
			f->sig_kind = CONF_SIG_MINISIGN;
		else if (strcmp(v, "signify") == 0)
			f->sig_kind = CONF_SIG_SIGNIFY;
		else
			conf_lerr(L, conf_line(m), "feed: signature_kind: "
			    "expected \"minisign\" or \"signify\"");
	}
	else if (strcmp(k, "interval") == 0)
		get_uint(L, m, k, 60, 604800, &f->interval);
	else if (strcmp(k, "max_bytes") == 0)
		get_uint(L, m, k, 1024, 1073741824, &f->max_bytes);
	else if (strcmp(k, "timeout") == 0)
		get_uint(L, m, k, 1, 3600, &f->timeout);
	else if (strcmp(k, "weight") == 0) {
		if (config_setting_type(m) == CONFIG_TYPE_FLOAT)
			f->weight = config_setting_get_float(m);
		else if (config_setting_type(m) == CONFIG_TYPE_INT ||
		    config_setting_type(m) == CONFIG_TYPE_INT64)
			f->weight = (double)config_setting_get_int64(m);
		else
			f->weight = -1;
		if (!(f->weight >= 0 && f->weight <= 1000)) {
			conf_lerr(L, conf_line(m), "feed: weight: expected a "
			    "number from 0 to 1000");
			f->weight = 1;
		}
	} else if (strcmp(k, "kind") == 0) {
		v = config_setting_type(m) == CONFIG_TYPE_STRING ?
		    config_setting_get_string(m) : "";
		for (i = 0; kind_names[i] != NULL; i++)
			if (strcmp(v, kind_names[i]) == 0)
				break;
		if (kind_names[i] == NULL)
			conf_lerr(L, conf_line(m), "feed: kind: expected "
			    "\"domains\", \"hosts-file\", \"urls\", \"phones\" "
			    "or \"phrases\"");
		else
			f->kind = (enum conf_feed_kind)i;
	} else
		conf_lerr(L, conf_line(m), "unknown setting \"%s\" in feed", k);
}

/* Is s the base64 line of a minisign or signify public key?  Both are
 * "Ed", an 8-byte key number and a 32-byte Ed25519 key: 42 bytes, 56
 * characters without padding, and "Ed" makes them start RWQ..RWT. */
static int
pubkey_shape(const char *s)
{
	return strlen(s) == 56 && strncmp(s, "RW", 2) == 0 && s[2] >= 'Q' &&
	    s[2] <= 'T' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/") == 56;
}

/* signature, pubkey and signature_kind go together. */
static void
sig_check(struct conf_loader *L, struct conf_feed *f)
{
	if (f->signature == NULL && f->pubkey == NULL &&
	    f->sig_kind == CONF_SIG_NONE)
		return;
	if (f->signature == NULL || f->pubkey == NULL ||
	    f->sig_kind == CONF_SIG_NONE) {
		conf_lerr(L, f->line, "feed: signature, pubkey and "
		    "signature_kind go together");
		return;
	}
	if (strncasecmp(f->signature, "https://", 8) != 0 &&
	    strncasecmp(f->signature, "file:///", 8) != 0)
		conf_lerr(L, f->line, "feed: signature: must start with "
		    "https:// or file:///");
	if (!pubkey_shape(f->pubkey))
		conf_lerr(L, f->line, "feed: pubkey: expected the public key's "
		    "base64 line (56 characters, starting RW)");
}

/* The checks of one feed against itself and the ones before it. */
static void
feed_check(struct conf_loader *L, struct conf *c, struct conf_feed *f)
{
	const char *p;
	size_t	 i;

	if (f->url == NULL) {
		conf_lerr(L, f->line, "feed: url is required");
		return;
	}
	if (strncasecmp(f->url, "https://", 8) != 0 &&
	    strncasecmp(f->url, "file:///", 8) != 0)
		conf_lerr(L, f->line, "feed: url: must start with https:// or "
		    "file:///");
	if (f->sha256 != NULL && (strlen(f->sha256) != 64 ||
	    strspn(f->sha256, "0123456789abcdef") != 64))
		conf_lerr(L, f->line, "feed: sha256: expected 64 lowercase hex "
		    "digits");
	sig_check(L, f);
	if (f->name == NULL)
		f->name = default_name(L, f->url);
	if (f->name == NULL)
		return;
	for (p = f->name; *p != '\0' && name_char((unsigned char)*p); p++)
		;
	if (*p != '\0' || f->name[0] == '.' || strlen(f->name) >
	    CONF_NAME_MAX)
		conf_lerr(L, f->line, "feed \"%s\": name: letters, digits and "
		    "._- only, not starting with '.'", f->name);
	for (i = 0; i < c->nfeeds; i++)
		if (c->feeds[i].name != NULL &&
		    strcmp(c->feeds[i].name, f->name) == 0) {
			conf_lerr(L, f->line, "feed \"%s\": duplicate name "
			    "(first at line %u)", f->name, c->feeds[i].line);
			break;
		}
}

/* One feed group g: the next of c->feeds. */
static void
feed_group(struct conf_loader *L, struct conf *c, config_setting_t *g)
{
	struct conf_feed *f = &c->feeds[c->nfeeds];
	size_t	 j;

	f->interval = CONF_DEF_FEED_INTERVAL;
	f->max_bytes = CONF_DEF_FEED_MAX_BYTES;
	f->timeout = CONF_DEF_FEED_TIMEOUT;
	f->weight = 1;
	f->line = conf_line(g);
	for (j = 0; j < (size_t)config_setting_length(g); j++)
		feed_member(L, f, config_setting_get_elem(g, (unsigned)j));
	feed_check(L, c, f);
	c->nfeeds++;
}

void
conf_feeds(struct conf_loader *L, struct conf *c, config_setting_t *s)
{
	c->feeds = conf_groups_alloc(L, s, "feeds", "( { ... }, ... )",
	    sizeof(*c->feeds));
	if (c->feeds != NULL)
		conf_groups_each(L, c, s, "feeds", feed_group);
}

void
conf_feeds_free(struct conf *c)
{
	size_t	 i;

	for (i = 0; i < c->nfeeds; i++) {
		free(c->feeds[i].name);
		free(c->feeds[i].url);
		free(c->feeds[i].sha256);
		free(c->feeds[i].ca_file);
		free(c->feeds[i].signature);
		free(c->feeds[i].pubkey);
	}
	free(c->feeds);
	c->feeds = NULL;
	c->nfeeds = 0;
}
