"""MkDocs hook: the docstrings cross-reference the Sphinx way (``:class:`~medsaliency.x.Y```); mkdocstrings
renders the role as text before the code. Drop the role; ``~`` keeps only the last dotted name, as Sphinx does."""

import re

ROLE = re.compile(r":(?:mod|class|func|data|attr|meth|exc|obj):<code>(~?)([^<]+)</code>")


def _shown(match: re.Match) -> str:
    name = match.group(2)
    return f"<code>{name.rsplit('.', 1)[-1] if match.group(1) else name}</code>"


def on_page_content(html: str, **kwargs) -> str:
    return ROLE.sub(_shown, html)
