// The projector's page: the server derives the code, this page asks for it again when it
// changes (and for who is marked present every few seconds); "Full screen" hides the
// browser's own bars with the Fullscreen API.
(function () {
  "use strict";
  const box = document.getElementById("session-code");
  if (!box) return;
  let secondsLeft = Number(box.dataset.secondsLeft) || 0;
  const byId = function (id) { return document.getElementById(id); };

  function showNames(names) {
    const list = byId("code-names");
    list.replaceChildren(...names.map(function (name) {
      const item = document.createElement("li");
      item.textContent = name;
      return item;
    }));
  }

  async function refresh() {
    try {
      const answer = await (await fetch(box.dataset.url, { credentials: "same-origin" })).json();
      byId("code-open").hidden = !answer.open;
      byId("code-closed").hidden = answer.open;
      if (answer.open) {
        box.dataset.codeUrl = answer.url;
        byId("code-qr").innerHTML = answer.svg;  // the server's own SVG
        byId("code-text").textContent = answer.code;
        secondsLeft = answer.seconds_left;
      } else {
        byId("code-closed").textContent = answer.closed_text;
        secondsLeft = 5;  // look again soon: it opens on time
      }
      byId("code-present").textContent = answer.present;
      byId("code-enrolled").textContent = answer.enrolled;
      showNames(answer.present_names);
    } catch (error) { secondsLeft = 2; /* try again shortly */ }
  }
  setInterval(function () {
    secondsLeft -= 1;
    byId("code-seconds").textContent = Math.max(secondsLeft, 0);
    if (secondsLeft <= 0 || secondsLeft % 3 === 0) refresh();
  }, 1000);
  refresh();

  const fullscreen = byId("fullscreen");
  if (document.fullscreenEnabled) {
    fullscreen.hidden = false;
    const label = fullscreen.querySelector("span");
    fullscreen.addEventListener("click", function () {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen();
    });
    document.addEventListener("fullscreenchange", function () {
      label.textContent = document.fullscreenElement
        ? fullscreen.dataset.exit : fullscreen.dataset.enter;
    });
  }
})();
