"""What every platform package (``slack``, ``telegram``, ``matrix``) shares beside the durable inbox.

- ``caches``: :class:`TtlCache`, a bounded least-recently-used map whose entries expire;
- ``pacing``: the rate limiters (one for a whole bot, one per channel) and the doubling back-off;
- ``sending``: the reminder sender's base (platform failures to the runner's two kinds) and the log
  fields that count a platform API error;
- ``parts``: what every platform needs of the wired bot;
- ``text``: UTF-16 lengths and right-to-left languages, for the renderers.

The platform packages import this one, never each other; this one imports no platform SDK.
"""
