# dovecot.sh: a private Dovecot on loopback for integration tests.
# Source it from a POSIX sh test script:
#
#	. "$TOP/tests/integration/dovecot.sh"
#	trap dovecot_stop EXIT INT TERM
#	dovecot_start [OPTIONS] || exit 1
#
# dovecot_start OPTIONS:
#   --no-move         CAPABILITY without MOVE
#   --no-uidplus      CAPABILITY without UIDPLUS
#   --no-special-use  no SPECIAL-USE capability, no \Junk/\Sent attributes
#   --no-junk         no Junk mailbox made (Sent still made)
#   --no-sent         no Sent mailbox made
#   --starttls-only   no implicit-TLS listener (IMAPS_PORT stays empty)
#   --cert wronghost  serve a certificate for wrong.example (same CA)
#   --separator C     hierarchy separator (default "/")
#   --prefix P        the inbox namespace's prefix, e.g. "INBOX." with
#                     --separator . (Courier, Cyrus); default none.
#                     Mailbox names below are given without it; dv_*
#                     helpers take full names ("INBOX.Junk")
#   --junk NAME       the Junk mailbox's name (default Junk)
#   --sent NAME       the Sent mailbox's name (default Sent)
#   --mailbox NAME SPECIAL  one more mailbox made at login, with the
#                     special-use SPECIAL ("" for none), e.g.
#                     --mailbox '[Gmail]/All Mail' '\All'; repeatable
#   --no-idle         CAPABILITY without IDLE
#   --no-namespace    CAPABILITY without NAMESPACE
#   --greeting TEXT   the greeting's text (login_greeting), e.g. what
#                     Cyrus or Courier say
#   --max-clients N   room for N concurrent client connections (default:
#                     Dovecot's, about 100: each TLS connection keeps its
#                     own imap-login process, default_process_limit 100)
#   --oauth2 URL      also AUTHENTICATE XOAUTH2 and OAUTHBEARER, the token
#                     checked by an oauth2 passdb that POSTs it to the
#                     introspection endpoint URL (RFC 7662; credentials in
#                     the URL, https verified against $CA_FILE); the login
#                     name must be the introspection reply's "sub"
#
# It makes a private directory (mktemp -d) holding a throwaway CA, the
# server certificates, dovecot.conf, a passwd-file (alice/secret,
# bob/hunter2), the Maildirs, base_dir, state_dir, the log and a raw
# protocol log per user; picks two free loopback ports; starts
# `dovecot -F` in the background and waits until both ports answer.
# Exported:
#   DOVECOT_DIR    the private directory
#   DOVECOT_CONF   its dovecot.conf (doveadm -c "$DOVECOT_CONF" ...)
#   DOVECOT_LOG    the server log
#   DOVECOT_PID    the master process
#   DOVECOT_NAME   instance_name (every process title starts with it)
#   IMAP_HOST      127.0.0.1
#   IMAPS_PORT     implicit TLS port (empty with --starttls-only)
#   IMAP_PORT      plain port offering STARTTLS
#   CA_FILE        the CA that signed the server certificates
#   WRONG_CA_FILE  an unrelated CA: verification against it must fail
#   IMAP_USER IMAP_PASS          alice / secret
#   IMAP_USER2 IMAP_PASS2        bob / hunter2
#
# dovecot_stop: stops the server by pid and removes the directory; safe
# to call twice and when nothing was started.  dovecot_restart: stops and
# starts it again on the same ports, configuration and mail.
#
# Mailbox helpers (doveadm, run on the server side, need a running server):
#   dv_create USER MAILBOX         make MAILBOX unless it exists
#   dv_append USER MAILBOX FILE [FLAGS]  save FILE there (made if missing);
#                                  FLAGS e.g. '\Seen $NotJunk'
#   dv_list USER MAILBOX [HEADER]  one line per message: the HEADER field
#                                  (default Message-ID), sorted
#   dv_count USER MAILBOX          the number of messages
#   dv_live USER MAILBOX           like dv_list, without the messages
#                                  flagged \Deleted (what a client shows
#                                  once moves without UIDPLUS left them)
#   dv_flags USER MAILBOX          "MESSAGE-ID<TAB>FLAGS" per message, sorted
#                                  (\Recent left out: it depends on sessions)
#   dv_uids USER MAILBOX           "UID<TAB>MESSAGE-ID" per message, by UID
#   dv_status USER MAILBOX FIELD   messages, uidvalidity, uidnext, unseen...
#   dv_mailboxes USER              every mailbox name, sorted
#   dv_move USER FROM TO [MESSAGE-ID]    move one message (or all): the
#                                  user rescuing mail or filing it by hand
#   dv_flag USER MAILBOX add|remove FLAGS [MESSAGE-ID]
#   dv_delete USER MAILBOX         delete a mailbox and its mail
#   dv_set_uidvalidity USER MAILBOX N    a new UIDVALIDITY (N > 0)
#   imap_talk MODE PORT CAFILE HOST USER PASS [COMMAND...]
#                                  a scripted client (python3): MODE tls,
#                                  starttls or plain; connects to 127.0.0.1,
#                                  verifies the chain against CAFILE and the
#                                  name HOST, LOGIN, each COMMAND, LOGOUT;
#                                  prints every server line (CRLF removed).
#                                  Exit 0, 2 TLS refused, 3 LOGIN refused,
#                                  4 a command answered NO/BAD, 5 other.
#   dv_rawlog USER                 what clients sent after login (rawlog .in
#                                  files, oldest first): to check commands
#   dv_add_users N [PREFIX]        add users PREFIX1..PREFIXN (default
#                                  "user"), password "secret", each with
#                                  an empty home; alice and bob stay.  The
#                                  passwd-file is re-read by Dovecot on its
#                                  next lookup: no restart needed.  More than
#                                  about 90 connections at once: start with
#                                  --max-clients
#
# Dovecot hides only the capability: MOVE and UID EXPUNGE still work when
# not advertised, so check what a client sent with dv_rawlog.
# Needs (Debian): dovecot-imapd (dovecot-core), openssl, python3.

# Debian's python3 first: a pyenv shim in PATH costs 0.7 s a call.
if [ -x /usr/bin/python3 ]; then _dv_py=/usr/bin/python3; else _dv_py=python3; fi

# Helpers that need scratch variables run in subshells ( ), so they leave
# the caller's variables alone; the rest use names starting with _dv_.
_dv_die() { echo "dovecot.sh: $*" >&2; return 1; }

# _dv_ports: two free TCP ports on 127.0.0.1, "A B".
_dv_ports() {
	"$_dv_py" -c '
import socket
ss = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))
'
}

# _dv_ready PORT [tls]: true when 127.0.0.1:PORT sends the IMAP greeting
# (through TLS, unverified, with "tls"): login and auth processes are up.
_dv_ready() {
	"$_dv_py" -c '
import socket, ssl, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    if sys.argv[2:] == ["tls"]:
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE
        s = c.wrap_socket(s)
    line = s.makefile("rb").readline()
    s.close()
except OSError:
    sys.exit(1)
sys.exit(0 if line.startswith(b"* OK") else 1)
' "$@"
}

# _dv_ca NAME CN: a self-signed CA in $DOVECOT_DIR/tls/NAME.{crt,key}.
_dv_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 3 -subj "/CN=$2" \
	    -addext 'basicConstraints=critical,CA:TRUE' \
	    -addext 'keyUsage=critical,keyCertSign,cRLSign' \
	    -keyout "$DOVECOT_DIR/tls/$1.key" -out "$DOVECOT_DIR/tls/$1.crt" \
	    >/dev/null 2>&1
}

# _dv_leaf NAME CA CN SAN: a server certificate signed by CA.
_dv_leaf() (
	t=$DOVECOT_DIR/tls
	printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
	    'keyUsage=critical,digitalSignature,keyEncipherment' \
	    'extendedKeyUsage=serverAuth' "subjectAltName=$4" > "$t/$1.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -subj "/CN=$3" -keyout "$t/$1.key" -out "$t/$1.csr" \
	    >/dev/null 2>&1 &&
	openssl x509 -req -in "$t/$1.csr" -CA "$t/$2.crt" -CAkey "$t/$2.key" \
	    -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
	    -days 3 -extfile "$t/$1.ext" -out "$t/$1.crt" >/dev/null 2>&1
)

# _dv_caps: the capability list Dovecot 2.3.19 offers after login, less
# what the options hide.  imap_capability replaces the whole list.
_dv_caps() (
	c='IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY'
	c="$c THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND"
	c="$c URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS"
	c="$c LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT"
	c="$c SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE"
	c="$c SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+"
	c="$c NOTIFY SPECIAL-USE"
	out=
	for w in $c; do
		case $w in
		MOVE) [ -n "$_dv_nomove" ] && continue ;;
		UIDPLUS) [ -n "$_dv_nouidplus" ] && continue ;;
		SPECIAL-USE) [ -n "$_dv_nospecial" ] && continue ;;
		IDLE) [ -n "$_dv_noidle" ] && continue ;;
		NAMESPACE) [ -n "$_dv_nons" ] && continue ;;
		esac
		out="$out${out:+ }$w"
	done
	echo "$out"
)

# _dv_mailbox NAME SPECIAL: a mailbox block (SPECIAL e.g. \Junk, or
# empty).
_dv_mailbox() {
	echo "  mailbox \"$1\" {"
	echo "    auto = subscribe"
	[ -z "$_dv_nospecial" ] && [ -n "$2" ] &&
	    echo "    special_use = $2"
	echo "  }"
}

_dv_write_conf() (
	d=$DOVECOT_DIR
	if [ "$(id -u)" = 0 ]; then
		# Root: the Debian system users for Dovecot's own processes;
		# mail is owned by nobody (Dovecot refuses root for mail).
		iu=dovecot ig=dovecot lu=dovenull
		mu=$(id -u nobody) mg=$(id -g nobody)
	else
		# Anyone else: every process runs as the calling user.
		iu=$(id -un) ig=$(id -gn) lu=$iu
		mu=$(id -u) mg=$(id -g)
	fi
	: > "$d/passwd"
	for u in "alice:secret" "bob:hunter2"; do
		printf '%s:{PLAIN}%s:%s:%s::%s/home/%s::\n' "${u%%:*}" \
		    "${u#*:}" "$mu" "$mg" "$d" "${u%%:*}" >> "$d/passwd"
		mkdir -p "$d/home/${u%%:*}" "$d/rawlog/${u%%:*}"
	done
	if [ -n "$_dv_starttls" ]; then imaps=0; else imaps=$IMAPS_PORT; fi
	cat > "$DOVECOT_CONF" <<EOF
# Written by tests/integration/dovecot.sh: a private test server.
instance_name = $DOVECOT_NAME
base_dir = $d/run
state_dir = $d/state
log_path = $d/log/dovecot.log
info_log_path = $d/log/dovecot.log
debug_log_path = $d/log/dovecot.log
listen = 127.0.0.1
protocols = imap
shutdown_clients = yes
default_internal_user = $iu
default_internal_group = $ig
default_login_user = $lu
first_valid_uid = 1
first_valid_gid = 1
mail_uid = $mu
mail_gid = $mg
mail_location = maildir:~/Maildir
ssl = required
ssl_cert = <$d/tls/$_dv_cert.crt
ssl_key = <$d/tls/$_dv_cert.key
disable_plaintext_auth = yes
auth_mechanisms = plain login
login_greeting = $_dv_greeting
# A failed LOGIN answers at once (default: after 2 s).
auth_failure_delay = 0
imap_capability = $(_dv_caps)
rawlog_dir = $d/rawlog/%u
# No stats process to talk to: a login process starting as the master
# stops would otherwise wait 5 s for the stats-writer handshake.
stats_writer_socket_path =
passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/passwd
}
userdb {
  driver = passwd-file
  args = $d/passwd
}
namespace inbox {
  inbox = yes
  separator = $_dv_sep
  prefix = $_dv_prefix
EOF
	{
		[ -z "$_dv_nojunk" ] && _dv_mailbox "$_dv_junk" '\Junk'
		[ -z "$_dv_nosent" ] && _dv_mailbox "$_dv_sent" '\Sent'
		# The extra mailboxes: NAME<TAB>SPECIAL lines.
		printf '%s' "$_dv_extra" | while IFS='	' read -r m u; do
			_dv_mailbox "$m" "$u"
		done
		echo "}"
		cat <<EOF
service imap-login {
  chroot =
EOF
		[ -n "$_dv_maxclients" ] &&
		    echo "  process_limit = $_dv_maxclients"
		cat <<EOF
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps
    ssl = yes
  }
}
EOF
		if [ -n "$_dv_maxclients" ]; then
			echo "service imap {"
			echo "  process_limit = $_dv_maxclients"
			echo "}"
			echo "default_client_limit = $((_dv_maxclients * 2 + 1000))"
		fi
		cat <<EOF
service pop3-login {
  chroot =
}
service submission-login {
  chroot =
}
service anvil {
  chroot =
}
service auth {
  unix_listener auth-userdb {
    mode = 0600
    user = $(id -un)
  }
}
EOF
	} >> "$DOVECOT_CONF"
	[ -n "$_dv_oauth2" ] && _dv_oauth2_conf
	if [ "$(id -u)" = 0 ]; then
		# The mail processes run as nobody: they need the way down.
		chmod 755 "$d" "$d/home" "$d/rawlog"
		chown -R "$mu:$mg" "$d/home" "$d/rawlog"/*
	fi
)

# _dv_oauth2_conf: --oauth2's passdb (after the passwd-file one, which
# fails for a token and lets it through) and mechanisms.
_dv_oauth2_conf() {
	# The auth process (user dovecot as root) cannot enter tls/.
	cp "$CA_FILE" "$DOVECOT_DIR/oauth2-ca.crt" &&
	    chmod 644 "$DOVECOT_DIR/oauth2-ca.crt" || return 1
	cat > "$DOVECOT_DIR/oauth2.conf.ext" <<EOF
introspection_mode = post
introspection_url = $_dv_oauth2
force_introspection = yes
username_attribute = sub
active_attribute = active
active_value = true
tls_ca_cert_file = $DOVECOT_DIR/oauth2-ca.crt
EOF
	cat >> "$DOVECOT_CONF" <<EOF
auth_mechanisms = plain login xoauth2 oauthbearer
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DOVECOT_DIR/oauth2.conf.ext
}
EOF
}

# _dv_launch: starts the master with the written config, waits for ports.
_dv_launch() {
	dovecot -F -c "$DOVECOT_CONF" > "$DOVECOT_DIR/log/stdout" 2>&1 &
	DOVECOT_PID=$!
	export DOVECOT_PID
	_dv_i=0
	while :; do
		# Gone or a zombie (kill -0 succeeds on a zombie child).
		case $(ps -o stat= -p "$DOVECOT_PID") in
		''|Z*) _dv_fail "dovecot exited"; return 1 ;;
		esac
		if _dv_ready "$IMAP_PORT" &&
		    { [ -z "$IMAPS_PORT" ] || _dv_ready "$IMAPS_PORT" tls; }; then
			return 0
		fi
		_dv_i=$((_dv_i + 1))
		if [ $_dv_i -ge 100 ]; then
			_dv_fail "ports $IMAP_PORT/$IMAPS_PORT not open after 10 s"
			return 1
		fi
		sleep 0.1
	done
}

_dv_fail() {
	echo "dovecot.sh: $1; log tail:" >&2
	tail -n 20 "$DOVECOT_DIR/log/stdout" "$DOVECOT_DIR/log/dovecot.log" \
	    2>/dev/null | sed 's/^/  /' >&2
}

dovecot_start() {
	_dv_nomove= _dv_nouidplus= _dv_nospecial= _dv_starttls=
	_dv_nojunk= _dv_nosent= _dv_cert=server _dv_sep=/ _dv_maxclients=
	_dv_prefix= _dv_junk=Junk _dv_sent=Sent _dv_extra= _dv_noidle=
	_dv_nons= _dv_greeting='Dovecot (Debian) ready.'
	_dv_oauth2=
	while [ $# -gt 0 ]; do
		case $1 in
		--no-move) _dv_nomove=1 ;;
		--no-uidplus) _dv_nouidplus=1 ;;
		--no-special-use) _dv_nospecial=1 ;;
		--no-junk) _dv_nojunk=1 ;;
		--no-sent) _dv_nosent=1 ;;
		--starttls-only) _dv_starttls=1 ;;
		--cert)
			case ${2:-} in
			good) _dv_cert=server ;;
			wronghost) _dv_cert=wronghost ;;
			*) _dv_die "--cert good|wronghost"; return 1 ;;
			esac
			shift ;;
		--separator) _dv_sep=${2:?}; shift ;;
		--prefix) _dv_prefix=${2:?}; shift ;;
		--junk) _dv_junk=${2:?}; shift ;;
		--sent) _dv_sent=${2:?}; shift ;;
		--mailbox)
			[ $# -ge 3 ] || { _dv_die "--mailbox NAME SPECIAL"
			    return 1; }
			_dv_extra="$_dv_extra$2	$3
"
			shift 2 ;;
		--no-idle) _dv_noidle=1 ;;
		--no-namespace) _dv_nons=1 ;;
		--greeting) _dv_greeting=${2:?}; shift ;;
		--max-clients)
			case ${2:-} in
			''|*[!0-9]*) _dv_die "--max-clients N"; return 1 ;;
			esac
			_dv_maxclients=$2; shift ;;
		--oauth2) _dv_oauth2=${2:?}; shift ;;
		*) _dv_die "unknown option $1"; return 1 ;;
		esac
		shift
	done
	command -v dovecot >/dev/null && command -v doveadm >/dev/null ||
	    { _dv_die "dovecot not installed (apt-get install dovecot-imapd)"
	      return 1; }
	command -v openssl >/dev/null || { _dv_die "openssl not installed"
	      return 1; }
	[ -n "${DOVECOT_PID:-}" ] && dovecot_stop
	DOVECOT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-dovecot.XXXXXX") ||
	    return 1
	DOVECOT_CONF=$DOVECOT_DIR/dovecot.conf
	DOVECOT_LOG=$DOVECOT_DIR/log/dovecot.log
	DOVECOT_NAME=isift-${DOVECOT_DIR##*.}
	IMAP_HOST=127.0.0.1
	CA_FILE=$DOVECOT_DIR/tls/ca.crt
	WRONG_CA_FILE=$DOVECOT_DIR/tls/wrongca.crt
	IMAP_USER=alice IMAP_PASS=secret IMAP_USER2=bob IMAP_PASS2=hunter2
	export DOVECOT_DIR DOVECOT_CONF DOVECOT_LOG DOVECOT_NAME IMAP_HOST \
	    CA_FILE WRONG_CA_FILE IMAP_USER IMAP_PASS IMAP_USER2 IMAP_PASS2
	mkdir -p "$DOVECOT_DIR/tls" "$DOVECOT_DIR/run" "$DOVECOT_DIR/state" \
	    "$DOVECOT_DIR/log" && chmod 700 "$DOVECOT_DIR/tls" || return 1
	{ _dv_ca ca "imapsift test CA" && _dv_ca wrongca "imapsift wrong CA" &&
	    _dv_leaf server ca localhost 'DNS:localhost,IP:127.0.0.1' &&
	    _dv_leaf wronghost ca wrong.example 'DNS:wrong.example'; } ||
	    { _dv_die "openssl could not make the test certificates"
	      return 1; }
	# A port can be taken between the probe and the bind: try again.
	for _dv_try in 1 2 3; do
		set -- $(_dv_ports) || return 1
		IMAP_PORT=$1 IMAPS_PORT=$2
		[ -n "$_dv_starttls" ] && IMAPS_PORT=
		export IMAP_PORT IMAPS_PORT
		_dv_write_conf || return 1
		_dv_launch 2>"$DOVECOT_DIR/launch.err" && {
			rm -f "$DOVECOT_DIR/launch.err"
			return 0
		}
		_dv_kill
		grep -qi 'address already in use' "$DOVECOT_LOG" \
		    "$DOVECOT_DIR/log/stdout" 2>/dev/null || break
		: > "$DOVECOT_LOG"
	done
	cat "$DOVECOT_DIR/launch.err" >&2
	return 1
}

# _dv_pids: the live (not zombie) processes of this instance: the master
# (its command line names our config) and every child (titled
# "dovecot-NAME/service").  The master is our child: once dead it stays a
# zombie until waited for and kill -0 still succeeds on it, so look at
# the state instead.
_dv_pids() {
	[ -n "${DOVECOT_NAME:-}" ] && [ -n "${DOVECOT_CONF:-}" ] || return 0
	ps -eo pid=,stat=,args= | awk -v p="dovecot-$DOVECOT_NAME/" \
	    -v c="-c $DOVECOT_CONF" '
	    $2 ~ /^Z/ { next }
	    index($3, p) == 1 { print $1; next }
	    $3 ~ /dovecot$/ && substr($0, length($0) - length(c) + 1) == c {
		print $1 }'
}

# _dv_kill: TERM the master, wait up to 5 s for every process of the
# instance to end, then KILL what is left, by pid.
_dv_kill() {
	[ -n "${DOVECOT_PID:-}" ] || return 0
	kill -TERM "$DOVECOT_PID" 2>/dev/null
	_dv_i=0
	while [ -n "$(_dv_pids)" ] && [ $_dv_i -lt 50 ]; do
		sleep 0.1; _dv_i=$((_dv_i + 1))
	done
	for _dv_p in $(_dv_pids); do
		kill -KILL "$_dv_p" 2>/dev/null
	done
	wait "$DOVECOT_PID" 2>/dev/null
	DOVECOT_PID=
}

dovecot_stop() {
	_dv_kill
	if [ -n "${DOVECOT_DIR:-}" ] && [ -d "$DOVECOT_DIR" ]; then
		rm -rf "$DOVECOT_DIR"
	fi
	DOVECOT_DIR= DOVECOT_PID= DOVECOT_CONF= DOVECOT_NAME=
}

dovecot_restart() {
	[ -n "${DOVECOT_DIR:-}" ] && [ -f "$DOVECOT_CONF" ] ||
	    { _dv_die "not started"; return 1; }
	_dv_kill
	_dv_launch
}

_dv_adm() { doveadm -c "$DOVECOT_CONF" "$@"; }

dv_mailboxes() { _dv_adm mailbox list -u "$1" | sort; }

dv_create() {
	_dv_adm mailbox list -u "$1" | grep -qxF -- "$2" ||
	    _dv_adm mailbox create -u "$1" "$2"
}

dv_append() (
	dv_create "$1" "$2" || return 1
	if [ -n "${4:-}" ]; then
		# Find the new UID by UIDNEXT, then set the flags on it.
		n=$(dv_status "$1" "$2" uidnext) || return 1
		_dv_adm save -u "$1" -m "$2" < "$3" &&
		    _dv_adm flags add -u "$1" "$4" mailbox "$2" uid "$n:*"
	else
		_dv_adm save -u "$1" -m "$2" < "$3"
	fi
)

dv_move() {
	if [ -n "${4:-}" ]; then
		_dv_adm move -u "$1" "$3" mailbox "$2" header Message-ID "$4"
	else
		_dv_adm move -u "$1" "$3" mailbox "$2" all
	fi
}

dv_flag() {
	if [ -n "${5:-}" ]; then
		_dv_adm flags "$3" -u "$1" "$4" mailbox "$2" header Message-ID "$5"
	else
		_dv_adm flags "$3" -u "$1" "$4" mailbox "$2" all
	fi
}

dv_delete() { _dv_adm mailbox delete -u "$1" -s -r "$2"; }

dv_set_uidvalidity() {
	_dv_adm mailbox update -u "$1" --uid-validity "$3" "$2"
}

dv_status() {
	_dv_adm -f tab mailbox status -u "$1" "$3" "$2" | sed 1d | cut -f2
}

dv_count() { dv_status "$1" "$2" messages; }

# _dv_fetch USER MAILBOX FIELDS: the tab table without its head line.
_dv_fetch() {
	_dv_adm -f tab fetch -u "$1" "$3" mailbox "$2" | sed 1d
}

dv_list() (
	h=$(printf '%s' "${3:-Message-ID}" | tr 'A-Z' 'a-z')
	_dv_fetch "$1" "$2" "hdr.$h" | sort
)

dv_live() {
	_dv_adm -f tab fetch -u "$1" hdr.message-id mailbox "$2" undeleted |
	    sed 1d | sort
}

dv_flags() {
	_dv_fetch "$1" "$2" 'hdr.message-id flags' |
	    sed 's/\\Recent \{0,1\}//; s/ $//' | sort
}

dv_uids() {
	_dv_fetch "$1" "$2" 'uid hdr.message-id' | sort -n
}

imap_talk() {
	"$_dv_py" - "$@" <<'PY'
import socket, ssl, sys
mode, port, cafile, host, user, pw = sys.argv[1:7]
cmds = sys.argv[7:]
def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
try:
    raw = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    ctx = ssl.create_default_context(cafile=cafile)
    def wrap(s):
        try:
            return ctx.wrap_socket(s, server_hostname=host)
        except (ssl.SSLError, ssl.CertificateError) as e:
            out("TLS-ERROR " + str(e))
            sys.exit(2)
    sock = wrap(raw) if mode == "tls" else raw
    f = sock.makefile("rb")
    n = 0
    def cmd(text):
        global n
        n += 1
        tag = "a%d" % n
        sock.sendall(("%s %s\r\n" % (tag, text)).encode())
        while True:
            line = f.readline()
            if not line:
                out("EOF")
                sys.exit(5)
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            out(line)
            if line.startswith(tag + " "):
                return line.split(" ")[1]
    out(f.readline().decode().rstrip("\r\n"))
    if mode == "starttls":
        if cmd("STARTTLS") != "OK":
            sys.exit(5)
        sock = wrap(sock)
        f = sock.makefile("rb")
    q = lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if cmd("LOGIN %s %s" % (q(user), q(pw))) != "OK":
        sys.exit(3)
    bad = False
    for c in cmds:
        if cmd(c) != "OK":
            bad = True
    cmd("LOGOUT")
    sys.exit(4 if bad else 0)
except OSError as e:
    out("ERROR " + str(e))
    sys.exit(5)
PY
}

# dv_imapsift_conf FILE NAME STORE RULES [LINE...]: writes (mode 0600) an
# imapsift config with one account NAME for alice on this server over
# implicit TLS, trusting CA_FILE; each LINE (e.g. 'first_run_days = 7;')
# goes into the account block.  The port is its own "port = N;" line so a
# test may rewrite it.
dv_imapsift_conf() (
	f=$1 name=$2 store=$3 rules=$4
	shift 4
	umask 077
	{
		printf 'store = "%s";\nrules = [ "%s" ];\naccounts = ( {\n' \
		    "$store" "$rules"
		printf '  name = "%s";\n  host = "localhost";\n' "$name"
		printf '  port = %s;\n  ca_file = "%s";\n' "$IMAPS_PORT" \
		    "$CA_FILE"
		printf '  user = "alice";\n  password = "secret";\n'
		printf '  addresses = [ "alice@example.org" ];\n'
		for l in "$@"; do
			printf '  %s\n' "$l"
		done
		printf '} );\n'
	} > "$f"
)

dv_rawlog() (
	for f in $(ls -tr "$DOVECOT_DIR/rawlog/$1" 2>/dev/null | grep '\.in$')
	do
		cat "$DOVECOT_DIR/rawlog/$1/$f"
	done
)

dv_add_users() (
	[ -n "${DOVECOT_DIR:-}" ] && [ -f "$DOVECOT_DIR/passwd" ] ||
	    { _dv_die "not started"; return 1; }
	n=${1:?} p=${2:-user}
	d=$DOVECOT_DIR
	if [ "$(id -u)" = 0 ]; then
		mu=$(id -u nobody) mg=$(id -g nobody)
	else
		mu=$(id -u) mg=$(id -g)
	fi
	i=1
	# Written aside and renamed, so a lookup never sees half a file.
	cp "$d/passwd" "$d/passwd.new" || return 1
	while [ $i -le "$n" ]; do
		printf '%s%d:{PLAIN}secret:%s:%s::%s/home/%s%d::\n' "$p" $i \
		    "$mu" "$mg" "$d" "$p" $i >> "$d/passwd.new"
		mkdir -p "$d/home/$p$i" || return 1
		[ "$(id -u)" = 0 ] && chown "$mu:$mg" "$d/home/$p$i"
		i=$((i + 1))
	done
	mv "$d/passwd.new" "$d/passwd"
)

# box NAME MAILBOX ID...: a test case (the caller's ok and no, its $tmp):
# alice's MAILBOX holds exactly these Message-IDs (given without <>).
box() {
	n=$1 m=$2; shift 2
	printf '%s\n' "$@" | sed '/^$/d; s/.*/<&>/' | sort > "$tmp/want"
	dv_list alice "$m" > "$tmp/got"
	if cmp -s "$tmp/want" "$tmp/got"; then
		ok "$n"
	else
		no "$n" "$m has: $(tr '\n' ' ' < "$tmp/got")"
	fi
}
