#!/usr/bin/env bash
# test_health_freeze.sh -- checker sanity and drain, with real HTTP backends on loopback addresses.
#   freeze: every backend fails at the same moment -> the checker suspects its own network, freezes the
#           published state (answers unchanged, no empty fleet), logs it, and thaws on the first success.
#   drain:  `meridianctl drain` lowers the member's records to ttl_degraded at once and removes the
#           member once the old TTL has expired (--in 1, but the pool's records have ttl 2: 2 s).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"

INTERVAL=0.2

for a in 127.0.0.2 127.0.0.3; do
	start_backend $a || {
		not_ok "backend $a started"
		exit 1
	}
done

write_config "$(zones_lua example.com)" "$(
	cat <<EOF
datacenters = { ams = {}, iad = {} }
pools = {
  web = {
    check = { type = "http", port = $BPORT, interval = $INTERVAL, timeout = 0.1, rise = 1, fall = 2 },
    members = {
      { name = "ams-1", addr = "127.0.0.2", dc = "ams" },
      { name = "iad-1", addr = "127.0.0.3", dc = "iad" },
    } },
}
records = {
  { name = "www.example.com", type = "A", pool = "web", ttl = 2, ttl_degraded = 1, policy = "failover" },
  { name = "all.example.com", type = "A", pool = "web", ttl = 2, ttl_degraded = 1, policy = "all" },
}
EOF
)"
cat >"$DIR/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
EOF
start_or_bail "$CONF"
expect_eq "all up: failover answers the first datacenter" "127.0.0.2" "$(answer www.example.com)"

# ---- every backend fails at once ----
mode 127.0.0.2 502
mode 127.0.0.3 502
if wait_log 'FROZEN' 0 3; then ok "a sudden loss of every backend: the state freezes"; else not_ok "the state freezes" "$(cat "$MLOG")"; fi
sleep 1 # several intervals: nothing may change while frozen
expect_eq "frozen: the answer from before the collapse, not an empty or fail-open fleet" "127.0.0.2" "$(answer www.example.com)"
expect_eq "frozen: the normal TTL" "2" "$(ttl_of www.example.com)"
out=$(ctl status)
if grep -q FROZEN <<<"$out"; then ok "status shows the freeze"; else not_ok "status shows the freeze" "$out"; fi
mode 127.0.0.3 ok
if wait_log 'thaw' 0 3; then ok "the first success thaws"; else not_ok "the first success thaws" "$(tail -5 "$MLOG")"; fi
if wait_answer www.example.com 127.0.0.3 2 >/dev/null; then
	ok "thawed: ams-1 (still failing) leaves, iad-1 answers"
else
	not_ok "thawed: iad-1 answers" "answer: $(answer www.example.com)"
fi
mode 127.0.0.2 ok
wait_answer www.example.com 127.0.0.2 3 >/dev/null

# ---- drain ----
expect_eq "before the drain: both members, TTL 2" "127.0.0.2 127.0.0.3/2" "$(answer all.example.com)/$(ttl_of all.example.com)"
start=$(date +%s.%N)
out=$(ctl drain web/ams-1 --in 1)
expect_eq "drain accepted" 0 $?
expect_eq "draining: still answered, with ttl_degraded at once" "127.0.0.2 127.0.0.3/1" "$(answer all.example.com)/$(ttl_of all.example.com)"
if wait_answer all.example.com 127.0.0.3 4 >/dev/null; then
	took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	if awk -v t="$took" 'BEGIN { exit !(t >= 1.9) }'; then
		ok "the drained member left once the old TTL (2 s) had expired (${took} s)"
	else
		not_ok "the drained member stayed for the old TTL" "left after $took s"
	fi
else
	not_ok "the drained member left the answers" "$(answer all.example.com)"
fi
expect_eq "drained: www answers iad" "127.0.0.3" "$(answer www.example.com)"
ctl set web/ams-1 auto >/dev/null
if wait_answer all.example.com "127.0.0.2 127.0.0.3" 2 >/dev/null; then ok "back to auto: served again"; else not_ok "back to auto: served again"; fi
finish
