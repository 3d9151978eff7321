#!/usr/bin/env python3
"""gen.py: hostile messages for the classifier's limits.

    python3 tests/hostile/gen.py [-s BYTES] [-k KIND]... OUTDIR

Writes one OUTDIR/KIND.eml per kind below, each about BYTES long (default
10 MB; a few kinds stop short where their shape is complete).  Every
message is built to hit one bound of struct rules_limits, or to make a
parser or matcher do the most work per byte: deep MIME nesting, 100k
parts, a huge header, millions of URLs, lines without blanks, 1e5 nested
HTML tags, base64 and quoted-printable garbage, regex bait for the
starter lists and so on.  The output depends only on BYTES: the same
arguments always write the same files.  tests/cli/test_hostile.sh
checks the verdicts; tests/bench/hostile.sh times them.
"""
import argparse
import os
import random
import sys

MB = 1024 * 1024

HDR = (b"From: Hostile Sender <spam@hostile.example>\r\n"
       b"To: victim@example.org\r\n"
       b"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
       b"Message-ID: <hostile-%s@hostile.example>\r\n")


def head(kind, extra=b""):
    return HDR % kind.encode() + extra


def fill(unit, size):
    """unit repeated to size bytes."""
    return (unit * (size // len(unit) + 1))[:size]


def plain(kind, body, ctype=b"text/plain; charset=utf-8", cte=None):
    h = head(kind) + b"Subject: " + kind.encode() + b"\r\n"
    h += b"MIME-Version: 1.0\r\nContent-Type: " + ctype + b"\r\n"
    if cte:
        h += b"Content-Transfer-Encoding: " + cte + b"\r\n"
    return h + b"\r\n" + body


# ------------------------------------------------------------------
# MIME structure.

def deep_mime(kind, size):
    """Multiparts nested 20000 deep, each with its own boundary."""
    out = [head(kind), b"Subject: deep\r\nMIME-Version: 1.0\r\n"]
    n = 0
    while sum(map(len, out)) < size // 2 and n < 20000:
        out.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n'
                   b"--b%d\r\n" % (n, n))
        n += 1
    out.append(b"Content-Type: text/plain\r\n\r\nhttp://deep.example/\r\n")
    for i in range(n - 1, -1, -1):
        out.append(b"--b%d--\r\n" % i)
    return b"".join(out)


def deep_same_boundary(kind, size):
    """Nesting where every level reuses one boundary (prefix matching)."""
    out = [head(kind), b"Subject: deep same\r\nMIME-Version: 1.0\r\n"]
    unit = b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n'
    out.append(fill(unit, size - 200))
    return b"".join(out)


def deep_prefix_boundary(kind, size):
    """Each boundary extends the previous one: "a", "aa", "aaa", ..."""
    out = [head(kind), b"Subject: deep prefix\r\nMIME-Version: 1.0\r\n"]
    n = 1
    total = 0
    while total < size - 4096 and n < 4000:
        b = b"a" * n
        s = b'Content-Type: multipart/mixed; boundary="' + b + b'"\r\n\r\n--' + b + b"\r\n"
        out.append(s)
        total += len(s)
        n += 1
    return b"".join(out)


def many_parts(kind, size):
    """100k sibling parts, each a text part with a URL."""
    out = [head(kind), b'Subject: parts\r\nMIME-Version: 1.0\r\n'
           b'Content-Type: multipart/mixed; boundary="p"\r\n\r\n']
    i = 0
    total = 0
    while total < size - 100 and i < 100000:
        s = b"--p\r\nContent-Type: text/plain\r\n\r\nhttp://p%d.example/\r\n" % i
        out.append(s)
        total += len(s)
        i += 1
    out.append(b"--p--\r\n")
    return b"".join(out)


def many_empty_parts(kind, size):
    """Delimiter lines only: as many empty parts as fit."""
    out = [head(kind), b'Subject: empty parts\r\nMIME-Version: 1.0\r\n'
           b'Content-Type: multipart/mixed; boundary="e"\r\n\r\n']
    out.append(fill(b"--e\r\n", size - 200))
    out.append(b"--e--\r\n")
    return b"".join(out)


def nested_rfc822(kind, size):
    """message/rfc822 inside message/rfc822, 50000 deep."""
    out = [head(kind), b"Subject: rfc822\r\nMIME-Version: 1.0\r\n"]
    unit = (b"Content-Type: message/rfc822\r\n\r\n"
            b"Subject: inner\r\nMIME-Version: 1.0\r\n")
    out.append(fill(unit, size - 200))
    out.append(b"\r\nhttp://rfc822.example/\r\n")
    return b"".join(out)


def bounce_flood(kind, size):
    """A DSN whose report and quoted header hold 1e5 Message-IDs."""
    ids = b"".join(b"<id%d@orig.example> " % i for i in range(100000))
    out = [head(kind), b"Subject: Undelivered Mail Returned to Sender\r\n"
           b"From: MAILER-DAEMON@mx.example\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/report; report-type=delivery-status; '
           b'boundary="r"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\n'
           b"Delivery failed.\r\n--r\r\n"
           b"Content-Type: message/delivery-status\r\n\r\n"
           b"Reporting-MTA: dns; mx.example\r\n\r\n"]
    per = b"Final-Recipient: rfc822; a@b.example\r\nAction: failed\r\n" \
          b"Status: 5.0.0\r\nX-Original-Message-ID: <x@y.example>\r\n\r\n"
    out.append(fill(per, size // 3))
    out.append(b"\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
               b"Message-ID: <orig@orig.example>\r\nReferences: " + ids +
               b"\r\n\r\n--r--\r\n")
    return b"".join(out)[:size]


# ------------------------------------------------------------------
# Headers.

def huge_header(kind, size):
    """One Subject header of size bytes, folded never."""
    return (head(kind) + b"Subject: " + fill(b"free money ", size) +
            b"\r\n\r\nbody\r\n")


def huge_folded_header(kind, size):
    """One header folded into a million continuation lines."""
    return (head(kind) + b"Subject: x" + fill(b"\r\n a", size) +
            b"\r\n\r\nbody\r\n")


def many_headers(kind, size):
    """A million short header fields."""
    out = [head(kind)]
    out.append(fill(b"X-H: v\r\n", size - 100))
    out.append(b"\r\nbody\r\n")
    return b"".join(out)


def encoded_words(kind, size):
    """An RFC 2047 Subject of size bytes of encoded words."""
    ew = b"=?utf-8?B?ZnJlZSBtb25leQ==?= =?iso-8859-1?Q?caf=E9?= "
    return (head(kind) + b"Subject: " + fill(ew, size) + b"\r\n\r\nb\r\n")


def header_no_colon(kind, size):
    """Header-looking lines without a colon: no body ever starts."""
    return head(kind) + fill(b"NoColonHereAtAll", size)


# ------------------------------------------------------------------
# Body text.

def urls_same(kind, size):
    """Millions of copies of one URL."""
    return plain(kind, fill(b"http://a.hostile.example/x ", size))


def urls_distinct(kind, size):
    """Distinct hosts, as many as fit: the URL cap must bite."""
    out = []
    total = 0
    i = 0
    while total < size:
        s = b"https://h%d.d%d.example/p " % (i, i % 997)
        out.append(s)
        total += len(s)
        i += 1
    return plain(kind, b"".join(out))


def www_hosts(kind, size):
    """Bare www. hosts glued together by dots."""
    return plain(kind, fill(b"www.", size))


def long_line(kind, size):
    """One line of size bytes without a blank."""
    return plain(kind, fill(b"abcdefghij", size))


def long_url(kind, size):
    """One URL of size bytes."""
    return plain(kind, b"http://" + fill(b"a.", size) + b"/\r\n")


def url_host_garbage(kind, size):
    """http:// followed by percent escapes and IDN bait, repeated."""
    return plain(kind, fill(b"http://%41%42%e2%82%ac\xc3\xa9xn--.example ",
                            size))


def phones(kind, size):
    """Millions of phone-number shapes."""
    rnd = random.Random(1)
    out = []
    total = 0
    while total < size:
        s = b"+1 (%03d) %03d-%04d " % (rnd.randrange(200, 999),
                                      rnd.randrange(200, 999),
                                      rnd.randrange(10000))
        out.append(s)
        total += len(s)
    return plain(kind, b"".join(out))


def digits(kind, size):
    """One run of digits and separators with no end."""
    return plain(kind, fill(b"1-2 3.4(5)6 ", size))


def nul_bytes(kind, size):
    """NUL bytes and control characters throughout."""
    return plain(kind, fill(b"\x00\x01\x02http://nul.example/\x00\x7f", size))


def binary_junk(kind, size):
    """Random bytes after a valid header."""
    rnd = random.Random(2)
    return plain(kind, bytes(rnd.getrandbits(8) for _ in range(min(size, MB)))
                 * max(1, size // MB))


def base64_garbage(kind, size):
    """A base64 body of characters outside the alphabet and stray '='."""
    return plain(kind, fill(b"!!==@@**Zm9v====\r\n", size), cte=b"base64")


def base64_long_line(kind, size):
    """Valid base64 of HTML, as one line with no breaks."""
    import base64
    html = fill(b"<a href='http://b64.example/'>x</a>", size * 3 // 4)
    return plain(kind, base64.b64encode(html), ctype=b"text/html",
                 cte=b"base64")


def qp_garbage(kind, size):
    """Quoted-printable made of soft breaks and bad escapes."""
    return plain(kind, fill(b"=\r\n=ZZ=4=\r\n=E9=", size),
                 cte=b"quoted-printable")


def charset_iconv(kind, size):
    """Text in a charset iconv converts (ISO-2022-JP escapes)."""
    return plain(kind, fill(b"\x1b$B$3$s$K$A$O\x1b(B http://jp.example/ ",
                            size), ctype=b"text/plain; charset=iso-2022-jp")


def charset_bad_utf8(kind, size):
    """Declared UTF-8 made of invalid sequences."""
    return plain(kind, fill(b"\xc3\x28\xe2\x82\xf0\x90\x28\xbc\xff", size))


def crlf_flood(kind, size):
    """Nothing but line ends."""
    return plain(kind, fill(b"\r\n", size))


# ------------------------------------------------------------------
# HTML.

def html(kind, body):
    return plain(kind, body, ctype=b"text/html; charset=utf-8")


def html_nested(kind, size):
    """1e5 nested elements, then their ends."""
    n = min(100000, size // 16)
    return html(kind, b"<div>" * n + b"<a href='http://nest.example/'>x</a>"
                + b"</div>" * n)


def html_nested_inline(kind, size):
    """1e5 nested <b><i><span> without ends, a link inside each."""
    return html(kind, fill(b"<b><i><span><a href=http://i.example/>", size))


def html_unclosed_tag(kind, size):
    """A tag that never ends: one attribute run of size bytes."""
    return html(kind, b"<a href=\"http://" + fill(b"x", size) + b"\n")


def html_attrs(kind, size):
    """One element with a million attributes."""
    return html(kind, b"<img " + fill(b"src=http://attr.example/ a=b ", size)
                + b">")


def html_entities(kind, size):
    """Entities of every kind, many unterminated."""
    return html(kind, fill(b"&amp;&#x41;&#65;&#xFFFFFFFFF;&nbsp&zwnj;&#"
                           b"&notanentity;&", size))


def html_comment(kind, size):
    """A comment that never closes, and nested comment openers."""
    return html(kind, b"visible http://c.example/ " + fill(b"<!--<!-- -", size))


def html_script(kind, size):
    """An unclosed <script> full of fake end tags."""
    return html(kind, b"<script>" + fill(b"</scrip </ script <\\/script>",
                                         size))


def html_template(kind, size):
    """Hidden elements nested deep (template, style)."""
    return html(kind, fill(b"<template><style>", size))


def html_links(kind, size):
    """Millions of links in attributes: the link cap must bite."""
    out = []
    total = 0
    i = 0
    while total < size:
        s = b"<a href='http://l%d.example/'>" % i
        out.append(s)
        total += len(s)
        i += 1
    return html(kind, b"".join(out))


def html_tel_links(kind, size):
    """tel: links by the million: the phone cap must bite."""
    out = []
    total = 0
    i = 0
    while total < size:
        s = b"<a href='tel:+1800555%04d'>" % (i % 10000)
        out.append(s)
        total += len(s)
        i += 1
    return html(kind, b"".join(out))


# ------------------------------------------------------------------
# Regex and phrase bait for rules/lists/starter.*.

def regex_subject(kind, size):
    """Subject: "non accredited" and blanks, never the final word."""
    return (head(kind) + b"Subject: " + fill(b"non-accredited    ", size) +
            b"\r\n\r\nbody\r\n")


def regex_fee(kind, size):
    """Body: "pay the release" and runs of blanks, never "fee"."""
    return plain(kind, fill(b"pay   the   release   processing clearance ",
                            size))


def regex_income(kind, size):
    """Body: "100 % guaranteed" runs that never say "income"."""
    return plain(kind, fill(b"100 % guaranteed risk-free 100% one hundred ",
                            size))


def regex_blanks(kind, size):
    """Body: one run of white space (\\s+ bait)."""
    return plain(kind, b"pay" + fill(b" \t", size) + b"the")


def phrase_bait(kind, size):
    """Starts of listed phrases over and over (phrase index bait)."""
    return plain(kind, fill(b"diplomas from prestigious diplomas from "
                            b"prestigious non ", size))


KINDS = [
    ("deep-mime", deep_mime),
    ("deep-same-boundary", deep_same_boundary),
    ("deep-prefix-boundary", deep_prefix_boundary),
    ("many-parts", many_parts),
    ("many-empty-parts", many_empty_parts),
    ("nested-rfc822", nested_rfc822),
    ("bounce-flood", bounce_flood),
    ("huge-header", huge_header),
    ("huge-folded-header", huge_folded_header),
    ("many-headers", many_headers),
    ("encoded-words", encoded_words),
    ("header-no-colon", header_no_colon),
    ("urls-same", urls_same),
    ("urls-distinct", urls_distinct),
    ("www-hosts", www_hosts),
    ("long-line", long_line),
    ("long-url", long_url),
    ("url-host-garbage", url_host_garbage),
    ("phones", phones),
    ("digits", digits),
    ("nul-bytes", nul_bytes),
    ("binary-junk", binary_junk),
    ("base64-garbage", base64_garbage),
    ("base64-long-line", base64_long_line),
    ("qp-garbage", qp_garbage),
    ("charset-iconv", charset_iconv),
    ("charset-bad-utf8", charset_bad_utf8),
    ("crlf-flood", crlf_flood),
    ("html-nested", html_nested),
    ("html-nested-inline", html_nested_inline),
    ("html-unclosed-tag", html_unclosed_tag),
    ("html-attrs", html_attrs),
    ("html-entities", html_entities),
    ("html-comment", html_comment),
    ("html-script", html_script),
    ("html-template", html_template),
    ("html-links", html_links),
    ("html-tel-links", html_tel_links),
    ("regex-subject", regex_subject),
    ("regex-fee", regex_fee),
    ("regex-income", regex_income),
    ("regex-blanks", regex_blanks),
    ("phrase-bait", phrase_bait),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-s", "--size", type=int, default=10 * MB)
    ap.add_argument("-k", "--kind", action="append")
    ap.add_argument("-l", "--list", action="store_true",
                    help="print the kinds and exit")
    ap.add_argument("outdir", nargs="?")
    a = ap.parse_args()
    if a.list:
        for name, fn in KINDS:
            print("%-22s %s" % (name, fn.__doc__.split("\n")[0]))
        return 0
    if a.outdir is None:
        ap.error("OUTDIR is required")
    os.makedirs(a.outdir, exist_ok=True)
    want = set(a.kind or [k for k, _ in KINDS])
    unknown = want - set(k for k, _ in KINDS)
    if unknown:
        ap.error("unknown kind: " + ", ".join(sorted(unknown)))
    for name, fn in KINDS:
        if name not in want:
            continue
        data = fn(name, a.size)
        with open(os.path.join(a.outdir, name + ".eml"), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
