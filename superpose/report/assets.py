"""The report's stylesheet and script, written next to the pages: nothing is fetched from a network.

The script only sorts and filters the index table; every page reads fine without it.
"""

from __future__ import annotations

CSS = """\
:root { --mined: #d9480f; --random: #868e96; --neg: #1c7ed6; --line: #dee2e6; --muted: #6c757d; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212529;
       margin: 0 auto; max-width: 1200px; padding: 0 20px 40px; }
header { border-bottom: 1px solid var(--line); margin-bottom: 16px; }
h1 { font-size: 22px; margin: 18px 0 4px; }
h2 { font-size: 17px; margin: 24px 0 8px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
a { color: #1864ab; }
.meta, .note { color: var(--muted); }
.glance { font-size: 15px; margin: 0 0 4px; }
.meta span + span::before { content: " · "; }
nav { margin: 8px 0; }
nav a { margin-right: 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f8f9fa; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
tbody tr:hover { background: #f1f3f5; }
.words { min-width: 200px; max-width: 420px; }
.controls { display: flex; gap: 12px; align-items: center; margin: 8px 0; flex-wrap: wrap; }
.controls input[type=search] { width: 320px; padding: 4px 8px; }
.figures { display: flex; flex-wrap: wrap; gap: 16px; }
.figures figure { margin: 0; flex: 1 1 340px; max-width: 600px; }
.figures img { width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 12px; }
.missing { background: #fff4e6; border-left: 4px solid #f08c00; padding: 6px 10px; margin: 8px 0; }
.tag-missing { color: #e8590c; }
.explanation { background: #f8f9fa; border-left: 4px solid #495057; padding: 8px 12px; margin: 6px 0; }
.explanation q { font-size: 16px; }
.pos h3 { color: var(--mined); }
.neg h3 { color: var(--neg); }
details { margin: 4px 0; }
summary { cursor: pointer; color: #343a40; }
.pool { color: #495057; font-size: 13px; }
.record { font: 13px/1.9 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap;
          border: 1px solid var(--line); padding: 4px 8px; margin: 4px 0; word-break: break-word; }
.record .max { color: var(--muted); font-size: 11px; margin-right: 8px; }
.tok { border-radius: 2px; }
"""

JS = """\
"use strict";
// Sort the neuron table by a clicked header, filter its rows by words and layer.
(function () {
  const table = document.getElementById("neurons");
  if (!table) { return; }
  const body = table.tBodies[0];
  const headers = Array.from(table.tHead.rows[0].cells);

  function key(row, index, numeric) {
    const cell = row.cells[index];
    const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    if (!numeric) { return raw.toLowerCase(); }
    const value = parseFloat(raw);
    return Number.isNaN(value) ? null : value;
  }

  function sortBy(index) {
    const header = headers[index];
    const numeric = header.dataset.type === "number";
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const x = key(a, index, numeric);
      const y = key(b, index, numeric);
      if (x === y) { return 0; }
      if (x === null || x === "") { return 1; }  // empty cells last in both directions
      if (y === null || y === "") { return -1; }
      const order = x < y ? -1 : 1;
      return ascending ? order : -order;
    });
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    body.append.apply(body, rows);
  }

  headers.forEach(function (header, index) {
    const button = header.querySelector("button");
    if (button) { button.addEventListener("click", function () { sortBy(index); }); }
  });

  const words = document.getElementById("filter");
  const layer = document.getElementById("layer-filter");
  const shown = document.getElementById("shown");

  function filter() {
    const wanted = words.value.toLowerCase().split(/\\s+/).filter(Boolean);
    let count = 0;
    for (const row of body.rows) {
      const text = row.textContent.toLowerCase();
      const keep = wanted.every(function (w) { return text.includes(w); }) &&
        (layer.value === "" || row.dataset.layer === layer.value);
      row.hidden = !keep;
      if (keep) { count += 1; }
    }
    shown.textContent = String(count);
  }

  words.addEventListener("input", filter);
  layer.addEventListener("change", filter);
  filter();
})();
"""
