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

# ---- stderr as the journal's stream -----------------------------------------------------------------
# systemd sets JOURNAL_STREAM to the device and inode of the stream it gives as stderr: lines then
# carry their syslog priority and no time stamp. Here the stream is the log file itself.
write_config "$(zones_lua example.com)"
write_basic_zone
MLOG=$DIR/meridiand.log
: >"$MLOG"
export JOURNAL_STREAM=$(stat -c '%d:%i' "$MLOG")
start_or_bail "$CONF" "$MLOG"
unset JOURNAL_STREAM
sed -i 's/^serial = 1$/serial = 0/' "$CONF" # stale: refused
n=$(log_count 'reload: failed')
kill -HUP "$MPID"
wait_log 'reload: failed' "$n" 10
stop_meridian
LOG=$(cat "$MLOG")
expect_in LOG "^<6>ready: serial 1, 1 zones, 1 workers$" "journal stream: information at priority 6, no time stamp"
expect_in LOG "^<3>reload: failed: .*stale config: serial 0 is older than the running serial 1" \
	"a refused reload's reason at priority 3 (error)"
expect_in LOG "^<4>reload: failed: the running configuration \(serial 1\) keeps serving$" "its summary at 4 (warning)"
expect_in LOG "^<5>stopping \(signal 15\)$" "stopping at 5 (notice)"
expect_not_in LOG "^[^<]" "every line starts with its priority"
JOURNAL_STREAM=1:2 # another stream: plain lines with time stamps
write_config "$(zones_lua example.com)"
write_basic_zone
export JOURNAL_STREAM
start_or_bail "$CONF"
unset JOURNAL_STREAM
stop_meridian
LOG=$(cat "$MLOG")
expect_in LOG "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8} meridiand: ready: " "stderr elsewhere: time-stamped lines"

# ---- the unit file ----------------------------------------------------------------------------------
sed "s|/usr/local/sbin/meridiand|$MERIDIAND|g" "$ROOT/scripts/systemd/meridiand.service" >"$T_TMP/meridiand.service"
out=$(systemd-analyze verify "$T_TMP/meridiand.service" 2>&1)
rc=$?
if [ $rc = 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify: the unit file is clean"; else
	not_ok "systemd-analyze verify: the unit file is clean" "exit $rc: $out"; fi

finish
