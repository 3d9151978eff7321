#!/bin/sh
# test_feeds.sh: subscribed rule list feeds (config `feeds`) fetched from
# a real HTTPS server on loopback (tests/feeds/server.py, python3's
# http.server wrapped in TLS with the Dovecot harness's test CA) and from
# file://: a first fetch (200), a conditional refetch (304), a changed
# list, each kind reduced as written, and truncated, oversized, garbage,
# slow, wrong-CA, sha256-mismatch and error-status downloads that must
# each keep the last good copy and say why once.  Then sweeps against the
# harness's Dovecot: exactly the mail whose URL domain is in the feed is
# moved, from the copy on disk with the server gone, and a stale copy is
# refreshed by the sweep itself.  Environment: IMAPSIFT (the binary), TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
. "$TOP/tests/integration/dovecot.sh"
. "$TOP/tests/proc.sh"
. "$TOP/tests/feeds/server.sh"
tmp=$(mktemp -d)
wpid=
trap '[ -n "$wpid" ] && kill "$wpid" 2>/dev/null; feed_server_stop; dovecot_stop
    rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

if ! dovecot_start; then
	no start "dovecot_start failed"
	echo "$pass passed, $fail failed"
	exit 1
fi

www=$tmp/www state=$tmp/state
mkdir -p "$www" "$tmp/rules"
: > "$tmp/http.log"
printf '# the sweep rules: nothing the test mail uses\nnot-used.example\n' \
    > "$tmp/rules/base.domains"

start_server() { feed_server_start "$www" "$tmp" && port=$FEED_PORT; }
if ! start_server; then
	no server_start "$(cat "$tmp/server.err")"
	echo "$pass passed, $fail failed"
	exit 1
fi
base=https://localhost:$port

mainca=$CA_FILE
# conf URL [LINE...]: a config with one feed "main" of kind domains at
# URL (trusting $mainca) plus the other kinds; each LINE goes into main's group.
conf() {
	u=$1; shift
	dv_imapsift_conf "$tmp/config" alice "$state" "$tmp/rules"
	{
		printf 'feeds = (\n  { name = "main"; url = "%s"; ' "$u"
		printf 'ca_file = "%s"; weight = 2;\n' "$mainca"
		for l in "$@"; do printf '    %s\n' "$l"; done
		printf '  },\n'
		for k in hosts-file urls phones phrases; do
			printf '  { name = "%s"; url = "%s/ok/%s"; ' "$k" \
			    "$base" "$k"
			printf 'kind = "%s"; ca_file = "%s"; },\n' "$k" \
			    "$CA_FILE"
		done
		printf '  { name = "local"; url = "file://%s/local"; }\n' \
		    "$www"
		printf ');\n'
	} >> "$tmp/config"
}

# refresh: imapsift feeds --refresh; rc in $rc, stdout out, stderr err.
refresh() {
	timeout 60 "$IMAPSIFT" feeds -c "$tmp/config" --refresh \
	    > "$tmp/out" 2> "$tmp/err"
	rc=$?
}
copy=$state/feeds/main.domains

printf '# spam domains\nfeed-spam.example\n*.wild.example\n.dot.example\n' \
    > "$www/main"
printf '0.0.0.0 localhost\n0.0.0.0 ads.hosts.example tracker.hosts.example\n' \
    > "$www/hosts-file"
# URLs on shared hosts (a form, a bucket, a file share) are pages, not
# hosts: left out of the copy, said by imapsift feeds.
printf '%s\n' 'https://www.url-spam.example/buy?x=1' 'http://second.example:8080/' \
    'https://docs.google.com/forms/d/e/1FAIpQ/viewform' \
    'https://storage.googleapis.com/bkt/login.html' \
    'https://dl.dropboxusercontent.com/s/abc/invoice.htm' > "$www/urls"
printf '+1 202 555 0199\n' > "$www/phones"
printf 'claim your unclaimed inheritance funds today\n' > "$www/phrases"
printf 'local-file.example\n' > "$www/local"

# --- 200 -----------------------------------------------------------------
conf "$base/ok/main"
refresh
[ "$rc" -eq 0 ] && [ -f "$copy" ] &&
    [ "$(grep -v '^[#@]' "$copy")" = "$(printf 'feed-spam.example\nwild.example\ndot.example')" ] &&
    grep -qx '@weight 2' "$copy" && ok fetch_200 ||
    no fetch_200 "rc $rc $(cat "$tmp/err") $(cat "$copy" 2>/dev/null)"
[ "$(stat -c %a "$copy" 2>/dev/null)" = 600 ] && ok copy_mode_0600 ||
    no copy_mode_0600 "$(stat -c %a "$copy" 2>/dev/null)"
sed -n '/^main:/,/^[a-z-]*:/p' "$tmp/out" | grep -q 'entries: 3' &&
    grep -q 'last error: none' "$tmp/out" && ok feeds_shows_entries ||
    no feeds_shows_entries "$(cat "$tmp/out")"
[ "$(grep -v '^[#@]' "$state/feeds/hosts-file.domains")" = \
    "$(printf 'ads.hosts.example\ntracker.hosts.example')" ] &&
    ok hosts_file_reduced ||
    no hosts_file_reduced "$(cat "$state/feeds/hosts-file.domains")"
[ "$(grep -v '^[#@]' "$state/feeds/urls.domains")" = \
    "$(printf 'www.url-spam.example\nsecond.example')" ] &&
    ok urls_reduced || no urls_reduced "$(cat "$state/feeds/urls.domains")"
sed -n '/^urls:/,/^[a-z-]*:/p' "$tmp/out" | grep -q 'entries: 2' &&
    sed -n '/^urls:/,/^[a-z-]*:/p' "$tmp/out" |
    grep -q 'left out: 3 URLs on shared hosts' && ok urls_shared_hosts_left_out ||
    no urls_shared_hosts_left_out "$(cat "$tmp/out")"
[ -f "$state/feeds/phones.phones" ] && [ -f "$state/feeds/phrases.phrases" ] &&
    ok phones_phrases_copies ||
    no phones_phrases_copies "$(ls "$state/feeds")"
grep -qx 'local-file.example' "$state/feeds/local.domains" &&
    ok file_url || no file_url "$(cat "$tmp/err")"

# --- 304: a conditional request, the copy untouched ------------------------
before=$(stat -c %Y.%i "$copy")
refresh
last=$(grep ' /ok/main ' "$tmp/http.log" | tail -n 1)
[ "$rc" -eq 0 ] && case $last in *' 304') true ;; *) false ;; esac &&
    [ "$(stat -c %Y.%i "$copy")" = "$before" ] && ok not_modified_304 ||
    no not_modified_304 "rc $rc, last request: $last"
case $last in *' "'*) ok sends_if_none_match ;;
*) no sends_if_none_match "$last" ;; esac

# --- a changed list replaces the copy ------------------------------------
printf 'feed-spam.example\nnew-spam.example\n' > "$www/main"
refresh
grep -qx 'new-spam.example' "$copy" && ! grep -qx 'dot.example' "$copy" &&
    ok changed_list || no changed_list "$(cat "$copy")"
# Changed again with the same Last-Modified (a second's resolution): the
# new ETag says it changed, and the 200 is taken.
touch -r "$www/main" "$tmp/mtime"
printf 'feed-spam.example\nnew-spam.example\nsame-second.example\n' \
    > "$www/main"
touch -r "$tmp/mtime" "$www/main"
refresh
grep -qx 'same-second.example' "$copy" && ok changed_same_mtime ||
    no changed_same_mtime "$(tail -n 1 "$tmp/http.log"): $(cat "$copy")"
cp "$copy" "$tmp/good"
# Compressed transfer: asked for, decoded, the same copy.
conf "$base/gzip/main"
refresh
[ "$rc" -eq 0 ] && cmp -s "$copy" "$tmp/good" &&
    grep -q '^GET /gzip/main .* 200$' "$tmp/http.log" && ok gzip_decoded ||
    no gzip_decoded "rc $rc $(tail -n 1 "$tmp/http.log"): $(cat "$tmp/err")"

# bad CASE URL [LINE...]: the download fails; the copy stays as it was,
# the reason is in `feeds` and logged once over two refreshes.
bad() {
	name=$1 u=$2; shift 2
	conf "$u" "$@"
	refresh
	e1=$(grep -c 'feed main:' "$tmp/err")
	shown=$(sed -n '/^main:/,/last error/p' "$tmp/out" | tail -n 1)
	refresh
	e2=$(grep -c 'feed main:' "$tmp/err")
	if [ "$rc" -ne 1 ]; then
		no "$name" "rc $rc: $(cat "$tmp/err")"
	elif ! cmp -s "$copy" "$tmp/good"; then
		no "$name" "copy changed: $(head -c 300 "$copy")"
	elif [ "$e1" -ne 1 ] || [ "$e2" -ne 0 ]; then
		no "$name" "logged $e1 then $e2 times"
	else
		case $shown in
		*'last error: none'*) no "$name" "no error shown" ;;
		*) ok "$name" ;;
		esac
	fi
}
printf 'feed-spam.example\nnew-spam.example\n' > "$www/big"
i=0
while [ $i -lt 300 ]; do echo "host$i.big.example"; i=$((i + 1)); done \
    >> "$www/big"
bad truncated_kept "$base/truncated/big"
bad oversized_kept "$base/oversized/main" 'max_bytes = 65536;'
bad garbage_kept "$base/garbage/main"
# A few KiB of gzip that decode past max_bytes: the cap is on the list.
# (After another error: the same reason twice in a row is logged once.)
bad gzip_bomb_kept "$base/bomb/main" 'max_bytes = 65536;'
bad status_500_kept "$base/status/500"
mainca=$WRONG_CA_FILE
bad wrong_ca_kept "$base/ok/main"
mainca=$CA_FILE
bad sha256_mismatch_kept "$base/ok/big" \
    'sha256 = "0000000000000000000000000000000000000000000000000000000000000000";'
t0=$(date +%s)
bad slow_kept "$base/slow/main" 'timeout = 2;'
t1=$(date +%s)
# Two refreshes against a server that waits 30 s: each gives up at the
# feed's timeout (a bound on a hang, not a speed figure).
[ $((t1 - t0)) -lt 25 ] && grep -q 'timed out after 2 s' "$tmp/out" &&
    ok slow_bounded || no slow_bounded "$((t1 - t0)) s: $(cat "$tmp/out")"
grep -q 'main:' "$tmp/out" && sed -n '/^main:/,/last error/p' "$tmp/out" |
    grep -qi 'timeout\|timed out' && ok slow_says_timeout ||
    no slow_says_timeout "$(cat "$tmp/out")"

# A matching sha256 is accepted.
sum=$(sha256sum "$www/big" | cut -d' ' -f1)
conf "$base/ok/big" "sha256 = \"$sum\";"
refresh
[ "$rc" -eq 0 ] && grep -qx 'host299.big.example' "$copy" &&
    ok sha256_match || no sha256_match "rc $rc $(cat "$tmp/err")"
printf 'feed-spam.example\nnew-spam.example\n' > "$www/main"
conf "$base/ok/main"
refresh

# Bad config: a feed over http:// and a duplicate name are refused.
dv_imapsift_conf "$tmp/badconf" alice "$state" "$tmp/rules"
printf 'feeds = ( { name = "a"; url = "http://x.example/l"; },\n' \
    >> "$tmp/badconf"
printf '  { name = "a"; url = "https://x.example/l"; kind = "bogus"; } );\n' \
    >> "$tmp/badconf"
"$IMAPSIFT" feeds -c "$tmp/badconf" > "$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q 'badconf:[0-9]*: feed: url: must start with https' \
    "$tmp/out" && grep -q 'duplicate name' "$tmp/out" &&
    grep -q 'kind: expected' "$tmp/out" && ok bad_config ||
    no bad_config "rc $rc $(cat "$tmp/out")"

dv_imapsift_conf "$tmp/nofeeds" alice "$state" "$tmp/rules"
"$IMAPSIFT" feeds -c "$tmp/nofeeds" > "$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] &&
    [ "$(cat "$tmp/out")" = "no feeds or DNS blocklists configured" ] &&
    ok nothing_configured || no nothing_configured "rc $rc $(cat "$tmp/out")"

# --- sweep: the copy on disk, with the server gone -----------------------
msg() {	# ID URL
	printf 'From: Sender <s@sender.test>\r\nTo: alice@example.org\r\n'
	printf 'Subject: offer %s\r\nMessage-ID: <%s>\r\n' "$1" "$1"
	printf 'Date: %s\r\n\r\nSee %s now.\r\n' "$(date -R)" "$2"
}
msg feed-1@t https://www.feed-spam.example/x > "$tmp/m1.eml"
msg feed-2@t https://clean-site.example/x > "$tmp/m2.eml"
msg feed-3@t https://a.new-spam.example/y > "$tmp/m3.eml"
msg feed-4@t https://later-spam.example/z > "$tmp/m4.eml"
for m in m1 m2 m3; do dv_append alice INBOX "$tmp/$m.eml"; done
feed_server_stop
refresh		# fails: nothing listens; the copy stays
timeout 60 "$IMAPSIFT" sweep -c "$tmp/config" > "$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] &&
    [ "$(dv_list alice Junk)" = "$(printf '<feed-1@t>\n<feed-3@t>')" ] &&
    [ "$(dv_list alice INBOX)" = '<feed-2@t>' ] && ok sweep_moves_feed_mail ||
    no sweep_moves_feed_mail "rc $rc junk [$(dv_list alice Junk)] $(cat "$tmp/out")"
grep -q 'moved uid 1 to Junk: url:feed-spam.example' "$tmp/out" &&
    ok sweep_reason_names_entry || no sweep_reason_names_entry "$(cat "$tmp/out")"

# --- sweep refreshes a stale copy itself ---------------------------------
start_server || no server_restart "$(cat "$tmp/server.err")"
base=https://localhost:$port
printf 'later-spam.example\n' >> "$www/main"
conf "$base/ok/main"
# The last fetch an interval ago: the copy is stale.
sed -i 's/^fetched .*/fetched 1000/' "$state/feeds/.state/main.state"
dv_append alice INBOX "$tmp/m4.eml"
n0=$(grep -c ' /ok/main ' "$tmp/http.log")
timeout 60 "$IMAPSIFT" sweep -c "$tmp/config" > "$tmp/out" 2>&1
rc=$?
n1=$(grep -c ' /ok/main ' "$tmp/http.log")
[ "$rc" -eq 0 ] && [ "$n1" -eq $((n0 + 1)) ] &&
    dv_list alice Junk | grep -qx '<feed-4@t>' && ok sweep_refreshes_stale ||
    no sweep_refreshes_stale "rc $rc fetches $n0 -> $n1 $(cat "$tmp/out")"
timeout 60 "$IMAPSIFT" sweep -c "$tmp/config" > "$tmp/out" 2>&1
n2=$(grep -c ' /ok/main ' "$tmp/http.log")
# (the sweep before did fetch: a sweep that never fetches fails this)
[ "$n1" -gt "$n0" ] && [ "$n2" -eq "$n1" ] && ok sweep_fresh_not_fetched ||
    no sweep_fresh_not_fetched "fetches $n1 -> $n2"

# --- watch refreshes a due feed and reloads the rules ---------------------
# until_log PATTERN: polls the daemon's log for PATTERN, 30 s at most.
until_log() {
	i=0
	while [ $i -lt 300 ]; do
		grep -Eq -- "$1" "$tmp/wlog" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
: > "$tmp/wlog"
"$IMAPSIFT" watch -f -c "$tmp/config" >> "$tmp/wlog" 2>&1 &
wpid=$!
until_log 'alice: (idle|polling)|INBOX' >/dev/null
printf 'watch-spam.example\n' >> "$www/main"
sed -i 's/^fetched .*/fetched 1000/' "$state/feeds/.state/main.state"
if until_log 'feed main: [0-9]+ entries' && until_log 'reloaded'; then
	msg feed-5@t https://watch-spam.example/w > "$tmp/m5.eml"
	dv_append alice INBOX "$tmp/m5.eml"
	i=0
	while ! dv_list alice Junk | grep -qx '<feed-5@t>' && [ $i -lt 300 ]
	do
		sleep 0.1
		i=$((i + 1))
	done
	dv_list alice Junk | grep -qx '<feed-5@t>' && ok watch_refreshes_feed ||
	    no watch_refreshes_feed "not moved: $(tail -n 5 "$tmp/wlog")"
else
	no watch_refreshes_feed "no refresh or reload: $(tail -n 5 "$tmp/wlog")"
fi
kill -TERM "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
wpid=

# watch stuck in a slow feed's download still stops within 5 s of TERM.
cp "$copy" "$tmp/last"
conf "$base/slow/main" 'timeout = 60;'
sed -i 's/^fetched .*/fetched 1000/' "$state/feeds/.state/main.state"
s0=$(grep -c ' /slow/main ' "$tmp/http.log")
: > "$tmp/wlog"
"$IMAPSIFT" watch -f -c "$tmp/config" >> "$tmp/wlog" 2>&1 &
wpid=$!
slows() { grep -c ' /slow/main ' "$tmp/http.log"; }
i=0
while [ "$(slows)" -eq "$s0" ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ "$(slows)" -gt "$s0" ]; then
	term_wait "$wpid"
	rc=$?
	if [ "$rc" -eq 124 ]; then
		no watch_term_during_fetch "still running 5 s after SIGTERM"
	else
		[ "$rc" -eq 0 ] && cmp -s "$copy" "$tmp/last" &&
		    ok watch_term_during_fetch ||
		    no watch_term_during_fetch "exit $rc or copy changed: $(tail -n 4 "$tmp/wlog")"
	fi
else
	no watch_term_during_fetch "no fetch: $(tail -n 5 "$tmp/wlog")"
	kill -KILL "$wpid"
	wait "$wpid" 2>/dev/null
fi
wpid=

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
