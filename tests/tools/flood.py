#!/usr/bin/env python3
"""flood.py -- many UDP queries from one source address, for the rate limit test (test_ratelimit.sh).

    flood.py PORT SOURCE COUNT [NAME]

Sends COUNT queries for NAME (default www.example.com) A, with EDNS, from SOURCE (a 127/8 address)
to 127.0.0.1:PORT as fast as it can, then collects replies until none came for 0.5 s. Checks each
reply: its ID is one that was sent, and a truncated one (TC) is the bare reply of a slipped query
(QR and TC, RD kept, NOERROR, the question as asked and no record in any section). Prints
"FULL TRUNCATED MISSING BAD": answered in full, truncated, not answered, and replies that failed a
check (each also described on stderr).
"""
import socket
import struct
import sys


def qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def main():
    port, source, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    name = sys.argv[4] if len(sys.argv) > 4 else "www.example.com"
    question = qname(name) + struct.pack("!HH", 1, 1)
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((source, 0))
    for qid in range(1, count + 1):
        s.sendto(struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1) + question + opt, ("127.0.0.1", port))
    s.settimeout(0.5)
    full = truncated = bad = 0
    seen = set()
    while True:
        try:
            r = s.recv(65535)
        except socket.timeout:
            break
        qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", r[:12])
        problem = None
        if qid < 1 or qid > count or qid in seen:
            problem = "an ID that was not asked (or twice): %d" % qid
        elif flags & 0x0200:
            if flags != 0x8300 or (qd, an, ns, ar) != (1, 0, 0, 0) or r[12:] != question:
                problem = "a truncated reply that is not bare: flags %04x counts %d %d %d %d, %d octets" % (
                    flags, qd, an, ns, ar, len(r))
        elif an == 0:
            problem = "a full reply without an answer: flags %04x" % flags
        seen.add(qid)
        if problem:
            bad += 1
            print(problem, file=sys.stderr)
        elif flags & 0x0200:
            truncated += 1
        else:
            full += 1
    print(full, truncated, count - len(seen), bad)


main()
