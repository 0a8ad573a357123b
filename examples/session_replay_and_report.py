"""Open a recorded session, replay it through the analyser exactly as live saw it, and write its report.

    python examples/session_replay_and_report.py [SESSION.stridesync] [OUT.html]

Defaults: the sample session in recordings/ and a report in a temporary folder (HTML; .pdf works too).
"""

import sys
import tempfile
from pathlib import Path

from stridesync.session.replay import replay
from stridesync.session.store import Session

HERE = Path(__file__).resolve().parent


def main(path: Path, out: Path) -> None:
    with Session.open(path) as session:
        print(f"{session.athlete or 'unnamed'}, {session.duration_s:.0f} s, {len(session.sensors)} sensors")
        result = replay(session)  # as fast as possible; the same events and steps as the live session
        print(f"replayed: {len(result.steps)} steps, sync score {result.summary['sync_score']:.0f}, "
              f"the same steps as live: {result.steps == session.steps('live')}")
        from stridesync_ui.report import render, report_data_from_session  # rendering needs the Qt extras

        render(report_data_from_session(session), out)
    print(f"wrote {out}")


if __name__ == "__main__":
    session = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "recordings" / "sample_run.stridesync"
    if len(sys.argv) > 2:
        main(session, Path(sys.argv[2]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(session, Path(tmp) / "report.html")
