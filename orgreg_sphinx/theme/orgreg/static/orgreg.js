/* orgreg theme: progressive enhancement of the registry pages.
 *
 * Every page works without this file (plain usage blocks, full tables). With it:
 * a remembered light/dark toggle, copy buttons on commands and digests, usage
 * tabs, an instant filter over the namespaces, and a tag table that filters,
 * sorts and pages (usable with thousands of tags). No network requests. */
(function () {
  "use strict";

  var STORE_THEME = "orgreg-theme";
  var STORE_TAB = "orgreg-usage-tab";
  var TAG_PAGE = 50;
  var NAMESPACE_PAGE = 200;

  function store(key, value) {
    try {
      if (value === undefined) { return localStorage.getItem(key); }
      localStorage.setItem(key, value);
    } catch (e) { /* storage off (private mode, file://): still works, unremembered */ }
    return null;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; }
      else if (name === "className") { node.className = attrs[name]; }
      else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  /* one polite live region for the whole page (copy confirmations) */
  var announcer = null;
  function announce(message) {
    if (!announcer) {
      announcer = el("div", { className: "orgreg-sr-only", role: "status", "aria-live": "polite" });
      document.body.appendChild(announcer);
    }
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = message; }, 30);
  }

  /* ---------------- light / dark ---------------- */
  function systemDark() {
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }
  function currentDark() {
    var mode = document.documentElement.getAttribute("data-theme");
    return mode ? mode === "dark" : systemDark();
  }
  function applyTheme(mode) {
    document.documentElement.setAttribute("data-theme", mode);
    var pygmentsDark = document.getElementById("pygments_dark_css");
    if (pygmentsDark) { pygmentsDark.media = mode === "dark" ? "all" : "not all"; }
  }
  function setupThemeToggle() {
    var buttons = document.querySelectorAll(".orgreg-theme-toggle");
    function sync() {
      var dark = currentDark();
      buttons.forEach(function (button) {
        button.setAttribute("aria-pressed", dark ? "true" : "false");
        button.title = dark ? "Switch to light mode" : "Switch to dark mode";
      });
    }
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        var mode = currentDark() ? "light" : "dark";
        applyTheme(mode);
        store(STORE_THEME, mode);
        sync();
      });
    });
    if (window.matchMedia) {
      var query = window.matchMedia("(prefers-color-scheme: dark)");
      if (query.addEventListener) { query.addEventListener("change", sync); }
    }
    sync();
  }

  /* ---------------- copy to clipboard ---------------- */
  var COPY_ICON = '<svg aria-hidden="true" viewBox="0 0 16 16"><path fill="currentColor" d="M0 6.75C0 5.78.78 5 1.75 5h1.5a.75.75 0 0 1 0 1.5h-1.5a.25.25 0 0 0-.25.25v7.5c0 .14.11.25.25.25h7.5a.25.25 0 0 0 .25-.25v-1.5a.75.75 0 0 1 1.5 0v1.5A1.75 1.75 0 0 1 9.25 16h-7.5A1.75 1.75 0 0 1 0 14.25Z"/><path fill="currentColor" d="M5 1.75C5 .78 5.78 0 6.75 0h7.5C15.22 0 16 .78 16 1.75v7.5A1.75 1.75 0 0 1 14.25 11h-7.5A1.75 1.75 0 0 1 5 9.25Zm1.75-.25a.25.25 0 0 0-.25.25v7.5c0 .14.11.25.25.25h7.5a.25.25 0 0 0 .25-.25v-7.5a.25.25 0 0 0-.25-.25Z"/></svg>';

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text); });
    }
    return legacyCopy(text);
  }
  function legacyCopy(text) {
    return new Promise(function (resolve, reject) {
      var area = el("textarea", { readonly: "", "aria-hidden": "true" });
      area.value = text;
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function copyButton(label, what, getText, extraClass) {
    var button = el("button", {
      type: "button", className: "orgreg-copy" + (extraClass ? " " + extraClass : ""),
      "aria-label": label, title: label
    });
    button.innerHTML = COPY_ICON;
    var text = el("span", { text: extraClass ? "" : "Copy" });
    if (!extraClass) { button.appendChild(text); }
    var timer = null;
    button.addEventListener("click", function () {
      copyText(getText()).then(function () {
        button.classList.add("orgreg-copied");
        if (!extraClass) { text.textContent = "Copied"; }
        announce(what + " copied to the clipboard");
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          button.classList.remove("orgreg-copied");
          if (!extraClass) { text.textContent = "Copy"; }
        }, 2000);
      }, function () {
        announce("Could not copy: select the text and copy it by hand");
      });
    });
    return button;
  }

  /* the text of a code block: command lines without "$ " prompts when it has some */
  function commandText(pre) {
    var lines = pre.textContent.replace(/\n+$/, "").split("\n");
    var prompted = lines.filter(function (line) { return /^\$ /.test(line); });
    if (prompted.length) { lines = prompted.map(function (line) { return line.slice(2); }); }
    return lines.join("\n");
  }

  /* a tag's name in a row, linked to its view (elsewhere, to its page) */
  var TAG_LINK = 'a.orgreg-tag-link, a[href^="#tag-"]';

  /* a view's facts (written directly: its first, bare list) and pull commands
     (bare after its "Pull" heading) */
  var VIEW_FACTS = "dl.orgreg-facts, .orgreg-tag-views > section > dl:first-of-type";
  var VIEW_PULL = ".orgreg-tag-views > section";

  /* a one-line tag row leaves the whole digest to the tag's view */
  function viewDigest(abbr) {
    var row = abbr.closest("tr");
    var link = row && row.querySelector(TAG_LINK);
    var href = link ? link.getAttribute("href") : "";
    var view = href && href.charAt(0) === "#" ? document.getElementById(decodeURIComponent(href.slice(1))) : null;
    var short = abbr.textContent.trim();
    var found = null;
    if (view) {
      view.querySelectorAll(":is(" + VIEW_FACTS + ") > dd > code").forEach(function (code) {
        if (!found && code.textContent.indexOf(short) === 0) { found = code.textContent; }
      });
    }
    return found;
  }

  /* a tag's view is the page: its name in the window's title (back and
     forward list it so) */
  function setupTagViews() {
    var base = document.title;
    function show() {
      var id = decodeURIComponent(window.location.hash.slice(1));
      var view = id ? document.getElementById(id) : null;
      var box = view && view.parentNode;
      var heading = box && box.classList && box.classList.contains("orgreg-tag-views") ? view.querySelector("h2") : null;
      document.title = heading ? heading.textContent.trim() + " \u2014 " + base : base;
    }
    if (!document.querySelector(".orgreg-tag-views > section")) { return; }
    window.addEventListener("hashchange", show);
    show();
  }

  function setupCopyButtons(root) {
    root.querySelectorAll("div.body pre").forEach(function (pre) {
      var isCommand = !!pre.closest(".orgreg-command, .orgreg-pull") || pre.parentNode.matches(VIEW_PULL);
      var box = pre.closest("div.highlight") || pre;
      if (box === pre) {
        var wrapper = el("div", { className: "orgreg-pre" });
        wrapper.style.position = "relative";
        pre.parentNode.insertBefore(wrapper, pre);
        wrapper.appendChild(pre);
        box = wrapper;
      }
      if (box.querySelector(":scope > .orgreg-copy")) { return; }
      box.classList.add("orgreg-has-copy");
      box.appendChild(copyButton(isCommand ? "Copy command" : "Copy code",
        isCommand ? "Command" : "Code", function () { return commandText(pre); }));
      /* a scrolling block must be reachable with the keyboard */
      if (!pre.hasAttribute("tabindex")) { pre.setAttribute("tabindex", "0"); }
    });
    root.querySelectorAll("abbr.orgreg-digest").forEach(function (abbr) {
      var digest = abbr.getAttribute("title") || viewDigest(abbr) || abbr.textContent;
      abbr.parentNode.insertBefore(
        copyButton("Copy digest " + digest, "Digest", function () { return digest; },
          "orgreg-copy-digest"),
        abbr.nextSibling);
    });
  }

  /* ---------------- usage tabs ---------------- */
  var tabCount = 0;
  function setupTabs() {
    document.querySelectorAll("div.orgreg-usage").forEach(function (usage) {
      var panels = Array.prototype.filter.call(usage.children, function (child) {
        return child.classList.contains("orgreg-usage-tab");
      });
      if (!panels.length) { return; }
      var list = el("div", { className: "orgreg-tablist", role: "tablist", "aria-label": "Usage" });
      var tabs = panels.map(function (panel) {
        tabCount += 1;
        var rubric = panel.querySelector(":scope > .rubric");
        var label = rubric ? rubric.textContent.trim() : "Tab " + tabCount;
        var key = "";
        panel.classList.forEach(function (name) {
          if (name.indexOf("orgreg-usage-") === 0 && name !== "orgreg-usage-tab") {
            key = name.slice("orgreg-usage-".length);
          }
        });
        var tabId = "orgreg-tab-" + tabCount;
        panel.id = panel.id || "orgreg-panel-" + tabCount;
        var tab = el("button", {
          type: "button", role: "tab", id: tabId, className: "orgreg-tab",
          "aria-controls": panel.id, "aria-selected": "false", tabindex: "-1", text: label
        });
        tab.dataset.key = key || label;
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", tabId);
        panel.setAttribute("tabindex", "0");
        list.appendChild(tab);
        return tab;
      });
      function select(index, focus, remember) {
        tabs.forEach(function (tab, i) {
          var on = i === index;
          tab.setAttribute("aria-selected", on ? "true" : "false");
          tab.setAttribute("tabindex", on ? "0" : "-1");
          panels[i].hidden = !on;
        });
        if (focus) { tabs[index].focus(); }
        if (remember) { store(STORE_TAB, tabs[index].dataset.key); }
      }
      tabs.forEach(function (tab, index) {
        tab.addEventListener("click", function () { select(index, false, true); });
        tab.addEventListener("keydown", function (event) {
          var next = null;
          if (event.key === "ArrowRight") { next = (index + 1) % tabs.length; }
          else if (event.key === "ArrowLeft") { next = (index - 1 + tabs.length) % tabs.length; }
          else if (event.key === "Home") { next = 0; }
          else if (event.key === "End") { next = tabs.length - 1; }
          if (next !== null) { event.preventDefault(); select(next, true, true); }
        });
      });
      usage.insertBefore(list, usage.firstChild);
      usage.classList.add("orgreg-tabbed");
      var remembered = store(STORE_TAB);
      var start = 0;
      tabs.forEach(function (tab, i) { if (tab.dataset.key === remembered) { start = i; } });
      select(start, false, false);
    });
  }

  /* ---------------- card labels for narrow screens ---------------- */
  function labelCells(table) {
    var heads = table.querySelectorAll("thead th");
    var labels = Array.prototype.map.call(heads, function (th) { return th.textContent.trim(); });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (labels[i] && cell.colSpan === 1) { cell.setAttribute("data-label", labels[i]); }
        if (!cell.textContent.trim()) { cell.classList.add("orgreg-blank"); }
      });
    });
  }

  /* the columns of a listing, in order, from its orgreg-col-<name> classes */
  function tableColumns(table, fallback) {
    var columns = [];
    table.classList.forEach(function (name) {
      if (name.indexOf("orgreg-col-") === 0) { columns.push(name.slice("orgreg-col-".length)); }
    });
    return columns.length ? columns : fallback;
  }

  function words(query) {
    return query.toLowerCase().split(/\s+/).filter(Boolean);
  }
  function matches(haystack, terms) {
    for (var i = 0; i < terms.length; i += 1) {
      if (haystack.indexOf(terms[i]) === -1) { return false; }
    }
    return true;
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  /* ---------------- where a listing sits, and how it was sorted ---------------- */

  /* the element that holds a listing in the page: its scrolling box, or the table */
  function outer(table) {
    var parent = table.parentNode;
    return parent && parent.classList && parent.classList.contains("orgreg-scroll") ? parent : table;
  }

  /* the directive's :sort: as the build wrote it (orgreg-sorted-<key>, and
     orgreg-sorted-reverse for a leading "-"); null for the default order */
  function builtOrder(table) {
    var key = null;
    table.classList.forEach(function (name) {
      if (name.indexOf("orgreg-sorted-") === 0 && name !== "orgreg-sorted-reverse") {
        key = name.slice("orgreg-sorted-".length);
      }
    });
    return key ? { key: key, reverse: table.classList.contains("orgreg-sorted-reverse") } : null;
  }

  /* the namespace list's orders: the select's values (kept in ?sort=), the
     :sort: each one is, and its label */
  var NAMESPACE_ORDERS = [
    { value: "name", sort: "name", label: "Name" },
    { value: "name-reverse", sort: "-name", label: "Name, Z to A" },
    { value: "updated", sort: "-updated", label: "Recently updated" },
    { value: "updated-reverse", sort: "updated", label: "Least recently updated" },
    { value: "tags", sort: "-tags", label: "Most tags" },
    { value: "tags-reverse", sort: "tags", label: "Fewest tags" }
  ];
  function namespaceOrder(value) {
    return NAMESPACE_ORDERS.filter(function (order) { return order.value === value; })[0] || null;
  }

  /* one heading row per organization (when the listing holds several), placed
     by the caller above its namespaces while the list is in name order */
  function organizationHeadings(entries, width) {
    var groups = [];
    var byOrg = Object.create(null);
    entries.forEach(function (entry) {
      var group = byOrg[entry.org];
      if (!group) {
        group = byOrg[entry.org] = { org: entry.org, members: [] };
        groups.push(group);
      }
      group.members.push(entry);
    });
    if (groups.length < 2) { return []; }
    groups.forEach(function (group) {
      var label = group.org + " (" + plural(group.members.length, "container") + ")";
      var cell = el("td", { colspan: String(width) }, [el("strong", { text: label })]);
      group.row = el("tr", { className: "orgreg-org-row", hidden: "" }, [cell]);
    });
    return groups;
  }

  /* ---------------- filter, status line and paging of a listing ---------------- */

  /* One code path for the namespace list and the tag tables: a search box whose
     words must all occur in a row, a status line counting what is shown and what
     matches, an empty-result message, and paging ("Show all", and with `steps`
     "Show N more", which a new filter restarts from the first page).
     entries: [{row, text}] in display order (callers may reorder the array in place);
     options: id, placeholder, noun, pageSize, steps, onUpdate, onFilter. */
  function listFilter(table, entries, options) {
    var input = el("input", {
      type: "search", id: options.id, className: "orgreg-filter-input", autocomplete: "off",
      spellcheck: "false", placeholder: options.placeholder, "aria-describedby": options.id + "-status"
    });
    var status = el("p", { id: options.id + "-status", className: "orgreg-status", role: "status", "aria-live": "polite" });
    var empty = el("p", { className: "orgreg-empty", hidden: "" });
    var more = el("div", { className: "orgreg-show-more", hidden: "" });
    var stepButton = options.steps ? el("button", { type: "button", className: "orgreg-button" }) : null;
    var allButton = el("button", { type: "button", className: "orgreg-button orgreg-secondary", text: "Show all" });
    if (stepButton) { more.appendChild(stepButton); }
    more.appendChild(allButton);
    var box = outer(table);
    box.parentNode.insertBefore(empty, box.nextSibling);
    box.parentNode.insertBefore(more, empty.nextSibling);
    var page = options.pageSize;
    var limit = page;

    function update() {
      var terms = words(input.value);
      var found = 0, shown = 0;
      entries.forEach(function (entry) {
        var hit = matches(entry.text, terms) && (!options.accept || options.accept(entry));
        if (hit) { found += 1; }
        var visible = hit && found <= limit;
        entry.row.hidden = !visible;
        if (visible) { shown += 1; }
      });
      var total = plural(entries.length, options.noun);
      var filtering = terms.length || (options.filtering && options.filtering());
      status.textContent = filtering
        ? (shown < found ? "Showing " + shown + " of " : "") + found + " of " + total + " match"
        : (shown < found ? "Showing " + shown + " of " + total : total);
      empty.hidden = found > 0;
      empty.textContent = found ? "" : "No " + options.noun + " matches " +
        (terms.length ? "\u201c" + input.value.trim() + "\u201d" : "the chosen filter") + ".";
      box.hidden = found === 0;
      more.hidden = shown >= found;
      if (stepButton) {
        stepButton.textContent = "Show " + Math.min(found - shown, page) + " more";
        allButton.textContent = "Show all " + found;
      }
      if (options.onUpdate) { options.onUpdate(); }
    }

    var pending = null;
    input.addEventListener("input", function () {
      window.cancelAnimationFrame(pending);
      pending = window.requestAnimationFrame(function () {
        if (stepButton) { limit = page; }
        update();
        if (options.onFilter) { options.onFilter(input.value.trim()); }
      });
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && input.value) { input.value = ""; update(); }
    });
    if (stepButton) { stepButton.addEventListener("click", function () { limit += page; update(); }); }
    allButton.addEventListener("click", function () { limit = Infinity; update(); });

    return {
      input: input, status: status, update: update,
      /* filter again from the first page (another control changed) */
      restart: function () { limit = page; update(); },
      /* clear the filter and page far enough to show entries[position] */
      reveal: function (position) {
        input.value = "";
        limit = Math.max(limit, Math.ceil((position + 1) / page) * page);
        update();
      }
    };
  }

  /* remember a control's value in the page's address (?name=value) */
  function setParam(name, value) {
    var url = new URL(window.location.href);
    if (value) { url.searchParams.set(name, value); } else { url.searchParams.delete(name); }
    try { history.replaceState(null, "", url.toString()); } catch (e) { /* file:// */ }
  }

  /* ---------------- the names index (api/namespaces/) ---------------- */

  /* A paged listing's filter and the search page find any namespace from the
     names index the extension publishes: the index, and the one shard of the
     longest word typed (about 64 KiB whatever the registry's size), as
     core/namesindex.py's lookup does. */
  var fetched = {};
  function getJSON(url) {
    if (!fetched[url]) {
      fetched[url] = fetch(url).then(function (r) {
        if (!r.ok) { throw new Error(r.status + " " + url); }
        return r.json();
      });
    }
    return fetched[url];
  }
  function splitWords(text) {
    var seen = {};
    return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(function (w) {
      if (!w || seen[w]) { return false; }
      seen[w] = true;
      return true;
    });
  }
  /* the shard key of a word at a length: as contentsapi.shard_of */
  function shardKey(word, length) {
    var chars = Array.from(word).slice(0, length).map(function (c) {
      return /^[a-z0-9]$/.test(c) ? c : "_";
    });
    while (chars.length < length) { chars.push("_"); }
    return chars.join("");
  }
  function rowWords(row) {
    return splitWords(String(row[0])).concat(splitWords(String(row[1])));
  }
  /* {rows: [[name, description, tags, updated]], more: bool}: the namespaces
     every word of the query begins a word of; more: the shard has more parts */
  function findNamespaces(root, query) {
    var terms = splitWords(query);
    /* the longest word picks the shard; when no indexed word begins with it
       (a word of most descriptions is not indexed), the next longest */
    var order = terms.slice().sort(function (a, b) { return Array.from(b).length - Array.from(a).length; });
    var index = null;
    function shard(key) { return getJSON(root + index.shardPath.replace("{shard}", key)); }
    function lookupTerm(term) {
      var length = 2, last = Array.from(term).length + 1;
      function step(listing) {
        for (; length <= last; length++) {
          var key = shardKey(term, length);
          if (listing.shards && Object.prototype.hasOwnProperty.call(listing.shards, key)) {
            var parts = (listing.parts && listing.parts[key]) || 1;
            return shard(key).then(function (body) { return { body: body, more: parts > 1 }; });
          }
          if (listing.split && listing.split.indexOf(key) >= 0) {
            length++;
            return shard(key).then(step);
          }
        }
        /* no shard holds the word itself: words beginning with it are spread
           over several shards when keys of this listing begin with it */
        var stem = shardKey(term, Array.from(term).length);
        var keys = Object.keys(listing.shards || {}).concat(listing.split || []);
        var many = keys.some(function (k) { return k.indexOf(stem) === 0; });
        return { body: null, more: many };
      }
      return Promise.resolve(step(index)).then(function (found) {
        if (!found.body) { return found.more ? { rows: [], more: true, many: true } : null; }
        var body = found.body, hit = {};
        Object.keys(body.words).forEach(function (word) {
          if (word.indexOf(term) === 0) {
            body.words[word].forEach(function (i) { hit[i] = true; });
          }
        });
        var positions = Object.keys(hit);
        if (!positions.length) { return null; }
        var rows = positions.map(function (i) { return body.namespaces[i]; }).filter(function (row) {
          var words = rowWords(row);
          return terms.every(function (t) { return words.some(function (w) { return w.indexOf(t) === 0; }); });
        });
        rows.sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0; });
        return { rows: rows, more: found.more };
      });
    }
    function next(i) {
      if (i >= order.length) { return { rows: [], more: false }; }
      return lookupTerm(order[i]).then(function (result) { return result || next(i + 1); });
    }
    if (!order.length) { return Promise.resolve({ rows: [], more: false }); }
    return getJSON(root + "api/namespaces/index.json").then(function (loaded) {
      index = loaded;
      return next(0);
    });
  }
  function contentRoot() {
    return document.documentElement.getAttribute("data-content_root") || "";
  }

  /* A paged listing (the registry is larger than a page): the filter searches
     every namespace through the names index; a word of one character filters
     the rows of this page. The order is chosen with the pager's static links. */
  function setupPagedFilter(table, index, total) {
    labelCells(table);
    var body = table.tBodies[0];
    if (!body) { return; }
    var columns = tableColumns(table, ["namespace", "description", "tags", "updated"]);
    var own = Array.prototype.slice.call(body.rows);
    var count = Number(total.getAttribute("data-total")) || own.length;
    /* a namespace page's address, from a row's own link (html or dirhtml) */
    var pattern = null;
    own.some(function (row) {
      var link = row.querySelector("a[href]");
      var name = link ? link.textContent.trim() : "";
      var href = link ? link.getAttribute("href") : "";
      if (name && href.indexOf(name) >= 0) { pattern = href.replace(name, "ORGREG-NS"); }
      return pattern !== null;
    });
    var suffix = index ? "-" + index : "";
    var id = "orgreg-ns-filter" + suffix;
    var input = el("input", {
      type: "search", id: id, className: "orgreg-filter-input", autocomplete: "off",
      spellcheck: "false", placeholder: "Name or description (press /)", "aria-describedby": id + "-status"
    });
    var status = el("p", { id: id + "-status", className: "orgreg-status", role: "status", "aria-live": "polite" });
    var empty = el("p", { className: "orgreg-empty", hidden: "" });
    var box = outer(table);
    box.parentNode.insertBefore(el("div", { className: "orgreg-toolbar orgreg-namespace-filter" },
      [el("label", { for: id, text: "Filter containers" }), input, status]), box);
    box.parentNode.insertBefore(empty, box.nextSibling);
    var found = [];
    var idle = "Showing " + own.length + " of " + plural(count, "container");

    function cell(column, row) {
      var td = el("td", { className: "orgreg-cell-" + column });
      if (column === "namespace") {
        var name = String(row[0]);
        td.appendChild(el("p", {}, [pattern
          ? el("a", { href: pattern.replace("ORGREG-NS", name), className: "reference internal", text: name })
          : el("code", { text: name })]));
      } else if (column === "description") {
        td.appendChild(el("p", { text: String(row[1]) }));
      } else if (column === "tags") {
        td.appendChild(el("p", { text: String(row[2]) }));
      } else {
        td.appendChild(el("p", { text: String(row[3]) }));
      }
      return td;
    }
    function show(rows) {
      found.forEach(function (row) { row.parentNode.removeChild(row); });
      found = rows.map(function (row) {
        return el("tr", { className: "orgreg-namespace-row orgreg-found-row" },
          columns.map(function (column) { return cell(column, row); }));
      });
      found.forEach(function (row) { body.appendChild(row); });
      labelCells(table);
    }
    var asked = "";
    function update() {
      var query = input.value.trim();
      asked = query;
      var terms = splitWords(query);
      var searchable = terms.some(function (t) { return Array.from(t).length > 1; });
      if (!searchable) {
        show([]);
        var shown = 0;
        own.forEach(function (row) {
          var hit = matches(row.textContent.toLowerCase(), terms);
          row.hidden = !hit;
          if (hit) { shown += 1; }
        });
        status.textContent = terms.length
          ? shown + " on this page match; type two letters to search all " + plural(count, "container")
          : idle;
        empty.hidden = shown > 0 || !terms.length;
        empty.textContent = "No container on this page matches \u201c" + query + "\u201d.";
        box.hidden = shown === 0 && terms.length > 0;
        return;
      }
      status.textContent = "Searching\u2026";
      findNamespaces(contentRoot(), query).then(function (result) {
        if (asked !== query) { return; }
        own.forEach(function (row) { row.hidden = true; });
        show(result.rows);
        status.textContent = result.many
          ? "Many names begin with \u201c" + query + "\u201d: type more of the name"
          : result.rows.length + " of " + plural(count, "container") + " match" +
            (result.more ? " (the first part of the index: type more of a word to narrow)" : "");
        empty.hidden = result.rows.length > 0 || Boolean(result.many);
        empty.textContent = "No container matches \u201c" + query + "\u201d.";
        box.hidden = result.rows.length === 0;
      }).catch(function (err) {
        if (asked !== query) { return; }
        status.textContent = "The names index could not be read (" + err.message + ").";
      });
    }
    var pending = null;
    input.addEventListener("input", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        update();
        setParam("filter" + suffix, input.value.trim());
      }, 120);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && input.value) { input.value = ""; update(); setParam("filter" + suffix, ""); }
    });
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
      if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey && !index) {
        event.preventDefault();
        input.focus();
      }
    });
    var wanted = new URLSearchParams(window.location.search).get("filter" + suffix);
    if (wanted) { input.value = wanted; }
    update();
  }

  /* the search page: the containers whose name or description holds the words */
  function setupSearchNamespaces() {
    var section = document.getElementById("orgreg-ns-found");
    var input = document.getElementById("orgreg-search-input");
    if (!section || !input || !window.fetch) { return; }
    var pattern = section.getAttribute("data-page");
    var status = section.querySelector(".orgreg-ns-status");
    var list = section.querySelector(".orgreg-ns-results");
    var asked = "";
    function search(query) {
      asked = query;
      list.textContent = "";
      if (!splitWords(query).some(function (t) { return Array.from(t).length > 1; })) {
        section.hidden = true;
        return;
      }
      findNamespaces(contentRoot(), query).then(function (result) {
        if (asked !== query) { return; }
        section.hidden = false;
        status.textContent = result.many
          ? "Many container names begin with \u201c" + query.trim() + "\u201d: type more of the name."
          : result.rows.length
          ? plural(result.rows.length, "container") + " match" + (result.more ? " (type more of a word to see others)" : "")
          : "No container name or description holds \u201c" + query.trim() + "\u201d.";
        result.rows.slice(0, 100).forEach(function (row) {
          var item = el("li", {}, [
            el("a", { href: pattern.replace("ORGREG-NS", row[0]), text: row[0] }),
            el("span", { className: "orgreg-ns-facts", text: " \u00b7 " + plural(Number(row[2]), "tag") + " \u00b7 updated " + row[3] })
          ]);
          if (row[1]) { item.appendChild(el("p", { className: "orgreg-ns-description", text: String(row[1]) })); }
          list.appendChild(item);
        });
      }).catch(function () { section.hidden = true; });
    }
    var timer = null;
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { search(input.value); }, 200);
    });
    search(new URLSearchParams(window.location.search).get("q") || input.value);
  }

  /* ---------------- home: the namespace list ---------------- */

  /* The sort control starts at the order the build wrote (the directive's :sort:,
     kept by row position); organization headings only while the order is by name
     (where each organization's namespaces are one run), never between them. */
  function setupNamespaceFilter(table, index) {
    labelCells(table);
    var body = table.tBodies[0];
    if (!body) { return; }
    var columns = tableColumns(table, ["namespace", "description", "tags", "updated"]);
    var col = function (name) { return columns.indexOf(name); };
    var entries = Array.prototype.map.call(body.rows, function (row, position) {
      var cells = row.cells;
      var name = cells[col("namespace")] ? cells[col("namespace")].textContent.trim() : "";
      return {
        row: row, text: row.textContent.toLowerCase(), position: position,
        name: name.toLowerCase(), org: name.split("/")[0],
        tags: cells[col("tags")] ? Number(cells[col("tags")].textContent.trim()) || 0 : 0,
        updated: cells[col("updated")] ? cells[col("updated")].textContent.trim() : ""
      };
    });
    if (!entries.length) { return; }
    var built = builtOrder(table);
    var builtSort = built ? (built.reverse ? "-" : "") + built.key : "name";
    var initial = NAMESPACE_ORDERS.filter(function (o) { return o.sort === builtSort; })[0] || NAMESPACE_ORDERS[0];
    /* the orders whose column is shown (both ways), and the one the rows came in
       (kept by position, so it needs no column) */
    var offered = NAMESPACE_ORDERS.filter(function (order) {
      var key = order.sort.replace("-", "");
      return order === initial || col(key === "name" ? "namespace" : key) >= 0;
    });
    var sortOptions = offered.map(function (order) {
      return el("option", { value: order.value, text: order.label });
    });
    var groups = col("namespace") >= 0 ? organizationHeadings(entries, columns.length) : [];
    var groupOf = Object.create(null);
    groups.forEach(function (g) { groupOf[g.org] = g; });
    var suffix = index ? "-" + index : "";
    var id = "orgreg-ns-filter" + suffix;
    var sort = el("select", { id: id + "-sort", className: "orgreg-sort-select" }, sortOptions);
    sort.value = initial.value;
    function byName() { return namespaceOrder(sort.value).sort.replace("-", "") === "name"; }
    var list = listFilter(table, entries, {
      id: id, placeholder: "Name, description or tag (press /)", noun: "container",
      pageSize: NAMESPACE_PAGE, steps: false,
      onFilter: function (text) { setParam("filter" + suffix, text); },
      /* organization headings: in name order, above their visible namespaces */
      onUpdate: function () {
        var named = byName();
        groups.forEach(function (g) {
          g.row.hidden = !named || !g.members.some(function (m) { return !m.row.hidden; });
        });
      }
    });
    var controls = [el("label", { for: id, text: "Filter containers" }), list.input];
    if (sortOptions.length > 1) {
      controls.push(el("span", { className: "orgreg-sort-box" }, [
        el("label", { for: id + "-sort", text: "Sort" }), sort
      ]));
    }
    controls.push(list.status);
    var box = outer(table);
    box.parentNode.insertBefore(el("div", { className: "orgreg-toolbar orgreg-namespace-filter" }, controls), box);

    function compare(a, b) {
      var order = namespaceOrder(sort.value);
      if (order === initial) { return a.position - b.position; }
      var key = order.sort.replace("-", "");
      var dir = order.sort.charAt(0) === "-" ? -1 : 1;
      var x = a[key], y = b[key];
      var by = x > y ? dir : x < y ? -dir : 0;
      /* ties in name order, as the build sorts them */
      return by || (a.name > b.name ? 1 : a.name < b.name ? -1 : 0) || a.position - b.position;
    }
    function reorder() {
      entries.sort(compare);
      var named = byName();
      var fragment = document.createDocumentFragment();
      entries.forEach(function (entry) {
        var group = named ? groupOf[entry.org] : null;
        if (group && !group.placed) { fragment.appendChild(group.row); }
        if (group) { group.placed = true; }
        fragment.appendChild(entry.row);
      });
      /* out of name order the headings wait, hidden, at the end */
      groups.forEach(function (g) {
        if (!g.placed) { fragment.appendChild(g.row); }
        g.placed = false;
      });
      body.appendChild(fragment);
      list.update();
    }
    sort.addEventListener("change", function () {
      reorder();
      setParam("sort" + suffix, sort.value !== initial.value ? sort.value : "");
    });
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
      if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey && !index) {
        event.preventDefault();
        list.input.focus();
      }
    });
    var params = new URLSearchParams(window.location.search);
    if (params.get("filter" + suffix)) { list.input.value = params.get("filter" + suffix); }
    var wanted = params.get("sort" + suffix);
    if (wanted && sortOptions.some(function (o) { return o.value === wanted; })) {
      sort.value = wanted;
    }
    reorder();
  }

  /* ---------------- namespace page: the tag table ---------------- */
  /* a size in bytes: its data-bytes, or (a one-line row: "797.1 MiB") its text */
  var UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];
  function sizeBytes(cell) {
    var abbr = cell.querySelector("abbr[data-bytes]");
    if (abbr) { return Number(abbr.getAttribute("data-bytes")); }
    var shown = /^([0-9.]+) ([KMGT]?i?B)$/.exec(cell.textContent.trim());
    var unit = shown ? UNITS.indexOf(shown[2]) : -1;
    return unit < 0 ? -1 : Number(shown[1]) * Math.pow(1024, unit);
  }
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  /* the words a tag row is found by: every cell but the image's details */
  function rowText(row, columns) {
    var skip = columns.indexOf("details");
    var text = "";
    Array.prototype.forEach.call(row.cells, function (cell, i) {
      if (i !== skip) { text += cell.textContent + " "; }
    });
    return text.toLowerCase();
  }

  function setupTagTable(table, index) {
    var body = table.tBodies[0];
    var head = table.tHead;
    if (!body || !head) { return; }
    labelCells(table);
    var columns = tableColumns(table, []);
    var entries = Array.prototype.map.call(body.rows, function (row, position) {
      var cells = row.cells;
      var entry = { row: row, position: position, text: rowText(row, columns), keys: {} };
      columns.forEach(function (column, i) {
        var cell = cells[i];
        if (!cell) { return; }
        var time = cell.querySelector("time[datetime]");  /* dates sort by their ISO value */
        entry.keys[column] = column === "size" ? sizeBytes(cell)
          : time ? time.getAttribute("datetime") : cell.textContent.trim();
      });
      entry.link = columns.indexOf("tag") >= 0 ? cells[columns.indexOf("tag")].querySelector(TAG_LINK) : null;
      return entry;
    });
    var id = "orgreg-tag-filter" + (index ? "-" + index : "");
    /* several architectures: a choice of one, with the search words */
    var arches = [];
    entries.forEach(function (entry) {
      var arch = entry.keys.arch;
      if (arch && arches.indexOf(arch) < 0) { arches.push(arch); }
    });
    arches.sort(collator.compare);
    var archSelect = null;
    if (arches.length > 1) {
      archSelect = el("select", { id: id + "-arch", className: "orgreg-arch-filter" },
        [el("option", { value: "", text: "All architectures" })].concat(arches.map(function (arch) {
          return el("option", { value: arch, text: arch });
        })));
    }
    var list = listFilter(table, entries, {
      id: id, placeholder: "Tag, digest or date", noun: "tag", pageSize: TAG_PAGE, steps: true,
      filtering: function () { return Boolean(archSelect && archSelect.value); },
      accept: function (entry) {
        return !archSelect || !archSelect.value || entry.keys.arch === archSelect.value;
      }
    });
    /* small tables embedded in other pages sort, but get no filter and no paging */
    if (entries.length > 10 || table.closest(".orgreg-namespace-page")) {
      var controls = [el("label", { for: id, text: "Filter tags" }), list.input];
      if (archSelect) {
        controls.push(el("label", { for: archSelect.id, text: "Architecture" }), archSelect);
      }
      controls.push(list.status);
      outer(table).parentNode.insertBefore(el("div", { className: "orgreg-toolbar orgreg-tag-filter" },
        controls), outer(table));
      if (archSelect) {
        var wantedArch = new URLSearchParams(window.location.search).get("arch" + (index ? "-" + index : ""));
        if (wantedArch && arches.indexOf(wantedArch) >= 0) { archSelect.value = wantedArch; }
        archSelect.addEventListener("change", function () {
          list.restart();
          setParam("arch" + (index ? "-" + index : ""), archSelect.value);
        });
      }
    } else {
      archSelect = null;
    }

    var sortColumn = null, sortDir = 1;
    function sortBy(column, dir) {
      sortColumn = column;
      sortDir = dir;
      entries.sort(function (a, b) {
        var x = a.keys[column], y = b.keys[column], order;
        if (typeof x === "number") { order = x - y; }
        else { order = collator.compare(x, y); }
        return order * dir || a.position - b.position;
      });
      var fragment = document.createDocumentFragment();
      entries.forEach(function (entry) { fragment.appendChild(entry.row); });
      body.appendChild(fragment);
      markSorted(column, dir);
      list.update();
    }
    /* the header of the column the rows are sorted by says so (aria-sort, icon) */
    function markSorted(column, dir) {
      sortColumn = column;
      sortDir = dir;
      Array.prototype.forEach.call(head.rows[0].cells, function (th, i) {
        if (columns[i] === column) { th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending"); }
        else { th.removeAttribute("aria-sort"); }
        var icon = th.querySelector(".orgreg-sort-icon");
        if (icon) { icon.textContent = columns[i] === column ? (dir > 0 ? "\u25b2" : "\u25bc") : "\u2195"; }
      });
    }

    var SORTABLE = { image: 1, tag: 1, size: -1, digest: 1, created: -1 };
    Array.prototype.forEach.call(head.rows[0].cells, function (th, i) {
      var column = columns[i];
      if (!(column in SORTABLE)) { return; }
      var label = th.textContent.trim();
      var button = el("button", { type: "button", className: "orgreg-sort" }, [
        el("span", { text: label }),
        el("span", { className: "orgreg-sort-icon", "aria-hidden": "true", text: "\u2195" })
      ]);
      button.setAttribute("aria-label", "Sort by " + label.toLowerCase());
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        /* first click: the natural order (A-Z, largest, newest), then reversed */
        var dir = sortColumn === column ? -sortDir : SORTABLE[column];
        sortBy(column, dir);
      });
    });

    /* #tag-<name> opens the tag's view; its row is marked and on the shown
       page of rows, so the way back to the table finds it */
    function reveal() {
      var hash = decodeURIComponent(window.location.hash.slice(1));
      if (!hash || hash === "tags") { return; }
      var position = -1;
      entries.forEach(function (entry, i) {
        if (entry.link && entry.link.getAttribute("href") === "#" + hash) { position = i; }
      });
      if (position < 0) { return; }
      var entry = entries[position];
      if (entry.row.hidden) { list.reveal(position); }
      entries.forEach(function (e) { e.row.classList.toggle("orgreg-target", e === entry); });
    }
    /* the order the build wrote (the directive's :sort:), when its column is shown */
    var built = builtOrder(table);
    if (built) {
      var column = built.key === "name" ? (columns.indexOf("tag") >= 0 ? "tag" : "image") : built.key;
      if (columns.indexOf(column) >= 0) { markSorted(column, built.reverse ? -1 : 1); }
    }
    window.addEventListener("hashchange", reveal);
    list.update();
    reveal();
  }

  /* Sphinx marks toctree captions role="heading" without the level ARIA requires */
  function fixHeadingLevels() {
    document.querySelectorAll('[role="heading"]:not([aria-level])').forEach(function (node) {
      node.setAttribute("aria-level", "2");
    });
  }

  /* on a narrow screen the docs' menu starts closed: the page comes first */
  function closeDocsMenuWhenNarrow() {
    var menu = document.querySelector("details.orgreg-docs-menu");
    if (menu && window.matchMedia("(max-width: 900px)").matches) { menu.open = false; }
  }

  function init() {
    fixHeadingLevels();
    closeDocsMenuWhenNarrow();
    setupThemeToggle();
    setupTabs();
    setupCopyButtons(document);
    setupTagViews();
    document.querySelectorAll("table.orgreg-namespaces").forEach(function (table, index) {
      var listing = table.closest(".orgreg");
      var total = listing && listing.querySelector(".orgreg-listing-total");
      if (total && window.fetch) { setupPagedFilter(table, index, total); }
      else { setupNamespaceFilter(table, index); }
    });
    setupSearchNamespaces();
    document.querySelectorAll("table.orgreg-tags").forEach(setupTagTable);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
