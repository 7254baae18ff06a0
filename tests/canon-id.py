#!/usr/bin/env python3
"""canon-id: the id firebreak gives an alert without uuid, computed independently of alert.c
from the encoding it documents: null n; true t; false f; integer i + varint (above 2^63 - 1:
u + varint); real r + 8 bytes (IEEE 754, big-endian); string s + varint byte length + UTF-8
bytes; array a + varint count + items; object o + varint count + pairs in bytewise key order,
each key encoded as a string. Varints are LEB128 of the value as unsigned 64 bits. The id is
the first 32 hex digits of the SHA-256 of the root's encoding.

Usage: canon-id.py ALERT.json
"""
import hashlib
import json
import struct
import sys


def varint(tag, v):
    v &= (1 << 64) - 1
    out = bytearray(tag)
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def enc(v):
    if v is None:
        return b"n"
    if v is True:
        return b"t"
    if v is False:
        return b"f"
    if isinstance(v, int):
        return varint(b"u" if v >= 1 << 63 else b"i", v)
    if isinstance(v, float):
        return b"r" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        return varint(b"s", len(b)) + b
    if isinstance(v, list):
        return varint(b"a", len(v)) + b"".join(enc(x) for x in v)
    items = sorted((k.encode(), x) for k, x in v.items())
    return varint(b"o", len(items)) + b"".join(varint(b"s", len(k)) + k + enc(x) for k, x in items)


print(hashlib.sha256(enc(json.load(open(sys.argv[1])))).hexdigest()[:32])
