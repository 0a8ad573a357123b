"""Test helpers for team mode: a small LSL recorder (what LabRecorder does) and an XDF writer in the format
pyxdf reads (XDF 1.0: magic, then chunks of FileHeader, StreamHeader, Samples, ClockOffset, StreamFooter)."""

from __future__ import annotations

import struct
import threading
import time

import pylsl


def _varlen(n: int) -> bytes:
    if n < 256:
        return b"\x01" + bytes([n])
    if n < 2 ** 32:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def _chunk(tag: int, content: bytes) -> bytes:
    return _varlen(len(content) + 2) + struct.pack("<H", tag) + content


def write_xdf(path, streams) -> None:
    """``streams``: ``[(info_xml, channel_format ('double64' or 'string'), samples, stamps)]``."""
    out = [b"XDF:", _chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')]
    for sid, (xml, fmt, samples, stamps) in enumerate(streams, start=1):
        out.append(_chunk(2, struct.pack("<I", sid) + xml.encode()))
        for k in range(0, len(samples), 500):
            body = [struct.pack("<I", sid), _varlen(len(samples[k:k + 500]))]
            for row, ts in zip(samples[k:k + 500], stamps[k:k + 500]):
                body.append(b"\x08" + struct.pack("<d", ts))
                if fmt == "string":
                    for v in row:
                        b = v.encode()
                        body.append(_varlen(len(b)) + b)
                else:
                    body.append(struct.pack(f"<{len(row)}d", *row))
            out.append(_chunk(3, b"".join(body)))
        t_first = stamps[0] if stamps else 0.0
        t_last = stamps[-1] if stamps else 0.0
        for t in (t_first, t_last):
            out.append(_chunk(4, struct.pack("<I", sid) + struct.pack("<dd", t, 0.0)))
        footer = (f'<?xml version="1.0"?><info><first_timestamp>{t_first!r}</first_timestamp><last_timestamp>'
                  f'{t_last!r}</last_timestamp><sample_count>{len(samples)}</sample_count></info>')
        out.append(_chunk(6, struct.pack("<I", sid) + footer.encode()))
    with open(path, "wb") as f:
        f.write(b"".join(out))


class MiniRecorder:
    """Records every stream whose name starts with ``prefix`` (like LabRecorder) in a background thread."""

    def __init__(self, prefix: str = "StrideSync "):
        self.prefix = prefix
        self.streams: dict[str, dict] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        resolver = pylsl.ContinuousResolver(forget_after=2.0)
        while not self._stop.is_set():
            for info in resolver.results():
                if info.uid() in self.streams or not info.name().startswith(self.prefix):
                    continue
                inlet = pylsl.StreamInlet(info, max_buflen=360, recover=False)
                full = inlet.info(timeout=2.0)
                inlet.open_stream(timeout=2.0)
                fmt = "string" if full.channel_format() == pylsl.cf_string else "double64"
                self.streams[info.uid()] = {"inlet": inlet, "xml": full.as_xml(), "fmt": fmt, "samples": [], "stamps": []}
            for s in list(self.streams.values()):
                try:
                    data, ts = s["inlet"].pull_chunk(timeout=0.0)
                except Exception:
                    continue
                s["samples"] += data
                s["stamps"] += ts
            time.sleep(0.05)

    def stop_and_write(self, path) -> None:
        self._stop.set()
        self._thread.join(5)
        write_xdf(path, [(s["xml"], s["fmt"], s["samples"], s["stamps"]) for s in self.streams.values()])
