"""One pass over a figure for both of its files: :func:`svg_and_pdf`.

Saving a figure as SVG and then as PDF draws it twice, and most of a drawing's time is spent
above the file format: tick positions and labels, text layout, transforms. Here the figure is
drawn once, into a renderer that hands every drawing call to the SVG renderer and to the PDF
renderer (each with its own graphics state) and answers every question (text extents,
resolution, options) with the SVG renderer. The SVG is byte for byte what ``savefig`` writes;
the PDF places its text from the same text extents as the SVG, so a label may sit a few
hundredths of a millimetre from where a separate PDF drawing would put it.
"""
from __future__ import annotations

import io

__all__ = ["svg_and_pdf"]

#: Calls that draw (graphics state first) and calls that change both files' state.
_DRAW = ("draw_path", "draw_markers", "draw_path_collection", "draw_quad_mesh",
         "draw_gouraud_triangles", "draw_image", "draw_text", "draw_tex")
_BOTH = ("open_group", "close_group", "start_rasterizing", "stop_rasterizing", "start_filter",
         "stop_filter")


class _PairGC:
    """Two graphics states set alike: setters reach both, getters read the first."""

    def __init__(self, first, second):
        object.__setattr__(self, "pair", (first, second))

    def __getattr__(self, name):
        first, second = self.pair
        attr = getattr(first, name)
        if name == "copy_properties":
            return lambda other: (attr(other.pair[0]), getattr(second, name)(other.pair[1]))
        if callable(attr) and (name.startswith("set_") or name == "restore"):
            also = getattr(second, name)

            def both(*args, **kwargs):
                out = attr(*args, **kwargs)
                also(*args, **kwargs)
                return out
            return both
        return attr


class _Pair:
    """A renderer that draws into two: drawing calls go to both (text positions converted when
    the two count y in opposite senses), everything else is answered by the first."""

    def __init__(self, first, second):
        self._first, self._second = first, second
        self._raster_depth, self._rasterizing = 0, False  # kept here by allow_rasterization

    def new_gc(self):
        return _PairGC(self._first.new_gc(), self._second.new_gc())

    def __getattr__(self, name):
        first, second = self.__dict__["_first"], self.__dict__["_second"]
        if name in _DRAW:
            f, s = getattr(first, name), getattr(second, name)
            flip = name in ("draw_text", "draw_tex") and first.flipy() != second.flipy()
            height = first.get_canvas_width_height()[1]

            def draw(gc, *args, **kwargs):
                g1, g2 = gc.pair if isinstance(gc, _PairGC) else (gc, gc)
                f(g1, *args, **kwargs)
                if flip:  # (x, y, ...) as the first renderer counts y
                    args = (args[0], height - args[1], *args[2:])
                s(g2, *args, **kwargs)
            return draw
        if name in _BOTH:
            f, s = getattr(first, name), getattr(second, name)

            def both(*args, **kwargs):
                f(*args, **kwargs)
                s(*args, **kwargs)
            return both
        return getattr(first, name)


def svg_and_pdf(fig, *, svg_metadata: dict | None = None,
                pdf_metadata: dict | None = None) -> tuple[bytes, bytes]:
    """The SVG and the PDF of ``fig`` from one drawing, with everything ``savefig`` sets for
    the SVG (resolution, colours, the ``draw_event`` its listeners see). Returns both files'
    bytes. (A figure that still has a layout engine, which ``savefig`` would draw once more
    to settle, is saved twice.)"""
    from matplotlib.figure import Figure

    from .errors import ArgumentError
    if not isinstance(fig, Figure):
        raise ArgumentError(f"svg_and_pdf: fig must be a matplotlib Figure (plt.figure() or "
                            f"plt.subplots()), got {type(fig).__name__}.")
    for name, meta in (("svg_metadata", svg_metadata), ("pdf_metadata", pdf_metadata)):
        if meta is not None and not isinstance(meta, dict):
            raise ArgumentError(f"svg_and_pdf: {name} must be a dict or None, got "
                                f"{type(meta).__name__}.")
    if fig.get_layout_engine() is not None:
        files = []
        for fmt, metadata in (("svg", svg_metadata), ("pdf", pdf_metadata)):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, metadata=metadata)
            files.append(buf.getvalue())
        return files[0], files[1]
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_pdf import PdfFile, RendererPdf

    pdf = io.BytesIO()

    def draw(renderer):  # what savefig calls with the SVG renderer, once
        del fig.draw
        width, height = fig.get_size_inches()
        file = PdfFile(pdf, metadata=pdf_metadata)
        try:
            file.newPage(width, height)
            second = MixedModeRenderer(fig, width, height, renderer.dpi,
                                       RendererPdf(file, renderer.dpi, height, width))
            Figure.draw(fig, _Pair(renderer, second))
            second.finalize()
            file.finalize()
        finally:
            file.close()

    svg = io.BytesIO()
    fig.draw = draw
    try:
        fig.savefig(svg, format="svg", metadata=svg_metadata)
    finally:
        fig.__dict__.pop("draw", None)
    return svg.getvalue(), pdf.getvalue()
