#!/usr/bin/env bash
# test_outage.sh -- the outage the record guard exists for, replayed (issue 6): the primary
# datacenter goes down, and at the same moment stale configs are pushed -- an older serial; then a
# newer serial whose pool lost the record's members; then one that points the record at standby
# members that are not in its intent. Throughout, dig asks for the record every few milliseconds:
# every answer must be NOERROR with addresses, and only intended ones. Every push is refused, the
# running serial stays, failover to the secondary datacenter still happens, and each refusal is in
# the audit log with its reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"

write_config
AUDIT=$DIR/run/audit.log
DOWN=$DIR/down
mkdir -p "$DOWN"

# conf SERIAL WEB_MEMBERS [RECORD_EXTRA]
conf()
{
	cat >"$CONF" <<EOF
serial = $1
listen = { "127.0.0.1:$PORT" }
workers = 1
zones = { { name = "example.com", file = "example.com.zone", intent = "example.com.intent" } }
datacenters = { ams = {}, iad = {} }
pools = {
  web = { check = { type = "exec", command = "test ! -e $DOWN/{name}", interval = 0.2, timeout = 0.1,
                    rise = 1, fall = 1, flap_limit = 0 },
          members = { $2 } },
  next = { members = {
    { name = "next-1", addr = "203.0.113.1", dc = "iad", standby = true },
    { name = "next-2", addr = "203.0.113.2", dc = "iad", standby = true } } },
}
records = {
  { name = "api.example.com", type = "A", pool = "web", ttl = 30, policy = "failover" ${3:+, $3} },
}
EOF
}
LIVE='{ name = "ams-1", addr = "192.0.2.1", dc = "ams" },
      { name = "ams-2", addr = "192.0.2.2", dc = "ams" },
      { name = "iad-1", addr = "198.51.100.1", dc = "iad" },'

cat >"$DIR/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
EOF
cat >"$DIR/example.com.intent" <<'EOF'
$ORIGIN example.com.
api IN A 192.0.2.1
api IN A 192.0.2.2
api IN A 198.51.100.1
EOF
conf 10 "$LIVE"
start_or_bail "$CONF"
expect_eq "before the outage: api answers the primary datacenter (ams)" "192.0.2.1 192.0.2.2" "$(answer api.example.com)"

# dig api every 20 ms until told to stop; one line per answer: rcode, then the addresses
WATCH=$T_TMP/watch.out
STOP=$T_TMP/watch.stop
(
	while [ ! -e "$STOP" ]; do
		out=$(dig @127.0.0.1 -p "$PORT" +tries=1 +time=1 api.example.com A +noall +comments +answer 2>&1)
		rcode=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out")
		addrs=$(awk '$4 == "A" { print $5 }' <<<"$out" | sort | tr '\n' ' ')
		echo "${rcode:-NONE} $addrs"
		sleep 0.02
	done
) >"$WATCH" 2>&1 &
WATCHER=$!
T_PIDS+=("$WATCHER")

# watched LINES SECONDS: waits until the watcher has written at least LINES answers. Counting answers
# rather than sleeping keeps the sample the same size on a slow or busy machine.
watched()
{
	local i n=$(($2 * 20))
	for ((i = 0; i < n; i++)); do
		[ "$(wc -l <"$WATCH")" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
watched 3 20 || not_ok "the watcher answers before the outage" "$(cat "$WATCH")"

# the primary datacenter goes down, and at the same moment a stale config is pushed
touch "$DOWN/ams-1" "$DOWN/ams-2"
conf 9 "$LIVE"
out=$(ctl reload 2>&1)
expect_eq "an older serial pushed during the outage: refused (exit 1)" 1 $?
check "the refusal names both serials" grep -q "stale config: serial 9 is older than the running serial 10" <<<"$out"

# a newer serial whose pool lost the record's members (only a member the intent does not know)
conf 11 '{ name = "new-1", addr = "198.51.100.77", dc = "iad" },'
out=$(ctl reload 2>&1)
expect_eq "a newer serial whose pool lost the record's members: refused (exit 1)" 1 $?
check "that refusal says what would have been served" grep -q "would serve 198.51.100.77; 198.51.100.77 is not in the intent" <<<"$out"

# a newer serial pointing the record at standby members that are not in intent
conf 12 "$LIVE" 'when_all_down = "pool:next"'
out=$(ctl reload 2>&1)
expect_eq "a newer serial falling back to standby members not in intent: refused (exit 1)" 1 $?
check "that refusal names the scenario and the standby addresses" grep -qE 'scenario "pool web down": would serve 203\.0\.113\.[12]' <<<"$out"
conf 12 '{ name = "next-1", addr = "203.0.113.1", dc = "iad" },'
out=$(ctl reload 2>&1)
expect_eq "a newer serial whose pool is the standby members: refused (exit 1)" 1 $?

if took=$(wait_answer api.example.com "198.51.100.1" 10); then
	ok "failover to the secondary datacenter (iad) still happened (${took} s)"
else
	not_ok "failover to the secondary datacenter (iad) still happened" "$(answer api.example.com)"
fi
# keep asking while serving from the secondary
watched $(($(wc -l <"$WATCH") + 8)) 30 || not_ok "the watcher keeps answering after the failover" "$(tail -3 "$WATCH")"
touch "$STOP"
wait "$WATCHER" 2>/dev/null

total=$(wc -l <"$WATCH")
bad=$(grep -vE '^NOERROR ((192\.0\.2\.[12]|198\.51\.100\.1) )+$' "$WATCH" | head -5)
if [ "$total" -ge 11 ] && [ -z "$bad" ]; then
	ok "all $total answers during the outage: NOERROR, non-empty, only intended addresses"
else
	not_ok "all answers during the outage: NOERROR, non-empty, only intended addresses" "$total answers; bad: $bad"
fi
check "some answers came from the secondary datacenter" grep -q '^NOERROR 198.51.100.1 $' "$WATCH"
expect_eq "the running serial is still 10" "serial:       10" "$(ctl status | grep '^serial:')"
expect_eq "four refused reloads in the audit log" 4 "$(grep -c '"event":"reload","source":"meridianctl","result":"refused"' "$AUDIT")"
check "the audit log has the stale serial with both serials" grep -q '"running_serial":10,"candidate_serial":9' "$AUDIT"
check "the audit log has the reason for serial 11" grep -q '"candidate_serial":11,"reasons":\[.*198.51.100.77 is not in the intent' "$AUDIT"
check "the audit log has the reason for serial 12" grep -q '"candidate_serial":12,"reasons":\[.*pool web down' "$AUDIT"

# recovery: the primary comes back; a correct new config is accepted
rm -f "$DOWN/ams-1" "$DOWN/ams-2"
if wait_answer api.example.com "192.0.2.1 192.0.2.2" 10 >/dev/null; then ok "the primary datacenter is back"; else not_ok "the primary datacenter is back" "$(answer api.example.com)"; fi
conf 13 "$LIVE"
check "a correct newer config is accepted" ctl reload
check "meridiand still running" alive
finish
