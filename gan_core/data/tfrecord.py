"""TFRecord files read without TensorFlow.

A record is framed as: uint64 length, uint32 masked CRC-32C of the length, the data, uint32 masked
CRC-32C of the data (all little-endian). The data of an image record is a tf.train.Example protobuf,
decoded here by a minimal wire-format parser.
"""
from __future__ import annotations

import struct
from typing import BinaryIO, Iterator

from gan_core.data.crc32c import crc32c, crc32c_many

HEADER = struct.Struct("<QI")
FOOTER_SIZE = 4


def masked_crc(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _record_length(header: bytes) -> int | None:
    """The data length, or None when the header's CRC does not match (the framing is lost)."""
    length, length_crc = HEADER.unpack(header)
    return length if masked_crc(crc32c(header[:8])) == length_crc else None


def count_records(file: BinaryIO, size: int) -> int:
    """Records that iter_records will yield before any framing problem, read from headers only."""
    count = position = 0
    while position + HEADER.size <= size:
        file.seek(position)
        length = _record_length(file.read(HEADER.size))
        if length is None or position + HEADER.size + length + FOOTER_SIZE > size:
            break
        count, position = count + 1, position + HEADER.size + length + FOOTER_SIZE
    return count


def iter_records(data: bytes) -> Iterator[tuple[int, memoryview | None, str | None]]:
    """(index, record data, None) per record; (index, None, reason) for a record that is corrupt, and
    for a broken or truncated tail, after which the file cannot be read further."""
    view = memoryview(data)
    records, expected_crcs, problem = [], [], None
    position = 0
    while position < len(data):
        if position + HEADER.size > len(data):
            problem = "truncated TFRecord file"
            break
        length = _record_length(view[position:position + HEADER.size])
        if length is None:
            problem = "corrupt TFRecord framing (length CRC mismatch)"
            break
        start = position + HEADER.size
        position = start + length + FOOTER_SIZE
        if position > len(data):
            problem = "truncated TFRecord file"
            break
        records.append(view[start:start + length])
        expected_crcs.append(struct.unpack_from("<I", data, start + length)[0])
    crcs = crc32c_many(records).tolist()
    for index, (record, crc, expected) in enumerate(zip(records, crcs, expected_crcs)):
        if masked_crc(crc) == expected:
            yield index, record, None
        else:
            yield index, None, "corrupt record (CRC mismatch)"
    if problem:
        yield len(records), None, problem


def _varint(buf: memoryview, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7


def _fields(buf: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """(field number, wire type, value) of a protobuf message."""
    position = 0
    while position < len(buf):
        key, position = _varint(buf, position)
        wire = key & 7
        if wire == 0:
            value, position = _varint(buf, position)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, position = buf[position:position + size], position + size
        elif wire == 2:
            size, position = _varint(buf, position)
            value, position = buf[position:position + size], position + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if position > len(buf):
            raise ValueError("truncated protobuf message")
        yield key >> 3, wire, value


def _packed_varints(buf: memoryview) -> Iterator[int]:
    position = 0
    while position < len(buf):
        value, position = _varint(buf, position)
        yield value


def _int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _feature_values(feature: memoryview) -> list:
    """Values of a tf.train.Feature: oneof bytes_list (1), float_list (2), int64_list (3)."""
    for kind, _, value_list in _fields(feature):
        values: list = []
        for _, wire, value in _fields(value_list):
            if kind == 1:
                values.append(bytes(value))
            elif kind == 2:
                values.extend(struct.unpack(f"<{len(value) // 4}f", value))
            elif kind == 3:
                values.extend(_int64(v) for v in ([value] if wire == 0 else _packed_varints(value)))
        return values
    return []


def parse_example(record: memoryview) -> dict[str, list]:
    """tf.train.Example -> {feature name: values}; ValueError when malformed. Example.features (1)
    holds Features.feature (1), a map whose entries have key (1) and value (2)."""
    features: dict[str, list] = {}
    try:
        for number, _, features_message in _fields(memoryview(record)):
            if number != 1:
                continue
            for entry_number, _, entry in _fields(features_message):
                if entry_number != 1:
                    continue
                key, value = "", memoryview(b"")
                for part, _, content in _fields(entry):
                    if part == 1:
                        key = bytes(content).decode("utf-8", "replace")
                    elif part == 2:
                        value = content
                features[key] = _feature_values(value)
    except (IndexError, TypeError, struct.error) as e:
        raise ValueError(f"malformed tf.train.Example ({e})") from None
    return features
