/*
 * header.c: reading the values of Date and address header fields.
 *
 * Sent mail is remembered by Message-ID, date and recipients, and a
 * bounce's quoted original is judged by its date and sender, so these
 * parsers meet every kind of header that mailers write.  libetpan's
 * RFC 5322 parsers go first; where they give up (obsolete syntax,
 * decoded display names with commas, junk), a tolerant scan still finds
 * the addr-specs, and a date that cannot be read is "unknown", never a
 * guess.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libetpan/libetpan.h>

#include "rules/rules-private.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (no timegm(): it is not in C11 or POSIX, and needs no time zone). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int64_t
rules_civil_time(int year, int month, int day, int hour, int min, int sec,
    int zone)
{
	int64_t t;

	/* 64-bit throughout: a hostile date may carry any int in any
	 * field (a zone of -0111111111 once overflowed here). */
	t = days_from_civil(year, (unsigned)month, (unsigned)day) * 86400 +
	    (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
	/* zone is +hhmm as a number: +0130 is 130. */
	return t - ((int64_t)(zone / 100) * 3600 + (int64_t)(zone % 100) * 60);
}

int
rules_parse_date(const char *s, int64_t *t_r)
{
	struct mailimf_date_time *dt = NULL;
	size_t idx = 0;
	int year;

	if (s == NULL)
		return -1;
	if (mailimf_date_time_parse(s, strlen(s), &idx, &dt) !=
	    MAILIMF_NO_ERROR || dt == NULL)
		return -1;
	year = dt->dt_year;
	if (year < 50)			/* RFC 5322 4.3 obsolete years */
		year += 2000;
	else if (year < 1000)
		year += 1900;
	if (dt->dt_month < 1 || dt->dt_month > 12 || dt->dt_day < 1 ||
	    dt->dt_day > 31 || dt->dt_hour < 0 || dt->dt_hour > 23 ||
	    dt->dt_min < 0 || dt->dt_min > 59 || dt->dt_sec < 0 ||
	    dt->dt_sec > 60 || year > 9999) {
		mailimf_date_time_free(dt);
		return -1;
	}
	*t_r = rules_civil_time(year, dt->dt_month, dt->dt_day, dt->dt_hour,
	    dt->dt_min, dt->dt_sec, dt->dt_zone);
	mailimf_date_time_free(dt);
	return 0;
}

static void
emit(const char *a, size_t n, void (*fn)(void *, const char *), void *ctx)
{
	char buf[320], *at, *d;
	size_t i;

	if (n == 0 || n >= sizeof(buf) || memchr(a, '@', n) == NULL)
		return;
	for (i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)a[i]);
	buf[n] = '\0';
	/* One '@', a local part, and a domain of letters, digits, dots and
	 * hyphens with at least one dot (or an address literal). */
	at = strchr(buf, '@');
	if (at == buf || strchr(at + 1, '@') != NULL)
		return;
	d = at + 1;
	if (d[0] == '[' ? buf[n - 1] != ']' : (strspn(d,
	    "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(d) ||
	    strchr(d, '.') == NULL || d[0] == '.' || buf[n - 1] == '.'))
		return;
	fn(ctx, buf);
}

static void
emit_mb_list(clist *l, void (*fn)(void *, const char *), void *ctx)
{
	struct mailimf_mailbox *mb;
	clistiter *it;

	for (it = clist_begin(l); it != NULL; it = clist_next(it)) {
		mb = clist_content(it);
		if (mb != NULL && mb->mb_addr_spec != NULL)
			emit(mb->mb_addr_spec, strlen(mb->mb_addr_spec), fn,
			    ctx);
	}
}

static int
addr_char(int c)
{
	return isalnum(c) || strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

/* The fallback: every word with an '@' that looks like an addr-spec. */
static void
scan_addrs(const char *s, void (*fn)(void *, const char *), void *ctx)
{
	const char *p = s, *at, *b, *e;

	for (;;) {
		at = strchr(p, '@');
		if (at == NULL)
			break;
		b = at;
		while (b > s && addr_char((unsigned char)b[-1]))
			b--;
		e = at + 1;
		while (isalnum((unsigned char)*e) || *e == '.' || *e == '-')
			e++;
		while (e > at + 1 && e[-1] == '.')
			e--;
		emit(b, (size_t)(e - b), fn, ctx);
		p = at + 1;
	}
}

void
rules_parse_addrs(const char *s, void (*fn)(void *ctx, const char *addr),
    void *ctx)
{
	struct mailimf_address_list *al = NULL;
	struct mailimf_address *a;
	clistiter *it;
	size_t idx = 0;

	if (s == NULL)
		return;
	if (mailimf_address_list_parse(s, strlen(s), &idx, &al) ==
	    MAILIMF_NO_ERROR && al != NULL)
		idx += strspn(s + idx, " \t\r\n");
	if (al == NULL || s[idx] != '\0') {
		if (al != NULL)
			mailimf_address_list_free(al);
		scan_addrs(s, fn, ctx);
		return;
	}
	for (it = clist_begin(al->ad_list); it != NULL; it = clist_next(it)) {
		a = clist_content(it);
		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX) {
			if (a->ad_data.ad_mailbox->mb_addr_spec != NULL)
				emit(a->ad_data.ad_mailbox->mb_addr_spec,
				    strlen(a->ad_data.ad_mailbox->mb_addr_spec),
				    fn, ctx);
		} else if (a->ad_data.ad_group->grp_mb_list != NULL)
			emit_mb_list(a->ad_data.ad_group->grp_mb_list->mb_list,
			    fn, ctx);
	}
	mailimf_address_list_free(al);
}
