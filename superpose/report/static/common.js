"use strict";
window.SP = window.SP || {};
SP.esc = function (value) {
  return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
  });
};
SP.num = function (value, digits) {
  return value === null || value === undefined || Number.isNaN(value) ? "" : Number(value).toFixed(digits || 3);
};
SP.table = function (header, rows, numeric, cls) {
  numeric = numeric || [];
  const head = header.map(function (h, i) {
    return (numeric.indexOf(i) >= 0 ? '<th class="num">' : "<th>") + SP.esc(h) + "</th>";
  }).join("");
  const body = rows.map(function (row) {
    return "<tr>" + row.map(function (c, i) {
      return (numeric.indexOf(i) >= 0 ? '<td class="num">' : "<td>") + c + "</td>";
    }).join("") + "</tr>";
  }).join("\n");
  return '<table' + (cls ? ' class="' + cls + '"' : "") + "><thead><tr>" + head + "</tr></thead><tbody>" + body +
    "</tbody></table>";
};
SP.summaryTable = function (rows) {
  return SP.table(["source", "layer", "polarity", "pools", "share with a topic", "topics per pool", "mean NPMI",
                   "median NPMI", "max NPMI"], rows.map(function (r) {
    return [SP.esc(r.source), SP.esc(r.layer), SP.esc(r.polarity), SP.esc(r.pools), SP.num(r.with_topic),
            SP.num(r.topics_per_pool), SP.num(r.mean_npmi), SP.num(r.npmi_median), SP.num(r.npmi_max)];
  }), [3, 4, 5, 6, 7, 8]);
};
SP.words = function (ids) { return ids.map(function (i) { return SP.vocab[i]; }).join(" "); };
SP.vocabLoaded = function (words) { SP.vocab = words; };
SP.metaLoaded = function (meta) { SP.meta = meta; };
SP.unitsLoaded = function (units) { SP.units = units; };
SP.load = function (src, done) {
  const tag = document.createElement("script");
  tag.src = src;
  tag.onload = function () { done(null); };
  tag.onerror = function () { done(new Error("cannot load " + src)); };
  document.head.appendChild(tag);
};
SP.timing = {};
