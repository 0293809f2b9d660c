// Buttons with data-copy="<selector>" copy that field's value to the clipboard; buttons
// with data-copy-text="<text>" copy the text itself. The button says "✓" for a moment.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy], [data-copy-text]");
  if (!button) return;
  let text = button.dataset.copyText;
  if (text === undefined) {
    const field = document.querySelector(button.dataset.copy);
    field.select();
    text = field.value;
  }
  navigator.clipboard?.writeText(text).then(() => {
    const label = button.textContent;
    button.textContent = `✓ ${label}`;
    setTimeout(() => { button.textContent = label; }, 1500);
  }, () => {});
});
