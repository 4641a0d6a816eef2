#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write one man3 page per public function of include/aname.h.

The header is the manual: every ANAME_API function (and every callback
typedef) carries a doc comment in a small Doxygen subset (\\param, \\return,
\\retval, \\note, \\a).  This script turns each into NAME.3 so that
`man aname_resolve` works, and fails (exit 1, naming the culprit) when a
public function has no doc comment, so a new function cannot ship without
a page.  Run by man/rules.mk at build time; the pages are never committed.

Usage: gen-man3.py HEADER VERSION OUTDIR
"""
import os
import re
import sys

COMMENT = re.compile(r"/\*\*(.*?)\*/", re.S)
# A public function: ANAME_API, return type, name, parameter list.
FUNC = re.compile(r"ANAME_API\s+([^;(]*?)\b(aname_\w+)\s*\(([^)]*)\)\s*;", re.S)
# A documented callback type: typedef RET (*name)(params);
CBTYPE = re.compile(r"typedef\s+([^;(]*?)\(\s*\*\s*(aname_\w+)\s*\)\s*\(([^)]*)\)\s*;", re.S)


def comment_lines(body):
    """The comment's text lines without the leading ' * '."""
    out = []
    for line in body.split("\n"):
        line = re.sub(r"^\s*\*? ?", "", line, count=1)
        out.append(line.rstrip())
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return out


def esc(text):
    """Escape roff specials in running text, then apply inline markup."""
    text = text.replace("\\", "\\e")
    # Doxygen's \a WORD (now \ea WORD): the argument in italics.
    text = re.sub(r"\\ea\s+(\w+)", r"\\fI\1\\fP", text)
    # Function references: bold name, like other man pages.
    text = re.sub(r"\b(aname_\w+)\(\)", r"\\fB\1\\fP()", text)
    return text


def line_out(text):
    """A roff text line: a leading '.' or quote would be read as a request."""
    return "\\&" + text if text[:1] in (".", "'") else text


class Doc:
    """A doc comment split into description blocks and Doxygen fields."""

    def __init__(self, lines):
        self.desc = []      # list of ("para"|"code"|"item", [lines])
        self.params = []    # (direction, name, [lines])
        self.returns = []   # [lines]
        self.retvals = []   # (name or None, [lines])
        self.notes = []     # [lines]
        current = None      # the list the next continuation line joins
        for raw in lines:
            s = raw.strip()
            m = re.match(r"\\(param|return|returns|retval|note)(\[[^\]]*\])?\s*(.*)", s)
            if m:
                cmd, direction, rest = m.group(1), m.group(2), m.group(3)
                if cmd == "param":
                    name, _, text = rest.partition(" ")
                    self.params.append(((direction or "").strip("[]"), name, [text.strip()]))
                    current = self.params[-1][2]
                elif cmd in ("return", "returns"):
                    self.returns.append([rest])
                    current = self.returns[-1]
                elif cmd == "retval":
                    name, _, text = rest.partition(" ")
                    if name.endswith(",") or not text.strip():
                        # "\retval A, B, C" is a list, not one value + text.
                        self.retvals.append((None, [rest]))
                    else:
                        self.retvals.append((name, [text.strip()]))
                    current = self.retvals[-1][1]
                else:
                    self.notes.append([rest])
                    current = self.notes[-1]
                continue
            if not s:
                current = None
                self.desc.append(("para", []))
                continue
            if current is not None:
                current.append(s)
                continue
            if raw.startswith("    "):
                kind, text = "code", raw[4:]
            elif s.startswith("- "):
                kind, text = "item", s[2:]
            elif raw.startswith("  ") and self.desc and self.desc[-1][0] == "item":
                self.desc[-1][1].append(s)
                continue
            else:
                kind, text = "para", s
            if self.desc and self.desc[-1][0] == kind and kind != "item":
                self.desc[-1][1].append(text)
            else:
                self.desc.append((kind, [text]))
        self.desc = [(k, ls) for k, ls in self.desc if ls]

    def summary(self):
        """First sentence of the description, for the NAME line."""
        for kind, ls in self.desc:
            if kind == "para":
                text = " ".join(ls)
                m = re.match(r"(.+?[.:;])(\s|$)", text)
                s = m.group(1) if m else text
                return s.rstrip(".:;")
        if self.returns:
            return " ".join(self.returns[0]).rstrip(".")
        return ""


def synopsis(ret, name, params, is_type):
    """Bold prototype with italic parameter names, one line per parameter
    after the first when it would not fit in 72 columns."""
    ret = " ".join(ret.split())
    parts = []
    for p in [" ".join(x.split()) for x in params.split(",")]:
        m = re.match(r"(.*?)(\w+)$", p)
        if p == "void" or not m or not m.group(1).strip():
            parts.append("\\fB%s\\fP" % esc(p))
        else:
            parts.append("\\fB%s\\fP\\fI%s\\fP" % (esc(m.group(1)), m.group(2)))
    sep = "" if ret.endswith("*") else " "
    head = "%s%s(*%s)" % (ret, sep, name) if is_type else "%s%s%s" % (ret, sep, name)
    plain = len(head) + len(params) + 3
    joiner = "\\fB,\\fP\n" + " " * (len(head) + 1) if plain > 72 else "\\fB, \\fP"
    return "\\fB%s\\fP(%s);" % (esc(head), joiner.join(parts))


def render(name, proto, doc, version, is_type, known):
    out = ['.\\" Generated by man/gen-man3.py from include/aname.h; do not edit.',
           '.TH %s 3 "" "libaname %s" "libaname Manual"' % (name.upper(), version),
           ".SH NAME",
           "%s \\- %s" % (name, esc(doc.summary()) or "libaname function"),
           ".SH SYNOPSIS", ".nf", ".B #include <aname.h>", ".PP"]
    if is_type:
        out.append("\\fBtypedef\\fP " + proto)
    else:
        out.append(proto)
    out += [".fi", ".PP", "Link with", ".BR \"pkg\\-config \\-\\-cflags \\-\\-libs libaname\" ."]
    out.append(".SH DESCRIPTION")
    for kind, ls in doc.desc:
        if kind == "code":
            out += [".PP", ".RS", ".nf"] + [line_out(esc(x)) for x in ls] + [".fi", ".RE"]
        elif kind == "item":
            out += [".IP \\(bu 2"] + [line_out(esc(x)) for x in ls]
        else:
            out += [".PP"] + [line_out(esc(x)) for x in ls]
    if doc.params:
        out.append(".SH PARAMETERS")
        for direction, pname, ls in doc.params:
            label = "\\fI%s\\fP" % esc(pname) + (" [%s]" % direction if direction else "")
            out += [".TP", label] + [line_out(esc(x)) for x in ls if x]
    if doc.returns or doc.retvals:
        out.append(".SH RETURN VALUE")
        for ls in doc.returns:
            out += [".PP"] + [line_out(esc(x)) for x in ls if x]
        for rname, ls in doc.retvals:
            if rname is None:
                out += [".PP"] + [line_out(esc(x)) for x in ls if x]
            else:
                out += [".TP", ".B %s" % rname] + [line_out(esc(x)) for x in ls if x]
    if doc.notes:
        out.append(".SH NOTES")
        for ls in doc.notes:
            out += [".PP"] + [line_out(esc(x)) for x in ls if x]
    text = "\n".join(out)
    refs = sorted(set(re.findall(r"\b(aname_\w+)\(\)", "\n".join(
        "\n".join(ls) for _, ls in doc.desc) + str(doc.params) + str(doc.returns)
        + str(doc.retvals) + str(doc.notes))) & known - {name})
    see = ["libaname (3)"] + ["%s (3)" % r for r in refs]
    text += "\n.SH SEE ALSO\n" + ",\n".join(".BR " + s for s in see) + "\n"
    return text


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: gen-man3.py HEADER VERSION OUTDIR")
    header, version, outdir = sys.argv[1:]
    src = open(header, encoding="utf-8").read()
    comments = [(m.end(), m.group(1)) for m in COMMENT.finditer(src)]

    def doc_before(pos):
        """The doc comment ending right before pos (only blanks between)."""
        for end, body in reversed(comments):
            if end <= pos:
                return body if not src[end:pos].strip() else None
        return None

    entries = []
    for m in FUNC.finditer(src):
        entries.append((m.start(), m.group(2), m.group(1), m.group(3), False))
    for m in CBTYPE.finditer(src):
        entries.append((m.start(), m.group(2), m.group(1), m.group(3), True))
    known = {e[1] for e in entries}
    missing = []
    os.makedirs(outdir, exist_ok=True)
    for pos, name, ret, params, is_type in sorted(entries):
        body = doc_before(pos)
        if body is None:
            missing.append(name)
            continue
        doc = Doc(comment_lines(body))
        page = render(name, synopsis(ret, name, params, is_type), doc, version, is_type, known)
        tmp = os.path.join(outdir, name + ".3.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(page)
        os.replace(tmp, os.path.join(outdir, name + ".3"))
    if missing:
        sys.exit("gen-man3: no doc comment right before: " + ", ".join(missing))
    if not any(not e[4] for e in entries):
        sys.exit("gen-man3: no ANAME_API function found in " + header)
    print("gen-man3: %d pages in %s" % (len(entries), outdir))


if __name__ == "__main__":
    main()
