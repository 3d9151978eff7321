#!/bin/sh
# test_feedsig.sh: feeds with a detached signature (config signature,
# pubkey, signature_kind).  Keys and signatures are made here with the
# real tools, signify-openbsd and minisign (prehashed and legacy), and
# served by the real HTTPS server of the feed tests (tests/feeds/server.py,
# with the Dovecot harness's test CA) or read from file://.  A good
# signature of either kind lets the list replace the copy; a 304 fetches
# no signature; a wrong key (another key number, or the same number with
# other key bytes), a tampered list, a tampered trusted comment, a missing
# (404), garbage, truncated, oversized or slow signature, and a signature
# of the other kind each keep the last good copy, are logged once and
# shown by `imapsift feeds`.  A copy fetched before a key was configured
# is fetched again and verified rather than kept through a 304.  Last, a
# sweep against the harness's Dovecot moves exactly the mail whose URL
# domain is in the verified list, not the one only a tampered download
# had.  Environment: IMAPSIFT (the binary), TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
. "$TOP/tests/integration/dovecot.sh"
. "$TOP/tests/feeds/server.sh"
tmp=$(mktemp -d)
trap 'feed_server_stop; dovecot_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }

for t in signify-openbsd minisign python3; do
	command -v $t >/dev/null || { no tools "$t is not installed"; finish; }
done
dovecot_start || { no start "dovecot_start failed"; finish; }

www=$tmp/www state=$tmp/state k=$tmp/keys
mkdir -p "$www" "$tmp/rules" "$k"
: > "$tmp/http.log"
printf 'not-used.example\n' > "$tmp/rules/base.domains"
feed_server_start "$www" "$tmp" ||
    { no server_start "$(cat "$tmp/server.err")"; finish; }
base=https://localhost:$FEED_PORT

# --- keys and signatures, made with the real tools ------------------------
keys() {
	signify-openbsd -G -n -c "test key" -p "$k/s.pub" -s "$k/s.sec" &&
	signify-openbsd -G -n -c "other key" -p "$k/s2.pub" -s "$k/s2.sec" &&
	minisign -G -W -p "$k/m.pub" -s "$k/m.key" &&
	minisign -G -W -p "$k/m2.pub" -s "$k/m2.key"
} </dev/null >"$tmp/keys.log" 2>&1
keys || { no keygen "$(cat "$tmp/keys.log")"; finish; }
spub=$(sed -n 2p "$k/s.pub") s2pub=$(sed -n 2p "$k/s2.pub")
mpub=$(sed -n 2p "$k/m.pub") m2pub=$(sed -n 2p "$k/m2.pub")
# The first key's number with the second key's Ed25519 bytes: only the
# signature itself can tell it is not the signer's key.
spub_samenum=$(python3 -c 'import base64, sys
a = base64.b64decode(sys.argv[1]); b = base64.b64decode(sys.argv[2])
print(base64.b64encode(a[:10] + b[10:]).decode())' "$spub" "$s2pub")

# sign FILE: FILE.sig (signify), FILE.minisig (prehashed), FILE.lminisig
# (legacy), FILE.sig2 and FILE.minisig2 (the other keys).
sign() {
	signify-openbsd -S -s "$k/s.sec" -m "$1" -x "$1.sig" &&
	signify-openbsd -S -s "$k/s2.sec" -m "$1" -x "$1.sig2" &&
	minisign -S -s "$k/m.key" -m "$1" -x "$1.minisig" \
	    -t "feed $(basename "$1") prehashed" &&
	minisign -S -l -s "$k/m.key" -m "$1" -x "$1.lminisig" \
	    -t "feed $(basename "$1") legacy" &&
	minisign -S -s "$k/m2.key" -m "$1" -x "$1.minisig2"
} </dev/null >>"$tmp/keys.log" 2>&1

printf '# signed list\nsigned-spam.example\nsecond-signed.example\n' \
    > "$www/list"
printf 'signed-spam.example\nnew-signed.example\n' > "$www/new"
for f in list new; do
	sign "$www/$f" || { no sign "$(cat "$tmp/keys.log")"; finish; }
done
# The tools' own verdicts on what they made (a check of the fixtures).
signify-openbsd -V -q -p "$k/s.pub" -m "$www/list" -x "$www/list.sig" &&
    minisign -V -q -p "$k/m.pub" -m "$www/list" -x "$www/list.minisig" &&
    minisign -V -q -p "$k/m.pub" -m "$www/list" -x "$www/list.lminisig" &&
    ok fixtures_verify_with_tools ||
    no fixtures_verify_with_tools "the tools reject their own signatures"
# A tampered list: the new list with one more line, beside new's signature.
cp "$www/new" "$www/tampered"
printf 'tampered-spam.example\n' >> "$www/tampered"
# A tampered trusted comment: new's minisig with its third line changed.
sed '3s/.*/trusted comment: feed new approved by someone else/' \
    "$www/new.minisig" > "$www/new.tc.minisig"
minisign -V -q -p "$k/m.pub" -m "$www/new" -x "$www/new.tc.minisig" \
    >/dev/null 2>&1 && no tc_fixture "minisign accepts the changed comment"
printf 'untrusted comment: hello\nthis is not base64 at all!\n' \
    > "$www/junk.sig"

copy=$state/feeds/main.domains
# conf URL KIND PUBKEY SIGURL [LINE...]: one feed "main" (KIND "-": no
# signature keys).
conf() {
	u=$1 kind=$2 pk=$3 su=$4
	shift 4
	dv_imapsift_conf "$tmp/config" alice "$state" "$tmp/rules"
	{
		printf 'feeds = ( { name = "main"; url = "%s";\n' "$u"
		printf '  ca_file = "%s";\n' "$CA_FILE"
		[ "$kind" = - ] || printf '  signature = "%s"; pubkey = "%s";
  signature_kind = "%s";\n' "$su" "$pk" "$kind"
		for l in "$@"; do printf '  %s\n' "$l"; done
		printf '} );\n'
	} >> "$tmp/config"
}
refresh() {
	timeout 60 "$IMAPSIFT" feeds -c "$tmp/config" --refresh \
	    > "$tmp/out" 2> "$tmp/err"
	rc=$?
}
entries() { grep -v '^[#@]' "$copy" 2>/dev/null; }
reqs() { grep -c " $1 " "$tmp/http.log"; }

# good NAME URL KIND PUBKEY SIGURL WANT: the list replaces the copy,
# whose entries are then WANT, and `feeds` says it was verified.
good() {
	name=$1 gwant=$6
	shift
	conf "$1" "$2" "$3" "$4"
	refresh
	if [ "$rc" -ne 0 ]; then
		no "$name" "rc $rc: $(cat "$tmp/err") $(cat "$tmp/out")"
	elif [ "$(entries)" != "$gwant" ]; then
		no "$name" "copy: $(entries | tr '\n' ' ')"
	elif ! grep -q 'signature: .*copy verified' "$tmp/out"; then
		no "$name" "not shown as verified: $(cat "$tmp/out")"
	else
		ok "$name"
	fi
}
L1=$(printf 'signed-spam.example\nsecond-signed.example')
L2=$(printf 'signed-spam.example\nnew-signed.example')

# --- good signatures ------------------------------------------------------
good signify_good "$base/ok/list" signify "$spub" "$base/ok/list.sig" "$L1"
good minisign_prehashed_good "$base/ok/new" minisign "$mpub" \
    "$base/ok/new.minisig" "$L2"
grep -q 'trusted comment: feed new prehashed' "$tmp/out" &&
    ok minisign_shows_trusted_comment ||
    no minisign_shows_trusted_comment "$(cat "$tmp/out")"
good minisign_legacy_good "$base/ok/list" minisign "$mpub" \
    "$base/ok/list.lminisig" "$L1"
good signify_file_url "file://$www/new" signify "$spub" \
    "file://$www/new.sig" "$L2"

# A 304 on the list fetches no signature and keeps the copy.
good minisign_again "$base/ok/list" minisign "$mpub" \
    "$base/ok/list.minisig" "$L1"
n0=$(reqs /ok/list.minisig)
before=$(stat -c %Y.%i "$copy")
refresh
last=$(grep ' /ok/list ' "$tmp/http.log" | tail -n 1)
[ "$rc" -eq 0 ] && case $last in *' 304') true ;; *) false ;; esac &&
    [ "$(reqs /ok/list.minisig)" -eq "$n0" ] && [ "$n0" -gt 0 ] &&
    [ "$(stat -c %Y.%i "$copy")" = "$before" ] &&
    grep -q 'copy verified' "$tmp/out" && ok not_modified_no_signature_fetch ||
    no not_modified_no_signature_fetch "rc $rc, $last, sig fetches $n0 -> $(reqs /ok/list.minisig)"
cp "$copy" "$tmp/good"

# bad NAME URL KIND PUBKEY SIGURL [LINE...]: the download of the list
# (changed since the copy) is refused for its signature; the copy stays,
# the reason is in `feeds` (containing $want) and is logged once over two
# refreshes.
bad() {
	name=$1
	shift
	conf "$@"
	# (as after a good fetch: the case before may have had this error)
	sed -i 's/^error .*/error /' "$state/feeds/.state/main.state"
	refresh
	e1=$(grep -c 'feed main:' "$tmp/err")
	shown=$(sed -n '/^main:/,/last error/p' "$tmp/out" | tail -n 1)
	refresh
	e2=$(grep -c 'feed main:' "$tmp/err")
	if [ "$rc" -ne 1 ]; then
		no "$name" "rc $rc: $(cat "$tmp/err") $(cat "$tmp/out")"
	elif ! cmp -s "$copy" "$tmp/good"; then
		no "$name" "copy changed: $(entries | tr '\n' ' ')"
	elif [ "$e1" -ne 1 ] || [ "$e2" -ne 0 ]; then
		no "$name" "logged $e1 then $e2 times: $(cat "$tmp/err")"
	else
		case $shown in
		*'last error: none'*) no "$name" "no error shown" ;;
		*"$want"*) ok "$name" ;;
		*) no "$name" "shown: $shown (want: $want)" ;;
		esac
	fi
}
want='signature: made with key'
bad signify_wrong_key_kept "$base/ok/new" signify "$spub" "$base/ok/new.sig2"
bad minisign_wrong_key_kept "$base/ok/new" minisign "$mpub" \
    "$base/ok/new.minisig2"
want='does not verify'
bad same_keynum_other_key_kept "$base/ok/new" signify "$spub_samenum" \
    "$base/ok/new.sig"
bad signify_tampered_list_kept "$base/ok/tampered" signify "$spub" \
    "$base/ok/new.sig"
bad minisign_tampered_list_kept "$base/ok/tampered" minisign "$mpub" \
    "$base/ok/new.minisig"
bad minisign_legacy_tampered_kept "$base/ok/tampered" minisign "$mpub" \
    "$base/ok/new.lminisig"
want='the trusted comment does not verify'
bad minisign_tampered_comment_kept "$base/ok/new" minisign "$mpub" \
    "$base/ok/new.tc.minisig"
want='signature: HTTP status 404'
bad signature_missing_404_kept "$base/ok/new" signify "$spub" \
    "$base/ok/new.nosuch.sig"
want='not a signify signature file'
bad signature_garbage_kept "$base/ok/new" signify "$spub" \
    "$base/garbage/new.sig"
bad signature_not_base64_kept "$base/ok/new" signify "$spub" \
    "$base/ok/junk.sig"
want='signature: '
bad signature_truncated_kept "$base/ok/new" minisign "$mpub" \
    "$base/truncated/new.minisig"
want='signature: larger than 16384 bytes'
bad signature_oversized_kept "$base/ok/new" signify "$spub" \
    "$base/oversized/new.sig"
want='signature: timed out after 2 s'
bad signature_slow_kept "$base/ok/new" signify "$spub" "$base/slow/new.sig" \
    'timeout = 2;'
want='no trusted comment line'
bad signify_file_as_minisign_kept "$base/ok/new" minisign "$spub" \
    "$base/ok/new.sig"
want='not a signify signature (algorithm 4544)'
bad minisign_prehashed_as_signify_kept "$base/ok/new" signify "$mpub" \
    "$base/ok/new.minisig"

# --- a key added to a feed: the unverified copy is not kept by a 304 ----
rm -rf "$state"
conf "$base/ok/tampered" - - -
refresh
grep -qx 'tampered-spam.example' "$copy" || no unsigned_fetch "$(cat "$tmp/err")"
conf "$base/ok/tampered" signify "$spub" "$base/ok/new.sig"
refresh
last=$(grep ' /ok/tampered ' "$tmp/http.log" | tail -n 1)
[ "$rc" -eq 1 ] && grep -q 'last error: signature: the list does not verify' \
    "$tmp/out" && grep -q 'copy not verified with it' "$tmp/out" &&
    case $last in *' - - 200') true ;; *) false ;; esac &&
    ok key_added_refetches_unconditionally ||
    no key_added_refetches_unconditionally "rc $rc, $last: $(cat "$tmp/out")"
rm -rf "$state"
conf "$base/ok/new" - - -
refresh
conf "$base/ok/new" signify "$spub" "$base/ok/new.sig"
n0=$(reqs /ok/new.sig)
refresh
[ "$rc" -eq 0 ] && [ "$(reqs /ok/new.sig)" -eq $((n0 + 1)) ] &&
    grep -q 'copy verified' "$tmp/out" && ok key_added_verifies_copy ||
    no key_added_verifies_copy "rc $rc: $(cat "$tmp/out")"

# --- bad config -----------------------------------------------------------
dv_imapsift_conf "$tmp/badconf" alice "$state" "$tmp/rules"
cat >> "$tmp/badconf" <<EOF
feeds = (
  { name = "a"; url = "https://x.example/l"; signature = "https://x.example/l.sig"; },
  { name = "b"; url = "https://x.example/l"; signature = "http://x.example/l.sig";
    pubkey = "$spub"; signature_kind = "minisign"; },
  { name = "c"; url = "https://x.example/l"; signature = "https://x.example/l.sig";
    pubkey = "RWSnotakey"; signature_kind = "signify"; },
  { name = "d"; url = "https://x.example/l"; signature = "https://x.example/l.sig";
    pubkey = "$spub"; signature_kind = "gpg"; }
);
EOF
"$IMAPSIFT" feeds -c "$tmp/badconf" > "$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q 'signature, pubkey and signature_kind go together' \
    "$tmp/out" && grep -q 'feed: signature: must start with https' \
    "$tmp/out" && grep -q 'pubkey: expected' "$tmp/out" &&
    grep -q 'signature_kind: expected' "$tmp/out" && ok bad_config ||
    no bad_config "rc $rc $(cat "$tmp/out")"

# --- an old list served again: minisign's signed timestamps ---------------
# Three versions signed by the same key, their trusted comments in the
# form minisign writes by default ("timestamp:N<TAB>file:NAME"), served
# in turn at one URL: the older one after the newer is refused and the
# copy stays; a newer one replaces it.
rm -rf "$state"
sigt() {	# FILE TIMESTAMP
	minisign -S -s "$k/m.key" -m "$1" -x "$1.tminisig" \
	    -t "$(printf 'timestamp:%s\tfile:%s' "$2" "$(basename "$1")")"
} </dev/null >>"$tmp/keys.log" 2>&1
printf 'v1-spam.example\n' > "$www/v1"
printf 'v2-spam.example\n' > "$www/v2"
printf 'v3-spam.example\n' > "$www/v3"
sigt "$www/v1" 1900000000 && sigt "$www/v2" 2000000000 &&
    sigt "$www/v3" 2100000000 || no sign_timestamps "$(cat "$tmp/keys.log")"
serve() { cp "$www/$1" "$www/cur" && cp "$www/$1.tminisig" "$www/cur.sig"; }
conf "$base/ok/cur" minisign "$mpub" "$base/ok/cur.sig"
serve v2
refresh
[ "$rc" -eq 0 ] && [ "$(entries)" = v2-spam.example ] &&
    ok timestamped_copy || no timestamped_copy "rc $rc: $(cat "$tmp/err")"
serve v1
refresh
e1=$(grep -c 'feed main: signature: signed at 2030-03-17 17:46:40 UTC, before the copy in use (signed at 2033-05-18 03:33:20 UTC)' "$tmp/err")
refresh
[ "$rc" -eq 1 ] && [ "$(entries)" = v2-spam.example ] && [ "$e1" = 1 ] &&
    [ "$(grep -c 'feed main:' "$tmp/err")" = 0 ] &&
    grep -q 'last error: signature: signed at 2030-03-17.*an old list served again' \
    "$tmp/out" && ok older_list_refused ||
    no older_list_refused "rc $rc, copy $(entries), logged $e1: $(cat "$tmp/out")"
serve v3
refresh
[ "$rc" -eq 0 ] && [ "$(entries)" = v3-spam.example ] &&
    grep -q 'last error: none' "$tmp/out" && ok newer_list_replaces ||
    no newer_list_replaces "rc $rc, copy $(entries): $(cat "$tmp/err")"

# --- sweep: the verified list's entries, not the tampered download's ------
rm -rf "$state"
good sweep_feed "$base/ok/new" minisign "$mpub" "$base/ok/new.minisig" "$L2"
conf "$base/ok/tampered" minisign "$mpub" "$base/ok/new.minisig"
msg() {	# ID URL
	printf 'From: Sender <s@sender.test>\r\nTo: alice@example.org\r\n'
	printf 'Subject: offer %s\r\nMessage-ID: <%s>\r\n' "$1" "$1"
	printf 'Date: %s\r\n\r\nSee %s now.\r\n' "$(date -R)" "$2"
}
msg sig-1@t https://www.new-signed.example/x > "$tmp/m1.eml"
msg sig-2@t https://tampered-spam.example/x > "$tmp/m2.eml"
msg sig-3@t https://clean-site.example/x > "$tmp/m3.eml"
for m in m1 m2 m3; do dv_append alice INBOX "$tmp/$m.eml"; done
# The copy is stale: the sweep fetches the tampered list and refuses it.
sed -i 's/^fetched .*/fetched 1000/' "$state/feeds/.state/main.state"
timeout 60 "$IMAPSIFT" sweep -c "$tmp/config" > "$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ "$(dv_list alice Junk)" = '<sig-1@t>' ] &&
    [ "$(dv_list alice INBOX)" = "$(printf '<sig-2@t>\n<sig-3@t>')" ] &&
    grep -q 'feed main: signature: the list does not verify' "$tmp/out" &&
    ok sweep_uses_verified_copy ||
    no sweep_uses_verified_copy "rc $rc junk [$(dv_list alice Junk)] $(cat "$tmp/out")"

finish
