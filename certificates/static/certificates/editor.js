/* The certificate template editor: the fields table below the page is the form (it works
   without JavaScript); this draws each row as a box on the page image, and dragging a box
   (or its corner) writes the new millimetres back into the row. Pointer events, so a finger
   on a tablet works like a mouse. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("cert-editor-config").textContent);
  const page = document.getElementById("cert-page");
  const rows = document.getElementById("field-rows");
  const addButton = document.getElementById("add-field");
  const PAGE_W = config.page.width;
  const PAGE_H = config.page.height;
  const PT_PER_MM = 72 / 25.4;
  const MIN_MM = 2;
  const SHRINK_TO = 0.6; // as certificates/rendering.py: shrink first, then wrap
  const boxes = new Map(); // table row → its box on the page
  let selected = null;

  const input = (row, name) => row.querySelector(`[name$="-${name}"]`);
  const number = (row, name) => parseFloat((input(row, name).value || "").replace(",", "."));
  const round = (value) => Math.round(value * 10) / 10;
  const clamp = (value, low, high) => Math.min(Math.max(value, low), high);
  const isActive = (row) => input(row, "type").value && !input(row, "remove").checked;

  function sampleText(row) {
    const type = input(row, "type").value;
    if (type !== "text") return config.samples[type] || "";
    const text = input(row, "text").value;
    return text.replace(/\{([a-z_]*)\}/g, (match, name) => config.samples[name] || match);
  }

  function boxFor(row) {
    let box = boxes.get(row);
    if (!box) {
      box = document.createElement("div");
      box.className = "cert-box";
      box.tabIndex = 0;
      box.setAttribute("role", "button");
      const content = document.createElement("div");
      content.className = "cert-content";
      const tag = document.createElement("span");
      tag.className = "cert-tag";
      const handle = document.createElement("span");
      handle.className = "cert-handle";
      box.append(content, tag, handle);
      page.append(box);
      boxes.set(row, box);
      box.addEventListener("pointerdown", (event) => startDrag(event, row, event.target === handle));
      box.addEventListener("keydown", (event) => nudge(event, row));
      box.addEventListener("focus", () => select(row));
    }
    return box;
  }

  function draw(row) {
    if (!isActive(row)) {
      const box = boxes.get(row);
      if (box) box.remove();
      boxes.delete(row);
      return;
    }
    const box = boxFor(row);
    const type = input(row, "type").value;
    const [x, y, w, h] = ["x", "y", "width", "height"].map((name) => number(row, name) || 0);
    box.style.left = `${(x / PAGE_W) * 100}%`;
    box.style.top = `${(y / PAGE_H) * 100}%`;
    box.style.width = `${(w / PAGE_W) * 100}%`;
    box.style.height = `${(h / PAGE_H) * 100}%`;
    box.dataset.type = type;
    // Named by its field and what it shows: the visible sample text is part of the name.
    const label = config.labels[type] || type;
    box.setAttribute("aria-label", type === "qr" ? label : `${label}: ${sampleText(row)}`);
    box.querySelector(".cert-tag").textContent = config.labels[type] || type;
    const content = box.querySelector(".cert-content");
    content.replaceChildren();
    content.removeAttribute("style");
    if (type === "qr") {
      content.append(Object.assign(document.createElement("div"), { className: "cert-qr" }));
    } else if (type === "signature") {
      const src = config.assets[input(row, "image").value];
      if (src) content.append(Object.assign(document.createElement("img"), { src, alt: "", draggable: false }));
    } else {
      drawText(row, box, content);
    }
  }

  function drawText(row, box, content) {
    const pxPerPt = page.clientWidth / (PAGE_W * PT_PER_MM);
    const size = (number(row, "size") || 12) * pxPerPt;
    const span = document.createElement("span");
    span.textContent = sampleText(row);
    content.append(span);
    content.style.fontFamily = `cert-${input(row, "font").value}`;
    content.style.color = input(row, "color").value;
    content.style.textAlign = input(row, "align").value;
    content.style.justifyContent = { left: "flex-start", right: "flex-end" }[input(row, "align").value] || "center";
    // as the PDF: one line shrunk down to 60 %, else wrapped at the full size's 60 %
    let px = size;
    span.style.whiteSpace = "nowrap";
    span.style.fontSize = `${px}px`;
    while (span.scrollWidth > box.clientWidth && px > size * SHRINK_TO) {
      px -= size / 40;
      span.style.fontSize = `${px}px`;
    }
    if (span.scrollWidth > box.clientWidth) span.style.whiteSpace = "normal";
  }

  function drawAll() {
    for (const row of rows.querySelectorAll(".field-row")) draw(row);
  }

  function select(row) {
    if (selected === row) return;
    if (selected) {
      selected.classList.remove("table-active");
      const old = boxes.get(selected);
      if (old) old.classList.remove("selected");
    }
    selected = row;
    row.classList.add("table-active");
    const box = boxes.get(row);
    if (box) box.classList.add("selected");
  }

  function setNumber(row, name, value) {
    input(row, name).value = String(round(value));
  }

  function startDrag(event, row, resizing) {
    if (event.button !== 0) return;
    event.preventDefault();
    const box = boxes.get(row);
    box.focus({ preventScroll: true });
    select(row);
    box.setPointerCapture(event.pointerId);
    const start = { px: event.clientX, py: event.clientY };
    const [x, y, w, h] = ["x", "y", "width", "height"].map((name) => number(row, name) || 0);
    const mmPerPx = PAGE_W / page.clientWidth;

    function move(moveEvent) {
      const dx = (moveEvent.clientX - start.px) * mmPerPx;
      const dy = (moveEvent.clientY - start.py) * mmPerPx;
      if (resizing) {
        setNumber(row, "width", clamp(w + dx, MIN_MM, PAGE_W - x));
        setNumber(row, "height", clamp(h + dy, MIN_MM, PAGE_H - y));
      } else {
        setNumber(row, "x", clamp(x + dx, 0, PAGE_W - w));
        setNumber(row, "y", clamp(y + dy, 0, PAGE_H - h));
      }
      draw(row);
    }
    function stop() {
      box.removeEventListener("pointermove", move);
      box.removeEventListener("pointerup", stop);
      box.removeEventListener("pointercancel", stop);
    }
    box.addEventListener("pointermove", move);
    box.addEventListener("pointerup", stop);
    box.addEventListener("pointercancel", stop);
  }

  function nudge(event, row) {
    const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const step = steps[event.key];
    if (!step) return;
    event.preventDefault();
    const by = event.shiftKey ? 5 : 1;
    const w = number(row, "width") || 0;
    const h = number(row, "height") || 0;
    setNumber(row, "x", clamp((number(row, "x") || 0) + step[0] * by, 0, PAGE_W - w));
    setNumber(row, "y", clamp((number(row, "y") || 0) + step[1] * by, 0, PAGE_H - h));
    draw(row);
  }

  /* A new row: a copy of the blank last row under the next free index, as a free text in
     the middle of the page. */
  function addField() {
    const blank = rows.querySelector(".field-row:last-child");
    const index = Math.max(...[...rows.querySelectorAll(".field-row")].map((r) => +r.dataset.index)) + 1;
    const row = blank.cloneNode(true);
    row.dataset.index = String(index);
    for (const element of row.querySelectorAll("[name], [id]")) {
      for (const attribute of ["name", "id"]) {
        const value = element.getAttribute(attribute);
        if (value) element.setAttribute(attribute, value.replace(/^fields-\d+-/, `fields-${index}-`));
      }
    }
    row.classList.remove("table-active");
    blank.before(row);
    input(row, "type").value = "text";
    input(row, "text").value = config.labels.text;
    setNumber(row, "width", 80);
    setNumber(row, "height", 10);
    setNumber(row, "x", (PAGE_W - 80) / 2);
    setNumber(row, "y", (PAGE_H - 10) / 2);
    input(row, "size").value = "12";
    draw(row);
    boxes.get(row).focus();
  }

  rows.addEventListener("input", (event) => draw(event.target.closest(".field-row")));
  rows.addEventListener("change", (event) => draw(event.target.closest(".field-row")));
  rows.addEventListener("focusin", (event) => {
    const row = event.target.closest(".field-row");
    if (row && boxes.has(row)) select(row);
  });
  addButton.hidden = false;
  addButton.addEventListener("click", addField);
  new ResizeObserver(drawAll).observe(page);
  document.fonts.ready.then(drawAll);
  drawAll();
})();
