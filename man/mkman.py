#!/usr/bin/env python3
"""Writes the man pages from what they document, at build time, so that they cannot drift:

    mkman.py markdown NAME SECTION VERSION SUMMARY FILE.md   a page from a docs/ reference
    mkman.py help NAME SECTION VERSION SUMMARY PROGRAM        a page from PROGRAM --help
                                                              (and `PROGRAM CMD --help` for
                                                              each command its help points to)

The page goes to stdout. Only the Markdown that docs/ uses is understood: headings, paragraphs,
fenced code, lists, tables, inline code, emphasis and links. The date is SOURCE_DATE_EPOCH's, else
the source file's, so that a rebuild writes the same page. Python 3 standard library only."""

import datetime
import os
import re
import subprocess
import sys


def escape(text):
    """Plain text for roff: backslashes, and a leading dot or quote that would start a request."""
    return text.replace("\\", "\\e")


def line_safe(line):
    return "\\&" + line if line.startswith((".", "'")) else line


def code_text(text):
    """Text inside code: escaped, with minus signs that stay minus signs (options, paths)."""
    return escape(text).replace("-", "\\-")


INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])|\[([^\]]+)\]\(([^)]+)\)")


def inline(text):
    """Markdown inline markup to roff fonts; a link keeps its text (and an absolute URL)."""
    out, pos = [], 0
    for m in INLINE.finditer(text):
        out.append(escape(text[pos:m.start()]))
        code, bold, italic, label, url = m.groups()
        if code is not None:  # long JSON or paths may break after a comma or slash
            out.append("\\fB" + re.sub(r"([,/])(?=.)", r"\1\\:", code_text(code)) + "\\fR")
        elif bold is not None:
            out.append("\\fB" + inline(bold).replace("\\fR", "\\fB") + "\\fR")
        elif italic is not None:
            out.append("\\fI" + inline(italic).replace("\\fR", "\\fI") + "\\fR")
        else:
            out.append(inline(label))
            if url.startswith(("http://", "https://")):
                out.append(" <" + escape(url) + ">")
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def plain(text):
    """A heading's text without markup."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    return text.replace("`", "").replace("**", "")


def cells(row):
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)]


def table(rows, out):
    """A table as tagged paragraphs: the first cell is the tag, the others follow under their
    column names (roff tables do not fit a terminal for cells this long)."""
    head = cells(rows[0])
    for row in rows[2:]:
        c = cells(row)
        out.append(".TP")
        out.append(line_safe(inline(c[0]) if c[0] else "\\ "))
        first = True
        for name, value in zip(head[1:], c[1:]):
            if not value:
                continue
            if not first:
                out.append(".br")
            first = False
            label = "\\fI" + escape(name) + "\\fR: " if name else ""
            out.append(line_safe(label + inline(value)))


def is_toc(items):
    return all(re.match(r"^\[[^\]]+\]\(#[^)]*\)", i) for i in items)


def markdown(text, out, skip_title=True):
    lines = text.split("\n")
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if line.startswith("```"):
            i += 1
            out += [".PP", ".RS 4", ".nf"]
            while i < n and not lines[i].startswith("```"):
                out.append(line_safe(code_text(lines[i])))
                i += 1
            out += [".fi", ".RE"]
            i += 1
            continue
        m = re.match(r"^(#+)\s+(.*)$", line)
        if m:
            level, title = len(m.group(1)), plain(m.group(2))
            if level == 1:
                if not skip_title:
                    out += [".SH " + escape(title.upper())]
            elif level == 2:
                out.append('.SH "' + escape(title.upper()) + '"')
            else:
                out.append('.SS "' + escape(title) + '"')
            i += 1
            continue
        if line.startswith("|"):
            rows = []
            while i < n and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            table(rows, out)
            continue
        m = re.match(r"^(\s*)([-*]|\d+\.)\s+(.*)$", line)
        if m:
            items, marks = [], []
            while i < n:
                m = re.match(r"^(\s*)([-*]|\d+\.)\s+(.*)$", lines[i])
                if m:
                    items.append(m.group(3))
                    marks.append(m.group(2))
                elif lines[i].startswith("  ") and lines[i].strip() and items:
                    items[-1] += " " + lines[i].strip()
                else:
                    break
                i += 1
            if is_toc(items):
                continue
            for mark, item in zip(marks, items):
                out.append(".IP " + ("\\(bu 2" if mark in "-*" else mark + " 4"))
                out.append(line_safe(inline(item)))
            continue
        para = []
        while i < n and lines[i].strip() and not re.match(r"^(#|```|\||\s*([-*]|\d+\.)\s)", lines[i]):
            para.append(lines[i].strip())
            i += 1
        out.append(".PP")
        out += [line_safe(inline(p)) for p in para]
    return out


def header(name, section, version, date, summary):
    return ['.\\" Generated by man/mkman.py; edit the source it names, not this file.',
            '.TH "%s" "%s" "%s" "stp %s" "STP"' % (name.upper(), section, date, version),
            # Left-aligned: long code (paths, JSON) leaves too few spaces to justify a line.
            ".ad l",
            ".nh",
            ".SH NAME", escape(name) + " \\- " + escape(summary)]


def page_date(path):
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = int(epoch) if epoch else int(os.stat(path).st_mtime)
    return datetime.datetime.fromtimestamp(when, datetime.timezone.utc).strftime("%Y-%m-%d")


def from_markdown(name, section, version, summary, path):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    out = header(name, section, version, page_date(path), summary)
    # What comes before the first "##" is the page's description.
    first = re.search(r"^## ", text, re.M)
    intro, rest = (text[:first.start()], text[first.start():]) if first else (text, "")
    out.append(".SH DESCRIPTION")
    markdown(intro, out)
    markdown(rest, out)
    out += [".SH SEE ALSO", "\\fBstpctl\\fR(8), \\fBsitegen\\fR(1), \\fBapache2\\fR(8); " +
            "/usr/share/doc/stp\\-tools/ (the documentation this page is made from: " +
            code_text(os.path.basename(path)) + ")"]
    return out


def run_help(argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.startswith("Usage:"):
        raise SystemExit(f"mkman.py: {' '.join(argv)} did not print its help (exit {r.returncode}): {r.stderr}")
    return r.stdout


OPTION = re.compile(r"^(\s+)(\S.*?)(?:\s{2,}(\S.*))?$")


def help_blocks(text):
    """Splits --help output into (kind, lines): the usage lines, lists (indented lines, with the
    "Title:" line before them if any), and prose (lines at the margin)."""
    blocks, cur = [], None
    for line in text.rstrip("\n").split("\n"):
        if not line.strip():
            cur = None
        elif line.startswith("Usage:"):
            cur = ("usage", [line[len("Usage:"):].strip()])
            blocks.append(cur)
        elif cur and cur[0] == "usage" and line.startswith(" "):
            cur[1].append(line.strip())
        elif re.match(r"^[A-Z][\w ]*:$", line):
            cur = ("list", [line[:-1]])
            blocks.append(cur)
        elif line.startswith("  "):
            if not cur or cur[0] != "list":
                cur = ("list", [""])
                blocks.append(cur)
            cur[1].append(line)
        elif cur and cur[0] == "prose":
            cur[1].append(line.strip())
        else:
            cur = ("prose", [line.strip()])
            blocks.append(cur)
    return blocks


def list_items(lines):
    """"  TAG   text" lines, with deeper-indented continuation lines, as (tag, text)."""
    items = []
    for line in lines:
        m = OPTION.match(line)
        indent = len(m.group(1)) if m else 0
        if items and indent > 6 and not line.lstrip().startswith("-"):
            items[-1][1] = (items[-1][1] + " " + line.strip()).strip()
        elif m:
            items.append([m.group(2).strip(), (m.group(3) or "").strip()])
    return items


def tag_text(tag):
    """An option or command line: words in bold, metavariables (UPPER, [..]) in italics."""
    words = []
    for w in tag.split(" "):
        core = w.strip("[],|")
        if core.isupper() or re.fullmatch(r"[A-Z_]+(\|[A-Z_]+)*", core or "x"):
            words.append("\\fI" + code_text(w) + "\\fR")
        else:
            words.append("\\fB" + code_text(w) + "\\fR")
    return " ".join(words)


def render_help(text, out, level_title, sub):
    """--help output as sections; `sub` names a command's own page part (.SS), else top level."""
    for kind, lines in help_blocks(text):
        if kind == "usage":
            if not sub:
                out.append(".SH SYNOPSIS")
            for u in lines:
                out += [".PP", line_safe(tag_text(u))]
        elif kind == "list":
            title = lines[0]
            if title.lower().startswith("exit status"):
                continue
            if sub and title:
                out += [".PP", "\\fI" + escape(title) + ":\\fR"]
            elif title:
                out.append('.SH "' + escape(title.upper()) + '"')
            loose = []  # indented lines without a tag: text set off from the paragraph
            for tag, desc in list_items(lines[1:]) + [("", "")]:
                if desc or not tag:
                    if loose:
                        out += [".RS 4", line_safe(inline(" ".join(loose))), ".RE"]
                        loose = []
                    if desc:
                        out += [".TP", line_safe(tag_text(tag)), line_safe(inline(desc))]
                else:
                    loose.append(tag)
        else:
            para = " ".join(lines)
            if para.lower().startswith("exit status"):
                level_title.append(para)
                continue
            if not sub and not any(l.startswith(".SH DESCRIPTION") for l in out):
                out.append(".SH DESCRIPTION")
            out += [".PP", line_safe(inline(para))]


def from_help(name, section, version, summary, program):
    text = run_help([program, "--help"])
    out = header(name, section, version, page_date(program), summary)
    exit_status = []
    render_help(text, out, exit_status, sub=False)
    # Commands whose own help the listing points to ("stpctl notify --help").
    subs = []
    for cmd in re.findall(r"\(%s ([a-z][\w-]*) --help" % re.escape(name), text):
        if cmd not in subs:
            subs.append(cmd)
    if subs:
        out.append('.SH "COMMAND OPTIONS"')
        for cmd in subs:
            out.append('.SS "%s %s"' % (escape(name), escape(cmd)))
            render_help(run_help([program, cmd, "--help"]), out, [], sub=True)
    if exit_status:
        status = re.sub(r"^exit status:\s*", "", exit_status[0], flags=re.I)
        out += [".SH \"EXIT STATUS\"", ".PP", line_safe(inline(status[:1].upper() + status[1:]))]
    return out


SEE_ALSO = {
    "stpctl": "\\fBmod_stp\\fR(8), \\fBsitegen\\fR(1); docs/operations.md (installed in /usr/share/doc/stp\\-tools/)",
    "sitegen": "\\fBmod_stp\\fR(8), \\fBstpctl\\fR(8); docs/content\\-format.md, the format of the content "
               "(installed in /usr/share/doc/stp\\-tools/)",
}


def main(argv):
    if len(argv) != 7 or argv[1] not in ("markdown", "help"):
        sys.stderr.write(__doc__)
        return 2
    kind, name, section, version, summary, source = argv[1:]
    if kind == "markdown":
        out = from_markdown(name, section, version, summary, source)
    else:
        out = from_help(name, section, version, summary, source)
        if name in SEE_ALSO:
            out += [".SH \"SEE ALSO\"", SEE_ALSO[name]]
    sys.stdout.write("\n".join(line for line in out if line is not None) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
