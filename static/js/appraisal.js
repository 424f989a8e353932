/* Appraisal screens: keyboard navigation between leaf cards, save-and-next shortcut,
 * confirmations. An appraiser handles about 70 leaves per unit for dozens of units, so
 * the mouse must never be needed:
 *   j / k        next / previous leaf card
 *   n            next leaf not yet appraised
 *   Ctrl+Enter   save this leaf and go to the next one (Enter in the score box does too)
 * Everything works without this file; it only saves key presses. */
(function () {
  "use strict";

  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll(".leaf-card"));
  }

  function currentIndex(list) {
    var active = document.activeElement;
    for (var i = 0; i < list.length; i++) {
      if (list[i] === active || list[i].contains(active)) { return i; }
    }
    var focused = document.querySelector(".leaf-card.is-focus");
    return focused ? list.indexOf(focused) : -1;
  }

  function focusCard(card) {
    if (!card) { return; }
    var control = card.querySelector(".points-input");
    card.scrollIntoView({ block: "start" });
    (control || card).focus({ preventScroll: true });
  }

  function isTyping(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      var form = event.target.closest && event.target.closest("form.appraise-form");
      if (form) {
        event.preventDefault();
        var next = form.querySelector("button[name=save_next]");
        if (next) { next.click(); }
      }
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) { return; }
    var list = cards();
    if (!list.length) { return; }
    var index = currentIndex(list);
    if (event.key === "j") {
      event.preventDefault();
      focusCard(list[Math.min(index + 1, list.length - 1)]);
    } else if (event.key === "k") {
      event.preventDefault();
      focusCard(list[Math.max(index - 1, 0)]);
    } else if (event.key === "n") {
      event.preventDefault();
      for (var step = 1; step <= list.length; step++) {
        var card = list[(index + step + list.length) % list.length];
        if (card.getAttribute("data-pending") === "1") { focusCard(card); return; }
      }
    }
  });

  // Typing a corrected value means "use the corrected value": tick the box for the user.
  document.addEventListener("input", function (event) {
    var box = event.target.closest && event.target.closest("details.correction");
    if (!box || event.target.classList.contains("correct-toggle")) { return; }
    var toggle = box.querySelector(".correct-toggle");
    if (toggle) { toggle.checked = true; }
  });

  // Forms that change a lot ask first (publish, cancel an assignment).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  // Choosing another criterion in the comparison grid shows it at once.
  document.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("autosubmit")) {
      event.target.form.submit();
    }
  });

  // After "save and next" the server marks the next leaf: bring it into view.
  document.addEventListener("DOMContentLoaded", function () {
    var target = document.querySelector(".leaf-card.is-focus");
    if (target) { focusCard(target); }
  });
})();
