#!/usr/bin/env bash
# test_health.sh -- health-driven failover with real backends on loopback addresses, over dig and
# meridianctl. Backends (tests/tools/backend.py) answer HTTP 200 "OK", 502, a wrong body, or hang, as
# their mode file says; their TCP port stays open in every mode.
#   ams-1 127.0.0.2 (dc ams), iad-1 127.0.0.3 (dc iad), spare-1 127.0.0.4 (standby, pool spare)
# The client (127.0.0.1) is in region europe, whose order is ams then iad.
# Shown: 502 while TCP is fine -> down after `fall` checks -> answers move to iad within
# fall x interval + 1 s, with ttl_degraded; recovery after `rise`; wrong body and a hanging backend are
# down too; all down -> serve_all, last_good and pool:NAME; meridianctl status/health/set with the
# generation check; forced and observed state survive a restart. Freeze and drain: test_health_freeze.sh.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/health_lib.sh"
INTERVAL=0.3
FALL=2
RISE=2

for a in 127.0.0.2 127.0.0.3 127.0.0.4; do
	start_backend $a || {
		not_ok "backend $a started"
		exit 1
	}
done
ok "three HTTP backends listening on port $BPORT"

cat >"$T_TMP/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
EOF

health_config()
{
	write_config "$(zones_lua example.com)" "$(
		cat <<EOF
regions = { europe = { nets = { "127.0.0.0/8" } }, americas = { nets = { "10.0.0.0/8" } } }
default_region = "americas"
datacenters = { ams = {}, iad = {}, spare = {} }
pools = {
  web = {
    check = { type = "http", port = $BPORT, path = "/health", host = "www.example.com", expect = { 200 },
              body = "OK", interval = $INTERVAL, timeout = 0.25, rise = $RISE, fall = $FALL, flap_limit = 0 },
    members = {
      { name = "ams-1", addr = "127.0.0.2", dc = "ams" },
      { name = "iad-1", addr = "127.0.0.3", dc = "iad" },
    } },
  -- the same backends judged by TCP alone: they stay up through a 502
  tcp = {
    check = { type = "tcp", port = $BPORT, interval = $INTERVAL, timeout = 0.25, rise = 1, fall = 1 },
    members = {
      { name = "ams-1", addr = "127.0.0.2", dc = "ams" },
      { name = "iad-1", addr = "127.0.0.3", dc = "iad" },
    } },
  spare = {
    check = { type = "http", port = $BPORT, interval = $INTERVAL, timeout = 0.25, rise = 1, fall = 1 },
    members = { { name = "spare-1", addr = "127.0.0.4", dc = "spare", standby = true },
                { name = "spare-2", addr = "127.0.0.5", dc = "spare", check = false } } },
}
records = {
  { name = "www.example.com", type = "A", pool = "web", ttl = 30, policy = "failover",
    order = { europe = { "ams", "iad" } } },
  { name = "tcp.example.com", type = "A", pool = "tcp", ttl = 30, policy = "failover",
    order = { europe = { "ams", "iad" } } },
  { name = "lg.example.com", type = "A", pool = "web", ttl = 30, policy = "failover",
    order = { europe = { "ams", "iad" } }, when_all_down = "last_good" },
  { name = "fb.example.com", type = "A", pool = "web", ttl = 30, policy = "failover",
    order = { europe = { "ams", "iad" } }, when_all_down = "pool:spare" },
}
EOF
	)"
	cp "$T_TMP/example.com.zone" "$DIR/"
}

health_config
start_or_bail "$CONF"

expect_eq "all up: www answers from ams" "127.0.0.2" "$(answer www.example.com)"
expect_eq "all up: the normal TTL" "30" "$(ttl_of www.example.com)"
expect_eq "the standby member serves nothing while the pool is up" "127.0.0.2" "$(answer fb.example.com)"

# ---- 502 while TCP is fine ----
mode 127.0.0.2 502
limit=$(awk -v f=$FALL -v i=$INTERVAL 'BEGIN { print f * i * 1.1 + 1 }')
if took=$(wait_answer www.example.com 127.0.0.3 "$limit"); then
	ok "502 from ams-1: www moved to iad within fall x interval + 1 s (${took} s)"
else
	not_ok "502 from ams-1: www moved to iad within $limit s" "answer: $(answer www.example.com)"
fi
expect_eq "degraded answer: ttl_degraded (30 / 4)" "7" "$(ttl_of www.example.com)"
expect_eq "the TCP-checked pool still answers ams (TCP is fine)" "127.0.0.2" "$(answer tcp.example.com)"
health=$(ctl health web)
if grep -E '^web/ams-1 .* down .*HTTP 502' <<<"$health" >/dev/null; then
	ok "meridianctl health shows ams-1 down with its reason"
else
	not_ok "meridianctl health shows ams-1 down with its reason" "$health"
fi
check "the transition is logged" grep -qE 'health: web/ams-1 down' "$MLOG"

# ---- recovery after rise ----
mode 127.0.0.2 ok
if took=$(wait_answer www.example.com 127.0.0.2 3); then
	ok "ams-1 healthy again: www back to ams after rise (${took} s)"
else
	not_ok "ams-1 healthy again: www back to ams" "answer: $(answer www.example.com)"
fi
expect_eq "recovered: the normal TTL again" "30" "$(ttl_of www.example.com)"

# ---- a wrong body and a hanging backend are down too ----
mode 127.0.0.2 wrongbody
if wait_answer www.example.com 127.0.0.3 3 >/dev/null; then ok "200 with the wrong body: down"; else not_ok "200 with the wrong body: down"; fi
check "the reason names the body" grep -qE 'web/ams-1 down.*body' "$MLOG"
mode 127.0.0.2 ok
wait_answer www.example.com 127.0.0.2 3 >/dev/null
mode 127.0.0.2 hang
if wait_answer www.example.com 127.0.0.3 3 >/dev/null; then ok "a hanging backend: down by timeout"; else not_ok "a hanging backend: down by timeout"; fi
check "the reason is the timeout" grep -qE 'web/ams-1 down.*timeout' "$MLOG"

# ---- all down, one after the other (not a checker failure: the tcp pool stays up) ----
# ams-1 is down (hang); now iad-1 fails too, more than one interval later.
mode 127.0.0.3 502
if wait_answer www.example.com "127.0.0.2 127.0.0.3" 3 >/dev/null; then
	ok "all down, serve_all (default): every member, fail open"
else
	not_ok "all down, serve_all (default): every member" "answer: $(answer www.example.com)"
fi
expect_eq "all down: the degraded TTL" "7" "$(ttl_of www.example.com)"
expect_eq "all down, last_good: the answer from before (iad)" "127.0.0.3" "$(answer lg.example.com)"
expect_eq "all down, pool:spare: the fallback pool, its standby member included" "127.0.0.4 127.0.0.5" "$(answer fb.example.com)"
check "not mistaken for a checker failure" test "$(log_count 'FROZEN')" = 0
out=$(ctl explain www.example.com A 127.0.0.1)
if grep -q 'no member up' <<<"$out"; then ok "meridianctl explain says why"; else not_ok "meridianctl explain says why" "$out"; fi
mode 127.0.0.2 ok
mode 127.0.0.3 ok
wait_answer www.example.com 127.0.0.2 3 >/dev/null

# ---- forced states and the generation ----
gen=$(ctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
check "status --json is JSON with a generation" test -n "$gen"
out=$(ctl set web/ams-1 down --if-generation "$gen")
expect_eq "set down with the current generation: exit 0" 0 $?
expect_eq "forced down: www answers iad at once" "127.0.0.3" "$(answer www.example.com)"
out=$(ctl set web/ams-1 auto --if-generation "$gen" 2>&1)
rc=$?
expect_eq "a stale --if-generation is refused (exit 1)" 1 "$rc"
if grep -q "$gen" <<<"$out" && grep -q "$((gen + 1))" <<<"$out"; then
	ok "the refusal names both generations"
else
	not_ok "the refusal names both generations" "$out"
fi
expect_eq "after the refusal ams-1 is still forced down" "127.0.0.3" "$(answer www.example.com)"
sed -i 's/^serial = 1$/serial = 2/' "$CONF"
check "a reload (serial 2)" ctl reload
expect_eq "the reload kept the forced state: www still answers iad" "127.0.0.3" "$(answer www.example.com)"
sed -i 's/^serial = 2$/serial = 1/' "$CONF"
json=$(ctl --json health web)
forced=$(python3 -c 'import json,sys; m=[m for m in json.load(sys.stdin)["members"] if m["member"]=="ams-1"][0]; print(m["forced"], m["observed"])' <<<"$json")
expect_eq "health --json: forced down, observed up" "down up" "$forced"

# ---- state survives a restart ----
mode 127.0.0.3 502
wait_answer tcp.example.com 127.0.0.2 1 >/dev/null
wait_answer www.example.com "127.0.0.2 127.0.0.3" 3 >/dev/null  # iad down, ams forced down: fail open
stop_meridian
expect_eq "meridiand stopped cleanly" 0 "$MRC"
check "the health state was saved" test -s "$DIR/run/health.state"
start_or_bail "$CONF"
json=$(ctl --json health web)
states=$(python3 -c 'import json,sys; print(" ".join(m["forced"] + "/" + m["observed"] for m in json.load(sys.stdin)["members"]))' <<<"$json")
expect_eq "after the restart: ams-1 still forced down, iad-1 still observed down" "down/up auto/down" "$states"
ctl set web/ams-1 auto >/dev/null
mode 127.0.0.3 ok
if wait_answer www.example.com 127.0.0.2 3 >/dev/null; then ok "back to auto: www answers ams"; else not_ok "back to auto: www answers ams"; fi

# ---- meridianctl odds and ends ----
out=$(ctl set web/nobody down 2>&1)
expect_eq "an unknown member is an error (exit 2)" 2 $?
out=$(ctl status)
if grep -q '^serial: *1' <<<"$out" && grep -q '^zone: *example.com serial 1' <<<"$out"; then
	ok "status shows the serial and the zones"
else
	not_ok "status shows the serial and the zones" "$out"
fi
check "reload over the control socket" ctl reload
expect_eq "the control socket has mode 0660" 660 "$(stat -c %a "$DIR/run/meridian.sock")"
out=$(timeout 10 "$MERIDIAND" -c "$CONF" 2>&1)
rc=$?
expect_eq "a second meridiand on the same control socket stops (exit 1)" 1 "$rc"
if grep -q 'another meridiand' <<<"$out"; then ok "... and says why"; else not_ok "... and says why" "$out"; fi
check "the first one still answers" ctl status
sed -i 's/^serial = 1$/serial = 0/' "$CONF"
out=$(ctl reload 2>&1)
expect_eq "meridianctl reload of a stale config: refused (exit 1)" 1 $?
if grep -q 'stale config' <<<"$out"; then ok "... naming the reason"; else not_ok "... naming the reason" "$out"; fi
kill -KILL "$MPID"
wait "$MPID" 2>/dev/null
MPID=""
sed -i 's/^serial = 0$/serial = 1/' "$CONF"
start_or_bail "$CONF"
check "after kill -9 the stale socket is replaced" ctl status
stop_meridian
check "the control socket is removed at stop" test ! -e "$DIR/run/meridian.sock"
finish
