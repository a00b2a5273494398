"""The resident analyser: a warm process that serves ``inspect``/``diff`` without start-up cost.

``protocol`` (socket location, checks, framing) and ``client`` (used by the console entry point)
import only the standard library; ``server`` is the warm process; ``control`` starts, stops and
queries it for ``distrust resident``.
"""
