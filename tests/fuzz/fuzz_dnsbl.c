/*
 * fuzz_dnsbl.c: a DNS blocklist's answer packet as a resolver, honest or
 * not, sends it (agent/dnsbl-answer.c).
 *
 * The first byte picks the zone's settings (below: every 127/8 code
 * counting, a URIBL-style bitmask, DBL codes, none); the rest is the
 * packet.  The reader must stay inside it, and no address it yields may
 * count as a hit when it is outside 127.0.0.0/8 or one of the error
 * codes, however wide the zone's codes and mask.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/dnsbl.h"
#include "conf/conf.h"
#include "tests/fuzz/fuzz.h"

#define NADDR	8

static char zone[] = "dbl.test";
static struct conf_dnsbl_range all = { 0x7f000000ul, 0x7ffffffful };
static struct conf_dnsbl_range dbl = { 0x7f000102ul, 0x7f0001feul };

static int
is_error_code(uint32_t a)
{
	return (a >> 24) != 127 || a == 0x7ffffffc || a == 0x7ffffffe ||
	    a == 0x7fffffff || a == 0x7f0001ff || a == 0x7f000001;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_dnsbl z;
	uint32_t addrs[NADDR + 1], ttl, neg;
	unsigned char *p;
	const char *why;
	int	 na, i, r, s;

	if (size < 1 || size > 65536)
		return 0;
	memset(&z, 0, sizeof(z));
	z.zone = zone;
	z.weight = 1;
	switch (data[0] % 4) {
	case 0:
		z.kind = CONF_DNSBL_GENERIC;
		z.codes = &all;
		z.ncodes = 1;
		break;
	case 1:
		z.kind = CONF_DNSBL_URIBL;
		z.mask = 0xff;
		break;
	case 2:
		z.kind = CONF_DNSBL_DBL;
		z.codes = &dbl;
		z.ncodes = 1;
		break;
	default:
		z.kind = CONF_DNSBL_GENERIC;
		break;
	}
	/* A copy of its own size: reading past it is ASan's to see. */
	if ((p = malloc(size > 1 ? size - 1 : 1)) == NULL)
		abort();
	memcpy(p, data + 1, size - 1);
	addrs[NADDR] = 0xdeadbeef;
	r = dnsbl_answer_parse(p, (int)(size - 1), addrs, NADDR, &na, &ttl,
	    &neg);
	if (r != 0 && r != -1)
		abort();
	if (addrs[NADDR] != 0xdeadbeef || na < 0 || na > NADDR)
		abort();
	for (i = 0; r == 0 && i < na; i++) {
		s = dnsbl_answer_judge(&z, addrs[i], &why);
		if (s != DNSBL_LISTED && s != DNSBL_CLEAN && s != DNSBL_ERROR)
			abort();
		if (s == DNSBL_ERROR && why == NULL)
			abort();
		if (is_error_code(addrs[i]) != (s == DNSBL_ERROR))
			abort();
	}
	free(p);
	return 0;
}
