// Select2 (the admin's autocomplete) names its combobox after the chosen value, so an empty
// one has no accessible name: give each the text of its field's label.
"use strict";
window.addEventListener("load", function () {
  document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
    const label = document.querySelector('label[for="' + select.id + '"]');
    const box = select.parentElement.querySelector(".select2-selection[role=combobox]");
    if (label && box) {
      box.setAttribute("aria-label", label.textContent.replace(/:\s*$/, "").trim());
      box.removeAttribute("aria-labelledby");
    }
  });
});
