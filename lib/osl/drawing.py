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
    the two count y in opposite senses), everything else is answered by the first. With
    ``boxes`` (a list), the box of every text drawn is appended to it (see
    :func:`svg_and_pdf`)."""

    def __init__(self, first, second, boxes=None):
        self._first, self._second, self._boxes = first, second, boxes
        self._raster_depth, self._rasterizing = 0, False  # kept here by allow_rasterization

    def _text_box(self, x, y, s, prop, angle, ismath):
        """The box (x0, y0, x1, y1), in the first renderer's pixels counted from the bottom, of
        a text drawn at (x, y) (its baseline's left end, as the first renderer counts y)."""
        import math
        first = self._first
        w, h, d = first.get_text_width_height_descent(s, prop, ismath)
        if first.flipy():
            y = first.get_canvas_width_height()[1] - y
        c, si = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        xs, ys = [], []
        for u, v in ((0.0, -d), (w, -d), (w, h - d), (0.0, h - d)):
            xs.append(x + u * c - v * si)
            ys.append(y + u * si + v * c)
        return min(xs), min(ys), max(xs), max(ys)

    def new_gc(self):
        return _PairGC(self._first.new_gc(), self._second.new_gc())

    def __getattr__(self, name):
        first, second = self.__dict__["_first"], self.__dict__["_second"]
        if name in _DRAW:
            f, s = getattr(first, name), getattr(second, name)
            flip = name in ("draw_text", "draw_tex") and first.flipy() != second.flipy()
            height = first.get_canvas_width_height()[1]

            boxes = self.__dict__["_boxes"] if name == "draw_text" else None

            def draw(gc, *args, **kwargs):
                g1, g2 = gc.pair if isinstance(gc, _PairGC) else (gc, gc)
                f(g1, *args, **kwargs)
                if boxes is not None and args[2].strip():
                    x, y, text, prop, angle = args[:5]
                    box = _clipped(self._text_box(x, y, text, prop, angle,
                                                  args[5] if len(args) > 5 else
                                                  kwargs.get("ismath", False)), g1)
                    if box is not None:
                        boxes.append(box)
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


def _clipped(box, gc):
    """``box`` cut to the graphics state's clip rectangle and clip path (what is drawn of
    it), or None if nothing is."""
    x0, y0, x1, y1 = box
    clips = []
    rect = gc.get_clip_rectangle()
    if rect is not None:
        clips.append(rect.extents)
    path, transform = gc.get_clip_path()
    if path is not None:
        clips.append(transform.transform_path(path).get_extents().extents)
    for cx0, cy0, cx1, cy1 in clips:
        x0, y0, x1, y1 = max(x0, cx0), max(y0, cy0), min(x1, cx1), min(y1, cy1)
    return (x0, y0, x1, y1) if x0 <= x1 and y0 <= y1 else None


def svg_and_pdf(fig, *, svg_metadata: dict | None = None, pdf_metadata: dict | None = None,
                text_boxes: list | None = None) -> tuple[bytes, bytes]:
    """The SVG and the PDF of ``fig`` from one drawing, with everything ``savefig`` sets for
    the SVG (resolution, colours, the ``draw_event`` its listeners see). Returns both files'
    bytes. (A figure that still has a layout engine, which ``savefig`` would draw once more
    to settle, is saved twice.)

    ``text_boxes``: a list to which the box ``(x0, y0, x1, y1)`` of every text drawn is
    appended, in the SVG's pixels counted from the bottom left (rotation included), or
    ``None``; it stays empty for a figure saved twice."""
    from matplotlib.figure import Figure

    from .errors import ArgumentError
    if not isinstance(fig, Figure):
        raise ArgumentError(f"svg_and_pdf: fig must be a matplotlib Figure (plt.figure() or "
                            f"plt.subplots()), got {type(fig).__name__}.")
    if text_boxes is not None and not isinstance(text_boxes, list):
        raise ArgumentError(f"svg_and_pdf: text_boxes must be a list or None, got "
                            f"{type(text_boxes).__name__}.")
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
            Figure.draw(fig, _Pair(renderer, second, text_boxes))
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
