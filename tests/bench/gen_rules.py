#!/usr/bin/env python3
"""gen_rules.py: writes a deterministic, realistic-looking synthetic rule set.

    python3 tests/bench/gen_rules.py [--domains N] [--phones N] [--phrases N]
                                     [--seed S] OUTDIR

Writes OUTDIR/gen.domains, OUTDIR/gen.phones and OUTDIR/gen.phrases (a kind
with N = 0 gets no file).  The same arguments always give the same files.

- domains: pronounceable spam-style names (syllables, brand-ish words,
  hyphens, digits) under a weighted mix of TLDs including multi-label public
  suffixes (co.uk, com.br, ...), never a public suffix itself (Debian's
  publicsuffix list, when installed); about 1 in 8 is a host under a listed-style
  name (secure-login.example.top).  All distinct.
- phones: about 55% NANP in the shapes spam writes them ((800) 555-0199,
  1-888-555-0123, +1 212 555 0100, 212.555.0100, ...), the rest
  international (+44, +49, +33, +234, +91, +61, +7, +27, +63 ...) with
  "+CC", "00CC" and spaced / dashed / dotted groupings.  Distinct after
  normalisation to digits with the country code.
- phrases: 4 to 9 words (24 characters or more) from a vocabulary of common
  English and spam words, lowercase, distinct.
No entry is taken from any corpus: the set measures cost, not hits.
"""
import argparse
import os
import random
import sys

SYL = ("ba be bi bo bu ca co cu da de di do du fa fe fi fo ga ge go gu ha he "
       "hi ho ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no nu pa pe "
       "pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za "
       "zo ar er ir or ur an en in on un al el il ol ex ix ox qua tri pro "
       "max net web sol gen dex lux vip top").split()
WORDS_DOM = ("secure login account verify update bank pay wallet crypto coin "
             "pharma meds pills rx health diet slim loan cash credit invest "
             "trade profit bonus prize win lucky casino bet deal shop store "
             "outlet sale discount cheap best mail post parcel track delivery "
             "support service help desk cloud drive docs file share online "
             "web net mobile app portal id auth confirm notice alert billing "
             "invoice refund claim reward gift card offer promo club vip "
             "global world express direct smart easy fast quick").split()
TLDS = ([("com", 40), ("net", 8), ("org", 5), ("info", 6), ("biz", 3),
         ("xyz", 6), ("top", 6), ("online", 4), ("site", 3), ("club", 2),
         ("shop", 3), ("store", 2), ("live", 2), ("icu", 2), ("ru", 4),
         ("cn", 3), ("in", 2), ("br", 1), ("co", 2), ("io", 2), ("me", 1),
         ("us", 1), ("de", 2), ("fr", 1), ("it", 1), ("pl", 1), ("tk", 1),
         ("co.uk", 3), ("com.br", 2), ("com.au", 1), ("co.in", 1),
         ("com.cn", 1), ("co.za", 1), ("com.mx", 1), ("net.ru", 1)])
TLD_POP = [t for t, w in TLDS for _ in range(w)]
HOSTS = ("www mail secure login account my portal id auth web app "
         "update verify support billing").split()

VOCAB = ("the a an and or but of to in on for with from by at as your our "
         "you we they this that these those it is are was be been have has "
         "will can may must now today only just all every more most free "
         "new best great special exclusive limited offer deal price prices "
         "money cash dollars million thousand credit loan mortgage rate low "
         "lowest approved guaranteed instant fast quick easy simple secret "
         "amazing incredible unbelievable proven natural herbal pills "
         "medication prescription pharmacy doctor weight loss diet fat burn "
         "energy health body skin younger enlargement performance dating "
         "singles meet lonely beautiful women men love partner account "
         "bank security verify update confirm suspended locked unusual "
         "activity login password details information identity billing "
         "payment invoice refund claim prize winner won lottery jackpot "
         "congratulations selected customer member reward gift card bonus "
         "points click here below link visit website online order call "
         "toll number contact reply immediately urgent attention important "
         "notice final warning action required within hours days business "
         "opportunity income work home earn extra per week month year "
         "investment profit stock shares market trading crypto bitcoin "
         "wallet transfer wire funds beneficiary inheritance transaction "
         "fund deposit diplomas degree university prestigious certified "
         "training course software license windows office cheap discount "
         "replica watches luxury brand designer handbags shipping delivery "
         "package parcel tracking held customs fee pay small unsubscribe "
         "remove list mailing email address sent received mistake error "
         "risk satisfaction obligation cost charge trial membership access "
         "private confidential personal assistance kindly dear friend sir "
         "madam partner proposal government official agent barrister "
         "attorney foreign overseas country africa late client family "
         "million united states percent share mutual benefit project "
         "hundred good news happy holiday season christmas black friday "
         "cyber monday sale ends tonight hurry stock lasts first time "
         "buyers every order over save up off store shop now").split()


def uniq_add(seen, out, item, key=None):
    k = item if key is None else key
    if k in seen:
        return False
    seen.add(k)
    out.append(item)
    return True


def gen_label(r):
    k = r.random()
    if k < 0.35:
        lab = "".join(r.choice(SYL) for _ in range(r.randint(2, 4)))
    elif k < 0.70:
        lab = r.choice(WORDS_DOM) + r.choice(("", "-")) + r.choice(WORDS_DOM)
    elif k < 0.85:
        lab = (r.choice(WORDS_DOM) + "".join(r.choice(SYL)
               for _ in range(r.randint(1, 2))))
    else:
        lab = "".join(r.choice(SYL) for _ in range(r.randint(1, 3)))
        lab += str(r.randint(1, 9999))
    if r.random() < 0.12:
        lab += str(r.randint(0, 99))
    return lab[:40].strip("-")


PSL_FILE = "/usr/share/publicsuffix/public_suffix_list.dat"


def public_suffixes():
    """The public suffix rules (Debian's publicsuffix), or an empty set."""
    rules = set()
    try:
        with open(PSL_FILE, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("//"):
                    rules.add(line.split()[0])
    except OSError:
        pass
    return rules


def gen_domains(r, n):
    psl = public_suffixes()
    seen, out = set(), []
    while len(out) < n:
        d = gen_label(r) + "." + r.choice(TLD_POP)
        if r.random() < 0.125:
            d = r.choice(HOSTS) + "." + d
        # A listed name must be registrable: never a public suffix
        # (the private section has names like cloudapp.net).
        if d in psl or "*." + d.split(".", 1)[1] in psl:
            continue
        uniq_add(seen, out, d)
    return out


def digits(r, n, first="0123456789"):
    return r.choice(first) + "".join(r.choice("0123456789")
                                     for _ in range(n - 1))


def nanp(r):
    if r.random() < 0.3:
        area = r.choice(("800", "888", "877", "866", "855", "844", "833"))
    else:
        while True:
            area = digits(r, 3, "23456789")
            if area[1:] != "11" and area[1] != "9":
                break
    while True:
        exch = digits(r, 3, "23456789")
        if exch[1:] != "11":
            break
    line = digits(r, 4)
    fmt = r.randrange(8)
    s = [f"({area}) {exch}-{line}", f"{area}-{exch}-{line}",
         f"1-{area}-{exch}-{line}", f"+1 {area} {exch} {line}",
         f"{area}.{exch}.{line}", f"+1 ({area}) {exch}-{line}",
         f"1 ({area}) {exch} {line}", f"+1-{area}-{exch}-{line}"][fmt]
    return s, "1" + area + exch + line


# country code, national significant number length(s), leading digits,
# groupings to write the national number in.
INTL = [
    ("44", 10, "27", [(2, 4, 4), (4, 6), (3, 3, 4)]),
    ("49", 10, "1235789", [(2, 8), (3, 7), (3, 3, 4)]),
    ("33", 9, "1234567", [(1, 2, 2, 2, 2)]),
    ("234", 10, "789", [(3, 3, 4)]),
    ("91", 10, "6789", [(5, 5), (4, 3, 3)]),
    ("61", 9, "2378", [(1, 4, 4), (3, 3, 3)]),
    ("7", 10, "49", [(3, 3, 2, 2), (3, 7)]),
    ("27", 9, "1678", [(2, 3, 4)]),
    ("63", 10, "9", [(3, 3, 4)]),
    ("34", 9, "6789", [(3, 3, 3), (3, 2, 2, 2)]),
    ("39", 10, "3", [(3, 3, 4)]),
    ("31", 9, "16", [(1, 8), (2, 3, 4)]),
    ("86", 11, "1", [(3, 4, 4)]),
    ("233", 9, "25", [(2, 3, 4)]),
    ("971", 9, "5", [(2, 3, 4)]),
]


def intl(r):
    cc, nlen, lead, groups = r.choice(INTL)
    nsn = digits(r, nlen, lead)
    g = r.choice(groups)
    parts, i = [], 0
    for k in g:
        parts.append(nsn[i:i + k])
        i += k
    sep = r.choice((" ", " ", "-", ".", ""))
    body = sep.join(parts) if sep else nsn
    pre = r.choice(("+" + cc + " ", "+" + cc + " ", "00" + cc + " ",
                    "+" + cc + "-", "+" + cc))
    return pre + body, cc + nsn


def gen_phones(r, n):
    seen, out = set(), []
    while len(out) < n:
        s, key = nanp(r) if r.random() < 0.55 else intl(r)
        uniq_add(seen, out, s, key)
    return out


def gen_phrases(r, n):
    seen, out = set(), []
    while len(out) < n:
        k = r.randint(4, 9)
        p = " ".join(r.choice(VOCAB) for _ in range(k))
        if len(p) >= 24:
            uniq_add(seen, out, p)
    return out


def write(path, kind, entries, seed):
    with open(path, "w") as f:
        f.write(f"# synthetic {kind} for benchmarks: gen_rules.py seed {seed},"
                f" {len(entries)} entries (not real indicators)\n")
        f.write("\n".join(entries))
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--domains", type=int, default=10000)
    ap.add_argument("--phones", type=int, default=1000)
    ap.add_argument("--phrases", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("outdir")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    # One generator per kind: a kind's entries do not depend on the others.
    for kind, n, fn, off in (("domains", a.domains, gen_domains, 1),
                             ("phones", a.phones, gen_phones, 2),
                             ("phrases", a.phrases, gen_phrases, 3)):
        if n > 0:
            r = random.Random(a.seed * 1000 + off)
            write(os.path.join(a.outdir, "gen." + kind), kind, fn(r, n),
                  a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
