#!/usr/bin/env bash
# test_signals.sh -- SIGHUP reloads config and zones atomically (a failed reload keeps the running data
# and logs "reload: failed" with the reason), SIGTERM and SIGINT stop cleanly with exit status 0.
. "$(dirname "$0")/lib.sh"

# zone_v ADDRESS SERIAL: example.com with www pointing at ADDRESS.
zone_v()
{
	cat >"$DIR/example.com.zone" <<EOF
\$ORIGIN example.com.
\$TTL 3600
@     SOA   ns1 hostmaster $2 7200 3600 1209600 300
      NS    ns1
ns1   A     192.0.2.53
www   A     $1
EOF
}

# config SERIAL ZONE... [-- LUA_LINE...]: rewrites $CONF in place (same port).
config()
{
	local serial=$1 zones=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		zones+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	{
		echo "serial = $serial"
		echo "listen = { \"127.0.0.1:$PORT\" }"
		echo "workers = 2"
		zones_lua "${zones[@]}"
		printf '%s\n' "$@"
	} >"$CONF"
}

# reload DESCRIPTION ok|failed: SIGHUP, then waits for one more "reload: ok" / "reload: failed" line.
reload()
{
	local n_ok n_failed
	n_ok=$(log_count 'reload: ok')
	n_failed=$(log_count 'reload: failed')
	kill -HUP "$MPID"
	if [ "$2" = ok ]; then
		if wait_log 'reload: ok' "$n_ok" 10; then ok "$1: logs reload: ok"; else
			not_ok "$1: logs reload: ok" "log:"$'\n'"$(cat "$MLOG")"; fi
	else
		if wait_log 'reload: failed' "$n_failed" 10; then ok "$1: logs reload: failed"; else
			not_ok "$1: logs reload: failed" "log:"$'\n'"$(cat "$MLOG")"; fi
	fi
}

www_is() # ADDRESS DESCRIPTION
{
	ask www.example.com A
	expect_section ANSWER "$2" <<<"www.example.com. 3600 IN A $1"
}

write_config
zone_v 192.0.2.1 1
config 1 example.com
start_or_bail "$CONF"
www_is 192.0.2.1 "before any reload: the first data"

# ---- good reloads -----------------------------------------------------------------------------------
zone_v 192.0.2.2 2
config 2 example.com
reload "changed zone" ok
www_is 192.0.2.2 "after reload: the changed zone is served"
ask example.com SOA
expect_in ANSWER ' hostmaster\.example\.com\. 2 ' "after reload: the new SOA serial"

cat >"$DIR/example.net.zone" <<'EOF'
$ORIGIN example.net.
$TTL 600
@     SOA   ns1 hostmaster 1 7200 3600 1209600 300
      NS    ns1
ns1   A     192.0.2.80
www   A     192.0.2.81
EOF
ask www.example.net A
expect_rcode REFUSED "before adding example.net to the config: REFUSED"
config 3 example.com example.net -- 'nsid = "after-reload"'
reload "zone added to the config" ok
ask www.example.net A
expect_section ANSWER "after reload: the added zone is served" <<<'www.example.net. 600 IN A 192.0.2.81'
# example.com's file did not change since the last reload read it: kept as it was, not read again
check "a zone whose files did not change is kept as loaded" \
	grep -q 'zone example\.com: serial 2, [0-9]* records, files unchanged: kept as loaded' "$MLOG"
check "... and the added zone is read" grep -qE 'zone example\.net: serial 1, [0-9]+ records$' "$MLOG"
www_is 192.0.2.2 "the kept zone is still served"
ask +nsid www.example.com A
expect_in EDNS '\("after-reload"\)' "after reload: a changed config key (nsid) applies"

config 4 example.com
reload "zone removed from the config" ok
ask www.example.net A
expect_rcode REFUSED "after reload: the removed zone is REFUSED"

# ---- failed reloads keep the running data -----------------------------------------------------------
zone_v 192.0.2.66 5
echo '@ SOA ns1 hostmaster 6 7200 3600 1209600 300' >>"$DIR/example.com.zone"
config 5 example.com example.net
reload "zone with a duplicate SOA" failed
check "failed reload: the reason names the zone file and line" grep -qE '(^|/)example\.com\.zone:7:' "$MLOG"
www_is 192.0.2.2 "failed reload: the old data is still served"
ask www.example.net A
expect_rcode REFUSED "failed reload: nothing of the new config was applied (example.net still absent)"

zone_v 192.0.2.67 6
config 6 example.com -- 'colour = "red"'
reload "config with an unknown key" failed
www_is 192.0.2.2 "failed config reload: the old data is still served"

rm -f "$DIR/example.com.zone"
config 7 example.com
reload "zone file deleted" failed
www_is 192.0.2.2 "zone file deleted: the old data is still served"

zone_v 192.0.2.68 7
config 1 example.com
reload "config with an older serial (stale)" failed
www_is 192.0.2.2 "stale config: the old data is still served"

# ---- reloads under queries --------------------------------------------------------------------------
zone_v 192.0.2.3 8
config 8 example.com
reload "fixed zone and config" ok
www_is 192.0.2.3 "after the fix: the new data"

bad=0
for ((i = 1; i <= 10; i++)); do
	zone_v "192.0.2.$((100 + i))" $((8 + i))
	config $((8 + i)) example.com
	n_ok=$(log_count 'reload: ok')
	kill -HUP "$MPID"
	for ((j = 0; j < 5; j++)); do
		ask www.example.com A
		case $RCODE:$ANSWER in
		"NOERROR:www.example.com. 3600 IN A 192.0.2.$((99 + i))" | "NOERROR:www.example.com. 3600 IN A 192.0.2.$((100 + i))" |\
			"NOERROR:www.example.com. 3600 IN A 192.0.2.3") ;;
		*)
			bad=$((bad + 1))
			echo "# during reload $i: $RCODE / $ANSWER"
			;;
		esac
	done
	wait_log 'reload: ok' "$n_ok" 10 || bad=$((bad + 1))
done
expect_eq "10 reloads while querying: every answer is the old or the new data" 0 "$bad"
www_is 192.0.2.110 "after 10 reloads: the last data"

# ---- stopping ---------------------------------------------------------------------------------------
pid=$MPID
stop_meridian
expect_eq "SIGTERM: exit status 0 within 5 s" 0 "$MRC"
check "SIGTERM: the process is gone" bash -c "! kill -0 $pid 2>/dev/null"

start_or_bail "$CONF"
kill -INT "$MPID"
for ((i = 0; i < 100; i++)); do
	kill -0 "$MPID" 2>/dev/null || break
	sleep 0.05
done
if kill -0 "$MPID" 2>/dev/null; then
	not_ok "SIGINT: exit within 5 s"
	stop_meridian
else
	wait "$MPID"
	MRC=$?
	MPID=""
	expect_eq "SIGINT: exit status 0" 0 "$MRC"
fi
finish
