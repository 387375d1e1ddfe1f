#!/usr/bin/env bash
# test_policy_files.sh -- testing Lua policies before they serve, from the command line:
#   `meridianctl test-policy` runs the example policies' test files (zones/policies/*.test.lua) without
#   a server and passes; a wrong expectation fails with exit 1 and names the case; a file that cannot
#   be run exits 2; a state given as a table sets since and forced for the policy;
#   `meridiand --check` runs every policy through the failure scenarios: a policy that errors with a
#   datacenter down fails the check, naming record, region and scenario; the example deployment passes;
#   the example deployment served live answers its Lua records as their test files say.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CTL=$BUILD_DIR/meridianctl

# test_policy FILE...: runs meridianctl test-policy; sets TP_RC and TP_OUT (stdout and stderr).
test_policy()
{
	TP_OUT=$(timeout 60 "$CTL" test-policy "$@" 2>&1)
	TP_RC=$?
	ASKED=""
}

# expect_rc DESCRIPTION STATUS: TP_RC is STATUS; otherwise a failure that shows the output.
expect_rc()
{
	if [ "$TP_RC" = "$2" ]; then
		ok "$1"
	else
		not_ok "$1" "expected exit $2, got $TP_RC; output:"$'\n'"$TP_OUT"
	fi
}

# ---- the shipped examples pass ------------------------------------------------------------------------
test_policy "$ROOT"/zones/policies/*.test.lua
expect_rc "test-policy zones/policies/*.test.lua: exit 0" 0
if grep -qE '^[1-9][0-9]* passed, 0 failed$' <<<"$TP_OUT" && [ "$(tail -n 1 <<<"$TP_OUT" | cut -d' ' -f3-)" = "0 failed" ]; then
	ok "test-policy: the last line is \"N passed, 0 failed\" ($(tail -n 1 <<<"$TP_OUT"))"
else
	not_ok "test-policy: the last line is \"N passed, 0 failed\"" "$(tail -n 1 <<<"$TP_OUT")"
fi
for f in failover spill canary follow_the_sun; do
	check "test-policy: $f.test.lua ran and passed" \
		grep -qE "^$ROOT/zones/policies/$f\.test\.lua: [1-9][0-9]* passed, 0 failed\$" <<<"$TP_OUT"
done
check "test-policy: no case failed" bash -c '! grep -q "^not ok" <<<"$1"' _ "$TP_OUT"

# from the policies' folder, with relative paths, as the files' comments say
TP_OUT=$(cd "$ROOT/zones/policies" && timeout 60 "$CTL" test-policy spill.test.lua 2>&1)
TP_RC=$?
expect_rc "test-policy spill.test.lua from zones/policies: exit 0" 0

# ---- a wrong expectation fails and is named -----------------------------------------------------------
T=$T_TMP/tests
mkdir -p "$T"
cat >"$T/wrong.test.lua" <<EOF
return {
  config = "$ROOT/zones/meridian.conf",
  record = "api.example.com", type = "A",
  cases = {
    { name = "europe gets ams", region = "europe", expect = { addrs = { "192.0.2.10" } } },
    { name = "europe gets iad (wrong)", region = "europe", expect = { addrs = { "198.51.100.10" } } },
  },
}
EOF
test_policy "$T/wrong.test.lua"
expect_rc "a wrong expectation: exit 1" 1
check "a wrong expectation: the right case passes" grep -qx "ok - europe gets ams" <<<"$TP_OUT"
check "a wrong expectation: the case is named" grep -qx "not ok - europe gets iad (wrong)" <<<"$TP_OUT"
check "a wrong expectation: expected and got" \
	bash -c 'grep -qx "#   expected addrs: 198.51.100.10" <<<"$1" && grep -qx "#   got      addrs: 192.0.2.10" <<<"$1"' _ "$TP_OUT"
expect_eq "a wrong expectation: the last line" "1 passed, 1 failed" "$(tail -n 1 <<<"$TP_OUT")"

# the good files beside it still count: one failure among them all fails the run
test_policy "$ROOT/zones/policies/canary.test.lua" "$T/wrong.test.lua"
expect_rc "a wrong expectation among good files: exit 1" 1
check "a wrong expectation among good files: counted together" \
	grep -qE '^[1-9][0-9]* passed, 1 failed$' <<<"$TP_OUT"

# ---- a state given as a table: how long, and forced ------------------------------------------------------
# warm.lua (a unit-test fixture) prefers members an operator forced up, then members up for a minute.
cp "$ROOT"/tests/unit/data/policy_check/{warm.conf,warm.lua,example.com.zone} "$T/"
cat >"$T/warm.test.lua" <<EOF
return {
  config = "warm.conf", record = "warm.example.com", type = "A",
  cases = {
    { name = "iad-2 up for 90 s", states = { ["iad-2"] = { state = "up", since = 90 } },
      expect = { addrs = { "198.51.100.11" } } },
    { name = "ams-1 forced up", states = { ["web/ams-1"] = { state = "up", forced = true } },
      expect = { addrs = { "192.0.2.10" } } },
    { name = "iad-2 up for 90 s, said of the wrong member",
      states = { ["iad-1"] = { state = "up", since = 90 } }, expect = { addrs = { "198.51.100.11" } } },
  },
}
EOF
test_policy "$T/warm.test.lua"
expect_rc "states with since and forced: exit 1 (one case is wrong on purpose)" 1
check "states with since: the case passes" grep -qx "ok - iad-2 up for 90 s" <<<"$TP_OUT"
check "states with forced: the case passes" grep -qx "ok - ams-1 forced up" <<<"$TP_OUT"
check "states with since: said of the wrong member, it fails" \
	grep -qx "not ok - iad-2 up for 90 s, said of the wrong member" <<<"$TP_OUT"
expect_eq "states with since and forced: the last line" "2 passed, 1 failed" "$(tail -n 1 <<<"$TP_OUT")"

# ---- files that cannot be run: exit 2 ----------------------------------------------------------------
cat >"$T/unknown.test.lua" <<EOF
return {
  config = "$ROOT/zones/meridian.conf",
  record = "nope.example.com", type = "A",
  cases = { { name = "x", expect = { addrs = { "192.0.2.10" } } } },
}
EOF
test_policy "$T/unknown.test.lua"
expect_rc "a record the config does not have: exit 2" 2
check "a record the config does not have: named" \
	grep -qF "$T/unknown.test.lua:4: cases[1]: $ROOT/zones/meridian.conf has no dynamic record nope.example.com A" <<<"$TP_OUT"
test_policy "$T/missing.test.lua"
expect_rc "a missing test file: exit 2" 2
test_policy
expect_rc "test-policy without a file: exit 2 (usage)" 2

# ---- meridiand --check runs the scenarios -------------------------------------------------------------
write_config "$(zones_lua example.com)" "$(
	cat <<'EOF'
regions = { europe = { nets = { "10.1.0.0/16" } }, americas = { nets = { "10.2.0.0/16" } } }
default_region = "europe"
datacenters = { ams = {}, iad = {} }
pools = { web = { members = {
  { name = "ams-1", addr = "192.0.2.1", dc = "ams" },
  { name = "iad-1", addr = "192.0.2.2", dc = "iad" },
  { name = "iad-2", addr = "192.0.2.3", dc = "iad" },
} } }
records = {
  { name = "api.example.com", type = "A", pool = "web", ttl = 30, policy = "policies/api.lua" },
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
mkdir -p "$DIR/policies"
# fine unless iad is down entirely while ams is up
cat >"$DIR/policies/api.lua" <<'EOF'
return function(ctx)
  local up = meridian.up(ctx.members)
  if #up > 0 and #meridian.in_dc(up, "iad") == 0 then
    error("no iad member up")
  end
  return { members = ctx.members }
end
EOF
TP_OUT=$(timeout 20 "$MERIDIAND" -c "$CONF" --check 2>&1)
TP_RC=$?
expect_rc "--check with a policy that errors with a datacenter down: exit 1" 1
for region in europe americas; do
	check "--check names record, region $region and scenario" grep -qF \
		"$DIR/policies/api.lua: record api.example.com A, region $region, scenario dc iad down: $DIR/policies/api.lua:4: no iad member up" <<<"$TP_OUT"
done
expect_eq "--check: only that scenario fails" 2 "$(grep -c 'scenario' <<<"$TP_OUT")"

# the fixed policy passes
cat >"$DIR/policies/api.lua" <<'EOF'
return function(ctx)
  local here = meridian.nearest(meridian.up(ctx.members), ctx.dcs)
  if #here == 0 then return { members = ctx.members, ttl = 5 } end
  return { members = here }
end
EOF
TP_OUT=$(timeout 20 "$MERIDIAND" -c "$CONF" --check 2>&1)
TP_RC=$?
expect_rc "--check with the policy fixed: exit 0" 0

# ---- the example deployment ---------------------------------------------------------------------------
TP_OUT=$(timeout 20 "$MERIDIAND" -c "$ROOT/zones/meridian.conf" --check 2>&1)
TP_RC=$?
expect_rc "the example deployment zones/meridian.conf passes --check" 0

# served from a copy on a free port, its Lua records answer as their test files say
write_config
cp "$ROOT"/zones/meridian.conf "$ROOT"/zones/*.zone "$ROOT"/zones/*.intent "$DIR/"
cp -r "$ROOT"/zones/geo "$ROOT"/zones/policies "$DIR/"
sed -i -E "s/^listen *=.*/listen = { \"127.0.0.1:$PORT\" }/" "$DIR/meridian.conf"
start_or_bail "$DIR/meridian.conf"

ask +subnet=192.0.2.0/24 api.example.com A
expect_section ANSWER "api (failover.lua) from europe: ams" <<<'api.example.com. 30 IN A 192.0.2.10'
ask +subnet=10.8.0.0/16 api.example.com A
expect_section ANSWER "api (failover.lua) from asia: sin" <<<'api.example.com. 30 IN A 203.0.113.10'
ask +subnet=10.8.0.0/16 spill.example.com A
expect_section ANSWER "spill from asia: sin-1, filled from ams" <<'EOF'
spill.example.com. 30 IN A 203.0.113.20
spill.example.com. 30 IN A 192.0.2.20
EOF
ask +subnet=192.0.2.0/24 spill.example.com A
expect_section ANSWER "spill from europe: both of ams" <<'EOF'
spill.example.com. 30 IN A 192.0.2.20
spill.example.com. 30 IN A 192.0.2.21
EOF
ask canary.example.com A
expect_count NANSWER 1 "canary: one address per answer"
expect_in ANSWER '^canary\.example\.com\. 60 IN A (192\.0\.2\.30|198\.51\.100\.30|192\.0\.2\.39)$' "canary: a member of its pool"

# sun: the datacenter of the current UTC shift (asked twice if the shift changes while asking)
for try in 1 2; do
	h1=$(date -u +%-H)
	ask sun.example.com A
	h2=$(date -u +%-H)
	[ $((h1 / 8)) = $((h2 / 8)) ] && break
done
case $((h1 / 8)) in
0) want='sun.example.com. 60 IN A 203.0.113.20' ;;
1) want=$'sun.example.com. 60 IN A 192.0.2.20\nsun.example.com. 60 IN A 192.0.2.21' ;;
*) want=$'sun.example.com. 60 IN A 198.51.100.20\nsun.example.com. 60 IN A 198.51.100.21' ;;
esac
expect_section ANSWER "sun at $h1:xx UTC: the shift's datacenter" <<<"$want"

finish
