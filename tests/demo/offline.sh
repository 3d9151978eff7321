#!/bin/sh
# offline.sh BIN: the offline demo.  Judges a small mailbox of demo
# messages (listed URLs, numbers and phrases hidden in HTML, base64 and
# quoted-printable; ham with dates, prices and order numbers; an allowed
# sender) with the demo rule lists plus the shipped starter lists, then
# explains one verdict.
set -eu
bin=${1:?usage: offline.sh BIN}
top=$(cd "$(dirname "$0")/../.." && pwd)
fx=$top/tests/fixtures/cli
echo "== rule lists"
"$bin" check -r "$fx/rules" -r "$top/rules/lists"
echo
echo "== imapsift classify (file, verdict, reasons)"
cd "$fx"
"$bin" classify -r rules -r "$top/rules/lists" url-html.eml phone-plain.eml \
    phrase-split.eml base64-url.eml ham.eml allowed.eml boundary-crash.eml
echo
echo "== imapsift explain phrase-split.eml"
"$bin" explain -r rules -r "$top/rules/lists" phrase-split.eml
