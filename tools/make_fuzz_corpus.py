#!/usr/bin/env python3
"""Writes the seed corpus of the libFuzzer harnesses (tests/fuzz/corpus/NAME/): a few small,
valid inputs per reader, plus some damaged ones, so the fuzzers start from every format's real
structure. Run from the repository root; the files are committed (a few KB in all).
Standard library only: the formats are written byte by byte here."""
import gzip
import json
import os
import struct

ROOT = os.path.join("tests", "fuzz", "corpus")


def put(name, filename, data):
    os.makedirs(os.path.join(ROOT, name), exist_ok=True)
    with open(os.path.join(ROOT, name, filename), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header, offset, blob = {}, 0, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blob += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blob


def npy(descr, shape, raw, fortran=False, version=1):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False", "".join("%d, " % s for s in shape))
    size_field = 2 if version == 1 else 4
    total = 6 + 2 + size_field + len(header) + 1
    header += " " * (-total % 64) + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode("latin-1") + raw


def idx(shape, raw):
    return bytes([0, 0, 8, len(shape)]) + b"".join(struct.pack(">I", s) for s in shape) + raw


floats = struct.pack("<6f", 0.5, -1.0, 2.0, 3.5, 0.0, 1e-3)
put("safetensors", "two_tensors", safetensors([("w", "F32", [2, 3], floats),
                                                ("n", "I64", [2], struct.pack("<2q", 1, -7))],
                                               {"format": "pt"}))
put("safetensors", "f64_bool_empty", safetensors([("d", "F64", [1], struct.pack("<d", 2.5)),
                                                   ("b", "BOOL", [3], b"\x01\x00\x01"),
                                                   ("e", "F32", [0, 4], b"")]))
put("safetensors", "truncated", safetensors([("w", "F32", [2, 3], floats)])[:-5])
put("safetensors", "huge_empty_shape",
    safetensors([("z", "F32", [0, 2 ** 62, 2 ** 62], b"")]))

put("npy", "f4_2x3", npy("<f4", [2, 3], floats))
put("npy", "f8_fortran", npy("<f8", [2, 2], struct.pack("<4d", 1, 2, 3, 4), fortran=True))
put("npy", "i8_v2", npy("<i8", [3], struct.pack("<3q", 1, 2, 3), version=2))
put("npy", "b1_scalar", npy("|b1", [], b"\x01"))
put("npy", "huge_empty_shape", npy("<f4", [0, 2 ** 62, 2 ** 62], b""))

image = idx([2, 2, 3], bytes(range(12)))
put("idx", "images_raw", image)
put("idx", "labels_gz", gzip.compress(idx([4], bytes([0, 9, 3, 1])), mtime=0))
put("idx", "images_gz", gzip.compress(image, mtime=0))
put("idx", "truncated", image[:-3])

checkpoint_meta = {"user.model": "bahdanau-dates", "user.seed": "0", "user.data_path": "",
                   "user.smoke": "1", "user.epoch": "2", "user.step": "40"}
put("checkpoint", "smoke", safetensors([("model.w", "F32", [2, 3], floats)], checkpoint_meta))
bad_seed = dict(checkpoint_meta, **{"user.seed": "-5"})
put("checkpoint", "negative_seed", safetensors([("model.w", "F32", [2, 3], floats)], bad_seed))
put("checkpoint", "no_model", safetensors([("w", "F32", [2, 3], floats)], {"user.seed": "1"}))

put("text", "ascii", b"The quick brown fox jumps over the lazy dog.\n")
put("text", "utf8", "Grüße, café, naïve, 東京, 😀".encode())
put("text", "invalid", b"caf\xe9 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 end\xe2\x96")
put("text", "double_encoded", "GrÃ¼ÃŸe".encode())

put("shapes", "views", bytes([3, 2, 3, 4, 0, 3, 4, 6, 1, 2, 1, 0, 2, 0, 1, 5, 1, 0, 2, 8, 0]))
put("shapes", "broadcast", bytes([2, 3, 1, 11, 2, 3, 4, 12, 2, 2, 3, 13, 1, 15, 0]))
put("shapes", "huge", bytes([1, 1, 2, 1, 255, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 1, 255, 0x7f, 0xff,
                             0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))
