"""Sphinx extension: the verdict table of the book's introduction.

``{osl-verdicts}`` leaves a placeholder that is filled at the end of the build (``doctree-resolved``),
after every chapter has executed and written ``_build/results/<chapter>.json``, so the table always
reflects the chapters of this build and grows as chapters are added.
"""
from __future__ import annotations

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from .report import load_results, verdict_table


class verdicts_placeholder(nodes.General, nodes.Element):
    pass


class VerdictsDirective(SphinxDirective):
    has_content = False

    def run(self):
        return [verdicts_placeholder()]


def _table(app, docname: str) -> nodes.Node:
    rows = verdict_table(load_results())
    if rows.empty:
        return nodes.paragraph(text="No chapter results were found in this build.")
    headers = ["Chapter", "Paper", "Numbers compared", "Reproduced", "Verdict"]
    table = nodes.table(classes=["osl-verdicts"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in (40, 12, 16, 14, 18):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for h in headers:
        row += nodes.entry("", nodes.paragraph(text=h))
    head += row
    body = nodes.tbody()
    group += body
    for r in rows.itertuples():
        target = f"notebooks/{r.chapter}"
        para = nodes.paragraph()
        if target in app.env.all_docs:
            uri = app.builder.get_relative_uri(docname, target)
            para += nodes.reference("", r.title, internal=True, refuri=uri)
        else:
            para += nodes.Text(r.title)
        row = nodes.row()
        row += nodes.entry("", para)
        for text in (r.section, str(r.compared), str(r.reproduced), r.verdict):
            row += nodes.entry("", nodes.paragraph(text=text))
        body += row
    return table


def _resolve(app, doctree, docname):
    for node in doctree.findall(verdicts_placeholder):
        node.replace_self(_table(app, docname))


def setup(app):
    app.add_node(verdicts_placeholder)
    app.add_directive("osl-verdicts", VerdictsDirective)
    app.connect("doctree-resolved", _resolve)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
