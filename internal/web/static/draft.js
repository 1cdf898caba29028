// Keeps the visit form's draft on the device (localStorage), with its
// Idempotency-Key, so a lost connection loses nothing and a retry records
// the visit once. The form works without this script.
(function () {
  "use strict";
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  if (!store) { return; }
  var clear = document.body && document.body.getAttribute("data-clear-draft");
  if (clear) { store.removeItem(clear); }
  var form = document.querySelector("form[data-draft]");
  if (!form) { return; }
  var key = form.getAttribute("data-draft");
  var status = document.getElementById("draft-status");
  function save() {
    var d = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token") { return; } // the page carries its own
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      d[el.name] = el.value;
    });
    store.setItem(key, JSON.stringify(d));
    if (status) { status.textContent = "草稿已存在本機。"; }
  }
  var saved = store.getItem(key);
  if (saved && !form.querySelector(".problem")) {
    try {
      var d = JSON.parse(saved);
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.name === "csrf_token" || !(el.name in d)) { return; }
        if (el.type === "radio" || el.type === "checkbox") { el.checked = el.value === d[el.name]; }
        else { el.value = d[el.name]; }
      });
      if (status) { status.textContent = "已還原本機草稿。"; }
    } catch (e) { store.removeItem(key); }
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", save);
})();
