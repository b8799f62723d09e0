"""Builders of the files the reader tests read: PDFs with a text layer (fpdf2), scans
(known text drawn by Pillow, then put in a PDF or saved as an image) and .docx files
(python-docx). Everything is made here; nothing is downloaded."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

RUNNING_HEADER = "ACME LEASE AGREEMENT - CONFIDENTIAL"


class _Paged(FPDF):
    running = True

    def header(self) -> None:
        if self.running:
            self.set_font("Helvetica", size=9)
            self.cell(0, 5, RUNNING_HEADER, align="C")
            self.ln(10)

    def footer(self) -> None:
        if self.running:
            self.set_y(-15)
            self.set_font("Helvetica", size=9)
            self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")


def text_pdf(
    path: Path,
    pages: Sequence[Sequence[str]],
    *,
    running: bool = True,
    password: str | None = None,
    title: str | None = None,
) -> Path:
    """A PDF whose page n holds ``pages[n]``'s paragraphs (a paragraph starting with a
    clause number is set bold, as a heading), with a running header and "Page n of N"
    footer unless ``running`` is False."""
    pdf = _Paged()
    pdf.running = running
    if title is not None:
        pdf.set_title(title)
    if password is not None:
        pdf.set_encryption(owner_password=password, user_password=password)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            heading = len(paragraph) < 60
            pdf.set_font("Helvetica", "B" if heading else "", 12 if heading else 11)
            pdf.multi_cell(0, 6, paragraph)
            pdf.ln(3)
    pdf.output(str(path))
    return path


def scan_image(lines: Sequence[str], *, width: int = 1700, noise: bool = False) -> Image.Image:
    """A page image of ``lines`` in black on white, as a 200-dpi scan would show them."""
    font = ImageFont.load_default(size=40)
    image = Image.new("L", (width, 120 + 70 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((100, 60 + 70 * number), line, fill=0, font=font)
    if noise:  # a bad photocopy: speckles over the words
        draw.point([(x, y) for x in range(0, width, 3) for y in range(0, image.height, 4)], fill=0)
    return image


def scanned_pdf(path: Path, pages: Sequence[Sequence[str] | None], *, text_page: int = -1) -> Path:
    """A PDF of scanned pages (``None``: a blank scan); page ``text_page`` (0-based),
    if given, has a text layer instead, as in a file where only some pages are scans."""
    pdf = FPDF(unit="pt", format=(612, 792))
    for number, lines in enumerate(pages):
        pdf.add_page()
        if number == text_page:
            pdf.set_font("Helvetica", size=11)
            pdf.multi_cell(0, 14, "\n".join(lines or []))
            continue
        image = scan_image(lines or [" "])
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        pdf.image(buffer, x=0, y=0, w=612)
    pdf.output(str(path))
    return path


def docx_file(path: Path) -> Path:
    """A services agreement: a title, headings, numbered clauses, a bullet, a table."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Services Agreement"
    document.add_heading("Services Agreement", level=0)
    document.add_heading("Payment", level=1)
    document.add_paragraph("The client shall pay each invoice within thirty days.", "List Number")
    document.add_paragraph("Late payments bear interest at one percent a month.", "List Number")
    document.add_heading("Confidentiality", level=1)
    document.add_paragraph("The consultant shall keep client data confidential for five years.")
    document.add_paragraph("This survives termination.", "List Bullet")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {
        (0, 0): "Fee",
        (0, 1): "Amount",
        (1, 0): "Setup",
        (1, 1): "$500",
    }.items():
        table.cell(row, col).text = text
    document.save(str(path))
    return path


def docx_clauses(path: Path, clauses: Sequence[tuple[int, str]]) -> Path:
    """A .docx whose paragraphs are numbered by Word itself, at depth ``level`` each:
    level 0 "1.", level 1 "1.1", level 2 "(a)" (one multi-level list, as contracts use)."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    numbering = document.part.numbering_part.element
    levels = (("decimal", "%1."), ("decimal", "%1.%2"), ("lowerLetter", "(%3)"))
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
        + "".join(
            f'<w:lvl w:ilvl="{depth}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{text}"/></w:lvl>'
            for depth, (fmt, text) in enumerate(levels)
        )
        + "</w:abstractNum>"
    )
    numbering.insert(0, abstract)  # abstractNum elements come before num elements
    numbering.append(
        parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>')
    )
    for depth, text in clauses:
        paragraph = document.add_paragraph(text)
        properties = paragraph._p.get_or_add_pPr()
        properties.append(
            parse_xml(
                f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{depth}"/><w:numId w:val="90"/></w:numPr>'
            )
        )
    document.save(str(path))
    return path
