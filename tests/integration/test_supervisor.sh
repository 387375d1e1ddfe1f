#!/usr/bin/env bash
# test_supervisor.sh -- systemd's notification protocol (Type=notify), against a stand-in for its
# socket (tests/tools/notify_listen.py): READY=1 once the server answers, RELOADING=1 and then
# READY=1 around every reload (its status saying when one was not accepted), nothing for a plan,
# STOPPING=1 at the end. And scripts/systemd/meridiand.service passes systemd-analyze verify.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CTL=$BUILD_DIR/meridianctl
NOTES=$T_TMP/notes
: >"$NOTES"
python3 "$ROOT/tests/tools/notify_listen.py" "$T_TMP/notify.sock" "$NOTES" >"$T_TMP/listen.out" 2>&1 &
T_PIDS+=($!)
for ((i = 0; i < 100; i++)); do
	grep -qs listening "$T_TMP/listen.out" && break
	sleep 0.05
done

# wait_notes N: waits (10 s at most) until N notifications arrived.
wait_notes()
{
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(wc -l <"$NOTES")" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

note() # N: the Nth notification
{
	sed -n "${1}p" "$NOTES"
}

write_config "$(zones_lua example.com)"
write_basic_zone
export NOTIFY_SOCKET=$T_TMP/notify.sock
start_or_bail "$CONF"
unset NOTIFY_SOCKET
check "a notification arrived" wait_notes 1
expect_eq "the first: READY=1 with the status" "READY=1 | STATUS=serving config serial 1, 1 zones" "$(note 1)"
ask www.example.com A
expect_rcode NOERROR "after READY=1 the server answers"

sed -i 's/^serial = 1$/serial = 2/' "$CONF"
kill -HUP "$MPID"
check "SIGHUP: two more notifications" wait_notes 3
N2=$(note 2)
expect_in N2 "^RELOADING=1 \| MONOTONIC_USEC=[0-9]+ \| STATUS=loading .*meridian.conf$" \
	"the reload starts: RELOADING=1, MONOTONIC_USEC and what loads"
expect_eq "and ends: READY=1, serving serial 2" "READY=1 | STATUS=serving config serial 2, 1 zones" "$(note 3)"

"$CTL" -s "$DIR/run/meridian.sock" plan >/dev/null 2>&1
sed -i 's/^serial = 2$/serial = 1/' "$CONF" # stale: refused
"$CTL" -s "$DIR/run/meridian.sock" reload >/dev/null 2>&1
expect_eq "meridianctl reload of a stale config: refused (exit 1)" 1 $?
check "the plan sent nothing, the refused reload two notifications" wait_notes 5
N4=$(note 4)
expect_in N4 "^RELOADING=1 " "the refused reload: RELOADING=1"
expect_eq "then READY=1, still serial 2, saying the reload was not accepted" \
	"READY=1 | STATUS=serving config serial 2, 1 zones; the last reload was not accepted (see the log)" "$(note 5)"

stop_meridian
check "SIGTERM: one more" wait_notes 6
expect_eq "STOPPING=1" "STOPPING=1 | STATUS=stopping" "$(note 6)"
expect_eq "six notifications in all" 6 "$(wc -l <"$NOTES")"

# ---- the unit file ----------------------------------------------------------------------------------
sed "s|/usr/local/sbin/meridiand|$MERIDIAND|g" "$ROOT/scripts/systemd/meridiand.service" >"$T_TMP/meridiand.service"
out=$(systemd-analyze verify "$T_TMP/meridiand.service" 2>&1)
rc=$?
if [ $rc = 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify: the unit file is clean"; else
	not_ok "systemd-analyze verify: the unit file is clean" "exit $rc: $out"; fi

finish
