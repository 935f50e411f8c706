"""The EPUB edition's check (tools/docs_epub_check.py) on small hand-made books."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from smspec.tools import docs_epub_check

CONTAINER = (
    '<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
    '<rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>'
)


def package(pages: list[str], spine: list[str]) -> str:
    items = "".join(f'<item id="p{i}" href="{page}" media-type="application/xhtml+xml"/>' for i, page in enumerate(pages))
    refs = "".join(f'<itemref idref="{ref}"/>' for ref in spine)
    return f'<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><manifest>{items}</manifest><spine>{refs}</spine></package>'


def page(stem: str, lines: list[int]) -> str:
    spans = "".join(f'<span id="{stem}-L{n}">x</span>' for n in lines)
    return f"<html><body><pre>{spans}</pre></body></html>"


def book(path: Path, files: dict[str, str], stored_mimetype: bool = True, mimetype: bytes = b"application/epub+zip") -> Path:
    with zipfile.ZipFile(path, "w") as epub:
        epub.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED if stored_mimetype else zipfile.ZIP_DEFLATED)
        epub.writestr("META-INF/container.xml", CONTAINER)
        for name, text in files.items():
            epub.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
    return path


def good_files() -> dict[str, str]:
    return {
        "content.opf": package(["docs/index.xhtml", "spec/hare.xhtml"], ["p0", "p1"]),
        "docs/index.xhtml": "<html/>",
        "spec/hare.xhtml": page("hare", [3, 4, 9]),
        "nav.xhtml": '<nav><a href="docs/index.xhtml">i</a><a href="spec/hare.xhtml#hare-L3">h</a></nav>',
    }


def test_a_well_formed_book_with_every_line_numbered_passes(tmp_path: Path) -> None:
    assert docs_epub_check.check(book(tmp_path / "b.epub", good_files()), {"hare": {3, 4, 9}}) == []


def test_a_missing_line_number_is_named(tmp_path: Path) -> None:
    epub = book(tmp_path / "b.epub", good_files())
    assert docs_epub_check.check(epub, {"hare": {3, 4, 5, 9, 10}}) == [
        "spec/hare.xhtml: 2 code lines without their number, first line 5"
    ]


def test_a_spec_document_outside_the_spine_is_named(tmp_path: Path) -> None:
    files = good_files()
    files["content.opf"] = package(["docs/index.xhtml", "spec/hare.xhtml"], ["p0"])
    assert docs_epub_check.check(book(tmp_path / "b.epub", files), {"hare": {3}}) == ["spec/hare.xhtml: not in the spine"]


def test_a_spine_entry_the_manifest_lacks_is_refused(tmp_path: Path) -> None:
    # what Sphinx wrote before docs/_ext/epub_paths.py: spine ids for docs/../spec/*.xhtml
    files = good_files()
    files["content.opf"] = package(["docs/index.xhtml", "spec/hare.xhtml"], ["p0", "p1", "epub-272"])
    assert docs_epub_check.check(book(tmp_path / "b.epub", files), {"hare": {3}}) == [
        "the spine names 'epub-272', which the manifest lacks"
    ]


def test_a_navigation_link_to_no_page_is_named(tmp_path: Path) -> None:
    files = good_files()
    files["nav.xhtml"] = '<nav><a href="docs/index.xhtml">i</a><a href="../spec/hare.xhtml#x">h</a><a href="auditors.xhtml">a</a></nav>'
    assert docs_epub_check.check(book(tmp_path / "b.epub", files), {"hare": {3}}) == [
        "nav.xhtml: leads to ../spec/hare.xhtml, which the archive lacks",
        "nav.xhtml: leads to auditors.xhtml, which the archive lacks",
    ]


@pytest.mark.parametrize(("stored", "mimetype"), [(False, b"application/epub+zip"), (True, b"application/zip")])
def test_a_compressed_or_wrong_mimetype_is_refused(tmp_path: Path, stored: bool, mimetype: bytes) -> None:
    epub = book(tmp_path / "b.epub", good_files(), stored_mimetype=stored, mimetype=mimetype)
    assert docs_epub_check.check(epub, {"hare": {3}}) == ["'mimetype' is compressed or does not read application/epub+zip"]


def test_a_file_that_is_no_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.epub"
    path.write_bytes(b"not a zip")
    [problem] = docs_epub_check.check(path, {"hare": {3}})
    assert problem.startswith(f"cannot open {path}: ")
