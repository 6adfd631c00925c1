(function () {
  const M = SP.meta, cache = {};
  const main = document.getElementById("page");
  function parse() {
    const m = /^#L(\d+)_N(\d+)$/.exec(location.hash);
    return m ? {layer: Number(m[1]), neuron: Number(m[2])} : null;
  }
  function link(layer, neuron, text) { return '<a href="#L' + layer + '_N' + neuron + '">' + text + "</a>"; }
  function neighbours(at, layerData) {
    const list = layerData.neurons, i = list.indexOf(at.neuron), L = M.layers, li = L.indexOf(at.layer);
    const links = ['<a href="index.html">index</a>'];
    if (i > 0) { links.push(link(at.layer, list[i - 1], "&larr; layer " + at.layer + " neuron " + list[i - 1])); }
    else if (li > 0) { const b = M.bounds[L[li - 1]]; links.push(link(L[li - 1], b[1], "&larr; layer " + L[li - 1] + " neuron " + b[1])); }
    if (i < list.length - 1) { links.push(link(at.layer, list[i + 1], "layer " + at.layer + " neuron " + list[i + 1] + " &rarr;")); }
    else if (li < L.length - 1) { const b = M.bounds[L[li + 1]]; links.push(link(L[li + 1], b[0], "layer " + L[li + 1] + " neuron " + b[0] + " &rarr;")); }
    return "<nav>" + links.join("") + "</nav>";
  }
  function render(at) {
    const layerData = cache[at.layer], unit = layerData && layerData.units[String(at.neuron)];
    document.title = "layer " + at.layer + " neuron " + at.neuron + ": " + M.run.model + " " + M.run.mode;
    if (!unit) {
      main.innerHTML = '<nav><a href="index.html">index</a></nav><h1>Layer ' + at.layer + ", neuron " + at.neuron +
        '</h1><p class="missing">This neuron is not in the report.</p>';
      return;
    }
    unit.layer = at.layer; unit.neuron = at.neuron;
    const glance = [];
    ["pos", "neg"].forEach(function (p) {
      const side = unit[p];
      if (side) { glance.push(side.t.length + " " + p + " topic(s)" + (side.t.length ? ", best NPMI " + SP.num(side.t[0][1]) : "")); }
    });
    const ex = unit.s.explanation;
    if (ex) { const c = ex.scores.filter(function (s) { return s[0] === "correlation"; })[0]; if (c && c[1] !== null) { glance.push("LLM explanation score " + SP.num(c[1])); } }
    // what this neuron lacks, only where it differs from most neurons of the report (those are said once, in the index)
    const odd = M.missing.filter(function (k) { return ((unit.miss >> k.bit) & 1) === 1 && !k.majority; });
    const warnings = odd.map(function (k) {
      let label = k.label;
      if (k.bit === 0) { label = unit.req ? "not mined yet (unfinished run)" : "not in the mining results"; }
      return '<div class="missing">' + SP.esc(label) + "</div>";
    }).join("");
    const ctx = {unit: unit, layer: layerData, meta: M, esc: SP.esc, num: SP.num, table: SP.table, words: SP.words,
                 summaryTable: SP.summaryTable, randomShare: function (score) {
                   const r = layerData.random;
                   if (!r.length) { return null; }
                   let lo = 0, hi = r.length;
                   while (lo < hi) { const mid = (lo + hi) >> 1; if (r[mid] < score) { lo = mid + 1; } else { hi = mid; } }
                   return lo / r.length;
                 }};
    const parts = SP.sections.map(function (section) {
      ctx.data = unit.s[section.id] === undefined ? null : unit.s[section.id];
      const html = section.render(ctx);
      return html === null ? "" : '<section id="section-' + section.id + '"><h2>' + SP.esc(section.title) + "</h2>" + html + "</section>";
    });
    main.innerHTML = "<header>" + neighbours(at, layerData) + "<h1>Layer " + at.layer + ", neuron " + at.neuron + "</h1>" +
      '<p class="glance">' + SP.esc(glance.join("; ")) + "</p>" + M.metaLine + "</header>" + warnings + parts.join("\n");
    SP.timing.rendered = performance.now();
  }
  function go() {
    const at = parse();
    if (!at) { main.innerHTML = '<nav><a href="index.html">index</a></nav><p class="missing">No neuron named: open neuron.html#L{layer}_N{neuron} from the index.</p>'; return; }
    if (cache[at.layer] || M.layers.indexOf(at.layer) < 0) { render(at); return; }
    SP.layerLoaded = function (data) { cache[data.layer] = data; };
    const name = "data/layer_" + String(at.layer).padStart(2, "0") + ".js";
    SP.load(name, function (error) {
      if (error) { main.innerHTML = '<p class="missing">' + SP.esc(error.message) + "</p>"; return; }
      render(at);
    });
  }
  window.addEventListener("hashchange", go);
  go();
})();
