"""The numbers Word draws before numbered paragraphs ("1.", "1.2", "(a)"): they live
in the numbering part, not in the text, so they are counted here as Word counts them.

python-docx reads the XML but does not compute list numbers; this follows the
definitions (``w:abstractNum`` levels: ``numFmt``, ``lvlText``, ``start``) for the
common formats. A level's counter restarts when a shallower level advances.
"""

from __future__ import annotations

from typing import Any

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _roman(number: int) -> str:
    values = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"))
    values += ((50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))
    out = ""
    for value, letters in values:
        while number >= value:
            out, number = out + letters, number - value
    return out


def _letters(number: int) -> str:
    # Word's letters repeat past z: 27 is "aa".
    return chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)


_FORMATS = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "lowerLetter": _letters,
    "upperLetter": lambda n: _letters(n).upper(),
    "lowerRoman": _roman,
    "upperRoman": lambda n: _roman(n).upper(),
}


class Numbering:
    """Counts a document's numbered paragraphs in order; :meth:`label` gives each one's."""

    def __init__(self, document: Any) -> None:
        self._levels: dict[str, dict[int, tuple[str, str, int]]] = {}
        self._counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return  # a document without lists has no numbering part
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for definition in root.iter(f"{_W}abstractNum"):
            levels = {}
            for level in definition.iter(f"{_W}lvl"):
                levels[int(level.get(f"{_W}ilvl", "0"))] = (
                    _value(level, "numFmt", "decimal"),
                    _value(level, "lvlText", ""),
                    int(_value(level, "start", "1")),
                )
            abstract[definition.get(f"{_W}abstractNumId", "")] = levels
        for num in root.iter(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is not None:
                self._levels[num.get(f"{_W}numId", "")] = abstract.get(ref.get(f"{_W}val"), {})

    def label(self, paragraph: Any) -> str:
        """The number Word shows before ``paragraph`` ("" when none, or a bullet)."""
        numbered = _numbering_properties(paragraph)
        if numbered is None or numbered.numId is None:
            return ""
        num_id = str(numbered.numId.val)
        depth = int(numbered.ilvl.val) if numbered.ilvl is not None else 0
        levels = self._levels.get(num_id)
        if not levels or depth not in levels:
            return ""
        counters = self._counters.setdefault(num_id, {})
        start = levels[depth][2]
        counters[depth] = counters.get(depth, start - 1) + 1
        for deeper in [d for d in counters if d > depth]:
            del counters[deeper]
        fmt, text, _ = levels[depth]
        if fmt not in _FORMATS:  # bullet, none, ordinal words: nothing to cite by
            return ""
        for level in range(depth + 1):
            if f"%{level + 1}" in text:
                fmt_level, _, start_level = levels.get(level, ("decimal", "", 1))
                shown = _FORMATS.get(fmt_level, str)(counters.get(level, start_level))
                text = text.replace(f"%{level + 1}", shown)
        return text


def _value(element: Any, name: str, default: str) -> str:
    child = element.find(f"{_W}{name}")
    return default if child is None else child.get(f"{_W}val", default)


def _numbering_properties(paragraph: Any) -> Any:
    """The paragraph's own ``w:numPr``, else its style's (``List Number`` numbers by
    style), else its base styles'."""
    properties = paragraph._p.pPr
    if properties is not None and properties.numPr is not None:
        return properties.numPr
    style = paragraph.style
    while style is not None:
        style_properties = style.element.pPr
        if style_properties is not None and style_properties.numPr is not None:
            return style_properties.numPr
        style = style.base_style
    return None
