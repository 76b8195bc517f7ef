"""The spiders: ``feed`` (channel feeds, then the detail of every new note)
and ``note`` (the details of notes given by id, or of stale stored ones), on
what they share (``base``) and their ``-a`` arguments, each declared once
(``arguments``). They ask the API and yield items: what the store knows they
learn from the Freshness extension, and the pipelines store what they yield.
"""
