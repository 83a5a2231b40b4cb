/* The region picker (web/widgets.py region_picker_html): a searchable tree of the user's regions.
   The server renders a text box for a region code (what works without JavaScript); this script makes it
   the hidden value and adds a button that opens the tree. Children are fetched from /regions/?parent=
   when a node is opened, a search (name, pinyin, initials or code) from /regions/?q=. Every name is set
   with textContent, never as HTML. */
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function fetchRegions(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {regions: []}; })
      .then(function (body) { return body.regions || []; });
  }

  function init(picker) {
    if (picker.dataset.ready) { return; }
    picker.dataset.ready = "1";
    picker.classList.add("ready");
    var base = picker.dataset.url;
    var value = picker.querySelector(".rp-value");
    var toggle = picker.querySelector(".rp-toggle");
    var panel = picker.querySelector(".rp-panel");
    var search = picker.querySelector(".rp-search");
    var tree = picker.querySelector(".rp-tree");
    var results = picker.querySelector(".rp-results");
    var empty = picker.querySelector(".rp-empty");
    var loaded = false, timer = null, asked = 0;
    value.type = "hidden";

    function choose(code, label) {
      value.value = code;
      toggle.textContent = label;
      close();
      value.dispatchEvent(new Event("change", {bubbles: true}));
      toggle.focus();
    }

    function fullLabel(region) {
      return region.trail ? region.trail + " › " + region.name : region.name;
    }

    function item(region, inTree) {
      var li = el("li");
      li.setAttribute("role", inTree ? "treeitem" : "option");
      li.dataset.code = region.code;
      if (inTree && region.children) {
        var open = el("button", "rp-open", "▸");
        open.type = "button";
        open.setAttribute("aria-label", region.name);
        li.setAttribute("aria-expanded", "false");
        open.addEventListener("click", function () { expand(li, open, region.code); });
        li.appendChild(open);
      } else if (inTree) {
        li.appendChild(el("span", "rp-leaf"));
      }
      var pick = el("button", "rp-pick", region.name);
      pick.type = "button";
      pick.title = fullLabel(region) + " " + region.code;
      pick.addEventListener("click", function () { choose(region.code, fullLabel(region)); });
      li.appendChild(pick);
      if (!inTree && region.trail) { li.appendChild(el("small", "muted", " " + region.trail)); }
      li.appendChild(el("small", "rp-code muted", " " + region.code));
      return li;
    }

    function expand(li, button, code) {
      var below = li.querySelector("ul");
      if (below) {
        var hide = !below.hidden;
        below.hidden = hide;
        button.textContent = hide ? "▸" : "▾";
        li.setAttribute("aria-expanded", hide ? "false" : "true");
        return;
      }
      below = el("ul");
      below.setAttribute("role", "group");
      li.appendChild(below);
      button.textContent = "▾";
      li.setAttribute("aria-expanded", "true");
      fetchRegions(base + "?parent=" + encodeURIComponent(code)).then(function (rows) {
        rows.forEach(function (row) { below.appendChild(item(row, true)); });
      });
    }

    function openPanel() {
      panel.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      if (!loaded) {
        loaded = true;
        fetchRegions(base).then(function (rows) {
          rows.forEach(function (row) { tree.appendChild(item(row, true)); });
          if (rows.length === 1 && rows[0].children) {  // an officer's one region: open it at once
            var first = tree.querySelector(".rp-open");
            if (first) { first.click(); }
          }
        });
      }
      search.focus();
    }

    function close() {
      panel.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
    }

    function runSearch() {
      var text = search.value.trim();
      var ticket = ++asked;
      if (!text) {
        results.hidden = true;
        empty.hidden = true;
        tree.hidden = false;
        return;
      }
      fetchRegions(base + "?q=" + encodeURIComponent(text)).then(function (rows) {
        if (ticket !== asked) { return; }  // a later keystroke has asked again
        results.textContent = "";
        rows.forEach(function (row) { results.appendChild(item(row, false)); });
        results.hidden = rows.length === 0;
        empty.hidden = rows.length > 0;
        tree.hidden = true;
      });
    }

    toggle.addEventListener("click", function () {
      if (panel.hidden) { openPanel(); } else { close(); }
    });
    picker.querySelector(".rp-all").addEventListener("click", function () { choose("", picker.dataset.all); });
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(runSearch, 200);
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  // pick the first hit rather than submitting the form half-filled
        event.preventDefault();
        var first = results.hidden ? null : results.querySelector(".rp-pick");
        if (first) { first.click(); }
      }
    });
    picker.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !panel.hidden) { close(); toggle.focus(); }
    });
    document.addEventListener("click", function (event) {
      if (!panel.hidden && !picker.contains(event.target)) { close(); }
    });
  }

  function initAll(root) {
    (root || document).querySelectorAll(".region-picker").forEach(init);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initAll(); });
  } else {
    initAll();
  }
  document.addEventListener("htmx:load", function (event) { initAll(event.target); });
})();
