#!/usr/bin/env bash
# test_transfer.sh -- zones sent to secondaries: AXFR and IXFR to the nets a zone's "transfer" lists
# (over TCP, from the control thread, however slowly the secondary reads), refusals with their EDE,
# NOTIFY to the "notify" servers, and NSD as a real secondary following a reload (its IXFR gets the
# difference alone).
. "$(dirname "$0")/lib.sh"

HOSTS=20000
CTL=${CTL:-$BUILD_DIR/meridianctl}
ctl() { "$CTL" -s "$DIR/run/meridian.sock" "$@"; }
NSD_PORT=$("$FREEPORT") || exit 1
MPORT=$("$FREEPORT") || exit 1
# NOTIFY leaves from 127.0.0.2 (notify_source), the only address NSD below accepts one from
write_config 'notify_source = { "127.0.0.2" }' "metrics = \"127.0.0.1:$MPORT\"" "zones = {
  { name = \"example.com\", file = \"example.com.zone\", transfer = { \"127.0.0.1\", \"::1\" },
    notify = { \"127.0.0.1:$NSD_PORT\" } },
  { name = \"example.org\", file = \"example.org.zone\" } }"
host_lines()
{
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "h%d A 10.%d.%d.%d\n", i, int(i / 65536), int(i / 256) % 256, i % 256 }'
}
write_serial_zone 2024010101 'www   A     192.0.2.1' 'Mixed.Case TXT "kept"' '*.wild A 192.0.2.9' \
	'sub   NS    ns.sub' 'ns.sub A    192.0.2.99'
host_lines "$HOSTS" >>"$DIR/example.com.zone"
sed 's/example\.com/example.org/' "$DIR/example.com.zone" | head -7 >"$DIR/example.org.zone"
start_or_bail "$CONF"

# ---- AXFR ---------------------------------------------------------------------------------------------
out=$(q example.com AXFR 2>&1)
records=$(grep -v '^;' <<<"$out" | grep -c .)
expect_eq "AXFR: every record, the SOA twice" "$((HOSTS + 8 + 1))" "$records"
expect_eq "AXFR: starts with the SOA" "SOA" "$(grep -v '^;' <<<"$out" | grep . | head -1 | awk '{ print $4 }')"
expect_eq "AXFR: ends with the SOA" "SOA" "$(grep -v '^;' <<<"$out" | grep . | tail -1 | awk '{ print $4 }')"
messages=$(sed -nE 's/^;; XFR size: [0-9]+ records \(messages ([0-9]+),.*/\1/p' <<<"$out")
check "AXFR: a large zone in many messages ($messages)" test "${messages:-0}" -gt 10
# the records themselves: the zone file's, owner names in lower case
got=$(grep -v '^;' <<<"$out" | grep . | squeeze | awk '$4 != "SOA"' | sort)
want=$( (
	echo 'example.com. 3600 IN NS ns1.example.com.'
	echo 'ns1.example.com. 3600 IN A 192.0.2.53'
	echo 'www.example.com. 3600 IN A 192.0.2.1'
	echo 'mixed.case.example.com. 3600 IN TXT "kept"'
	echo '*.wild.example.com. 3600 IN A 192.0.2.9'
	echo 'sub.example.com. 3600 IN NS ns.sub.example.com.'
	echo 'ns.sub.example.com. 3600 IN A 192.0.2.99'
	host_lines "$HOSTS" | awk '{ print $1 ".example.com. 3600 IN A " $3 }'
) | sort)
check "AXFR: exactly the zone's records" test "$got" = "$want"
expect_eq "status counts the transfer" 1 "$(ctl status | sed -nE 's/^transfers: +([0-9]+) served.*/\1/p')"
check "the log names the transfer" grep -q "transfer of example.com serial 2024010101 to 127.0.0.1: AXFR, $((HOSTS + 8 + 1)) records" "$MLOG"

# ---- IXFR ---------------------------------------------------------------------------------------------
out=$(q example.com IXFR=2024010101 +noall +answer 2>&1 | squeeze)
expect_eq "IXFR from a current secondary: the SOA alone" \
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300" "$out"
records=$(q example.com IXFR=2024010100 +noall +answer 2>&1 | grep -c .)
expect_eq "IXFR from an older serial: the whole zone" "$((HOSTS + 8 + 1))" "$records"

# ---- refusals -----------------------------------------------------------------------------------------
out=$(dig @127.0.0.1 -p "$PORT" -b 127.0.0.2 +time=2 +tries=1 example.com AXFR +noall +comments 2>&1)
check "AXFR from an address not listed: EDE 18" \
	grep -q '^; EDE: 18 (Prohibited): (zone transfer not allowed from this address)$' <<<"$out"
out=$(q example.org AXFR +noall +comments 2>&1)
check "AXFR of a zone without a transfer list: EDE 21" \
	grep -q '^; EDE: 21 (Not Supported): (zone transfers are not served)$' <<<"$out"
if raw_udp "$(header 5a03 0000 1 0 0 1)$(question example.com 252 1)$(opt_rr)"; then
	expect_eq "AXFR over UDP from a listed address: REFUSED" "5a03 1 5" "$(r_id) $(r_qr) $(r_rcode)"
	check "... saying TCP only" grep -q "$(printf 'AXFR is served over TCP only' | od -An -tx1 -v | tr -d ' \n')" <<<"$REPLY"
else
	not_ok "AXFR over UDP from a listed address: REFUSED" "no reply"
fi

# ---- a secondary that reads slowly holds no worker ------------------------------------------------------
cat >"$DIR/slow.py" <<'EOF'
import socket, struct, subprocess, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
q = struct.pack(">HHHHHH", 0x5a09, 0, 1, 0, 0, 0) + b"\x07example\x03com\x00" + struct.pack(">HH", 252, 1)
s.sendall(struct.pack(">H", len(q)) + q)
time.sleep(0.5)  # the transfer has started and filled the socket: now ask the workers
ok = 0
for name in ("www.example.com", "h7.example.com"):
    for proto in ("+notcp", "+tcp"):
        r = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+short", "+time=1", "+tries=1", proto, name, "A"],
                           capture_output=True, text=True, timeout=5)
        ok += r.stdout.strip() in ("192.0.2.1", "10.0.0.7")
print("answered", ok)
buf, records, expected = b"", 0, int(sys.argv[2])
s.settimeout(10)
while records < expected:  # the zone's records and the closing SOA, counted from each header
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
        n = struct.unpack(">H", buf[:2])[0]
        records += struct.unpack(">H", buf[8:10])[0]
        buf = buf[2 + n:]
print("records", records)
EOF
out=$(timeout 30 python3 "$DIR/slow.py" "$PORT" "$((HOSTS + 8 + 1))" 2>&1)
expect_eq "while a slow secondary transfers, UDP and TCP queries are answered" "answered 4" "$(head -1 <<<"$out")"
expect_eq "the slow secondary gets the whole zone" "records $((HOSTS + 8 + 1))" "$(tail -1 <<<"$out")"

# ---- NSD as a secondary: NOTIFY, then its transfer ----------------------------------------------------
if ! command -v nsd >/dev/null; then
	not_ok "nsd is installed (scripts/deps.sh installs it)"
	finish
fi
ND=$T_TMP/nsd
mkdir -p "$ND"
cat >"$ND/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1@$NSD_PORT
  port: $NSD_PORT
  do-ip6: no
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "$ND"
  pidfile: "$ND/nsd.pid"
  database: ""
  zonelistfile: "$ND/zone.list"
  xfrdfile: "$ND/xfrd.state"
  xfrdir: "$ND"
  logfile: "$ND/nsd.log"
  verbosity: 2
remote-control:
  control-enable: no
zone:
  name: example.com
  zonefile: example.com.zone
  request-xfr: 127.0.0.1@$PORT NOKEY
  allow-notify: 127.0.0.2 NOKEY
EOF
nsd -d -c "$ND/nsd.conf" >>"$ND/nsd.log" 2>&1 &
T_PIDS+=($!)
nsd_has()
{ # nsd_has NAME ADDRESS SECONDS: waits until NSD answers NAME A with ADDRESS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(dig @127.0.0.1 -p "$NSD_PORT" +short +time=1 +tries=1 "$1" A 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
if nsd_has www.example.com 192.0.2.1 20; then
	ok "NSD transferred the zone from meridian at its start"
else
	not_ok "NSD transferred the zone from meridian at its start" "$(sed 's/^/#   /' "$ND/nsd.log")"
fi
expect_eq "NSD serves the whole zone" "10.0.78.31" "$(dig @127.0.0.1 -p "$NSD_PORT" +short h19999.example.com A)"
n_transfers=$(log_count 'transfer of example.com serial 2024010102')
# a reload with a new serial: meridian notifies NSD, which transfers at once
write_serial_zone 2024010102 'www   A     192.0.2.2' 'new   A     192.0.2.3' 'Mixed.Case TXT "kept"' \
	'*.wild A 192.0.2.9' 'sub   NS    ns.sub' 'ns.sub A    192.0.2.99'
host_lines "$HOSTS" >>"$DIR/example.com.zone"
sed -i 's/^serial = 1$/serial = 2/' "$CONF"
kill -HUP "$MPID"
if nsd_has new.example.com 192.0.2.3 15; then
	ok "after a reload, NSD has the new record (NOTIFY from the notify_source, then its transfer)"
else
	not_ok "after a reload, NSD has the new record (NOTIFY from the notify_source, then its transfer)" \
		"$(sed 's/^/#   /' "$ND/nsd.log" "$MLOG")"
fi
expect_eq "NSD serves the changed record" "192.0.2.2" "$(dig @127.0.0.1 -p "$NSD_PORT" +short www.example.com A)"
check "meridian logged NSD's answer to the NOTIFY" \
	wait_log "notify example.com serial 2024010102 to 127.0.0.1:$NSD_PORT: answered" 0 5
check "meridian logged the transfer to NSD" wait_log 'transfer of example.com serial 2024010102 to 127.0.0.1' "$n_transfers" 5
# the reload kept the difference, and NSD's transfer was that difference alone (IXFR, RFC 1995 4)
check "the reload kept the IXFR difference" \
	grep -q 'reload: zone example.com: serial 2024010101 -> 2024010102: IXFR difference kept (1 RRs deleted, 2 added; history of 1 step)' "$MLOG"
check "NSD's transfer was incremental: the difference alone" \
	grep -q "transfer of example.com serial 2024010102 to 127.0.0.1: IXFR from serial 2024010101, 1 step, 7 records in 1 messages" "$MLOG"
expect_eq "after the incremental transfer NSD still serves the rest of the zone" "10.0.78.31" \
	"$(dig @127.0.0.1 -p "$NSD_PORT" +short h19999.example.com A)"
out=$(q example.com IXFR=2024010101 +noall +answer 2>&1 | squeeze | awk '{ print $1, $4, ($4 == "SOA" ? $7 : $5) }')
expect_eq "dig IXFR=old serial: SOA, old SOA, deleted, new SOA, added, SOA" "example.com. SOA 2024010102
example.com. SOA 2024010101
www.example.com. A 192.0.2.1
example.com. SOA 2024010102
www.example.com. A 192.0.2.2
new.example.com. A 192.0.2.3
example.com. SOA 2024010102" "$out"
STATUS=$(ctl status)
expect_in STATUS "^zone: +example\.com serial 2024010102 \([0-9]+ records\), IXFR from serial 2024010101 \(1 step\)$" \
	"status: the IXFR history"
JSON=$(ctl --json status)
expect_in JSON '"ixfr_serials":\[2024010101\]' "status --json: the serials an IXFR can start from"
expect_eq "meridian_transfers_incremental_total counts the incremental transfers" 1 \
	"$(curl -s "http://127.0.0.1:$MPORT/metrics" |
		awk '$1 == "meridian_transfers_incremental_total" { print ($2 >= 2) }')"
# over UDP (RFC 1995 2): the same differences when they fit one message, else the SOA alone
udp=$(q example.com IXFR=2024010101 +notcp +noall +answer 2>&1 | squeeze | awk '{ print $1, $4, ($4 == "SOA" ? $7 : $5) }')
expect_eq "IXFR over UDP: the differences in one message" "$out" "$udp"
udp=$(q example.com IXFR=2024010100 +notcp +noall +answer 2>&1 | squeeze | awk '{ print $1, $4, $7 }')
expect_eq "IXFR over UDP from a serial without differences: the SOA alone (ask over TCP)" \
	"example.com. SOA 2024010102" "$udp"
metrics_ok=$(ctl --json status | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(s["notify"]["answered"] >= 1 and s["transfers"]["served"] >= 5 and s["transfers"]["incremental"] >= 2
      and s["transfers"]["active"] == 0)')
expect_eq "status --json: notifies answered, transfers served (incremental too), none active" True "$metrics_ok"

# ---- meridianctl notify: again, now -----------------------------------------------------------------------
answered=$(log_count "notify example.com serial 2024010102 to 127.0.0.1:$NSD_PORT: answered")
expect_eq "meridianctl notify example.com" "notify example.com serial 2024010102: 1 server" "$(ctl notify example.com)"
check "... and NSD answers it" \
	wait_log "notify example.com serial 2024010102 to 127.0.0.1:$NSD_PORT: answered" "$answered" 5
expect_eq "meridianctl notify: every zone with notify servers" "notify example.com serial 2024010102: 1 server" \
	"$(ctl notify)"
out=$(ctl notify example.org 2>&1)
expect_eq "meridianctl notify for a zone without notify servers: refused (status 1)" \
	"1 zone example.org is not served here, or has no notify servers" "$? $out"
expect_eq "meridianctl --json notify" '[["example.com", 2024010102, 1]]' "$(ctl --json notify EXAMPLE.com. | python3 -c '
import json, sys
print(json.dumps([[z["name"], z["serial"], z["servers"]] for z in json.load(sys.stdin)["zones"]]))')"

# ---- a reload that takes the transfer list away ---------------------------------------------------------
sed -i 's/transfer = { "127.0.0.1", "::1" },//; s/^serial = 2$/serial = 3/' "$CONF"
kill -HUP "$MPID"
wait_log 'reload.*serial 3|serial 3.*reload|accepted' 0 5
for ((i = 0; i < 50; i++)); do
	out=$(q example.com AXFR +noall +comments 2>&1)
	grep -q 'EDE: 21' <<<"$out" && break
	sleep 0.1
done
check "after a reload without the list, AXFR is refused" \
	grep -q '^; EDE: 21 (Not Supported): (zone transfers are not served)$' <<<"$out"
finish
