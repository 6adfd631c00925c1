(function () {
  const U = SP.units, M = SP.meta, n = U.layer.length, PAGE = 100;
  const body = document.querySelector("#neurons tbody"), headRow = document.querySelector("#neurons thead tr");
  const $ = function (id) { return document.getElementById(id); };
  let rows = new Int32Array(n).map(function (_, i) { return i; });
  let mode = "units", sortIndex = -1, ascending = true, page = 0, T = null, postings = null;
  function href(i) { return "neuron.html#L" + U.layer[i] + "_N" + U.neuron[i]; }
  function tags(i) {
    return M.missing.filter(function (k) {
      return k.count > 0 && k.count < n && (((U.miss[i] >> k.bit) & 1) === 1) !== k.majority;
    }).map(function (k) { return '<span class="tag">' + SP.esc(k.majority ? k.present : k.label) + '</span>'; })
      .join("<br>");
  }
  const unitCols = [
    {name: "layer", num: true, key: function (i) { return U.layer[i]; }, cell: function (i) { return U.layer[i]; }},
    {name: "neuron", num: true, key: function (i) { return U.neuron[i]; },
     cell: function (i) { return '<a href="' + href(i) + '">' + U.neuron[i] + "</a>"; }},
    {name: "+ topics", num: true, key: function (i) { return U.tp[i] < 0 ? null : U.tp[i]; },
     cell: function (i) { return U.tp[i] < 0 ? "" : U.tp[i]; }},
    {name: "\u2212 topics", num: true, key: function (i) { return U.tn[i] < 0 ? null : U.tn[i]; },
     cell: function (i) { return U.tn[i] < 0 ? "" : U.tn[i]; }},
    {name: "best NPMI +", num: true, key: function (i) { return U.bp[i]; }, cell: function (i) { return SP.num(U.bp[i]); }},
    {name: "best NPMI \u2212", num: true, key: function (i) { return U.bn[i]; },
     cell: function (i) { return SP.num(U.bn[i]); }},
    {name: "best topic", key: function (i) { return U.best ? U.best[i] : ""; },
     cell: function (i) { return U.best ? SP.esc(U.best[i]) : "\u2026"; }, cls: "words-col"}];
  if (M.inputs.explanations) {
    unitCols.push({name: "LLM explanation", key: function (i) { return U.expl[i] || ""; },
                   cell: function (i) { return SP.esc(U.expl[i] || ""); }, cls: "words-col"});
    unitCols.push({name: "LLM score", num: true, key: function (i) { return U.llm[i]; },
                   cell: function (i) { return SP.num(U.llm[i]); }});
  }
  if (M.compareTopicScore) {
    unitCols.push({name: "topic score (compare)", num: true, key: function (i) { return U.cmp[i]; },
                   cell: function (i) { return SP.num(U.cmp[i]); }});
  }
  if (M.missing.some(function (k) { return k.count > 0 && k.count < n; })) {  // only when some unit differs
    unitCols.push({name: "notes", key: function (i) { return tags(i); }, cell: tags, cls: "notes-col"});
  }
  const hitCols = [
    {name: "layer", num: true, key: function (t) { return U.layer[T.unit[t]]; },
     cell: function (t) { return U.layer[T.unit[t]]; }},
    {name: "neuron", num: true, key: function (t) { return U.neuron[T.unit[t]]; },
     cell: function (t) { return '<a href="' + href(T.unit[t]) + '">' + U.neuron[T.unit[t]] + "</a>"; }},
    {name: "polarity", key: function (t) { return T.pol[t]; }, cell: function (t) { return T.pol[t] ? "neg" : "pos"; }},
    {name: "rank", num: true, key: function (t) { return T.rank[t]; }, cell: function (t) { return T.rank[t]; }},
    {name: "NPMI", num: true, key: function (t) { return T.score[t]; }, cell: function (t) { return SP.num(T.score[t]); }},
    {name: "topic", key: function (t) { return topicWords(t); }, cell: function (t) { return SP.esc(topicWords(t)); },
     cls: "words-col"}];
  function cols() { return mode === "units" ? unitCols : hitCols; }
  function topicWords(t) { return SP.words(T.words.slice(T.start[t], T.start[t] + T.len[t])); }

  function drawHead() {
    headRow.innerHTML = cols().map(function (c, i) {
      const sort = i === sortIndex ? ' aria-sort="' + (ascending ? "ascending" : "descending") + '"' : "";
      return '<th' + (c.num ? ' class="num"' : "") + sort + '><button type="button" data-col="' + i + '">' +
        SP.esc(c.name) + "</button></th>";
    }).join("");
  }
  function draw() {
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    page = Math.min(page, pages - 1);
    const start = page * PAGE, stop = Math.min(rows.length, start + PAGE), c = cols();
    const html = [];
    for (let r = start; r < stop; r++) {
      const i = rows[r];
      html.push((mode === "units" ? '<tr data-layer="' + U.layer[i] + '">' : "<tr>") + c.map(function (col) {
        return '<td class="' + (col.num ? "num" : (col.cls || "")) + '">' + col.cell(i) + "</td>";
      }).join("") + "</tr>");
    }
    body.innerHTML = html.join("\n");
    $("shown").textContent = rows.length.toLocaleString("en");
    $("page-info").textContent = rows.length ? "rows " + (start + 1).toLocaleString("en") + "\u2013" +
      stop.toLocaleString("en") + " of " + rows.length.toLocaleString("en") : "no rows";
    $("prev").disabled = page === 0;
    $("next").disabled = page >= pages - 1;
    SP.timing.drawn = performance.now();
  }
  function sortRows() {
    if (sortIndex < 0) { return; }
    const col = cols()[sortIndex], keys = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) { keys[r] = col.key(rows[r]); }
    const order = new Int32Array(rows.length).map(function (_, r) { return r; });
    order.sort(function (a, b) {
      const x = keys[a], y = keys[b];
      const xe = x === null || x === undefined || x === "", ye = y === null || y === undefined || y === "";
      if (xe || ye) { return xe === ye ? a - b : (xe ? 1 : -1); }  // empty cells last in both directions
      if (x === y) { return a - b; }
      return (x < y ? -1 : 1) * (ascending ? 1 : -1);
    });
    rows = order.map(function (r) { return rows[r]; });
  }
  function buildPostings() {
    const counts = new Int32Array(SP.vocab.length + 1);
    T.start = new Int32Array(T.len.length);
    let at = 0;
    for (let t = 0; t < T.len.length; t++) { T.start[t] = at; at += T.len[t]; }
    for (let w = 0; w < T.words.length; w++) { counts[T.words[w] + 1]++; }
    for (let v = 0; v < SP.vocab.length; v++) { counts[v + 1] += counts[v]; }
    const fill = counts.slice(), list = new Int32Array(T.words.length);
    for (let t = 0; t < T.len.length; t++) {
      for (let w = T.start[t]; w < T.start[t] + T.len[t]; w++) { list[fill[T.words[w]]++] = t; }
    }
    const ids = new Map();
    SP.vocab.forEach(function (word, i) { ids.set(word, i); });
    postings = {ids: ids, offsets: counts, list: list};
  }
  function lookup(word) {
    const id = postings.ids.get(word);
    return id === undefined ? [] : postings.list.subarray(postings.offsets[id], postings.offsets[id + 1]);
  }
  function search(words) {
    const all = $("match").value === "all", lists = words.map(lookup);
    let hits;
    if (all) {
      lists.sort(function (a, b) { return a.length - b.length; });
      const rest = lists.slice(1).map(function (l) { return new Set(l); });
      hits = Array.from(lists[0] || []).filter(function (t) { return rest.every(function (s) { return s.has(t); }); });
    } else {
      hits = Array.from(new Set(lists.flatMap(function (l) { return Array.from(l); })));
    }
    const pol = $("polarity").value, layer = $("layer-filter").value;
    hits = hits.filter(function (t) {
      return (pol === "" || T.pol[t] === (pol === "neg" ? 1 : 0)) && (layer === "" || String(U.layer[T.unit[t]]) === layer);
    });
    hits.sort(function (a, b) { return (T.score[b] - T.score[a]) || (a - b); });
    return Int32Array.from(hits);
  }
  function withTopics(done) {
    if (T) { done(); return; }
    $("status").textContent = "loading the topics for the word search\u2026";
    SP.topicsLoaded = function (topics) { T = topics; buildPostings(); $("status").textContent = ""; done(); };
    SP.load("data/topics.js", function (error) { if (error) { $("status").textContent = error.message; } });
  }
  function apply() {
    const words = $("filter").value.toLowerCase().split(/\s+/).filter(Boolean), layer = $("layer-filter").value;
    const has = $("has").value;
    if (words.length) {
      withTopics(function () {
        if (mode !== "hits") { sortIndex = -1; }
        mode = "hits";
        rows = search(words);
        $("search-note").textContent = rows.length ? "" : "No topic holds " + $("match").value + " of: " + words.join(" ");
        sortRows(); drawHead(); page = 0; draw(); SP.timing.filtered = performance.now();
      });
      return;
    }
    if (mode !== "units") { sortIndex = -1; }
    mode = "units";
    $("search-note").textContent = "";
    const kept = [];
    for (let i = 0; i < n; i++) {
      if (layer !== "" && String(U.layer[i]) !== layer) { continue; }
      if (has === "pos" && !(U.tp[i] > 0)) { continue; }
      if (has === "neg" && !(U.tn[i] > 0)) { continue; }
      if (has === "none" && (U.tp[i] > 0 || U.tn[i] > 0)) { continue; }
      kept.push(i);
    }
    rows = Int32Array.from(kept);
    sortRows(); drawHead(); page = 0; draw(); SP.timing.filtered = performance.now();
  }
  headRow.addEventListener("click", function (event) {
    const button = event.target.closest("button");
    if (!button) { return; }
    const index = Number(button.dataset.col);
    ascending = index === sortIndex ? !ascending : true;
    sortIndex = index;
    sortRows(); drawHead(); draw();
  });
  let timer = null;
  $("filter").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
  ["match", "polarity", "layer-filter", "has"].forEach(function (id) { $(id).addEventListener("change", apply); });
  $("prev").addEventListener("click", function () { page -= 1; draw(); });
  $("next").addEventListener("click", function () { page += 1; draw(); });
  SP.apply = apply;
  drawHead(); draw();
  SP.timing.firstTable = performance.now();
  // each unit's best topic is most of the table's bytes: loaded once the first page is drawn
  SP.bestLoaded = function (best) { U.best = best; };
  SP.load("data/best.js", function (error) {
    if (error) { $("status").textContent = error.message; return; }
    if (sortIndex >= 0 && cols()[sortIndex].name === "best topic") { sortRows(); }
    draw();
    SP.timing.best = performance.now();
  });
})();
