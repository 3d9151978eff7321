/*
 * test_header.c: Date and address-list header values (rules/header.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules-private.h"
#include "tests/unit/test.h"

static void
test_dates(void)
{
	static const struct {
		const char *in;
		int	 rc;
		int64_t	 t;
	} rows[] = {
		{ "Mon, 02 Nov 2026 10:00:00 +0000", 0, 1793613600 },
		{ "Mon, 2 Nov 2026 10:00:00 +0130", 0, 1793608200 },
		{ "Mon, 02 Nov 2026 10:00:00 -0500", 0, 1793631600 },
		{ "02 Nov 2026 10:00:00 GMT", 0, 1793613600 },
		{ "Thu, 01 Jan 1970 00:00:00 +0000", 0, 0 },
		{ "Tue, 29 Feb 2000 23:59:59 +0000", 0, 951868799 },
		{ "Mon, 02 Nov 26 10:00:00 +0000", 0, 1793613600 },
		{ "yesterday", -1, 0 },
		{ "", -1, 0 },
		{ "Mon, 32 Nov 2026 10:00:00 +0000", -1, 0 },
	};
	size_t i;
	int64_t t;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		t = 0;
		if (rules_parse_date(rows[i].in, &t) != rows[i].rc)
			T_FAILF("\"%s\": rc != %d", rows[i].in, rows[i].rc);
		else if (rows[i].rc == 0 && t != rows[i].t)
			T_FAILF("\"%s\": %lld, want %lld", rows[i].in,
			    (long long)t, (long long)rows[i].t);
	}
	T_INTEQ(rules_parse_date(NULL, &t), -1);
	/* The arithmetic under it, called directly. */
	T_INTEQ(rules_civil_time(2026, 11, 2, 10, 0, 0, 0), 1793613600);
	T_INTEQ(rules_civil_time(2026, 11, 2, 10, 0, 0, 130), 1793608200);
	T_INTEQ(rules_civil_time(2026, 11, 2, 10, 0, 0, -500), 1793631600);
	/* Fuzzing (fuzz_imap, when sweep read INTERNALDATE: a zone of
	 * -01111...1 read as an int): no overflow, 64-bit results. */
	T_INTEQ(rules_civil_time(1996, 7, 17, 2, 44, 25, -954436537),
	    837571465 + (int64_t)9544365 * 3600 + 37 * 60);
	T_INTEQ(rules_civil_time(2026, 1, 1, 2147483647, 0, 0, 0),
	    1767225600 + (int64_t)2147483647 * 3600);
	T_INTEQ(rules_civil_time(1970, 1, 1, 0, 0, 0, 0), 0);
}

static void
collect(void *ctx, const char *addr)
{
	char *out = ctx;

	if (out[0] != '\0')
		strcat(out, " ");
	strcat(out, addr);
}

static void
test_addrs(void)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{ "A <a@X.Example>, b@y.example", "a@x.example b@y.example" },
		{ "\"Doe, John\" <John@Doe.example>", "john@doe.example" },
		{ "Doe, John <john@doe.example>", "john@doe.example" },
		{ "team: c@z.example, d@z.example;, e@w.example",
		    "c@z.example d@z.example e@w.example" },
		{ "undisclosed-recipients:;", "" },
		{ "<bare@host.example>", "bare@host.example" },
		{ "junk @ nothing, x@@y, @z.example", "" },
		{ "mail me: f.o+o@bar.example. thanks",
		    "f.o+o@bar.example" },
		{ "", "" },
	};
	char out[512];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		out[0] = '\0';
		rules_parse_addrs(rows[i].in, collect, out);
		if (strcmp(out, rows[i].want) != 0)
			T_FAILF("\"%s\": \"%s\", want \"%s\"", rows[i].in,
			    out, rows[i].want);
	}
}

int
main(void)
{
	T_RUN(test_dates);
	T_RUN(test_addrs);
	return t_done();
}
