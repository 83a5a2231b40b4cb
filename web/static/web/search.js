/* The suggestion list closes when the search runs, on Escape, and when the box loses focus
   (after a moment, so a click on a suggestion still lands). */
(function () {
  "use strict";
  function close() {
    var list = document.getElementById("suggestions");
    if (list) { list.innerHTML = ""; }
  }
  document.addEventListener("submit", close, true);
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target && event.detail.target.id === "results") { close(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { close(); }
  });
  document.addEventListener("focusout", function (event) {
    if (event.target && event.target.id === "id_q") { setTimeout(close, 200); }
  });
  // A late answer to a keystroke must not reopen the list once the search has run: neither when the box
  // has lost focus nor when Enter ran the search before the suggestions (250 ms after the last key) came.
  var searched = false;
  document.addEventListener("submit", function () { searched = true; }, true);
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target && event.detail.target.id === "results") { searched = true; }
  });
  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "id_q") { searched = false; }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "suggestions" &&
        (searched || (document.activeElement && document.activeElement.id !== "id_q"))) {
      event.detail.shouldSwap = false;
    }
  });
})();
