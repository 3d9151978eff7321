# cyrus.sh: a private Cyrus IMAP 3.6 (Debian's) on loopback for
# integration tests.  Source it from a POSIX sh test script:
#
#	. "$TOP/tests/integration/cyrus.sh"
#	trap cyrus_stop EXIT INT TERM
#	cyrus_start || exit 1
#
# Debian's cyrus-imapd conflicts with dovecot-imapd, so it is not
# installed: its .debs (and the libraries the system lacks) are fetched
# with `apt-get download` into CYRUS_DEBS (default $TOP/build/debs, kept
# for the next run) and unpacked with dpkg-deb -x under CYRUS_DEBS/root;
# the binaries run from there with LD_LIBRARY_PATH.  cyrus_start makes a
# private directory (mktemp -d) holding imapd.conf, cyrus.conf, a sasldb
# (alice/secret, admin/secret), the spool and the per-user protocol log
# (Cyrus "telemetry": configdirectory/log/USER), picks a free loopback
# port, starts cyrmaster in the foreground of a background job and waits
# until the port answers.  Plaintext only (imapsift allows it to
# loopback): Cyrus is here for its IMAP behaviour, TLS is tested on
# Dovecot.  As root the server runs as nobody (Cyrus refuses root).
# INBOX.Junk and INBOX.Sent are made at first login (autocreate), with no
# special-use attribute, as Debian's Cyrus leaves them; idled is not run,
# so IDLE reports new mail only every 60 s (imapidlepoll), as in Debian.
# Exported: CYRUS_DIR CYRUS_PID IMAP_HOST IMAP_PORT IMAP_USER IMAP_PASS.
#
# cyrus_stop: stops the master by pid (and its children), removes the
# directory; safe to call twice.
# Helpers (IMAP as the user, python3):
#   cy_append USER MAILBOX FILE    APPEND FILE (LF or CRLF) to MAILBOX
#   cy_live USER MAILBOX           the Message-IDs of the messages not
#                                  flagged \Deleted, sorted
#   cy_count USER MAILBOX          the number of messages
#   cy_mailboxes USER              every mailbox name, sorted
#   cy_rawlog USER                 what clients sent ("TAG COMMAND" lines)
# Needs (Debian): apt-get (to download), python3.

if [ -x /usr/bin/python3 ]; then _cy_py=/usr/bin/python3; else _cy_py=python3; fi
CYRUS_DEBS=${CYRUS_DEBS:-${TOP:-.}/build/debs}
_cy_pkgs='cyrus-imapd cyrus-common sasl2-bin libclamav12 libical3
libxapian30 libzephyr4'

_cy_die() { echo "cyrus.sh: $*" >&2; return 1; }

# _cy_fetch: the packages downloaded and unpacked (once).
_cy_fetch() {
	[ -x "$CYRUS_DEBS/root/usr/sbin/cyrmaster" ] &&
	    [ -x "$CYRUS_DEBS/root/usr/sbin/saslpasswd2" ] && return 0
	mkdir -p "$CYRUS_DEBS/root" || return 1
	(cd "$CYRUS_DEBS" && apt-get download $_cy_pkgs) \
	    > "$CYRUS_DEBS/download.log" 2>&1 ||
	    { _cy_die "apt-get download failed: $(tail -n 2 \
	      "$CYRUS_DEBS/download.log")"; return 1; }
	for _cy_f in "$CYRUS_DEBS"/*.deb; do
		dpkg-deb -x "$_cy_f" "$CYRUS_DEBS/root" || return 1
	done
}

_cy_port() {
	"$_cy_py" -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_cy_ready() {
	"$_cy_py" -c '
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    line = s.makefile("rb").readline()
except OSError:
    sys.exit(1)
sys.exit(0 if line.startswith(b"* OK") else 1)' "$1"
}

cyrus_start() {
	command -v dpkg-deb >/dev/null || { _cy_die "no dpkg-deb"; return 1; }
	_cy_fetch || return 1
	[ -n "${CYRUS_PID:-}" ] && cyrus_stop
	CYRUS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-cyrus.XXXXXX") ||
	    return 1
	export CYRUS_DIR
	_cy_r=$CYRUS_DEBS/root
	_cy_lib=$_cy_r/usr/lib/x86_64-linux-gnu
	[ -d "$_cy_lib" ] || _cy_lib=$(dirname "$(find "$_cy_r/usr/lib" \
	    -name 'libcyrus.so.0' | head -n 1)")
	d=$CYRUS_DIR
	mkdir -p "$d/conf/log/alice" "$d/spool" "$d/run/proc" \
	    "$d/run/lock" "$d/run/socket" "$d/log" || return 1
	if [ "$(id -u)" = 0 ]; then _cy_user=nobody; else _cy_user=$(id -un); fi
	IMAP_HOST=127.0.0.1 IMAP_PORT=$(_cy_port) IMAP_USER=alice
	IMAP_PASS=secret
	export IMAP_HOST IMAP_PORT IMAP_USER IMAP_PASS
	cat > "$d/imapd.conf" <<EOF
configdirectory: $d/conf
proc_path: $d/run/proc
mboxname_lockpath: $d/run/lock
defaultpartition: default
partition-default: $d/spool
altnamespace: no
unixhierarchysep: no
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $d/sasldb2
sasl_mech_list: PLAIN LOGIN
admins: admin
autocreate_quota: 0
autocreate_inbox_folders: Sent | Junk
autocreate_subscribe_folder: Sent | Junk
umask: 077
hashimapspool: true
lmtpsocket: $d/run/socket/lmtp
idlesocket: $d/run/socket/idle
notifysocket: $d/run/socket/notify
cyrus_user: $_cy_user
syslog_prefix: imapsift-test-cyrus
master_pid_file: $d/run/master.pid
EOF
	cat > "$d/cyrus.conf" <<EOF
START {
	recover cmd="$_cy_r/usr/lib/cyrus/bin/ctl_cyrusdb -C $d/imapd.conf -r"
}
SERVICES {
	imap cmd="$_cy_r/usr/lib/cyrus/bin/imapd -C $d/imapd.conf" listen="127.0.0.1:$IMAP_PORT" prefork=0 maxchild=50
}
EVENTS {
}
EOF
	for _cy_u in alice admin; do
		echo secret | LD_LIBRARY_PATH=$_cy_lib \
		    "$_cy_r/usr/sbin/saslpasswd2" -f "$d/sasldb2" -p -c "$_cy_u" ||
		    return 1
	done
	if [ "$(id -u)" = 0 ]; then
		chmod 755 "$d"
		chown -R nobody:"$(id -gn nobody)" "$d"
	fi
	LD_LIBRARY_PATH=$_cy_lib "$_cy_r/usr/sbin/cyrmaster" \
	    -C "$d/imapd.conf" -M "$d/cyrus.conf" -p "$d/run/master.pid" \
	    > "$d/log/master.out" 2>&1 &
	CYRUS_PID=$!
	export CYRUS_PID
	_cy_i=0
	until _cy_ready "$IMAP_PORT"; do
		_cy_i=$((_cy_i + 1))
		if [ $_cy_i -ge 100 ] || ! kill -0 "$CYRUS_PID" 2>/dev/null
		then
			_cy_die "cyrmaster not answering: $(tail -n 5 \
			    "$d/log/master.out")"
			return 1
		fi
		sleep 0.1
	done
}

cyrus_stop() {
	if [ -n "${CYRUS_PID:-}" ]; then
		# The master's children (imapd) end with it; any left over
		# are found by their parent.
		_cy_kids=$(ps -o pid= --ppid "$CYRUS_PID" 2>/dev/null)
		kill -TERM "$CYRUS_PID" 2>/dev/null
		_cy_i=0
		while kill -0 "$CYRUS_PID" 2>/dev/null && [ $_cy_i -lt 50 ]; do
			sleep 0.1; _cy_i=$((_cy_i + 1))
		done
		kill -KILL "$CYRUS_PID" $_cy_kids 2>/dev/null
		wait "$CYRUS_PID" 2>/dev/null
	fi
	[ -n "${CYRUS_DIR:-}" ] && [ -d "$CYRUS_DIR" ] && rm -rf "$CYRUS_DIR"
	CYRUS_PID= CYRUS_DIR=
}

# _cy_imap USER OP MAILBOX [FILE]: one IMAP session doing OP.
_cy_imap() {
	"$_cy_py" - "$IMAP_PORT" "$@" <<'PY'
import re, socket, sys
port, user, op, mbox = int(sys.argv[1]), sys.argv[2], sys.argv[3], \
    sys.argv[4] if len(sys.argv) > 4 else ""
s = socket.create_connection(("127.0.0.1", port), timeout=30)
f = s.makefile("rb")
f.readline()
n = 0
def q(m):
    return '"' + m.replace("\\", "\\\\").replace('"', '\\"') + '"'
def utf7(m):	# modified UTF-7 (RFC 3501 5.1.3)
    out, buf = "", ""
    def flush():
        import base64
        b = base64.b64encode(buf.encode("utf-16-be")).decode().rstrip("=")
        return "&" + b.replace("/", ",") + "-"
    for c in m:
        if 0x20 <= ord(c) < 0x7f:
            if buf:
                out += flush(); buf = ""
            out += "&-" if c == "&" else c
        else:
            buf += c
    if buf:
        out += flush()
    return out
def cmd(t, lit=None):
    global n
    n += 1
    tag = b"c%d" % n
    if lit is None:
        s.sendall(tag + b" " + t + b"\r\n")
    else:
        # A synchronizing literal: Courier has no LITERAL+.
        s.sendall(tag + b" " + t + b" {%d}\r\n" % len(lit))
        if not f.readline().startswith(b"+"):
            sys.exit("literal refused")
        s.sendall(lit + b"\r\n")
    lines = []
    while True:
        l = f.readline()
        if not l:
            sys.exit("connection closed")
        lines.append(l)
        m = re.match(rb"\* \d+ FETCH .*\{(\d+)\}\r\n$", l)
        if m:
            lines.append(f.read(int(m.group(1))))
        if l.startswith(tag + b" "):
            if not l.startswith(tag + b" OK"):
                sys.exit(l.decode("utf-8", "replace").strip())
            return lines
cmd(b"LOGIN %s secret" % user.encode())
mb = q(utf7(mbox)).encode()
if op == "append":
    data = open(sys.argv[5], "rb").read().replace(b"\r\n", b"\n")
    cmd(b"APPEND " + mb, data.replace(b"\n", b"\r\n"))
elif op == "count":
    for l in cmd(b"STATUS " + mb + b" (MESSAGES)"):
        m = re.search(rb"MESSAGES (\d+)", l)
        if m:
            print(int(m.group(1)))
elif op == "live":
    cmd(b"EXAMINE " + mb)
    out, deleted = [], False
    for l in cmd(b"UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS "
            b"(MESSAGE-ID)])"):
        if l.startswith(b"* "):
            deleted = b"\\Deleted" in l
        m = re.search(rb"(?im)^message-id:\s*(<[^>]*>)", l)
        if m and not deleted:
            out.append(m.group(1).decode())
    for i in sorted(out):
        print(i)
elif op == "list":
    names = []
    for l in cmd(b'LIST "" "*"'):
        m = re.match(rb'\* LIST \([^)]*\) (?:"[^"]*"|NIL) (.*)\r\n$', l)
        if m:
            v = m.group(1).decode()
            if v.startswith('"'):
                v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            names.append(v)
    for v in sorted(names):
        print(v)
cmd(b"LOGOUT")
PY
}

cy_append() { _cy_imap "$1" append "$2" "$3"; }
cy_live() { _cy_imap "$1" live "$2" 2>/dev/null; }
cy_count() { _cy_imap "$1" count "$2"; }
cy_mailboxes() { _cy_imap "$1" list ""; }

# Telemetry lines: "<TIME<TAG COMMAND" from the client.
cy_rawlog() {
	cat "$CYRUS_DIR/conf/log/$1"/* 2>/dev/null | tr -d '\r' |
	    sed -n 's/^<[0-9]*<//p'
}
