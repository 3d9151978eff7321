#!/bin/sh
# offline.sh BIN: the offline demo.  Records a small Sent mbox in a
# throwaway store, then judges a small mailbox of demo messages: listed
# URLs, numbers and phrases hidden in HTML, base64 and quoted-printable;
# ham with dates, prices and order numbers; an allowed sender; a bounce of
# a message that was sent (it stays), backscatter about one that was not,
# an unprovable old bounce, a catch-all bounce and forged self-mail; then
# explains two verdicts.
set -eu
bin=${1:?usage: offline.sh BIN}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
top=$(cd "$(dirname "$0")/../.." && pwd)
fx=$top/tests/fixtures/cli
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
rules="-r $fx/rules -r $top/rules/lists"

echo "== imapsift check: the rule lists"
"$bin" check $rules
echo
echo "== imapsift import-sent: the user's Sent mail"
"$bin" import-sent --store "$tmp/demo.db" "$fx/bounce/sent.mbox"
echo
echo "== imapsift classify (file, verdict, reasons)"
cd "$fx"
"$bin" classify $rules --store "$tmp/demo.db" --address me@home.example \
    url-html.eml phone-plain.eml phrase-split.eml base64-url.eml ham.eml \
    allowed.eml boundary-crash.eml bounce/legit-bounce.eml \
    bounce/backscatter.eml bounce/old-bounce.eml bounce/catchall.eml \
    bounce/autoreply.eml bounce/forged-self.eml
echo
echo "== imapsift explain phrase-split.eml"
"$bin" explain $rules phrase-split.eml
echo
echo "== imapsift explain bounce/backscatter.eml"
"$bin" explain $rules --store "$tmp/demo.db" --address me@home.example \
    bounce/backscatter.eml
