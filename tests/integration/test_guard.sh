#!/usr/bin/env bash
# test_guard.sh -- the record guard in a running meridiand (issue 6):
#   meridianctl plan exits 0 for a safe change and 1 for every refused one (stale or equal serial,
#   an intended record removed or changed in the zone file, a dynamic record that would serve a value
#   outside its intent in some scenario, a fallback to standby members not in intent, a zone serial
#   going backwards, an intent edit the pool does not follow), 2 for a config that does not load;
#   apply loads only with the running serial the plan showed and only what the guard accepts;
#   a Lua policy that answers outside its intent, or empty, is overridden at run time and reported
#   (log, status, audit log), and dig only ever sees intended addresses;
#   the audit log holds every reload, refusal, forced state and intervention as JSON lines.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"

write_config
AUDIT=$DIR/run/audit.log

# conf SERIAL [WEB_EXTRA] [API_EXTRA]: the config; WEB_EXTRA adds members to pool web, API_EXTRA
# fields to api's record.
conf()
{
	cat >"$CONF" <<EOF
serial = $1
listen = { "127.0.0.1:$PORT" }
workers = 1
zones = { { name = "example.com", file = "example.com.zone", intent = "example.com.intent" } }
regions = { eu = { nets = { "10.1.0.0/16" } }, us = { nets = { "10.2.0.0/16" } } }
default_region = "us"
datacenters = { ams = {}, iad = {} }
pools = {
  web = { members = {
    { name = "ams-1", addr = "192.0.2.1", dc = "ams" },
    { name = "iad-1", addr = "192.0.2.2", dc = "iad" },
    { name = "rogue", addr = "203.0.113.50", dc = "iad", standby = true },
    ${2:-}
  } },
  spare = { members = { { name = "spare-1", addr = "203.0.113.99", dc = "iad", standby = true } } },
}
records = {
  { name = "api.example.com", type = "A", pool = "web", ttl = 30, policy = "failover",
    order = { eu = { "ams", "iad" }, us = { "iad", "ams" } } ${3:-} },
  { name = "pol.example.com", type = "A", pool = "web", ttl = 30, policy = "policies/pol.lua" },
  { name = "free.example.com", type = "A", pool = "web", ttl = 30, policy = "all" },
}
EOF
}

# zone SERIAL [WWW]: the zone file
zone()
{
	write_serial_zone "$1" "${2-www IN A 192.0.2.10}"
}

intent()
{
	cat >"$DIR/example.com.intent" <<EOF
\$ORIGIN example.com.
@   IN NS ns1
www IN A  192.0.2.10
api IN A  192.0.2.1
${1-api IN A  192.0.2.2}
pol IN A  192.0.2.1
pol IN A  192.0.2.2
EOF
}

mkdir -p "$DIR/policies"
# pol.lua: the members up; but the standby "rogue" when an operator forced a member down, and an
# empty answer when one is forced to drain -- the bugs the guard catches at run time (the reload-time
# scenarios never force anything, so this policy passes them)
cat >"$DIR/policies/pol.lua" <<'EOF'
return function(ctx)
  local up = {}
  for _, m in ipairs(ctx.members) do
    if m.forced and m.state == "down" then return { addrs = { "203.0.113.50" } } end
    if m.forced and m.state == "drain" then return { addrs = {} } end
    if m.state == "up" and not m.standby then up[#up + 1] = m end
  end
  if #up == 0 then return { addrs = { "192.0.2.1", "192.0.2.2" } } end
  return { members = up }
end
EOF
conf 1
zone 1
intent
start_or_bail "$CONF"

expect_eq "api (us) serves iad-1" "192.0.2.2" "$(answer api.example.com)"
expect_eq "pol serves both members up" "192.0.2.1 192.0.2.2" "$(answer pol.example.com)"

# plan_is EXIT DESCRIPTION [PATTERN]: runs plan on the files on disk; checks its exit and output
plan_is()
{
	local want=$1 desc=$2 pattern=${3:-}
	out=$(ctl plan 2>&1)
	local rc=$?
	expect_eq "plan: $desc: exit $want" "$want" "$rc"
	if [ -n "$pattern" ]; then
		if grep -qE -- "$pattern" <<<"$out"; then
			ok "plan: $desc: says /$pattern/"
		else
			not_ok "plan: $desc: says /$pattern/" "$out"
		fi
	fi
}

# refused CASE PATTERN: plan exits 1 saying PATTERN, apply is refused too, and nothing changed
refused()
{
	plan_is 1 "$1" "$2"
	local n
	n=$(grep -c '"result":"refused"' "$AUDIT")
	ctl apply --if-serial 1 >/dev/null 2>&1
	expect_eq "apply: $1: refused (exit 1)" 1 $?
	expect_eq "apply: $1: the refusal is in the audit log" $((n + 1)) "$(grep -c '"result":"refused"' "$AUDIT")"
	expect_eq "after $1: still serving serial 1" "serial:       1" "$(ctl status | grep '^serial:')"
	expect_eq "after $1: api still answers iad-1" "192.0.2.2" "$(answer api.example.com)"
}

plan_is 0 "the running files, unchanged" "^verdict: +safe"
check "plan: unchanged: no changes" grep -q "no changes" <<<"$out"

conf 0
refused "an older serial" "stale config: serial 0 is older than the running serial 1"
conf 1 '{ name = "ams-9", addr = "192.0.2.9", dc = "ams", standby = true },'
refused "an equal serial with another config" "stale config: serial 1 is equal to the running serial 1"
conf 2
zone 2 ""
refused "www A removed from the zone" "www\.example\.com\. A does not exist \(NXDOMAIN\)"
zone 2 "www IN A 192.0.2.99"
refused "www A changed in the zone" "holds 192\.0\.2\.99, which the intent does not list"
out=$("$MERIDIAND" -c "$CONF" --check 2>&1)
expect_eq "meridiand --check runs the guard too: exit 1" 1 $?
check "--check names the intent file and line" grep -qE 'example\.com\.intent:3: zone example\.com: www\.example\.com\. A: the zone file holds 192\.0\.2\.99' <<<"$out"
zone 0
refused "the zone serial going backwards" "SOA serial 0 is older than the running serial 1"
zone 2
conf 2 '{ name = "ams-2", addr = "192.0.2.7", dc = "ams" },'
refused "a member outside the intent in api's pool" 'api\.example\.com\. A, region eu, scenario "every member up": would serve 192\.0\.2\.1, 192\.0\.2\.7; 192\.0\.2\.7 is not in the intent'
conf 2 "" ', when_all_down = "pool:spare"'
refused "a fallback to standby members not in intent" 'scenario "pool web down": would serve 203\.0\.113\.99'
conf 2
intent ""
refused "an intent edit the pool does not follow" "192\.0\.2\.2 is not in the intent"
check "plan shows the intent change" grep -qE '^ *~ api\.example\.com\. A: 192\.0\.2\.1, 192\.0\.2\.2 -> 192\.0\.2\.1' <<<"$out"
intent
echo 'serial = ' >"$CONF"
plan_is 2 "a config that does not load" "meridian\.conf:[0-9]+: "

# a safe change: serial 2, zone serial 2, a new unguarded static record
conf 2
zone 2 $'www IN A 192.0.2.10\nnew IN A 192.0.2.77'
plan_is 0 "a safe change" "^verdict: +safe"
check "plan lists the new RRset" grep -qE '^ *\+ new\.example\.com\. A: 192\.0\.2\.77' <<<"$out"
check "plan names the apply command" grep -qE "^to apply: +meridianctl apply --if-serial 1 " <<<"$out"
ctl apply --if-serial 7 >/dev/null 2>&1
expect_eq "apply with a serial that is not running: refused (exit 1)" 1 $?
check "that refusal names both serials" grep -q '"the running serial is 1, not 7' "$AUDIT"
expect_eq "new.example.com not served yet" "" "$(q new.example.com A +short)"
ctl apply --if-serial 1 >/dev/null
expect_eq "apply with the running serial: exit 0" 0 $?
expect_eq "applied: serial 2 serving" "serial:       2" "$(ctl status | grep '^serial:')"
expect_eq "applied: new.example.com served" "192.0.2.77" "$(q new.example.com A +short)"
check "the audit log has the accepted apply" grep -q '"event":"reload","source":"apply","result":"accepted"' "$AUDIT"

# ---- run time: a policy answering outside its intent, or empty ----
out=$(ctl set web/ams-1 down)
check "the forced state is in the audit log" grep -q '"event":"set","member":"web/ams-1","state":"down","result":"accepted"' "$AUDIT"
expect_eq "pol keeps its last good answer, not the rogue standby" "192.0.2.1 192.0.2.2" "$(answer pol.example.com)"
check "the guard's intervention is logged" wait_log "guard: pol.example.com A" 0 5
check "the intervention is in the audit log, naming the value" grep -q '"event":"guard".*"name":"pol.example.com".*203.0.113.50 is not in the intent' "$AUDIT"
if grep -qE '^guard: +[1-9][0-9]* answers replaced, 5 candidates refused' <<<"$(ctl status)"; then
	ok "status counts the interventions and the refusals by the guard (5 applies the guard refused; plans count none)"
else
	not_ok "status counts the interventions and the refusals by the guard" "$(ctl status)"
fi
ctl set web/ams-1 auto >/dev/null
ctl drain web/iad-1 --in 60 >/dev/null
expect_eq "an empty policy answer: pol still answers" "192.0.2.1 192.0.2.2" "$(answer pol.example.com)"
check "the empty answer is an intervention in the audit log" grep -q '"name":"pol.example.com".*"reason":"the policy failed: empty answer"' "$AUDIT"
ctl set web/iad-1 auto >/dev/null
if python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$AUDIT"; then
	ok "every audit line is JSON"
else
	not_ok "every audit line is JSON" "$(cat "$AUDIT")"
fi
check "meridiand still running" alive

# started with a relative config path: a reload (which resolves the config to an absolute path)
# sees the same state folder and control socket, not a restart-only change
stop_meridian
cd "$DIR" || exit 1
if start_meridian meridian.conf; then ok "started from its folder with a relative config path"; else not_ok "started from its folder with a relative config path"; fi
out=$(ctl reload 2>&1)
expect_eq "a reload of the unchanged config started by a relative path: accepted" 0 $?
plan_is 0 "the unchanged config started by a relative path" "^verdict: +safe"
cd - >/dev/null || exit 1
[ -n "${KEEP_AUDIT:-}" ] && cp "$AUDIT" "$KEEP_AUDIT"
finish
