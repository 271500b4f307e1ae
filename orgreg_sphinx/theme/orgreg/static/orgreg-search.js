/* orgreg-search.js: find the images that hold a tool, package or label, with
   facets, from the registry's sharded contents index (api/contents/).
   A query downloads the index, the listings of split shards on its way, and the
   first part of the one shard holding its name (about 64 KiB at most, whatever
   the registry's size); never a file that grows with the registry. */
(function () {
  "use strict";
  var section = document.getElementById("orgreg-find");
  var input = document.getElementById("orgreg-search-input");
  if (!section || !input || !window.fetch) { return; }
  var indexUrl = section.getAttribute("data-index");
  var root = indexUrl.slice(0, indexUrl.length - "api/contents/index.json".length);
  var pageUrl = section.getAttribute("data-page");
  var status = section.querySelector(".orgreg-find-status");
  var facetBox = section.querySelector(".orgreg-facets");
  var resultBox = section.querySelector(".orgreg-find-results");
  var PAGE_ROWS = 50;
  var FACETS = [
    ["org", "Organization"], ["kind", "Kind"], ["version", "Version"],
    ["arch", "Architecture"], ["signed", "Signed"], ["deprecated", "Deprecated"]
  ];
  var cache = {};
  var state = { query: "", entries: [], shard: null, parts: 1, loaded: 0, selected: {}, rows: PAGE_ROWS };
  var index = null;

  function get(path) {
    if (!cache[path]) {
      cache[path] = fetch(root + path).then(function (r) {
        if (!r.ok) { throw new Error(r.status + " " + path); }
        return r.json();
      });
    }
    return cache[path];
  }

  /* the shard key of a lower-cased name at a length: as contentsapi.shard_of */
  function shardOf(name, length) {
    var chars = Array.from(name).slice(0, length).map(function (c) {
      return /^[a-z0-9]$/.test(c) ? c : "_";
    });
    while (chars.length < length) { chars.push("_"); }
    return chars.join("");
  }

  /* the shard holding name, following split listings (contentsapi.shard_paths) */
  function findShard(name) {
    var length = 2, last = Array.from(name).length + 1;
    function step(listing) {
      for (; length <= last; length++) {
        var key = shardOf(name, length);
        if (listing.shards && Object.prototype.hasOwnProperty.call(listing.shards, key)) {
          return { key: key, parts: (listing.parts && listing.parts[key]) || 1 };
        }
        if (listing.split && listing.split.indexOf(key) >= 0) {
          length++;
          return get(index.shardPath.replace("{shard}", key)).then(step);
        }
      }
      /* no shard holds the name itself: names beginning with it are spread over
         several shards when keys of this listing begin with it */
      var stem = shardOf(name, Array.from(name).length);
      var keys = Object.keys(listing.shards || {}).concat(listing.split || []);
      return keys.some(function (k) { return k.indexOf(stem) === 0; }) ? { more: true } : null;
    }
    return Promise.resolve(step(index));
  }

  function partPath(key, part) {
    return part ? index.partPath.replace("{shard}", key).replace("{part}", part)
                : index.shardPath.replace("{shard}", key);
  }

  /* the entries of a shard part that match the query: the name, or names that
     begin with it; the words after the first narrow by version */
  function matches(body, name, versions) {
    var out = [];
    Object.keys(body.names).forEach(function (key) {
      if (key.indexOf(name) !== 0) { return; }
      body.names[key].forEach(function (p) {
        var tag = body.tags[p[0]], ref = tag[0];
        if (versions.length && !versions.some(function (v) { return p[2].toLowerCase().indexOf(v) === 0; })) { return; }
        out.push({
          ref: ref, kind: p[1], version: p[2] || "", name: p[3] || key, exact: key === name,
          arch: tag[1] || "unknown", signed: tag[2] ? "signed" : "not signed",
          deprecated: tag[3] ? "deprecated" : "current",
          org: ref.split("/")[0]
        });
      });
    });
    return out;
  }

  function search(text) {
    var words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
    state.query = text;
    state.selected = {};
    state.rows = PAGE_ROWS;
    if (!words.length) { state.entries = []; render(); return Promise.resolve(); }
    var name = words[0], versions = words.slice(1);
    if (Array.from(name).length < 2) {
      state.entries = []; state.shard = null;
      status.textContent = "Type at least two characters to search the software in the images.";
      clear();
      return Promise.resolve();
    }
    status.textContent = "Searching…";
    return findShard(name).then(function (shard) {
      if (state.query !== text) { return; }
      if (shard && shard.more) {
        state.entries = []; state.shard = null; clear();
        status.textContent = "Many names begin with " + JSON.stringify(name) + ": type more of the name.";
        return;
      }
      state.shard = shard; state.name = name; state.versions = versions;
      state.parts = shard ? shard.parts : 0;
      state.loaded = 0;
      state.entries = [];
      if (!shard) { render(); return; }
      return loadPart();
    }).catch(function (err) {
      status.textContent = "The software index could not be read (" + err.message + ").";
    });
  }

  function loadPart() {
    var query = state.query, shard = state.shard, number = state.loaded;
    return get(partPath(shard.key, number)).then(function (body) {
      if (state.query !== query) { return; }
      state.entries = state.entries.concat(matches(body, state.name, state.versions));
      state.loaded = number + 1;
      render();
    });
  }

  function keep(entry, except) {
    return FACETS.every(function (f) {
      var chosen = state.selected[f[0]];
      return f[0] === except || !chosen || !chosen.length || chosen.indexOf(entry[f[0]]) >= 0;
    });
  }

  function clear() {
    facetBox.textContent = "";
    resultBox.textContent = "";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function renderFacets() {
    facetBox.textContent = "";
    FACETS.forEach(function (facet) {
      var key = facet[0], counts = {}, tagsSeen = {};
      state.entries.forEach(function (e) {
        if (!keep(e, key)) { return; }
        var seen = tagsSeen[e[key]] || (tagsSeen[e[key]] = {});
        if (!seen[e.ref]) { seen[e.ref] = true; counts[e[key]] = (counts[e[key]] || 0) + 1; }
      });
      var values = Object.keys(counts).sort();
      var chosen = state.selected[key] || [];
      chosen.forEach(function (v) { if (values.indexOf(v) < 0) { values.push(v); } });
      if (values.length < 2 && !chosen.length) { return; }
      var box = el("fieldset", { "class": "orgreg-facet", "data-facet": key });
      box.appendChild(el("legend", {}, facet[1]));
      values.forEach(function (value) {
        var label = el("label", { "class": "orgreg-facet-value" });
        var check = el("input", { type: "checkbox", value: value });
        check.checked = chosen.indexOf(value) >= 0;
        check.addEventListener("change", function () {
          var list = state.selected[key] || (state.selected[key] = []);
          if (check.checked) { list.push(value); } else { list.splice(list.indexOf(value), 1); }
          state.rows = PAGE_ROWS;
          render({ key: key, value: value });
        });
        label.appendChild(check);
        label.appendChild(document.createTextNode(" " + (value || "(none)") + " "));
        label.appendChild(el("span", { "class": "orgreg-facet-count" }, "(" + (counts[value] || 0) + ")"));
        box.appendChild(label);
      });
      facetBox.appendChild(box);
    });
  }

  function tagLink(ref) {
    var at = ref.lastIndexOf(":"), ns = ref.slice(0, at), tag = ref.slice(at + 1);
    return pageUrl.replace("ORGREG-NS", ns) + "#tag-" + encodeURIComponent(tag);
  }

  function renderResults() {
    var byTag = {}, order = [];
    state.entries.forEach(function (e) {
      if (!keep(e)) { return; }
      if (!byTag[e.ref]) { byTag[e.ref] = []; order.push(e.ref); }
      byTag[e.ref].push(e);
    });
    order.sort(function (a, b) {
      var da = byTag[a][0].deprecated === "deprecated", db = byTag[b][0].deprecated === "deprecated";
      return da === db ? (a < b ? -1 : a > b ? 1 : 0) : (da ? 1 : -1);
    });
    resultBox.textContent = "";
    var more = state.loaded < state.parts;
    var summary = order.length + (order.length === 1 ? " image" : " images") + " hold " +
      JSON.stringify(state.name) + (state.versions.length ? " " + state.versions.join(" ") : "") +
      (more ? " (in the first " + state.loaded + " of " + state.parts + " parts of the index)" : "");
    status.textContent = order.length ? summary : "No image holds " + JSON.stringify(state.query.trim()) + ".";
    if (!order.length && !more) { return; }
    var table = el("table", { "class": "orgreg-find-table" });
    table.appendChild(el("caption", { "class": "orgreg-sr-only" }, "Images holding " + state.query.trim()));
    var head = el("tr");
    ["Image", "Holds", "Facts"].forEach(function (h) { head.appendChild(el("th", { scope: "col" }, h)); });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    order.slice(0, state.rows).forEach(function (ref) {
      var entries = byTag[ref], first = entries[0];
      var row = el("tr", { "data-ref": ref });
      var cell = row.appendChild(el("th", { scope: "row" }));
      cell.appendChild(el("a", { href: tagLink(ref) }, ref));
      var holds = row.appendChild(el("td"));
      entries.forEach(function (e) {
        var chip = holds.appendChild(el("span", { "class": "orgreg-find-hit" }));
        chip.appendChild(el("code", {}, e.name));
        if (e.version) { chip.appendChild(document.createTextNode(" " + e.version)); }
        chip.appendChild(el("span", { "class": "orgreg-find-kind" }, " " + e.kind));
      });
      var facts = row.appendChild(el("td"));
      facts.appendChild(document.createTextNode(first.arch));
      if (first.signed === "signed") { facts.appendChild(el("span", { "class": "orgreg-badge orgreg-badge-signed" }, "signed")); }
      if (first.deprecated === "deprecated") { facts.appendChild(el("span", { "class": "orgreg-badge orgreg-badge-deprecated" }, "deprecated")); }
      body.appendChild(row);
    });
    resultBox.appendChild(table);
    if (order.length > state.rows) {
      var show = el("button", { type: "button", "class": "orgreg-find-more" }, "Show " + Math.min(PAGE_ROWS, order.length - state.rows) + " more images");
      show.addEventListener("click", function () { state.rows += PAGE_ROWS; render(); });
      resultBox.appendChild(show);
    }
    if (more) {
      var load = el("button", { type: "button", "class": "orgreg-find-more" }, "Search the next part of the index");
      load.addEventListener("click", function () { load.disabled = true; loadPart(); });
      resultBox.appendChild(load);
    }
  }

  function render(focusFacet) {
    if (!state.entries.length && !state.shard) {
      clear();
      if (state.query.trim()) { status.textContent = "No image holds " + JSON.stringify(state.query.trim()) + "."; }
      else { status.textContent = ""; }
      return;
    }
    renderFacets();
    renderResults();
    if (focusFacet) {
      var boxes = facetBox.querySelectorAll('[data-facet="' + focusFacet.key + '"] input');
      Array.prototype.forEach.call(boxes, function (box) {
        if (box.value === focusFacet.value) { box.focus(); }
      });
    }
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { search(input.value); }, 200);
  });

  get("api/contents/index.json").then(function (loaded) {
    index = loaded;
    if (!index.tagCount) { return; } /* nothing recorded: Sphinx's search alone */
    section.hidden = false;
    var q = new URLSearchParams(window.location.search).get("q") || "";
    if (q) { input.value = q; }
    return search(q || input.value);
  }).catch(function () { /* no contents index: Sphinx's search alone */ });
})();
