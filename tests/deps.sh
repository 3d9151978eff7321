#!/bin/sh
# deps.sh PKG...: installs the Debian packages among PKG that are missing.
# As root it runs apt-get itself; otherwise it prints the command to run.
missing=
for p in "$@"; do
	s=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "imapsift: missing packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Daemons in these packages (spamd, rspamd) are started by our own scripts
# on loopback only; keep apt from starting them.
pol=/usr/sbin/policy-rc.d
made_pol=
if [ ! -e $pol ]; then
	printf '#!/bin/sh\nexit 101\n' > $pol && chmod 755 $pol && made_pol=1
fi
rc=0
apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
	apt-get update -q >/dev/null 2>&1
	apt-get install -y -q --no-install-recommends $missing || rc=1
}
[ -n "$made_pol" ] && rm -f $pol
exit $rc
