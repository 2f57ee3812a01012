"""A numpy-only reader of TensorFlow 1 tensor bundles (`<prefix>.index` + `<prefix>.data-*`).

The `.index` file is a LevelDB-style sorted table: a 48-byte footer points at an index block,
whose entries point at data blocks, whose entries map each tensor name to a
`BundleEntryProto` (dtype, shape, shard, offset, size) locating its bytes in the `.data` file.
Only the few protobuf fields a tensor needs are decoded; no TensorFlow, no protobuf package.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_BYTES = 48
_BLOCK_TRAILER_BYTES = 5  # compression type (1 byte) + crc32 (4 bytes)
# TensorFlow's DataType enum -> numpy, for the types a checkpoint of weights holds.
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64, 10: np.bool_, 19: np.float16}


class BundleFormatError(ValueError):
    """The bytes are not a tensor bundle this reader understands."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at `pos` -> (value, next position)."""
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise BundleFormatError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """A protobuf message -> [(field number, varint value or bytes)], in wire order."""
    out, pos = [], 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        else:
            raise BundleFormatError(f"unsupported protobuf wire type {wire}")
        out.append((number, value))
    return out


def _block(table: bytes, handle: bytes) -> bytes:
    """The contents of the block a (offset, size) handle points at, without its trailer."""
    offset, pos = _varint(handle, 0)
    size, _ = _varint(handle, pos)
    if offset + size + _BLOCK_TRAILER_BYTES > len(table):
        raise BundleFormatError("block handle past the end of the index")
    if table[offset + size] != 0:
        raise BundleFormatError("compressed index blocks are not supported")
    return table[offset : offset + size]


def _block_entries(block: bytes) -> list[tuple[bytes, bytes]]:
    """The (key, value) entries of one block; keys are prefix-compressed against the last."""
    (restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    end = len(block) - 4 * (restarts + 1)
    entries, key, pos = [], b"", 0
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_size, pos = _varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        entries.append((key, block[pos : pos + value_size]))
        pos += value_size
    return entries


def _table_entries(table: bytes) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of a LevelDB-style table, in key order."""
    if len(table) < _FOOTER_BYTES:
        raise BundleFormatError("index shorter than a table footer")
    footer = table[-_FOOTER_BYTES:]
    if struct.unpack("<Q", footer[-8:])[0] != _TABLE_MAGIC:
        raise BundleFormatError("no table magic number at the end of the index")
    _, pos = _varint(footer, 0)  # the metaindex handle: offset ...
    _, pos = _varint(footer, pos)  # ... and size (the bundle keeps nothing there)
    index_block = _block(table, footer[pos:])
    entries = []
    for _, handle in _block_entries(index_block):
        entries.extend(_block_entries(_block(table, handle)))
    return entries


def _entry(value: bytes) -> dict:
    """A BundleEntryProto -> {dtype, shape, shard, offset, size}."""
    entry = {"dtype": 1, "shape": [], "shard": 0, "offset": 0, "size": 0, "slices": False}
    names = {1: "dtype", 3: "shard", 4: "offset", 5: "size"}
    for number, field in _fields(value):
        if number in names:
            entry[names[number]] = field
        elif number == 2:  # TensorShapeProto: repeated dim {size = 1}
            for dim_number, dim in _fields(field):
                if dim_number == 2:
                    entry["shape"].append(dict(_fields(dim)).get(1, 0))
        elif number == 7:
            entry["slices"] = True
    return entry


def read_bundle(
    prefix: str | Path, keep: Callable[[str], bool] = lambda name: True
) -> dict[str, np.ndarray]:
    """Tensors of the bundle at `prefix` (the path before `.index`) whose name `keep` accepts."""
    prefix = str(prefix)
    table = Path(prefix + ".index").read_bytes()
    tensors: dict[str, np.ndarray] = {}
    shards: dict[int, bytes] = {}
    entries = _table_entries(table)
    header = dict(_fields(entries[0][1])) if entries and entries[0][0] == b"" else {}
    num_shards = int(header.get(1, 1))
    for raw_name, value in entries:
        name = raw_name.decode()
        if not name or not keep(name):
            continue
        entry = _entry(value)
        if entry["slices"] or entry["dtype"] not in _DTYPES:
            raise BundleFormatError(f"{name}: sliced or dtype {entry['dtype']} tensors unsupported")
        shard = entry["shard"]
        if shard not in shards:
            shards[shard] = Path(f"{prefix}.data-{shard:05d}-of-{num_shards:05d}").read_bytes()
        raw = shards[shard][entry["offset"] : entry["offset"] + entry["size"]]
        dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
        array = np.frombuffer(raw, dtype=dtype)
        if array.size != int(np.prod(entry["shape"], dtype=np.int64)):
            raise BundleFormatError(f"{name}: {entry['size']} bytes for shape {entry['shape']}")
        tensors[name] = array.reshape(entry["shape"]).copy()
    return tensors
