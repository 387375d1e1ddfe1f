#!/usr/bin/env bash
# test_lua_policy.sh -- Lua failover policies in a running meridiand, over dig and meridianctl:
#   editing a policy file and reloading changes the answers;
#   a broken edit (does not compile) makes the reload fail, names file:line, and the old policy serves;
#   a policy that fails at run time (an error, an address outside its pool) keeps the last good
#   answer, counted and shown by meridianctl;
#   a policy stuck in an infinite loop is stopped by its budget, is not run again in that round after
#   3 such hits (hundreds of stuck (record, region) runs would otherwise hold the control thread), and
#   never delays queries: the query latency is measured while the control thread works on it.
. "$(dirname "$0")/lib.sh"

CTL=$BUILD_DIR/meridianctl
ctl() { "$CTL" -s "$DIR/run/meridian.sock" "$@"; }
answer() { q "$1" A +short | sort | tr '\n' ' ' | sed 's/ $//'; }

STUCK=${STUCK_RECORDS:-100}
stuck_records=""
for ((i = 0; i < STUCK; i++)); do
	stuck_records+="  { name = \"s$i.example.com\", type = \"A\", pool = \"web\", ttl = 30, policy = \"policies/stuck.lua\" },"$'\n'
done

write_config "$(zones_lua example.com)" "$(
	cat <<EOF
regions = { r1 = { nets = { "127.0.0.0/8" } }, r2 = { nets = { "10.2.0.0/16" } }, r3 = { nets = { "10.3.0.0/16" } },
            r4 = { nets = { "10.4.0.0/16" } }, r5 = { nets = { "10.5.0.0/16" } } }
default_region = "r1"
datacenters = { ams = {}, iad = {} }
pools = { web = { members = {
  { name = "ams-1", addr = "192.0.2.1", dc = "ams" },
  { name = "iad-1", addr = "192.0.2.2", dc = "iad" },
} } }
records = {
  { name = "api.example.com", type = "A", pool = "web", ttl = 30, policy = "policies/api.lua" },
  { name = "err.example.com", type = "A", pool = "web", ttl = 30, policy = "policies/err.lua" },
$stuck_records}
EOF
)"
cat >"$DIR/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
EOF
mkdir -p "$DIR/policies"
cat >"$DIR/policies/api.lua" <<'EOF'
return function(ctx)
  return { addrs = { "192.0.2.1" } }
end
EOF
# err.lua: fine while ams-1 is up; with ams-1 down it errors, or answers outside its pool
cat >"$DIR/policies/err.lua" <<'EOF'
return function(ctx)
  local up = meridian.up(ctx.members)
  for _, m in ipairs(ctx.members) do
    if m.name == "ams-1" and m.state ~= "up" then
      if ctx.region == "r1" then error("ams-1 is gone") end
      return { addrs = { "203.0.113.99" } }
    end
  end
  return { members = up }
end
EOF
# stuck.lua: loops forever while iad-1 is down
cat >"$DIR/policies/stuck.lua" <<'EOF'
return function(ctx)
  for _, m in ipairs(ctx.members) do
    if m.name == "iad-1" and m.state ~= "up" then
      while true do end
    end
  end
  return { members = meridian.up(ctx.members) }
end
EOF
start_or_bail "$CONF"

expect_eq "api.lua answers what it returns" "192.0.2.1" "$(answer api.example.com)"
expect_eq "err.lua with every member up" "192.0.2.1 192.0.2.2" "$(answer err.example.com)"

# ---- edit, reload ----
sed -i 's/192.0.2.1/192.0.2.2/' "$DIR/policies/api.lua"
check "reload after editing the policy" ctl reload
expect_eq "the edited policy answers" "192.0.2.2" "$(answer api.example.com)"

# ---- a broken edit ----
printf 'return function(ctx)\n  return { addrs = { "192.0.2.1" }\nend\n' >"$DIR/policies/api.lua"
out=$(ctl reload 2>&1)
expect_eq "a policy that does not compile: the reload is refused (exit 1)" 1 $?
if grep -q 'policies/api.lua:[0-9]' <<<"$out"; then ok "the refusal names file:line"; else not_ok "the refusal names file:line" "$out"; fi
expect_eq "the running policy keeps serving" "192.0.2.2" "$(answer api.example.com)"
out=$("$MERIDIAND" -c "$CONF" --check 2>&1)
expect_eq "--check refuses the broken policy too" 1 $?

# ---- failures at run time keep the last good answer ----
ctl set web/ams-1 down >/dev/null
expect_eq "err.lua errors in r1: the last good answer keeps serving" "192.0.2.1 192.0.2.2" "$(answer err.example.com)"
expect_eq "... also for an address outside the pool (r2)" "192.0.2.1 192.0.2.2" "$(q err.example.com A +short +subnet=10.2.0.0/24 | sort | tr '\n' ' ' | sed 's/ $//')"
out=$(ctl status)
if grep -qE 'policies: .* [1-9][0-9]* failed' <<<"$out" && grep -qE 'last error: record err.example.com' <<<"$out"; then
	ok "status counts the failures and shows the last error"
else
	not_ok "status counts the failures and shows the last error" "$out"
fi
check "the log names the policy file and line" grep -qE 'policies/err.lua:[0-9]+: .*ams-1 is gone' "$MLOG"
ctl set web/ams-1 auto >/dev/null

# ---- an infinite loop does not delay queries ----
# iad-1 down: every stuck.lua run ($STUCK records x 5 regions) burns its whole budget on the control
# thread; queries are answered by the workers from the published snapshot meanwhile.
python3 - "$PORT" "$(dirname "$CONF")/latency.txt" <<'EOF' &
import socket, struct, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
q = struct.pack(">HHHHHH", 7, 0, 1, 0, 0, 0) + b"\x03api\x07example\x03com\x00" + struct.pack(">HH", 1, 1)
lat = []
end = time.monotonic() + 3
while time.monotonic() < end:
    t0 = time.monotonic()
    s.sendto(q, ("127.0.0.1", port))
    try:
        s.recvfrom(512)
        lat.append((time.monotonic() - t0) * 1000)
    except socket.timeout:
        lat.append(2000)
    time.sleep(0.005)
lat.sort()
open(out, "w").write("%d %.2f %.2f %.2f\n" % (len(lat), lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1]))
EOF
poller=$!
sleep 0.3
published=$(log_count 'published snapshot')
ctl set web/iad-1 down >/dev/null
wait_log 'published snapshot' "$published" 30
took=$(grep -E 'published snapshot' "$MLOG" | tail -n 1 | sed -E 's/.* in ([0-9.]+) ms.*/\1/')
wait $poller
read -r n p50 p99 max <"$(dirname "$CONF")/latency.txt"
echo "# $STUCK stuck records x 5 regions: the control thread worked $took ms on them; $n queries meanwhile: p50 $p50 ms, p99 $p99 ms, max $max ms"
check "queries kept flowing while the policies looped ($n answered)" test "$n" -gt 100
if awk -v m="$max" 'BEGIN { exit !(m < 100) }'; then ok "no query waited for the looping policies (max $max ms)"; else not_ok "no query waited (max $max ms)"; fi
out=$(ctl status)
check "the budget stopped the loops (logged)" grep -qE 'stuck.lua(:[0-9]+)?: budget of [0-9]+ instructions exceeded' "$MLOG"
if grep -q 'exceeded its limits 3 times in this round' <<<"$out"; then
	ok "after 3 budget hits the stuck file is not run again in that round (status shows it)"
else
	not_ok "after 3 budget hits the stuck file is not run again in that round" "$out"
fi
expect_eq "a stuck record keeps its last good answer" "192.0.2.1 192.0.2.2" "$(answer s0.example.com)"
check "the server is alive" alive
finish
