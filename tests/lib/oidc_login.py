"""Sign in to the portal through mod_auth_openidc and the local OpenID provider
(conf/oidc/provider.mjs), the way a browser without JavaScript does. Python 3 standard library
only.

    opener = sign_in("http://127.0.0.1:8080", "alice@contoso.example", "alice", "/en/")
    status, body = fetch(opener, "http://127.0.0.1:8080/stp/whoami")
    sign_out(opener, "http://127.0.0.1:8080")

sign_in() starts at /stp/login?return=..., follows the redirects to the provider, fills in its
sign-in form, follows the redirects back through the redirect URI (/stp/oidc-callback) and
returns the opener that keeps the cookies (mod_auth_openidc's session among them). Only
loopback hosts and the portal's own host are followed; anything else raises. The final answer
is on the opener: opener.final_url, opener.final_status, opener.final_body.

Command line:  python3 tests/lib/oidc_login.py BASE LOGIN PASSWORD [RETURN] [--whoami]
prints the final URL and status (and with --whoami the body of BASE/stp/whoami)."""

import html.parser
import http.cookiejar
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 15
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class SignInError(Exception):
    """The sign-in did not go as expected; the message says where and what the server said."""


class _Forms(html.parser.HTMLParser):
    """The forms of a page (action, method, fields) and the text of its .error elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.errors = []
        self._form = None
        self._error_depth = 0
        self._error_text = []
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        self._depth += 1
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                          "fields": [], "names": set()}
            self.forms.append(self._form)
        elif tag in ("input", "button") and self._form is not None:
            name = a.get("name")
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            if name:
                self._form["names"].add(name)
                if kind not in ("submit", "button", "image", "reset", "checkbox", "radio") or "checked" in a:
                    self._form["fields"].append((name, a.get("value", ""), kind))
        if not self._error_depth and "error" in a.get("class", "").split():
            self._error_depth = self._depth
            self._error_text = []
        if tag in ("input", "br", "meta", "link", "img", "hr"):
            self._depth -= 1  # void elements have no end tag

    def handle_startendtag(self, tag, attrs):
        # <input ... /> and the like: in HTML the slash changes nothing.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        if self._error_depth and self._depth == self._error_depth:
            self.errors.append(" ".join("".join(self._error_text).split()))
            self._error_depth = 0
        self._depth -= 1

    def handle_data(self, data):
        if self._error_depth:
            self._error_text.append(data)


def _parse(body):
    p = _Forms()
    p.feed(body)
    p.close()
    return p


def _short(url, limit=160):
    """A URL for messages: long query strings (ID tokens, ...) cut short."""
    return url if len(url) <= limit else url[:limit] + "..."


def _text_excerpt(body, limit=400):
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", body)
    text = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    return text[:limit]


class _LoopbackRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, allowed_hosts):
        super().__init__()
        self.allowed_hosts = allowed_hosts

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self.last_url = newurl
        parts = urllib.parse.urlsplit(newurl)
        if parts.scheme not in ("http", "https") or parts.hostname not in self.allowed_hosts:
            raise SignInError(f"refusing to follow a redirect from {_short(req.full_url)} to {_short(newurl)} "
                              "(only loopback and the portal's host)")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def make_opener(base_url):
    """An opener that keeps cookies and follows redirects to loopback and the portal's host only."""
    host = urllib.parse.urlsplit(base_url).hostname
    jar = http.cookiejar.CookieJar()
    redirects = _LoopbackRedirects(LOOPBACK | {host})
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), redirects)
    opener.redirects = redirects
    # mod_auth_openidc answers 401 instead of redirecting to the provider unless Accept names
    # text/html, application/xhtml+xml or */*, as browsers' do.
    opener.addheaders = [("User-Agent", "stp-tests-oidc-login/1"),
                         ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"), ("Accept-Language", "en")]
    opener.cookiejar = jar
    return opener


def _open(opener, url, data=None):
    """(final URL, status, body) after redirects; 4xx/5xx answers are returned, not raised."""
    redirects = getattr(opener, "redirects", None)
    if redirects is not None:
        redirects.last_url = None
    req = urllib.request.Request(url, data=data)
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with opener.open(req, timeout=TIMEOUT) as resp:
            return resp.geturl(), resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        with err:
            body = err.read().decode("utf-8", "replace")
        return err.geturl(), err.code, body
    except urllib.error.URLError as err:
        last = redirects is not None and redirects.last_url
        where = f"{_short(last)} (redirected from {_short(url)})" if last else _short(url)
        raise SignInError(f"{where}: {err.reason}") from None


def fetch(opener, url, data=None):
    """GET (or POST a dict/bytes as a form) with the opener: (status, body), errors included."""
    if isinstance(data, dict):
        data = urllib.parse.urlencode(data).encode()
    _, status, body = _open(opener, url, data)
    return status, body


def _login_form(forms):
    for form in forms:
        if form["method"] == "post" and {"login", "password"} <= form["names"]:
            return form
    return None


def sign_in(base_url, login, password, return_path="/en/", opener=None):
    """Sign in as login/password and land on return_path; returns the cookie-keeping opener."""
    base_url = base_url.rstrip("/")
    base = urllib.parse.urlsplit(base_url)
    opener = opener or make_opener(base_url)
    start = f"{base_url}/stp/login?return={urllib.parse.quote(return_path, safe='')}"

    url, status, body = _open(opener, start)
    here = urllib.parse.urlsplit(url)
    if (here.scheme, here.netloc) == (base.scheme, base.netloc):
        # Still at the portal: either signed in already (a session cookie in the opener) or an error.
        if status == 200 and not here.path.startswith("/stp/"):
            return _finish(opener, url, status, body)
        raise SignInError(f"GET {start} did not lead to the provider's sign-in form: ended at {_short(url)} "
                          f"with {status}: {_text_excerpt(body)}")

    page = _parse(body)
    form = _login_form(page.forms)
    if form is None:
        detail = "; ".join(page.errors) or _text_excerpt(body)
        raise SignInError(f"no sign-in form (fields login and password, method post) at {_short(url)} "
                          f"({status}): {detail}")
    fields = [(n, v) for n, v, kind in form["fields"] if n not in ("login", "password")]
    fields += [("login", login), ("password", password)]
    action = urllib.parse.urljoin(url, form["action"] or url)

    url, status, body = _open(opener, action, urllib.parse.urlencode(fields).encode())
    here = urllib.parse.urlsplit(url)
    if (here.scheme, here.netloc) != (base.scheme, base.netloc):
        page = _parse(body)
        detail = "; ".join(page.errors) or _text_excerpt(body)
        raise SignInError(f"the provider refused the sign-in of {login!r} ({status} at {_short(url)}): {detail}")
    if here.path.startswith("/stp/oidc-callback") or here.path.startswith("/stp/login"):
        raise SignInError(f"the portal did not complete the sign-in of {login!r} ({status} at {_short(url)}): "
                          f"{_text_excerpt(body)}")
    return _finish(opener, url, status, body)


def _finish(opener, url, status, body):
    opener.final_url = url
    opener.final_status = status
    opener.final_body = body
    return opener


def sign_out(opener, base_url):
    """Sign out as a browser does: the button of /stp/logout (a POST with its CSRF token), then
    mod_auth_openidc's logout and the provider's end-session page (its form submitted as a
    browser's JavaScript would). Returns (final URL, status); raises SignInError when the
    provider refuses the logout or it does not end back at the portal."""
    base_url = base_url.rstrip("/")
    base = urllib.parse.urlsplit(base_url)
    url, status, body = _open(opener, base_url + "/stp/logout")
    form = next((f for f in _parse(body).forms if f["method"] == "post"
                 and urllib.parse.urlsplit(urllib.parse.urljoin(url, f["action"])).path == "/stp/logout"), None)
    if status != 200 or form is None:
        raise SignInError(f"no sign-out form at {_short(url)} ({status}): {_text_excerpt(body)}")
    fields = [(n, v) for n, v, _ in form["fields"]]
    url, status, body = _open(opener, base_url + "/stp/logout", urllib.parse.urlencode(fields).encode())
    here = urllib.parse.urlsplit(url)
    if (here.scheme, here.netloc) != (base.scheme, base.netloc):
        page = _parse(body)
        confirm = next((f for f in page.forms if f["method"] == "post"
                        and any(n == "xsrf" for n, _, _ in f["fields"])), None)
        if confirm is None:
            detail = "; ".join(page.errors) or _text_excerpt(body)
            raise SignInError(f"the provider did not end the session ({status} at {_short(url)}): {detail}")
        fields = [(n, v) for n, v, _ in confirm["fields"]]
        url, status, body = _open(opener, urllib.parse.urljoin(url, confirm["action"]),
                                  urllib.parse.urlencode(fields).encode())
        here = urllib.parse.urlsplit(url)
        if (here.scheme, here.netloc) != (base.scheme, base.netloc):
            page = _parse(body)
            detail = "; ".join(page.errors) or _text_excerpt(body)
            raise SignInError(f"the sign-out did not return to the portal ({status} at {_short(url)}): {detail}")
    return url, status


def main(argv):
    args = [a for a in argv[1:] if a != "--whoami"]
    if len(args) not in (3, 4) or any(a.startswith("-") for a in args):
        print(f"usage: {argv[0]} BASE LOGIN PASSWORD [RETURN] [--whoami]", file=sys.stderr)
        return 2
    base, login, password = args[:3]
    return_path = args[3] if len(args) == 4 else "/en/"
    try:
        opener = sign_in(base, login, password, return_path)
    except SignInError as err:
        print(f"sign-in failed: {err}", file=sys.stderr)
        return 1
    print(opener.final_url, opener.final_status)
    if "--whoami" in argv[1:]:
        status, body = fetch(opener, base.rstrip("/") + "/stp/whoami")
        print(body.rstrip("\n") if status == 200 else f"whoami: {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
