/*
 * dnsbl-answer.c: reading a DNS blocklist's answer packet and judging the
 * address it gives (see dnsbl.h).  No state and no I/O: what a resolver
 * sends is read here within the packet's length, whatever it holds.
 */
#include <stddef.h>
#include <stdint.h>

#include "agent/dnsbl.h"
#include "conf/conf.h"

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
skip_name(const unsigned char *p, int len, int off)
{
	int	 c, hops = 0;

	while (off < len && hops++ < 128) {
		c = p[off];
		if (c == 0)
			return off + 1;
		if ((c & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : -1;
		if (c & 0xc0)
			return -1;
		off += c + 1;
	}
	return -1;
}

int
dnsbl_answer_parse(const unsigned char *p, int len, uint32_t *addrs,
    int max, int *na, uint32_t *ttl_r, uint32_t *neg_r)
{
	int	 qd, an, ns, i, off = 12, o, type, rdlen, rd;
	uint32_t ttl, min;

	*na = 0;
	*ttl_r = *neg_r = 0;
	if (p == NULL || len < 12)
		return -1;
	qd = p[4] << 8 | p[5];
	an = p[6] << 8 | p[7];
	ns = p[8] << 8 | p[9];
	for (i = 0; i < qd; i++)
		if ((off = skip_name(p, len, off)) == -1 || (off += 4) > len)
			return -1;
	for (i = 0; i < an + ns; i++) {
		if ((off = skip_name(p, len, off)) == -1 || off + 10 > len)
			return -1;
		type = p[off] << 8 | p[off + 1];
		ttl = be32(p + off + 4);
		rdlen = p[off + 8] << 8 | p[off + 9];
		rd = off + 10;
		if (rd + rdlen > len)
			return -1;
		if (i < an && type == 1 && rdlen == 4 && *na < max) {
			if (*na == 0 || ttl < *ttl_r)
				*ttl_r = ttl;
			addrs[(*na)++] = be32(p + rd);
		} else if (i >= an && type == 6) {
			o = skip_name(p, rd + rdlen, rd);
			if (o != -1)
				o = skip_name(p, rd + rdlen, o);
			if (o != -1 && o + 20 <= rd + rdlen) {
				min = be32(p + o + 16);	/* SOA MINIMUM */
				*neg_r = min < ttl ? min : ttl;
			}
		}
		off = rd + rdlen;
	}
	return 0;
}

int
dnsbl_answer_judge(const struct conf_dnsbl *z, uint32_t a, const char **why)
{
	/* The last octet of a 127.0.0.X answer, what bitmasks read; else 0. */
	uint32_t bits = (a & 0xffffff00u) == 0x7f000000u ? a & 0xff : 0;
	uint32_t uribl;
	size_t	 i;

	*why = NULL;
	if ((a >> 24) != 127)
		*why = "an answer outside 127.0.0.0/8 is no blocklist answer "
		    "(a resolver that rewrites NXDOMAIN, or the list is gone)";
	else if (a == 0x7ffffffc)
		*why = "the list says the query name is wrong (Spamhaus "
		    "127.255.255.252: a typo in the zone)";
	else if (a == 0x7ffffffe)
		*why = "the list refuses queries through public or open "
		    "resolvers (Spamhaus 127.255.255.254): use your own "
		    "resolver or a DQS key";
	else if (a == 0x7fffffff)
		*why = "the list says this resolver sent too many queries "
		    "(Spamhaus 127.255.255.255)";
	else if (a == 0x7f0001ff)
		*why = "the list does not answer this kind of query "
		    "(Spamhaus 127.0.1.255)";
	else if (a == 0x7f000001)
		*why = "the list refuses this resolver (127.0.0.1: URIBL and "
		    "SURBL say a query is blocked so)";
	if (*why != NULL)
		return DNSBL_ERROR;
	if ((bits & z->mask) != 0)
		return DNSBL_LISTED;
	for (i = 0; i < z->ncodes; i++)
		if (a >= z->codes[i].lo && a <= z->codes[i].hi)
			return DNSBL_LISTED;
	uribl = z->kind == CONF_DNSBL_URIBL ? bits & 0x0e : 0;
	if (z->kind == CONF_DNSBL_DBL && a == 0x7f000167)
		*why = "127.0.1.103, an abused redirector: a legitimate "
		    "service spammers link through; not counted by default";
	else if (uribl == 0x08)
		*why = "URIBL red, a new domain seen in mail, not yet "
		    "judged; not counted by default";
	else if (uribl == 0x04)
		*why = "URIBL grey, a bulk sender's domain, in legitimate "
		    "mail too; not counted by default";
	else
		*why = "a code this zone's codes and mask do not count";
	return DNSBL_CLEAN;
}
