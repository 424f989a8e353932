// Self-assessment pages: live deadline countdown, open the area of a linked leaf,
// "không phát sinh" disables the figures it replaces, confirmation prompts, and each
// leaf saving itself (on change) with its state shown and a prompt before leaving
// with unsaved input. Everything here is an enhancement: the pages work the same
// without JavaScript (plain forms, redirect after every post).
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
    var id = decodeURIComponent(location.hash.slice(1));
    var target = document.getElementById(id);
    // A leaf of an area not loaded yet: load its area, then look again.
    var area = !target && /^leaf-/.test(id) && areaOf(id.slice(5));
    if (area && !area.hasAttribute("data-loaded")) {
      if (nav.areas.length) { revealNode(area); }  // the area shows now, its leaves follow
      loadArea(area).then(function () { if (document.getElementById(id)) { openTarget(); } });
      return;
    }
    if (!target) { return; }
    if (nav.areas.length) { revealNode(target); }
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
    if (nav.areas.length) { revealNode(leaf); }
    for (var el = leaf; el; el = el.parentElement) {
      if (el.tagName === "DETAILS") { el.open = true; }
    }
    leaf.scrollIntoView();
    var input = leaf.querySelector(".has-error input, .has-error textarea");
    if (input) { input.focus({ preventScroll: true }); }
    return true;
  }

  function wireNotApplicable(root) {
    (root || document).querySelectorAll("form.leaf-form").forEach(function (form) {
      var toggle = form.querySelector(".na-toggle");
      if (!toggle) { return; }
      var inputs = form.querySelectorAll(".answer-fields input");
      var sync = function () {
        inputs.forEach(function (input) { input.disabled = toggle.checked; });
      };
      toggle.addEventListener("change", sync);
      toggle.addEventListener("sync", sync);
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


  // --- autosave ------------------------------------------------------------------
  // The server stays the judge: the same form is posted, with the same version (the
  // optimistic lock); the answer is JSON instead of a page.
  var unsaved = new Set();

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function fieldByName(form, name) {
    return Array.prototype.filter.call(form.elements, function (e) { return e.name === name; });
  }

  function clearErrors(form) {
    form.querySelectorAll(".js-error").forEach(function (n) { n.remove(); });
    form.querySelectorAll(".has-error").forEach(function (n) {
      n.classList.remove("has-error");
      n.querySelectorAll(".error").forEach(function (m) { m.remove(); });
    });
    form.querySelectorAll(":scope > .error").forEach(function (n) { n.remove(); });
    var leaf = form.closest(".leaf");
    if (leaf) {
      leaf.classList.remove("has-errors");
      leaf.querySelectorAll(".leaf-notice").forEach(function (n) { n.remove(); });
    }
  }

  function showErrors(form, body) {
    clearErrors(form);
    Object.keys(body.errors || {}).forEach(function (name) {
      var inputs = fieldByName(form, name);
      var box = inputs.length ? inputs[0].closest(".field") : null;
      (body.errors[name] || []).forEach(function (message) {
        var small = el("small", "error js-error", message);
        small.setAttribute("role", "alert");
        if (box) { box.classList.add("has-error"); box.appendChild(small); }
        else { form.insertBefore(small, form.querySelector(".answer-fields")); }
      });
    });
    (body.form_errors || []).forEach(function (message) {
      var p = el("p", "error js-error", message);
      p.setAttribute("role", "alert");
      form.insertBefore(p, form.querySelector(".answer-fields"));
    });
    form.closest(".leaf").classList.add("has-errors");
  }

  function scoreText(node, figures) {
    var text = figures.points + "/" + figures.max;
    if (node.hasAttribute("data-short")) { return text; }
    text += " điểm";
    if (node.hasAttribute("data-with-index") && figures.index !== "—") {
      text += " · " + figures.index + "%";
    }
    return text;
  }

  function showTotals(body) {
    Object.keys(body.nodes || {}).forEach(function (code) {
      document.querySelectorAll('[data-node-score="' + code + '"]').forEach(function (node) {
        node.textContent = scoreText(node, body.nodes[code]);
      });
    });
    var total = document.querySelector(".total-points");
    if (total && body.total) {
      total.textContent = body.total.points + " ";
      total.appendChild(el("small", "", "/ " + body.total.max));
    }
    var index = document.querySelector(".total-index");
    if (index && body.total) {
      index.textContent = body.total.index;
      index.appendChild(el("small", "", "%"));
    }
  }

  var STATUS_BADGES = {
    unanswered: ["warn", "Chưa trả lời"],
    not_applicable: ["info", "Không phát sinh"]
  };

  function showSaved(form, body) {
    var leaf = form.closest(".leaf");
    fieldByName(form, form.getAttribute("data-code") + "-version").forEach(function (v) {
      v.value = String(body.version);
    });
    clearErrors(form);
    leaf.querySelector(".leaf-score").textContent = body.points + "/" + body.max + " điểm";
    var explanation = leaf.querySelector(".explanation-text");
    if (explanation) { explanation.textContent = body.explanation; }
    var badge = leaf.querySelector(".leaf-flags .badge");
    if (badge && !badge.classList.contains("evidence-count")) {
      var look = STATUS_BADGES[body.status] || ["ok", "Đã trả lời"];
      badge.className = "badge " + look[0];
      badge.textContent = look[1];
    }
    var count = leaf.querySelector(".evidence-count");
    if (count && !leaf.querySelector(".evidence-list .evidence-name")) {
      count.className = "badge evidence-count " + (body.has_note ? "info" : "err");
      count.textContent = body.has_note ? "Có giải trình, chưa có tài liệu" : "Thiếu tài liệu";
    }
    var by = form.querySelector(".saved-by");
    if (!by && body.updated) {
      by = el("span", "muted saved-by");
      form.querySelector(".leaf-actions").appendChild(by);
    }
    if (by && body.updated) { by.textContent = body.updated; }
    showTotals(body);
    document.dispatchEvent(new CustomEvent("leaf:saved", { detail: { code: form.getAttribute("data-code"), body: body } }));
  }

  // What the user typed, in words, to set beside the other person's value.
  function typedSummary(form) {
    var parts = [];
    form.querySelectorAll(".answer-fields input").forEach(function (input) {
      if (input.disabled) { return; }
      if ((input.type === "radio" || input.type === "checkbox") && input.checked) {
        var label = form.querySelector('label[for="' + input.id + '"]');
        parts.push(label ? label.textContent.trim() : input.value);
      } else if (input.type === "text" && input.value.trim()) {
        var own = form.querySelector('label[for="' + input.id + '"]');
        parts.push((own ? own.textContent.trim() + ": " : "") + input.value.trim());
      }
    });
    var na = form.querySelector(".na-toggle");
    if (na && na.checked) { parts.push("Không phát sinh / không áp dụng"); }
    var note = form.querySelector("textarea");
    var text = parts.length ? parts.join("; ") : "(chưa nhập)";
    if (note && note.value.trim()) { text += "; thuyết minh: “" + note.value.trim() + "”"; }
    return text;
  }

  function fillFields(form, fields) {
    Array.prototype.forEach.call(form.elements, function (input) {
      var name = input.name || "";
      if (!name || /-(version|csrf_token)$/.test(name)) { return; }
      var value = Object.prototype.hasOwnProperty.call(fields, name) ? fields[name] : null;
      if (input.type === "radio") { input.checked = value !== null && String(value) === input.value; }
      else if (input.type === "checkbox") {
        input.checked = Array.isArray(value) ? value.indexOf(input.value) !== -1 : value === true;
      } else if (input.tagName === "TEXTAREA" || input.type === "text") { input.value = value === null ? "" : String(value); }
    });
    var toggle = form.querySelector(".na-toggle");
    if (toggle) { toggle.dispatchEvent(new Event("sync")); }
  }

  function showConflict(form, body, autosave) {
    form.querySelectorAll(".conflict-box").forEach(function (n) { n.remove(); });
    var box = el("div", "conflict-box flash flash-warning");
    box.setAttribute("role", "alert");
    box.appendChild(el("p", "conflict-title", "Tiêu chí này vừa được " + (body.current.by || "người khác") + " lưu. Chưa lưu thay đổi của bạn; chọn giá trị cần giữ:"));
    var list = el("dl", "kv conflict-values");
    list.appendChild(el("dt", "", "Giá trị đã lưu"));
    var theirs = body.current.answer + (body.current.points !== "—" ? " (" + body.current.points + " điểm)" : "");
    if (body.current.note) { theirs += "; thuyết minh: “" + body.current.note + "”"; }
    list.appendChild(el("dd", "conflict-theirs", theirs));
    list.appendChild(el("dt", "", "Giá trị bạn nhập"));
    list.appendChild(el("dd", "conflict-mine", typedSummary(form)));
    box.appendChild(list);
    var keep = el("button", "btn primary small conflict-keep", "Giữ giá trị của tôi");
    var take = el("button", "btn small conflict-take", "Dùng giá trị đã lưu");
    keep.type = take.type = "button";
    var setVersion = function () {
      fieldByName(form, form.getAttribute("data-code") + "-version").forEach(function (v) { v.value = String(body.version); });
    };
    keep.addEventListener("click", function () {
      setVersion(); box.remove(); form.classList.remove("conflict"); autosave.save();
    });
    take.addEventListener("click", function () {
      setVersion(); fillFields(form, body.current.fields); box.remove();
      form.classList.remove("conflict"); autosave.clean("Đã lấy giá trị đã lưu");
    });
    box.appendChild(keep);
    box.appendChild(document.createTextNode(" "));
    box.appendChild(take);
    form.classList.add("conflict");
    form.insertBefore(box, form.querySelector(".leaf-actions"));
  }

  function wireAutosave(form) {
    var state = form.querySelector(".save-state");
    var token = fieldByName(form, form.getAttribute("data-code") + "-csrf_token")[0];
    var edits = 0, inflight = false, again = false;
    var setState = function (text, look) {
      if (!state) { return; }
      state.textContent = text;
      state.className = "save-state " + look;
    };
    var api = {
      clean: function (text) { unsaved.delete(form); setState(text, "saved"); },
      save: function () {
        if (inflight) { again = true; return; }
        if (form.classList.contains("conflict")) { return; }  // the user chooses first
        inflight = true;
        var sent = edits;
        setState("Đang lưu…", "saving");
        var headers = { "X-Requested-With": "XMLHttpRequest", "Accept": "application/json" };
        if (token) { headers["X-CSRFToken"] = token.value; }
        fetch(form.action, { method: "POST", body: new FormData(form), headers: headers, credentials: "same-origin" })
          .then(function (response) {
            return response.json().then(function (body) { return { status: response.status, body: body }; });
          })
          .then(function (res) {
            inflight = false;
            if (res.status === 200 && res.body.ok) {
              showSaved(form, res.body);
              if (edits === sent) { api.clean("Đã lưu lúc " + res.body.saved_at); }
              else { setState("Chưa lưu", "unsaved"); }
            } else if (res.body.conflict) {
              showConflict(form, res.body, api);
              setState("Chưa lưu: có xung đột", "error");
            } else if (res.body.errors || res.body.form_errors) {
              showErrors(form, res.body);
              setState("Chưa lưu: xem lỗi", "error");
            } else {
              setState("Chưa lưu: " + (res.body.message || res.body.error || "có lỗi, vui lòng thử lại"), "error");
            }
            if (again) { again = false; api.save(); }
          })
          .catch(function () {
            inflight = false;
            setState("Chưa lưu: không kết nối được máy chủ; sửa tiếp hoặc bấm Lưu để thử lại", "error");
          });
      }
    };
    var dirty = function () { edits += 1; unsaved.add(form); setState("Chưa lưu", "unsaved"); };
    form.addEventListener("input", dirty);
    form.addEventListener("change", function () { dirty(); api.save(); });
    form.addEventListener("submit", function (event) { event.preventDefault(); api.save(); });
  }

  function wireLeaving() {
    window.addEventListener("beforeunload", function (event) {
      if (!unsaved.size) { return; }
      event.preventDefault();
      event.returnValue = "";
    });
  }

  // --- the criteria tree: one area at a time, filters, states ----------------------
  var STATE_LABELS = {
    unanswered: "Chưa trả lời",
    missing_evidence: "Thiếu tài liệu",
    returned: "Bị trả lại",
    done: "Đã xong",
    survey: "Sở Nội vụ chấm"
  };
  var FILTERS = {
    all: function () { return true; },
    todo: function (state) { return state !== "done" && state !== "survey"; },
    missing_evidence: function (state) { return state === "missing_evidence"; },
    returned: function (state) { return state === "returned"; }
  };
  var nav = { areas: [], current: 0, filter: "all", one: true };

  function applyNavigation() {
    var match = FILTERS[nav.filter];
    var filtering = nav.filter !== "all";
    var shown = 0;
    nav.areas.forEach(function (area, index) {
      var any = false;
      area.querySelectorAll(".leaf").forEach(function (leaf) {
        var visible = match(leaf.getAttribute("data-state"));
        leaf.hidden = !visible;
        any = any || visible;
      });
      area.querySelectorAll(".criterion").forEach(function (block) {
        block.hidden = !block.querySelector(".leaf:not([hidden])");
      });
      if (!area.hasAttribute("data-loaded")) {
        // Not loaded yet: the tree knows its leaves' states.
        any = Array.prototype.some.call(
          document.querySelectorAll('.tree-area[data-area="' + area.getAttribute("data-area") + '"] .tree-leaf'),
          function (item) { return match(item.getAttribute("data-state")); });
      }
      // Filtering looks across every area; otherwise one area at a time.
      area.hidden = filtering ? !any : (nav.one && index !== nav.current);
      if (!area.hidden) {
        shown += 1;
        if (!area.hasAttribute("data-loaded")) { loadArea(area).then(applyNavigation); }
      }
    });
    document.querySelectorAll(".tree-leaf").forEach(function (item) {
      item.hidden = !match(item.getAttribute("data-state"));
    });
    document.querySelectorAll(".tree-area").forEach(function (item, index) {
      item.classList.toggle("current", !filtering && nav.one && index === nav.current);
    });
    document.querySelectorAll(".leaf-filters [data-filter]").forEach(function (button) {
      var on = button.getAttribute("data-filter") === nav.filter;
      button.classList.toggle("active", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
    var empty = document.querySelector(".filter-empty");
    if (empty) { empty.hidden = shown > 0; }
    var pager = document.querySelector(".area-pager");
    if (pager) {
      pager.hidden = filtering || !nav.areas.length;
      pager.querySelector(".area-prev").disabled = !nav.one || nav.current === 0;
      pager.querySelector(".area-next").disabled = !nav.one || nav.current === nav.areas.length - 1;
      pager.querySelector(".area-all").textContent = nav.one ? "Xem tất cả lĩnh vực" : "Xem từng lĩnh vực";
      var title = nav.areas[nav.current] && nav.areas[nav.current].querySelector(".area-name");
      pager.querySelector(".area-position").textContent = nav.one && title
        ? "Lĩnh vực " + (nav.current + 1) + "/" + nav.areas.length + ": " + title.textContent
        : "Tất cả " + nav.areas.length + " lĩnh vực";
    }
  }

  function showArea(index, scroll) {
    nav.current = Math.max(0, Math.min(nav.areas.length - 1, index));
    applyNavigation();
    if (scroll) { nav.areas[nav.current].scrollIntoView({ block: "start" }); }
  }

  // A link to a leaf (tree, return request, hash) brings its area and leaf into view.
  function revealNode(target) {
    var area = target.closest(".area");
    if (!area) { return; }
    var index = nav.areas.indexOf(area);
    var leaf = target.closest(".leaf");
    if (leaf && leaf.hidden) { nav.filter = "all"; }
    if (index !== -1 && (area.hidden || leaf && leaf.hidden)) { nav.current = index; }
    applyNavigation();
  }

  function leafState(leaf, body) {
    if (leaf.getAttribute("data-state") === "returned") { return "returned"; }
    if (body && body.status === "unanswered") { return "unanswered"; }
    if (!body && leaf.getAttribute("data-state") === "unanswered") { return "unanswered"; }
    if (leaf.querySelector(".evidence-count.err")) { return "missing_evidence"; }
    return "done";
  }

  function setLeafState(code, state) {
    var leaf = document.querySelector('.leaf[data-code="' + code + '"]');
    if (leaf) { leaf.setAttribute("data-state", state); }
    var item = document.querySelector('.tree-leaf[data-code="' + code + '"]');
    if (item) {
      item.setAttribute("data-state", state);
      var label = item.querySelector(".state");
      label.className = "state state-" + state;
      label.textContent = STATE_LABELS[state];
    }
    var states = Array.prototype.map.call(document.querySelectorAll(".tree-leaf"), function (n) {
      return n.getAttribute("data-state");
    });
    Object.keys(FILTERS).forEach(function (key) {
      var counter = document.querySelector('[data-filter-count="' + key + '"]');
      if (counter) { counter.textContent = String(states.filter(FILTERS[key]).length); }
    });
  }

  // --- areas loaded on demand: the page renders one area, fetches the others -------
  function areaOf(code) {
    return document.querySelector('details.area[data-area="' + code.split(".")[0] + '"]');
  }

  function wireLeaves(root) {
    wireNotApplicable(root);
    if (window.fetch && window.FormData) {
      root.querySelectorAll("form.leaf-form").forEach(wireAutosave);
    }
    if (window.ParIndexEvidence) { window.ParIndexEvidence.init(root); }
  }

  // One fetch per area; the same promise for every caller while it is in flight.
  function loadArea(area) {
    if (area.hasAttribute("data-loaded")) { return Promise.resolve(area); }
    if (area._loading) { return area._loading; }
    var deferred = area.querySelector(".area-deferred");
    if (deferred) { deferred.classList.add("loading"); }
    area._loading = fetch(area.getAttribute("data-fragment"), {
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var leaves = holder.querySelector(".area-leaves");
      if (deferred) { deferred.replaceWith(leaves); } else { area.appendChild(leaves); }
      area.setAttribute("data-loaded", "");
      wireLeaves(leaves);
      return area;
    }).catch(function () {
      // The link stays: it opens the area's own page.
      area._loading = null;
      if (deferred) {
        deferred.classList.remove("loading");
        deferred.classList.add("failed");
      }
      return area;
    });
    return area._loading;
  }

  function wireNavigation() {
    nav.areas = Array.prototype.slice.call(document.querySelectorAll("details.area[data-area]"));
    if (!nav.areas.length) { return; }
    // Links to another area's page stay on this page: its area is fetched instead.
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[href]");
      if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
      var url = new URL(link.href, location.href);
      if (url.pathname !== location.pathname || !url.hash || !url.searchParams.has("area")) { return; }
      if (url.searchParams.get("area") === "all") { return; }
      event.preventDefault();
      if (location.hash === url.hash) { openTarget(); } else { location.hash = url.hash; }
    });
    document.querySelectorAll(".leaf-filters, .area-pager").forEach(function (n) { n.hidden = false; });
    document.querySelectorAll(".leaf-filters [data-filter]").forEach(function (button) {
      button.addEventListener("click", function () {
        nav.filter = button.getAttribute("data-filter");
        applyNavigation();
      });
    });
    var pager = document.querySelector(".area-pager");
    pager.querySelector(".area-prev").addEventListener("click", function () { showArea(nav.current - 1, true); });
    pager.querySelector(".area-next").addEventListener("click", function () { showArea(nav.current + 1, true); });
    pager.querySelector(".area-all").addEventListener("click", function () {
      nav.one = !nav.one;
      applyNavigation();
    });
    document.querySelectorAll(".tree-area-link").forEach(function (link, index) {
      link.addEventListener("click", function () { nav.filter = "all"; nav.current = index; applyNavigation(); });
    });
    document.addEventListener("leaf:saved", function (event) {
      var leaf = document.querySelector('.leaf[data-code="' + event.detail.code + '"]');
      if (leaf) { setLeafState(event.detail.code, leafState(leaf, event.detail.body)); }
    });
    document.addEventListener("evidence:changed", function (event) {
      var leaf = document.querySelector('.leaf[data-code="' + event.detail.code + '"]');
      if (leaf) { setLeafState(event.detail.code, leafState(leaf, null)); }
    });
    applyNavigation();
  }

  document.addEventListener("DOMContentLoaded", function () {
    startCountdowns();
    wireNotApplicable(document);
    if (window.fetch && window.FormData) {
      document.querySelectorAll("form.leaf-form").forEach(wireAutosave);
      wireLeaving();
    }
    wireConfirm();
    wireNavigation();
    if (!revealRefusedLeaf()) { openTarget(); }
  });
  window.addEventListener("hashchange", openTarget);
})();
