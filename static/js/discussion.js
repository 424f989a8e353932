// Trao đổi: send a message without reloading the page; the plain form still works.
(function () {
  "use strict";
  var form = document.querySelector(".thread-form");
  if (!form) { return; }
  var list = document.querySelector("#thread .thread");
  var state = form.querySelector(".send-state");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = form.querySelector("textarea");
    state.textContent = "Đang gửi…";
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "XMLHttpRequest", "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (!result.ok || !result.data.ok) {
        state.textContent = (result.data && result.data.error) || "Chưa gửi được, vui lòng thử lại.";
        return;
      }
      var empty = list.querySelector(".empty");
      if (empty) { empty.remove(); }
      list.insertAdjacentHTML("beforeend", result.data.html);
      body.value = "";
      state.textContent = "Đã gửi.";
    }).catch(function () {
      state.textContent = "Mất kết nối: tin chưa gửi, nội dung vẫn còn trong ô.";
    });
  });
})();
