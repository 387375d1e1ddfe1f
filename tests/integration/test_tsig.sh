#!/usr/bin/env bash
# test_tsig.sh -- TSIG (RFC 8945): dig -y with each of the six algorithms over UDP and TCP; NOTAUTH with
# BADKEY/BADSIG (unsigned); BADTIME, BADTRUNC and good answers signed and checked by an independent
# signer in python; a TSIG record out of place is FORMERR; a zone's transfer_key: signed AXFR of a large
# zone in many messages, refusals with EDE 18 (signed when the request was); NSD as a secondary with the
# key (signed NOTIFY, signed transfer) and with a wrong secret; --check errors as file:line; a reload
# that rotates a key.
. "$(dirname "$0")/lib.sh"

HOSTS=20000
ALGS="hmac-md5 hmac-sha1 hmac-sha224 hmac-sha256 hmac-sha384 hmac-sha512"
declare -A MACLEN=([hmac-md5]=16 [hmac-sha1]=20 [hmac-sha224]=28 [hmac-sha256]=32 [hmac-sha384]=48 [hmac-sha512]=64)
declare -A SECRET
new_secret() { head -c 32 /dev/urandom | base64; }
for a in $ALGS; do SECRET[$a]=$(new_secret); done
XFR_SECRET=$(new_secret)
OTHER_SECRET=$(new_secret)
NSD_PORT=$("$FREEPORT") || exit 1
BAD_NSD_PORT=$("$FREEPORT") || exit 1
while [ "$BAD_NSD_PORT" = "$NSD_PORT" ]; do BAD_NSD_PORT=$("$FREEPORT") || exit 1; done

keys="tsig_keys = {
  { name = \"xfr-key\", secret = \"$XFR_SECRET\" },
  { name = \"other-key\", algorithm = \"hmac-sha256\", secret = \"$OTHER_SECRET\" },"
for a in $ALGS; do
	keys+=$'\n'"  { name = \"k-$a\", algorithm = \"$a\", secret = \"${SECRET[$a]}\" },"
done
keys+=$'\n}'
write_config "$keys" "zones = {
  { name = \"example.com\", file = \"example.com.zone\", transfer = { \"127.0.0.1\", \"::1\" },
    transfer_key = \"xfr-key\", notify = { \"127.0.0.1:$NSD_PORT\" } } }"
while [ "$PORT" = "$NSD_PORT" ] || [ "$PORT" = "$BAD_NSD_PORT" ]; do PORT=$("$FREEPORT") || exit 1; done
sed -i "s/^listen = .*/listen = { \"127.0.0.1:$PORT\" }/" "$CONF"
host_lines()
{
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "h%d A 10.%d.%d.%d\n", i, int(i / 65536), int(i / 256) % 256, i % 256 }'
}
write_serial_zone 2024010101 'www   A     192.0.2.1'
host_lines "$HOSTS" >>"$DIR/example.com.zone"
start_or_bail "$CONF"

# tsig_line OUTPUT: the record of dig's TSIG pseudosection (or, in a transfer, the last TSIG record), squeezed.
tsig_line()
{
	grep -E '^[^;].*[[:space:]]ANY[[:space:]]+TSIG[[:space:]]' <<<"$1" | tail -1 | squeeze
}
# tsig_ok OUTPUT: dig said nothing of a TSIG it could not verify.
tsig_ok()
{
	! grep -qE "Couldn't verify signature|Some TSIG could not be validated|[Tt][Ss][Ii][Gg].*(failure|failed|error)" <<<"$1"
}
# tsig_matches OUTPUT REGEX: the TSIG record line matches REGEX.
tsig_matches()
{
	grep -qE -- "$2" <<<"$(tsig_line "$1")"
}
# signed_ok OUTPUT REGEX: dig verified the TSIG, and its record line matches REGEX.
signed_ok()
{
	tsig_ok "$1" && tsig_matches "$1" "$2"
}
# xfr_types OUTPUT: the types of a transfer's records (TSIG left out), space separated.
xfr_types()
{
	grep -v '^;' <<<"$1" | grep . | awk '$4 != "TSIG" { printf "%s ", $4 }'
}

# ---- dig -y: each algorithm, UDP and TCP -------------------------------------------------------------
for a in $ALGS; do
	for proto in udp tcp; do
		if [ $proto = udp ]; then flag=+notcp; else flag=+tcp; fi
		ask -y "$a:k-$a:${SECRET[$a]}" $flag www.example.com A
		expect_section ANSWER "$a over $proto: the answer" <<<'www.example.com. 3600 IN A 192.0.2.1'
		alg_re=${a/hmac-md5/hmac-md5.sig-alg.reg.int}
		alg_re=${alg_re//./\\.}
		check "$a over $proto: signed with k-$a (${MACLEN[$a]}-octet MAC, NOERROR) and dig verified it" \
			signed_ok "$OUT" "^k-$a\\. 0 ANY TSIG $alg_re\\. [0-9]+ 300 ${MACLEN[$a]} [A-Za-z0-9+/=]+ [0-9]+ NOERROR 0\$"
	done
done

# ---- unsigned error answers: BADKEY, BADSIG ----------------------------------------------------------
ask -y "hmac-sha256:no-such-key:$XFR_SECRET" www.example.com A
expect_rcode NOTAUTH "unknown key name: NOTAUTH"
check "... TSIG error BADKEY, unsigned (MAC size 0)" tsig_matches "$OUT" '^no-such-key\. 0 ANY TSIG hmac-sha256\. [0-9]+ 300 0 [0-9]+ BADKEY 0$'
expect_count NANSWER 0 "... and no answer"
ask -y "hmac-sha512:k-hmac-sha256:${SECRET[hmac-sha256]}" +tcp www.example.com A
expect_rcode NOTAUTH "known key name with another algorithm (TCP): NOTAUTH"
check "... TSIG error BADKEY" tsig_matches "$OUT" ' 0 [0-9]+ BADKEY 0$'
ask -y "hmac-sha256:xfr-key:$OTHER_SECRET" www.example.com A
expect_rcode NOTAUTH "wrong secret: NOTAUTH"
check "... TSIG error BADSIG, unsigned (MAC size 0)" tsig_matches "$OUT" '^xfr-key\. 0 ANY TSIG hmac-sha256\. [0-9]+ 300 0 [0-9]+ BADSIG 0$'
ask -y "hmac-sha1:k-hmac-sha1:${SECRET[hmac-sha256]}" +tcp www.example.com A
expect_rcode NOTAUTH "wrong secret over TCP: NOTAUTH"
check "... TSIG error BADSIG" tsig_matches "$OUT" ' 0 [0-9]+ BADSIG 0$'

# ---- an independent signer: BADTIME, BADTRUNC, a good answer, records out of place -------------------
cat >"$T_TMP/tsig.py" <<'EOF'
# tsig.py PORT MODE ALGORITHM KEYNAME SECRET: sends www.example.com A (with an OPT record) signed as
# MODE says over UDP, checks the answer's TSIG (RFC 8945 4.3: request MAC with its length, the answer
# with ARCOUNT - 1 and the original ID, the TSIG variables) and prints what it found as key=value.
# MODE: valid, badtime (time signed 1000 s ago), trunc (MAC cut to half), notlast (the TSIG record
# before the OPT), ttl (TSIG with TTL 1), class (TSIG of class IN).
import base64, hashlib, hmac, os, socket, struct, sys, time

port, mode, alg, keyname, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], base64.b64decode(sys.argv[5])
alg_name = {"hmac-md5": "hmac-md5.sig-alg.reg.int"}.get(alg, alg)
digest = getattr(hashlib, alg[5:])

def wname(text):
    return b"".join(bytes([len(l)]) + l.lower().encode() for l in text.rstrip(".").split(".") if l) + b"\0"

def read_name(msg, pos):
    """(the name at pos lowercased, uncompressed; the position after it)"""
    labels, end, hops = [], None, 0
    while True:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            end = pos + 2 if end is None else end
            pos, hops = (n & 0x3F) << 8 | msg[pos + 1], hops + 1
            assert hops < 64
            continue
        pos += 1
        if n == 0:
            break
        labels.append(msg[pos:pos + n].lower())
        pos += n
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0", pos if end is None else end

def time48(t):
    return struct.pack(">HI", t >> 32, t & 0xFFFFFFFF)

def variables(key, algo, t, fudge, error, other):  # RFC 8945 4.3.3, names in canonical wire form
    return key + struct.pack(">HI", 255, 0) + algo + time48(t) + struct.pack(">HHH", fudge, error, len(other)) + other

def tsig_rr(key, algo, t, fudge, mac, orig_id, error=0, other=b"", cls=255, ttl=0):
    rdata = algo + time48(t) + struct.pack(">HH", fudge, len(mac)) + mac + struct.pack(">HHH", orig_id, error, len(other)) + other
    return key + struct.pack(">HHIH", 250, cls, ttl, len(rdata)) + rdata

qid = struct.unpack(">H", os.urandom(2))[0]
now = int(time.time())
t = now - 1000 if mode == "badtime" else now
question = wname("www.example.com") + struct.pack(">HH", 1, 1)
opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
unsigned = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 1) + question + opt
K, A = wname(keyname), wname(alg_name)
req_mac = hmac.new(secret, unsigned + variables(K, A, t, 300, 0, b""), digest).digest()
if mode == "trunc":
    req_mac = req_mac[:max(10, len(req_mac) // 2)]
if mode == "notlast":
    msg = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 2) + question + tsig_rr(K, A, t, 300, req_mac, qid) + opt
else:
    rr = tsig_rr(K, A, t, 300, req_mac, qid, cls=1 if mode == "class" else 255, ttl=1 if mode == "ttl" else 0)
    msg = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 2) + question + opt + rr

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(msg, ("127.0.0.1", port))
try:
    r = s.recv(65535)
except socket.timeout:
    print("reply=none")
    sys.exit()
rid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", r[:12])
out = {"reply": 1, "id_ok": int(rid == qid), "rcode": flags & 15, "an": an, "tsig": 0}
pos = 12
for _ in range(qd):
    pos = read_name(r, pos)[1] + 4
addresses = []
for i in range(an + ns + ar):
    start = pos
    owner, pos = read_name(r, pos)
    rtype, rclass, ttl, rdlen = struct.unpack(">HHIH", r[pos:pos + 10])
    pos += 10
    rdata = r[pos:pos + rdlen]
    pos += rdlen
    if rtype == 1 and i < an:
        addresses.append(".".join(str(b) for b in rdata))
    if rtype == 250:
        out["tsig"] = 1 if i == an + ns + ar - 1 else "not-last"
        algo, p = read_name(rdata, 0)
        th, tl, fudge, maclen = struct.unpack(">HIHH", rdata[p:p + 10])
        tsigned = th << 32 | tl
        mac = rdata[p + 10:p + 10 + maclen]
        orig_id, error, olen = struct.unpack(">HHH", rdata[p + 10 + maclen:p + 16 + maclen])
        other = rdata[p + 16 + maclen:]
        body = struct.pack(">H", orig_id) + r[2:10] + struct.pack(">H", ar - 1) + r[12:start]
        want = hmac.new(secret, struct.pack(">H", len(req_mac)) + req_mac + body +
                        variables(owner, algo, tsigned, fudge, error, other), digest).digest()
        out.update(key=owner == K, alg=algo == A, error=error, maclen=maclen, orig_id_ok=int(orig_id == qid),
                   verified=int(maclen > 0 and hmac.compare_digest(mac, want)),
                   time_minus_now=tsigned - now, fudge=fudge, other_len=olen)
        if olen == 6:
            hi, lo = struct.unpack(">HI", other)
            out["other_minus_now"] = (hi << 32 | lo) - now
out["a"] = ",".join(addresses) or "-"
print(" ".join("%s=%s" % kv for kv in out.items()))
EOF
tsig_py() { ASKED="" OUT=""; PY=$(timeout 10 python3 "$T_TMP/tsig.py" "$PORT" "$@" 2>&1); }
# py_field NAME: a field of tsig.py's output
py_field() { sed -nE "s/.*(^| )$1=([^ ]*).*/\2/p" <<<"$PY"; }
py_expect() { # py_expect DESCRIPTION "NAME=VALUE..."
	local kv bad=""
	for kv in $2; do
		[ "$(py_field "${kv%%=*}")" = "${kv#*=}" ] || bad+=" $kv"
	done
	if [ -z "$bad" ]; then ok "$1"; else not_ok "$1" "expected:$bad"$'\n'"got: $PY"; fi
}
near_now() { local v; v=$(py_field "$1"); [ -n "$v" ] && [ "${v#-}" -le 5 ]; }

for a in hmac-sha256 hmac-md5 hmac-sha512; do
	tsig_py valid "$a" "k-$a" "${SECRET[$a]}"
	py_expect "python-signed $a query: answered, signed with the request's key, MAC verified independently" \
		"reply=1 id_ok=1 rcode=0 a=192.0.2.1 tsig=1 key=True alg=True error=0 maclen=${MACLEN[$a]} orig_id_ok=1 verified=1 fudge=300 other_len=0"
	check "... its time signed is now" near_now time_minus_now
done

tsig_py badtime hmac-sha256 xfr-key "$XFR_SECRET"
py_expect "time signed 1000 s ago: NOTAUTH, BADTIME (18), signed, MAC verified independently" \
	"reply=1 id_ok=1 rcode=9 an=0 tsig=1 key=True alg=True error=18 maclen=32 verified=1 other_len=6"
check "... other data: the server's time, now" near_now other_minus_now
# A BADTIME answer carries the request's Time Signed and our time as other data (RFC 2845 4.5.2; BIND's
# dns_tsig_sign and Knot's knot_tsig_sign do the same): a client whose clock is off, the only kind that
# gets BADTIME, can then pass its own time check of the signed answer and read ours.
expect_eq "... time signed: the request's, echoed (1000 s ago)" -1000 "$(py_field time_minus_now)"
tsig_py badtime hmac-sha1 k-hmac-sha1 "${SECRET[hmac-sha1]}"
py_expect "BADTIME with hmac-sha1: signed, MAC verified independently" "rcode=9 error=18 maclen=20 verified=1 other_len=6"
tsig_py badtime hmac-sha256 xfr-key "$OTHER_SECRET"
py_expect "time signed 1000 s ago, wrong secret: BADSIG first (unsigned)" "reply=1 rcode=9 tsig=1 error=16 maclen=0 verified=0"

tsig_py trunc hmac-sha256 xfr-key "$XFR_SECRET"
py_expect "MAC truncated to 16 of 32 octets: NOTAUTH, BADTRUNC (22), signed over the truncated request MAC" \
	"reply=1 rcode=9 tsig=1 error=22 maclen=32 verified=1"

tsig_py notlast hmac-sha256 xfr-key "$XFR_SECRET"
py_expect "TSIG record before the OPT record: FORMERR" "reply=1 id_ok=1 rcode=1"
tsig_py ttl hmac-sha256 xfr-key "$XFR_SECRET"
py_expect "TSIG record with TTL 1: FORMERR" "reply=1 id_ok=1 rcode=1"
tsig_py class hmac-sha256 xfr-key "$XFR_SECRET"
py_expect "TSIG record of class IN: FORMERR" "reply=1 id_ok=1 rcode=1"
check "meridiand still runs" alive

# ---- AXFR with the zone's key ------------------------------------------------------------------------
XFR_ALL=$((HOSTS + 5)) # SOA, NS, ns1, www, the hosts, the closing SOA
out=$(q -y "hmac-sha256:xfr-key:$XFR_SECRET" example.com AXFR 2>&1)
records=$(grep -v '^;' <<<"$out" | grep . | awk '$4 != "TSIG"' | grep -c .)
expect_eq "signed AXFR: every record, the SOA twice" "$XFR_ALL" "$records"
messages=$(sed -nE 's/^;; XFR size: [0-9]+ records \(messages ([0-9]+),.*/\1/p' <<<"$out")
check "signed AXFR: many messages ($messages)" test "${messages:-0}" -gt 10
check "signed AXFR: dig verified every message" \
	signed_ok "$out" '^xfr-key\. 0 ANY TSIG hmac-sha256\. [0-9]+ 300 32 [^ ]+ [0-9]+ NOERROR 0$'
expect_eq "signed AXFR: the last record is the SOA" "SOA" "$(grep -v '^;' <<<"$out" | grep . | awk '$4 != "TSIG"' | tail -1 | awk '{ print $4 }')"
check "the log line names the key" \
	wait_log "transfer of example.com serial 2024010101 to 127.0.0.1: AXFR, $XFR_ALL records in [0-9]+ messages, signed with TSIG key xfr-key\.$" 0 5
out=$(q -y "hmac-sha256:xfr-key:$XFR_SECRET" example.com IXFR=2024010101 2>&1)
check "signed IXFR from the current serial: verified" signed_ok "$out" ' 32 [^ ]+ [0-9]+ NOERROR 0$'
expect_eq "... the SOA alone" "SOA " "$(xfr_types "$out")"

# ---- refusals ----------------------------------------------------------------------------------------
EDE_KEY="^; EDE: 18 \(Prohibited\): \(zone transfer needs a TSIG signature with the zone's key\)$"
out=$(q example.com AXFR +noall +comments 2>&1)
check "unsigned AXFR: REFUSED" grep -q 'status: REFUSED' <<<"$out"
check "... EDE 18: needs the zone's key" grep -qE "$EDE_KEY" <<<"$out"
out=$(q -y "hmac-sha256:other-key:$OTHER_SECRET" example.com AXFR +comments 2>&1)
check "AXFR signed with another configured key: REFUSED" grep -q 'status: REFUSED' <<<"$out"
check "... EDE 18: needs the zone's key" grep -qE "$EDE_KEY" <<<"$out"
check "... the refusal is signed with that key and dig verified it" \
	signed_ok "$out" '^other-key\. 0 ANY TSIG hmac-sha256\. [0-9]+ 300 32 [^ ]+ [0-9]+ NOERROR 0$'
out=$(dig @127.0.0.1 -p "$PORT" -b 127.0.0.2 +time=2 +tries=1 -y "hmac-sha256:xfr-key:$XFR_SECRET" example.com AXFR +comments 2>&1)
check "AXFR with the zone's key from an address not listed: EDE 18, not allowed from there" \
	grep -q '^; EDE: 18 (Prohibited): (zone transfer not allowed from this address)$' <<<"$out"
check "... signed, verified" signed_ok "$out" '^xfr-key\. .* 32 [^ ]+ [0-9]+ NOERROR 0$'
out=$(q -y "hmac-sha256:xfr-key:$OTHER_SECRET" example.com AXFR 2>&1)
check "AXFR with the zone's key name and a wrong secret: BADSIG" tsig_matches "$out" ' 0 [0-9]+ BADSIG 0$'
expect_eq "... and no records" "" "$(xfr_types "$out")"

# ---- NSD as a secondary with the key -------------------------------------------------------------------
if ! command -v nsd >/dev/null; then
	not_ok "nsd is installed (scripts/deps.sh installs it)"
	finish
fi
# start_nsd NAME PORT SECRET: an NSD secondary of example.com that transfers and takes NOTIFY with
# xfr-key of that secret.
start_nsd()
{
	local nd=$T_TMP/$1
	mkdir -p "$nd"
	cat >"$nd/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1@$2
  port: $2
  do-ip6: no
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "$nd"
  pidfile: "$nd/nsd.pid"
  database: ""
  zonelistfile: "$nd/zone.list"
  xfrdfile: "$nd/xfrd.state"
  xfrdir: "$nd"
  logfile: "$nd/nsd.log"
  verbosity: 2
remote-control:
  control-enable: no
key:
  name: xfr-key
  algorithm: hmac-sha256
  secret: "$3"
zone:
  name: example.com
  zonefile: example.com.zone
  request-xfr: 127.0.0.1@$PORT xfr-key
  allow-notify: 127.0.0.1 xfr-key
EOF
	nsd -d -c "$nd/nsd.conf" >>"$nd/nsd.log" 2>&1 &
	T_PIDS+=($!)
}
nsd_has()
{ # nsd_has PORT NAME ADDRESS SECONDS: waits until NSD answers NAME A with ADDRESS
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		[ "$(dig @127.0.0.1 -p "$1" +short +time=1 +tries=1 "$2" A 2>/dev/null)" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
n_signed=$(log_count "transfer of example\.com serial 2024010101 to 127\.0\.0\.1: .*signed with TSIG key xfr-key\.$")
start_nsd nsd "$NSD_PORT" "$XFR_SECRET"
start_nsd nsd-bad "$BAD_NSD_PORT" "$OTHER_SECRET"
if nsd_has "$NSD_PORT" www.example.com 192.0.2.1 20; then
	ok "NSD with the key transferred the zone at its start"
else
	not_ok "NSD with the key transferred the zone at its start" "$(cat "$T_TMP/nsd/nsd.log")"
fi
expect_eq "NSD serves the whole zone" "10.0.78.31" "$(dig @127.0.0.1 -p "$NSD_PORT" +short h19999.example.com A)"
check "meridian logged a signed transfer to NSD" \
	wait_log "transfer of example\.com serial 2024010101 to 127\.0\.0\.1: .*signed with TSIG key xfr-key\.$" "$n_signed" 5
# a reload with a new serial: the signed NOTIFY, NSD's signed transfer
write_serial_zone 2024010102 'www   A     192.0.2.2' 'new   A     192.0.2.3'
host_lines "$HOSTS" >>"$DIR/example.com.zone"
sed -i 's/^serial = 1$/serial = 2/' "$CONF"
kill -HUP "$MPID"
check "meridian logged NSD's answer to the signed NOTIFY" \
	wait_log "notify example.com serial 2024010102 to 127.0.0.1:$NSD_PORT: answered" 0 10
if nsd_has "$NSD_PORT" new.example.com 192.0.2.3 15; then
	ok "after a reload, NSD has the new record (signed NOTIFY, then its signed transfer)"
else
	not_ok "after a reload, NSD has the new record (signed NOTIFY, then its signed transfer)" \
		"$(cat "$T_TMP/nsd/nsd.log" "$MLOG")"
fi
expect_eq "NSD serves the changed record" "192.0.2.2" "$(dig @127.0.0.1 -p "$NSD_PORT" +short www.example.com A)"
check "meridian logged the signed transfer of the new serial: incremental (the difference alone)" \
	wait_log "transfer of example.com serial 2024010102 to 127.0.0.1: IXFR from serial 2024010101, 1 step, .*signed with TSIG key xfr-key\.$" 0 5
# the NSD with a wrong secret for xfr-key has been asking all along: it has nothing
expect_eq "NSD with a wrong secret for the key got no zone" "" \
	"$(dig @127.0.0.1 -p "$BAD_NSD_PORT" +short +time=1 +tries=1 www.example.com A 2>&1)"
check "... and its log says why: a bad TSIG signature" \
	grep -qE 'zone example\.com.*(tsig error \(Bad Signature\)|bad tsig signature)' "$T_TMP/nsd-bad/nsd.log"

# ---- a reload that rotates the zone's key ---------------------------------------------------------------
OLD_SECRET=$XFR_SECRET
XFR_SECRET=$(new_secret)
n_reloads=$(log_count 'reload: ok')
sed -i "s|\"$OLD_SECRET\"|\"$XFR_SECRET\"|; s/^serial = 2$/serial = 3/" "$CONF"
kill -HUP "$MPID"
check "the key rotation reloaded" wait_log 'reload: ok' "$n_reloads" 10
ask -y "hmac-sha256:xfr-key:$OLD_SECRET" www.example.com A
expect_rcode NOTAUTH "after the rotation, the old secret: NOTAUTH"
check "... BADSIG" tsig_matches "$OUT" '^xfr-key\. 0 ANY TSIG hmac-sha256\. [0-9]+ 300 0 [0-9]+ BADSIG 0$'
ask -y "hmac-sha256:xfr-key:$XFR_SECRET" www.example.com A
expect_section ANSWER "after the rotation, the new secret: answered" <<<'www.example.com. 3600 IN A 192.0.2.2'
check "... signed, verified" signed_ok "$OUT" '^xfr-key\. .* 32 [^ ]+ [0-9]+ NOERROR 0$'
out=$(q -y "hmac-sha256:xfr-key:$OLD_SECRET" example.com IXFR=2024010102 2>&1)
check "after the rotation, IXFR with the old secret: BADSIG" tsig_matches "$out" " 0 [0-9]+ BADSIG 0$"
out=$(q -y "hmac-sha256:xfr-key:$XFR_SECRET" example.com IXFR=2024010102 2>&1)
check "after the rotation, IXFR with the new secret: verified" signed_ok "$out" ' 32 [^ ]+ [0-9]+ NOERROR 0$'
expect_eq "... the SOA alone" "SOA " "$(xfr_types "$out")"

# ---- --check: config errors as file:line ---------------------------------------------------------------
D=$T_TMP/check
mkdir -p "$D"
head -5 "$DIR/example.com.zone" >"$D/example.com.zone"
# bad_conf FILE KEY_LINE_4 KEY_LINE_5 [ZONE_EXTRA]: a config with two keys (lines 4 and 5) and the zone
# on lines 7-8, ZONE_EXTRA on line 8.
bad_conf()
{
	cat >"$D/$1" <<EOF
serial = 1
listen = { "127.0.0.1:$PORT" }
tsig_keys = {
  $2,
  $3,
}
zones = { { name = "example.com", file = "example.com.zone", transfer = { "127.0.0.1" },
  ${4:-} } }
EOF
	CHECK_ERR=$(timeout 20 "$MERIDIAND" -c "$D/$1" --check 2>&1)
	CHECK_RC=$?
	# shellcheck disable=SC2034 # read by not_ok
	ASKED=""
}
expect_check_error()
{ # expect_check_error DESCRIPTION REGEX
	if [ "$CHECK_RC" = 1 ] && grep -qE -- "$2" <<<"$CHECK_ERR"; then
		ok "$1"
	else
		not_ok "$1" "expected exit 1 and a line matching: $2"$'\n'"got exit $CHECK_RC, output:"$'\n'"$CHECK_ERR"
	fi
}
good_key="{ name = \"a-key\", secret = \"$OTHER_SECRET\" }"
bad_conf good.conf "$good_key" "{ name = \"b-key\", algorithm = \"hmac-sha512\", secret = \"$XFR_SECRET\" }" \
	'transfer_key = "B-Key."'
expect_eq "--check: a good config with keys and a transfer_key (case and trailing dot differ) passes" "0" "$CHECK_RC"
bad_conf alg.conf "$good_key" "{ name = \"b-key\", algorithm = \"hmac-sha999\", secret = \"$XFR_SECRET\" }"
expect_check_error "--check: unknown algorithm at alg.conf:5" '(^|/)alg\.conf:5:.*hmac-sha999'
bad_conf base64.conf "$good_key" '{ name = "b-key", secret = "not*base64!" }'
expect_check_error "--check: a secret that is not base64 at base64.conf:5" '(^|/)base64\.conf:5:.*base64'
bad_conf dup.conf "$good_key" "{ name = \"A-Key.\", algorithm = \"hmac-sha1\", secret = \"$XFR_SECRET\" }"
expect_check_error "--check: a duplicate key name (other case, trailing dot) at dup.conf:5" '(^|/)dup\.conf:5:.*duplicate'
bad_conf nokey.conf "$good_key" "{ name = \"b-key\", secret = \"$XFR_SECRET\" }" 'transfer_key = "c-key"'
expect_check_error "--check: transfer_key naming no key at nokey.conf:8" "(^|/)nokey\\.conf:8:.*no TSIG key named 'c-key'"
sed -i 's/transfer = { "127.0.0.1" },//' "$D/nokey.conf"
CHECK_ERR=$(timeout 20 "$MERIDIAND" -c "$D/nokey.conf" --check 2>&1)
CHECK_RC=$?
expect_check_error "--check: transfer_key without a transfer list at nokey.conf:8" '(^|/)nokey\.conf:8:.*transfer list'
finish
