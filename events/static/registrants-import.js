// The registrant import: uploads the file with a progress bar (a 2 MB list takes a while on
// a mobile connection), then either follows the server to the list or shows the problems
// the server found in place of the form. Without JavaScript the form posts as usual.
(function () {
  "use strict";

  function showProgress(form, percent, text) {
    var box = form.querySelector("#import-progress");
    box.classList.remove("d-none");
    box.querySelector(".progress-bar").style.width = percent + "%";
    box.querySelector("p").textContent = text;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "import-form" || !window.FormData) {
      return;
    }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    var request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.upload.addEventListener("progress", function (progress) {
      if (progress.lengthComputable) {
        var percent = Math.round((100 * progress.loaded) / progress.total);
        showProgress(form, percent, form.dataset.uploading.replace("{percent}", percent));
      }
    });
    request.upload.addEventListener("load", function () {
      showProgress(form, 100, form.dataset.importing);
    });
    request.addEventListener("load", function () {
      var type = request.getResponseHeader("Content-Type") || "";
      if (type.indexOf("application/json") === 0) {
        window.location.assign(JSON.parse(request.responseText).redirect);
        return;
      }
      // The page again, with the problems: swap its panel in.
      var page = new DOMParser().parseFromString(request.responseText, "text/html");
      var panel = page.querySelector("#import-panel");
      if (panel) {
        document.querySelector("#import-panel").replaceWith(panel);
        var problems = panel.querySelector("#import-problems");
        if (problems) {
          problems.scrollIntoView();
        }
      } else {
        document.open();
        document.write(request.responseText);
        document.close();
      }
    });
    request.addEventListener("error", function () {
      button.disabled = false;
      showProgress(form, 0, form.dataset.dropped);
    });
    request.send(new FormData(form));
  });
})();
