#!/usr/bin/env bash
# test_geo_check.sh -- `meridiand --check` on geo configs: a dynamic record outside every zone, at or
# below a delegation, where the zone file has records of its type, or a dynamic CNAME beside other data
# is an error at the record's line of the config (exit 1); so are a missing or corrupt database and
# ambiguous regions. The same records in allowed places pass.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DB=$ROOT/zones/geo/demo-city.mmdb

D=$T_TMP/geocheck
mkdir -p "$D"
PORT=$("$FREEPORT")

cat >"$D/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@       SOA   ns1 hostmaster 1 7200 3600 1209600 300
@       NS    ns1
ns1     A     192.0.2.53
mail    A     192.0.2.25
shop    CNAME mail
txt     TXT   "text"
origin  A     192.0.2.99
sub     NS    ns.sub
ns.sub  A     192.0.2.54
*.wild  A     192.0.2.80
EOF

# geo_conf FILE [RECORD_LINE...] [-- EXTRA_LINE...]: a geo config at D/FILE. Lines 1-8 are fixed (serial,
# listen, zones, geoip, regions, default_region, datacenters, pools); line 9 is "records = {", line 10
# a good record (good.example.com A), the RECORD_LINEs from line 11, then "}" and the EXTRA_LINEs.
geo_conf()
{
	local f=$D/$1 extra=0 line
	shift
	{
		echo 'serial = 1'
		echo "listen = { \"127.0.0.1:$PORT\" }"
		echo 'zones = { { name = "example.com", file = "example.com.zone" } }'
		echo "geoip = { \"${GEOIP:-$DB}\" }"
		echo "regions = { europe = { continents = { \"EU\", \"AF\" } }, americas = { continents = { \"NA\", \"SA\" } }${REGIONS:-} }"
		echo 'default_region = "americas"'
		echo 'datacenters = { ams = { lat = 52.37, lon = 4.90 }, iad = { lat = 38.95, lon = -77.45 } }'
		echo 'pools = { web = { members = { { name = "ams-1", addr = "192.0.2.10", dc = "ams" }, { name = "iad-1", addr = "198.51.100.10", dc = "iad" }, { name = "ams-6", addr = "2001:db8:a::10", dc = "ams" } } }, alias = { members = { { name = "a", target = "origin.example.com", dc = "ams" } } } }'
		echo 'records = {'
		echo '  { name = "good.example.com", type = "A", pool = "web", ttl = 30, policy = "failover" },'
		for line in "$@"; do
			if [ "$line" = -- ]; then
				extra=1
				echo '}'
				continue
			fi
			if [ "$extra" = 1 ]; then
				echo "$line"
			else
				echo "  $line,"
			fi
		done
		[ "$extra" = 1 ] || echo '}'
	} >"$f"
	echo "$f"
}

# rec NAME TYPE [POOL [POLICY]]: one record table.
rec()
{
	echo "{ name = \"$1\", type = \"$2\", pool = \"${3:-web}\", ttl = 30, policy = \"${4:-failover}\" }"
}

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

expect_check_ok()
{
	if [ "$CHECK_RC" = 0 ]; then
		ok "$1"
	else
		not_ok "$1" "expected exit 0, got $CHECK_RC, output:"$'\n'"$CHECK_ERR"
	fi
}

# bad FILE DESCRIPTION RECORD: the record on line 11 is an error reported as FILE:11 naming the record.
bad()
{
	local name
	name=$(sed -nE 's/.*name = "([^"]*)".*/\1/p' <<<"$3")
	run_check "$(geo_conf "$1" "$3")"
	expect_check_error "$2: exit 1, $1:11" "(^|/)${1//./\\.}:11: "
	expect_check_error "$2: the message names $name" "(^|/)${1//./\\.}:11: .*${name//./\\.}"
}

# ---- allowed ----------------------------------------------------------------------------------------
run_check "$(geo_conf ok.conf "$(rec txt.example.com A)" "$(rec mail.example.com AAAA)" "$(rec example.com A)" \
	"$(rec new.deep.example.com A)" "$(rec cname.example.com CNAME alias)" "$(rec x.wild.example.com A)" \
	"$(rec good.example.com AAAA)")"
expect_check_ok "dynamic records beside other types, at the apex, deep, a CNAME alone, under a wildcard: exit 0"
check "a good config prints no error line" test -z "$(grep -E ':[0-9]+: ' <<<"$CHECK_ERR")"

# ---- a dynamic record in a place the zone does not allow -------------------------------------------
bad outside.conf "a dynamic record outside every zone" "$(rec www.example.org A)"
bad cut.conf "a dynamic record at a delegation" "$(rec sub.example.com A)"
bad below.conf "a dynamic record below a delegation" "$(rec www.sub.example.com A)"
bad sametype.conf "a dynamic A where the zone file has an A" "$(rec mail.example.com A)"
bad nsname.conf "a dynamic A at the zone's name server (it has an A)" "$(rec ns1.example.com A)"
bad cnamedata.conf "a dynamic CNAME beside zone data (TXT)" "$(rec txt.example.com CNAME alias)"
bad cnameaddr.conf "a dynamic CNAME beside a zone A" "$(rec mail.example.com CNAME alias)"
bad cnameapex.conf "a dynamic CNAME at the apex" "$(rec example.com CNAME alias)"
bad onstatic.conf "a dynamic A at a name holding a zone CNAME" "$(rec shop.example.com A)"
bad cnamecname.conf "a dynamic CNAME where the zone has a CNAME" "$(rec shop.example.com CNAME alias)"
bad cnamedyn.conf "a dynamic CNAME beside a dynamic A" "$(rec good.example.com CNAME alias)"
bad twice.conf "a second dynamic A at the same name" "$(rec good.example.com A)"

# several at once: every one is reported at its own line
run_check "$(geo_conf many.conf "$(rec www.example.org A)" "$(rec mail.example.com A)" "$(rec txt.example.com CNAME alias)")"
expect_check_error "three bad records: the first at :11" '(^|/)many\.conf:11: '
expect_check_error "three bad records: the second at :12" '(^|/)many\.conf:12: '
expect_check_error "three bad records: the third at :13" '(^|/)many\.conf:13: '

# a record spread over several lines: the error points into the record, not at the table
run_check "$(geo_conf multi.conf "{ name = \"mail.example.com\","$'\n'"    type = \"A\", pool = \"web\", ttl = 30, policy = \"failover\" }")"
expect_check_error "a record over two lines: reported at its first line (:11)" '(^|/)multi\.conf:11: '

# ---- databases and regions ---------------------------------------------------------------------------
f=$(GEOIP=$D/no-such.mmdb geo_conf nodb.conf)
run_check "$f"
expect_check_error "a missing database: exit 1 at the geoip line" '(^|/)nodb\.conf:4: .*no-such\.mmdb'
head -c 4096 /dev/urandom >"$D/corrupt.mmdb"
f=$(GEOIP=$D/corrupt.mmdb geo_conf corrupt.conf)
run_check "$f"
expect_check_error "a corrupt database: exit 1 at the geoip line, the database named as corrupt" '(^|/)corrupt\.conf:4: geoip database .*corrupt\.mmdb: corrupt'
printf 'MaxMind' >"$D/short.mmdb"
f=$(GEOIP=$D/short.mmdb geo_conf short.conf)
run_check "$f"
expect_check_error "a truncated database (7 bytes): exit 1 at the geoip line, named" '(^|/)short\.conf:4: geoip database .*short\.mmdb: .*(corrupt|invalid|short|truncated)'
: >"$D/empty.mmdb"
f=$(GEOIP=$D/empty.mmdb geo_conf empty.conf)
run_check "$f"
expect_check_error "an empty database file: exit 1 at the geoip line, named" '(^|/)empty\.conf:4: geoip database .*empty\.mmdb'
f=$(GEOIP=$D geo_conf dir.conf)
run_check "$f"
expect_check_error "a folder given as the database: exit 1" '(^|/)dir\.conf:4: |geocheck'

f=$(REGIONS=', asia = { continents = { "AS", "EU" } }' geo_conf ambiguous.conf)
run_check "$f"
expect_check_error "two regions claiming one continent: exit 1 at the regions line" '(^|/)ambiguous\.conf:5: .*EU'
run_check "$(geo_conf noregion.conf "{ name = \"x.example.com\", type = \"A\", pool = \"web\", ttl = 30, policy = \"failover\", order = { mars = { \"ams\" } } }")"
expect_check_error "an order for an unknown region: exit 1 at its line" '(^|/)noregion\.conf:11: .*mars'
run_check "$(geo_conf nodc.conf "{ name = \"x.example.com\", type = \"A\", pool = \"web\", ttl = 30, policy = \"failover\", order = { europe = { \"fra\" } } }")"
expect_check_error "an order naming an unknown datacenter: exit 1 at its line" '(^|/)nodc\.conf:11: .*fra'

# ---- a bad config does not start --------------------------------------------------------------------
# A dynamic record that clashes with its zone is a config error, like any other: meridiand stops with
# exit 1 rather than starting without the zone. (Given 5 s: a server that does start is stopped then.)
# start_fails FILE DESCRIPTION RECORD: meridiand -c FILE exits 1 and names FILE:11.
start_fails()
{
	local f out rc
	f=$(geo_conf "$1" "$3")
	out=$(timeout 5 "$MERIDIAND" -c "$f" 2>&1)
	rc=$?
	ASKED=""
	if [ "$rc" = 1 ] && grep -qE "(^|/)${1//./\\.}:11: " <<<"$out"; then
		ok "starting with $2: exit 1, $1:11"
	else
		not_ok "starting with $2: exit 1, $1:11" "got exit $rc (124: it started and was stopped after 5 s), log:"$'\n'"$out"
	fi
}
start_fails start1.conf "a dynamic A where the zone has an A" "$(rec mail.example.com A)"
start_fails start2.conf "a dynamic record outside every zone" "$(rec www.example.org A)"
start_fails start3.conf "a dynamic record below a delegation" "$(rec www.sub.example.com A)"
start_fails start4.conf "a dynamic CNAME beside zone data" "$(rec txt.example.com CNAME alias)"

finish
