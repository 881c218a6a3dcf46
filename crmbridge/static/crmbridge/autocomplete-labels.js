// Select2 (the admin's autocomplete) names its combobox after the chosen value, so an empty
// one has no accessible name: give each the text of its field's label, whenever select2
// builds one (it does so after the page's own scripts, at a time of its choosing).
"use strict";
(function () {
  function label(root) {
    root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      const text = document.querySelector('label[for="' + select.id + '"]');
      const box = select.parentElement.querySelector(".select2-selection[role=combobox]");
      if (!text || !box || box.getAttribute("aria-label")) return;
      const name = text.textContent.replace(/:\s*$/, "").trim();
      box.setAttribute("aria-label", name);
      box.removeAttribute("aria-labelledby");
      const shown = box.querySelector(".select2-selection__rendered");
      if (shown) shown.setAttribute("aria-label", name);
    });
  }
  new MutationObserver(function () { label(document); })
    .observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", function () { label(document); });
})();
