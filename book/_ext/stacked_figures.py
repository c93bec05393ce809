"""Sphinx extension: multi-panel figures reflow on narrow screens.

A notebook figure with two or more panels side by side is output twice by
:func:`regbook.plots.vector_output`: as SVG, laid out as drawn, and as PNG with the same
panels stacked in one column (:func:`regbook.plots.stacked_png`). myst-nb would keep one
of the two (the SVG). For every output whose SVG carries the class ``multi-panel`` and
that has the stacked PNG beside it, this post-transform keeps both images in one
container, the PNG with the class ``stacked``; ``book/_static/regbook.css`` shows the SVG
on wide screens and the stacked PNG below 640 px. The figure, its number, caption and alt
text are the cell's, shared by both images.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform


def _image(bundle: nodes.Element, mime_type: str) -> nodes.image | None:
    for child in bundle.children:
        if isinstance(child, nodes.container) and child.get("mime_type") == mime_type:
            return next(iter(child.findall(nodes.image)), None)
    return None


class StackedFigures(SphinxPostTransform):
    """Keep the wide SVG and the stacked PNG of every multi-panel figure."""

    default_priority = 3  # before myst-nb's SelectMimeType (4) keeps one of the two
    formats = ("html",)

    def run(self, **kwargs) -> None:
        bundles = [
            node
            for node in self.document.findall(nodes.container)
            if node.get("nb_element") == "mime_bundle"
        ]
        for bundle in bundles:
            wide = _image(bundle, "image/svg+xml")
            tall = _image(bundle, "image/png")
            if wide is None or tall is None or "multi-panel" not in wide["classes"]:
                continue
            wide.parent.remove(wide)
            tall.parent.remove(tall)
            tall["classes"] = [*tall["classes"], "stacked"]
            pair = nodes.container(classes=["multi-panel-pair"])
            pair += [wide, tall]
            bundle.replace_self(pair)


def setup(app):
    app.add_post_transform(StackedFigures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
