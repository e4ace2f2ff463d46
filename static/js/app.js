// Project behaviour, loaded from our own static files (no inline scripts: strict CSP).
(function () {
  "use strict";

  // <form data-confirm="Archive this hire?">: ask before submitting. Replaces inline
  // onsubmit handlers, which the Content Security Policy forbids.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    }
  }, true);

  // After an htmx swap, move focus to a swapped element that asks for it
  // (data-focus-after-swap), so keyboard and screen-reader users follow the change.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) {
      return;
    }
    var focus = target.matches("[data-focus-after-swap]") ? target : target.querySelector("[data-focus-after-swap]");
    if (focus) {
      if (!focus.hasAttribute("tabindex")) {
        focus.setAttribute("tabindex", "-1");
      }
      focus.focus();
    }
  });

  // htmx error responses (4xx/5xx) are not swapped by default: say so instead of
  // leaving the user wondering whether the click worked.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var region = document.getElementById("htmx-status");
    if (!region) {
      region = document.createElement("div");
      region.id = "htmx-status";
      region.className = "alert alert-danger htmx-status";
      region.setAttribute("role", "alert");
      var main = document.getElementById("main");
      (main || document.body).prepend(region);
    }
    var status = xhr ? xhr.status : 0;
    region.textContent = status === 409
      ? "Someone else changed this while you were working. Reload the page to see their change."
      : "That did not work (error " + status + "). Reload the page and try again.";
  });

  // Hires list: the header checkbox ticks or clears every row's checkbox of its form.
  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-select-all]");
    if (!all) {
      return;
    }
    var name = all.getAttribute("data-select-all");
    var form = all.getAttribute("form");
    document.querySelectorAll('input[type="checkbox"][name="' + name + '"][form="' + form + '"]')
      .forEach(function (box) { box.checked = all.checked; });
  });
})();
