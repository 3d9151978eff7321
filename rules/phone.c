/*
 * phone.c: phone numbers, normalised and found in free text.
 *
 * Spam asks to be called back as often as it asks to be clicked, so a
 * number is an indicator like a host.  Both sides are reduced to the same
 * digits (country code first, no trunk prefix, no punctuation), whether
 * the number comes from a list file or from a message.
 *
 * Finding numbers in text is mostly about not finding the many numbers
 * that are not phones.  The scanner makes one pass; at each word start
 * that is a digit, '+' or '(' it reads the longest phone-shaped run
 * (digit groups joined by one space, '-', '.', '/' or parentheses, at
 * most 8 groups and 24 digits) and then decides:
 *
 * 1. Glue.  A run touching other characters is part of something else:
 *    a letter or digit right before or after ("ABC8005551234",
 *    "8005551234abc"), '#' before, '%' or a currency after, punctuation
 *    with a digit beyond it on either side ("12:30:45", "1.234,56",
 *    "12345-6789-ab"), a '.' and a letter after (a host name).  A word
 *    glued on the left by ':', '.', '=' or '-' must be a phone word
 *    ("Tel:030...", "tel:+1...").  After a currency sign ("$1 234 567")
 *    only a run with a dash or parentheses may go on: prices have none.
 * 2. Context.  Up to three words (48 bytes, not across other digits)
 *    before the run are read; the nearest keyword decides.  "order",
 *    "invoice", "ref", "id", "tracking", "account", "ticket", "isbn",
 *    "price" and the like make it not a phone whatever its shape; "call",
 *    "phone", "tel", "fax", "toll", "contact", "mobile", "hotline" and
 *    the like make it one if it normalises; "no", "number" are skipped
 *    ("fax no." is a phone, "order no." is not).  A word that ends a
 *    host name ("mail.upd.edu.ph") is not a keyword.
 * 3. Shape.  Without a phone word, only groupings people use for phones
 *    count: a leading '+' ("+44 20 7946 0958", "+18005551234"); an
 *    international "00" followed by more groups ("0049 30 1234567");
 *    NANP 3-3-4 with an optional leading 1, in any punctuation or with
 *    the area code in parentheses ("(800) 555-1234", "1-800-555-1234",
 *    "800.555.1234"); and, when default_cc is not NANP, national numbers
 *    with a trunk 0 in two or more groups ("020 7946 0958", "(030)
 *    1234567").  A bare digit run ("8005551234", "123456789012") needs a
 *    phone word, and so does every other grouping (4-4-4, 5-4 ZIP+4).
 * 4. Sanity, in rules_phone_normalise for lists and text alike: 8 to 15
 *    digits with the country code (E.164), NANP numbers 10 digits with
 *    area code and exchange not starting with 0 or 1, and no date shape
 *    (2024-05-01, 01/05/2024, 12.05.2024), dotted quad (192.168.1.1) or
 *    decimal (22654.41818).
 *
 * Runs hold more than one number at times, or a number and the text
 * after it.  Last groups in parentheses after a space are a note ("+34
 * 93 645 29 08 (2143)", "... 0958 (24/7)") and are left out.  A spaced
 * dash or a slash ("... 1234 - 24/7", "1234/24h") may end a number, and
 * words may follow it after '-', '/', ':' or ',' ("1234/day") or start
 * a sentence after '.' ("1234.Open").  An international number may end
 * at any group where its length fits its country's plan (ph_plans:
 * "+44 20 7946 0958 24/7" is the UK number and "24/7").  This is our
 * own reading, not libphonenumber's (Debian 8.12): measured with
 * callgrind, its PhoneNumberMatcher spends about 116M instructions per
 * corpus message where all of imapsift classify spends 0.55M, its
 * metadata load 40M per process, and Parse plus IsValidNumber 210K per
 * candidate, besides adding C++, protobuf and ICU, for what a length
 * table and the split points above decide.
 * When a whole run fails, its first groups up to a plain space are tried
 * alone if they have no space inside ("800-555-1234 800-555-9999"), and
 * otherwise scanning resumes at its last such groups ("PA 19104
 * 215-828-5000").
 */
#include <stdint.h>
#include <string.h>

#include "rules/rules-private.h"

#define PH_GROUPS	8	/* digit groups read in one run */
#define PH_DIGITS	24	/* digits read in one run */
#define PH_LOOKBACK	48	/* bytes searched for context words */
#define PH_WORDS	3	/* words searched for context */
#define PH_E164_MIN	8
#define PH_E164_MAX	15

/* What joins a digit group to the one before it. */
enum ph_sep {
	SEP_NONE,
	SEP_SPACE,
	SEP_PUNCT,	/* '-', '.', '/' or a Unicode dash */
	SEP_OPEN,	/* '(' */
	SEP_CLOSE	/* ')' */
};

struct ph_run {
	const char *start, *end;
	const char *gend[PH_GROUPS];	/* end of each group's digits */
	unsigned char glen[PH_GROUPS];
	unsigned char gsep[PH_GROUPS];	/* enum ph_sep before each group */
	char	 gpunct[PH_GROUPS];	/* the '-', '.' or '/' if any */
	unsigned char gparen[PH_GROUPS];	/* group inside parentheses */
	unsigned char gwide[PH_GROUPS];	/* a spaced " - " or a '/' before */
	unsigned ngroups, ndigits;
	int	 plus;			/* starts with '+' */
	int	 cut;			/* the run went on past the limits */
};

enum ph_ctx {
	CTX_NONE,
	CTX_PHONE,
	CTX_NOT
};

/* ------------------------------------------------------------------ */
/* Reading a run                                                       */

/* Length of a space at p: ASCII space, NBSP, thin or narrow NBSP. */
static size_t
ph_space(const char *p, const char *end)
{
	const unsigned char *s = (const unsigned char *)p;

	if (p >= end)
		return 0;
	if (s[0] == ' ')
		return 1;
	if (end - p >= 2 && s[0] == 0xc2 && s[1] == 0xa0)
		return 2;
	if (end - p >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] == 0x89 || s[2] == 0xaf))
		return 3;
	return 0;
}

/* Length of a punctuation separator at p: '-', '.', '/', U+2010-U+2015
 * or U+2212; the ASCII form goes to *c_r ('-' for the dashes). */
static size_t
ph_punct(const char *p, const char *end, char *c_r)
{
	const unsigned char *s = (const unsigned char *)p;

	if (p >= end)
		return 0;
	if (s[0] == '-' || s[0] == '.' || s[0] == '/') {
		*c_r = (char)s[0];
		return 1;
	}
	if (end - p >= 3 && s[0] == 0xe2 && ((s[1] == 0x80 && s[2] >= 0x90 &&
	    s[2] <= 0x95) || (s[1] == 0x88 && s[2] == 0x92))) {
		*c_r = '-';
		return 3;
	}
	return 0;
}

/* Reads the separator after a group: [')'] [space] [punct [space]]
 * ['(']; returns where the next group starts (p when there is none). */
static const char *
ph_sep(const char *p, const char *end, int *open, unsigned char *sep,
    char *punct, unsigned char *wide)
{
	const char *q = p;
	size_t n;

	*sep = SEP_NONE;
	*punct = 0;
	*wide = 0;
	if (*open && q < end && *q == ')') {
		*open = 0;
		*sep = SEP_CLOSE;
		q++;
	}
	n = ph_space(q, end);
	if (n > 0 && *sep == SEP_NONE)
		*sep = SEP_SPACE;
	q += n;
	n = ph_punct(q, end, punct);
	if (n > 0) {
		*wide = *sep == SEP_SPACE || *punct == '/';
		*sep = SEP_PUNCT;
		q += n;
		q += ph_space(q, end);
	}
	if (!*open && q < end && *q == '(') {
		*open = 1;
		if (*sep != SEP_PUNCT)
			*sep = SEP_OPEN;
		q++;
	}
	if (q == p || q >= end || !rules_is_digit((unsigned char)*q))
		return p;
	return q;
}

/* Reads the phone-shaped run at p; -1 when there is no digit group. */
static int
ph_parse(const char *p, const char *end, struct ph_run *r)
{
	const char *q;
	unsigned i;
	unsigned char sep = SEP_NONE, wide = 0;
	char punct = 0;
	int open = 0;

	memset(r, 0, sizeof(*r));
	r->start = p;
	if (p < end && *p == '(') {
		open = 1;
		p++;
	}
	if (p < end && *p == '+') {
		r->plus = 1;
		p++;
	}
	while (p < end && rules_is_digit((unsigned char)*p)) {
		for (q = p; q < end && rules_is_digit((unsigned char)*q); q++)
			if (r->ndigits + (unsigned)(q - p) == PH_DIGITS)
				break;
		r->gend[r->ngroups] = q;
		r->glen[r->ngroups] = (unsigned char)(q - p);
		r->gsep[r->ngroups] = sep;
		r->gpunct[r->ngroups] = punct;
		r->gparen[r->ngroups] = (unsigned char)open;
		r->gwide[r->ngroups] = wide;
		r->ngroups++;
		r->ndigits += (unsigned)(q - p);
		r->end = q;
		if (open && q < end && *q == ')')
			r->end = q + 1;
		p = ph_sep(q, end, &open, &sep, &punct, &wide);
		if (p != q && (r->ngroups == PH_GROUPS ||
		    r->ndigits == PH_DIGITS)) {
			r->cut = 1;
			break;
		}
		if (p == q) {
			r->cut = q < end && rules_is_digit((unsigned char)*q);
			break;
		}
	}
	/* Last groups in parentheses opened after a space are a note:
	 * "... 29 08 (2143)", "... 0958 (24/7)". */
	for (i = r->ngroups; i > 1 && !r->cut && r->gparen[i - 1]; i--) {
		if (r->gsep[i - 1] != SEP_OPEN)
			continue;
		while (r->ngroups >= i) {
			r->ngroups--;
			r->ndigits -= r->glen[r->ngroups];
		}
		r->end = r->gend[r->ngroups - 1];
		break;
	}
	return r->ngroups > 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* From a run to digits                                                */

/* A NANP national number: area code and exchange start with 2-9, and
 * the area code is not an N11 service code. */
static int
nanp_ok(const char *s)
{
	return s[0] >= '2' && !(s[1] == '1' && s[2] == '1') && s[3] >= '2';
}

/* A date (2024-05-01, 01/05/2024, 12.05.2024, optionally followed by a
 * time), a dotted quad (192.168.1.1) or a decimal (22654.41818) is never
 * a phone number. */
static int
ph_date_or_ip(const struct ph_run *r)
{
	const unsigned char *l = r->glen;
	unsigned i;

	if (!r->plus && r->ngroups == 2 && r->gpunct[1] == '.')
		return 1;
	if (r->plus || r->ngroups < 3 || r->gsep[1] != SEP_PUNCT ||
	    r->gsep[2] != SEP_PUNCT || r->gpunct[1] != r->gpunct[2])
		return 0;
	if ((r->ngroups == 3 || r->gsep[3] == SEP_SPACE) &&
	    ((l[0] == 4 && l[1] <= 2 && l[2] <= 2) ||
	    (l[0] <= 2 && l[1] <= 2 && (l[2] == 2 || l[2] == 4))))
		return 1;
	if (r->ngroups != 4 || r->gpunct[1] != '.')
		return 0;
	for (i = 0; i < 4; i++)
		if (l[i] > 3 || (i > 0 && r->gpunct[i] != '.'))
			return 0;
	return 1;
}

/* Writes cc (0 for none) and n digits of s as one string if the total
 * is a plausible E.164 length. */
static int
ph_write(unsigned cc, const char *s, size_t n, char *out, size_t outsz)
{
	char ccs[4];
	size_t c = 0;

	if (cc >= 100)
		ccs[c++] = (char)('0' + cc / 100);
	if (cc >= 10)
		ccs[c++] = (char)('0' + cc / 10 % 10);
	if (cc > 0)
		ccs[c++] = (char)('0' + cc % 10);
	if (c + n < PH_E164_MIN || c + n > PH_E164_MAX || c + n >= outsz)
		return -1;
	memcpy(out, ccs, c);
	memcpy(out + c, s, n);
	out[c + n] = '\0';
	return 0;
}

/* International digits (after '+', "00" or NANP's "011"). */
static int
ph_intl(const char *s, size_t n, char *out, size_t outsz)
{
	if (n == 0 || s[0] == '0')
		return -1;
	if (s[0] == '1' && (n != 11 || !nanp_ok(s + 1)))
		return -1;
	return ph_write(0, s, n, out, outsz);
}

/*
 * National digits get default_cc.  NANP wants 10 digits (11 with the
 * trunk 1).  Elsewhere one trunk 0 is dropped, except in Italy where it
 * is dialled from abroad too.  A number written with NANP's trunk 1 as
 * a group of its own ("1-800-555-1234") is NANP whatever default_cc says.
 */
static int
ph_national(const char *s, size_t n, unsigned cc, int one, char *out,
    size_t outsz)
{
	if (cc == 0 || cc > 999 || n == 0)
		return -1;
	if (n == 11 && s[0] == '1' && (one || cc == 1) && nanp_ok(s + 1))
		return ph_write(1, s + 1, 10, out, outsz);
	if (cc == 1)
		return n == 10 && nanp_ok(s) ? ph_write(1, s, n, out, outsz) :
		    -1;
	if (cc != 39) {
		if (s[0] == '0') {
			s++;
			n--;
		}
		if (n == 0 || s[0] == '0')
			return -1;
	}
	return ph_write(cc, s, n, out, outsz);
}

/* The run's digits, country code first, or -1 (rule 4 above). */
static int
ph_number(const struct ph_run *r, unsigned cc, char *out, size_t outsz)
{
	char d[PH_DIGITS];
	const char *g0 = r->gend[0] - r->glen[0];
	size_t n = 0, i;
	int i00;

	if (ph_date_or_ip(r))
		return -1;
	i00 = !r->plus && r->glen[0] >= 2 && g0[0] == '0' && g0[1] == '0';
	for (i = 0; i < r->ngroups; i++) {
		/* "+44 (0)20 ...": the trunk 0 is not dialled from abroad */
		if ((r->plus || i00) && i > 0 && r->gparen[i] &&
		    r->glen[i] == 1 && r->gend[i][-1] == '0')
			continue;
		memcpy(d + n, r->gend[i] - r->glen[i], r->glen[i]);
		n += r->glen[i];
	}
	if (r->plus)
		return ph_intl(d, n, out, outsz);
	if (i00)
		return ph_intl(d + 2, n - 2, out, outsz);
	if (cc == 1 && n > 3 && memcmp(d, "011", 3) == 0)
		return ph_intl(d + 3, n - 3, out, outsz);
	return ph_national(d, n, cc, r->glen[0] == 1 && r->ngroups > 1, out,
	    outsz);
}

/* Matches the lowercase ASCII word w at p, case-insensitively. */
static int
match_ci(const char *p, const char *end, const char *w)
{
	for (; *w != '\0'; w++, p++)
		if (p >= end || (*p | 0x20) != *w)
			return 0;
	return 1;
}

static const char *const ph_schemes[] = { "tel://", "callto://", "tel:",
    "fax:", "callto:", "telprompt:", "sms:" };

int
rules_phone_normalise(const char *in, size_t len, unsigned default_cc,
    char *out, size_t outsz)
{
	const char *p, *end, *q;
	struct ph_run r;
	size_t i;

	if (in == NULL || out == NULL)
		return -1;
	p = in;
	end = in + len;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		end--;
	for (i = 0; i < sizeof(ph_schemes) / sizeof(ph_schemes[0]); i++) {
		if (!match_ci(p, end, ph_schemes[i]))
			continue;
		p += strlen(ph_schemes[i]);
		/* tel: URI parameters (";ext=", ";phone-context=") */
		for (q = p; q < end && *q != ';' && *q != '?'; q++)
			continue;
		end = q;
		break;
	}
	if (ph_parse(p, end, &r) == -1 || r.cut || r.end != end)
		return -1;
	return ph_number(&r, default_cc, out, outsz);
}

/* ------------------------------------------------------------------ */
/* Context words                                                       */

/*
 * Context words (rule 2), lowercase, each between spaces.  "no", "nr"
 * and "number" are in neither list: they are skipped, so "fax no." is a
 * phone and "order no." is not.  One-letter labels ("T: +44 ...") count
 * only before a ':'.
 */
static const char ph_phone_words[] =
    " call calls calling callto cell cellphone contact dial fax facsimile"
    " freephone handy helpline hotline mob mobil mobile ph phone phones"
    " reach ring sms tel telefax telefon telefone telefono telephone"
    " telprompt tfn tlf toll tollfree voice whatsapp t\xc3\xa9l"
    " t\xc3\xa9l\xc3\xa9phone \xd1\x82\xd0\xb5\xd0\xbb ";
static const char ph_not_words[] =
    " account acct amount application awb balance batch bic booking build"
    " bug card case claim code confirmation contract cost cve cvv date"
    " dated ean eur euro euros gbp iban id ids imei inv invoice isbn issn"
    " issue item kb loan lot order orders otp parcel passcode password"
    " patch pid pin po policy postcode price receipt record ref reference"
    " reg registration reservation rev revision routing serial shipment"
    " sku sn ssn swift tax ticket total track tracking transaction txn uid"
    " upc usd vat ver version waybill zip ";

static enum ph_ctx
ph_word(const char *w, size_t n, char next)
{
	char buf[20];
	size_t i;

	if (n == 0 || n + 2 >= sizeof(buf))
		return CTX_NONE;
	buf[0] = ' ';
	for (i = 0; i < n; i++)
		buf[i + 1] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] + 32 :
		    w[i]);
	buf[n + 1] = ' ';
	buf[n + 2] = '\0';
	if (n == 1)
		return next == ':' && strchr("tfmp", buf[1]) != NULL ?
		    CTX_PHONE : CTX_NONE;
	if (strstr(ph_phone_words, buf) != NULL)
		return CTX_PHONE;
	if (strstr(ph_not_words, buf) != NULL)
		return CTX_NOT;
	return CTX_NONE;
}

/* Does a no-break space end at q? */
static int
ph_nbsp(const char *q, const char *lim)
{
	return q - lim >= 2 && (unsigned char)q[-1] == 0xa0 &&
	    (unsigned char)q[-2] == 0xc2;
}

/* A context word is letters and any non-ASCII bytes but an NBSP. */
static int
ph_wordbyte(const char *q, const char *lim)
{
	unsigned char c = (unsigned char)q[-1];

	return !ph_nbsp(q, lim) && (rules_is_alpha(c) || c >= 0x80);
}

/* The nearest keyword among the few words before start (rule 2). */
static enum ph_ctx
ph_context(const char *text, const char *start)
{
	const char *lim, *q = start, *e;
	enum ph_ctx c;
	unsigned w;

	lim = start - text > PH_LOOKBACK ? start - PH_LOOKBACK : text;
	for (w = 0; w < PH_WORDS; w++) {
		while (q > lim && !ph_wordbyte(q, lim) &&
		    !rules_is_digit((unsigned char)q[-1])) {
			if (q[-1] == '#' && w == 0)
				return CTX_NOT;
			q -= ph_nbsp(q, lim) ? 2 : 1;
		}
		if (q == lim || rules_is_digit((unsigned char)q[-1]))
			break;
		e = q;
		while (q > lim && ph_wordbyte(q, lim))
			q--;
		/* A word glued to digits, or cut by the window, is not one. */
		if ((q > lim && rules_is_digit((unsigned char)q[-1])) ||
		    (q == lim && lim > text && ph_wordbyte(q, text)))
			break;
		/* Nor is the end of a host name or path ("upd.edu.ph"). */
		if (q - lim >= 2 && strchr(".@-_", q[-1]) != NULL &&
		    rules_is_alnum((unsigned char)q[-2]))
			continue;
		c = ph_word(q, (size_t)(e - q), e < start ? *e : '\0');
		if (c == CTX_PHONE || c == CTX_NOT)
			return c;
	}
	return CTX_NONE;
}

/* ------------------------------------------------------------------ */
/* The scanner                                                         */

/* Is the sequence ending at p a currency sign (£ ¥ €)? */
static int
ph_currency_before(const char *text, const char *p)
{
	const unsigned char *s = (const unsigned char *)p;

	if (p - text >= 2 && s[-2] == 0xc2 && (s[-1] == 0xa3 || s[-1] == 0xa5))
		return 1;
	return p - text >= 3 && s[-3] == 0xe2 && s[-2] == 0x82 &&
	    s[-1] == 0xac;
}

/* Glue on the left (rule 1): -1 never a phone, 1 glued to a word (only
 * a phone word may be), 2 after a currency sign (only a number with
 * dashes or parentheses, which prices never have, may be), 0 free. */
static int
ph_before(const char *text, const char *p)
{
	unsigned char pb, ppb;

	if (p == text)
		return 0;
	pb = (unsigned char)p[-1];
	if (pb == '#' || (pb == ' ' && p - text >= 2 && p[-2] == '#'))
		return -1;
	if (pb == '$' || ph_currency_before(text, p) || (pb == ' ' &&
	    p - text >= 2 && (p[-2] == '$' || ph_currency_before(text,
	    p - 1))))
		return 2;
	if (pb == 0 || strchr("-./:,=_&?%@\\+", pb) == NULL || p - text < 2)
		return 0;
	ppb = (unsigned char)p[-2];
	if (rules_is_digit(ppb))
		return -1;
	if (!rules_is_alpha(ppb))
		return 0;
	return pb == ':' || pb == '.' || pb == '=' || pb == '-' ? 1 : -1;
}

/* Glue on the right (rule 1). */
static int
ph_after(const char *p, const char *end)
{
	unsigned char c, d;
	const char *q;

	if (p >= end)
		return 1;
	c = (unsigned char)p[0];
	d = p + 1 < end ? (unsigned char)p[1] : 0;
	if (rules_is_digit(c) || c == '_' || c == '%')
		return 0;
	if (rules_is_alpha(c))
		return (c | 0x20) == 'x' && rules_is_digit(d);	/* extension */
	/* Words run on: "...1234/day", "...1234-ask for", "...1234:Mon" */
	if (c != 0 && strchr("-/:,", c) != NULL && rules_is_alpha(d))
		return 1;
	if (c != 0 && strchr("-/:,=&@\\+", c) != NULL && rules_is_alnum(d))
		return 0;
	/* A sentence goes on ("...1234.Open"); a host name or a decimal
	 * does not end there ("...1234.com", "...1234.COM", "12.5"). */
	if (c == '.' && rules_is_alnum(d))
		return d >= 'A' && d <= 'Z' && p + 2 < end &&
		    p[2] >= 'a' && p[2] <= 'z';
	/* a currency after it: "1 234 567 EUR", "800 555 1234€" */
	q = p + ph_space(p, end);
	if (end - q >= 3 && memcmp(q, "\xe2\x82\xac", 3) == 0)
		return 0;
	if (!match_ci(q, end, "eur") && !match_ci(q, end, "usd") &&
	    !match_ci(q, end, "gbp"))
		return 1;
	return q + 3 < end && rules_is_alpha((unsigned char)q[3]);
}

/* Does the grouping alone say "phone" (rule 3)? */
static int
ph_shape(const struct ph_run *r, unsigned cc)
{
	const unsigned char *l = r->glen;
	const char *g0 = r->gend[0] - l[0];
	unsigned i = 0;

	if (r->plus)
		return 1;
	if (l[0] >= 2 && g0[0] == '0' && g0[1] == '0')
		return r->ngroups >= 2;
	if (l[0] == 1 && g0[0] == '1' && r->ngroups == 4)
		i = 1;
	if (r->ngroups == i + 3 && l[i] == 3 && l[i + 1] == 3 && l[i + 2] == 4)
		return 1;
	if (cc == 1 || g0[0] != '0' || r->ngroups < 2 || l[0] < 2 ||
	    l[0] > 5 || r->ndigits < 9 || r->ndigits > 12)
		return 0;
	for (i = 1; i < r->ngroups; i++)
		if (l[i] < 2)
			return 0;
	return 1;
}

/* May the first k groups be tried alone?  Only where a plain space (or
 * '(') follows groups joined without spaces: two numbers side by side. */
static int
ph_split_ok(const struct ph_run *r, unsigned k)
{
	unsigned i;

	if (r->gwide[k])
		return 1;	/* "... 1234 - 24/7", "... 1234/24h" */
	if (r->plus && k >= 2)
		return 1;	/* ph_intl_len decides (see ph_try) */
	if (r->gsep[k] != SEP_SPACE && r->gsep[k] != SEP_OPEN)
		return 0;
	for (i = 1; i < k; i++)
		if (r->gsep[i] == SEP_SPACE)
			return 0;
	return 1;
}

/* Does the run have a dash or parentheses? */
static int
ph_dashed(const struct ph_run *r)
{
	unsigned i;

	for (i = 0; i < r->ngroups; i++)
		if (r->gparen[i] || r->gpunct[i] == '-')
			return 1;
	return 0;
}

/* Where the last groups, after a plain space (or '('), are joined
 * without spaces ("19104 215-828-5000"), the start of those groups so
 * that they are tried alone; else NULL. */
static const char *
ph_suffix(const struct ph_run *r)
{
	unsigned j, i;

	for (j = 1; j + 1 < r->ngroups; j++) {
		if (r->gsep[j] != SEP_SPACE && r->gsep[j] != SEP_OPEN)
			continue;
		for (i = j + 1; i < r->ngroups; i++)
			if (r->gsep[i] == SEP_SPACE)
				break;
		if (i == r->ngroups)
			return r->gend[j] - r->glen[j] -
			    (r->gsep[j] == SEP_OPEN);
	}
	return NULL;
}

/*
 * The national significant number's length, min and max, of countries
 * whose plan fixes it (ITU-T E.164 national plans; mobile numbers
 * included), by country code.  Text after an international number
 * often starts with digits ("+44 20 7946 0958 24/7"), and only the
 * length tells where the number ends; countries with open plans (DE,
 * AT, CN...) are not listed and keep E.164's 15 digits.
 */
static const struct ph_plan {
	unsigned short cc;
	unsigned char min, max;
} ph_plans[] = {
	{ 1, 10, 10 }, { 7, 10, 10 }, { 20, 8, 10 }, { 27, 9, 9 },
	{ 30, 10, 10 }, { 31, 9, 9 }, { 32, 8, 9 }, { 33, 9, 9 },
	{ 34, 9, 9 }, { 36, 8, 9 }, { 39, 6, 11 }, { 40, 9, 9 },
	{ 41, 9, 9 }, { 44, 7, 10 }, { 45, 8, 8 }, { 46, 7, 10 },
	{ 47, 8, 8 }, { 48, 9, 9 }, { 51, 8, 9 }, { 52, 10, 10 },
	{ 54, 10, 11 }, { 55, 10, 11 }, { 56, 9, 9 }, { 57, 10, 10 },
	{ 58, 10, 10 }, { 60, 8, 10 }, { 61, 9, 9 }, { 63, 8, 10 },
	{ 64, 8, 10 }, { 65, 8, 8 }, { 66, 8, 9 }, { 81, 9, 10 },
	{ 82, 8, 10 }, { 84, 9, 10 }, { 90, 10, 10 }, { 91, 10, 10 },
	{ 92, 9, 10 }, { 351, 9, 9 }, { 353, 7, 9 }, { 420, 9, 9 },
	{ 421, 9, 9 }, { 852, 8, 8 }, { 886, 8, 9 }, { 966, 9, 9 },
	{ 971, 8, 9 }, { 972, 8, 9 }
};

/* Does the length of digits (country code first) fit its country's
 * plan?  1 for a country not in ph_plans. */
static int
ph_intl_len(const char *digits)
{
	size_t n = strlen(digits), i, k;
	unsigned cc = 0;

	for (k = 1; k <= 3 && k < n; k++) {
		cc = cc * 10 + (unsigned)(digits[k - 1] - '0');
		for (i = 0; i < sizeof(ph_plans) / sizeof(ph_plans[0]); i++)
			if (ph_plans[i].cc == cc)
				return n - k >= ph_plans[i].min &&
				    n - k <= ph_plans[i].max;
	}
	return 1;
}

/* Is the run, cut to its first k groups, a phone number? */
static int
ph_try(struct ph_run *r, unsigned k, enum ph_ctx c, const char *end,
    unsigned cc, char *digits)
{
	int wide = k < r->ngroups && r->gwide[k];

	if (k < r->ngroups) {
		while (r->ngroups > k) {
			r->ngroups--;
			r->ndigits -= r->glen[r->ngroups];
		}
		r->end = r->gend[k - 1];
		if (r->gparen[k - 1] && r->end < end && *r->end == ')')
			r->end++;
		r->cut = 0;
	}
	if (r->cut || (!wide && !ph_after(r->end, end)))
		return 0;
	if (ph_number(r, cc, digits, RULES_PHONE_MAX) == -1)
		return 0;
	if (r->plus && !ph_intl_len(digits))
		return 0;
	return c == CTX_PHONE || ph_shape(r, cc);
}

/* Where the number as written starts: before a tel:-like scheme. */
static const char *
ph_orig(const char *text, const char *p)
{
	size_t i, n;

	for (i = 0; i < sizeof(ph_schemes) / sizeof(ph_schemes[0]); i++) {
		n = strlen(ph_schemes[i]);
		if ((size_t)(p - text) >= n &&
		    match_ci(p - n, p, ph_schemes[i]) &&
		    (p - n == text || !rules_is_alnum((unsigned char)(p - n)[-1])))
			return p - n;
	}
	return p;
}

/* Judges the run at p, reports it if it is a number; returns where to
 * go on scanning. */
static const char *
ph_candidate(const char *text, const char *p, const char *end,
    unsigned cc, void (*fn)(void *, const char *, const char *, size_t),
    void *ctx)
{
	struct ph_run all, r;
	char digits[RULES_PHONE_MAX];
	const char *o;
	enum ph_ctx c;
	unsigned k;
	int glued;

	if (ph_parse(p, end, &all) == -1)
		return p + 1;
	if (all.ndigits < 7)
		return all.end;
	glued = ph_before(text, p);
	if (glued == -1 || (glued == 2 && !ph_dashed(&all)))
		return all.end;
	c = ph_context(text, p);
	if (c == CTX_NOT || (glued == 1 && c != CTX_PHONE))
		return all.end;
	r = all;
	for (k = all.ngroups; k > 0; k--) {
		if (k < all.ngroups && !ph_split_ok(&all, k))
			continue;
		if (ph_try(&r, k, c, end, cc, digits)) {
			o = ph_orig(text, p);
			fn(ctx, digits, o, (size_t)(r.end - o));
			return r.end;
		}
	}
	o = ph_suffix(&all);
	return o != NULL ? o : all.end;
}

#define LOWS	0x7f7f7f7f7f7f7f7fULL

/*
 * The first digit at or after p, or end.  Most text has few digits, so
 * eight bytes are tested at a time: a byte's low seven bits l get the
 * high bit of l + (0x80 - '0') when l >= '0' and that of ('9' + 0x80) - l
 * when l <= '9', neither carrying into the next byte; a byte with its
 * own high bit set is not a digit.
 */
static const char *
ph_next_digit(const char *p, const char *end)
{
	uint64_t w, l;

	while (end - p >= 8) {
		memcpy(&w, p, sizeof(w));
		l = w & LOWS;
		if (((l + RULES_ONES * (0x80 - '0')) &
		    (RULES_ONES * ('9' + 0x80) - l) & ~w & RULES_HIGHS) != 0)
			break;
		p += 8;
	}
	while (p < end && !rules_is_digit((unsigned char)*p))
		p++;
	return p;
}

/* Does a run start at p: a digit, or '+' or '(' before a digit or '+',
 * at a word start? */
static int
ph_start(const char *text, const char *p, const char *end)
{
	unsigned char c = (unsigned char)*p;
	unsigned char d = p + 1 < end ? (unsigned char)p[1] : 0;

	return (rules_is_digit(c) || ((c == '+' || c == '(') &&
	    (rules_is_digit(d) || d == '+'))) &&
	    (p == text || !(rules_is_alnum((unsigned char)p[-1]) || p[-1] == '_'));
}

/*
 * Every run has a digit within its first three bytes ("(+44"), and a
 * start with none there reads no digit group and changes nothing, so the
 * scan goes from digit to digit and tries the two bytes before each.
 */
void
rules_find_phones(const char *text, size_t len, unsigned default_cc,
    void (*fn)(void *ctx, const char *digits, const char *orig,
    size_t olen), void *ctx)
{
	const char *p, *q, *s, *end;

	if (text == NULL || fn == NULL)
		return;
	p = text;
	end = text + len;
	while (p < end) {
		q = ph_next_digit(p, end);
		if (q == end)
			break;
		for (s = q - p > 2 ? q - 2 : p; s < q; s++)
			if (ph_start(text, s, end))
				break;
		if (s < q || ph_start(text, q, end)) {
			p = ph_candidate(text, s, end, default_cc, fn, ctx);
			continue;
		}
		/* The digit is glued to a word byte, and so is the rest of
		 * its word ("x86", "a1b2"): none starts a run. */
		for (p = q + 1; p < end && (rules_is_alnum((unsigned char)*p) ||
		    *p == '_'); p++)
			continue;
	}
}
