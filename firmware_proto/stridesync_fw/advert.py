"""Advertising payloads of PROTOCOL.md §1, sensor side.

A legacy advertisement and its scan response carry 31 bytes each. Flags (3) and the 128-bit service
UUID (18) go in the advertisement so hosts can filter by service; the manufacturer data (15) and the
name (16) go in the scan response. Pure and MicroPython-compatible.
"""

import struct

from . import packets as P

ADV_MAX = 31
_AD_FLAGS = 0x01
_AD_UUID128_COMPLETE = 0x07
_AD_NAME_COMPLETE = 0x09
_AD_MANUFACTURER = 0xFF
_FLAGS_LE_ONLY_GENERAL = 0x06  # LE General Discoverable, BR/EDR not supported
NAME_PREFIX = "StrideSync"


def device_name(serial):
    """``StrideSyncXXXX``: the prefix and the last four characters of the serial (PROTOCOL §1)."""
    if isinstance(serial, (bytes, bytearray)):
        serial = bytes(serial).rstrip(b"\x00").decode()
    return NAME_PREFIX + serial[-4:]


def manufacturer_payload(role_code, battery_pct, serial):
    """``u8 version | u8 role | u8 battery % | 8 bytes serial`` (after the company ID), 11 bytes."""
    if not 0 <= role_code < len(P.ROLE_NAMES) or not 0 <= battery_pct <= 100:
        raise ValueError("role code or battery percent out of range")
    if isinstance(serial, str):
        serial = serial.encode()
    serial = bytes(serial)
    if len(serial) > 8:
        raise ValueError("serial longer than 8 bytes")
    return bytes((P.PROTOCOL_VERSION, role_code, battery_pct)) + serial + bytes(8 - len(serial))


def _ad(ad_type, value):
    return bytes((len(value) + 1, ad_type)) + value


def uuid128_le(uuid):
    """A UUID string in the little-endian byte order of advertising data."""
    hexs = uuid.replace("-", "")
    return bytes(int(hexs[i:i + 2], 16) for i in range(30, -2, -2))


def adv_data():
    """Advertisement: flags + the complete list of 128-bit service UUIDs (21 bytes)."""
    return _ad(_AD_FLAGS, bytes((_FLAGS_LE_ONLY_GENERAL,))) + _ad(
        _AD_UUID128_COMPLETE, uuid128_le(P.IMU_SERVICE_UUID))


def scan_response(role_code, battery_pct, serial):
    """Scan response: manufacturer data (company 0xFFFF) + complete local name (31 bytes)."""
    mfr = struct.pack("<H", P.COMPANY_ID) + manufacturer_payload(role_code, battery_pct, serial)
    out = _ad(_AD_MANUFACTURER, mfr) + _ad(_AD_NAME_COMPLETE, device_name(serial).encode())
    if len(out) > ADV_MAX:
        raise ValueError("scan response of %d bytes exceeds 31" % len(out))
    return out
