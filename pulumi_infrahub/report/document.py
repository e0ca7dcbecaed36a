"""A tiny document model written out as GitHub Markdown or as plain text.

The report is built once as blocks; each block renders on its own, so the
size budget can measure blocks before choosing which to keep.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tabulate import tabulate

__all__ = [
    "Block",
    "BulletList",
    "Code",
    "Heading",
    "Hidden",
    "Inline",
    "Line",
    "Paragraph",
    "Strong",
    "Table",
    "render_block",
    "render_blocks",
]


@dataclass(frozen=True)
class Code:
    """Literal text: a code span in Markdown, as is in plain text."""

    text: str


@dataclass(frozen=True)
class Strong:
    """Emphasised text: bold in Markdown, as is in plain text."""

    text: str


Inline = str | Code | Strong
Line = tuple[Inline, ...]


@dataclass(frozen=True)
class Heading:
    level: int
    text: Line


@dataclass(frozen=True)
class Paragraph:
    text: Line
    note: bool = False


@dataclass(frozen=True)
class BulletList:
    items: tuple[Line, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Line, ...], ...]
    right_aligned: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Hidden:
    """Markdown-only text that readers do not see (an HTML comment)."""

    text: str


Block = Heading | Paragraph | BulletList | Table | Hidden


def render_blocks(blocks: Sequence[Block], fmt: str) -> str:
    """All blocks, separated by blank lines, ending in one newline."""
    parts = [render_block(block, fmt) for block in blocks]
    return "\n\n".join(part for part in parts if part) + "\n"


def render_block(block: Block, fmt: str) -> str:
    """One block in `markdown` or `text`; the separator is not included."""
    markdown = fmt == "markdown"
    if isinstance(block, Hidden):
        return f"<!-- {block.text.replace('--', '- -')} -->" if markdown else ""
    if isinstance(block, Heading):
        text = _line(block.text, markdown)
        if markdown:
            return f"{'#' * block.level} {text}"
        return f"{text}\n{('=' if block.level <= 3 else '-') * len(text)}"
    if isinstance(block, Paragraph):
        text = _line(block.text, markdown)
        return f"_{text}_" if markdown and block.note else text
    if isinstance(block, BulletList):
        return "\n".join(f"- {_line(item, markdown)}" for item in block.items)
    return _markdown_table(block) if markdown else _text_table(block)


def _markdown_table(table: Table) -> str:
    # One line per row and no padding: tables in comments are read rendered,
    # and every padding character counts against the size limit.
    rule = [
        "---:" if index in table.right_aligned else "---"
        for index in range(len(table.header))
    ]
    lines = [
        _markdown_row([_escape(cell) for cell in table.header]),
        _markdown_row(rule),
    ]
    for row in table.rows:
        lines.append(_markdown_row([_line(cell, True, in_table=True) for cell in row]))
    return "\n".join(lines)


def _markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


# Long cells (policy messages, values) wrap instead of stretching the table.
_TEXT_COLUMN_WIDTH = 72


def _text_table(table: Table) -> str:
    alignment = [
        "right" if index in table.right_aligned else "left"
        for index in range(len(table.header))
    ]
    rows = [[_line(cell, False) for cell in row] for row in table.rows]
    return tabulate(
        rows,
        headers=list(table.header),
        tablefmt="simple",
        colalign=alignment,
        disable_numparse=True,
        maxcolwidths=_TEXT_COLUMN_WIDTH,
    )


def _line(parts: Line, markdown: bool, in_table: bool = False) -> str:
    if not markdown:
        return "".join(part if isinstance(part, str) else part.text for part in parts)
    rendered = []
    for part in parts:
        if isinstance(part, Code):
            rendered.append(_code_span(part.text, in_table))
        elif isinstance(part, Strong):
            rendered.append(f"**{_escape(part.text, in_table)}**")
        else:
            rendered.append(_escape(part, in_table))
    return "".join(rendered)


# Punctuation that Markdown or GitHub acts on: emphasis, links, HTML, tables,
# math between dollar signs, mentions.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~@$])")


def _escape(text: str, in_table: bool = False) -> str:
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text.replace("&", "&amp;"))
    separator = "<br>" if in_table else " "
    return separator.join(escaped.splitlines()) if "\n" in escaped else escaped


def _code_span(text: str, in_table: bool) -> str:
    text = " ".join(text.splitlines())
    if in_table:
        # GitHub splits table cells on `|` even inside code spans.
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"
