"""Matrix (and Tchap) adapter on matrix-nio, with end-to-end encryption.

- ``config``: the MATRIX_* settings;
- ``convert``: Matrix events to inbox payloads, payloads to the handler's IncomingMessage;
- ``render``: replies as ``m.notice`` events (HTML and plain text), buttons as a numbered list;
- ``session``: the nio client: login once, then the same device on every start;
- ``platform``: ``hoc-bot run``'s Matrix platform (supervised sync loop, inbox, replies) and the reminder sender.
"""
