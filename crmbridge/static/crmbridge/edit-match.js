// Edit match: the Opportunity search lists only the chosen Account's Opportunities. Django's
// autocomplete plugin, redefined before it runs, sends the chosen Account along for a field
// marked data-forward; changing the Account clears an Opportunity chosen for another one.
"use strict";
(function () {
  const $ = django.jQuery;

  function chosenAccount(form) {
    const radio = form.querySelector('input[name="suggested"]:checked');
    if (radio && radio.value !== "another") return radio.value;
    const search = form.querySelector('select[name="account"]');
    return search ? search.value : "";
  }

  $.fn.djangoAdminSelect2 = function () {
    $.each(this, function (i, element) {
      $(element).select2({
        ajax: {
          data: function (params) {
            const data = {
              term: params.term,
              page: params.page,
              app_label: element.dataset.appLabel,
              model_name: element.dataset.modelName,
              field_name: element.dataset.fieldName,
            };
            if (element.dataset.forward) data[element.dataset.forward] = chosenAccount(element.form);
            return data;
          },
        },
      });
    });
    return this;
  };

  $(function () {
    const form = document.getElementById("edit-match-form");
    if (!form) return;
    const search = $(form).find('select[name="account"]');
    const opportunity = $(form).find('select[name="opportunity"]');
    const another = form.querySelector('input[name="suggested"][value="another"]');
    function clearOpportunity() { opportunity.val(null).trigger("change"); }
    search.on("change", function () {
      if (search.val() && another) another.checked = true;
      clearOpportunity();
    });
    form.querySelectorAll('input[name="suggested"]').forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (radio.value !== "another" && search.val()) search.val(null).trigger("change");
        clearOpportunity();
      });
    });
  });
})();
