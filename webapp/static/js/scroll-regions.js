// A table or a block of text that scrolls sideways on a phone must take the keyboard's
// focus (to scroll it with the arrows) and be named for screen readers: every
// `.table-responsive` and `pre` that overflows gets tabindex="0", role="region" and a
// name (its own label, the table's caption or the heading before it).
(function () {
  "use strict";
  const fallback = document.currentScript.dataset.label;

  function nameOf(box) {
    const caption = box.querySelector("caption");
    if (caption) return caption.textContent.trim();
    for (let node = box.previousElementSibling; node; node = node.previousElementSibling) {
      if (/^H[1-6]$/.test(node.tagName)) return node.textContent.trim();
    }
    return fallback;
  }

  function mark() {
    document.querySelectorAll(".table-responsive, pre").forEach(function (box) {
      const scrolls = box.scrollWidth > box.clientWidth || box.scrollHeight > box.clientHeight;
      if (box.dataset.scrollRegion === undefined && box.hasAttribute("tabindex")) return;  // the page's own
      if (scrolls) {
        box.dataset.scrollRegion = "";
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", nameOf(box));
      } else if (box.dataset.scrollRegion !== undefined) {
        delete box.dataset.scrollRegion;
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
      }
    });
  }
  mark();
  window.addEventListener("resize", mark);
})();
