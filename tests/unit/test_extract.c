/*
 * test_extract.c: hosts, URLs, registrable domains and folding
 * (rules/extract.c), each as a table of the tricky cases spam uses.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/rules-private.h"
#include "tests/unit/test.h"

#define NROWS(t)	(sizeof(t) / sizeof((t)[0]))

/* Input and the expected output; NULL means "rejected" (-1). */
struct pair {
	const char *in;
	const char *want;
};

static const struct pair hosts[] = {
	{ "example.com", "example.com" },
	{ "EXAMPLE.Com", "example.com" },
	{ "evil.example.", "evil.example" },
	{ "evil.example..", "evil.example" },
	{ "%65vil.example", "evil.example" },
	{ "%45VIL.example", "evil.example" },
	{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
	{ "B\xc3\x9c" "CHER.example", "xn--bcher-kva.example" },
	{ "%C3%BCuber.example", "xn--uber-zra.example" },
	{ "\xef\xbd\x85\xef\xbd\x98\xef\xbd\x81\xef\xbd\x8d\xef\xbd\x90"
	    "\xef\xbd\x8c\xef\xbd\x85.com", "example.com" },	/* fullwidth */
	{ "example\xe3\x80\x82" "com", "example.com" },	/* ideographic . */
	{ "foo_bar.example", "foo_bar.example" },
	{ "123.example", "123.example" },
	{ "localhost", "localhost" },
	{ "127.0.0.1", "127.0.0.1" },
	{ "0x7f.1", "127.0.0.1" },
	{ "0X7F.0.0.1", "127.0.0.1" },
	{ "3232235521", "192.168.0.1" },
	{ "0300.0250.0.1", "192.168.0.1" },
	{ "0xC0.0xA8.0x00.0x01", "192.168.0.1" },
	{ "192.168.1", "192.168.0.1" },
	{ "1.2.3.4.", "1.2.3.4" },
	{ "4294967295", "255.255.255.255" },
	{ "0x", "0.0.0.0" },
	{ "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1", "127.0.0.1" },
	{ "[::1]", "::1" },
	{ "[2001:DB8::A]", "2001:db8::a" },
	{ "::1", "::1" },
	{ "4294967296", NULL },
	{ "1.2.3.4.5", NULL },
	{ "256.1.1.1", NULL },
	{ "1.2.3.256", NULL },
	{ "09.1.1.1", NULL },
	{ "0x1g.1.1.1", NULL },
	{ "example.123", NULL },
	{ "[::1", NULL },
	{ "[zz::1]", NULL },
	{ "[]", NULL },
	{ "", NULL },
	{ ".", NULL },
	{ "..", NULL },
	{ "a..b", NULL },
	{ "www.dcc-", NULL },
	{ "-a.example", NULL },
	{ "a-.example", NULL },
	{ "a--b.example", "a--b.example" },
	{ ".a", NULL },
	{ "exa mple.com", NULL },
	{ "a/b", NULL },
	{ "a\"b", NULL },
	{ "user@host", NULL },
	{ "host:80", NULL },
	{ "evil.example%00", NULL },
	{ "%zz.com", NULL },
	{ "%4", NULL },
	{ "%", NULL },
	{ "i\xe2\x9d\xa4.ws", NULL },		/* IDNA2008 has no emoji */
	{ "\xff\xfe.example", NULL },		/* not UTF-8 */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".example", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaa.example" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".example", NULL },			/* 64-byte label */
};

static void
test_host_normalise(void)
{
	char out[RULES_HOST_MAX], small[4];
	size_t i;
	int rc;

	for (i = 0; i < NROWS(hosts); i++) {
		memset(out, 'x', sizeof(out));
		rc = rules_host_normalise(hosts[i].in, strlen(hosts[i].in),
		    out, sizeof(out));
		if (hosts[i].want == NULL && rc != -1)
			T_FAILF("host \"%s\": got \"%s\", want -1", hosts[i].in,
			    out);
		else if (hosts[i].want != NULL && (rc != 0 ||
		    strcmp(out, hosts[i].want) != 0))
			T_FAILF("host \"%s\": rc %d \"%s\", want \"%s\"",
			    hosts[i].in, rc, rc == 0 ? out : "",
			    hosts[i].want);
	}
	/* Not NUL-ended input, an output that is too small. */
	T_INTEQ(rules_host_normalise("example.comXXX", 11, out, sizeof(out)),
	    0);
	T_STREQ(out, "example.com");
	T_INTEQ(rules_host_normalise("example.com", 11, small, sizeof(small)),
	    -1);
	T_INTEQ(rules_host_normalise("1.2.3.4", 7, small, sizeof(small)), -1);
	T_INTEQ(rules_host_normalise(NULL, 0, out, sizeof(out)), -1);
}

static const struct pair urls[] = {
	{ "http://example.com/", "example.com" },
	{ "HTTPS://Example.COM:8443/x", "example.com" },
	{ "http://user:pass@evil.example/", "evil.example" },
	{ "http://good.example@evil.example/", "evil.example" },
	{ "http://a@b@evil.example/", "evil.example" },
	{ "http://www.paypal.com:login@evil.example:80/", "evil.example" },
	{ "http://evil.example\\@good.example/", "evil.example" },
	{ "http://[::1]:8080/", "::1" },
	{ "http://[2001:db8::1]/", "2001:db8::1" },
	{ "http://%65vil.example/", "evil.example" },
	{ "http:\\\\evil.example\\path", "evil.example" },
	{ "http:/\\evil.example", "evil.example" },
	{ "http:evil.example", "evil.example" },
	{ "https:////evil.example", "evil.example" },
	{ "http://evil.example.:80", "evil.example" },
	{ "http://EVIL.example./", "evil.example" },
	{ "http://0x7f.1/", "127.0.0.1" },
	{ "http://3232235521/", "192.168.0.1" },
	{ "http://0300.0250.0.1/x", "192.168.0.1" },
	{ "http://b\xc3\xbc" "cher.example/path", "xn--bcher-kva.example" },
	{ "www.example.com/path", "www.example.com" },
	{ "WWW.Example.com", "www.example.com" },
	{ "www.example.com:8080/x", "www.example.com" },
	{ "//cdn.example.net/x.js", "cdn.example.net" },
	{ "  http://evil.example/  ", "evil.example" },
	{ "http://ev\til.example/", "evil.example" },
	{ "ht\ntp://ev\r\nil.example/", "evil.example" },
	{ "http://evil.example?x=1", "evil.example" },
	{ "http://evil.example#frag", "evil.example" },
	{ "http://evil.example:/", "evil.example" },
	{ "git://host.example/repo", "host.example" },
	{ "http://http://32.97.166.75/x", "32.97.166.75" },
	{ "http://HTTPS://evil.example/", "evil.example" },
	{ "http://http:80/x", "http" },
	{ "http://http:/", NULL },
	{ "http://evil.example:99999/", NULL },
	{ "http://evil.example:8a/", NULL },
	{ "http://[::1/", NULL },
	{ "http://[::1]x/", NULL },
	{ "mailto:user@example.com", NULL },
	{ "javascript:alert(1)", NULL },
	{ "git:host.example", NULL },
	{ "example.com/path", NULL },
	{ "http://", NULL },
	{ "http:///", NULL },
	{ "http://user@/", NULL },
	{ "http://exa mple.com/", NULL },
	{ "1http://example.com/", NULL },
	{ "", NULL },
};

static void
test_url_host(void)
{
	char out[RULES_HOST_MAX];
	size_t i;
	int rc;

	for (i = 0; i < NROWS(urls); i++) {
		rc = rules_url_host(urls[i].in, strlen(urls[i].in), out,
		    sizeof(out));
		if (urls[i].want == NULL && rc != -1)
			T_FAILF("url \"%s\": got \"%s\", want -1", urls[i].in,
			    out);
		else if (urls[i].want != NULL && (rc != 0 ||
		    strcmp(out, urls[i].want) != 0))
			T_FAILF("url \"%s\": rc %d \"%s\", want \"%s\"",
			    urls[i].in, rc, rc == 0 ? out : "", urls[i].want);
	}
}

/* URLs found in text, joined by '|' in the order found. */
static const struct pair texts[] = {
	{ "see http://example.com/a.", "http://example.com/a" },
	{ "(see http://en.wikipedia.org/wiki/Foo_(bar))",
	    "http://en.wikipedia.org/wiki/Foo_(bar)" },
	{ "(http://example.com/x)", "http://example.com/x" },
	{ "<http://example.com/path>", "http://example.com/path" },
	{ "<URL:http://example.com/>", "http://example.com/" },
	{ "[http://example.com]", "http://example.com" },
	{ "visit www.example.com, now!", "www.example.com" },
	{ "HTTPS://EXAMPLE.COM/X?Y=1&Z=2;", "HTTPS://EXAMPLE.COM/X?Y=1&Z=2" },
	{ "\"http://example.com/q\"", "http://example.com/q" },
	{ "'http://example.com/'", "http://example.com/" },
	{ "is it http://example.com/x!?", "http://example.com/x" },
	{ "end: http://example.com/x':;\">", "http://example.com/x" },
	{ "ftp://ftp.example.org/pub and more", "ftp://ftp.example.org/pub" },
	{ "a http://x.example b https://y.example/",
	    "http://x.example|https://y.example/" },
	{ "http://[::1]:8080/x", "http://[::1]:8080/x" },
	{ "go http://example.com\xc2\xa0next", "http://example.com" },
	{ "\xe2\x80\x9chttp://example.com/\xe2\x80\x9d",
	    "http://example.com/" },
	{ "\xc2\xabhttp://example.com/\xc2\xbb", "http://example.com/" },
	{ "\xe8\xaf\xb7http://example.cn/ ok", "http://example.cn/" },
	{ "http://evil.example", "http://evil.example" },
	{ "line\nhttp://a.example\nwww.b.example\n",
	    "http://a.example|www.b.example" },
	{ "http://b\xc3\xbc" "cher.example/",
	    "http://b\xc3\xbc" "cher.example/" },
	{ "http://www.example.com/", "http://www.example.com/" },
	{ "user@www.example.com", "" },
	{ "mail.www.example.com", "" },
	{ "xhttp://example.com", "" },
	{ "http:// nothing", "" },
	{ "www. nothing", "" },
	{ "www.-", "" },
	{ "http://", "" },
	{ "http", "" },
	{ "", "" },
	{ "http://exa%zzmple.com/", "" },
	{ "click hxxp://evil.example", "" },
};

struct found {
	char	 buf[512];
	size_t	 n;
};

static void
on_url(void *ctx, const char *url, size_t len, const char *host)
{
	struct found *f = ctx;

	(void)host;

	if (f->n > 0 && f->n + 1 < sizeof(f->buf))
		f->buf[f->n++] = '|';
	if (f->n + len < sizeof(f->buf)) {
		memcpy(f->buf + f->n, url, len);
		f->n += len;
	}
	f->buf[f->n] = '\0';
}

static void
test_find_urls(void)
{
	struct found f;
	char *copy;
	size_t i, n;

	for (i = 0; i < NROWS(texts); i++) {
		/* An exact-size heap copy, so ASan sees any overread. */
		n = strlen(texts[i].in);
		copy = malloc(n + 1);
		T_ASSERT(copy != NULL);
		if (copy == NULL)
			return;
		memcpy(copy, texts[i].in, n);
		f.n = 0;
		f.buf[0] = '\0';
		rules_find_url_hosts(copy, n, on_url, &f);
		if (strcmp(f.buf, texts[i].want) != 0)
			T_FAILF("urls in \"%s\": got \"%s\", want \"%s\"",
			    texts[i].in, f.buf, texts[i].want);
		free(copy);
	}
	/* Text that ends inside a URL's opening. */
	f.n = 0;
	f.buf[0] = '\0';
	rules_find_url_hosts("see http://example.com", 11, on_url, &f);
	T_STREQ(f.buf, "");
}

static const struct pair regs[] = {
	{ "a.b.example.co.uk", "example.co.uk" },
	{ "example.co.uk", "example.co.uk" },
	{ "www.example.com", "example.com" },
	{ "WWW.Example.COM.", "example.com" },
	{ "foo.blogspot.com", "foo.blogspot.com" },
	{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
	{ "www.xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai" },
	{ "www.\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80"
	    "\xd1\x84", "xn--e1afmkfd.xn--p1ai" },
	{ "co.uk", NULL },
	{ "com", NULL },
	{ "blogspot.com", NULL },
	{ "localhost", NULL },
	{ "192.168.1.1", NULL },
	{ "0x7f.1", NULL },
	{ "::1", NULL },
	{ "[::1]", NULL },
	{ "", NULL },
	{ "bad host.com", NULL },
};

/* URLs carried in URLs: redirectors and link wrappers, each encoding. */
static void
test_url_inner(void)
{
	static const struct {
		const char *url, *want;	/* want NULL: none */
	} t[] = {
		{ "https://www.google.com/url?q=https://www.evil.example/x&sa=D",
		    "https://www.evil.example/x" },
		{ "https://nam02.safelinks.protection.outlook.com/?url=https%3A"
		    "%2F%2Fwww.evil.example%2Fa%3Fb%3D1&data=04%7C01",
		    "https://www.evil.example/a?b=1" },
		{ "https://l.facebook.com/l.php?u=HTTP%3A%2F%2Fevil.example%2F&h=x",
		    "HTTP://evil.example/" },
		{ "https://linkprotect.cudasvc.com/url?a=https%3a%2f%2fevil.example"
		    "%2fp&c=E,1", "https://evil.example/p" },
		{ "http://t.example/r?u=http%253A%252F%252Fevil.example%252Fz",
		    "http://evil.example/z" },
		{ "https://urldefense.proofpoint.com/v2/url?u=https-3A__www.evil"
		    ".example_path-3Fa-3D1&d=DwMF", "https://www.evil.example/path?a=1" },
		{ "https://urldefense.com/v3/__https://www.evil.example/p__;!!A!b$",
		    "https://www.evil.example/p__;!!A!b$" },
		{ "http://proxy.example/https://evil.example/a",
		    "https://evil.example/a" },
		/* The URL's own scheme and host are not inner URLs. */
		{ "https://www.example.com/path?x=1", NULL },
		{ "http://http.example/", NULL },
		{ "https://evil.example/", NULL },
		{ "not a url http://x.example/", NULL },
		{ "", NULL },
	};
	char	 out[RULES_URL_INNER_MAX], small[8];
	size_t	 i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = rules_url_inner(t[i].url, strlen(t[i].url), out,
		    sizeof(out));
		if (t[i].want == NULL) {
			if (n != 0)
				T_FAILF("%s: \"%s\", want none", t[i].url, out);
		} else if (n != strlen(t[i].want) || strcmp(out, t[i].want) != 0)
			T_FAILF("%s: \"%s\" (%zu), want \"%s\"", t[i].url,
			    n ? out : "", n, t[i].want);
	}
	/* Cut to the buffer, NUL-ended. */
	n = rules_url_inner(t[0].url, strlen(t[0].url), small, sizeof(small));
	T_INTEQ(n, sizeof(small) - 1);
	T_STREQ(small, "https:/");
	n = rules_url_inner(t[1].url, strlen(t[1].url), small, sizeof(small));
	T_INTEQ(n, sizeof(small) - 1);
	T_INTEQ(strlen(small), sizeof(small) - 1);
}

static void
test_registrable(void)
{
	char out[RULES_HOST_MAX], small[8];
	size_t i;
	int rc;

	for (i = 0; i < NROWS(regs); i++) {
		rc = rules_registrable_domain(regs[i].in, out, sizeof(out));
		if (regs[i].want == NULL && rc != -1)
			T_FAILF("reg \"%s\": got \"%s\", want -1", regs[i].in,
			    out);
		else if (regs[i].want != NULL && (rc != 0 ||
		    strcmp(out, regs[i].want) != 0))
			T_FAILF("reg \"%s\": rc %d \"%s\", want \"%s\"",
			    regs[i].in, rc, rc == 0 ? out : "", regs[i].want);
	}
	T_INTEQ(rules_registrable_domain("example.co.uk", small,
	    sizeof(small)), -1);
	T_INTEQ(rules_registrable_domain(NULL, out, sizeof(out)), -1);
}

static const struct pair folds[] = {
	{ "Hello, World!", "hello world" },
	{ "  leading and\ttrailing \r\n", "leading and trailing" },
	{ "don't", "don t" },
	{ "don\xe2\x80\x99t", "don t" },
	{ "e-mail & co.", "e mail co" },
	{ "fr\xe2\x80\x8b" "ee", "free" },
	{ "fr\xc2\xad" "ee", "free" },
	{ "\xef\xbb\xbf" "free", "free" },
	{ "f\xe2\x80\x8cr\xe2\x80\x8d" "e\xe2\x81\xa0" "e", "free" },
	{ "fr\xe2\x80\x8f" "ee", "free" },
	{ "a \xe2\x80\x8b b", "a b" },
	{ "a\xc2\xa0" "b", "a b" },
	{ "a\xe2\x80\x83" "b", "a b" },
	{ "a\xe3\x80\x80" "b", "a b" },
	{ "a\xe2\x80\xaf" "b", "a b" },
	{ "a\xe2\x80\x94" "b\xe2\x80\xa6" "c", "a b c" },
	{ "\xc2\xab" "quoted\xc2\xbb", "quoted" },
	{ "\xc2\xa1" "Hola!\xc2\xbf", "hola" },
	{ "a\xc3\x97" "b", "a b" },
	{ "Stra\xc3\x9f" "e", "strasse" },
	{ "STRA\xe1\xba\x9e" "E", "strasse" },
	{ "\xc3\x80\xc3\x89\xc3\x8e\xc3\x95\xc3\x9c",
	    "\xc3\xa0\xc3\xa9\xc3\xae\xc3\xb5\xc3\xbc" },
	{ "\xc3\xa0\xc3\xbf", "\xc3\xa0\xc3\xbf" },
	{ "\xc4\x80\xc4\x9e\xc4\xb0\xc5\x81\xc5\x92\xc5\xb8\xc5\xbd",
	    "\xc4\x81\xc4\x9fi\xc5\x82\xc5\x93\xc3\xbf\xc5\xbe" },
	{ "\xc5\xbf", "s" },
	{ "\xc2\xb5", "\xce\xbc" },
	{ "\xc2\xbd \xc2\xb2", "\xc2\xbd \xc2\xb2" },
	/* ΚΑΛΗΜΈΡΑ, Οδυσσεύς */
	{ "\xce\x9a\xce\x91\xce\x9b\xce\x97\xce\x9c\xce\x88\xce\xa1\xce\x91",
	    "\xce\xba\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad"
	    "\xcf\x81\xce\xb1" },
	{ "\xce\x9f\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf\x8d\xcf\x82",
	    "\xce\xbf\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf\x8d"
	    "\xcf\x83" },
	/* ПРИВЕТ Ёж, Ґ */
	{ "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2 \xd0\x81\xd0\xb6"
	    " \xd2\x90",
	    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd1\x91\xd0\xb6"
	    " \xd2\x91" },
	{ "a\xff" "B", "a\xff" "b" },
	{ "A\xc3", "a\xc3" },
	{ "A\xe2\x80", "a\xe2\x80" },
	{ "\xc0\xaf" "x", "\xc0\xaf" "x" },
	{ "\xed\xa0\x80", "\xed\xa0\x80" },
	{ "\xe4\xb8\xad\xe6\x96\x87", "\xe4\xb8\xad\xe6\x96\x87" },
	{ "\xf0\x9f\x98\x80 Win", "\xf0\x9f\x98\x80 win" },
	{ "!!!", "" },
	{ "", "" },
	{ "\xe2\x80\x8b", "" },
	{ "123-456 ABC", "123 456 abc" },
};

static void
test_fold(void)
{
	char *in, *out;
	size_t i, n, r;

	for (i = 0; i < NROWS(folds); i++) {
		n = strlen(folds[i].in);
		in = malloc(n + 1);
		out = malloc(n + 1);
		T_ASSERT(in != NULL && out != NULL);
		if (in == NULL || out == NULL) {
			free(in);
			free(out);
			return;
		}
		memcpy(in, folds[i].in, n);
		r = rules_fold(in, n, out);
		if (r != strlen(folds[i].want) || strcmp(out,
		    folds[i].want) != 0)
			T_FAILF("fold \"%s\": got \"%s\" (%zu), want \"%s\"",
			    folds[i].in, out, r, folds[i].want);
		free(in);
		free(out);
	}
}

int
main(void)
{
	T_RUN(test_host_normalise);
	T_RUN(test_url_host);
	T_RUN(test_find_urls);
	T_RUN(test_url_inner);
	T_RUN(test_registrable);
	T_RUN(test_fold);
	return t_done();
}
