#!/usr/bin/env bash
# test_privileges.sh -- `user = "NAME[:GROUP]"`: meridiand started as root binds port 53, then runs as
# that account with no capability left, every thread of it; reloads read files as that account (a
# zone it may not read is refused, naming the file); changing user needs a restart; unknown users
# and groups are config errors at file:line; started as another account it cannot become the
# configured one and says so; started as systemd would (User=, AmbientCapabilities=), it binds port 53
# and gives the capability up. Needs root (CI runs as root); otherwise it skips.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "# skip: test_privileges.sh switches accounts and binds port 53, which needs root"
	finish
fi
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)

# A loopback address whose port 53 is free for UDP and TCP (127.0.53.0/24: no resolver lives there).
ADDR=$(python3 - <<'EOF'
import socket
for i in range(1, 255):
    a = "127.0.53.%d" % i
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            s.bind((a, 53))
            s.close()
        print(a)
        break
    except OSError:
        pass
EOF
)
if [ -z "$ADDR" ]; then
	not_ok "a loopback address with port 53 free in 127.0.53.0/24"
	exit 1
fi

# zone SERIAL WWW
zone()
{
	write_serial_zone "$1" "www A $2"
	chmod 644 "$DIR/example.com.zone"
}

# config SERIAL [LUA_LINE...]: listens on $ADDR:53.
config()
{
	local serial=$1
	shift
	cat >"$CONF" <<EOF
serial = $serial
listen = { "$ADDR:53" }
workers = 2
$(zones_lua example.com)
$(printf '%s\n' "$@")
EOF
}

ask53()
{
	OUT=$(dig @"$ADDR" -p 53 +norec +short +time=2 +tries=1 "$@" 2>&1)
}

write_config
chmod 755 "$T_TMP" "$DIR" # mktemp made them 0700: nobody could not read the config or zones
zone 1 192.0.2.1

# ---- config errors ----------------------------------------------------------------------------------
for bad in 'user = "no-such-user-9x"|user: no user "no-such-user-9x" on this system' \
	'user = "nobody:no-such-group-9x"|user: no group "no-such-group-9x" on this system' \
	'user = ":nogroup"|user: ":nogroup": expected "NAME" or "NAME:GROUP"' \
	'user = "nobody:"|user: "nobody:": expected "NAME" or "NAME:GROUP"'; do
	config 1 "${bad%%|*}"
	out=$("$MERIDIAND" -c "$CONF" --check 2>&1)
	rc=$?
	want="$CONF:5: ${bad#*|}"
	if [ $rc = 1 ] && grep -qF -- "$want" <<<"$out"; then ok "--check: ${bad%%|*} is an error at file:line"; else
		not_ok "--check: ${bad%%|*} is an error at file:line" "exit $rc, wanted: $want"$'\n'"$out"; fi
done

# ---- running as nobody ------------------------------------------------------------------------------
mkdir -p "$DIR/run" # root's, as a run without user leaves it
config 1 'user = "nobody"'
out=$(timeout 10 "$MERIDIAND" -c "$CONF" 2>&1)
expect_eq "a state folder nobody may not write: the start fails (exit 1)" 1 $?
expect_in out "run: the state folder is not writable by nobody, the account meridiand runs as \(it belongs to root\): chown it" \
	"and says whose it is and what to do"
chown nobody "$DIR/run" # the state folder belongs to the account, as /var/lib/meridian would
start_or_bail "$CONF"
ask53 www.example.com A
expect_eq "bound $ADDR port 53 and answers" "192.0.2.1" "$OUT"
status=$(cat "/proc/$MPID/status")
expect_in status "^Uid:\s+$NOBODY_UID\s+$NOBODY_UID\s+$NOBODY_UID\s+$NOBODY_UID$" "real, effective, saved and fs uid: nobody"
expect_in status "^Gid:\s+$NOBODY_GID\s+$NOBODY_GID\s+$NOBODY_GID\s+$NOBODY_GID$" "and its group"
expect_in status "^CapPrm:\s+0+$" "no capability permitted once the sockets are bound"
expect_in status "^CapEff:\s+0+$" "none effective"
expect_in status "^CapAmb:\s+0+$" "none ambient"
others=$(grep -h '^Uid:' /proc/"$MPID"/task/*/status | grep -vc "^Uid:\s$NOBODY_UID\s$NOBODY_UID\s$NOBODY_UID\s$NOBODY_UID$")
threads=$(ls /proc/"$MPID"/task | wc -l)
expect_eq "all $threads threads run as nobody" 0 "$others"
expect_eq "the audit log belongs to nobody" nobody "$(stat -c %U "$DIR/run/audit.log")"
expect_eq "so does the control socket" nobody "$(stat -c %U "$DIR/run/meridian.sock")"
out=$("$BUILD_DIR/meridianctl" -s "$DIR/run/meridian.sock" status 2>&1)
expect_eq "meridianctl status (root may connect)" 0 $?

zone 2 192.0.2.2
config 2 'user = "nobody"'
n=$(log_count 'reload: ok')
kill -HUP "$MPID"
wait_log 'reload: ok' "$n" 10
ask53 www.example.com A
expect_eq "a reload as nobody: the new zone serves" "192.0.2.2" "$OUT"

zone 3 192.0.2.3
chmod 600 "$DIR/example.com.zone" # root's alone
config 3 'user = "nobody"'
n=$(log_count 'reload: failed')
kill -HUP "$MPID"
wait_log 'reload: failed' "$n" 10
LOG=$(cat "$MLOG")
expect_in LOG "reload: failed: .*example.com.zone.*Permission denied" "a zone nobody may not read: the reload fails, naming the file"
ask53 www.example.com A
expect_eq "and the running zone keeps serving" "192.0.2.2" "$OUT"
chmod 644 "$DIR/example.com.zone"

config 4 'user = "nobody:nogroup"'
out=$("$BUILD_DIR/meridianctl" -s "$DIR/run/meridian.sock" reload 2>&1)
rc=$?
if [ "$(id -g nobody)" = "$(getent group nogroup | cut -d: -f3)" ]; then
	expect_eq "user = \"nobody:nogroup\", the same account: the reload is accepted" 0 $rc
else
	expect_eq "user = \"nobody:nogroup\", another group: the reload is refused" 1 $rc
fi
config 5
out=$("$BUILD_DIR/meridianctl" -s "$DIR/run/meridian.sock" reload 2>&1)
expect_eq "a reload dropping user: refused (exit 1)" 1 $?
expect_in out "user can only change with a restart" "and it says a restart is needed"

stop_meridian
expect_eq "stops with exit status 0" 0 "$MRC"
check "the control socket is gone (nobody may unlink it in its folder)" test ! -e "$DIR/run/meridian.sock"

# ---- as systemd starts it: User=nobody, AmbientCapabilities=CAP_NET_BIND_SERVICE, no user key --------
config 6
MERIDIAND_REAL=$MERIDIAND
MERIDIAND=$T_TMP/as-nobody
printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+net_bind_service --ambient-caps=+net_bind_service "%s" "$@"\n' \
	"$MERIDIAND_REAL" >"$MERIDIAND"
chmod 755 "$MERIDIAND"
start_or_bail "$CONF"
MERIDIAND=$MERIDIAND_REAL
ask53 www.example.com A
expect_eq "started as nobody with an ambient CAP_NET_BIND_SERVICE: port 53 bound, answers" "192.0.2.3" "$OUT"
status=$(cat "/proc/$MPID/status")
expect_in status "^Uid:\s+$NOBODY_UID\s" "runs as nobody"
expect_in status "^CapAmb:\s+0+$" "the ambient capability is gone once the sockets are bound"
expect_in status "^CapEff:\s+0+$" "nothing effective"
stop_meridian
expect_eq "stops with exit status 0" 0 "$MRC"

# ---- started as another account ---------------------------------------------------------------------
config 7 'user = "root"'
out=$(timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups "$MERIDIAND" -c "$CONF" 2>&1)
rc=$?
expect_eq "started as nobody with user = \"root\": exit 1" 1 $rc
expect_in out "user = \"root\": meridiand runs as uid $NOBODY_UID, not root, and cannot become uid 0" \
	"and it says why"
expect_not_in out "listening on" "before binding anything"

finish
