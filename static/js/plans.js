// Plan page: in each status form, show only the fields that apply while the status
// is being changed to the one they belong to (completion dates for "completed", a
// reason for "waived"), or when the server refused the change. The rest of the time
// the status cell is a select and a button. Without JavaScript every field stays
// visible and the server ignores the unused ones.
(function () {
  "use strict";

  function sync(form) {
    const select = form && form.querySelector("[data-status-select]");
    if (!select) {
      return;
    }
    const changing =
      select.value !== form.getAttribute("data-current-status") ||
      form.querySelector("[data-row-error]") !== null;
    form.querySelectorAll("[data-show-for]").forEach(function (field) {
      const wanted = field.getAttribute("data-show-for").split(" ");
      field.classList.toggle("d-none", !changing || wanted.indexOf(select.value) === -1);
    });
  }

  function syncWithin(root) {
    if (root.matches && root.matches("[data-status-form]")) {
      sync(root);
    }
    root.querySelectorAll("[data-status-form]").forEach(sync);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-status-select]")) {
      sync(event.target.closest("[data-status-form]"));
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    syncWithin(document);
  });
  // Rows swapped in by htmx get the same treatment.
  document.addEventListener("htmx:load", function (event) {
    syncWithin(event.detail.elt);
  });
})();
