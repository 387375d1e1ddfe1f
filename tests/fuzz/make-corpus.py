#!/usr/bin/env python3
"""make-corpus.py -- writes the seed corpus of the query path's fuzz target (tests/fuzz/answer.h)
into tests/fuzz/corpus/: queries for names of tests/fuzz/fuzz.conf's zones (hits, CNAME and DNAME
chains, wildcards, referrals, negative answers, dynamic records, CHAOS, other zones), asked over UDP
and TCP, with and without EDNS, DO, NSID, cookies and client subnets, from no client, IPv4, IPv6 and
IPv4-mapped clients, plus a few malformed packets. Deterministic: run it again to get the same files.

usage: tests/fuzz/make-corpus.py [FOLDER]   (default: tests/fuzz/corpus)"""
import base64
import hashlib
import hmac
import os
import struct
import sys

NAMES = [
    "example.com", "www.example.com", "WwW.ExAmPlE.cOm", "alias.example.com", "loop1.example.com",
    "long0.example.com", "nothere.example.com", "y.z.ent.example.com", "foo.wild.example.com",
    "a.b.c.wild.example.com", "foo.wc.example.com", "www.old.example.com", "a.dnloop.example.com",
    "www.deleg.example.com", "deleg.example.com", "host.child.example.com", "big.example.com",
    "medium.example.com", "x.ns1.example.com", "www.example.net", "geo.example.net",
    "wt.example.net", "all.example.net", "cdn.example.net", "nothere.example.net", "www.example.org",
    "id.server", "version.bind",
    "nsec.example", "www.nsec.example", "alias.nsec.example", "out.nsec.example",
    "a.b.wild.nsec.example", "y.ent.nsec.example", "nothere.nsec.example", "host.secure.nsec.example",
    "host.insecure.nsec.example", "nsec3.example", "www.nsec3.example", "nothere.nsec3.example",
    "a.wild.nsec3.example", "host.insecure.nsec3.example", "secure.nsec3.example",
]
TYPES = [1, 28, 5, 2, 6, 15, 16, 39, 43, 255, 65280]


def wire_name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(name, qtype, qclass=1, rd=False, opt=None, ident=0x4D52):
    head = struct.pack(">HHHHHH", ident, 0x0100 if rd else 0, 1, 0, 0, 1 if opt is not None else 0)
    body = wire_name(name) + struct.pack(">HH", qtype, qclass)
    if opt is not None:
        payload, do, options = opt
        data = b"".join(struct.pack(">HH", code, len(v)) + v for code, v in options)
        body += b"\0" + struct.pack(">HHBBHH", 41, payload, 0, 0, 0x8000 if do else 0, len(data)) + data
    return head + body


def ecs(family, prefix, addr):
    octets = (prefix + 7) // 8
    return (8, struct.pack(">HBB", family, prefix, 0) + addr[:octets])


CLIENTS = [
    b"\x00",
    b"\x02" + bytes([192, 0, 2, 7]),
    b"\x02" + bytes([198, 51, 100, 200]),
    b"\x04" + bytes.fromhex("20010db8000e00000000000000000001"),
    b"\x06" + bytes([203, 0, 113, 9]),
]
OPTS = [
    None,
    (1232, False, []),
    (4096, True, []),
    (512, False, [(3, b"")]),
    (1232, False, [(10, bytes(range(8)))]),
    (1232, False, [ecs(1, 24, bytes([192, 0, 2, 0]))]),
    (1232, False, [ecs(2, 48, bytes.fromhex("20010db8000a"))]),
    (1232, False, [ecs(1, 0, b"")]),
    # a server cookie (RFC 9018 A.1's: valid for 198.51.100.100 at the moment the target fixes)
    (1232, False, [(10, bytes.fromhex("2464c4abcf10c957010000005cf79f111f8130c3eee29480"))]),
    (1232, True, [ecs(1, 24, bytes([198, 51, 100, 0])), (10, bytes.fromhex("2464c4abcf10c957"))]),
]


FUZZ_KEY = base64.b64decode("ZnV6ei10c2lnLXNlY3JldC1mb3ItdGhlLWFuc3dlcnM=")
HMAC_SHA256 = wire_name("hmac-sha256")


def tsig_signed(msg, key_name="fuzz-key", secret=FUZZ_KEY, when=1795330000, mac_len=None):
    """msg with a TSIG record (RFC 8945 4.3) appended: hmac-sha256 at a fixed time."""
    name = wire_name(key_name)
    variables = name + struct.pack(">HI", 255, 0) + HMAC_SHA256 + struct.pack(">IHHHH", when >> 16, when & 0xFFFF, 300, 0, 0)
    mac = hmac.new(secret, msg + variables, hashlib.sha256).digest()[:mac_len]
    rdata = HMAC_SHA256 + struct.pack(">IHHH", when >> 16, when & 0xFFFF, 300, len(mac)) + mac
    rdata += struct.pack(">HHH", struct.unpack(">H", msg[:2])[0], 0, 0)
    record = name + struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata
    arcount = struct.unpack(">H", msg[10:12])[0] + 1
    return msg[:10] + struct.pack(">H", arcount) + msg[12:] + record


def inputs():
    for n, name in enumerate(NAMES):
        for t, qtype in enumerate(TYPES):
            # a spread of variants per (name, type), not all of them: the fuzzer combines the rest
            k = n * len(TYPES) + t
            client = CLIENTS[k % len(CLIENTS)]
            opt = OPTS[(k // len(CLIENTS)) % len(OPTS)]
            tcp = (k // 3) % 4 == 0
            qclass = 3 if name in ("id.server", "version.bind") else 1
            head = bytes([client[0] | (1 if tcp else 0) | ((k % 32) << 3)]) + client[1:]
            yield head + query(name, qtype, qclass, rd=k % 2 == 0, opt=opt)
    # the signed zones with DO, as validating resolvers ask: RRSIGs, NSEC and NSEC3 proofs, DS at
    # cuts, small payloads that truncate
    for n, name in enumerate(x for x in NAMES if x.endswith("nsec.example") or x.endswith("nsec3.example")):
        for t, qtype in enumerate((1, 28, 43, 46, 47, 48, 50, 51, 15)):
            payload = (512, 1232, 4096)[(n + t) % 3]
            yield b"\x00" + query(name, qtype, rd=True, opt=(payload, True, []))
    # IXFR over UDP of the zone with secondaries: current, older, newer, and without its SOA
    for serial in (1, 0, 7, None):
        q = query("nsec3.example", 251, opt=(1232, False, []))
        if serial is not None:
            soa = wire_name("nsec3.example") + struct.pack(">HHIH", 6, 1, 300, 6 + 13 + 20) + \
                b"\x03ns1\xc0\x0c" + b"\x0ahostmaster\xc0\x0c" + struct.pack(">IIIII", serial, 1, 1, 1, 1)
            q = q[:8] + b"\x00\x01" + q[10:]  # NSCOUNT 1, the SOA before the OPT
            q = q[:12 + len(wire_name("nsec3.example")) + 4] + soa + q[12 + len(wire_name("nsec3.example")) + 4:]
        yield b"\x02" + bytes([192, 0, 2, 7]) + q
    plain = query("www.example.com", 1, opt=(1232, False, []))
    yield b"\x00" + plain[:11]  # short header
    yield b"\x00" + plain[:12] + b"\x3f" + b"a" * 10  # label past the end
    yield b"\x00" + plain[:12] + b"\xc0\x0c\x00\x01\x00\x01"  # compression loop
    yield b"\x00" + query("www.example.com", 1, opt=(1232, False, []))[:-11] + b"\0\0\x29" * 2
    yield b"\x00" + struct.pack(">HHHHHH", 1, 0x2800, 1, 0, 0, 0) + wire_name("example.com") + b"\0\6\0\1"
    yield b"\x00" + query("www.example.com", 1, opt=(1232, False, [(8, b"\0\1\x21\0\1\2\3\4\5")]))
    # cookies: malformed lengths, two of them, and a query without a question asking for one
    yield b"\x00" + query("www.example.com", 1, opt=(1232, False, [(10, bytes(12))]))
    yield b"\x00" + query("www.example.com", 1, opt=(1232, False, [(10, bytes(8)), (10, bytes(8))]))
    a1 = bytes.fromhex("2464c4abcf10c957010000005cf79f111f8130c3eee29480")
    for cookie in (a1[:8], a1, a1[:-1] + b"\x81"):
        empty = query("x", 1, opt=(1232, False, [(10, cookie)]))
        empty = empty[:4] + b"\0\0" + empty[6:12] + empty[12 + 3 + 4:]
        yield b"\x02" + bytes([198, 51, 100, 100]) + empty
    # TSIG: signed (BADTIME at replay, answered signed), a MAC cut short, a key we do not have, a
    # wrong secret, and a TSIG record before the OPT (not the last: FORMERR)
    signed = query("www.example.com", 1, opt=(1232, False, []))
    yield b"\x02" + bytes([192, 0, 2, 7]) + tsig_signed(signed)
    yield b"\x01" + tsig_signed(query("example.com", 6))
    yield b"\x00" + tsig_signed(signed, mac_len=16)
    yield b"\x00" + tsig_signed(signed, key_name="other-key")
    yield b"\x00" + tsig_signed(signed, secret=b"wrong")
    bare = tsig_signed(query("www.example.com", 1))
    yield b"\x00" + bare[:10] + b"\0\2" + bare[12:] + b"\0\0\x29\x04\xd0\0\0\0\0\0\0"


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(folder, exist_ok=True)
    for data in inputs():
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
