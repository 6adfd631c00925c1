"""Both pools of the neuron: topics (with how they rank against the layer's random baseline), shortlisted sets, pool."""

from __future__ import annotations

from superpose.report.sections import Section

JS = r"""
const names = {pos: "Positive pool (pushed up)", neg: "Negative pool (pushed down)"};
let html = '<p class="note">NPMI: mean pairwise NPMI of the topic\'s words on the reference corpus; ' +
  'beats random: share of the layer\'s random-baseline topics with a lower NPMI.</p>';
["pos", "neg"].forEach(function (p) {
  const side = ctx.unit[p];
  html += '<div class="' + p + '"><h3>' + names[p] + '</h3>';
  if (!side) { html += '<p class="note">not mined</p></div>'; return; }
  const rows = side.t.map(function (t) {
    const share = ctx.randomShare(t[1]);
    return [String(t[0]), ctx.esc(ctx.words(t[5])), ctx.num(t[1]), share === null ? "" : Math.round(100 * share) + "%",
            ctx.esc(t[2]), ctx.num(t[3]), String(t[4])];
  });
  const header = ["rank", "words", "NPMI", "beats random", "solver", "gap", "pairs never in a window"];
  if (!rows.length) { html += '<p class="note">No topic: no shortlisted set gave one.</p>'; }
  else {
    html += ctx.table(header, rows.slice(0, 5), [0, 2, 3, 5, 6]);
    if (rows.length > 5) {
      html += '<details><summary>' + (rows.length - 5) + ' more topic(s)</summary>' +
        ctx.table(header, rows.slice(5), [0, 2, 3, 5, 6]) + '</details>';
    }
  }
  if (side.isets === null) {
    html += '<p class="note">Shortlisted sets and pool: not kept by this run (bulk tables hold counts only).</p>';
  } else {
    html += side.isets.length ? '<details><summary>' + side.isets.length + ' shortlisted set(s)</summary><ol>' +
      side.isets.map(function (s) { return '<li>' + ctx.esc(ctx.words(s)) + '</li>'; }).join("") + '</ol></details>'
      : '<p class="note">No shortlisted set.</p>';
    html += '<details><summary>pool: ' + side.pool.length + ' corpus words, by logit rank</summary><p class="pool">' +
      ctx.esc(ctx.words(side.pool)) + '</p></details>';
  }
  html += '</div>';
});
return html;
"""

SECTION = Section("topics", "Topics", JS)
