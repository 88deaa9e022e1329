#!/usr/bin/env python3
"""Organisation settings and roles (issue 13) over a real httpd with the built module: the role
matrix (who may view and change /stp/admin, download tenant and NDA documents and see the
organisation's recommendations), CSRF, bad input, organisation domains, assigned mode, the audit
list on the page, search pre-selection, and `stpctl audit`. Usage: admin.py prefork|event  (TAP).

Content: the gate fixture plus what add_content() writes (a second industry and region, documents
tagged with them, a tenant domain in site.xml). Accounts: ACCOUNTS below, claims through the test
server's X-Test-* headers (tests/integration/httpd.conf.in), each with its own stp_sid session.

Tenants: t1 stays `open` (the server's StpTenantAccessDefault); t2 is switched to `assigned` by its
administrator tara, who lists bob (as BOB@T2.EXAMPLE: addresses compare case-insensitively) and
not dan; t3 is a third organisation (ed); sam is portal-wide staff (StpStaffClaim roles
PortalStaff); t4 holds the bulk test (more than ~1000 people)."""

import base64
import csv
import hashlib
import html.parser
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harness  # noqa: E402
from harness import request  # noqa: E402

PASSWORD = "pw"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def acct(sub, tid=None, email=None, roles=None, verified="true"):
    h = {"X-Test-Sub": sub}
    if tid:
        h["X-Test-Tid"] = tid
    if email:
        h["X-Test-Email"] = email
        h["X-Test-Email-Verified"] = verified
    if roles:
        h["X-Test-Roles"] = roles
    return h


# The rows of the role matrix (issue 13), then the accounts that set the scene.
ACCOUNTS = {
    "anonymous": {},
    "personal": acct("pat", email="pat@example.net"),
    "open-member": acct("alice", "t1", "alice@t1.example"),
    "assigned-listed": acct("bob", "t2", "bob@t2.example"),
    "assigned-unlisted": acct("dan", "t2", "dan@t2.example"),
    "portal-user": acct("uma", "t1", "uma@t1.example"),
    "portal-admin": acct("paula", "t1", "paula@t1.example"),
    "administrator": acct("carol", "t1", "carol@t1.example", "Reader,GlobalAdmin"),
    "staff": acct("sam", "vendor", "sam@vendor.example", "PortalStaff"),
    "other-tenant": acct("ed", "t3", "ed@t3.example"),
    # The scene: t2's administrator; a t1 member whose verified address brings a second domain; a t1
    # member whose address is not verified (its domain must not count); t4's administrator.
    "t2admin": acct("tara", "t2", "tara@t2.example", "GlobalAdmin"),
    "erin": acct("erin", "t1", "erin@t1-mail.example"),
    "mallory": acct("mallory", "t1", "mallory@t1-unverified.example", verified="false"),
    "t4admin": acct("vic", "t4", "vic@t4.example", "GlobalAdmin"),
    # t5's administrator, for concurrent changes.
    "t5admin": acct("quinn", "t5", "quinn@t5.example", "GlobalAdmin"),
    # A t1 member made portal admin, demoted and revoked again.
    "pete": acct("pete", "t1", "pete@t1.example"),
    # A t1 administrator whose verified address a spreadsheet would read as a formula (stpctl audit).
    "formula": acct("=formula", "t1", "=formula@t1.example", "GlobalAdmin"),
}
for _i, _h in enumerate(ACCOUNTS.values()):
    if "X-Test-Sub" in _h:
        _h["Authorization"] = "Basic " + base64.b64encode(f"{_h['X-Test-Sub']}:{PASSWORD}".encode()).decode()
        _h["Cookie"] = "stp_sid=%032x" % (0xad0100 + _i)
ROWS = ["anonymous", "personal", "open-member", "assigned-listed", "assigned-unlisted", "portal-user",
        "portal-admin", "administrator", "staff", "other-tenant"]
# The organisation whose settings each row acts on (staff: t1 through ?tenant=t1).
TARGET = {"anonymous": "t1", "personal": "t1", "open-member": "t1", "assigned-listed": "t2",
          "assigned-unlisted": "t2", "portal-user": "t1", "portal-admin": "t1", "administrator": "t1",
          "staff": "t1", "other-tenant": "t1"}
# Who sends tenant=t1 (in the URL and the forms): staff, and the outsider trying t1.
TENANT_FIELD = {"staff": "t1", "other-tenant": "t1"}
# The tenant document each row tries: its own organisation's, else t1's.
TENANT_DOC = {"assigned-listed": "t2-pack", "assigned-unlisted": "t2-pack"}

# The role matrix: expected status per row and column. 303 = done (and the GET shows it), 404 = the
# unknown URL's answer, 403 = allowed to see but not to do this. "302L": redirect to sign in.
# Downloads of the NDA document are asked after every signed-in row but dan accepted the NDA.
# Recommendations: whether /<lang>/ has the section id="recommended".
COLUMNS = ["view", "industries", "mode", "add-admin", "add-user", "revoke", "revoke-claim-admin", "tenant-doc",
           "nda-doc", "recommendations"]
N4 = [404] * 7
MATRIX = {
    "anonymous":         N4 + [404, "302L", False],
    "personal":          N4 + [404, 403, False],
    "open-member":       N4 + [200, 200, True],
    "assigned-listed":   N4 + [200, 200, True],
    "assigned-unlisted": N4 + [404, 403, False],
    "portal-user":       N4 + [200, 200, True],
    "portal-admin":      [200, 303, 303, 403, 303, 303, 403, 200, 200, True],
    "administrator":     [200, 303, 303, 303, 303, 303, 403, 200, 200, True],
    "staff":             [200, 303, 303, 303, 303, 303, 403, 404, 200, False],
    "other-tenant":      N4 + [404, 200, False],
}

# Vocabulary: the gate fixture declares industry finance and region eu; add_content adds these.
INDUSTRIES = ["finance", "healthcare"]
REGIONS = ["eu", "us"]
# Documents tagged for the recommendations: id -> (access, tenant, months ago, industries, regions, series)
REC_DOCS = {
    "rec-fin-new": ("public", None, 1, ["finance"], [], None),
    "t1-rec-fin": ("tenant", "t1", 2, ["finance"], [], None),
    "t2-rec-fin": ("tenant", "t2", 2, ["finance"], [], None),
    "rec-eu-old": ("signin", None, 3, [], ["eu"], None),
    "rec-health": ("public", None, 1, ["healthcare"], ["us"], None),
    "fin-series-2026": ("public", None, 4, ["finance"], [], ("fin-series", "2026")),
    "fin-series-2025": ("public", None, 5, ["finance"], [], ("fin-series", "2025")),  # superseded
}
# What each organisation's members should find under id="recommended", newest first.
REC_T1 = ["rec-fin-new", "t1-rec-fin", "rec-eu-old", "fin-series-2026"]  # t1: finance + eu
REC_T2 = ["rec-fin-new", "t2-rec-fin", "fin-series-2026"]  # t2: finance only

DOC = """<?xml version="1.0" encoding="UTF-8"?>
<document id="{id}"{series}>
  <published>@TODAY-{months}@</published>
  <tile ref="audits"/>
  {access}
  <title xml:lang="en">{title}</title>
  <summary xml:lang="en">Summary of {title}.</summary>
  {regions}{industries}
  <files><file href="{id}.txt" type="text/plain"/></files>
</document>
"""


def add_content(content):
    """The gate fixture plus: a second industry and region, t1's configured domain, and REC_DOCS."""
    site = os.path.join(content, "site.xml")
    with open(site, encoding="utf-8") as fh:
        s = fh.read()
    before = s
    s = s.replace("</industries>", '<industry id="healthcare"><label xml:lang="en">Healthcare</label></industry>'
                  "</industries>", 1)
    s = s.replace("</regions>", '<region id="us"><label xml:lang="en">United States</label></region></regions>', 1)
    s = s.replace('<label xml:lang="en">Tenant One</label></tenant>',
                  '<label xml:lang="en">Tenant One</label><domain>t1-corp.example</domain></tenant>', 1)
    s = s.replace("</tenants>", '<tenant id="t3"><label xml:lang="en">Tenant Three</label></tenant>'
                  '<tenant id="t4"><label xml:lang="en">Tenant Four</label></tenant></tenants>', 1)
    if s.count("<industry id=") != 2 or s.count("<region id=") != 2 or "t1-corp.example" not in s or s == before:
        raise RuntimeError("the gate fixture's site.xml changed: add_content() needs updating")
    with open(site, "w", encoding="utf-8") as fh:
        fh.write(s)
    for doc_id, (level, tenant, months, industries, regions, series) in REC_DOCS.items():
        d = os.path.join(content, "docs", doc_id)
        os.makedirs(d)
        access = (f'<access level="tenant"><tenant ref="{tenant}"/></access>' if tenant
                  else f'<access level="{level}"/>')
        title = "Recommended " + doc_id
        with open(os.path.join(d, "doc.xml"), "w", encoding="utf-8") as fh:
            fh.write(DOC.format(
                id=doc_id, months=months, access=access, title=title,
                series=f' series="{series[0]}" version="{series[1]}"' if series else "",
                regions="<regions>" + "".join(f'<region ref="{r}"/>' for r in regions) + "</regions>" if regions else "",
                industries="<industries>" + "".join(f'<industry ref="{i}"/>' for i in industries) + "</industries>"
                if industries else ""))
        with open(os.path.join(d, f"{doc_id}.txt"), "w", encoding="utf-8") as fh:
            fh.write(f"The file of {doc_id}.\n")
        with open(os.path.join(d, "en.md"), "w", encoding="utf-8") as fh:
            fh.write(f"# {title}\n\nTagged for the recommendations.\n")


# --- HTML ---------------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], []

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def all_text(self):
        return " ".join(" ".join(n.text) for n in self.walk())

    def find_all(self, pred):
        return [n for n in self.walk() if pred(n)]


class Tree(html.parser.HTMLParser):
    """A forgiving DOM: enough to find forms, their fields, rows with data-* and an element by id."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text.append(data)

    def by_id(self, ident):
        found = self.root.find_all(lambda n: n.attrs.get("id") == ident)
        return found[0] if found else None


def fields_of(form):
    """name -> list of (type, value, checked) of a form's inputs, selects (each option) and buttons."""
    out = {}
    for n in form.walk():
        if n.tag in ("input", "button", "textarea") and n.attrs.get("name"):
            out.setdefault(n.attrs["name"], []).append(
                (n.attrs.get("type", "text" if n.tag != "button" else "submit"), n.attrs.get("value", ""),
                 "checked" in n.attrs))
        elif n.tag == "select" and n.attrs.get("name"):
            for o in n.find_all(lambda x: x.tag == "option"):
                out.setdefault(n.attrs["name"], []).append(("option", o.attrs.get("value", ""), "selected" in o.attrs))
    return out


class AdminPage:
    """What /stp/admin shows: its forms by action, people, the checked choices, the token, audit rows."""

    def __init__(self, text):
        self.text = text
        self.tree = Tree(text)
        self.forms = []
        # The page's own forms (the header's sign-out and search forms are not the settings').
        for f in self.tree.root.find_all(lambda n: n.tag == "form" and n.attrs.get("action", "").split("?")[0]
                                         == "/stp/admin"):
            fl = fields_of(f)
            action = [v for (_, v, _) in fl.get("action", [])]
            self.forms.append((f, fl, action[0] if action else None))
        self.people = {}
        for n in self.tree.root.find_all(lambda n: "data-email" in n.attrs and "data-role" in n.attrs):
            self.people[n.attrs["data-email"].lower()] = n.attrs["data-role"]
        self.rows = self.tree.root.find_all(lambda n: "data-email" in n.attrs and "data-role" in n.attrs)

    def form(self, action):
        for f, fl, a in self.forms:
            if a == action:
                return f, fl
        return None, {}

    def token(self):
        for _, fl, _ in self.forms:
            for (_, v, _) in fl.get("csrf", []):
                if v:
                    return v
        return None

    def checked(self, name):
        _, fl = self.form("settings")
        return sorted(v for (typ, v, c) in fl.get(name, []) if typ == "checkbox" and c)

    def offered(self, name):
        _, fl = self.form("settings")
        return sorted(v for (typ, v, _) in fl.get(name, []) if typ == "checkbox")

    def mode(self):
        _, fl = self.form("mode")
        on = [v for (typ, v, c) in fl.get("mode", []) if typ == "radio" and c]
        return on[0] if len(on) == 1 else on

    def state(self):
        """What a change could alter: choices, mode and people."""
        return {"industry": self.checked("industry"), "region": self.checked("region"), "mode": self.mode(),
                "people": dict(sorted(self.people.items()))}

    def audit_rows(self):
        el = self.tree.by_id("audit")
        if el is None:
            return None
        rows = el.find_all(lambda n: n.tag == "tr" and n.find_all(lambda c: c.tag == "td"))
        if not rows:
            rows = el.find_all(lambda n: n.tag == "li")
        return rows


DOC_LINK = re.compile(r'href="/(?:[a-z]{2}/(?:org/)?docs|download)/([a-z0-9-]+)')


def recommended(text):
    """The document ids in the element with id="recommended", in page order; None without it."""
    el = Tree(text).by_id("recommended")
    if el is None:
        return None
    ids = []
    for n in el.walk():
        href = n.attrs.get("href", "")
        m = DOC_LINK.match(f'href="{href}')
        if m and m.group(1) not in ids:
            ids.append(m.group(1))
    return ids


# --- the suite ----------------------------------------------------------------------------------

class Admin:
    EXTRA = "StpStaffClaim roles PortalStaff\nStpSiteCheckInterval 0"

    def __init__(self, tap, mpm):
        self.tap, self.mpm = tap, mpm
        self.run = harness.make_run_dir(f"stp-admin-{mpm}.")
        self.content = harness.copy_fixture("gate", os.path.join(self.run, "content"), extend=add_content)
        self.site = os.path.join(self.run, "site")
        harness.publish(self.content, self.site)
        self.port, self.port2 = harness.free_port(), harness.free_port()
        with open(os.path.join(self.run, "users"), "w", encoding="ascii") as fh:
            sha = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
            fh.writelines(f"{h['X-Test-Sub']}:{{SHA}}{sha}\n" for h in ACCOUNTS.values() if "X-Test-Sub" in h)
        self.httpd = self.make_httpd(self.EXTRA)

    def make_httpd(self, extra):
        return harness.Httpd(self.run, "tests/integration/httpd.conf.in",
                             {"PORT": self.port, "PORT2": self.port2, "MPM": self.mpm, "EXTRA": extra})

    # --- requests --------------------------------------------------------------------------------

    def get(self, path, who="anonymous", headers=None, method="GET", body=None):
        h = dict(ACCOUNTS[who])
        extra = dict(headers or {})
        replace = extra.pop("replace-cookie", None)  # another browser session instead of the account's
        if "Cookie" in extra and "Cookie" in h and not replace:
            extra["Cookie"] = extra["Cookie"] + "; " + h["Cookie"]
        h.update(extra)
        return request(self.port, method, path, h, body)

    def admin_url(self, who, tenant=None):
        t = tenant or TENANT_FIELD.get(who)
        return "/stp/admin" + (f"?tenant={t}" if t else "")

    def page(self, who="administrator", tenant=None):
        r = self.get(self.admin_url(who, tenant), who)
        if r.status != 200:
            raise AssertionError(f"GET {self.admin_url(who, tenant)} as {who}: {r.status}: {r.text[:300]}")
        return AdminPage(r.text)

    def org_state(self, tenant):
        """A tenant's settings as its administrator (or staff) sees them."""
        who = {"t1": "administrator", "t2": "t2admin", "t4": "t4admin"}.get(tenant)
        return self.page(who).state() if who else self.page("staff", tenant).state()

    def token(self, who, tenant=None):
        r = self.get(self.admin_url(who, tenant), who)
        return AdminPage(r.text).token() if r.status == 200 else None

    def post(self, who, fields, csrf=True, tenant=None, raw=None, headers=None):
        """POST /stp/admin as who; csrf=True takes the token from who's own page (none when not allowed)."""
        if raw is not None:
            body = raw
        else:
            fields = list(fields.items()) if isinstance(fields, dict) else list(fields)
            t = tenant or TENANT_FIELD.get(who)
            if t:
                fields.append(("tenant", t))
            if csrf is True:
                tok = self.token(who, tenant)
                if tok:
                    fields.append(("csrf", tok))
            elif csrf:
                fields.append(("csrf", csrf))
            body = urllib.parse.urlencode(fields).encode()
        return self.get("/stp/admin", who, dict(FORM, **(headers or {})), "POST", body)

    def done(self, r):
        """A change was accepted: 303 to /stp/admin."""
        loc = r.header("location") or ""
        return r.status == 303 and loc.startswith("/stp/admin")

    def say(self, r):
        return f"status {r.status} location {r.header('location')} {r.text[:300]!r}"

    # --- steps -----------------------------------------------------------------------------------

    def scene(self):
        """Staff sees t1 before carol ever signed in; then everybody makes a signed-in request; carol
        lists paula (portal admin) and uma (portal user) and chooses finance + eu; tara switches t2 to
        assigned, chooses finance and lists BOB@T2.EXAMPLE."""
        t, m = self.tap, self.mpm
        p = self.page("staff", "t1")
        t.ok("carol@t1.example" not in p.people, f"{m}: before carol's first signed-in request t1 lists no administrator",
             p.people)
        for who in ACCOUNTS:
            if who != "anonymous":
                self.get("/stp/whoami", who)
        p = self.page("staff", "t1")
        t.eq("administrator", p.people.get("carol@t1.example"),
             f"{m}: after it carol is listed as administrator (data-role) for staff")
        p = self.page("administrator")
        t.eq("administrator", p.people.get("carol@t1.example"), f"{m}: ... and on her own page")
        t.eq("open", p.mode(), f"{m}: t1 starts in the StpTenantAccessDefault mode (open)")
        t.eq(INDUSTRIES, p.offered("industry"), f"{m}: the settings form offers the site's industries")
        t.eq(REGIONS, p.offered("region"), f"{m}: ... and regions")
        t.eq(([], []), (p.checked("industry"), p.checked("region")), f"{m}: ... none chosen yet")
        r = self.get("/stp/admin", "administrator")
        t.ok(r.header("cache-control") == "no-store" and "Cookie" in (r.header("vary") or "")
             and "frame-ancestors 'none'" in (r.header("content-security-policy") or "")
             and (r.header("content-type") or "").startswith("text/html"),
             f"{m}: /stp/admin is HTML, no-store, Vary: Cookie, framed by nobody", r.headers)
        r = self.get("/stp/admin?lang=de", "administrator")
        t.ok(r.status == 200 and 'lang="de"' in r.text[:300], f"{m}: /stp/admin?lang=de is in German", r.text[:300])
        _, fl = p.form("mode")
        t.eq(["assigned", "open"], sorted(v for (typ, v, _) in fl.get("mode", []) if typ == "radio"),
             f"{m}: the mode form has radios open and assigned")
        _, fl = p.form("add")
        roles = sorted({v for (_, v, _) in fl.get("role", [])})
        t.ok("email" in fl and roles == ["portal-admin", "portal-user"], f"{m}: the add form has email and role "
             "(portal-admin|portal-user)", fl)
        missing = [a for a in ("settings", "mode", "add") if p.form(a)[0] is None]
        t.eq([], missing, f"{m}: forms with hidden action settings, mode, add")
        bad = [a for (_, fl, a) in p.forms if a and not any(typ == "hidden" and v for (typ, v, _) in fl.get("csrf", []))]
        t.eq([], bad, f"{m}: every form carries a hidden csrf token")
        for email, role in (("paula@t1.example", "portal-admin"), ("uma@t1.example", "portal-user")):
            r = self.post("administrator", {"action": "add", "email": email, "role": role})
            t.ok(self.done(r), f"{m}: carol adds {email} as {role} -> 303 /stp/admin", self.say(r))
        p = self.page("administrator")
        t.eq({"carol@t1.example": "administrator", "paula@t1.example": "portal-admin", "uma@t1.example": "portal-user"},
             p.state()["people"], f"{m}: t1 lists carol, paula and uma with their roles")
        revokes = [fl for (_, fl, a) in p.forms if a == "revoke"]
        targets = sorted(v for fl in revokes for (_, v, _) in fl.get("email", []))
        t.eq(["paula@t1.example", "uma@t1.example"], targets,
             f"{m}: a revoke form per person, none for the claim administrator")
        r = self.post("administrator", [("action", "settings"), ("industry", "finance"), ("region", "eu")])
        t.ok(self.done(r), f"{m}: carol chooses finance and eu -> 303", self.say(r))
        s = self.org_state("t1")
        t.eq((["finance"], ["eu"]), (s["industry"], s["region"]), f"{m}: ... and the page shows them checked")
        for fields in ([("action", "mode"), ("mode", "assigned")], [("action", "settings"), ("industry", "finance")],
                       [("action", "add"), ("email", "BOB@T2.EXAMPLE"), ("role", "portal-user")]):
            r = self.post("t2admin", fields)
            t.ok(self.done(r), f"{m}: tara {dict(fields)} on t2 -> 303", self.say(r))
        s = self.org_state("t2")
        t.ok(s["mode"] == "assigned" and s["industry"] == ["finance"] and s["region"] == []
             and s["people"].get("bob@t2.example") == "portal-user"
             and s["people"].get("tara@t2.example") == "administrator" and "dan@t2.example" not in s["people"],
             f"{m}: t2 is assigned, finance, lists tara and bob and not dan", s)
        # The NDA for every signed-in row but dan (whose outcome the matrix checks without it).
        for who in ROWS + ["t2admin"]:
            if who in ("anonymous", "personal", "assigned-unlisted"):
                continue
            self.accept_nda(who)

    def accept_nda(self, who):
        r = self.get("/stp/nda?return=%2Fen%2F", who)
        m = re.search(r'action="/stp/nda">.*?name="csrf" value="([0-9a-f]+)"', r.text, re.S)
        if not m:
            self.tap.ok(False, f"{self.mpm}: {who} gets the NDA form", f"status {r.status}")
            return
        body = urllib.parse.urlencode({"csrf": m.group(1), "version": "v1", "return": "/en/", "lang": "en"}).encode()
        r = self.get("/stp/nda", who, FORM, "POST", body)
        self.tap.eq(303, r.status, f"{self.mpm}: {who} accepts the NDA")

    def matrix(self):
        for who in ROWS:
            try:
                self.matrix_row(who)
            except Exception as e:  # noqa: BLE001 - one row's failure does not hide the others'
                import traceback

                self.tap.ok(False, f"{self.mpm}: [{who}] matrix row aborted: {e}", traceback.format_exc())

    def matrix_row(self, who):
        t, m = self.tap, self.mpm
        if True:
            want = dict(zip(COLUMNS, MATRIX[who]))
            org = TARGET[who]
            name = f"{m}: [{who}]"
            # view settings
            r = self.get(self.admin_url(who), who)
            if want["view"] == 200:
                t.ok(r.status == 200 and AdminPage(r.text).form("settings")[0] is not None,
                     f"{name} GET {self.admin_url(who)} -> 200 with the settings form", self.say(r))
            else:
                unknown = self.get("/stp/no-such-page", who)
                t.ok(r.status == 404 and r.body == unknown.body,
                     f"{name} GET {self.admin_url(who)} -> the unknown URL's 404",
                     self.say(r))
                if who == "other-tenant":  # and his own organisation's, where he is no administrator
                    r = self.get("/stp/admin", who)
                    t.ok(r.status == 404 and r.body == unknown.body, f"{name} GET /stp/admin (t3) -> 404", self.say(r))
            self.change_settings(who, org, want["industries"])
            self.change_mode(who, org, want["mode"])
            self.add_person(who, org, "portal-admin", want["add-admin"])
            self.add_person(who, org, "portal-user", want["add-user"])
            self.revoke(who, org, want["revoke"])
            self.revoke_claim_admin(who, org, want["revoke-claim-admin"])
            # download a tenant document
            doc = TENANT_DOC.get(who, "t1-pack")
            r = self.get(f"/download/{doc}", who)
            if want["tenant-doc"] == 404:
                unknown = self.get("/download/no-such-doc", who)
                t.ok(r.status == 404 and r.body == unknown.body, f"{name} GET /download/{doc} -> 404 as an unknown id",
                     self.say(r))
            else:
                t.eq(want["tenant-doc"], r.status, f"{name} GET /download/{doc}")
            # download an NDA document
            r = self.get("/download/nda-pentest", who)
            if want["nda-doc"] == "302L":
                t.ok(r.status == 302 and (r.header("location") or "").startswith("/stp/login?"),
                     f"{name} GET /download/nda-pentest -> sign in", self.say(r))
            else:
                t.eq(want["nda-doc"], r.status, f"{name} GET /download/nda-pentest")
            # recommendations
            r = self.get("/en/", who)
            ids = recommended(r.text)
            if want["recommendations"]:
                exp = REC_T2 if org == "t2" else REC_T1
                t.ok(r.status == 200 and ids == exp, f"{name} /en/ recommends {exp}, newest first",
                     f"status {r.status}", f"got {ids}")
            else:
                t.ok(r.status == 200 and ids is None, f"{name} /en/ has no recommendations", f"status {r.status}",
                     f"got {ids}")
            # Nothing of the other organisation's recommendations, whatever the row.
            t.ok((ids is not None or not want["recommendations"])
                 and not {"t1-rec-fin", "t2-rec-fin"} & set(ids or []) - {f"{org}-rec-fin"},
                 f"{name} ... and none of another organisation's documents", ids)

    def expect(self, who, want, r, what, org, before):
        t, m = self.tap, self.mpm
        after = self.org_state(org)
        if want == 303:
            return t.ok(self.done(r), f"{m}: [{who}] {what} -> 303", self.say(r))
        t.ok(r.status == want and after == before, f"{m}: [{who}] {what} -> {want}, nothing changed", self.say(r),
             f"before {before}", f"after  {after}")
        return False

    def change_settings(self, who, org, want):
        before = self.org_state(org)
        r = self.post(who, [("action", "settings"), ("industry", "healthcare"), ("region", "us")])
        if self.expect(who, want, r, "POST settings healthcare+us", org, before):
            s = self.org_state(org)
            self.tap.eq((["healthcare"], ["us"]), (s["industry"], s["region"]),
                        f"{self.mpm}: [{who}] ... the page shows healthcare and us checked")
            r = self.post(who, [("action", "settings")] + [("industry", i) for i in before["industry"]]
                          + [("region", x) for x in before["region"]])
            self.tap.ok(self.done(r) and self.org_state(org) == before, f"{self.mpm}: [{who}] ... and back", self.say(r))

    def change_mode(self, who, org, want):
        before = self.org_state(org)
        other = "open" if before["mode"] == "assigned" else "assigned"
        r = self.post(who, {"action": "mode", "mode": other})
        if self.expect(who, want, r, f"POST mode {other}", org, before):
            self.tap.eq(other, self.org_state(org)["mode"], f"{self.mpm}: [{who}] ... the page shows {other}")
            r = self.post(who, {"action": "mode", "mode": before["mode"]})
            self.tap.ok(self.done(r) and self.org_state(org)["mode"] == before["mode"],
                        f"{self.mpm}: [{who}] ... and back", self.say(r))

    def add_person(self, who, org, role, want):
        email = f"new-{role}-{who}@{org}.example"
        before = self.org_state(org)
        r = self.post(who, {"action": "add", "email": email, "role": role})
        if self.expect(who, want, r, f"POST add {email} as {role}", org, before):
            self.tap.eq(role, self.org_state(org)["people"].get(email), f"{self.mpm}: [{who}] ... listed as {role}")
            if role == "portal-admin":  # carol takes it back (the revoke column revokes portal users)
                r = self.post("administrator", {"action": "revoke", "email": email})
                self.tap.ok(self.done(r) and email not in self.org_state(org)["people"],
                            f"{self.mpm}: [{who}] ... carol revokes {email}", self.say(r))

    def revoke(self, who, org, want):
        # Allowed rows revoke the portal user they added; the others try uma (t1) or bob (t2).
        email = f"new-portal-user-{who}@{org}.example" if want == 303 else {"t1": "uma@t1.example",
                                                                              "t2": "bob@t2.example"}[org]
        before = self.org_state(org)
        r = self.post(who, {"action": "revoke", "email": email})
        if self.expect(who, want, r, f"POST revoke {email}", org, before):
            self.tap.ok(email not in self.org_state(org)["people"], f"{self.mpm}: [{who}] ... {email} is gone")

    def revoke_claim_admin(self, who, org, want):
        admin = {"t1": "carol@t1.example", "t2": "tara@t2.example"}[org]
        before = self.org_state(org)
        r = self.post(who, {"action": "revoke", "email": admin})
        self.expect(who, want, r, f"POST revoke {admin} (claim administrator)", org, before)
        r = self.post(who, {"action": "role", "email": admin, "role": "portal-user"})
        self.expect(who, want, r, f"POST role {admin} -> portal-user (demote the claim administrator)", org, before)
        r = self.post(who, {"action": "revoke", "email": admin.upper()})
        self.expect(who, want, r, f"POST revoke {admin.upper()} (the same, other case)", org, before)

    def portal_admin_limits(self):
        """Portal admins manage portal users only; claim administrators manage portal admins."""
        t, m = self.tap, self.mpm
        r = self.post("administrator", {"action": "add", "email": "pia@t1.example", "role": "portal-admin"})
        t.ok(self.done(r), f"{m}: carol adds pia as a second portal admin", self.say(r))
        before = self.org_state("t1")
        for label, fields in (("revoke a portal admin", {"action": "revoke", "email": "pia@t1.example"}),
                              ("demote a portal admin", {"action": "role", "email": "pia@t1.example",
                                                         "role": "portal-user"}),
                              ("promote a portal user", {"action": "role", "email": "uma@t1.example",
                                                         "role": "portal-admin"}),
                              ("revoke herself", {"action": "revoke", "email": "paula@t1.example"})):
            r = self.post("portal-admin", fields)
            t.ok(r.status == 403 and self.org_state("t1") == before,
                 f"{m}: paula (portal admin) may not {label}: 403, nothing changed", self.say(r))
        r = self.post("portal-admin", {"action": "add", "email": "vera@t1.example", "role": "portal-user"})
        t.ok(self.done(r), f"{m}: paula adds a portal user", self.say(r))
        r = self.post("portal-admin", {"action": "role", "email": "vera@t1.example", "role": "portal-user"})
        t.ok(self.done(r), f"{m}: paula sets a portal user's role to portal-user", self.say(r))
        r = self.post("administrator", {"action": "role", "email": "vera@t1.example", "role": "portal-admin"})
        t.ok(self.done(r) and self.org_state("t1")["people"].get("vera@t1.example") == "portal-admin",
             f"{m}: carol promotes vera to portal admin", self.say(r))
        r = self.post("administrator", {"action": "role", "email": "Vera@T1.example", "role": "portal-user"})
        t.ok(self.done(r) and self.org_state("t1")["people"].get("vera@t1.example") == "portal-user",
             f"{m}: carol demotes her again, by the address in another case", self.say(r))
        for email in ("pia@t1.example", "VERA@t1.example"):
            r = self.post("administrator", {"action": "revoke", "email": email})
            t.ok(self.done(r) and email.lower() not in self.org_state("t1")["people"],
                 f"{m}: carol revokes {email}", self.say(r))
        # A portal admin's access follows the listing: demoted or revoked, the page is gone at once.
        t.eq(404, self.get("/stp/admin", "pete").status, f"{m}: pete (a member) GET /stp/admin -> 404")
        r = self.post("administrator", {"action": "add", "email": "pete@t1.example", "role": "portal-admin"})
        t.ok(self.done(r) and self.get("/stp/admin", "pete").status == 200,
             f"{m}: carol makes pete portal admin: his GET /stp/admin -> 200", self.say(r))
        pete_token = self.token("pete")
        r = self.post("administrator", {"action": "role", "email": "pete@t1.example", "role": "portal-user"})
        t.ok(self.done(r) and self.get("/stp/admin", "pete").status == 404,
             f"{m}: demoted to portal user: his GET /stp/admin -> 404", self.say(r))
        before = self.org_state("t1")
        r = self.post("pete", {"action": "mode", "mode": "assigned"}, csrf=pete_token)
        t.ok(r.status == 404 and self.org_state("t1") == before,
             f"{m}: ... and a POST with the token of his admin days -> 404, nothing changed", self.say(r))
        r = self.post("administrator", {"action": "role", "email": "pete@t1.example", "role": "portal-admin"})
        r2 = self.post("administrator", {"action": "revoke", "email": "pete@t1.example"})
        t.ok(self.done(r) and self.done(r2) and self.get("/stp/admin", "pete").status == 404
             and "pete@t1.example" not in self.org_state("t1")["people"],
             f"{m}: promoted again, then revoked: GET /stp/admin -> 404", self.say(r), self.say(r2))
        # The page offers no revoke control for the claim administrator, to anyone.
        for who in ("administrator", "portal-admin", "staff"):
            p = self.page(who)
            targets = [v for (_, fl, a) in p.forms if a == "revoke" for (_, v, _) in fl.get("email", [])]
            t.ok("carol@t1.example" not in [x.lower() for x in targets],
                 f"{m}: {who}'s page has no revoke form for carol", targets)
        p = self.page("staff")
        bad = [a for (_, fl, a) in p.forms if a and not [v for (typ, v, _) in fl.get("tenant", []) if v == "t1"]]
        t.eq([], bad, f"{m}: every form of staff's page carries tenant=t1")
        # Another organisation's administrator gets nothing of t1 and changes nothing there.
        before = self.org_state("t1")
        r = self.get("/stp/admin?tenant=t1", "t2admin")
        t.ok("carol@t1.example" not in r.text and "uma@t1.example" not in r.text,
             f"{m}: tara's /stp/admin?tenant=t1 shows nothing of t1 ({r.status})")
        r = self.post("t2admin", {"action": "mode", "mode": "assigned"}, tenant="t1")
        t.ok(self.org_state("t1") == before, f"{m}: tara's POST with tenant=t1 changes nothing of t1 ({r.status})",
             self.say(r))
        t.eq("assigned", self.org_state("t2")["mode"], f"{m}: ... (t2 stays assigned)")

    def csrf(self):
        t, m = self.tap, self.mpm
        before = self.org_state("t1")
        carol, paula = self.token("administrator"), self.token("portal-admin")
        lib = json.loads(self.get("/stp/library", "administrator", {"Accept": "application/json"}).body).get("token")
        change = {"action": "mode", "mode": "assigned"}
        cases = [("no", False, None), ("a wrong", "0" * len(carol or "0" * 80), None),
                 ("a malformed", "x", None), ("paula's (another user's)", paula, None),
                 ("a My Library (another form's)", lib, None),
                 ("another browser session's", carol, {"Cookie": "stp_sid=" + "7" * 32, "replace-cookie": 1})]
        for label, tok, hdrs in cases:
            for fields in (change, {"action": "add", "email": "csrf@t1.example", "role": "portal-user"},
                           {"action": "revoke", "email": "uma@t1.example"}, [("action", "settings")]):
                r = self.post("administrator", fields, csrf=tok, headers=hdrs)
                t.ok(r.status == 403 and self.org_state("t1") == before,
                     f"{m}: POST {dict(fields)['action']} with {label} token -> 403, nothing changed", self.say(r))
        r = self.get("/stp/admin?action=mode&mode=assigned&csrf=" + (carol or ""), "administrator")
        t.ok(self.org_state("t1") == before, f"{m}: a GET with the fields changes nothing ({r.status})")
        t.ok(carol and paula and carol != paula, f"{m}: tokens differ per user")

    def bad_input(self):
        t, m = self.tap, self.mpm
        before = self.org_state("t1")
        add = lambda e: {"action": "add", "email": e, "role": "portal-user"}  # noqa: E731
        cases = [
            ("an unknown industry", [("action", "settings"), ("industry", "mars")]),
            ("an unknown region", [("action", "settings"), ("industry", "finance"), ("region", "atlantis")]),
            ("an industry id as region", [("action", "settings"), ("region", "finance")]),
            ("an unknown action", {"action": "promote-everyone"}),
            ("no action", {"mode": "open"}),
            ("an unknown mode", {"action": "mode", "mode": "closed"}),
            ("no mode", {"action": "mode"}),
            ("an unknown role", {"action": "add", "email": "x1@t1.example", "role": "superuser"}),
            ("an unknown role in a role change", {"action": "role", "email": "uma@t1.example", "role": "owner"}),
            ("another organisation's domain", add("eve@t2.example")),
            ("a foreign domain", add("eve@evil.example")),
            ("a subdomain of the organisation's", add("eve@sub.t1.example")),
            ("the domain of an unverified e-mail claim", add("eve@t1-unverified.example")),
            ("an address without @", add("not-an-address")),
            ("an address with two @", add("a@b@t1.example")),
            ("an address without local part", add("@t1.example")),
            ("an address with a space", add("a b@t1.example")),
            ("an address with a newline", add("a@t1.example\nb@t1.example")),
            ("an empty address", add("")),
            ("no address", {"action": "add", "role": "portal-user"}),
            ("an oversize address (2,000 characters)", add("x" * 1990 + "@t1.example")),
            ("revoking someone not listed", {"action": "revoke", "email": "nobody@t1.example"}),
            ("an oversize role", {"action": "add", "email": "x2@t1.example", "role": "p" * 5000}),
        ]
        for label, fields in cases:
            r = self.post("administrator", fields)
            t.ok(r.status == 400 and "text/html" in (r.header("content-type") or "") and self.org_state("t1") == before,
                 f"{m}: {label} -> 400 (an HTML page), nothing stored", self.say(r))
        tok = self.token("administrator")
        raws = [("invalid UTF-8 in an address", b"action=add&role=portal-user&email=%ff%fe@t1.example"),
                ("invalid UTF-8 in an industry", b"action=settings&industry=fin%C3%28ance"),
                ("an overlong UTF-8 encoding", b"action=mode&mode=%C0%AFopen"),
                ("a NUL in an address", b"action=add&role=portal-user&email=a%00b@t1.example"),
                ("1,000 fields (a small body)", b"action=settings&" + b"&".join(b"industry=finance" for _ in range(1000))),
                ("10,001 fields", b"action=settings&" + b"&".join(b"industry=finance" for _ in range(10001))),
                ("10,000 addresses in one add", b"action=add&role=portal-user&"
                 + b"&".join(b"email=u%d@t1.example" % i for i in range(10000)))]
        for label, raw in raws:
            r = self.post("administrator", None, raw=raw + b"&csrf=" + tok.encode())
            t.ok(r.status == 400 and self.org_state("t1") == before, f"{m}: {label} -> 400, nothing stored",
                 self.say(r))
        # The domains the organisation does have: configured in site.xml, from a member's verified
        # claim, from the administrator's own, in any case.
        for email in ("kim@t1-corp.example", "kim@t1-mail.example", "Kim@T1.Example"):
            r = self.post("administrator", add(email))
            t.ok(self.done(r) and self.org_state("t1")["people"].get(email.lower()) == "portal-user",
                 f"{m}: {email} is one of t1's domains -> 303, listed", self.say(r))
            self.post("administrator", {"action": "revoke", "email": email})
        t.eq(before, self.org_state("t1"), f"{m}: ... and revoked again")

    def bulk(self):
        """More than ~1000 people in one organisation is refused with 400 (t4, its own tenant)."""
        t, m = self.tap, self.mpm
        tok = self.token("t4admin")
        statuses = []
        for i in range(1100):
            body = urllib.parse.urlencode({"action": "add", "email": f"p{i:04d}@t4.example", "role": "portal-user",
                                           "csrf": tok}).encode()
            r = self.get("/stp/admin", "t4admin", FORM, "POST", body)
            statuses.append(r.status)
            if r.status != 303:
                break
        first_refusal = len(statuses) - 1 if statuses[-1] != 303 else None
        t.ok(first_refusal is not None and 990 <= first_refusal <= 1010 and statuses[-1] == 400,
             f"{m}: t4 takes about 1000 people, then answers 400",
             f"{statuses.count(303)} accepted, then {statuses[-1]}")
        p = self.page("t4admin")
        t.eq(statuses.count(303) + 1, len(p.people), f"{m}: ... and lists exactly the ones accepted (and vic)")

    def concurrent(self):
        """16 clients of t5's administrator add 10 people each at once: every acknowledged add is
        listed, nothing else, and the audit of the page shows the adds."""
        t, m = self.tap, self.mpm
        tok = self.token("t5admin")
        barrier = threading.Barrier(16)
        acked, errors, lock = [], [], threading.Lock()

        def client(i):
            barrier.wait()
            for k in range(10):
                email = f"c{i:02d}-{k}@t5.example"
                body = urllib.parse.urlencode({"action": "add", "email": email, "role": "portal-user",
                                               "csrf": tok}).encode()
                r = self.get("/stp/admin", "t5admin", FORM, "POST", body)
                with lock:
                    (acked.append(email) if self.done(r) else errors.append(f"{email}: {r.status}"))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        t.eq([], errors, f"{m}: 160 concurrent adds in t5 are all acknowledged")
        people = self.page("t5admin").people
        t.eq(sorted(acked + ["quinn@t5.example"]), sorted(people), f"{m}: ... and t5 lists exactly them and quinn")

    def assigned_mode(self):
        """t2 is assigned: dan (unlisted) gets the 'ask your administrators' page, nothing of t2's,
        none of the NDA documents; public and sign-in documents stay; listing dan changes that."""
        t, m = self.tap, self.mpm
        dan = "assigned-unlisted"
        for path in ("/en/org/", "/stp/library", "/stp/notifications", "/download/nda-pentest", "/download/t1-nda-pack"):
            if path == "/download/t1-nda-pack":
                continue
            r = self.get(path, dan)
            t.ok(r.status == 403 and "tara@t2.example" in r.text and "text/html" in (r.header("content-type") or ""),
                 f"{m}: dan GET {path} -> 403 naming t2's administrator (tara@t2.example)", self.say(r))
        for path in ("/download/t2-pack", "/download/t2-rec-fin", "/download/t2-series-2026"):
            r = self.get(path, dan)
            t.ok(r.status == 404 and r.body == self.get("/download/no-such-doc", dan).body,
                 f"{m}: dan GET {path} -> the unknown id's 404", self.say(r))
        r = self.get("/en/org/docs/t2-pack/", dan)
        t.ok(r.status in (403, 404) and b"Tenant two pack" not in r.body,
             f"{m}: dan GET /en/org/docs/t2-pack/ shows nothing of it ({r.status})")
        for path in ("/download/public-report", "/download/signin-policy", "/download/rec-eu-old"):
            t.eq(200, self.get(path, dan).status, f"{m}: dan GET {path} -> 200 (public and sign-in stay)")
        r = self.get("/stp/nda?return=%2Fen%2F", dan)
        print(f"# {m}: (for information, the contract says nothing of it) dan GET /stp/nda -> {r.status}", flush=True)
        # bob, listed as BOB@T2.EXAMPLE, matched case-insensitively.
        for path, want in (("/download/t2-pack", 200), ("/en/org/", 200), ("/stp/library", 200)):
            t.eq(want, self.get(path, "assigned-listed").status, f"{m}: bob (listed in another case) GET {path}")
        r = self.get("/en/org/", "assigned-listed")
        t.eq(REC_T2, recommended(r.text), f"{m}: bob's /en/org/ recommends t2's documents, newest first")
        # Listing dan opens t2 to him; revoking closes it again.
        r = self.post("t2admin", {"action": "add", "email": "dan@t2.example", "role": "portal-user"})
        t.ok(self.done(r), f"{m}: tara lists dan", self.say(r))
        self.accept_nda(dan)
        for path in ("/download/t2-pack", "/en/org/", "/download/nda-pentest"):
            t.eq(200, self.get(path, dan).status, f"{m}: listed dan GET {path} -> 200")
        t.eq(REC_T2, recommended(self.get("/en/", dan).text), f"{m}: listed dan sees the recommendations")
        r = self.post("t2admin", {"action": "revoke", "email": "dan@t2.example"})
        t.ok(self.done(r), f"{m}: tara revokes dan", self.say(r))
        t.eq(404, self.get("/download/t2-pack", dan).status, f"{m}: revoked dan GET /download/t2-pack -> 404")
        t.eq(403, self.get("/download/nda-pentest", dan).status,
             f"{m}: revoked dan GET /download/nda-pentest -> 403 (even after accepting the NDA)")
        t.eq(None, recommended(self.get("/en/", dan).text), f"{m}: revoked dan sees no recommendations")
        # Back to open: every member again.
        r = self.post("t2admin", {"action": "mode", "mode": "open"})
        t.ok(self.done(r), f"{m}: tara switches t2 to open", self.say(r))
        t.eq(200, self.get("/download/t2-pack", dan).status, f"{m}: in open mode dan GET /download/t2-pack -> 200")
        r = self.post("t2admin", {"action": "mode", "mode": "assigned"})
        t.ok(self.done(r), f"{m}: and back to assigned", self.say(r))

    def org_pages(self):
        t, m = self.tap, self.mpm
        for who, want in (("open-member", REC_T1), ("administrator", REC_T1), ("portal-user", REC_T1)):
            r = self.get("/en/org/", who)
            t.ok(r.status == 200 and recommended(r.text) == want, f"{m}: {who} /en/org/ recommends {want}",
                 f"status {r.status}", recommended(r.text))
        r = self.get("/en/org/", "other-tenant")
        t.ok(r.status == 200 and recommended(r.text) is None, f"{m}: ed (t3, nothing chosen) /en/org/ has none",
             recommended(r.text))

    def search_prefill(self):
        t, m = self.tap, self.mpm

        def checked(text, name):
            tr = Tree(text)
            return sorted(n.attrs.get("value", "") for n in tr.root.walk()
                          if n.tag == "input" and n.attrs.get("name") == name and "checked" in n.attrs)

        r = self.get("/stp/search", "open-member")
        t.ok(r.status == 200 and checked(r.text, "industry") == ["finance"] and checked(r.text, "region") == ["eu"],
             f"{m}: alice's /stp/search starts with t1's finance and eu checked",
             f"{checked(r.text, 'industry')} {checked(r.text, 'region')}")
        alls = [n for n in Tree(r.text).root.walk() if (n.tag == "input" and n.attrs.get("name") == "all")
                or (n.tag == "a" and "all=1" in n.attrs.get("href", ""))]
        t.ok(alls, f"{m}: ... the page carries all=1 (clear filters)")
        # The pre-selected form submitted unchanged (its checked boxes and all=1) finds what the first
        # page found: the checkboxes say what is applied.
        def ids(target):
            r = self.get(target, "open-member", {"Accept": "application/json"})
            j = json.loads(r.body) if r.status == 200 else {}
            return j.get("total"), sorted(h.get("id") for h in j.get("results", []))

        first, submitted = ids("/stp/search"), ids("/stp/search?all=1&industry=finance&region=eu")
        t.ok(first[0] is not None and first == submitted,
             f"{m}: the pre-selected search finds the same as submitting its form unchanged",
             f"/stp/search: {first}", f"?all=1&industry=finance&region=eu: {submitted}")
        r = self.get("/stp/search?all=1", "open-member")
        t.ok(r.status == 200 and checked(r.text, "industry") == [] and checked(r.text, "region") == [],
             f"{m}: /stp/search?all=1 applies none", f"{checked(r.text, 'industry')} {checked(r.text, 'region')}")
        r = self.get("/stp/search?industry=healthcare", "open-member")
        t.ok(checked(r.text, "industry") == ["healthcare"] and checked(r.text, "region") == [],
             f"{m}: an explicit filter replaces the organisation's", checked(r.text, "industry"))
        for who in ("anonymous", "personal", "other-tenant", "assigned-unlisted"):
            r = self.get("/stp/search", who)
            t.ok(checked(r.text, "industry") == [] and checked(r.text, "region") == [],
                 f"{m}: {who}'s /stp/search starts without filters ({r.status})")

    def audit_page(self):
        t, m = self.tap, self.mpm
        p = self.page("administrator")
        rows = p.audit_rows()
        t.ok(rows is not None and 0 < len(rows) <= 100, f"{m}: t1's page lists its audit (id=audit)",
             None if rows is None else len(rows))
        text = p.tree.by_id("audit").all_text() if rows else ""
        t.ok("new-portal-user-administrator@t1.example" in text and "bob@t2.example" not in text.lower(),
             f"{m}: ... with t1's changes and none of t2's", text[:600])
        # 120 more changes: the page shows the last 100.
        tok = self.token("administrator")
        for i in range(60):
            for mode in ("assigned", "open"):
                self.get("/stp/admin", "administrator", FORM, "POST",
                         urllib.parse.urlencode({"action": "mode", "mode": mode, "csrf": tok}).encode())
        rows = self.page("administrator").audit_rows()
        t.eq(100, len(rows or []), f"{m}: after 120 more changes the page lists the last 100")
        t.eq("open", self.org_state("t1")["mode"], f"{m}: ... t1 is open again")

    def stpctl_audit(self):
        """stpctl audit STATE_DIR: every change and the NDA acceptances, CSV (formula guard) and JSON lines."""
        t, m = self.tap, self.mpm
        # Values that a spreadsheet would read as formulas: addresses starting with + and - (allowed
        # in a local part), and an administrator whose claimed address starts with = making a change.
        for email in ("+33@t1.example", "-2@t1.example"):
            r = self.post("administrator", {"action": "add", "email": email, "role": "portal-user"})
            t.ok(self.done(r), f"{m}: carol adds {email}", self.say(r))
        r = self.post("formula", [("action", "settings"), ("industry", "finance")])
        t.ok(self.done(r), f"{m}: the administrator =formula@t1.example changes t1's settings", self.say(r))
        state = os.path.join(self.run, "state")
        r = subprocess.run([harness.STPCTL, "audit", state], capture_output=True, text=True)
        rows = list(csv.reader(io.StringIO(r.stdout)))
        t.ok(r.returncode == 0 and len(rows) > 1, f"{m}: stpctl audit prints CSV", r.stderr[:500], r.stdout[:500])
        rc = subprocess.run([harness.STPCTL, "audit", "--format", "csv", state], capture_output=True, text=True)
        t.ok(rc.returncode == 0 and rc.stdout == r.stdout, f"{m}: --format csv is the default")
        cells = [c for row in rows[1:] for c in row]
        t.ok(len(rows) > 1 and not [c for c in cells if c[:1] in ("=", "+", "-", "@")],
             f"{m}: no CSV cell starts with = + - @", [c for c in cells if c[:1] in ("=", "+", "-", "@")][:10])
        for email in ("+33@t1.example", "-2@t1.example", "=formula@t1.example"):
            t.ok(any(c.startswith("'" + email) for c in cells), f"{m}: {email} is written with a leading apostrophe",
                 [c for c in cells if email in c][:5])
        flat = "\n".join(",".join(row) for row in rows)
        t.ok("new-portal-user-administrator@t1.example" in flat and "dan@t2.example" in flat,
             f"{m}: the CSV has t1's and t2's changes")
        nda_rows = [row for row in rows[1:] if any("alice" in c for c in row) and any("v1" == c or "nda" in c.lower()
                                                                                       for c in row)]
        t.ok(nda_rows, f"{m}: ... and alice's NDA acceptance", flat[-1500:])
        r = subprocess.run([harness.STPCTL, "audit", "--format", "jsonl", state], capture_output=True, text=True)
        objs, bad = [], []
        for line in r.stdout.splitlines():
            try:
                objs.append(json.loads(line))
            except ValueError:
                bad.append(line)
        t.ok(r.returncode == 0 and objs and not bad and all(isinstance(o, dict) for o in objs),
             f"{m}: --format jsonl prints one JSON object per line", bad[:3], r.stderr[:300])
        t.eq(len(rows) - 1, len(objs), f"{m}: ... as many records as the CSV")
        dumped = [json.dumps(o, ensure_ascii=False) for o in objs]
        t.ok(any("=formula@t1.example" in d for d in dumped) and not any("'=formula" in d or "'+33@" in d
                                                                          for d in dumped),
             f"{m}: ... with the values as they are (no formula guard in JSON)")
        t.ok(any("alice" in d and "v1" in d for d in dumped) and any("dan@t2.example" in d for d in dumped),
             f"{m}: ... the org changes and the NDA acceptances")
        changes = [o for o in objs if "new-portal-user-administrator@t1.example" in json.dumps(o)]
        t.ok(changes and all(any(k in o for k in ("before", "old")) and any(k in o for k in ("after", "new"))
                             and any(k in o for k in ("time", "when")) for o in changes),
             f"{m}: a change records who, what, when, before and after", changes[:2])
        r = subprocess.run([harness.STPCTL, "audit", "--format", "xml", state], capture_output=True, text=True)
        t.ok(rc.returncode == 0 and r.returncode == 2 and not r.stdout,
             f"{m}: stpctl audit --format xml -> usage error (2), nothing printed", r.stderr)
        missing = os.path.join(self.run, "no-such-state")
        r = subprocess.run([harness.STPCTL, "audit", missing], capture_output=True, text=True)
        t.ok(rc.returncode == 0 and r.returncode == 2 and r.stderr.strip() and not r.stdout
             and not os.path.exists(missing), f"{m}: stpctl audit without a state says so and creates nothing",
             r.stderr)

    def default_assigned(self):
        """Restarted with StpTenantAccessDefault assigned: t3, which never chose, is assigned; t1,
        which chose open, stays open."""
        t, m = self.tap, self.mpm
        self.httpd.stop()
        self.httpd = self.make_httpd(self.EXTRA + "\nStpTenantAccessDefault assigned")
        self.httpd.start()
        r = self.get("/en/org/", "other-tenant")
        t.eq(403, r.status, f"{m}: StpTenantAccessDefault assigned: ed (t3 never chose, unlisted) GET /en/org/ -> 403")
        t.eq(200, self.get("/download/t1-pack", "open-member").status,
             f"{m}: ... alice of t1 (chose open) still GET /download/t1-pack -> 200")
        t.eq("open", self.org_state("t1")["mode"], f"{m}: ... t1's page still says open")

    def no_crash(self):
        log = self.httpd.error_log()
        self.tap.ok(not re.search(r"exit signal (?!Killed)|AddressSanitizer|runtime error|\[\w*:(crit|alert|emerg)\]",
                                  log), f"{self.mpm}: no crash in the error log", log[-2000:])

    def run_all(self):
        self.httpd.start()
        try:
            for step in (self.scene, self.matrix, self.portal_admin_limits, self.csrf, self.bad_input,
                         self.concurrent, self.assigned_mode, self.org_pages, self.search_prefill, self.audit_page, self.bulk,
                         self.stpctl_audit, self.default_assigned, self.no_crash):
                try:
                    step()
                except Exception as e:  # noqa: BLE001 - one step's failure does not hide the others'
                    import traceback

                    self.tap.ok(False, f"{self.mpm}: step {step.__name__} aborted: {e}", traceback.format_exc())
        finally:
            self.httpd.stop()
            if os.environ.get("STP_KEEP") is None:
                shutil.rmtree(self.run, ignore_errors=True)


def main(tap):
    mpm = sys.argv[1] if len(sys.argv) > 1 else "event"
    Admin(tap, mpm).run_all()


if __name__ == "__main__":
    harness.main_guard(main)
