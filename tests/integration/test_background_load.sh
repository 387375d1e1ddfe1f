#!/usr/bin/env bash
# test_background_load.sh -- a reload loads on its own thread: while it is stuck (its zone includes a
# FIFO that the test feeds when it chooses), meridianctl answers at once and shows the load, the old
# data keeps serving, a health failover is published, signals queue behind it (a second one joins
# the first), a `meridianctl plan` waits its turn, the metrics show the load; then the loads end in
# order. SIGTERM during a stuck load stops at once, tells the waiting client, and
# publishes nothing.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/health_lib.sh"

for a in 127.0.0.2 127.0.0.3; do
	start_backend $a || {
		not_ok "backend $a started"
		exit 1
	}
done
ok "two HTTP backends listening on port $BPORT"

# zone SERIAL: example.com, whose static records come from slow.inc.
zone()
{
	write_serial_zone "$1" '$INCLUDE slow.inc'
}

# config SERIAL
config()
{
	cat >"$CONF" <<EOF
serial = $1
listen = { "127.0.0.1:$PORT" }
workers = 1
metrics = "127.0.0.1:$MPORT"
$(zones_lua example.com)
regions = { europe = { nets = { "127.0.0.0/8" } } }
default_region = "europe"
datacenters = { ams = {}, iad = {} }
pools = {
  web = {
    check = { type = "http", port = $BPORT, path = "/health", expect = { 200 }, body = "OK",
              interval = 0.2, timeout = 0.1, rise = 2, fall = 2, flap_limit = 0 },
    members = { { name = "ams-1", addr = "127.0.0.2", dc = "ams" },
                { name = "iad-1", addr = "127.0.0.3", dc = "iad" } } },
}
records = {
  { name = "www.example.com", type = "A", pool = "web", ttl = 30, policy = "failover",
    order = { europe = { "ams", "iad" } } },
}
EOF
}

MPORT=$("$FREEPORT")
write_config "$(zones_lua example.com)"
config 1
zone 1
echo "old IN A 192.0.2.1" >"$DIR/slow.inc"
start_or_bail "$CONF"
expect_eq "started: www answers from ams" "127.0.0.2" "$(answer www.example.com)"
expect_eq "started: the included record answers" "192.0.2.1" "$(answer old.example.com)"

# stuck_reload SERIAL: makes slow.inc a FIFO held open by the test (fd 7, read-write, so that opening
# it never blocks), raises the serials and sends SIGHUP; returns once meridiand has opened the FIFO:
# its load now waits for data.
stuck_reload()
{
	local i
	rm -f "$DIR/slow.inc"
	mkfifo "$DIR/slow.inc"
	exec 7<>"$DIR/slow.inc"
	config "$1"
	zone "$1"
	kill -HUP "$MPID"
	for ((i = 0; i < 100; i++)); do
		grep -q 'slow.inc' <<<"$(ls -l "/proc/$MPID/fd" 2>/dev/null)" && return 0
		sleep 0.05
	done
	return 1
}

# status_within SECONDS: meridianctl status, which must answer within SECONDS.
status_within()
{
	STATUS=$(ctl --timeout "$1" status 2>&1)
}

# wait_waiting N: polls status (2 s at most) until N loads wait behind the running one.
wait_waiting()
{
	local i
	for ((i = 0; i < 40; i++)); do
		status_within 1 && grep -q ", $1 waiting$" <<<"$(grep '^reloads:' <<<"$STATUS")" && return 0
		sleep 0.05
	done
	return 1
}

# ---- a load stuck on its zone file ----------------------------------------------------------------
check "SIGHUP: the load opened the FIFO and waits on it" stuck_reload 2
sleep 0.3
if status_within 1; then ok "meridianctl status answers while the load waits"; else
	not_ok "meridianctl status answers while the load waits" "$STATUS"; fi
expect_in STATUS "^reloads: +0 ok, 0 failed; loading .*meridian.conf \(reload\) for [0-9.]+ s, 0 waiting$" \
	"status shows the load in progress"
json=$(ctl --timeout 1 --json status)
loading=$(python3 -c 'import json,sys; l=json.load(sys.stdin)["reloads"]["loading"]; print(l["kind"], l["waiting"], l["seconds"] > 0.2)' <<<"$json")
expect_eq "status --json: reloads.loading with kind, waiting and seconds" "reload 0 True" "$loading"
expect_eq "the old data keeps serving: the included record" "192.0.2.1" "$(answer old.example.com)"
ask example.com SOA
expect_section ANSWER "the old data keeps serving: zone serial 1" \
	<<<'example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300'

mode 127.0.0.2 502
if took=$(wait_answer www.example.com 127.0.0.3 3); then
	ok "health failover published during the load (ams 502: www moved to iad in ${took} s)"
else
	not_ok "health failover published during the load" "www: $(answer www.example.com)"
fi
mode 127.0.0.2 ok
if took=$(wait_answer www.example.com 127.0.0.2 3); then ok "and the recovery (${took} s)"; else
	not_ok "and the recovery" "www: $(answer www.example.com)"; fi

n_join=$(log_count 'this signal joins it')
n_wait=$(log_count 'reload: waiting for the load')
kill -HUP "$MPID"
wait_log 'reload: waiting for the load' "$n_wait" 5 # signals sent together would arrive as one
kill -HUP "$MPID"
wait_log 'this signal joins it' "$n_join" 5
expect_eq "two more SIGHUPs: the second joins the first waiting" "$((n_join + 1))" "$(log_count 'this signal joins it')"
ctl --timeout 20 plan >"$T_TMP/plan.out" 2>&1 7>&- & # not holding the FIFO open
PLAN=$!
wait_waiting 2
expect_in STATUS "^reloads: .*loading .* \(reload\) for .*, 2 waiting$" "status: a reload and a plan waiting"
check "the plan's client is still waiting" kill -0 $PLAN
metric()
{
	curl -s --max-time 1 "http://127.0.0.1:$MPORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}
check "metrics during the load: meridian_load_running_seconds > 0.3" \
	awk -v v="$(metric meridian_load_running_seconds)" 'BEGIN { exit !(v > 0.3) }'
expect_eq "metrics during the load: meridian_loads_waiting 2" 2 "$(metric meridian_loads_waiting)"

# Release the load: the records arrive, the FIFO closes; later loads read a regular file.
rm -f "$DIR/slow.inc"
printf 'old IN A 192.0.2.1\nnew IN A 192.0.2.2\n' >"$DIR/slow.inc"
n_ok=$(log_count 'reload: ok')
printf 'old IN A 192.0.2.1\nnew IN A 192.0.2.2\n' >&7
exec 7>&-
wait_log 'reload: ok \(serial 2, ' "$n_ok" 10
expect_eq "the stuck load ended: the new record answers" "192.0.2.2" "$(answer new.example.com)"
if wait $PLAN; then ok "the plan was answered once the loads before it ended (exit 0)"; else
	not_ok "the plan was answered once the loads before it ended (exit 0)" "$(cat "$T_TMP/plan.out")"; fi
PLAN_OUT=$(cat "$T_TMP/plan.out")
expect_in PLAN_OUT "^verdict: +safe" "the plan's verdict: safe"
expect_in PLAN_OUT "^running: +serial 2$" "the plan was made against serial 2, which the load before it published"
wait_log 'reload: ok' "$((n_ok + 1))" 10
expect_eq "then the queued signal's reload, once" "$((n_ok + 2))" "$(log_count 'reload: ok')"
status_within 2
expect_in STATUS "^reloads: +2 ok, 0 failed \(the last load took [0-9]+\.[0-9]{2} s\)$" \
	"status: two reloads and how long the last load took, none loading"
check "metrics: meridian_last_load_seconds > 0" \
	awk -v v="$(metric meridian_last_load_seconds)" 'BEGIN { exit !(v > 0) }'
expect_eq "metrics after: meridian_load_running_seconds 0" 0 "$(metric meridian_load_running_seconds)"
check "www still answers from ams" test "$(answer www.example.com)" = 127.0.0.2

# ---- SIGTERM during a stuck load --------------------------------------------------------------------
check "SIGHUP again: the load waits on the FIFO" stuck_reload 3
ctl --timeout 20 reload >"$T_TMP/reload.out" 2>&1 7>&- &
RELOAD=$!
wait_waiting 1
expect_in STATUS ", 1 waiting$" "meridianctl reload waits behind the stuck load"
out=$(ctl --timeout 0.5 reload 2>&1 7>&-)
expect_eq "meridianctl reload giving up after its --timeout: exit 2" 2 $?
expect_in out "the load goes on in meridiand: 'meridianctl status' shows it" "and it says the load goes on"
PID=$MPID
t0=$(date +%s.%N)
stop_meridian
t1=$(date +%s.%N)
expect_eq "SIGTERM during the load: exit status 0" 0 "$MRC"
check "and it stopped within 2 s" awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 2) }'
wait $RELOAD
expect_eq "the waiting meridianctl reload: error (exit 2)" 2 $?
RELOAD_OUT=$(cat "$T_TMP/reload.out")
expect_in RELOAD_OUT "meridiand stopped before this load ended; nothing was loaded" "and it was told why"
LOG=$(cat "$MLOG")
expect_in LOG "stopping: the load of .*meridian.conf in progress is abandoned" "the log says the load was abandoned"
expect_not_in LOG "reload: ok \(serial 3" "nothing of it was published"
exec 7>&-
check "no process left" test ! -e "/proc/$PID"

finish
