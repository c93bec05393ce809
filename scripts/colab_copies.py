"""Write Colab copies of the chapters from the executed book: plain Markdown, no MyST.

Colab renders Markdown and LaTeX but not MyST, so the source notebooks show every glued
number as `{glue:text}`key``, every citation, cross-reference and exercise as raw markup.
After `make book` (which executes every notebook), this script writes one copy per
notebook to `_build/html/colab/<notebook>.ipynb`, published with the site, in which:

- glued numbers are filled in, formatted as in the book, from the executed notebooks the
  build keeps in `_build/jupyter_execute/` (the outputs myst-nb's `glue` recorded);
- citations read author–year, "(Srivastava et al., 2014)" / "Srivastava et al. (2014)",
  from book/references.bib;
- `{eq}` becomes the equation's number in the book, "(5.3)", linked to it on the website,
  and display equations carry that number (`\\tag{5.3}`); `{ref}`, `{numref}` and `{doc}`
  become links to the website; other roles keep their text;
- exercises become "**Exercise 5.2** (title)", solutions collapse: their prose inside
  `<details>`, their code cells in Colab's form view (code hidden behind "Show code");
- admonitions become block quotes with a bold title; `(label)=` targets become anchors.

Numbers and titles come from the built site itself (`_build/html`: the equation numbers
it printed, the labels in its `objects.inv`), so the copy says what the website says.

Usage: `.venv/bin/python scripts/colab_copies.py` (after the book is built). Options:
`--site-url` (default: the GitHub Pages address of `repository.url` in _config.yml), `--keep-
outputs` (copy the executed outputs too; default: none, the reader runs the notebook).
Exit status 1 if any MyST markup is left in a copy, with the places listed.

`make book` runs it after the build. How readers reach the copies: the site is published
to GitHub Pages from the branch `gh-pages` (`ghp-import -n -p -f _build/html`), so a copy
is at `https://colab.research.google.com/github/<owner>/<repo>/blob/gh-pages/colab/
notebooks/<notebook>.ipynb`: the address of the website's "Colab" launch button
(`repository.branch` and `path_to_book` in _config.yml) and of each notebook's "Open in
Colab" link.
"""

from __future__ import annotations

import argparse
import copy
import html as htmllib
import json
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
GLUE_PREFIX = "application/papermill.record/"

FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<args>.*)$")
ROLE = re.compile(r"\{(?P<role>[\w:-]*)\}`(?P<content>[^`]*)`")
LABEL_LINE = re.compile(r"^\((?P<label>[\w.:-]+)\)=[ \t]*$", re.M)
LEFTOVER = re.compile(r"\{[\w:-]+\}`|^(`{3,}|:{3,})\{|^\([\w.:-]+\)=", re.M)


# ------------------------------------------------------------------ inputs


def glue_values(executed: Path) -> dict[str, dict]:
    """{key: mime bundle} of every `glue` output of an executed notebook: the outputs in the
    notebook itself, and the `<notebook>.glue.json` that myst-nb writes beside it (where it
    keeps the values glued by cells whose outputs it removes)."""
    values: dict[str, dict] = {}
    outputs = []
    if executed.exists():
        nb = nbformat.read(executed, as_version=4)
        outputs = [out for cell in nb.cells for out in cell.get("outputs", [])]
    side = executed.with_suffix(".glue.json")
    if side.exists():
        outputs += list(json.loads(side.read_text()).values())
    for out in outputs:
        meta = out.get("metadata", {}).get("scrapbook")
        if not meta:
            continue
        prefix = meta.get("mime_prefix", GLUE_PREFIX)
        values[meta["name"]] = {
            k[len(prefix) :] if k.startswith(prefix) else k: v
            for k, v in out.get("data", {}).items()
        }
    return values


def site_labels(site: Path) -> dict[str, tuple[str, str]]:
    """{label: (uri relative to the site, title)} from the site's objects.inv."""
    from sphinx.util.inventory import InventoryFile

    inv_path = site / "objects.inv"
    if not inv_path.exists():
        return {}
    with open(inv_path, "rb") as f:
        inv = InventoryFile.load(f, "", lambda base, uri: uri)
    labels = {}
    for domain in ("std:label", "math:numref", "std:doc"):
        for name, (_, _, uri, title) in inv.get(domain, {}).items():
            labels.setdefault(name, (uri, title if title != "-" else name))
    return labels


def equation_numbers(page: Path) -> dict[str, str]:
    """{label: "(5.3)"} from a built page's equation numbers."""
    if not page.exists():
        return {}
    text = page.read_text()
    found = re.findall(
        r'<span class="eqno">(\([^)<]*\))<a class="headerlink" href="#equation-([^"]+)"', text
    )
    return {label: number for number, label in found}


def bibliography(bib: Path) -> dict[str, tuple[str, str]]:
    """{key: (authors for the text, year)}: "Srivastava et al.", "Ioffe and Szegedy"."""
    from pybtex.database import parse_file

    refs = {}
    for key, entry in parse_file(str(bib)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
        if not names:
            who = entry.fields.get("organization", entry.fields.get("title", key))
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        refs[key] = (who.replace("{", "").replace("}", ""), entry.fields.get("year", "n.d."))
    return refs


# ------------------------------------------------------------------ conversion


class Converter:
    """Turns one notebook's MyST Markdown into plain Markdown (state: exercises seen)."""

    def __init__(self, chapter: int | None, doc: str, glue, labels, eqnos, refs, site_url):
        self.chapter, self.doc = chapter, doc
        self.glue, self.labels, self.eqnos, self.refs = glue, labels, eqnos, refs
        self.site_url = site_url.rstrip("/") + "/"
        self.n_exercises = 0
        self.exercise_numbers: dict[str, str] = {}
        self.solution: str | None = None  # "Exercise 5.2" while inside a solution
        self.details_open = False  # a <details> opened in the current cell
        self.problems: list[str] = []
        self.other_eqnos: dict[str, tuple[str, str]] = {}  # label -> (number, other page)

    # ---- inline
    def link(self, label: str, text: str | None = None) -> str:
        if label in self.labels:
            uri, title = self.labels[label]
            return f"[{text or title}]({self.site_url}{uri})"
        self.problems.append(f"unknown label {label!r}")
        return text or label

    def role(self, m: re.Match) -> str:
        role, content = m.group("role"), m.group("content")
        explicit = re.fullmatch(r"(?s)(?P<text>.*?)\s*<(?P<target>[^>]+)>", content)
        text, target = (
            (explicit.group("text"), explicit.group("target")) if explicit else (None, content)
        )
        if role.startswith("glue"):
            return self.paste(role, content)
        if role in ("cite:p", "cite:t", "cite", "cite:ps", "cite:ts"):
            keys = [k.strip() for k in target.split(",")]
            found = [self.refs.get(k) for k in keys]
            for k, f in zip(keys, found, strict=True):
                if f is None:
                    self.problems.append(f"unknown citation {k!r}")
            pairs = [f or (k, "") for k, f in zip(keys, found, strict=True)]
            if role.startswith("cite:t"):
                return "; ".join(f"{who} ({year})" for who, year in pairs)
            return "(" + "; ".join(f"{who}, {year}" for who, year in pairs) + ")"
        if role == "eq":
            number = self.eqnos.get(target)
            if number is not None:
                return f"[{number}]({self.site_url}{self.doc}.html#equation-{target})"
            if target in self.other_eqnos:  # an equation of another chapter
                number, doc = self.other_eqnos[target]
                return f"[{number}]({self.site_url}{doc}.html#equation-{target})"
            self.problems.append(f"equation {target!r} has no number in the site")
            return f"({target})"
        if role in ("ref", "numref"):
            label = target
            if label in self.exercise_numbers and not text:
                text = self.exercise_numbers[label]
            return self.link(label, text)
        if role == "doc":
            path = target.lstrip("/") if target.startswith("/") else target
            title = text or self.labels.get(path, (None, path))[1]
            return f"[{title}]({self.site_url}{path}.html)"
        if role == "math":
            return f"${content}$"
        return text or content  # term, abbr, sub, sup, ...: the text itself

    def paste(self, role: str, content: str) -> str:
        from myst_nb.core.variables import format_plain_text

        key, fmt = content, ""
        if role == "glue:text" and ":" in content:
            key, fmt = content.rsplit(":", 1)
        bundle = self.glue.get(key)
        if bundle is None or "text/plain" not in bundle:
            self.problems.append(f"glue key {key!r} not in the executed notebook")
            return f"`[{key}]`"
        if role == "glue:md" and "text/markdown" in bundle:
            return bundle["text/markdown"]
        return format_plain_text(bundle["text/plain"], fmt)

    def inline(self, text: str) -> str:
        text = LABEL_LINE.sub(lambda m: f'<a id="{m.group("label")}"></a>', text)
        return ROLE.sub(self.role, text)

    # ---- blocks
    def cell(self, text: str) -> str:
        """A whole Markdown cell. Colab renders each cell on its own, so a solution's
        <details> is closed at the end of every cell and reopened in the next one."""
        head = ""
        if self.solution:
            head = f"<details><summary><b>Solution to {self.solution} (continued)</b></summary>\n\n"
            self.details_open = True
        body = head + self.markdown(text)
        if self.details_open:
            body += "\n\n</details>\n"
            self.details_open = False
        return body

    def markdown(self, text: str) -> str:
        """Convert a Markdown cell (fenced directives may nest)."""
        text = self.number_dollar_blocks(text)
        lines, out, i = text.split("\n"), [], 0
        prose: list[str] = []

        def flush():
            if prose:
                out.append(self.inline("\n".join(prose)))
                prose.clear()

        while i < len(lines):
            m = FENCE.match(lines[i])
            if not m:
                prose.append(lines[i])
                i += 1
                continue
            fence = m.group("fence")
            end = i + 1
            while end < len(lines) and lines[end].strip() != fence:
                end += 1
            flush()
            out.append(self.directive(m.group("name"), m.group("args"), lines[i + 1 : end]))
            i = end + 1
        flush()
        return "\n".join(out)

    def number_dollar_blocks(self, text: str) -> str:
        """`$$ body $$ (label)` -> `$$ body \\tag{5.3} $$` with the book's number."""

        def tag(m: re.Match) -> str:
            number = self.eqnos.get(m.group("label"))
            body = m.group("body").rstrip()
            if number:
                body += f" \\tag{{{number.strip('()')}}}"
            return f"$${body}\n$$"

        return re.sub(
            r"\$\$(?P<body>(?:(?!\$\$).)*?)\$\$[ \t]*\((?P<label>[\w.:-]+)\)", tag, text, flags=re.S
        )

    @staticmethod
    def options(body: list[str]) -> tuple[dict[str, str], list[str]]:
        opts, i = {}, 0
        while i < len(body) and re.match(r"^:[\w-]+:", body[i]):
            key, _, value = body[i][1:].partition(":")
            opts[key] = value.strip()
            i += 1
        return opts, body[i:]

    def directive(self, name: str, args: str, body: list[str]) -> str:
        opts, body = self.options(body)
        content = self.markdown("\n".join(body)).strip()
        if name == "exercise":
            self.n_exercises += 1
            number = f"{self.chapter}.{self.n_exercises}" if self.chapter else str(self.n_exercises)
            if "label" in opts:
                self.exercise_numbers[opts["label"]] = f"Exercise {number}"
            anchor = f'<a id="{opts["label"]}"></a>' if "label" in opts else ""
            title = f" ({self.inline(args.strip())})" if args.strip() else ""
            return f"{anchor}\n---\n**Exercise {number}**{title}\n\n{content}\n"
        if name in ("solution-start", "solution"):
            target = args.strip()
            which = self.exercise_numbers.get(target, "the exercise")
            summary = f"<details><summary><b>Solution to {which}</b></summary>\n\n"
            if name == "solution":
                return f"{summary}{content}\n\n</details>\n"
            self.solution, self.details_open = which, True
            return summary
        if name == "solution-end":
            closing = "\n</details>\n" if self.details_open else ""
            self.solution, self.details_open = None, False
            return closing
        if name == "math":
            number = self.eqnos.get(opts.get("label", ""))
            tag = f" \\tag{{{number.strip('()')}}}" if number else ""
            return f"$$\n{chr(10).join(body).strip()}{tag}\n$$"
        if name.startswith("glue"):
            key = args.strip()
            bundle = self.glue.get(key, {})
            if "text/markdown" in bundle:
                return bundle["text/markdown"]
            if "text/plain" in bundle and not bundle.keys() & {"image/png", "image/svg+xml"}:
                return bundle["text/plain"]
            return f"*(A figure of the book: see the [website]({self.site_url}{self.doc}.html).)*"
        if name in ("code-cell", "code", "code-block"):
            return f"```{args.strip() or 'python'}\n" + "\n".join(body) + "\n```"
        # admonition, note, warning, tip, important, seealso, figure, ...: a block quote
        title = self.inline(args.strip()) if name == "admonition" else name.capitalize()
        quoted = "\n".join(f"> {line}" if line else ">" for line in content.split("\n"))
        return f"> **{title}**\n>\n{quoted}\n"


def convert(nb_path: Path, site: Path, site_url: str, refs, keep_outputs: bool, colab_repo: str):
    doc = nb_path.relative_to(ROOT).with_suffix("").as_posix()
    m = re.match(r"(\d\d)_", nb_path.name)
    chapter = int(m.group(1)) if m and int(m.group(1)) < 90 else None  # 90-99: appendices
    executed = ROOT / "_build" / "jupyter_execute" / f"{doc}.ipynb"
    glue = glue_values(executed)
    conv = Converter(
        chapter,
        doc,
        glue,
        site_labels(site),
        equation_numbers(site / f"{doc}.html"),
        refs,
        site_url,
    )
    conv.other_eqnos = {
        label: (number, page.relative_to(site).with_suffix("").as_posix())
        for page in sorted(site.glob("notebooks/*.html"))
        for label, number in equation_numbers(page).items()
    }
    nb = nbformat.read(nb_path, as_version=4)
    if keep_outputs and executed.exists():
        run = nbformat.read(executed, as_version=4)
        if len(run.cells) == len(nb.cells):
            for cell, done in zip(nb.cells, run.cells, strict=True):
                if cell.cell_type == "code":
                    cell.outputs = copy.deepcopy(done.get("outputs", []))
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = conv.cell(cell.source)
        elif cell.cell_type == "code" and conv.solution:
            cell.source = f"# @title {conv.solution}: solution (Show code)\n" + cell.source
            cell.metadata["cellView"] = "form"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for hit in LEFTOVER.finditer(cell.source):
                line = cell.source[: hit.start()].count("\n") + 1
                conv.problems.append(f"MyST left at line {line}: {hit.group(0)!r}")
    # The copy's own "Open in Colab" link opens the copy; a first cell says what it is.
    repo = re.escape(colab_repo)
    name = re.escape(nb_path.name)
    own = re.compile(rf"https://colab\.research\.google\.com/github/{repo}/blob/[\w./-]*?{name}")
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = own.sub(colab_url(colab_repo, doc), cell.source)
    where = f"{site_url.rstrip('/')}/{doc}.html"
    what = f"chapter {chapter}" if chapter else "this appendix"
    nb.cells.insert(
        0,
        nbformat.v4.new_markdown_cell(
            f"*The Colab copy of {what} of* regbook *([read it on the website]({where})). "
            "The numbers in the text are those of the book's own run; run the cells to "
            "compute yours.*"
        ),
    )
    nb.metadata["colab"] = {"provenance": [], "toc_visible": True}
    return nb, conv.problems


def colab_url(repo: str, doc: str) -> str:
    """Where Colab opens the copy of ``doc`` (``notebooks/05_dropout``): the branch and
    folder that _config.yml's `repository` gives the launch buttons."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    folder = config.get("path_to_book", "").strip("/")
    path = f"{folder}/{doc}" if folder else doc
    return f"https://colab.research.google.com/github/{repo}/blob/{config['branch']}/{path}.ipynb"


def default_site_url(config: dict) -> str:
    url = config.get("html", {}).get("baseurl")
    if url:
        return url
    owner, name = config["repository"]["url"].rstrip("/").split("github.com/")[1].split("/")
    return f"https://{owner}.github.io/{name}/"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=None, help="default: <site>/colab/notebooks")
    parser.add_argument("--site-url", default=None)
    parser.add_argument("--keep-outputs", action="store_true")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    site_url = args.site_url or default_site_url(config)
    out = args.out or args.site / "colab" / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    refs = bibliography(ROOT / config["bibtex_bibfiles"][0])
    colab_repo = config["repository"]["url"].rstrip("/").split("github.com/")[1]
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    failed = 0
    for path in notebooks:
        nb, problems = convert(
            path.resolve(), args.site, site_url, refs, args.keep_outputs, colab_repo
        )
        nbformat.write(nb, out / path.name)
        status = "ok" if not problems else f"{len(problems)} problems"
        print(f"{out / path.name}: {status}")
        for p in problems[:20]:
            print(f"    {htmllib.unescape(p)}")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
