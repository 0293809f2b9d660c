// A form or a button with data-confirm="..." asks before it submits (inline onsubmit
// handlers are not allowed by the Content-Security-Policy).
document.addEventListener("submit", function (event) {
  var question = (event.submitter && event.submitter.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
