"""The editors' and organisers' tools: the /admin web console of ``hoc-bot run`` and the questions review.

- :mod:`bot.admin.auth`: single-use sign-in links, sessions and CSRF tokens, in the database;
- :mod:`bot.admin.web`: the aiohttp routes and the templates' rendering (Jinja2, imported on first use);
- :mod:`bot.admin.progress` and :mod:`bot.admin.charts`: the progress page's sections, SVG charts, CSV;
- :mod:`bot.admin.review_page`: the review page's route;
- :mod:`bot.admin.review` (with ``review_groups``, ``review_apply``, ``review_eval``, ``review_cli``): the
  platform-free review engine behind the review page and ``hoc-bot kb review``;
- :mod:`bot.admin.link`: the ``admin`` chat command and ``hoc-bot admin link``.

Pages show counts only: no coordinator's name or id reaches them.
"""
