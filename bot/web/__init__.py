"""The optional callback web server: Imgur's ``code`` and ``token`` redirects, and ``/healthz``.

Routes:
- ``GET /oauth/continue?state=..``: in the ``code`` and ``token`` flows the link a member gets
  opens this page first. It names the Discord member the attempt belongs to and links on to
  Imgur's authorize URL, so whoever was sent someone else's link sees whose it is before
  allowing anything. It does not use the attempt up.
- ``GET /oauth/callback``: ``?code=..&state=..`` links the state's member at once;
  ``?error=..`` is a refusal; anything else gets the page whose script posts the ``#access_token``
  fragment (which never reaches a server) to
- ``POST /oauth/token``: JSON ``{"state": .., "access_token": .., ...}``; answers the JSON that
  the page shows.
- ``GET /healthz``: 200 when the Discord gateway is connected and the database answers, else 503.

Knows nothing of Discord (the member is told through ``notify``) nor of storage (everything
goes through ``LinkService``). No state, code or token is ever logged or put into a page or
an error message.

Modules: ``dependencies`` (what the bot hands over), ``routes`` (the application),
``handlers``, ``outcomes`` (each answer's status and words), ``penalty`` (for guessed
states), ``middleware``, ``pages`` (the HTML and its CSP), ``logs``, ``guard`` (bounds on
connections) and ``server`` (listening).
"""

from bot.web.dependencies import MemberName, Notify, WebDependencies
from bot.web.logs import printable
from bot.web.penalty import BadStatePenalty
from bot.web.routes import CALLBACK_PATH, CONFIRM_PATH, HEALTH_PATH, TOKEN_PATH, create_app
from bot.web.server import CallbackServer

__all__ = [
    "CALLBACK_PATH",
    "CONFIRM_PATH",
    "HEALTH_PATH",
    "TOKEN_PATH",
    "BadStatePenalty",
    "CallbackServer",
    "MemberName",
    "Notify",
    "WebDependencies",
    "create_app",
    "printable",
]
