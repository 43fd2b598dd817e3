"""The staff console (職員用管理画面): a small aiohttp site on its own port for city staff.

:func:`bot.staff.app.create_app` builds the site from injected dependencies (stores, catalog, clock,
password hasher, configuration); ``python -m bot.staff`` serves it on ``STAFF_HOST:STAFF_PORT``
(127.0.0.1:5080 by default), which :mod:`bot.runner` starts beside the bot.
"""
