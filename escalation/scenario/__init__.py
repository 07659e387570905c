"""What a scenario file means: read safely, checked, and compiled into numbers.

:mod:`~escalation.scenario.yamlio` reads YAML with the line of every field (safe loading
only); :mod:`~.schema` declares the format (pydantic); :mod:`~.check` checks what the schema
cannot (names, ladders, demands, circular state); :mod:`~.conditions` parses expressions with a
small grammar into numpy operations (no ``eval``); :mod:`~.distributions` reads distribution
text; :mod:`~.hints` words the messages; :mod:`~.load` ties them together and locates every
error by file, line and field.
"""
