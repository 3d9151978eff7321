/*
 * conf-dnsbl.c: the global dnsbl list, ( { zone = "..."; kind = "...";
 * ... }, ... ): URI DNS blocklists the agent asks about the registrable
 * domains of a message's URLs; and the dns_server key.  Each group's
 * keys are read here with their own small table; a zone may appear once.
 * A zone that names neither codes nor mask gets its kind's: the DBL's
 * listed range, SURBL's and URIBL's bitmasks, or for a generic list any
 * answer in 127/8 that is not an error code.
 */
#include <arpa/inet.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

static const char *const kind_names[] = { "generic", "dbl", "surbl",
	"uribl", NULL };

const char *
conf_dnsbl_kind_name(enum conf_dnsbl_kind kind)
{
	return kind_names[kind];
}

/* A DNS name of letters, digits, '-' and '_' labels; 1 when it is. */
static int
dns_name(const char *s, size_t max)
{
	size_t	 n = 0, lab = 0;

	for (; *s != '\0'; s++, n++) {
		if (*s == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '_') || ++lab > 63)
			return 0;
	}
	return n > 0 && n <= max && lab > 0;
}

static int
ipv4(const char *s, unsigned long *v)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*v = (unsigned long)ntohl(a.s_addr);
	return 0;
}

/* "127.0.1.2" or "127.0.1.2-127.0.1.99" into r. */
static int
range(const char *s, struct conf_dnsbl_range *r)
{
	char	 b[64];
	const char *dash = strchr(s, '-');

	if (strlen(s) >= sizeof(b))
		return -1;
	if (dash == NULL)
		return ipv4(s, &r->lo) == -1 ? -1 : (r->hi = r->lo, 0);
	snprintf(b, sizeof(b), "%.*s", (int)(dash - s), s);
	if (ipv4(b, &r->lo) == -1 || ipv4(dash + 1, &r->hi) == -1 ||
	    r->hi < r->lo)
		return -1;
	return 0;
}

static void
codes(struct conf_loader *L, struct conf_dnsbl *z, config_setting_t *m)
{
	config_setting_t *e;
	size_t	 i, n;
	const char *v;

	if (config_setting_type(m) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(m) != CONFIG_TYPE_LIST) {
		conf_lerr(L, conf_line(m), "dnsbl: codes: expected a list of "
		    "strings, [ \"127.0.1.2\", \"127.0.1.4-127.0.1.6\" ]");
		return;
	}
	n = (size_t)config_setting_length(m);
	if (n == 0) {
		conf_lerr(L, conf_line(m), "dnsbl: codes: empty");
		return;
	}
	if ((z->codes = calloc(n, sizeof(*z->codes))) == NULL) {
		L->oom = L->failed = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(m, (unsigned)i);
		v = config_setting_type(e) == CONFIG_TYPE_STRING ?
		    config_setting_get_string(e) : NULL;
		if (v == NULL || range(v, &z->codes[z->ncodes]) == -1) {
			conf_lerr(L, conf_line(m), "dnsbl: codes: element %zu: "
			    "expected an IPv4 address or A.B.C.D-E.F.G.H",
			    i + 1);
			continue;
		}
		if ((z->codes[z->ncodes].lo >> 24) != 127)
			conf_lerr(L, conf_line(m), "dnsbl: codes: element %zu: "
			    "not in 127.0.0.0/8 (answers outside it are "
			    "errors)", i + 1);
		z->ncodes++;
	}
}

static char *
get_str(struct conf_loader *L, config_setting_t *m, const char *key)
{
	if (config_setting_type(m) != CONFIG_TYPE_STRING) {
		conf_lerr(L, conf_line(m), "dnsbl: %s: expected a string", key);
		return NULL;
	}
	return conf_strdup(L, config_setting_get_string(m));
}

static void
zone_member(struct conf_loader *L, struct conf_dnsbl *z,
    config_setting_t *m)
{
	const char *k = config_setting_name(m), *v;
	long long n;
	size_t	 i;

	if (strcmp(k, "zone") == 0)
		z->zone = get_str(L, m, k);
	else if (strcmp(k, "dqs_key") == 0)
		z->dqs_key = get_str(L, m, k);
	else if (strcmp(k, "codes") == 0)
		codes(L, z, m);
	else if (strcmp(k, "mask") == 0) {
		n = config_setting_type(m) == CONFIG_TYPE_INT ||
		    config_setting_type(m) == CONFIG_TYPE_INT64 ?
		    config_setting_get_int64(m) : -1;
		if (n < 1 || n > 255)
			conf_lerr(L, conf_line(m), "dnsbl: mask: expected an "
			    "integer from 1 to 255 (bits of the answer's "
			    "last octet)");
		else
			z->mask = (unsigned)n;
	} else if (strcmp(k, "weight") == 0) {
		if (config_setting_type(m) == CONFIG_TYPE_FLOAT)
			z->weight = config_setting_get_float(m);
		else if (config_setting_type(m) == CONFIG_TYPE_INT ||
		    config_setting_type(m) == CONFIG_TYPE_INT64)
			z->weight = (double)config_setting_get_int64(m);
		else
			z->weight = -1;
		if (!(z->weight >= 0 && z->weight <= 1000)) {
			conf_lerr(L, conf_line(m), "dnsbl: weight: expected a "
			    "number from 0 to 1000");
			z->weight = 1;
		}
	} else if (strcmp(k, "kind") == 0) {
		v = config_setting_type(m) == CONFIG_TYPE_STRING ?
		    config_setting_get_string(m) : "";
		for (i = 0; kind_names[i] != NULL; i++)
			if (strcmp(v, kind_names[i]) == 0)
				break;
		if (kind_names[i] == NULL)
			conf_lerr(L, conf_line(m), "dnsbl: kind: expected "
			    "\"dbl\", \"surbl\", \"uribl\" or \"generic\"");
		else
			z->kind = (enum conf_dnsbl_kind)i;
	} else
		conf_lerr(L, conf_line(m), "unknown setting \"%s\" in dnsbl", k);
}

/* The kind's codes and mask when the file named neither. */
static void
zone_defaults(struct conf_loader *L, struct conf_dnsbl *z)
{
	if (z->ncodes > 0 || z->mask != 0)
		return;
	switch (z->kind) {
	case CONF_DNSBL_SURBL:
		z->mask = CONF_DEF_SURBL_MASK;
		return;
	case CONF_DNSBL_URIBL:
		z->mask = CONF_DEF_URIBL_MASK;
		return;
	default:
		break;
	}
	if ((z->codes = calloc(2, sizeof(*z->codes))) == NULL) {
		L->oom = L->failed = 1;
		return;
	}
	z->ncodes = 1;
	if (z->kind == CONF_DNSBL_DBL) {
		/* Every listing but 127.0.1.103, an abused redirector: a
		 * legitimate service spammers link through, whose links are
		 * in ham too (SpamAssassin scores it 0.001). */
		z->codes[0].lo = 0x7f000102;	/* 127.0.1.2 */
		z->codes[0].hi = 0x7f000166;	/* 127.0.1.102 */
		z->codes[1].lo = 0x7f000168;	/* 127.0.1.104 */
		z->codes[1].hi = 0x7f0001c7;	/* 127.0.1.199 */
		z->ncodes = 2;
	} else {
		z->codes[0].lo = 0x7f000002;	/* 127.0.0.2 */
		z->codes[0].hi = 0x7ffffffb;	/* 127.255.255.251 */
	}
}

static void
zone_check(struct conf_loader *L, struct conf *c, struct conf_dnsbl *z)
{
	char	*p;
	size_t	 i;

	if (z->zone == NULL) {
		conf_lerr(L, z->line, "dnsbl: zone is required");
		return;
	}
	for (p = z->zone; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	while (p > z->zone && p[-1] == '.')
		*--p = '\0';
	if (!dns_name(z->zone, 190) || strchr(z->zone, '.') == NULL)
		conf_lerr(L, z->line, "dnsbl: zone \"%s\": not a DNS zone name "
		    "(letters, digits, '-', dots; at most 190 bytes)",
		    z->zone);
	if (z->dqs_key != NULL && (!dns_name(z->dqs_key, 63) ||
	    strchr(z->dqs_key, '.') != NULL))
		conf_lerr(L, z->line, "dnsbl: zone \"%s\": dqs_key: one DNS "
		    "label (letters and digits)", z->zone);
	for (i = 0; i < c->ndnsbl; i++)
		if (c->dnsbl[i].zone != NULL &&
		    strcmp(c->dnsbl[i].zone, z->zone) == 0) {
			conf_lerr(L, z->line, "dnsbl: zone \"%s\": duplicate "
			    "(first at line %u)", z->zone, c->dnsbl[i].line);
			break;
		}
	zone_defaults(L, z);
}

/* One zone group g: the next of c->dnsbl. */
static void
zone_group(struct conf_loader *L, struct conf *c, config_setting_t *g)
{
	struct conf_dnsbl *z = &c->dnsbl[c->ndnsbl];
	size_t	 j;

	z->weight = 1;
	z->line = conf_line(g);
	for (j = 0; j < (size_t)config_setting_length(g); j++)
		zone_member(L, z, config_setting_get_elem(g, (unsigned)j));
	zone_check(L, c, z);
	c->ndnsbl++;
}

void
conf_dnsbl(struct conf_loader *L, struct conf *c, config_setting_t *s)
{
	c->dnsbl = conf_groups_alloc(L, s, "dnsbl",
	    "( { zone = \"...\"; kind = \"...\"; }, ... )", sizeof(*c->dnsbl));
	if (c->dnsbl != NULL)
		conf_groups_each(L, c, s, "dnsbl", zone_group);
}

/* dns_server: an IPv4 or [IPv6] address with an optional :port. */
void
conf_dnsbl_check(struct conf_loader *L, struct conf *c)
{
	char	 host[64];
	const char *s = c->dns_server, *port = NULL, *end;
	unsigned char a[16];
	long	 p = 53;
	char	*e;

	if (s == NULL)
		return;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end != NULL && end[1] == ':')
			port = end + 2;
		else if (end != NULL && end[1] != '\0')
			end = NULL;
		s++;
	} else {
		end = strchr(s, ':');
		if (end != NULL)
			port = end + 1;
		else
			end = s + strlen(s);
	}
	if (end == NULL || (size_t)(end - s) >= sizeof(host))
		goto bad;
	snprintf(host, sizeof(host), "%.*s", (int)(end - s), s);
	if (inet_pton(c->dns_server[0] == '[' ? AF_INET6 : AF_INET, host,
	    a) != 1)
		goto bad;
	if (port != NULL) {
		p = strtol(port, &e, 10);
		if (*port == '\0' || *e != '\0' || p < 1 || p > 65535)
			goto bad;
	}
	return;
bad:
	conf_lerr(L, c->lines[CONF_DNS_SERVER], "dns_server: \"%s\": expected "
	    "an IP address with an optional port, 127.0.0.1:5353 or "
	    "[::1]:5353", c->dns_server);
}

void
conf_dnsbl_free(struct conf *c)
{
	size_t	 i;

	for (i = 0; i < c->ndnsbl; i++) {
		free(c->dnsbl[i].zone);
		free(c->dnsbl[i].dqs_key);
		free(c->dnsbl[i].codes);
	}
	free(c->dnsbl);
	c->dnsbl = NULL;
	c->ndnsbl = 0;
	free(c->dns_server);
	c->dns_server = NULL;
}
