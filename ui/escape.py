"""Text from data or from a URL, made inert for the surface that draws it: one module, used at every output point.

Why: a category, a region name, a 承办单位 or a ``?region=`` value is written by someone else. Streamlit renders
Markdown (links, images fetched from any host, ``:red[…]`` directives, ``$…$`` formulas) in st.markdown,
st.warning/info/error/success, st.toast, st.caption, st.title and st.subheader; st.markdown with
``unsafe_allow_html`` and st.html render HTML; plotly reads a subset of HTML (``<a href>``, ``<b>``, ``<br>``) in
every text, label and tick. A value quoted in any of them must show as the characters it is, nothing more.

* :func:`md` — for every Markdown surface, with or without ``unsafe_allow_html``: HTML special characters become
  entities and so does every ASCII punctuation Markdown or Streamlit acts on, so ``![x](http://h/i.png)`` shows
  as those characters and no link, image, emphasis, directive or autolink is formed. The same string is safe in
  HTML text and in a quoted HTML attribute.
* :func:`html` — for st.html blocks and SVG text (no Markdown pass): plain HTML escaping.
* :func:`plot` / :func:`safe_figure` — plotly: HTML-escape every data string the figure will draw (x, y,
  hovertext, labels, customdata, trace names, tick texts). Plotly turns the entities back into characters, never
  into markup. ``text`` is left to the caller (our bar labels use ``<br>``): data put there goes through
  :func:`plot` first.
* pydeck tooltips use deck.gl's ``text`` mode (set as text, not HTML; ``geo.layers``); :func:`deck` is the guard
  for any field that ever goes into an ``html`` tooltip.
"""
from __future__ import annotations

import html as _html
import re

#: ASCII characters with a meaning in CommonMark, GFM (autolinks, tables, strikethrough) or Streamlit's Markdown
#: (``:color[…]``, ``:material/…:``, ``$math$``); each becomes a numeric character reference.
_MD_ACTIVE = "\\`*_{}[]()#+-.!|~:$<>&\"'=/@^%"
_MD_TABLE = {ord(c): f"&#{ord(c)};" for c in _MD_ACTIVE}
_MD_TABLE[ord("\n")] = " "   # a line break could start a heading, a list or a block quote
_MD_TABLE[ord("\r")] = " "
_MD_TABLE[ord("@")] = "&#64;\u200b"  # GFM links e-mail addresses found in the *decoded* text: break them
#: GFM also links http://, https:// and www. found in the decoded text (entities do not stop it): a zero-width
#: space after the scheme or the www keeps the characters and breaks the link.
_AUTOLINK_RE = re.compile(r"(?i)(https?|www)(?=&#)")

#: plotly trace attributes that hold text it draws (strings in them are escaped; numbers are left alone).
PLOT_TEXT_ATTRS = ("x", "y", "hovertext", "labels", "ids", "customdata", "parents", "name", "legendgroup")


def md(value: object, keep_newlines: bool = False) -> str:
    """``value`` as literal text inside Markdown (and inside the HTML of st.markdown(unsafe_allow_html=True)).

    ``keep_newlines``: line breaks stay (for HTML that turns them into ``<br>`` itself)."""
    table = _MD_TABLE if not keep_newlines else {**_MD_TABLE, ord("\n"): "\n"}
    return _AUTOLINK_RE.sub("\\1\u200b", str(value).translate(table))


def html(value: object) -> str:
    """``value`` as literal text inside an HTML block (st.html, SVG): &, <, >, quotes escaped."""
    return _html.escape(str(value), quote=True)


def deck(value: object) -> str:
    """A field for a pydeck tooltip: HTML-escaped, so an ``html`` tooltip shows it as text too."""
    return html(value)


def plot(value: object) -> object:
    """A value drawn by plotly: strings HTML-escaped (so ``<a href=…>`` stays text), anything else unchanged."""
    if isinstance(value, str):
        return _html.escape(value, quote=False)
    if isinstance(value, (list, tuple)):
        return type(value)(plot(v) for v in value)
    return value


def _escape_array(values):
    import numpy as np

    if isinstance(values, np.ndarray):
        if values.dtype.kind in "OUS":
            return np.vectorize(plot, otypes=[object])(values) if values.size else values
        return values
    if isinstance(values, (list, tuple)):
        return [_escape_array(v) if isinstance(v, (list, tuple)) else plot(v) for v in values]
    return plot(values)


def safe_figure(fig):
    """The figure with every data string of every trace HTML-escaped (in place; returned for chaining).

    Titles, axis titles and templates come from ui.strings (our own text, which may hold ``<br>`` and
    ``<extra>``), so they are left alone; data never goes into them unescaped.

    Only a value that escaping changed is written back: plotly validates every assignment again (numbers and
    plain names took most of a chart's styling time), and a value equal to its escaped form is already safe."""
    for trace in fig.data:
        for attr in PLOT_TEXT_ATTRS:
            if attr not in trace:  # not a property of this trace type (asking would build a "did you mean" message)
                continue
            try:
                values = trace[attr]
            except (KeyError, ValueError):
                continue
            if values is None:
                continue
            escaped = plot(values) if attr in ("name", "legendgroup") else _escape_array(values)
            if _changed(values, escaped):
                trace[attr] = escaped
    for axis in ("xaxis", "yaxis"):
        ax = fig.layout[axis] if axis in fig.layout else None
        ticktext = getattr(ax, "ticktext", None) if ax is not None else None
        if ticktext is not None:
            escaped = _escape_array(ticktext)
            if _changed(ticktext, escaped):
                ax.ticktext = escaped
    return fig


def _changed(values, escaped) -> bool:
    """Whether escaping changed anything (plain strings and numbers come back equal; numeric arrays the same)."""
    import numpy as np

    if escaped is values:
        return False
    if isinstance(values, np.ndarray) or isinstance(escaped, np.ndarray):
        a, b = np.asarray(values, dtype=object), np.asarray(escaped, dtype=object)
        return a.shape != b.shape or not all(_same(x, y) for x, y in zip(a.ravel().tolist(), b.ravel().tolist()))
    if isinstance(values, (list, tuple)) and isinstance(escaped, (list, tuple)):
        return len(values) != len(escaped) or not all(_same(x, y) for x, y in zip(values, escaped))
    return not _same(values, escaped)


def _same(x, y) -> bool:
    """Equal as drawn: the same object, or equal strings (a list inside a list compared element by element)."""
    if x is y:
        return True
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y))
    return isinstance(x, str) and isinstance(y, str) and x == y
