"""What StrideSync says about a session, in one Qt-free place: the report's data, its statistics and every
sentence about the numbers (coaching text, the weak link, trends, the words for sensors and rules).

The terminal (``live``, ``replay``, ``report``), the Qt dashboard and the HTML/PDF report all take their
words from here, so they say the same sentence about the same numbers; ``stridesync_ui`` only renders.

- :mod:`.data`: :class:`~.data.ReportData`, the frozen input of a report, and its adapters;
- :mod:`.stats`: per-limb series, trends, phases and laps derived from the steps;
- :mod:`.text`: number formats, key numbers and the report's coaching paragraphs;
- :mod:`.weak`: the weak link in words, with "both legs" when the sides differ by less than their noise;
- :mod:`.words`: sensor, rule and trace names shared by every view.
"""
