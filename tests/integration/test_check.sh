#!/usr/bin/env bash
# test_check.sh -- `meridiand -c FILE --check`: every config and zone error is printed as file:line
# on stderr and the exit status is 1; a good config exits 0. Also start-up with a bad config.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# run_check CONF: runs --check, sets CHECK_RC and CHECK_ERR (stderr and stdout).
run_check()
{
	CHECK_ERR=$(timeout 20 "$MERIDIAND" -c "$1" --check 2>&1)
	CHECK_RC=$?
	ASKED=""
}

# expect_check_error DESCRIPTION REGEX: --check exited 1 and printed a line matching REGEX.
expect_check_error()
{
	if [ "$CHECK_RC" = 1 ] && grep -qE -- "$2" <<<"$CHECK_ERR"; then
		ok "$1"
	else
		not_ok "$1" "expected exit 1 and a line matching: $2"$'\n'"got exit $CHECK_RC, output:"$'\n'"$CHECK_ERR"
	fi
}

# a zone file header: lines 1-5 are a valid zone; tests append their error from line 6 on.
zone_head()
{
	cat <<'EOF'
$ORIGIN example.com.
$TTL 3600
@     SOA   ns1 hostmaster 1 7200 3600 1209600 300
@     NS    ns1
ns1   A     192.0.2.53
EOF
}

D=$T_TMP/check
mkdir -p "$D"
PORT=$("$FREEPORT")

# conf FILE ZONEFILE [LUA_LINE...]: a config at D/FILE with serial (line 1), listen (line 2), the
# zone example.com from ZONEFILE (line 3), then the extra lines from line 4.
conf()
{
	local f=$D/$1 z=$2
	shift 2
	{
		echo 'serial = 1'
		echo "listen = { \"127.0.0.1:$PORT\" }"
		echo "zones = { { name = \"example.com\", file = \"$z\" } }"
		printf '%s\n' "$@"
	} >"$f"
	echo "$f"
}

zone_head >"$D/good.zone"
echo 'www   A     192.0.2.1' >>"$D/good.zone"

# ---- good configs -----------------------------------------------------------------------------------
run_check "$(conf good.conf good.zone 'workers = 2' 'nsid = "x"' 'identity = "ns1"' 'version = "v"' \
	'udp_payload = 1232' 'tcp_idle_timeout = 10' 'tcp_clients = 256')"
expect_eq "good config with every key: --check exits 0" "0" "$CHECK_RC"
[ "$CHECK_RC" = 0 ] || echo "$CHECK_ERR" | sed 's/^/#   /'

run_check "$ROOT/zones/meridian.conf"
expect_eq "the example deployment zones/meridian.conf: --check exits 0" "0" "$CHECK_RC"
[ "$CHECK_RC" = 0 ] || echo "$CHECK_ERR" | sed 's/^/#   /'

# the issue's minimal form, with relative paths, run from another folder
mkdir -p "$D/min"
cp "$D/good.zone" "$D/min/example.com.zone"
cat >"$D/min/meridian.conf" <<EOF
serial = 1
listen = { "127.0.0.1:$PORT", "[::1]:$PORT" }
zones  = { { name = "example.com", file = "example.com.zone" } }
EOF
CHECK_ERR=$(cd / && timeout 20 "$MERIDIAND" -c "$D/min/meridian.conf" --check 2>&1)
CHECK_RC=$?
expect_eq "minimal config from the issue, zone path relative to the config: exits 0" "0" "$CHECK_RC"
[ "$CHECK_RC" = 0 ] || echo "$CHECK_ERR" | sed 's/^/#   /'

# ---- config errors ----------------------------------------------------------------------------------
run_check "$(conf unknown.conf good.zone 'workers = 1' 'colour = "red"')"
expect_check_error "unknown key: conf:5" '(^|/)unknown\.conf:5:'

run_check "$(conf type.conf good.zone 'workers = "two"')"
expect_check_error "wrong type (workers = \"two\"): conf:4" '(^|/)type\.conf:4:'

run_check "$(conf type2.conf good.zone 'nsid = 42')"
expect_check_error "wrong type (nsid = 42): conf:4" '(^|/)type2\.conf:4:'

run_check "$(conf range.conf good.zone 'udp_payload = 100')"
expect_check_error "udp_payload out of 512..4096: conf:4" '(^|/)range\.conf:4:'

run_check "$(conf two.conf good.zone 'colour = "red"' 'workers = 1' 'flavour = "mint"')"
expect_check_error "two unknown keys: the first (conf:4)" '(^|/)two\.conf:4:'
expect_check_error "two unknown keys: the second (conf:6)" '(^|/)two\.conf:6:'

cat >"$D/dup.conf" <<EOF
serial = 1
listen = { "127.0.0.1:$PORT" }
zones = {
	{ name = "example.com", file = "good.zone" },
	{ name = "example.com", file = "good.zone" },
}
EOF
run_check "$D/dup.conf"
expect_check_error "duplicate zone: conf:line of the zones table" '(^|/)dup\.conf:[345]:'

cat >"$D/dupcase.conf" <<EOF
serial = 1
listen = { "127.0.0.1:$PORT" }
zones = {
	{ name = "example.com", file = "good.zone" },
	{ name = "EXAMPLE.com.", file = "good.zone" },
}
EOF
run_check "$D/dupcase.conf"
expect_check_error "duplicate zone differing in case and final dot: reported" '(^|/)dupcase\.conf:[345]:'

cat >"$D/missing.conf" <<EOF
serial = 1
listen = { "127.0.0.1:$PORT" }
zones = {
	{ name = "example.com", file = "good.zone" },
	{ name = "example.net", file = "no-such-file.zone" },
}
EOF
run_check "$D/missing.conf"
expect_check_error "unreadable zone file: conf:line of its entry" '(^|/)missing\.conf:[35]:'
expect_check_error "unreadable zone file: the file is named" 'no-such-file\.zone'

cat >"$D/syntax.conf" <<EOF
serial = 1
listen = { "127.0.0.1:$PORT" }
zones = { { name = "example.com", file = "good.zone" }
workers = 1
EOF
run_check "$D/syntax.conf"
expect_check_error "Lua syntax error: conf:line" '(^|/)syntax\.conf:[0-9]+:'

conf noserial.conf good.zone >/dev/null
sed -i '/^serial/d' "$D/noserial.conf"
run_check "$D/noserial.conf"
expect_check_error "missing serial: an error naming the file" '(^|/)noserial\.conf(:[0-9]+)?:'

conf listen.conf good.zone >/dev/null
sed -i "s/127.0.0.1:$PORT/127.0.0.1:99999/" "$D/listen.conf"
run_check "$D/listen.conf"
expect_check_error "listen port out of range: conf:2" '(^|/)listen\.conf:2:'

rm -f "$D/pwned"
run_check "$(conf sandbox.conf good.zone "os.execute('touch $D/pwned')")"
expect_check_error "config calling os.execute: an error (no os in the sandbox)" '(^|/)sandbox\.conf:[0-9]+:'
check "config calling os.execute: nothing was run" test ! -e "$D/pwned"
run_check "$(conf sandbox2.conf good.zone "local f = io.open('$D/pwned', 'w')")"
expect_check_error "config calling io.open: an error (no io in the sandbox)" '(^|/)sandbox2\.conf:[0-9]+:'
check "config calling io.open: no file was written" test ! -e "$D/pwned"

CHECK_ERR=$(timeout 20 "$MERIDIAND" -c "$D/no-such.conf" --check 2>&1)
CHECK_RC=$?
expect_check_error "config file missing: exit 1 and its name" 'no-such\.conf'

# ---- zone errors ------------------------------------------------------------------------------------
# zone_case NAME LINES...: writes NAME.zone = zone_head + LINES, a config for it, runs --check.
zone_case()
{
	local name=$1
	shift
	{
		zone_head
		printf '%s\n' "$@"
	} >"$D/$name.zone"
	run_check "$(conf "$name.conf" "$name.zone")"
}

zone_case dupsoa '@ SOA ns1 hostmaster 2 7200 3600 1209600 300'
expect_check_error "duplicate SOA: zone:6" '(^|/)dupsoa\.zone:6:'

printf '%s\n' '$ORIGIN example.com.' '$TTL 3600' '@ NS ns1' 'ns1 A 192.0.2.53' >"$D/nosoa.zone"
run_check "$(conf nosoa.conf nosoa.zone)"
expect_check_error "missing SOA: zone:line" '(^|/)nosoa\.zone:[0-9]+:'

printf '%s\n' '$ORIGIN example.com.' '$TTL 3600' '@ SOA ns1 hostmaster 1 7200 3600 1209600 300' \
	'ns1 A 192.0.2.53' >"$D/nons.zone"
run_check "$(conf nons.conf nons.zone)"
expect_check_error "no NS at the apex: zone:line" '(^|/)nons\.zone:[0-9]+:'

zone_case cname 'www A 192.0.2.1' 'www CNAME ns1'
expect_check_error "CNAME beside other data: zone:6 or zone:7" '(^|/)cname\.zone:[67]:'

zone_case cname2 'www CNAME ns1' 'www CNAME ns1.example.net.'
expect_check_error "two CNAMEs at one name: zone:6 or zone:7" '(^|/)cname2\.zone:[67]:'

zone_case outside 'www A 192.0.2.1' 'www.example.org. A 192.0.2.2'
expect_check_error "data outside the origin: zone:7" '(^|/)outside\.zone:7:'

zone_case glue 'www A 192.0.2.1' 'sub NS ns1.sub' 'sub NS ns2.example.net.'
expect_check_error "delegation to an in-bailiwick server without glue: zone:7" '(^|/)glue\.zone:7:'

zone_case badaddr 'www A 192.0.2.1' 'www2 A 300.1.2.3'
expect_check_error "bad IPv4 address: zone:7" '(^|/)badaddr\.zone:7:'

zone_case badtype 'www A 192.0.2.1' 'www2 NOSUCHTYPE foo'
expect_check_error "unknown type mnemonic: zone:7" '(^|/)badtype\.zone:7:'

zone_case badinc 'www A 192.0.2.1' "\$INCLUDE $D/no-such-include.zone"
expect_check_error "\$INCLUDE of a missing file: zone:7" '(^|/)badinc\.zone:7:'

# every error, not only the first: two broken zones in one config
cat >"$D/twozones.conf" <<EOF
serial = 1
listen = { "127.0.0.1:$PORT" }
zones = {
	{ name = "example.com", file = "dupsoa.zone" },
	{ name = "example.net", file = "nosoa.zone" },
}
EOF
sed 's/example\.com/example.net/' "$D/nosoa.zone" >"$D/nosoa.net.zone"
sed -i 's/nosoa\.zone/nosoa.net.zone/' "$D/twozones.conf"
run_check "$D/twozones.conf"
expect_check_error "two broken zones: the first reported" '(^|/)dupsoa\.zone:6:'
expect_check_error "two broken zones: the second reported" '(^|/)nosoa\.net\.zone:[0-9]+:'

# two errors in one zone
zone_case twoerr 'www A 192.0.2.1' 'www.example.org. A 192.0.2.2' 'sub NS ns1.sub'
expect_check_error "two errors in one zone: the first (zone:7)" '(^|/)twoerr\.zone:7:'
expect_check_error "two errors in one zone: the second (zone:8)" '(^|/)twoerr\.zone:8:'

# ---- start-up with a bad config: exit 1, never ready ------------------------------------------------
if start_meridian "$D/unknown.conf" "$D/start-bad.log"; then
	not_ok "start with an invalid config: exits 1"
else
	expect_eq "start with an invalid config: exits 1" 1 "$MRC"
	check "start with an invalid config: the error is logged as file:line" grep -qE '(^|/)unknown\.conf:5:' "$D/start-bad.log"
fi

cat >"$D/nobind.conf" <<EOF
serial = 1
listen = { "192.0.2.1:$PORT" }
zones = { { name = "example.com", file = "good.zone" } }
EOF
if start_meridian "$D/nobind.conf" "$D/nobind.log"; then
	not_ok "start with an address it cannot bind (192.0.2.1): exits 1"
else
	expect_eq "start with an address it cannot bind (192.0.2.1): exits 1" 1 "$MRC"
fi

finish
