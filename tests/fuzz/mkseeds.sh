#!/bin/sh
# mkseeds.sh: (re)makes tests/fuzz/seeds/TARGET from the project's own
# fixtures: messages for classify, bounce and paths, config files for conf, rule
# lists per suffix for list_*, and IMAP server replies (some wrapping the
# fixture messages in FETCH literals) for imap.  Run from anywhere; the
# output is committed, so a fuzz run needs no fixtures but the rules.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=tests/fuzz/seeds
rm -rf "$out"
mkdir -p "$out"

# copy TARGET FILE...: each file as DIR-NAME (fixtures repeat names).
copy() {
	t=$1
	shift
	mkdir -p "$out/$t"
	for f in "$@"; do
		[ -f "$f" ] || continue
		d=$(basename "$(dirname "$f")")
		cp "$f" "$out/$t/$d-$(basename "$f")"
	done
}

copy classify tests/fixtures/msg/*.eml tests/fixtures/cli/*.eml \
    tests/fixtures/cli/spam/*.eml tests/fixtures/cli/ham/*.eml \
    tests/fixtures/sweep/*.eml tests/fixtures/imap/*.eml \
    tests/fixtures/demo/inbox/*.eml
copy bounce tests/fixtures/bounce/*.eml tests/fixtures/cli/bounce/*.eml
# paths: the messages of both (fast and slow paths compared on each)
mkdir -p "$out/paths"
cp "$out"/classify/* "$out"/bounce/* "$out/paths/"
copy conf tests/fixtures/conf/good/*.conf tests/fixtures/conf/bad/*.conf \
    conf/imapsift.conf.example
for k in domains phones phrases regex allow; do
	copy "list_$k" rules/lists/*."$k" tests/fixtures/rules/good/*."$k" \
	    tests/fixtures/rules/bad/*."$k" tests/fixtures/cli/rules/*."$k" \
	    tests/fixtures/cli/badrules/*."$k" \
	    tests/fixtures/sweep/rules/*."$k" tests/fixtures/demo/rules/*."$k"
done

# feedsig: the first byte picks the kind (fuzz_feedsig.c: "0" minisign,
# "1" signify), the rest is the signature file.
mkdir -p "$out/feedsig"
for f in list.minisig list.lminisig; do
	{ printf 0; cat "tests/fixtures/feedsig/$f"; } > "$out/feedsig/$f"
done
{ printf 1; cat tests/fixtures/feedsig/list.sig; } > "$out/feedsig/list.sig"

# dnsbl: the first byte picks the zone's settings (fuzz_dnsbl.c), the
# rest is an answer to "x.example.dbl.test A": listed, NXDOMAIN with its
# SOA, two addresses, and packets that break off inside a record.
mkdir -p "$out/dnsbl"
python3 - "$out/dnsbl" <<'PY'
import os, struct, sys
d = sys.argv[1]
def name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"
q = name("x.example.dbl.test") + struct.pack(">HH", 1, 1)
def pkt(flags, an, ns, body):
    return struct.pack(">HHHHHH", 0x1234, flags, 1, an, ns, 0) + q + body
def a(ip, ttl=3600):
    return b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, ttl, 4) + bytes(ip)
soa = name("ns.dbl.test") + name("h.dbl.test") + struct.pack(">IIIII", 1, 3600, 600, 86400, 300)
seeds = {
    "listed": b"\2" + pkt(0x8180, 1, 0, a([127, 0, 1, 2])),
    "bitmask": b"\1" + pkt(0x8180, 1, 0, a([127, 0, 0, 6])),
    "two": b"\0" + pkt(0x8180, 2, 0, a([127, 0, 0, 2]) + a([127, 255, 255, 254], 60)),
    "nxdomain": b"\2" + pkt(0x8183, 0, 1, b"\xc0\x16" + struct.pack(">HHIH", 6, 1, 300, len(soa)) + soa),
    "cut-rdata": b"\0" + pkt(0x8180, 2, 0, a([127, 0, 1, 2]))[:-2],
    "cut-name": b"\3" + pkt(0x8180, 2, 0, a([127, 0, 1, 2]) + b"\x28cut"),
}
for k, v in seeds.items():
    with open(os.path.join(d, k), "wb") as f:
        f.write(v)
PY

# imap: the first byte picks the command (fuzz_imap.c), the rest is the
# reply to tag 2; the replies of what fuzzing found (tests/fixtures/fuzz)
# among them.
mkdir -p "$out/imap"
for f in tests/fixtures/fuzz/imap-*.reply; do
	n=${f##*/imap-}
	cp "$f" "$out/imap/${n%.reply}"
done
crlf() { sed 's/$/\r/'; }
fetch() {	# name uid file: UID FETCH with the file as BODY[]<0>
	n=$(crlf < "$3" | wc -c)
	{ printf '0* 1 FETCH (UID %s FLAGS (\\Seen $Junk) INTERNALDATE ' "$2"
	  printf '"17-Jul-1996 02:44:25 -0700" BODY[]<0> {%s}\r\n' "$n"
	  crlf < "$3"
	  printf ')\r\n* 9 FETCH (FLAGS (\\Deleted))\r\n2 OK done\r\n'
	} > "$out/imap/$1"
}
fetch fetch-spam 5 tests/fixtures/imap/spam.eml
fetch fetch-ham 7 tests/fixtures/imap/ham.eml
n=$(sed -n '/^$/q;p' tests/fixtures/sweep/sent.eml | crlf | wc -c)
{ printf '1* 1 FETCH (UID 4 BODY[HEADER.FIELDS (Message-ID To Cc Date)]'
  printf ' {%s}\r\n' "$n"
  sed -n '/^$/q;p' tests/fixtures/sweep/sent.eml | crlf
  printf ')\r\n2 OK done\r\n'
} > "$out/imap/headers"
printf '2* SEARCH 4 9 2\r\n2 OK done\r\n' > "$out/imap/search"
printf '3* LIST (\\HasNoChildren \\Junk) "/" "Junk"\r\n* LIST (\\Noselect) "/" "&AOQ-b"\r\n* LIST () NIL INBOX\r\n* LIST (\\Sent) "." {4}\r\nSent\r\n2 OK done\r\n' > "$out/imap/list"
printf '4* 10 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 3857529045] v\r\n* OK [UIDNEXT 4392] n\r\n* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] p\r\n2 OK [READ-WRITE] done\r\n' > "$out/imap/select"
printf '5* STATUS Sent (MESSAGES 3 UIDNEXT 9 UIDVALIDITY 7 UNSEEN 0)\r\n2 OK STATUS done\r\n' > "$out/imap/status"
printf '6* 22 EXPUNGE\r\n* 23 EXISTS\r\n* 3 RECENT\r\n* 14 FETCH (FLAGS (\\Seen \\Deleted))\r\n* CAPABILITY IMAP4rev1 IDLE MOVE UIDPLUS\r\n* OK [ALERT] hello\r\n2 OK NOOP done\r\n' > "$out/imap/noop"
printf '0* BYE shutting down\r\n' > "$out/imap/bye"
printf '4* OK [CLOSED] c\r\n2 NO [NONEXISTENT] no such mailbox\r\n' > "$out/imap/select-no"
printf '0* 1 FETCH (UID 3 BODY[] NIL)\r\n2 BAD what\r\n' > "$out/imap/fetch-bad"
