# courier.sh: a private Courier-IMAP 5 (Debian's) on loopback for
# integration tests.  Source it from a POSIX sh test script (after
# cyrus.sh, whose IMAP helper it shares):
#
#	. "$TOP/tests/integration/cyrus.sh"
#	. "$TOP/tests/integration/courier.sh"
#	trap courier_stop EXIT INT TERM
#	courier_start || exit 1
#
# Debian's courier-imap conflicts with dovecot-imapd, so it is not
# installed: its .debs (and the libraries the system lacks) are fetched
# with `apt-get download` into COURIER_DEBS (default
# $TOP/build/debs-courier, kept for the next run) and unpacked with
# dpkg-deb -x under COURIER_DEBS/root.  Courier's paths are compiled in
# (/etc/courier, /usr/lib/courier-authlib, the authdaemon socket in
# /run/courier/authdaemon), so the whole server runs inside `unshare -m`
# (needs root, as CI has): in that private mount namespace, and only
# there, /usr is the unpacked tree over the system's (a read-only
# overlay), /etc likewise with the private directory's etc/ as the
# writable top layer, and /run a tmpfs.  Nothing outside changes.
# courier_start makes a private directory (mktemp -d) holding
# authdaemonrc (authuserdb only), a userdb (alice/secret, made with
# makeuserdb), imapd's config, alice's Maildir with INBOX.Junk and
# INBOX.Sent (no special-use: Courier has none), then starts authdaemond
# and couriertcpd (imaplogin, imapd) on a free loopback port, plaintext.
# Without FAM/gamin imapd sends "* OK [ALERT] Filesystem notification
# initialization error" after login and looks for new mail in IDLE only
# every 60 s, as a stock Debian Courier does.  Courier keeps no protocol
# log, so clients reach it through a recording proxy (python3) on
# IMAP_PORT that writes what they send ("TAG COMMAND" lines) to
# COURIER_DIR/raw.log; the helpers below talk to Courier directly.
# Exported: COURIER_DIR COURIER_PID IMAP_HOST IMAP_PORT IMAP_USER IMAP_PASS.
#
# courier_stop: stops the servers and the proxy by pid, removes the
# directory; safe to call twice.
# Helpers (IMAP as the user; _cy_imap from cyrus.sh):
#   co_append USER MAILBOX FILE    APPEND FILE to MAILBOX
#   co_live USER MAILBOX           Message-IDs not flagged \Deleted, sorted
#   co_count USER MAILBOX          the number of messages
#   co_mailboxes USER              every mailbox name, sorted
#   co_rawlog USER                 what clients sent ("TAG COMMAND" lines)
# Needs (Debian): apt-get (to download), unshare, overlayfs, python3.

. "$TOP/tests/proc.sh"
COURIER_DEBS=${COURIER_DEBS:-${TOP:-.}/build/debs-courier}
_co_pkgs='courier-imap courier-base courier-authlib courier-authdaemon
courier-authlib-userdb libcourier-unicode4 libgamin0 libidn12 libltdl7
libgdbm6 libpcre3'
COURIER_PID= COURIER_PROXY=

_co_die() { echo "courier.sh: $*" >&2; return 1; }

_co_fetch() {
	[ -x "$COURIER_DEBS/root/usr/bin/imapd" ] &&
	    [ -x "$COURIER_DEBS/root/usr/sbin/makeuserdb" ] && return 0
	mkdir -p "$COURIER_DEBS/root" || return 1
	(cd "$COURIER_DEBS" && apt-get download $_co_pkgs) \
	    > "$COURIER_DEBS/download.log" 2>&1 ||
	    { _co_die "apt-get download failed: $(tail -n 2 \
	      "$COURIER_DEBS/download.log")"; return 1; }
	for _co_f in "$COURIER_DEBS"/*.deb; do
		dpkg-deb -x "$_co_f" "$COURIER_DEBS/root" || return 1
	done
}

# The script run inside the private mount namespace: ROOT DIR PORT.
_co_inner() {
	cat <<'EOF'
R=$1 D=$2 PORT=$3
mount --make-rprivate / &&
mount -t overlay overlay -o "lowerdir=$R/etc:/etc,upperdir=$D/etc,workdir=$D/work" /etc &&
mount -t overlay overlay -o "lowerdir=$R/usr:/usr" /usr &&
mount -t tmpfs tmpfs /run || exit 1
mkdir -p /run/courier/authdaemon
sed -e 's/^authmodulelist=.*/authmodulelist="authuserdb"/' \
    -e 's/^daemons=.*/daemons=2/' /etc/courier/authdaemonrc > "$D/t" &&
    cat "$D/t" > /etc/courier/authdaemonrc &&
sed -e 's/^ADDRESS=.*/ADDRESS=127.0.0.1/' -e "s/^PORT=.*/PORT=$PORT/" \
    -e 's/^IMAP_ULIMITD=.*/IMAP_ULIMITD=/' /etc/courier/imapd > "$D/t" &&
    cat "$D/t" > /etc/courier/imapd &&
makeuserdb || exit 1
maildirmake.courier "$D/home/alice/Maildir" &&
maildirmake.courier -f Junk "$D/home/alice/Maildir" &&
maildirmake.courier -f Sent "$D/home/alice/Maildir" &&
chown -R 65534:65534 "$D/home/alice" || exit 1
(set -a; . /etc/courier/authdaemonrc
 exec /usr/lib/courier/courier-authlib/authdaemond) > "$D/log/auth.log" 2>&1 &
apid=$!
(set -a; . /etc/courier/imapd; . /etc/courier/imapd-ssl; IMAP_STARTTLS=NO
 exec /usr/sbin/couriertcpd -address=127.0.0.1 -maxprocs=20 -maxperip=20 \
    -nodnslookup -noidentlookup "$PORT" /usr/lib/courier/courier/imaplogin \
    /usr/bin/imapd Maildir) > "$D/log/imapd.log" 2>&1 &
tpid=$!
trap 'kill $apid $tpid 2>/dev/null; wait; exit 0' TERM INT
wait
EOF
}

# The recording proxy: LISTEN-PORT-FILE TARGET-PORT LOG.
_co_proxy() {
	exec "$_cy_py" - "$@" <<'PY'
import socket, sys, threading
pf, target, logp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
log = open(logp, "ab", buffering=0)
def pump(a, b, record):
    buf = b""
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
            if record:
                buf += d
                while b"\r\n" in buf:
                    l, buf = buf.split(b"\r\n", 1)
                    if l.split(b" ", 2)[1:2] in ([b"LOGIN"],):
                        l = b" ".join(l.split(b" ")[:3]) + b" ***"
                    with lock:
                        log.write(l + b"\n")
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(16)
open(pf + ".tmp", "w").write("%d\n" % ls.getsockname()[1])
import os
os.replace(pf + ".tmp", pf)
while True:
    c, _ = ls.accept()
    u = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pump, args=(c, u, True), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, False), daemon=True).start()
PY
}

courier_start() {
	[ "$(id -u)" = 0 ] || { _co_die "needs root (unshare -m)"; return 1; }
	command -v dpkg-deb >/dev/null || { _co_die "no dpkg-deb"; return 1; }
	command -v unshare >/dev/null || { _co_die "no unshare"; return 1; }
	_co_fetch || return 1
	[ -n "${COURIER_PID:-}" ] && courier_stop
	COURIER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-courier.XXXXXX") ||
	    return 1
	export COURIER_DIR
	_co_d=$COURIER_DIR
	mkdir -p "$_co_d/etc/courier" "$_co_d/work" "$_co_d/home/alice" \
	    "$_co_d/log" || return 1
	chmod 755 "$_co_d"
	COURIER_PORT=$(_cy_port)
	printf 'alice\tuid=65534|gid=65534|home=%s|mail=%s|systempw=%s\n' \
	    "$_co_d/home/alice" "$_co_d/home/alice/Maildir" \
	    "$(openssl passwd -5 secret)" > "$_co_d/etc/courier/userdb" &&
	    chmod 600 "$_co_d/etc/courier/userdb" || return 1
	_co_inner > "$_co_d/inner.sh"
	unshare -m sh "$_co_d/inner.sh" "$COURIER_DEBS/root" "$_co_d" \
	    "$COURIER_PORT" > "$_co_d/log/inner.out" 2>&1 &
	COURIER_PID=$!
	export COURIER_PID
	_co_i=0
	until _cy_ready "$COURIER_PORT"; do
		_co_i=$((_co_i + 1))
		if [ $_co_i -ge 100 ] || ! kill -0 "$COURIER_PID" 2>/dev/null
		then
			_co_die "Courier not answering: $(cat "$_co_d/log/"* |
			    tail -n 5)"
			return 1
		fi
		sleep 0.1
	done
	: > "$_co_d/raw.log"
	_co_proxy "$_co_d/proxy.port" "$COURIER_PORT" "$_co_d/raw.log" \
	    > "$_co_d/log/proxy.out" 2>&1 &
	COURIER_PROXY=$!
	wait_file "$_co_d/proxy.port" 5
	IMAP_HOST=127.0.0.1 IMAP_PORT=$(cat "$_co_d/proxy.port" 2>/dev/null)
	IMAP_USER=alice IMAP_PASS=secret
	export IMAP_HOST IMAP_PORT IMAP_USER IMAP_PASS
	[ -n "$IMAP_PORT" ] || { _co_die "proxy did not start"; return 1; }
}

courier_stop() {
	[ -n "${COURIER_PROXY:-}" ] && kill "$COURIER_PROXY" 2>/dev/null &&
	    wait "$COURIER_PROXY" 2>/dev/null
	if [ -n "${COURIER_PID:-}" ]; then
		kill -TERM "$COURIER_PID" 2>/dev/null
		_co_i=0
		while kill -0 "$COURIER_PID" 2>/dev/null && [ $_co_i -lt 50 ]
		do
			sleep 0.1; _co_i=$((_co_i + 1))
		done
		kill -KILL "$COURIER_PID" 2>/dev/null
		wait "$COURIER_PID" 2>/dev/null
	fi
	[ -n "${COURIER_DIR:-}" ] && [ -d "$COURIER_DIR" ] &&
	    rm -rf "$COURIER_DIR"
	COURIER_PID= COURIER_PROXY= COURIER_DIR=
}

co_append() { IMAP_PORT=$COURIER_PORT _cy_imap "$1" append "$2" "$3"; }
co_live() { IMAP_PORT=$COURIER_PORT _cy_imap "$1" live "$2" 2>/dev/null; }
co_count() { IMAP_PORT=$COURIER_PORT _cy_imap "$1" count "$2"; }
co_mailboxes() { IMAP_PORT=$COURIER_PORT _cy_imap "$1" list ""; }
co_rawlog() { tr -d '\r' < "$COURIER_DIR/raw.log"; }
