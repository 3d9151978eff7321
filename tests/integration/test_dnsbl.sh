#!/bin/sh
# test_dnsbl.sh: URI DNS blocklists (config `dnsbl`) against a real DNS
# server on loopback (Unbound, tests/dnsbl/dns.sh, zones written here)
# answering listed (DBL 127.0.1.2, URIBL bitmask 127.0.0.2), not listed
# (NXDOMAIN with its SOA; codes that do not count by default: URIBL grey
# 127.0.0.4 and red 127.0.0.8, DBL abused redirector 127.0.1.103),
# blocked-resolver codes (Spamhaus 127.255.255.254, URIBL
# 127.0.0.1), an answer outside 127/8 and a zone that lists every name;
# and a scripted UDP peer in
# front of it for slow and never-answered queries.  Offline: config
# errors, explain of each answer, IP literals and allow-listed domains
# never asked (nor the big sites of harvest-skip.list),
# max_dnsbl_queries (a message's links asked before the URLs padding
# it), the answer cache (in the store: the
# server's query log shows no second query, and with the server stopped
# the cached answer still junks).  Against the harness's Dovecot: a
# sweep moves exactly the mail whose domains are listed (not a
# correspondent's domain), a blocked resolver moves nothing and says why
# once (log, `imapsift feeds`), its cool-down holds in the next run, a
# sweep whose queries time out neither stalls nor moves, a lying
# resolver's malformed answers neither count nor stay, and watch asks
# too.  Environment: IMAPSIFT (the binary), TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
. "$TOP/tests/integration/dovecot.sh"
. "$TOP/tests/dnsbl/dns.sh"
tmp=$(mktemp -d)
wpid=
trap '[ -n "$wpid" ] && kill "$wpid" 2>/dev/null; dns_stop; dovecot_stop
    rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# --- the DNS server ------------------------------------------------------
soa() { printf '  local-data: "%s. 3600 IN SOA ns.%s. h.%s. 1 3600 600 86400 300"\n' "$1" "$1" "$1"; }
{
	printf '  local-zone: "dbl.test." static\n'
	soa dbl.test
	for d in listed.example phish.example friend.example corr.example \
	    many7.example; do
		printf '  local-data: "%s.dbl.test. 3600 IN A 127.0.1.2"\n' "$d"
	done
	printf '  local-data: "redir.example.dbl.test. 3600 IN A 127.0.1.103"\n'
	printf '  local-zone: "uribl.test." static\n'
	soa uribl.test
	printf '  local-data: "black.example.uribl.test. 3600 IN A 127.0.0.2"\n'
	printf '  local-data: "grey.example.uribl.test. 3600 IN A 127.0.0.4"\n'
	printf '  local-data: "red.example.uribl.test. 3600 IN A 127.0.0.8"\n'
	printf '  local-zone: "blocked.test." redirect\n'
	printf '  local-data: "blocked.test. 300 IN A 127.255.255.254"\n'
	printf '  local-zone: "uriblocked.test." redirect\n'
	printf '  local-data: "uriblocked.test. 300 IN A 127.0.0.1"\n'
	printf '  local-zone: "outside.test." redirect\n'
	printf '  local-data: "outside.test. 300 IN A 192.0.2.1"\n'
	printf '  local-zone: "wild.test." redirect\n'
	printf '  local-data: "wild.test. 300 IN A 127.0.0.2"\n'
} > "$tmp/zones"
if ! dns_start "$tmp/dns" "$tmp/zones"; then
	no dns_start "unbound did not start"
	echo "$pass passed, $fail failed"
	exit 1
fi

mkdir -p "$tmp/rules" "$tmp/msg"
printf '# nothing the test mail uses\nnot-used.example\n' \
    > "$tmp/rules/base.domains"
printf 'friend.example\n' > "$tmp/rules/base.allow"

# msg NAME URL...: a message NAME.eml from a stranger with those URLs.
msg() {
	n=$1; shift
	{
		printf 'From: Someone <someone@sender.example>\n'
		printf 'To: alice@example.org\nSubject: %s\n' "$n"
		printf 'Message-ID: <%s@sender.example>\n' "$n"
		printf 'Date: %s\n\n' "$(date -R)"
		printf 'Hello, see'
		for u in "$@"; do printf ' %s' "$u"; done
		printf ' today.\n'
	} > "$tmp/msg/$n.eml"
}
msg listed https://www.listed.example/offer
msg clean http://clean.example/
msg black http://black.example/x
msg grey http://grey.example/x
msg red http://red.example/x
msg big https://www.google.com/maps https://mybucket.s3.amazonaws.com/x
msg redir https://go.redir.example/r?u=1
msg iplit http://192.0.2.7/x http://[2001:db8::1]/y
msg allowed https://shop.friend.example/
msg corr http://corr.example/
msg many http://many1.example/ http://many2.example/ http://many3.example/ \
    http://many4.example/ http://many5.example/ http://many6.example/ \
    http://many7.example/

# zones LINE...: the dnsbl list; conf STORE ZONES [GLOBAL...]: an offline
# config (no account) with the test server.
conf() {
	st=$1 zl=$2; shift 2
	mkdir -p "$st"
	chmod 700 "$st"
	umask 077
	{
		printf 'store = "%s";\nrules = [ "%s/rules" ];\n' "$st" "$tmp"
		printf 'dns_server = "127.0.0.1:%s";\n' "${port:-$DNS_PORT}"
		for l in "$@"; do printf '%s\n' "$l"; done
		printf 'dnsbl = (\n%s\n);\n' "$zl"
	} > "$tmp/config"
	umask 022
}
both='{ zone = "dbl.test"; kind = "dbl"; weight = 1; },
  { zone = "uribl.test"; kind = "uribl"; weight = 1; }'
explain() {
	timeout 60 "$IMAPSIFT" explain -c "$tmp/config" "$tmp/msg/$1.eml" \
	    > "$tmp/out" 2> "$tmp/err"
	rc=$?
}

# --- config errors -------------------------------------------------------
umask 077
cat > "$tmp/bad.conf" <<EOF
store = "$tmp/st-bad";
dns_server = "localhost:53";
max_dnsbl_queries = 5000;
dnsbl = (
  { zone = "dbl.test"; kind = "spamhaus"; },
  { kind = "dbl"; },
  { zone = "uribl.test"; kind = "uribl"; mask = 300; },
  { zone = "x.test"; codes = [ "127.0.0.2-127.0.0.1", "10.0.0.2" ]; },
  { zone = "dbl.test"; kind = "dbl"; colour = "red"; },
  { zone = "bad zone"; dqs_key = "a.b"; }
);
EOF
umask 022
"$IMAPSIFT" check -c "$tmp/bad.conf" > "$tmp/out" 2>&1
rc=$?
expect_err() {	# LINE TEXT
	grep -qF "bad.conf:$1: $2" "$tmp/out" || {
		no config_errors "no \"$1: $2\" in: $(cat "$tmp/out")"
		return 1
	}
}
[ "$rc" -eq 2 ] &&
    expect_err 2 'dns_server: "localhost:53": expected an IP address' &&
    expect_err 3 'max_dnsbl_queries: 5000 is out of range' &&
    expect_err 5 'dnsbl: kind: expected "dbl", "surbl", "uribl" or "generic"' &&
    expect_err 6 'dnsbl: zone is required' &&
    expect_err 7 'dnsbl: mask: expected an integer from 1 to 255' &&
    expect_err 8 'dnsbl: codes: element 1: expected an IPv4 address' &&
    expect_err 8 'dnsbl: codes: element 2: not in 127.0.0.0/8' &&
    expect_err 9 'unknown setting "colour" in dnsbl' &&
    expect_err 9 'dnsbl: zone "dbl.test": duplicate (first at line 5)' &&
    expect_err 10 'dnsbl: zone "bad zone": not a DNS zone name' &&
    expect_err 10 'dnsbl: zone "bad zone": dqs_key: one DNS label' &&
    ok config_errors
[ "$rc" -eq 2 ] || no config_errors_rc "rc $rc"

# --- offline: each answer and what it meant ------------------------------
conf "$tmp/st1" "$both"
explain listed
[ "$rc" -eq 0 ] && grep -q '^verdict: junk' "$tmp/out" &&
    grep -q 'listed.example @ dbl.test: 127.0.1.2: listed (weight 1)' \
    "$tmp/out" && grep -q '^reasons: dnsbl:listed.example@dbl.test=127.0.1.2' \
    "$tmp/out" && ok explain_listed ||
    no explain_listed "rc $rc $(cat "$tmp/out" "$tmp/err")"
explain clean
[ "$rc" -eq 0 ] && grep -q '^verdict: clean' "$tmp/out" &&
    grep -q 'clean.example @ dbl.test: not listed (NXDOMAIN)' "$tmp/out" &&
    ok explain_not_listed || no explain_not_listed "$(cat "$tmp/out")"
explain black
grep -q '^verdict: junk' "$tmp/out" &&
    grep -q 'black.example @ uribl.test: 127.0.0.2: listed' "$tmp/out" &&
    ok explain_uribl_bitmask || no explain_uribl_bitmask "$(cat "$tmp/out")"
explain grey
grep -q '^verdict: clean' "$tmp/out" &&
    grep -q 'grey.example @ uribl.test: 127.0.0.4: not listed (URIBL grey' \
    "$tmp/out" && ok explain_code_not_counted ||
    no explain_code_not_counted "$(cat "$tmp/out")"
# Codes a listing does not mean spam by: URIBL red (a new domain), a DBL
# abused redirector (a legitimate service spammers link through).
explain red
grep -q '^verdict: clean' "$tmp/out" &&
    grep -q 'red.example @ uribl.test: 127.0.0.8: not listed (URIBL red' \
    "$tmp/out" && ok explain_uribl_red_not_counted ||
    no explain_uribl_red_not_counted "$(cat "$tmp/out")"
explain redir
grep -q '^verdict: clean' "$tmp/out" &&
    grep -q 'redir.example @ dbl.test: 127.0.1.103: not listed (127.0.1.103, an abused redirector' \
    "$tmp/out" && ok explain_dbl_redirector_not_counted ||
    no explain_dbl_redirector_not_counted "$(cat "$tmp/out")"
# A zone that lists every name (a list shut down, a wildcard) is caught
# by its probe (imapsift-probe.invalid): nothing it says counts, it
# rests, and the other zone still counts.
conf "$tmp/st1w" '{ zone = "dbl.test"; kind = "dbl"; },
  { zone = "wild.test"; }'
explain clean
w1=$(grep -c '^verdict: clean' "$tmp/out")
grep -q 'imapsift-probe.invalid @ wild.test (the zone.s probe): 127.0.0.2: an error answer, not a hit: the zone lists every name' \
    "$tmp/out" && w2=1 || w2=0
explain listed
[ "$w1" = 1 ] && [ "$w2" = 1 ] && grep -q '^verdict: junk' "$tmp/out" &&
    grep -q '^reasons: dnsbl:listed.example@dbl.test=127.0.1.2$' "$tmp/out" &&
    ok wildcard_zone_caught_by_probe ||
    no wildcard_zone_caught_by_probe "$w1 $w2 $(cat "$tmp/out")"
"$IMAPSIFT" feeds -c "$tmp/config" > "$tmp/fout" 2>&1
grep -A2 '^dnsbl wild.test' "$tmp/fout" | grep -q 'state: resting' &&
    grep -q 'last error: answered 127.0.0.2 for imapsift-probe.invalid: the zone lists every name' \
    "$tmp/fout" && ok feeds_shows_wildcard_zone ||
    no feeds_shows_wildcard_zone "$(cat "$tmp/fout")"
conf "$tmp/st1" "$both"

# A big site of the shipped skip list is never asked about; a page of
# its own under a shared name is.
b=$(dns_queries 'google\.com.*') c=$(dns_queries 'mybucket\.s3\.amazonaws\.com.*')
explain big
a=$(dns_queries 'google\.com.*') d=$(dns_queries 'mybucket\.s3\.amazonaws\.com.*')
[ "$rc" -eq 0 ] && [ $((a - b)) -eq 0 ] && [ $((d - c)) -eq 2 ] &&
    grep -q 'google.com: not asked: a big site (harvest-skip.list)' "$tmp/out" &&
    ok big_site_not_asked ||
    no big_site_not_asked "$((a - b)) and $((d - c)) queries: $(cat "$tmp/out")"
# A mask or codes that name them make them count.
conf "$tmp/st1b" '{ zone = "dbl.test"; kind = "dbl"; codes = [ "127.0.1.103" ]; },
  { zone = "uribl.test"; kind = "uribl"; mask = 10; }'
explain red
r1=$(grep -c '^verdict: junk' "$tmp/out")
explain redir
[ "$r1" = 1 ] && grep -q '^verdict: junk' "$tmp/out" &&
    ok explain_named_codes_count || no explain_named_codes_count "$(cat "$tmp/out")"
conf "$tmp/st1" "$both"
"$IMAPSIFT" classify -c "$tmp/config" "$tmp/msg/listed.eml" \
    "$tmp/msg/clean.eml" > "$tmp/out" 2>&1
grep -q 'listed.eml	junk	dnsbl:listed.example@dbl.test=127.0.1.2' \
    "$tmp/out" && grep -q 'clean.eml	clean' "$tmp/out" &&
    ok classify_offline || no classify_offline "$(cat "$tmp/out")"

# IP literals and allow-listed domains are never asked.
explain iplit
grep -q '192.0.2.7: not asked: an IP literal' "$tmp/out" &&
    grep -q '2001:db8::1: not asked: an IP literal' "$tmp/out" &&
    [ "$(dns_queries '.*192.*|.*2001.*|7\.2\.0\.192.*')" = 0 ] &&
    grep -q '^verdict: clean' "$tmp/out" && ok ip_literals_not_asked ||
    no ip_literals_not_asked "$(cat "$tmp/out") $(grep info: "$DNS_LOG")"
explain allowed
grep -q 'friend.example: not asked: allow-listed' "$tmp/out" &&
    [ "$(dns_queries '.*friend\.example.*')" = 0 ] &&
    grep -q '^verdict: clean' "$tmp/out" && ok allow_listed_not_asked ||
    no allow_listed_not_asked "$(cat "$tmp/out")"

# max_dnsbl_queries: 7 domains, 2 zones, at most 3 queries.
conf "$tmp/st2" "$both" 'max_dnsbl_queries = 3;'
b=$(dns_queries 'many.*')
explain many
a=$(dns_queries 'many.*')
[ $((a - b)) -eq 3 ] &&
    [ "$(grep -c 'not asked: past max_dnsbl_queries (3)' "$tmp/out")" -eq 11 ] &&
    grep -q '^verdict: clean' "$tmp/out" && ok max_dnsbl_queries ||
    no max_dnsbl_queries "$((a - b)) queries: $(cat "$tmp/out")"

# A message padded with URLs in its text and images, its link last: the
# link is asked first (both zones), then one image: the text URLs are
# what max_dnsbl_queries (3 domain and zone pairs) leaves out.
{
	printf 'From: Someone <someone@sender.example>\nTo: alice@example.org\n'
	printf 'Subject: padded\nMessage-ID: <padded@sender.example>\n'
	printf 'MIME-Version: 1.0\nContent-Type: text/html\n\n<p>'
	for i in 1 2 3 4 5 6; do
		printf 'http://pad%s.example/ <img src="http://img%s.example/i.png">\n' "$i" "$i"
	done
	printf '<a href="https://www.many7.example/">go</a></p>\n'
} > "$tmp/msg/padded.eml"
conf "$tmp/st2b" "$both" 'max_dnsbl_queries = 3;'
b=$(dns_queries 'pad.*|img.*')
explain padded
a=$(dns_queries 'pad.*|img.*')
[ "$rc" -eq 0 ] && grep -q '^verdict: junk' "$tmp/out" &&
    grep -q 'many7.example @ dbl.test: 127.0.1.2: listed' "$tmp/out" &&
    [ $((a - b)) -eq 1 ] && grep -q "img1.example @ dbl.test: not listed" "$tmp/out" &&
    grep -q 'pad1.example @ dbl.test: not asked: past max_dnsbl_queries' "$tmp/out" &&
    ok dnsbl_links_asked_first ||
    no dnsbl_links_asked_first "rc $rc, $((a - b)) padding queries: $(cat "$tmp/out")"

# The cache: a second look asks nothing; with the server gone, the
# stored answer still junks.
conf "$tmp/st1" "$both"
b=$(dns_queries 'www\.listed\.example.*|listed\.example.*')
explain listed
a=$(dns_queries 'www\.listed\.example.*|listed\.example.*')
[ "$a" -eq "$b" ] && grep -q 'listed (weight 1) \[cached in the store' \
    "$tmp/out" && ok cache_no_second_query ||
    no cache_no_second_query "$b then $a queries: $(cat "$tmp/out")"
dns_stop
explain listed
grep -q '^verdict: junk' "$tmp/out" && grep -q 'cached in the store' \
    "$tmp/out" && ok cache_without_server ||
    no cache_without_server "$(cat "$tmp/out")"
explain clean
grep -q 'clean.example @ dbl.test: not listed.*cached in the store' \
    "$tmp/out" && ok negative_answer_cached ||
    no negative_answer_cached "$(cat "$tmp/out")"
dns_restart || no dns_restart "$(cat "$tmp/dns/unbound.err")"

# A cache past its first 4096 buckets: 300 messages of 20 new domains
# each (one listed), asked in one run; the next run, its 6,000 answers
# read back from the store, asks nothing and judges alike.
mkdir -p "$tmp/big"
i=0
while [ $i -lt 300 ]; do
	j=0 urls=
	while [ $j -lt 20 ]; do
		if [ $i = 150 ] && [ $j = 19 ]; then
			urls="$urls http://many7.example/"
		else
			urls="$urls http://www.big$i-$j.example/p"
		fi
		j=$((j + 1))
	done
	# shellcheck disable=SC2086
	msg "big$i" $urls
	mv "$tmp/msg/big$i.eml" "$tmp/big/"
	i=$((i + 1))
done
conf "$tmp/stbig" '{ zone = "dbl.test"; kind = "dbl"; }' \
    'max_dnsbl_queries = 20;'
for r in 1 2; do
	timeout 120 "$IMAPSIFT" classify --stats -c "$tmp/config" "$tmp/big" \
	    > "$tmp/big$r.out" 2> "$tmp/big$r.err"
	echo "$? $(sed -n 's/^dnsbl: \([0-9]*\) quer.*$/\1/p' "$tmp/big$r.err")" \
	    "$(grep -c '	junk	dnsbl:many7.example@dbl.test' "$tmp/big$r.out")" \
	    "$(grep -c '	junk	' "$tmp/big$r.out")" > "$tmp/big$r.res"
done
# Each run asks the zone's probe too: 6000 + 1, then 0 + 1.
[ "$(cat "$tmp/big1.res")" = "0 6001 1 1" ] &&
    [ "$(cat "$tmp/big2.res")" = "0 1 1 1" ] && ok cache_grows ||
    no cache_grows "first run (rc queries listed junk): $(cat "$tmp/big1.res"), second: $(cat "$tmp/big2.res"); $(tail -n 3 "$tmp/big1.err" "$tmp/big2.err")"

# Error answers never count: each zone rests, said once.
blocked='{ zone = "blocked.test"; kind = "dbl"; },
  { zone = "uriblocked.test"; kind = "uribl"; },
  { zone = "outside.test"; kind = "generic"; }'
conf "$tmp/st3" "$blocked"
explain listed
grep -q '^verdict: clean' "$tmp/out" &&
    grep -q 'blocked.test: 127.255.255.254: an error answer, not a hit' \
    "$tmp/out" &&
    grep -q 'uriblocked.test: 127.0.0.1: an error answer, not a hit' \
    "$tmp/out" &&
    grep -q 'outside.test: 192.0.2.1: an error answer, not a hit' \
    "$tmp/out" && ok error_answers_not_hits ||
    no error_answers_not_hits "$(cat "$tmp/out")"
[ "$(grep -c 'dnsbl: blocked.test answered 127.255.255.254' "$tmp/err")" = 1 ] &&
    grep -q 'public or open resolvers' "$tmp/err" &&
    ok error_logged || no error_logged "$(cat "$tmp/err")"

# --- sweeps against Dovecot ------------------------------------------------
if ! dovecot_start; then
	no dovecot_start "dovecot_start failed"
	echo "$pass passed, $fail failed"
	exit 1
fi
# aconf STORE ZONES [ACCOUNT-LINE...]: the account's config with zones.
aconf() {
	st=$1 zl=$2; shift 2
	mkdir -p "$st"
	chmod 700 "$st"
	dv_imapsift_conf "$tmp/config" alice "$st" "$tmp/rules" "$@"
	{
		printf 'dns_server = "127.0.0.1:%s";\n' "${port:-$DNS_PORT}"
		printf 'dnsbl_timeout = %s;\n' "${dtimeout:-2000}"
		printf 'dnsbl = (\n%s\n);\n' "$zl"
	} >> "$tmp/config"
}
sweep() {
	timeout 120 "$IMAPSIFT" sweep -c "$tmp/config" > "$tmp/sout" \
	    2> "$tmp/serr"
	rc=$?
}
# A sent message to bob@corr.example: corr.example is a correspondent's.
cat > "$tmp/sent.eml" <<EOF
From: alice@example.org
To: Bob <bob@corr.example>
Subject: hi
Message-ID: <sent1@example.org>
Date: $(date -R)

hi
EOF
dv_append alice Sent "$tmp/sent.eml"
for n in listed clean black grey red redir iplit allowed corr; do
	dv_append alice INBOX "$tmp/msg/$n.eml"
done
aconf "$tmp/st4" "$both"
b=$(dns_queries '.*corr\.example.*')
sweep
[ "$rc" -eq 0 ] &&
    [ "$(dv_list alice Junk | tr '\n' ' ')" = "<black@sender.example> <listed@sender.example> " ] &&
    [ "$(dv_count alice INBOX)" = 7 ] && ok sweep_moves_listed_only ||
    no sweep_moves_listed_only "rc $rc junk: $(dv_list alice Junk) $(cat "$tmp/serr")"
[ "$rc" -eq 0 ] && [ "$(dns_queries '.*corr\.example.*')" = "$b" ] &&
    dv_list alice INBOX | grep -q '<corr@sender.example>' &&
    grep -q 'alice: dnsbl: [1-9][0-9]* quer' "$tmp/serr" &&
    ok correspondent_domain_not_asked ||
    no correspondent_domain_not_asked "$(grep corr "$DNS_LOG")"
grep -q 'alice: dnsbl: [1-9][0-9]* quer' "$tmp/serr" && ok sweep_counts_queries ||
    no sweep_counts_queries "$(cat "$tmp/serr")"
"$IMAPSIFT" log -c "$tmp/config" > "$tmp/out" 2>&1
grep -q 'dnsbl:listed.example@dbl.test=127.0.1.2' "$tmp/out" &&
    ok move_logged_with_reason || no move_logged_with_reason "$(cat "$tmp/out")"

# A blocked resolver: nothing moves, the log and `feeds` say why.
dv_delete alice Junk
dv_create alice Junk
dv_append alice INBOX "$tmp/msg/listed.eml"
aconf "$tmp/st5" "$blocked"
sweep
[ "$rc" -eq 0 ] && [ "$(dv_count alice Junk)" = 0 ] &&
    ok blocked_moves_nothing ||
    no blocked_moves_nothing "rc $rc junk $(dv_count alice Junk) $(cat "$tmp/serr")"
[ "$(grep -c 'dnsbl: blocked.test answered 127.255.255.254' "$tmp/serr")" = 1 ] &&
    [ "$(grep -c 'dnsbl: uriblocked.test answered 127.0.0.1' "$tmp/serr")" = 1 ] &&
    ok blocked_logged_once || no blocked_logged_once "$(cat "$tmp/serr")"
"$IMAPSIFT" feeds -c "$tmp/config" > "$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && sed -n '/^dnsbl blocked.test/,/last error/p' "$tmp/out" |
    grep -q 'last error: answered 127.255.255.254.*public or open resolvers' &&
    grep -A1 '^dnsbl blocked.test' "$tmp/out" | grep -q 'state: resting' &&
    head -n 1 "$tmp/out" | grep -q '^dnsbl ' &&
    ok feeds_shows_resting_zone || no feeds_shows_resting_zone "rc $rc $(cat "$tmp/out")"
# The cool-down holds in the next run: the zones are not asked again.
b=$(dns_queries '.*blocked\.test|.*outside\.test')
dv_append alice INBOX "$tmp/msg/black.eml"
sweep
a=$(dns_queries '.*blocked\.test|.*outside\.test')
[ "$rc" -eq 0 ] && [ "$a" = "$b" ] && [ "$(dv_count alice Junk)" = 0 ] &&
    ! grep -q 'answered' "$tmp/serr" && ok cooldown_persists ||
    no cooldown_persists "rc $rc queries $b then $a: $(cat "$tmp/serr")"

# Queries that never get an answer do not stall the sweep: 20 messages
# whose domains hang (2 s timeout each, asked together) and one listed
# one that the slow peer answers after 0.2 s.
dns_peer_start "$tmp" hang || no peer_start "$(cat "$tmp/peer.err")"
i=0
while [ $i -lt 20 ]; do
	msg "hang$i" "http://hang$i.example/"
	dv_append alice INBOX "$tmp/msg/hang$i.eml"
	i=$((i + 1))
done
msg slowlisted http://phish.example/
dv_append alice INBOX "$tmp/msg/slowlisted.eml"
# The same store: only the new mail is judged.
port=$DNS_PEER_PORT
aconf "$tmp/st5" "$both"
t0=$(date +%s)
sweep
t1=$(date +%s)
# 20 x 2 s one after the other would be 40 s: a bound on a stall.
[ "$rc" -eq 0 ] && [ $((t1 - t0)) -lt 25 ] &&
    [ "$(dv_list alice Junk)" = "<slowlisted@sender.example>" ] &&
    ok timeouts_do_not_stall ||
    no timeouts_do_not_stall "rc $rc $((t1 - t0)) s junk $(dv_list alice Junk) $(cat "$tmp/serr")"
conf "$tmp/st6" "$both" 'dnsbl_timeout = 500;'
port=
explain hang3
grep -q 'hang3.example @ dbl.test: no answer (timeout): counts as not listed' \
    "$tmp/out" && grep -q '^verdict: clean' "$tmp/out" &&
    ok explain_timeout || no explain_timeout "$(cat "$tmp/out")"

# A lying resolver: answers that break off inside a record (after one that
# says "listed") are no answers.  Nothing moves, explain says why, and
# nothing is kept: the next run asks again.
dns_peer_stop
dns_peer_start "$tmp" garbage || no peer_start "$(cat "$tmp/peer.err")"
port=$DNS_PEER_PORT
msg badrd http://badrd.example/
msg badname http://www.badname.example/
dv_delete alice Junk
dv_create alice Junk
dv_append alice INBOX "$tmp/msg/badrd.eml"
dv_append alice INBOX "$tmp/msg/badname.eml"
aconf "$tmp/st5" "$both"
sweep
[ "$rc" -eq 0 ] && [ "$(dv_count alice Junk)" = 0 ] &&
    [ "$(grep -c '^garbage bad.*dbl\.test$' "$tmp/peer.err")" = 2 ] &&
    ok malformed_answer_no_hit ||
    no malformed_answer_no_hit "rc $rc junk $(dv_list alice Junk): $(cat "$tmp/serr" "$tmp/peer.err")"
conf "$tmp/st7" "$both"
explain badrd
explain badrd
[ "$rc" -eq 0 ] && grep -q 'badrd.example @ dbl.test: no answer (a malformed answer, not read): counts as not listed' \
    "$tmp/out" && grep -q '^verdict: clean' "$tmp/out" &&
    ! grep -q 'cached' "$tmp/out" &&
    [ "$(grep -c '^garbage badrd.example.dbl.test$' "$tmp/peer.err")" = 3 ] &&
    ok explain_malformed ||
    no explain_malformed "rc $rc: $(cat "$tmp/out" "$tmp/peer.err")"
dns_peer_stop
port=

# watch asks too.
dv_delete alice Junk
dv_create alice Junk
aconf "$tmp/st5" "$both"
"$IMAPSIFT" watch -f -c "$tmp/config" > "$tmp/wlog" 2>&1 &
wpid=$!
i=0
while ! grep -q 'connected.*IDLE' "$tmp/wlog" && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
msg watched https://listed.example/new
dv_append alice INBOX "$tmp/msg/watched.eml"
i=0
while [ "$(dv_list alice Junk)" != "<watched@sender.example>" ] &&
    [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
[ "$(dv_list alice Junk)" = "<watched@sender.example>" ] &&
    grep -q 'dnsbl:listed.example@dbl.test' "$tmp/wlog" && ok watch_asks ||
    no watch_asks "junk $(dv_list alice Junk): $(tail -n 5 "$tmp/wlog")"
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
wpid=

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
