"""style.css, the one stylesheet every page links (kept as a string: no package data to install)."""

STYLE_CSS = """\
:root { --ink: #222; --muted: #666; --line: #ddd; --soft: #f6f7f9; --accent: #1f5fa8; --warn: #9a3412; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       background: #fff; }
nav { background: #1b2430; padding: 0.6rem 1.5rem; }
nav a { color: #e8eef6; margin-right: 1.4rem; text-decoration: none; font-weight: 600; }
nav a:hover { text-decoration: underline; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin: 0.8rem 0 0.3rem; overflow-wrap: anywhere; }
h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 1px solid var(--line); padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.3rem; }
h4 { font-size: 0.9rem; margin: 0.6rem 0 0.2rem; color: var(--muted); }
a { color: var(--accent); }
.provenance { color: var(--muted); font-size: 0.9rem; overflow-wrap: anywhere; }
.notice { background: #fff7e6; border: 1px solid #f5c26b; padding: 0.6rem 0.9rem; border-radius: 4px; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; width: 100%; }
caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: 0.85rem; padding-top: 0.3rem; }
th, td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.55rem; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); font-style: italic; }
table.ranking tbody tr:nth-child(odd) { background: #fbfbfc; }
figure { margin: 0.5rem 0 1rem; overflow-x: auto; }
figcaption { color: var(--muted); font-size: 0.85rem; max-width: 60rem; }
svg.chart { max-width: 100%; height: auto; background: #fff; font-family: inherit; }
svg .point:hover, svg .bar:hover, svg .cell:hover { opacity: 0.8; }
.small-multiples { display: flex; flex-wrap: wrap; gap: 1rem; }
dl.headline { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 0.4rem 1rem;
              background: var(--soft); padding: 0.8rem 1rem; border-radius: 4px; }
dl.headline dt { color: var(--muted); font-size: 0.8rem; }
dl.headline dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
article.sample { border: 1px solid var(--line); border-radius: 4px; padding: 0.5rem 0.9rem; margin: 0.8rem 0; }
.sample-head { margin: 0.2rem 0; overflow-wrap: anywhere; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--soft); padding: 0.4rem 0.6rem; margin: 0;
      font-size: 0.85rem; }
.kind { display: inline-block; padding: 0 0.45rem; border-radius: 3px; font-size: 0.8rem; font-weight: 600; }
.kind-shown { background: #e6f4ea; color: #1e6b34; }
.kind-withheld { background: #fdecea; color: var(--warn); }
.muted { color: var(--muted); font-style: italic; }
.error { color: var(--warn); }
.images img { max-width: 256px; max-height: 256px; border: 1px solid var(--line); margin: 0.3rem 0.5rem 0.3rem 0; }
table.verdicts { width: auto; font-size: 0.85rem; }
code { font-size: 0.85rem; }
"""
