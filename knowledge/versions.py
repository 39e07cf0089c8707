"""Comparing two versions of an article: what changed in its title, type, audience and summary, and its body line by
line. Either side is a kept `ArticleVersion` or the working copy (an `Article`).

Rows carry plain text: templates escape it like any other text (it is never marked safe), so a diff of a body with
HTML in it shows the HTML as written.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .choices import ArticleType, Audience


class Kind:
    SAME = 'same'
    ADDED = 'added'
    REMOVED = 'removed'


@dataclass(frozen=True)
class DiffRow:
    kind: str  # Kind.SAME, ADDED or REMOVED
    text: str
    field: str = 'body'  # 'title', 'article_type', 'audience', 'summary' or 'body'
    label: str = 'Body'

    @property
    def changed(self) -> bool:
        return self.kind != Kind.SAME


# The fields compared as a whole, in page order, with how each reads.
FIELDS = (
    ('title', 'Title', lambda side: side_title(side)),
    ('article_type', 'Type', lambda side: ArticleType(side.article_type).label if side.article_type else ''),
    ('audience', 'Audience', lambda side: Audience(side.audience).label if side.audience else ''),
    ('summary', 'Summary', lambda side: side.summary or ''),
)


def side_title(side) -> str:
    """The title of a version or of the working copy (whose title is its short description)."""
    return getattr(side, 'short_description', None) or getattr(side, 'title', '') or ''


def body_rows(old_body: str, new_body: str) -> list[DiffRow]:
    """A line diff of two bodies: unchanged lines once, changed ones as removed then added."""
    old_lines, new_lines = (old_body or '').splitlines(), (new_body or '').splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == 'equal':
            rows += [DiffRow(Kind.SAME, line) for line in old_lines[i1:i2]]
            continue
        rows += [DiffRow(Kind.REMOVED, line) for line in old_lines[i1:i2]]
        rows += [DiffRow(Kind.ADDED, line) for line in new_lines[j1:j2]]
    return rows


def compare(old, new) -> list[DiffRow]:
    """Rows saying how `new` differs from `old` (`old` None: everything in `new` is added). Field rows come first
    (one `same` row when a field is unchanged, else `removed` then `added`), then the body's lines."""
    rows: list[DiffRow] = []
    for field, label, read in FIELDS:
        before, after = (read(old) if old is not None else ''), read(new)
        if old is not None and before == after:
            rows.append(DiffRow(Kind.SAME, after, field, label))
            continue
        if before:
            rows.append(DiffRow(Kind.REMOVED, before, field, label))
        if after:
            rows.append(DiffRow(Kind.ADDED, after, field, label))
    rows += body_rows(old.body if old is not None else '', new.body)
    return rows


def changed(rows: list[DiffRow]) -> bool:
    return any(row.changed for row in rows)
