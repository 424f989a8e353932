// Self-assessment pages: live deadline countdown, open the area of a linked leaf,
// "không phát sinh" disables the figures it replaces, confirmation prompts.
// Everything here is an enhancement: the pages work the same without JavaScript.
(function () {
  "use strict";

  // Same wording as the server's countdown_text (webapp/assessment/services.py).
  function countdownText(ms) {
    if (ms < 0) { return "đã hết hạn"; }
    var seconds = Math.floor(ms / 1000);
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (days > 0) { return "còn " + days + " ngày " + pad(hours) + " giờ"; }
    return "còn " + pad(hours) + " giờ " + pad(minutes) + " phút";
  }

  function startCountdowns() {
    var nodes = document.querySelectorAll(".countdown[data-deadline]");
    if (!nodes.length) { return; }
    var tick = function () {
      nodes.forEach(function (node) {
        var deadline = Date.parse(node.getAttribute("data-deadline"));
        // Count from the server's time, not the PC's clock (often wrong on office machines).
        var serverNow = Date.parse(node.getAttribute("data-now"));
        if (!node._offset && node._offset !== 0) { node._offset = serverNow - Date.now(); }
        var left = deadline - (Date.now() + node._offset);
        node.textContent = countdownText(left);
        node.classList.toggle("late", left < 0);
      });
    };
    tick();
    window.setInterval(tick, 30000);
  }

  function openTarget() {
    if (!location.hash) { return; }
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!target) { return; }
    for (var el = target; el; el = el.parentElement) {
      if (el.tagName === "DETAILS") { el.open = true; }
    }
    target.scrollIntoView();
    target.classList.add("targeted");
  }

  // A refused save re-renders the whole page: bring the leaf at fault back into view.
  function revealRefusedLeaf() {
    var leaf = document.querySelector(".leaf.has-errors");
    if (!leaf) { return false; }
    for (var el = leaf; el; el = el.parentElement) {
      if (el.tagName === "DETAILS") { el.open = true; }
    }
    leaf.scrollIntoView();
    var input = leaf.querySelector(".has-error input, .has-error textarea");
    if (input) { input.focus({ preventScroll: true }); }
    return true;
  }

  function wireNotApplicable() {
    document.querySelectorAll("form.leaf-form").forEach(function (form) {
      var toggle = form.querySelector(".na-toggle");
      if (!toggle) { return; }
      var inputs = form.querySelectorAll(".answer-fields input");
      var sync = function () {
        inputs.forEach(function (input) { input.disabled = toggle.checked; });
      };
      toggle.addEventListener("change", sync);
      sync();
    });
  }

  function wireConfirm() {
    // Own attribute: other features' forms on the page (data-confirm) have their own handler.
    document.querySelectorAll("form[data-assessment-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-assessment-confirm"))) { event.preventDefault(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startCountdowns();
    wireNotApplicable();
    wireConfirm();
    if (!revealRefusedLeaf()) { openTarget(); }
  });
  window.addEventListener("hashchange", openTarget);
})();
