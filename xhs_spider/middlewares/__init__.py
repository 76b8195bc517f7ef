"""The downloader middlewares (``DOWNLOADER_MIDDLEWARES``): every API call passes here.

One per concern of a call on its way out and its answer on the way back:
the token added only while downloading (``token``), the endpoint path in use
(``endpoints``), a detail sent once a run under its lease (``claims``), the
pace of calls, the billing budget, and each answer judged by its business
code (``business_codes``). ``config/defaults.py`` gives their order and why.
"""
