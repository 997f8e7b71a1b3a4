"""plotly.js for the report page, served as a static file from the installed plotly Python
package (``plotly/package_data/plotly.min.js``): no CDN, and the version always matches the
figure specs that ``trialdesk.analysis.plots.interactive`` builds with that package.

Only that one file is exposed (the package's data folder also holds sample datasets), at
``static/plotly/plotly.min.js``; ``collectstatic`` copies it like any app's static file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PUBLIC_PATH = "plotly/plotly.min.js"


def _folder() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data"


class PlotlyFinder(BaseFinder):
    def check(self, **kwargs):  # noqa: ANN003, ANN201
        if not (_folder() / "plotly.min.js").is_file():
            from django.core.checks import Error

            return [Error(f"plotly.min.js is missing from {_folder()}", id="conduct.E001")]
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):  # noqa: ANN003, ANN201
        if path != PUBLIC_PATH:
            return []
        match = str(_folder() / "plotly.min.js")
        return [match] if find_all else match

    def list(self, ignore_patterns):  # noqa: ANN001, ANN201
        storage = FileSystemStorage(location=str(_folder()))
        storage.prefix = "plotly"
        yield "plotly.min.js", storage


#: The stylesheet plotly.js would otherwise inject as an inline <style> (which the site's
#: nonce CSP blocks): its rules, committed as conduct/static/conduct/plotly.css. The report
#: page links it with ``id="plotly.js-style-global" class="no-inline-styles"``, which tells
#: plotly.js not to inject its own. tests/report check that the file matches the installed
#: plotly.js (regenerate: ``python -m trialdesk.conduct.staticfinders``).
CSS_PATH = Path(__file__).resolve().parent / "static" / "conduct" / "plotly.css"


def plotly_css() -> str:
    """The global style rules of the installed plotly.js (its ``build/plotcss`` module)."""
    import re

    source = (_folder() / "plotly.min.js").read_text(encoding="utf-8")
    start = source.find('{"X,X div":')
    if start < 0:
        raise RuntimeError("plotly.min.js: its style rules were not found")
    end = source.index("};", start)
    pairs = re.findall(r'"([^"]+)":(?:\'([^\']*)\'|"([^"]*)")', source[start : end + 1])
    version = re.search(r"plotly\.js v([0-9.]+)", source[:200])
    name = f"plotly.js {version.group(1)}" if version else "plotly.js"
    lines = [f"/* {name}'s global style rules, generated from plotly.min.js: do not edit */"]
    for key, single, double in pairs:
        selector = (
            re.sub(r"^,", " ,", key)
            .replace("X", ".js-plotly-plot .plotly")
            .replace("Y", ".plotly-notifier")
        )
        lines.append(f"{selector} {{{single or double}}}")
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def bundled_style_ids() -> tuple[str, ...]:
    """The ids of the stylesheets bundled into plotly.min.js (MapLibre's, for map traces)
    that it injects as an inline <style> at load unless an element with that id exists.
    The report draws no maps: the page holds an empty element with each id instead, so
    nothing is injected and the CSP has nothing to block."""
    import re

    source = (_folder() / "plotly.min.js").read_text(encoding="utf-8")
    pattern = r'if\(!document\.getElementById\("([0-9a-f]{16,})"\)\)\{var (\w+)=document\.createElement\("style"\)'
    return tuple(m.group(1) for m in re.finditer(pattern, source))


if __name__ == "__main__":
    CSS_PATH.write_text(plotly_css(), encoding="utf-8")
    print(f"wrote {CSS_PATH}")
