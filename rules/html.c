/*
 * html.c: HTML to the text a reader sees, for the message view.
 *
 * One forward pass over the bytes, no tree and no library: markup is
 * removed, text is copied with its white space collapsed, and the few
 * things that change what a reader sees are handled on the way.
 *
 *  - Comments vanish without leaving white space, so "mon<!-- -->ey"
 *    reads "money"; so do inline elements ("free <b>mon</b>ey").  Block
 *    elements and <br> end the line; table cells leave a space.
 *  - The content of script, style, title, iframe, noembed and noframes is
 *    skipped as raw text up to its end tag; template content is skipped
 *    as long as the element is open (a counter bounded by max_depth is the
 *    only element state kept).  Text inside <head> is dropped, and the
 *    head ends at </head>, <body> or any element that cannot live in a
 *    head, as in a browser.  noscript content is kept: mail readers do
 *    not run scripts, so they show it.
 *  - Character references: the named HTML 4 set plus a few HTML 5 ones,
 *    &#NN; and &#xNN;.  The Latin-1 names and amp/lt/gt/quot also work
 *    without ';' (but not inside an attribute when a letter, digit or '='
 *    follows, so URL queries survive).  NUL, surrogates and values past
 *    U+10FFFF become U+FFFD; 128-159 are read as windows-1252.
 *  - Zero-width characters (U+200B-U+200D, U+2060, U+FEFF) and soft
 *    hyphens disappear; no-break spaces become plain spaces.
 *  - URL-bearing attributes (href, src, action, background, srcset, ...)
 *    and <meta http-equiv=refresh> targets go to the link callback once
 *    their value is complete, even when the tag itself is cut off, with
 *    their rank: an <a> or <area> href or a refresh is where the reader
 *    is sent, a form's action (or formaction) where typed data goes, an
 *    image's src, srcset, lowsrc or dynsrc, a background or a poster
 *    what is shown, anything else an other link.
 *
 * Work is linear in the input: each byte is looked at a bounded number of
 * times whatever the nesting, and a tag, comment or quote left open at the
 * end of the input simply ends the scan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/rules-private.h"

#define HE_BLOCK	0x01	/* ends the line when opened or closed */
#define HE_CELL		0x02	/* leaves a space */
#define HE_RAW		0x04	/* content skipped to the end tag */
#define HE_TEMPLATE	0x08	/* content hidden while open */
#define HE_HEAD		0x10	/* starts the head */
#define HE_BODY		0x20	/* ends the head */
#define HE_INHEAD	0x40	/* may appear in the head */

#define TAG_NAME_MAX	16	/* longer: not an element we know */
#define ENT_NAME_MAX	32	/* longest reference name looked at */
#define ENT_LEGACY_MAX	6	/* longest name allowed without ';' */

struct html_elem {
	const char *name;
	unsigned char kind;
};

/* Sorted by strcmp for bsearch. */
static const struct html_elem elems[] = {
	{"address", HE_BLOCK}, {"article", HE_BLOCK}, {"aside", HE_BLOCK},
	{"base", HE_INHEAD}, {"basefont", HE_INHEAD},
	{"bgsound", HE_INHEAD}, {"blockquote", HE_BLOCK},
	{"body", HE_BODY | HE_BLOCK}, {"br", HE_BLOCK},
	{"caption", HE_BLOCK}, {"center", HE_BLOCK}, {"dd", HE_BLOCK},
	{"details", HE_BLOCK}, {"dialog", HE_BLOCK}, {"dir", HE_BLOCK},
	{"div", HE_BLOCK}, {"dl", HE_BLOCK}, {"dt", HE_BLOCK},
	{"fieldset", HE_BLOCK}, {"figcaption", HE_BLOCK},
	{"figure", HE_BLOCK}, {"footer", HE_BLOCK}, {"form", HE_BLOCK},
	{"h1", HE_BLOCK}, {"h2", HE_BLOCK}, {"h3", HE_BLOCK},
	{"h4", HE_BLOCK}, {"h5", HE_BLOCK}, {"h6", HE_BLOCK},
	{"head", HE_HEAD | HE_INHEAD}, {"header", HE_BLOCK},
	{"hr", HE_BLOCK}, {"html", HE_INHEAD}, {"iframe", HE_RAW},
	{"legend", HE_BLOCK}, {"li", HE_BLOCK}, {"link", HE_INHEAD},
	{"listing", HE_BLOCK}, {"main", HE_BLOCK}, {"menu", HE_BLOCK},
	{"meta", HE_INHEAD}, {"nav", HE_BLOCK}, {"noembed", HE_RAW},
	{"noframes", HE_RAW | HE_INHEAD}, {"noscript", HE_INHEAD},
	{"ol", HE_BLOCK}, {"option", HE_BLOCK}, {"p", HE_BLOCK},
	{"pre", HE_BLOCK}, {"script", HE_RAW | HE_INHEAD},
	{"section", HE_BLOCK}, {"style", HE_RAW | HE_INHEAD},
	{"summary", HE_BLOCK}, {"table", HE_BLOCK}, {"tbody", HE_BLOCK},
	{"td", HE_CELL}, {"template", HE_TEMPLATE | HE_INHEAD},
	{"tfoot", HE_BLOCK}, {"th", HE_CELL}, {"thead", HE_BLOCK},
	{"title", HE_RAW | HE_INHEAD}, {"tr", HE_BLOCK}, {"ul", HE_BLOCK}
};

struct html_ent {
	const char *name;
	uint32_t cp;
};

/* Sorted by strcmp for bsearch. */
static const struct html_ent ents[] = {
	{"AElig", 198}, {"AMP", 38}, {"Aacute", 193}, {"Acirc", 194},
	{"Agrave", 192}, {"Alpha", 913}, {"Aring", 197}, {"Atilde", 195},
	{"Auml", 196}, {"Beta", 914}, {"COPY", 169}, {"Ccedil", 199},
	{"Chi", 935}, {"Dagger", 8225}, {"Delta", 916}, {"ETH", 208},
	{"Eacute", 201}, {"Ecirc", 202}, {"Egrave", 200}, {"Epsilon", 917},
	{"Eta", 919}, {"Euml", 203}, {"GT", 62}, {"Gamma", 915},
	{"Iacute", 205}, {"Icirc", 206}, {"Igrave", 204}, {"Iota", 921},
	{"Iuml", 207}, {"Kappa", 922}, {"LT", 60}, {"Lambda", 923},
	{"Mu", 924}, {"NewLine", 10}, {"NoBreak", 8288}, {"Ntilde", 209},
	{"Nu", 925}, {"OElig", 338}, {"Oacute", 211}, {"Ocirc", 212},
	{"Ograve", 210}, {"Omega", 937}, {"Omicron", 927}, {"Oslash", 216},
	{"Otilde", 213}, {"Ouml", 214}, {"Phi", 934}, {"Pi", 928},
	{"Prime", 8243}, {"Psi", 936}, {"QUOT", 34}, {"REG", 174},
	{"Rho", 929}, {"Scaron", 352}, {"Sigma", 931}, {"THORN", 222},
	{"Tab", 9}, {"Tau", 932}, {"Theta", 920}, {"Uacute", 218},
	{"Ucirc", 219}, {"Ugrave", 217}, {"Upsilon", 933}, {"Uuml", 220},
	{"Xi", 926}, {"Yacute", 221}, {"Yuml", 376}, {"ZeroWidthSpace", 8203},
	{"Zeta", 918}, {"aacute", 225}, {"acirc", 226}, {"acute", 180},
	{"aelig", 230}, {"agrave", 224}, {"alefsym", 8501}, {"alpha", 945},
	{"amp", 38}, {"and", 8743}, {"ang", 8736}, {"apos", 39},
	{"aring", 229}, {"asymp", 8776}, {"atilde", 227}, {"auml", 228},
	{"bdquo", 8222}, {"beta", 946}, {"brvbar", 166}, {"bull", 8226},
	{"cap", 8745}, {"ccedil", 231}, {"cedil", 184}, {"cent", 162},
	{"chi", 967}, {"circ", 710}, {"clubs", 9827}, {"cong", 8773},
	{"copy", 169}, {"crarr", 8629}, {"cup", 8746}, {"curren", 164},
	{"dArr", 8659}, {"dagger", 8224}, {"darr", 8595}, {"deg", 176},
	{"delta", 948}, {"diams", 9830}, {"divide", 247}, {"eacute", 233},
	{"ecirc", 234}, {"egrave", 232}, {"empty", 8709}, {"emsp", 8195},
	{"ensp", 8194}, {"epsilon", 949}, {"equiv", 8801}, {"eta", 951},
	{"eth", 240}, {"euml", 235}, {"euro", 8364}, {"exist", 8707},
	{"fnof", 402}, {"forall", 8704}, {"frac12", 189}, {"frac14", 188},
	{"frac34", 190}, {"frasl", 8260}, {"gamma", 947}, {"ge", 8805},
	{"gt", 62}, {"hArr", 8660}, {"harr", 8596}, {"hearts", 9829},
	{"hellip", 8230}, {"iacute", 237}, {"icirc", 238}, {"iexcl", 161},
	{"igrave", 236}, {"image", 8465}, {"infin", 8734}, {"int", 8747},
	{"iota", 953}, {"iquest", 191}, {"isin", 8712}, {"iuml", 239},
	{"kappa", 954}, {"lArr", 8656}, {"lambda", 955}, {"lang", 9001},
	{"laquo", 171}, {"larr", 8592}, {"lceil", 8968}, {"ldquo", 8220},
	{"le", 8804}, {"lfloor", 8970}, {"lowast", 8727}, {"loz", 9674},
	{"lrm", 8206}, {"lsaquo", 8249}, {"lsquo", 8216}, {"lt", 60},
	{"macr", 175}, {"mdash", 8212}, {"micro", 181}, {"middot", 183},
	{"minus", 8722}, {"mu", 956}, {"nabla", 8711}, {"nbsp", 160},
	{"ndash", 8211}, {"ne", 8800}, {"ni", 8715}, {"not", 172},
	{"notin", 8713}, {"nsub", 8836}, {"ntilde", 241}, {"nu", 957},
	{"oacute", 243}, {"ocirc", 244}, {"oelig", 339}, {"ograve", 242},
	{"oline", 8254}, {"omega", 969}, {"omicron", 959}, {"oplus", 8853},
	{"or", 8744}, {"ordf", 170}, {"ordm", 186}, {"oslash", 248},
	{"otilde", 245}, {"otimes", 8855}, {"ouml", 246}, {"para", 182},
	{"part", 8706}, {"permil", 8240}, {"perp", 8869}, {"phi", 966},
	{"pi", 960}, {"piv", 982}, {"plusmn", 177}, {"pound", 163},
	{"prime", 8242}, {"prod", 8719}, {"prop", 8733}, {"psi", 968},
	{"quot", 34}, {"rArr", 8658}, {"radic", 8730}, {"rang", 9002},
	{"raquo", 187}, {"rarr", 8594}, {"rceil", 8969}, {"rdquo", 8221},
	{"real", 8476}, {"reg", 174}, {"rfloor", 8971}, {"rho", 961},
	{"rlm", 8207}, {"rsaquo", 8250}, {"rsquo", 8217}, {"sbquo", 8218},
	{"scaron", 353}, {"sdot", 8901}, {"sect", 167}, {"shy", 173},
	{"sigma", 963}, {"sigmaf", 962}, {"sim", 8764}, {"spades", 9824},
	{"sub", 8834}, {"sube", 8838}, {"sum", 8721}, {"sup", 8835},
	{"sup1", 185}, {"sup2", 178}, {"sup3", 179}, {"supe", 8839},
	{"szlig", 223}, {"tau", 964}, {"there4", 8756}, {"theta", 952},
	{"thetasym", 977}, {"thinsp", 8201}, {"thorn", 254}, {"tilde", 732},
	{"times", 215}, {"trade", 8482}, {"uArr", 8657}, {"uacute", 250},
	{"uarr", 8593}, {"ucirc", 251}, {"ugrave", 249}, {"uml", 168},
	{"upsih", 978}, {"upsilon", 965}, {"uuml", 252}, {"weierp", 8472},
	{"xi", 958}, {"yacute", 253}, {"yen", 165}, {"yuml", 255},
	{"zeta", 950}, {"zwj", 8205}, {"zwnj", 8204}
};

/* windows-1252 for &#128; to &#159; (0: undefined, kept as is). */
static const uint16_t cp1252[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178
};

struct html {
	const unsigned char *s;
	size_t	 n;
	char	*out;		/* rendered text */
	size_t	 len, cap;
	char	*val;		/* decoded attribute value */
	size_t	 vlen, vcap;
	char	*meta;		/* content= of the current <meta> */
	size_t	 mlen, mcap;
	int	 space;		/* a space is owed to the next text */
	int	 oom;
	int	 in_head;
	int	 refresh;	/* this <meta> is http-equiv=refresh */
	unsigned hidden;	/* open <template> elements */
	unsigned max_depth;
	int	 tag;		/* TAG_* of the start tag being read */
	int	 rank;		/* enum rules_link_rank of the link handed */
	void	(*link)(void *, const char *, size_t, int);
	void	*ctx;
};

/* Start tags whose URL attributes rank above the rest. */
enum { TAG_OTHER, TAG_ANCHOR, TAG_FORM, TAG_IMAGE };

/* The TAG_* of element name nm (lowercase). */
static int
tag_class(const char *nm)
{
	if (strcmp(nm, "a") == 0 || strcmp(nm, "area") == 0)
		return TAG_ANCHOR;
	if (strcmp(nm, "form") == 0)
		return TAG_FORM;
	if (strcmp(nm, "img") == 0 || strcmp(nm, "image") == 0)
		return TAG_IMAGE;
	return TAG_OTHER;
}

static int
is_space(unsigned c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int
visible(const struct html *h)
{
	return !h->in_head && h->hidden == 0;
}

/* Makes room for add more bytes (plus a NUL) in *buf. */
static int
grow(struct html *h, char **buf, size_t *cap, size_t len, size_t add)
{
	if (h->oom)
		return -1;
	if (rules_grow_from((void **)buf, cap, len + add + 1, 1, 64) == -1) {
		h->oom = 1;
		return -1;
	}
	return 0;
}

/* Appends text, paying any owed space first. */
static void
out_text(struct html *h, const void *p, size_t n)
{
	if (grow(h, &h->out, &h->cap, h->len, n + 1) == -1)
		return;
	if (h->space && h->len > 0 && h->out[h->len - 1] != '\n')
		h->out[h->len++] = ' ';
	h->space = 0;
	memcpy(h->out + h->len, p, n);
	h->len += n;
}

static void
out_block(struct html *h)
{
	if (!visible(h))
		return;
	h->space = 0;
	if (h->len == 0 || h->out[h->len - 1] == '\n')
		return;
	if (grow(h, &h->out, &h->cap, h->len, 1) == 0)
		h->out[h->len++] = '\n';
}

static size_t
utf8_put(uint32_t cp, unsigned char *b)
{
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (unsigned char)(0xf0 | cp >> 18);
	b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	b[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static int
invisible_cp(uint32_t cp)
{
	return (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 ||
	    cp == 0xfeff || cp == 0xad;
}

/* Writes one decoded character as text. */
static void
out_cp(struct html *h, uint32_t cp)
{
	unsigned char b[4];

	if (!visible(h) || invisible_cp(cp))
		return;
	if (cp == 0xa0 || is_space(cp)) {
		h->space = 1;
		return;
	}
	if (cp < 0x20 || cp == 0x7f)
		return;
	out_text(h, b, utf8_put(cp, b));
}

static int
ent_cmp(const void *key, const void *elem)
{
	const char *k = key;
	const struct html_ent *e = elem;

	return strcmp(k, e->name);
}

/* The code point named by s[0..len), or -1. */
static long
ent_lookup(const unsigned char *s, size_t len)
{
	char name[ENT_NAME_MAX + 1];
	const struct html_ent *e;

	if (len > ENT_NAME_MAX)
		return -1;
	memcpy(name, s, len);
	name[len] = '\0';
	e = bsearch(name, ents, sizeof(ents) / sizeof(ents[0]),
	    sizeof(ents[0]), ent_cmp);
	return e == NULL ? -1 : (long)e->cp;
}

/* Names browsers accept without ';': Latin-1 and amp, lt, gt, quot. */
static int
ent_legacy(long cp)
{
	return (cp >= 0xa0 && cp <= 0xff) || cp == '"' || cp == '&' ||
	    cp == '<' || cp == '>';
}

static uint32_t
num_fix(uint32_t v)
{
	if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0xfffd;
	if (v >= 0x80 && v <= 0x9f && cp1252[v - 0x80] != 0)
		return cp1252[v - 0x80];
	return v;
}

/* &#NN; or &#xNN; at s[i]; ';' optional.  Returns i when there is none. */
static size_t
num_ref(const unsigned char *s, size_t n, size_t i, uint32_t *cp)
{
	size_t j, start;
	uint32_t v;
	int hex, d;

	j = i + 2;
	hex = j < n && (s[j] == 'x' || s[j] == 'X');
	if (hex)
		j++;
	start = j;
	v = 0;
	for (; j < n; j++) {
		d = hex ? rules_hexval(s[j]) :
		    rules_is_digit(s[j]) ? s[j] - '0' : -1;
		if (d < 0)
			break;
		if (v <= 0x10ffff)
			v = v * (hex ? 16 : 10) + (uint32_t)d;
	}
	if (j == start)
		return i;
	if (j < n && s[j] == ';')
		j++;
	*cp = num_fix(v);
	return j;
}

/*
 * Decodes the character reference at s[i] == '&'.  Returns the index
 * after it and sets *cp, or returns i when there is none (the '&' is then
 * literal).  A name without ';' is read as its longest legacy prefix
 * ("&notit;" is "¬it;"), except in attributes before [A-Za-z0-9=].
 */
static size_t
entity(const unsigned char *s, size_t n, size_t i, int attr, uint32_t *cp)
{
	size_t j, k, m;
	long v;

	j = i + 1;
	if (j < n && s[j] == '#')
		return num_ref(s, n, i, cp);
	for (k = j; k < n && k - j < ENT_NAME_MAX && rules_is_alnum(s[k]); k++)
		continue;
	if (k == j)
		return i;
	if (k < n && s[k] == ';') {
		v = ent_lookup(s + j, k - j);
		if (v >= 0) {
			*cp = (uint32_t)v;
			return k + 1;
		}
	}
	m = k - j < ENT_LEGACY_MAX ? k - j : ENT_LEGACY_MAX;
	for (; m >= 2; m--) {
		v = ent_lookup(s + j, m);
		if (v < 0 || !ent_legacy(v))
			continue;
		if (attr && j + m < n && s[j + m] != ';' &&
		    (rules_is_alnum(s[j + m]) || s[j + m] == '='))
			return i;
		*cp = (uint32_t)v;
		return j + m;
	}
	return i;
}

static void
val_put(struct html *h, const void *p, size_t n)
{
	if (grow(h, &h->val, &h->vcap, h->vlen, n) == -1)
		return;
	memcpy(h->val + h->vlen, p, n);
	h->vlen += n;
}

/* Decodes the attribute value s[vs..ve) into h->val. */
static void
attr_decode(struct html *h, size_t vs, size_t ve)
{
	unsigned char b[4];
	uint32_t cp;
	size_t i, j;

	h->vlen = 0;
	for (i = vs; i < ve; i++) {
		if (h->s[i] == '&') {
			j = entity(h->s, ve, i, 1, &cp);
			if (j != i) {
				val_put(h, b, utf8_put(cp, b));
				i = j - 1;
				continue;
			}
		}
		val_put(h, h->s + i, 1);
	}
	val_put(h, "", 0);
	if (h->val != NULL)
		h->val[h->vlen] = '\0';
}

/* Hands a URL to the callback: outer blanks trimmed, tabs and line
 * breaks inside removed (URL parsers drop them too). */
static void
link_out(struct html *h, char *u, size_t len)
{
	size_t i, o;

	while (len > 0 && (unsigned char)u[len - 1] <= ' ')
		len--;
	while (len > 0 && (unsigned char)*u <= ' ') {
		u++;
		len--;
	}
	for (i = o = 0; i < len; i++)
		if (u[i] != '\t' && u[i] != '\n' && u[i] != '\r')
			u[o++] = u[i];
	if (o > 0 && h->link != NULL)
		h->link(h->ctx, u, o, h->rank);
}

/* srcset="a.png 1x, b.png 2x": the URL of each candidate. */
static void
link_srcset(struct html *h, char *v, size_t len)
{
	size_t i, start;

	i = 0;
	while (i < len) {
		while (i < len &&
		    (is_space((unsigned char)v[i]) || v[i] == ','))
			i++;
		start = i;
		while (i < len && !is_space((unsigned char)v[i]))
			i++;
		if (i > start && v[i - 1] == ',')
			link_out(h, v + start, i - start - 1);
		else if (i > start)
			link_out(h, v + start, i - start);
		while (i < len && v[i] != ',')
			i++;
	}
}

/* <meta http-equiv=refresh content="5; url='https://...'">. */
static void
link_refresh(struct html *h, char *v, size_t len)
{
	size_t i, end;

	i = 0;
	while (i < len && (is_space((unsigned char)v[i]) ||
	    (v[i] >= '0' && v[i] <= '9') || v[i] == '.'))
		i++;
	while (i < len && (is_space((unsigned char)v[i]) || v[i] == ';' ||
	    v[i] == ','))
		i++;
	if (len - i >= 3 && strncasecmp(v + i, "url", 3) == 0) {
		end = i + 3;
		while (end < len && is_space((unsigned char)v[end]))
			end++;
		if (end < len && v[end] == '=')
			i = end + 1;
	}
	while (i < len && is_space((unsigned char)v[i]))
		i++;
	end = len;
	if (i < len && (v[i] == '\'' || v[i] == '"')) {
		for (end = i + 1; end < len && v[end] != v[i]; end++)
			continue;
		i++;
	}
	link_out(h, v + i, end - i);
}

enum { AT_NONE, AT_URL, AT_SRCSET, AT_EQUIV, AT_CONTENT };

static int
name_is(const unsigned char *a, size_t len, const char *name)
{
	return strlen(name) == len &&
	    strncasecmp((const char *)a, name, len) == 0;
}

/* The rank of URL attribute a (alen bytes) on the current tag. */
static int
attr_rank(const struct html *h, const unsigned char *a, size_t alen)
{
	if (h->tag == TAG_ANCHOR && name_is(a, alen, "href"))
		return RULES_LINK_ANCHOR;
	if ((h->tag == TAG_FORM && name_is(a, alen, "action")) ||
	    name_is(a, alen, "formaction"))
		return RULES_LINK_FORM;
	if ((h->tag == TAG_IMAGE && (name_is(a, alen, "src") ||
	    name_is(a, alen, "lowsrc") || name_is(a, alen, "dynsrc"))) ||
	    name_is(a, alen, "srcset") || name_is(a, alen, "background") ||
	    name_is(a, alen, "poster"))
		return RULES_LINK_IMAGE;
	return RULES_LINK_OTHER;
}

static int
attr_kind(const unsigned char *a, size_t len, int meta)
{
#define URL_ATTR(s)	{ s, sizeof(s) - 1 }
	static const struct {
		const char *name;
		size_t	 len;
	} urls[] = {
		URL_ATTR("action"), URL_ATTR("background"), URL_ATTR("cite"),
		URL_ATTR("codebase"), URL_ATTR("data"), URL_ATTR("dynsrc"),
		URL_ATTR("formaction"), URL_ATTR("href"),
		URL_ATTR("longdesc"), URL_ATTR("lowsrc"),
		URL_ATTR("manifest"), URL_ATTR("poster"), URL_ATTR("src"),
		URL_ATTR("xlink:href")
	};
#undef URL_ATTR
	size_t i;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		if (urls[i].len == len &&
		    strncasecmp((const char *)a, urls[i].name, len) == 0)
			return AT_URL;
	if (len == 6 && strncasecmp((const char *)a, "srcset", 6) == 0)
		return AT_SRCSET;
	if (meta && len == 10 &&
	    strncasecmp((const char *)a, "http-equiv", 10) == 0)
		return AT_EQUIV;
	if (meta && len == 7 && strncasecmp((const char *)a, "content", 7) == 0)
		return AT_CONTENT;
	return AT_NONE;
}

static void
attr_use(struct html *h, size_t a, size_t alen, size_t vs, size_t ve,
    int meta)
{
	int kind;

	kind = attr_kind(h->s + a, alen, meta);
	if (kind == AT_NONE)
		return;
	attr_decode(h, vs, ve);
	if (h->oom)
		return;
	h->rank = attr_rank(h, h->s + a, alen);
	switch (kind) {
	case AT_URL:
		link_out(h, h->val, h->vlen);
		break;
	case AT_SRCSET:
		link_srcset(h, h->val, h->vlen);
		break;
	case AT_EQUIV:
		h->refresh = h->vlen == 7 && strcasecmp(h->val, "refresh") == 0;
		break;
	default:
		h->mlen = 0;
		if (grow(h, &h->meta, &h->mcap, 0, h->vlen) == 0) {
			memcpy(h->meta, h->val, h->vlen);
			h->mlen = h->vlen;
		}
		break;
	}
}

/*
 * Reads the attributes of a start tag from s[j] to its '>'.  Returns the
 * index after the tag; *closed is 0 when the input ended first.  A value
 * is used only once it is complete (closing quote, blank or '>').
 */
static size_t
tag_attrs(struct html *h, size_t j, int meta, int *closed)
{
	const unsigned char *s = h->s, *p;
	size_t n = h->n, a, alen, vs, ve;

	*closed = 0;
	for (;;) {
		while (j < n && (is_space(s[j]) || s[j] == '/'))
			j++;
		if (j >= n)
			return n;
		if (s[j] == '>') {
			*closed = 1;
			return j + 1;
		}
		a = j++;
		while (j < n && !is_space(s[j]) && s[j] != '/' && s[j] != '>' &&
		    s[j] != '=')
			j++;
		alen = j - a;
		while (j < n && is_space(s[j]))
			j++;
		if (j >= n || s[j] != '=')
			continue;
		for (j++; j < n && is_space(s[j]); j++)
			continue;
		if (j >= n)
			return n;
		if (s[j] == '"' || s[j] == '\'') {
			p = memchr(s + j + 1, s[j], n - j - 1);
			if (p == NULL)
				return n;
			vs = j + 1;
			ve = (size_t)(p - s);
			j = ve + 1;
		} else {
			vs = j;
			while (j < n && !is_space(s[j]) && s[j] != '>')
				j++;
			if (j >= n)
				return n;
			ve = j;
		}
		attr_use(h, a, alen, vs, ve, meta);
	}
}

/* Reads a tag name at s[j] into nm (lowercased; "" when too long). */
static size_t
tag_name(const struct html *h, size_t j, char nm[TAG_NAME_MAX])
{
	size_t k;

	for (k = 0; j < h->n && !is_space(h->s[j]) && h->s[j] != '/' &&
	    h->s[j] != '>'; j++, k++)
		if (k < TAG_NAME_MAX - 1)
			nm[k] = (char)(rules_is_alpha(h->s[j]) ? h->s[j] | 0x20 :
			    h->s[j]);
	nm[k < TAG_NAME_MAX - 1 ? k : 0] = '\0';
	return j;
}

/* The kind of element nm, 0 for one not in elems: a binary search
 * comparing first bytes before calling strcmp (an element a tag, and
 * most steps are decided by the first byte). */
static unsigned
elem_kind(const char *nm)
{
	size_t lo = 0, hi = sizeof(elems) / sizeof(elems[0]), mid;
	int d;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		d = (unsigned char)nm[0] - (unsigned char)elems[mid].name[0];
		if (d == 0 && nm[0] != '\0')
			d = strcmp(nm + 1, elems[mid].name + 1);
		if (d == 0)
			return elems[mid].kind;
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* Where raw text started at j ends: at "</name" or the end. */
static size_t
raw_skip(const struct html *h, size_t j, const char *nm)
{
	const unsigned char *p;
	size_t k, nl = strlen(nm);

	while (j < h->n) {
		p = memchr(h->s + j, '<', h->n - j);
		if (p == NULL)
			break;
		k = (size_t)(p - h->s);
		if (k + 2 + nl <= h->n && h->s[k + 1] == '/' &&
		    strncasecmp((const char *)h->s + k + 2, nm, nl) == 0 &&
		    (k + 2 + nl == h->n || is_space(h->s[k + 2 + nl]) ||
		    h->s[k + 2 + nl] == '/' || h->s[k + 2 + nl] == '>'))
			return k;
		j = k + 1;
	}
	return h->n;
}

static size_t
start_tag(struct html *h, size_t j)
{
	char nm[TAG_NAME_MAX];
	unsigned kind;
	int meta, closed;

	j = tag_name(h, j, nm);
	kind = elem_kind(nm);
	meta = strcmp(nm, "meta") == 0;
	h->tag = tag_class(nm);
	h->refresh = 0;
	h->mlen = 0;
	j = tag_attrs(h, j, meta, &closed);
	if (!closed)
		return j;
	if (meta && h->refresh && h->mlen > 0) {
		h->rank = RULES_LINK_ANCHOR;	/* where the reader is sent */
		link_refresh(h, h->meta, h->mlen);
	}
	if (h->in_head && !(kind & HE_INHEAD))
		h->in_head = 0;
	if (kind & HE_HEAD)
		h->in_head = 1;
	if (kind & HE_BLOCK)
		out_block(h);
	if ((kind & HE_CELL) && visible(h))
		h->space = 1;
	if ((kind & HE_TEMPLATE) && h->hidden < h->max_depth)
		h->hidden++;
	if (kind & HE_RAW)
		j = raw_skip(h, j, nm);
	return j;
}

static size_t
end_tag(struct html *h, size_t j)
{
	const unsigned char *p;
	char nm[TAG_NAME_MAX];
	unsigned kind;

	j = tag_name(h, j, nm);
	p = memchr(h->s + j, '>', h->n - j);
	if (p == NULL)
		return h->n;
	kind = elem_kind(nm);
	if (kind & HE_BLOCK)
		out_block(h);
	if ((kind & HE_CELL) && visible(h))
		h->space = 1;
	if ((kind & HE_TEMPLATE) && h->hidden > 0)
		h->hidden--;
	if (kind & (HE_HEAD | HE_BODY))
		h->in_head = 0;
	return (size_t)(p - h->s) + 1;
}

/* Skips to the '>' closing <!...>, <?...> or a bad end tag. */
static size_t
bogus(const struct html *h, size_t j)
{
	const unsigned char *p;

	p = j < h->n ? memchr(h->s + j, '>', h->n - j) : NULL;
	return p == NULL ? h->n : (size_t)(p - h->s) + 1;
}

/* Skips a comment whose "<!--" ended at j; it leaves no white space. */
static size_t
comment(const struct html *h, size_t j)
{
	const unsigned char *p;

	if (j < h->n && h->s[j] == '>')
		return j + 1;
	if (j + 1 < h->n && h->s[j] == '-' && h->s[j + 1] == '>')
		return j + 2;
	while (j < h->n) {
		p = memchr(h->s + j, '>', h->n - j);
		if (p == NULL)
			break;
		j = (size_t)(p - h->s) + 1;
		if (p - h->s >= 2 && p[-1] == '-' && p[-2] == '-')
			return j;
	}
	return h->n;
}

/* Markup at s[i] == '<'; anything that does not start a tag is text. */
static size_t
markup(struct html *h, size_t i)
{
	const unsigned char *s = h->s;
	size_t n = h->n;

	if (i + 1 < n && s[i + 1] == '!') {
		if (i + 3 < n && s[i + 2] == '-' && s[i + 3] == '-')
			return comment(h, i + 4);
		return bogus(h, i + 2);
	}
	if (i + 1 < n && s[i + 1] == '?')
		return bogus(h, i + 2);
	if (i + 2 < n && s[i + 1] == '/') {
		if (rules_is_alpha(s[i + 2]))
			return end_tag(h, i + 2);
		return bogus(h, i + 2);
	}
	if (i + 1 < n && rules_is_alpha(s[i + 1]))
		return start_tag(h, i + 1);
	if (visible(h))
		out_text(h, "<", 1);
	return i + 1;
}

/* Bytes needing a look: markup ('<'), references ('&'), blanks and
 * controls (up to ' ', and 0x7f), and the lead bytes of no-break space,
 * soft hyphen and zero-width marks (0xc2, 0xe2, 0xef).  A table: text
 * runs are scanned a byte at a time. */
static const unsigned char special_byte[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};

static int
special(unsigned c)
{
	return special_byte[c & 0xff];
}

/* A UTF-8 sequence starting with 0xc2, 0xe2 or 0xef at s[i]. */
static size_t
text_mark(struct html *h, size_t i)
{
	const unsigned char *s = h->s + i;
	size_t left = h->n - i;

	if (left >= 2 && s[0] == 0xc2 && (s[1] == 0xa0 || s[1] == 0xad)) {
		out_cp(h, s[1]);
		return i + 2;
	}
	if (left >= 3 && ((s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0x8b &&
	    s[2] <= 0x8d) || (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0xa0) ||
	    (s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)))
		return i + 3;
	if (visible(h))
		out_text(h, s, 1);
	return i + 1;
}

static size_t
text(struct html *h, size_t i)
{
	uint32_t cp;
	size_t j;
	unsigned c = h->s[i];

	if (!special(c)) {
		for (j = i + 1; j < h->n && !special(h->s[j]); j++)
			continue;
		if (visible(h))
			out_text(h, h->s + i, j - i);
		return j;
	}
	if (c == '&') {
		j = entity(h->s, h->n, i, 0, &cp);
		if (j == i) {
			if (visible(h))
				out_text(h, "&", 1);
			return i + 1;
		}
		out_cp(h, cp);
		return j;
	}
	if (c <= ' ' || c == 0x7f) {
		if (is_space(c) && visible(h))
			h->space = 1;
		return i + 1;
	}
	return text_mark(h, i);
}

char *
rules_html_text(const char *html, size_t len, unsigned max_depth,
    void (*link)(void *ctx, const char *url, size_t len, int rank),
    void *ctx, size_t *len_r)
{
	struct html h;
	size_t i;

	memset(&h, 0, sizeof(h));
	h.s = (const unsigned char *)html;
	h.n = html == NULL ? 0 : len;
	h.max_depth = max_depth > 0 ? max_depth : RULES_DEF_HTML_DEPTH;
	h.link = link;
	h.ctx = ctx;
	if (grow(&h, &h.out, &h.cap, 0, h.n) == -1)
		return NULL;
	for (i = 0; i < h.n && !h.oom;) {
		if (h.s[i] == '<')
			i = markup(&h, i);
		else
			i = text(&h, i);
	}
	free(h.val);
	free(h.meta);
	if (h.oom) {
		free(h.out);
		return NULL;
	}
	while (h.len > 0 && h.out[h.len - 1] == '\n')
		h.len--;
	h.out[h.len] = '\0';
	if (len_r != NULL)
		*len_r = h.len;
	return h.out;
}
