"""The callback server's HTML: the result pages, the one script, and a CSP that allows only them.

The script and the style are constants, so the Content-Security-Policy names them by hash and
needs no ``unsafe-inline``. Every text put into a page is HTML-escaped; no page ever carries a
state, code or token.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1b1b}"
    "main{max-width:32rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:.5rem;"
    "box-shadow:0 1px 4px rgba(0,0,0,.15)}"
    "h1{font-size:1.4rem;margin-top:0}"
    "button{font:inherit;padding:.4rem 1rem}"
    ".continue{display:inline-block;padding:.5rem 1.2rem;background:#1bb76e;color:#fff;"
    "border-radius:.3rem;text-decoration:none;font-weight:600}"
    ".warning{background:#fff4e5;border-left:4px solid #f0a020;padding:.6rem .8rem}"
)

# Reads the token fragment Imgur appended, takes it out of the address bar and the history at
# once, and posts it with the state to ``token`` (``/oauth/token`` beside this page). Everything
# shown comes from the server's JSON through textContent.
FRAGMENT_SCRIPT = """
(function () {
  "use strict";
  var fragment = new URLSearchParams(window.location.hash.slice(1));
  var query = new URLSearchParams(window.location.search);
  window.history.replaceState(null, "", window.location.pathname);
  var title = document.getElementById("title");
  var message = document.getElementById("message");
  var retry = document.getElementById("retry");
  function show(heading, text, result) {
    title.textContent = heading;
    message.textContent = text;
    document.title = heading;
    if (result) { document.body.setAttribute("data-result", result); }
  }
  var payload = {};
  fragment.forEach(function (value, key) { payload[key] = value; });
  if (!payload.state && query.get("state")) { payload.state = query.get("state"); }
  fragment = null;
  if (!payload.access_token && !payload.error) {
    show("Nothing to link", "Imgur sent no token to this page. Run /imgur link in Discord " +
      "for a fresh link.", "failed");
    return;
  }
  function send() {
    retry.hidden = true;
    show("Linking your Imgur account", "Checking with Imgur\\u2026");
    fetch("token", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(payload),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer"
    }).then(function (response) {
      return response.json();
    }).then(function (result) {
      show(result.title, result.message, result.ok ? "linked" : "failed");
      if (result.retry) { retry.hidden = false; } else { payload = null; }
    }).catch(function () {
      show("Something went wrong", "The bot did not answer. Try again in a minute.", "failed");
      retry.hidden = false;
    });
  }
  retry.addEventListener("click", send);
  send();
})();
"""


def _source_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        f"script-src {_source_hash(FRAGMENT_SCRIPT)}",
        f"style-src {_source_hash(STYLE)}",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

_NOSCRIPT = (
    "<noscript><p>This page needs JavaScript to finish linking. Without it, copy the whole "
    "address from the address bar and paste it into <code>/imgur pin</code> in Discord."
    "</p></noscript>"
)


def render_page(title: str, message: str, *, result: str | None = None) -> str:
    """A result page; ``result`` ("linked" or "failed") is for whoever checks it."""
    return _page(title, message, result=result, script=False)


def render_token_page() -> str:
    """The page Imgur's ``token`` redirect lands on; its script finishes the link."""
    return _page(
        "Linking your Imgur account", "One moment\N{HORIZONTAL ELLIPSIS}", result=None, script=True
    )


def render_confirm_page(member: str, authorize_url: str, expires: str) -> str:
    """The page a ``code``/``token`` link opens first: whose the link is, then on to Imgur.

    ``member`` names the Discord member the attempt belongs to ("Alice (@alice) on Discord",
    "the Discord user with the id 123"); ``expires`` says until when
    the link works. Both are escaped here; ``authorize_url`` is Imgur's, with the state.
    """
    name = escape(member)
    body = (
        f'<p id="member-note"><strong id="member">{name}</strong> asked the '
        "bot for this link. If you continue and allow access on Imgur, the Imgur account you "
        "are signed in to there is linked to that Discord member, and the bot shows them its "
        "favorites.</p>\n"
        '<p class="warning" id="warning">If you are not that member, or someone sent you this '
        "link, stop here and close this tab.</p>\n"
        f'<p><a class="continue" id="continue" href="{escape(authorize_url)}" '
        'rel="noreferrer noopener">Continue to Imgur</a></p>\n'
        f'<p id="expires">This link works until {escape(expires)}.</p>'
    )
    return _page(
        "Link your Imgur account?",
        "",
        result="confirm",
        script=False,
        heading=f"Link your Imgur account to {member}?",
        body=body,
    )


def _page(
    title: str,
    message: str,
    *,
    result: str | None,
    script: bool,
    heading: str | None = None,
    body: str | None = None,
) -> str:
    result_attribute = f' data-result="{escape(result)}"' if result else ""
    extra = f"{_NOSCRIPT}\n<script>{FRAGMENT_SCRIPT}</script>" if script else ""
    content = (
        body
        if body is not None
        else (
            f'<p id="message">{escape(message)}</p>\n'
            '<p><button id="retry" type="button" hidden>Try again</button></p>'
        )
    )
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body{result_attribute}>\n<main>\n"
        f'<h1 id="title">{escape(heading if heading is not None else title)}</h1>\n'
        f"{content}\n{extra}\n</main>\n</body>\n</html>\n"
    )
