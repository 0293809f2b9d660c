// The trainer's session register: a tap marks a person without reloading the page (the
// form posts as before when this script does not run), and the counts and rows follow
// the scans by polling the register every few seconds.
(function () {
  "use strict";
  const counts = document.getElementById("attendance-counts");
  const announcer = document.getElementById("register-announcer");
  if (!counts) return;

  function showStatus(row, status, text) {
    row.querySelectorAll("button[name=status]").forEach(function (button) {
      const pressed = button.value === status;
      button.setAttribute("aria-pressed", pressed ? "true" : "false");
      button.classList.toggle("btn-tropa", pressed);
      button.classList.toggle("btn-outline-secondary", !pressed);
    });
    if (text !== undefined) row.querySelector(".attendance-status").textContent = text;
  }

  function showCounts(answer) {
    document.getElementById("count-present").textContent = answer.present;
    document.getElementById("count-enrolled").textContent = answer.enrolled;
    document.getElementById("count-marked").textContent = answer.marked;
  }

  async function mark(form, button) {
    const row = form.closest("tr");
    const before = row.querySelector("button[aria-pressed=true]");
    const beforeText = row.querySelector(".attendance-status").textContent;
    const data = new FormData(form);
    data.set("status", button.value);
    showStatus(row, button.value, button.dataset.label);  // at once; undone if refused
    button.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const answer = await response.json();
      if (answer.status !== "ok") throw new Error(answer.message || announcer.dataset.error);
      showStatus(row, answer.attendance_status, answer.label + " · " + answer.method);
      showCounts(answer);
      announcer.textContent = row.querySelector("th").firstChild.textContent.trim() + ": " + answer.label;
    } catch (error) {
      showStatus(row, before ? before.value : null, beforeText);
      announcer.textContent = error.message && error.message !== "Failed to fetch"
        ? error.message : announcer.dataset.error;
      window.alert(announcer.textContent);
    } finally {
      button.removeAttribute("aria-busy");
    }
  }

  document.querySelectorAll("form.register-mark").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      const button = event.submitter;
      if (!button || button.name !== "status") return;
      event.preventDefault();
      mark(form, button);
    });
  });

  async function refresh() {
    if (document.hidden) return;
    try {
      const answer = await (await fetch(counts.dataset.url, { credentials: "same-origin" })).json();
      showCounts(answer);
      Object.entries(answer.statuses).forEach(function ([id, status]) {
        const row = document.querySelector('tr[data-registration-id="' + id + '"]');
        const pressed = row && row.querySelector("button[aria-pressed=true]");
        if (!row || row.querySelector("[aria-busy]")) return;  // a tap is on its way
        if ((pressed ? pressed.value : null) === status) return;
        const button = status && row.querySelector('button[value="' + status + '"]');
        showStatus(row, status, button ? button.dataset.label : undefined);
      });
    } catch (error) { /* offline for a moment: the next poll tries again */ }
  }
  setInterval(refresh, 3000);
})();
