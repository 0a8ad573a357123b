"""The LiveAnalyzer's bulk path: a recorded input sequence, as fast as possible, with the same results.

:meth:`LiveAnalyzer.on_packet <stridesync.live.LiveAnalyzer.on_packet>` and friends handle one input at
a time, as they arrive live. A replay that goes as fast as possible has the whole sequence at hand and
spends most of its time in per-packet Python. :func:`feed_recorded` computes the same thing in bulk:

1. **Per sensor** (a sensor's decoding and clock depend on nothing else): headers of every packet are
   decoded at once (:func:`stridesync.protocol.decode_headers`, which accepts exactly what
   ``DataPacket.from_bytes`` accepts); duplicates, reboots and sequence gaps are accounted in one pass;
   the sensor's packets and TIME_SYNC exchanges go through its :class:`~stridesync.clock.ClockSync` in
   their recorded order (scalar: the estimator is sequential, and cheap per observation); packets held
   while no clock model exists are released with the first model, as live; each run of packets released
   under the same model is mapped onto the session clock in one call.
2. **In recorded order**: the mapped samples go to the core in chunks of about ``chunk_s`` of data, one
   block per limb, after the same overlap trimming as live (a sample at or before what the core already
   has, or inside a declared gap, is dropped). Ticks that may declare a sensor away (one silent for
   ``GAP_AFTER_S``), link-state changes and the finish mark are applied exactly where they were recorded.

The real-time core's results do not depend on how its input is split into blocks (its defining
chunk-invariance property, tested in ``tests/test_core.py``), every other step is the per-input code's
arithmetic on the same numbers, and ``tests/test_bulk_replay.py`` checks identical events, steps,
summaries, clock models, sensor counters, link states and diagnostic logs against the per-input path on
sessions with loss, a dropout, a reboot, a clock step, duplicates, out-of-order and malformed packets.
What differs: the order in which events are emitted follows the chunking (the events are the same), the
``emission_log`` has one session time per chunk, and per-event reporting delays are those of the
chunking.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .clock import ClockSync
from .model import Event, LinkState, Step
from .protocol import FMT_ACC_GYRO, HEADER_SIZE, SENSOR_TIME_LIMIT_US, DataPacket, decode_headers

if TYPE_CHECKING:
    from .live import LiveAnalyzer

log = logging.getLogger(__name__)

__all__ = ["feed_recorded"]

# input kinds, as stored (stridesync.session.store.Kind)
PACKET, EXCHANGE, STATE, TICK, FINISH = 0, 1, 2, 3, 4


class _Released:
    """One sensor's packets as released to the core, in order: per packet the input index that released
    it, its last sample's sensor µs and session time, and the arrival of the releasing packet; per sample
    its session time and acceleration (g)."""

    def __init__(self, g: np.ndarray, t_last_us: np.ndarray, last: np.ndarray, arrival: np.ndarray,
                 n: np.ndarray, start: np.ndarray, times: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None):
        self.g, self.t_last_us, self.last, self.arrival, self.n = g, t_last_us, last, arrival, n
        self.start = start  # sample offset of each packet (one more entry: the total)
        self.times, self.acc, self.gyro = times, acc, gyro
        self.pos = 0  # next packet to hand to the core


class _SensorPass:
    """Step 1 for one sensor: everything that depends on its own inputs only."""

    def __init__(self, a: "LiveAnalyzer", key: str, idx: np.ndarray, kinds: np.ndarray, cols: dict):
        from .live import MAX_HELD, PERIOD_TOLERANCE
        s = a.sensors[key]
        self.s = s
        t_s = cols["t_s"]
        pk = idx[kinds[idx] == PACKET]
        datas = [cols["data"][i] for i in pk]
        h = decode_headers(datas)
        ok = h.ok & (h.t0_us < SENSOR_TIME_LIMIT_US)
        if key in a.gyro:  # as live: a sensor that streams angular rate must send it in every packet
            ok &= h.fmt == FMT_ACC_GYRO
        ok &= np.abs(h.period_us.astype(np.int64) * s.nominal_rate_hz - 1e6) <= PERIOD_TOLERANCE * 1e6
        ok[ok] = ~_implausible_payloads([datas[i] for i in np.flatnonzero(ok).tolist()], h.n[ok], h.fmt[ok])
        ok_i = np.flatnonzero(ok)
        arrival_all = _take(t_s, pk[ok_i])
        # ---- the stream check (live.PacketGate): on arrays when every packet continues the one before, else the
        # live gate itself, packet by packet
        acc_i, eff_g, reboot_at = self._gate(s, pk, ok_i, h, arrival_all, cols)
        t0 = h.t0_us[acc_i].astype(np.int64)
        seq = h.seq[acc_i].astype(np.int64)
        s.bad += len(pk) - len(ok_i)
        # sequence gaps (a reboot forgets the previous seq)
        if len(seq):
            gap = (seq - np.concatenate([[-1], seq[:-1]]) - 1) & 0xFFFF
            counted = gap < 0x8000
            counted[0] = False  # the first packet has no predecessor
            for j in reboot_at:
                counted[j] = False
            s.lost += int(gap[counted].sum())
            s.last_seq, s.last_t0_us = int(seq[-1]), int(t0[-1])
        s.packets += len(acc_i)
        n = h.n[acc_i].astype(np.int64)
        period = h.period_us[acc_i].astype(np.int64)
        t_last_us = t0 + (n - 1) * period
        g_pk = eff_g  # per accepted packet (in the order accepted): the input index that accepted it
        arrival = _take(t_s, pk[acc_i])  # and its own arrival
        self.g_accepted, self.arrival = g_pk, arrival
        if len(g_pk):
            s.last_arrival_s = float(arrival[-1])
            s.arrivals.extend(zip(arrival.tolist(), n.tolist()))
            a.arrival_log[key].extend(arrival.tolist())
        # ---- the clock, in recorded order: accepted packets and exchanges interleaved
        ex = idx[kinds[idx] == EXCHANGE]
        order = np.concatenate([g_pk, ex])
        is_pk = np.concatenate([np.ones(len(g_pk), bool), np.zeros(len(ex), bool)])
        o = np.argsort(order, kind="stable")
        order, is_pk = order[o], is_pk[o]
        t1c, t2c, t3c, t4c = cols["t1_s"], cols["t2_us"], cols["t3_us"], cols["t4_s"]
        models: list = []  # per accepted packet: the clock model after it was added
        has_model = np.zeros(len(order), bool)  # per observation: a model existed after it
        clock = s.clock
        tl = t_last_us.tolist()
        arr_l = arrival.tolist()
        pk_obs = np.flatnonzero(is_pk)  # observation position of each accepted packet
        breaks = sorted(set(np.flatnonzero(~is_pk).tolist()) | {int(pk_obs[j]) for j in reboot_at})
        cur = 0
        j0 = 0  # packets before position cur
        n_obs = len(order)
        for b in [*breaks, n_obs]:
            if b > cur:  # a run of packets: in bulk
                ms = clock.add_packets(tl[j0:j0 + b - cur], arr_l[j0:j0 + b - cur])
                j0 += b - cur
                models += ms
                has_model[cur:b] = [m is not None for m in ms]
            if b == n_obs:
                break
            if is_pk[b]:  # the sensor rebooted: a new clock, and this packet starts the next run
                log.warning("%s: sensor clock restarted; re-estimating its clock", key)
                clock = s.clock = ClockSync()
                cur = b
            else:
                g = int(order[b])
                if max(t2c[g], t3c[g]) < SENSOR_TIME_LIMIT_US:
                    clock.add_exchange(t1c[g], t2c[g], t3c[g], t4c[g])
                has_model[b] = clock.model is not None
                cur = b + 1
        self.obs_g, self.obs_has_model = order, has_model
        # ---- release: a packet waits (at most MAX_HELD of them) until a model exists, then goes with it
        m = len(models)
        w = np.flatnonzero(np.array([x is not None for x in models], bool))  # positions with a model
        if len(w):
            k = np.searchsorted(w, np.arange(m))
            rel_at = np.where(k < len(w), w[np.minimum(k, len(w) - 1)], m)  # first position >= i with a model
        else:
            rel_at = np.full(m, m, np.int64)
        released = (rel_at < m) & (rel_at - np.arange(m) < MAX_HELD)
        # packets still waiting for a model at the end stay held, as live
        s.held = [DataPacket.from_bytes(cols["data"][int(pk[acc_i[i]])]) for i in range(m) if rel_at[i] == m][-MAX_HELD:]
        # ---- mapping: each run of packets released under the same model, in one call
        r = np.flatnonzero(released)
        rel_g = g_pk[rel_at[r]] if len(r) else np.zeros(0, np.int64)
        n_r = n[r]
        total = int(n_r.sum())
        times = np.empty(total)
        start = np.concatenate([[0], np.cumsum(n_r)]).astype(np.int64)
        k_in = np.arange(total, dtype=np.int64) - np.repeat(start[:-1], n_r)
        t_us = np.repeat(t0[r], n_r) + k_in * np.repeat(period[r], n_r)
        rel_models = [models[i] for i in rel_at[r].tolist()]
        # runs of the same model (a model lasts one clock bin, ~0.5 s: several packets)
        cut = [i for i in range(1, len(rel_models)) if rel_models[i] is not rel_models[i - 1]]
        bounds = [0, *cut, len(r)]
        for b0, b1 in zip(bounds[:-1], bounds[1:]):
            if b1 > b0:
                times[start[b0]:start[b1]] = rel_models[b0].to_session(t_us[start[b0]:start[b1]])
        last = times[start[1:] - 1] if len(r) else np.zeros(0)
        # acceleration: raw × range / 32768, per packet's range
        rel_rows = pk[acc_i[r]]
        width = np.where(h.fmt[acc_i[r]] == 0, 3, 6)
        payload = b"".join([cols["data"][i][HEADER_SIZE:] for i in rel_rows.tolist()])
        raw = np.frombuffer(payload, dtype="<i2")
        if len(width) == 0:
            raw3 = np.zeros((0, 3), np.int16)
        elif np.all(width == width[0]):
            raw3 = raw.reshape(-1, int(width[0]))[:, :3]
        else:  # mixed formats: pick each sample's first three values
            s_w = np.repeat(width, n_r)
            s_off = np.concatenate([[0], np.cumsum(s_w)[:-1]]).astype(np.int64)
            raw3 = raw[s_off[:, None] + np.arange(3)]
        scale = np.repeat(h.acc_range_g[acc_i[r]].astype(np.float64) / 32768.0, n_r)
        acc = raw3.astype(np.float64) * scale[:, None]
        gyro = None
        if key in a.gyro:  # every accepted packet has format 1: six values a sample
            gscale = np.repeat(h.gyro_range_dps[acc_i[r]].astype(np.float64) / 32768.0, n_r)
            gyro = raw.reshape(-1, 6)[:, 3:6].astype(np.float64) * gscale[:, None]
        self.rel = _Released(rel_g, t_last_us[r], last, _take(t_s, rel_g), n_r, start, times, acc, gyro)

    @staticmethod
    def _gate(s, pk: np.ndarray, ok_i: np.ndarray, h, arrival: np.ndarray, cols: dict):
        """Which of the packets ``ok_i`` the stream check accepts, in the order accepted, with the input index
        that accepted each (a packet held for confirmation is accepted by the next one) and the positions
        (in that order) where a confirmed reboot starts a new clock. Leaves ``s.gate`` as live would."""
        from .live import OUTRUN_SLACK_US, PacketHead
        gate = s.gate
        f = [h.seq[ok_i].astype(np.int64), h.t0_us[ok_i].astype(np.int64), h.n[ok_i].astype(np.int64),
             h.period_us[ok_i].astype(np.int64), h.acc_range_g[ok_i].astype(np.int64),
             h.gyro_range_dps[ok_i].astype(np.int64)]
        seq, t0, n, per, accr, gyr = f
        if len(ok_i) > 1:  # live.classify(a, h) == NEXT for every consecutive pair, on arrays (the same arithmetic)
            d = (seq[1:] - seq[:-1]) & 0xFFFF
            expected = t0[:-1] + n[:-1] * per[:-1]
            half = per[:-1] // 2
            nxt = ((t0[1:] > t0[:-1]) & (d >= 1) & (accr[1:] == accr[:-1]) & (gyr[1:] == gyr[:-1])
                   & (np.abs(per[1:] - per[:-1]) * 50 <= per[:-1])
                   & (expected - half + (d - 1) * per[:-1] <= t0[1:])
                   & (t0[1:] <= expected + half + (d - 1) * 255 * per[:-1])
                   & ((t0[1:] - t0[:-1]).astype(np.float64) <= (arrival[1:] - arrival[:-1]) * 1e6 + OUTRUN_SLACK_US))
            smooth = bool(nxt.all())
        else:
            smooth = True

        def head(j: int) -> PacketHead:
            return PacketHead(int(seq[j]), int(t0[j]), int(n[j]), int(per[j]), int(accr[j]), int(gyr[j]),
                              float(arrival[j]))

        if smooth and gate.last is None:
            if len(ok_i):
                gate.last = head(len(ok_i) - 1)
            return ok_i, pk[ok_i], set()
        order: list[int] = []
        by: list[int] = []
        reboot_at: set[int] = set()
        for j in range(len(ok_i)):
            for obj, _, reboot in gate.offer(head(j), j):
                if reboot:
                    reboot_at.add(len(order))
                order.append(int(obj))
                by.append(int(pk[ok_i[j]]))
        if gate.pending is not None:  # held for confirmation at the end, as live holds it
            hp, j = gate.pending
            gate.pending = (hp, DataPacket.from_bytes(cols["data"][int(pk[ok_i[j]])]))
        return ok_i[np.asarray(order, np.int64)], np.asarray(by, np.int64), reboot_at

    def last_arrival_before(self, g: int) -> float | None:
        k = int(self.g_accepted.searchsorted(g)) - 1
        return float(self.arrival[k]) if k >= 0 else None

    def model_before(self, g: int) -> bool:
        k = int(self.obs_g.searchsorted(g)) - 1
        return bool(self.obs_has_model[k]) if k >= 0 else False

    def streamed_between(self, g0: int, g1: int) -> bool:
        """Whether an accepted packet arrived between inputs ``g0`` and ``g1`` (exclusive)."""
        return int(np.searchsorted(self.g_accepted, g1)) > int(np.searchsorted(self.g_accepted, g0, "right"))


def _implausible_payloads(datas: list, n: np.ndarray, fmt: np.ndarray) -> np.ndarray:
    """:func:`stridesync.live.implausible_payload` of many packets (whose headers decoded) at once."""
    from .live import PAYLOAD_MIN_SAMPLES
    out = np.zeros(len(datas), bool)
    n = n.astype(np.int64)
    for f, w in ((0, 3), (1, 6)):
        sel = np.flatnonzero((fmt == f) & (n >= PAYLOAD_MIN_SAMPLES))
        if not len(sel):
            continue
        raw = np.frombuffer(b"".join([bytes(datas[i][HEADER_SIZE:]) for i in sel.tolist()]),
                            dtype="<i2").astype(np.int64).reshape(-1, w)
        cnt = n[sel]
        start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
        d = np.diff(raw, axis=0)
        sq = np.concatenate([[0], np.cumsum((d * d).sum(axis=1))])  # running sum over consecutive pairs
        within = sq[start + cnt - 1] - sq[start]  # pairs inside each packet only
        out[sel] = 25 * within > 4 * 32768 * 32768 * (cnt - 1) * w
    return out


def _take(t_s: list, g: np.ndarray) -> np.ndarray:
    """The input times at indices ``g``, as float64."""
    return np.array([t_s[i] for i in g.tolist()], dtype=np.float64)


def feed_recorded(a: "LiveAnalyzer", cols: dict[str, list], *, chunk_s: float = 5.0,
                  on_chunk: Callable[[list[Event], list[Step], float], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> bool:
    """Feed a recorded input sequence (``Session.columns()``) to a fresh analyser, in bulk.

    Equivalent to calling ``on_packet`` / ``on_time_sync`` / ``set_state`` / ``tick`` / ``finish`` for
    each input in order (see the module notes for what differs). ``on_chunk(events, steps, data_time_s)``
    after each chunk; ``should_stop()`` is polled between chunks. Returns whether a FINISH input was met.
    """
    from .live import GAP_AFTER_S, STICKY_STATES
    if a.sink is not None:
        raise ValueError("the bulk path does not feed a sink: record live, replay in bulk")
    if any(s.packets or s.held or s.last_t0_us is not None for s in a.sensors.values()):
        raise ValueError("the bulk path needs a fresh analyser")
    roles = [s.role for s in a.sensors.values()]
    if len(set(roles)) != len(roles):
        raise ValueError("two sensors share a role")
    kinds = np.asarray(cols["kind"], dtype=np.int64)
    n_in = len(kinds)
    t_s = cols["t_s"]
    sensor = cols["sensor"]
    by_key: dict[str, list[int]] = {k: [] for k in a.sensors}
    for i, k in enumerate(sensor):
        lst = by_key.get(k)
        if lst is not None:
            lst.append(i)
    passes = {k: _SensorPass(a, k, np.asarray(v, np.int64), kinds, cols) for k, v in by_key.items()}
    # session time as live had it: the newest packet arrival (any sensor, any packet) or tick so far
    tt = np.array([t if k in (PACKET, TICK) else -np.inf for k, t in zip(kinds.tolist(), t_s)], dtype=np.float64)
    now_after = np.maximum.accumulate(np.maximum(tt, a.now_s)) if n_in else np.zeros(0)

    # ---- step 2: boundaries where something other than samples happens
    ticks = np.flatnonzero(kinds == TICK)
    cand: list[int] = []
    if len(ticks):
        t_tick = np.array([t_s[i] for i in ticks.tolist()], dtype=np.float64)
        maybe = np.zeros(len(ticks), bool)
        for p in passes.values():
            if len(p.g_accepted):
                k = np.searchsorted(p.g_accepted, ticks) - 1
                la = np.where(k >= 0, p.arrival[np.maximum(k, 0)], np.inf)
                maybe |= (t_tick - la) > GAP_AFTER_S
        cand = ticks[maybe].tolist()
    special = sorted(set(cand) | set(np.flatnonzero((kinds == STATE) | (kinds == FINISH)).tolist()))
    # periodic cuts every chunk_s of arrival time, so the core gets bounded blocks and progress flows
    cuts: list[int] = []
    if n_in:
        ta = np.array(t_s, dtype=np.float64)
        ta = np.maximum.accumulate(np.where(np.isfinite(ta), ta, -np.inf))
        edges = np.arange(ta[0] + chunk_s, ta[-1], chunk_s) if np.isfinite(ta[0]) else np.zeros(0)
        cuts = np.searchsorted(ta, edges).tolist()
    stops = sorted(set(special) | set(cuts) | {n_in})

    core = a.core
    streams = a.streams
    last_state_g = {k: -1 for k in a.sensors}
    finished = False

    def release_until(g_end: int) -> tuple[list[Event], list[Step]]:
        """Hand the core every sample released by inputs before ``g_end``."""
        blocks = []
        for key, p in passes.items():
            r, s = p.rel, p.s
            hi = int(r.g.searchsorted(g_end))
            lo = r.pos
            if hi <= lo:
                continue
            r.pos = hi
            last = r.last[lo:hi]
            floor0 = max(s.last_sample_s, streams[s.role].quiet_until - 1e-12)
            fb = np.maximum.accumulate(np.concatenate([[floor0], last[:-1]]))  # each packet's floor, as live
            a.mapping_log[key].extend(zip(r.t_last_us[lo:hi].tolist(), last.tolist(), r.arrival[lo:hi].tolist()))
            kept_pk = last > fb
            if not kept_pk.any():
                continue
            s0, s1 = int(r.start[lo]), int(r.start[hi])
            times, acc = r.times[s0:s1], r.acc[s0:s1]
            gyro = None if r.gyro is None else r.gyro[s0:s1]
            keep = times > np.repeat(fb, r.n[lo:hi])
            if not keep.all():
                times, acc = times[keep], acc[keep]
                gyro = None if gyro is None else gyro[keep]
            s.last_sample_s = float(last[kept_pk][-1])
            s.latencies.extend((r.arrival[lo:hi][kept_pk] - last[kept_pk])[-s.latencies.maxlen:].tolist())
            blocks.append((s.role, times, acc, gyro))
        if not blocks:
            return [], []
        return a.logged(core.push_many(blocks))

    g_prev = 0
    for g in stops:
        if should_stop is not None and should_stop():
            break
        a.now_s = float(now_after[g - 1]) if g > 0 else a.now_s
        ev, st = release_until(g)
        if g < n_in:
            kind = int(kinds[g])
            if kind == STATE:
                key = sensor[g]
                p = passes.get(key)
                if p is not None:
                    if p.streamed_between(last_state_g[key], g) and p.s.state not in STICKY_STATES:
                        p.s.state = LinkState.STREAMING
                    last_state_g[key] = g
                a.set_state(key, cols["state"][g], battery_pct=cols["battery_pct"][g], rssi=cols["rssi"][g])
            elif kind == TICK:
                now = float(t_s[g])
                a.now_s = float(now_after[g])
                for key, p in passes.items():
                    s = p.s
                    last = p.last_arrival_before(g)
                    if last is not None and now - last > GAP_AFTER_S and p.model_before(g):
                        until = max(s.last_sample_s, now - GAP_AFTER_S) + 1e-6
                        if until > streams[s.role].quiet_until:
                            e, q = a.logged(core.declare_gap(s.role, until))
                            ev += e
                            st += q
            elif kind == FINISH:
                finished = True
                e, q = core.finish()
                ev += e
                st += q
        if on_chunk is not None:
            on_chunk(ev, st, float(now_after[min(g, n_in) - 1]) if n_in else 0.0)
        g_prev = g
    # final link states: a packet after the last recorded state change means streaming
    for key, p in passes.items():
        if p.streamed_between(last_state_g[key], g_prev + 1) and p.s.state not in STICKY_STATES:
            p.s.state = LinkState.STREAMING
    return finished
