/*
 * test_dnsbl_answer.c: reading a DNS blocklist's answer packet and
 * judging its addresses (agent/dnsbl-answer.c), against packets built
 * here and the kinds' default codes as conf_load gives them
 * (tests/fixtures/conf/good/dnsbl.conf).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/dnsbl.h"
#include "conf/conf.h"
#include "tests/unit/test.h"

#define A(a, b, c, d)	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			    (uint32_t)(c) << 8 | (uint32_t)(d))

struct pkt {
	unsigned char b[1024];
	int	 n;
};

static void
put(struct pkt *p, const void *v, int n)
{
	memcpy(p->b + p->n, v, (size_t)n);
	p->n += n;
}

static void
u16(struct pkt *p, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(p, b, 2);
}

static void
u32(struct pkt *p, uint32_t v)
{
	u16(p, v >> 16);
	u16(p, v & 0xffff);
}

static void
name(struct pkt *p, const char *dotted)
{
	const char *s = dotted, *e;
	unsigned char len;

	while (*s != '\0') {
		e = strchr(s, '.');
		len = (unsigned char)(e != NULL ? e - s : (int)strlen(s));
		put(p, &len, 1);
		put(p, s, len);
		s += len + (e != NULL);
	}
	put(p, "", 1);
}

/* The header (rcode, an answers, ns authority records) and the question
 * "x.example.dbl.test A IN", whose name is at offset 12. */
static void
head(struct pkt *p, unsigned rcode, unsigned an, unsigned ns)
{
	p->n = 0;
	u16(p, 0x1234);
	u16(p, 0x8180 | rcode);
	u16(p, 1);
	u16(p, an);
	u16(p, ns);
	u16(p, 0);
	name(p, "x.example.dbl.test");
	u16(p, 1);
	u16(p, 1);
}

/* A record for the question's name (a compression pointer to 12). */
static void
rec_a(struct pkt *p, uint32_t addr, uint32_t ttl)
{
	u16(p, 0xc00c);
	u16(p, 1);
	u16(p, 1);
	u32(p, ttl);
	u16(p, 4);
	u32(p, addr);
}

static void
rec_soa(struct pkt *p, uint32_t ttl, uint32_t minimum)
{
	struct pkt rd = { .n = 0 };

	name(&rd, "ns.dbl.test");
	name(&rd, "h.dbl.test");
	u32(&rd, 1);
	u32(&rd, 3600);
	u32(&rd, 600);
	u32(&rd, 86400);
	u32(&rd, minimum);
	u16(p, 0xc016);		/* dbl.test in the question */
	u16(p, 6);
	u16(p, 1);
	u32(p, ttl);
	u16(p, (unsigned)rd.n);
	put(p, rd.b, rd.n);
}

/* What dnsbl_answer_parse read from the first len bytes of a packet. */
struct got {
	uint32_t addrs[8];
	uint32_t ttl, neg;
	int	 na;
};

static int
parse(const unsigned char *b, int len, int max, struct got *g)
{
	return dnsbl_answer_parse(b, len, g->addrs, max, &g->na, &g->ttl,
	    &g->neg);
}

static void
test_listed(void)
{
	struct pkt p;
	struct got g;

	head(&p, 0, 1, 0);
	rec_a(&p, A(127, 0, 1, 2), 3600);
	T_INTEQ(parse(p.b, p.n, 8, &g), 0);
	T_INTEQ(g.na, 1);
	T_INTEQ(g.addrs[0], A(127, 0, 1, 2));
	T_INTEQ(g.ttl, 3600);
	T_INTEQ(g.neg, 0);
}

/* At most max addresses; the TTL is the smallest of those taken. */
static void
test_many_addresses(void)
{
	struct pkt p;
	struct got g;
	int	 i;

	head(&p, 0, 6, 0);
	for (i = 0; i < 6; i++)
		rec_a(&p, A(127, 0, 0, 2 + i), (uint32_t)(900 - 100 * i));
	T_INTEQ(parse(p.b, p.n, 4, &g), 0);
	T_INTEQ(g.na, 4);
	T_INTEQ(g.addrs[3], A(127, 0, 0, 5));
	T_INTEQ(g.ttl, 600);
}

/* NXDOMAIN's negative TTL: the smaller of the SOA's TTL and MINIMUM. */
static void
test_negative_ttl(void)
{
	struct pkt p;
	struct got g;

	head(&p, 3, 0, 1);
	rec_soa(&p, 600, 300);
	T_INTEQ(parse(p.b, p.n, 8, &g), 0);
	T_INTEQ(g.na, 0);
	T_INTEQ(g.neg, 300);
	head(&p, 3, 0, 1);
	rec_soa(&p, 120, 300);
	T_INTEQ(parse(p.b, p.n, 8, &g), 0);
	T_INTEQ(g.neg, 120);
}

/* A packet cut anywhere, or with a bad label, is not read at all. */
static void
test_broken(void)
{
	struct pkt p;
	struct got g;
	int	 len, full;

	head(&p, 0, 2, 0);
	rec_a(&p, A(127, 0, 1, 2), 3600);
	rec_a(&p, A(127, 0, 1, 3), 3600);
	full = p.n;
	for (len = 0; len < full; len++)
		if (parse(p.b, len, 8, &g) != -1)
			T_FAILF("cut at %d of %d: read", len, full);
	T_INTEQ(parse(p.b, full, 8, &g), 0);
	T_INTEQ(g.na, 2);
	p.b[12] = 0x41;		/* a label length with the 0x40 bit */
	T_INTEQ(parse(p.b, full, 8, &g), -1);
	/* More records announced than the packet holds. */
	head(&p, 0, 3, 0);
	rec_a(&p, A(127, 0, 1, 2), 3600);
	T_INTEQ(parse(p.b, p.n, 8, &g), -1);
	T_INTEQ(parse(NULL, 0, 8, &g), -1);
}

static const struct conf_dnsbl *
zone(const struct conf *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->ndnsbl; i++)
		if (strcmp(c->dnsbl[i].zone, name) == 0)
			return &c->dnsbl[i];
	T_FAILF("no zone %s", name);
	return NULL;
}

/* Each kind's defaults; the error codes are errors for every kind. */
static void
test_judge(void)
{
	static const struct {
		const char *zone;
		uint32_t addr;
		int	 want;
	} t[] = {
		{ "dbl.test", A(127, 0, 1, 2), DNSBL_LISTED },
		{ "dbl.test", A(127, 0, 1, 102), DNSBL_LISTED },
		{ "dbl.test", A(127, 0, 1, 103), DNSBL_CLEAN },
		{ "dbl.test", A(127, 0, 1, 104), DNSBL_LISTED },
		{ "dbl.test", A(127, 0, 1, 199), DNSBL_LISTED },
		{ "dbl.test", A(127, 0, 1, 200), DNSBL_CLEAN },
		{ "dbl.test", A(127, 0, 0, 2), DNSBL_CLEAN },
		{ "surbl.test", A(127, 0, 0, 8), DNSBL_LISTED },
		{ "surbl.test", A(127, 0, 0, 2), DNSBL_CLEAN },
		{ "surbl.test", A(127, 0, 1, 8), DNSBL_CLEAN },
		{ "uribl.test", A(127, 0, 0, 2), DNSBL_LISTED },
		{ "uribl.test", A(127, 0, 0, 14), DNSBL_LISTED },
		{ "uribl.test", A(127, 0, 0, 10), DNSBL_LISTED },
		{ "uribl.test", A(127, 0, 0, 4), DNSBL_CLEAN },
		{ "uribl.test", A(127, 0, 0, 8), DNSBL_CLEAN },
		{ "generic.test", A(127, 0, 0, 2), DNSBL_LISTED },
		{ "generic.test", A(127, 255, 255, 251), DNSBL_LISTED },
	};
	static const uint32_t errors[] = {
		A(127, 255, 255, 252), A(127, 255, 255, 254),
		A(127, 255, 255, 255), A(127, 0, 1, 255), A(127, 0, 0, 1),
		A(192, 0, 2, 1), A(10, 0, 0, 2), 0,
	};
	static const struct {
		const char *zone;
		uint32_t addr;
		const char *why;
	} meant[] = {
		{ "dbl.test", A(127, 0, 1, 103), "an abused redirector" },
		{ "dbl.test", A(127, 0, 1, 200), "a code this zone's" },
		{ "uribl.test", A(127, 0, 0, 8), "URIBL red" },
		{ "uribl.test", A(127, 0, 0, 4), "URIBL grey" },
		{ "uribl.test", A(127, 0, 0, 12), "a code this zone's" },
		{ "generic.test", A(127, 0, 0, 0), "a code this zone's" },
	};
	static const char *const zones[] = { "dbl.test", "surbl.test",
		"uribl.test", "generic.test" };
	struct conf *c = NULL;
	const struct conf_dnsbl *z;
	const char *why;
	size_t	 i, j;

	if (conf_load(&c, "tests/fixtures/conf/good/dnsbl.conf", NULL) != 0 ||
	    c == NULL) {
		T_FAILF("dnsbl.conf did not load");
		return;
	}
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if ((z = zone(c, t[i].zone)) == NULL)
			continue;
		if (dnsbl_answer_judge(z, t[i].addr, &why) != t[i].want)
			T_FAILF("%s %08x: not %d", t[i].zone,
			    (unsigned)t[i].addr, t[i].want);
	}
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		for (j = 0; j < sizeof(errors) / sizeof(errors[0]); j++) {
			if ((z = zone(c, zones[i])) == NULL)
				continue;
			why = NULL;
			if (dnsbl_answer_judge(z, errors[j], &why) !=
			    DNSBL_ERROR || why == NULL)
				T_FAILF("%s %08x: not an error", zones[i],
				    (unsigned)errors[j]);
		}
	/* A code that does not count says what it means. */
	for (i = 0; i < sizeof(meant) / sizeof(meant[0]); i++) {
		if ((z = zone(c, meant[i].zone)) == NULL)
			continue;
		why = NULL;
		if (dnsbl_answer_judge(z, meant[i].addr, &why) != DNSBL_CLEAN ||
		    why == NULL || strstr(why, meant[i].why) == NULL)
			T_FAILF("%s %08x: \"%s\", not \"%s\"", meant[i].zone,
			    (unsigned)meant[i].addr, why != NULL ? why : "",
			    meant[i].why);
	}
	conf_free(&c);
}

int
main(void)
{
	T_RUN(test_listed);
	T_RUN(test_many_addresses);
	T_RUN(test_negative_ttl);
	T_RUN(test_broken);
	T_RUN(test_judge);
	return t_done();
}
