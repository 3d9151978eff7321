#!/bin/sh
# backscatter.sh BIN CORPORA: measures bounce recognition, original
# Message-ID extraction and the backscatter verdict on real mail.
#
#  (a) files labelled bounce, arf, autoreply (and mdn): the share that
#      imapsift recognises (verdict bounce, backscatter or bounce-unknown),
#      per label and per corpus, and per family (the report kind: dsn,
#      ndr, arf, autoreply, mdn, list);
#  (b) recognised bounce and arf files: the share whose extracted original
#      Message-ID equals the one tests/eval/reader.py (an independent,
#      conservative reader) picks; misses by corpus and MTA family;
#  (c) spam, phish, ham and other files judged as bounces;
#  (d) a sent-ID file made of every other recognised bounce's original ID
#      (even index in path order: the user sent it; odd: backscatter), then
#      classify --sent-ids: legit bounces moved, backscatter recall.
#
# Runs (a) to (c) without rule lists, so that no indicator verdict hides a
# bounce verdict; (d) with the shipped starter lists, as a user would.
# Key lines start with "(a)" ... "(d)" and are meant to be grepped.
set -u
usage="usage: backscatter.sh BIN CORPORA"
bin=${1:?$usage}
corpora=$(cd "${2:?$usage}" && pwd) || exit 2
case $bin in
*/*) bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin") ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
labels=$corpora/labels.tsv
[ -f "$labels" ] || { echo "backscatter: no $labels" >&2; exit 2; }
tmp=$(mktemp -d) || exit 2
export PYTHONDONTWRITEBYTECODE=1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

cd "$corpora" || exit 2
awk -F'\t' 'NR > 1 { print $1 }' "$labels" | sort > "$tmp/all"
awk -F'\t' 'NR > 1 && ($2 == "bounce" || $2 == "arf" || $2 == "autoreply" ||
    $2 == "mdn" || $2 == "other") { print $1 }' "$labels" | sort > "$tmp/side"

# Run 1: every labelled file, no rules, no sent record.
tr '\n' '\0' < "$tmp/all" | xargs -0 "$bin" classify \
    > "$tmp/v1" 2> "$tmp/v1.err"
echo "exit=$?" >> "$tmp/v1.err"

# The reader on the bounce side of the labels.
python3 "$here/reader.py" --from "$tmp/side" > "$tmp/reader" || exit 1

if "$bin" classify --help 2>&1 | grep -q -- '--sent-ids'; then
	have_sent=1
else
	have_sent=0
fi

cat > "$tmp/analyse.py" <<'EOF'
import os
import re
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.environ["HERE"])
from reader import normalise  # noqa: E402

mode, tmp, labels_path = sys.argv[1], sys.argv[2], sys.argv[3]
BOUNCEISH = ("bounce", "backscatter", "bounce-unknown")
ORIG_RE = re.compile(r"original <([^>]*)>")


def pct(n, d):
    return "%d/%d = %.2f%%" % (n, d, 100.0 * n / d) if d else "%d/0 = n/a" % n


def load_labels():
    lab, cor = {}, {}
    with open(labels_path, encoding="utf-8") as f:
        next(f)
        for line in f:
            p, l, c = line.rstrip("\n").split("\t")
            lab[p], cor[p] = l, c
    return lab, cor


def load_verdicts(path):
    v = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            reasons = parts[2] if len(parts) > 2 else ""
            v[parts[0]] = (parts[1], reasons)
    return v


def extracted(reasons):
    m = ORIG_RE.search(reasons)
    return m.group(1) if m else None


def kind(verdict, reasons):
    m = re.match(re.escape(verdict) + r":(\w+)", reasons)
    return m.group(1) if m else "?"


def family(path):
    name = os.path.basename(path)
    if path.startswith("sisimai-set-of-emails/"):
        return re.sub(r"-\d+$", "", re.sub(r"\.eml$", "", name))
    if path.startswith("bounce-flufl-bounce/"):
        return re.sub(r"_\d+$", "", re.sub(r"\.txt$", "", name))
    return "other"


def load_reader():
    r = {}
    with open(os.path.join(tmp, "reader"), encoding="utf-8") as f:
        for line in f:
            p, mid, src = (line.rstrip("\n").split("\t") + ["", ""])[:3]
            # "attached own": the quoted ID equals the bounce's own.
            r[p] = (mid or None, src.split(" ")[0], src.endswith(" own"))
    return r


lab, cor = load_labels()
v1 = load_verdicts(os.path.join(tmp, "v1"))
reader = load_reader()
recognised_labels = ("bounce", "arf", "autoreply", "mdn")


def recognised(p):
    return p in v1 and v1[p][0] in BOUNCEISH


def part_abc():
    missing = [p for p in lab if p not in v1]
    print("classify run 1: %d files, %d verdict lines, %d missing"
          % (len(lab), len(v1), len(missing)))
    for p in missing[:5]:
        print("  no verdict: " + p)

    # (a) recognition.
    print()
    print("== (a) recognition: verdict bounce/backscatter/bounce-unknown")
    print("%-10s %-30s %6s %6s %8s  %s" % ("label", "corpus", "files",
                                          "recog", "rate", "kinds"))
    unrec = []
    for l in recognised_labels:
        per = defaultdict(lambda: [0, 0, Counter()])
        for p in sorted(lab):
            if lab[p] != l:
                continue
            e = per[cor[p]]
            e[0] += 1
            if recognised(p):
                e[1] += 1
                e[2][kind(*v1[p])] += 1
            else:
                unrec.append(p)
        for c in sorted(per):
            n, k, kinds = per[c]
            print("%-10s %-30s %6d %6d %7.2f%%  %s" % (
                l, c, n, k, 100.0 * k / n,
                " ".join("%s=%d" % kv for kv in sorted(kinds.items()))))
    for l in recognised_labels:
        files = [p for p in lab if lab[p] == l]
        k = sum(1 for p in files if recognised(p))
        target = " (target >= 99%)" if l in ("bounce", "arf") else ""
        if not files:
            print("(a) %s recognised: no file has this label" % l)
        else:
            print("(a) %s recognised: %s%s" % (l, pct(k, len(files)), target))
    # Per family: the report kind each recognised file got (dsn, ndr,
    # arf, autoreply, mdn, list), over every label, and for each kind
    # its share of the bounce-side files.
    fam = defaultdict(Counter)
    side = [p for p in lab if lab[p] in recognised_labels]
    for p in side:
        if recognised(p):
            fam[kind(*v1[p])][lab[p]] += 1
    for k in ("dsn", "ndr", "arf", "autoreply", "mdn", "list"):
        n = sum(fam[k].values())
        print("(a) family %-9s %5d recognised (%s of bounce-side files)%s"
              % (k, n, pct(n, len(side)), "".join(
                  " %s=%d" % kv for kv in sorted(fam[k].items()))))
    if unrec:
        print("  not recognised (%d):" % len(unrec))
        for p in unrec[:30]:
            print("    %s [%s] %s: %s" % (p, lab[p], v1.get(p, ("?",))[0],
                                        v1.get(p, ("", ""))[1][:100]))
        if len(unrec) > 30:
            print("    ... and %d more" % (len(unrec) - 30))

    # (b) extraction against the reader.
    print()
    print("== (b) original Message-ID: imapsift against reader.py"
          " (recognised bounce and arf files)")
    allb = [p for p in sorted(lab) if lab[p] in ("bounce", "arf")]
    print("(b) reader finds an original ID in %s of all bounce/arf files"
          % pct(sum(1 for p in allb if reader.get(p, (None,))[0]), len(allb)))
    rec = [p for p in allb if recognised(p)]
    quoting = [p for p in rec if reader.get(p, (None,))[0]]
    ims = [p for p in rec if extracted(v1[p][1])]
    src = Counter(reader[p][1] for p in quoting)
    print("(b) recognised bounce/arf files: %d; reader finds an ID in %d (%s);"
          " imapsift extracts one from %d"
          % (len(rec), len(quoting),
             ", ".join("%s %d" % kv for kv in sorted(src.items())), len(ims)))
    agree, miss = [], []
    for p in quoting:
        a = extracted(v1[p][1])
        if a is not None and normalise(a) == normalise(reader[p][0]):
            agree.append(p)
        else:
            miss.append(p)
    print("(b) extracted ID equals reader's: %s (target >= 95%%)"
          % pct(len(agree), len(quoting)))
    print("  by reader source: " + ", ".join(
        "%s %s" % (s_, pct(sum(1 for p in agree if reader[p][1] == s_),
                           sum(1 for p in quoting if reader[p][1] == s_)))
        for s_ in sorted(src)))
    extra = [p for p in rec if not reader.get(p, (None,))[0]
             and extracted(v1[p][1])]
    print("(b) imapsift has an ID where the reader has none: %d" % len(extra))
    if miss:
        by_c = Counter(cor[p] for p in miss)
        by_f = Counter(family(p) for p in miss)
        nomid = sum(1 for p in miss if not extracted(v1[p][1]))
        print("(b) misses: %d (%d with no ID from imapsift, %d with another"
              " ID)" % (len(miss), nomid, len(miss) - nomid))
        print("  by corpus: " + ", ".join(
            "%s %d" % kv for kv in sorted(by_c.items(), key=lambda x: -x[1])))
        print("  by MTA family: " + ", ".join(
            "%s %d" % kv for kv in sorted(by_f.items(), key=lambda x: -x[1])))
        own = [p for p in miss if reader[p][2]]
        if own:
            print("  of which the quoted ID equals the bounce's own"
                  " Message-ID (reused upstream): %d" % len(own))
        for p in miss[:20]:
            print("  miss %s\n      reader   <%s> (%s)\n      imapsift %s" % (
                p, reader[p][0], reader[p][1] + (", = own ID" if reader[p][2]
                                                 else ""),
                "<%s>" % extracted(v1[p][1]) if extracted(v1[p][1])
                else "none: " + v1[p][1][:90]))
        if len(miss) > 20:
            print("  ... and %d more" % (len(miss) - 20))
    for p in extra[:10]:
        print("  imapsift only %s <%s>" % (p, extracted(v1[p][1])))

    # (c) non-bounces judged as bounces.
    print()
    print("== (c) non-bounce files judged as bounces")
    hits = []
    for l in ("spam", "phish", "ham", "other"):
        files = [p for p in sorted(lab) if lab[p] == l]
        h = [p for p in files if recognised(p)]
        hits += [(l, p) for p in h]
        target = " (target 0)" if l == "ham" else ""
        print("(c) %s judged bounce: %d of %d%s" % (l, len(h), len(files),
                                                   target))
    for l, p in hits[:50]:
        print("  %s [%s] %s: %s" % (p, l, v1[p][0], v1[p][1][:100]))

    # The set-up of (d): which recognised file is legit, which backscatter.
    rec_all = [p for p in sorted(lab) if lab[p] in
               ("bounce", "arf", "autoreply", "mdn") and recognised(p)]
    with_id, no_id = [], []
    for p in rec_all:
        mid = reader.get(p, (None,))[0] or extracted(v1[p][1])
        (with_id if mid else no_id).append((p, mid))
    with open(os.path.join(tmp, "sent-ids"), "w", encoding="utf-8") as s, \
            open(os.path.join(tmp, "plan"), "w", encoding="utf-8") as plan:
        for i, (p, mid) in enumerate(with_id):
            role = "legit" if i % 2 == 0 else "scatter"
            if role == "legit":
                s.write("<%s>\n" % normalise(mid))
            plan.write("%s\t%s\t%s\n" % (p, role, mid))
        for p, _ in no_id:
            plan.write("%s\tnoid\t\n" % p)
    with open(os.path.join(tmp, "dfiles"), "w", encoding="utf-8") as f:
        for p in rec_all:
            f.write(p + "\n")


def part_d():
    v2 = load_verdicts(os.path.join(tmp, "v2"))
    plan = []
    with open(os.path.join(tmp, "plan"), encoding="utf-8") as f:
        for line in f:
            p, role, mid = line.rstrip("\n").split("\t")
            plan.append((p, role, mid))
    sent = set()
    with open(os.path.join(tmp, "sent-ids"), encoding="utf-8") as f:
        for line in f:
            sent.add(normalise(line.strip()))
    print()
    print("== (d) classify --sent-ids (starter lists): %d recognised files,"
          " %d IDs in the sent file" % (len(plan), len(sent)))
    legit = [x for x in plan if x[1] == "legit"]
    scatter = [x for x in plan if x[1] == "scatter"]
    noid = [x for x in plan if x[1] == "noid"]

    def verdict(p):
        return v2.get(p, ("missing", ""))

    moved = [x for x in legit if verdict(x[0])[0] in ("backscatter", "junk")]
    print("(d) legit bounces moved: %d of %d (target 0)"
          % (len(moved), len(legit)))
    print("  legit verdicts: " + ", ".join("%s %d" % kv for kv in sorted(
        Counter(verdict(p)[0] for p, _, _ in legit).items())))
    for p, _, mid in moved[:20]:
        print("  moved %s (sent <%s>): %s: %s" % (p, mid, verdict(p)[0],
                                                 verdict(p)[1][:100]))

    def collides(p, mid):
        ids = [mid, reader.get(p, (None,))[0], extracted(v1[p][1])]
        r2 = verdict(p)[1]
        ids += [m.group(1) for m in ORIG_RE.finditer(r2)]
        return any(i and normalise(i) in sent for i in ids)

    coll = [x for x in scatter if collides(x[0], x[2])]
    real = [x for x in scatter if not collides(x[0], x[2])]
    got = [x for x in real if verdict(x[0])[0] == "backscatter"]
    print("(d) backscatter recall: %s (odd files whose IDs are not in the"
          " sent set)" % pct(len(got), len(real)))
    rest = Counter(verdict(p)[0] for p, _, _ in real
                   if verdict(p)[0] != "backscatter")
    print("  the rest: " + (", ".join("%s %d" % kv for kv in sorted(
        rest.items())) or "none"))
    for p, _, mid in [x for x in real if verdict(x[0])[0] != "backscatter"][:20]:
        print("  not backscatter %s (<%s>): %s: %s" % (
            p, mid, verdict(p)[0], verdict(p)[1][:100]))
    print("(d) odd files sharing an ID with the sent set (reused IDs,"
          " legitimately bounce): %d; verdicts: %s" % (len(coll), ", ".join(
              "%s %d" % kv for kv in sorted(
                  Counter(verdict(p)[0] for p, _, _ in coll).items()))))
    for p, _, mid in coll[:10]:
        print("  shared %s <%s>: %s" % (p, mid, verdict(p)[0]))
    print("(d) recognised files with no original ID anywhere: %d; verdicts: %s"
          % (len(noid), ", ".join("%s %d" % kv for kv in sorted(
              Counter(verdict(p)[0] for p, _, _ in noid).items()))))


if mode == "abc":
    part_abc()
else:
    part_d()
EOF

echo "== imapsift backscatter evaluation: $bin on $corpora"
HERE=$here python3 "$tmp/analyse.py" abc "$tmp" "$labels" || exit 1
if grep -q -v '^exit=' "$tmp/v1.err"; then
	echo "  classify stderr (run 1), first lines:"
	grep -v '^exit=' "$tmp/v1.err" | head -5 | sed 's/^/    /'
fi

if [ "$have_sent" -eq 0 ]; then
	echo
	echo "(d) skipped: $bin classify has no --sent-ids option"
	exit 0
fi
if [ -d "$top/rules/lists" ]; then
	set -- -r "$top/rules/lists"
else
	set --
fi
tr '\n' '\0' < "$tmp/dfiles" | xargs -0 "$bin" classify "$@" \
    --sent-ids "$tmp/sent-ids" > "$tmp/v2" 2> "$tmp/v2.err"
HERE=$here python3 "$tmp/analyse.py" d "$tmp" "$labels" || exit 1
if [ -s "$tmp/v2.err" ]; then
	echo "  classify stderr (run 2), first lines:"
	head -5 "$tmp/v2.err" | sed 's/^/    /'
fi
exit 0
