/* Evidence widgets (Tài liệu kiểm chứng): upload with a progress bar per file (one
 * XMLHttpRequest per file), drag and drop, the citation form, and the picker that links an
 * already uploaded document to a leaf. Every form also works without JavaScript. */
(function () {
  "use strict";
  if (window.parIndexEvidence) { return; } // the leaf partial may include this file many times
  window.parIndexEvidence = true;

  var FALLBACK = {
    0: "Mất kết nối tới máy chủ. Vui lòng kiểm tra mạng rồi thử lại.",
    400: "Yêu cầu không hợp lệ. Vui lòng tải lại trang và thử lại.",
    403: "Tài khoản của bạn không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy hồ sơ hoặc tài liệu.",
    409: "Hồ sơ không cho phép thay đổi lúc này.",
    413: "Tệp quá lớn: vượt dung lượng cho phép.",
    500: "Đã có lỗi hệ thống. Tài liệu chưa được lưu, vui lòng thử lại.",
    503: "Kho lưu trữ đang không sẵn sàng. Tài liệu chưa được lưu, vui lòng thử lại."
  };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function parseJSON(xhr) {
    try { return JSON.parse(xhr.responseText); } catch (e) { return null; }
  }

  function errorText(status, data) {
    if (data && data.error) { return data.error; }
    return FALLBACK[status] || FALLBACK[500];
  }

  function listFor(container) {
    var leaf = container.getAttribute("data-leaf") || "";
    var scope = container.closest(".leaf-evidence") || container.parentNode;
    return scope.querySelector('.evidence-list[data-leaf="' + leaf + '"]') ||
      document.querySelector('.evidence-list[data-leaf="' + leaf + '"]');
  }

  function addItem(list, html) {
    if (!list || !html) { return; }
    var empty = list.querySelector(".evidence-empty");
    if (empty) { empty.remove(); }
    var holder = document.createElement("ul");
    holder.innerHTML = html.trim(); // server-rendered, escaped by Jinja
    var item = holder.firstElementChild;
    if (!item) { return; }
    var old = list.querySelector('.evidence-item[data-evidence-id="' + item.getAttribute("data-evidence-id") + '"]');
    if (old) { old.replaceWith(item); } else { list.appendChild(item); }
  }

  // The leaf's badge ("2 tài liệu" / "Thiếu tài liệu") follows its list without a reload.
  function refreshBadge(list) {
    if (!list) { return; }
    var leaf = document.querySelector('.leaf[data-code="' + list.getAttribute("data-leaf") + '"]');
    var badge = leaf && leaf.querySelector(".evidence-count");
    if (!badge) { return; }
    var count = list.querySelectorAll(".evidence-item").length;
    if (count) {
      badge.className = "badge ok evidence-count";
      badge.textContent = count + " tài liệu";
    }
    document.dispatchEvent(new CustomEvent("evidence:changed", { detail: { code: list.getAttribute("data-leaf"), count: count } }));
  }

  /* ---- upload ---------------------------------------------------------------------- */

  function uploadOne(container, form, file, withCitation) {
    var queue = container.querySelector(".upload-queue");
    var item = el("li", "upload-item");
    var name = el("span", "upload-name", file.name);
    var bar = el("progress");
    bar.max = 100;
    bar.value = 0;
    var status = el("span", "upload-status", "Đang tải lên…");
    var error = el("p", "upload-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    var notes = el("ul", "upload-warnings");
    item.append(name, bar, status, error, notes);
    queue.appendChild(item);

    var data = new FormData();
    ["csrf_token", "next"].forEach(function (n) {
      var input = form.querySelector('input[name="' + n + '"]');
      if (input) { data.append(n, input.value); }
    });
    form.querySelectorAll('input[name="criterion_code"]').forEach(function (input) {
      data.append("criterion_code", input.value);
    });
    if (withCitation) {
      ["doc_type", "doc_number", "issued_on", "issuer", "summary"].forEach(function (n) {
        var field = form.querySelector('[name="' + n + '"]');
        if (field) { data.append(n, field.value); }
      });
    }
    data.append("file", file, file.name);

    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("Accept", "application/json");
    // The token in a header lets the server refuse a stale page before storing a byte.
    var token = form.querySelector('input[name="csrf_token"]');
    if (token) { xhr.setRequestHeader("X-CSRFToken", token.value); }
    // Its size lets the server send the file on to the store while it arrives.
    xhr.setRequestHeader("X-Upload-Size", String(file.size));
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { bar.value = Math.round(100 * event.loaded / event.total); }
    });
    xhr.addEventListener("load", function () {
      var body = parseJSON(xhr);
      if (xhr.status === 200 && body && body.ok) {
        bar.value = 100;
        item.classList.add("done");
        status.textContent = "Đã tải lên";
        (body.warnings || []).forEach(function (w) { notes.appendChild(el("li", "", w)); });
        var list = listFor(container);
        addItem(list, body.item_html);
        refreshBadge(list);
        if (body.proposal_url) { fetchProposal(list, body.proposal_url, token, notes); }
      } else {
        fail(xhr.status, body);
      }
    });
    xhr.addEventListener("error", function () { fail(0, null); });
    xhr.addEventListener("abort", function () { fail(0, null); });

    // The bar turns into the error, which stays until the user dismisses it.
    function fail(code, body) {
      item.classList.add("failed");
      bar.hidden = true;
      status.textContent = "Không tải lên được";
      error.textContent = errorText(code, body);
      error.hidden = false;
      var close = el("button", "btn small upload-dismiss", "Đóng");
      close.type = "button";
      close.setAttribute("aria-label", "Đóng thông báo lỗi của " + file.name);
      close.addEventListener("click", function () { item.remove(); });
      item.appendChild(close);
    }
    xhr.send(data);
  }

  // The citation read from a PDF or DOCX comes after the upload (reading it takes about
  // half a second): it fills the document's citation form unless the user began typing.
  function fetchProposal(list, url, token, notes) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("Accept", "application/json");
    if (token) { xhr.setRequestHeader("X-CSRFToken", token.value); }
    xhr.addEventListener("load", function () {
      var body = parseJSON(xhr);
      if (xhr.status !== 200 || !body || !body.ok || !list) { return; }
      var holder = document.createElement("ul");
      holder.innerHTML = (body.item_html || "").trim();
      var fresh = holder.firstElementChild;
      var old = fresh && list.querySelector('.evidence-item[data-evidence-id="' + fresh.getAttribute("data-evidence-id") + '"]');
      if (old && !old.querySelector("form.citation-form.dirty")) { old.replaceWith(fresh); }
      (body.warnings || []).forEach(function (w) { notes.appendChild(el("li", "", w)); });
    });
    xhr.send();
  }

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form.citation-form");
    if (form) { form.classList.add("dirty"); }
  });

  function uploadAll(container, form, files) {
    var list = Array.prototype.slice.call(files);
    list.forEach(function (file) { uploadOne(container, form, file, list.length === 1); });
    if (list.length === 1) {
      form.querySelectorAll(".citation-fields input, .citation-fields textarea, .citation-fields select")
        .forEach(function (field) { field.value = ""; });
    }
  }

  function initUpload(container) {
    var form = container.querySelector("form.upload-form");
    var input = container.querySelector('input[type="file"]');
    var zone = container.querySelector(".drop-zone");
    if (!form || !input) { return; }
    container.classList.add("js-upload");
    input.addEventListener("change", function () {
      if (input.files.length) { uploadAll(container, form, input.files); }
      input.value = "";
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (input.files.length) { uploadAll(container, form, input.files); input.value = ""; }
    });
    if (!zone) { return; }
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        uploadAll(container, form, event.dataTransfer.files);
      }
    });
  }

  /* ---- citation form (inside each document of a leaf) ------------------------------- */

  function citationLine(e) {
    if (!(e.doc_type || e.doc_number || e.issued_on || e.issuer || e.summary)) { return null; }
    var text = e.doc_type || "Văn bản";
    if (e.doc_number) { text += " số " + e.doc_number; }
    if (e.issued_on) { text += " ngày " + e.issued_on; }
    if (e.issuer) { text += " của " + e.issuer; }
    if (e.summary) { text += ": " + e.summary; }
    return text;
  }

  function postForm(form, onDone) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.addEventListener("load", function () { onDone(xhr.status, parseJSON(xhr)); });
    xhr.addEventListener("error", function () { onDone(0, null); });
    xhr.send(new FormData(form));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form.evidence-confirm[data-confirm]")) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); return; }
    }
    if (!(form.matches && form.matches("form.citation-form"))) { return; }
    event.preventDefault();
    var status = form.querySelector(".citation-status");
    status.textContent = "Đang lưu…";
    postForm(form, function (code, body) {
      if (code === 200 && body && body.ok) {
        var item = form.closest(".evidence-item");
        var line = item && item.querySelector(".evidence-citation");
        var text = citationLine(body.evidence);
        if (line && text) { line.textContent = text; }
        form.querySelectorAll(".proposed").forEach(function (f) { f.classList.remove("proposed"); });
        status.textContent = "Đã lưu trích dẫn." + (body.warnings && body.warnings.length ? " " + body.warnings.join(" ") : "");
      } else {
        status.textContent = errorText(code, body);
        status.classList.add("error");
      }
    });
  });

  // A document's citation form is fetched the first time it is opened.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.matches || !details.matches("details.citation-edit[data-form]") || !details.open) { return; }
    var url = details.getAttribute("data-form");
    details.removeAttribute("data-form");
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.addEventListener("load", function () {
      var deferred = details.querySelector(".citation-deferred");
      if (xhr.status !== 200 || !deferred) { details.setAttribute("data-form", url); return; }
      var holder = document.createElement("div");
      holder.innerHTML = xhr.responseText;
      var form = holder.querySelector("form.citation-form");
      if (form) { deferred.replaceWith(form); }
    });
    xhr.addEventListener("error", function () { details.setAttribute("data-form", url); });
    xhr.send();
  }, true);

  /* ---- picker: link an uploaded document to this leaf -------------------------------- */

  function initPicker(picker) {
    var input = picker.querySelector('input[type="search"]');
    var results = picker.querySelector(".picker-results");
    var leaf = picker.getAttribute("data-leaf");
    var timer = null;
    var seq = 0;

    function render(items) {
      results.textContent = "";
      if (!items.length) { results.appendChild(el("li", "muted", "Không tìm thấy tài liệu phù hợp.")); return; }
      items.forEach(function (e) {
        var li = el("li", "picker-result");
        li.appendChild(el("span", "picker-name", e.original_filename));
        var line = citationLine(e);
        if (line) { li.appendChild(el("small", "muted", line)); }
        if (e.linked) {
          li.appendChild(el("span", "badge ok", "Đã gắn"));
        } else {
          var button = el("button", "btn small", "Gắn vào tiêu chí " + leaf);
          button.type = "button";
          button.addEventListener("click", function () { link(e, button, li); });
          li.appendChild(button);
        }
        results.appendChild(li);
      });
    }

    function link(e, button, li) {
      button.disabled = true;
      var data = new FormData();
      data.append("csrf_token", picker.getAttribute("data-csrf"));
      data.append("criterion_code", leaf);
      data.append("next", picker.getAttribute("data-next") || "");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", e.link_url);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.addEventListener("load", function () {
        var body = parseJSON(xhr);
        if (xhr.status === 200 && body && body.ok) {
          button.replaceWith(el("span", "badge ok", "Đã gắn"));
          var list = listFor(picker);
          addItem(list, body.item_html);
          refreshBadge(list);
        } else {
          button.disabled = false;
          li.appendChild(el("p", "upload-error", errorText(xhr.status, body)));
        }
      });
      xhr.addEventListener("error", function () { button.disabled = false; });
      xhr.send(data);
    }

    function search() {
      var mine = ++seq;
      var url = picker.getAttribute("data-search-url") + "?code=" + encodeURIComponent(leaf) +
        "&q=" + encodeURIComponent(input.value.trim());
      var xhr = new XMLHttpRequest();
      xhr.open("GET", url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.addEventListener("load", function () {
        var body = parseJSON(xhr);
        if (mine === seq && body && body.ok) { render(body.results); }
      });
      xhr.send();
    }

    picker.addEventListener("submit", function (event) { event.preventDefault(); search(); });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 250);
    });
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll(".evidence-upload").forEach(initUpload);
    scope.querySelectorAll("form.evidence-picker").forEach(initPicker);
  }
  // The criteria page loads areas on demand and wires their widgets with this.
  window.ParIndexEvidence = { init: init };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
