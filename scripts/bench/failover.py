#!/usr/bin/env python3
"""failover.py -- how long a health transition takes to reach the answers (make bench, figure 5).

Starts build/meridiand with RECORDS dynamic records x REGIONS regions (nets-only regions; the client,
127.0.0.1, is in region r0), then ROUNDS times forces the member that r0's answers prefer down with
meridianctl and polls one record over UDP until its answer no longer holds that member, and forces it
back to auto and polls until it is back. Reports, in milliseconds:
  publish:     the control thread's policy run over every (record, region) plus the snapshot swap,
               from the daemon's "published snapshot" log lines;
  end to end:  from sending the forced state over the control socket (meridianctl's protocol, spoken
               here so a process start is not measured) to the first response without the member;
               includes persisting the state (fsync) and the poll interval of 0.2 ms.

  reload:      a reload of the same deployment with a higher serial over the control socket, until
               meridiand answers (load, answers under live health, the guard's verdict, swap).

With --lua every record's policy is a Lua file (the ordered failover of zones/policies/failover.lua's
kind, written with the meridian helpers), so "publish" is the time to run 1,000 x REGIONS policies.
With --intent the zone has an intent guarding every record (all six member addresses): each reload
then also runs every record in every region under every health scenario (figure 7), and every
publication checks every answer against its intent.

usage: failover.py BUILD_DIR [--records 1000] [--regions 10] [--rounds 20] [--lua] [--intent]
"""
import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LUA_POLICY = """-- failover by datacenter order, nearest first: the first datacenter with members up wins
return function(ctx)
  local up = meridian.up(ctx.members)
  for _, dc in ipairs(ctx.dcs) do
    local here = meridian.in_dc(up, dc.name)
    if #here > 0 then return { members = here } end
  end
  return { members = ctx.members, ttl = 10 }
end
"""


def write_config(d, port, serial, body, intent):
    with open(os.path.join(d, "meridian.conf"), "w") as f:
        f.write('serial = %d\nlisten = { "127.0.0.1:%d" }\nworkers = 1\n' % (serial, port))
        f.write('zones = { { name = "example.com", file = "example.com.zone"%s } }\n'
                % (', intent = "example.com.intent"' if intent else ""))
        f.write(body)


def write_deployment(d, port, records, regions, lua, intent):
    with open(os.path.join(d, "example.com.zone"), "w") as f:
        f.write("$ORIGIN example.com.\n$TTL 3600\n"
                "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n")
    regs = ['r0 = { nets = { "127.0.0.0/8" } }']
    regs += ['r%d = { nets = { "10.%d.0.0/16" } }' % (i, i) for i in range(1, regions)]
    dcs = ["d%d" % i for i in range(3)]
    members = []
    for i in range(6):
        members.append('{ name = "m%d", addr = "198.51.100.%d", dc = "%s" }' % (i, i + 1, dcs[i // 2]))
    policies = ["failover", "nearest", "weighted", "all"]
    if lua:
        os.makedirs(os.path.join(d, "policies"), exist_ok=True)
        with open(os.path.join(d, "policies", "dc.lua"), "w") as f:
            f.write(LUA_POLICY)
        policies = ["policies/dc.lua"]
    recs = []
    for i in range(records):
        p = policies[i % len(policies)]
        extra = ', order = { r0 = { "d0", "d1" } }' if p == "failover" else ""
        recs.append('{ name = "rec%d.example.com", type = "A", pool = "web", ttl = 30, policy = "%s"%s }'
                    % (i, p, extra))
    if intent:
        with open(os.path.join(d, "example.com.intent"), "w") as f:
            for i in range(records):
                for m in range(6):
                    f.write("rec%d IN A 198.51.100.%d\n" % (i, m + 1))
    body = "regions = {\n  %s,\n}\n" % ",\n  ".join(regs)
    body += 'default_region = "r0"\n'
    body += "datacenters = { %s }\n" % ", ".join("%s = {}" % x for x in dcs)
    body += "pools = { web = { members = {\n  %s,\n} } }\n" % ",\n  ".join(members)
    body += "records = {\n  %s,\n}\n" % ",\n  ".join(recs)
    write_config(d, port, 1, body, intent)
    return body


def query(name):
    qid = random.randrange(65536)
    labels = b"".join(bytes([len(x)]) + x.encode() for x in name.split("."))
    return qid, struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + labels + b"\x00" + struct.pack(">HH", 1, 1)


def answer_addrs(resp):
    """The A addresses in a response (no compression surprises: every RR is read by its rdlength)."""
    an = struct.unpack(">H", resp[6:8])[0]
    at = 12
    while resp[at]:
        at += resp[at] + 1
    at += 5
    addrs = set()
    for _ in range(an):
        while True:
            if resp[at] >= 0xC0:
                at += 2
                break
            if resp[at] == 0:
                at += 1
                break
            at += resp[at] + 1
        rtype, _, _, rdlen = struct.unpack(">HHIH", resp[at:at + 10])
        at += 10
        if rtype == 1:
            addrs.add(socket.inet_ntoa(resp[at:at + rdlen]))
        at += rdlen
    return addrs


def control(path, *args):
    """One meridianctl request: arguments each ending in a newline, an empty line; "ok" expected."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.connect(path)
        c.sendall("".join(a + "\n" for a in args).encode() + b"\n")
        c.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            answer += chunk
    if not answer.startswith(b"ok\n"):
        sys.exit("failover.py: meridiand answered: " + answer.decode(errors="replace"))


def poll_until(sock, name, port, present, addr, deadline):
    while time.monotonic() < deadline:
        qid, pkt = query(name)
        sock.sendto(pkt, ("127.0.0.1", port))
        try:
            resp, _ = sock.recvfrom(4096)
        except socket.timeout:
            continue
        if struct.unpack(">H", resp[:2])[0] == qid and (addr in answer_addrs(resp)) == present:
            return time.monotonic()
        time.sleep(0.0002)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--regions", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--lua", action="store_true")
    ap.add_argument("--intent", action="store_true")
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="meridian-failover.")
    port = free_port()
    body = write_deployment(d, port, args.records, args.regions, args.lua, args.intent)
    log = open(os.path.join(d, "meridiand.log"), "w+")
    proc = subprocess.Popen([os.path.join(args.build, "meridiand"), "-c", os.path.join(d, "meridian.conf")],
                            stdout=log, stderr=subprocess.STDOUT)
    sock_path = os.path.join(d, "run", "meridian.sock")
    try:
        for _ in range(200):
            log.seek(0)
            if "ready" in log.read():
                break
            time.sleep(0.05)
        else:
            sys.exit("failover.py: meridiand did not start; see " + log.name)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(0.5)
        name = "rec%d.example.com" % (args.records - 4)  # a failover record: r0 prefers d0 (m0, m1)
        e2e = []
        for _ in range(args.rounds):
            for state, present in (("down", False), ("auto", True)):
                t0 = time.monotonic()
                control(sock_path, "set", "web/m0", state)
                t1 = poll_until(sock, name, port, present, "198.51.100.1", t0 + 5)
                if t1 is None:
                    sys.exit("failover.py: the answer did not change within 5 s")
                e2e.append((t1 - t0) * 1000)
        reloads = []
        for serial in range(2, 2 + max(3, args.rounds // 4)):
            write_config(d, port, serial, body, args.intent)
            t0 = time.monotonic()
            control(sock_path, "reload")
            reloads.append((time.monotonic() - t0) * 1000)
        log.seek(0)
        publish = [float(x) for x in re.findall(r"published snapshot \d+ \(\d+ answers\) in ([0-9.]+) ms", log.read())]
        n = args.records * args.regions
        print("figure %s: health transition to served answer, %d %s records x %d regions (%d answers), %d transitions%s"
              % ("7" if args.intent else "6" if args.lua else "5", args.records,
                 "Lua-policy" if args.lua else "built-in-policy", args.regions, n, len(e2e),
                 ", every record guarded by an intent" if args.intent else ""))
        if publish:
            print("  publish (policy run + swap): median %.2f ms, max %.2f ms" % (statistics.median(publish), max(publish)))
        print("  end to end (control request -> first new answer): median %.2f ms, p90 %.2f ms, max %.2f ms"
              % (statistics.median(e2e), sorted(e2e)[int(len(e2e) * 0.9) - 1], max(e2e)))
        print("  reload (%s): median %.1f ms, max %.1f ms over %d reloads"
              % ("load + health answers + the guard's scenarios + swap" if args.intent else "load + health answers + swap",
                 statistics.median(reloads), max(reloads), len(reloads)))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if os.environ.get("BENCH_KEEP", "0") != "1":
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
