// Printing: the header's time is the moment of printing, and every folded section
// (details) is opened for paper, then folded back as it was.
(function () {
  "use strict";
  var reopened = [];
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  window.addEventListener("beforeprint", function () {
    var d = new Date();
    document.querySelectorAll(".print-time").forEach(function (node) {
      node.textContent = pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + "/" + d.getFullYear() +
        " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
    });
    document.querySelectorAll("details:not([open])").forEach(function (node) {
      node.open = true;
      reopened.push(node);
    });
    document.body.classList.add("printing");
  });
  window.addEventListener("afterprint", function () {
    reopened.forEach(function (node) { node.open = false; });
    reopened = [];
    document.body.classList.remove("printing");
  });
})();
