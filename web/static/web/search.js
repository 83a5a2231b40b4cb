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
  // A late answer to a keystroke must not reopen the list once the search has run.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "suggestions" &&
        document.activeElement && document.activeElement.id !== "id_q") {
      event.detail.shouldSwap = false;
    }
  });
})();
